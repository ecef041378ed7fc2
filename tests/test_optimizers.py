"""Unit tests of optlib's optimizers: hand-checkable facts, bad input, checkpoints, schedules.

The step-for-step agreement with torch.optim is in test_reference.py; these tests need only NumPy.
"""

import math
import pickle
import re
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import optlib
from optlib import (SGD, SOAP, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Muon, NAdam, RAdam, RMSprop,
                    ScheduleFreeAdamW, ScheduleFreeSGD, Shampoo)
from tests.contract import (ALL, DEFAULTS, ELEVEN, FULL, SCHEDULE_FREE, an_optimizer_and_another_runs_state_dict,
                            grad_of, ids, params_for, refuses, run, same_bits, snapshot, state_values, two_matrices)

WITH_EPS = [c for c in ALL if c not in (SGD, Lion, Shampoo, ScheduleFreeSGD)]
WITH_BETAS = [Adam, AdamW, NAdam, Adamax, RAdam, Lion, SOAP, ScheduleFreeAdamW]


# --- the interface ---------------------------------------------------------------------------------

def test_every_optimizer_is_exported():
    for cls in ALL:
        assert getattr(optlib, cls.__name__) is cls
        assert cls.__name__ in optlib.__all__
        assert issubclass(cls, optlib.Optimizer)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_defaults_are_the_reference_implementations(cls):
    opt = cls(params_for(cls))
    assert opt.hyperparameters == DEFAULTS[cls]
    assert opt.lr == DEFAULTS[cls]["lr"] and opt.step_count == 0


MOVE_AT_THE_FIRST_STEP = [cls for cls in ALL if cls is not SOAP]    # SOAP's first step only gathers statistics


