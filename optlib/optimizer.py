"""The base class every optlib optimizer derives from.

An optimizer owns a list of parameter arrays and updates them **in place**, the way
``torch.optim`` updates tensors::

    params = [np.array([1.0, 2.0])]
    opt = SGD(params, lr=0.1)
    opt.step([np.array([0.5, -0.5])])     # params[0] is now [0.95, 2.05]

What this class does, so that each subclass only writes its update rule:

* checks ``params`` once (a non-empty sequence of floating-point arrays);
* checks every ``step``'s gradients (count, shapes, dtype kind) *before* touching anything,
  so a refused step leaves parameters and state exactly as they were;
* holds hyperparameters as validated attributes (``opt.lr = 0.01`` between steps is how a
  schedule drives an optimizer);
* saves and restores the whole state (``state_dict`` / ``load_state_dict``) so a resumed run is
  bit-identical to an uninterrupted one.

Subclasses implement ``_init_state(param) -> dict`` (the saved state of one parameter) and
``_update(param, grad, state, scratch)`` (one parameter's update, in place). ``scratch`` holds two
work arrays shaped like the parameter (``scratch.grad``, ``scratch.work``), allocated once, so a step
allocates nothing proportional to the parameter count; scratch is never saved.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from numbers import Real
from types import SimpleNamespace

import numpy as np

__all__ = ["Optimizer", "Hyperparameter", "non_negative", "in_unit_interval", "in_half_open_unit_interval"]


# --- validators: each returns the cleaned value or raises ValueError naming the argument ---

def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"Invalid {name}: {value}")
    return value


def non_negative(name: str, value) -> float:
    """A finite or infinite number >= 0 (torch's check for lr, eps, weight_decay, momentum)."""
    value = _real(name, value)
    if value < 0.0:
        raise ValueError(f"Invalid {name}: {value}")
    return value


def in_unit_interval(name: str, value) -> float:
    """A number in [0, 1] (e.g. Adadelta's rho)."""
    value = _real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid {name}: {value} (must lie in [0, 1])")
    return value


def in_half_open_unit_interval(name: str, value) -> float:
    """A number in [0, 1) (e.g. a decay rate beta, which must forget eventually)."""
    value = _real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {name}: {value} (must lie in [0, 1))")
    return value


class Hyperparameter:
    """A validated attribute: ``opt.lr = -1`` raises and leaves ``opt.lr`` unchanged.

    ``label`` is the phrase used in error messages, torch-style ("Invalid learning rate: -1.0").
    """

    def __init__(self, validate: Callable[[str, object], object], label: str | None = None):
        self.validate = validate
        self.label = label

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.label = self.label or name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj._hyperparameters[self.name]

    def __set__(self, obj, value) -> None:
        obj._hyperparameters[self.name] = self.validate(self.label, value)


def _as_param_list(params) -> list[np.ndarray]:
    if isinstance(params, np.ndarray):
        params = [params]
    if not isinstance(params, Sequence) or isinstance(params, (str, bytes)):
        raise TypeError(f"params must be a sequence of NumPy arrays, got {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("params must not be empty: optimizer got an empty parameter list")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{i}] must be a NumPy array, got {type(p).__name__}")
        if p.dtype.kind != "f":
            raise TypeError(
                f"params[{i}] must be a floating-point array, got dtype {p.dtype} "
                "(an in-place update would silently truncate it); convert with .astype(float)"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimizer updates parameters in place")
    if len({id(p) for p in params}) != len(params):
        raise ValueError("params contains the same array more than once")
    return params


class Optimizer:
    """Base class: parameters, per-parameter state, hyperparameters, checkpoints."""

    def __init__(self, params, **hyperparameters):
        self._hyperparameters: dict = {}
        self.params = _as_param_list(params)
        # Validate every hyperparameter through its descriptor before anything is stored.
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.step_count = 0
        self.state = [self._init_state(p) for p in self.params]
        self._scratch = [SimpleNamespace(grad=np.empty_like(p), work=np.empty_like(p)) for p in self.params]

    # --- what subclasses write -------------------------------------------------------------

    def _init_state(self, param: np.ndarray) -> dict:
        """Buffers for one parameter, allocated once (same shape and dtype as ``param``)."""
        return {}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, scratch: SimpleNamespace) -> None:
        raise NotImplementedError

    @staticmethod
    def _effective_gradient(param, grad, scratch, weight_decay: float = 0.0, maximize: bool = False):
        """torch's first two lines of every update: ``g <- -g`` if maximizing, then ``g <- g + wd * p``.

        Returns ``grad`` itself when neither applies (the caller's array is never modified).
        """
        if not maximize and not weight_decay:
            return grad
        g = scratch.grad
        if maximize:
            # g <- -g   (ascend instead of descend)
            np.negative(grad, out=g)
        else:
            np.copyto(g, grad)
        if weight_decay:
            # g <- g + lambda * p   (L2 regularisation folded into the gradient)
            np.multiply(param, weight_decay, out=scratch.work)
            g += scratch.work
        return g

    # --- the public interface ----------------------------------------------------------------

    @property
    def hyperparameters(self) -> dict:
        """A copy of the current hyperparameters, e.g. ``{'lr': 0.1, 'momentum': 0.0, ...}``."""
        return dict(self._hyperparameters)

    def step(self, grads) -> None:
        """Apply one update to every parameter, in place, from ``grads`` (same structure as params)."""
        grads = self._check_grads(grads)
        self.step_count += 1
        for param, grad, state, scratch in zip(self.params, grads, self.state, self._scratch):
            self._update(param, grad, state, scratch)

    def state_dict(self) -> dict:
        """Everything needed to resume: plain, picklable data (copies, not views)."""
        return {
            "hyperparameters": dict(self._hyperparameters),
            "step_count": self.step_count,
            "state": copy.deepcopy(self.state),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``; checked first, so a refused load changes nothing."""
        if not isinstance(state_dict, dict) or not {"hyperparameters", "step_count", "state"} <= state_dict.keys():
            raise ValueError("state_dict must be a dict from Optimizer.state_dict()")
        saved = state_dict["state"]
        if len(saved) != len(self.params):
            raise ValueError(f"state_dict holds state for {len(saved)} parameters, optimizer has {len(self.params)}")
        for i, (mine, theirs) in enumerate(zip(self.state, saved)):
            if mine.keys() != theirs.keys():
                raise ValueError(f"state_dict['state'][{i}] has keys {sorted(theirs)}, expected {sorted(mine)}")
            for key, value in mine.items():
                if isinstance(value, np.ndarray) and np.shape(theirs[key]) != value.shape:
                    raise ValueError(f"state_dict['state'][{i}][{key!r}] has shape {np.shape(theirs[key])}, "
                                     f"expected {value.shape}")
        trial = copy.copy(self)  # validate hyperparameters without touching self
        trial._hyperparameters = dict(self._hyperparameters)
        for name, value in state_dict["hyperparameters"].items():
            if not isinstance(getattr(type(self), name, None), Hyperparameter):
                raise ValueError(f"state_dict has unknown hyperparameter {name!r} for {type(self).__name__}")
            setattr(trial, name, value)
        self._hyperparameters = trial._hyperparameters
        self.step_count = int(state_dict["step_count"])
        for mine, theirs in zip(self.state, saved):
            for key, value in theirs.items():
                if isinstance(mine[key], np.ndarray):
                    mine[key][...] = value  # keep the preallocated buffer, copy the values
                else:
                    mine[key] = copy.deepcopy(value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters.items())
        return f"{type(self).__name__}({args})"

    # --- checks --------------------------------------------------------------------------------

    def _check_grads(self, grads) -> list[np.ndarray]:
        if isinstance(grads, np.ndarray):
            grads = [grads]
        if not isinstance(grads, Sequence) or isinstance(grads, (str, bytes)):
            raise TypeError(f"grads must be a sequence of NumPy arrays, got {type(grads).__name__}")
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"grads has {len(grads)} arrays but the optimizer has {len(self.params)} params")
        for i, (g, p) in enumerate(zip(grads, self.params)):
            if not isinstance(g, np.ndarray):
                raise TypeError(f"grads[{i}] must be a NumPy array, got {type(g).__name__}")
            if g.dtype.kind != "f":
                raise TypeError(f"grads[{i}] must be a floating-point array, got dtype {g.dtype}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, but params[{i}] has shape {p.shape}")
        return grads
