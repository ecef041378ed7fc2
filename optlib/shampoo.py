r"""Shampoo (Gupta, Koren & Singer, 2018): full-matrix AdaGrad, approximated by a Kronecker product.

Full-matrix AdaGrad preconditions the gradient :math:`g_t` of a :math:`d`-vector with
:math:`C_t^{-1/2}`, where :math:`C_t = \epsilon I + \sum_{s \le t} g_s g_s^\top`: a :math:`d \times d`
matrix, out of reach for a layer with :math:`d = mn` weights. Shampoo keeps one factor per side of an
:math:`m \times n` weight matrix, and its preconditioner is their Kronecker product:

.. math::

   L_t = L_{t-1} + G_t G_t^\top \ (m \times m), \qquad R_t = R_{t-1} + G_t^\top G_t \ (n \times n),
   \qquad (L_t^{1/2} \otimes R_t^{1/2})^{-1/2}\, \mathrm{vec}(G_t) = \mathrm{vec}(L_t^{-1/4} G_t R_t^{-1/4}).

Gupta et al. prove (their Lemma 8) that for gradients of rank at most :math:`r`,
:math:`\epsilon I + \frac1r \sum_s g_s g_s^\top \preceq L_t^{1/2} \otimes R_t^{1/2}`: the Kronecker
product dominates full-matrix AdaGrad's statistics, which is what their regret bound rests on.

The update for a gradient :math:`G_t` at :math:`\theta_{t-1}`, as pytorch-optimizer's ``Shampoo`` computes
it (:math:`\gamma` = ``lr``, :math:`\mu` = ``momentum``, :math:`\lambda` = ``weight_decay``, :math:`k` =
``preconditioning_compute_steps``):

.. math::

   G_t &\leftarrow -G_t                                               &&\text{if maximize} \\
   G_t &\leftarrow (1-\mu)\, G_t + \mu\, U_{t-1}                        &&\text{if } \mu > 0
                                                                        \ (U_0 = G_1) \\
   G_t &\leftarrow G_t + \lambda\,\theta_{t-1}                          &&\text{if } \lambda \ne 0 \text{ (L2)} \\
   \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1}            &&\text{instead, if weight_decouple}
                                                                        \ (1-\lambda \text{ if fixed_decay}) \\
   L_t &= L_{t-1} + G_t G_t^\top, \quad R_t = R_{t-1} + G_t^\top G_t      &&(L_0 = \epsilon I_m,\ R_0 = \epsilon I_n) \\
   \bar L_t, \bar R_t &= L_t^{-1/4}, R_t^{-1/4} \text{ if } k \mid t \text{, else } \bar L_{t-1}, \bar R_{t-1}
                                                                      &&(\bar L_0 = \bar R_0 = 0) \\
   U_t &= \bar L_t\, G_t\, \bar R_t \\
   \theta_t &= \theta_{t-1} - \gamma\, U_t

For a vector (a bias, a 2-D point) the same code has a single factor, :math:`C_t = C_{t-1} + g_t g_t^\top`
with :math:`C_0 = \epsilon I`, and the root is :math:`C_t^{-1/2}`: Shampoo on a vector **is** full-matrix
AdaGrad. The inverse roots come from a singular value decomposition, :math:`A = U S V^\top
\Rightarrow A^{-1/p} = U S^{-1/p} V^\top` (for these symmetric positive definite matrices the SVD is the
eigendecomposition), see :func:`inverse_root`.

**Which Shampoo.** This is Gupta et al.'s Algorithm 1 (matrices) and Algorithm 2 with :math:`k = 1, 2`
(vectors and matrices; the order-:math:`k` exponent is :math:`-1/(2k)`): factors started at
:math:`\epsilon I` and summed without decay, the inverse roots applied to the current gradient, no
grafting. The reference is **pytorch-optimizer 4.1.0**'s ``Shampoo``, chosen because it is exactly that
algorithm; heavyball 3.2.1 has no plain Shampoo (only KL-Shampoo and the PSGD family). Names and
defaults are pytorch-optimizer's: ``lr=1e-3, momentum=0, weight_decay=0, weight_decouple=False,
fixed_decay=False, preconditioning_compute_steps=1, matrix_eps=1e-6, maximize=False``; trajectories are
matched to 1e-10 in tests/reference/kronecker.npz.

How the library departs from the paper, and optlib with it:

* ``preconditioning_compute_steps`` :math:`k`: the statistics are summed at every step, the inverse roots
  recomputed only at steps divisible by :math:`k` (Anil et al.'s amortisation; the paper recomputes at
  every step). The stored roots start at **zero**, so the first :math:`k-1` steps do not move the
  parameters (except for decoupled weight decay).
* ``momentum`` is not heavy ball: the buffer holds the last *preconditioned* step :math:`U_{t-1}`, mixed
  into the raw gradient before the statistics (so the statistics see the mixture). The paper's algorithm
  has no momentum; ``momentum=0`` (the default) is the paper's.
* ``matrix_eps`` is used once, when the factors are created (optlib: at construction; the library: at
  the first step), as :math:`\epsilon I`; changing it later has no effect.
* Compared with Distributed Shampoo (Anil et al. 2020; Shi et al. 2023): no grafting of another
  optimizer's step size, no exponent override (:math:`-1/4` per factor, not :math:`-1/2`), no decay of
  the statistics, no blocking of large layers, SVD instead of coupled Newton iterations for the root,
  :math:`\epsilon` added to the statistics once rather than to the matrix at each root.

optlib's own choices: parameters are vectors or matrices (the library's order-:math:`k` tensors and its
plain SGD step for 0-d scalars are not offered: a ``ValueError`` names the parameter); and a non-finite
gradient makes the step NaN silently, as in every optimizer of optlib (torch's SVD raises on a NaN
matrix, so the library stops with an error instead). With ``maximize=True`` and ``momentum > 0`` the
library seeds the buffer with the gradient before it negates it; optlib seeds it with the negated one.

Shampoo is not element-wise (``elementwise = False``): runs stacked into one array would share
statistics.

References: V. Gupta, T. Koren, Y. Singer, "Shampoo: Preconditioned Stochastic Tensor Optimization"
(ICML 2018), https://arxiv.org/abs/1802.09568; R. Anil et al., "Scalable Second Order Optimization for
Deep Learning" (2020), https://arxiv.org/abs/2002.09018.
"""

