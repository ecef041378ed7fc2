r"""Real data that ships with scikit-learn: loaded from the installed package, never downloaded.

Two small, classic data sets, each split once into training and test parts with a seeded
permutation and standardised with the *training* statistics only (the test set must not leak into
anything the optimizer sees):

* :func:`load_digits`: 1797 handwritten digits, 8x8 grey-scale images flattened to 64 features,
  10 classes (classification with softmax cross-entropy);
* :func:`load_diabetes`: 442 patients, 10 clinical features, one target (disease progression after
  a year); the target is standardised too, so a model that always predicts the training mean has a
  half mean squared error of about 0.5.

Standardising feature :math:`j` with the training mean :math:`m_j` and standard deviation
:math:`s_j`,

.. math::  x_{ij} \leftarrow (x_{ij} - m_j) / s_j ,

puts every input on the same scale, which is what a single learning rate shared by all weights
needs. A feature that is constant on the training set (some corner pixels of the digits are always
blank) gets :math:`s_j = 1` instead of a division by zero.

>>> data = load_digits(seed=0)
>>> data.X_train.shape, data.X_test.shape, data.n_classes
((1348, 64), (449, 64), 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import generator, non_negative_int, open_unit_interval, positive_int

__all__ = ["Dataset", "load_digits", "load_diabetes", "train_test_split", "standardize"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into training and test parts (arrays are read-only).

    ``task`` is ``"classification"`` (integer labels in ``[0, n_classes)``) or ``"regression"``
    (float targets of shape ``(n, n_outputs)``).
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None = None

    def __post_init__(self):
        for array in (self.X_train, self.y_train, self.X_test, self.y_test):
            array.setflags(write=False)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Outputs a model needs: the number of classes, or the number of regression targets."""
        return self.n_classes if self.task == "classification" else self.y_train.shape[1]

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {self.task}, {len(self.X_train)} train / {len(self.X_test)} test, "
                f"{self.n_features} features, {self.n_outputs} outputs)")


def train_test_split(n_samples: int, test_fraction: float, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` of a random split; the test part has ``round(test_fraction * n)`` samples."""
    n_samples = positive_int("n_samples", n_samples, minimum=2)
    test_fraction = open_unit_interval("test_fraction", test_fraction)
    rng = generator("rng", rng)
    n_test = min(max(round(test_fraction * n_samples), 1), n_samples - 1)
    order = rng.permutation(n_samples)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def standardize(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(a - mean) / std`` column by column, with ``train``'s mean and std applied to every array.

    Columns that are constant on ``train`` are only centred (their std is taken as 1).
    """
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return tuple((a - mean) / std for a in (train, *others))


def _split(name, task, X, y, test_fraction, seed, n_classes=None) -> Dataset:
    seed = non_negative_int("seed", seed)
    train, test = train_test_split(len(X), test_fraction, np.random.default_rng(seed))
    X_train, X_test = standardize(X[train].astype(float), X[test].astype(float))
    y_train, y_test = y[train], y[test]
    if task == "regression":
        y_train, y_test = standardize(y_train.astype(float), y_test.astype(float))
    return Dataset(name, task, X_train, y_train, X_test, y_test, n_classes)


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """scikit-learn's handwritten digits (8x8 images, 64 features, 10 classes), split and standardised.

    Args:
        test_fraction: share of the 1797 images held out for testing.
        seed: seeds the split (``np.random.default_rng(seed)``).
    """
    from sklearn.datasets import load_digits as sklearn_digits  # bundled with scikit-learn: no download

    bunch = sklearn_digits()
    return _split("digits", "classification", bunch.data, bunch.target.astype(np.int64), test_fraction, seed,
                  n_classes=10)


def load_diabetes(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """scikit-learn's diabetes regression set (442 patients, 10 features, 1 target), split and standardised.

    The target has shape ``(n, 1)`` (one output per sample) and is standardised with the training
    mean and std, like the features.
    """
    from sklearn.datasets import load_diabetes as sklearn_diabetes  # bundled with scikit-learn: no download

    bunch = sklearn_diabetes()
    return _split("diabetes", "regression", bunch.data, bunch.target.reshape(-1, 1), test_fraction, seed)
