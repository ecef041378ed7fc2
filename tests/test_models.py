"""The models' hand-written gradients (finite differences), copies, and the training loop."""

import numpy as np
import pytest

from optlib import SGD, Adam, AdamW, RMSprop
from optlib.gradcheck import gradient_error
from optlib.models import MLP, Linear, Sweep, lr_sweep, train
from optlib.real_data import Dataset

MODELS = {
    "softmax regression": lambda: Linear(5, 3),
    "linear regression": lambda: Linear(5, 2, loss="mse"),
    "MLP tanh, cross-entropy": lambda: MLP(5, 4, 3),
    "MLP relu, cross-entropy": lambda: MLP(5, 4, 3, activation="relu"),
    "MLP tanh, mse": lambda: MLP(5, 4, 2, loss="mse"),
}


def batch(model, n=7, seed=1, copies=None):
    rng = np.random.default_rng(seed)
    lead = () if copies is None else (copies,)
    X = rng.normal(size=(*lead, n, model.n_inputs))
    if model.loss == "cross_entropy":
        y = rng.integers(0, model.n_outputs, size=(*lead, n))
    else:
        y = rng.normal(size=(*lead, n, model.n_outputs))
    return X, y


def small_data(task="classification", n=60, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    if task == "classification":
        y = np.argmax(X[:, :3] + 0.5 * rng.normal(size=(n, 3)), axis=1)
        return Dataset("blobs", task, X[:40], y[:40], X[40:], y[40:], n_classes=3)
    y = X[:, :2] @ np.array([[1.0, -1.0], [0.5, 2.0]]) + 0.1 * rng.normal(size=(n, 2))
    return Dataset("lines", task, X[:40], y[:40], X[40:], y[40:])


@pytest.mark.parametrize("name", MODELS)
def test_gradients_match_finite_differences(name):
    model = MODELS[name]()
    params = model.init(np.random.default_rng(0))
    params = [p + 0.3 * np.random.default_rng(2).normal(size=p.shape) for p in params]  # biases nonzero too
    X, y = batch(model)
    _, grads = model.loss_and_grads(params, X, y)
    for i in range(len(params)):
        def f(p_i, i=i):
            return model.loss_and_grads([p_i if j == i else p for j, p in enumerate(params)], X, y)[0]

        def g(p_i, i=i):
            return model.loss_and_grads([p_i if j == i else p for j, p in enumerate(params)], X, y)[1][i]

        assert gradient_error(f, g, params[i]) < 1e-7, (name, i)
        assert grads[i].shape == params[i].shape


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shared_batch", [False, True])
def test_copies_get_their_own_loss_and_gradient(name, shared_batch):
    model, k = MODELS[name](), 3
    stacked = model.init_copies([0, 1, 2])
    X, y = batch(model, copies=None if shared_batch else k)
    loss, grads = model.loss_and_grads(stacked, X, y)
    singles = [model.loss_and_grads([p[c] for p in stacked], X if shared_batch else X[c],
                                    y if shared_batch else y[c]) for c in range(k)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]))
    for c in range(k):
        for g, g_single in zip(grads, singles[c][1], strict=True):
            assert np.allclose(g[c], g_single, rtol=1e-12, atol=1e-14)
    assert np.allclose(model.losses(stacked, X, y), [s[0] for s in singles])


@pytest.mark.parametrize("name", MODELS)
def test_losses_of_one_model_equal_its_training_loss(name):
    model = MODELS[name]()
    params = model.init(np.random.default_rng(3))
    X, y = batch(model)
    loss = model.loss_and_grads(params, X, y)[0]
    assert float(model.losses(params, X, y)) == pytest.approx(loss, rel=1e-12)


def test_predict_and_accuracy():
    model = Linear(2, 2)
    params = [np.array([[1.0, -1.0], [0.0, 0.0]]), np.zeros(2)]
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 5.0]])
    assert model.predict(params, X).tolist() == [0, 1, 0]
    assert model.accuracy(params, X, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="classification"):
        Linear(2, 1, loss="mse").accuracy([np.zeros((2, 1)), np.zeros(1)], X, np.zeros((3, 1)))


def test_initialisation_is_seeded():
    model = MLP(5, 4, 3)
    a, b, c = (model.init(np.random.default_rng(s)) for s in (0, 0, 1))
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    assert np.all(a[1] == 0) and np.all(a[3] == 0)
    # Glorot-style scale: the first layer's weights have variance about 1 / n_inputs.
    big = MLP(400, 300, 3).init(np.random.default_rng(0))
    assert big[0].var() == pytest.approx(1 / 400, rel=0.05)


@pytest.mark.parametrize("kwargs, error", [
    ({"loss": "hinge"}, "loss"), ({"activation": "sigmoid"}, "activation"), ({"n_hidden": 0}, "n_hidden"),
])
def test_bad_model_arguments_are_named(kwargs, error):
    with pytest.raises(ValueError, match=error):
        MLP(**{"n_inputs": 3, "n_hidden": 2, "n_outputs": 2, **kwargs})
    with pytest.raises(ValueError, match="n_inputs"):
        Linear(0, 2)


@pytest.mark.parametrize("optimizer, hyper", [(Adam, {}), (SGD, {"momentum": 0.9, "nesterov": True}),
                                              (AdamW, {"weight_decay": 0.1})])
