"""Chapter "Schedule-free and WSD": the three points of schedule-free SGD, and what a schedule buys.

The chapter's running example is a noisy *river valley*: least squares with two features of very
different scales (:func:`valley_problem`), so that the loss has a steep direction (the *hill*, curvature
about 1) and a flat one (the *river*, curvature about 0.01), and one-sample gradients, so that every step
is noisy. From a start far up the river, the explorer compares, at the same peak learning rate and over
the same number of steps:

* schedule-free SGD: its base sequence z (thin), the point y where it takes gradients (dashed) and the
  average x it returns (thick), for one seed; on the loss panel, the loss at x;
* SGD at a constant rate, with a cosine decay, and with a WSD schedule whose decay ("cooldown") takes
  the last fraction of the steps, linear or 1 - sqrt.

Losses are means over :data:`SEEDS` runs with their own samples (the same samples for every method).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np

from ..plots import color
from ..problems import make_regression
from ..schedulefree import ScheduleFreeSGD
from ..schedules import constant, cosine, scheduled, wsd
from ..sgd import SGD
from ..trajectory import loss_gap, run_stochastic
from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory

__all__ = ["valley_problem", "valley_surface", "VALLEY_START", "VALLEY_BOUNDS", "three_sequences",
           "schedule_free_explorer"]

#: Where every run starts: far up the river, a little down the hill's far side.
VALLEY_START = (12.0, -2.0)
#: The window of the valley's figures: the start, the minimum, and room for a legend above the path.
VALLEY_BOUNDS = ((-1.0, 13.0), (-3.0, 3.5))
#: The explorer's runs per setting (their mean loss is drawn), and its horizon and recording interval.
SEEDS, STEPS, EVERY = 16, 1000, 10


@lru_cache(maxsize=1)
def valley_problem():
    """The chapter's river valley: 1000 samples, features of scales 0.1 (the river) and 1 (the hill),
    label noise 1 (seeded): the Hessian's eigenvalues are about 0.0104 and 0.96."""
    return make_regression(1000, 2, 1.0, np.random.default_rng(0), scales=np.array([0.1, 1.0]))


@lru_cache(maxsize=1)
def valley_surface():
    """The full loss of :func:`valley_problem` as a surface, in a window that holds the start."""
    return dataclasses.replace(valley_problem().surface(start=VALLEY_START), bounds=VALLEY_BOUNDS)


def three_sequences(problem, start, steps: int, rng: np.random.Generator, record_every: int = 1, batch_size: int = 1,
                    **hyperparameters):
    """Schedule-free SGD run by :func:`optlib.trajectory.run_stochastic` on mini-batch gradients of
    ``problem`` (one sample per step by default), with its three points at the recorded steps.

    Returns ``(steps, z, y, x)``: the recorded step numbers, the base sequence and the gradient point (the
    parameters in train mode), both recorded here after each recorded step, and the average, which is
    where the runner evaluates the optimizer (``evaluation_params``: its ``points``); each shaped
    ``(rows, *start.shape)``. A run that diverged is NaN in all three from its divergence on, as in ``x``.
    """
    start = np.asarray(start, dtype=float)
    recorded = {}

    class Recorded(ScheduleFreeSGD):
        def step(self, grads):
            super().step(grads)
            if self.step_count % record_every == 0 or self.step_count == steps:
                recorded[self.step_count] = (self.state[0]["z"].copy(), self.params[0].copy())

    path = run_stochastic(Recorded, problem, start, steps, batch_size=batch_size, rng=rng, record_every=record_every,
                          **hyperparameters)
    not_reached = (np.full_like(start, np.nan),) * 2    # (rows after a run stopped early)
    z, y = (np.array([start] + [recorded.get(int(t), not_reached)[i] for t in path.steps[1:]]) for i in (0, 1))
    x = path.points
    z[np.isnan(x)] = y[np.isnan(x)] = np.nan
    return path.steps, z, y, x


def _starts():
    return np.tile(VALLEY_START, (SEEDS, 1))


@lru_cache(maxsize=256)
def _schedule_free(lr: float, momentum: float):
    """Schedule-free SGD's recorded steps, its three points and the mean loss gap at x."""
    steps, z, y, x = three_sequences(valley_problem(), _starts(), STEPS, np.random.default_rng(0), EVERY, lr=lr,
                                     momentum=momentum)
    return steps, z, y, x, _mean_gap(valley_problem().loss(x))


