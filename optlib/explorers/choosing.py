"""Chapter "Choosing an optimizer": any optimizer at any learning rate of the sweep, against a reference.

Training a network for every slider position would take seconds, so the explorer draws from a
precomputed :class:`~optlib.models.Sweep` (every optimizer at every learning rate of a grid, several
seeds each): a learning rate between two grid points is snapped to the nearer one (in log scale),
and the title says which was used. The chapter computes its study and passes the sweep.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..models import Sweep
from ..plots import color
from ..statistics import seed_band
from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory

__all__ = ["choosing_explorer"]


@explorer_factory
def choosing_explorer(sweep: Sweep, optimizer: str = "SGD", reference: str = "Adam",
                      start: Mapping[str, float] | None = None):
    """Training loss and test accuracy of ``optimizer`` at a chosen learning rate, against ``reference``.

    ``sweep`` is the chapter's study (every optimizer at every learning rate of a geometric grid,
    several seeds each). ``start`` maps optimizer names to learning rates (snapped to the grid): the two
    sliders start at the entries for ``optimizer`` and ``reference`` (choosing another optimizer in the
    widget does not move them); the chapter passes the rates its protocol tuned on its tuning seeds. If
    ``start`` does not name ``optimizer`` (or ``reference``), its slider starts at the rate with the lowest
    mean final training loss over *all* the sweep's seeds (:meth:`~optlib.models.Sweep.best_index`), which
    need not be the rate tuned on a subset of them. The right panel is the learning-rate sensitivity of
    both, with the chosen rates marked.
    """
    if not isinstance(sweep, Sweep):
        raise TypeError(f"sweep must be an optlib.models.Sweep (the chapter's study), got {type(sweep).__name__}")
    lrs = np.asarray(sweep.lrs)
    ratios = lrs[1:] / lrs[:-1]
    if len(lrs) < 2 or not np.allclose(ratios, ratios[0]):
        raise ValueError("the explorer needs a sweep over a geometric grid of at least two learning rates")
    names = sweep.names
    for name in (optimizer, reference):
        if name not in names:
            raise ValueError(f"{name!r} is not in the sweep; it has {names}")
    start = dict(start or {})
    for name, lr in start.items():
        if name not in names:
            raise ValueError(f"start names {name!r}, which is not in the sweep; it has {names}")
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"start: the learning rate of {name!r} must be positive and finite, got {lr!r}")
    log_lrs = np.log(lrs)
    ceiling = 10.0
    final_mean = {name: seed_band(sweep.final(name).T, statistic="mean")[0] for name in names}
    shown = {name: np.where(np.isfinite(f), np.minimum(f, ceiling), ceiling) for name, f in final_mean.items()}
    classification = sweep.histories[names[0]][0].test_accuracy is not None
    n_seeds = len(sweep.histories[names[0]][0].seeds)

    def snap(lr: float) -> int:
        return int(np.argmin(np.abs(log_lrs - np.log(lr))))

    def starting_lr(name: str) -> float:
        return float(lrs[snap(start[name])] if name in start else lrs[sweep.best_index(name)])

    def compute(optimizer, lr, reference, reference_lr):
        out = {"title": f"{optimizer} against {reference}: mean and range over {n_seeds} seeds "
                        f"(learning rates of the sweep; ceiling {ceiling:g} = diverged)"}
        for key, name, rate in (("ref", reference, reference_lr), ("opt", optimizer, lr)):
            i = snap(rate)
            history = sweep.histories[name][i]
            mean, low, high = seed_band(history.train_loss, statistic="mean")
            label = f"{name}, η = {lrs[i]:.2g}"
            if np.all(history.diverged_at >= 0):
                label += f" (diverged, epoch {history.diverged_at.min()})"
            c = color(name)
            out[f"{key}_loss"] = Series(history.epochs, mean, label, c)
            out[f"{key}_loss_band"] = Series(history.epochs, low, label, c, y2=high)
            if classification:
                accuracy = seed_band(history.test_accuracy, statistic="mean")
                out[f"{key}_acc"] = Series(history.epochs, accuracy[0], label, c)
                out[f"{key}_acc_band"] = Series(history.epochs, accuracy[1], label, c, y2=accuracy[2])
            out[f"{key}_sens"] = Series(lrs, shown[name], name, c)
            out[f"{key}_chosen"] = Series([lrs[i]], [shown[name][i]], label, c)
        return out

    def lines(kind, **style):
        return tuple(Line(f"{key}_{kind}", color(name), dash=dash, **style)
                     for key, name, dash in (("ref", reference, "dashed"), ("opt", optimizer, "solid")))

    panels = [
        Panel((*lines("loss_band", style="band", legend=False), *lines("loss")), xlabel="epoch",
              ylabel="training loss", ylog=True, ylim=(1e-4, 5.0)),
        Panel((*lines("acc_band", style="band", legend=False), *lines("acc", legend=False)), xlabel="epoch",
              ylabel="test accuracy" if classification else "(no accuracy: regression)", ylim=(0.0, 1.0)),
        Panel((*lines("sens", style="line+markers", legend=False),
               *lines("chosen", style="markers", marker_size=8, legend=False)),
              xlabel="learning rate η", ylabel="final training loss", xlog=True, ylog=True,
              ylim=(1e-4, 2 * ceiling)),
    ]
    controls = [
        Choice("optimizer", names, optimizer, label="optimizer"),
        Slider("lr", float(lrs[0]), float(lrs[-1]), starting_lr(optimizer), log=True,
               label="its learning rate η", grid=[float(v) for v in lrs]),
        Choice("reference", names, reference, label="against"),
        Slider("reference_lr", float(lrs[0]), float(lrs[-1]), starting_lr(reference), log=True,
               label="reference's learning rate η", grid=[float(v) for v in lrs]),
    ]
    return Explorer(compute, controls, panels, figsize=(10.0, 3.4))
