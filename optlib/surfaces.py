r"""Two-dimensional test surfaces with analytic gradients and known minima.

Every surface takes points of shape ``(..., 2)`` and returns values of shape ``(...)`` and
gradients of shape ``(..., 2)``, so a whole batch of starting points (or of optimizer settings)
runs in one vectorised call.

========================  ====================================================  ==========================
surface                   :math:`f(x, y)`                                       minima
========================  ====================================================  ==========================
``quadratic(kappa)``      :math:`\tfrac12 (L x^2 + \mu y^2)`, :math:`\kappa = L/\mu` (rotatable)  :math:`(0, 0)`
``rosenbrock()``          :math:`(a - x)^2 + b (y - x^2)^2`                      :math:`(a, a^2)`
``beale()``               :math:`\sum_i (c_i - x + x y^i)^2`, :math:`c = (1.5, 2.25, 2.625)`  :math:`(3, 0.5)`
``saddle()``              :math:`\tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`     :math:`(0, \pm 1)`, saddle at 0
``himmelblau()``          :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`             four, all with value 0
========================  ====================================================  ==========================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .validation import finite_number, finite_positive

__all__ = ["Surface", "quadratic", "rosenbrock", "beale", "saddle", "himmelblau", "SURFACES", "get_surface"]

Array = np.ndarray


@dataclass(frozen=True)
class Surface:
    """A differentiable function of two variables, with what a figure needs to show it.

    ``value(xy)`` and ``gradient(xy)`` accept any array whose last axis has length 2.
    ``minima`` is a ``(k, 2)`` array of global minimisers (their value is ``min_value``);
    ``bounds`` is the ``((x_min, x_max), (y_min, y_max))`` window a plot shows; ``start`` a starting
    point that makes the surface's difficulty visible.
    """

    name: str
    value: Callable[[Array], Array]
    gradient: Callable[[Array], Array]
    minima: Array
    min_value: float
    bounds: tuple[tuple[float, float], tuple[float, float]]
    start: tuple[float, float]
    hessian: Array | None = field(default=None, repr=False)  # constant Hessian, for quadratics only
    log_levels: bool = True  # contour levels spaced logarithmically above min_value

    def __call__(self, xy) -> Array:
        return self.value(np.asarray(xy, dtype=float))

    def grad(self, xy) -> Array:
        return self.gradient(np.asarray(xy, dtype=float))

    def window(self, points=()) -> tuple[tuple[float, float], tuple[float, float]]:
        """The ``((x_min, x_max), (y_min, y_max))`` a figure of runs shows: ``bounds``, widened to show each
        of ``points`` (the runs' starts) with a margin of 0.2. Every figure of optlib uses this one rule."""
        (x0, x1), (y0, y1) = self.bounds
        for sx, sy in points:
            x0, x1, y0, y1 = min(x0, sx - 0.2), max(x1, sx + 0.2), min(y0, sy - 0.2), max(y1, sy + 0.2)
        return (x0, x1), (y0, y1)


def _split(xy: Array) -> tuple[Array, Array]:
    xy = np.asarray(xy, dtype=float)
    if xy.shape[-1:] != (2,):
        raise ValueError(f"xy must have a last axis of length 2, got shape {xy.shape}")
    return xy[..., 0], xy[..., 1]


def quadratic(condition_number: float = 10.0, largest_eigenvalue: float = 1.0, angle: float = 0.0) -> Surface:
    r"""An ill-conditioned quadratic :math:`f(\theta) = \tfrac12 \theta^\top H \theta`.

    ``H`` has eigenvalues :math:`L` (``largest_eigenvalue``) and :math:`\mu = L/\kappa`
    (``condition_number`` :math:`\kappa \ge 1`), with eigenvectors rotated by ``angle`` radians
    from the axes. Gradient descent on it converges iff :math:`0 < \text{lr} < 2/L`.
    """
    condition_number = finite_number("condition_number", condition_number)
    if condition_number < 1:
        raise ValueError(f"Invalid condition_number: {condition_number} "
                         "(condition_number must be a finite number >= 1)")
    largest_eigenvalue = finite_positive("largest_eigenvalue", largest_eigenvalue)
    angle = finite_number("angle", angle)
    L, mu = float(largest_eigenvalue), float(largest_eigenvalue) / float(condition_number)
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    hessian = rotation @ np.diag([L, mu]) @ rotation.T

    def value(xy):
        _split(xy)
        return 0.5 * np.einsum("...i,ij,...j->...", xy, hessian, xy)

    def gradient(xy):
        _split(xy)
        return xy @ hessian  # H is symmetric

    return Surface(
        name=f"quadratic (kappa={condition_number:g})", value=value, gradient=gradient,
        minima=np.zeros((1, 2)), min_value=0.0, bounds=((-3.5, 3.5), (-3.5, 3.5)), start=(-3.0, 2.5),
        hessian=hessian,
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's banana: a curved, flat-bottomed valley; minimum ``(a, a**2)`` with value 0."""

    def value(xy):
        x, y = _split(xy)
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def gradient(xy):
        x, y = _split(xy)
        dx = -2 * (a - x) - 4 * b * x * (y - x**2)
        dy = 2 * b * (y - x**2)
        return np.stack([dx, dy], axis=-1)

    return Surface(
        name="Rosenbrock", value=value, gradient=gradient, minima=np.array([[a, a**2]]), min_value=0.0,
        bounds=((-2.0, 2.0), (-1.0, 3.0)), start=(-1.5, 2.0),
    )


_BEALE_C = np.array([1.5, 2.25, 2.625])


def beale() -> Surface:
    """Beale's function: flat plateaus and steep walls; minimum ``(3, 0.5)`` with value 0."""

    def value(xy):
        x, y = _split(xy)
        powers = np.stack([y, y**2, y**3], axis=-1)
        residuals = _BEALE_C - x[..., None] + x[..., None] * powers
        return np.sum(residuals**2, axis=-1)

    def gradient(xy):
        x, y = _split(xy)
        powers = np.stack([y, y**2, y**3], axis=-1)
        residuals = _BEALE_C - x[..., None] + x[..., None] * powers
        # d r_i / dx = y^i - 1,   d r_i / dy = i x y^(i-1)
        d_dx = powers - 1
        d_dy = x[..., None] * np.stack([np.ones_like(y), 2 * y, 3 * y**2], axis=-1)
        return np.stack([np.sum(2 * residuals * d_dx, axis=-1), np.sum(2 * residuals * d_dy, axis=-1)], axis=-1)

    return Surface(
        name="Beale", value=value, gradient=gradient, minima=np.array([[3.0, 0.5]]), min_value=0.0,
        bounds=((-4.5, 4.5), (-4.5, 4.5)), start=(1.0, 1.5),
    )


def saddle() -> Surface:
    r"""A saddle at the origin between two minima: :math:`f = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`.

    The origin is a stationary point where the Hessian is ``diag(1, -1)``; the minima ``(0, +-1)``
    have value ``-1/4``. Started on the line ``y = 0``, gradient descent goes to the saddle and stays.
    """

    def value(xy):
        x, y = _split(xy)
        return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2

    def gradient(xy):
        x, y = _split(xy)
        return np.stack([x, y**3 - y], axis=-1)

    return Surface(
        name="saddle", value=value, gradient=gradient, minima=np.array([[0.0, 1.0], [0.0, -1.0]]),
        min_value=-0.25, bounds=((-2.0, 2.0), (-2.0, 2.0)), start=(-1.8, 0.01), log_levels=False,
    )


def himmelblau() -> Surface:
    """Himmelblau's function: four minima of value 0, which one you reach depends on the start."""

    def value(xy):
        x, y = _split(xy)
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def gradient(xy):
        x, y = _split(xy)
        r1, r2 = x**2 + y - 11, x + y**2 - 7
        return np.stack([4 * x * r1 + 2 * r2, 2 * r1 + 4 * y * r2], axis=-1)

    minima = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])
    return Surface(
        name="Himmelblau", value=value, gradient=gradient, minima=minima, min_value=0.0,
        bounds=((-5.0, 5.0), (-5.0, 5.0)), start=(0.0, -4.0),
    )


#: The surfaces a reader can pick in an explorer, by name.
SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": quadratic,
    "Rosenbrock": rosenbrock,
    "Beale": beale,
    "saddle": saddle,
    "Himmelblau": himmelblau,
}


def get_surface(name: str) -> Surface:
    """The surface called ``name`` (one of ``SURFACES``) with its default parameters."""
    try:
        return SURFACES[name]()
    except KeyError:
        raise ValueError(f"Unknown surface {name!r}; choose one of {sorted(SURFACES)}") from None
