"""Chapter "Loss functions and gradients": the negative gradient and how far its linear model holds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..plots import plot_contour
from ..surfaces import SURFACES, get_surface
from .base import Choice, Explorer, Slider

__all__ = ["gradient_explorer"]


def _setup(fig, surf):
    """The parts that depend only on the surface: contours, axes, empty artists to move later."""
    fig.clear()
    contour_ax, slice_ax = fig.subplots(1, 2, width_ratios=[1, 1.25], gridspec_kw=dict(
        left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25))
    plot_contour(surf, ax=contour_ax, resolution=120, levels=20)
    contour_ax.set_title("−∇f at the point", fontsize=10)
    (point,) = contour_ax.plot([], [], "o", color="#0072B2", markersize=6)
    arrow = contour_ax.annotate("", xy=(0, 0), xytext=(0, 0),
                                arrowprops=dict(arrowstyle="->", color="#0072B2", linewidth=2))
    (along,) = slice_ax.plot([], [], color="#0072B2", label="f(θ − s ∇f/|∇f|)")
    (linear,) = slice_ax.plot([], [], color="#E69F00", linestyle="--", label="linear model f − s|∇f|")
    slice_ax.set(xlabel="step length s", ylabel="loss")
    slice_ax.legend(fontsize=8, loc="upper right")
    slice_ax.grid(alpha=0.3)
    return SimpleNamespace(surface=surf.name, slice_ax=slice_ax, point=point, arrow=arrow, along=along,
                           linear=linear)


def _draw(fig, surface, point_x, point_y):
    surf = get_surface(surface)
    view = getattr(fig, "_optlib_gradient_view", None)
    if view is None or view.surface != surf.name or view.slice_ax not in fig.axes:
        view = fig._optlib_gradient_view = _setup(fig, surf)
    theta = np.array([point_x, point_y])
    g = surf.grad(theta)
    norm = float(np.linalg.norm(g))
    direction = -g / norm if norm > 0 else np.zeros(2)
    (x0, x1), (y0, y1) = surf.bounds
    reach = 0.3 * np.hypot(x1 - x0, y1 - y0)

    view.point.set_data([point_x], [point_y])
    view.arrow.xy = theta + 0.5 * reach * direction
    view.arrow.set_position(theta)
    s = np.linspace(0.0, reach, 120)
    along = surf.value(theta + s[:, None] * direction)
    view.along.set_data(s, along)
    view.linear.set_data(s, surf.value(theta) - s * norm)
    low, high = float(along.min()), float(along.max())
    pad = 0.1 * (high - low + 1e-12)
    view.slice_ax.set(xlim=(0, reach), ylim=(low - pad, high + pad))
    fig.suptitle(f"{surf.name}: point ({point_x:.2f}, {point_y:.2f}), |∇f| = {norm:.3g}", fontsize=11)


_draw.incremental = True  # moves its artists on its own figure (see Explorer.redraw)


def gradient_explorer() -> Explorer:
    """Pick a surface and a point; the website's player moves the point along x."""
    return Explorer(_draw, [
        Slider("point_x", -4.0, 4.0, 1.0, label="point x", step=0.05),
        Slider("point_y", -4.0, 4.0, -1.0, label="point y", step=0.05),
        Choice("surface", list(SURFACES), "Himmelblau", label="surface"),
    ], sweep="point_x")