def test_training_all_copies_at_once_equals_separate_runs(optimizer, hyper):
    data, model = small_data(), MLP(5, 4, 3)
    together = train(model, optimizer, data, [0.01, 0.1], epochs=3, batch_size=8, seeds=[0, 1], **hyper)
    for history, lr in zip(together, [0.01, 0.1], strict=True):
        for c, seed in enumerate([0, 1]):
            alone = train(model, optimizer, data, lr, epochs=3, batch_size=8, seeds=[seed], **hyper)
            assert np.allclose(history.train_loss[c], alone.train_loss[0], rtol=1e-10)
            assert np.allclose(history.test_accuracy[c], alone.test_accuracy[0])


def test_training_decreases_the_loss_and_is_reproducible():
    data, model = small_data(), MLP(5, 8, 3)
    a = train(model, Adam, data, 0.05, epochs=10, batch_size=8, seeds=[0, 1, 2])
    b = train(model, Adam, data, 0.05, epochs=10, batch_size=8, seeds=[0, 1, 2])
    assert np.array_equal(a.train_loss, b.train_loss)
    assert a.train_loss.shape == (3, 11) and np.array_equal(a.epochs, np.arange(11))
    assert np.all(a.train_loss[:, -1] < 0.5 * a.train_loss[:, 0])
    assert np.all(a.test_accuracy[:, -1] > 0.5)  # chance is 1/3
    assert not a.diverged.any() and a.steps_per_epoch == 5
    # different seeds: different initialisations and batches
    assert len(np.unique(a.train_loss[:, -1])) == 3


def test_eval_every_records_a_subset_of_epochs_including_the_last():
    data = small_data("regression")
    h = train(Linear(5, 2, loss="mse"), SGD, data, 0.05, epochs=7, batch_size=10, seeds=[0], eval_every=3)
    assert h.epochs.tolist() == [0, 3, 6, 7] and h.train_loss.shape == (1, 4) and h.test_accuracy is None
    full = train(Linear(5, 2, loss="mse"), SGD, data, 0.05, epochs=7, batch_size=10, seeds=[0])
    assert np.allclose(h.train_loss[0], full.train_loss[0, [0, 3, 6, 7]])


def test_divergence_is_recorded_quietly(recwarn):
    data = small_data("regression")
    h = train(MLP(5, 4, 2, loss="mse"), SGD, data, [1e-2, 50.0], epochs=6, batch_size=10, seeds=[0, 1])
    fine, blown = h
    assert not fine.diverged.any() and np.all(np.isfinite(fine.train_loss))
    assert blown.diverged.all() and np.all(blown.diverged_at >= 1)
    assert np.all(np.isnan(blown.train_loss[:, -1])) and np.all(np.isnan(blown.test_loss[:, -1]))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_sweep_picks_the_lowest_mean_final_loss_and_counts_divergence_as_worst():
    data = small_data("regression")
    model = Linear(5, 2, loss="mse")
    sweep = lr_sweep(model, data, {"SGD": (SGD, {}), "RMSprop": (RMSprop, {})}, [1e-3, 3e-2, 300.0],
                     epochs=5, batch_size=10, seeds=[0, 1])
    assert isinstance(sweep, Sweep) and sweep.names == ["SGD", "RMSprop"]
    final = sweep.final("SGD")
    assert final.shape == (3, 2) and np.all(np.isnan(final[2]))
    assert sweep.best_index("SGD") == int(np.nanargmin(final.mean(axis=1))) == 1
    assert sweep.best("SGD").lr == pytest.approx(3e-2)


def test_train_refuses_bad_arguments():
    data, model = small_data(), Linear(5, 3)
    with pytest.raises(ValueError, match="seeds"):
        train(model, SGD, data, 0.1, epochs=1, batch_size=4, seeds=[])
    with pytest.raises(ValueError, match="epochs"):
        train(model, SGD, data, 0.1, epochs=0, batch_size=4, seeds=[0])
    with pytest.raises(ValueError, match="lr"):
        train(model, SGD, data, -0.1, epochs=1, batch_size=4, seeds=[0])


def test_train_refuses_an_optimizer_that_is_not_elementwise(monkeypatch):
    from optlib import Muon

    monkeypatch.setattr(Muon, "elementwise", False, raising=False)  # Muon's own flag (opt's branch) says the same
    data, model = small_data(), Linear(5, 3)
    with pytest.raises(ValueError, match="Muon is not element-wise"):
        train(model, Muon, data, 0.1, epochs=1, batch_size=4, seeds=[0, 1])
    with pytest.raises(ValueError, match="Muon is not element-wise.*2 parameter arrays"):  # one seed: W and b
        train(model, Muon, data, 0.1, epochs=1, batch_size=4, seeds=[0])


class AnswersWithItsStart(SGD):
    """SGD whose evaluation point is where it started: a runner that measures there records the first loss
    at every epoch, though the parameters move."""

    def __init__(self, params, **hyperparameters):
        super().__init__(params, **hyperparameters)
        self.start = [p.copy() for p in self.params]

    def evaluation_params(self):
        return self.start


def test_train_records_losses_where_the_optimizer_evaluates():
    data, model = small_data(), MLP(5, 4, 3)
    histories = train(model, AnswersWithItsStart, data, [0.05, 0.1], epochs=3, batch_size=8, seeds=[0, 1])
    moving = train(model, SGD, data, [0.05, 0.1], epochs=3, batch_size=8, seeds=[0, 1])
    for history, sgd in zip(histories, moving, strict=True):
        np.testing.assert_array_equal(history.train_loss, sgd.train_loss[:, :1].repeat(4, axis=1))
        np.testing.assert_array_equal(history.test_accuracy, sgd.test_accuracy[:, :1].repeat(4, axis=1))
        assert np.all(sgd.train_loss[:, -1] < sgd.train_loss[:, 0])   # while the parameters did move
