"""optlib.problems and optlib.trajectory.run_stochastic: the finite-sum problems' gradients, the seeded
mini-batch iterator, and the stochastic runner."""

import numpy as np
import pytest

from optlib.gradcheck import numerical_gradient
from optlib.problems import LeastSquares, make_regression, minibatches
from optlib.trajectory import run_stochastic


@pytest.fixture
def problem():
    return make_regression(n=50, d=3, noise=0.3, rng=np.random.default_rng(0), scales=[1.0, 2.0, 0.5])


def test_regression_is_seeded(problem):
    again = make_regression(n=50, d=3, noise=0.3, rng=np.random.default_rng(0), scales=[1.0, 2.0, 0.5])
    np.testing.assert_array_equal(problem.X, again.X)
    np.testing.assert_array_equal(problem.y, again.y)
    other = make_regression(n=50, d=3, noise=0.3, rng=np.random.default_rng(1))
    assert not np.array_equal(problem.X, other.X)


def test_full_gradient_matches_finite_differences(problem):
    w = np.random.default_rng(1).standard_normal(3)
    numeric = numerical_gradient(lambda v: float(problem.loss(v)), w)
    np.testing.assert_allclose(problem.gradient(w), numeric, rtol=1e-6, atol=1e-8)


def test_minimizer_is_stationary_and_min_value_is_its_loss(problem):
    np.testing.assert_allclose(problem.gradient(problem.minimizer), 0.0, atol=1e-12)
    assert problem.min_value == pytest.approx(float(problem.loss(problem.minimizer)))
    w = problem.minimizer + 0.1
    assert problem.loss(w) > problem.min_value


def test_sample_gradients_average_to_the_full_gradient(problem):
    w = np.random.default_rng(2).standard_normal(3)
    per_sample = problem.sample_gradients(w)
    assert per_sample.shape == (50, 3)
    np.testing.assert_allclose(per_sample.mean(axis=0), problem.gradient(w), rtol=1e-12, atol=1e-12)
    i = 7
    x, y = problem.X[i], problem.y[i]
    np.testing.assert_allclose(per_sample[i], x * (x @ w - y))


def test_batch_gradient_is_the_mean_over_the_batch(problem):
    w = np.random.default_rng(3).standard_normal(3)
    idx = np.array([3, 9, 9, 41])
    np.testing.assert_allclose(problem.batch_gradient(w, idx), problem.sample_gradients(w)[idx].mean(axis=0))
    np.testing.assert_allclose(problem.batch_gradient(w, np.arange(50)), problem.gradient(w), atol=1e-12)
    assert problem.loss(w, idx) == pytest.approx(0.5 * np.mean(problem.residuals(w)[idx] ** 2))


def test_batched_parameters_with_shared_and_per_copy_indices(problem):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((5, 3))
    shared = np.array([0, 1, 2])
    per_copy = rng.integers(50, size=(5, 4))
    g_shared = problem.batch_gradient(W, shared)
    g_copy = problem.batch_gradient(W, per_copy)
    assert g_shared.shape == g_copy.shape == (5, 3)
    for k in range(5):
        np.testing.assert_allclose(g_shared[k], problem.batch_gradient(W[k], shared))
        np.testing.assert_allclose(g_copy[k], problem.batch_gradient(W[k], per_copy[k]))
    np.testing.assert_allclose(problem.gradient(W)[2], problem.gradient(W[2]))
    np.testing.assert_allclose(problem.loss(W)[4], problem.loss(W[4]))
    assert problem.sample_gradients(W, per_copy).shape == (5, 4, 3)


def test_hessian_and_curvature(problem):
    np.testing.assert_allclose(problem.hessian, problem.X.T @ problem.X / 50)
    eig = np.linalg.eigvalsh(problem.hessian)
    assert problem.smoothness == pytest.approx(eig[-1])
    assert problem.strong_convexity == pytest.approx(eig[0])
    # the scales make the problem ill-conditioned: about (2 / 0.5)^2 = 16
    assert 5 < problem.smoothness / problem.strong_convexity < 50


