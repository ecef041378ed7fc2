"""Chapter "Nesterov's accelerated gradient": Nesterov against heavy ball at the same learning rate and momentum."""

from __future__ import annotations

from ..sgd import SGD
from .base import Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["nesterov_explorer"]


@explorer_factory
def nesterov_explorer(steps: int = 60):
    """Heavy ball and Nesterov with the same ``lr`` and ``momentum``.

    On the default quadratic (largest curvature 1) the learning rate's range crosses both stability limits: Nesterov's
    at ``lr = (2 + 2 momentum) / (1 + 2 momentum)`` first, heavy ball's at ``2 + 2 momentum`` later.
    """

    def make_runs(surface, starts, lr, momentum):
        return {
            "Momentum": cached_run(SGD, surface, starts, steps, lr=lr, momentum=momentum),
            "Nesterov": cached_run(SGD, surface, starts, steps, lr=lr, momentum=momentum, nesterov=True),
        }

    controls = [
        Slider("lr", 0.01, 4.0, 0.5, log=True, label="learning rate η", grid=16),
        Slider("momentum", 0.01, 0.98, 0.9, label="momentum β", step=0.01,
               grid=[0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98]),
    ]
    return surface_explorer(make_runs, controls, runs=["Momentum", "Nesterov"])
