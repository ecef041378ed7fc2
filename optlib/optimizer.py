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
  requires) *before* touching anything, so a refused step leaves parameters and state as they were;
  a gradient that may share memory with any parameter (``f(a, b) = a * b`` has gradients ``[b, a]``)
  is copied first, so that no update reads a gradient another update has already changed;
* holds hyperparameters as validated attributes (``opt.lr = 0.01`` between steps is how a
  schedule drives an optimizer);
* saves and restores the whole state (``state_dict`` / ``load_state_dict``), all or nothing, so a
  resumed run is bit-identical to an uninterrupted one.

Subclasses write two methods, in torch's single-tensor form:

* ``_init_state(param) -> dict``: the saved state of one parameter. A buffer that torch creates
  from the first gradient, or only once an option is switched on, starts as ``None`` and is created
  by ``_update`` (SGD's momentum buffer is the first gradient; AMSGrad's maximum starts at zero);
* ``_update(param, grad, state)``: one parameter's update, plain NumPy, one statement per line of
  the method's equations, the equation in a comment above it. It changes ``param`` and the buffers
  in ``state`` in place (temporaries are fine) and never changes ``grad``.

Checks that tie several hyperparameters together (SGD's "Nesterov needs momentum") go in
``_check_hyperparameters``, which runs at construction and after every assignment (a refused
assignment is undone).

``step_count`` is the number of steps taken, ``t`` in the papers; it is incremented before
``_update`` runs, so the first update sees ``t = 1`` (torch keeps the same count per parameter).

``elementwise`` says whether the update of every entry depends only on that entry's gradient and
state (True for every optimizer here but Muon, which orthogonalises whole matrices). Runners that
stack independent runs into one array rely on it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from numbers import Real

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
    for i, p in enumerate(params):
        for j in range(i):
            if _overlap(params[j], p):
                raise ValueError(f"params[{j}] and params[{i}] overlap in memory (one is a view of the "
                                 "other): each step would update the shared entries twice")
    return params


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

    @staticmethod
    def _effective_gradient(param, grad, weight_decay: float = 0.0, maximize: bool = False):
        """torch's first two lines of every update: ``g <- -g`` if maximizing, then ``g <- g + wd * p``.

        Returns a new array, or ``grad`` itself when neither applies (``grad`` is never modified).
        """
        # g_t <- -g_t   (ascend instead of descend)
        g = -grad if maximize else grad
        if weight_decay != 0:
            # g_t <- g_t + lambda theta_{t-1}   (L2 regularisation folded into the gradient)
            g = g + weight_decay * param
        return g

    def _decoupled_decay(self, param) -> None:
        """Decoupled weight decay (AdamW, Lion, Muon): ``theta <- (1 - lr * weight_decay) theta``, in place."""
        if self.weight_decay != 0:
            # theta_{t-1} <- (1 - lr lambda) theta_{t-1}
            param *= 1.0 - self.lr * self.weight_decay

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
        if isinstance(step_count, bool) or not isinstance(step_count, (int, np.integer)) or step_count < 0:
            raise ValueError(f"state_dict['step_count'] must be an integer >= 0, got {step_count!r}")

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
        self.step_count = int(step_count)
        self.state = state

    def _checked_state(self, i: int, param: np.ndarray, theirs) -> dict:
        """A copy of one parameter's saved state, each entry of the kind ``_init_state`` gives it."""
        where = f"state_dict['state'][{i}]"
        template = self._init_state(param)
        if not isinstance(theirs, dict):
            raise TypeError(f"{where} must be a dict, got {type(theirs).__name__}")
        if theirs.keys() != template.keys():
            raise ValueError(f"{where} has keys {sorted(map(str, theirs))}, expected {sorted(template)}")
        state = {}
        for key, kind in template.items():
            value, entry = theirs[key], f"{where}[{key!r}]"
            if isinstance(kind, float):
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
                    raise TypeError(f"{entry} must be a real number, got {type(value).__name__}: {value!r}")
                if not np.isfinite(value):
                    raise ValueError(f"{entry} must be finite, got {value!r}")
                state[key] = float(value)
            elif value is None and kind is None:
                state[key] = None                     # a buffer not created yet
            else:
                if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                    what = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
                    lazily = " or None" if kind is None else ""
                    raise TypeError(f"{entry} must be a floating-point array{lazily}, got {what}")
                if value.shape != param.shape:
                    raise ValueError(f"{entry} has shape {value.shape}, expected {param.shape}")
                state[key] = np.array(value, dtype=param.dtype, order="C")
        return state

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
        checked = []
        for i, (g, p) in enumerate(zip(grads, self.params, strict=True)):
            if not isinstance(g, np.ndarray):
                raise TypeError(f"grads[{i}] must be a NumPy array, got {type(g).__name__}")
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
