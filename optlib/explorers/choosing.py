"""Chapter "Choosing an optimizer": any optimizer at any learning rate of the sweep, against a reference.

Training a network for every slider position would take seconds, so the explorer draws from a
precomputed :class:`~optlib.models.Sweep` (every optimizer at every learning rate of a grid, several
seeds each): a learning rate between two grid points is snapped to the nearer one (in log scale),
and the title says which was used. The chapter passes the sweep it computed; without one, the
chapter's study is computed once (a few seconds) and kept for the session.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from matplotlib.ticker import NullLocator

from ..adagrad import Adagrad
from ..adam import Adam
from ..adamw import AdamW
from ..real_data import load_digits
from ..models import MLP, Sweep, lr_sweep
from ..plots import color
from ..rmsprop import RMSprop
from ..sgd import SGD
from .base import Choice, Explorer, Slider

__all__ = ["choosing_explorer", "CONTENDERS", "LEARNING_RATES", "chapter_sweep", "seed_band"]

#: The chapter's contenders: display name -> (optimizer class, hyperparameters other than lr), torch defaults.
CONTENDERS = {
    "SGD": (SGD, {}),
    "Momentum": (SGD, {"momentum": 0.9}),
    "Nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "Adagrad": (Adagrad, {}),
    "RMSprop": (RMSprop, {}),
    "Adam": (Adam, {}),
    "AdamW": (AdamW, {}),
}
#: Half-decade steps from 10^-3.5 to 10.
LEARNING_RATES = 10.0 ** np.arange(-3.5, 1.01, 0.5)


@functools.lru_cache(maxsize=1)
def chapter_sweep() -> Sweep:
    """The chapter's study: a 64-32-10 ReLU MLP on the digits, 20 epochs of batches of 64, seeds 0-4."""
    return lr_sweep(MLP(64, 32, 10, activation="relu"), load_digits(), CONTENDERS, LEARNING_RATES,
                    epochs=20, batch_size=64, seeds=range(5), eval_every=2)


