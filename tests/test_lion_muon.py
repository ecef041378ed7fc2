"""Lion and Muon: update rules by hand, Lion's |step| = lr, the Newton-Schulz band, Muon's own checks.

The contract every optimizer keeps (bad input, float32, non-finite values, checkpoints) is tested for
Lion and Muon with all the others in test_optimizers.py; Muon's agreement with torch.optim.Muon is in
test_reference.py.
"""

import re

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


BAND = (0.6818, 1.1344)   # where five iterations leave every singular value above 1% of the norm


def test_quintic_band_ends_are_the_polynomials_extrema():
    a, b, c = NS_COEFFICIENTS
    x = np.sort(np.roots([5 * c, 0, 3 * b, 0, a]).real)
    x = x[x > 0]
    p = lambda s: a * s + b * s**3 + c * s**5  # noqa: E731
    low, high = p(x[1]), p(x[0])           # local min at 1.0501, local max at 0.5545
    assert (round(x[1], 4), round(low, 4), round(x[0], 4), round(high, 4)) == (1.0501, 0.6818, 0.5545, 1.2024)
    s = np.linspace(low, high, 10001)
    assert p(s).min() >= low - 1e-12 and p(s).max() <= high + 1e-12   # the band maps into itself
    assert round(p(s).max(), 4) == BAND[1] and round(p(s).min(), 4) == BAND[0]   # ... onto the narrower one
    # five iterations from any normalised singular value in [0.01, 1] land in the narrower band, so the
    # step is within 32% of U V^T (the docstring's figure): at most 31.8% shorter and 13.4% longer
    s = np.linspace(0.01, 1.0, 100001)
    for _ in range(5):
        s = p(s)
    assert round(s.min(), 4) == BAND[0] and round(s.max(), 4) == BAND[1]
    assert round(1 - s.min(), 3) == 0.318 and round(s.max() - 1, 3) == 0.134


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(64, 128), (128, 64), (40, 80), (30, 90)])
def test_newton_schulz_maps_singular_values_into_the_band(seed, shape):
    G = np.random.default_rng(seed).standard_normal(shape)
    before = np.linalg.svd(G, compute_uv=False)
    after = np.linalg.svd(newton_schulz(G), compute_uv=False)
    assert before.max() / before.min() > 2                # the input is far from orthogonal ...
    assert BAND[0] - 1e-4 <= after.min() and after.max() <= BAND[1] + 1e-4   # ... the output is in the band
    # and the singular vectors are kept: O is close to the exact polar factor U V^T
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    assert np.linalg.norm(newton_schulz(G) - U @ Vt, 2) <= max(1 - BAND[0], BAND[1] - 1)


def reference_muon(theta, grads, lr, wd, beta, nesterov):
    """torch.optim.Muon's code: the buffer is a leaky average of the gradients."""
    theta, B = theta.copy(), np.zeros_like(theta)
    rows, cols = theta.shape
    for g in grads:
        B = beta * B + (1 - beta) * g
        ortho = newton_schulz_svd((1 - beta) * g + beta * B if nesterov else B)
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


def test_muon_adjusted_lr_and_torch_defaults():
    opt = Muon([np.zeros((8, 2)), np.zeros((2, 8))])
    assert opt.hyperparameters == dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                                       ns_coefficients=NS_COEFFICIENTS, eps=1e-7, ns_steps=5,
                                       adjust_lr_fn=None, maximize=False)
    assert opt.adjusted_lr((8, 2)) == pytest.approx(2e-3) and opt.adjusted_lr((2, 8)) == 1e-3
    opt.adjust_lr_fn = "match_rms_adamw"
    assert opt.adjusted_lr((2, 8)) == pytest.approx(1e-3 * 0.2 * np.sqrt(8))


@pytest.mark.parametrize("kwargs, name", [
    (dict(lr=-1.0), "lr"), (dict(momentum=-0.5), "momentum"), (dict(weight_decay=-1), "weight_decay"),
    (dict(ns_steps=100), "ns_steps"), (dict(ns_coefficients=(1.0, 2.0)), "ns_coefficients"),
    (dict(ns_coefficients=(1.0, float("nan"), 2.0)), r"ns_coefficients\[1\] must be a number, not NaN"),
    (dict(ns_coefficients=(1.0, 2.0, float("inf"))), r"ns_coefficients\[2\] must be finite"),
    (dict(eps=-1e-7), "eps"),
    (dict(ns_coefficients=(10**400, 1.0, 1.0)), r"ns_coefficients\[0\] is too large for a float"),
    (dict(adjust_lr_fn="fast"), "adjust_lr_fn"),
])
def test_muon_bad_hyperparameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Muon([np.zeros((3, 3))], **kwargs)


def test_muon_wrong_types_are_type_errors():
    for kwargs, name in [(dict(ns_coefficients=(1.0, "2", 1.0)), r"ns_coefficients\[1\] must be a real number"),
                         (dict(ns_steps=5.0), "ns_steps must be an integer")]:
        with pytest.raises(TypeError, match=name):
            Muon([np.zeros((3, 3))], **kwargs)


def test_muon_refuses_non_matrices_and_empty_matrices_up_front():
    with pytest.raises(ValueError, match=r"params\[1\].*2-D"):
        Muon([np.zeros((3, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="2-D"):
        Muon([np.zeros((2, 3, 4))])
    for shape in [(0, 3), (3, 0), (0, 0)]:
        message = re.escape(f"params[1] has shape {shape}") + ".*at least one row and one column"
        with pytest.raises(ValueError, match=message):
            Muon([np.zeros((2, 2)), np.zeros(shape)])
    with pytest.raises(ValueError, match=r"Invalid steps: 100 \(steps must lie in \[0, 100\)\)"):
        newton_schulz(np.ones((2, 2)), steps=100)
    with pytest.raises(ValueError, match="matrix"):
        newton_schulz(np.ones(3))


def test_muon_momentum_buffer_is_torchs_leaky_average():
    # torch.optim.Muon's code: B_t = beta B_{t-1} + (1 - beta) g_t (its documentation writes a sum);
    # the two differ once the momentum changes between steps, and checkpoints must carry torch's B
    W = np.zeros((2, 3))
    opt = Muon([W], lr=0.01, momentum=0.5)
    g1, g2 = np.full((2, 3), 4.0), np.full((2, 3), 2.0)
    opt.step([g1])
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"], 0.5 * g1)
    opt.momentum = 0.25
    opt.step([g2])
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"], 0.25 * 0.5 * g1 + 0.75 * g2)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_muon_steps_low_precision_matrices_like_float64(dtype):
    # float16's range overflows in the Newton-Schulz products of a normalised matrix's powers if the
    # iteration runs in float16; it runs in float32 (torch: bfloat16, float32's range), so the step is
    # float64's, rounded to the parameter's precision
    rng = np.random.default_rng(7)
    theta0, grads = rng.standard_normal((16, 8)), [rng.standard_normal((16, 8)) * 100 for _ in range(3)]
    exact, low = theta0.copy(), theta0.astype(dtype)
    opt_exact, opt_low = Muon([exact], lr=0.05), Muon([low], lr=0.05)
    for g in grads:
        opt_exact.step([g])
        opt_low.step([g.astype(dtype)])
    assert low.dtype == dtype and opt_low.state[0]["momentum_buffer"].dtype == dtype
    moved, error = np.abs(exact - theta0).max(), np.abs(low - exact).max()
    assert moved > 0.1                                    # the steps are not zero ...
    assert error < 10 * np.finfo(dtype).eps * np.abs(theta0).max() + 1e-3 * moved   # ... and are float64's
