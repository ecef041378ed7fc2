"""Chapter "Loss functions and gradients": the negative gradient and how far its linear model holds."""

from __future__ import annotations

import numpy as np

from ..surfaces import SURFACES, get_surface
from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory
from .surface import describe

__all__ = ["gradient_explorer"]


@explorer_factory
def gradient_explorer() -> Explorer:
    """Pick a surface and a point: the negative gradient there (left), and the loss along it against
    its linear model ``f − s |∇f|`` (right)."""

    def compute(point_x, point_y, surface):
        surf = get_surface(surface)
        theta = np.array([point_x, point_y], dtype=float)
        g = surf.grad(theta)
        norm = float(np.linalg.norm(g))
        direction = -g / norm if norm > 0 else np.zeros(2)
        (x0, x1), (y0, y1) = surf.bounds
        reach = 0.3 * np.hypot(x1 - x0, y1 - y0)
        tip = theta + 0.5 * reach * direction
        s = np.linspace(0.0, reach, 120)
        value = float(surf.value(theta))
        along = surf.value(theta + s[:, None] * direction)
        # Where the loss along -∇f has fallen by less than half of what the linear model promises.
        short = np.flatnonzero((s > 0) & (value - along < 0.5 * s * norm))
        if norm == 0:
            where = "a stationary point (∇f = 0): no descent direction, and no linear model's promise to test"
        elif len(short):
            where = f"the loss falls by less than half the linear model's promise from s = {s[short[0]]:.2g}"
        else:
            where = "the loss falls by at least half the linear model's promise all along"
        return {
            "title": (f"{describe(surf.name)}, θ = ({point_x:g}, {point_y:g}): |∇f| = {norm:.3g}; "
                      f"{where}").replace("-", "−"),
            "point": Series([point_x], [point_y], "the point θ"),
            "arrow": Series([point_x, tip[0]], [point_y, tip[1]], "−∇f direction"),
            "along": Series(s, along, "f(θ − s ∇f/|∇f|)"),
            "linear": Series([0.0, reach], [value, value - reach * norm], "linear model f − s|∇f|"),
        }

    panels = [
        Panel((Line("point", "#0072B2", style="markers", marker_size=6), Line("arrow", "#0072B2", width=2.5)),
              xlabel="x", ylabel="y", contour="surface", title="−∇f at the point"),
        Panel((Line("along", "#0072B2"), Line("linear", "#E69F00", dash="dashed")),
              xlabel="step length s", ylabel="loss", width=1.25),
    ]
    points = [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    controls = [
        Slider("point_x", -4.0, 4.0, 1.0, label="point θ₁", step=0.05, grid=points),
        Slider("point_y", -4.0, 4.0, -1.0, label="point θ₂", step=0.05, grid=points),
        Choice("surface", list(SURFACES), "Himmelblau", label="surface"),
    ]
    return Explorer(compute, controls, panels)
