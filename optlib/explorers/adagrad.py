"""Chapter "Adagrad": per-coordinate steps that only shrink, next to gradient descent's single step."""

from __future__ import annotations

from ..adagrad import Adagrad
from ..sgd import SGD
from ..trajectory import run
from .base import Slider
from .surface import surface_explorer

__all__ = ["adagrad_explorer"]


def adagrad_explorer(steps: int = 60):
    """Adagrad against gradient descent; the website's player sweeps Adagrad's learning rate."""

    def make_runs(surface, start, lr, initial_accumulator_value, gd_lr):
        return {
            "GD": run(SGD, surface, start, steps=steps, lr=gd_lr),
            "Adagrad": run(Adagrad, surface, start, steps=steps, lr=lr,
                           initial_accumulator_value=initial_accumulator_value),
        }

    controls = [
        Slider("lr", 0.03, 3.0, 0.5, log=True, label="Adagrad lr"),
        Slider("initial_accumulator_value", 0.0, 10.0, 0.0, label="initial accumulator", step=0.1),
        Slider("gd_lr", 0.01, 2.5, 0.5, log=True, label="GD lr"),
    ]
    return surface_explorer(make_runs, controls, sweep="lr")
