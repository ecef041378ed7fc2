r"""Stochastic gradient descent, with torch.optim.SGD's signature, defaults and update.

The update, for a gradient :math:`g_t` of the loss at :math:`\theta_{t-1}`
(torch's pseudo-code, single-tensor path):

.. math::

   g_t &\leftarrow -g_t                                  &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}           &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases}
  &&\text{if } \mu \ne 0 \text{ (momentum, dampening } \tau) \\
   g_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases}
                                                         &&\text{if } \mu \ne 0 \\
   \theta_t &\leftarrow \theta_{t-1} - \gamma\, g_t      &&(\gamma = \text{lr})

With ``momentum=0`` this is plain gradient descent, :math:`\theta_t = \theta_{t-1} - \gamma g_t`.

Conventions worth knowing:

* torch's momentum buffer accumulates *gradients* and the learning rate multiplies it afterwards
  (:math:`b \leftarrow \mu b + g;\ \theta \leftarrow \theta - \gamma b`). Sutskever et al. (2013)
  accumulate *steps* (:math:`v \leftarrow \mu v + \gamma g;\ \theta \leftarrow \theta - v`). The two give
  identical iterates while the learning rate is constant (:math:`v = \gamma b`); they differ once a
  schedule changes :math:`\gamma`.
* The buffer starts at the first gradient, not at zero, so the first step is a plain GD step.
* ``weight_decay`` is an L2 penalty added to the gradient, not decoupled decay (see AdamW).

Defaults: ``lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False``.

References: Robbins & Monro (1951); Polyak (1964) for momentum; Sutskever et al. (2013) for the
Nesterov form used here.
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
        # Created at the first step with momentum: torch's buffer starts at the first gradient.
        return {"momentum_buffer": None}

    def _begin_step(self, param, state):
        if self.momentum != 0 and state["momentum_buffer"] is None:
            state["momentum_buffer"] = np.empty_like(param)
            return {"first_momentum_step": True}
        return None

    def _update(self, param, grad, state, scratch):
        # g <- -g (maximize);  g <- g + lambda theta (weight decay)
        g = self._effective_gradient(param, grad, scratch, self.weight_decay, self.maximize)
        work = scratch.work
        mu = self.momentum
        if mu != 0:
            b = state["momentum_buffer"]
            if state.get("first_momentum_step"):
                # b_1 = g_1
                np.copyto(b, g)
            else:
                # b_t = mu b_{t-1} + (1 - tau) g_t
                b *= mu
                if self.dampening:
                    np.multiply(g, 1.0 - self.dampening, out=work)
                    b += work
                else:
                    b += g
            if self.nesterov:
                # g_t <- g_t + mu b_t
                np.multiply(b, mu, out=work)
                work += g
                g = work
            else:
                # g_t <- b_t
                g = b
        # theta_t = theta_{t-1} - lr g_t
        np.multiply(g, self.lr, out=work)
        param -= work
