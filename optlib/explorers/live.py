"""The live form of an explorer: ipywidgets controls and a matplotlib figure.

:func:`setup_view` builds a figure once per shape (axes, contours, fixed spans, one empty artist per
line slot); :func:`update_view` moves those artists to a new setting's data. Nothing is stored on
the figure: the view is a plain object the caller keeps.

:class:`LiveFigure` is what a control's callback runs: update the view, render it, encode a PNG. Its
render draws each axes' frame, ticks, labels and contours (most of a full draw's cost) once per set of
axis limits and keeps those pixels; a new setting pastes them and draws only what changed (the lines,
bands and legends). Autoscaled axes round their limits to ticks (decades on log axes), so most moves
of a control keep the limits, and the axes do not jitter under the reader's hand.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from types import SimpleNamespace

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..plots import decade_ticks, plot_contour
from .parts import Choice

__all__ = ["blank_figure", "setup_view", "update_view", "LiveFigure", "control_widget", "live_widget"]

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
            ax.text(x, y, text, transform=ax.transAxes, fontsize=8, color="#555555", va="top", zorder=1)
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
            # Autoscaled axes round their limits out to ticks (update_view), with no margin beyond: a few
            # coarse ticks keep the limits, and so the kept background, over more of a control's range.
            ax.set_xmargin(0.0)   # (not ax.margins, which would also make the autoscaling tight: no rounding)
            ax.set_ymargin(0.0)
            for axis, log, fixed in ((ax.xaxis, panel.xlog, panel.xlim), (ax.yaxis, panel.ylog, panel.ylim)):
                if not log and fixed is None:
                    axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
    legend_ax = next((ax for ax, p in zip(axes, panels, strict=True) if p.contour), axes[-1])
    return SimpleNamespace(shape=_shape(explorer, params), fig=fig, axes=list(axes), artists=artists,
                           legend_ax=legend_ax, legend=None, legend_key=None, title=None)


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
                # zorder 1.6: over the grid (1.5), as the live form draws it on the kept background
                slot.band = slot.ax.fill_between(series.x, series.y, series.y2, color=series.color or slot.line.color,
                                                 alpha=0.2, linewidth=0, zorder=1.6)
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
        if panel.contour is not None:
            xlim, ylim = explorer.window(panel, params, data)
            ax.set(xlim=xlim, ylim=ylim)
            continue
        if panel.xlim is None or panel.ylim is None:
            ax.relim(visible_only=True)
            mode = matplotlib.rcParams["axes.autolimit_mode"]
            matplotlib.rcParams["axes.autolimit_mode"] = "round_numbers"   # rc_context copies every rcParam
            try:
                ax.autoscale_view(scalex=panel.xlim is None, scaley=panel.ylim is None)
            finally:
                matplotlib.rcParams["axes.autolimit_mode"] = mode
    legend_key = tuple((label, handle.get_color()) for handle, label in zip(handles, labels, strict=True))
    if view.legend is None or view.legend_key != legend_key:   # a legend is costly to lay out: keep it
        if view.legend is not None:
            view.legend.remove()
        # Opaque, so that the live form can keep its pixels (see LiveFigure).
        view.legend = view.legend_ax.legend(handles, labels, fontsize=8, loc="upper right", framealpha=1.0)
        view.legend_key = legend_key
    view.title = view.fig.suptitle(data.get("title", ""), fontsize=10)
    return view


def _overlays(view: SimpleNamespace, ax) -> list:
    """The fixed artists of ``ax`` that a full draw puts over its lines (higher zorder: the frame, the
    minimum's star): the live form draws them after the lines, not into the kept background."""
    from matplotlib.axis import Axis
    from matplotlib.legend import Legend

    moving = [slot.artist for slot in view.artists.values() if slot.ax is ax and hasattr(slot, "artist")]
    if not moving:
        return []
    lowest = min(artist.get_zorder() for artist in moving)
    return [artist for artist in ax.get_children()
            if artist.get_zorder() > lowest and artist.get_visible() and artist is not ax.patch
            and artist not in moving and not isinstance(artist, (Axis, Legend))
            and artist not in (ax.title, ax._left_title, ax._right_title)]


def _moving_artists(view: SimpleNamespace, ax=None) -> list:
    """What a new setting redraws in ``ax`` (every axes: None): its lines and bands."""
    slots = [slot for slot in view.artists.values() if ax is None or slot.ax is ax]
    artists = [getattr(slot, "artist", None) or slot.band for slot in slots]
    return [artist for artist in artists if artist is not None]


class LiveFigure:
    """An explorer's live figure: ``png(**params)`` is the callback a moved control runs.

    A full draw spends most of its time on what a new setting rarely changes: frames, ticks, labels and
    contours. So each axes' background is drawn once per shape and axis limits, alone on the figure's
    bare face, and its pixels (the box of what it painted) are kept; each legend's pixels are kept per
    set of labels and colours (legends are opaque). A render pastes the kept backgrounds on the bare
    face, draws the lines and bands, then what a full draw puts over them (frames, the minima's stars),
    pastes the legend and draws the title: the order of a full draw.
    Should two axes' boxes ever overlap, that render is a full draw, so what is shown is always what a
    full draw shows (tests/test_explorers.py compares the two).

    Args:
        explorer: the :class:`~optlib.explorers.Explorer` to draw.
        keep: how many backgrounds (axes and legends) to keep.
        title_in_image: draw the setting's title into the image; the live widget shows it as text above
            the image instead (:attr:`title`), which screen readers read and which costs no drawing.
    """

    def __init__(self, explorer, keep: int = 64, title_in_image: bool = True):
        self.explorer = explorer
        self.title_in_image = title_in_image
        self.fig = blank_figure(explorer.figsize, explorer.dpi)
        self.view = explorer.setup(self.fig)
        self.keep = keep
        self.backgrounds: dict = {}
        self.reused = 0   # backgrounds pasted instead of drawn
        self.title = ""   # the title of the setting last drawn
        self._bare = None

    def _kept(self, key):
        """The background kept under ``key`` (None if missing), now the most recently used."""
        value = self.backgrounds.pop(key, None)
        if value is not None:
            self.backgrounds[key] = value
            self.reused += 1
        return value

    def _keep(self, key, value):
        if len(self.backgrounds) >= self.keep:   # forget the least recently used
            self.backgrounds.pop(next(iter(self.backgrounds)))
        self.backgrounds[key] = value
        return value

    def _painted_box(self, bare: np.ndarray):
        """The display box of every pixel that differs from the bare face, padded by one pixel."""
        from matplotlib.transforms import Bbox

        painted = np.any(np.asarray(self.fig.canvas.buffer_rgba()) != bare, axis=-1)
        rows, columns = np.flatnonzero(painted.any(axis=1)), np.flatnonzero(painted.any(axis=0))
        if not len(rows):
            return None
        height = painted.shape[0]
        return Bbox([[columns[0] - 1, height - rows[-1] - 2], [columns[-1] + 2, height - rows[0] + 1]])

    def render(self) -> None:
        """Draw the view into the canvas: kept backgrounds, the lines and bands, kept legend, title."""
        view, canvas = self.view, self.fig.canvas
        for ax in view.axes:
            ax.apply_aspect()   # what a full draw does first (equal-aspect contour panels): the limits
        if self._bare is None or self._bare[0] is not view:
            self._bare = (view, *self._bare_face())
        _, bare, bare_pixels = self._bare
        renderer = canvas.get_renderer()
        keys = [(view.shape, index, ax.get_xlim(), ax.get_ylim()) for index, ax in enumerate(view.axes)]
        kept = []
        for key, ax in zip(keys, view.axes, strict=True):
            background = self._kept(key)
            if background is None:   # draw this axes alone on the bare face, keep what it painted
                canvas.restore_region(bare)
                moving = _moving_artists(view, ax) + _overlays(view, ax)
                if view.legend is not None and view.legend_ax is ax:
                    moving.append(view.legend)
                for artist in moving:
                    artist.set_visible(False)
                ax.draw(renderer)
                for artist in moving:
                    artist.set_visible(True)
                box = self._painted_box(bare_pixels)
                background = self._keep(key, (box, canvas.copy_from_bbox(box) if box is not None else None))
            kept.append(background)
        boxes = [box for box, _ in kept if box is not None]
        if any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            if view.title is not None:
                view.title.set_visible(self.title_in_image)
            canvas.draw()
            if view.title is not None:
                view.title.set_visible(True)
            return
        canvas.restore_region(bare)
        for _, pixels in kept:
            if pixels is not None:
                canvas.restore_region(pixels)
        for artist in _moving_artists(view):
            artist.draw(renderer)
        for ax in view.axes:
            for artist in _overlays(view, ax):
                artist.draw(renderer)
        if view.legend is not None:
            legend_key = (view.shape, "legend", view.legend_key, tuple(view.legend_ax.get_position().bounds))
            pixels = self._kept(legend_key)
            if pixels is not None:
                canvas.restore_region(pixels)
            else:
                view.legend.draw(renderer)
                # One pixel more than the frame's box: the outer half of its edge.
                self._keep(legend_key, canvas.copy_from_bbox(view.legend.get_window_extent(renderer).padded(1)))
        if view.title is not None and self.title_in_image:
            view.title.draw(renderer)

    def _bare_face(self):
        """The figure's face alone (what every render starts from), as kept pixels and as an array."""
        hidden = self.fig.get_children()[1:]   # all but the figure's patch
        visible = [artist.get_visible() for artist in hidden]
        for artist in hidden:
            artist.set_visible(False)
        self.fig.canvas.draw()
        for artist, shown in zip(hidden, visible, strict=True):
            artist.set_visible(shown)
        return self.fig.canvas.copy_from_bbox(self.fig.bbox), np.array(self.fig.canvas.buffer_rgba())

    def png(self, **params) -> bytes:
        """Update to ``params`` (missing ones at their defaults), render, and encode as PNG."""
        self.view = self.explorer.update(self.view, **params)
        self.title = self.view.title.get_text()
        self.render()
        return _png(np.asarray(self.fig.canvas.buffer_rgba()))


def _png(rgba: np.ndarray) -> bytes:
    """An RGB PNG of an ``(height, width, 4)`` uint8 image, rows unfiltered, deflated at level 1.

    Pillow's encoder tries an adaptive filter on every row, which doubles the time for a figure of flat
    colours and thin lines (about 9 ms against 4.5 ms for 920 x 304) and makes the file no smaller.
    """
    height, width = rgba.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)   # each row: filter type 0, then RGB
    rows[:, 1:] = rgba[..., :3].reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)   # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


