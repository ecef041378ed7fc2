"""Schedules: formulas, torch.optim.lr_scheduler's conventions, bad input, driving optimizers."""

import math

import numpy as np
import pytest

from optlib import SGD, Adam
from optlib.schedules import SCHEDULES, constant, cosine, exponential, make_schedule, scheduled, step, warmup_cosine

# --- torch's recursive ("chainable") scheduler updates, transcribed: lr after `epoch` scheduler steps ---

def torch_step_lr(lr, step_size, gamma, epochs):
    out = [lr]
    for epoch in range(1, epochs):
        lr = lr * gamma if epoch % step_size == 0 else lr
        out.append(lr)
    return np.array(out)


def torch_exponential_lr(lr, gamma, epochs):
    out = [lr]
    for _ in range(1, epochs):
        lr = lr * gamma
        out.append(lr)
    return np.array(out)


def torch_cosine_annealing_lr(base_lr, T_max, eta_min, epochs):
    out, lr = [base_lr], base_lr
    for epoch in range(1, epochs):
        if (epoch - 1 - T_max) % (2 * T_max) == 0:
            lr = lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
        else:
            ratio = (1 + math.cos(math.pi * epoch / T_max)) / (1 + math.cos(math.pi * (epoch - 1) / T_max))
            lr = ratio * (lr - eta_min) + eta_min
        out.append(lr)
    return np.array(out)


def torch_linear_lr(base_lr, start_factor, end_factor, total_iters, epochs):
    factor = [start_factor + (end_factor - start_factor) * min(e, total_iters) / total_iters
              for e in range(epochs)]
    return base_lr * np.array(factor)


T = np.arange(200)


def test_step_matches_torch_steplr():
    assert np.allclose(step(0.1, 30, 0.5)(T), torch_step_lr(0.1, 30, 0.5, 200), rtol=1e-12)
    assert step(0.1, 30)(29) == pytest.approx(0.1) and step(0.1, 30)(30) == pytest.approx(0.01)


def test_exponential_matches_torch_exponentiallr():
    assert np.allclose(exponential(0.1, 0.97)(T), torch_exponential_lr(0.1, 0.97, 200), rtol=1e-10)


def test_cosine_matches_torch_cosineannealinglr_up_to_t_max_then_holds():
    sched = cosine(0.1, 150, min_lr=1e-3)
    torch_values = torch_cosine_annealing_lr(0.1, 150, 1e-3, 151)
    assert np.allclose(sched(T[:151]), torch_values, rtol=1e-9, atol=1e-15)
    assert sched(0) == 0.1 and sched(75) == pytest.approx((0.1 + 1e-3) / 2)
    assert sched(150) == pytest.approx(1e-3)
    assert np.all(sched(np.arange(150, 400)) == pytest.approx(1e-3))   # torch would rise again here


def test_warmup_cosine_matches_torch_sequentiallr_and_reduces_to_cosine():
    W, total = 20, 150
    sched = warmup_cosine(0.1, W, total, min_lr=1e-3)
    ramp = torch_linear_lr(0.1, 1 / W, 1.0, W - 1, W)
    decay = torch_cosine_annealing_lr(0.1, total - W, 1e-3, total - W + 1)
    assert np.allclose(sched(np.arange(total + 1)), np.concatenate([ramp, decay]), rtol=1e-9)
    assert sched(0) == pytest.approx(0.1 / W) and sched(W - 1) == pytest.approx(0.1) and sched(W) == 0.1
    assert np.all(np.diff(sched(np.arange(W))) > 0) and np.all(np.diff(sched(np.arange(W, total + 1))) < 0)
    assert np.array_equal(warmup_cosine(0.1, 0, total, 1e-3)(T), cosine(0.1, total, 1e-3)(T))


def test_scalar_and_array_calls_agree():
    for sched in [constant(0.3), step(0.3, 7, 0.5), exponential(0.3, 0.99), cosine(0.3, 50),
                  warmup_cosine(0.3, 5, 50)]:
        values = sched(T)
        assert values.shape == T.shape and values.dtype == float
        for t, v in zip(T[::7], values[::7], strict=True):
            assert sched(int(t)) == pytest.approx(v, rel=1e-15)
        assert isinstance(sched(3), float) and np.all(values >= 0)