@pytest.mark.parametrize("cls", MOVE_AT_THE_FIRST_STEP, ids=ids(MOVE_AT_THE_FIRST_STEP))
def test_updates_in_place_and_accepts_a_single_array(cls):
    theta = np.array([[1.0, -2.0, 0.5]])
    alias = theta
    opt = cls(theta, lr=0.1)
    assert opt.params[0] is theta
    opt.step(2 * theta)                          # a single array for grads too
    assert alias is theta and not np.array_equal(theta, [[1.0, -2.0, 0.5]])
    assert opt.step_count == 1


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_float32_stays_float32(cls):
    params = params_for(cls, dtype=np.float32)
    opt = cls(params, **FULL[cls])
    run(opt, 5)
    if cls in SCHEDULE_FREE:
        opt.eval()                                       # the average x in the parameters
    assert all(p.dtype == np.float32 for p in params)
    arrays = [value for value in state_values(opt) if isinstance(value, np.ndarray)]
    assert arrays and all(a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_gradient_may_be_the_parameter_itself(cls):
    # the gradient of |p|^2 / 2 is p: passing the parameter array must act like passing a copy
    starts = [[[1.0, -2.0, 3.0]], [[1.0, -2.0, 3.0], [0.5, 1.0, -1.0]], [1.0, -2.0]]
    for start in starts[:2] if cls is Muon else starts:     # Muon takes only matrices
        a, b = [np.array(start)], [np.array(start)]
        opt_a, opt_b = cls(a, **FULL[cls]), cls(b, **FULL[cls])
        for t in range(6):
            opt_a.step(a if t % 2 else [a[0][:]])           # the array itself, or a view of it
            opt_b.step([b[0].copy()])
        np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_gradients_sharing_memory_with_other_parameters_are_read_before_any_update(cls):
    # f(a, b) = sum(a * b) has the gradients [b, a]: the parameters themselves, swapped
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    mine, twin = [a, b], [a.copy(), b.copy()]
    opt, reference = cls(mine, **FULL[cls]), cls(twin, **FULL[cls])
    for _ in range(4):
        opt.step([mine[1], mine[0]])
        reference.step([twin[1].copy(), twin[0].copy()])
        for p, q in zip(mine, twin):
            np.testing.assert_array_equal(p, q)
        assert pickle.dumps(opt.state) == pickle.dumps(reference.state)
    # two halves of one array as parameters, each one's gradient a view of the other half
    base = rng.standard_normal((2, 6))
    halves, twin = [base[:, :3], base[:, 3:]], [base[:, :3].copy(), base[:, 3:].copy()]
    opt, reference = cls(halves, **FULL[cls]), cls(twin, **FULL[cls])
    for _ in range(4):
        opt.step([base[:, 3:], base[:, :3]])
        reference.step([twin[1].copy(), twin[0].copy()])
        for p, q in zip(halves, twin):
            np.testing.assert_array_equal(p, q)
        assert pickle.dumps(opt.state) == pickle.dumps(reference.state)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_overlapping_parameters_are_refused(cls):
    A = np.zeros((3, 4))
    for params, first, second in [([A, A[:2]], 0, 1), ([A[1:], np.zeros(2), A[:2, ::2]], 0, 2),
                                  ([A.T, A[0:1]], 0, 1)]:
        params = [p if p.ndim == 2 else p.reshape(1, -1) for p in params]
        with pytest.raises(ValueError, match=rf"params\[{first}\] and params\[{second}\] overlap"):
            cls(params)
    cls([A[:, :2], A[:, 2:]])           # two views of one array that share no element are fine
    cls([A[:, ::2], A[:, 1::2]])


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_a_gradient_of_another_dtype_is_refused(cls):
    # torch refuses a gradient whose dtype is not its parameter's; a float32 gradient would make
    # part of a float64 step float32
    params = params_for(cls)
    opt = cls(params, **FULL[cls])
    run(opt, 2)
    before = snapshot(opt)
    good = grad_of(params)
    for grads, dtypes in [([good[0].astype(np.float32), *good[1:]], ("float32", "float64")),
                          ([good[0], good[1].astype(np.float16), *good[2:]], ("float16", "float64"))]:
        i = 0 if grads[0].dtype != np.float64 else 1
        with pytest.raises(TypeError, match=rf"grads\[{i}\] has dtype {dtypes[0]}, but params\[{i}\] has dtype "
                                            rf"{dtypes[1]}"):
            opt.step(grads)
        assert snapshot(opt) == before
    low = params_for(cls, dtype=np.float32)
    with pytest.raises(TypeError, match=r"grads\[0\] has dtype float64, but params\[0\] has dtype float32"):
        cls(low, **FULL[cls]).step([g.astype(np.float64) for g in grad_of(low)])


# --- hand-checkable facts -------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [Adam, AdamW, Adamax], ids=ids([Adam, AdamW, Adamax]))
def test_first_step_with_eps_zero_is_minus_lr_sign_g(cls):
    rng = np.random.default_rng(1)
    start = rng.standard_normal(50)
    g = rng.standard_normal(50) * 10.0 ** rng.integers(-6, 6, 50)   # wildly different scales
    g[:3] = [0.0, -0.0, 1e-300]
    kwargs = {"weight_decay": 0.0} if cls is AdamW else {}
    # Exactly, bit for bit, when 1 - beta1 and sqrt(1 - beta2) are exact in binary
    # (sqrt(fl(g*g)) == |g| in IEEE arithmetic, so nothing else rounds) ...
    theta = start.copy()
    cls([theta], lr=0.01, eps=0.0, betas=(0.5, 0.75), **kwargs).step([g])
    with np.errstate(invalid="ignore"):
        expected = start - 0.01 * np.sign(g)
    np.testing.assert_array_equal(theta[3:], expected[3:])
    # ... a zero gradient gives 0/0 with eps = 0, as in torch; 1e-300 squared underflows to 0
    assert np.isnan(theta[:2]).all() and theta[2] == start[2] - (0.01 if cls is Adamax else np.inf)
    # ... and to the last few bits with the default betas.
    theta = start.copy()
    cls([theta], lr=0.01, eps=0.0, **kwargs).step([g])
    np.testing.assert_allclose(theta[3:] - start[3:], -0.01 * np.sign(g[3:]), rtol=1e-13)


def test_adam_first_step_exact_for_exactly_representable_values():
    theta = np.array([1.0, -2.0, 0.0])
    Adam([theta], lr=0.25, eps=0.0, betas=(0.5, 0.75)).step([np.array([1e-3, -7.0, 1e6])])
    np.testing.assert_array_equal(theta, [0.75, -1.75, -0.25])


def test_leaky_averages_with_beta_zero_keep_only_the_new_value():
    # torch's lerp: with betas (0, 0) Adam's moments are the last gradient exactly, however large the
    # previous one was, so every step is lr * g / (|g| + eps): torch steps -0.1 and then -0.05 here
    theta = np.array([0.0])
    opt = Adam([theta], lr=0.1, betas=(0.0, 0.0))
    opt.step([np.array([1e8])])
    assert theta[0] == pytest.approx(-0.1, rel=1e-15, abs=0)
    opt.step([np.array([1e-8])])
    assert opt.state[0]["exp_avg"][0] == 1e-8 and opt.state[0]["exp_avg_sq"][0] == 1e-8 * 1e-8
    assert theta[0] == pytest.approx(-0.15, rel=1e-15, abs=0)
    theta = np.array([0.0])
    opt = Adam([theta], lr=0.1, betas=(0.0, 0.0), eps=0.0)
    for g in (1e8, 1e-8):
        opt.step([np.array([g])])
    assert theta[0] == pytest.approx(-0.2, rel=1e-15, abs=0)
    # lerp's two ends are exact whatever the sizes: beta = 0 keeps the new value, beta = 1 the old one
    m = np.array([1e8, -3.0])
    optlib.averages.leaky_average(m, np.array([1e-8, 5.0]), 0.0)
    np.testing.assert_array_equal(m, [1e-8, 5.0])
    optlib.averages.leaky_average(m, np.array([7.0, 7.0]), 1.0)
    np.testing.assert_array_equal(m, [1e-8, 5.0])


def test_adamw_with_zero_weight_decay_is_adam():
    for amsgrad in (False, True):
        a, b = two_matrices(), two_matrices()
        adam = Adam(a, lr=0.03, betas=(0.8, 0.95), amsgrad=amsgrad)
        adamw = AdamW(b, lr=0.03, betas=(0.8, 0.95), amsgrad=amsgrad, weight_decay=0.0)
        for _ in range(50):
            adam.step(grad_of(a))
            adamw.step(grad_of(b))
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_array_equal(pa, pb)


def test_adamw_is_adam_with_decoupled_weight_decay():
    a, b = two_matrices(), two_matrices()
    adam = Adam(a, lr=0.03, weight_decay=0.3, decoupled_weight_decay=True)
    adamw = AdamW(b, lr=0.03, weight_decay=0.3)
    for _ in range(20):
        adam.step(grad_of(a))
        adamw.step(grad_of(b))
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa, pb)
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        adamw.decoupled_weight_decay = False
    assert adamw.decoupled_weight_decay is True


