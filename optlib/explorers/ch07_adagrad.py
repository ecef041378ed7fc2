"""Chapter "Adagrad": per-coordinate steps that only shrink, next to gradient descent's single step."""

from __future__ import annotations

from ..adagrad import Adagrad
from ..sgd import SGD
from .base import Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["adagrad_explorer"]


@explorer_factory
def adagrad_explorer(steps: int = 60):
    """Adagrad against gradient descent, each with its own learning rate."""

    def make_runs(surface, starts, lr, initial_accumulator_value, gd_lr):
        return {
            "GD": cached_run(SGD, surface, starts, steps, lr=gd_lr),
            "Adagrad": cached_run(Adagrad, surface, starts, steps, lr=lr,
                           initial_accumulator_value=initial_accumulator_value),
        }

    controls = [
        Slider("lr", 0.03, 3.0, 0.5, log=True, label="Adagrad η", grid=12),
        Slider("initial_accumulator_value", 0.0, 10.0, 0.0, label="initial accumulator G₀", step=0.1,
               grid=[0.0, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0]),
        Slider("gd_lr", 0.01, 2.5, 0.5, log=True, label="GD η", grid=12),
    ]
    return surface_explorer(make_runs, controls, runs=["GD", "Adagrad"])
