"""Chapter "After Adam": each successor of Adam against Adam on a surface, and Muon's Newton-Schulz map."""

from __future__ import annotations

import functools

import numpy as np

from ..adadelta import Adadelta
from ..adam import Adam
from ..adamax import Adamax
from ..adamw import AdamW
from ..lion import Lion
from ..muon import NS_COEFFICIENTS, newton_schulz
from ..nadam import NAdam
from ..plots import color
from ..radam import RAdam
from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory
from .surface import cached_run, surface_explorer

__all__ = ["after_adam_explorer", "newton_schulz_explorer"]

#: name -> (class, keyword arguments built from the explorer's lr, beta1 and weight decay)
SUCCESSORS = {
    "AMSGrad": lambda lr, beta1, wd: (Adam, dict(lr=lr, betas=(beta1, 0.999), amsgrad=True)),
    "AdamW": lambda lr, beta1, wd: (AdamW, dict(lr=lr, betas=(beta1, 0.999), weight_decay=wd)),
    "NAdam": lambda lr, beta1, wd: (NAdam, dict(lr=lr, betas=(beta1, 0.999))),
    "Adamax": lambda lr, beta1, wd: (Adamax, dict(lr=lr, betas=(beta1, 0.999))),
    "RAdam": lambda lr, beta1, wd: (RAdam, dict(lr=lr, betas=(beta1, 0.999))),
    "Adadelta": lambda lr, beta1, wd: (Adadelta, dict(lr=1.0)),   # no learning rate to tune
    "Lion": lambda lr, beta1, wd: (Lion, dict(lr=lr, betas=(beta1, 0.99), weight_decay=wd)),
}


@explorer_factory
def after_adam_explorer(steps: int = 150):
    """Adam and one successor at the same settings."""

    def make_runs(surface, starts, optimizer, lr, beta1, weight_decay):
        cls, kwargs = SUCCESSORS[optimizer](lr, beta1, weight_decay)
        return {"Adam": cached_run(Adam, surface, starts, steps, lr=lr, betas=(beta1, 0.999)),
                optimizer: cached_run(cls, surface, starts, steps, **kwargs)}

    controls = [
        Choice("optimizer", list(SUCCESSORS), "AMSGrad", label="successor"),
        Slider("lr", 0.003, 1.0, 0.1, log=True, label="η (Adadelta: 1)",
               grid=[0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]),
        Slider("beta1", 0.0, 0.99, 0.9, label="β₁", step=0.01, grid=[0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]),
        Slider("weight_decay", 0.0, 1.0, 0.01, label="decoupled weight decay λ (AdamW, Lion)", step=0.01,
               grid=[0.0, 0.001, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0]),
    ]
    return surface_explorer(make_runs, controls, runs=["Adam", "AMSGrad"], surface="Rosenbrock",
                            start=(-1.5, 2.0), start_points=[(2.5, -2.5)])


COEFFICIENTS = {"quintic (Muon)": NS_COEFFICIENTS, "cubic (classical)": (1.5, -0.5, 0.0)}
_MATRIX = np.random.default_rng(0).standard_normal((48, 96)) * np.geomspace(1.0, 30.0, 96)



@explorer_factory
def newton_schulz_explorer():
    """Newton-Schulz as a map of singular values (left) and on a matrix's singular values (right)."""
    x = np.geomspace(1e-4, 1.0, 200)
    before = np.linalg.svd(_MATRIX / np.linalg.norm(_MATRIX), compute_uv=False)
    index = np.arange(len(before))

    @functools.lru_cache(maxsize=64)
    def curves(k: int, coefficients: str) -> tuple[np.ndarray, np.ndarray]:
        a, b, c = COEFFICIENTS[coefficients]
        y = x.copy()
        for _ in range(k):
            y = a * y + b * y**3 + c * y**5
        return y, np.linalg.svd(newton_schulz(_MATRIX, k, (a, b, c)), compute_uv=False)

    def compute(ns_steps, coefficients):
        k = int(round(ns_steps))
        y, after = curves(k, coefficients)
        return {"title": f"after {k} iterations of the {coefficients} polynomial, the singular values lie in "
                         f"[{after.min():.2g}, {after.max():.2g}] (shaded: [0.68, 1.20])",
                "mapped": Series(x, y, f"x after {k} iterations"),
                "before": Series(index, before, "before (normalised)"),
                "after": Series(index, after, f"after {k} iterations")}

    band = ((0.68, 1.20, color("Muon")),)
    panels = [
        Panel((Line("mapped", "#333333"),), xlabel="singular value / Frobenius norm",
              ylabel="after the iterations", xlog=True, ylim=(0, 1.5), hspans=band, hlines=((1.0, "#444444"),)),
        Panel((Line("before", "#999999", style="markers", marker_size=2.5),
               Line("after", color("Muon"), style="markers", marker_size=2.5)),
              xlabel="index", ylabel="singular value", ylog=True, ylim=(1e-3, 3), hspans=band,
              hlines=((1.0, "#444444"),)),
    ]
    controls = [Slider("ns_steps", 0, 10, 5, label="iterations k", step=1, grid=list(range(11))),
                Choice("coefficients", list(COEFFICIENTS), "quintic (Muon)", label="polynomial")]
    return Explorer(compute, controls, panels)
