r"""Adadelta, with torch.optim.Adadelta's signature, defaults and update.

Adadelta fixes the *units* of RMSprop's step: a step should be measured in parameter units, but
:math:`g/\sqrt{E[g^2]}` is unitless. Zeiler multiplies it by the RMS of the recent *steps*, so the
step carries the units of the parameter, and the method needs no learning rate in principle.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                       &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}  &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t^2 \\
   \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\; g_t \\
   u_t &= \rho\, u_{t-1} + (1-\rho)\, \Delta_t^2 \\
   \theta_t &= \theta_{t-1} - \gamma\, \Delta_t

with :math:`v_0 = u_0 = 0`. ``eps`` sits *inside* both roots (as in the paper): at the start
:math:`u_0 = 0`, and :math:`\sqrt{\epsilon}` is what gets the first steps going.

Defaults: ``lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False``.

Convention worth knowing: the paper has no learning rate (``lr=1`` reproduces it); torch adds one.
Zeiler's experiments used ``rho=0.95``; torch's default is 0.9.

Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012), arXiv:1212.5701.
"""

from __future__ import annotations

import numpy as np

from .averages import leaky_average_of_squares
from .optimizer import Hyperparameter, Optimizer
from .validation import boolean, in_unit_interval, non_negative

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """RMSprop whose step is rescaled by the RMS of recent steps (units of the parameter).

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = Adadelta([theta])
    >>> opt.step([np.array([3.0, -0.5])])   # first steps are tiny: sqrt(eps) sets their scale
    >>> np.round(theta, 6)
    array([ 0.996838, -1.996838])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    rho = Hyperparameter(in_unit_interval, "rho value")
    eps = Hyperparameter(non_negative, "epsilon value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    maximize = Hyperparameter(boolean, "maximize")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        super().__init__(params, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)

    def _init_state(self, param):
        return {
            "square_avg": np.zeros_like(param),   # v, leaky average of g^2
            "acc_delta": np.zeros_like(param),    # u, leaky average of Delta^2
        }

    def _update(self, param, grad, state):
        rho, eps = self.rho, self.eps
        v, u = state["square_avg"], state["acc_delta"]
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        # v_t = rho v_{t-1} + (1 - rho) g_t^2
        leaky_average_of_squares(v, g, rho)
        # Delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        # u_t = rho u_{t-1} + (1 - rho) Delta_t^2
        leaky_average_of_squares(u, delta, rho)
        # theta_t = theta_{t-1} - lr Delta_t
        param -= self.lr * delta
