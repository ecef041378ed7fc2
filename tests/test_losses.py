"""Loss functions and the gradient checker."""

import numpy as np
import pytest

from optlib.gradcheck import gradient_error, numerical_gradient
from optlib.losses import log_softmax, mse, softmax, softmax_cross_entropy


def test_mse_value_and_gradient():
    predictions = np.array([[1.0, 2.0], [3.0, 5.0]])
    targets = np.array([[0.0, 2.0], [3.0, 3.0]])
    loss, grad = mse(predictions, targets)
    # (1 + 0 + 0 + 4) / 2 samples / 2
    assert loss == pytest.approx(1.25)
    assert np.allclose(grad, (predictions - targets) / 2)
    rng = np.random.default_rng(0)
    p, t = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    assert gradient_error(lambda q: mse(q, t)[0], lambda q: mse(q, t)[1], p) < 1e-9


def test_cross_entropy_value_gradient_and_stability():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss, grad = softmax_cross_entropy(logits, labels)
    expected = -np.mean(np.log(np.exp(logits[np.arange(6), labels]) / np.exp(logits).sum(axis=1)))
    assert loss == pytest.approx(expected, rel=1e-12)
    assert gradient_error(lambda z: softmax_cross_entropy(z, labels)[0],
                          lambda z: softmax_cross_entropy(z, labels)[1], logits) < 1e-9
    assert np.allclose(grad.sum(axis=1), 0)
    huge = np.array([[1e4, 0.0, -1e4]])
    big_loss, big_grad = softmax_cross_entropy(huge, np.array([1]))
    assert big_loss == pytest.approx(1e4) and np.all(np.isfinite(big_grad))
    assert np.allclose(softmax(huge).sum(), 1) and np.all(np.isfinite(log_softmax(huge)[0, :2]))


def test_cross_entropy_is_shift_invariant():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    assert softmax_cross_entropy(logits, labels)[0] == pytest.approx(
        softmax_cross_entropy(logits + 123.0, labels)[0], rel=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda: mse(np.zeros(3), np.zeros(4)), ValueError, "targets"),
    (lambda: mse(np.zeros(0), np.zeros(0)), ValueError, "predictions"),
    (lambda: mse(np.array(["a"]), np.zeros(1)), TypeError, "predictions"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError, "labels"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError, "labels"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0])), ValueError, "labels"),
    (lambda: softmax_cross_entropy(np.zeros(3), np.array([0])), ValueError, "logits"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gradient_checker_catches_a_wrong_gradient():
    f = lambda x: float(np.sum(np.sin(x)))  # noqa: E731
    x = np.array([0.1, 0.7, -1.2])
    assert np.allclose(numerical_gradient(f, x), np.cos(x), atol=1e-9)
    assert gradient_error(f, np.cos, x) < 1e-9
    assert gradient_error(f, lambda x: np.cos(x) * 1.01, x) > 1e-3
    with pytest.raises(ValueError, match="shape"):
        gradient_error(f, lambda x: np.cos(x)[:2], x)
    with pytest.raises(ValueError, match="h"):
        numerical_gradient(f, x, h=0)
