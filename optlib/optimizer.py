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
``_update(param, grad, state, scratch)`` (one parameter's update, in place, written with ``out=``
ufuncs). ``scratch`` holds two work arrays (``scratch.grad``, ``scratch.work``), allocated once, so
a step allocates nothing proportional to the parameter count; scratch is never saved.

* ``_update`` only changes arrays in place. Anything that creates or replaces a state entry (a
  buffer switched on late, NAdam's running product) goes in ``_begin_step(param, state)``, which
  runs once per parameter and step, just before.
* A large contiguous parameter is updated in blocks of 512 KiB per array: ``_update`` is called on
  consecutive slices of the parameter, its gradient and its state, so the update's several passes
  run in cache instead of streaming the whole arrays from memory each time (see ``step``). The
  results are identical element for element; scratch is then one block long.
* Checks that tie several hyperparameters together (SGD's "Nesterov needs momentum") go in
  ``_check_hyperparameters``, which runs at construction and after every assignment (a refused
  assignment is undone).

``step_count`` is the number of steps taken, ``t`` in the papers; it is incremented before
``_update`` runs, so the first update sees ``t = 1`` (torch keeps the same count per parameter).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np


__all__ = ["Optimizer", "Hyperparameter"]


class Hyperparameter:
    """A validated attribute: ``opt.lr = -1`` raises and leaves ``opt.lr`` unchanged.

    ``label`` is the phrase used in error messages, torch-style ("Invalid learning rate: -1.0 (lr must
    be >= 0)"). After a value passes its own check, the optimizer's ``_check_hyperparameters`` sees the
    whole set (e.g. SGD's "Nesterov needs momentum"); if that refuses, the old value is put back.
    """

    def __init__(self, validate: Callable[..., object], label: str | None = None):
        self.validate = validate
        self.label = label

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.label = self.label or name

    # No __get__: reading ``opt.lr`` finds the validated value in the instance's __dict__ (as fast as a
    # plain attribute, which matters inside every step); assigning goes through __set__.

    def __set__(self, obj, value) -> None:
        value = self.validate(self.label, value, self.name)
        hyper = obj._hyperparameters
        missing = object()
        old = hyper.get(self.name, missing)
        hyper[self.name] = obj.__dict__[self.name] = value
        if obj._checking_hyperparameters:
            try:
                obj._check_hyperparameters()
            except (TypeError, ValueError):
                if old is missing:
                    del hyper[self.name], obj.__dict__[self.name]
                else:
                    hyper[self.name] = obj.__dict__[self.name] = old
                raise


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

    _checking_hyperparameters = False  # off while __init__ / load_state_dict set several at once
    _scratch_names = ("grad", "work")    # work arrays per parameter; a subclass may ask for more
    _block_bytes = 1 << 19               # bytes per array in a block of a large parameter (see step)

    def __init__(self, params, **hyperparameters):
        self._hyperparameters: dict = {}
        self.params = _as_param_list(params)
        # Validate every hyperparameter through its descriptor before anything is stored.
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self._check_hyperparameters()
        self._checking_hyperparameters = True
        self.step_count = 0
        self.state = [self._init_state(p) for p in self.params]
        # A large contiguous parameter is updated block by block (see step), so its scratch arrays
        # need only one block's length.
        self._blocked = [p.nbytes > self._block_bytes and p.flags.c_contiguous for p in self.params]
        self._scratch = [
            SimpleNamespace(**{name: np.empty(self._block_bytes // p.itemsize, p.dtype) if blocked
                               else np.empty_like(p) for name in self._scratch_names})
            for p, blocked in zip(self.params, self._blocked, strict=True)
        ]
        self._work = list(zip(self.params, self.state, self._scratch, self._blocked, strict=True))

    # --- what subclasses write -------------------------------------------------------------

    def _init_state(self, param: np.ndarray) -> dict:
        """Buffers for one parameter, allocated once (same shape and dtype as ``param``)."""
        return {}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, scratch: SimpleNamespace) -> None:
        """One parameter's update, in place. Changes arrays only: never assigns to ``state``."""
        raise NotImplementedError

    def _begin_step(self, param: np.ndarray, state: dict) -> dict | None:
        """Once per parameter and step, before ``_update``: create or replace state entries (a
        buffer switched on late, a scalar such as NAdam's running product). May return per-step
        values that ``_update`` then finds in its ``state`` (e.g. SGD's "the buffer starts now")."""
        return None

    def _check_hyperparameters(self) -> None:
        """Checks that involve several hyperparameters at once (raise ValueError); none by default."""

    @staticmethod
    def _effective_gradient(param, grad, scratch, weight_decay: float = 0.0, maximize: bool = False):
        """torch's first two lines of every update: ``g <- -g`` if maximizing, then ``g <- g + wd * p``.

        Returns ``grad`` itself when neither applies (the caller's array is never modified); otherwise
        the result is in ``scratch.grad``, and ``scratch.work`` is free again afterwards.
        """
        if not maximize and not weight_decay:
            return grad
        g = scratch.grad
        if weight_decay:
            # g <- lambda * p + (-g if maximize else g)   (L2 regularisation folded into the gradient)
            np.multiply(param, weight_decay, out=g)
            if maximize:
                g -= grad
            else:
                g += grad
        else:
            # g <- -g   (ascend instead of descend)
            np.negative(grad, out=g)
        return g

    def _decayed_gradient(self, param, grad, scratch):
        """The Adam family's first lines, with either kind of weight decay (``self.weight_decay``):

        * L2 (``decoupled_weight_decay=False``): ``g <- g + wd * p``, as :meth:`_effective_gradient`;
        * decoupled (``True``, AdamW's): ``p <- (1 - lr * wd) p`` and the gradient is left alone.

        ``g <- -g`` first if maximizing. Returns the gradient to use, as :meth:`_effective_gradient`.
        """
        if self.decoupled_weight_decay:
            self._decoupled_decay(param)
            return self._effective_gradient(param, grad, scratch, 0.0, self.maximize)
        return self._effective_gradient(param, grad, scratch, self.weight_decay, self.maximize)

    def _decoupled_decay(self, param) -> None:
        """Decoupled weight decay (AdamW, Lion, Muon): ``theta <- (1 - lr * weight_decay) theta``, in place."""
        if self.weight_decay:
            # theta <- (1 - lr lambda) theta
            param *= 1.0 - self.lr * self.weight_decay

    # --- the public interface ----------------------------------------------------------------

    @property
    def hyperparameters(self) -> dict:
        """A copy of the current hyperparameters, e.g. ``{'lr': 0.1, 'momentum': 0.0, ...}``."""
        return dict(self._hyperparameters)

    def step(self, grads) -> None:
        """Apply one update to every parameter, in place, from ``grads`` (same structure as params).

        Non-finite values propagate silently (as in torch): a diverging run shows up as inf/NaN in the
        parameters, not as a stream of RuntimeWarnings.
        """
        grads = self._check_grads(grads)
        self.step_count += 1
        with np.errstate(all="ignore"):
            for (param, state, scratch, blocked), grad in zip(self._work, grads, strict=True):
                extra = self._begin_step(param, state)
                if extra is not None:
                    state = {**state, **extra}
                if blocked:
                    self._update_in_blocks(param, grad, state, scratch)
                else:
                    self._update(param, grad, state, scratch)

    def _update_in_blocks(self, param, grad, state, scratch):
        """``_update`` on consecutive blocks of a large parameter (and of its gradient and state).

        Every update is a sequence of element-wise passes; on the whole array each pass streams all
        arrays through main memory, on a block of ``_block_bytes`` per array they stay in cache, so a
        step reads and writes each array about once from memory (512 KiB per array and block: the
        handful of arrays an update touches stay in L2/L3 cache, and the Python overhead per block
        is negligible; measured best of 32 KiB to 4 MiB). The result is identical, element for element.
        """
        n, size = param.size, self._block_bytes // param.itemsize
        flat_param, flat_grad = param.reshape(-1), np.ascontiguousarray(grad).reshape(-1)
        flat_state = {k: v.reshape(-1) for k, v in state.items() if isinstance(v, np.ndarray)}
        block_state = dict(state)
        for start in range(0, n, size):
            stop = min(start + size, n)
            for key, flat in flat_state.items():
                block_state[key] = flat[start:stop]
            if stop - start == size:
                block_scratch = scratch
            else:
                block_scratch = SimpleNamespace(**{k: v[:stop - start] for k, v in vars(scratch).items()})
            self._update(flat_param[start:stop], flat_grad[start:stop], block_state, block_scratch)

    def state_dict(self) -> dict:
        """Everything needed to resume: plain, picklable data (copies, not views)."""
        return {
            "hyperparameters": dict(self._hyperparameters),
            "step_count": self.step_count,
            "state": copy.deepcopy(self.state),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``; checked first, so a refused load changes nothing."""
        expected_keys = {"hyperparameters", "step_count", "state"}
        if not isinstance(state_dict, dict) or not expected_keys <= state_dict.keys():
            raise ValueError("state_dict must be a dict from Optimizer.state_dict()")
        saved = state_dict["state"]
        if len(saved) != len(self.params):
            raise ValueError(f"state_dict holds state for {len(saved)} parameters, "
                             f"the optimizer has {len(self.params)}")
        for i, (mine, theirs, param) in enumerate(zip(self.state, saved, self.params, strict=True)):
            if not isinstance(theirs, dict) or mine.keys() != theirs.keys():
                raise ValueError(f"state_dict['state'][{i}] has keys {sorted(theirs)}, "
                                 f"expected {sorted(mine)}")
            for key, value in theirs.items():
                if isinstance(value, np.ndarray) and value.shape != param.shape:
                    raise ValueError(f"state_dict['state'][{i}][{key!r}] has shape {value.shape}, "
                                     f"expected {param.shape}")
        step_count = state_dict["step_count"]
        if isinstance(step_count, bool) or not isinstance(step_count, (int, np.integer)) or step_count < 0:
            raise ValueError(f"state_dict['step_count'] must be an integer >= 0, got {step_count!r}")
        trial = copy.copy(self)  # validate hyperparameters without touching self
        trial._hyperparameters = dict(self._hyperparameters)
        trial._checking_hyperparameters = False
        for name, value in state_dict["hyperparameters"].items():
            if not isinstance(getattr(type(self), name, None), Hyperparameter):
                raise ValueError(f"state_dict has unknown hyperparameter {name!r} for {type(self).__name__}")
            setattr(trial, name, value)
        trial._check_hyperparameters()
        self._hyperparameters = trial._hyperparameters
        self.__dict__.update(trial._hyperparameters)
        self.step_count = int(step_count)
        for mine, theirs, param in zip(self.state, saved, self.params, strict=True):
            for key, value in theirs.items():
                if isinstance(mine[key], np.ndarray) and isinstance(value, np.ndarray):
                    mine[key][...] = value  # keep the preallocated buffer, copy the values
                elif isinstance(value, np.ndarray):  # a buffer not (yet) allocated here
                    mine[key] = np.array(value, dtype=param.dtype, order="C")
                else:
                    mine[key] = copy.deepcopy(value)  # a scalar, or None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters.items())
        return f"{type(self).__name__}({args})"

    # --- checks --------------------------------------------------------------------------------

    def _check_grads(self, grads) -> list[np.ndarray]:
        if type(grads) is np.ndarray:
            grads = [grads]
        elif not isinstance(grads, (list, tuple)):
            if not isinstance(grads, Sequence) or isinstance(grads, (str, bytes)):
                raise TypeError(f"grads must be a sequence of NumPy arrays, got {type(grads).__name__}")
            grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"grads has {len(grads)} arrays but the optimizer has {len(self.params)} params")
        checked = None
        for i, (g, p) in enumerate(zip(grads, self.params, strict=True)):
            if not isinstance(g, np.ndarray):
                raise TypeError(f"grads[{i}] must be a NumPy array, got {type(g).__name__}")
            if g.dtype.kind != "f":
                raise TypeError(f"grads[{i}] must be a floating-point array, got dtype {g.dtype}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, but params[{i}] has shape {p.shape}")
            if g is p or (g.base is not None and (g.base is p or g.base is p.base)):
                # A gradient may be the parameter array itself, or a view of it (the gradient of
                # |p|^2 / 2 is p): updates write to p, so read such a gradient from a copy.
                checked = checked or list(grads)
                checked[i] = g.copy()
        return checked or grads
