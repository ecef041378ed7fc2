"""Figures: a surface's contours with trajectories on top, and loss against step.

Every optimizer has one colour throughout the book (``color(name)``), drawn from the Okabe-Ito
palette, which stays distinguishable under the common forms of colour blindness, then from
Paul Tol's "muted" palette for the optimizers that come later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from .surfaces import Surface
from .trajectory import Trajectory, loss_gap

__all__ = ["OPTIMIZER_COLORS", "color", "contour_grid", "decade_ticks", "draw_runs", "loss_lines", "plot_contour",
           "plot_paths", "plot_trajectories", "plot_losses"]

#: One colour per optimizer, the same in every chapter.
OPTIMIZER_COLORS: dict[str, str] = {
    "GD": "#0072B2",         # blue           (Okabe-Ito)
    "SGD": "#56B4E9",        # sky blue
    "Mini-batch": "#CC6677",  # rose           (Tol muted)
    "Momentum": "#E69F00",   # orange
    "Nesterov": "#D55E00",   # vermillion
    "Adagrad": "#009E73",    # bluish green
    "RMSprop": "#CC79A7",    # reddish purple
    "Adam": "#000000",       # black
    "AdamW": "#332288",      # indigo         (Tol muted)
    "AMSGrad": "#882255",    # wine
    "NAdam": "#44AA99",      # teal
    "Adadelta": "#999933",   # olive
    "Adamax": "#AA4499",     # purple
    "RAdam": "#DDCC77",      # sand
    "Lion": "#117733",       # green
    "Muon": "#88CCEE",       # cyan
    "Schedule-free": "#661100",  # dark red    (Tol)
    "Shampoo": "#EE3377",    # magenta        (Tol vibrant)
    "SOAP": "#4477AA",       # blue           (Tol bright)
}
_FALLBACK = "#777777"


def color(name: str) -> str:
    """The book's colour for an optimizer, matched on the label's first word, case-insensitively.

    >>> color("Adam") == color("adam, lr = 0.1") == color("Adam (amsgrad)")
    True
    """
    key = re.split(r"[\s,;:(=]", name.strip(), maxsplit=1)[0].lower() if name else ""
    for known, value in OPTIMIZER_COLORS.items():
        if known.lower() == key:
            return value
    return _FALLBACK


def _axes(ax: Axes | None, figsize=(5.0, 4.0)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def contour_grid(surface: Surface, resolution: int = 200, levels: int = 25):
    """``x, y, z, levels``: the surface on a ``resolution``-square grid over its bounds and the contour
    levels a figure draws (``z`` is ``f - f*`` with levels spaced geometrically when the surface asks
    for log levels; ``levels`` is then an array, else the count)."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    z = surface.value(np.stack([x, y], axis=-1))
    if surface.log_levels:
        above = z - surface.min_value
        lowest = max(np.percentile(above, 0.5), 1e-3 * above.max(), 1e-12)
        return x, y, above, np.geomspace(lowest, above.max(), levels)
    return x, y, z, levels


def plot_contour(surface: Surface, ax: Axes | None = None, resolution: int = 200, levels: int = 25) -> Axes:
    """Filled-line contours of ``surface`` over its ``bounds``, with its minima marked by stars."""
    ax = _axes(ax)
    (x0, x1), (y0, y1) = surface.bounds
    x, y, z, values = contour_grid(surface, resolution, levels)
    if surface.log_levels:
        ax.contour(x, y, z, levels=values, cmap="Greys_r", norm=LogNorm(), linewidths=0.7, alpha=0.8)
    else:
        ax.contour(x, y, z, levels=levels, cmap="Greys_r", linewidths=0.7, alpha=0.8)
    ax.plot(surface.minima[:, 0], surface.minima[:, 1], "*", color="#444444", markersize=12, zorder=3,
            label="minimum")
    # Plain-text labels: mathtext parsing would be a third of every explorer redraw.
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y", aspect="equal")
    return ax


def _log_label(value, _position) -> str:
    """Plain-text label of a log tick: "0.02", "5", "1e-6", "2e8" (mathtext would be slow to draw)."""
    if not value > 0:
        return ""
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    exponent = int(np.floor(np.log10(value) + 1e-9))
    mantissa = round(value / 10.0**exponent, 6)
    return f"{mantissa:g}e{exponent}"


class _DecadeLocator(LogLocator):
    """Powers of ten; where the view holds fewer than two of them, 1-2-5 steps instead."""

    def tick_values(self, vmin, vmax):
        ticks = super().tick_values(vmin, vmax)
        low, high = min(vmin, vmax), max(vmin, vmax)
        if np.count_nonzero((ticks >= low) & (ticks <= high)) >= 2:
            return ticks
        return LogLocator(subs=(1.0, 2.0, 5.0)).tick_values(vmin, vmax)


