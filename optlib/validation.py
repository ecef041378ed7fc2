"""Argument checks for all of optlib: each returns the cleaned value or raises naming the argument.

A wrong *type* raises ``TypeError``, a wrong *value* of the right type raises ``ValueError``; the message
names the keyword and the rule, in torch's wording where torch has one:
``Invalid learning rate: -1.0 (lr must be >= 0)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

__all__ = ["non_negative", "in_unit_interval", "in_half_open_unit_interval", "beta_pair", "boolean",
           "positive_int", "finite_non_negative", "generator"]


# --- validators: each returns the cleaned value or raises naming the argument -------------------
#
# ``label`` is torch's phrase ("learning rate"), ``name`` the keyword ("lr"); messages keep torch's
# wording and add the keyword and the rule: "Invalid learning rate: -1.0 (lr must be >= 0)".

def _real(label: str, value, name: str | None = None) -> float:
    name = name or label
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"Invalid {label}: {value} ({name} must be a number, not NaN)")
    return value


def non_negative(label: str, value, name: str | None = None) -> float:
    """A finite or infinite number >= 0 (torch's check for lr, eps, weight_decay, momentum)."""
    value = _real(label, value, name)
    if value < 0.0:
        raise ValueError(f"Invalid {label}: {value} ({name or label} must be >= 0)")
    return value


def in_unit_interval(label: str, value, name: str | None = None) -> float:
    """A number in [0, 1] (e.g. Adadelta's rho)."""
    value = _real(label, value, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid {label}: {value} ({name or label} must lie in [0, 1])")
    return value


def in_half_open_unit_interval(label: str, value, name: str | None = None) -> float:
    """A number in [0, 1) (e.g. a decay rate beta, which must forget eventually)."""
    value = _real(label, value, name)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {label}: {value} ({name or label} must lie in [0, 1))")
    return value


def beta_pair(label: str, value, name: str | None = None) -> tuple[float, float]:
    """A pair ``(beta1, beta2)``, each in [0, 1) (Adam's family)."""
    name = name or label
    if isinstance(value, np.ndarray):
        value = tuple(value.tolist())
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {type(value).__name__}: {value!r}")
    if len(value) != 2:
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be a pair (beta1, beta2))")
    return tuple(in_half_open_unit_interval(f"beta parameter at index {i}", b, f"{name}[{i}]")
                 for i, b in enumerate(value))


def boolean(label: str, value, name: str | None = None) -> bool:
    """True or False (a flag such as ``nesterov``, ``amsgrad``, ``maximize``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name or label} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


# --- counts, sizes and random generators (problems, runners) ------------------------------------

def positive_int(name: str, value, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (a count of steps, samples, epochs)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"Invalid {name}: {value} ({name} must be >= {minimum})")
    return int(value)


def finite_non_negative(name: str, value) -> float:
    """A finite real number >= 0 (a noise level)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"Invalid {name}: {value} ({name} must be a finite number >= 0)")
    return float(value)


def generator(rng) -> np.random.Generator:
    """A ``numpy.random.Generator``: every random draw in optlib is seeded explicitly."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}: {rng!r}")
    return rng
