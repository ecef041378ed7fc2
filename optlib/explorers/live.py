"""The live form of an explorer: ipywidgets controls and a matplotlib figure.

:func:`setup_view` builds a figure once per shape (axes, contours, fixed spans, one empty artist per
line slot); :func:`update_view` moves those artists to a new setting's data. Nothing is stored on
the figure: the view is a plain object the caller keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..plots import decade_ticks, plot_contour

__all__ = ["blank_figure", "setup_view", "update_view", "live_widget"]

_DASH = {"solid": "-", "dashed": "--", "dotted": ":"}


def blank_figure(figsize, dpi) -> Figure:
    """An empty figure with an Agg canvas, outside pyplot (so nothing is shown twice)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _shape(explorer, params: Mapping) -> tuple:
    """What the axes depend on: the surface under each contour panel."""
    return tuple(explorer.surface(p, params)[0] for p in explorer.panels)


def setup_view(explorer, fig: Figure, params: Mapping) -> SimpleNamespace:
    fig.clear()
    panels = explorer.panels
    # Fixed margins: a layout engine would dominate every redraw.
    axes = fig.subplots(1, len(panels), width_ratios=[p.width for p in panels], squeeze=False,
                        gridspec_kw=dict(left=0.07, right=0.98, bottom=0.15, top=0.84,
                                         wspace=0.3 if len(panels) < 3 else 0.4))[0]
    artists = {}
    for ax, panel in zip(axes, panels, strict=True):
        surface_name, surface = explorer.surface(panel, params)
        if surface is not None:
            plot_contour(surface, ax=ax, resolution=100, levels=18)
        for low, high, colour in panel.hspans:
            ax.axhspan(low, high, color=colour, alpha=0.2, linewidth=0)
        for low, high, colour in panel.vspans:
            ax.axvspan(low, high, color=colour, alpha=0.15, linewidth=0)
        for y, colour in panel.hlines:
            ax.axhline(y, color=colour, linewidth=0.8)
        for x, y, text in panel.notes:
            ax.text(x, y, text, transform=ax.transAxes, fontsize=8, color="#555555", va="top")
        if panel.xlog:
            ax.set_xscale("log")
            decade_ticks(ax.xaxis)
        if panel.ylog:
            ax.set_yscale("log")
            decade_ticks(ax.yaxis)
        for line in panel.lines:
            if line.style == "band":
                artists[line.key] = SimpleNamespace(ax=ax, band=None, line=line)
                continue
            marker = "o" if "markers" in line.style else None
            linestyle = _DASH[line.dash] if "line" in line.style else "none"
            (artist,) = ax.plot([], [], linestyle=linestyle, marker=marker, markersize=line.marker_size,
                                color=line.color, linewidth=line.width, alpha=line.alpha)
            artists[line.key] = SimpleNamespace(ax=ax, artist=artist, line=line)
        ax.set(xlabel=panel.xlabel, ylabel=panel.ylabel)
        if panel.title:
            ax.set_title(panel.title, fontsize=9)
        if panel.xlim:
            ax.set_xlim(panel.xlim)
        if panel.ylim:
            ax.set_ylim(panel.ylim)
        if surface is None:
            ax.grid(True, alpha=0.3)
    legend_ax = next((ax for ax, p in zip(axes, panels, strict=True) if p.contour), axes[-1])
    return SimpleNamespace(shape=_shape(explorer, params), fig=fig, axes=list(axes), artists=artists,
                           legend_ax=legend_ax, legend=None)


def update_view(explorer, view: SimpleNamespace, params: Mapping) -> SimpleNamespace:
    if view.shape != _shape(explorer, params) or any(ax not in view.fig.axes for ax in view.axes):
        view = setup_view(explorer, view.fig, params)
    data = explorer.data(**params)
    handles, labels = [], []
    for key, slot in view.artists.items():
        series = data.get(key)
        if slot.line.style == "band":
            if slot.band is not None:
                slot.band.remove()
                slot.band = None
            if series is not None:
                slot.band = slot.ax.fill_between(series.x, series.y, series.y2, color=series.color or slot.line.color,
                                                 alpha=0.2, linewidth=0)
            continue
        artist = slot.artist
        if series is None:
            artist.set_data([], [])
            continue
        artist.set_data(series.x, series.y)
        artist.set_color(series.color or slot.line.color)
        if series.label and slot.line.legend and series.label not in labels:
            handles.append(artist)
            labels.append(series.label)
    for ax, panel in zip(view.axes, explorer.panels, strict=True):
        _, surface = explorer.surface(panel, params)
        if surface is not None and panel.xlim is None:
            (x0, x1), (y0, y1) = surface.bounds
            for key in (line.key for line in panel.lines):
                series = data.get(key)
                if series is not None and len(series.x) and np.isfinite(series.x[0]):
                    sx, sy = series.x[0], series.y[0]
                    x0, x1, y0, y1 = min(x0, sx - 0.2), max(x1, sx + 0.2), min(y0, sy - 0.2), max(y1, sy + 0.2)
            ax.set(xlim=(x0, x1), ylim=(y0, y1))
            continue
        if panel.xlim is None or panel.ylim is None:
            ax.relim(visible_only=True)
            ax.autoscale_view(scalex=panel.xlim is None, scaley=panel.ylim is None)
    if view.legend is not None:
        view.legend.remove()
    view.legend = view.legend_ax.legend(handles, labels, fontsize=8, loc="upper right", framealpha=0.9)
    view.fig.suptitle(data.get("title", ""), fontsize=10)
    return view


def live_widget(explorer):
    import ipywidgets as widgets
    from IPython.display import display

    controls = {c.name: c.widget() for c in explorer.controls}
    fig = blank_figure(explorer.figsize, explorer.dpi)
    state = {"view": explorer.setup(fig)}

    def redraw(**params):
        state["view"] = explorer.update(state["view"], **params)
        display(fig)

    output = widgets.interactive_output(redraw, controls)
    return widgets.VBox([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}), output])
