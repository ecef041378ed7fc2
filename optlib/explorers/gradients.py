"""Chapter "Loss functions and gradients": the negative gradient and how far its linear model holds."""

from __future__ import annotations

import numpy as np

from ..plots import plot_contour
from ..surfaces import SURFACES, get_surface
from .base import Choice, Explorer, Slider

__all__ = ["gradient_explorer"]


def _draw(fig, surface, point_x, point_y):
    surf = get_surface(surface)
    point = np.array([point_x, point_y])
    g = surf.grad(point)
    norm = float(np.linalg.norm(g))
    direction = -g / norm if norm > 0 else np.zeros(2)
    (x0, x1), (y0, y1) = surf.bounds
    reach = 0.3 * np.hypot(x1 - x0, y1 - y0)

    contour_ax, slice_ax = fig.subplots(1, 2, width_ratios=[1, 1.25], gridspec_kw=dict(
        left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25))
    plot_contour(surf, ax=contour_ax, resolution=120)
    contour_ax.plot(*point, "o", color="#0072B2", markersize=6)
    contour_ax.annotate("", xy=point + 0.5 * reach * direction, xytext=point,
                        arrowprops=dict(arrowstyle="->", color="#0072B2", linewidth=2))
    contour_ax.set_title(r"$-\nabla f$ at the point", fontsize=10)

    s = np.linspace(0.0, reach, 120)
    along = surf.value(point + s[:, None] * direction)
    linear = surf.value(point) - s * norm
    slice_ax.plot(s, along, color="#0072B2", label=r"$f(\theta - s\,\nabla f/\|\nabla f\|)$")
    slice_ax.plot(s, linear, color="#E69F00", linestyle="--", label=r"linear model $f - s\|\nabla f\|$")
    low, high = float(along.min()), float(along.max())
    pad = 0.1 * (high - low + 1e-12)
    slice_ax.set(xlabel="step length $s$", ylabel="loss", ylim=(low - pad, high + pad))
    slice_ax.legend(fontsize=8)
    slice_ax.grid(alpha=0.3)
    fig.suptitle(f"{surf.name}: point ({point_x:.2f}, {point_y:.2f}), "
                 f"|grad f| = {norm:.3g}", fontsize=11)


def gradient_explorer() -> Explorer:
    """Pick a surface and a point; the website's player moves the point along x."""
    return Explorer(_draw, [
        Slider("point_x", -4.0, 4.0, 1.0, label="point x", step=0.05),
        Slider("point_y", -4.0, 4.0, -1.0, label="point y", step=0.05),
        Choice("surface", list(SURFACES), "Himmelblau", label="surface"),
    ], sweep="point_x")