def test_adamw_decay_is_scaled_by_lr():
    # with a zero gradient Adam's step is 0, so only the decay p <- (1 - lr wd) p acts
    theta = np.array([1.0, -4.0])
    opt = AdamW([theta], lr=0.5, weight_decay=0.5)
    opt.step([np.zeros(2)])
    np.testing.assert_array_equal(theta, [0.75, -3.0])


def test_sgd_without_momentum_is_plain_gradient_descent():
    params = two_matrices()
    expected = [p.copy() for p in params]
    opt = SGD(params, lr=0.1)
    for _ in range(30):
        g = grad_of(params)
        opt.step(g)
        expected = [e - 0.1 * gi for e, gi in zip(expected, g, strict=True)]
        for p, e in zip(params, expected, strict=True):
            np.testing.assert_array_equal(p, e)
    assert opt.state[0]["momentum_buffer"] is None


def test_sgd_hand_computed_momentum_dampening_and_weight_decay():
    # lr 0.5, momentum 0.5, dampening 0.5, weight decay 0.25; all values exact in binary
    theta = np.array([2.0])
    opt = SGD([theta], lr=0.5, momentum=0.5, dampening=0.5, weight_decay=0.25)
    opt.step([np.array([1.0])])     # g = 1 + 0.25*2 = 1.5; b = 1.5 (no dampening at t=1); theta = 2 - 0.75
    assert theta[0] == 1.25
    opt.step([np.array([1.0])])     # g = 1 + 0.3125 = 1.3125; b = 0.75 + 0.65625 = 1.40625
    assert theta[0] == 1.25 - 0.5 * 1.40625


def test_sgd_hand_computed_nesterov_and_maximize():
    theta = np.array([0.0])
    opt = SGD([theta], lr=0.25, momentum=0.5, nesterov=True)
    opt.step([np.array([2.0])])     # b = 2; g + mu b = 3; theta = -0.75
    assert theta[0] == -0.75
    opt.step([np.array([2.0])])     # b = 1 + 2 = 3; g + mu b = 3.5; theta = -0.75 - 0.875
    assert theta[0] == -1.625
    up = np.array([0.0])
    SGD([up], lr=0.25, maximize=True).step([np.array([2.0])])
    assert up[0] == 0.5


def test_adagrad_hand_computed_and_accumulator_only_grows():
    theta = np.array([1.0])
    opt = Adagrad([theta], lr=1.0, eps=0.0, initial_accumulator_value=5.0, lr_decay=1.0)
    opt.step([np.array([2.0])])     # s = 5 + 4 = 9; theta = 1 - 2/3
    assert math.isclose(theta[0], 1.0 / 3.0, rel_tol=1e-15)
    opt.step([np.array([4.0])])     # s = 25; lr_t = 1/2; theta -= 0.5 * 4/5
    assert math.isclose(theta[0], 1.0 / 3.0 - 0.4, rel_tol=1e-15)

    params = two_matrices()
    opt = Adagrad(params, lr=0.3, initial_accumulator_value=0.1, weight_decay=0.1, maximize=True)
    previous = [s["sum"].copy() for s in opt.state]
    assert all(np.all(s == 0.1) for s in previous)
    for _ in range(40):
        run(opt, 1)
        current = [s["sum"].copy() for s in opt.state]
        for before, after in zip(previous, current, strict=True):
            assert np.all(after >= before)
        previous = current


def test_radam_takes_momentum_steps_until_rho_exceeds_5():
    theta = np.array([0.0])
    opt = RAdam([theta], lr=1.0, betas=(0.0, 0.999))   # beta1 = 0: the momentum step is -lr * g
    for t in range(1, 6):
        before = theta[0]
        opt.step([np.array([3.0])])
        assert theta[0] == before - 3.0, t
    before = theta[0]
    opt.step([np.array([3.0])])     # t = 6: rho_6 > 5, an Adam-like step of size < lr
    assert 0 < before - theta[0] < 1.0


# --- non-finite gradients ---------------------------------------------------------------------------

@pytest.mark.parametrize("steps_before", [0, 2])
@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_nonfinite_gradients_propagate_silently(cls, steps_before):
    params = params_for(cls)
    opt = cls(params, **FULL[cls])
    run(opt, steps_before)
    grads = grad_of(params)
    grads[0].flat[0], grads[0].flat[1], grads[1].flat[0] = np.inf, np.nan, -np.inf
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")     # any RuntimeWarning or floating-point error fails the test
        opt.step(grads)
        for _ in range(3):
            with np.errstate(invalid="ignore"):
                grads = grad_of(params)        # cos(inf) is NaN
            opt.step(grads)
    assert not np.isfinite(params[0].flat[0]) and not np.isfinite(params[0].flat[1])
    if cls.elementwise:
        assert np.isfinite(params[0].flat[2:]).all()            # the other entries do not see them
    else:
        assert not np.isfinite(params[1]).all()                 # a matrix update spreads them


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
@pytest.mark.parametrize("value", [-0.1, float("nan")])
def test_negative_or_nan_lr_and_weight_decay_are_refused(cls, value):
    refuses(cls, ValueError, r"Invalid learning rate: .*\blr\b", lr=value)
    refuses(cls, ValueError, r"Invalid weight_decay value: .*\bweight_decay\b", weight_decay=value)


