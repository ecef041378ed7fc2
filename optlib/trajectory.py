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

__all__ = ["Trajectory", "run"]


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
