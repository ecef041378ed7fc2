"""The test surfaces: analytic gradients match finite differences, minima are where they say."""

import numpy as np
import pytest

from optlib.gradcheck import gradient_error
from optlib.surfaces import SURFACES, get_surface, quadratic

ALL = sorted(SURFACES)


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_finite_differences(name):
    surface = get_surface(name)
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = surface.bounds
    for point in rng.uniform([x0, y0], [x1, y1], size=(20, 2)):
        assert gradient_error(surface.value, surface.gradient, point, h=1e-6) < 1e-7


@pytest.mark.parametrize("name", ALL)
def test_minima_are_stationary_and_lowest(name):
    surface = get_surface(name)
    for minimum in surface.minima:
        assert np.allclose(surface.grad(minimum), 0, atol=1e-4)
        assert surface(minimum) == pytest.approx(surface.min_value, abs=1e-9)
    rng = np.random.default_rng(1)
    (x0, x1), (y0, y1) = surface.bounds
    samples = rng.uniform([x0, y0], [x1, y1], size=(10_000, 2))
    assert surface(samples).min() >= surface.min_value - 1e-9


@pytest.mark.parametrize("name", ALL)
def test_vectorised_over_leading_axes(name):
    surface = get_surface(name)
    points = np.random.default_rng(2).normal(size=(3, 4, 2))
    values, grads = surface(points), surface.grad(points)
    assert values.shape == (3, 4) and grads.shape == (3, 4, 2)
    assert values[1, 2] == pytest.approx(surface(points[1, 2]))
    assert np.allclose(grads[1, 2], surface.grad(points[1, 2]))


def test_quadratic_eigenvalues_and_rotation():
    surface = quadratic(condition_number=50, largest_eigenvalue=2.0, angle=0.7)
    assert np.allclose(np.linalg.eigvalsh(surface.hessian), [2.0 / 50, 2.0])
    point = np.array([0.3, -1.2])
    assert np.allclose(surface.grad(point), surface.hessian @ point)
    assert surface(point) == pytest.approx(0.5 * point @ surface.hessian @ point)


def test_saddle_has_indefinite_hessian_at_origin():
    surface = get_surface("saddle")
    h = 1e-5
    hessian = np.array([(surface.grad(e * h) - surface.grad(-e * h)) / (2 * h) for e in np.eye(2)])
    assert np.allclose(hessian, np.diag([1.0, -1.0]), atol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(condition_number=0.5), dict(condition_number=np.nan),
                                    dict(largest_eigenvalue=-1.0)])
def test_quadratic_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        quadratic(**kwargs)


def test_bad_shapes_and_names():
    with pytest.raises(ValueError, match="last axis"):
        get_surface("Rosenbrock")(np.zeros(3))
    with pytest.raises(ValueError, match="Unknown surface"):
        get_surface("nope")
