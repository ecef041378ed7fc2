"""Chapter "Stochastic gradient descent": one sample per step, a noise ball, and how to shrink it.

The explorer runs on a small two-feature least-squares problem (so the loss is a 2-D surface to draw)
and compares, from the same start and with the same learning rate:

* GD, the full-batch gradient of the previous chapter (dashed);
* SGD, one uniformly drawn sample per step (thin line);
* the running average of SGD's iterates (thick line), which is what the decaying schedule makes
  converge.

The dotted line on the loss panel is the predicted height of the noise ball for a constant step,
``lr * tr(S) / 4`` (``S`` the covariance of the one-sample gradients at the optimum); the website's
player sweeps the learning rate, so the ball is seen to grow with it.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from ..problems import LeastSquares, make_regression
from ..trajectory import run_stochastic
from ..plots import color, decade_ticks, plot_contour
from ..sgd import SGD
from .base import Choice, Explorer, Slider

__all__ = ["sgd_explorer", "regression_problem", "regression_surface", "noise_ball", "draw_stochastic_runs",
           "DATA_SETS"]

#: Feature scales of the explorers' data sets: round level sets, or elongated ones (condition ~ 8).
DATA_SETS = {"round": (1.0, 1.0), "elongated": (1.0, 0.35)}
N_SAMPLES = 200


@lru_cache(maxsize=16)
def regression_problem(data: str = "round", noise: float = 1.0, n: int = N_SAMPLES) -> LeastSquares:
    """The explorers' least-squares problem (seeded, cached): ``n`` samples, two features."""
    if data not in DATA_SETS:
        raise ValueError(f"Unknown data set {data!r}; choose one of {sorted(DATA_SETS)}")
    return make_regression(n, 2, float(noise), np.random.default_rng(0), scales=DATA_SETS[data])


@lru_cache(maxsize=16)
def regression_surface(data: str = "round", noise: float = 1.0, n: int = N_SAMPLES):
    """The full loss of :func:`regression_problem` as a :class:`~optlib.surfaces.Surface` (cached)."""
    return regression_problem(data, noise, n).surface(margin=1.5, start=(-2.0, 2.0))


def noise_ball(problem: LeastSquares, lr: float, batch_size: int = 1) -> float:
    """Predicted stationary excess loss of constant-step SGD, ``lr * tr(S) / (4 * batch_size)``."""
    return lr * problem.gradient_variance(problem.minimizer, batch_size) / 4


def _setup_stochastic_view(fig, surface, xlabel: str) -> SimpleNamespace:
    """The parts that depend only on the surface and the x label: axes, contours, scales, labels, grid."""
    fig.clear()
    # Fixed margins: a layout engine would dominate every redraw.
    path_ax, loss_ax = fig.subplots(1, 2, width_ratios=[1, 1.25], gridspec_kw=dict(
        left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25))
    plot_contour(surface, ax=path_ax, resolution=60, levels=15)
    path_ax.set(xlabel="w1", ylabel="w2")
    loss_ax.set_yscale("log")
    # Decades only, plain-text labels, no minor ticks: tick layout would dominate every redraw.
    decade_ticks(loss_ax.yaxis)
    loss_ax.set(xlabel=xlabel, ylabel="f(w) − f*")
    loss_ax.grid(True, which="major", alpha=0.3)
    return SimpleNamespace(surface=surface, xlabel=xlabel, path_ax=path_ax, loss_ax=loss_ax, artists=[])


