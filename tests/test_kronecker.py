"""Shampoo and SOAP: hand-checkable facts, the contract every optlib optimizer keeps, their own checks.

The step-for-step agreement with pytorch-optimizer is in test_kronecker_reference.py. The contract tests
mirror test_optimizers.py's (which covers the torch classes, Lion and Muon) for these two matrix
optimizers, whose state also holds square matrices (the factors, their roots, their eigenvectors).
"""

import pickle
import warnings

import numpy as np
import pytest

import optlib
from optlib import SOAP, Adam, Muon, Shampoo
from optlib.muon import newton_schulz
from optlib.shampoo import inverse_root
from optlib.soap import from_eigenbasis, to_eigenbasis, update_eigenbasis
from optlib.surfaces import quadratic
from optlib.trajectory import run as run_surface

BOTH = [Shampoo, SOAP]

FULL = {   # every buffer and branch switched on
    Shampoo: dict(lr=0.02, momentum=0.5, weight_decay=0.01, preconditioning_compute_steps=2, matrix_eps=1e-4),
    SOAP: dict(lr=0.01, betas=(0.9, 0.99), shampoo_beta=0.9, weight_decay=0.01, precondition_frequency=2,
               precondition_1d=True, normalize_gradient=True),
}

DEFAULTS = {   # pytorch-optimizer 4.1.0's keyword defaults
    Shampoo: dict(lr=1e-3, momentum=0.0, weight_decay=0.0, weight_decouple=False, fixed_decay=False,
                  preconditioning_compute_steps=1, matrix_eps=1e-6, maximize=False),
    SOAP: dict(lr=3e-3, betas=(0.95, 0.95), shampoo_beta=None, weight_decay=1e-2, precondition_frequency=10,
               max_precondition_dim=10000, precondition_1d=False, correct_bias=True, normalize_gradient=False,
               eps=1e-8, maximize=False),
}


def make_params(seed=0, dtype=np.float64):
    """A wide matrix, a tall matrix and a vector."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in [(3, 4), (4, 2), (3,)]]


def grad_of(params):
    """Gradient of sum(p^2/2 + sin(p)): depends on the parameters, differs from step to step."""
    return [p + np.cos(p) for p in params]


def run(opt, steps):
    for _ in range(steps):
        opt.step(grad_of(opt.params))


def snapshot(opt):
    return pickle.dumps(([p.copy() for p in opt.params], opt.state, opt.step_count, opt.hyperparameters))


def same_state(a, b) -> bool:
    """Equal values and structure (dicts, lists, None, arrays bit for bit)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return a == b


def ids(classes):
    return [c.__name__ for c in classes]


