"""Unit tests of ScheduleFreeSGD and ScheduleFreeAdamW: hand-checkable steps, train/eval, their own checks.

The step-for-step agreement with the ``schedulefree`` package is in test_schedulefree_reference.py. The
contract every optlib optimizer keeps (bad input refused and changing nothing, checkpoints bit for bit in
either mode, float32, element-wise stacking, ...) runs for these two in test_optimizers.py, with the
parameters and settings in tests/contract.py.
"""

import pickle

import numpy as np
import pytest

from optlib import ScheduleFreeAdamW, ScheduleFreeSGD
from optlib.surfaces import quadratic
from optlib.trajectory import run as run_on_surface
from optlib.trajectory import run_stochastic
from tests.contract import FULL, SCHEDULE_FREE, grad_of, ids, params_for, run, snapshot


# --- the interface --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_three_points_before_the_first_step_coincide(cls):
    params = params_for(cls)
    start = [p.copy() for p in params]
    opt = cls(params)
    assert opt.train_mode
    for state, p in zip(opt.state, start, strict=True):
        np.testing.assert_array_equal(state["z"], p)
        np.testing.assert_array_equal(state["x"], p)
    opt.eval()
    opt.train()              # x = y = z: switching before any step leaves the parameters bit for bit
    for p, q in zip(params, start, strict=True):
        np.testing.assert_array_equal(p, q)


# --- hand-checked steps ------------------------------------------------------------------------------------

def test_sgd_two_steps_by_hand():
    theta = np.array([2.0, -1.0])
    opt = ScheduleFreeSGD([theta], lr=0.5, momentum=0.75, weight_decay=0.1)
    y1 = theta.copy()
    g1 = np.array([1.0, 3.0])
    opt.step([g1])
    z2 = y1 - 0.5 * (g1 + 0.1 * y1)      # gradient plus weight decay at y
    x2 = z2                              # c_1 = 1: the average starts at z_2
    y2 = 0.75 * x2 + 0.25 * z2
    np.testing.assert_allclose(theta, y2, rtol=1e-15)
    g2 = np.array([-2.0, 0.5])
    opt.step([g2])
    z3 = z2 - 0.5 * (g2 + 0.1 * y2)
    x3 = 0.5 * x2 + 0.5 * z3             # c_2 = 1/2 (r = 0, constant rate)
    np.testing.assert_allclose(opt.state[0]["z"], z3, rtol=1e-15)
    np.testing.assert_allclose(opt.state[0]["x"], x3, rtol=1e-15)
    np.testing.assert_allclose(theta, 0.75 * x3 + 0.25 * z3, rtol=1e-15)


def test_adamw_first_step_is_a_sign_step_and_decay_is_taken_at_y():
    theta = np.array([1.0, -2.0, 0.5])
    opt = ScheduleFreeAdamW([theta], lr=0.1, eps=0.0, weight_decay=0.5)
    y1 = theta.copy()
    opt.step([np.array([3.0, -0.5, 1e-3])])
    # z_2 = z_1 - lr (sign(g) + lambda y_1): bias correction makes the first normalised step sign(g)
    expected = y1 - 0.1 * (np.array([1.0, -1.0, 1.0]) + 0.5 * y1)
    np.testing.assert_allclose(opt.state[0]["z"], expected, rtol=1e-15)
    np.testing.assert_allclose(opt.state[0]["x"], expected, rtol=1e-15)   # c_1 = 1
    np.testing.assert_allclose(theta, expected, rtol=1e-15)


@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_constant_rate_average_is_the_running_mean_of_z(cls):
    params = [np.random.default_rng(3).standard_normal(5)]
    opt = cls(params, lr=0.1)
    zs = []
    for _ in range(40):
        opt.step(grad_of(params))
        zs.append(opt.state[0]["z"].copy())
    np.testing.assert_allclose(opt.state[0]["x"], np.mean(zs, axis=0), rtol=1e-12)


def test_warmup_ramps_the_rate_and_weights_the_average_by_its_square():
    theta = np.zeros(1)
    opt = ScheduleFreeSGD([theta], lr=0.4, warmup_steps=4)
    zs, weights = [], []
    for t in range(1, 7):
        before = opt.state[0]["z"].copy()
        opt.step([np.ones(1)])
        rate = 0.4 * min(1.0, t / 4)
        np.testing.assert_allclose(before - opt.state[0]["z"], [rate], rtol=1e-14)   # z moves by gamma_t
        zs.append(opt.state[0]["z"].copy())
        weights.append(rate**2)                                                       # w_t = gamma_t^2
    np.testing.assert_allclose(opt.state[0]["x"], np.average(zs, axis=0, weights=weights), rtol=1e-13)
    assert opt.state[0]["weight_sum"] == pytest.approx(sum(weights), rel=1e-14)


