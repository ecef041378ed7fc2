"""Chapter "Mini-batch gradient descent": the batch size trades noise against steps, at a fixed budget.

Three runs on the same 2-D least-squares problem, from the same start, with the same learning rate,
each allowed ``epochs`` passes over the data (the same number of per-example gradients, except that shuffled
epochs drop an incomplete last batch: where ``B`` does not divide ``n`` = 200 the mini-batch run sees fewer,
576 of 600 at ``B`` = 16, 32 and 64, 384 at ``B`` = 128):

* SGD, one example per step (``B = 1``): many noisy steps;
* mini-batch SGD with ``B`` examples per step: ``B`` times fewer steps, ``B`` times less variance;
* GD, the full batch: one exact step per epoch.

Batches come from shuffled epochs (:func:`optlib.problems.minibatches`' sampling, without replacement). The
dotted line is the mini-batch run's first-order noise ball, ``lr * sigma*^2 / (4 B) * (n - B) / (n - 1)``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..problems import DATA_SETS, N_SAMPLES, regression_problem, regression_surface
from ..sgd import SGD
from ..trajectory import loss_gap, run_stochastic
from .base import Choice, Explorer, Series, Slider, explorer_factory, run_label
from .ch03_sgd import path_and_loss_panels

__all__ = ["minibatch_explorer"]


@lru_cache(maxsize=256)
def _run(data: str, noise: float, n: int, start_x: float, start_y: float, batch_size: int, steps: int, seed: int,
         lr: float):
    """One run of the explorer (cached: SGD with B = 1 and GD do not depend on the batch size)."""
    return run_stochastic(SGD, regression_problem(data, noise, n), np.array([start_x, start_y]), steps,
                          batch_size=batch_size, rng=np.random.default_rng(seed), lr=lr)


@explorer_factory
def minibatch_explorer(n: int = N_SAMPLES):
    """SGD, mini-batch SGD and GD at the same budget of per-example gradients.

    Controls: the batch size, the learning rate, the budget in epochs, the label noise, the data set,
    the start point and the sampling seed.
    """
    slots = {"sgd": ("SGD", dict(width=0.6, alpha=0.7)), "mb": ("Mini-batch", dict(width=1.8)),
             "gd": ("GD", dict(dash="dashed", width=1.5))}

    def compute(batch_size, lr, epochs, noise, data, start_x, start_y, seed):
        noise = round(float(noise), 3)
        problem, surface = regression_problem(data, noise, n), regression_surface(data, noise, n)
        B = int(np.clip(round(batch_size), 1, n))
        epochs = max(1, int(round(epochs)))
        out = {"title": f"B = {B}: {epochs * (n // B)} steps in {epochs} epochs"}
        for key, label, size in [("sgd", "SGD (B = 1)", 1), ("mb", f"Mini-batch (B = {B})", B),
                                 ("gd", f"GD (B = n = {n})", n)]:
            steps = epochs * (n // size)  # full batches per epoch: an incomplete last batch is dropped
            path = _run(data, noise, n, float(start_x), float(start_y), size, steps, int(seed), float(lr))
            label = run_label(label, path)
            out[f"{key}_path"] = Series(path.points[:, 0], path.points[:, 1], label)
            out[f"{key}_loss"] = Series(path.samples / n, loss_gap(path.losses, surface.min_value), label)
        if B < n and noise > 0:
            ball = lr * problem.gradient_variance(problem.minimizer, B, replace=False) / 4
            out["ball"] = Series([0, epochs], [ball, ball], "first-order noise ball (B, shuffled)")
            out["title"] += f"; first-order noise ball {ball:.2g}"
        return out

    def contour(params):
        data, noise = params["data"], round(float(params["noise"]), 3)
        return f"{data} data, noise {noise}", regression_surface(data, noise, n)

    panels = path_and_loss_panels(slots, contour, loss_xlabel="epochs (examples seen / n)", loss_width=1.25)
    controls = [
        Slider("batch_size", 1, n, 16, log=True, label="batch size B", step=1, grid=[1, 2, 4, 8, 16, 32, 64, 128, n]),
        Slider("lr", 0.005, 1.0, 0.1, log=True, label="learning rate η", grid=12),
        Slider("epochs", 1, 10, 3, label="epochs", step=1, grid=[1, 3]),
        Slider("noise", 0.0, 2.0, 1.0, label="label noise σ", step=0.1, grid=[0.0, 1.0]),
        Choice("data", list(DATA_SETS), "round", label="data set"),
        Slider("start_x", -4.0, 4.0, -2.0, label="start w₁", step=0.1),
        Slider("start_y", -4.0, 4.0, 2.0, label="start w₂", step=0.1),
        Slider("seed", 0, 9, 0, label="seed", step=1, grid=[0, 1]),
    ]
    points = {"names": ("start_x", "start_y"), "label": "start point", "values": [(-2.0, 2.0), (3.0, -1.0)]}
    return Explorer(compute, controls, panels, points=points)