@pytest.mark.parametrize("cls", WITH_EPS, ids=ids(WITH_EPS))
@pytest.mark.parametrize("value", [-1e-8, float("nan")])
def test_negative_or_nan_eps_is_refused(cls, value):
    refuses(cls, ValueError, r"Invalid epsilon value: .*\beps\b", eps=value)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_non_numbers_are_refused_with_type_error(cls):
    refuses(cls, TypeError, r"\blr\b", lr="0.1")
    refuses(cls, TypeError, r"\blr\b", lr=None)
    refuses(cls, TypeError, r"\bweight_decay\b", weight_decay=True)
    if "maximize" in DEFAULTS[cls]:                     # the schedule-free pair has none
        refuses(cls, TypeError, r"\bmaximize must be True or False", maximize="yes")


@pytest.mark.parametrize("cls", WITH_BETAS, ids=ids(WITH_BETAS))
def test_bad_betas_are_refused(cls):
    for betas, index in [((1.0, 0.999), 0), ((-0.1, 0.999), 0), ((0.9, 1.0), 1), ((0.9, 1.5), 1),
                         ((float("nan"), 0.9), 0)]:
        match = rf"Invalid beta parameter at index {index}: .*betas\[{index}\]"
        refuses(cls, ValueError, match, betas=betas)
    refuses(cls, ValueError, "betas", betas=(0.9,))
    refuses(cls, ValueError, "betas", betas=(0.9, 0.99, 0.999))
    refuses(cls, TypeError, "betas", betas=0.9)
    refuses(cls, TypeError, "betas", betas="ab")
    assert cls(params_for(cls), betas=[0.5, 0.6]).betas == (0.5, 0.6)