def draw_stochastic_runs(fig, surface, start, runs: dict, x_values: dict | None = None,
                         ball: float | None = None, xlabel: str = "step t", title: str = "") -> None:
    """Paths over the loss contours (left) and the excess loss on a log scale (right).

    ``runs`` maps a label to ``(points, losses, diverged_at, style)``, style a dict of line options
    (the colour comes from the label, by :func:`optlib.plots.color`). ``x_values`` gives each run's
    x axis on the right (default: the step). Lean on purpose: a few artists, no layout engine.

    Called again on the same figure for the same surface (and x label), it keeps the axes, the
    contours and the ticks and replaces only the runs' artists: that is what keeps a live explorer's
    redraw fast. A fresh figure (or one drawn by something else) is set up from scratch.
    """
    view = getattr(fig, "_optlib_stochastic_view", None)
    reusable = (view is not None and view.surface is surface and view.xlabel == xlabel
                and view.path_ax in fig.axes and view.loss_ax in fig.axes and len(fig.axes) == 2)
    if not reusable:
        view = fig._optlib_stochastic_view = _setup_stochastic_view(fig, surface, xlabel)
    path_ax, loss_ax = view.path_ax, view.loss_ax
    for artist in view.artists:
        artist.remove()
    artists = view.artists = []
    (x0, x1), (y0, y1) = surface.bounds
    x0, x1 = min(x0, start[0] - 0.3), max(x1, start[0] + 0.3)
    y0, y1 = min(y0, start[1] - 0.3), max(y1, start[1] + 0.3)
    artists += path_ax.plot(*start, "o", color="#444444", markersize=6, markerfacecolor="white", zorder=4)
    top = 1.0
    low = np.inf
    for label, (points, losses, diverged_at, style) in runs.items():
        c = color(label)
        artists += path_ax.plot(points[:, 0], points[:, 1], color=c, label=label, **style)
        gap = losses - surface.min_value
        xs = np.arange(len(gap)) if x_values is None else x_values[label]
        shown = np.isfinite(gap) & (gap > 0)
        artists += loss_ax.plot(xs[shown], gap[shown], color=c, label=label, **style)
        if shown.any():
            top = max(top, gap[shown].max())
            low = min(low, gap[shown].min())
        if diverged_at is not None:
            finite = points[np.isfinite(points[:, 0])]
            last = np.clip(finite[-1], [x0, y0], [x1, y1])
            artists += path_ax.plot(*last, "X", color=c, markersize=10)
            artists.append(path_ax.annotate(f"{label.split(' (')[0]} diverged at step {diverged_at}", last,
                                            textcoords="offset points", xytext=(6, -12), color=c, fontsize=9))
            artists.append(loss_ax.axvline(xs[diverged_at], color=c, linestyle=":", linewidth=1))
    if ball is not None and ball > 0:
        artists.append(loss_ax.axhline(ball, color="#444444", linestyle=":", linewidth=1,
                                       label="predicted noise ball"))
        low = min(low, ball)
    path_ax.set(xlim=(x0, x1), ylim=(y0, y1))
    # The loss panel's x range follows the runs (as on a fresh axes); its y range is set from the data.
    loss_ax.relim()
    loss_ax.set_autoscale_on(True)
    loss_ax.autoscale_view()
    if np.isfinite(low):
        loss_ax.set_ylim(max(low / 3, 1e-8), top * 3)
    artists.append(loss_ax.legend(fontsize=8, loc="upper right"))
    if title:
        fig.suptitle(title, fontsize=11)
    elif fig._suptitle is not None:
        fig._suptitle.set_text("")


@lru_cache(maxsize=64)
def _sgd_runs(data: str, noise: float, start_x: float, start_y: float, steps: int, lr: float, schedule: str,
              seed: int):
    """GD and SGD from the explorer's start (cached: a slider moved back to a value recomputes nothing)."""
    problem, start = regression_problem(data, noise), np.array([start_x, start_y])
    decay = (lambda t: lr / np.sqrt(t + 1)) if schedule == "1/sqrt(t)" else None
    gd = run_stochastic(SGD, problem, start, steps, batch_size=problem.n_samples, lr=lr)
    sgd = run_stochastic(SGD, problem, start, steps, batch_size=1, rng=np.random.default_rng(seed),
                         sampling="replace", lr=lr, lr_schedule=decay)
    return gd, sgd


def sgd_explorer(steps: int = 300):
    """GD against SGD (and SGD's running average) on a 2-D least-squares problem.

    Controls: the learning rate (swept by the website's player), the schedule (constant, or
    ``lr / sqrt(t + 1)``), the label noise (0: the data are fitted exactly and the noise ball vanishes),
    the data set (round or elongated level sets), the start point and the seed of the sampling.
    """

    def draw(fig, lr, schedule, noise, data, start_x, start_y, seed):
        noise = round(float(noise), 3)
        problem, surface = regression_problem(data, noise), regression_surface(data, noise)
        start = np.array([start_x, start_y])
        gd, sgd = _sgd_runs(data, noise, float(start_x), float(start_y), steps, float(lr), schedule, int(seed))
        runs = {
            "GD (full batch)": (gd.points, gd.losses, gd.diverged_at, dict(linestyle="--", linewidth=1.5)),
            "SGD (one sample per step)": (sgd.points, sgd.losses, sgd.diverged_at, dict(linewidth=0.6, alpha=0.6)),
            "SGD (averaged iterate)": (sgd.averages, sgd.average_losses, sgd.diverged_at, dict(linewidth=2.2)),
        }
        ball = noise_ball(problem, lr) if schedule == "constant" else None
        draw_stochastic_runs(fig, surface, start, runs, ball=ball,
                             title=f"lr = {lr:.3g} ({schedule}), label noise = {noise:.2g}, {data} data")

    draw.incremental = True  # updates its own figure in place (see Explorer.redraw)

    controls = [
        Slider("lr", 0.005, 0.5, 0.05, log=True, label="learning rate"),
        Choice("schedule", ["constant", "1/sqrt(t)"], "constant", label="schedule"),
        Slider("noise", 0.0, 2.0, 1.0, label="label noise", step=0.1),
        Choice("data", list(DATA_SETS), "round", label="data set"),
        Slider("start_x", -4.0, 4.0, -2.0, label="start w1", step=0.1),
        Slider("start_y", -4.0, 4.0, 2.0, label="start w2", step=0.1),
        Slider("seed", 0, 9, 0, label="seed", step=1),
    ]
    return Explorer(draw, controls, sweep="lr")
