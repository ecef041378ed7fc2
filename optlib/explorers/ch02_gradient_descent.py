"""Chapter "Gradient descent": how the learning rate decides between crawling, converging and diverging."""

from __future__ import annotations

from ..sgd import SGD
from .base import Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["gradient_descent_explorer"]


@explorer_factory
def gradient_descent_explorer(steps: int = 50):
    """Plain gradient descent at any learning rate from 0.01 to 2.5 (the website: 24 of them)."""

    def make_runs(surface, starts, lr):
        return {"GD": cached_run(SGD, surface, starts, steps, lr=lr)}

    return surface_explorer(make_runs, [Slider("lr", 0.01, 2.5, 0.5, log=True, label="learning rate η", grid=24)],
                            runs=["GD"])
