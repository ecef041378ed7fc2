"""run(): trajectories, batches, clean divergence."""

import warnings

import numpy as np
import pytest

from optlib import SGD
from optlib.surfaces import quadratic, rosenbrock
from optlib.trajectory import run


def test_gd_on_quadratic_matches_closed_form():
    surface = quadratic(condition_number=10)
    path = run(SGD, surface, start=(1.0, 1.0), steps=30, lr=0.5)
    # theta_t = (I - lr H)^t theta_0
    expected = np.linalg.matrix_power(np.eye(2) - 0.5 * surface.hessian, 30) @ np.array([1.0, 1.0])
    assert np.allclose(path.final, expected, rtol=1e-12)
    assert path.points.shape == (31, 2) and path.losses.shape == (31,)
    assert path.diverged_at is None and not path.diverged


def test_divergence_is_reported_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = run(SGD, rosenbrock(), steps=500, lr=0.1)
    assert path.diverged and path.diverged_at >= 1
    assert np.all(np.isnan(path.losses[path.diverged_at:]))
    assert np.all(np.isfinite(path.losses[:path.diverged_at]))


def test_batch_of_starts_equals_separate_runs():
    surface = quadratic(condition_number=10)
    starts = np.array([[1.0, 2.0], [-3.0, 0.5], [40.0, 1.0]])
    batch = run(SGD, surface, start=starts, steps=200, lr=2.1, divergence_threshold=1e6)
    for i, start in enumerate(starts):
        single = run(SGD, surface, start=start, steps=200, lr=2.1, divergence_threshold=1e6)
        assert batch.diverged_at[i] == single.diverged_at
        assert np.array_equal(batch.points[:, i], single.points, equal_nan=True)


@pytest.mark.parametrize("kwargs, match", [(dict(steps=-1), "steps"), (dict(steps=2.5), "steps"),
                                            (dict(start=(1.0, 2.0, 3.0)), "start")])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(SGD, quadratic(), **{"steps": 5, "lr": 0.1, **kwargs})