from __future__ import annotations

import numpy as np

from .averages import lerp
from .optimizer import Hyperparameter, Optimizer
from .validation import boolean, in_half_open_unit_interval, non_negative, positive_int

__all__ = ["Shampoo", "inverse_root", "check_vector_or_matrix"]


def inverse_root(matrix: np.ndarray, p: float) -> np.ndarray:
    r""":math:`A^{-1/p}` of a symmetric positive (semi-)definite matrix, from its SVD, as the reference
    computes it: :math:`A = U S V^\top \Rightarrow A^{-1/p} = U S^{-1/p} V^\top`.

    A zero singular value gives infinities (the caller keeps :math:`\epsilon > 0`); a matrix with a
    non-finite entry gives NaN (torch's SVD would raise).

    >>> inverse_root(np.diag([16.0, 1.0]), 4)
    array([[0.5, 0. ],
           [0. , 1. ]])
    """
    if not np.all(np.isfinite(matrix)):
        return np.full_like(matrix, np.nan)
    U, s, Vt = np.linalg.svd(matrix, full_matrices=False)
    return (U * s ** (-1.0 / p)) @ Vt


def check_vector_or_matrix(params, name: str) -> None:
    """Refuse every parameter that is not a non-empty vector or matrix, naming it."""
    for i, p in enumerate(params):
        if p.ndim not in (1, 2):
            raise ValueError(f"params[{i}] has shape {p.shape}: {name} takes vectors and matrices "
                             "(1-D and 2-D arrays) only")
        if p.size == 0:
            raise ValueError(f"params[{i}] has shape {p.shape}: {name} needs at least one entry per dimension")


