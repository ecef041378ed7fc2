r"""SOAP ("ShampoO with Adam in the Preconditioner's eigenbasis", Vyas et al., 2024), for vectors and matrices.

Shampoo's factors :math:`L` and :math:`R` of an :math:`m \times n` weight matrix have eigenvectors
:math:`Q_L` and :math:`Q_R`. SOAP rotates every gradient into that basis, :math:`G' = Q_L^\top G Q_R`,
runs Adam there (a second moment per rotated coordinate), and rotates the step back. The factors are
leaky averages, and the basis is refreshed only every ``precondition_frequency`` steps, by one step of
power iteration followed by a QR decomposition; between refreshes Adam's moments keep adapting. With the
identity for both bases SOAP is Adam (with the conventions below). (Vyas et al. start from the
observation that an idealised Shampoo with the exponent :math:`-1/2` is Adafactor in the same basis.)

The update for a gradient :math:`G_t` at :math:`\theta_{t-1}`, as pytorch-optimizer's ``SOAP`` computes it
(:math:`\gamma` = ``lr``, :math:`\beta_s` = ``shampoo_beta``, default :math:`\beta_2`; :math:`f` =
``precondition_frequency``; :math:`\lambda` = ``weight_decay``):

.. math::

   G_t &\leftarrow -G_t                                                         &&\text{if maximize} \\[2pt]
   \textbf{step 1:}\quad L_1 &= (1-\beta_s)\, G_1 G_1^\top, \quad R_1 = (1-\beta_s)\, G_1^\top G_1, \quad
         Q_L, Q_R = \text{eigenvectors (largest first)}                          &&\text{no step is taken} \\[2pt]
   \textbf{step } t > 1, \ s = t - 1: \quad G'_t &= Q_L^\top G_t Q_R              &&\text{(rotate)} \\
   m_s &= \beta_1 m_{s-1} + (1-\beta_1)\, G_t                                   &&\text{(original basis)} \\
   v_s &= \beta_2 v_{s-1} + (1-\beta_2)\, G'^{\,2}_t                             &&\text{(rotated basis)} \\
   N_s &= Q_L \Big( \frac{Q_L^\top m_s Q_R}{\sqrt{v_s} + \epsilon} \Big) Q_R^\top  &&\text{(Adam, rotated back)} \\
   \theta_t &= \theta_{t-1} - \gamma\, \frac{\sqrt{1-\beta_2^s}}{1-\beta_1^s}\, N_s,
   \qquad \theta_t \leftarrow (1 - \gamma\lambda)\, \theta_t \\
   L &\leftarrow \beta_s L + (1-\beta_s)\, G_t G_t^\top, \quad R \leftarrow \beta_s R + (1-\beta_s)\, G_t^\top G_t \\
   Q_L &\leftarrow \mathrm{qr}(L\, Q_L \Pi_L), \quad Q_R \leftarrow \mathrm{qr}(R\, Q_R \Pi_R)   &&\text{if } f \mid s

where :math:`\Pi` sorts the columns by their estimated eigenvalues :math:`\operatorname{diag}(Q^\top L Q)`,
largest first, and :math:`v` is permuted with them (:func:`update_eigenbasis`). A vector has only one
side; by default (``precondition_1d=False``) it is not rotated at all, so SOAP on a vector (a bias) is
Adam with the conventions below. A dimension longer than ``max_precondition_dim`` is not rotated either.

Conventions worth knowing (all the reference's, kept by optlib):

* The first step only gathers statistics, so that the basis never depends on the gradient it rotates;
  the bias corrections count from the second step (:math:`s = t - 1`).
* :math:`\epsilon` is added to :math:`\sqrt{v}` *before* bias correction, which is folded into the step
  size (Kingma & Ba's "efficient" order), not to :math:`\sqrt{\hat v}` as torch's Adam does.
* The first moment :math:`m` lives in the original basis and is rotated at every step; the second
  moment lives in the rotated basis, so a refreshed basis only reorders it (a later version of the
  official code rotates :math:`m` too; the two agree in exact arithmetic).
* Weight decay is decoupled and applied *after* the step, to the updated parameters.
* ``normalize_gradient=True`` divides :math:`N_s` by its RMS (plus :math:`\epsilon`) before the step.

**Reference.** **pytorch-optimizer 4.1.0**'s ``SOAP``, a port of the authors' first release
(github.com/nikhilvyas/SOAP, September 2024) with its names (``max_precondition_dim`` for the original's
``max_precond_dim``, ``normalize_gradient`` for ``normalize_grads``) and the paper's defaults:
``lr=3e-3, betas=(0.95, 0.95), shampoo_beta=None (beta2), weight_decay=1e-2, precondition_frequency=10,
max_precondition_dim=10000, precondition_1d=False, correct_bias=True, normalize_gradient=False, eps=1e-8,
maximize=False``. It matches the paper's Algorithm 3 (the momentum in the original basis, Adam in the
rotated one). heavyball 3.2.1's ``SOAP`` was not chosen: it follows a later variant with other defaults
(``betas=(0.9, 0.95)``, ``precondition_frequency=2``, ``merge_dims=True``) and stores its state in
float32. Trajectories are matched to 1e-10 in tests/reference/kronecker.npz, recorded with the library's
QR in float64 (it casts the QR's input to float32 whatever the parameters' dtype; optlib computes in the
parameters' dtype).

Where optlib departs from the library: ``merge_dims`` and ``data_format``, which reshape convolution
kernels, are not offered (parameters are vectors or matrices; others are refused with a ``ValueError``
naming them). ``shampoo_beta`` and ``precondition_frequency`` are read at every step (the library keeps
the values of the first step). Which dimensions get a factor (``precondition_1d``,
``max_precondition_dim``) is decided at the first step, as in the library. The first basis comes from
``eigh`` without the library's :math:`10^{-30} I` shift, which changes nothing unless a factor is zero.
Eigenvectors are defined up to sign (and up to rotation within a repeated eigenvalue): signs do not change
SOAP's steps; a repeated eigenvalue (a rank-deficient first factor with a null space of dimension two or
more, e.g. a vector with ``precondition_1d=True``) leaves the first basis to the LAPACK library.

SOAP is not element-wise (``elementwise = False``): runs stacked into one array would share a basis.

Reference: N. Vyas, D. Morwani, R. Zhao, I. Shapira, D. Brandfonbrener, L. Janson, S. Kakade, "SOAP:
Improving and Stabilizing Shampoo using Adam" (2024), https://arxiv.org/abs/2409.11321.
"""

