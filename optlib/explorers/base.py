"""Explorers: one definition, two forms.

An :class:`Explorer` is three things (the parts of :mod:`optlib.explorers.parts`):

* its **controls** (:class:`Slider`, :class:`Choice`), one per parameter, each with the values the
  website precomputes (``grid``);
* a **compute** function ``compute(**params) -> {key: Series, "title": str}`` that returns the data
  of one setting (trajectories, losses, curves), every number from optlib;
* a declared **view**: the :class:`Panel` objects, each with its axes and the :class:`Line` slots
  that draw the series of the same ``key``.

It shows itself in one of two forms, chosen by the environment variable ``OPTLIB_EXPLORERS``:

* **live** (``live``, the default; Jupyter with a kernel): ipywidgets controls and a matplotlib figure
  (:mod:`optlib.explorers.live`). :meth:`Explorer.setup` builds the axes, contours and empty artists once
  (``setup(fig) -> view``), and :meth:`Explorer.update` moves the artists to the data of a new setting
  (``update(view, **params)``), which is what keeps a callback within a frame.
* **site** (``static``, set by the book build and the notebook tests): the same ``compute`` runs at build
  time over the grid of every control, and the page draws the chosen setting in the browser with Bokeh
  (:mod:`optlib.explorers.site`): JavaScript only selects precomputed data.

The imports flow one way: the parts <- each form <- this module (the explorer and the choice of its form)
<- the chapters' explorers. What both forms show the same way is decided here once: the data of a
setting (:meth:`Explorer.data`) and the window of a contour panel (:meth:`Explorer.window`).

A chapter's explorer is a function that returns an :class:`Explorer`, decorated with
:func:`explorer_factory`, which names the explorer after the function (the name the website and the
registry, :data:`optlib.explorers.CHAPTER_EXPLORERS`, know it by).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace

import numpy as np

from ..surfaces import get_surface
from .live import blank_figure, live_widget, setup_view, update_view
from .parts import Choice, Line, Panel, Series, Slider
from .site import site_html

__all__ = ["Slider", "Choice", "Series", "Line", "Panel", "Explorer", "explorer_factory", "explorer_mode", "run_label"]


def explorer_mode() -> str:
    """``'live'`` or ``'static'``, from the environment variable ``OPTLIB_EXPLORERS``."""
    mode = os.environ.get("OPTLIB_EXPLORERS", "live").strip().lower() or "live"
    if mode not in ("live", "static"):
        raise ValueError(f"OPTLIB_EXPLORERS must be 'live' or 'static', got {mode!r}")
    return mode


class Explorer:
    """Controls + ``compute(**params)`` + panels; live in Jupyter, precomputed on the website.

    Args:
        compute: ``compute(**params) -> {key: Series | None, "title": str}``, for every setting.
        controls: one :class:`Slider` or :class:`Choice` per keyword of ``compute``.
        panels: the declared view, left to right.
        points: optional linked controls for the website, ``{"names": ("start_x", "start_y"),
            "label": "start point", "values": [(x, y), ...]}``: these parameters are offered together as
            one choice of points (their default among them) instead of one grid per slider.
        figsize, dpi: the live figure's size.
        name: what the website calls it; a factory decorated with :func:`explorer_factory` sets it.
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
        return setup_view(self, fig, {**self.defaults, **params})

    def update(self, view: SimpleNamespace, **params) -> SimpleNamespace:
        """Move ``view``'s artists to the data of ``params``; returns the view (a new one when a
        parameter that shapes the axes, such as the surface, changed)."""
        return update_view(self, view, {**self.defaults, **params})

    def figure(self, **params):
        """A new matplotlib figure of ``params`` (missing ones at their defaults); no pyplot state."""
        fig = blank_figure(self.figsize, self.dpi)
        self.update(self.setup(fig, **params), **params)
        return fig

    def live(self):
        """An ipywidgets box: the controls above the figure, redrawn while a control moves."""
        return live_widget(self)

    # --- site form --------------------------------------------------------------------------

    def static(self) -> str:
        """The website's HTML: controls, a Bokeh figure of precomputed data, a PNG for print."""
        return site_html(self)

    def _ipython_display_(self):
        from IPython.display import HTML, display

        if explorer_mode() == "static":
            display(HTML(self.static()))
        else:
            display(self.live())


def run_label(label: str, path) -> str:
    """A run's legend label: a run that diverged (a :class:`~optlib.trajectory.Trajectory`) says at which
    step, the same way in every explorer."""
    return f"{label} (diverged at step {path.diverged_at})" if path.diverged else label


def explorer_factory(factory: Callable[..., Explorer]) -> Callable[..., Explorer]:
    """Decorate a chapter's explorer factory: the explorers it returns are named after it.

    >>> @explorer_factory
    ... def tiny_explorer():
    ...     return Explorer(lambda a: {"title": ""}, [Slider("a", 0.0, 1.0, 0.5)], [])
    >>> tiny_explorer().name
    'tiny_explorer'
    """

    @functools.wraps(factory)
    def named(*args, **kwargs) -> Explorer:
        explorer = factory(*args, **kwargs)
        explorer.name = factory.__name__
        return explorer

    return named
