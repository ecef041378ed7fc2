"""Chapter "Momentum": heavy ball against gradient descent at the same learning rate."""

from __future__ import annotations

from ..sgd import SGD
from .base import Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["momentum_explorer"]


@explorer_factory
def momentum_explorer(steps: int = 60):
    """Heavy-ball momentum and plain GD side by side.

    Both runs use the same learning rate, so ``momentum = 0`` draws two identical paths, and every
    difference in the sweep is the work of the momentum term.
    """

    def make_runs(surface, starts, lr, momentum):
        return {
            "GD": cached_run(SGD, surface, starts, steps, lr=lr),
            "Momentum": cached_run(SGD, surface, starts, steps, lr=lr, momentum=momentum),
        }

    controls = [
        Slider("lr", 0.001, 2.5, 0.1, log=True, label="learning rate η", grid=16),
        Slider("momentum", 0.0, 0.98, 0.9, label="momentum β", step=0.01,
               grid=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98]),
    ]
    return surface_explorer(make_runs, controls, runs=["GD", "Momentum"])