from __future__ import annotations

import math

import numpy as np

from .averages import leaky_average
from .optimizer import Hyperparameter, Optimizer, checked_array
from .shampoo import check_vector_or_matrix
from .validation import beta_pair, boolean, in_half_open_unit_interval, non_negative, positive_int

__all__ = ["SOAP", "to_eigenbasis", "from_eigenbasis", "eigenvectors", "update_eigenbasis"]


def _optional_beta(name, value, *, label=None):
    return None if value is None else in_half_open_unit_interval(name, value, label=label)


def to_eigenbasis(x: np.ndarray, Q: list) -> np.ndarray:
    r""":math:`Q_L^\top X Q_R` for a matrix, :math:`Q^\top x` for a vector (``None``: that side is not rotated)."""
    if x.ndim == 1:
        return x if Q[0] is None else x @ Q[0]
    Q_L, Q_R = Q
    x = x if Q_L is None else Q_L.T @ x
    return x if Q_R is None else x @ Q_R


def from_eigenbasis(x: np.ndarray, Q: list) -> np.ndarray:
    r""":math:`Q_L X Q_R^\top` for a matrix, :math:`Q x` for a vector: the inverse of :func:`to_eigenbasis`."""
    if x.ndim == 1:
        return x if Q[0] is None else Q[0] @ x
    Q_L, Q_R = Q
    x = x if Q_L is None else Q_L @ x
    return x if Q_R is None else x @ Q_R.T


