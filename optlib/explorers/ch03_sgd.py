"""Chapter "Stochastic gradient descent": one sample per step, a noise ball, and where its formula holds.

The explorer runs on a small two-feature least-squares problem (so the loss is a 2-D surface to draw)
and compares, from the same start and with the same learning rate:

* GD, the full-batch gradient of the previous chapter (dashed);
* SGD, one uniformly drawn sample per step (thin line);
* the running average of SGD's iterates (thick line), which is what the decaying schedule makes
  converge.

The dotted line on the loss panel is the first-order prediction of the noise ball for a constant step,
``lr * tr(S) / 4`` (``S`` the covariance of the one-sample gradients at the optimum). It is first order
in the learning rate: the right panel sets it against the plateau optlib measures (constant-step SGD
started at the optimum, the excess loss averaged over steps 500-1500 and 32 runs) at every learning
rate, and shades the range where the two differ by more than half: there the one-sample iteration
nears its mean-square stability limit (about ``2 / (d + 2)`` for ``d`` isotropic features, far below
GD's ``2 / L``) and the formula underestimates the plateau: by a factor of about 2 where the shading
starts, about 3.4 at ``lr`` = 0.34, far more near the limit. Past the limit (0.47 on this problem: the grid's
last rate, 0.5) the runs' second moments keep growing, and the point drawn is the average of steps
500-1500 of that growth, not a plateau.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..plots import color
from ..problems import DATA_SETS, noise_ball, regression_problem, regression_surface
from ..schedules import scheduled
from ..sgd import SGD
from ..trajectory import loss_gap, run_stochastic
from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory, run_label

__all__ = ["sgd_explorer", "measured_plateau", "formula_fails_above"]

#: The excess-loss panel's fixed range (this explorer's and the mini-batch one's): fixed, so that the
#: height of the noise ball can be compared from one setting to the next; GD, which converges to machine
#: precision, leaves it at the bottom, and the largest starting loss of the start sliders (about 60) fits.
LOSS_RANGE = (1e-6, 1e2)

#: The learning rates of the right panel (formula against measurement).
PLATEAU_LRS = np.geomspace(0.005, 0.5, 13)


@lru_cache(maxsize=16)
def measured_plateau(data: str, noise: float, lrs: tuple = tuple(PLATEAU_LRS), runs: int = 32,
                     steps: int = 1500, burn_in: int = 500) -> np.ndarray:
    """Constant-step one-sample SGD's stationary excess loss at each of ``lrs``, as optlib measures it:
    ``runs`` runs started at the optimum, the excess loss averaged over steps ``burn_in .. steps``
    (NaN where the runs diverged; past the mean-square stability limit, where the runs grow without
    diverging within ``steps``, the average is a snapshot of that growth, not a plateau)."""
    problem = regression_problem(data, noise)
    plateaus = []
    for i, lr in enumerate(lrs):
        starts = np.repeat(problem.minimizer[None, :], runs, axis=0)
        path = run_stochastic(SGD, problem, starts, steps, batch_size=1, rng=np.random.default_rng(i),
                              sampling="replace", lr=float(lr))
        gaps = path.losses[burn_in:] - problem.min_value
        plateaus.append(float(np.mean(gaps)) if np.all(np.isfinite(gaps)) else np.nan)
    return np.array(plateaus)


def formula_fails_above(data: str = "round", noise: float = 1.0, tolerance: float = 0.5) -> float:
    """The smallest learning rate of :data:`PLATEAU_LRS` where the measured plateau differs from the
    first-order formula by more than ``tolerance`` (relative)."""
    problem = regression_problem(data, noise)
    measured = measured_plateau(data, noise)
    predicted = np.array([noise_ball(problem, lr) for lr in PLATEAU_LRS])
    off = ~np.isfinite(measured) | (np.abs(measured / predicted - 1) > tolerance)
    return float(PLATEAU_LRS[np.argmax(off)]) if off.any() else float(PLATEAU_LRS[-1])


@lru_cache(maxsize=64)
def _gd_run(data: str, noise: float, start_x: float, start_y: float, steps: int, lr: float):
    """GD from the explorer's start (cached apart from SGD: the seed and the schedule do not change it)."""
    problem = regression_problem(data, noise)
    return run_stochastic(SGD, problem, np.array([start_x, start_y]), steps, batch_size=problem.n_samples, lr=lr)


@lru_cache(maxsize=64)
def _sgd_run(data: str, noise: float, start_x: float, start_y: float, steps: int, lr: float, schedule: str,
             seed: int):
    """One-sample SGD from the explorer's start (cached: a slider moved back to a value recomputes nothing)."""
    problem = regression_problem(data, noise)
    optimizer = scheduled(SGD, lambda t: lr / np.sqrt(t + 1)) if schedule == "1/sqrt(t)" else SGD
    return run_stochastic(optimizer, problem, np.array([start_x, start_y]), steps, batch_size=1,
                          rng=np.random.default_rng(seed), sampling="replace", lr=lr)


