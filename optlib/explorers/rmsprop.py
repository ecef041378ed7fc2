"""Chapter "RMSprop": a leaky average of squared gradients keeps the step alive where Adagrad's dies."""

from __future__ import annotations

from ..adagrad import Adagrad
from ..rmsprop import RMSprop
from ..trajectory import run
from .base import Choice, Slider
from .surface import surface_explorer

__all__ = ["rmsprop_explorer"]


def rmsprop_explorer(steps: int = 80):
    """RMSprop against Adagrad at the same learning rate; the website's player sweeps ``alpha``."""

    def make_runs(surface, start, lr, alpha, centered, adagrad_lr):
        return {
            "Adagrad": run(Adagrad, surface, start, steps=steps, lr=adagrad_lr),
            "RMSprop": run(RMSprop, surface, start, steps=steps, lr=lr, alpha=alpha,
                           centered=centered == "yes"),
        }

    controls = [
        Slider("lr", 0.003, 0.5, 0.1, log=True, label="RMSprop lr"),
        Slider("alpha", 0.0, 0.999, 0.9, label="alpha", step=0.001),
        Choice("centered", ["no", "yes"], "no", label="centered"),
        Slider("adagrad_lr", 0.03, 3.0, 0.5, log=True, label="Adagrad lr"),
    ]
    return surface_explorer(make_runs, controls, sweep="alpha")
