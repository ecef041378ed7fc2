"""The warmup-stable-decay schedule (optlib.schedules.wsd): its three phases, both decay shapes, bad input."""

import numpy as np
import pytest

from optlib import SGD
from optlib.schedules import SCHEDULES, make_schedule, scheduled, warmup_cosine, wsd


def test_the_three_phases_by_hand():
    sched = wsd(0.8, warmup_steps=4, total_steps=20, decay_steps=5, min_lr=0.1)
    assert [sched(t) for t in range(4)] == pytest.approx([0.2, 0.4, 0.6, 0.8], rel=1e-15)   # eta (t+1)/W
    assert all(sched(t) == 0.8 for t in range(4, 16))                                        # stable, to T - D
    # decay: s = (t - 15) / 5, eta_t = 0.1 + 0.7 (1 - s)
    assert [sched(t) for t in range(15, 21)] == pytest.approx([0.8, 0.66, 0.52, 0.38, 0.24, 0.1], rel=1e-14)
    assert all(sched(t) == 0.1 for t in range(20, 40))                                       # held after T


def test_the_1_minus_sqrt_decay_by_hand_and_below_the_linear_one():
    t = np.arange(0, 120)
    linear = wsd(1.0, 0, 100, 40)
    root = wsd(1.0, 0, 100, 40, decay_shape="1-sqrt")
    s = np.clip((t - 60) / 40, 0, 1)
    np.testing.assert_allclose(root(t), 1 - np.sqrt(s), rtol=1e-15, atol=1e-16)
    np.testing.assert_array_equal(root(t[:61]), linear(t[:61]))          # the same until the decay starts
    assert np.all(root(t[61:100]) < linear(t[61:100]))                    # sqrt(s) > s inside (0, 1)
    assert root(100) == linear(100) == 0.0


def test_it_falls_from_the_peak_and_shares_warmup_cosines_ramp():
    t = np.arange(300)
    for shape in ("linear", "1-sqrt"):
        sched = wsd(0.5, 30, 250, 50, min_lr=0.01, decay_shape=shape)
        rates = sched(t)
        np.testing.assert_array_equal(rates[:30], warmup_cosine(0.5, 30, 250, 0.01)(t[:30]))
        assert np.all(np.diff(rates[:30]) > 0) and np.all(np.diff(rates[29:]) <= 0)
        assert rates.max() == 0.5 and rates.min() == 0.01 and sched(250) == 0.01
        assert all(sched(int(k)) == rates[k] for k in range(0, 300, 7))  # scalar and array calls agree


def test_registered_and_drives_an_optimizer():
    # in the book's list of schedules (chapter 12's explorer menu): a 20% cooldown, after the warm-up given
    assert "wsd" in SCHEDULES
    t = np.arange(400)
    np.testing.assert_array_equal(make_schedule("wsd", 0.1, 300, 30)(t), wsd(0.1, 30, 300, 60)(t))
    np.testing.assert_array_equal(make_schedule("wsd", 0.1, 300)(t), wsd(0.1, 0, 300, 60)(t))
    np.testing.assert_array_equal(make_schedule("wsd", 0.1, 3, 10)(t), wsd(0.1, 2, 3, 1)(t))   # a run too short
    sched = wsd(0.1, 2, 10, 3)
    opt = scheduled(SGD, sched)([np.zeros(1)])
    seen = []
    for _ in range(10):
        opt.step([np.ones(1)])
        seen.append(opt.lr)
    np.testing.assert_array_equal(seen, sched(np.arange(10)))
    assert repr(sched) == "wsd(lr=0.1, warmup_steps=2, total_steps=10, decay_steps=3, min_lr=0.0, decay_shape='linear')"


@pytest.mark.parametrize("make, error, name", [
    (lambda: wsd(-0.1, 0, 10, 2), ValueError, "lr"),
    (lambda: wsd(0.1, 0, 10, 0), ValueError, "decay_steps"),
    (lambda: wsd(0.1, 0, 10, 2.5), TypeError, "decay_steps"),
    (lambda: wsd(0.1, 5, 10, 6), ValueError, "warmup_steps \\+ decay_steps"),
    (lambda: wsd(0.1, 0, 10, 2, min_lr=0.2), ValueError, "min_lr"),
    (lambda: wsd(0.1, 0, 10, 2, decay_shape="sqrt"), ValueError, "decay_shape"),
    (lambda: wsd(0.1, 0, 10, 2)(-1), ValueError, "t"),
])
def test_bad_arguments_are_refused_naming_them(make, error, name):
    with pytest.raises(error, match=name):
        make()