# --- the interface ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_exported_with_the_librarys_defaults_and_not_elementwise(cls):
    assert getattr(optlib, cls.__name__) is cls and cls.__name__ in optlib.__all__
    opt = cls(make_params())
    assert opt.hyperparameters == DEFAULTS[cls]
    assert cls.elementwise is False


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_stacked_runs_are_refused_and_single_runs_work(cls):
    surface = quadratic(10.0, angle=0.5)
    with pytest.raises(ValueError, match=f"{cls.__name__} is not element-wise"):
        run_surface(cls, surface, start=np.array([[-3.0, 2.0], [1.0, 1.0]]), steps=5, lr=0.1)
    path = run_surface(cls, surface, start=(-3.0, 2.0), steps=5, lr=0.1)
    assert path.points.shape == (6, 2) and np.isfinite(path.points).all()


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_float32_stays_float32(cls):
    params = make_params(dtype=np.float32)
    opt = cls(params, **FULL[cls])
    run(opt, 5)
    assert all(p.dtype == np.float32 for p in params)
    arrays = [v for s in opt.state for value in s.values()
              for v in (value if isinstance(value, list) else [value]) if isinstance(v, np.ndarray)]
    assert arrays and all(a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_gradient_may_be_the_parameter_itself(cls):
    a, b = [np.array([[1.0, -2.0, 3.0], [0.5, 1.0, -1.0]])], [np.array([[1.0, -2.0, 3.0], [0.5, 1.0, -1.0]])]
    opt_a, opt_b = cls(a, **FULL[cls]), cls(b, **FULL[cls])
    for t in range(6):
        opt_a.step(a if t % 2 else [a[0][:]])
        opt_b.step([b[0].copy()])
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_gradients_sharing_memory_with_other_parameters(cls):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((2, 6))
    halves, twin = [base[:, :3], base[:, 3:]], [base[:, :3].copy(), base[:, 3:].copy()]
    opt, reference = cls(halves, **FULL[cls]), cls(twin, **FULL[cls])
    for _ in range(4):
        opt.step([base[:, 3:], base[:, :3]])
        reference.step([twin[1].copy(), twin[0].copy()])
        for p, q in zip(halves, twin, strict=True):
            np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_nonfinite_gradients_propagate_silently(cls):
    params = make_params()
    opt = cls(params, **FULL[cls])
    run(opt, 2)
    grads = grad_of(params)
    grads[0][0, 0], grads[0][0, 1], grads[1][0, 0] = np.inf, np.nan, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(grads)
        for _ in range(3):
            with np.errstate(invalid="ignore"):
                grads = grad_of(params)
            opt.step(grads)
    assert not np.isfinite(params[0]).all() and not np.isfinite(params[1]).all()


# --- bad input ----------------------------------------------------------------------------------------

def _refuses(cls, exc, match, **kwargs):
    with pytest.raises(exc, match=match):
        cls(make_params(), **kwargs)


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_bad_hyperparameters_are_refused_naming_the_argument(cls):
    for value in (-0.1, float("nan")):
        _refuses(cls, ValueError, r"Invalid learning rate: .*\blr\b", lr=value)
        _refuses(cls, ValueError, r"Invalid weight_decay value: .*\bweight_decay\b", weight_decay=value)
    _refuses(cls, TypeError, r"\blr\b", lr="0.1")
    _refuses(cls, TypeError, r"\bmaximize\b", maximize="yes")
    if cls is Shampoo:
        _refuses(cls, ValueError, r"Invalid matrix_eps value: .*\bmatrix_eps\b", matrix_eps=-1e-6)
        for momentum in (-0.1, 1.0):
            _refuses(cls, ValueError, r"Invalid momentum value: .*\bmomentum\b must lie in \[0, 1\)", momentum=momentum)
        _refuses(cls, ValueError, r"Invalid preconditioning_compute_steps: 0 \(preconditioning_compute_steps "
                 r"must be >= 1\)", preconditioning_compute_steps=0)
        _refuses(cls, TypeError, r"preconditioning_compute_steps must be an integer", preconditioning_compute_steps=2.0)
        _refuses(cls, TypeError, r"\bweight_decouple\b", weight_decouple=1)
    else:
        _refuses(cls, ValueError, r"Invalid epsilon value: .*\beps\b", eps=-1e-8)
        _refuses(cls, ValueError, r"Invalid beta parameter at index 1: .*betas\[1\]", betas=(0.9, 1.0))
        _refuses(cls, ValueError, r"Invalid shampoo_beta value: .*\bshampoo_beta\b", shampoo_beta=1.0)
        _refuses(cls, TypeError, r"\bshampoo_beta\b", shampoo_beta="0.9")
        _refuses(cls, ValueError, r"Invalid precondition_frequency: 0", precondition_frequency=0)
        _refuses(cls, ValueError, r"Invalid max_precondition_dim: -1", max_precondition_dim=-1)
        _refuses(cls, TypeError, r"\bprecondition_1d\b", precondition_1d=None)
        with pytest.raises(TypeError):
            cls(make_params(), merge_dims=True)     # the library's reshaping of conv kernels is not offered


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_params_other_than_vectors_and_matrices_are_refused(cls):
    for params, index in [([np.zeros((2, 2)), np.zeros((2, 2, 2))], 1), ([np.array(1.0)], 0),
                          ([np.zeros((0, 3))], 0), ([np.zeros(3), np.zeros(0)], 1)]:
        with pytest.raises(ValueError, match=rf"params\[{index}\] has shape"):
            cls(params)
    with pytest.raises(ValueError, match="params must not be empty"):
        cls([])


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_a_refused_step_or_assignment_changes_nothing(cls):
    params, twin = make_params(), make_params()
    opt, reference = cls(params, **FULL[cls]), cls(twin, **FULL[cls])
    run(opt, 3)
    run(reference, 3)
    before = snapshot(opt)
    good = grad_of(params)
    for exc, grads in [(ValueError, good[:2]), (ValueError, [good[0], good[1].T, good[2]]),
                       (TypeError, [good[0], good[1].astype(np.float32), good[2]]), (TypeError, 1.0)]:
        with pytest.raises(exc):
            opt.step(grads)
        assert snapshot(opt) == before
    for name, value in [("lr", -1.0), ("weight_decay", float("nan")), ("lr", "fast")]:
        with pytest.raises((ValueError, TypeError), match=name):
            setattr(opt, name, value)
        assert snapshot(opt) == before
    run(opt, 4)
    run(reference, 4)
    for p, q in zip(params, twin, strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_lr_zero_freezes_the_parameters(cls):
    params = make_params()
    opt = cls(params, **FULL[cls])
    run(opt, 3)
    opt.lr = 0.0
    frozen = [p.copy() for p in params]
    run(opt, 3)
    for p, q in zip(params, frozen, strict=True):
        np.testing.assert_array_equal(p, q)


# --- checkpoints ----------------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [0, 1, 7])
@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_state_dict_round_trip_is_bit_identical(cls, steps):
    uninterrupted = make_params()
    opt = cls(uninterrupted, **FULL[cls])
    run(opt, steps)
    saved = pickle.dumps((opt.state_dict(), [p.copy() for p in uninterrupted]))
    run(opt, 13)
    state_dict, resumed = pickle.loads(saved)
    fresh = cls(resumed)                                   # defaults: the load restores the hyperparameters
    fresh.load_state_dict(state_dict)
    assert fresh.hyperparameters == opt.hyperparameters and fresh.step_count == steps
    run(fresh, 13)
    for p, q in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_array_equal(p, q)
    assert all(same_state(x, y) for x, y in zip(fresh.state, opt.state, strict=True))


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_state_dict_is_a_copy(cls):
    opt = cls(make_params(), **FULL[cls])
    run(opt, 2)
    sd = opt.state_dict()
    for state in sd["state"]:
        for value in state.values():
            for array in value if isinstance(value, list) else [value]:
                if isinstance(array, np.ndarray):
                    array[...] = 123.0
    assert not any(np.any(a == 123.0) for s in opt.state for v in s.values()
                   for a in (v if isinstance(v, list) else [v]) if isinstance(a, np.ndarray))


def _bad_states(cls, good):
    """(description, state_dict) pairs that a load must refuse, each wrong in its second parameter."""
    out = []

    def variant(description, change):
        bad = pickle.loads(pickle.dumps(good))
        change(bad["state"][1])
        out.append((description, bad))

    if cls is Shampoo:
        variant("factor of the wrong size", lambda s: s.__setitem__("pre_cond_1", np.eye(3)))
        variant("root as a list", lambda s: s.__setitem__("inv_pre_cond_0", s["inv_pre_cond_0"].tolist()))
        variant("int factor", lambda s: s.__setitem__("pre_cond_0", s["pre_cond_0"].astype(np.int64)))
        variant("missing factor", lambda s: s.pop("pre_cond_1"))
        variant("buffer of the wrong shape", lambda s: s.__setitem__("momentum_buffer", np.zeros((2, 4))))
        variant("buffer as a float", lambda s: s.__setitem__("momentum_buffer", 0.5))
    else:
        variant("factor of the wrong size", lambda s: s["GG"].__setitem__(0, np.eye(3)))
        variant("basis as a list", lambda s: s["Q"].__setitem__(1, s["Q"][1].tolist()))
        variant("one factor missing", lambda s: s["GG"].__setitem__(1, None))
        variant("GG without Q", lambda s: s.__setitem__("Q", None))
        variant("GG not a list", lambda s: s.__setitem__("GG", np.eye(4)))
        variant("moment of the wrong shape", lambda s: s.__setitem__("exp_avg", np.zeros((2, 4))))
        variant("missing key", lambda s: s.pop("Q"))
    out.append(("a negative lr", dict(good, hyperparameters={**good["hyperparameters"], "lr": -1.0})))
    return out


@pytest.mark.parametrize("cls", BOTH, ids=ids(BOTH))
def test_a_refused_load_is_all_or_nothing_and_names_the_entry(cls):
    opt = cls(make_params(), **FULL[cls])
    run(opt, 2)
    other = cls(make_params(seed=1), **dict(FULL[cls], lr=FULL[cls]["lr"] / 2))
    run(other, 5)
    before = snapshot(opt)
    for description, bad in _bad_states(cls, other.state_dict()):
        with pytest.raises((ValueError, TypeError), match=r"state_dict\['state'\]\[1\]|lr") as info:
            opt.load_state_dict(bad)
        assert snapshot(opt) == before, description
        assert "state_dict" in str(info.value) or "learning rate" in str(info.value)


def test_soap_loads_a_state_saved_before_the_first_step():
    fresh = SOAP(make_params())
    later = SOAP(make_params())
    run(later, 4)
    later.load_state_dict(fresh.state_dict())
    assert later.step_count == 0 and all(s["Q"] is None and s["GG"] is None for s in later.state)


# --- Shampoo: what the chapter rests on ------------------------------------------------------------

def test_inverse_root_is_the_matrix_power():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 5))
    A = M @ M.T + 0.1 * np.eye(5)
    for p in (2, 4):
        root = inverse_root(A, p)
        np.testing.assert_allclose(np.linalg.matrix_power(root, p) @ A, np.eye(5), atol=1e-10)
    assert np.isnan(inverse_root(np.array([[1.0, np.nan], [np.nan, 1.0]]), 4)).all()


