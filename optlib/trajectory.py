"""Run an optimizer on a surface and record where it goes.

``run`` is the experiment behind most figures of the book::

    path = run(SGD, quadratic(10), start=(-3, 2.5), steps=50, lr=0.1)
    path.points   # (51, 2): theta_0 ... theta_50
    path.losses   # (51,)
    path.diverged_at   # None, or the first step whose loss left the finite world

A batch of starts, shape ``(n, 2)``, runs as one vectorised optimizer over an ``(n, 2)`` array, which
is exactly the same arithmetic as ``n`` separate runs (every optimizer in optlib acts elementwise).

Divergence is reported, never printed: once a run's loss is non-finite or exceeds
``divergence_threshold``, that run is marked as diverged at that step, its later points and
losses are NaN, and the loop stops when every run has diverged. No overflow warning is emitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .optimizer import Optimizer
from .surfaces import Surface
from .validation import generator, positive_int

__all__ = ["Trajectory", "run", "StochasticRun", "run_stochastic"]


@dataclass(frozen=True)
class Trajectory:
    """Points ``(steps + 1, ..., 2)``, losses ``(steps + 1, ...)`` and where each run diverged.

    ``diverged_at`` is ``None`` (or ``-1`` entries in a batch) for runs that stayed finite.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged_at: int | None | np.ndarray

    @property
    def final(self) -> np.ndarray:
        return self.points[-1]

    @property
    def diverged(self):
        if isinstance(self.diverged_at, np.ndarray):
            return self.diverged_at >= 0
        return self.diverged_at is not None


def run(optimizer: type[Optimizer] | Callable[..., Optimizer], surface: Surface, start=None, steps: int = 100,
        divergence_threshold: float = 1e12, **hyperparameters) -> Trajectory:
    """Optimise ``surface`` from ``start`` for ``steps`` steps.

    Args:
        optimizer: an optimizer class (or any callable ``f(params, **hyperparameters)``).
        surface: the function to minimise.
        start: a point ``(x, y)`` or a batch of points ``(..., 2)``; defaults to ``surface.start``.
        steps: how many updates to make.
        divergence_threshold: a loss above this (or non-finite) counts as divergence.
        **hyperparameters: passed to the optimizer, e.g. ``lr=0.1``.
    """
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    start = surface.start if start is None else start
    theta = np.array(start, dtype=float)
    if theta.shape[-1:] != (2,):
        raise ValueError(f"start must be a point (x, y) or an array of shape (..., 2), got shape {theta.shape}")
    opt = optimizer([theta], **hyperparameters)
    batch_shape = theta.shape[:-1]

    points = np.full((steps + 1, *theta.shape), np.nan)
    losses = np.full((steps + 1, *batch_shape), np.nan)
    diverged_at = np.full(batch_shape, -1, dtype=int)
    alive = np.ones(batch_shape, dtype=bool)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(steps + 1):
            loss = surface.value(theta)
            ok = np.isfinite(loss) & (loss <= divergence_threshold) & np.all(np.isfinite(theta), axis=-1)
            newly_dead = alive & ~ok
            diverged_at[newly_dead] = t
            alive &= ok
            points[t] = np.where(alive[..., None], theta, np.nan)
            losses[t] = np.where(alive, loss, np.nan)
            if t == steps or not alive.any():
                break
            opt.step([surface.gradient(theta)])

    if batch_shape == ():
        return Trajectory(points, losses, None if diverged_at < 0 else int(diverged_at))
    return Trajectory(points, losses, diverged_at)


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
    steps = positive_int("steps", steps, minimum=0)
    n = problem.n_samples
    B = positive_int("batch_size", batch_size)
    if sampling not in ("shuffle", "replace"):
        raise ValueError(f"Invalid sampling: {sampling!r} (sampling must be 'shuffle' or 'replace')")
    if sampling == "shuffle" and B > n:
        raise ValueError(f"Invalid batch_size: {B} (with sampling='shuffle', batch_size must be <= n_samples = {n})")
    full_batch = sampling == "shuffle" and B == n
    if rng is None and not full_batch:
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed)), got None")
    if rng is not None:
        generator(rng)
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
