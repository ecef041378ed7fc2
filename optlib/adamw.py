r"""AdamW: Adam with decoupled weight decay, with torch.optim.AdamW's signature, defaults and update.

Adam's ``weight_decay`` adds :math:`\lambda\theta` to the gradient, which then gets divided by
:math:`\sqrt{\hat v}`: coordinates with large gradients are barely decayed. Loshchilov & Hutter
*decouple* the decay from the adaptive step: shrink the parameter directly, then take the Adam step
on the loss gradient alone.

.. math::

   g_t &\leftarrow -g_t                                          &&\text{if maximize} \\
   \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1}    &&(\lambda = \text{weight_decay}) \\
   &\text{then Adam's update of } m_t, v_t \text{ (and AMSGrad's } v^{\max}_t\text{) and } \theta_t
    \text{ with the same } g_t.

Defaults: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
maximize=False`` (note the non-zero weight decay).

Convention worth knowing: torch (like this class) multiplies the decay by the learning rate,
:math:`\theta \leftarrow \theta(1 - \gamma\lambda)`. The paper writes
:math:`\theta_t = \theta_{t-1} - \eta_t(\alpha\,\hat m_t/(\sqrt{\hat v_t}+\epsilon) + \lambda\theta_{t-1})`
with a schedule multiplier :math:`\eta_t`, and its step size :math:`\alpha` does *not* multiply
:math:`\lambda`. torch's ``lr`` plays the role of :math:`\eta_t\alpha`, so torch's ``weight_decay``
is the paper's :math:`\lambda/\alpha` (optax's ``adamw`` follows torch). Changing ``lr`` in a
schedule therefore also changes the decay per step.
With ``weight_decay=0`` AdamW is exactly Adam.

Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
"""

from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameters directly: ``theta *= 1 - lr * weight_decay``.

    The whole update is :class:`optlib.Adam`'s with ``decoupled_weight_decay=True``.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = AdamW([theta], lr=0.1, eps=0.0, weight_decay=0.5)
    >>> opt.step([np.array([3.0, -0.5])])   # decay by 1 - 0.1*0.5, then -lr * sign(g)
    >>> theta
    array([ 0.85, -1.8 ])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)

    def _check_hyperparameters(self):
        if not self.decoupled_weight_decay:
            raise ValueError("AdamW's weight decay is always decoupled (decoupled_weight_decay must be "
                             "True); use Adam for the L2 form")
