"""The base class every optlib optimizer derives from.

An optimizer owns a list of parameter arrays and updates them **in place**, the way
``torch.optim`` updates tensors::

    params = [np.array([1.0, 2.0])]
    opt = SGD(params, lr=0.1)
    opt.step([np.array([0.5, -0.5])])     # params[0] is now [0.95, 2.05]

What this class does, so that each subclass only writes its update rule:

* checks ``params`` once: a non-empty sequence of writable floating-point arrays, no two of which
  overlap in memory (an overlapping pair would be updated twice);
* checks every ``step``'s gradients (count, shapes, dtypes: each the dtype of its parameter, as torch
  requires), and that every parameter is still writable, *before* touching anything, so a refused step
  leaves parameters and state as they were;
  a gradient that may share memory with any parameter (``f(a, b) = a * b`` has gradients ``[b, a]``)
  is copied first, so that no update reads a gradient another update has already changed;
* takes plain ``np.ndarray`` only, for parameters, gradients and loaded state: a subclass's operators
  can mean something else (``np.matrix``'s ``*`` is a matrix product, a masked array's arithmetic skips
  masked entries), so the update would not be the one written;
* holds hyperparameters as validated attributes (``opt.lr = 0.01`` between steps is how a
  schedule drives an optimizer);
* saves and restores the whole state (``state_dict`` / ``load_state_dict``), all or nothing, so a
  resumed run is bit-identical to an uninterrupted one.

Subclasses write two methods, in torch's single-tensor form:

* ``_init_state(param) -> dict``: the saved state of one parameter. A buffer that torch creates
  from the first gradient, or only once an option is switched on, starts as ``None`` and is created
  by ``_update`` (SGD's momentum buffer is the first gradient; AMSGrad's maximum starts at zero);
* ``_update(param, grad, state)``: one parameter's update, plain NumPy, one statement per line of
  the method's equations, the equation in a comment above it, in the order of torch's single-tensor
  function, its opening lines included (``maximize``, then weight decay). It changes ``param`` and the
  buffers in ``state`` in place (temporaries are fine) and never changes ``grad``. ``param`` may be
  0-d: NumPy returns a scalar, not an array, from ``-grad`` on a 0-d array, so a buffer made from a
  gradient is made with ``np.copy``.

Checks that tie several hyperparameters together (SGD's "Nesterov needs momentum") go in
``_check_hyperparameters``, which runs at construction and after every assignment (a refused
assignment is undone).

``step_count`` is the number of steps taken, ``t`` in the papers; it is incremented before
``_update`` runs, so the first update sees ``t = 1`` (torch keeps the same count per parameter). A loaded
count is at most ``MAX_STEP_COUNT`` = 2**63 - 1, int64's largest: every checkpoint format's integer holds
it, and far below float's limit (about 1.8e308) the formulas that use ``t`` (``beta**t``, ``t * psi``,
``(t - 1) * lr_decay``) cannot overflow.

``elementwise`` says whether the update of every entry depends only on that entry's gradient and
state (True for every optimizer here but Muon, Shampoo and SOAP, which couple the entries of a matrix). Runners that
stack independent runs into one array rely on it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from .validation import finite_number, non_negative_int

__all__ = ["Optimizer", "Hyperparameter", "MAX_STEP_COUNT", "checked_array"]

#: The largest ``step_count`` a checkpoint may hold (int64's maximum; see the module docstring).
MAX_STEP_COUNT = 2**63 - 1


class Hyperparameter:
    """A validated attribute: ``opt.lr = -1`` raises and leaves ``opt.lr`` unchanged.

    ``validate(name, value)`` is one of optlib.validation's checks (or one written the same way); a
    ``label``, torch's phrase for the value, is passed on as ``validate(name, value, label=label)`` and
    used in the error message, torch-style ("Invalid learning rate: -1.0 (lr must be >= 0)"). After a
    value passes its own check, the optimizer's ``_check_hyperparameters`` sees the whole set (e.g. SGD's
    "Nesterov needs momentum"); if that refuses, the old value is put back.
    """

    def __init__(self, validate: Callable[..., object], label: str | None = None):
        self.validate = validate
        self.label = label

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    # No __get__: reading ``opt.lr`` finds the validated value in the instance's __dict__ (as fast as a
    # plain attribute, which matters inside every step); assigning goes through __set__.

    def __set__(self, obj, value) -> None:
        label = {"label": self.label} if self.label else {}
        value = self.validate(self.name, value, **label)
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

    def __delete__(self, obj) -> None:
        raise AttributeError(f"cannot delete the hyperparameter {self.name!r} of {type(obj).__name__}; "
                             f"assign a new value instead (opt.{self.name} = ...)")


def _as_param_list(params) -> list[np.ndarray]:
    if isinstance(params, np.ndarray):
        params = [params]
    if not isinstance(params, Sequence) or isinstance(params, (str, bytes)):
        raise TypeError(f"params must be a sequence of NumPy arrays, got {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("params must not be empty: optimizer got an empty parameter list")
    for i, p in enumerate(params):
        _check_plain_array(p, f"params[{i}]")
        if p.dtype.kind != "f":
            raise TypeError(
                f"params[{i}] must be a floating-point array, got dtype {p.dtype} "
                "(an in-place update would silently truncate it); convert with .astype(float)"
            )
    _check_writeable(params)
    if len({id(p) for p in params}) != len(params):
        raise ValueError("params contains the same array more than once")
    for i, p in enumerate(params):
        for j in range(i):
            if _overlap(params[j], p):
                raise ValueError(f"params[{j}] and params[{i}] overlap in memory (one is a view of the "
                                 "other): each step would update the shared entries twice")
    return params


def _check_plain_array(value, where: str) -> None:
    """Refuse anything but a plain ``np.ndarray`` (see the module docstring), naming ``where`` it came from."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{where} must be a NumPy array, got {type(value).__name__}")
    if type(value) is not np.ndarray:
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise TypeError(f"{where} must be a plain NumPy array, got {kind}, whose arithmetic differs from "
                        "ndarray's (np.matrix's * is a matrix product; a masked array skips masked entries); "
                        "convert it with np.asarray")


