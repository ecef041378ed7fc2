r"""Muon ("MomentUm Orthogonalized by Newton-Schulz"), for matrix parameters (Jordan et al., 2024).

For a weight matrix, Muon takes SGD's (Nesterov) momentum :math:`\tilde B_t` and replaces it by the
nearest semi-orthogonal matrix: with the singular value decomposition :math:`\tilde B_t = U\Sigma V^\top`,
the step is along :math:`UV^\top`, every singular value set to 1. Directions in which the gradient is
weak get the same step as the dominant ones. Computing :math:`UV^\top` with an SVD is slow on
accelerators, so Muon approximates it with a few matrix products, an odd polynomial
:math:`p(x) = a x + b x^3 + c x^5` applied to the singular values (:func:`newton_schulz`).

The update for a gradient :math:`g_t` (a matrix) at :math:`\theta_{t-1}`, as torch.optim.Muon's code
computes it:

.. math::

   g_t &\leftarrow -g_t                                           &&\text{if maximize} \\
   B_t &= \beta B_{t-1} + (1-\beta)\, g_t                          &&(B_0 = 0,\ \beta = \text{momentum}) \\
   \tilde B_t &= \begin{cases} (1-\beta)\, g_t + \beta B_t & \text{nesterov} \\ B_t & \text{otherwise}\end{cases} \\
   O_t &= \mathrm{NS}^{(a,b,c)}_k(\tilde B_t;\ \epsilon)   &&(\approx UV^\top) \\
   \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1} - \gamma'\, O_t, \qquad
   \gamma' = \begin{cases} \gamma\,\sqrt{\max(1, m/n)} & \text{adjust_lr_fn = None or "original"} \\
                           0.2\,\gamma\,\sqrt{\max(m, n)} & \text{adjust_lr_fn = "match_rms_adamw"}\end{cases}

for an :math:`m \times n` parameter. The buffer is a leaky average, as in torch's code (torch's
documentation writes the sum :math:`B_t = \beta B_{t-1} + g_t`, which is the average divided by
:math:`1-\beta`). While the momentum is constant the two give the same step up to ``eps``, since the
Newton-Schulz iteration first divides by the norm; once the momentum changes between steps they
differ, so optlib follows the code, and checkpoints can be exchanged with torch.

The quintic coefficients :math:`(a, b, c) = (3.4445, -4.7750, 2.0315)` are tuned, not derived: the slope
:math:`p'(0) = a` is made as large as possible while the iteration stays bounded, so small singular
values grow by a factor of about 3.4 per iteration, at the price of not converging to 1
(:math:`p(1) = 0.701`). After the input is divided by its Frobenius norm (all singular values in
:math:`(0, 1]`), :math:`p` maps the band :math:`[0.6818, 1.2024]` into itself (its ends are :math:`p`'s
local minimum :math:`p(1.0501) = 0.6818` and local maximum :math:`p(0.5545) = 1.2024`), and
:math:`p` of the band is the narrower :math:`[0.6818, 1.1344]`. Five iterations take every singular
value that started above 1% of the norm into :math:`[0.6818, 1.1344]`: a step along
:math:`U S V^\top` with :math:`S` in that band is within 32% of the exact :math:`UV^\top` in every
direction (at most 31.8% shorter, 13.4% longer). For Muon that is good enough.

Defaults (torch.optim.Muon's): ``lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None, maximize=False``.
(Jordan's reference code uses ``lr=0.02, weight_decay=0``.) The iteration runs in float64 for float64
parameters and in float32 otherwise (float16's range would overflow); torch runs it in bfloat16,
which has float32's range and 8 bits of precision. ``maximize`` is optlib's addition.

Only 2-D parameters with no empty dimension: Muon refuses vectors (biases, gains), other shapes and
empty matrices with a ``ValueError``; optimise vectors with AdamW, as Muon's authors do (and the first
and last layers of a network, too). Muon is not element-wise (``elementwise = False``): runs stacked
into one matrix would interact.

Reference: K. Jordan et al., "Muon: An optimizer for hidden layers in neural networks" (2024),
https://kellerjordan.github.io/posts/muon/.
"""

from __future__ import annotations

import math

import numpy as np

from .averages import leaky_average, lerp
from .optimizer import Hyperparameter, Optimizer
from .validation import boolean, finite_number, non_negative, non_negative_int, one_of

__all__ = ["Muon", "newton_schulz", "NS_COEFFICIENTS"]

#: Jordan et al.'s quintic Newton-Schulz coefficients (a, b, c).
NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)