def test_shampoo_on_a_vector_is_full_matrix_adagrad():
    rng = np.random.default_rng(1)
    theta, expected = rng.standard_normal(4), None
    expected = theta.copy()
    C = 1e-3 * np.eye(4)
    opt = Shampoo([theta], lr=0.1, matrix_eps=1e-3)
    for _ in range(20):
        g = np.sin(3 * theta) + theta
        C += np.outer(g, g)
        w, V = np.linalg.eigh(C)
        expected = expected - 0.1 * (V / np.sqrt(w)) @ V.T @ g
        opt.step([g])
        np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-12)


def test_shampoo_on_a_matrix_is_the_kronecker_preconditioner_applied_to_vec_g():
    rng = np.random.default_rng(2)
    W, grads = rng.standard_normal((3, 5)), [rng.standard_normal((3, 5)) for _ in range(6)]
    opt = Shampoo([W.copy()], lr=1.0, matrix_eps=1e-2)
    L, R = 1e-2 * np.eye(3), 1e-2 * np.eye(5)
    for G in grads:
        before = opt.params[0].copy()
        opt.step([G])
        L, R = L + G @ G.T, R + G.T @ G
        # (L^{1/2} kron R^{1/2})^{-1/2} vec(G), with vec stacking rows (NumPy's ravel)
        big = np.kron(inverse_root(L, 4), inverse_root(R, 4))
        np.testing.assert_allclose(before - opt.params[0], (big @ G.ravel()).reshape(3, 5), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (3, 6), (6, 3)])
