r"""Check an analytic gradient against central finite differences.

For a scalar function :math:`f` and a step :math:`h`,

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h},

whose error is :math:`O(h^2)`: in :math:`f(x \pm h e_i) = f \pm h\,\partial_i f + \tfrac{h^2}{2}\partial_i^2 f
\pm \tfrac{h^3}{6}\partial_i^3 f + \dots` the even-order terms cancel in the difference, leaving
:math:`\partial_i f + \tfrac{h^2}{6}\partial_i^3 f + O(h^4)`, against :math:`O(h)` for the one-sided
difference. Rounding adds an error of order :math:`\epsilon_{\text{mach}} |f| / h`, so
:math:`h \approx 10^{-5}` to :math:`10^{-6}` balances the two in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_gradient", "gradient_error"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x`` (any shape, float64)."""
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    x = np.array(x, dtype=float)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + h
        f_plus = float(f(x))
        x[i] = saved - h
        f_minus = float(f(x))
        x[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_error(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray], x,
                   h: float = 1e-6) -> float:
    r"""The relative error :math:`\lVert g - \hat g\rVert / \max(1, \lVert g\rVert, \lVert \hat g\rVert)`
    between the analytic gradient ``grad(x)`` and the finite-difference one.

    Around ``1e-8`` or below means the analytic gradient is right; ``1e-3`` or above means a bug.
    """
    x = np.array(x, dtype=float)
    analytic = np.asarray(grad(x.copy()), dtype=float)
    if analytic.shape != x.shape:
        raise ValueError(f"grad(x) has shape {analytic.shape}, but x has shape {x.shape}")
    numeric = numerical_gradient(f, x, h)
    scale = max(1.0, float(np.linalg.norm(analytic)), float(np.linalg.norm(numeric)))
    return float(np.linalg.norm(analytic - numeric)) / scale