def control_widget(control):
    """The ipywidgets control of a :class:`~optlib.explorers.parts.Slider` or
    :class:`~optlib.explorers.parts.Choice`."""
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    if isinstance(control, Choice):
        return widgets.Dropdown(options=list(control.options), value=control.default, description=control.text,
                                style=style)
    if control.log:
        return widgets.FloatLogSlider(value=control.default, base=10, min=np.log10(control.low),
                                      max=np.log10(control.high), step=0.01, description=control.text,
                                      style=style, continuous_update=False, readout_format=".3g")
    step = control.step or (control.high - control.low) / 100
    return widgets.FloatSlider(value=control.default, min=control.low, max=control.high, step=step,
                               description=control.text, style=style, continuous_update=False)


def live_widget(explorer):
    """The controls, the setting's title as text, and the figure as an image redrawn on every change."""
    import html

    import ipywidgets as widgets

    controls = {c.name: control_widget(c) for c in explorer.controls}
    figure = LiveFigure(explorer, title_in_image=False)
    width, height = (int(round(size * explorer.dpi)) for size in explorer.figsize)
    image = widgets.Image(format="png", width=width, height=height)   # filled by redraw() below
    caption = widgets.HTML(layout={"width": f"{width}px"})

    def redraw(change=None):
        image.value = figure.png(**{name: control.value for name, control in controls.items()})
        caption.value = f'<div style="text-align:center">{html.escape(figure.title)}</div>'

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}), caption, image])
