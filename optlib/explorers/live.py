"""The live form of an explorer: ipywidgets controls and a matplotlib figure.

:func:`setup_view` builds a figure once per shape (axes, contours, fixed spans, one empty artist per
line slot); :func:`update_view` moves those artists to a new setting's data. Nothing is stored on
the figure: the view is a plain object the caller keeps.

:class:`LiveFigure` is what a control's callback runs: update the view, render it with matplotlib's
documented blitting (each axes' frame, ticks, labels and contours, most of a full draw's cost, drawn
once per set of axis limits and kept; a new setting draws only the lines and what lies over them), and
encode a PNG. Autoscaled axes round their limits to ticks (decades on log axes), so most moves of a
control keep the limits, and the axes do not jitter under the reader's hand. :func:`live_widget` puts it
behind ipywidgets controls that send their values while dragged, through a :class:`Throttle` that always
draws the latest value and drops the ones a running draw has made stale.
"""

from __future__ import annotations

import functools
import struct
import threading
import zlib
from collections.abc import Mapping
from types import SimpleNamespace

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from ..plots import decade_ticks, plot_contour
from .parts import Choice

__all__ = ["blank_figure", "setup_view", "update_view", "LiveFigure", "Throttle", "control_widget", "legend_html",
           "live_widget"]

_DASH = {"solid": "-", "dashed": "--", "dotted": ":"}
BAND_ZORDER = 1.6      # a band slot's zorder (a line slot's is matplotlib's default for lines, 2)


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
    handles, labels, styles = [], [], []
    for key, slot in view.artists.items():
        series = data.get(key)
        if slot.line.style == "band":
            if slot.band is not None:
                slot.band.remove()
                slot.band = None
            if series is not None:
                # over the grid (zorder 1.5), under the lines (2)
                slot.band = slot.ax.fill_between(series.x, series.y, series.y2, color=series.color or slot.line.color,
                                                 alpha=0.2, linewidth=0, zorder=BAND_ZORDER)
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
            styles.append(slot.line)
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
    legend_key = tuple((label, handle.get_color(), line.dash, line.style)
                       for handle, label, line in zip(handles, labels, styles, strict=True))
    if view.legend is None or view.legend_key != legend_key:   # a legend is costly to lay out: keep it
        if view.legend is not None:
            view.legend.remove()
        view.legend = view.legend_ax.legend(handles, labels, fontsize=8, loc="upper right", framealpha=1.0)
        view.legend_key = legend_key
    view.title = view.fig.suptitle(data.get("title", ""), fontsize=10)
    return view


def _moving(view: SimpleNamespace, ax) -> list:
    """The artists of ``ax`` that a new setting changes: its lines and bands."""
    slots = [slot for slot in view.artists.values() if slot.ax is ax]
    artists = [getattr(slot, "artist", None) or slot.band for slot in slots]
    return [artist for artist in artists if artist is not None]


def _front(view: SimpleNamespace, ax) -> list:
    """What the live form draws over the kept background of ``ax``, in a full draw's order: the moving
    artists, and every artist a full draw puts over them (a higher zorder): the frame, the minima's stars,
    the legend; texts only where they meet the axes' box (the titles lie above it, where the moving artists,
    clipped to the box, never go: they stay in the background).

    The lowest zorder of the slots (a band's, or a line's) depends on the panel, and the artists' boxes on
    the axis limits, not on the data: the background of given limits is always the same picture."""
    lowest = min((BAND_ZORDER if slot.line.style == "band" else 2.0 for slot in view.artists.values()
                  if slot.ax is ax), default=None)
    if lowest is None:
        return []
    moving = _moving(view, ax)
    renderer = ax.figure.canvas.get_renderer()
    box = ax.bbox.padded(2)   # where the moving artists, clipped to the axes, paint (with antialiasing)

    def in_front(artist) -> bool:
        if artist in moving:
            return True
        if artist is ax.patch or artist.get_zorder() <= lowest or not artist.get_visible():
            return False
        # a text (the titles, above the axes) only where it meets the box; anything else is inside or on it
        return not isinstance(artist, Text) or Bbox.intersection(artist.get_window_extent(renderer), box) is not None

    # sorted as Axes.draw sorts them (a stable sort on zorder: insertion order among equals)
    return sorted(filter(in_front, ax.get_children()), key=lambda artist: artist.get_zorder())