def eigenvectors(matrix: np.ndarray) -> np.ndarray:
    """The eigenvectors of a symmetric matrix as columns, largest eigenvalue first (NaN if not finite)."""
    if not np.all(np.isfinite(matrix)):
        return np.full_like(matrix, np.nan)
    # a copy, not a reversed view: the memory layout changes BLAS's rounding, and a run resumed from a
    # checkpoint (which stores arrays contiguously) must be bit-identical
    return np.linalg.eigh(matrix)[1][:, ::-1].copy()


def outer_products(g: np.ndarray) -> list[np.ndarray]:
    r""":math:`[G G^\top, G^\top G]` for a matrix, :math:`[g g^\top]` for a vector: what each factor averages."""
    return [np.outer(g, g)] if g.ndim == 1 else [g @ g.T, g.T @ g]


def update_eigenbasis(factors: list, Q: list, exp_avg_sq: np.ndarray) -> tuple[list, np.ndarray]:
    r"""One step of power iteration and a QR decomposition per factor: the refreshed bases, and
    :math:`v` with its axes reordered to match (the new columns sorted by estimated eigenvalue)."""
    Q, v = list(Q), exp_avg_sq
    for axis, (factor, basis) in enumerate(zip(factors, Q)):
        if factor is None:
            continue
        # P = L Q   (one step of power iteration)
        P = factor @ basis
        # lambda_j = q_j^T L q_j   (the eigenvalues, estimated), largest first
        order = np.argsort(-np.sum(basis * P, axis=0), kind="stable")
        v = np.take(v, order, axis=axis)
        # Q <- qr(P Pi)
        Q[axis] = np.linalg.qr(P[:, order])[0]
    return Q, v