def test_bad_momentum_nesterov_rho_alpha_and_the_rest_are_refused():
    refuses(SGD, ValueError, r"Invalid momentum value: -0.5 \(momentum must be >= 0\)", momentum=-0.5)
    refuses(RMSprop, ValueError, r"Invalid momentum value: .*momentum", momentum=-0.5)
    refuses(SGD, ValueError, "Nesterov momentum requires a momentum and zero dampening", nesterov=True)
    refuses(SGD, ValueError, "Nesterov momentum requires a momentum and zero dampening",
            nesterov=True, momentum=0.9, dampening=0.1)
    refuses(SGD, ValueError, r"\bdampening\b", dampening=-1.0)
    for rho in (-0.1, 1.1, float("nan")):
        refuses(Adadelta, ValueError, r"Invalid rho value: .*\brho\b", rho=rho)
    assert Adadelta(two_matrices(), rho=1.0).rho == 1.0 and Adadelta(two_matrices(), rho=0.0).rho == 0.0
    for alpha in (-0.1, 1.5):
        refuses(RMSprop, ValueError, r"Invalid alpha value: .*\balpha\b", alpha=alpha)
    refuses(Adagrad, ValueError, r"Invalid lr_decay value: .*\blr_decay\b", lr_decay=-1.0)
    refuses(Adagrad, ValueError, r"initial_accumulator_value", initial_accumulator_value=-1.0)
    refuses(NAdam, ValueError, r"Invalid momentum_decay value: .*\bmomentum_decay\b", momentum_decay=-1e-3)
    refuses(Adam, TypeError, r"\bamsgrad\b", amsgrad=1)
    refuses(RMSprop, TypeError, r"\bcentered\b", centered=None)
    with pytest.raises(TypeError):
        Adam(two_matrices(), foreach=True)   # torch's implementation switches are not optlib's


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_bad_params_are_refused(cls):
    with pytest.raises(ValueError, match="params must not be empty"):
        cls([])
    with pytest.raises(TypeError, match=r"params\[1\].*floating-point.*int64"):
        cls([np.zeros(3), np.arange(3)])
    with pytest.raises(TypeError, match=r"params\[0\] must be a NumPy array"):
        cls([[1.0, 2.0]])
    with pytest.raises(TypeError, match="params must be a sequence"):
        cls(3.0)
    p = np.zeros(3)
    with pytest.raises(ValueError, match="same array"):
        cls([p, p])
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        cls([p])


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_a_refused_step_changes_nothing_and_the_optimizer_keeps_working(cls):
    params, twin = params_for(cls), params_for(cls)
    opt, reference = cls(params, **FULL[cls]), cls(twin, **FULL[cls])
    run(opt, 3)
    run(reference, 3)
    before = snapshot(opt)
    good = grad_of(params)
    n = len(good)

    def second(bad):                                    # good, but for grads[1]
        return [good[0], bad, *good[2:]]

    def wrong_shape(bad):
        shapes = rf"{re.escape(str(bad.shape))}, but params\[1\] has shape {re.escape(str(good[1].shape))}"
        return ValueError, rf"grads\[1\] has shape {shapes}", second(bad)

    bad_grads = [
        (ValueError, rf"grads has {n - 1} arrays but the optimizer has {n} params", good[:-1]),
        (ValueError, rf"grads has {n + 1} arrays", good + [good[0]]),
        wrong_shape(good[1][:-1]),
        *([wrong_shape(good[1].T)] if good[1].ndim == 2 else []),
        (TypeError, r"grads\[0\] must be a floating-point array, got dtype int64",
         [np.ones(3, dtype=np.int64), *good[1:]]),
        (TypeError, r"grads\[1\] has dtype float32", second(good[1].astype(np.float32))),
        (TypeError, r"grads\[1\] must be a NumPy array", second(good[1].tolist())),
        (TypeError, r"grads must be a sequence", 1.0),
    ]
    for exc, match, grads in bad_grads:
        with pytest.raises(exc, match=match):
            opt.step(grads)
        assert snapshot(opt) == before
    run(opt, 4)
    run(reference, 4)
    for p, q in zip(params, twin, strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_a_refused_assignment_changes_nothing(cls):
    params, twin = params_for(cls), params_for(cls)
    opt, reference = cls(params, **FULL[cls]), cls(twin, **FULL[cls])
    run(opt, 2)
    run(reference, 2)
    before = snapshot(opt)
    for name, value in [("lr", -1.0), ("lr", float("nan")), ("weight_decay", -1.0), ("weight_decay", float("nan")),
                        ("lr", "fast")]:
        with pytest.raises((ValueError, TypeError), match=name):
            setattr(opt, name, value)
        assert snapshot(opt) == before
    if cls is SGD:
        with pytest.raises(ValueError, match="Nesterov"):
            opt.nesterov = True   # dampening is 0.1
        opt.dampening = 0.0
        reference.dampening = 0.0
        with pytest.raises(ValueError, match="Nesterov"):
            SGD(two_matrices(), momentum=0.9, nesterov=True).momentum = 0.0
    run(opt, 3)
    run(reference, 3)
    for p, q in zip(params, twin, strict=True):
        np.testing.assert_array_equal(p, q)


# --- checkpoints and schedules --------------------------------------------------------------------------

# a schedule-free optimizer is saved in either mode; the others have none
ROUND_TRIPS = ([pytest.param(cls, None, id=cls.__name__) for cls in ALL if cls not in SCHEDULE_FREE]
               + [pytest.param(cls, mode, id=f"{cls.__name__}-{mode}") for cls in SCHEDULE_FREE
                  for mode in ("train", "eval")])


@pytest.mark.parametrize("steps", [0, 1, 7])
@pytest.mark.parametrize(("cls", "mode"), ROUND_TRIPS)
def test_state_dict_round_trip_is_bit_identical(cls, mode, steps):
    uninterrupted = params_for(cls)
    opt = cls(uninterrupted, **FULL[cls])
    run(opt, steps)
    if mode:
        getattr(opt, mode)()
    saved = pickle.dumps((opt.state_dict(), [p.copy() for p in uninterrupted]))
    if mode:
        opt.train()
    run(opt, 13)

    state_dict, resumed = pickle.loads(saved)
    fresh = cls(resumed)                     # defaults: load must restore the hyperparameters (and the mode)
    fresh.load_state_dict(state_dict)
    assert fresh.hyperparameters == opt.hyperparameters
    assert fresh.step_count == steps
    if mode:
        assert fresh.train_mode == (mode == "train")
        fresh.train()
    run(fresh, 13)
    if mode:                                 # compare the averages x, in the parameters in eval mode
        opt.eval()
        fresh.eval()
    for p, q in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_array_equal(p, q)
    assert same_bits(fresh.state, opt.state)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_state_dict_is_a_copy_of_plain_data(cls):
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    sd = opt.state_dict()
    for value in state_values(sd):
        assert value is None or isinstance(value, (np.ndarray, float))
        if isinstance(value, np.ndarray):
            value[...] = 123.0                    # must not reach the optimizer
    assert all(not np.any(v == 123.0) for v in state_values(opt) if isinstance(v, np.ndarray))
    assert isinstance(sd["step_count"], int)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_a_refused_load_changes_nothing(cls):
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    good = opt.state_dict()
    before = snapshot(opt)
    wrong_shape = pickle.loads(pickle.dumps(good))
    key = next(k for k, v in wrong_shape["state"][1].items() if isinstance(v, np.ndarray))
    wrong_shape["state"][1][key] = np.zeros((5, 5))           # the shape of no parameter or factor here
    bad_lr = pickle.loads(pickle.dumps(good))
    bad_lr["hyperparameters"]["lr"] = -1.0
    unknown = pickle.loads(pickle.dumps(good))
    unknown["hyperparameters"]["bogus"] = 1.0
    for bad in [{}, {"state": [], "hyperparameters": {}, "step_count": 0}, wrong_shape, bad_lr, unknown,
                dict(good, step_count=-1)]:
        with pytest.raises((ValueError, TypeError)):
            opt.load_state_dict(bad)
        assert snapshot(opt) == before


def test_load_state_dict_across_lazily_allocated_buffers():
    # SGD's momentum buffer exists only after the first step with momentum, AMSGrad's only with amsgrad
    early = SGD(two_matrices(), lr=0.1, momentum=0.9)
    late = SGD(two_matrices(), lr=0.1, momentum=0.9)
    run(late, 3)
    early.load_state_dict(late.state_dict())
    assert early.state[0]["momentum_buffer"] is not late.state[0]["momentum_buffer"]
    np.testing.assert_array_equal(early.state[0]["momentum_buffer"], late.state[0]["momentum_buffer"])
    late.load_state_dict(SGD(two_matrices(), lr=0.1, momentum=0.9).state_dict())
    assert late.state[0]["momentum_buffer"] is None and late.step_count == 0


# not the schedule-free pair: with lr = 0 their z stands still, but y still moves towards the average x
LR_ZERO_FREEZES = [cls for cls in ALL if cls not in SCHEDULE_FREE]


@pytest.mark.parametrize("cls", LR_ZERO_FREEZES, ids=ids(LR_ZERO_FREEZES))
def test_hyperparameters_are_writable_between_steps(cls):
    params = params_for(cls)
    opt = cls(params, **FULL[cls])
    run(opt, 3)
    opt.lr = 0.0
    assert opt.lr == 0.0 and opt.hyperparameters["lr"] == 0.0
    frozen = [p.copy() for p in params]
    decoupled = cls is AdamW or (cls is NAdam and FULL[cls].get("decoupled_weight_decay"))
    run(opt, 3)
    for p, q in zip(params, frozen, strict=True):
        # lr = 0 freezes the parameters (AdamW's decay is lr * wd, so it stops too)
        np.testing.assert_array_equal(p, q, err_msg=f"decoupled={decoupled}")
    opt.lr = FULL[cls]["lr"]
    run(opt, 1)
    assert any(not np.array_equal(p, q) for p, q in zip(params, frozen, strict=True))


def test_lr_change_takes_effect_immediately():
    a, b = np.array([1.0]), np.array([1.0])
    opt_a, opt_b = SGD([a], lr=0.1), SGD([b], lr=0.1)
    opt_a.step([np.array([1.0])])
    opt_b.step([np.array([1.0])])
    opt_b.lr = 0.5
    opt_a.step([np.array([1.0])])
    opt_b.step([np.array([1.0])])
    assert a[0] == 1.0 - 0.1 - 0.1 and b[0] == 1.0 - 0.1 - 0.5


# --- what a fuzzer found: loads all or nothing, wrong types named, clear exception types --------------

def _array_key(cls, state):
    """A state entry that is always an array (not a buffer created later, not a scalar)."""
    template = cls(params_for(cls), **FULL[cls])._init_state(np.zeros((2, 4)))
    return next((k for k, v in template.items() if isinstance(v, np.ndarray)), next(iter(state)))


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_a_refused_load_is_all_or_nothing(cls):
    # a state dict whose hyperparameters, step count and first parameter's state are fine, but whose
    # second parameter's state is not: nothing may be loaded
    opt, bad = an_optimizer_and_another_runs_state_dict(cls)
    before = snapshot(opt)
    key = _array_key(cls, bad["state"][1])
    bad["state"][1][key] = bad["state"][1][key].tolist()       # a nested list instead of an array
    with pytest.raises(TypeError, match=rf"state_dict\['state'\]\[1\]\['{key}'\] must be a floating-point array"):
        opt.load_state_dict(bad)
    assert snapshot(opt) == before
    assert opt.lr == FULL[cls]["lr"] and opt.step_count == 2


WRONG_STATE_VALUES = {
    "list": lambda a: a.tolist(),
    "float": lambda a: 0.5,
    "None": lambda a: None,
    "str": lambda a: "zeros",
    "complex array": lambda a: a.astype(complex),
    "object array": lambda a: a.astype(object),
    "int array": lambda a: a.astype(np.int64),
}


@pytest.mark.parametrize("kind", WRONG_STATE_VALUES)
@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_load_refuses_state_of_the_wrong_type_naming_the_entry(cls, kind):
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    before = snapshot(opt)
    bad = opt.state_dict()
    key = _array_key(cls, bad["state"][1])
    bad["state"][1][key] = WRONG_STATE_VALUES[kind](bad["state"][1][key])
    if kind == "None" and opt._init_state(opt.params[1])[key] is None:
        # SGD's buffer is None until the first step with momentum creates it: None is valid there
        opt.load_state_dict(bad)
        assert opt.state[1][key] is None and opt.state[0][key] is not None
        return
    with pytest.raises(TypeError, match=rf"state_dict\['state'\]\[1\]\['{key}'\] must be a floating-point array"):
        opt.load_state_dict(bad)
    assert snapshot(opt) == before


def test_load_refuses_a_running_product_that_is_not_a_finite_real_number_naming_the_entry():
    # F5 (issue 20): Fraction(1, 3) was refused by an error that did not name the entry; it is a real
    # number, as torch (which keeps whatever it is given) accepts it, and 10**400 is refused by name
    opt = NAdam(two_matrices(), **FULL[NAdam])
    run(opt, 3)
    before = snapshot(opt)
    for value, exc, match in [(float("nan"), ValueError, "must be a number, not NaN"),
                              (float("inf"), ValueError, "must be finite"),
                              (10**400, ValueError, "is too large for a float"),
                              (None, TypeError, "must be a real number"), ("0.5", TypeError, "must be a real number"),
                              (np.array([0.5]), TypeError, "must be a real number"),
                              (True, TypeError, "must be a real number"),
                              (Decimal("0.5"), TypeError, "must be a real number"),
                              (np.complex128(0.5), TypeError, "must be a real number")]:
        bad = opt.state_dict()
        bad["state"][0]["mu_product"] = value
        with pytest.raises(exc, match=rf"state_dict\['state'\]\[0\]\['mu_product'\] {match}"):
            opt.load_state_dict(bad)
        assert snapshot(opt) == before
    for value in (np.float64(0.25), Fraction(1, 3)):          # a NumPy scalar, a fraction: real numbers
        good = opt.state_dict()
        good["state"][0]["mu_product"] = value
        opt.load_state_dict(good)
        assert opt.state[0]["mu_product"] == float(value) and type(opt.state[0]["mu_product"]) is float


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_exceptions_name_the_argument(cls):
    with pytest.raises(ValueError, match=r"Invalid learning rate: .*\blr\b.*too large"):
        cls(params_for(cls), lr=10**400)
    if cls in WITH_BETAS:
        with pytest.raises(TypeError, match=r"betas must be a pair"):
            cls(params_for(cls), betas=np.array(0.9))
        assert cls(params_for(cls), betas=np.array([0.5, 0.75])).betas == (0.5, 0.75)
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 1)
    before = snapshot(opt)
    for entry in ("hyperparameters", "state"):
        bad = dict(opt.state_dict(), **{entry: None})
        with pytest.raises(TypeError, match=rf"state_dict\['{entry}'\] must be a (dict|list)"):
            opt.load_state_dict(bad)
        assert snapshot(opt) == before
    with pytest.raises(TypeError, match=r"state_dict must be a dict"):
        opt.load_state_dict(None)
    with pytest.raises(AttributeError, match=r"cannot delete the hyperparameter 'lr'"):
        del opt.lr
    assert opt.lr == FULL[cls]["lr"] and snapshot(opt) == before


