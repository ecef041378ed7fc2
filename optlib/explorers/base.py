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

The static player is matplotlib's JavaScript-HTML writer (``FuncAnimation.to_jshtml``), made fit for
an offline website:

* its frames are re-encoded as 256-colour palette PNGs (about a third of the bytes, the same look),
  and a player over :attr:`Explorer.max_player_bytes` is an error rather than a heavy page;
* matplotlib's player fetches its button icons (Font Awesome) from a CDN: that link is removed and
  the icons are small inline SVGs, so the player needs nothing from the network;
* it opens on the frame nearest the control's default, so the page first shows the usual setting.
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import matplotlib
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
            raise ValueError(f"slider {self.name!r}: default {self.default} is outside "
                             f"[{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"slider {self.name!r}: a log slider needs low > 0, got {self.low}")

    def values(self, count: int) -> np.ndarray:
        """Up to ``count`` evenly spaced values (geometrically, for log sliders), for the static player.

        With a ``step``, the values are snapped to the slider's grid ``low + k * step`` and repeats are
        dropped, so an integer control (a batch size, a number of steps) never gives two equal frames.

        >>> Slider("batch_size", 1, 100, 10, log=True, step=1).values(8).tolist()
        [1.0, 2.0, 4.0, 7.0, 14.0, 27.0, 52.0, 100.0]
        """
        spaced = np.geomspace if self.log else np.linspace
        values = spaced(self.low, self.high, count)
        if self.step:
            values = self.low + np.round((values - self.low) / self.step) * self.step
            values = np.unique(np.round(np.clip(values, self.low, self.high), 12))
        return values

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
            raise ValueError(f"choice {self.name!r}: default {self.default!r} is not one of "
                             f"{list(self.options)}")

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
        max_player_bytes: the largest static player allowed, in bytes of HTML (a page holds at
            most 3 MB, and may hold several players).
    """

    #: A static player larger than this (bytes of HTML) raises instead of weighing down its page.
    max_player_bytes = 1_000_000

    def __init__(self, draw: Callable[..., None], controls: Sequence[Slider | Choice], sweep: str,
                 frames: int = 15, figsize=(9.0, 3.8), dpi: int = 80, static_dpi: int = 80,
                 max_player_bytes: int | None = None):
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
        if max_player_bytes is not None:
            self.max_player_bytes = max_player_bytes

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
        fig = self._blank_figure(self.dpi)
        self.draw(fig, **{**self.defaults, **params})
        return fig

    def _blank_figure(self, dpi: int) -> Figure:
        """An empty figure with an Agg canvas, outside pyplot (so nothing is shown twice)."""
        fig = Figure(figsize=self.figsize, dpi=dpi)
        FigureCanvasAgg(fig)
        return fig

    def redraw(self, fig: Figure, **params) -> None:
        """Draw ``params`` into ``fig``, a figure this explorer drew before: the live callback.

        A ``draw`` function marked ``draw.incremental = True`` updates its own figure in place
        (keeping, say, the contours and replacing only the paths), which is most of what makes a
        slider feel live; any other ``draw`` starts from a cleared figure.
        """
        if not getattr(self.draw, "incremental", False):
            fig.clear()
        self.draw(fig, **{**self.defaults, **params})

    def sweep_values(self) -> list:
        control = next(c for c in self.controls if c.name == self.sweep)
        return list(control.values(self.frames))

    # --- the two forms ---------------------------------------------------------------------

    def live(self):
        """An ipywidgets box: the controls above the figure, redrawn on every change."""
        import ipywidgets as widgets
        from IPython.display import display

        controls = {c.name: c.widget() for c in self.controls}
        # One figure for the widget's lifetime, redrawn in place; interactive_output draws it first.
        fig = self._blank_figure(self.dpi)

        def redraw(**params):
            self.redraw(fig, **params)
            display(fig)

        output = widgets.interactive_output(redraw, controls)
        return widgets.VBox([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}), output])

    def static(self) -> str:
        """The kernel-free form: an HTML player (slider + buttons) over the ``sweep`` values.

        Self-contained (frames embedded as data URIs, no external URL); opens on the frame
        nearest the sweep control's default.
        """
        fig = self._blank_figure(self.static_dpi)
        values = self.sweep_values()

        def show_frame(i):
            self.redraw(fig, **{self.sweep: values[i]})
            return []

        animation = FuncAnimation(fig, show_frame, frames=len(values), interval=400, repeat=False)
        # PNG frames (sharp lines and text); a generous embed limit, so no frame is ever dropped
        # silently: the size is checked below, after the frames are shrunk.
        with matplotlib.rc_context({"animation.frame_format": "png", "animation.embed_limit": 100.0}):
            html = animation.to_jshtml(default_mode="once")
        html, count = _palette_frames(html)
        if count != len(values):
            raise RuntimeError(f"the static player holds {count} frames, expected {len(values)}")
        sweep = next(c for c in self.controls if c.name == self.sweep)
        html = _offline_player(html, start=self._start_frame(values), alt=self._alt_text(),
                               label=sweep.label or sweep.name)
        if len(html) > self.max_player_bytes:
            raise ValueError(
                f"the static player of {self.sweep!r} is {len(html):,} bytes, over the budget of "
                f"{self.max_player_bytes:,}: lower frames ({self.frames}) or static_dpi ({self.static_dpi})")
        return html

    def _start_frame(self, values: list) -> int:
        """The index of the frame nearest the sweep control's default value."""
        control = next(c for c in self.controls if c.name == self.sweep)
        if isinstance(control, Choice):
            return values.index(control.default)
        grid = np.log(values) if control.log else np.asarray(values, dtype=float)
        target = np.log(control.default) if control.log else control.default
        return int(np.argmin(np.abs(grid - target)))

    def _alt_text(self) -> str:
        control = next(c for c in self.controls if c.name == self.sweep)
        return f"figure for one value of {control.label or control.name}; the slider below changes it"

    def _ipython_display_(self):
        from IPython.display import HTML, display

        if explorer_mode() == "static":
            display(HTML(self.static()))
        else:
            display(self.live())


# --- making matplotlib's player light and offline ----------------------------------------------

_FRAME = re.compile(r'(frames\[\d+\] = "data:image/)png(;base64,)([^"]+)(")')


def _palette_png(png: bytes) -> bytes:
    """``png`` re-encoded with a 256-colour palette (figures have few colours; no dithering)."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(io.BytesIO(png)) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def _palette_frames(html: str) -> tuple[str, int]:
    """The player with each embedded PNG frame shrunk by :func:`_palette_png`, and the frame count."""

    def shrink(match):
        png = base64.b64decode(match.group(3).replace("\\\n", ""))
        data = base64.b64encode(_palette_png(png)).decode("ascii")
        return f"{match.group(1)}png{match.group(2)}{data}{match.group(4)}"

    return _FRAME.subn(shrink, html)


# Inline SVG icons (16 x 16, the button's text colour) for matplotlib's Font Awesome buttons.
_ICON_SHAPES = {
    "fa-minus": '<rect x="3" y="7" width="10" height="2"/>',
    "fa-plus": '<rect x="3" y="7" width="10" height="2"/><rect x="7" y="3" width="2" height="10"/>',
    "fa-play": '<polygon points="4,2 14,8 4,14"/>',
    "fa-play fa-flip-horizontal": '<polygon points="12,2 2,8 12,14"/>',
    "fa-pause": '<rect x="3" y="2" width="3.5" height="12"/><rect x="9.5" y="2" width="3.5" height="12"/>',
    "fa-step-forward": '<polygon points="3,2 11,8 3,14"/><rect x="11" y="2" width="2" height="12"/>',
    "fa-step-backward": '<rect x="3" y="2" width="2" height="12"/><polygon points="13,2 5,8 13,14"/>',
    "fa-fast-forward": '<polygon points="1,2 7,8 1,14"/><polygon points="7,2 13,8 7,14"/>'
                       '<rect x="13" y="2" width="2" height="12"/>',
    "fa-fast-backward": '<rect x="1" y="2" width="2" height="12"/><polygon points="9,2 3,8 9,14"/>'
                        '<polygon points="15,2 9,8 15,14"/>',
}
_ICON = re.compile(r'<i class="fa ([a-z -]+)"></i>')
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def _svg_icon(match) -> str:
    shape = _ICON_SHAPES.get(match.group(1).strip())
    if shape is None:
        return match.group(0)
    return ('<svg width="14" height="14" viewBox="0 0 16 16" fill="currentColor" aria-hidden="true" '
            f'style="vertical-align: middle">{shape}</svg>')


def _offline_player(html: str, start: int, alt: str, label: str = "frame") -> str:
    """matplotlib's player without its CDN stylesheet, opening on frame ``start``, scaling to the page."""
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html, flags=re.DOTALL)
    html = _ICON.sub(_svg_icon, html)
    match = re.search(r'<img id="_anim_img([0-9a-f]+)">', html)
    if match:
        uid = match.group(1)
        html = html.replace(match.group(0), f'<img id="_anim_img{uid}" alt="{alt}" '
                                             'style="max-width: 100%; height: auto">')
        # The slider's accessible name (matplotlib's has none): what it sweeps.
        html = html.replace(f'id="_anim_slider{uid}"', f'id="_anim_slider{uid}" aria-label="{escape(label)}"')
        # matplotlib creates anim<uid> in a setTimeout(0); this later timeout runs after it.
        html += (f'\n<script>setTimeout(function () {{ var a = window["anim{uid}"]; '
                 f'if (a) {{ a.set_frame({start}); }} }}, 0);</script>\n')
    if _EXTERNAL.search(html):
        raise RuntimeError("the static player refers to an external URL; it must work offline")
    return html
