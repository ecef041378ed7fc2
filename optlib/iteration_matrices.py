r"""Momentum on one eigen-direction of a quadratic, as a 2 x 2 linear map, and its spectral radius.

Along an eigenvector of the Hessian with eigenvalue :math:`\lambda`, write :math:`h = \eta\lambda`.
Heavy ball, :math:`\theta_{t+1} = \theta_t - h\,\theta_t + \beta(\theta_t - \theta_{t-1})`, maps
:math:`(\theta_t, \theta_{t-1})` to :math:`(\theta_{t+1}, \theta_t)` by

.. math::  M(h, \beta) = \begin{pmatrix} 1 + \beta - h & -\beta \\ 1 & 0 \end{pmatrix},

and Nesterov's momentum, which takes the gradient at the look-ahead point, by

.. math::  N(h, \beta) = \begin{pmatrix} (1 + \beta)(1 - h) & -\beta (1 - h) \\ 1 & 0 \end{pmatrix}.

The error along that direction shrinks (asymptotically) by the spectral radius
:math:`\rho = \max |\text{eigenvalue}|` per step; the method is stable there iff :math:`\rho < 1`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["iteration_matrix", "spectral_radius"]


def iteration_matrix(h, beta, nesterov: bool = False) -> np.ndarray:
    """Heavy ball's :math:`M(h, \\beta)`, or Nesterov's :math:`N(h, \\beta)`; ``h`` and ``beta`` broadcast.

    >>> iteration_matrix(0.5, 0.9).tolist()
    [[1.4, -0.9], [1.0, 0.0]]
    """
    h, beta = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(beta, dtype=float))
    damp = (1 - h) if nesterov else 1.0
    A = np.zeros(h.shape + (2, 2))
    A[..., 0, 0] = (1 + beta) * (1 - h) if nesterov else 1 + beta - h
    A[..., 0, 1], A[..., 1, 0] = -beta * damp, 1.0
    return A


def spectral_radius(A) -> np.ndarray:
    """The largest eigenvalue modulus of each 2 x 2 matrix in ``A`` (shape ``(..., 2, 2)``)."""
    return np.abs(np.linalg.eigvals(A)).max(axis=-1)