class SOAP(Optimizer):
    """Adam in the eigenbasis of Shampoo's factors, the basis refreshed every ``precondition_frequency`` steps.

    >>> import numpy as np
    >>> W = np.zeros((2, 2))
    >>> opt = SOAP([W], lr=0.1, weight_decay=0.0)
    >>> opt.step([np.ones((2, 2))])    # the first step only gathers statistics
    >>> W.tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """

    lr = Hyperparameter(non_negative, "learning rate")
    betas = Hyperparameter(beta_pair, "betas")
    shampoo_beta = Hyperparameter(_optional_beta, "shampoo_beta value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    precondition_frequency = Hyperparameter(positive_int)
    max_precondition_dim = Hyperparameter(positive_int)
    precondition_1d = Hyperparameter(boolean, "precondition_1d")
    correct_bias = Hyperparameter(boolean, "correct_bias")
    normalize_gradient = Hyperparameter(boolean, "normalize_gradient")
    eps = Hyperparameter(non_negative, "epsilon value")
    maximize = Hyperparameter(boolean, "maximize")

    # The rotations mix the entries of a matrix: runs stacked into one array would interact.
    elementwise = False

    def __init__(self, params, lr=3e-3, betas=(0.95, 0.95), shampoo_beta=None, weight_decay=1e-2,
                 precondition_frequency=10, max_precondition_dim=10000, precondition_1d=False, correct_bias=True,
                 normalize_gradient=False, eps=1e-8, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, shampoo_beta=shampoo_beta, weight_decay=weight_decay,
                         precondition_frequency=precondition_frequency, max_precondition_dim=max_precondition_dim,
                         precondition_1d=precondition_1d, correct_bias=correct_bias,
                         normalize_gradient=normalize_gradient, eps=eps, maximize=maximize)
        check_vector_or_matrix(self.params, type(self).__name__)

    def _init_state(self, param):
        return {
            "exp_avg": np.zeros_like(param),      # m, the first moment (original basis)
            "exp_avg_sq": np.zeros_like(param),   # v, the second moment (rotated basis)
            "GG": None,                           # the factors [L, R] (a vector: [C]), from the first step
            "Q": None,                            # their eigenvectors [Q_L, Q_R]
        }

    def _factor_sizes(self, param) -> list:
        """The size of each side's factor, ``None`` for a side that is not rotated."""
        if param.ndim == 1 and not self.precondition_1d:
            return [None]
        return [d if d <= self.max_precondition_dim else None for d in param.shape]

    def _update(self, param, grad, state):
        (beta1, beta2), wd = self.betas, self.weight_decay
        shampoo_beta = beta2 if self.shampoo_beta is None else self.shampoo_beta
        # G_t <- -G_t (maximize)
        g = -grad if self.maximize else grad
        if state["Q"] is None:
            # step 1: L_1 = (1 - beta_s) G G^T, R_1 = (1 - beta_s) G^T G; Q = their eigenvectors; no step
            state["GG"] = [None if d is None else np.zeros((d, d), param.dtype) for d in self._factor_sizes(param)]
            self._average_factors(g, state["GG"], shampoo_beta)
            state["Q"] = [None if factor is None else eigenvectors(factor) for factor in state["GG"]]
            return
        s, Q, m, v = self.step_count - 1, state["Q"], state["exp_avg"], state["exp_avg_sq"]
        # G'_t = Q_L^T G_t Q_R
        g_rotated = to_eigenbasis(g, Q)
        # m_s = beta1 m_{s-1} + (1 - beta1) G_t
        leaky_average(m, g, beta1)
        # v_s = beta2 v_{s-1} + (1 - beta2) G'_t^2
        leaky_average(v, g_rotated * g_rotated, beta2)
        # N_s = Q_L [(Q_L^T m_s Q_R) / (sqrt(v_s) + eps)] Q_R^T
        direction = from_eigenbasis(to_eigenbasis(m, Q) / (np.sqrt(v) + self.eps), Q)
        if self.normalize_gradient:
            # N_s <- N_s / (RMS(N_s) + eps)
            direction = direction / (np.sqrt(np.mean(direction * direction)) + self.eps)
        step_size = self.lr
        if self.correct_bias:
            step_size *= math.sqrt(1.0 - beta2**s) / (1.0 - beta1**s)
        # theta_t = theta_{t-1} - lr sqrt(1 - beta2^s) / (1 - beta1^s) N_s
        param -= step_size * direction
        if wd != 0:
            # theta_t <- (1 - lr lambda) theta_t
            param *= 1.0 - wd * self.lr
        # L <- beta_s L + (1 - beta_s) G G^T,  R <- beta_s R + (1 - beta_s) G^T G
        self._average_factors(g, state["GG"], shampoo_beta)
        if s % self.precondition_frequency == 0:
            # Q <- qr(L Q Pi), v reordered with the columns
            state["Q"], state["exp_avg_sq"] = update_eigenbasis(state["GG"], Q, v)

    @staticmethod
    def _average_factors(g, factors, shampoo_beta) -> None:
        for factor, outer in zip(factors, outer_products(g)):
            if factor is not None:
                leaky_average(factor, outer, shampoo_beta)

    def _checked_state(self, i, param, theirs):
        where, _ = self._saved_entries(i, param, theirs)
        moments = super()._checked_state(i, param, {**theirs, "GG": None, "Q": None})
        factors, bases = theirs["GG"], theirs["Q"]
        if (factors is None) != (bases is None):
            raise ValueError(f"{where}: 'GG' and 'Q' are created together by the first step; one is None")
        if factors is None:
            return moments
        for key, value in (("GG", factors), ("Q", bases)):
            if not isinstance(value, list) or len(value) != param.ndim:
                raise TypeError(f"{where}[{key!r}] must be a list of {param.ndim} matrices (or None), "
                                f"got {type(value).__name__}")
        checked = {"GG": [], "Q": []}
        for axis, (factor, basis) in enumerate(zip(factors, bases)):
            if (factor is None) != (basis is None):
                raise ValueError(f"{where}: 'GG'[{axis}] and 'Q'[{axis}] must both be None or both matrices")
            for key, value in (("GG", factor), ("Q", basis)):
                size = param.shape[axis]
                checked[key].append(None if value is None
                                    else checked_array(f"{where}[{key!r}][{axis}]", value, (size, size), param.dtype))
        return {**moments, **checked}