def test_only_the_matrix_optimizers_are_not_element_wise():
    # the runners that stack independent runs into one array rely on this flag
    assert optlib.Optimizer.elementwise is True
    assert {cls.__name__: cls.elementwise for cls in ALL if cls.elementwise is not True} == dict.fromkeys(
        ["Muon", "Shampoo", "SOAP"], False)


ELEMENTWISE = [cls for cls in ALL if cls.elementwise]


@pytest.mark.parametrize("cls", ELEMENTWISE, ids=ids(ELEMENTWISE))
def test_element_wise_stacking_changes_no_run(cls):
    # and the flag is true: each parameter stacked beside another run's, along its last axis, changes neither
    alone, other = params_for(cls, seed=1), params_for(cls, seed=2)
    stacked = [np.concatenate([a, b], axis=-1) for a, b in zip(alone, other, strict=True)]
    opt_a, opt_s = cls(alone, **FULL[cls]), cls(stacked, **FULL[cls])
    for _ in range(5):
        g = grad_of(stacked)
        opt_a.step([gs[..., :a.shape[-1]].copy() for gs, a in zip(g, alone, strict=True)])
        opt_s.step(g)
    for s, a in zip(stacked, alone, strict=True):
        np.testing.assert_array_equal(s[..., :a.shape[-1]], a)