def path_and_loss_panels(runs: dict, contour, loss_xlabel: str, loss_width: float) -> list[Panel]:
    """The SGD and mini-batch explorers' first two panels: each run's path (``key_path``) over the
    contours ``contour(params)``, and its excess loss (``key_loss``) on :data:`LOSS_RANGE` with the
    first-order noise ball (``ball``, dotted). ``runs`` is ``{key: (label, line style)}``."""
    c = {key: color(label) for key, (label, _) in runs.items()}
    return [
        Panel(tuple(Line(f"{key}_path", c[key], **style) for key, (_, style) in runs.items()),
              xlabel="w₁", ylabel="w₂", contour=contour),
        Panel((*(Line(f"{key}_loss", c[key], legend=False, **style) for key, (_, style) in runs.items()),
               Line("ball", "#444444", dash="dotted", width=1.2)),
              xlabel=loss_xlabel, ylabel="f(w) − f*", ylog=True, width=loss_width, ylim=LOSS_RANGE),
    ]


def contour(params) -> tuple:
    """The surface under an explorer's path panel: the data set's full loss at the chosen label noise."""
    data, noise = params["data"], round(float(params["noise"]), 3)
    return f"{data} data, noise {noise}", regression_surface(data, noise)


@explorer_factory
def sgd_explorer(steps: int = 300):
    """GD against SGD (and SGD's running average) on a 2-D least-squares problem.

    Controls: the learning rate, the schedule (constant, or ``lr / sqrt(t + 1)``), the label noise
    (0: the data are fitted exactly and the noise ball vanishes), the data set (round or elongated
    level sets), the start point and the seed of the sampling.
    """
    runs = {"gd": ("GD (full batch)", dict(dash="dashed", width=1.5)),
            "sgd": ("SGD (one sample per step)", dict(width=0.6, alpha=0.6)),
            "avg": ("SGD (averaged iterate)", dict(width=2.2))}

    def compute(lr, schedule, noise, data, start_x, start_y, seed):
        noise = round(float(noise), 3)
        problem, surface = regression_problem(data, noise), regression_surface(data, noise)
        start_x, start_y, lr = float(start_x), float(start_y), float(lr)
        gd = _gd_run(data, noise, start_x, start_y, steps, lr)
        sgd = _sgd_run(data, noise, start_x, start_y, steps, lr, schedule, int(seed))
        out = {"title": f"{data} data, label noise σ = {noise:g}"}
        for key, path, points, losses in [("gd", gd, gd.points, gd.losses), ("sgd", sgd, sgd.points, sgd.losses),
                                          ("avg", sgd, sgd.averages, sgd.average_losses)]:
            label = run_label(runs[key][0], path)
            gap = loss_gap(losses, surface.min_value)
            out[f"{key}_path"] = Series(points[:, 0], points[:, 1], label)
            out[f"{key}_loss"] = Series(np.arange(len(gap)), gap, label)
        ball = noise_ball(problem, lr)
        if schedule == "constant" and ball > 0:
            out["ball"] = Series([0, steps], [ball, ball], "first-order noise ball η tr(S)/4")
            out["title"] += f"; first-order noise ball η tr(S)/4 = {ball:.2g}"
        if noise > 0:
            predicted = np.array([noise_ball(problem, rate) for rate in PLATEAU_LRS])
            out["formula"] = Series(PLATEAU_LRS, predicted, "first-order formula")
            out["measured"] = Series(PLATEAU_LRS, measured_plateau(data, noise), "measured plateau")
            out["here"] = Series([lr], [ball], "this η")
        return out

    limit = formula_fails_above()
    controls = [
        Slider("lr", 0.005, 0.5, 0.05, log=True, label="learning rate η", grid=12),
        Choice("schedule", ["constant", "1/sqrt(t)"], "constant", label="schedule"),
        Slider("noise", 0.0, 2.0, 1.0, label="label noise σ", step=0.1,
               grid=[0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]),
        Choice("data", list(DATA_SETS), "round", label="data set"),
        Slider("start_x", -4.0, 4.0, -2.0, label="start w₁", step=0.1),
        Slider("start_y", -4.0, 4.0, 2.0, label="start w₂", step=0.1),
        Slider("seed", 0, 9, 0, label="seed", step=1, grid=[0, 1]),
    ]
    c = {key: color(label) for key, (label, _) in runs.items()}
    panels = [
        *path_and_loss_panels(runs, contour, loss_xlabel="step t", loss_width=1.1),
        Panel((Line("formula", "#444444", dash="dotted", width=1.2),
               Line("measured", c["sgd"], style="line+markers", marker_size=4),
               Line("here", "#D55E00", style="markers", marker_size=8, legend=False)),
              xlabel="learning rate η", ylabel="plateau f − f*", xlog=True, ylog=True, width=0.9,
              title="noise ball: first-order formula vs measured",
              vspans=((limit, float(PLATEAU_LRS[-1]), "#D55E00"),),
              notes=((0.03, 0.97, f"shaded: formula off by > 50% (η ≥ {limit:.2g})"),)),
    ]
    points = {"names": ("start_x", "start_y"), "label": "start point", "values": [(-2.0, 2.0), (3.0, -1.0)]}
    return Explorer(compute, controls, panels, points=points, figsize=(11.5, 3.8))
