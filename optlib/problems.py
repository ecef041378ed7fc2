r"""Finite-sum problems (synthetic data sets) and a seeded mini-batch iterator.

Training a network minimises an *average over examples*,

.. math::  f(w) = \frac1n \sum_{i=1}^n f_i(w),

and stochastic optimizers see only a few of the :math:`f_i` at a time. This module gives the book
small problems of exactly that form, with everything a chapter needs to check a claim: the full
loss and gradient, the gradient of one sample or of a mini-batch, the exact minimiser, and the
curvature.

* :class:`LeastSquares` (made by :func:`make_regression`): linear regression with the half mean
  squared error, :math:`f_i(w) = \tfrac12 (x_i^\top w - y_i)^2`. Convex, with a closed-form
  minimiser; in two dimensions it is also a :class:`~optlib.surfaces.Surface` to draw.
* :func:`minibatches`: optlib's one sampler of mini-batch indices, seeded: shuffled epochs (the way
  ``torch.utils.data.DataLoader(shuffle=True)`` draws them), or independent draws with or without
  replacement, for one model or for ``k`` copies.
* :class:`BagOfWords` (made by :func:`bag_of_words`): logistic regression on sparse word counts
  with Zipf-distributed word frequencies, where per-coordinate step sizes pay off (chapter 7).

Both problems share one interface, :class:`FiniteSum` (the number of samples, the shape of the
parameters, the loss on an index set and the mini-batch gradient), so that one runner,
:func:`optlib.trajectory.run_stochastic`, runs any optimizer on either.

Every gradient method is vectorised: a parameter of shape ``(d,)`` or a batch of parameter copies
``(k, d)`` (say, one per seed) goes through one NumPy call, and each copy may use its own sample
indices (``idx`` of shape ``(k, B)``). Nothing here draws random numbers without an explicit
``numpy.random.Generator``, so every figure is reproducible::

    rng = np.random.default_rng(0)
    problem = make_regression(n=200, d=2, noise=0.5, rng=rng)
    w = np.zeros(2)
    for idx in minibatches(problem.n_samples, batch_size=10, rng=rng):
        w -= 0.1 * problem.batch_gradient(w, idx)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

from .surfaces import Surface
from .validation import boolean, finite_non_negative, generator, non_negative_int, one_of, positive_int, sample_indices

__all__ = ["FiniteSum", "LeastSquares", "make_regression", "minibatches", "BagOfWords", "bag_of_words", "DATA_SETS",
           "regression_problem", "regression_surface", "noise_ball"]


@runtime_checkable
class FiniteSum(Protocol):
    r"""The interface of every finite-sum problem :math:`f(w) = \frac1n \sum_{i=1}^n f_i(w)` in optlib.

    What :func:`optlib.trajectory.run_stochastic` needs, and all it uses:

    * ``n_samples``: :math:`n`;
    * ``param_shape``: the shape of one parameter :math:`w` (``(d,)`` for the linear models here);
    * ``loss(w, idx=None)``: :math:`\frac1{|I|}\sum_{i \in I} f_i(w)` over the sample indices ``idx``
      (all samples by default), shape ``w.shape[:-len(param_shape)]``;
    * ``batch_gradient(w, idx)``: :math:`\frac1{|I|}\sum_{i \in I} \nabla f_i(w)`, shaped like ``w``;
    * ``gradient(w)``: the full gradient :math:`\nabla f(w)`, shaped like ``w``.

    ``w`` may be a stack of copies ``(k, *param_shape)``; ``idx`` then has shape ``(B,)`` (the same
    samples for every copy) or ``(k, B)`` (one set per copy). A problem that knows its minimum may add
    ``min_value`` and ``excess_loss(w)`` (:math:`f(w) - f^\star`), which the runner then uses to record
    losses without cancellation.
    """

    @property
    def n_samples(self) -> int: ...

    @property
    def param_shape(self) -> tuple[int, ...]: ...

    def loss(self, w, idx=None) -> np.ndarray: ...

    def batch_gradient(self, w, idx) -> np.ndarray: ...

    def gradient(self, w) -> np.ndarray: ...


def _indices(idx, n: int) -> np.ndarray:
    return sample_indices("idx", idx, n)


def _rows_times(Xb: np.ndarray, w: np.ndarray) -> np.ndarray:
    # x_b . w for the rows Xb (..., B, d) and one w (d,) or one w per copy (..., d): shape (..., B)
    return Xb @ w if w.ndim == 1 else np.matmul(Xb, w[..., None])[..., 0]


def _mean_of_rows(r: np.ndarray, Xb: np.ndarray, w_shape: tuple) -> np.ndarray:
    # (1/B) sum_b r_b x_b, as a (1, B) @ (B, d) product per copy, shaped like w
    g = np.matmul(r[..., None, :], Xb)[..., 0, :]
    g /= r.shape[-1]
    if g.shape != w_shape:  # one set of indices for several copies of w, or the other way round
        g = np.broadcast_to(g, np.broadcast_shapes(g.shape, w_shape)).copy()
    return g


# --- linear least squares ---------------------------------------------------------------------------

class _RowsOfX:
    """A problem whose samples are the rows of its design matrix ``X`` (shape ``(n_samples, dim)``)."""

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    @property
    def param_shape(self) -> tuple[int]:
        return (self.dim,)


@dataclass(frozen=True, eq=False)
class LeastSquares(_RowsOfX):
    r"""Linear regression, :math:`f(w) = \frac1n\sum_i \tfrac12 (x_i^\top w - y_i)^2`.

    The gradient of one sample is :math:`\nabla f_i(w) = x_i (x_i^\top w - y_i)`; the full gradient
    is their mean, :math:`\frac1n X^\top (Xw - y)`; the Hessian is the constant :math:`H = X^\top X / n`.

    Parameters ``w`` may be one vector ``(d,)`` or a batch of copies ``(..., d)``; results keep the
    batch shape in front. Sample indices ``idx`` have shape ``(B,)`` (the same samples for every
    copy) or ``(..., B)`` (one set per copy).
    """

    X: np.ndarray  # (n, d) features
    y: np.ndarray  # (n,) targets
    minimizer: np.ndarray = field(init=False, repr=False)
    min_value: float = field(init=False, repr=False)
    hessian: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        X = np.asarray(self.X, dtype=float)
        y = np.asarray(self.y, dtype=float)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must be a non-empty (n, d) matrix, got shape {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("X and y must be finite")
        X.setflags(write=False)
        y.setflags(write=False)
        w_star = np.linalg.lstsq(X, y, rcond=None)[0]
        w_star.setflags(write=False)
        hessian = X.T @ X / X.shape[0]
        hessian.setflags(write=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "minimizer", w_star)
        object.__setattr__(self, "hessian", hessian)
        object.__setattr__(self, "min_value", float(self.loss(w_star)))

    @property
    def smoothness(self) -> float:
        """:math:`L`, the largest eigenvalue of the Hessian: GD converges iff lr < 2/L."""
        return float(np.linalg.eigvalsh(self.hessian)[-1])

    @property
    def strong_convexity(self) -> float:
        r""":math:`\mu`, the smallest eigenvalue of the Hessian (0 when the features are degenerate)."""
        return float(max(np.linalg.eigvalsh(self.hessian)[0], 0.0))

    def _check_w(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=float)
        if w.shape[-1:] != (self.dim,):
            raise ValueError(f"w must have a last axis of length {self.dim}, got shape {w.shape}")
        return w

    def residuals(self, w, idx=None) -> np.ndarray:
        r""":math:`x_i^\top w - y_i` for the samples ``idx`` (all by default): shape ``(..., B)``."""
        w = self._check_w(w)
        if idx is None:
            return w @ self.X.T - self.y
        idx = _indices(idx, self.n_samples)
        Xb = self.X[idx]  # (..., B, d)
        if w.ndim == 1:
            return Xb @ w - self.y[idx]
        return np.matmul(Xb, w[..., None])[..., 0] - self.y[idx]

    def loss(self, w, idx=None) -> np.ndarray:
        r"""The mean of :math:`\tfrac12 r_i^2` over ``idx`` (all samples by default): shape ``w.shape[:-1]``."""
        r = self.residuals(w, idx)
        return 0.5 * np.mean(r * r, axis=-1)

    def gradient(self, w) -> np.ndarray:
        r"""The full gradient :math:`\frac1n X^\top (Xw - y)`, shaped like ``w``."""
        w = self._check_w(w)
        return (w @ self.X.T - self.y) @ self.X / self.n_samples

    def sample_gradients(self, w, idx=None) -> np.ndarray:
        r"""Per-sample gradients :math:`x_i (x_i^\top w - y_i)`: shape ``(..., B, d)`` (``B = n`` by default)."""
        r = self.residuals(w, idx)
        Xb = self.X if idx is None else self.X[np.asarray(idx)]
        return r[..., None] * Xb

    def batch_gradient(self, w, idx) -> np.ndarray:
        r"""The mini-batch gradient :math:`\frac1B \sum_{i \in \text{idx}} x_i (x_i^\top w - y_i)`, shaped like
        ``w`` (with ``idx`` of shape ``(..., B)``, each copy of ``w`` averages over its own samples)."""
        return self._batch_gradient(self._check_w(w), _indices(idx, self.n_samples))

    def _batch_gradient(self, w, idx):
        # The unchecked fast path (run_stochastic's indices are valid by construction).
        Xb = self.X[idx]  # (..., B, d)
        # r_b = x_b . w - y_b
        r = (Xb @ w if w.ndim == 1 else np.matmul(Xb, w[..., None])[..., 0]) - self.y[idx]
        # g = (1/B) sum_b r_b x_b, as a (1, B) @ (B, d) product per copy
        g = np.matmul(r[..., None, :], Xb)[..., 0, :]
        g /= r.shape[-1]
        if g.shape != w.shape:  # one set of indices for several copies of w, or the other way round
            g = np.broadcast_to(g, np.broadcast_shapes(g.shape, w.shape)).copy()
        return g

    def excess_loss(self, w) -> np.ndarray:
        r""":math:`f(w) - f^\star = \tfrac12 (w - w^\star)^\top H (w - w^\star)`, exact for least squares, and
        accurate where :math:`f(w) - f^\star` would lose digits to cancellation; ``O(d^2)`` per point."""
        e = self._check_w(w) - self.minimizer
        return 0.5 * np.einsum("...i,ij,...j->...", e, self.hessian, e)

    def gradient_variance(self, w, batch_size: int = 1, replace: bool = True) -> float:
        r"""The exact :math:`\mathbb E\lVert g_B - \nabla f(w)\rVert^2` of a mini-batch gradient at ``w``.

        With ``sigma2`` the mean squared deviation of the per-sample gradients, a batch of ``B`` samples
        drawn with replacement has variance ``sigma2 / B``; drawn without replacement (one batch of a
        shuffled epoch), ``sigma2 / B * (n - B) / (n - 1)`` (the finite-population correction).
        """
        B = positive_int("batch_size", batch_size)
        n = self.n_samples
        if not replace and B > n:
            raise ValueError(f"Invalid batch_size: {B} (without replacement, batch_size must be <= n = {n})")
        w = self._check_w(w)
        if w.ndim != 1:
            raise ValueError(f"w must be one parameter vector of shape ({self.dim},), got shape {w.shape}")
        deviations = self.sample_gradients(w) - self.gradient(w)
        sigma2 = float(np.mean(np.sum(deviations**2, axis=-1)))
        return sigma2 / B if replace else sigma2 / B * (n - B) / (n - 1)

    def surface(self, margin: float = 1.0, start=None) -> Surface:
        """The full loss as a 2-D :class:`~optlib.surfaces.Surface` (for ``d = 2``), to plot and run on."""
        if self.dim != 2:
            raise ValueError(f"only a 2-D problem is a surface, this one has d = {self.dim}")
        w_star = self.minimizer
        # A window that shows the minimiser and the default start (the origin), with a margin.
        start = np.zeros(2) if start is None else np.asarray(start, dtype=float)
        lo = np.minimum(w_star, start) - margin
        hi = np.maximum(w_star, start) + margin
        return Surface(
            name=f"least squares (n={self.n_samples})", value=self.loss, gradient=self.gradient,
            minima=w_star[None, :].copy(), min_value=self.min_value,
            bounds=((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))),
            start=(float(start[0]), float(start[1])), hessian=np.array(self.hessian),
        )


def make_regression(n: int, d: int, noise: float, rng: np.random.Generator, scales=None) -> LeastSquares:
    r"""A linear-regression problem: :math:`y = X w_{\text{true}} + \text{noise}\cdot\varepsilon`.

    Args:
        n: number of samples.
        d: number of features.
        noise: standard deviation of the Gaussian label noise. With ``noise = 0`` (and ``n >= d``) the
            data are fitted exactly, so every per-sample gradient vanishes at the minimiser.
        rng: the ``numpy.random.Generator`` that draws everything.
        scales: optional per-feature standard deviations, length ``d`` (default all ones); unequal
            scales make the problem ill-conditioned (the Hessian's eigenvalues are about ``scales**2``).

    Features are standard normal times ``scales``; ``w_true`` is standard normal.
    """
    n = positive_int("n", n)
    d = positive_int("d", d)
    noise = finite_non_negative("noise", noise)
    rng = generator("rng", rng)
    if scales is None:
        scales = np.ones(d)
    scales = np.asarray(scales, dtype=float)
    if scales.shape != (d,) or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(f"Invalid scales: {scales!r} (scales must be {d} positive numbers)")
    X = rng.standard_normal((n, d)) * scales
    w_true = rng.standard_normal(d)
    y = X @ w_true + noise * rng.standard_normal(n)
    return LeastSquares(X, y)


# --- mini-batches -------------------------------------------------------------------------------------

def minibatches(n_samples: int, batch_size: int, rng: np.random.Generator | None, drop_last: bool = False,
                epochs: int | None = 1, *, sampling: str = "shuffle",
                copies: int | None = None) -> Iterator[np.ndarray]:
    """Yield the sample indices of each mini-batch: optlib's one sampler (:func:`optlib.models.train` and
    :func:`optlib.trajectory.run_stochastic` draw from it).

    ``sampling`` says how a batch is drawn:

    * ``"shuffle"`` (default), like ``torch.utils.data.DataLoader(dataset, batch_size, shuffle=True,
      drop_last=...)``: every epoch is a fresh random permutation of ``range(n_samples)`` cut into
      consecutive batches, so each sample is used exactly once per epoch (*without* replacement). The last
      batch of an epoch is shorter when ``batch_size`` does not divide ``n_samples``, unless ``drop_last``;
    * ``"replace"``: every index of every batch drawn uniformly and independently (the textbook model of SGD);
    * ``"subset"``: every batch a fresh set of ``batch_size`` distinct samples
      (``rng.choice(n_samples, batch_size, replace=False)``), independent of the other batches.

    Args:
        n_samples: size of the data set.
        batch_size: samples per batch (``>= 1``). A batch of every sample (``"shuffle"`` with
            ``batch_size >= n_samples``) is ``arange(n_samples)``, in order, shared by all copies: shuffling
            it would change only the rounding of its mean, and it draws no random numbers (``rng`` may be
            None). ``drop_last`` or ``"subset"`` refuse ``batch_size > n_samples``.
        rng: a ``numpy.random.Generator``; the same seed gives the same batches.
        drop_last: drop each epoch's incomplete last batch.
        epochs: how many epochs to go through (``None``: forever); an epoch is ``ceil(n_samples /
            batch_size)`` batches (``floor`` with ``drop_last``), whatever the sampling.
        sampling: ``"shuffle"``, ``"replace"`` or ``"subset"`` (above).
        copies: ``None`` for batches of shape ``(batch_size,)``; ``k`` for ``(k, batch_size)``, each of ``k``
            copies of a model with samples of its own.

    Raises ValueError for a bad value (naming the argument), TypeError for a wrong type.

    >>> [b.tolist() for b in minibatches(5, 2, np.random.default_rng(0))]
    [[2, 4], [3, 0], [1]]
    """
    n_samples = positive_int("n_samples", n_samples)
    batch_size = positive_int("batch_size", batch_size)
    drop_last = boolean("drop_last", drop_last)
    if epochs is not None:
        epochs = non_negative_int("epochs", epochs)
    sampling = one_of("sampling", sampling, ("shuffle", "replace", "subset"))
    if copies is not None:
        copies = positive_int("copies", copies)
    if batch_size > n_samples and (drop_last or sampling == "subset"):
        why = "drop_last=True" if drop_last else "sampling='subset'"
        raise ValueError(f"Invalid batch_size: {batch_size} (with {why}, batch_size must be <= n_samples = "
                         f"{n_samples})")
    full = sampling == "shuffle" and batch_size >= n_samples
    if not (full and rng is None):
        rng = generator("rng", rng)
    return _minibatches(n_samples, batch_size, rng, drop_last, epochs, sampling, copies, full)


def _minibatches(n, batch_size, rng, drop_last, epochs, sampling, copies, full):
    # A generator of its own, so that minibatches() checks its arguments when called, not when iterated.
    stop = n - batch_size + 1 if drop_last else n
    starts = range(0, stop, batch_size)       # one batch per start: an epoch
    rows = 1 if copies is None else copies
    everything = np.arange(n)
    epoch = 0
    while epochs is None or epoch < epochs:
        if full:
            for _ in starts:
                yield everything
        elif sampling == "shuffle":
            # one fresh permutation per copy
            order = rng.permuted(np.broadcast_to(everything, (rows, n)), axis=1)
            for start in starts:
                batch = order[:, start:start + batch_size]
                yield batch if copies is not None else batch[0]
        else:
            for _ in starts:
                if sampling == "replace":
                    batch = rng.integers(n, size=(rows, batch_size))
                else:
                    batch = np.stack([rng.choice(n, size=batch_size, replace=False) for _ in range(rows)])
                yield batch if copies is not None else batch[0]
        epoch += 1


# --- a sparse bag-of-words task ------------------------------------------------------------------
#
# A synthetic bag-of-words task with sparse features, where per-coordinate step sizes pay off.
#
# Documents are short bags of words drawn from a vocabulary whose word frequencies follow Zipf's law
# (the :math:`k`-th most frequent word appears with probability :math:`\propto k^{-s}`), as in real text:
# a few words are in almost every document, most words are rare. Each document :math:`i` is a count
# vector :math:`x_i \in \mathbb{N}^d` (how often each word occurs) and carries a label
# :math:`y_i \in \{0, 1\}` drawn from a logistic model with true weights :math:`w^\star` of the same
# size for frequent and rare words, so that rare words matter for the loss.
#
# The loss is the mean logistic loss (binary cross-entropy) of a linear model :math:`z = x^\top w`:
#
# .. math::
#
#    \ell(w) = \frac1n \sum_{i=1}^n \big[\log(1 + e^{z_i}) - y_i z_i\big], \qquad
#    \nabla \ell(w) = \frac1n \sum_{i=1}^n \big(\sigma(z_i) - y_i\big)\, x_i .
#
# A word's coordinate of the gradient is non-zero only on documents that contain it, so rare words
# get rare, small gradients: one step size for all coordinates is too small for them or too large
# for the frequent ones. Every function accepts a batch of weight vectors ``w`` of shape ``(..., d)``
# (one row per optimizer setting), so sweeps run vectorised::
#
#     task = bag_of_words(seed=0)
#     w = np.zeros(task.dim)
#     g = task.batch_gradient(w, np.arange(32))   # a mini-batch gradient
#     task.loss(w)                                # log 2 at w = 0


def _log1p_exp(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` without overflow."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True, eq=False)
class BagOfWords(_RowsOfX):
    """Documents ``X`` (``(n, d)`` word counts), labels ``y`` (``(n,)``, 0 or 1) and the task's truth.

    ``frequency[j]`` is the fraction of documents that contain word ``j`` (words are sorted from the
    most to the least frequent); ``w_true`` are the weights the labels were drawn from. A
    :class:`FiniteSum`, like :class:`LeastSquares`: ``w`` may be one vector ``(d,)`` or copies
    ``(..., d)``, and ``idx`` ``(B,)`` or one set per copy ``(..., B)``.
    """

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray
    frequency: np.ndarray

    def _logits(self, w, idx):
        # z_i = x_i . w on the documents idx (all by default), and their labels
        w = np.asarray(w, dtype=float)
        if w.shape[-1:] != (self.dim,):
            raise ValueError(f"w must have a last axis of length {self.dim}, got shape {w.shape}")
        if idx is None:
            return w, w @ self.X.T, self.X, self.y
        idx = _indices(idx, self.n_samples)
        Xb = self.X[idx]  # (..., B, d)
        return w, _rows_times(Xb, w), Xb, self.y[idx]

    def loss(self, w, idx=None) -> np.ndarray:
        """Mean logistic loss over the documents ``idx`` (all by default): shape ``w.shape[:-1]``."""
        _, z, _, y = self._logits(w, idx)
        return np.mean(_log1p_exp(z) - y * z, axis=-1)

    def gradient(self, w) -> np.ndarray:
        r"""The full gradient :math:`\frac1n \sum_i (\sigma(z_i) - y_i)\, x_i`, shaped like ``w``."""
        w, z, X, y = self._logits(w, None)
        return (_sigmoid(z) - y) @ X / X.shape[0]

    def batch_gradient(self, w, idx) -> np.ndarray:
        r"""The mini-batch gradient :math:`\frac1B \sum_{i \in \text{idx}} (\sigma(z_i) - y_i)\, x_i`, shaped
        like ``w`` (with ``idx`` of shape ``(..., B)``, each copy of ``w`` averages over its own samples)."""
        w, z, Xb, y = self._logits(w, idx)
        return _mean_of_rows(_sigmoid(z) - y, Xb, w.shape)


def bag_of_words(n_docs: int = 3000, vocabulary: int = 300, words_per_doc: int = 10,
                 zipf_exponent: float = 1.1, weight_scale: float = 1.0, seed: int = 0) -> BagOfWords:
    """A seeded bag-of-words classification task (see the module docstring).

    Args:
        n_docs: number of documents ``n``.
        vocabulary: number of distinct words ``d``.
        words_per_doc: words drawn (with replacement) per document.
        zipf_exponent: ``s`` in the word probabilities ``p_k`` proportional to ``k**-s``.
        weight_scale: standard deviation of the true weights, which are Gaussian for every word.
        seed: seeds ``np.random.default_rng``; the same seed gives the same task.
    """
    n_docs = positive_int("n_docs", n_docs)
    vocabulary = positive_int("vocabulary", vocabulary)
    words_per_doc = positive_int("words_per_doc", words_per_doc)
    zipf_exponent = finite_non_negative("zipf_exponent", zipf_exponent)
    weight_scale = finite_non_negative("weight_scale", weight_scale)
    seed = non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    p = np.arange(1, vocabulary + 1, dtype=float) ** -float(zipf_exponent)
    p /= p.sum()
    words = rng.choice(vocabulary, size=(n_docs, words_per_doc), p=p)
    X = np.zeros((n_docs, vocabulary))
    np.add.at(X, (np.repeat(np.arange(n_docs), words_per_doc), words.ravel()), 1.0)
    w_true = weight_scale * rng.standard_normal(vocabulary)
    y = (rng.random(n_docs) < _sigmoid(X @ w_true)).astype(float)
    frequency = np.mean(X > 0, axis=0)
    return BagOfWords(X=X, y=y, w_true=w_true, frequency=frequency)


# --- the two-feature least-squares problems of chapters 3 and 4 (and their explorers) ----------

#: Feature scales of the explorers' data sets: round level sets, or elongated ones (condition ~ 8).
DATA_SETS = {"round": (1.0, 1.0), "elongated": (1.0, 0.35)}
N_SAMPLES = 200


@lru_cache(maxsize=16)
def regression_problem(data: str = "round", noise: float = 1.0, n: int = N_SAMPLES) -> LeastSquares:
    """The explorers' least-squares problem (seeded, cached): ``n`` samples, two features."""
    n = positive_int("n", n)
    if data not in DATA_SETS:
        raise ValueError(f"Unknown data set {data!r}; choose one of {sorted(DATA_SETS)}")
    return make_regression(n, 2, float(noise), np.random.default_rng(0), scales=DATA_SETS[data])


@lru_cache(maxsize=16)
def regression_surface(data: str = "round", noise: float = 1.0, n: int = N_SAMPLES):
    """The full loss of :func:`regression_problem` as a :class:`~optlib.surfaces.Surface` (cached)."""
    n = positive_int("n", n)
    return regression_problem(data, noise, n).surface(margin=1.5, start=(-2.0, 2.0))


def noise_ball(problem: LeastSquares, lr: float, batch_size: int = 1) -> float:
    """First-order prediction of constant-step SGD's stationary excess loss, ``lr * tr(S) / (4 * batch_size)``.

    First order in ``lr``: it holds for ``lr`` well below the mean-square stability limit of the
    sampled iteration (see :func:`optlib.explorers.ch03_sgd.measured_plateau`).
    """
    batch_size = positive_int("batch_size", batch_size)
    return lr * problem.gradient_variance(problem.minimizer, batch_size) / 4
