r"""Adam, with torch.optim.Adam's signature, defaults and update (including AMSGrad).

Adam keeps two leaky averages per coordinate: of the gradient (the *first moment*, a momentum) and of
its square (the *second moment*, a per-coordinate scale). The step is the first over the square root
of the second, so every coordinate moves about ``lr`` per step whatever the size of its gradient.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                        &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}                 &&\text{if } \lambda \ne 0
                                                                 \text{ (weight_decay, L2)} \\
   \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1}  &&\text{instead, if decoupled_weight_decay} \\
   m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
   v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
   v^{\max}_t &= \max(v^{\max}_{t-1}, v_t)  \quad\text{and use } v^{\max}_t \text{ for } v_t
                                                               &&\text{if amsgrad} \\
   \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
               \frac{m_t}{\sqrt{v_t}\,/\sqrt{1-\beta_2^t} + \epsilon}

with :math:`m_0 = v_0 = v^{\max}_0 = 0`. Dividing by :math:`1-\beta^t` (bias correction) undoes the
pull towards the zero start. Without it, at the default betas, the first steps would be too *long*
(:math:`(1-\beta_1)/\sqrt{1-\beta_2} \approx 3.16` learning rates at the first step, about 6.6 at the
twelfth): the zero start shrinks :math:`\sqrt{v_t}`, in the denominator, more than it shrinks :math:`m_t`.

Defaults: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
maximize=False, decoupled_weight_decay=False``.

Conventions worth knowing:

* ``eps`` is added to :math:`\sqrt{\hat v_t}` (the bias-corrected root), not under the root, and not to
  :math:`\sqrt{v_t}` as in Kingma & Ba's "efficient" order with a constant :math:`\hat\epsilon`,
  which is a different method in the first steps.
* AMSGrad, as in torch, takes the running maximum of the *raw* second moment :math:`v_t` and then
  bias-corrects the maximum. Reddi et al. (2018) state it without bias correction.
* ``weight_decay`` adds :math:`\lambda\theta` to the gradient, so it is divided by
  :math:`\sqrt{\hat v}` like the rest of the gradient; it is *not* AdamW's decoupled decay unless
  ``decoupled_weight_decay=True`` (which is what :class:`optlib.AdamW` is).
* With ``eps=0`` the first step is :math:`-\gamma\,\mathrm{sign}(g_1)` up to a few units in the last place.

References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018) for AMSGrad.
"""

from __future__ import annotations

import math

import numpy as np

from .averages import leaky_average, leaky_average_of_squares
from .optimizer import Hyperparameter, Optimizer
from .validation import beta_pair, boolean, non_negative

__all__ = ["Adam", "AdamFamily"]


class AdamFamily(Optimizer):
    """What Adam, NAdam and RAdam share: their hyperparameters, the two moments and their update.

    Each subclass's ``_update`` writes torch's opening lines (maximize, then weight decay), calls
    :meth:`_moments` for m_t and v_t, and takes its own step from them.
    """

    lr = Hyperparameter(non_negative, "learning rate")
    betas = Hyperparameter(beta_pair, "betas")
    eps = Hyperparameter(non_negative, "epsilon value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    maximize = Hyperparameter(boolean, "maximize")
    decoupled_weight_decay = Hyperparameter(boolean, "decoupled_weight_decay")

    def _init_state(self, param):
        return {
            "exp_avg": np.zeros_like(param),       # m, the first moment
            "exp_avg_sq": np.zeros_like(param),    # v, the second moment
        }

    def _moments(self, g, state):
        """m_t and v_t from the gradient g_t (after maximize and weight decay), updated in place."""
        beta1, beta2 = self.betas
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        leaky_average(m, g, beta1)
        # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        leaky_average_of_squares(v, g, beta2)
        return m, v


class Adam(AdamFamily):
    """Adam: momentum over a per-coordinate RMS scale, with bias correction; optional AMSGrad.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = Adam([theta], lr=0.1, eps=0.0)
    >>> opt.step([np.array([3.0, -0.5])])   # first step: -lr * sign(g)
    >>> theta
    array([ 0.9, -1.9])
    """

    amsgrad = Hyperparameter(boolean, "amsgrad")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)

    def _init_state(self, param):
        # AMSGrad's running maximum of v, created by the first step with amsgrad
        return {**super()._init_state(param), "max_exp_avg_sq": None}

    def _update(self, param, grad, state):
        lr, (beta1, beta2), t = self.lr, self.betas, self.step_count
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0 and self.decoupled_weight_decay:
            # theta_{t-1} <- (1 - lr lambda) theta_{t-1}   (decoupled weight decay, AdamW's)
            param *= 1.0 - lr * self.weight_decay
        elif self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        m, v = self._moments(g, state)
        if self.amsgrad:
            if state["max_exp_avg_sq"] is None:
                state["max_exp_avg_sq"] = np.zeros_like(param)
            # v_t <- max(v_max_{t-1}, v_t), kept as v_max_t
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # sqrt(v_hat_t) + eps = sqrt(v_t) / sqrt(1 - beta2^t) + eps
        denom = np.sqrt(v) / math.sqrt(1.0 - beta2**t) + self.eps
        # theta_t = theta_{t-1} - lr m_hat_t / (sqrt(v_hat_t) + eps),  m_hat_t = m_t / (1 - beta1^t)
        param -= lr / (1.0 - beta1**t) * (m / denom)