def test_one_list_of_schedules_names_each_by_its_own_name():
    """SCHEDULES is the one list (the explorer's menu): each entry builds the schedule of that name, over
    the run's steps; make_schedule refuses any other name."""
    from optlib.schedules import Schedule

    assert list(SCHEDULES) == ["constant", "step", "exponential", "cosine", "warmup_cosine", "wsd"]
    for name in SCHEDULES:
        schedule = make_schedule(name, 0.5, 300, warmup_steps=30)
        assert isinstance(schedule, Schedule) and schedule.name == name
        assert schedule(0) == pytest.approx(0.5 / 30 if name in ("warmup_cosine", "wsd") else 0.5, rel=1e-15)
    assert make_schedule("warmup_cosine", 0.5, 300, 30).params["warmup_steps"] == 30
    assert make_schedule("exponential", 0.5, 300)(300) == pytest.approx(0.005, rel=1e-12)
    with pytest.raises(ValueError, match="name must be one of 'constant', 'step'"):
        make_schedule("linear", 0.5, 300)


@pytest.mark.parametrize("make, name", [
    (lambda: constant(-0.1), "lr"), (lambda: constant(float("nan")), "lr"),
    (lambda: step(0.1, 0), "step_size"), (lambda: step(0.1, 10, gamma=-1), "gamma"),
    (lambda: exponential(0.1, float("inf")), "gamma"), (lambda: cosine(0.1, 0), "total_steps"),
    (lambda: cosine(0.1, 10, min_lr=0.2), "min_lr"), (lambda: cosine(0.1, 10, min_lr=-1), "min_lr"),
    (lambda: warmup_cosine(0.1, 10, 10), "warmup_steps"),
    (lambda: warmup_cosine(0.1, -1, 10), "warmup_steps"),
])
def test_bad_arguments_raise_valueerror_naming_them(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_bad_types_and_steps():
    with pytest.raises(TypeError, match="step_size"):
        step(0.1, 2.5)
    with pytest.raises(TypeError, match="lr"):
        constant("0.1")
    with pytest.raises(ValueError, match="t must be >= 0"):
        cosine(0.1, 10)(-1)
    with pytest.raises(ValueError, match="t must be >= 0"):
        cosine(0.1, 10)(np.array([0, -2]))
    with pytest.raises(TypeError, match="t must be"):
        cosine(0.1, 10)(1.5)
    with pytest.raises(TypeError, match="schedule"):
        scheduled(SGD, 0.1)


def test_schedule_drives_an_optimizer_like_a_manual_loop():
    sched = warmup_cosine(0.05, 10, 60)
    grad = lambda p: 2 * p * np.array([1.0, 10.0])  # noqa: E731
    manual, auto = np.array([1.0, -1.0]), np.array([1.0, -1.0])
    opt = Adam([manual])
    auto_opt = scheduled(Adam, sched)([auto])
    lrs = []
    for t in range(60):
        opt.lr = sched(t)
        opt.step([grad(manual)])
        auto_opt.step([grad(auto)])
        lrs.append(auto_opt.lr)
    assert np.array_equal(manual, auto) and np.allclose(lrs, sched(np.arange(60)))
    assert type(auto_opt).__name__ == "ScheduledAdam" and isinstance(auto_opt, Adam)


def test_scheduled_optimizer_resumes_bit_identically():
    sched = step(0.1, 5, 0.5)
    grad = lambda p: np.sin(p) + p  # noqa: E731
    a = np.array([0.5, 2.0, -1.0])
    opt = scheduled(SGD, sched)([a], momentum=0.9)
    for _ in range(7):
        opt.step([grad(a)])
    saved, b = opt.state_dict(), a.copy()
    for _ in range(8):
        opt.step([grad(a)])
    resumed = scheduled(SGD, sched)([b], momentum=0.9)
    resumed.load_state_dict(saved)
    for _ in range(8):
        resumed.step([grad(b)])
    assert np.array_equal(a, b) and resumed.lr == opt.lr == 0.1 * 0.5**2