class LiveFigure:
    """An explorer's live figure: ``png(**params)`` is the callback a moved control runs.

    matplotlib's blitting (the "Faster rendering by using blitting" tutorial): the artists a new setting
    changes, and those a full draw puts over them, are ``animated``, so a draw of an axes leaves them out;
    that background is drawn once per set of axis limits and kept (``canvas.copy_from_bbox``). A render
    paints the figure's face, pastes each axes' kept background (``canvas.restore_region``) and draws the
    animated artists over it (``Axes.draw_artist``) in a full draw's order, then the title: what a full draw
    shows (tests/test_explorers.py compares the two), at the cost of the lines.

    Each axes' background is its own (the box ``Axes.get_tightbbox`` gives, padded by the antialiased
    pixels), so a control that moves one panel's limits redraws that panel only. Should two axes' boxes
    overlap, that render is a full draw. Autoscaled axes round their limits out to ticks
    (:func:`update_view`), so most moves of a control keep every background.

    Args:
        explorer: the :class:`~optlib.explorers.Explorer` to draw.
        keep: how many axes backgrounds to keep (least recently used first out).
        title_in_image, legend_in_image: draw the setting's title and legend into the image; the live widget
            shows them as text above the image instead (:attr:`title`, :func:`legend_html`), as the website
            does, which screen readers read and which costs no drawing.
    """

    def __init__(self, explorer, keep: int = 64, title_in_image: bool = True, legend_in_image: bool = True):
        self.explorer = explorer
        self.title_in_image = title_in_image
        self.legend_in_image = legend_in_image
        self.fig = blank_figure(explorer.figsize, explorer.dpi)
        self.view = explorer.setup(self.fig)
        self.title = ""      # the title of the setting last drawn
        self.full_draws = 0  # renders that fell back to a full draw (overlapping axes)
        self._background = functools.lru_cache(maxsize=keep)(self._draw_background)

    @property
    def reused(self) -> int:
        """How many axes backgrounds were pasted from the kept ones instead of drawn."""
        return self._background.cache_info().hits

    def _draw_background(self, key: tuple):
        """``(box, pixels)``: axes ``key[1]`` of the view drawn alone on the figure's face, without its animated
        artists (``key`` also holds the view's shape and the axes' limits, which fix the picture)."""
        fig = self.fig
        ax = self.view.axes[key[1]]
        renderer = fig.canvas.get_renderer()
        fig.draw_artist(fig.patch)
        fig.draw_artist(ax)
        box = Bbox.intersection(ax.get_tightbbox(renderer).padded(2), fig.bbox)
        return box, fig.canvas.copy_from_bbox(box)

    def render(self) -> None:
        """Draw the view into the canvas: the kept backgrounds, then the animated artists and the title."""
        view, fig = self.view, self.fig
        if view.legend is not None:
            view.legend.set_visible(self.legend_in_image)
        for ax in view.axes:
            ax.apply_aspect()   # what drawing an axes does first (equal-aspect contour panels): its box
        front = {ax: _front(view, ax) for ax in view.axes}
        for artists in front.values():
            for artist in artists:
                artist.set_animated(True)
        backgrounds = [self._background((view.shape, index, ax.get_xlim(), ax.get_ylim()))
                       for index, ax in enumerate(view.axes)]
        boxes = [box for box, _ in backgrounds]
        if any(Bbox.intersection(a, b) is not None for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            self._full_draw(front)
            return
        fig.draw_artist(fig.patch)
        for _, pixels in backgrounds:
            fig.canvas.restore_region(pixels)
        for ax, artists in front.items():
            for artist in artists:
                ax.draw_artist(artist)
        if view.title is not None and self.title_in_image:
            fig.draw_artist(view.title)

    def _full_draw(self, front: dict) -> None:
        """``canvas.draw()`` with every artist drawn (none animated), the title as ``title_in_image`` says
        (and the legend as ``legend_in_image``)."""
        self.full_draws += 1
        for artists in front.values():
            for artist in artists:
                artist.set_animated(False)
        title = self.view.title
        if title is not None:
            title.set_visible(self.title_in_image)
        self.fig.canvas.draw()
        if title is not None:
            title.set_visible(True)

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


class Throttle:
    """Calls ``draw(value)`` in a worker thread for the latest value :meth:`submit` gave: values submitted
    while a draw runs are dropped but the last, which is drawn next, so a dragged slider stays smooth and
    its final position is always drawn.

    ipywidgets documents updating widgets from a thread ("Asynchronous Widgets"). An exception in a draw
    goes to ``on_error`` (if given) and is raised again by :meth:`wait`.
    """

    def __init__(self, draw, on_error=None):
        self.draw = draw
        self.on_error = on_error
        self.drawn = 0          # draws made
        self.dropped = 0        # values replaced by a later one before they were drawn
        self.error = None
        self._pending = None    # (value,) waiting to be drawn
        self._busy = False
        self._idle = threading.Condition()

    def submit(self, value) -> None:
        with self._idle:
            self.dropped += self._pending is not None
            self._pending = (value,)
            if self._busy:
                return
            self._busy = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._idle:
                if self._pending is None:
                    self._busy = False
                    self._idle.notify_all()
                    return
                (value,), self._pending = self._pending, None
            try:
                self.draw(value)
                self.drawn += 1
            except Exception as error:   # shown to the reader, raised by wait(); the next value still draws
                self.error = error
                if self.on_error is not None:
                    self.on_error(error)

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until every submitted value is drawn; raise the last draw's exception, if any."""
        with self._idle:
            if not self._idle.wait_for(lambda: not self._busy, timeout):
                raise TimeoutError(f"the live figure did not finish drawing within {timeout} s")
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def control_widget(control):
    """The ipywidgets control of a :class:`~optlib.explorers.parts.Slider` (which sends its values while
    dragged) or a :class:`~optlib.explorers.parts.Choice`."""
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    if isinstance(control, Choice):
        return widgets.Dropdown(options=list(control.options), value=control.default, description=control.text,
                                style=style)
    if control.log:
        return widgets.FloatLogSlider(value=control.default, base=10, min=np.log10(control.low),
                                      max=np.log10(control.high), step=0.01, description=control.text,
                                      style=style, continuous_update=True, readout_format=".3g")
    step = control.step or (control.high - control.low) / 100
    return widgets.FloatSlider(value=control.default, min=control.low, max=control.high, step=step,
                               description=control.text, style=style, continuous_update=True)


def legend_html(view: SimpleNamespace) -> str:
    """The legend of ``view``'s setting as HTML (a swatch of each line's colour and dash, then its label),
    as the website shows it above the figure."""
    import html

    items = []
    for label, colour, dash, style in view.legend_key or ():
        swatch = (f"border-top:3px {dash} {colour}" if "line" in style
                  else f"border-top:3px dotted {colour}")   # markers only
        items.append(f'<span style="margin-right:1.2em;white-space:nowrap"><span style="display:inline-block;'
                     f'width:1.8em;margin-right:0.4em;vertical-align:middle;{swatch}"></span>'
                     f'{html.escape(label)}</span>')
    return f'<div style="text-align:center;font-size:0.85em">{"".join(items)}</div>'


def live_widget(explorer):
    """The controls, the setting's title as text, and the figure as an image redrawn while a control moves.

    The title and the legend are text above the image, as on the website. The first figure is drawn at
    once; later ones by a :class:`Throttle` (the box's ``redraw``; tests call ``box.redraw.wait()``), which
    drops the values a dragged slider sends while a figure is being drawn.
    """
    import html

    import ipywidgets as widgets

    controls = {c.name: control_widget(c) for c in explorer.controls}
    figure = LiveFigure(explorer, title_in_image=False, legend_in_image=False)
    width, height = (int(round(size * explorer.dpi)) for size in explorer.figsize)
    image = widgets.Image(format="png", width=width, height=height)   # filled by draw() below
    caption = widgets.HTML(layout={"width": f"{width}px"})

    def draw(params):
        image.value = figure.png(**params)
        caption.value = (f'<div style="text-align:center">{html.escape(figure.title)}</div>'
                         + legend_html(figure.view))

    def show_error(error):
        caption.value = (f'<div style="text-align:center;color:#b00020">this setting could not be drawn: '
                         f'{html.escape(f"{type(error).__name__}: {error}")}</div>')

    def settings():
        return {name: control.value for name, control in controls.items()}

    draw(settings())
    redraw = Throttle(draw, on_error=show_error)
    for control in controls.values():
        control.observe(lambda change: redraw.submit(settings()), names="value")
    box = widgets.VBox([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}), caption, image])
    box.redraw = redraw
    return box
