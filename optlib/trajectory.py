"""Run an optimizer and record where it goes: on a surface (``run``) or on mini-batches of a finite sum
(``run_stochastic``). Both return one result type, :class:`Trajectory`, and share one divergence rule.

``run`` is the experiment behind most figures of the book::

    path = run(SGD, quadratic(10), start=(-3, 2.5), steps=50, lr=0.1)
    path.points   # (51, 2): theta_0 ... theta_50
    path.losses   # (51,)
    path.diverged_at   # None, or the first step whose loss left the finite world

``run_stochastic`` does the same with mini-batch gradients of a :class:`optlib.problems.FiniteSum`
(least squares, the bag of words, ...), and also records the running average of the iterates::

    path = run_stochastic(SGD, problem, start=np.zeros(problem.dim), steps=1000, batch_size=32,
                          rng=np.random.default_rng(0), lr=0.1)

**Stacked runs.** A batch of starts (shape ``(n, 2)`` for ``run``, ``(k, *param_shape)`` for
``run_stochastic``) runs as one optimizer over one stacked array, which equals ``n`` separate runs in
exact arithmetic only for an optimizer that acts element-wise (its class attribute ``elementwise`` is True). The runners
refuse a stacked run of any other optimizer (Muon, Shampoo and SOAP couple a matrix's entries, so stacked
starts would change each other's paths). In floating point a stacked run can differ from separate runs in
the last bits (NumPy may group the sums differently): harmless where the dynamics are stable, decisive
near an optimizer's edge of stability (chapter "Choosing an optimizer", "The last bit").

**Divergence** (:func:`has_diverged`, the one rule of optlib, also used by :func:`optlib.models.train`):
a loss that is non-finite or above ``divergence_threshold`` (default :data:`DIVERGENCE_THRESHOLD`,
``1e12``). From the first such step on, a run's recorded values (points, losses, averages; a
:class:`~optlib.models.History`'s losses and accuracies) are NaN, the one marker of "no value", and
``diverged_at`` holds that step (``run_stochastic`` with ``record_every > 1``: the first recorded step past
it); a runner stops early once every run has left the finite world. Divergence is reported, never
printed: no overflow warning is emitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .optimizer import Optimizer
from .problems import minibatches
from .surfaces import Surface
from .validation import non_negative_int, positive_int, real_number

__all__ = ["DIVERGENCE_THRESHOLD", "has_diverged", "loss_gap", "Diverges", "Trajectory", "refuse_coupled_runs", "run",
           "run_stochastic"]

DIVERGENCE_THRESHOLD = 1e12
"""A loss above this counts as divergence, in every runner of optlib (and in :func:`optlib.models.train`)."""


def has_diverged(losses, threshold: float = DIVERGENCE_THRESHOLD) -> np.ndarray:
    """The divergence rule: True where a loss is NaN, infinite, or above ``threshold``."""
    losses = np.asarray(losses, dtype=float)
    return ~np.isfinite(losses) | (losses > threshold)


def loss_gap(losses, min_value: float) -> np.ndarray:
    """``f(theta_t) - f*``, as every loss figure of the book draws it on a log axis: NaN where it is not
    positive (at the minimum, to rounding) or not finite (after divergence), so a line leaves a gap there."""
    gap = np.asarray(losses, dtype=float) - min_value
    return np.where(np.isfinite(gap) & (gap > 0), gap, np.nan)


class Diverges:
    """What every result type of optlib says about divergence, read from its ``diverged_at``.

    ``diverged_at`` is ``None`` (one run) or ``-1`` entries (stacked runs) for runs that stayed finite,
    else the first step (or recorded epoch) at which the run had diverged.
    """

    diverged_at: int | None | np.ndarray

    @property
    def diverged(self) -> bool | np.ndarray:
        """True for a run that diverged (an array of them for stacked runs)."""
        if isinstance(self.diverged_at, np.ndarray):
            return self.diverged_at >= 0
        return self.diverged_at is not None


@dataclass(frozen=True, eq=False)
class Trajectory(Diverges):
    r"""What :func:`run` and :func:`run_stochastic` record, one row per recorded step along the first axis.

    * ``steps``: the step numbers of the rows, ``0, 1, ..., T`` (``run_stochastic`` with ``record_every=r``
      records ``0, r, 2r, ...`` and ``T``);
    * ``points`` ``(rows, *batch, *param_shape)``: the iterates :math:`\theta_t` at those steps, where the
      optimizer evaluates them (:meth:`~optlib.optimizer.Optimizer.evaluation_params`: its parameters, or
      for a schedule-free method its average :math:`x_t`);
    * ``losses`` ``(rows, *batch)``: the (full) loss at each recorded iterate;
    * ``diverged_at``: ``None`` (``-1`` entries in a batch) for runs that stayed finite, else the first
      recorded step whose loss broke the divergence rule (from there on, points and losses are NaN);
    * ``optimizer``: the optimizer after the last step, to read its state (``optimizer.state[0]``; a list
      of optimizers for a learning-rate sweep of ``run_stochastic``);
    * stochastic runs only (``None`` for ``run``): ``averages`` and ``average_losses``, the running mean
      of the iterates :math:`\bar w_t = \frac1t \sum_{s=1}^t w_s` (with :math:`\bar w_0 = w_0`) and its
      loss; ``samples``, how many per-sample gradients were computed before each recorded step
      (``steps * batch_size``).
    """

    steps: np.ndarray
    points: np.ndarray
    losses: np.ndarray
    diverged_at: int | None | np.ndarray
    averages: np.ndarray | None = None
    average_losses: np.ndarray | None = None
    samples: np.ndarray | None = None
    optimizer: Optimizer | list[Optimizer] | None = field(default=None, repr=False)

    @property
    def final(self) -> np.ndarray:
        """The last iterate (NaN for a run that diverged)."""
        return self.points[-1]


def refuse_coupled_runs(optimizer, count: int, stacked: str = "runs") -> None:
    """The one check of optlib's runners: refuse to stack ``count > 1`` independent ``stacked`` (runs, or a
    model's arrays) into one array for an optimizer that is not element-wise.

    Stacking is exact (in exact arithmetic) only when the update treats every coordinate on its own (class
    attribute ``elementwise``, True for every optimizer of optlib but Muon, Shampoo and SOAP). ``optimizer``
    is a class or an instance (the runners check both: a callable that is not a class shows its flag only
    once it has made the optimizer). A refused call has changed nothing.
    """
    if count > 1 and not getattr(optimizer, "elementwise", True):
        name = optimizer.__name__ if isinstance(optimizer, type) else type(optimizer).__name__
        raise ValueError(f"{name} is not element-wise (it couples the coordinates of an array), so {count} {stacked} "
                         "stacked into one array would change each other's updates")


def _first_divergence(broken: np.ndarray, steps: np.ndarray):
    """``(dead, diverged_at)`` from ``broken``, recorded rows x runs where the divergence rule breaks:
    ``dead`` is True from each run's first broken row on, ``diverged_at`` that row's step (``None`` for
    one run that never broke, ``-1`` entries in a batch), as :class:`Trajectory` reports it."""
    dead = np.logical_or.accumulate(broken, axis=0)
    diverged_at = np.where(dead.any(axis=0), steps[dead.argmax(axis=0)], -1)
    if diverged_at.ndim == 0:
        diverged_at = None if diverged_at < 0 else int(diverged_at)
    return dead, diverged_at


def _diverged(points: np.ndarray, losses: np.ndarray, threshold: float) -> np.ndarray:
    """The divergence rule for recorded points ``(..., 2)`` and their losses ``(...)``: the loss breaks
    :func:`has_diverged`, or a coordinate is not finite. (Rows not reached are NaN: diverged.)"""
    return has_diverged(losses, threshold) | ~np.all(np.isfinite(points), axis=-1)


def run(optimizer: type[Optimizer] | Callable[..., Optimizer], surface: Surface, start=None, steps: int = 100,
        divergence_threshold: float = DIVERGENCE_THRESHOLD, **hyperparameters) -> Trajectory:
    """Optimise ``surface`` from ``start`` for ``steps`` steps.

    Args:
        optimizer: an optimizer class (or any callable ``f(params, **hyperparameters)``).
        surface: the function to minimise.
        start: a point ``(x, y)`` or a batch of points ``(..., 2)``; defaults to ``surface.start``.
            A batch needs an element-wise optimizer (see the module docstring).
        steps: how many updates to make.
        divergence_threshold: a loss above this (or non-finite) counts as divergence.
        **hyperparameters: passed to the optimizer, e.g. ``lr=0.1``.
    """
    steps = non_negative_int("steps", steps)
    divergence_threshold = real_number("divergence_threshold", divergence_threshold)
    start = surface.start if start is None else start
    theta = np.array(start, dtype=float)
    if theta.shape[-1:] != (2,):
        raise ValueError(f"start must be a point (x, y) or an array of shape (..., 2), got shape {theta.shape}")
    batch_shape = theta.shape[:-1]
    refuse_coupled_runs(optimizer, int(np.prod(batch_shape, dtype=int)))
    opt = optimizer([theta], **hyperparameters)
    refuse_coupled_runs(opt, int(np.prod(batch_shape, dtype=int)))

    points = np.full((steps + 1, *theta.shape), np.nan)
    losses = np.full((steps + 1, *batch_shape), np.nan)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(steps + 1):
            points[t] = point = opt.evaluation_params()[0]
            losses[t] = surface.value(point)
            if t == steps or (t % 25 == 0 and _diverged(points[t], losses[t], divergence_threshold).all()):
                break   # (every run has diverged: the rest would be NaN)
            opt.step([surface.gradient(theta)])
    # The divergence rule, applied once to every recorded step: from a run's first bad step on, NaN.
    recorded = np.arange(steps + 1)
    dead, diverged_at = _first_divergence(_diverged(points, losses, divergence_threshold), recorded)
    points[dead] = np.nan
    losses[dead] = np.nan
    return Trajectory(recorded, points, losses, diverged_at, optimizer=opt)


# --- running an optimizer on mini-batches -----------------------------------------------------------

def _full_losses(problem, points: np.ndarray) -> np.ndarray:
    # The full loss at every recorded step: f* + (f - f*) in O(d^2) per point where the problem knows
    # its minimum (least squares), else in chunks of steps so that (points x samples) stays small.
    if len(points) == 0:
        return np.empty(points.shape[:points.ndim - len(problem.param_shape)])
    if hasattr(problem, "excess_loss"):
        return problem.min_value + problem.excess_loss(points)
    copies_per_step = points[0].size // max(1, int(np.prod(problem.param_shape, dtype=int)))
    chunk = max(1, 4_000_000 // (copies_per_step * problem.n_samples))
    return np.concatenate([problem.loss(points[start:start + chunk]) for start in range(0, len(points), chunk)])


def run_stochastic(optimizer, problem, start, steps: int, batch_size: int = 1,
                   rng: np.random.Generator | None = None, *, sampling: str = "shuffle", record_every: int = 1,
                   divergence_threshold: float = DIVERGENCE_THRESHOLD, **hyperparameters) -> Trajectory:
    """Run ``optimizer`` on mini-batch gradients of ``problem`` for ``steps`` steps.

    Args:
        optimizer: an optimizer class such as :class:`optlib.SGD` (or a callable ``f(params, **hyper)``);
            with a learning-rate schedule, :func:`optlib.schedules.scheduled` ``(SGD, schedule)``.
        problem: a finite-sum problem (:class:`optlib.problems.FiniteSum`: ``n_samples``,
            ``param_shape``, ``loss(w, idx=None)``, ``batch_gradient(w, idx)``).
        start: the first iterate, shaped ``problem.param_shape``, or a batch of independent copies
            ``(k, *param_shape)`` (each with its own samples; needs an element-wise optimizer).
        steps: number of updates.
        batch_size: samples per gradient; ``batch_size = n_samples`` with ``sampling="shuffle"`` is
            full-batch gradient descent.
        rng: the ``numpy.random.Generator`` that draws the samples (required unless the run is full-batch).
            The same seed gives the same mini-batches, whatever the optimizer and its hyperparameters.
        sampling: how each batch is drawn, by optlib's one sampler :func:`optlib.problems.minibatches`:
            ``"shuffle"`` (every copy goes through its own shuffled epochs; an incomplete last batch is
            dropped), ``"replace"`` (every index drawn independently, the textbook model of SGD) or
            ``"subset"`` (every batch ``batch_size`` distinct samples, independent of the other batches).
        record_every: record the iterate, its average and their full losses every ``record_every`` steps
            (and after the last); computing full losses is what costs on a large data set.
        divergence_threshold: a full loss above this (or non-finite) counts as divergence.
        **hyperparameters: passed to the optimizer, e.g. ``lr=0.1, momentum=0.9``.

    **A learning-rate sweep.** ``lr`` may be a sequence of ``m`` learning rates: then ``m`` runs, one
    optimizer per learning rate, go through the *same* mini-batches (a fair comparison), stacked along a
    new first batch axis (results of shape ``(rows, m, ...)``; ``optimizer`` is then the list of the ``m``
    optimizers). It needs an element-wise optimizer, and one without a schedule.
    """
    steps = non_negative_int("steps", steps)
    n = problem.n_samples
    B = positive_int("batch_size", batch_size)
    record_every = positive_int("record_every", record_every)
    divergence_threshold = real_number("divergence_threshold", divergence_threshold)
    w = np.array(start, dtype=float)
    shape = tuple(problem.param_shape)
    if w.shape not in (shape, w.shape[:1] + shape):
        raise ValueError(f"start must have shape {shape} or (k, *{shape}), got shape {w.shape}")
    batched = w.shape != shape
    # each copy draws its own samples (shuffled epochs drop an incomplete last batch)
    batches = minibatches(n, B, rng, drop_last=sampling == "shuffle", epochs=None, sampling=sampling,
                          copies=w.shape[0] if batched else None)
    lrs = hyperparameters.get("lr")
    sweep = lrs is not None and not isinstance(lrs, (str, bytes)) and np.ndim(lrs) == 1
    if sweep:
        if len(lrs) == 0:
            raise ValueError("Invalid lr: [] (a learning-rate sweep needs at least one lr)")
        if hasattr(optimizer, "schedule"):
            raise ValueError(f"{optimizer.__name__} sets its learning rate from its schedule: it cannot be swept "
                             "over a sequence of lr")
        w = np.repeat(w[None], len(lrs), axis=0)  # (m, ...): one run per learning rate, the same samples
    batch_shape = w.shape[:w.ndim - len(shape)]
    runs = int(np.prod(batch_shape, dtype=int))
    refuse_coupled_runs(optimizer, runs)
    if sweep:
        opts = [optimizer([w[i]], **{**hyperparameters, "lr": lr}) for i, lr in enumerate(lrs)]
    else:
        opts = [optimizer([w], **hyperparameters)]
    refuse_coupled_runs(opts[0], runs)
    gradient = getattr(problem, "_batch_gradient", problem.batch_gradient)

    def evaluation_point():
        # where each run is evaluated (Optimizer.evaluation_params), stacked as w is
        if sweep:
            return np.stack([opt.evaluation_params()[0] for opt in opts])
        return opts[0].evaluation_params()[0]

    recorded = np.unique(np.r_[np.arange(0, steps + 1, record_every), steps])
    points = np.full((len(recorded), *w.shape), np.nan)
    averages = np.full((len(recorded), *w.shape), np.nan)
    points[0] = averages[0] = evaluation_point()
    row = 1  # the next row to fill
    running = w.copy()
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            g = gradient(w, next(batches))
            if sweep:
                for i, opt in enumerate(opts):
                    opt.step([g[i]])
            else:
                opts[0].step([g])
            point = evaluation_point()
            # running mean of the iterates 1 ... t
            if t == 1:
                running[...] = point
            else:
                running += (point - running) / t
            if recorded[row] == t:
                points[row], averages[row] = point, running
                row += 1
            if t % 25 == 0 and not np.isfinite(w).reshape(runs, -1).all(axis=1).any():
                break  # every copy has overflowed: the rest of the run would be NaN

        # the rows not reached (after an early stop) stay NaN, which the divergence rule counts as diverged
        pad = np.full((len(recorded) - row, *batch_shape), np.nan)
        losses = np.concatenate([_full_losses(problem, points[:row]), pad])
        average_losses = np.concatenate([_full_losses(problem, averages[:row]), pad])
    dead, diverged_at = _first_divergence(has_diverged(losses, divergence_threshold), recorded)
    points[dead] = np.nan
    losses[dead] = np.nan
    averages[dead] = np.nan  # the average of a diverged run is not an answer either
    average_losses[dead] = np.nan
    return Trajectory(recorded, points, losses, diverged_at, averages, average_losses, recorded * B,
                      optimizer=opts if sweep else opts[0])
