"""optlib's schedule-free optimizers against the ``schedulefree`` package (recorded in schedulefree.npz).

Every case of ``SCHEDULEFREE_CASES`` (make_reference.py's schedule-free section: defaults, weight decay,
warm-up, ``r``, ``weight_lr_power``, a mid-run lr change, train/eval switching after every step, and the
package's ``*Reference`` classes) runs 120 steps on the reference problem with a train/eval round trip
at every snapshot; optlib's parameters in train mode (y) and in eval mode (the average x) must match the
package's at every snapshot to rtol 1e-10 (float64). Only NumPy is needed.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from optlib import schedulefree

HERE = Path(__file__).parent / "reference"
_spec = importlib.util.spec_from_file_location("make_reference", HERE / "make_reference.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

RECORDED = np.load(HERE / "schedulefree.npz")


def run_optlib(name):
    cls_name, kwargs, options = ref.SCHEDULEFREE_CASES[name]

    def make(x0):
        params = [p.copy() for p in x0]
        opt = getattr(schedulefree, cls_name)(params, **kwargs)
        return (lambda: params, lambda name: getattr(opt, name), lambda name, value: setattr(opt, name, value),
                opt.step, opt.train, opt.eval)

    return ref.run_schedule_free(make, options)


def test_every_case_is_recorded_with_the_package_version():
    assert str(RECORDED["schedulefree_version"]) == "1.4.1"
    assert set(ref.SCHEDULEFREE_CASES) <= set(RECORDED.files)
    classes = {cls for cls, _, _ in ref.SCHEDULEFREE_CASES.values()}
    assert classes == {"ScheduleFreeSGD", "ScheduleFreeAdamW"}
    for cls in classes:
        settings = [(kwargs, options) for c, kwargs, options in ref.SCHEDULEFREE_CASES.values() if c == cls]
        assert ({}, {}) in settings                                          # the defaults
        for key in ("weight_decay", "warmup_steps", "r", "weight_lr_power"):
            assert any(key in kwargs for kwargs, _ in settings), (cls, key)
        for option in ("lr_change", "switch_every_step", "package_class"):
            assert any(option in options for _, options in settings), (cls, option)


@pytest.mark.parametrize("name", sorted(ref.SCHEDULEFREE_CASES))
def test_matches_the_schedulefree_package(name):
    expected = RECORDED[name]
    actual = run_optlib(name)
    assert actual.shape == expected.shape == (2, len(ref.SNAPSHOTS), 14)
    assert np.isfinite(expected).all()
    y, x = expected
    # the run must actually move, and the average must differ from the training point
    assert np.abs(y[-1] - y[0]).max() > 1e-2
    assert np.abs(x - y).max() > 1e-3
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=0)
