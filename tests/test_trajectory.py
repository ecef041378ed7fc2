"""run(): trajectories, batches, clean divergence."""

import warnings

import numpy as np
import pytest

from optlib import SGD, Adagrad, Muon
from optlib.surfaces import quadratic, rosenbrock
from optlib.trajectory import DIVERGENCE_THRESHOLD, has_diverged, run


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


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(steps=-1), ValueError, "steps"), (dict(steps=2.5), TypeError, "steps"),
    (dict(start=(1.0, 2.0, 3.0)), ValueError, "start"),
    (dict(divergence_threshold="big"), TypeError, "divergence_threshold")])
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        run(SGD, quadratic(), **{"steps": 5, "lr": 0.1, **kwargs})


def test_one_divergence_rule():
    assert list(has_diverged([0.0, 1e12, 1.0000001e12, np.inf, -np.inf, np.nan])) == [False, False, True, True,
                                                                                     True, True]
    assert list(has_diverged([10.0, 11.0], threshold=10.5)) == [False, True]
    assert DIVERGENCE_THRESHOLD == 1e12


def test_the_result_keeps_the_optimizer_for_its_state():
    path = run(Adagrad, quadratic(), start=(1.0, 1.0), steps=3, lr=0.1)
    assert isinstance(path.optimizer, Adagrad) and path.optimizer.step_count == 3
    np.testing.assert_array_equal(path.optimizer.params[0], path.final)


class CoupledSGD(SGD):
    """SGD on the normalised gradient of the whole array: not element-wise, like Muon."""

    elementwise = False

    def step(self, grads):
        super().step([g / np.linalg.norm(g) for g in grads])


def test_muon_couples_stacked_starts():
    # Why the runners refuse it: Muon orthogonalises the whole (2, 2) array of two stacked starts, so
    # the second start changes the first one's step.
    surface = quadratic(condition_number=10)
    starts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    stacked, alone = Muon([starts.copy()], lr=0.1), Muon([starts[:1].copy()], lr=0.1)
    stacked.step([surface.gradient(stacked.params[0])])
    alone.step([surface.gradient(alone.params[0])])
    assert np.abs(stacked.params[0][0] - alone.params[0][0]).max() > 1e-3


@pytest.mark.parametrize("optimizer", [CoupledSGD, Muon])
def test_stacked_starts_need_an_elementwise_optimizer(optimizer, monkeypatch):
    monkeypatch.setattr(Muon, "elementwise", False, raising=False)  # Muon's own flag (opt's branch) says the same
    surface = quadratic(condition_number=10)
    starts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    kept = starts.copy()
    with pytest.raises(ValueError, match="not element-wise.*2 runs stacked into one array"):
        run(optimizer, surface, start=starts, steps=5, lr=0.1)
    np.testing.assert_array_equal(starts, kept)  # a refused call changes nothing
    one = run(CoupledSGD, surface, start=starts[0], steps=5, lr=0.1)  # one start at a time is fine
    assert np.all(np.isfinite(one.points)) and not one.diverged


# --- where the runners evaluate: Optimizer.evaluation_params ------------------------------------------

class AveragedSGD(SGD):
    """SGD that answers with the mean of its iterates theta_0 ... theta_t (as schedule-free methods answer
    with their average x): gradients are taken at ``params``, the loss is measured at ``average``."""

    def __init__(self, params, **hyperparameters):
        super().__init__(params, **hyperparameters)
        self.average = [p.copy() for p in self.params]

    def step(self, grads):
        super().step(grads)
        for average, param in zip(self.average, self.params, strict=True):
            average += (param - average) / (self.step_count + 1)

    def evaluation_params(self):
        return self.average


def _running_means(points):
    return np.cumsum(points, axis=0) / np.arange(1, len(points) + 1).reshape(-1, *[1] * (points.ndim - 1))


def test_the_default_evaluation_point_is_the_parameters():
    opt = SGD([np.array([1.0, 2.0])], lr=0.1)
    assert opt.evaluation_params() is opt.params


def test_run_records_points_and_losses_where_the_optimizer_evaluates():
    surface = quadratic(condition_number=10)
    starts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    plain = run(SGD, surface, start=starts, steps=40, lr=0.15)
    averaged = run(AveragedSGD, surface, start=starts, steps=40, lr=0.15)
    np.testing.assert_array_equal(averaged.optimizer.params[0], plain.final)   # the same gradient steps
    np.testing.assert_allclose(averaged.points, _running_means(plain.points), rtol=1e-12)
    np.testing.assert_allclose(averaged.losses, surface.value(averaged.points), rtol=1e-12)
    assert not np.allclose(averaged.losses, plain.losses, rtol=1e-3)


@pytest.mark.parametrize("lr", [0.05, [0.02, 0.05]])
def test_run_stochastic_records_where_the_optimizer_evaluates(lr):
    from optlib.problems import make_regression
    from optlib.trajectory import run_stochastic

    problem = make_regression(n=40, d=3, noise=0.5, rng=np.random.default_rng(0))
    kwargs = dict(start=np.zeros(3), steps=30, batch_size=4, lr=lr)
    plain = run_stochastic(SGD, problem, rng=np.random.default_rng(1), **kwargs)
    averaged = run_stochastic(AveragedSGD, problem, rng=np.random.default_rng(1), **kwargs)
    means = _running_means(plain.points)
    np.testing.assert_allclose(averaged.points, means, rtol=1e-12)
    np.testing.assert_allclose(averaged.losses, problem.loss(means), rtol=1e-10)
    np.testing.assert_allclose(averaged.averages[1:], _running_means(means[1:]), rtol=1e-12)
    assert not np.allclose(averaged.losses, plain.losses, rtol=1e-3)