def test_gradient_variance_formula_matches_enumeration():
    problem = make_regression(n=6, d=2, noise=1.0, rng=np.random.default_rng(5))
    w = np.array([0.3, -0.2])
    full = problem.gradient(w)
    per_sample = problem.sample_gradients(w)
    # all batches of two distinct samples (without replacement): exact expectation by enumeration
    pairs = [(i, j) for i in range(6) for j in range(6) if i != j]
    exact = np.mean([np.sum((per_sample[[i, j]].mean(axis=0) - full) ** 2) for i, j in pairs])
    assert problem.gradient_variance(w, 2, replace=False) == pytest.approx(exact, rel=1e-12)
    # with replacement: ordered pairs including repeats
    exact = np.mean([np.sum((per_sample[[i, j]].mean(axis=0) - full) ** 2) for i in range(6) for j in range(6)])
    assert problem.gradient_variance(w, 2, replace=True) == pytest.approx(exact, rel=1e-12)
    assert problem.gradient_variance(w, 6, replace=False) == pytest.approx(0.0, abs=1e-15)


def test_noise_free_data_interpolate():
    problem = make_regression(n=20, d=2, noise=0.0, rng=np.random.default_rng(6))
    np.testing.assert_allclose(problem.sample_gradients(problem.minimizer), 0.0, atol=1e-12)
    assert problem.gradient_variance(problem.minimizer) == pytest.approx(0.0, abs=1e-24)


def test_surface_of_a_2d_problem():
    problem = make_regression(n=30, d=2, noise=0.5, rng=np.random.default_rng(7))
    surface = problem.surface()
    w = np.array([[0.1, 0.2], [1.0, -1.0]])
    np.testing.assert_allclose(surface.value(w), problem.loss(w))
    np.testing.assert_allclose(surface.gradient(w), problem.gradient(w))
    np.testing.assert_allclose(surface.minima[0], problem.minimizer)
    (x0, x1), (y0, y1) = surface.bounds
    assert x0 < min(0, problem.minimizer[0]) and x1 > max(0, problem.minimizer[0])
    assert y0 < min(0, problem.minimizer[1]) and y1 > max(0, problem.minimizer[1])
    with pytest.raises(ValueError, match="d = 3"):
        make_regression(n=30, d=3, noise=0.5, rng=np.random.default_rng(7)).surface()


# --- minibatches -------------------------------------------------------------------------------------

def test_one_epoch_covers_every_sample_once():
    batches = list(minibatches(10, 3, np.random.default_rng(0)))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))


def test_drop_last_and_epochs():
    batches = list(minibatches(10, 3, np.random.default_rng(0), drop_last=True, epochs=2))
    assert [len(b) for b in batches] == [3] * 6
    batches = list(minibatches(10, 5, np.random.default_rng(0), epochs=3))
    assert len(batches) == 6
    for epoch in range(3):
        np.testing.assert_array_equal(np.sort(np.concatenate(batches[2 * epoch:2 * epoch + 2])), np.arange(10))
    assert not np.array_equal(np.concatenate(batches[0:2]), np.concatenate(batches[2:4]))  # reshuffled
    assert list(minibatches(10, 3, np.random.default_rng(0), epochs=0)) == []
    assert [len(b) for b in minibatches(4, 10, np.random.default_rng(0))] == [4]


def test_endless_stream():
    stream = minibatches(7, 2, np.random.default_rng(1), epochs=None)
    batches = [next(stream) for _ in range(100)]
    assert len(batches) == 100 and all(1 <= len(b) <= 2 for b in batches)


