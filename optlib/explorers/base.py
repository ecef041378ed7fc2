"""Explorers: one definition, two forms.

An :class:`Explorer` is three things:

* its **controls** (:class:`Slider`, :class:`Choice`), one per parameter, each with the values the
  website precomputes (``grid``);
* a **compute** function ``compute(**params) -> {key: Series, "title": str}`` that returns the data
  of one setting (trajectories, losses, curves), every number from optlib;
* a declared **view**: the :class:`Panel` objects, each with its axes and the :class:`Line` slots
  that draw the series of the same ``key``.

It shows itself in one of two forms, chosen by the environment variable ``OPTLIB_EXPLORERS``:

* **live** (``live``, the default; Jupyter with a kernel): ipywidgets controls and a matplotlib figure.
  The drawing protocol is the base class's: :meth:`Explorer.setup` builds the axes, contours and empty
  artists once (``setup(fig) -> view``), and :meth:`Explorer.update` moves the artists to the data of a
  new setting (``update(view, **params)``), which is what keeps a callback within a frame.
* **site** (``static``, set by the book build and the notebook tests): the same ``compute`` runs at build
  time over the grid of every control, and the page draws the chosen setting in the browser with Bokeh
  (see :mod:`optlib.explorers.site`): JavaScript only selects precomputed data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

__all__ = ["Slider", "Choice", "Series", "Line", "Panel", "Explorer", "explorer_mode"]


# --- controls ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Slider:
    """A numeric control from ``low`` to ``high``; ``log=True`` spaces it logarithmically.

    ``grid`` is what the website precomputes: a number of values spread over the range (the default
    is always one of them) or the values themselves.
    """

    name: str
    low: float
    high: float
    default: float
    log: bool = False
    label: str | None = None
    step: float | None = None
    grid: int | Sequence[float] = 8

    def __post_init__(self):
        if not self.low <= self.default <= self.high:
            raise ValueError(f"slider {self.name!r}: default {self.default} is outside "
                             f"[{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"slider {self.name!r}: a log slider needs low > 0, got {self.low}")

    def values(self, count: int) -> np.ndarray:
        """Up to ``count`` evenly spaced values (geometrically, for log sliders).

        With a ``step``, the values are snapped to the slider's grid ``low + k * step`` and repeats are
        dropped, so an integer control (a batch size, a number of steps) never gives two equal values.

        >>> Slider("batch_size", 1, 100, 10, log=True, step=1).values(8).tolist()
        [1.0, 2.0, 4.0, 7.0, 14.0, 27.0, 52.0, 100.0]
        """
        spaced = np.geomspace if self.log else np.linspace
        values = spaced(self.low, self.high, count)
        if self.step:
            values = self.low + np.round((values - self.low) / self.step) * self.step
            values = np.unique(np.round(np.clip(values, self.low, self.high), 12))
        return values

    def site_values(self) -> list[float]:
        """The values the website precomputes, in increasing order, the default among them.

        >>> Slider("lr", 0.01, 1.0, 0.1, log=True, grid=3).site_values()
        [0.01, 0.1, 1.0]
        """
        if isinstance(self.grid, (int, np.integer)):
            values = [float(v) for v in self.values(int(self.grid))]
            scale = np.log if self.log else (lambda v: v)
            nearest = int(np.argmin([abs(scale(v) - scale(self.default)) for v in values]))
            values[nearest] = float(self.default)
        else:
            values = [float(v) for v in self.grid]
            if self.default not in values:
                raise ValueError(f"slider {self.name!r}: the grid {values} lacks the default {self.default}")
        return sorted(set(values))

    @property
    def text(self) -> str:
        return self.label or self.name

    def widget(self):
        import ipywidgets as widgets

        style = {"description_width": "initial"}
        if self.log:
            return widgets.FloatLogSlider(value=self.default, base=10, min=np.log10(self.low),
                                          max=np.log10(self.high), step=0.01, description=self.text,
                                          style=style, continuous_update=False, readout_format=".3g")
        step = self.step or (self.high - self.low) / 100
        return widgets.FloatSlider(value=self.default, min=self.low, max=self.high, step=step,
                                   description=self.text, style=style, continuous_update=False)


@dataclass(frozen=True)
class Choice:
    """A control that picks one of ``options`` (e.g. the surface); the website offers them all."""

    name: str
    options: Sequence
    default: object
    label: str | None = None

    def __post_init__(self):
        if self.default not in self.options:
            raise ValueError(f"choice {self.name!r}: default {self.default!r} is not one of "
                             f"{list(self.options)}")

    def values(self, count: int | None = None) -> list:
        return list(self.options)

    def site_values(self) -> list:
        return list(self.options)

    @property
    def text(self) -> str:
        return self.label or self.name

    def widget(self):
        import ipywidgets as widgets

        return widgets.Dropdown(options=list(self.options), value=self.default, description=self.text,
                                style={"description_width": "initial"})


def explorer_mode() -> str:
    """``'live'`` or ``'static'``, from the environment variable ``OPTLIB_EXPLORERS``."""
    mode = os.environ.get("OPTLIB_EXPLORERS", "live").strip().lower() or "live"
    if mode not in ("live", "static"):
        raise ValueError(f"OPTLIB_EXPLORERS must be 'live' or 'static', got {mode!r}")
    return mode


# --- the data of one setting and the declared view ----------------------------------------------

@dataclass
class Series:
    """One curve of one setting: ``x``, ``y`` (and ``y2``, the upper edge of a band), a legend label
    and, where it depends on the setting, a colour. NaN entries leave gaps."""

    x: np.ndarray
    y: np.ndarray
    label: str = ""
    color: str | None = None
    y2: np.ndarray | None = None

    def __post_init__(self):
        self.x = np.asarray(self.x, dtype=float).ravel()
        self.y = np.asarray(self.y, dtype=float).ravel()
        if self.y2 is not None:
            self.y2 = np.asarray(self.y2, dtype=float).ravel()
        if self.x.shape != self.y.shape or (self.y2 is not None and self.y2.shape != self.y.shape):
            raise ValueError(f"series {self.label!r}: x, y (and y2) must have one length, got "
                             f"{self.x.shape}, {self.y.shape}")


@dataclass(frozen=True)
class Line:
    """A slot of a panel that draws the :class:`Series` under ``key`` (absent: draws nothing).

    ``style`` is ``"line"``, ``"markers"``, ``"line+markers"`` or ``"band"`` (filled between y and y2).
    """

    key: str
    color: str = "#444444"
    dash: str = "solid"
    width: float = 1.5
    style: str = "line"
    alpha: float = 1.0
    legend: bool = True
    marker_size: float = 3.0

    def __post_init__(self):
        if self.style not in ("line", "markers", "line+markers", "band"):
            raise ValueError(f"line {self.key!r}: unknown style {self.style!r}")
        if self.dash not in ("solid", "dashed", "dotted"):
            raise ValueError(f"line {self.key!r}: unknown dash {self.dash!r}")


@dataclass(frozen=True)
class Panel:
    """One axes: its labels and scales, its line slots and what stays fixed.

    ``contour`` names the parameter whose value is the surface drawn underneath (a name of
    :data:`optlib.surfaces.SURFACES`), or is a surface name itself when no parameter has that name, or
    is a function ``params -> (name, Surface)``.
    ``xlim``/``ylim`` fix a range (default: follow the data, or the surface's bounds); ``hspans`` and
    ``vspans`` shade fixed ranges ``(low, high, colour)``; ``hlines`` draws fixed horizontal lines.
    """

    lines: tuple[Line, ...]
    xlabel: str = ""
    ylabel: str = ""
    title: str = ""
    xlog: bool = False
    ylog: bool = False
    contour: str | Callable | None = None
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    hspans: tuple = ()
    vspans: tuple = ()
    hlines: tuple = ()
    width: float = 1.0
    notes: tuple = field(default=())   # (x, y, text) in axes fractions, fixed


# --- the explorer --------------------------------------------------------------------------------

class Explorer:
    """Controls + ``compute(**params)`` + panels; live in Jupyter, precomputed on the website.

    Args:
        compute: ``compute(**params) -> {key: Series | None, "title": str}``, for every setting.
        controls: one :class:`Slider` or :class:`Choice` per keyword of ``compute``.
        panels: the declared view, left to right.
        points: optional linked controls for the website, ``{("start_x", "start_y"): [(x, y), ...],
            "label": "start point"}``-style: these parameters are offered together as one choice of
            points (their default first) instead of one grid per slider.
        figsize, dpi: the live figure's size.
    """

    def __init__(self, compute: Callable[..., Mapping], controls: Sequence[Slider | Choice],
                 panels: Sequence[Panel], points: Mapping | None = None, figsize=(9.0, 3.8), dpi: int = 80,
                 name: str = "explorer"):
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise ValueError(f"controls have repeated names: {names}")
        keys = [line.key for panel in panels for line in panel.lines]
        if len(set(keys)) != len(keys):
            raise ValueError(f"line keys are repeated: {keys}")
        self.compute = compute
        self.controls = list(controls)
        self.panels = list(panels)
        self.points = dict(points or {})
        for linked in self.points.get("names", ()):
            if linked not in names:
                raise ValueError(f"points links {linked!r}, which is not a control ({names})")
        self.figsize = figsize
        self.dpi = dpi
        self.name = name

    @property
    def defaults(self) -> dict:
        return {c.name: c.default for c in self.controls}

    def data(self, **params) -> dict:
        """The data of one setting (missing parameters at their defaults)."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown explorer parameters {sorted(unknown)}; known: {sorted(self.defaults)}")
        data = dict(self.compute(**{**self.defaults, **params}))
        keys = {line.key for panel in self.panels for line in panel.lines}
        stray = set(data) - keys - {"title"}
        if stray:
            raise RuntimeError(f"compute returned keys no panel draws: {sorted(stray)}")
        return data

    def surface(self, panel: Panel, params: Mapping):
        """``(key, surface)``: the :class:`~optlib.surfaces.Surface` drawn under ``panel`` for ``params``
        and a name for it (``None, None`` for a panel without contours; see :class:`Panel`)."""
        from ..surfaces import get_surface

        if panel.contour is None:
            return None, None
        if callable(panel.contour):
            return panel.contour(params)
        name = str(params.get(panel.contour, panel.contour))
        return name, get_surface(name)

    def window(self, panel: Panel, params: Mapping, data: Mapping) -> tuple[tuple[float, float], tuple[float, float]]:
        """The x and y ranges of a contour panel for ``params`` and their ``data``: ``panel.xlim`` and
        ``panel.ylim`` where fixed, else :meth:`Surface.window <optlib.surfaces.Surface.window>` around the
        first point of every line (where each run starts). Both forms show this window."""
        starts = [(series.x[0], series.y[0]) for series in (data.get(line.key) for line in panel.lines)
                  if series is not None and len(series.x) and np.isfinite(series.x[0])]
        x, y = self.surface(panel, params)[1].window(starts)
        return panel.xlim or x, panel.ylim or y

    # --- live form: matplotlib, set up once, updated per setting -----------------------------

    def setup(self, fig, **params) -> SimpleNamespace:
        """Axes, contours, fixed decorations and one empty artist per line slot: the view."""
        from .live import setup_view

        return setup_view(self, fig, {**self.defaults, **params})

    def update(self, view: SimpleNamespace, **params) -> SimpleNamespace:
        """Move ``view``'s artists to the data of ``params``; returns the view (a new one when a
        parameter that shapes the axes, such as the surface, changed)."""
        from .live import update_view

        return update_view(self, view, {**self.defaults, **params})

    def figure(self, **params):
        """A new matplotlib figure of ``params`` (missing ones at their defaults); no pyplot state."""
        from .live import blank_figure

        fig = blank_figure(self.figsize, self.dpi)
        self.update(self.setup(fig, **params), **params)
        return fig

    def live(self):
        """An ipywidgets box: the controls above the figure, updated on every change."""
        from .live import live_widget

        return live_widget(self)

    # --- site form --------------------------------------------------------------------------

    def static(self) -> str:
        """The website's HTML: controls, a Bokeh figure of precomputed data, a PNG for print."""
        from .site import site_html

        return site_html(self)

    def _ipython_display_(self):
        from IPython.display import HTML, display

        if explorer_mode() == "static":
            display(HTML(self.static()))
        else:
            display(self.live())