def _coefficients(name, value):
    """Three finite numbers (a, b, c)."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim == 1 else value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be three numbers (a, b, c))")
    return tuple(finite_number(f"{name}[{i}]", v) for i, v in enumerate(value))


def _ns_steps(name, value):
    """A number of Newton-Schulz iterations in [0, 100)."""
    value = non_negative_int(name, value)
    if value >= 100:
        raise ValueError(f"Invalid {name}: {value} ({name} must lie in [0, 100))")
    return value


def _adjust_lr_fn(name, value):
    return one_of(name, value, (None, "original", "match_rms_adamw"))


def newton_schulz(G: np.ndarray, steps: int = 5, coefficients=NS_COEFFICIENTS, eps: float = 1e-7) -> np.ndarray:
    r"""Approximately orthogonalise a matrix: :math:`U\Sigma V^\top \mapsto U\,p^{k}(\Sigma/\|G\|_F)\,V^\top`.

    .. math::

       X_0 &= G / \max(\lVert G\rVert_F,\ \epsilon) \\
       X_{j+1} &= a X_j + (b A_j + c A_j^2)\, X_j, \qquad A_j = X_j X_j^\top

    Each iteration applies :math:`p(x) = a x + b x^3 + c x^5` to every singular value and keeps the
    singular vectors. A wide orientation is used (``X`` is :math:`k \times n` with :math:`k \le n`;
    a tall ``G`` is transposed and transposed back), so the Gram matrix :math:`A` is the small one.
    Computed in float64 for a float64 ``G``, in float32 otherwise; returns a new array of that dtype.
    """
    if G.ndim != 2:
        raise ValueError(f"newton_schulz needs a matrix (2-D array), got shape {G.shape}")
    a, b, c = _coefficients("coefficients", coefficients)
    steps = _ns_steps("steps", steps)
    tall = G.shape[0] > G.shape[1]
    X = np.asarray(G.T if tall else G, dtype=np.result_type(G.dtype, np.float32))
    # X_0 = G / max(||G||_F, eps)
    X = X / max(float(np.linalg.norm(X)), eps)
    for _ in range(steps):
        # A = X X^T
        A = X @ X.T
        # X <- a X + (b A + c A^2) X
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


class Muon(Optimizer):
    """Nesterov momentum, orthogonalised by a Newton-Schulz iteration; 2-D parameters only.

    >>> import numpy as np
    >>> W = np.zeros((2, 2))
    >>> opt = Muon([W], lr=0.1, weight_decay=0.0)
    >>> opt.step([np.array([[3.0, 0.0], [0.0, 0.01]])])   # gradients 300x apart ...
    >>> np.round(np.diag(W), 2)                             # ... steps of the same order, about lr
    array([-0.07, -0.12])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    momentum = Hyperparameter(non_negative, "momentum value")
    nesterov = Hyperparameter(boolean, "nesterov")
    ns_coefficients = Hyperparameter(_coefficients)
    eps = Hyperparameter(non_negative, "epsilon value")
    ns_steps = Hyperparameter(_ns_steps)
    adjust_lr_fn = Hyperparameter(_adjust_lr_fn)
    maximize = Hyperparameter(boolean, "maximize")

    # Newton-Schulz mixes the entries of a matrix: runs stacked into one array would interact.
    elementwise = False

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=NS_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None, *, maximize=False):
        super().__init__(params, lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                         ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                         adjust_lr_fn=adjust_lr_fn, maximize=maximize)
        for i, p in enumerate(self.params):
            if p.ndim != 2:
                raise ValueError(f"params[{i}] has shape {p.shape}: Muon updates matrices (2-D arrays) only; "
                                 "optimise vectors such as biases with AdamW")
            if p.size == 0:
                raise ValueError(f"params[{i}] has shape {p.shape}: Muon needs a matrix with at least one "
                                 "row and one column")

    def _init_state(self, param):
        return {"momentum_buffer": np.zeros_like(param)}   # B, the momentum

    def adjusted_lr(self, shape) -> float:
        """The rate :math:`\\gamma'` actually applied to a parameter of ``shape`` (rows, columns)."""
        rows, cols = shape
        if self.adjust_lr_fn == "match_rms_adamw":
            return self.lr * 0.2 * math.sqrt(max(rows, cols))
        return self.lr * math.sqrt(max(1.0, rows / cols))

    def _update(self, param, grad, state):
        beta, B = self.momentum, state["momentum_buffer"]
        # g_t <- -g_t   (maximize, optlib's addition: ascend instead of descend)
        g = -grad if self.maximize else grad
        # B_t = beta B_{t-1} + (1 - beta) g_t
        leaky_average(B, g, beta)
        if self.nesterov:
            # B~_t = (1 - beta) g_t + beta B_t
            update = lerp(g, B, beta)
        else:
            # B~_t = B_t
            update = B
        # O_t = NS_k(B~_t)
        ortho = newton_schulz(update, self.ns_steps, self.ns_coefficients, self.eps)
        # theta_{t-1} <- (1 - lr lambda) theta_{t-1}   (decoupled weight decay; torch applies it even at 0)
        param *= 1.0 - self.lr * self.weight_decay
        # theta_t = theta_{t-1} - lr' O_t
        param -= self.adjusted_lr(param.shape) * ortho