def test_same_seed_same_batches():
    a = list(minibatches(20, 4, np.random.default_rng(42), epochs=2))
    b = list(minibatches(20, 4, np.random.default_rng(42), epochs=2))
    c = list(minibatches(20, 4, np.random.default_rng(43), epochs=2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(n_samples=0), ValueError, "n_samples"),
    (dict(n_samples=-3), ValueError, "n_samples"),
    (dict(n_samples=5.0), TypeError, "n_samples"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=2.5), TypeError, "batch_size"),
    (dict(batch_size=True), TypeError, "batch_size"),
    (dict(batch_size=20, drop_last=True), ValueError, "batch_size"),
    (dict(rng=0), TypeError, "rng"),
    (dict(rng=None), TypeError, "rng"),
    (dict(drop_last="yes"), TypeError, "drop_last"),
    (dict(epochs=-1), ValueError, "epochs"),
])
def test_minibatches_refuses_bad_input_when_called(kwargs, error, name):
    args = dict(n_samples=10, batch_size=3, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(error, match=name):
        minibatches(**args)  # raises at the call, before any iteration


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(n=0), ValueError, "n"),
    (dict(d=0), ValueError, "d"),
    (dict(noise=-1.0), ValueError, "noise"),
    (dict(noise=float("nan")), ValueError, "noise"),
    (dict(rng=1), TypeError, "rng"),
    (dict(scales=[1.0, -1.0]), ValueError, "scales"),
    (dict(scales=[1.0]), ValueError, "scales"),
])
def test_make_regression_refuses_bad_input(kwargs, error, name):
    args = dict(n=10, d=2, noise=0.1, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(error, match=name):
        make_regression(**args)


def test_problem_refuses_bad_shapes_and_indices(problem):
    with pytest.raises(ValueError, match="w must"):
        problem.gradient(np.zeros(2))
    with pytest.raises(ValueError, match="idx"):
        problem.batch_gradient(np.zeros(3), np.array([0, 50]))
    with pytest.raises(TypeError, match="idx"):
        problem.batch_gradient(np.zeros(3), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="idx"):
        problem.batch_gradient(np.zeros(3), np.array([], dtype=int))
    with pytest.raises(ValueError, match="y must"):
        LeastSquares(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="batch_size"):
        problem.gradient_variance(np.zeros(3), 51, replace=False)


class Recorder:
    """A finite sum with zero gradients that records the sample indices of every batch it is asked for."""

    min_value = 0.0

    def __init__(self, n_samples: int, dim: int):
        self.n_samples, self.param_shape, self.seen = n_samples, (dim,), []

    def batch_gradient(self, w, idx):
        self.seen.append(np.array(idx))
        return np.zeros_like(w)

    def loss(self, w):
        return np.zeros(np.shape(w)[:-1])


# --- run_stochastic ------------------------------------------------------------------------------------

def test_full_batch_run_is_gradient_descent(problem):
    from optlib import SGD

    run = run_stochastic(SGD, problem, np.zeros(3), steps=30, batch_size=50, lr=0.1)
    w = np.zeros(3)
    for t in range(30):
        w = w - 0.1 * problem.gradient(w)
        np.testing.assert_allclose(run.points[t + 1], w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run.losses, problem.loss(run.points), rtol=1e-10)
    np.testing.assert_array_equal(run.samples, 50 * np.arange(31))
    assert run.diverged_at is None


def test_schedule_sampling_and_average_match_a_hand_written_loop(problem):
    from optlib import SGD
    from optlib.schedules import scheduled

    schedule = lambda t: 0.2 / np.sqrt(t + 1)  # noqa: E731  (t = updates already taken)
    run = run_stochastic(scheduled(SGD, schedule), problem, np.ones(3), steps=40, batch_size=4,
                         rng=np.random.default_rng(3), sampling="replace", lr=1.0)
    rng = np.random.default_rng(3)
    w = np.ones(3)
    path = [w]
    for t in range(1, 41):
        idx = rng.integers(50, size=(1, 4))[0]
        w = w - schedule(t - 1) * problem.batch_gradient(w, idx)
        path.append(w)
    path = np.array(path)
    np.testing.assert_allclose(run.points, path, rtol=1e-12)
    np.testing.assert_allclose(run.averages[1:], np.cumsum(path[1:], axis=0) / np.arange(1, 41)[:, None],
                               rtol=1e-12)
    np.testing.assert_allclose(run.average_losses, problem.loss(run.averages), rtol=1e-10)


def test_schedules_from_optlib_schedules_plug_in(problem):
    from optlib import SGD, schedules

    schedule = schedules.step(0.1, step_size=5, gamma=0.5)
    run = run_stochastic(schedules.scheduled(SGD, schedule), problem, np.ones(3), steps=12, batch_size=50, lr=1.0)
    w = np.ones(3)
    for t in range(12):
        w = w - schedule(t) * problem.gradient(w)
    np.testing.assert_allclose(run.points[-1], w, rtol=1e-12)


def test_shuffled_epochs_use_every_sample_once_per_copy(problem):
    recorder = Recorder(50, 3)
    from optlib import SGD

    run_stochastic(SGD, recorder, np.zeros((2, 3)), steps=14, batch_size=7, rng=np.random.default_rng(0), lr=0.1)
    batches = np.stack(recorder.seen)  # (14, 2, 7): 7 batches per epoch (one sample dropped), 2 epochs
    for copy in range(2):
        for epoch in range(2):
            used = batches[7 * epoch:7 * epoch + 7, copy].ravel()
            assert len(np.unique(used)) == 49
    assert not np.array_equal(batches[:7, 0], batches[:7, 1])  # each copy shuffles on its own


def test_copies_are_independent_runs(problem):
    from optlib import SGD

    starts = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    run = run_stochastic(SGD, problem, starts, steps=20, batch_size=5, rng=np.random.default_rng(0), lr=0.05)
    assert run.points.shape == (21, 2, 3) and run.losses.shape == (21, 2)
    np.testing.assert_array_equal(run.diverged_at, [-1, -1])
    assert np.all(run.losses[-1] < run.losses[0])


def test_divergence_is_reported_without_warnings(problem):
    import warnings

    from optlib import SGD

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = run_stochastic(SGD, problem, np.zeros((3, 3)), steps=2000, batch_size=1,
                             rng=np.random.default_rng(0), lr=5.0)
    assert np.all(run.diverged)
    for copy, t in enumerate(run.diverged_at):
        assert np.all(np.isfinite(run.losses[:t, copy])) and np.all(run.losses[:t, copy] <= 1e12)
        assert np.all(np.isnan(run.losses[t:, copy]))
        assert np.all(np.isnan(run.points[t:, copy]))


def test_run_stochastic_refuses_bad_input(problem):
    from optlib import SGD

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="sampling"):
        run_stochastic(SGD, problem, np.zeros(3), 5, 2, rng, sampling="bootstrap", lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        run_stochastic(SGD, problem, np.zeros(3), 5, 51, rng, lr=0.1)
    with pytest.raises(TypeError, match="rng"):
        run_stochastic(SGD, problem, np.zeros(3), 5, 2, lr=0.1)
    with pytest.raises(ValueError, match="start"):
        run_stochastic(SGD, problem, np.zeros(2), 5, 2, rng, lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        run_stochastic(SGD, problem, np.zeros(3), -1, 2, rng, lr=0.1)


# --- one interface, one runner ---------------------------------------------------------------------------

def test_both_problems_are_finite_sums_and_one_runner_serves_both(problem):
    from optlib import SGD
    from optlib.problems import FiniteSum, bag_of_words

    task = bag_of_words(n_docs=200, vocabulary=20, seed=1)
    for p in (problem, task):
        assert isinstance(p, FiniteSum)
        run = run_stochastic(SGD, p, np.zeros(p.param_shape), steps=40, batch_size=10,
                             rng=np.random.default_rng(0), lr=0.1)
        # the loop written out with the interface's own methods
        rng, w = np.random.default_rng(0), np.zeros(p.param_shape)
        for t in range(40):
            if t % (p.n_samples // 10) == 0:
                order = rng.permuted(np.broadcast_to(np.arange(p.n_samples), (1, p.n_samples)), axis=1)[0]
            k = t % (p.n_samples // 10)
            w = w - 0.1 * p.batch_gradient(w, order[10 * k:10 * k + 10])
        np.testing.assert_allclose(run.final, w, rtol=1e-12)
        np.testing.assert_allclose(run.losses[-1], p.loss(w), rtol=1e-10)
        assert run.losses[-1] < run.losses[0]


def test_a_learning_rate_sweep_is_separate_runs_on_the_same_batches(problem):
    from optlib import SGD

    lrs = [0.01, 0.1, 0.5, 5.0]  # the last one diverges
    sweep = run_stochastic(SGD, problem, np.ones(3), steps=60, batch_size=5, rng=np.random.default_rng(4),
                           lr=lrs, record_every=7, momentum=0.5)
    assert sweep.points.shape == (10, 4, 3) and sweep.losses.shape == (10, 4)
    np.testing.assert_array_equal(sweep.steps, [0, 7, 14, 21, 28, 35, 42, 49, 56, 60])
    np.testing.assert_array_equal(sweep.samples, 5 * sweep.steps)
    assert [opt.lr for opt in sweep.optimizer] == lrs and sweep.optimizer[0].momentum == 0.5
    np.testing.assert_array_equal(sweep.diverged, [False, False, False, True])
    for i, lr in enumerate(lrs):
        one = run_stochastic(SGD, problem, np.ones(3), steps=60, batch_size=5, rng=np.random.default_rng(4), lr=lr,
                             momentum=0.5)
        np.testing.assert_array_equal(sweep.points[:, i], one.points[sweep.steps], err_msg=f"lr={lr}")
        np.testing.assert_array_equal(sweep.losses[:, i], one.losses[sweep.steps])
        np.testing.assert_allclose(sweep.averages[:, i], one.averages[sweep.steps], rtol=1e-15)


def test_record_every_reports_divergence_at_the_first_recorded_step_past_it(problem):
    from optlib import SGD

    every = run_stochastic(SGD, problem, np.zeros(3), steps=300, batch_size=1, rng=np.random.default_rng(0), lr=5.0)
    sparse = run_stochastic(SGD, problem, np.zeros(3), steps=300, batch_size=1, rng=np.random.default_rng(0), lr=5.0,
                            record_every=20)
    assert every.diverged and sparse.diverged
    assert sparse.diverged_at == sparse.steps[sparse.steps >= every.diverged_at][0]


def test_stacked_runs_refuse_an_optimizer_that_is_not_elementwise(problem, monkeypatch):
    from optlib import SGD, Muon

    monkeypatch.setattr(Muon, "elementwise", False, raising=False)  # Muon's own flag (opt's branch) says the same

    class CoupledSGD(SGD):
        elementwise = False

    rng = np.random.default_rng(0)
    for optimizer in (CoupledSGD, Muon):
        with pytest.raises(ValueError, match="not element-wise"):
            run_stochastic(optimizer, problem, np.zeros((2, 3)), 5, 2, rng, lr=0.1)
        with pytest.raises(ValueError, match="not element-wise"):
            run_stochastic(optimizer, problem, np.zeros(3), 5, 2, rng, lr=[0.1, 0.2])
    one = run_stochastic(CoupledSGD, problem, np.zeros(3), 5, 2, rng, lr=0.1)  # one run is fine
    assert np.all(np.isfinite(one.points))


def test_a_sweep_refuses_a_schedule_and_an_empty_list(problem):
    from optlib import SGD
    from optlib.schedules import scheduled

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="ScheduledSGD sets its learning rate from its schedule"):
        run_stochastic(scheduled(SGD, lambda t: 0.1), problem, np.zeros(3), 5, 2, rng, lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="lr"):
        run_stochastic(SGD, problem, np.zeros(3), 5, 2, rng, lr=[])
    with pytest.raises(TypeError, match="record_every"):
        run_stochastic(SGD, problem, np.zeros(3), 5, 2, rng, lr=0.1, record_every=2.5)


def test_subset_sampling_draws_a_fresh_set_of_distinct_samples_per_step(problem):
    from optlib import SGD

    run = run_stochastic(SGD, problem, np.ones(3), steps=30, batch_size=8, rng=np.random.default_rng(5),
                         sampling="subset", lr=0.05)
    rng, w = np.random.default_rng(5), np.ones(3)
    for _ in range(30):
        w = w - 0.05 * problem.batch_gradient(w, rng.choice(50, size=8, replace=False))
    np.testing.assert_allclose(run.final, w, rtol=1e-12)
    with pytest.raises(ValueError, match="batch_size"):
        run_stochastic(SGD, problem, np.ones(3), 5, 51, np.random.default_rng(0), sampling="subset", lr=0.1)


# --- one sampler ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("sampling", ["shuffle", "replace", "subset"])
@pytest.mark.parametrize("copies", [None, 3])
def test_run_stochastic_draws_its_batches_from_the_one_sampler(sampling, copies):
    recorder = Recorder(20, 2)
    from optlib import SGD

    start = np.zeros(2) if copies is None else np.zeros((copies, 2))
    run_stochastic(SGD, recorder, start, steps=17, batch_size=6, rng=np.random.default_rng(7), sampling=sampling,
                   lr=0.1)
    expected = minibatches(20, 6, np.random.default_rng(7), drop_last=sampling == "shuffle", epochs=None,
                           sampling=sampling, copies=copies)
    for idx in recorder.seen:
        np.testing.assert_array_equal(idx, next(expected))
    assert len(recorder.seen) == 17 and recorder.seen[0].shape == ((6,) if copies is None else (copies, 6))


def test_the_sampler_draws_as_each_sampling_says():
    rng = np.random.default_rng(0)
    replace = np.stack(list(minibatches(10, 4, rng, sampling="replace", copies=2, epochs=500)))
    assert replace.shape == (1500, 2, 4) and replace.min() == 0 and replace.max() == 9
    # with replacement a batch repeats a sample now and then (P = 1 - 10*9*8*7/10^4 = 0.496 per batch)
    repeats = np.mean([len(set(batch)) < 4 for batch in replace.reshape(-1, 4)])
    assert abs(repeats - 0.496) < 0.03
    subset = np.stack(list(minibatches(10, 4, rng, sampling="subset", copies=2, epochs=100)))
    assert all(len(set(batch)) == 4 for batch in subset.reshape(-1, 4))
    # a full batch is every sample, in order, and needs no generator
    assert [b.tolist() for b in minibatches(3, 5, None, epochs=2)] == [[0, 1, 2], [0, 1, 2]]
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(10, 11, rng, sampling="subset")
    with pytest.raises(ValueError, match="sampling"):
        minibatches(10, 3, rng, sampling="bootstrap")
