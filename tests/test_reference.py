"""optlib against torch.optim: the trajectories recorded by tests/reference/make_reference.py.

Every case of ``CASES`` (each optimizer class with its defaults and several non-default settings)
runs for 120 steps on a problem whose gradient depends non-linearly on three parameter arrays of
different shapes; optlib's parameters must match torch's at every stored step to rtol 1e-10
(float64). Muon's cases run on two matrices, with torch's Newton-Schulz iteration recorded in float64
(see make_reference.py). Only NumPy is needed: the torch results are in tests/reference/trajectories.npz.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import optlib

HERE = Path(__file__).parent / "reference"
_spec = importlib.util.spec_from_file_location("make_reference", HERE / "make_reference.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

RECORDED = np.load(HERE / "trajectories.npz")
TORCH_CLASSES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adadelta", "Adamax", "RAdam", "Muon"]


def run_optlib(name, cases=ref.CASES):
    cls_name, kwargs, options = cases[name]

    def make(x0):
        params = [p.copy() for p in x0]
        opt = getattr(optlib, cls_name)(params, **kwargs)

        return (lambda: params, lambda name: getattr(opt, name), lambda name, value: setattr(opt, name, value),
                opt.step)

    return ref.run(make, options)


def test_every_class_and_every_case_is_recorded():
    classes = {cls for cls, _, _ in ref.CASES.values()}
    assert classes == set(TORCH_CLASSES)
    assert set(ref.CASES) <= set(RECORDED.files)
    for cls in classes:  # defaults plus several non-default settings for every class
        assert sum(c == cls for c, _, _ in ref.CASES.values()) >= 4
    assert ref.N_STEPS >= 100 and ref.SNAPSHOTS[-1] == ref.N_STEPS


@pytest.mark.parametrize("name", sorted(ref.CASES))
def test_matches_torch(name):
    expected = RECORDED[name]
    actual = run_optlib(name)
    assert actual.shape == expected.shape
    if not ref.CASES[name][2].get("nonfinite"):
        assert np.isfinite(expected).all()
        # the run must actually move, or agreement would prove little
        assert np.abs(expected[-1] - expected[0]).max() > 1e-3
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=0, equal_nan=True)
