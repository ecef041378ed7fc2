"""Chapter "RMSprop": a leaky average of squared gradients keeps the step alive where Adagrad's dies."""

from __future__ import annotations

from ..adagrad import Adagrad
from ..rmsprop import RMSprop
from .base import Choice, Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["rmsprop_explorer"]


@explorer_factory
def rmsprop_explorer(steps: int = 80):
    """RMSprop against Adagrad, each with its own learning rate."""

    def make_runs(surface, starts, lr, alpha, centered, adagrad_lr):
        return {
            "Adagrad": cached_run(Adagrad, surface, starts, steps, lr=adagrad_lr),
            "RMSprop": cached_run(RMSprop, surface, starts, steps, lr=lr, alpha=alpha,
                           centered=centered == "yes"),
        }

    controls = [
        Slider("lr", 0.003, 0.5, 0.1, log=True, label="RMSprop η", grid=12),
        Slider("alpha", 0.0, 0.999, 0.9, label="α", step=0.001, grid=[0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]),
        Choice("centered", ["no", "yes"], "no", label="centered"),
        Slider("adagrad_lr", 0.03, 3.0, 0.5, log=True, label="Adagrad η", grid=12),
    ]
    return surface_explorer(make_runs, controls, runs=["Adagrad", "RMSprop"])
