"""Chapter "Mini-batch gradient descent": the batch size trades noise against steps, at a fixed budget.

Three runs on the same 2-D least-squares problem, from the same start, with the same learning rate,
each allowed the same number of per-example gradients (``epochs`` passes over the data):

* SGD, one example per step (``B = 1``): many noisy steps;
* mini-batch SGD with ``B`` examples per step: ``B`` times fewer steps, ``B`` times less variance;
* GD, the full batch: one exact step per epoch.

Batches come from shuffled epochs (:func:`optlib.problems.minibatches`' sampling, without replacement). The
dotted line is the mini-batch run's predicted noise ball, ``lr * sigma*^2 / (4 B) * (n - B) / (n - 1)``.
The website's player sweeps the batch size from 1 to ``n``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..trajectory import run_stochastic
from ..sgd import SGD
from .base import Choice, Explorer, Slider
from .sgd import DATA_SETS, N_SAMPLES, draw_stochastic_runs, regression_problem, regression_surface

__all__ = ["minibatch_explorer"]


@lru_cache(maxsize=64)
def _run(data: str, noise: float, n: int, start_x: float, start_y: float, batch_size: int, steps: int, seed: int,
         lr: float):
    """One run of the explorer (cached: SGD with B = 1 and GD do not depend on the swept batch size)."""
    return run_stochastic(SGD, regression_problem(data, noise, n), np.array([start_x, start_y]), steps,
                          batch_size=batch_size, rng=np.random.default_rng(seed), lr=lr)


def minibatch_explorer(n: int = N_SAMPLES):
    """SGD, mini-batch SGD and GD at the same budget of per-example gradients.

    Controls: the batch size (swept by the website's player), the learning rate, the budget in
    epochs, the label noise, the data set, the start point and the sampling seed.
    """

    def draw(fig, batch_size, lr, epochs, noise, data, start_x, start_y, seed):
        noise = round(float(noise), 3)
        problem, surface = regression_problem(data, noise, n), regression_surface(data, noise, n)
        B = int(np.clip(round(batch_size), 1, n))
        epochs = max(1, int(round(epochs)))
        start = np.array([start_x, start_y])
        runs, x_values = {}, {}
        for label, size in [("SGD (B = 1)", 1), (f"Mini-batch (B = {B})", B), (f"GD (B = n = {n})", n)]:
            steps = epochs * (n // size)  # every run sees the same number of examples (up to a dropped tail)
            path = _run(data, noise, n, float(start_x), float(start_y), size, steps, int(seed), float(lr))
            style = {1: dict(linewidth=0.6, alpha=0.7), n: dict(linestyle="--", linewidth=1.5)}.get(
                size, dict(linewidth=1.8))
            runs[label] = (path.points, path.losses, path.diverged_at, style)
            x_values[label] = path.samples / n
        ball = None
        if B < n:
            ball = lr * problem.gradient_variance(problem.minimizer, B, replace=False) / 4
        draw_stochastic_runs(fig, surface, start, runs, x_values=x_values, ball=ball,
                             xlabel="epochs (examples seen / n)",
                             title=f"batch size {B}, lr = {lr:.3g}, {epochs} epochs, label noise = {noise:.2g}")

    draw.incremental = True  # updates its own figure in place (see Explorer.redraw)

    controls = [
        Slider("batch_size", 1, n, 16, log=True, label="batch size", step=1),
        Slider("lr", 0.005, 1.0, 0.1, log=True, label="learning rate"),
        Slider("epochs", 1, 10, 3, label="epochs", step=1),
        Slider("noise", 0.0, 2.0, 1.0, label="label noise", step=0.1),
        Choice("data", list(DATA_SETS), "round", label="data set"),
        Slider("start_x", -4.0, 4.0, -2.0, label="start w1", step=0.1),
        Slider("start_y", -4.0, 4.0, 2.0, label="start w2", step=0.1),
        Slider("seed", 0, 9, 0, label="seed", step=1),
    ]
    return Explorer(draw, controls, sweep="batch_size")
