r"""Small models with hand-written backpropagation, and the loop that trains them with any optimizer.

Two models, each a list of float arrays that any optlib optimizer updates in place:

* :class:`Linear`: :math:`z = XW + b`. With ``loss="cross_entropy"`` it is **softmax regression**
  (multinomial logistic regression, convex in :math:`W, b`); with ``loss="mse"``, linear regression.
* :class:`MLP`: one hidden layer, :math:`z = \sigma(XW_1 + b_1)\,W_2 + b_2`, with
  :math:`\sigma = \tanh` (or ReLU). Not convex: the first model in the book with that property.

Both give ``loss_and_grads(params, X, y) -> (loss, grads)``: the mean loss over the batch and its
gradient with respect to every parameter, in the order of ``params``. Backpropagation is the chain
rule applied from the loss back to the inputs, layer by layer; for the MLP, with
:math:`\delta_z = \partial\ell/\partial z` from :mod:`optlib.losses`,

.. math::
    \partial\ell/\partial W_2 = h^\top \delta_z,\quad
    \partial\ell/\partial b_2 = \textstyle\sum_i \delta_{z,i},\quad
    \delta_a = (\delta_z W_2^\top) \odot \sigma'(a),\quad
    \partial\ell/\partial W_1 = X^\top \delta_a,\quad
    \partial\ell/\partial b_1 = \textstyle\sum_i \delta_{a,i},

where :math:`a = XW_1 + b_1` and :math:`h = \sigma(a)`. The tests check every gradient against
finite differences (:mod:`optlib.gradcheck`).

**Copies.** Parameters may carry a leading axis of ``k`` independent copies of the model (one per
seed), with a batch ``X`` of shape ``(k, B, d)`` (each copy its own samples) or ``(B, d)`` (shared):
one NumPy call then trains all ``k`` at once. ``loss`` is the mean over copies, and each copy's
gradient is the gradient of *its own* mean loss. An element-wise optimizer (every one in optlib but
Muon, Shampoo and SOAP, which :func:`train` refuses to stack) updates each array coordinate by
coordinate, so stepping the stacked arrays is ``k`` separate runs in exact arithmetic (:func:`train`
relies on this; the tests check it where the dynamics are stable). In floating point the last bits can
differ, which is harmless where the dynamics are stable and decisive near an optimizer's edge
(chapter "Choosing an optimizer", "The last bit").

>>> import numpy as np
>>> model = MLP(4, 8, 3)
>>> params = model.init(np.random.default_rng(0))
>>> [p.shape for p in params]
[(4, 8), (8,), (8, 3), (3,)]
>>> X, y = np.random.default_rng(1).normal(size=(5, 4)), np.array([0, 2, 1, 1, 0])
>>> loss, grads = model.loss_and_grads(params, X, y)
>>> [g.shape for g in grads] == [p.shape for p in params]
True
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .losses import log_softmax, mse, softmax_cross_entropy
from .problems import minibatches
from .real_data import Dataset
from .trajectory import DIVERGENCE_THRESHOLD, Diverges, has_diverged, refuse_coupled_runs
from .validation import non_negative_int, one_of, positive_int

__all__ = ["Linear", "MLP", "History", "Sweep", "train", "lr_sweep"]

_LOSSES = ("cross_entropy", "mse")


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


class _Model:
    """What both models share: the loss at the output, predictions, accuracy, stacking copies."""

    loss: str
    n_outputs: int

    def _check_loss(self, loss: str) -> str:
        return one_of("loss", loss, _LOSSES)

    def init(self, rng: np.random.Generator) -> list[np.ndarray]:
        raise NotImplementedError

    def init_copies(self, seeds: Sequence[int]) -> list[np.ndarray]:
        """One initialisation per seed, stacked along a new first axis (``rng = default_rng(seed)`` each)."""
        inits = [self.init(np.random.default_rng(non_negative_int("seeds", seed))) for seed in seeds]
        return [np.stack(arrays) for arrays in zip(*inits, strict=True)]

    def forward(self, params, X) -> np.ndarray:
        """The outputs (logits, or predictions for ``mse``), shape ``(..., B, n_outputs)``."""
        raise NotImplementedError

    def _output_loss(self, outputs: np.ndarray, y) -> tuple[float, np.ndarray]:
        r"""Mean loss over all copies and samples, and :math:`\partial \ell_{\text{copy}} / \partial z`.

        The loss functions average over every row they see; with ``k`` copies, the gradient of the
        overall mean is ``1/k`` of each copy's own gradient, so it is scaled back by ``k``.
        """
        k = int(np.prod(outputs.shape[:-2], dtype=int))
        flat = outputs.reshape(-1, outputs.shape[-1])
        if self.loss == "cross_entropy":
            labels = np.broadcast_to(y, outputs.shape[:-1]).reshape(-1)
            loss, delta = softmax_cross_entropy(flat, labels)
        else:
            targets = np.broadcast_to(y, outputs.shape).reshape(flat.shape)
            loss, delta = mse(flat, targets)
        return loss, delta.reshape(outputs.shape) * k

    def predict(self, params, X) -> np.ndarray:
        """Class labels (``cross_entropy``) or predicted values (``mse``)."""
        outputs = self.forward(params, X)
        return np.argmax(outputs, axis=-1) if self.loss == "cross_entropy" else outputs

    def accuracy(self, params, X, y) -> np.ndarray:
        """Fraction of correctly classified samples (one number per copy)."""
        if self.loss != "cross_entropy":
            raise ValueError("accuracy is defined for classification (loss='cross_entropy') only")
        return np.mean(self.predict(params, X) == y, axis=-1)

    def losses(self, params, X, y) -> np.ndarray:
        """The mean loss of each copy on ``(X, y)``: shape ``()`` for one model, ``(k,)`` for ``k`` copies.

        The same numbers as ``loss_and_grads`` gives, per copy, without the gradient.
        """
        outputs = self.forward(params, X)
        if self.loss == "cross_entropy":
            labels = np.broadcast_to(y, outputs.shape[:-1])[..., None]
            return -np.mean(np.take_along_axis(log_softmax(outputs), labels, axis=-1)[..., 0], axis=-1)
        return 0.5 * np.mean(np.sum((outputs - y) ** 2, axis=-1), axis=-1)


class Linear(_Model):
    r"""A linear model :math:`z = XW + b`: softmax regression (``loss="cross_entropy"``) or linear regression.

    ``params = [W, b]`` with ``W`` of shape ``(n_inputs, n_outputs)`` and ``b`` of shape ``(n_outputs,)``.
    Initialisation: :math:`W_{jc} \sim \mathcal N(0, 0.01^2)`, :math:`b = 0`.
    """

    def __init__(self, n_inputs: int, n_outputs: int, loss: str = "cross_entropy"):
        self.n_inputs = positive_int("n_inputs", n_inputs)
        self.n_outputs = positive_int("n_outputs", n_outputs)
        self.loss = self._check_loss(loss)

    def __repr__(self) -> str:
        return f"Linear({self.n_inputs}, {self.n_outputs}, loss={self.loss!r})"

    def init(self, rng: np.random.Generator) -> list[np.ndarray]:
        return [0.01 * rng.standard_normal((self.n_inputs, self.n_outputs)), np.zeros(self.n_outputs)]

    def forward(self, params, X) -> np.ndarray:
        W, b = params
        return X @ W + b[..., None, :]

    def loss_and_grads(self, params, X, y) -> tuple[float, list[np.ndarray]]:
        """Mean loss on the batch ``(X, y)`` and its gradients ``[dW, db]``."""
        W, b = params
        # z = X W + b
        z = X @ W + b[..., None, :]
        loss, dz = self._output_loss(z, y)
        # dl/dW = X^T dz,   dl/db = sum_i dz_i
        dW = _transpose(X) @ dz
        db = dz.sum(axis=-2)
        return loss, [dW, db]


class MLP(_Model):
    r"""One hidden layer, :math:`z = \sigma(XW_1 + b_1)\, W_2 + b_2`, ``activation`` ``"tanh"`` or ``"relu"``.

    ``params = [W1, b1, W2, b2]``. Initialisation (Glorot/He style, so every layer starts with outputs
    of order one): :math:`W_1 \sim \mathcal N(0, g/n_{\text{inputs}})`, :math:`W_2 \sim \mathcal N(0,
    1/n_{\text{hidden}})` with :math:`g = 1` for tanh and 2 for ReLU; biases zero.
    """

    def __init__(self, n_inputs: int, n_hidden: int, n_outputs: int, loss: str = "cross_entropy",
                 activation: str = "tanh"):
        self.n_inputs = positive_int("n_inputs", n_inputs)
        self.n_hidden = positive_int("n_hidden", n_hidden)
        self.n_outputs = positive_int("n_outputs", n_outputs)
        self.loss = self._check_loss(loss)
        self.activation = one_of("activation", activation, ("tanh", "relu"))

    def __repr__(self) -> str:
        return (f"MLP({self.n_inputs}, {self.n_hidden}, {self.n_outputs}, loss={self.loss!r}, "
                f"activation={self.activation!r})")

    def init(self, rng: np.random.Generator) -> list[np.ndarray]:
        gain = 1.0 if self.activation == "tanh" else 2.0
        return [np.sqrt(gain / self.n_inputs) * rng.standard_normal((self.n_inputs, self.n_hidden)),
                np.zeros(self.n_hidden),
                np.sqrt(1.0 / self.n_hidden) * rng.standard_normal((self.n_hidden, self.n_outputs)),
                np.zeros(self.n_outputs)]

    def _hidden(self, params, X):
        W1, b1, _, _ = params
        a = X @ W1 + b1[..., None, :]
        return a, (np.tanh(a) if self.activation == "tanh" else np.maximum(a, 0.0))

    def forward(self, params, X) -> np.ndarray:
        _, h = self._hidden(params, X)
        W2, b2 = params[2:]
        return h @ W2 + b2[..., None, :]

    def loss_and_grads(self, params, X, y) -> tuple[float, list[np.ndarray]]:
        """Mean loss on the batch ``(X, y)`` and its gradients ``[dW1, db1, dW2, db2]`` (backpropagation)."""
        W1, b1, W2, b2 = params
        # forward:  a = X W1 + b1,   h = sigma(a),   z = h W2 + b2
        a, h = self._hidden(params, X)
        z = h @ W2 + b2[..., None, :]
        loss, dz = self._output_loss(z, y)
        # output layer:  dl/dW2 = h^T dz,   dl/db2 = sum_i dz_i
        dW2 = _transpose(h) @ dz
        db2 = dz.sum(axis=-2)
        # back through W2 and the activation:  da = (dz W2^T) * sigma'(a)
        dh = dz @ _transpose(W2)
        da = dh * (1.0 - h * h) if self.activation == "tanh" else dh * (a > 0)
        # hidden layer:  dl/dW1 = X^T da,   dl/db1 = sum_i da_i
        dW1 = _transpose(X) @ da
        db1 = da.sum(axis=-2)
        return loss, [dW1, db1, dW2, db2]


# --- training ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class History(Diverges):
    """What :func:`train` records for ``k`` seeds after the epochs listed in ``epochs`` (0: before training).

    ``train_loss`` and ``test_loss`` are full-data mean losses, shape ``(k, len(epochs))``;
    ``test_accuracy`` likewise (classification only, else ``None``). After a copy diverges (its
    training loss breaks optlib's one divergence rule, :func:`optlib.trajectory.has_diverged`: non-finite
    or above ``1e12``) its entries are NaN, as in a :class:`~optlib.trajectory.Trajectory`;
    ``diverged_at[i]`` is the first recorded epoch at which copy ``i`` had diverged, or ``-1`` if it never
    did (``diverged``, as for a :class:`~optlib.trajectory.Trajectory`).

    Why not a :class:`~optlib.trajectory.Trajectory`: a model's parameters are several arrays and are
    not recorded; what is recorded, per epoch, are held-out losses and accuracies.
    """

    seeds: tuple[int, ...]
    lr: float
    epochs: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray | None
    diverged_at: np.ndarray
    steps_per_epoch: int
    seconds: float = field(default=0.0, compare=False)


def train(model: _Model, optimizer: type, data: Dataset, lr, epochs: int, batch_size: int,
          seeds: Sequence[int], eval_every: int = 1, **hyperparameters) -> History | list[History]:
    """Train one copy of ``model`` per seed with ``optimizer(params, lr=lr, **hyperparameters)``.

    Seed ``s`` fixes both the copy's initialisation and the order of its mini-batches
    (``rng = np.random.default_rng(s)``, then :func:`optlib.problems.minibatches` with the same ``rng``),
    so two optimizers trained with the same seeds start from the same weights and see the same
    batches: their difference is due to the optimizer alone. The losses on the whole training and
    test sets are recorded before training and after every ``eval_every`` epochs (and the last), at the
    parameters each optimizer names (:meth:`~optlib.optimizer.Optimizer.evaluation_params`: its parameters,
    or a schedule-free method's average).

    ``lr`` may be a sequence of learning rates: then every (lr, seed) pair is trained at once, one
    optimizer per learning rate acting on its slice of the stacked parameters, and a list of
    histories (one per lr) is returned. The results are those of separate runs in exact arithmetic (to the
    last bits in floating point, see the module docstring); only the NumPy calls are shared (small
    matrices: one call on many copies costs little more than one call on one).

    All copies of all parameters are stacked into one array per learning rate, so the optimizer must
    act element-wise (Muon, Shampoo and SOAP, which couple a matrix's entries, are refused).
    """
    seeds = tuple(non_negative_int("seeds", s) for s in seeds)
    if not seeds:
        raise ValueError("Invalid seeds: () (seeds must not be empty)")
    epochs = positive_int("epochs", epochs)
    eval_every = positive_int("eval_every", eval_every)
    recorded = np.unique(np.r_[np.arange(0, epochs + 1, eval_every), epochs])
    batch_size = positive_int("batch_size", batch_size)
    single = np.ndim(lr) == 0
    lrs = np.atleast_1d(np.asarray(lr, dtype=float))
    k, n_lrs = len(seeds), len(lrs)
    # copy j = (lr index j // k, seed j % k); every learning rate starts from the same k initialisations
    rngs = [np.random.default_rng(s) for s in seeds]
    inits = [np.stack(arrays) for arrays in zip(*(model.init(rng) for rng in rngs), strict=True)]
    copies = k * n_lrs
    # All parameters of copy j live in row j of one flat array, and the model's arrays are views into
    # it: each optimizer then makes one update per step (an element-wise optimizer acts coordinate by coordinate,
    # so how coordinates are grouped into arrays changes nothing but the bookkeeping).
    flat = np.concatenate([np.concatenate([p.reshape(k, -1) for p in inits], axis=1)] * n_lrs)
    bounds = np.cumsum([0] + [p[0].size for p in inits])

    def model_params(rows: np.ndarray) -> list[np.ndarray]:
        # the model's arrays as views into rows (copies, all parameters of a copy)
        views = [rows[:, a:b].reshape(copies, *p.shape[1:])
                 for a, b, p in zip(bounds[:-1], bounds[1:], inits, strict=True)]
        assert all(np.may_share_memory(v, rows) for v in views), "a parameter view was copied"
        return views

    params = model_params(flat)
    optimizers = [optimizer([flat[i * k:(i + 1) * k]], lr=float(lr_i), **hyperparameters)
                  for i, lr_i in enumerate(lrs)]
    refuse_coupled_runs(optimizers[0], copies * len(inits), "parameter arrays (every array of every copy)")
    X, y = data.X_train, data.y_train
    classification = model.loss == "cross_entropy"
    train_loss = np.full((copies, len(recorded)), np.nan)
    test_loss = np.full((copies, len(recorded)), np.nan)
    test_accuracy = np.full((copies, len(recorded)), np.nan) if classification else None
    diverged_at = np.full(copies, -1)
    batches = zip(*(minibatches(len(X), batch_size, rng, epochs=epochs) for rng in rngs), strict=True)
    steps_per_epoch = -(-len(X) // batch_size)

    def record(epoch):
        column = int(np.searchsorted(recorded, epoch))
        alive = diverged_at < 0
        # the losses of the point each optimizer names (Optimizer.evaluation_params), laid out as flat
        params = model_params(np.concatenate([opt.evaluation_params()[0] for opt in optimizers]))
        losses = model.losses(params, X, y)
        blown = alive & has_diverged(losses, DIVERGENCE_THRESHOLD)
        diverged_at[blown] = epoch
        alive &= ~blown
        train_loss[alive, column] = losses[alive]
        test_loss[alive, column] = model.losses(params, data.X_test, data.y_test)[alive]
        if classification:
            test_accuracy[alive, column] = model.accuracy(params, data.X_test, data.y_test)[alive]
        return alive.any()

    started = time.perf_counter()
    # A diverging copy overflows quietly (it is recorded, not warned about); BLAS threads would
    # cost more than they save on matrices this small.
    with np.errstate(all="ignore"), _one_blas_thread():
        record(0)
        for epoch in range(1, epochs + 1):
            for _ in range(steps_per_epoch):
                idx = np.tile(np.stack(next(batches)), (n_lrs, 1))  # (copies, B): seed s's batch
                _, grads = model.loss_and_grads(params, X[idx], y[idx])
                flat_grad = np.concatenate([g.reshape(copies, -1) for g in grads], axis=1)
                for i, opt in enumerate(optimizers):
                    opt.step([flat_grad[i * k:(i + 1) * k]])
            if epoch in recorded and not record(epoch):
                break  # every copy diverged: nothing left to learn
    seconds = (time.perf_counter() - started) / n_lrs
    histories = []
    for i, lr_i in enumerate(lrs):
        part = slice(i * k, (i + 1) * k)
        histories.append(History(seeds, float(lr_i), recorded, train_loss[part], test_loss[part],
                                 None if test_accuracy is None else test_accuracy[part],
                                 diverged_at[part], steps_per_epoch, seconds))
    return histories[0] if single else histories


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, keep the defaults
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


@dataclass(frozen=True, eq=False)
class Sweep:
    """:func:`train` for every (optimizer, learning rate) pair: ``histories[name][i]`` used ``lrs[i]``."""

    lrs: np.ndarray
    histories: dict[str, list[History]]

    @property
    def names(self) -> list[str]:
        return list(self.histories)

    def final(self, name: str, metric: str = "train_loss") -> np.ndarray:
        """The last epoch's ``metric`` for every learning rate and seed: shape ``(len(lrs), k)`` (NaN for a
        seed that diverged)."""
        return np.array([getattr(h, metric)[:, -1] for h in self.histories[name]])

    def best_index(self, name: str) -> int:
        """The learning rate (index) with the lowest final training loss, averaged over seeds.

        A learning rate at which any seed diverged (NaN) counts as infinitely bad.
        """
        mean = self.final(name).mean(axis=1)
        return int(np.argmin(np.where(np.isnan(mean), np.inf, mean)))

    def best(self, name: str) -> History:
        return self.histories[name][self.best_index(name)]


def lr_sweep(model: _Model, data: Dataset, optimizers: Mapping[str, tuple[type, dict]], lrs, epochs: int,
             batch_size: int, seeds: Sequence[int], eval_every: int = 1) -> Sweep:
    """Train every optimizer at every learning rate, with the same seeds, epochs and batch size.

    ``optimizers`` maps a display name to ``(class, hyperparameters other than lr)``, e.g.
    ``{"Momentum": (SGD, {"momentum": 0.9})}``.
    """
    lrs = np.asarray(lrs, dtype=float)
    histories = {name: train(model, cls, data, lrs, epochs, batch_size, seeds, eval_every, **hyper)
                 for name, (cls, hyper) in optimizers.items()}
    return Sweep(lrs, histories)
