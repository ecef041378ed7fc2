"""Chapter "Adam": momentum on top of RMSprop's scale, with bias correction; against both parents."""

from __future__ import annotations

from ..adam import Adam
from ..rmsprop import RMSprop
from ..sgd import SGD
from .base import Choice, Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["adam_explorer"]


@explorer_factory
def adam_explorer(steps: int = 80):
    """Adam against RMSprop and momentum at the same learning rate."""

    def make_runs(surface, starts, lr, beta1, beta2, amsgrad, momentum_lr):
        return {
            "Momentum": cached_run(SGD, surface, starts, steps, lr=momentum_lr, momentum=0.9),
            "RMSprop": cached_run(RMSprop, surface, starts, steps, lr=lr, alpha=beta2),
            "Adam": cached_run(Adam, surface, starts, steps, lr=lr, betas=(beta1, beta2),
                        amsgrad=amsgrad == "yes"),
        }

    controls = [
        Slider("lr", 0.003, 0.5, 0.1, log=True, label="η (Adam, RMSprop)", grid=12),
        Slider("beta1", 0.0, 0.99, 0.9, label="β₁", step=0.01, grid=[0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]),
        Slider("beta2", 0.9, 0.9999, 0.999, label="β₂ (= RMSprop α)", step=0.0001,
               grid=[0.9, 0.95, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999]),
        Choice("amsgrad", ["no", "yes"], "no", label="AMSGrad"),
        Slider("momentum_lr", 1e-4, 0.3, 0.001, log=True, label="Momentum η", grid=12),
    ]
    return surface_explorer(make_runs, controls, runs=["Momentum", "RMSprop", "Adam"], surface="Beale",
                            start=(1.0, 1.5))
