r"""Stochastic gradient descent, with torch.optim.SGD's signature, defaults and update.

The update, for a gradient :math:`g_t` of the loss at :math:`\theta_{t-1}`
(torch's pseudo-code, single-tensor path):

.. math::

   g_t &\leftarrow -g_t                                  &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}           &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \beta\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases}
  &&\text{if } \beta \ne 0 \text{ (momentum, dampening } \tau) \\
   g_t &\leftarrow \begin{cases} g_t + \beta\, b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases}
                                                         &&\text{if } \beta \ne 0 \\
   \theta_t &\leftarrow \theta_{t-1} - \gamma\, g_t      &&(\gamma = \text{lr})

with :math:`\beta` torch's ``momentum`` and :math:`\tau` its ``dampening``. With ``momentum=0`` this is
plain gradient descent, :math:`\theta_t = \theta_{t-1} - \gamma g_t`.

Conventions worth knowing:

* torch's momentum buffer accumulates *gradients* and the learning rate multiplies it afterwards
  (:math:`b \leftarrow \beta b + g;\ \theta \leftarrow \theta - \gamma b`). Sutskever et al. (2013)
  accumulate *steps* (:math:`v \leftarrow \beta v - \gamma g;\ \theta \leftarrow \theta + v`). The two give
  identical iterates while the learning rate is constant (:math:`v = -\gamma b`); they differ once a
  schedule changes :math:`\gamma`.
* The buffer starts at the first gradient, not at zero, so the first heavy-ball step is a plain GD
  step (with ``nesterov=True`` it is :math:`1+\beta` times one: :math:`g_1 + \beta b_1 = (1+\beta) g_1`).
* ``weight_decay`` is an L2 penalty added to the gradient, not decoupled decay (see AdamW).

Defaults: ``lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False``.

References: Robbins & Monro (1951); Polyak (1964) for momentum; Sutskever et al. (2013) for the
look-ahead form of Nesterov momentum, of which torch's is a change of variables.
"""

from __future__ import annotations

import numpy as np

from .optimizer import Hyperparameter, Optimizer
from .validation import boolean, non_negative

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = SGD([theta], lr=0.1)
    >>> opt.step([np.array([1.0, 1.0])])
    >>> theta
    array([ 0.9, -2.1])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    momentum = Hyperparameter(non_negative, "momentum value")
    dampening = Hyperparameter(non_negative, "dampening")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    nesterov = Hyperparameter(boolean, "nesterov")
    maximize = Hyperparameter(boolean, "maximize")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

    def _check_hyperparameters(self):
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(nesterov=True, momentum={self.momentum}, dampening={self.dampening})")

    def _init_state(self, param):
        # Created by the first step with momentum: torch's buffer starts at the first gradient.
        return {"momentum_buffer": None}

    def _update(self, param, grad, state):
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        if self.momentum != 0:
            g = self._momentum(g, state)
        # theta_t = theta_{t-1} - lr g_t
        param -= self.lr * g

    def _momentum(self, g, state):
        """The momentum lines of the update: the buffer b_t, and the direction that replaces g_t."""
        beta, tau = self.momentum, self.dampening
        b = state["momentum_buffer"]
        if b is None:
            # b_1 = g_1
            b = state["momentum_buffer"] = np.copy(g)
        else:
            # b_t = beta b_{t-1} + (1 - tau) g_t
            b[...] = beta * b + (1.0 - tau) * g
        if self.nesterov:
            # g_t <- g_t + beta b_t
            return g + beta * b
        # g_t <- b_t
        return b
