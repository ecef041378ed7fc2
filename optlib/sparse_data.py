r"""A synthetic bag-of-words task with sparse features, where per-coordinate step sizes pay off.

Documents are short bags of words drawn from a vocabulary whose word frequencies follow Zipf's law
(the :math:`k`-th most frequent word appears with probability :math:`\propto k^{-s}`), as in real text:
a few words are in almost every document, most words are rare. Each document :math:`i` is a count
vector :math:`x_i \in \mathbb{N}^d` (how often each word occurs) and carries a label
:math:`y_i \in \{0, 1\}` drawn from a logistic model with true weights :math:`w^\star` of the same
size for frequent and rare words, so that rare words matter for the loss.

The loss is the mean logistic loss (binary cross-entropy) of a linear model :math:`z = x^\top w`:

.. math::

   \ell(w) = \frac1n \sum_{i=1}^n \big[\log(1 + e^{z_i}) - y_i z_i\big], \qquad
   \nabla \ell(w) = \frac1n \sum_{i=1}^n \big(\sigma(z_i) - y_i\big)\, x_i .

A word's coordinate of the gradient is non-zero only on documents that contain it, so rare words
get rare, small gradients: one step size for all coordinates is too small for them or too large
for the frequent ones. Every function accepts a batch of weight vectors ``w`` of shape ``(..., d)``
(one row per optimizer setting), so sweeps run vectorised::

    task = bag_of_words(seed=0)
    rng = np.random.default_rng(1)
    w = np.zeros(task.dim)
    g = task.gradient(w, task.sample_batch(rng, 32))   # a mini-batch gradient
    task.loss(w)                                        # log 2 at w = 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BagOfWords", "bag_of_words"]


def _log1p_exp(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` without overflow."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class BagOfWords:
    """Documents ``X`` (``(n, d)`` word counts), labels ``y`` (``(n,)``, 0 or 1) and the task's truth.

    ``frequency[j]`` is the fraction of documents that contain word ``j`` (words are sorted from the
    most to the least frequent); ``w_true`` are the weights the labels were drawn from.
    """

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray
    frequency: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    def _rows(self, batch):
        if batch is None:
            return self.X, self.y
        batch = np.asarray(batch)
        return self.X[batch], self.y[batch]

    def loss(self, w, batch=None) -> np.ndarray:
        """Mean logistic loss over ``batch`` (indices of documents; all documents by default)."""
        X, y = self._rows(batch)
        z = np.asarray(w, dtype=float) @ X.T                      # (..., b)
        return np.mean(_log1p_exp(z) - y * z, axis=-1)

    def gradient(self, w, batch=None) -> np.ndarray:
        """Gradient of :meth:`loss` with respect to ``w``, same shape as ``w``."""
        X, y = self._rows(batch)
        z = np.asarray(w, dtype=float) @ X.T                      # (..., b)
        return (_sigmoid(z) - y) @ X / X.shape[0]

    def sample_batch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Indices of a mini-batch of ``size`` documents, drawn without replacement."""
        return rng.choice(self.n, size=size, replace=False)


def bag_of_words(n_docs: int = 3000, vocabulary: int = 300, words_per_doc: int = 10,
                 zipf_exponent: float = 1.1, weight_scale: float = 1.0, seed: int = 0) -> BagOfWords:
    """A seeded bag-of-words classification task (see the module docstring).

    Args:
        n_docs: number of documents ``n``.
        vocabulary: number of distinct words ``d``.
        words_per_doc: words drawn (with replacement) per document.
        zipf_exponent: ``s`` in the word probabilities ``p_k`` proportional to ``k**-s``.
        weight_scale: standard deviation of the true weights, which are Gaussian for every word.
        seed: seeds ``np.random.default_rng``; the same seed gives the same task.
    """
    for name, value in (("n_docs", n_docs), ("vocabulary", vocabulary), ("words_per_doc", words_per_doc)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not np.isfinite(zipf_exponent) or zipf_exponent < 0:
        raise ValueError(f"zipf_exponent must be a finite number >= 0, got {zipf_exponent!r}")
    if not np.isfinite(weight_scale) or weight_scale < 0:
        raise ValueError(f"weight_scale must be a finite number >= 0, got {weight_scale!r}")
    rng = np.random.default_rng(seed)
    p = np.arange(1, vocabulary + 1, dtype=float) ** -float(zipf_exponent)
    p /= p.sum()
    words = rng.choice(vocabulary, size=(n_docs, words_per_doc), p=p)
    X = np.zeros((n_docs, vocabulary))
    np.add.at(X, (np.repeat(np.arange(n_docs), words_per_doc), words.ravel()), 1.0)
    w_true = weight_scale * rng.standard_normal(vocabulary)
    y = (rng.random(n_docs) < _sigmoid(X @ w_true)).astype(float)
    frequency = np.mean(X > 0, axis=0)
    return BagOfWords(X=X, y=y, w_true=w_true, frequency=frequency)