# --- the second fuzzer's faults (issue 20, F1-F5) ------------------------------------------------------

def test_f1_sgd_momentum_on_a_0d_parameter_matches_torch():
    # the fuzzer's case: maximize makes g = -grad, which NumPy returns as a scalar for a 0-d array; the
    # buffer built from it was a scalar that never changed. torch 2.13 (float64, foreach=False): 1.561.
    theta = np.array(1.0)
    opt = SGD([theta], lr=0.1, momentum=0.9, maximize=True)
    for _ in range(3):
        opt.step([np.array(1.0)])
    assert theta == pytest.approx(1.561, rel=1e-14, abs=0)
    buffer = opt.state[0]["momentum_buffer"]
    assert type(buffer) is np.ndarray and buffer.shape == () and buffer == pytest.approx(-2.71, rel=1e-14)
    opt.load_state_dict(opt.state_dict())                 # raised TypeError: the buffer was a scalar


@pytest.mark.parametrize("extra", [dict(maximize=True), dict(weight_decay=0.1)], ids=["maximize", "weight_decay"])
@pytest.mark.parametrize("cls", [c for c in ELEVEN if c.elementwise],
                         ids=ids([c for c in ELEVEN if c.elementwise]))
def test_f1_a_0d_parameter_steps_as_a_one_element_vector(cls, extra):
    # every element-wise optimizer with maximize (not the schedule-free pair), every buffer switched on: the
    # 0-d run is the (1,)-shaped run, bit for bit, every state array stays a 0-d array, and the optimizer loads
    # its own state_dict
    settings = {**FULL[cls], **extra}
    scalar, vector = np.array(0.7), np.array([0.7])
    opt_s, opt_v = cls([scalar], **settings), cls([vector], **settings)
    for _ in range(4):
        opt_s.step([np.array(scalar + np.cos(scalar))])
        opt_v.step([vector + np.cos(vector)])
        assert scalar.shape == () and scalar == vector[0]
    for key, value in opt_s.state[0].items():
        if isinstance(opt_v.state[0][key], np.ndarray):
            assert type(value) is np.ndarray and value.shape == () and value == opt_v.state[0][key][0], key
    opt_s.load_state_dict(opt_s.state_dict())


