r"""Lion ("EvoLved Sign Momentum"), found by program search (Chen et al., 2023).

Lion keeps one buffer, a momentum :math:`m`, and moves every coordinate by exactly the learning rate:
the direction is the *sign* of an interpolation between the momentum and the new gradient. A second,
slower interpolation then updates the momentum. Weight decay is decoupled, as in AdamW.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}`:

.. math::

   g_t &\leftarrow -g_t                                             &&\text{if maximize} \\
   c_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
   m_t &= \beta_2 m_{t-1} + (1-\beta_2)\, g_t \\
   \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1} - \gamma\, \operatorname{sign}(c_t)
                                            &&(\gamma = \text{lr},\ \lambda = \text{weight_decay})

with :math:`m_0 = 0`, in the order of pytorch-optimizer's ``Lion``, the third-party library optlib is
checked against (the decay first, the momentum before the step); the paper and its authors' reference
code (``lion_pytorch.py`` in google/automl) update the momentum after the step, which changes nothing,
since the step uses :math:`c_t`. Before weight decay every coordinate moves by
exactly :math:`\gamma` (by 0 where :math:`c_t = 0` exactly, since :math:`\operatorname{sign}(0) = 0`).

Defaults (the paper's): ``lr=1e-4, betas=(0.9, 0.99), weight_decay=0, maximize=False``. A sign step is
large (every coordinate moves by lr), so Lion's lr is typically 3-10x smaller than AdamW's and its
weight decay correspondingly larger, keeping the product ``lr * weight_decay`` the same.

Convention: the decay multiplies by :math:`1 - \gamma\lambda` (as torch's AdamW and the paper's
pseudo-code do), so the decay per step scales with the learning rate (and with a schedule).

Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms" (NeurIPS 2023).
"""

from __future__ import annotations

import numpy as np

from .averages import leaky_average
from .optimizer import Hyperparameter, Optimizer
from .validation import beta_pair, boolean, non_negative

__all__ = ["Lion"]


class Lion(Optimizer):
    """Sign of an interpolated momentum, times lr; decoupled weight decay.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = Lion([theta], lr=0.1)
    >>> opt.step([np.array([3.0, -0.5])])   # m = 0: the first step is -lr * sign(g)
    >>> theta
    array([ 0.9, -1.9])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    betas = Hyperparameter(beta_pair, "betas")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    maximize = Hyperparameter(boolean, "maximize")

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)

    def _init_state(self, param):
        return {"exp_avg": np.zeros_like(param)}   # m, the momentum

    def _update(self, param, grad, state):
        lr, (beta1, beta2), m = self.lr, self.betas, state["exp_avg"]
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            # theta_{t-1} <- (1 - lr lambda) theta_{t-1}   (decoupled weight decay)
            param *= 1.0 - lr * self.weight_decay
        # c_t = beta1 m_{t-1} + (1 - beta1) g_t
        c = beta1 * m + (1.0 - beta1) * g
        # m_t = beta2 m_{t-1} + (1 - beta2) g_t
        leaky_average(m, g, beta2)
        # theta_t = theta_{t-1} - lr sign(c_t)
        param -= lr * np.sign(c)
