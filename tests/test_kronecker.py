"""Shampoo and SOAP: hand-checkable facts and their own checks.

The step-for-step agreement with pytorch-optimizer is in test_kronecker_reference.py. The contract every
optlib optimizer keeps (bad input refused and changing nothing, checkpoints bit for bit, float32, lr = 0,
...) runs for these two in test_optimizers.py, with the parameters and settings in tests/contract.py;
here are only the checks of their own (their hyperparameters, their parameters' shapes, their state).
"""

import pickle

import numpy as np
import pytest

from optlib import SOAP, Adam, Muon, Shampoo
from optlib.muon import newton_schulz
from optlib.shampoo import inverse_root
from optlib.soap import from_eigenbasis, to_eigenbasis, update_eigenbasis
from optlib.surfaces import quadratic
from optlib.trajectory import run as run_surface
from tests.contract import (KRONECKER, an_optimizer_and_another_runs_state_dict, ids, params_for, refuses, run,
                            snapshot)


# --- not element-wise ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls", KRONECKER, ids=ids(KRONECKER))
def test_stacked_runs_are_refused_and_single_runs_work(cls):
    surface = quadratic(10.0, angle=0.5)
    with pytest.raises(ValueError, match=f"{cls.__name__} is not element-wise"):
        run_surface(cls, surface, start=np.array([[-3.0, 2.0], [1.0, 1.0]]), steps=5, lr=0.1)
    path = run_surface(cls, surface, start=(-3.0, 2.0), steps=5, lr=0.1)
    assert path.points.shape == (6, 2) and np.isfinite(path.points).all()


# --- bad input ----------------------------------------------------------------------------------------

def test_shampoos_own_bad_hyperparameters_are_refused_naming_the_argument():
    refuses(Shampoo, ValueError, r"Invalid matrix_eps value: .*\bmatrix_eps\b", matrix_eps=-1e-6)
    for momentum in (-0.1, 1.0):
        refuses(Shampoo, ValueError, r"Invalid momentum value: .*\bmomentum\b must lie in \[0, 1\)", momentum=momentum)
    refuses(Shampoo, ValueError, r"Invalid preconditioning_compute_steps: 0 \(preconditioning_compute_steps "
            r"must be >= 1\)", preconditioning_compute_steps=0)
    refuses(Shampoo, TypeError, r"preconditioning_compute_steps must be an integer", preconditioning_compute_steps=2.0)
    refuses(Shampoo, TypeError, r"\bweight_decouple\b", weight_decouple=1)


def test_soaps_own_bad_hyperparameters_are_refused_naming_the_argument():
    refuses(SOAP, ValueError, r"Invalid shampoo_beta value: .*\bshampoo_beta\b", shampoo_beta=1.0)
    refuses(SOAP, TypeError, r"\bshampoo_beta\b", shampoo_beta="0.9")
    refuses(SOAP, ValueError, r"Invalid precondition_frequency: 0", precondition_frequency=0)
    refuses(SOAP, ValueError, r"Invalid max_precondition_dim: -1", max_precondition_dim=-1)
    refuses(SOAP, TypeError, r"\bprecondition_1d\b", precondition_1d=None)
    with pytest.raises(TypeError):
        SOAP(params_for(SOAP), merge_dims=True)     # the library's reshaping of conv kernels is not offered


@pytest.mark.parametrize("cls", KRONECKER, ids=ids(KRONECKER))
def test_params_other_than_vectors_and_matrices_are_refused(cls):
    for params, index in [([np.zeros((2, 2)), np.zeros((2, 2, 2))], 1), ([np.array(1.0)], 0),
                          ([np.zeros((0, 3))], 0), ([np.zeros(3), np.zeros(0)], 1)]:
        with pytest.raises(ValueError, match=rf"params\[{index}\] has shape"):
            cls(params)
    with pytest.raises(ValueError, match="params must not be empty"):
        cls([])


# --- checkpoints ----------------------------------------------------------------------------------

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


@pytest.mark.parametrize("cls", KRONECKER, ids=ids(KRONECKER))
def test_a_refused_load_is_all_or_nothing_and_names_the_entry(cls):
    opt, good = an_optimizer_and_another_runs_state_dict(cls)
    before = snapshot(opt)
    for description, bad in _bad_states(cls, good):
        with pytest.raises((ValueError, TypeError), match=r"state_dict\['state'\]\[1\]|lr") as info:
            opt.load_state_dict(bad)
        assert snapshot(opt) == before, description
        assert "state_dict" in str(info.value) or "learning rate" in str(info.value)


def test_soap_loads_a_state_saved_before_the_first_step():
    fresh = SOAP(params_for(SOAP))
    later = SOAP(params_for(SOAP))
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
    params = params_for(Shampoo)
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