SUBCLASSES = {"np.matrix": lambda a: np.asmatrix(a), "masked array": lambda a: np.ma.masked_array(a)}


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("kind", SUBCLASSES)
@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_f2_matrices_and_masked_arrays_are_refused_naming_the_argument(cls, kind):
    # np.matrix's * is a matrix product (Adam stepped -0.0707 instead of -0.1, Adadelta twice), and a
    # masked array's arithmetic skips masked entries: refused wherever an array enters
    convert = SUBCLASSES[kind]
    with pytest.raises(TypeError, match=r"params\[1\] must be a plain NumPy array"):
        cls([params_for(cls)[0], convert(params_for(cls)[1])])
    with pytest.raises(TypeError, match=r"params\[0\] must be a plain NumPy array"):
        cls(convert(params_for(cls)[1]))
    params = params_for(cls)
    opt = cls(params, **FULL[cls])
    run(opt, 2)
    before = snapshot(opt)
    grads = grad_of(params)
    with pytest.raises(TypeError, match=r"grads\[1\] must be a plain NumPy array"):
        opt.step([grads[0], convert(grads[1]), *grads[2:]])
    with pytest.raises(TypeError, match=r"grads\[0\] must be a plain NumPy array"):
        cls(params_for(cls)[1]).step(convert(grads[1]))               # a single array for grads too
    bad = opt.state_dict()
    key = _array_key(cls, bad["state"][1])
    bad["state"][1][key] = convert(bad["state"][1][key])
    with pytest.raises(TypeError, match=rf"state_dict\['state'\]\[1\]\['{key}'\] must be a plain NumPy array"):
        opt.load_state_dict(bad)
    assert snapshot(opt) == before


def test_f3_second_moments_multiply_in_torchs_order():
    # torch's addcmul_(g, g, value=1 - beta) computes ((1 - beta) g) g: (1 - beta) g^2 may fit where g^2
    # overflows. Numbers from torch 2.13, float32, foreach=False, one step from 0 with g = (1e20, -1e20).
    big = np.array([1e20, -1e20], dtype=np.float32)
    theta = np.zeros(2, dtype=np.float32)
    adam = Adam([theta], lr=0.1)
    adam.step([big])
    np.testing.assert_allclose(adam.state[0]["exp_avg_sq"], [1e37, 1e37], rtol=1e-6)   # torch: 1.0000001e37
    step = np.float32(0.09999999)                                  # lr in float32 arithmetic, torch's bit for bit
    np.testing.assert_array_equal(theta, [-step, step])
    theta = np.zeros(2, dtype=np.float32)
    RMSprop([theta], lr=0.1, alpha=1.0).step([big])       # (1 - alpha) g g = 0, not 0 * inf = NaN
    np.testing.assert_allclose(theta, [-1e27, 1e27], rtol=1e-6)                        # torch: [-1e27, 1e27]
    theta = np.zeros(2, dtype=np.float32)
    RMSprop([theta], lr=0.1).step([big])                  # v = 0.01 g^2 = 1e38 < float32's max 3.4e38
    np.testing.assert_allclose(theta, [-1.0, 1.0], rtol=1e-6)                          # torch: [-1.0, 1.0]


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_f4_a_step_count_that_would_overflow_is_refused_at_load(cls):
    # 10**400 overflowed at the next step (beta**t, t * psi), after the state had changed
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    before = snapshot(opt)
    for count, exc in [(10**400, ValueError), (2**63, ValueError), (-1, ValueError), (2.0, TypeError),
                       (True, TypeError), ("3", TypeError)]:
        with pytest.raises(exc, match=r"state_dict\['step_count'\]"):
            opt.load_state_dict(dict(opt.state_dict(), step_count=count))
        assert snapshot(opt) == before
    largest = dict(opt.state_dict(), step_count=np.int64(2**63 - 1))   # int64's maximum is fine ...
    opt.load_state_dict(largest)
    assert opt.step_count == 2**63 - 1 and type(opt.step_count) is int
    run(opt, 1)                                                        # ... and the next step works
    assert all(np.isfinite(p).all() for p in opt.params)


@pytest.mark.parametrize("cls", ALL, ids=ids(ALL))
def test_f5_a_parameter_made_read_only_later_is_refused_before_any_write(cls):
    params = params_for(cls)
    opt = cls(params, **FULL[cls])
    run(opt, 2)
    params[1].flags.writeable = False
    before = snapshot(opt)
    with pytest.raises(ValueError, match=r"params\[1\] is read-only"):
        opt.step(grad_of(params))                         # params[0] was updated before params[1] raised
    assert snapshot(opt) == before


def test_f5_muon_names_adjust_lr_fn_and_ns_coefficients():
    for value in (np.array([1, 2]), np.array("original"), 1.0):
        with pytest.raises(ValueError, match=r"Invalid adjust_lr_fn: .*adjust_lr_fn must be one of"):
            Muon(two_matrices(), adjust_lr_fn=value)
    for value in (np.array(3.0), np.ones((3, 1)), 3.0):
        with pytest.raises((TypeError, ValueError), match=r"ns_coefficients"):
            Muon(two_matrices(), ns_coefficients=value)
