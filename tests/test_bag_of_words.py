"""The synthetic bag-of-words task: seeded, sparse, Zipf-like, with a correct loss and gradient, a FiniteSum."""

import numpy as np
import pytest

from optlib.gradcheck import numerical_gradient
from optlib.problems import FiniteSum, bag_of_words


def test_same_seed_same_task_other_seed_other_task():
    a, b, c = bag_of_words(seed=3), bag_of_words(seed=3), bag_of_words(seed=4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and np.array_equal(a.w_true, b.w_true)
    assert not np.array_equal(a.X, c.X)


def test_shapes_counts_and_labels():
    task = bag_of_words(n_docs=500, vocabulary=80, words_per_doc=7, seed=1)
    assert task.X.shape == (500, 80) and task.y.shape == (500,) and task.w_true.shape == (80,)
    assert task.n_samples == 500 and task.dim == 80 and task.param_shape == (80,)
    assert isinstance(task, FiniteSum)
    assert np.all(task.X.sum(axis=1) == 7)          # every document has its words
    assert set(np.unique(task.y)) <= {0.0, 1.0}
    assert np.allclose(task.frequency, np.mean(task.X > 0, axis=0))


def test_features_are_sparse_and_frequencies_fall_with_rank():
    task = bag_of_words(seed=0)
    assert np.mean(task.X > 0) < 0.05
    # Zipf: the frequent end of the vocabulary is much more frequent than the rare end
    assert task.frequency[:10].mean() > 20 * task.frequency[-100:].mean()
    slope = np.polyfit(np.log(np.arange(1, task.dim + 1)), np.log(np.maximum(task.frequency, 1e-6)), 1)[0]
    assert -1.5 < slope < -0.6


def test_loss_at_zero_is_log_two_and_gradient_matches_finite_differences():
    task = bag_of_words(n_docs=200, vocabulary=30, seed=2)
    assert np.isclose(task.loss(np.zeros(task.dim)), np.log(2))
    w = np.random.default_rng(0).standard_normal(task.dim)
    numeric = numerical_gradient(lambda v: float(task.loss(v)), w)
    assert np.allclose(task.gradient(w), numeric, atol=1e-7)
    batch = np.array([0, 5, 7, 100])
    numeric_batch = numerical_gradient(lambda v: float(task.loss(v, batch)), w)
    assert np.allclose(task.batch_gradient(w, batch), numeric_batch, atol=1e-7)
    assert np.allclose(task.batch_gradient(w, np.arange(task.n_samples)), task.gradient(w), atol=1e-15)


def test_batches_of_weights_are_vectorised():
    task = bag_of_words(n_docs=100, vocabulary=20, seed=5)
    W = np.random.default_rng(1).standard_normal((3, 4, task.dim))
    losses, grads = task.loss(W), task.gradient(W)
    assert losses.shape == (3, 4) and grads.shape == W.shape
    assert np.allclose(losses[1, 2], task.loss(W[1, 2])) and np.allclose(grads[2, 3], task.gradient(W[2, 3]))


def test_no_overflow_for_huge_weights():
    task = bag_of_words(n_docs=50, vocabulary=10, seed=6)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
        loss = task.loss(np.full(task.dim, 1e4))
        grad = task.gradient(np.full(task.dim, -1e4))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_each_copy_averages_over_its_own_samples():
    task = bag_of_words(n_docs=100, vocabulary=10, seed=7)
    W = np.random.default_rng(2).standard_normal((3, task.dim))
    shared = np.array([1, 4, 9, 16])
    per_copy = np.array([[0, 1, 2, 3], [10, 20, 30, 40], [5, 5, 6, 99]])
    for k in range(3):
        np.testing.assert_allclose(task.batch_gradient(W, shared)[k], task.batch_gradient(W[k], shared), rtol=1e-13)
        np.testing.assert_allclose(task.batch_gradient(W, per_copy)[k], task.batch_gradient(W[k], per_copy[k]),
                                   rtol=1e-13)
        np.testing.assert_allclose(task.loss(W, per_copy)[k], task.loss(W[k], per_copy[k]), rtol=1e-13)
    # the mean of the per-sample gradients, by hand
    z = task.X[per_copy[1]] @ W[1]
    by_hand = ((1 / (1 + np.exp(-z)) - task.y[per_copy[1]]) @ task.X[per_copy[1]]) / 4
    np.testing.assert_allclose(task.batch_gradient(W, per_copy)[1], by_hand, rtol=1e-12)


def test_bad_indices_and_shapes_are_refused():
    task = bag_of_words(n_docs=20, vocabulary=5, seed=8)
    with pytest.raises(ValueError, match="idx"):
        task.batch_gradient(np.zeros(5), np.array([0, 20]))
    with pytest.raises(TypeError, match="idx"):
        task.loss(np.zeros(5), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="w must"):
        task.gradient(np.zeros(4))


@pytest.mark.parametrize("kwargs, error", [(dict(n_docs=0), ValueError), (dict(vocabulary=-1), ValueError),
                                           (dict(words_per_doc=2.5), TypeError), (dict(zipf_exponent=-1.0), ValueError),
                                           (dict(weight_scale=float("nan")), ValueError),
                                           (dict(weight_scale="1"), TypeError), (dict(seed=-1), ValueError)])
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        bag_of_words(**kwargs)