def test_polynomial_weights_and_weight_power():
    theta = np.zeros(1)
    opt = ScheduleFreeSGD([theta], lr=0.5, r=2.0, weight_lr_power=0.0)
    zs = []
    for _ in range(5):
        opt.step([np.ones(1)])
        zs.append(opt.state[0]["z"].copy())
    # w_t = t^2 (the rate's power is 0)
    np.testing.assert_allclose(opt.state[0]["x"], np.average(zs, axis=0, weights=[1, 4, 9, 16, 25]), rtol=1e-14)


def test_a_lowered_rate_keeps_the_largest_rate_in_the_weights():
    theta = np.zeros(1)
    opt = ScheduleFreeSGD([theta], lr=1.0)
    opt.step([np.ones(1)])
    opt.lr = 0.1
    opt.step([np.ones(1)])
    assert opt.state[0]["lr_max"] == 1.0 and opt.state[0]["weight_sum"] == 2.0   # w = 1^2 twice, not 0.1^2


# --- train and eval ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_eval_puts_x_in_the_parameters_and_train_puts_y_back_bit_for_bit(cls):
    params = params_for(cls)
    opt = cls(params, **FULL[cls])
    run(opt, 6)
    y = [p.copy() for p in params]
    x = opt.evaluation_params()
    assert all(not np.allclose(a, b) for a, b in zip(x, y, strict=True))
    before = pickle.dumps(opt.state)
    opt.eval()
    assert not opt.train_mode
    for p, a in zip(params, x, strict=True):
        np.testing.assert_array_equal(p, a)
    opt.eval()                                  # a second eval changes nothing
    for p, a in zip(params, x, strict=True):
        np.testing.assert_array_equal(p, a)
    assert pickle.dumps(opt.state) == before
    opt.train()
    opt.train()
    assert opt.train_mode
    for p, b in zip(params, y, strict=True):
        np.testing.assert_array_equal(p, b)


@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_evaluation_params_returns_copies_of_x_and_changes_nothing(cls):
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 4)
    before = snapshot(opt)
    x = opt.evaluation_params()
    for a, state in zip(x, opt.state, strict=True):
        np.testing.assert_array_equal(a, state["x"])
        a[...] = 123.0                          # must not reach the optimizer
    assert snapshot(opt) == before
    opt.eval()
    for a, p in zip(opt.evaluation_params(), opt.params, strict=True):
        np.testing.assert_array_equal(a, p)


@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_a_step_in_eval_mode_is_refused_and_changes_nothing(cls):
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    opt.eval()
    before = snapshot(opt)
    with pytest.raises(RuntimeError, match=r"eval mode.*call train\(\)"):
        opt.step(grad_of(opt.params))
    assert snapshot(opt) == before


@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_switching_between_steps_leaves_the_run_unchanged(cls):
    plain, switched = params_for(cls), params_for(cls)
    a, b = cls(plain, **FULL[cls]), cls(switched, **FULL[cls])
    for _ in range(10):
        a.step(grad_of(plain))
        b.step(grad_of(switched))
        b.eval()
        b.train()
    for p, q in zip(plain, switched, strict=True):
        np.testing.assert_array_equal(p, q)


# --- the runners -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_runs_on_a_surface_stacked_and_alone_alike(cls):
    surface = quadratic(10)
    starts = np.array([[-3.0, 2.5], [2.5, -2.5], [1.0, 1.0]])
    hyper = dict(lr=0.1) if cls is ScheduleFreeSGD else dict(lr=0.3)
    stacked = run_on_surface(cls, surface, starts, steps=200, **hyper)
    for j, start in enumerate(starts):
        alone = run_on_surface(cls, surface, start, steps=200, **hyper)
        np.testing.assert_array_equal(stacked.points[:, j], alone.points)
    x = stacked.optimizer.evaluation_params()[0]
    assert np.all(surface.value(x) < 1e-2 * surface.value(starts))


# --- their own hyperparameters and state ----------------------------------------------------------------

@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_bad_hyperparameters_are_refused_naming_the_argument(cls):
    bad = [("lr", -0.1, ValueError), ("lr", float("nan"), ValueError), ("lr", "fast", TypeError),
           ("weight_decay", -1.0, ValueError), ("warmup_steps", -1, ValueError), ("warmup_steps", 2.5, TypeError),
           ("warmup_steps", True, TypeError), ("r", -1.0, ValueError), ("r", float("inf"), ValueError),
           ("weight_lr_power", float("nan"), ValueError), ("weight_lr_power", None, TypeError)]
    if cls is ScheduleFreeSGD:
        bad += [("momentum", 0.0, ValueError), ("momentum", 1.0, ValueError), ("momentum", -0.5, ValueError)]
    else:
        bad += [("betas", (0.9, 1.0), ValueError), ("betas", 0.9, TypeError), ("eps", -1e-8, ValueError)]
    for name, value, exc in bad:
        with pytest.raises(exc, match=rf"\b{name}\b"):
            cls(params_for(cls), **{name: value})
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    before = snapshot(opt)
    for name, value, exc in bad:
        with pytest.raises(exc, match=rf"\b{name}\b"):
            setattr(opt, name, value)
        assert snapshot(opt) == before


