r"""Adagrad, with torch.optim.Adagrad's signature, defaults and update.

Adagrad gives every coordinate its own step size: the learning rate divided by the root of the sum
of all squared gradients that coordinate has seen. Coordinates with large or frequent gradients slow
down; rare ones keep a large step. The sum only grows, so the steps only shrink.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                  &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}           &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   \tilde\gamma_t &= \frac{\gamma}{1 + (t-1)\,\eta}      &&(\eta = \text{lr_decay}) \\
   s_t &= s_{t-1} + g_t^2                                &&(s_0 = \text{initial_accumulator_value}) \\
   \theta_t &= \theta_{t-1} - \tilde\gamma_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}

Defaults: ``lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
maximize=False``.

Conventions worth knowing:

* ``eps`` is added *outside* the root (Duchi et al. write :math:`\delta + \sqrt{s}`, the same).
* ``lr_decay`` is torch's addition (not in the paper): an inverse-time schedule built in.
* ``initial_accumulator_value`` is used once, when the accumulator is created; changing it later has
  no effect.

Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
Optimization" (JMLR 2011).
"""

from __future__ import annotations

import numpy as np

from .optimizer import Hyperparameter, Optimizer
from .validation import boolean, non_negative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Per-coordinate steps ``lr / sqrt(sum of squared gradients)``.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = Adagrad([theta], lr=0.5, eps=0.0)
    >>> opt.step([np.array([4.0, -0.1])])   # first step: -lr * sign(g)
    >>> theta
    array([ 0.5, -1.5])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    lr_decay = Hyperparameter(non_negative, "lr_decay value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    initial_accumulator_value = Hyperparameter(non_negative, "initial_accumulator_value value")
    eps = Hyperparameter(non_negative, "epsilon value")
    maximize = Hyperparameter(boolean, "maximize")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)

    def _init_state(self, param):
        # s_0 = initial_accumulator_value
        return {"sum": np.full_like(param, self.initial_accumulator_value)}

    def _update(self, param, grad, state):
        s = state["sum"]
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        # lr_t = lr / (1 + (t - 1) lr_decay)
        lr_t = self.lr / (1.0 + (self.step_count - 1) * self.lr_decay)
        # s_t = s_{t-1} + g_t^2
        s += g * g
        # theta_t = theta_{t-1} - lr_t g_t / (sqrt(s_t) + eps)
        param -= lr_t * (g / (np.sqrt(s) + self.eps))
