r"""Leaky (exponential moving) averages: the building block of momentum, RMSprop, Adadelta and Adam.

.. math::  a_t = \beta\, a_{t-1} + (1 - \beta)\, x_t

remembers the recent past with weights :math:`(1-\beta)\beta^k`, an effective window of about
:math:`1/(1-\beta)` steps. Both functions update ``average`` in place, rounded as torch rounds them,
so that optlib's trajectories match torch.optim's:

* :func:`lerp` is torch's ``start.lerp(end, weight)``, :math:`(1-w)\,\text{start} + w\,\text{end}`;
* :func:`leaky_average` is torch's ``average.lerp_(x, 1 - beta)`` (the first moments);
* :func:`leaky_average_of_squares` is torch's ``average.mul_(beta).addcmul_(x, x, value=1 - beta)``
  (the second moments), multiplied in torch's order, ``((1 - beta) * x) * x``: where ``x * x`` would
  overflow, ``(1 - beta) * x * x`` may not (float32 Adam with ``|g| = 1e20``), and ``beta = 1`` gives
  ``0 * x * x = 0`` rather than ``0 * inf = NaN``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lerp", "leaky_average", "leaky_average_of_squares"]


def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    r"""``start + weight * (end - start)`` as a new array, rounded as torch's ``lerp``.

    torch computes :math:`s + w(e - s)` when :math:`|w| < 1/2` and :math:`e - (e - s)(1 - w)` otherwise,
    so that :math:`w = 1` gives exactly ``end`` and :math:`w = 0` exactly ``start``, whatever their sizes.

    >>> lerp(np.array([1e8]), np.array([1e-8]), 1.0)
    array([1.e-08])
    """
    # (1 - w) s + w e, computed from the nearer end, as torch's lerp does
    if abs(weight) < 0.5:
        # s + w (e - s)
        return start + weight * (end - start)
    # e - (e - s)(1 - w), which is exactly e at w = 1
    return end - (end - start) * (1.0 - weight)


def leaky_average(average: np.ndarray, x: np.ndarray, beta: float) -> None:
    r"""``average <- beta * average + (1 - beta) * x``, in place, with torch's ``lerp`` rounding.

    torch interpolates with weight :math:`w = 1 - \beta` (see :func:`lerp`), so that :math:`\beta = 0`
    gives exactly ``x`` and :math:`\beta = 1` exactly ``average``, whatever the sizes of the two.

    >>> a = np.array([1.0, 2.0]); leaky_average(a, np.array([3.0, 0.0]), 0.75); a
    array([1.5, 1.5])
    >>> a = np.array([1e8]); leaky_average(a, np.array([1e-8]), 0.0); a
    array([1.e-08])
    """
    # a_t = beta a_{t-1} + (1 - beta) x_t, interpolated from a_{t-1} to x_t by the weight 1 - beta
    average[...] = lerp(average, x, 1.0 - beta)


def leaky_average_of_squares(average: np.ndarray, x: np.ndarray, beta: float) -> None:
    r"""``average <- beta * average + (1 - beta) * x**2``, in place (a running mean square).

    >>> a = np.array([1.0, 2.0]); leaky_average_of_squares(a, np.array([3.0, 0.0]), 0.75); a
    array([3. , 1.5])
    """
    # a_t = beta a_{t-1} + (1 - beta) x_t^2, multiplied as torch does: ((1 - beta) x_t) x_t
    average[...] = beta * average + (1.0 - beta) * x * x
