r"""Adamax, with torch.optim.Adamax's signature, defaults and update.

Adam scales by the root of a leaky average of :math:`g^2`, an :math:`L^2` norm of past gradients.
Kingma & Ba's variant lets the power go to infinity: the scale becomes a leaky *maximum* of
:math:`|g|`, which needs no bias correction and no root.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                     &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}  &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
   u_t &= \max(\beta_2\, u_{t-1},\ |g_t| + \epsilon) \\
   \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\, \frac{m_t}{u_t}

with :math:`m_0 = u_0 = 0`.

Defaults: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False``.

Convention worth knowing: the paper has no ``eps`` (:math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)`);
torch adds it to :math:`|g_t|` inside the maximum, so :math:`u_t \ge \epsilon` and a zero gradient
never divides by zero.

Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015), Section 7.1.
"""

from __future__ import annotations

import numpy as np

from .averages import leaky_average
from .optimizer import Hyperparameter, Optimizer
from .validation import beta_pair, boolean, non_negative

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adam with the infinity norm: momentum over a leaky maximum of ``|g|``.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = Adamax([theta], lr=0.1, eps=0.0)
    >>> opt.step([np.array([3.0, -0.5])])   # first step: -lr * sign(g)
    >>> theta
    array([ 0.9, -1.9])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    betas = Hyperparameter(beta_pair, "betas")
    eps = Hyperparameter(non_negative, "epsilon value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    maximize = Hyperparameter(boolean, "maximize")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)

    def _init_state(self, param):
        return {
            "exp_avg": np.zeros_like(param),   # m
            "exp_inf": np.zeros_like(param),   # u, the leaky maximum of |g|
        }

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        m, u = state["exp_avg"], state["exp_inf"]
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        leaky_average(m, g, beta1)
        # u_t = max(beta2 u_{t-1}, |g_t| + eps)
        np.maximum(beta2 * u, np.abs(g) + self.eps, out=u)
        # theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / u_t
        param -= self.lr / (1.0 - beta1**self.step_count) * (m / u)
