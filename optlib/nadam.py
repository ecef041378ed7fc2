r"""NAdam, with torch.optim.NAdam's signature, defaults and update (Dozat's momentum schedule).

NAdam puts Nesterov's look-ahead into Adam: the step uses the momentum that *will* be applied at the
next step, :math:`\mu_{t+1} m_t`, plus the part of the current gradient the momentum has not yet
absorbed, :math:`(1-\mu_t) g_t`. Dozat also warms the momentum up with a schedule :math:`\mu_t`.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                         &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}  &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1}   &&\text{instead, if decoupled_weight_decay} \\
   \mu_t &= \beta_1\,\bigl(1 - \tfrac12\, 0.96^{\,t\psi}\bigr)   &&(\psi = \text{momentum_decay}) \\
   \Pi_t &= \textstyle\prod_{i=1}^{t} \mu_i \\
   m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
   v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
   d_t &= \sqrt{v_t / (1-\beta_2^t)} + \epsilon \\
   \theta_t &= \theta_{t-1} - \gamma\,\frac{1-\mu_t}{1-\Pi_t}\,\frac{g_t}{d_t}
                            - \gamma\,\frac{\mu_{t+1}}{1-\Pi_{t+1}}\,\frac{m_t}{d_t}

with :math:`m_0 = v_0 = 0`, :math:`\Pi_0 = 1`.

Defaults: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
decoupled_weight_decay=False, maximize=False``.

Conventions worth knowing:

* The moving average :math:`m_t` uses the constant :math:`\beta_1`; only the step's weights use the
  schedule :math:`\mu_t` (as in torch and Keras).
* ``momentum_decay`` is :math:`\psi` in :math:`0.96^{t\psi}` (Dozat suggests 0.004); with
  ``momentum_decay=0`` the schedule is constant at :math:`\beta_1/2`, *not* :math:`\beta_1`.
* :math:`\Pi_t` is kept in the state as ``mu_product`` (a float), as torch does, so a change of
  ``betas`` mid-run continues the product rather than recomputing it.
* ``decoupled_weight_decay=True`` is torch's "NAdamW": decay
  :math:`\theta \leftarrow (1-\gamma\lambda)\theta` instead of the L2 term.

Reference: Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
"""

from __future__ import annotations

import numpy as np

from .adam import AdamFamily
from .optimizer import Hyperparameter
from .validation import non_negative

__all__ = ["NAdam"]


class NAdam(AdamFamily):
    """Adam with Nesterov momentum and a warming-up momentum schedule.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = NAdam([theta], lr=0.1, eps=0.0)
    >>> opt.step([np.array([3.0, -0.5])])   # first step: -lr sign(g) (1 + 0.1 mu_2 / (1 - mu_1 mu_2))
    >>> np.round(theta, 4)
    array([ 0.8944, -1.8944])
    """

    momentum_decay = Hyperparameter(non_negative, "momentum_decay value")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                         maximize=maximize)

    def _init_state(self, param):
        # Pi_0 = 1, the product of the momentum schedule
        return {**super()._init_state(param), "mu_product": 1.0}

    def _update(self, param, grad, state):
        lr, (beta1, beta2), t, psi = self.lr, self.betas, self.step_count, self.momentum_decay
        # g_t <- -g_t   (maximize: ascend instead of descend)
        g = -grad if self.maximize else grad
        if self.weight_decay != 0 and self.decoupled_weight_decay:
            # theta_{t-1} <- (1 - lr lambda) theta_{t-1}   (decoupled weight decay, AdamW's)
            param *= 1.0 - lr * self.weight_decay
        elif self.weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 weight decay, folded into the gradient)
            g = g + self.weight_decay * param
        # mu_t = beta1 (1 - 0.5 * 0.96^(t psi))
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        # mu_{t+1} = beta1 (1 - 0.5 * 0.96^((t + 1) psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # Pi_t = Pi_{t-1} mu_t
        state["mu_product"] *= mu
        m, v = self._moments(g, state)
        # d_t = sqrt(v_t / (1 - beta2^t)) + eps
        denom = np.sqrt(v / (1.0 - beta2**t)) + self.eps
        # theta <- theta_{t-1} - lr (1 - mu_t) / (1 - Pi_t) * g_t / d_t
        param -= lr * (1.0 - mu) / (1.0 - state["mu_product"]) * (g / denom)
        # theta_t = theta - lr mu_{t+1} / (1 - Pi_t mu_{t+1}) * m_t / d_t
        param -= lr * mu_next / (1.0 - state["mu_product"] * mu_next) * (m / denom)
