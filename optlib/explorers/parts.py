"""What an explorer is made of: its controls, the data of one setting, and its declared view.

* controls: a :class:`Slider` or a :class:`Choice` per parameter, each with the values the website
  precomputes (``grid``);
* data: ``compute(**params)`` returns one :class:`Series` per line slot (and a title);
* view: :class:`Panel` objects, each an axes with its :class:`Line` slots, which draw the series of
  the same key.

Plain data, no drawing: the explorer (:mod:`optlib.explorers.base`) and both of its forms
(:mod:`~optlib.explorers.live`, :mod:`~optlib.explorers.site`) read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Slider", "Choice", "Series", "Line", "Panel"]


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

    def site_values(self) -> list:
        return list(self.options)

    @property
    def text(self) -> str:
        return self.label or self.name



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