def seed_band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max over seeds (axis 0), with diverged entries (inf/nan) left out of each column.

    A column where every seed diverged is nan in all three (matplotlib leaves a gap).
    """
    masked = np.ma.masked_invalid(np.asarray(values, dtype=float))
    stats = (masked.mean, masked.min, masked.max)
    return tuple(np.ma.filled(stat(axis=0).astype(float), np.nan) for stat in stats)


def choosing_explorer(sweep: Sweep | None = None, optimizer: str = "SGD", reference: str = "Adam"):
    """Training loss and test accuracy of ``optimizer`` at a chosen learning rate, against ``reference``.

    Both start at their tuned learning rates (lowest mean final training loss). The right panel is
    the learning-rate sensitivity of both, with the chosen rates marked. The website's player sweeps
    ``optimizer``'s learning rate over the grid, with the reference fixed at its tuned rate.
    """
    sweep = chapter_sweep() if sweep is None else sweep
    lrs = np.asarray(sweep.lrs)
    ratios = lrs[1:] / lrs[:-1]
    if len(lrs) < 2 or not np.allclose(ratios, ratios[0]):
        raise ValueError("the explorer needs a sweep over a geometric grid of at least two learning rates")
    names = sweep.names
    for name in (optimizer, reference):
        if name not in names:
            raise ValueError(f"{name!r} is not in the sweep; it has {names}")
    log_lrs = np.log(lrs)
    # Per optimizer, precomputed once: mean/min/max curves at every lr, and the sensitivity curve.
    curves = {}
    for name in names:
        per_lr = []
        for history in sweep.histories[name]:
            accuracy = history.test_accuracy
            per_lr.append((history.epochs, seed_band(history.train_loss),
                           None if accuracy is None else seed_band(accuracy), history.diverged_at))
        curves[name] = per_lr
    final_mean = {name: seed_band(sweep.final(name).T)[0] for name in names}
    ceiling = 10.0
    classification = sweep.histories[names[0]][0].test_accuracy is not None
    n_seeds = len(sweep.histories[names[0]][0].seeds)

    def snap(lr: float) -> int:
        return int(np.argmin(np.abs(log_lrs - np.log(lr))))

    def setup(fig, optimizer, reference):
        """Axes, ticks, the sensitivity curves and the legend, once per pair of optimizers; the
        curves of the chosen learning rates are moved later (see :func:`draw`)."""
        fig.clear()
        width = 0.25
        loss_ax = fig.add_axes([0.07, 0.17, width, 0.66])
        acc_ax = fig.add_axes([0.40, 0.17, width, 0.66])
        sens_ax = fig.add_axes([0.73, 0.17, width, 0.66])
        parts = []
        for name, style in ((reference, "--"), (optimizer, "-")):
            c = color(name)
            epochs, (mean, low, high), accuracy, _ = curves[name][0]
            (loss,) = loss_ax.semilogy(epochs, mean, style, color=c, label=name)
            loss_fill = loss_ax.fill_between(epochs, low, high, color=c, alpha=0.2, linewidth=0)
            note = loss_ax.text(0.5, 0.9 if style == "-" else 0.8, "", transform=loss_ax.transAxes,
                                ha="center", color=c, fontsize=8, visible=False)
            acc = acc_fill = None
            if accuracy is not None:
                (acc,) = acc_ax.plot(epochs, accuracy[0], style, color=c)
                acc_fill = acc_ax.fill_between(epochs, accuracy[1], accuracy[2], color=c, alpha=0.2, linewidth=0)
            finals = final_mean[name]
            shown = np.where(np.isfinite(finals), np.minimum(finals, ceiling), np.nan)
            sens_ax.loglog(lrs, shown, style, marker=".", color=c)
            blown = ~np.isfinite(finals)
            if blown.any():
                sens_ax.plot(lrs[blown], np.full(blown.sum(), ceiling), "x", color=c)
            (chosen,) = sens_ax.plot(lrs[0], ceiling, "o", color=c, markersize=8, markerfacecolor="none")
            parts.append(SimpleNamespace(name=name, loss=loss, loss_fill=loss_fill, note=note, acc=acc,
                                         acc_fill=acc_fill, shown=shown, chosen=chosen))
        # Few, fixed, plain-text ticks and no axes titles: tick labels (log axes would typeset
        # every one as math) and title placement dominate a redraw.
        decades, labels = [1e-4, 1e-2, 1.0], ["1e-4", "0.01", "1"]
        epoch_ticks = [0, curves[names[0]][0][0][-1] // 2, curves[names[0]][0][0][-1]]
        loss_ax.set(xlabel="epoch", ylabel="training loss", ylim=(1e-4, 5.0), yticks=decades,
                    yticklabels=labels,
                    xticks=epoch_ticks)
        legend = loss_ax.legend(fontsize=7, loc="lower left")
        for part, text in zip(parts, legend.get_texts(), strict=True):
            part.legend_text = text
        if classification:
            acc_ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.0, 1.0), yticks=[0, 0.5, 1],
                       xticks=epoch_ticks)
        else:
            acc_ax.set_axis_off()
        lr_ticks = [t for t in 10.0 ** np.arange(-4, 3, 2) if lrs[0] <= t <= lrs[-1]]
        sens_ax.set(xlabel="learning rate (x: diverged)", ylabel="final training loss",
                    ylim=(1e-4, 2 * ceiling), yticks=decades, yticklabels=labels, xticks=lr_ticks,
                    xticklabels=[f"{t:g}" for t in lr_ticks])
        for axis in (loss_ax.yaxis, sens_ax.yaxis, sens_ax.xaxis):
            axis.set_minor_locator(NullLocator())
        for ax in (loss_ax, acc_ax, sens_ax):
            ax.grid(alpha=0.3)
        return SimpleNamespace(names=(optimizer, reference), loss_ax=loss_ax, parts=parts)

    def draw(fig, optimizer, lr, reference, reference_lr):
        view = getattr(fig, "_optlib_choosing_view", None)
        if view is None or view.loss_ax not in fig.axes or view.names != (optimizer, reference):
            view = fig._optlib_choosing_view = setup(fig, optimizer, reference)
        for part, i in zip(view.parts, (snap(reference_lr), snap(lr)), strict=True):
            epochs, (mean, low, high), accuracy, diverged_at = curves[part.name][i]
            part.loss.set_data(epochs, mean)
            part.loss_fill.set_data(epochs, low, high)
            label = f"{part.name}, lr={lrs[i]:.2g}"
            part.loss.set_label(label)
            part.legend_text.set_text(label)
            gone = bool(np.all(diverged_at >= 0))
            part.note.set_visible(gone)
            if gone:
                part.note.set_text(f"{part.name} diverged (epoch {diverged_at.min()})")
            if part.acc is not None:
                part.acc.set_data(epochs, accuracy[0])
                part.acc_fill.set_data(epochs, accuracy[1], accuracy[2])
            part.chosen.set_data([lrs[i]], [part.shown[i] if np.isfinite(part.shown[i]) else ceiling])
        fig.suptitle(f"{optimizer} at lr = {lrs[snap(lr)]:.3g} against {reference} at lr = "
                     f"{lrs[snap(reference_lr)]:.3g} (mean and range over {n_seeds} seeds)",
                     fontsize=9)

    draw.incremental = True  # moves its artists on its own figure (see Explorer.redraw)

    controls = [
        Choice("optimizer", names, optimizer, label="optimizer"),
        Slider("lr", float(lrs[0]), float(lrs[-1]), float(lrs[sweep.best_index(optimizer)]), log=True,
               label="its learning rate"),
        Choice("reference", names, reference, label="against"),
        Slider("reference_lr", float(lrs[0]), float(lrs[-1]), float(lrs[sweep.best_index(reference)]),
               log=True, label="reference's learning rate"),
    ]
    return Explorer(draw, controls, sweep="lr", frames=len(lrs), figsize=(10.0, 3.4))
