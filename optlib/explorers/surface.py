"""The explorer most chapters use: optimizers on a 2-D surface, paths on the left, loss on the right."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np

from ..plots import color
from ..surfaces import SURFACES, Surface, get_surface
from ..trajectory import Trajectory, loss_gap, run
from .base import Choice, Explorer, Line, Panel, Series, Slider, run_label

__all__ = ["surface_explorer", "cached_run", "describe", "START_POINTS"]

#: The start points the website offers besides the explorer's default (every surface, inside its window).
START_POINTS = [(2.5, -2.5), (-1.0, 3.5)]


def describe(surface_name: str) -> str:
    """A surface's name in the book's notation, for a title.

    >>> describe("quadratic (kappa=10)")
    'quadratic (κ = 10)'
    """
    return re.sub(r"kappa=([\d.]+)", r"κ = \1", surface_name)


def run_series(label: str, path: Trajectory, min_value: float, i: int) -> dict:
    """The path (x, y against step) and the loss gap ``f(θ_t) − f*`` of one run, under keys ``path{i}``
    and ``loss{i}``; a run that diverged says at which step in its label. Gaps <= 0 are NaN (log axis)."""
    c = color(label)
    label = run_label(label, path)
    gap = loss_gap(path.losses, min_value)
    return {f"path{i}": Series(path.points[:, 0], path.points[:, 1], label, c),
            f"loss{i}": Series(np.arange(len(gap)), gap, label, c)}


class _Call:
    """One call as :func:`functools.lru_cache` keys it: hashed and compared by ``key`` alone."""

    __slots__ = ("key", "args", "kwargs")

    def __init__(self, key, args, kwargs):
        self.key, self.args, self.kwargs = key, args, kwargs

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return self.key == other.key


def _cache_by(key: Callable[..., Hashable], maxsize: int):
    """:func:`functools.lru_cache` for a function whose arguments it cannot hash (arrays, surfaces): each call
    is remembered under ``key(*args, **kwargs)``."""

    def decorate(function):
        remembered = functools.lru_cache(maxsize=maxsize)(lambda call: function(*call.args, **call.kwargs))

        @functools.wraps(function)
        def cached(*args, **kwargs):
            return remembered(_Call(key(*args, **kwargs), args, kwargs))

        cached.cache_info, cached.cache_clear = remembered.cache_info, remembered.cache_clear
        return cached

    return decorate


def _run_key(optimizer, surface: Surface, start, steps: int, **hyperparameters) -> tuple:
    start = np.asarray(start, dtype=float)
    return (optimizer, surface.name, surface.bounds, start.shape, start.tobytes(), steps,
            tuple(sorted(hyperparameters.items())))


@_cache_by(_run_key, maxsize=4096)
def cached_run(optimizer, surface: Surface, start, steps: int, **hyperparameters) -> Trajectory:
    """:func:`optlib.trajectory.run`, remembered (least recently used, up to 4096 runs): moving one
    control reruns only the runs that depend on it, and a website grid computes each distinct run once.

    ``start`` may be a batch of points ``(k, 2)``: the explorers run every start point of the website
    at once (element-wise updates: the same numbers as one run per point, in one loop).
    """
    return run(optimizer, surface, np.asarray(start, dtype=float), steps=steps, **hyperparameters)


def _one(path: Trajectory, j: int) -> Trajectory:
    """Run ``j`` of a batch of runs."""
    diverged = int(path.diverged_at[j])
    return Trajectory(path.steps, path.points[:, j], path.losses[:, j], None if diverged < 0 else diverged)


def surface_explorer(make_runs: Callable[..., Mapping[str, Trajectory]], controls: Sequence[Slider | Choice],
                     runs: Sequence[str], surface: str = "quadratic", start=(-3.0, 2.5),
                     start_points: Sequence = tuple(START_POINTS), **explorer_options) -> Explorer:
    """An :class:`Explorer` of ``make_runs(surface, starts, **params) -> {label: Trajectory}``.

    ``make_runs`` gets a batch of start points ``(k, 2)`` and returns batched runs (use
    :func:`cached_run`).

    Adds the controls every such explorer has (the surface, the start point) to the optimizer's own
    ``controls``; ``runs`` names the runs ``make_runs`` returns, in order (for their colours). The
    website offers every surface and the default start with ``start_points`` (default :data:`START_POINTS`).
    """
    common = [
        Choice("surface", list(SURFACES), surface, label="surface"),
        Slider("start_x", -4.5, 4.5, start[0], label="start x", step=0.1),
        Slider("start_y", -4.5, 4.5, start[1], label="start y", step=0.1),
    ]

    site_starts = [tuple(map(float, start)), *[tuple(p) for p in start_points if tuple(p) != tuple(start)]]

    def compute(surface, start_x, start_y, **params):
        surf = get_surface(surface)
        point = (float(start_x), float(start_y))
        # Every start point of the website in one batch (plus this one, if it is another).
        starts = site_starts if point in site_starts else [*site_starts, point]
        j = starts.index(point)
        data = {"title": describe(surf.name)}
        for i, (label, path) in enumerate(make_runs(surf, np.array(starts), **params).items()):
            data.update(run_series(label, _one(path, j), surf.min_value, i))
        return data

    panels = [
        Panel(tuple(Line(f"path{i}", color(name), style="line+markers", width=1.3)
                    for i, name in enumerate(runs)), xlabel="x", ylabel="y", contour="surface"),
        Panel(tuple(Line(f"loss{i}", color(name), legend=False) for i, name in enumerate(runs)),
              xlabel="step t", ylabel="f(θ_t) − f*", ylog=True, width=1.25),
    ]
    points = {"names": ("start_x", "start_y"), "label": "start point", "values": site_starts}
    return Explorer(compute, [*controls, *common], panels, points=points, **explorer_options)
