"""optlib's updates do torch's operations in torch's order (tests/reference/operation_order.json).

The stored trajectories (test_reference.py) cannot see the order of operations that commute, such as
negating the gradient and shrinking the parameter; a reader of a listing sees it. make_reference.py
traced one step of torch's single-tensor function (pytorch-optimizer's for Lion) for every optimizer and
every setting that changes which operations run; here optlib's ``_update`` is traced the same way, with
an ndarray subclass that reports every NumPy operation, and labelled by the same two functions.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import optlib

HERE = Path(__file__).parent / "reference"
_spec = importlib.util.spec_from_file_location("make_reference", HERE / "make_reference.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

RECORDED = json.loads(ref.ORDER_OUT.read_text())["orders"]


class Traced(np.ndarray):
    """An array with a role ("param", "grad", a state key or None) that reports the operations on it."""

    log: list
    role = None

    def __array_finalize__(self, obj):
        self.role = None                                   # views and results start without a role

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        roles = [getattr(x, "role", None) for x in inputs]
        written = getattr(out[0], "role", None) if out else None
        label = ref.operation_label(ufunc.__name__, written, roles)
        Traced.log.append(label)
        plain = [np.asarray(x) for x in inputs]
        if out:
            kwargs["out"] = tuple(np.asarray(x) for x in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if out:
            return out[0] if len(out) == 1 else out
        result = np.asarray(result).view(Traced)           # a 0-d result stays an array here
        result.role = ref.result_role(ufunc.__name__, label, roles)
        return result

    def __setitem__(self, index, value):
        Traced.log.append(ref.operation_label("setitem", self.role, [getattr(value, "role", None)]))
        np.asarray(self)[index] = np.asarray(value)


class TracedState(dict):
    """A parameter's state that reports assignments to its entries (NAdam's running product is a float)."""

    def __setitem__(self, key, value):
        Traced.log.append(ref.operation_label("setitem", key, []))
        super().__setitem__(key, value)


def _with_role(array, role):
    traced = array.view(Traced)
    traced.role = role
    return traced


def trace_optlib(cls_name, kwargs, cls=None):
    """The order of one case's second step in optlib's ``_update`` (the first step runs untraced)."""
    cls = cls or getattr(optlib, cls_name)
    param = np.array(ref.ORDER_PARAM)
    opt = cls([param], **kwargs)
    opt.step([np.array(ref.ORDER_GRADS[0])])
    opt.step_count += 1
    state = TracedState({key: _with_role(value, key) if isinstance(value, np.ndarray) else value
                         for key, value in opt.state[0].items()})
    Traced.log = []
    with np.errstate(all="ignore"):
        opt._update(_with_role(param, "param"), _with_role(np.array(ref.ORDER_GRADS[1]), "grad"), state)
    return ref.merged(Traced.log)


def test_every_optimizer_and_setting_is_recorded():
    assert set(RECORDED) == set(ref.ORDER_CASES)
    assert {cls_name for cls_name, _ in ref.ORDER_CASES.values()} == {
        cls.__name__ for cls in vars(optlib).values() if isinstance(cls, type) and issubclass(cls, optlib.Optimizer)
        and cls is not optlib.Optimizer}
    every = {label for order in RECORDED.values() for label in order}
    assert {"maximize", "weight_decay", "decay", "param"} <= every


@pytest.mark.parametrize("name", sorted(ref.ORDER_CASES))
def test_optlib_does_torchs_operations_in_torchs_order(name):
    cls_name, kwargs = ref.ORDER_CASES[name]
    traced = trace_optlib(cls_name, kwargs)
    if cls_name in OPENING_ONLY:
        traced, recorded = opening(traced), opening(RECORDED[name])
    else:
        recorded = RECORDED[name]
    assert traced == recorded


#: Optimizers whose reference keeps its state in another layout (hyperparameter groups, factors inverted
#: side by side): only the order of their opening lines (maximize, weight decay, decay) is compared here;
#: their whole update is matched to the reference's trajectories (test_kronecker_reference.py,
#: test_schedulefree_reference.py).
OPENING_ONLY = {"Shampoo", "SOAP", "ScheduleFreeSGD", "ScheduleFreeAdamW"}


def opening(labels):
    """The opening lines of a trace: maximize, L2 weight decay and decoupled decay, in their order."""
    return [label for label in labels if label in ("maximize", "weight_decay", "decay")]



class DecayBeforeNegation(optlib.Adam):
    """Adam as AdamFamily._moments wrote it before issue 20: the parameter decayed, then the gradient
    negated (torch negates first). The same numbers, in another order: the trace must tell."""

    def _update(self, param, grad, state):
        param *= 1.0 - self.lr * self.weight_decay
        g = -grad
        m, v = state["exp_avg"], state["exp_avg_sq"]
        optlib.averages.leaky_average(m, g, self.betas[0])
        optlib.averages.leaky_average_of_squares(v, g, self.betas[1])
        param -= self.lr * m / (np.sqrt(v) + self.eps)


def test_the_trace_sees_an_order_that_differs_only_in_commuting_operations():
    name = "Adam(amsgrad=False, decoupled_weight_decay=True, maximize=True, weight_decay=0.1)"
    cls_name, kwargs = ref.ORDER_CASES[name]
    assert RECORDED[name] == ["maximize", "decay", "exp_avg", "exp_avg_sq", "param"]
    assert trace_optlib(cls_name, kwargs, DecayBeforeNegation) == ["decay", "maximize", "exp_avg", "exp_avg_sq",
                                                                   "param"]
