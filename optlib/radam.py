r"""RAdam (rectified Adam), with torch.optim.RAdam's signature, defaults and update.

In its first steps Adam's second moment :math:`\hat v_t` averages only a few squared gradients, so
its adaptive step size has a huge variance; Liu et al. argue that this is why Adam needs a warm-up. They estimate the
length :math:`\rho_t` of the simple moving average that the exponential one resembles. While
:math:`\rho_t \le 5` (torch's threshold; the variance is infinite only while :math:`\rho_t \le 4`, the paper's)
RAdam takes a plain momentum (SGD) step;
afterwards it takes Adam's step multiplied by a rectification :math:`r_t \le 1` that undoes the
excess variance, rising to 1 as :math:`t \to \infty`.

The update for a gradient :math:`g_t` at :math:`\theta_{t-1}` (torch's single-tensor algorithm):

.. math::

   g_t &\leftarrow -g_t                                         &&\text{if maximize} \\
   g_t &\leftarrow g_t + \lambda\,\theta_{t-1}  &&\text{if } \lambda \ne 0 \text{ (weight_decay)} \\
   \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1}   &&\text{instead, if decoupled_weight_decay} \\
   m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t,
        \qquad \hat m_t = m_t / (1-\beta_1^t) \\
   v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
   \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad
   \rho_t = \rho_\infty - \frac{2 t\, \beta_2^t}{1-\beta_2^t} \\
   \theta_t &= \theta_{t-1} - \gamma\, \hat m_t\, r_t\, \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon},
   \quad r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}}
                                                                 &&\text{if } \rho_t > 5 \\
   \theta_t &= \theta_{t-1} - \gamma\, \hat m_t                  &&\text{otherwise}

With the default :math:`\beta_2 = 0.999` the first five steps are momentum steps.

Defaults: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
maximize=False``.

Conventions worth knowing:

* The paper's threshold is :math:`\rho_t > 4` (where the variance becomes finite); torch, and this
  class, use :math:`\rho_t > 5`.
* ``eps`` is added to :math:`\sqrt{v_t}` before the bias correction :math:`\sqrt{1-\beta_2^t}`
  multiplies, i.e. :math:`\sqrt{1-\beta_2^t}/(\sqrt{v_t}+\epsilon)`, not
  :math:`1/(\sqrt{\hat v_t}+\epsilon)` as in Adam.

Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (ICLR 2020).
"""

from __future__ import annotations

import math

import numpy as np

from .adam import AdamFamily

__all__ = ["RAdam"]


class RAdam(AdamFamily):
    """Adam with a variance rectification: momentum steps first, then Adam steps scaled by ``r_t``.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = RAdam([theta], lr=0.1)
    >>> opt.step([np.array([3.0, -0.5])])   # rho_1 = 1 <= 5: a plain momentum step -lr * g
    >>> theta
    array([ 0.7 , -1.95])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

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
        # m_hat_t = m_t / (1 - beta1^t)
        m_hat = m / (1.0 - beta1**t)
        # rho_inf = 2 / (1 - beta2) - 1
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        # rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t = rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)
        if rho_t > 5.0:
            # r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            r = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            # l_t = sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
            adaptive = math.sqrt(1.0 - beta2**t) / (np.sqrt(v) + self.eps)
            # theta_t = theta_{t-1} - lr m_hat_t l_t r_t
            param -= m_hat * lr * adaptive * r
        else:
            # theta_t = theta_{t-1} - lr m_hat_t
            param -= m_hat * lr
