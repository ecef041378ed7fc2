"""Argument checks for all of optlib: each returns the cleaned value or raises naming the argument.

Every check is called the same way, ``check(name, value, ...)``: the argument's name, its value, then
whatever the rule needs (``one_of(name, value, options)``). A wrong *type* raises ``TypeError``, a wrong
*value* of the right type raises ``ValueError``; the message names the argument and the rule, in torch's
wording where torch has one: ``Invalid learning rate: -1.0 (lr must be >= 0)``. The checks of an
optimizer's hyperparameters also take ``label``, torch's phrase for the value ("learning rate"), which
``optlib.optimizer.Hyperparameter`` passes on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

__all__ = ["non_negative", "in_unit_interval", "in_half_open_unit_interval", "beta_pair", "boolean",
           "positive_int", "finite_non_negative", "generator"]


def _real(name: str, value, label: str | None = None) -> float:
    """A real number as a float, not NaN (the first step of every numeric check)."""
    label = label or name
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"Invalid {label}: {value} ({name} is too large for a float)") from None
    if math.isnan(value):
        raise ValueError(f"Invalid {label}: {value} ({name} must be a number, not NaN)")
    return value


# --- hyperparameters of the optimizers ---------------------------------------------------------------

def non_negative(name: str, value, *, label: str | None = None) -> float:
    """A finite or infinite number >= 0 (torch's check for lr, eps, weight_decay, momentum)."""
    value = _real(name, value, label)
    if value < 0.0:
        raise ValueError(f"Invalid {label or name}: {value} ({name} must be >= 0)")
    return value


def in_unit_interval(name: str, value, *, label: str | None = None) -> float:
    """A number in [0, 1] (e.g. Adadelta's rho)."""
    value = _real(name, value, label)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid {label or name}: {value} ({name} must lie in [0, 1])")
    return value


def in_half_open_unit_interval(name: str, value, *, label: str | None = None) -> float:
    """A number in [0, 1) (e.g. a decay rate beta, which must forget eventually)."""
    value = _real(name, value, label)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {label or name}: {value} ({name} must lie in [0, 1))")
    return value


def beta_pair(name: str, value, *, label: str | None = None) -> tuple[float, float]:
    """A pair ``(beta1, beta2)``, each in [0, 1) (Adam's family)."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise TypeError(f"{name} must be a pair (beta1, beta2), got an array of shape {value.shape}")
        value = tuple(value.tolist())
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {type(value).__name__}: {value!r}")
    if len(value) != 2:
        raise ValueError(f"Invalid {label or name}: {value!r} ({name} must be a pair (beta1, beta2))")
    return tuple(in_half_open_unit_interval(f"{name}[{i}]", b, label=f"beta parameter at index {i}")
                 for i, b in enumerate(value))


def boolean(name: str, value, *, label: str | None = None) -> bool:
    """True or False (a flag such as ``nesterov``, ``amsgrad``, ``maximize``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


# --- counts, sizes, numbers, choices, arrays and random generators (problems, runners, models) -----
#
# One check per kind of argument for the whole package, so that the same bad value raises the same
# exception everywhere: ``steps=2.5`` is a TypeError (not an integer) in every runner, ``steps=-1`` a
# ValueError (an integer, but out of range). tests/test_validation.py holds every public function
# that takes a count to this rule.

__all__ += ["non_negative_int", "finite_number", "finite_positive", "real_number", "open_unit_interval",
            "one_of", "function", "numeric_array", "sample_indices"]


def positive_int(name: str, value, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (a count of steps, samples, epochs, units)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"Invalid {name}: {value} ({name} must be >= {minimum})")
    return int(value)


def non_negative_int(name: str, value) -> int:
    """An integer >= 0 (a number of steps, which may be zero)."""
    return positive_int(name, value, minimum=0)


def real_number(name: str, value) -> float:
    """A real number, possibly infinite, not NaN (a threshold)."""
    return _real(name, value)


def finite_number(name: str, value) -> float:
    """A finite real number."""
    value = _real(name, value)
    if not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} ({name} must be finite)")
    return value


def finite_non_negative(name: str, value) -> float:
    """A finite real number >= 0 (a noise level, a rate of a schedule)."""
    value = finite_number(name, value)
    if value < 0:
        raise ValueError(f"Invalid {name}: {value} ({name} must be a finite number >= 0)")
    return value


def finite_positive(name: str, value) -> float:
    """A finite real number > 0 (a scale)."""
    value = finite_number(name, value)
    if value <= 0:
        raise ValueError(f"Invalid {name}: {value} ({name} must be a finite number > 0)")
    return value


def open_unit_interval(name: str, value) -> float:
    """A number strictly between 0 and 1 (a fraction of the data)."""
    value = _real(name, value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"Invalid {name}: {value} ({name} must lie in (0, 1))")
    return value


def one_of(name: str, value, options: Sequence):
    """One of a few named options (``sampling="shuffle"``); anything else is a ValueError."""
    if not any(type(value) is type(option) and value == option for option in options):
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be one of {', '.join(map(repr, options))})")
    return value


def function(name: str, value):
    """A callable (a schedule ``t -> lr``)."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}: {value!r}")
    return value


def numeric_array(name: str, value) -> np.ndarray:
    """An array of real numbers (integers or floats), as floats."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    return array.astype(float, copy=False)


def sample_indices(name: str, value, n: int) -> np.ndarray:
    """Integer indices into ``n`` samples, at least one along the last axis."""
    idx = np.asarray(value)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer sample indices, got dtype {idx.dtype}")
    if idx.ndim == 0 or idx.shape[-1] == 0:
        raise ValueError(f"Invalid {name}: {name} must hold at least one sample index along its last axis, "
                         f"got shape {idx.shape}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"Invalid {name}: {name} must lie in [0, {n}), got values from {idx.min()} to {idx.max()}")
    return idx


def generator(name: str, value) -> np.random.Generator:
    """A ``numpy.random.Generator``: every random draw in optlib is seeded explicitly."""
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(value).__name__}: {value!r}")
    return value
