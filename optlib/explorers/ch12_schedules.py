"""Chapter "Learning-rate schedules": a schedule's shape, and what it does to Adam on Rosenbrock's valley."""

from __future__ import annotations

import functools

import numpy as np

from ..adam import Adam
from ..plots import color
from ..schedules import SCHEDULES, make_schedule, scheduled
from ..sgd import SGD
from ..surfaces import rosenbrock
from ..trajectory import loss_gap, run
from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory, run_label

__all__ = ["schedule_explorer"]


@explorer_factory
def schedule_explorer(steps: int = 300):
    """Adam (or momentum) on Rosenbrock with a schedule against the same optimizer at a constant rate."""
    surface = rosenbrock()
    start = (-1.5, 2.0)
    t = np.arange(steps)

    def optimizer_setting(optimizer: str, lr: float):
        if optimizer == "Adam":
            return Adam, {}, lr
        return SGD, {"momentum": 0.9}, lr * 1e-3   # momentum needs a far smaller rate on Rosenbrock

    # Each run is a few tens of milliseconds: keep the ones already made, so that moving one control
    # reruns only what depends on it (the constant-rate run does not depend on the schedule at all).
    @functools.lru_cache(maxsize=256)
    def scheduled_run(schedule: str, lr: float, warmup: int, optimizer: str):
        cls, kwargs, rate = optimizer_setting(optimizer, lr)
        sched = make_schedule(schedule, rate, steps, warmup)
        return sched(t), run(scheduled(cls, sched), surface, start, steps=steps, **kwargs)

    @functools.lru_cache(maxsize=64)
    def constant_run(lr: float, optimizer: str):
        cls, kwargs, rate = optimizer_setting(optimizer, lr)
        return run(cls, surface, start, steps=steps, lr=rate, **kwargs)

    def compute(schedule, lr, warmup_steps, optimizer):
        warms_up = schedule in ("warmup_cosine", "wsd")
        warmup = int(round(warmup_steps)) if warms_up else 0   # the others ignore it
        rate = optimizer_setting(optimizer, lr)[2]
        rates, scheduled_path = scheduled_run(schedule, float(lr), warmup, optimizer)
        c = color(optimizer)
        out = {"title": f"{optimizer} on Rosenbrock, {schedule} from peak η = {rate:.3g}"
                        + (f", warm-up {warmup} steps" if warms_up else ""),
               "rate": Series(t, rates, "scheduled η_t", c), "peak": Series([0, steps - 1], [rate, rate], "", c)}
        for key, label, path in [("sched", f"{optimizer}, {schedule}", scheduled_path),
                                 ("const", f"{optimizer}, constant", constant_run(float(lr), optimizer))]:
            label = run_label(label, path)
            gap = loss_gap(path.losses, surface.min_value)
            out[f"{key}_path"] = Series(path.points[:, 0], path.points[:, 1], label, c)
            out[f"{key}_loss"] = Series(np.arange(len(gap)), gap, label, c)
        ends = [y[np.isfinite(y)][-1] if np.isfinite(y).any() else np.nan
                for y in (out["sched_loss"].y, out["const_loss"].y)]
        if np.all(np.isfinite(ends)):
            ratio = ends[1] / ends[0]
            times = max(ratio, 1 / ratio)
            times = f"{times:.2g}" if times < 10 else f"{times:,.0f}"
            out["title"] += (": the schedule ends where the constant rate does" if abs(np.log(ratio)) < 0.01
                             else f": the schedule ends {times} times lower than the constant rate" if ratio > 1
                             else f": the schedule ends {times} times higher than the constant rate")
        return out

    c = color("Adam")
    panels = [
        Panel((Line("rate", c), Line("peak", c, dash="dashed", width=1.0, legend=False)),
              xlabel="step t", ylabel="learning rate η_t"),
        Panel((Line("sched_path", c, width=1.2), Line("const_path", c, dash="dashed", width=1.2)),
              xlabel="x", ylabel="y", contour="Rosenbrock", xlim=(-2, 2), ylim=(-1, 3)),
        Panel((Line("sched_loss", c, legend=False), Line("const_loss", c, dash="dashed", legend=False)),
              xlabel="step t", ylabel="f(θ_t) − f*", ylog=True, width=1.2),
    ]
    controls = [
        Slider("warmup_steps", 0, 100, 30, label="warm-up steps", step=1, grid=[0, 5, 10, 20, 30, 40, 60, 80, 100]),
        Choice("schedule", list(SCHEDULES), "warmup_cosine", label="schedule"),
        Slider("lr", 0.01, 2.0, 1.0, log=True, label="peak η (Adam; momentum: × 1e-3)", grid=12),
        Choice("optimizer", ["Adam", "Momentum"], "Adam", label="optimizer"),
    ]
    return Explorer(compute, controls, panels, figsize=(11.0, 3.6))