@lru_cache(maxsize=512)
def _sgd(schedule: str, lr: float, fraction: float = 1.0, shape: str = "linear"):
    """SGD at a constant rate, with a cosine, or with WSD decaying over the last ``fraction`` of the steps."""
    rates = {"constant": lambda: constant(lr), "cosine": lambda: cosine(lr, STEPS),
             "wsd": lambda: wsd(lr, 0, STEPS, max(1, int(round(fraction * STEPS))), decay_shape=shape)}[schedule]()
    path = run_stochastic(scheduled(SGD, rates), valley_problem(), _starts(), STEPS, batch_size=1,
                          rng=np.random.default_rng(0), lr=lr, record_every=EVERY)
    return path, rates


def _mean_gap(losses):
    """The mean over the runs of ``losses`` ``(rows, runs)``, less the minimum."""
    return loss_gap(np.mean(losses, axis=-1), valley_problem().min_value)


@explorer_factory
def schedule_free_explorer():
    """Schedule-free SGD's three points on the river valley, and its loss against SGD with a constant
    rate, a cosine and WSD at the same peak rate (see the module docstring)."""
    sf, sgd = color("Schedule-free"), color("SGD")
    t = np.arange(0, STEPS + 1, EVERY)

    def compute(lr, momentum, fraction, shape):
        lr, momentum, fraction = float(lr), float(momentum), float(fraction)
        steps, z, y, x, sf_gap = _schedule_free(lr, momentum)
        out = {"title": f"η = {lr:.3g}, β = {momentum:.3g}; WSD cooldown: last {fraction:.0%} of {STEPS} steps, "
                        f"{shape}"}
        for key, points, label in [("z", z, "z (SGD steps)"), ("y", y, "y (gradients)"), ("x", x, "x (average)")]:
            out[f"{key}_path"] = Series(points[:, 0, 0], points[:, 0, 1], label)
        out["sf_loss"] = Series(steps, sf_gap, "schedule-free, f(x)")
        for key, (path, rates), label in [("constant", _sgd("constant", lr), "SGD, constant"),
                                          ("cosine", _sgd("cosine", lr), "SGD, cosine"),
                                          ("wsd", _sgd("wsd", lr, fraction, shape), "SGD, WSD")]:
            out[f"{key}_loss"] = Series(path.steps, _mean_gap(path.losses), label)
            out[f"{key}_rate"] = Series(t, rates(t) / lr, label)
        return out

    panels = [
        Panel((Line("z_path", sf, width=0.6, alpha=0.45), Line("y_path", sf, dash="dashed", width=1.0),
               Line("x_path", sf, width=2.2)),
              xlabel="w₁ (river)", ylabel="w₂ (hill)", contour=lambda params: ("valley", valley_surface()),
              width=1.7),
        Panel((Line("sf_loss", sf, width=2.2), Line("constant_loss", sgd, dash="dotted"),
               Line("cosine_loss", sgd, dash="dashed"), Line("wsd_loss", sgd, width=1.8)),
              xlabel="step t", ylabel=f"f − f*, mean of {SEEDS} runs", ylog=True, width=1.2, ylim=(1e-3, 10.0)),
        Panel((Line("constant_rate", sgd, dash="dotted", legend=False),
               Line("cosine_rate", sgd, dash="dashed", legend=False), Line("wsd_rate", sgd, width=1.8, legend=False)),
              xlabel="step t", ylabel="η_t / η", width=0.7, ylim=(0.0, 1.05)),
    ]
    controls = [
        Slider("lr", 0.01, 0.5, 0.2, log=True, label="learning rate η", grid=12),
        Slider("momentum", 0.1, 0.98, 0.9, label="interpolation β", step=0.01,
               grid=[0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98]),
        Slider("fraction", 0.05, 1.0, 0.2, label="WSD cooldown D/T", step=0.05,
               grid=[0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0]),
        Choice("shape", ["linear", "1-sqrt"], "linear", label="WSD decay shape"),
    ]
    return Explorer(compute, controls, panels, figsize=(12.0, 3.6))
