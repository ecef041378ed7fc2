"""Chapter "After Adam": each successor of Adam against Adam on a surface, and Muon's Newton-Schulz map."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from ..adadelta import Adadelta
from ..adam import Adam
from ..adamax import Adamax
from ..adamw import AdamW
from ..lion import Lion
from ..muon import NS_COEFFICIENTS, newton_schulz
from ..nadam import NAdam
from ..plots import color, decade_ticks
from ..radam import RAdam
from ..trajectory import run
from .base import Choice, Explorer, Slider
from .surface import surface_explorer

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


def after_adam_explorer(steps: int = 150):
    """Adam and one successor at the same settings; the website's player steps through the successors."""

    def make_runs(surface, start, optimizer, lr, beta1, weight_decay):
        cls, kwargs = SUCCESSORS[optimizer](lr, beta1, weight_decay)
        return {"Adam": run(Adam, surface, start, steps=steps, lr=lr, betas=(beta1, 0.999)),
                optimizer: run(cls, surface, start, steps=steps, **kwargs)}

    controls = [
        Choice("optimizer", list(SUCCESSORS), "AMSGrad", label="successor"),
        Slider("lr", 0.003, 1.0, 0.1, log=True, label="lr (Adadelta: 1)"),
        Slider("beta1", 0.0, 0.99, 0.9, label="beta1", step=0.01),
        Slider("weight_decay", 0.0, 1.0, 0.01, label="decoupled wd (AdamW, Lion)", step=0.01),
    ]
    return surface_explorer(make_runs, controls, sweep="optimizer", surface="Rosenbrock", start=(-1.5, 2.0))


COEFFICIENTS = {"quintic (Muon)": NS_COEFFICIENTS, "cubic (classical)": (1.5, -0.5, 0.0)}
_MATRIX = np.random.default_rng(0).standard_normal((48, 96)) * np.geomspace(1.0, 30.0, 96)



def newton_schulz_explorer():
    """Newton-Schulz as a map of singular values; the website's player sweeps the number of iterations."""
    x = np.geomspace(1e-4, 1.0, 200)
    before = np.linalg.svd(_MATRIX / np.linalg.norm(_MATRIX), compute_uv=False)

    @functools.lru_cache(maxsize=64)
    def curves(k: int, coefficients: str) -> tuple[np.ndarray, np.ndarray]:
        a, b, c = COEFFICIENTS[coefficients]
        y = x.copy()
        for _ in range(k):
            y = a * y + b * y**3 + c * y**5
        return y, np.linalg.svd(newton_schulz(_MATRIX, k, (a, b, c)), compute_uv=False)

    def setup(fig):
        """Axes, bands, the "before" values and the legend, once per figure; the curves are moved later."""
        fig.clear()
        map_ax, sv_ax = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.98, bottom=0.15, top=0.86,
                                                            wspace=0.3))
        for ax in (map_ax, sv_ax):
            ax.axhspan(0.68, 1.21, color=color("Muon"), alpha=0.25, linewidth=0)
            ax.axhline(1.0, color="#444444", linewidth=0.8)
        (mapped,) = map_ax.semilogx(x, x, color="#333333")
        map_ax.set(xlabel="singular value / Frobenius norm", ylim=(0, 1.5))
        sv_ax.semilogy(before, "o", markersize=2.5, color="#999999", label="before (normalised)")
        (after,) = sv_ax.semilogy(before, "o", markersize=2.5, color=color("Muon"), label="after")
        sv_ax.set(xlabel="index", ylabel="singular value", ylim=(1e-3, 3))
        legend = sv_ax.legend(fontsize=8, loc="lower left")
        for axis in (map_ax.xaxis, sv_ax.yaxis):
            decade_ticks(axis)
        return SimpleNamespace(map_ax=map_ax, mapped=mapped, after=after, after_label=legend.get_texts()[1])

    def draw(fig, ns_steps, coefficients):
        k = int(round(ns_steps))
        view = getattr(fig, "_optlib_newton_schulz_view", None)
        if view is None or view.map_ax not in fig.axes:
            view = fig._optlib_newton_schulz_view = setup(fig)
        y, after = curves(k, coefficients)
        view.mapped.set_ydata(y)
        view.after.set_data(np.arange(len(after)), after)
        view.after.set_label(f"after {k} iterations")
        view.after_label.set_text(f"after {k} iterations")
        view.map_ax.set_ylabel(f"after {k} iterations")
        fig.suptitle(f"Newton-Schulz, {coefficients}, {k} iterations (band [0.68, 1.21] shaded)", fontsize=11)

    draw.incremental = True  # moves its artists on its own figure (see Explorer.redraw)

    controls = [Slider("ns_steps", 0, 10, 5, label="iterations", step=1),
                Choice("coefficients", list(COEFFICIENTS), "quintic (Muon)", label="polynomial")]
    return Explorer(draw, controls, sweep="ns_steps", frames=11)
