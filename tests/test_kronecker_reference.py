"""optlib's Shampoo and SOAP against pytorch-optimizer's: the trajectories in tests/reference/kronecker.npz.

Every case of ``KRONECKER_CASES`` (defaults, several preconditioning frequencies, epsilons, weight decay,
momentum, maximize, a learning-rate change, a NaN) runs for 120 steps on a wide and a tall matrix and a
vector, with noisy gradients that depend non-linearly on the parameters; optlib's parameters must match
the library's at every stored step to rtol 1e-10 (float64; atol 1e-12, see below). The recording (make_reference.py
``kronecker``) needs torch and pytorch-optimizer; this test needs only NumPy.
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

RECORDED = np.load(HERE / "kronecker.npz")


def run_optlib(name):
    cls_name, kwargs, options = ref.KRONECKER_CASES[name]

    def make(x0):
        params = [p.copy() for p in x0]
        opt = getattr(optlib, cls_name)(params, **kwargs)
        return (lambda: params, lambda name: getattr(opt, name), lambda name, value: setattr(opt, name, value),
                opt.step)

    return ref.run(make, options)


def test_every_case_is_recorded_with_the_library_named():
    assert {cls for cls, _, _ in ref.KRONECKER_CASES.values()} == {"Shampoo", "SOAP"}
    assert set(ref.KRONECKER_CASES) <= set(RECORDED.files)
    assert str(RECORDED["pytorch_optimizer_version"]) == "4.1.0"
    assert str(RECORDED["torch_version"]).startswith("2.13.0")
    for cls in ("Shampoo", "SOAP"):
        cases = [kwargs for c, kwargs, _ in ref.KRONECKER_CASES.values() if c == cls]
        assert {} in cases and len(cases) >= 10           # the defaults and many non-default settings
    frequencies = {kwargs.get("precondition_frequency", 10) for c, kwargs, _ in ref.KRONECKER_CASES.values()
                   if c == "SOAP"}
    compute_steps = {kwargs.get("preconditioning_compute_steps", 1) for c, kwargs, _ in ref.KRONECKER_CASES.values()
                     if c == "Shampoo"}
    assert frequencies >= {1, 3, 10, 50} and compute_steps >= {1, 3, 10}
    shapes = {len(shape) for shape in ref.KRONECKER_SHAPES}
    assert shapes == {1, 2} and any(r < c for r, c in ref.KRONECKER_SHAPES[:2]) and \
        any(r > c for r, c in ref.KRONECKER_SHAPES[:2])   # a wide and a tall matrix, and a vector


@pytest.mark.parametrize("name", sorted(ref.KRONECKER_CASES))
def test_matches_pytorch_optimizer(name):
    expected = RECORDED[name]
    actual = run_optlib(name)
    assert actual.shape == expected.shape
    if not ref.KRONECKER_CASES[name][2].get("nonfinite"):
        assert np.isfinite(expected).all()
        # the run must actually move, or agreement would prove little
        assert np.abs(expected[-1] - expected[0]).max() > 1e-3
    else:
        assert np.isnan(expected[-1]).any() and np.isfinite(expected[0]).all()
    # rtol 1e-10; atol 1e-12 for entries passing near zero (the parameters are of order 1): Shampoo's
    # factors have eigenvalues down to its epsilon, which turns the different rounding of two LAPACK
    # libraries (MKL for torch, OpenBLAS for NumPy) into a few 1e-12 absolute at worst
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12, equal_nan=True)