class Shampoo(Optimizer):
    """Kronecker-factored full-matrix AdaGrad: ``L^(-1/4) G R^(-1/4)`` for a matrix, ``C^(-1/2) g`` for a vector.

    >>> import numpy as np
    >>> W = np.zeros((2, 2))
    >>> opt = Shampoo([W], lr=1.0, matrix_eps=0.0)
    >>> opt.step([np.array([[4.0, 0.0], [0.0, 0.01]])])   # gradients 400x apart ...
    >>> np.round(np.diag(W), 6)                             # ... the first step is U V^T, as Muon's
    array([-1., -1.])
    """

    lr = Hyperparameter(non_negative, "learning rate")
    momentum = Hyperparameter(in_half_open_unit_interval, "momentum value")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    weight_decouple = Hyperparameter(boolean, "weight_decouple")
    fixed_decay = Hyperparameter(boolean, "fixed_decay")
    preconditioning_compute_steps = Hyperparameter(positive_int)
    matrix_eps = Hyperparameter(non_negative, "matrix_eps value")
    maximize = Hyperparameter(boolean, "maximize")

    # The factors mix the entries of a matrix: runs stacked into one array would interact.
    elementwise = False

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, weight_decouple=False, fixed_decay=False,
                 preconditioning_compute_steps=1, matrix_eps=1e-6, *, maximize=False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         weight_decouple=weight_decouple, fixed_decay=fixed_decay,
                         preconditioning_compute_steps=preconditioning_compute_steps, matrix_eps=matrix_eps,
                         maximize=maximize)
        check_vector_or_matrix(self.params, type(self).__name__)

    def _init_state(self, param):
        state = {"momentum_buffer": None}       # U, the last step (created by the first step)
        for i, size in enumerate(param.shape):  # the factors L, R (a vector: C) and their inverse roots
            state[f"pre_cond_{i}"] = self.matrix_eps * np.eye(size, dtype=param.dtype)
            state[f"inv_pre_cond_{i}"] = np.zeros((size, size), dtype=param.dtype)
        return state

    def _update(self, param, grad, state):
        # G_t <- -G_t (maximize)
        g = -grad if self.maximize else grad
        if self.momentum > 0:
            if state["momentum_buffer"] is None:
                state["momentum_buffer"] = g.copy()
            # G_t <- (1 - mu) G_t + mu U_{t-1}
            g = lerp(g, state["momentum_buffer"], self.momentum)
        if self.weight_decouple and self.weight_decay != 0:
            # theta_{t-1} <- (1 - lr lambda) theta_{t-1}   (1 - lambda with fixed_decay)
            param *= 1.0 - self.weight_decay * (1.0 if self.fixed_decay else self.lr)
        elif self.weight_decay != 0:
            # G_t <- G_t + lambda theta_{t-1}
            g = g + self.weight_decay * param
        recompute = self.step_count % self.preconditioning_compute_steps == 0
        if param.ndim == 1:
            # C_t = C_{t-1} + g_t g_t^T
            state["pre_cond_0"] += np.outer(g, g)
            if recompute:
                # C_t^{-1/2}
                state["inv_pre_cond_0"] = inverse_root(state["pre_cond_0"], 2)
            # U_t = C_t^{-1/2} g_t
            update = g @ state["inv_pre_cond_0"]
        else:
            # L_t = L_{t-1} + G_t G_t^T
            state["pre_cond_0"] += g @ g.T
            # R_t = R_{t-1} + G_t^T G_t
            state["pre_cond_1"] += g.T @ g
            if recompute:
                # L_t^{-1/4}, R_t^{-1/4}
                state["inv_pre_cond_0"] = inverse_root(state["pre_cond_0"], 4)
                state["inv_pre_cond_1"] = inverse_root(state["pre_cond_1"], 4)
            # U_t = L_t^{-1/4} G_t R_t^{-1/4}
            update = state["inv_pre_cond_0"] @ g @ state["inv_pre_cond_1"]
        state["momentum_buffer"] = update
        # theta_t = theta_{t-1} - lr U_t
        param -= self.lr * update
