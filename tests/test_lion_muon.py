"""Lion and Muon: update rules by hand, Lion's |step| = lr, the Newton-Schulz band, bad input, checkpoints."""

import pickle

import numpy as np
import pytest

from optlib import Lion, Muon
from optlib.muon import NS_COEFFICIENTS, newton_schulz


def reference_lion(theta, grads, lr, beta1, beta2, wd):
    theta, m, out = theta.copy(), np.zeros_like(theta), []
    for g in grads:
        c = beta1 * m + (1 - beta1) * g
        theta = theta * (1 - lr * wd) - lr * np.sign(c)
        m = beta2 * m + (1 - beta2) * g
        out.append(theta.copy())
    return out


def test_lion_matches_hand_written_equations():
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(50)]
    expected = reference_lion(theta0, grads, 0.01, 0.8, 0.95, 0.3)
    theta = theta0.copy()
    opt = Lion([theta], lr=0.01, betas=(0.8, 0.95), weight_decay=0.3)
    for g, e in zip(grads, expected, strict=True):
        opt.step([g])
        assert np.allclose(theta, e, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_lion_moves_every_coordinate_by_exactly_lr(seed):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(1000) * 10
    opt = Lion([theta], lr=3e-4)
    for _ in range(20):
        before = theta.copy()
        opt.step([rng.standard_normal(1000) * rng.lognormal(0, 3, 1000)])   # scales over many decades
        assert np.array_equal(np.abs(theta - before) == 0, np.zeros(1000, bool))
        assert np.allclose(np.abs(theta - before), 3e-4, rtol=1e-9, atol=0)


def test_lion_maximize_and_weight_decay():
    a, b = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    Lion([a], lr=0.1, maximize=True).step([np.array([1.0, 1.0])])
    Lion([b], lr=0.1).step([np.array([-1.0, -1.0])])
    assert np.array_equal(a, b)
    c = np.array([1.0, -2.0])
    Lion([c], lr=0.1, weight_decay=0.5).step([np.zeros(2)])   # sign(0) = 0: only the decay acts
    assert np.allclose(c, np.array([1.0, -2.0]) * (1 - 0.05))


def newton_schulz_svd(G, steps=5, coefficients=NS_COEFFICIENTS):
    """The same map via the SVD: p applied `steps` times to the normalised singular values."""
    a, b, c = coefficients
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    s = s / np.linalg.norm(G)
    for _ in range(steps):
        s = a * s + b * s**3 + c * s**5
    return (U * s) @ Vt


@pytest.mark.parametrize("shape", [(8, 20), (20, 8), (12, 12), (1, 5)])
def test_newton_schulz_applies_the_polynomial_to_singular_values(shape):
    G = np.random.default_rng(1).standard_normal(shape)
    assert np.allclose(newton_schulz(G), newton_schulz_svd(G), atol=1e-10)
    assert newton_schulz(G).shape == shape


BAND = (0.68, 1.21)


def test_quintic_band_ends_are_the_polynomials_extrema():
    a, b, c = NS_COEFFICIENTS
    x = np.sort(np.roots([5 * c, 0, 3 * b, 0, a]).real)
    x = x[x > 0]
    p = lambda s: a * s + b * s**3 + c * s**5  # noqa: E731
    low, high = p(x[1]), p(x[0])           # local min at 1.0501, local max at 0.5545
    assert BAND[0] < low < 0.682 and 1.202 < high < BAND[1]
    s = np.linspace(low, high, 10001)
    assert p(s).min() >= low - 1e-12 and p(s).max() <= high + 1e-12   # the band maps into itself


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(64, 128), (128, 64), (40, 80), (30, 90)])
def test_newton_schulz_maps_singular_values_into_the_band(seed, shape):
    G = np.random.default_rng(seed).standard_normal(shape)
    before = np.linalg.svd(G, compute_uv=False)
    after = np.linalg.svd(newton_schulz(G), compute_uv=False)
    assert before.max() / before.min() > 2                # the input is far from orthogonal ...
    assert BAND[0] <= after.min() and after.max() <= BAND[1]   # ... the output is within the band
    # and the singular vectors are kept: O is close to the exact polar factor U V^T
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    assert np.linalg.norm(newton_schulz(G) - U @ Vt, 2) <= max(1 - BAND[0], BAND[1] - 1)


