r"""RMSprop, with torch.optim.RMSprop's signature, defaults and update (centered and momentum variants).

Adagrad's sum of squared gradients only grows, so its steps die out. RMSprop replaces the sum by a
leaky average, so the scale tracks the *recent* gradients and the step size stays alive.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                     &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}  &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t^2 \\
   \bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t      &&\text{if centered} \\
   d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{ if centered, else } \sqrt{v_t} + \epsilon \\
   b_t &= \beta\, b_{t-1} + g_t / d_t,\quad \theta_t = \theta_{t-1} - \gamma\, b_t
                                                             &&\text{if } \beta > 0 \text{ (momentum)} \\
   \theta_t &= \theta_{t-1} - \gamma\, g_t / d_t             &&\text{otherwise}

with :math:`v_0 = \bar g_0 = b_0 = 0` (no bias correction, unlike Adam).

Defaults: ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
maximize=False``.

Conventions worth knowing:

* Hinton's lecture (2012) and Graves (2013) have the same leaky average; ``eps`` outside the root is
  torch's choice (TensorFlow's RMSprop puts it inside).
* *centered* (Graves 2013) divides by an estimate of the gradient's standard deviation instead of
  its root mean square.
* The momentum buffer accumulates the *scaled* gradient :math:`g/d`, and the learning rate multiplies
  it afterwards (as in torch's SGD).
* ``alpha`` must lie in [0, 1] here; torch only checks ``alpha >= 0``, and ``alpha > 1`` would make
  :math:`1-\alpha` negative and the average of squares negative.

References: Tieleman & Hinton, Lecture 6.5, "Neural Networks for Machine Learning" (Coursera 2012);
Graves, "Generating Sequences With Recurrent Neural Networks" (2013) for the centered form.
"""

from __future__ import annotations

import numpy as np

from .averages import leaky_average, leaky_average_of_squares
from .optimizer import Hyperparameter, Optimizer
from .validation import boolean, in_unit_interval, non_negative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Steps scaled by a leaky RMS of recent gradients; optional centering and momentum.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = RMSprop([theta], lr=0.01, alpha=0.75, eps=0.0)
    >>> opt.step([np.array([3.0, -0.5])])   # first step: -lr * sign(g) / sqrt(1 - alpha)
    >>> theta
    array([ 0.98, -1.98])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    alpha = Hyperparameter(in_unit_interval, "alpha value")
    eps = Hyperparameter(non_negative, "epsilon value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    momentum = Hyperparameter(non_negative, "momentum value")
    centered = Hyperparameter(boolean, "centered")
    maximize = Hyperparameter(boolean, "maximize")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered, maximize=maximize)

    def _init_state(self, param):
        return {
            "square_avg": np.zeros_like(param),   # v
            "momentum_buffer": None,              # b, created by the first step with momentum
            "grad_avg": None,                     # g bar, created by the first centered step
        }

    def _update(self, param, grad, state):
        alpha, v = self.alpha, state["square_avg"]
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        # v_t = alpha v_{t-1} + (1 - alpha) g_t^2
        leaky_average_of_squares(v, g, alpha)
        if self.centered:
            if state["grad_avg"] is None:               # gbar_0 = 0, made by the first centered step
                state["grad_avg"] = np.zeros_like(param)
            gbar = state["grad_avg"]
            # gbar_t = alpha gbar_{t-1} + (1 - alpha) g_t
            leaky_average(gbar, g, alpha)
            # d_t = sqrt(v_t - gbar_t^2) + eps
            denom = np.sqrt(v - gbar * gbar) + self.eps
        else:
            # d_t = sqrt(v_t) + eps
            denom = np.sqrt(v) + self.eps
        if self.momentum > 0:
            if state["momentum_buffer"] is None:        # b_0 = 0, made by the first step with momentum
                state["momentum_buffer"] = np.zeros_like(param)
            b = state["momentum_buffer"]
            # b_t = beta b_{t-1} + g_t / d_t
            b[...] = self.momentum * b + g / denom
            # theta_t = theta_{t-1} - lr b_t
            param -= self.lr * b
        else:
            # theta_t = theta_{t-1} - lr g_t / d_t
            param -= self.lr * (g / denom)