def checked_array(entry: str, value, shape: tuple, dtype, *, or_none: bool = False) -> np.ndarray | None:
    """A C-ordered copy, in ``dtype``, of a loaded array of the given ``shape`` (``None`` kept if ``or_none``:
    a buffer not created yet); anything else is refused naming ``entry``."""
    if value is None and or_none:
        return None
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        what = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"{entry} must be a floating-point array{' or None' if or_none else ''}, got {what}")
    _check_plain_array(value, entry)
    if value.shape != shape:
        raise ValueError(f"{entry} has shape {value.shape}, expected {shape}")
    return np.array(value, dtype=dtype, order="C")


def _check_writeable(params) -> None:
    """Refuse a step before any write when a parameter is read-only (it may have become so after construction)."""
    for i, p in enumerate(params):
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimizer updates parameters in place")


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays share an element (cheap bounds test first; undecidable cases count as yes)."""
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10**6))
    except np.exceptions.TooHardError:
        return True


class Optimizer:
    """Base class: parameters, per-parameter state, hyperparameters, checkpoints."""

    #: True when each entry's update depends only on that entry (see the module docstring).
    elementwise: bool = True

    _checking_hyperparameters = False  # off while __init__ / load_state_dict set several at once

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

    # --- what subclasses write -------------------------------------------------------------

    def _init_state(self, param: np.ndarray) -> dict:
        """The state of one parameter before the first step: arrays shaped like ``param``, ``None``
        for a buffer that ``_update`` creates later, or a float (e.g. NAdam's running product)."""
        return {}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        """One parameter's update, in place (``param`` and the buffers in ``state``)."""
        raise NotImplementedError

    def _check_hyperparameters(self) -> None:
        """Checks that involve several hyperparameters at once (raise ValueError); none by default."""

    # --- the public interface ----------------------------------------------------------------

    def evaluation_params(self) -> list[np.ndarray]:
        """The parameters at which the loss of the current iterate is measured: ``self.params`` here.

        Every runner of optlib (:func:`optlib.trajectory.run`, :func:`~optlib.trajectory.run_stochastic`,
        :func:`optlib.models.train`) records its points and losses at these arrays, while gradients are
        taken at ``self.params``. A method whose answer is not the point where it takes gradients
        (schedule-free SGD and AdamW evaluate at their average ``x``) returns that point, computed
        without changing any state; the caller must not write into what it returns.
        """
        return self.params

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
        _check_writeable(self.params)
        self.step_count += 1
        with np.errstate(all="ignore"):
            for param, grad, state in zip(self.params, grads, self.state, strict=True):
                self._update(param, grad, state)

    def state_dict(self) -> dict:
        """Everything needed to resume: plain, picklable data (copies, not views)."""
        return {
            "hyperparameters": dict(self._hyperparameters),
            "step_count": self.step_count,
            "state": copy.deepcopy(self.state),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``, all or nothing: everything is checked and copied first, so a
        refused load (an error naming the offending entry) changes nothing."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict from Optimizer.state_dict(), "
                            f"got {type(state_dict).__name__}")
        missing = {"hyperparameters", "step_count", "state"} - state_dict.keys()
        if missing:
            raise ValueError(f"state_dict lacks {sorted(missing)}: it must come from Optimizer.state_dict()")
        hyperparameters, step_count, saved = (state_dict[k] for k in ("hyperparameters", "step_count", "state"))
        if not isinstance(hyperparameters, dict):
            raise TypeError(f"state_dict['hyperparameters'] must be a dict, got {type(hyperparameters).__name__}")
        if not isinstance(saved, (list, tuple)):
            raise TypeError(f"state_dict['state'] must be a list (one dict per parameter), "
                            f"got {type(saved).__name__}")
        if len(saved) != len(self.params):
            raise ValueError(f"state_dict['state'] holds state for {len(saved)} parameters, "
                             f"the optimizer has {len(self.params)}")
        step_count = non_negative_int("state_dict['step_count']", step_count)
        if step_count > MAX_STEP_COUNT:
            raise ValueError(f"Invalid state_dict['step_count']: {step_count} (state_dict['step_count'] must be "
                             "at most 2**63 - 1, int64's largest; a larger count would overflow in a later step)")

        trial = copy.copy(self)  # validate hyperparameters without touching self
        trial._hyperparameters = dict(self._hyperparameters)
        trial._checking_hyperparameters = False
        for name, value in hyperparameters.items():
            if not isinstance(getattr(type(self), name, None), Hyperparameter):
                raise ValueError(f"state_dict['hyperparameters'] has unknown hyperparameter {name!r} "
                                 f"for {type(self).__name__}")
            setattr(trial, name, value)
        trial._check_hyperparameters()
        state = [self._checked_state(i, param, theirs) for i, (param, theirs) in enumerate(zip(self.params, saved))]

        # Nothing was refused: commit.
        self._hyperparameters = trial._hyperparameters
        self.__dict__.update(trial._hyperparameters)
        self.step_count = step_count
        self.state = state

    def _saved_entries(self, i: int, param: np.ndarray, theirs) -> tuple[str, dict]:
        """``(where, template)``: the name of parameter ``i``'s saved state in error messages, and the state
        ``_init_state`` gives it; refuses a saved state that is not a dict with exactly the template's keys."""
        where = f"state_dict['state'][{i}]"
        template = self._init_state(param)
        if not isinstance(theirs, dict):
            raise TypeError(f"{where} must be a dict, got {type(theirs).__name__}")
        if theirs.keys() != template.keys():
            raise ValueError(f"{where} has keys {sorted(map(str, theirs))}, expected {sorted(template)}")
        return where, template

    def _checked_state(self, i: int, param: np.ndarray, theirs) -> dict:
        """A copy of one parameter's saved state, each entry of the kind ``_init_state`` gives it."""
        where, template = self._saved_entries(i, param, theirs)
        state = {}
        for key, kind in template.items():
            value, entry = theirs[key], f"{where}[{key!r}]"
            if isinstance(kind, float):
                state[key] = finite_number(entry, value)   # any real number (torch keeps what it is given)
            else:   # an array shaped like the template's (a buffer not created yet: None, or like param)
                shape = param.shape if kind is None else kind.shape
                state[key] = checked_array(entry, value, shape, param.dtype, or_none=kind is None)
        return state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters.items())
        return f"{type(self).__name__}({args})"

    # --- checks --------------------------------------------------------------------------------

    def _check_grads(self, grads) -> list[np.ndarray]:
        if isinstance(grads, np.ndarray):
            grads = [grads]
        elif not isinstance(grads, (list, tuple)):
            if not isinstance(grads, Sequence) or isinstance(grads, (str, bytes)):
                raise TypeError(f"grads must be a sequence of NumPy arrays, got {type(grads).__name__}")
            grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"grads has {len(grads)} arrays but the optimizer has {len(self.params)} params")
        checked = []
        for i, (g, p) in enumerate(zip(grads, self.params, strict=True)):
            _check_plain_array(g, f"grads[{i}]")
            if g.dtype != p.dtype:
                if g.dtype.kind != "f":
                    raise TypeError(f"grads[{i}] must be a floating-point array, got dtype {g.dtype}")
                raise TypeError(f"grads[{i}] has dtype {g.dtype}, but params[{i}] has dtype {p.dtype} "
                                "(as in torch, a gradient has its parameter's dtype)")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, but params[{i}] has shape {p.shape}")
            # A gradient may be a parameter, a view of one, or share memory with one (the gradients
            # of a * b are [b, a]): updates write to the parameters, so read such a gradient from a copy.
            for q in self.params:
                if np.may_share_memory(g, q):
                    g = g.copy()
                    break
            checked.append(g)
        return checked