def decade_ticks(axis) -> None:
    """Ticks at powers of ten (or 1-2-5 steps on a short range), labelled in plain text ("1e-3"),
    no minor ticks, on a log-scaled ``axis`` (``ax.yaxis`` or ``ax.xaxis``): the fast path for figures
    an explorer redraws live (mathtext tick labels and minor ticks are most of a log axis's drawing time).

    >>> _log_label(0.002, None), _log_label(5.0, None), _log_label(1e5, None), _log_label(2e-6, None)
    ('0.002', '5', '1e5', '2e-6')
    """
    axis.set_major_locator(_DecadeLocator(numticks=6))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(_log_label))


def plot_paths(surface: Surface, trajectories: Mapping[str, Trajectory], ax: Axes) -> list:
    """Draw each named trajectory on ``ax`` (no contours); return the artists, so a live figure can
    remove them and draw the next runs without redrawing the contours.

    A run that diverged is drawn up to its last finite point, which is marked with a cross and
    the step at which it left. The view widens to show every start point.
    """
    (x0, x1), (y0, y1) = surface.window([path.points[0] for path in trajectories.values()])
    ax.set(xlim=(x0, x1), ylim=(y0, y1))
    artists = []
    for label, path in trajectories.items():
        points = path.points
        c = color(label)
        artists += ax.plot(points[:, 0], points[:, 1], "-o", color=c, markersize=2.5, linewidth=1.3, label=label)
        artists += ax.plot(*points[0], "o", color=c, markersize=6, markerfacecolor="white")
        if path.diverged:
            last = points[np.isfinite(points[:, 0])][-1]
            shown = np.clip(last, [x0, y0], [x1, y1])
            artists += ax.plot(*shown, "X", color=c, markersize=10)
            artists.append(ax.annotate(f"diverged at step {path.diverged_at}", shown, textcoords="offset points",
                                       xytext=(6, -12), color=c, fontsize=9))
    artists.append(ax.legend(loc="upper right", fontsize=8, framealpha=0.9))
    return artists


def plot_trajectories(surface: Surface, trajectories: Mapping[str, Trajectory], ax: Axes | None = None,
                      title: str | None = None, resolution: int = 200) -> Axes:
    """Contours of ``surface`` and each named trajectory on top, in the optimizer's colour."""
    ax = plot_contour(surface, ax, resolution=resolution)
    plot_paths(surface, trajectories, ax)
    if title:
        ax.set_title(title)
    return ax


def loss_lines(trajectories: Mapping[str, Trajectory], min_value: float, ax: Axes) -> list:
    """Draw ``f(theta_t) - min_value`` against ``t`` for each named run on ``ax``; return the artists.

    A run that diverged gets a dotted vertical line at the step where it left.
    """
    artists = []
    for label, path in trajectories.items():
        gap = loss_gap(path.losses, min_value)
        artists += ax.plot(np.arange(len(gap)), gap, color=color(label), label=label, linewidth=1.5)
        if path.diverged:
            artists.append(ax.axvline(path.diverged_at, color=color(label), linestyle=":", linewidth=1))
    return artists


def plot_losses(trajectories: Mapping[str, Trajectory], min_value: float = 0.0, ax: Axes | None = None,
                title: str | None = None, legend: bool = True) -> Axes:
    """``f(theta_t) - min_value`` against step ``t`` on a log scale, one line per named run."""
    ax = _axes(ax, figsize=(5.0, 3.5))
    ax.set_yscale("log")
    loss_lines(trajectories, min_value, ax)
    ax.set(xlabel="step t", ylabel="f(θ_t) − f*")
    decade_ticks(ax.yaxis)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def draw_runs(fig, surface: Surface, runs: Mapping[str, Trajectory], title: str = "") -> None:
    """Into ``fig`` (cleared first): trajectories over the contours (left), loss against step (right).

    The legend on the left serves both panels.
    """
    fig.clear()
    path_ax, loss_ax = fig.subplots(1, 2, width_ratios=[1, 1.25], gridspec_kw=dict(
        left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25))
    plot_contour(surface, ax=path_ax, resolution=120, levels=20)
    plot_losses({}, ax=loss_ax, legend=False)
    plot_paths(surface, runs, path_ax)
    loss_lines(runs, surface.min_value, loss_ax)
    loss_ax.relim()
    loss_ax.autoscale_view()
    fig.suptitle(title, fontsize=11)
