r"""Synthetic data sets as finite-sum problems, and a seeded mini-batch iterator.

Training a network minimises an *average over examples*,

.. math::  f(w) = \frac1n \sum_{i=1}^n f_i(w),

and stochastic optimizers see only a few of the :math:`f_i` at a time. This module gives the book
small problems of exactly that form, with everything a chapter needs to check a claim: the full
loss and gradient, the gradient of one sample or of a mini-batch, the exact minimiser, and the
curvature.

* :class:`LeastSquares` (made by :func:`make_regression`): linear regression with the half mean
  squared error, :math:`f_i(w) = \tfrac12 (x_i^\top w - y_i)^2`. Convex, with a closed-form
  minimiser; in two dimensions it is also a :class:`~optlib.surfaces.Surface` to draw.
* :func:`minibatches`: the index arrays of one shuffled epoch (or several), seeded, the way
  ``torch.utils.data.DataLoader(shuffle=True)`` draws them.
* :func:`run_stochastic`: the finite-sum counterpart of :func:`optlib.trajectory.run`: any optlib
  optimizer, mini-batch gradients, a learning-rate schedule, many seeded copies at once, and the
  running (Polyak-Ruppert) average of the iterates.

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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

from .surfaces import Surface

__all__ = ["LeastSquares", "make_regression", "minibatches", "StochasticRun", "run_stochastic"]


# --- argument checks: each names the argument it refuses ------------------------------------------

def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"Invalid {name}: {value} ({name} must be >= {minimum})")
    return int(value)


def _non_negative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"Invalid {name}: {value} ({name} must be a finite number >= 0)")
    return float(value)


def _generator(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}: {rng!r}")
    return rng


def _indices(idx, n: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"idx must hold integer sample indices, got dtype {idx.dtype}")
    if idx.ndim == 0 or idx.shape[-1] == 0:
        raise ValueError(f"idx must hold at least one sample index along its last axis, got shape {idx.shape}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"idx must lie in [0, {n}), got values from {idx.min()} to {idx.max()}")
    return idx


# --- linear least squares ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LeastSquares:
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
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    @property
    def param_shape(self) -> tuple[int]:
        return (self.dim,)

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
        B = _positive_int("batch_size", batch_size)
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
    n = _positive_int("n", n)
    d = _positive_int("d", d)
    noise = _non_negative("noise", noise)
    rng = _generator(rng)
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

def minibatches(n_samples: int, batch_size: int, rng: np.random.Generator, drop_last: bool = False,
                epochs: int | None = 1) -> Iterator[np.ndarray]:
    """Yield the sample indices of each mini-batch, epoch after epoch, each epoch freshly shuffled.

    Like ``torch.utils.data.DataLoader(dataset, batch_size, shuffle=True, drop_last=...)``: every epoch
    is a random permutation of ``range(n_samples)`` cut into consecutive batches of ``batch_size``, so
    each sample is used exactly once per epoch (sampling *without* replacement). The last batch of an
    epoch is shorter when ``batch_size`` does not divide ``n_samples``, unless ``drop_last=True`` drops it.

    Args:
        n_samples: size of the data set.
        batch_size: samples per batch (``>= 1``; larger than ``n_samples`` gives one batch of all;
            refused with ``drop_last=True``, which would yield nothing).
        rng: a ``numpy.random.Generator``; the same seed gives the same batches.
        drop_last: drop each epoch's incomplete last batch.
        epochs: how many epochs to go through (``None``: forever).

    Raises ValueError for a bad value (naming the argument), TypeError for a wrong type.

    >>> [b.tolist() for b in minibatches(5, 2, np.random.default_rng(0))]
    [[2, 4], [3, 0], [1]]
    """
    n_samples = _positive_int("n_samples", n_samples)
    batch_size = _positive_int("batch_size", batch_size)
    if not isinstance(drop_last, (bool, np.bool_)):
        raise TypeError(f"drop_last must be True or False, got {type(drop_last).__name__}: {drop_last!r}")
    if epochs is not None:
        epochs = _positive_int("epochs", epochs, minimum=0)
    rng = _generator(rng)
    if drop_last and batch_size > n_samples:
        raise ValueError(f"Invalid batch_size: {batch_size} (with drop_last=True, batch_size must be <= "
                         f"n_samples = {n_samples}, or no batch would ever be yielded)")
    return _minibatches(n_samples, batch_size, rng, bool(drop_last), epochs)


def _minibatches(n, batch_size, rng, drop_last, epochs):
    # A generator of its own, so that minibatches() checks its arguments when called, not when iterated.
    epoch = 0
    stop = n - batch_size + 1 if drop_last else n
    while epochs is None or epoch < epochs:
        order = rng.permutation(n)
        for start in range(0, stop, batch_size):
            yield order[start:start + batch_size]
        epoch += 1


# --- running an optimizer on mini-batches -----------------------------------------------------------

@dataclass(frozen=True)
class StochasticRun:
    r"""What :func:`run_stochastic` records, step ``t = 0 ... steps`` along the first axis.

    ``points`` ``(steps + 1, *batch, d)``: the iterates; ``losses``: the *full* loss at each iterate;
    ``averages`` and ``average_losses``: the running mean of the iterates
    :math:`\bar w_t = \frac1t \sum_{s=1}^t w_s` (with :math:`\bar w_0 = w_0`) and its loss;
    ``samples``: how many per-sample gradients were computed before step ``t`` (``t * batch_size``);
    ``diverged_at``: ``None`` / ``-1`` entries for runs that stayed finite, else the first step whose
    loss passed the threshold (later entries are NaN).
    """

    points: np.ndarray
    losses: np.ndarray
    averages: np.ndarray
    average_losses: np.ndarray
    samples: np.ndarray
    diverged_at: int | None | np.ndarray

    @property
    def diverged(self):
        if isinstance(self.diverged_at, np.ndarray):
            return self.diverged_at >= 0
        return self.diverged_at is not None


def _full_losses(problem, points: np.ndarray) -> np.ndarray:
    # The full loss at every recorded step: f* + (f - f*) in O(d^2) per point where the problem knows
    # its minimum (least squares), else in chunks of steps so that (points x samples) stays small.
    if hasattr(problem, "excess_loss"):
        return problem.min_value + problem.excess_loss(points)
    per_step = max(1, points[0].size * problem.n_samples)
    chunk = max(1, 4_000_000 // per_step)
    return np.concatenate([problem.loss(points[start:start + chunk]) for start in range(0, len(points), chunk)])


def run_stochastic(optimizer, problem, start, steps: int, batch_size: int = 1,
                   rng: np.random.Generator | None = None, *, sampling: str = "shuffle",
                   lr_schedule: Callable[[int], float] | None = None, divergence_threshold: float = 1e12,
                   **hyperparameters) -> StochasticRun:
    """Run ``optimizer`` on mini-batch gradients of ``problem`` for ``steps`` steps.

    Args:
        optimizer: an optimizer class such as :class:`optlib.SGD` (or a callable ``f(params, **hyper)``).
        problem: a finite-sum problem with ``n_samples``, ``batch_gradient(w, idx)`` and ``loss(w)``.
        start: the first iterate, shaped ``problem.param_shape``, or a batch of independent copies
            ``(k, *param_shape)`` (each with its own samples).
        steps: number of updates.
        batch_size: samples per gradient; ``batch_size = n_samples`` with ``sampling="shuffle"`` is
            full-batch gradient descent.
        rng: the ``numpy.random.Generator`` that draws the samples (required unless the run is full-batch).
        sampling: ``"shuffle"`` (every copy goes through its own shuffled epochs, without replacement;
            an incomplete last batch is dropped, as with ``drop_last=True``) or ``"replace"`` (every sample
            of every batch drawn uniformly and independently, the textbook model of SGD).
        lr_schedule: ``t -> lr``, called with the number of updates already taken (``t = 0, 1, ...``, the
            convention of :mod:`optlib.schedules`) and assigned to ``opt.lr`` before the update.
        divergence_threshold: a full loss above this (or non-finite) counts as divergence.
        **hyperparameters: passed to the optimizer, e.g. ``lr=0.1, momentum=0.9``.
    """
    steps = _positive_int("steps", steps, minimum=0)
    n = problem.n_samples
    B = _positive_int("batch_size", batch_size)
    if sampling not in ("shuffle", "replace"):
        raise ValueError(f"Invalid sampling: {sampling!r} (sampling must be 'shuffle' or 'replace')")
    if sampling == "shuffle" and B > n:
        raise ValueError(f"Invalid batch_size: {B} (with sampling='shuffle', batch_size must be <= n_samples = {n})")
    full_batch = sampling == "shuffle" and B == n
    if rng is None and not full_batch:
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed)), got None")
    if rng is not None:
        _generator(rng)
    if lr_schedule is not None and not callable(lr_schedule):
        raise TypeError(f"lr_schedule must be a function of the step t, got {type(lr_schedule).__name__}")

    w = np.array(start, dtype=float)
    shape = tuple(problem.param_shape)
    if w.shape not in (shape, w.shape[:1] + shape):
        raise ValueError(f"start must have shape {shape} or (k, *{shape}), got shape {w.shape}")
    batched = w.shape != shape
    copies = w.shape[0] if batched else 1
    gradient = getattr(problem, "_batch_gradient", problem.batch_gradient)
    opt = optimizer([w], **hyperparameters)
    points = np.full((steps + 1, *w.shape), np.nan)
    averages = np.full((steps + 1, *w.shape), np.nan)
    points[0] = averages[0] = w
    running = w.copy()
    batches_per_epoch = n // B
    everything = np.arange(n)
    order = None
    last = steps
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            if full_batch:
                idx = everything
            elif sampling == "replace":
                idx = rng.integers(n, size=(copies, B))
            else:
                k = (t - 1) % batches_per_epoch
                if k == 0:  # a new epoch: one fresh permutation per copy
                    order = rng.permuted(np.broadcast_to(everything, (copies, n)), axis=1)
                idx = order[:, k * B:(k + 1) * B]
            if not batched and idx.ndim == 2:
                idx = idx[0]
            if lr_schedule is not None:
                opt.lr = lr_schedule(t - 1)
            opt.step([gradient(w, idx)])
            points[t] = w
            # running mean of w_1 ... w_t
            if t == 1:
                running[...] = w
            else:
                running += (w - running) / t
            averages[t] = running
            if t % 25 == 0:  # every copy past the threshold: the rest of the run would be NaN
                now = problem.loss(w)
                if np.all(~np.isfinite(now) | (now > divergence_threshold)):
                    last = t
                    break

        losses = _full_losses(problem, points[:last + 1])
        average_losses = _full_losses(problem, averages[:last + 1])
    batch_shape = w.shape[:1] if batched else ()
    pad = np.full((steps - last, *batch_shape), np.nan)
    losses = np.concatenate([losses, pad])
    average_losses = np.concatenate([average_losses, pad])
    bad = ~np.isfinite(losses) | (losses > divergence_threshold)
    dead = np.logical_or.accumulate(bad, axis=0)
    diverged_at = np.where(dead.any(axis=0), dead.argmax(axis=0), -1)
    points[dead] = np.nan
    losses[dead] = np.nan
    averages[dead] = np.nan  # the average of a diverged run is not an answer either
    average_losses[dead] = np.nan
    samples = np.arange(steps + 1) * B
    if batch_shape == ():
        diverged_at = None if diverged_at < 0 else int(diverged_at)
    return StochasticRun(points, losses, averages, average_losses, samples, diverged_at)
