"""The bundled scikit-learn data sets: offline, seeded splits, standardised with training statistics."""

import socket

import numpy as np
import pytest

from optlib.real_data import Dataset, load_diabetes, load_digits, standardize, train_test_split


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data set tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_digits_loads_offline_with_the_documented_shapes(no_network):
    data = load_digits()
    assert isinstance(data, Dataset) and data.task == "classification"
    assert data.X_train.shape == (1348, 64) and data.X_test.shape == (449, 64)
    assert data.n_features == 64 and data.n_outputs == data.n_classes == 10
    assert data.y_train.dtype.kind == "i" and set(np.unique(data.y_train)) == set(range(10))
    assert "digits" in repr(data)


def test_diabetes_loads_offline_with_a_standardised_column_target(no_network):
    data = load_diabetes()
    assert data.task == "regression" and data.n_classes is None
    assert data.X_train.shape == (332, 10) and data.X_test.shape == (110, 10)
    assert data.y_train.shape == (332, 1) and data.n_outputs == 1
    assert abs(data.y_train.mean()) < 1e-12 and data.y_train.std() == pytest.approx(1.0)
    # Predicting the training mean (0) gives a half MSE of about 0.5 on the test set too.
    assert 0.3 < 0.5 * np.mean(data.y_test**2) < 0.7


@pytest.mark.parametrize("load", [load_digits, load_diabetes])
def test_features_standardised_with_training_statistics_only(load):
    data = load()
    mean, std = data.X_train.mean(axis=0), data.X_train.std(axis=0)
    assert np.allclose(mean, 0, atol=1e-12)
    assert np.allclose(std[std > 0], 1)
    # The test set is transformed with the training statistics, so its mean is near 0 but not exactly 0.
    assert 1e-6 < np.abs(data.X_test.mean(axis=0)).max() < 1.0
    assert np.all(np.isfinite(data.X_test))


def test_constant_columns_are_centred_not_divided_by_zero():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    test = np.array([[2.0, 6.0]])
    train_std, test_std = standardize(train, test)
    assert np.allclose(train_std, [[-1, 0], [1, 0]])
    assert np.allclose(test_std, [[0, 1]])


def test_splits_are_seeded_disjoint_and_complete():
    a, b = load_digits(seed=0), load_digits(seed=0)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    c = load_digits(seed=1)
    assert not np.array_equal(a.y_train, c.y_train)
    train, test = train_test_split(100, 0.3, np.random.default_rng(0))
    assert len(test) == 30 and len(train) == 70
    assert np.array_equal(np.sort(np.r_[train, test]), np.arange(100))


def test_arrays_are_read_only():
    data = load_digits()
    with pytest.raises(ValueError):
        data.X_train[0, 0] = 1.0


@pytest.mark.parametrize("kwargs, error", [
    ({"n_samples": 1, "test_fraction": 0.5}, "n_samples"),
    ({"n_samples": 10, "test_fraction": 0.0}, "test_fraction"),
    ({"n_samples": 10, "test_fraction": 1.5}, "test_fraction"),
])
def test_bad_split_arguments_are_named(kwargs, error):
    with pytest.raises(ValueError, match=error):
        train_test_split(rng=np.random.default_rng(0), **kwargs)
    with pytest.raises(TypeError, match="rng"):
        train_test_split(10, 0.5, rng=0)