def test_shampoos_first_step_is_the_orthogonalised_gradient(shape):
    # L = G G^T, R = G^T G (epsilon -> 0): L^{-1/4} G R^{-1/4} = U V^T, Muon's direction without momentum
    G = np.random.default_rng(3).standard_normal(shape)
    W = np.zeros(shape)
    Shampoo([W], lr=1.0, matrix_eps=1e-14).step([G])
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    np.testing.assert_allclose(-W, U @ Vt, atol=1e-5)
    assert np.linalg.norm(-W - newton_schulz(G), 2) < 0.32   # Muon's iteration: within its band


def test_shampoo_waits_for_its_first_inverse_root():
    params = make_params()
    start = [p.copy() for p in params]
    opt = Shampoo(params, lr=0.1, preconditioning_compute_steps=4)
    run(opt, 3)
    for p, q in zip(params, start, strict=True):
        np.testing.assert_array_equal(p, q)                 # the roots start at zero
    run(opt, 1)
    assert all(not np.array_equal(p, q) for p, q in zip(params, start, strict=True))
    np.testing.assert_array_equal(opt.state[0]["pre_cond_0"], opt.state[0]["pre_cond_0"].T)


@pytest.mark.parametrize("cls", [Shampoo, SOAP, Muon], ids=ids([Shampoo, SOAP, Muon]))
def test_matrix_optimizers_are_equivariant_to_rotations_and_adam_is_not(cls):
    # running on U W V^T with gradients U G V^T gives U (the run on W) V^T
    rng = np.random.default_rng(4)
    A, B = np.diag([3.0, 1.0, 0.3]), np.diag([2.0, 0.5, 0.2, 1.0])
    U, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    W0 = rng.standard_normal((3, 4))

    noise = 0.1 * rng.standard_normal((40, 3, 4))           # a different gradient at every step

    def trajectory(cls, rotate):
        W = U @ W0 @ V.T if rotate else W0.copy()
        A_, B_ = (U @ A @ U.T, V @ B @ V.T) if rotate else (A, B)
        opt = cls([W], lr=0.01, **({"weight_decay": 0.0} if cls in (SOAP, Muon) else {}))
        for N in noise:
            # the gradient of tr(W^T A W B) / 2, plus noise (rotated with the problem)
            opt.step([A_ @ W @ B_ + (U @ N @ V.T if rotate else N)])
        return U.T @ W @ V if rotate else W

    plain, rotated = trajectory(cls, False), trajectory(cls, True)
    np.testing.assert_allclose(rotated, plain, atol=1e-9)
    adam_plain, adam_rotated = trajectory(Adam, False), trajectory(Adam, True)
    assert np.abs(adam_rotated - adam_plain).max() > 1e-2