def reference_muon(theta, grads, lr, wd, mu, nesterov):
    theta, B = theta.copy(), np.zeros_like(theta)
    rows, cols = theta.shape
    for g in grads:
        B = mu * B + g
        ortho = newton_schulz_svd(g + mu * B if nesterov else B)
        theta = theta * (1 - lr * wd) - lr * np.sqrt(max(1, rows / cols)) * ortho
    return theta


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (3, 6)])
def test_muon_matches_hand_written_equations(nesterov, shape):
    rng = np.random.default_rng(2)
    theta0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(20)]
    theta = theta0.copy()
    opt = Muon([theta], lr=0.02, weight_decay=0.1, momentum=0.9, nesterov=nesterov)
    for g in grads:
        opt.step([g])
    assert np.allclose(theta, reference_muon(theta0, grads, 0.02, 0.1, 0.9, nesterov), atol=1e-10)


def test_muon_updates_a_large_matrix_as_a_whole():
    rng = np.random.default_rng(4)
    theta0 = rng.standard_normal((300, 200))          # larger than the base class's element block
    grads = [rng.standard_normal((300, 200)) for _ in range(3)]
    theta = theta0.copy()
    opt = Muon([theta], lr=0.02, weight_decay=0.1)
    for g in grads:
        opt.step([g])
    assert np.allclose(theta, reference_muon(theta0, grads, 0.02, 0.1, 0.95, True), atol=1e-10)


def test_muon_adjusted_lr_and_torch_defaults():
    opt = Muon([np.zeros((8, 2)), np.zeros((2, 8))])
    assert opt.hyperparameters == dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                                       ns_coefficients=NS_COEFFICIENTS, eps=1e-7, ns_steps=5,
                                       adjust_lr_fn=None, maximize=False)
    assert opt.adjusted_lr((8, 2)) == pytest.approx(2e-3) and opt.adjusted_lr((2, 8)) == 1e-3
    opt.adjust_lr_fn = "match_rms_adamw"
    assert opt.adjusted_lr((2, 8)) == pytest.approx(1e-3 * 0.2 * np.sqrt(8))


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=-1.0), "lr"), (dict(lr=float("nan")), "lr"), (dict(betas=(0.9, 1.0)), "betas"),
    (dict(betas=(0.9,)), "betas"), (dict(weight_decay=-0.1), "weight_decay"),
])
def test_lion_bad_hyperparameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Lion([np.zeros(3)], **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=-1.0), "lr"), (dict(momentum=-0.5), "momentum"), (dict(weight_decay=-1), "weight_decay"),
    (dict(ns_steps=100), "ns_steps"), (dict(ns_coefficients=(1.0, 2.0)), "ns_coefficients"),
    (dict(ns_coefficients=(1.0, float("nan"), 2.0)), "ns_coefficients"), (dict(eps=-1e-7), "eps"),
    (dict(adjust_lr_fn="fast"), "adjust_lr_fn"),
])
def test_muon_bad_hyperparameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Muon([np.zeros((3, 3))], **kwargs)


def test_bad_params_and_grads():
    with pytest.raises(ValueError, match=r"params\[1\].*2-D"):
        Muon([np.zeros((3, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="2-D"):
        Muon([np.zeros((2, 3, 4))])
    with pytest.raises(TypeError, match="floating"):
        Lion([np.zeros(3, dtype=int)])
    with pytest.raises(ValueError, match="empty"):
        Muon([])
    for opt, p in [(Lion, np.ones(3)), (Muon, np.ones((3, 2)))]:
        optimizer = opt([p], lr=0.1)
        before, state = p.copy(), pickle.dumps(optimizer.state_dict())
        with pytest.raises(ValueError, match="shape"):
            optimizer.step([np.ones((4, 4))])
        assert np.array_equal(p, before) and pickle.dumps(optimizer.state_dict()) == state
        optimizer.step([np.ones_like(p)])   # still works afterwards
        assert not np.array_equal(p, before)
    with pytest.raises(ValueError, match="ns_steps"):
        newton_schulz(np.ones((2, 2)), steps=100)
    with pytest.raises(ValueError, match="matrix"):
        newton_schulz(np.ones(3))


@pytest.mark.parametrize("make", [
    lambda ps: Lion(ps, lr=0.01, weight_decay=0.1),
    lambda ps: Muon(ps, lr=0.02, weight_decay=0.05),
])
def test_state_dict_round_trip_is_bit_identical(make):
    rng = np.random.default_rng(3)
    a = [rng.standard_normal((5, 3)), rng.standard_normal((2, 7))]
    grad = lambda p: np.tanh(p) + 0.1 * p**2  # noqa: E731
    opt = make(a)
    for _ in range(10):
        opt.step([grad(p) for p in a])
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    b = [p.copy() for p in a]
    for _ in range(10):
        opt.step([grad(p) for p in a])
    resumed = make(b)
    resumed.load_state_dict(saved)
    for _ in range(10):
        resumed.step([grad(p) for p in b])
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
