"""Chapter "Learning-rate schedules": a schedule's shape, and what it does to Adam on Rosenbrock's valley."""

from __future__ import annotations

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

    def draw(fig, schedule, lr, warmup_steps, optimizer):
        if optimizer == "Adam":
            cls, kwargs = Adam, {}
        else:
            cls, kwargs = SGD, {"momentum": 0.9}
        scale = 1.0 if optimizer == "Adam" else 1e-3   # momentum needs a far smaller rate on Rosenbrock
        sched = make_schedule(schedule, lr * scale, steps, int(round(warmup_steps)))
        runs = {"scheduled": run(scheduled(cls, sched), surface, start, steps=steps, **kwargs),
                "constant": run(cls, surface, start, steps=steps, lr=lr * scale, **kwargs)}
        c = color(optimizer)
        lr_ax, path_ax, loss_ax = fig.subplots(1, 3, width_ratios=[1, 1, 1.2], gridspec_kw=dict(
            left=0.07, right=0.98, bottom=0.15, top=0.86, wspace=0.35))
        lr_ax.plot(t, sched(t), color=c)
        lr_ax.axhline(lr * scale, color=c, linestyle="--", linewidth=1)
        lr_ax.set(xlabel="step t", ylabel="learning rate", ylim=(0, 1.05 * lr * scale))
        plot_contour(surface, ax=path_ax, resolution=80, levels=15)
        for (label, path), style in zip(runs.items(), ["-", "--"], strict=True):
            path_ax.plot(*path.points.T, style, color=c, linewidth=1.2)
            gap = path.losses - surface.min_value
            loss_ax.semilogy(np.arange(len(gap)), gap, style, color=c, label=f"{optimizer}, {label}")
            if path.diverged:
                loss_ax.axvline(path.diverged_at, color=c, linestyle=":", linewidth=1)
        path_ax.set(xlim=(-2, 2), ylim=(-1, 3))
        loss_ax.set(xlabel="step t", ylabel="f(θ_t) − f*")
        decade_ticks(loss_ax.yaxis)
        loss_ax.grid(True, alpha=0.3)
        loss_ax.legend(fontsize=8, loc="lower left")
        warm = f", warm-up {int(round(warmup_steps))} steps" if schedule == "warmup_cosine" else ""
        fig.suptitle(f"{schedule}, lr = {lr * scale:.3g}{warm}", fontsize=11)

    controls = [
        Slider("warmup_steps", 0, 100, 30, label="warm-up steps", step=1),
        Choice("schedule", SCHEDULE_NAMES, "warmup_cosine", label="schedule"),
        Slider("lr", 0.01, 2.0, 1.0, log=True, label="peak lr (Adam; momentum: x 1e-3)"),
        Choice("optimizer", ["Adam", "Momentum"], "Adam", label="optimizer"),
    ]
    return Explorer(draw, controls, sweep="warmup_steps", frames=9, figsize=(11.0, 3.6))
