"""The explorer most chapters use: optimizers on a 2-D surface, path on the left, loss on the right."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace

from ..plots import loss_lines, plot_contour, plot_losses, plot_paths
from ..surfaces import SURFACES, Surface, get_surface
from ..trajectory import Trajectory
from .base import Choice, Explorer, Slider

__all__ = ["surface_explorer", "draw_runs"]


def _describe(params: Mapping) -> str:
    return ", ".join(f"{name} = {value:.3g}" if isinstance(value, float) else f"{name} = {value}"
                     for name, value in params.items())


def draw_runs(fig, surface: Surface, runs: Mapping[str, Trajectory], title: str = "") -> None:
    """Trajectories over the contours (left) and loss against step (right).

    Called again on the same figure for the same surface, it replaces only the runs' artists and
    keeps the contours, the axes and their ticks, which are most of the drawing: that is what keeps
    a live explorer's redraw fast. The legend on the left serves both panels.
    """
    view = getattr(fig, "_optlib_runs_view", None)
    reusable = (view is not None and view.path_ax in fig.axes
                and (view.surface.name, view.surface.bounds) == (surface.name, surface.bounds))
    if not reusable:
        fig.clear()
        # Fixed margins: a layout engine would dominate every redraw.
        path_ax, loss_ax = fig.subplots(1, 2, width_ratios=[1, 1.25], gridspec_kw=dict(
            left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25))
        plot_contour(surface, ax=path_ax, resolution=120, levels=20)
        plot_losses({}, ax=loss_ax, legend=False)
        view = fig._optlib_runs_view = SimpleNamespace(surface=surface, path_ax=path_ax, loss_ax=loss_ax,
                                                        run_artists=[])
    for artist in view.run_artists:
        artist.remove()
    view.run_artists = plot_paths(surface, runs, view.path_ax)
    view.run_artists += loss_lines(runs, surface.min_value, view.loss_ax)
    view.loss_ax.relim()
    view.loss_ax.autoscale_view()
    fig.suptitle(title, fontsize=11)


def surface_explorer(make_runs: Callable[..., Mapping[str, Trajectory]], controls: Sequence[Slider | Choice],
                     sweep: str, surface: str = "quadratic", start=(-3.0, 2.5), **explorer_options) -> Explorer:
    """An :class:`Explorer` of ``make_runs(surface, start, **params) -> {label: Trajectory}``.

    Adds the controls every such explorer has (the surface, the start point) to the optimizer's own
    ``controls``; ``sweep`` names the parameter the website's player sweeps.
    """
    common = [
        Choice("surface", list(SURFACES), surface, label="surface"),
        Slider("start_x", -4.5, 4.5, start[0], label="start x", step=0.1),
        Slider("start_y", -4.5, 4.5, start[1], label="start y", step=0.1),
    ]

    def draw(fig, surface, start_x, start_y, **params):
        surf = get_surface(surface)
        runs = make_runs(surf, (start_x, start_y), **params)
        draw_runs(fig, surf, runs, title=f"{surf.name}: {_describe(params)}")

    draw.incremental = True  # may be called again on its own figure (see Explorer)

    return Explorer(draw, [*controls, *common], sweep=sweep, **explorer_options)
