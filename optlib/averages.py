r"""Leaky (exponential moving) averages: the building block of momentum, RMSprop, Adadelta and Adam.

.. math::  a_t = \beta\, a_{t-1} + (1 - \beta)\, x_t

remembers the recent past with weights :math:`(1-\beta)\beta^k`, an effective window of about
:math:`1/(1-\beta)` steps. Both functions update ``average`` in place, using ``work`` (an array of the
same shape) as scratch, so they allocate nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["leaky_average", "leaky_average_of_squares"]


def leaky_average(average: np.ndarray, x: np.ndarray, beta: float, work: np.ndarray) -> None:
    r"""``average <- beta * average + (1 - beta) * x``, in place.

    Computed as :math:`a + (1-\beta)(x - a)`: three passes over the arrays instead of four.

    >>> a = np.array([1.0, 2.0]); leaky_average(a, np.array([3.0, 0.0]), 0.75, np.empty(2)); a
    array([1.5, 1.5])
    """
    np.subtract(x, average, out=work)
    work *= 1.0 - beta
    average += work


def leaky_average_of_squares(average: np.ndarray, x: np.ndarray, beta: float, work: np.ndarray) -> None:
    r"""``average <- beta * average + (1 - beta) * x**2``, in place (a running mean square).

    >>> a = np.array([1.0, 2.0]); leaky_average_of_squares(a, np.array([3.0, 0.0]), 0.75, np.empty(2)); a
    array([3. , 1.5])
    """
    average *= beta
    np.multiply(x, x, out=work)
    work *= 1.0 - beta
    average += work
