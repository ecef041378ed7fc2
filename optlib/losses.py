r"""Loss functions with their gradients, written for batches.

Each function returns ``(loss, gradient)``: the mean loss over the batch and its gradient with
respect to the *first* argument (the model's predictions or logits), so that backpropagation
starts from it.

Mean squared error, for predictions :math:`\hat y \in \mathbb{R}^{n \times k}` (or :math:`\mathbb{R}^n`):

.. math::  \ell = \frac{1}{n} \sum_{i} \tfrac12 \lVert \hat y_i - y_i \rVert^2, \qquad
           \frac{\partial \ell}{\partial \hat y_i} = \frac{1}{n} (\hat y_i - y_i)

(the factor 1/2 makes the gradient the plain residual; torch's ``MSELoss`` has no 1/2 and averages
over every element, so its value is ``2/k`` times ours).

Softmax cross-entropy, for logits :math:`z \in \mathbb{R}^{n \times C}` and integer labels :math:`y_i`:

.. math::  \ell = \frac1n \sum_i \Big(\log \sum_c e^{z_{ic}} - z_{i y_i}\Big), \qquad
           \frac{\partial \ell}{\partial z_i} = \frac1n \big(\operatorname{softmax}(z_i) - e_{y_i}\big)

computed with the log-sum-exp shift :math:`\log\sum_c e^{z_c} = m + \log\sum_c e^{z_c - m}`,
:math:`m = \max_c z_c`, so no exponential overflows whatever the logits' size.
"""

from __future__ import annotations

import numpy as np

from .validation import numeric_array

__all__ = ["mse", "softmax", "log_softmax", "softmax_cross_entropy"]


def mse(predictions, targets) -> tuple[float, np.ndarray]:
    """Half mean squared error over the batch (first axis) and its gradient w.r.t. ``predictions``."""
    predictions = numeric_array("predictions", predictions)
    targets = numeric_array("targets", targets)
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions has shape {predictions.shape} but targets has shape {targets.shape}")
    if predictions.ndim == 0 or predictions.shape[0] == 0:
        raise ValueError("predictions must hold a non-empty batch along its first axis")
    n = predictions.shape[0]
    residuals = predictions - targets
    return 0.5 * float(np.sum(residuals**2)) / n, residuals / n


def log_softmax(logits) -> np.ndarray:
    """``log softmax`` along the last axis, stable for any logits."""
    logits = numeric_array("logits", logits)
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(logits) -> np.ndarray:
    """Probabilities along the last axis; ``exp`` of ``log_softmax``, so it never overflows."""
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against integer ``labels``, and its gradient w.r.t. logits."""
    logits = numeric_array("logits", logits)
    labels = np.asarray(labels)
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits must have shape (n, classes) with n > 0, got {logits.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if labels.shape != logits.shape[:1]:
        raise ValueError(f"labels must have shape ({logits.shape[0]},), got {labels.shape}")
    if labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must lie in [0, {logits.shape[1] - 1}], got values in "
                         f"[{labels.min()}, {labels.max()}]")
    n = logits.shape[0]
    log_probs = log_softmax(logits)
    loss = -float(np.mean(log_probs[np.arange(n), labels]))
    grad = np.exp(log_probs)
    grad[np.arange(n), labels] -= 1.0
    return loss, grad / n