@pytest.mark.parametrize("cls", SCHEDULE_FREE, ids=ids(SCHEDULE_FREE))
def test_a_refused_load_changes_nothing(cls):
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    other = cls(params_for(cls, seed=1), **FULL[cls])
    run(other, 5)
    other.eval()
    good = other.state_dict()
    before = snapshot(opt)

    def spoiled(**changes):
        bad = pickle.loads(pickle.dumps(good))
        for path, value in changes.items():
            if path == "state1":
                bad["state"][1].update(value)
            else:
                bad[path] = value
        return bad

    missing_mode = pickle.loads(pickle.dumps(good))
    del missing_mode["train_mode"]
    cases = [
        (missing_mode, ValueError, r"train_mode"),
        (spoiled(train_mode=1), TypeError, r"state_dict\['train_mode'\] must be True or False"),
        (spoiled(train_mode=None), TypeError, r"state_dict\['train_mode'\]"),
        (spoiled(state1={"x": np.zeros((2, 2))}), ValueError, r"state_dict\['state'\]\[1\]\['x'\] has shape"),
        (spoiled(state1={"weight_sum": float("nan")}), ValueError, r"\['weight_sum'\]: nan .*not NaN"),
        (spoiled(state1={"lr_max": "0.1"}), TypeError, r"\['lr_max'\] must be a real number"),
        (spoiled(state1={"z": None}), TypeError, r"\['z'\] must be a floating-point array"),
        (spoiled(step_count=-1), ValueError, r"step_count"),
        (spoiled(hyperparameters=dict(good["hyperparameters"], lr=-1.0)), ValueError, r"learning rate"),
        (None, TypeError, r"state_dict must be a dict"),
    ]
    for bad, exc, match in cases:
        with pytest.raises(exc, match=match):
            opt.load_state_dict(bad)
        assert snapshot(opt) == before
    opt.load_state_dict(good)
    assert not opt.train_mode and opt.step_count == 5


# --- the chapter's three sequences (optlib.explorers.ch13_schedule_free) ---------------------------------

def test_three_sequences_records_z_y_x_of_the_runners_run():
    from optlib.explorers.ch13_schedule_free import VALLEY_START, three_sequences, valley_problem

    problem = valley_problem()
    starts = np.tile(VALLEY_START, (3, 1))
    steps, z, y, x = three_sequences(problem, starts, 40, np.random.default_rng(0), record_every=10, lr=0.1,
                                     momentum=0.8)
    assert steps.tolist() == [0, 10, 20, 30, 40] and z.shape == y.shape == x.shape == (5, 3, 2)
    np.testing.assert_array_equal(z[0], starts)
    np.testing.assert_allclose(y - x, 0.2 * (z - x), atol=1e-13)            # y = 0.8 x + 0.2 z at every row
    # the same samples and updates as run_stochastic with the optimizer itself, which records x
    path = run_stochastic(ScheduleFreeSGD, problem, starts, 40, 1, np.random.default_rng(0), record_every=10, lr=0.1,
                          momentum=0.8)
    np.testing.assert_array_equal(x, path.points)
    np.testing.assert_array_equal(x[-1], path.optimizer.state[0]["x"])
    np.testing.assert_array_equal(y[-1], path.optimizer.params[0])
    np.testing.assert_array_equal(z[-1], path.optimizer.state[0]["z"])
    assert not np.allclose(y[1:], x[1:])                                   # y is recorded, not x again


def test_three_sequences_of_a_diverged_run_are_nan_from_its_divergence_on():
    from optlib.explorers.ch13_schedule_free import VALLEY_START, three_sequences, valley_problem

    starts = np.tile(VALLEY_START, (2, 1))
    _, z, y, x = three_sequences(valley_problem(), starts, 2000, np.random.default_rng(0), record_every=10, lr=50.0)
    dead = np.isnan(x)
    assert not dead[0].any() and dead[2:].all()      # both diverge within 20 steps (the runner stops at 1250)
    np.testing.assert_array_equal(np.isnan(z), dead)
    np.testing.assert_array_equal(np.isnan(y), dead)