# --- SOAP ---------------------------------------------------------------------------------------------

def test_soap_first_step_moves_nothing_and_the_second_is_adams_sign_step_on_a_vector():
    theta = np.array([1.0, -2.0, 0.5])
    opt = SOAP([theta], lr=0.1, eps=0.0, weight_decay=0.0)
    opt.step([np.array([3.0, 1.0, -2.0])])
    np.testing.assert_array_equal(theta, [1.0, -2.0, 0.5])
    assert opt.state[0]["Q"] == [None] and opt.state[0]["GG"] == [None]   # a vector is not rotated
    opt.step([np.array([0.5, -4.0, 1e-3])])
    np.testing.assert_allclose(theta, [0.9, -1.9, 0.4], rtol=1e-14)       # -lr sign(g), as Adam's first step


def test_soap_decays_the_weights_after_the_step():
    theta = np.array([2.0, -4.0])
    opt = SOAP([theta], lr=0.5, weight_decay=0.5, eps=0.0)
    opt.step([np.ones(2)])
    opt.step([np.array([1.0, -1.0])])
    np.testing.assert_allclose(theta, (np.array([2.0, -4.0]) - 0.5 * np.array([1.0, -1.0])) * 0.75, rtol=1e-14)


def test_rotating_into_and_out_of_the_eigenbasis():
    rng = np.random.default_rng(5)
    Q = [np.linalg.qr(rng.standard_normal((3, 3)))[0], np.linalg.qr(rng.standard_normal((4, 4)))[0]]
    X = rng.standard_normal((3, 4))
    np.testing.assert_allclose(to_eigenbasis(X, Q), Q[0].T @ X @ Q[1], atol=1e-14)
    np.testing.assert_allclose(from_eigenbasis(to_eigenbasis(X, Q), Q), X, atol=1e-14)
    np.testing.assert_allclose(to_eigenbasis(X, [None, Q[1]]), X @ Q[1], atol=1e-14)
    np.testing.assert_array_equal(to_eigenbasis(X, [None, None]), X)


def test_power_iteration_finds_the_eigenbasis_and_keeps_v_with_its_columns():
    rng = np.random.default_rng(6)
    V, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    L = V @ np.diag([8.0, 4.0, 2.0, 1.0]) @ V.T
    Q, v = [np.eye(4)], np.arange(4.0)
    for _ in range(60):
        Q, v = update_eigenbasis([L], Q, v)
        np.testing.assert_allclose(Q[0].T @ Q[0], np.eye(4), atol=1e-12)   # always orthonormal
    estimated = np.diag(Q[0].T @ L @ Q[0])
    np.testing.assert_allclose(estimated, [8.0, 4.0, 2.0, 1.0], rtol=1e-8)   # largest first
    # one refresh reorders v exactly as it reorders the columns
    Q0 = [np.eye(4)[:, [3, 1, 0, 2]]]
    _, v = update_eigenbasis([np.diag([1.0, 3.0, 2.0, 4.0])], Q0, np.array([10.0, 11.0, 12.0, 13.0]))
    np.testing.assert_array_equal(v, [10.0, 11.0, 13.0, 12.0])   # estimates 4, 3, 1, 2: columns 0, 1, 3, 2
