"""Chapter "Learning-rate schedules": a schedule's shape, and what it does to Adam on Rosenbrock's valley."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from ..adam import Adam
from ..plots import color, decade_ticks, plot_contour
from ..schedules import constant, cosine, exponential, scheduled, step, warmup_cosine
from ..sgd import SGD
from ..surfaces import rosenbrock
from ..trajectory import run
from .base import Choice, Explorer, Slider

__all__ = ["schedule_explorer", "make_schedule"]

SCHEDULE_NAMES = ["constant", "step", "exponential", "cosine", "warmup_cosine"]



def make_schedule(name: str, lr: float, steps: int, warmup_steps: int = 0):
    """The book's default member of each family, over a run of ``steps`` updates."""
    if name == "constant":
        return constant(lr)
    if name == "step":
        return step(lr, step_size=max(steps // 3, 1), gamma=0.1)
    if name == "exponential":
        return exponential(lr, gamma=0.01 ** (1 / steps))    # down to lr / 100 at the end
    if name == "cosine":
        return cosine(lr, steps)
    if name == "warmup_cosine":
        return warmup_cosine(lr, min(warmup_steps, steps - 1), steps)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULE_NAMES}")


def schedule_explorer(steps: int = 300):
    """Adam (or momentum) on Rosenbrock with a schedule against the same optimizer at a constant rate.

    The website's player sweeps the warm-up length of a warm-up + cosine schedule at lr = 1.
    """
    surface = rosenbrock()
    start = (-1.5, 2.0)
    t = np.arange(steps)

    def optimizer_setting(optimizer: str, lr: float):
        if optimizer == "Adam":
            return Adam, {}, lr
        return SGD, {"momentum": 0.9}, lr * 1e-3   # momentum needs a far smaller rate on Rosenbrock

    # Each run is a few tens of milliseconds: keep the ones already made, so that moving one control
    # reruns only what depends on it (the constant-rate run does not depend on the schedule at all).
    @functools.lru_cache(maxsize=128)
    def scheduled_run(schedule: str, lr: float, warmup: int, optimizer: str):
        cls, kwargs, rate = optimizer_setting(optimizer, lr)
        sched = make_schedule(schedule, rate, steps, warmup)
        return sched(t), run(scheduled(cls, sched), surface, start, steps=steps, **kwargs)

    @functools.lru_cache(maxsize=32)
    def constant_run(lr: float, optimizer: str):
        cls, kwargs, rate = optimizer_setting(optimizer, lr)
        return run(cls, surface, start, steps=steps, lr=rate, **kwargs)

    def setup(fig, optimizer):
        """Axes, contours, styling and legend, once per optimizer; the curves are moved later."""
        fig.clear()
        c = color(optimizer)
        lr_ax, path_ax, loss_ax = fig.subplots(1, 3, width_ratios=[1, 1, 1.2], gridspec_kw=dict(
            left=0.07, right=0.98, bottom=0.15, top=0.86, wspace=0.35))
        (rate,) = lr_ax.plot(t, np.zeros(steps), color=c)
        peak = lr_ax.axhline(1.0, color=c, linestyle="--", linewidth=1)
        lr_ax.set(xlabel="step t", ylabel="learning rate")
        plot_contour(surface, ax=path_ax, resolution=80, levels=15)
        paths, gaps, diverged = [], [], []
        for label, style in zip(["scheduled", "constant"], ["-", "--"], strict=True):
            paths += path_ax.plot([], [], style, color=c, linewidth=1.2)
            gaps += loss_ax.semilogy([], [], style, color=c, label=f"{optimizer}, {label}")
            diverged.append(loss_ax.axvline(0, color=c, linestyle=":", linewidth=1, visible=False))
        path_ax.set(xlim=(-2, 2), ylim=(-1, 3))
        loss_ax.set(xlabel="step t", ylabel="f(θ_t) − f*")
        decade_ticks(loss_ax.yaxis)
        loss_ax.grid(True, alpha=0.3)
        loss_ax.legend(fontsize=8, loc="lower left")
        return SimpleNamespace(optimizer=optimizer, lr_ax=lr_ax, loss_ax=loss_ax, rate=rate, peak=peak,
                               paths=paths, gaps=gaps, diverged=diverged)

    def draw(fig, schedule, lr, warmup_steps, optimizer):
        warmup = int(round(warmup_steps)) if schedule == "warmup_cosine" else 0   # the others ignore it
        view = getattr(fig, "_optlib_schedule_view", None)
        if view is None or view.lr_ax not in fig.axes or view.optimizer != optimizer:
            view = fig._optlib_schedule_view = setup(fig, optimizer)
        rate = optimizer_setting(optimizer, lr)[2]
        rates, scheduled_path = scheduled_run(schedule, lr, warmup, optimizer)
        runs = [scheduled_path, constant_run(lr, optimizer)]
        view.rate.set_ydata(rates)
        view.peak.set_ydata([rate, rate])
        view.lr_ax.set_ylim(0, 1.05 * rate)
        for path, line, gap, mark in zip(runs, view.paths, view.gaps, view.diverged, strict=True):
            line.set_data(*path.points.T)
            gap.set_data(np.arange(len(path.losses)), path.losses - surface.min_value)
            mark.set_visible(bool(path.diverged))
            if path.diverged:
                mark.set_xdata([path.diverged_at, path.diverged_at])
        view.loss_ax.relim(visible_only=True)
        view.loss_ax.autoscale_view()
        warm = f", warm-up {int(round(warmup_steps))} steps" if schedule == "warmup_cosine" else ""
        fig.suptitle(f"{schedule}, lr = {rate:.3g}{warm}", fontsize=11)

    draw.incremental = True  # moves its artists on its own figure (see Explorer.redraw)

    controls = [
        Slider("warmup_steps", 0, 100, 30, label="warm-up steps", step=1),
        Choice("schedule", SCHEDULE_NAMES, "warmup_cosine", label="schedule"),
        Slider("lr", 0.01, 2.0, 1.0, log=True, label="peak lr (Adam; momentum: x 1e-3)"),
        Choice("optimizer", ["Adam", "Momentum"], "Adam", label="optimizer"),
    ]
    return Explorer(draw, controls, sweep="warmup_steps", frames=9, figsize=(11.0, 3.6))
