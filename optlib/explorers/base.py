"""Explorers: one drawing function, two forms.

An :class:`Explorer` is a function that draws a figure from a few parameters, plus the controls
that choose them. It shows itself in one of two forms:

* **live** (in Jupyter with a kernel): ipywidgets sliders and menus; every change redraws the figure;
* **static** (on the website, no kernel): a self-contained player that sweeps the one parameter that
  teaches most (``sweep``) over precomputed frames, using matplotlib's JavaScript-HTML animation
  writer; the other parameters stay at their defaults. Every frame's title names its value.

Which form is chosen by the environment variable ``OPTLIB_EXPLORERS`` (``live``, the default, or
``static``). The book build and the notebook tests set ``static``: live widgets would be dead on a
static page, and executing them headless can stall the notebook client (jupyter/nbclient#312).
The live callbacks are tested directly in ``tests/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["Slider", "Choice", "Explorer", "explorer_mode"]


@dataclass(frozen=True)
class Slider:
    """A numeric control from ``low`` to ``high``; ``log=True`` spaces it logarithmically."""

    name: str
    low: float
    high: float
    default: float
    log: bool = False
    label: str | None = None
    step: float | None = None

    def __post_init__(self):
        if not self.low <= self.default <= self.high:
            raise ValueError(f"slider {self.name!r}: default {self.default} is outside [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"slider {self.name!r}: a log slider needs low > 0, got {self.low}")

    def values(self, count: int) -> np.ndarray:
        """``count`` evenly spaced values (geometrically, for log sliders), for the static player."""
        if self.log:
            return np.geomspace(self.low, self.high, count)
        return np.linspace(self.low, self.high, count)

    def widget(self):
        import ipywidgets as widgets

        description = self.label or self.name
        style = {"description_width": "initial"}
        if self.log:
            return widgets.FloatLogSlider(value=self.default, base=10, min=np.log10(self.low),
                                          max=np.log10(self.high), step=0.01, description=description,
                                          style=style, continuous_update=False, readout_format=".3g")
        step = self.step or (self.high - self.low) / 100
        return widgets.FloatSlider(value=self.default, min=self.low, max=self.high, step=step,
                                   description=description, style=style, continuous_update=False)


@dataclass(frozen=True)
class Choice:
    """A control that picks one of ``options`` (e.g. the surface)."""

    name: str
    options: Sequence
    default: object
    label: str | None = None

    def __post_init__(self):
        if self.default not in self.options:
            raise ValueError(f"choice {self.name!r}: default {self.default!r} is not one of {list(self.options)}")

    def values(self, count: int) -> list:
        return list(self.options)

    def widget(self):
        import ipywidgets as widgets

        return widgets.Dropdown(options=list(self.options), value=self.default,
                                description=self.label or self.name, style={"description_width": "initial"})


def explorer_mode() -> str:
    """``'live'`` or ``'static'``, from the environment variable ``OPTLIB_EXPLORERS``."""
    mode = os.environ.get("OPTLIB_EXPLORERS", "live").strip().lower() or "live"
    if mode not in ("live", "static"):
        raise ValueError(f"OPTLIB_EXPLORERS must be 'live' or 'static', got {mode!r}")
    return mode


class Explorer:
    """``draw(fig, **params)`` plus its controls; displays live or static (see the module docstring).

    Args:
        draw: draws into an empty :class:`~matplotlib.figure.Figure` for the given parameter values.
        controls: the :class:`Slider` and :class:`Choice` objects, one per keyword of ``draw``.
        sweep: the name of the control the static player sweeps.
        frames: how many frames the static player holds (page weight grows with it).
        figsize, dpi: the figure's size; the static player's frames use ``static_dpi``.
    """

    def __init__(self, draw: Callable[..., None], controls: Sequence[Slider | Choice], sweep: str,
                 frames: int = 15, figsize=(9.0, 3.8), dpi: int = 80, static_dpi: int = 60):
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise ValueError(f"controls have repeated names: {names}")
        if sweep not in names:
            raise ValueError(f"sweep must name one of the controls {names}, got {sweep!r}")
        if frames < 2:
            raise ValueError(f"frames must be at least 2, got {frames}")
        self.draw = draw
        self.controls = list(controls)
        self.sweep = sweep
        self.frames = frames
        self.figsize = figsize
        self.dpi = dpi
        self.static_dpi = static_dpi

    @property
    def defaults(self) -> dict:
        return {c.name: c.default for c in self.controls}

    def figure(self, **params) -> Figure:
        """A new figure for ``params`` (missing ones at their defaults); no pyplot state involved.

        ``draw`` places its axes itself (no layout engine: it would dominate every redraw).
        """
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown explorer parameters {sorted(unknown)}; known: {sorted(self.defaults)}")
        fig = Figure(figsize=self.figsize, dpi=self.dpi)
        FigureCanvasAgg(fig)
        self.draw(fig, **{**self.defaults, **params})
        return fig

    def sweep_values(self) -> list:
        control = next(c for c in self.controls if c.name == self.sweep)
        return list(control.values(self.frames))

    # --- the two forms ---------------------------------------------------------------------

    def live(self):
        """An ipywidgets box: the controls above the figure, redrawn on every change."""
        import ipywidgets as widgets
        from IPython.display import display

        controls = {c.name: c.widget() for c in self.controls}

        def redraw(**params):
            display(self.figure(**params))

        output = widgets.interactive_output(redraw, controls)
        return widgets.VBox([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}), output])

    def static(self) -> str:
        """The kernel-free form: an HTML player (slider + buttons) over the ``sweep`` values."""
        fig = Figure(figsize=self.figsize, dpi=self.static_dpi)
        FigureCanvasAgg(fig)
        values = self.sweep_values()

        def show_frame(i):
            fig.clear()
            self.draw(fig, **{**self.defaults, self.sweep: values[i]})
            return []

        animation = FuncAnimation(fig, show_frame, frames=len(values), interval=400, repeat=False)
        return animation.to_jshtml(default_mode="once")

    def _ipython_display_(self):
        from IPython.display import HTML, display

        if explorer_mode() == "static":
            display(HTML(self.static()))
        else:
            display(self.live())
