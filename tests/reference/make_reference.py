"""Record torch.optim trajectories for optlib's reference tests (needs torch; the tests do not).

Run it where torch is installed (it is *not* a dependency of optlib)::

    python tests/reference/make_reference.py          # writes tests/reference/trajectories.npz
    python tests/reference/make_reference.py Muon_default Muon_lr_wd   # (re)records only these cases,
                                                      # keeping the others from the existing file
    python tests/reference/make_reference.py explorers   # writes tests/reference/explorers.npz: every explorer's
                                                      # drawn paths replayed in torch (optlib/explorers/reference.py)
    python tests/reference/make_reference.py order    # writes tests/reference/operation_order.json

Every case runs one torch.optim class, with its single-tensor algorithm (``foreach=False``, the one
the documentation's pseudo-code describes), in float64 for ``N_STEPS`` steps on the same problem:

    f(x) = 1/2 x^T A x + b^T x + c * sum(log cosh x),   grad f(x) = A x + b + c * tanh(x)

where ``x`` is the concatenation of three parameter arrays of different shapes, ``A`` is a random
symmetric positive definite matrix and ``c`` weights a nonlinearity, so the gradient depends on the
parameters in a non-linear way. The gradient is computed here with NumPy, the same function the test
uses, so torch and optlib see the same gradients as long as their parameters agree.

Cases may also add seeded noise to every gradient (``noise``: its scale), change the learning rate
mid-run (``lr_change``: the way a schedule drives an optimizer), change the momentum mid-run
(``momentum_change``), or inject non-finite gradient entries at one step (``nonfinite``: torch's inf/NaN
propagation). Muon updates matrices only, so its cases
run the same problem on two matrices (``shapes``: ``MATRIX_SHAPES``).

Muon's Newton-Schulz iteration runs in bfloat16 in torch (about 3 significant digits), far from the
float64 agreement the tests ask for. This script therefore records torch.optim.Muon with *the same
iteration computed in float64* (``_newton_schulz_float64`` below, torch's code with ``.double()`` in
place of ``.bfloat16()``, patched into ``torch.optim._muon``); everything else is torch's own code.

The file stores, per case, the parameters (concatenated) after the steps in ``SNAPSHOTS`` and the
torch version; the problem itself is regenerated from ``SEED``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SEED = 20261125
SHAPES = [(4,), (2, 3), (2, 1, 2)]
MATRIX_SHAPES = [(3, 4), (5, 2)]   # Muon's: one wide and one tall matrix
N_STEPS = 120
SNAPSHOTS = [1, 2, 3, 4, 5, 6, 7, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]
LR_CHANGE_STEP = 60       # lr is multiplied by LR_CHANGE_FACTOR before this step
LR_CHANGE_FACTOR = 0.3
MOMENTUM_CHANGE_FACTOR = 0.5   # momentum_change: the momentum is multiplied by this at LR_CHANGE_STEP
NONFINITE_STEP = 5        # the gradient of this step gets +inf at index 1 and NaN at index 7
OUT = Path(__file__).with_name("trajectories.npz")


def problem(shapes=SHAPES):
    """The fixed problem: (A, b, c, x0 as a list of arrays shaped ``shapes``)."""
    rng = np.random.default_rng(SEED)
    n = sum(int(np.prod(s)) for s in shapes)
    m = rng.standard_normal((n, n))
    a = m @ m.T / n + 0.1 * np.eye(n)
    b = rng.standard_normal(n)
    c = 0.5
    x0 = rng.standard_normal(n)
    return a, b, c, split(x0, shapes)


def split(x, shapes):
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(x[start:start + size].reshape(shape).copy())
        start += size
    return out


def gradients(a, b, c, params, step):
    """grad f at the current parameters (a list shaped like params); ``step`` counts from 1."""
    x = np.concatenate([p.ravel() for p in params])
    g = a @ x + b + c * np.tanh(x)
    return split(g, [p.shape for p in params])


def inject_nonfinite(grads):
    flat = [g.ravel() for g in grads]     # views
    flat[0][1] = np.inf
    flat[1][3] = np.nan                   # index 7 of the concatenation
    return grads


# name -> (class name, keyword arguments, options); lr values keep every run bounded.
CASES = {
    "SGD_plain": ("SGD", {"lr": 0.05}, {}),
    "SGD_momentum": ("SGD", {"lr": 0.02, "momentum": 0.9}, {}),
    "SGD_dampening": ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.5}, {}),
    "SGD_nesterov_wd": ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, {}),
    "SGD_maximize": ("SGD", {"lr": 0.005, "momentum": 0.5, "maximize": True}, {}),
    "SGD_lr_change": ("SGD", {"lr": 0.02, "momentum": 0.9}, {"lr_change": True}),
    "SGD_nonfinite": ("SGD", {"lr": 0.02, "momentum": 0.9}, {"nonfinite": True}),
    "Adagrad_default": ("Adagrad", {}, {}),
    "Adagrad_lr_decay": ("Adagrad", {"lr": 0.3, "lr_decay": 0.05}, {}),
    "Adagrad_initial_acc_wd": ("Adagrad", {"lr": 0.2, "initial_accumulator_value": 0.5,
                                           "weight_decay": 0.2, "eps": 1e-3}, {}),
    "Adagrad_maximize": ("Adagrad", {"lr": 0.05, "maximize": True}, {}),
    "Adagrad_nonfinite": ("Adagrad", {"lr": 0.1}, {"nonfinite": True}),
    "RMSprop_default": ("RMSprop", {}, {}),
    "RMSprop_centered": ("RMSprop", {"lr": 0.01, "centered": True}, {}),
    "RMSprop_momentum": ("RMSprop", {"lr": 0.005, "momentum": 0.9, "alpha": 0.9}, {}),
    "RMSprop_centered_momentum_wd": ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True,
                                                 "weight_decay": 0.3, "eps": 1e-4}, {}),
    "RMSprop_maximize": ("RMSprop", {"lr": 0.01, "alpha": 0.5, "maximize": True}, {}),
    "RMSprop_lr_change": ("RMSprop", {"lr": 0.01, "momentum": 0.5}, {"lr_change": True}),
    "RMSprop_nonfinite": ("RMSprop", {"lr": 0.01, "centered": True}, {"nonfinite": True}),
    "Adam_default": ("Adam", {}, {}),
    "Adam_lr": ("Adam", {"lr": 0.05}, {}),
    "Adam_amsgrad": ("Adam", {"lr": 0.05, "amsgrad": True, "betas": (0.8, 0.99)}, {}),
    "Adam_wd_betas": ("Adam", {"lr": 0.01, "weight_decay": 0.2, "betas": (0.5, 0.9), "eps": 1e-3}, {}),
    "Adam_decoupled": ("Adam", {"lr": 0.03, "weight_decay": 0.5, "decoupled_weight_decay": True}, {}),
    "Adam_maximize_amsgrad": ("Adam", {"lr": 0.01, "maximize": True, "amsgrad": True}, {}),
    "Adam_lr_change": ("Adam", {"lr": 0.05}, {"lr_change": True}),
    "Adam_nonfinite": ("Adam", {"lr": 0.05}, {"nonfinite": True}),
    "AdamW_default": ("AdamW", {"lr": 0.05}, {}),
    "AdamW_wd": ("AdamW", {"lr": 0.03, "weight_decay": 0.5, "betas": (0.7, 0.95)}, {}),
    "AdamW_amsgrad": ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}, {}),
    "AdamW_maximize": ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}, {}),
    "AdamW_nonfinite": ("AdamW", {"lr": 0.05, "weight_decay": 0.1}, {"nonfinite": True}),
    "NAdam_default": ("NAdam", {}, {}),
    "NAdam_lr_momentum_decay": ("NAdam", {"lr": 0.05, "momentum_decay": 0.1, "betas": (0.8, 0.99)}, {}),
    "NAdam_wd": ("NAdam", {"lr": 0.03, "weight_decay": 0.2, "eps": 1e-4}, {}),
    "NAdam_decoupled": ("NAdam", {"lr": 0.03, "weight_decay": 0.5, "decoupled_weight_decay": True}, {}),
    "NAdam_maximize": ("NAdam", {"lr": 0.01, "maximize": True}, {}),
    "NAdam_nonfinite": ("NAdam", {"lr": 0.05}, {"nonfinite": True}),
    "Adadelta_default": ("Adadelta", {}, {}),
    "Adadelta_rho_lr_wd": ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.2}, {}),
    "Adadelta_eps": ("Adadelta", {"rho": 0.95, "eps": 1e-3}, {}),
    "Adadelta_maximize": ("Adadelta", {"lr": 0.5, "maximize": True}, {}),
    "Adadelta_nonfinite": ("Adadelta", {"eps": 1e-3}, {"nonfinite": True}),
    "Adamax_default": ("Adamax", {}, {}),
    "Adamax_lr_betas": ("Adamax", {"lr": 0.02, "betas": (0.8, 0.99)}, {}),
    "Adamax_wd_eps": ("Adamax", {"lr": 0.03, "weight_decay": 0.2, "eps": 0.1}, {}),
    "Adamax_maximize": ("Adamax", {"lr": 0.01, "maximize": True}, {}),
    "Adamax_nonfinite": ("Adamax", {"lr": 0.05}, {"nonfinite": True}),
    "RAdam_default": ("RAdam", {}, {}),
    "RAdam_lr_beta2": ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}, {}),
    "RAdam_wd": ("RAdam", {"lr": 0.03, "weight_decay": 0.2, "betas": (0.8, 0.95)}, {}),
    "RAdam_decoupled": ("RAdam", {"lr": 0.03, "weight_decay": 0.5, "decoupled_weight_decay": True,
                                  "betas": (0.9, 0.95)}, {}),
    "RAdam_maximize": ("RAdam", {"lr": 0.01, "maximize": True, "betas": (0.9, 0.95)}, {}),
    "RAdam_nonfinite": ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}, {"nonfinite": True}),
    "Muon_default": ("Muon", {}, {"shapes": MATRIX_SHAPES}),
    "Muon_lr_wd": ("Muon", {"lr": 0.02, "weight_decay": 0.05}, {"shapes": MATRIX_SHAPES}),
    "Muon_plain_momentum": ("Muon", {"lr": 0.02, "nesterov": False, "momentum": 0.9},
                            {"shapes": MATRIX_SHAPES}),
    "Muon_match_rms_adamw": ("Muon", {"lr": 0.01, "adjust_lr_fn": "match_rms_adamw", "ns_steps": 3},
                             {"shapes": MATRIX_SHAPES}),
    "Muon_momentum_change": ("Muon", {"lr": 0.01, "momentum": 0.9},
                             {"shapes": MATRIX_SHAPES, "momentum_change": True}),
    "Muon_lr_change": ("Muon", {"lr": 0.02, "weight_decay": 0.0}, {"shapes": MATRIX_SHAPES, "lr_change": True}),
    "Muon_nonfinite": ("Muon", {"lr": 0.02}, {"shapes": MATRIX_SHAPES, "nonfinite": True}),
}


def run(make_optimizer, options):
    """Run N_STEPS steps on the problem; returns the concatenated parameters at SNAPSHOTS.

    ``make_optimizer(x0)`` returns ``(get_params, get, set, step)``: the current parameters as NumPy
    arrays, a hyperparameter's value by name, a way to change it, and one step from a list of
    gradients. The recording script and the tests share this loop, so both feed the same gradients.
    """
    a, b, c, x0 = problem(options.get("shapes", SHAPES))
    get_params, get, set, step = make_optimizer(x0)
    snapshots = []
    noise = np.random.default_rng(SEED + 1)   # used only by cases with the "noise" option
    with np.errstate(all="ignore"):
        for t in range(1, N_STEPS + 1):
            if options.get("lr_change") and t == LR_CHANGE_STEP:
                set("lr", get("lr") * LR_CHANGE_FACTOR)
            if options.get("momentum_change") and t == LR_CHANGE_STEP:
                set("momentum", get("momentum") * MOMENTUM_CHANGE_FACTOR)
            grads = gradients(a, b, c, get_params(), t)
            if options.get("noise"):       # a different gradient at every step, as from mini-batches
                grads = [g + options["noise"] * noise.standard_normal(g.shape) for g in grads]
            if options.get("nonfinite") and t == NONFINITE_STEP:
                grads = inject_nonfinite(grads)
            step(grads)
            if t in SNAPSHOTS:
                snapshots.append(np.concatenate([p.ravel() for p in get_params()]))
    return np.array(snapshots)


def run_torch(name):
    """One case with torch.optim's single-tensor algorithm in float64."""
    import torch

    cls_name, kwargs, options = CASES[name]

    def make(x0):
        params = [torch.tensor(p, dtype=torch.float64) for p in x0]
        single_tensor = {} if cls_name == "Muon" else {"foreach": False}   # Muon has only that one
        opt = getattr(torch.optim, cls_name)(params, **single_tensor, **kwargs)

        def set_hyperparameter(name, value):
            for group in opt.param_groups:
                group[name] = value

        def step(grads):
            for p, g in zip(params, grads, strict=True):
                p.grad = torch.from_numpy(np.array(g, dtype=np.float64))
            opt.step()

        return (lambda: [p.detach().numpy().copy() for p in params],
                lambda name: opt.param_groups[0][name], set_hyperparameter, step)

    return run(make, options)


def _newton_schulz_float64(grad, ns_coefficients, ns_steps, eps):
    """torch.optim._muon._zeropower_via_newtonschulz (torch 2.13) with float64 in place of bfloat16."""
    import torch

    a, b, c = ns_coefficients
    ortho_grad = grad.double()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad = ortho_grad / ortho_grad.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


# --- explorers: each explorer's drawn paths, at its default setting, replayed in torch.optim --------------
# optlib/explorers/reference.py says what is recorded and how the book's build checks it. The book's own
# Python (BOOK_PYTHON, its venv: torch's has no matplotlib) tapes each explorer in a fresh process; here each
# tape is replayed in torch.optim, fed the same gradients, and torch's iterates go to EXPLORERS_OUT.
EXPLORERS_OUT = Path(__file__).with_name("explorers.npz")
BOOK_PYTHON = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"


def replay_in_torch(case, start, grads):
    """torch.optim's iterates for a taped run: its class and hyperparameters, fed the taped gradients."""
    import torch

    torch_class = next(c for c in case["classes"] if hasattr(torch.optim, c))
    hyperparameters = [{k: tuple(v) if isinstance(v, list) else v for k, v in h.items()}
                       for h in case["hyperparameters"]]
    param = torch.tensor(start, dtype=torch.float64)
    single_tensor = {} if torch_class == "Muon" else {"foreach": False}
    opt = getattr(torch.optim, torch_class)([param], **single_tensor, **hyperparameters[0])
    iterates = [param.detach().numpy().copy()]
    for hyper, grad in zip(hyperparameters, grads, strict=True):
        opt.param_groups[0].update(hyper)   # a schedule's lr, set before the step as optlib's runner does
        param.grad = torch.from_numpy(np.array(grad, dtype=np.float64))
        opt.step()
        iterates.append(param.detach().numpy().copy())
    iterates = np.stack(iterates)
    return iterates if case["column"] is None else iterates[:, case["column"]]


def record_explorers():
    import json
    import subprocess
    import tempfile

    import torch

    names = json.loads(subprocess.run(
        [str(BOOK_PYTHON), "-c", "import json; from optlib.explorers import CHAPTER_EXPLORERS; "
                                 "print(json.dumps(list(CHAPTER_EXPLORERS)))"],
        check=True, capture_output=True, text=True).stdout)
    cases, skipped, arrays, worst = [], {}, {}, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            tape = Path(tmp) / f"{name}.npz"
            subprocess.run([str(BOOK_PYTHON), "-m", "optlib.explorers.reference", "tape", str(tape), name],
                           check=True)
            with np.load(tape) as taped:
                skipped.update(json.loads(str(taped["skipped"])))
                for case in json.loads(str(taped["cases"])):
                    prefix = f"{case['explorer']}/{case['key']}"
                    iterates = replay_in_torch(case, taped[f"{prefix}/start"], taped[f"{prefix}/grads"])
                    optlib_iterates = taped[f"{prefix}/optlib"]
                    optlib_iterates = optlib_iterates if case["column"] is None else optlib_iterates[:, case["column"]]
                    both = np.isfinite(iterates) & np.isfinite(optlib_iterates)
                    if both.any():   # relative to the path's size, as optlib/explorers/reference.py compares
                        worst = max(worst, float(np.max(np.abs(iterates[both] - optlib_iterates[both]))
                                                 / np.max(np.abs(iterates[both]))))
                    arrays[f"{prefix}/torch"] = iterates
                    cases.append(case)
    np.savez_compressed(EXPLORERS_OUT, cases=np.array(json.dumps(cases)), skipped=np.array(json.dumps(skipped)),
                        torch_version=np.array(torch.__version__), **arrays)
    print(f"recorded {len(cases)} drawn paths of {len(names)} explorers (optlib against torch: largest difference "
          f"{worst:.2g} of a path's size), {EXPLORERS_OUT.stat().st_size / 1024:.0f} KB: {EXPLORERS_OUT}")
# --- the order of operations (tests/test_operation_order.py) -------------------------------------------
#
# Stored trajectories agree however an update orders independent operations: negating the gradient
# and shrinking the parameter commute. The reader of a listing sees the order, so it is recorded too.
# For every optimizer and every setting that changes which of its operations run, one step of the
# reference's single-tensor function is traced, and the trace names, in order:
#
#   "maximize"       the gradient negated                 "weight_decay"  lambda theta added to the gradient
#   "decay"          the parameter multiplied in place    "param"         the parameter otherwise updated
#   a state key      that buffer updated in place (torch's names, which optlib's state keeps)
#
# with repeats in a row merged (torch's ``v.mul_(beta2).addcmul_(g, g)`` is one update of ``v``). The
# traced step is the second: buffers that both create at the first step exist then. The test traces
# optlib's ``_update`` with the same two functions below, so torch is needed only here.

ORDER_OUT = Path(__file__).with_name("operation_order.json")
ORDER_PARAM = [[0.5, -1.0, 2.0], [1.5, -0.25, 0.75]]              # 2-D, for Muon; one for every case
ORDER_GRADS = [[[0.3, 0.2, -0.5], [1.0, -2.0, 0.1]], [[-0.4, 0.6, 0.2], [0.5, 1.5, -0.3]]]


def _order_cases():
    """name -> (class name, keyword arguments): maximize x weight decay x the options that add buffers."""
    options = {
        "SGD": [dict(momentum=0.0), dict(momentum=0.9), dict(momentum=0.9, nesterov=True)],
        "Adagrad": [{}],
        "RMSprop": [dict(centered=c, momentum=m) for c in (False, True) for m in (0.0, 0.9)],
        "Adam": [dict(amsgrad=a, decoupled_weight_decay=d) for a in (False, True) for d in (False, True)],
        "AdamW": [dict(amsgrad=a) for a in (False, True)],
        "NAdam": [dict(decoupled_weight_decay=d) for d in (False, True)],
        "RAdam": [dict(decoupled_weight_decay=d) for d in (False, True)],
        "Adadelta": [{}],
        "Adamax": [{}],
        "Lion": [{}],                                  # pytorch-optimizer's Lion (torch has none)
        "Muon": [dict(nesterov=n) for n in (True, False)],
        # the other reference libraries: pytorch-optimizer's Shampoo and SOAP, the schedulefree package's
        "Shampoo": [dict(weight_decouple=d) for d in (False, True)],
        "SOAP": [{}],
        "ScheduleFreeSGD": [{}],
        "ScheduleFreeAdamW": [{}],
    }
    cases = {}
    for cls_name, settings in options.items():
        # torch's Muon has no maximize (optlib's is its own addition), nor have the schedule-free classes
        no_maximize = cls_name == "Muon" or cls_name.startswith("ScheduleFree")
        for maximize in (False,) if no_maximize else (False, True):
            for weight_decay in (0.0, 0.1):
                for extra in settings:
                    kwargs = {**extra, "maximize": maximize, "weight_decay": weight_decay}
                    if no_maximize:
                        del kwargs["maximize"]
                    name = f"{cls_name}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
                    cases[name] = (cls_name, kwargs)
    return cases


ORDER_CASES = _order_cases()


def operation_label(name, written, inputs):
    """The trace's name for one array operation, or None for one it leaves out.

    ``name``: the operation, in NumPy's words ("negative", "add", "multiply", "setitem", ...);
    ``written``: the role of the array it changes in place ("param", "grad", a state key), or None when it
    makes a new array or writes a temporary; ``inputs``: the roles of the arrays it reads (None for others).
    """
    if written == "param":
        return "decay" if name == "multiply" else "param"
    if written not in (None, "grad"):
        return written
    if name == "negative" and "grad" in inputs:
        return "maximize"
    if name == "add" and "grad" in inputs and "param" in inputs:
        return "weight_decay"
    return None


def result_role(name, label, inputs):
    """The role of the new array an operation returns: a gradient after maximize or weight decay, the
    parameter times a number (lambda theta, before it is added to the gradient), a gradient divided by a
    scale (as a division in place keeps it the gradient), or None."""
    if label in ("maximize", "weight_decay"):
        return "grad"
    if name == "multiply" and [role for role in inputs if role] == ["param"]:
        return "param"
    if name == "divide" and inputs[:1] == ["grad"]:
        return "grad"                                # a scaled gradient (g / d), as dividing in place keeps it
    return None


def merged(labels):
    """The labels without None, repeats in a row merged."""
    labels = [label for label in labels if label]
    return [label for i, label in enumerate(labels) if i == 0 or label != labels[i - 1]]


_TORCH_NAMES = {"neg": "negative", "mul": "multiply", "imul": "multiply", "iadd": "add", "isub": "sub",
                "div": "divide", "truediv": "divide"}


def trace_torch(cls_name, kwargs):
    """The order of one case's second step in torch's single-tensor function (a TorchFunctionMode
    sees every tensor operation; roles are told apart by identity)."""
    import torch
    from torch.overrides import TorchFunctionMode

    param = torch.tensor(ORDER_PARAM, dtype=torch.float64)
    if cls_name in ("Lion", "Shampoo", "SOAP"):
        import pytorch_optimizer
        single_tensor = {"foreach": False} if cls_name == "Lion" else {}
        opt = getattr(pytorch_optimizer, cls_name)([param], **single_tensor, **kwargs)
    elif cls_name in SCHEDULEFREE_CLASSES:
        import schedulefree
        opt = getattr(schedulefree, SCHEDULEFREE_CLASSES[cls_name])([param], foreach=False, **kwargs)
        opt.train()
    else:
        single_tensor = {} if cls_name == "Muon" else {"foreach": False}
        opt = getattr(torch.optim, cls_name)([param], **single_tensor, **kwargs)
    param.grad = torch.tensor(ORDER_GRADS[0], dtype=torch.float64)
    opt.step()
    param.grad = torch.tensor(ORDER_GRADS[1], dtype=torch.float64)
    role = {id(param): "param", id(param.grad): "grad"}
    role.update({id(v): k for k, v in opt.state[param].items() if torch.is_tensor(v) and k != "step"})
    labels, alive = [], []

    class Trace(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            raw = getattr(func, "__name__", "")
            name = _TORCH_NAMES.get(raw.strip("_"), raw.strip("_"))
            in_place = raw.endswith("_") and not raw.startswith("__") or raw in ("__imul__", "__iadd__", "__isub__")
            target = kwargs.get("out", args[0] if in_place and args else None)
            written = role.get(id(target)) if target is not None else None
            inputs = [role.get(id(a)) for a in args if torch.is_tensor(a)]
            label = operation_label(name, written, inputs)
            labels.append(label)
            new_role = result_role(name, label, inputs)
            if new_role and torch.is_tensor(result) and target is None:
                role[id(result)] = new_role
                alive.append(result)                     # keeps the id from being reused
            return result

    with Trace():
        opt.step()
    return merged(labels)


def record_order():
    from importlib.metadata import version

    import torch

    torch.set_default_dtype(torch.float64)
    orders = {name: trace_torch(cls_name, kwargs) for name, (cls_name, kwargs) in ORDER_CASES.items()}
    versions = {"torch": torch.__version__, "pytorch_optimizer": version("pytorch_optimizer"),
                "schedulefree": version("schedulefree")}
    ORDER_OUT.write_text(json.dumps({"versions": versions, "orders": orders}, indent=1) + "\n")
    print(f"recorded the order of {len(orders)} cases: {ORDER_OUT}")


def main():
    import torch
    import torch.optim._muon

    if sys.argv[1:] == ["explorers"]:
        torch.set_default_dtype(torch.float64)
        return record_explorers()
    if sys.argv[1:] == ["order"]:
        return record_order()

    # Muon's Newton-Schulz in float64 instead of bfloat16 (see the module docstring).
    torch.optim._muon._zeropower_via_newtonschulz = _newton_schulz_float64
    # torch keeps scalar state (``step``, NAdam's ``mu_product``) in the default dtype: float64
    # makes the whole computation float64, which is what optlib does.
    torch.set_default_dtype(torch.float64)
    names = sys.argv[1:] or list(CASES)
    unknown = set(names) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {sorted(unknown)}")
    data = dict(np.load(OUT)) if sys.argv[1:] else {}
    if sys.argv[1:] and str(data["torch_version"]) != torch.__version__:
        raise SystemExit(f"{OUT} was recorded with torch {data['torch_version']}, this is {torch.__version__}")
    data.update({name: run_torch(name) for name in names})
    data["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **data)
    print(f"recorded {len(names)} of {len(CASES)} cases, {OUT.stat().st_size / 1024:.0f} KB, "
          f"torch {torch.__version__}: {OUT}")


# --- Shampoo and SOAP: pytorch-optimizer's, recorded into kronecker.npz -----------------------------
#
#     python tests/reference/make_reference.py kronecker            # every case below
#     python tests/reference/make_reference.py kronecker SOAP_lr    # only these, keeping the others
#
# torch has neither optimizer; optlib follows pytorch-optimizer's (see optlib/shampoo.py and soap.py for
# why that library). The cases run on a wide and a tall matrix and a vector, with seeded noise on every
# gradient: SOAP's first step only gathers statistics, so without noise its second gradient would equal
# the first, whose rotation into its own eigenbasis is diagonal: the off-diagonal entries would be
# rounding noise, which Adam's division by sqrt(v) + eps blows up to ~1e-9 relative differences between
# two LAPACKs (mini-batch gradients are never repeated exactly). pytorch-optimizer's SOAP casts the
# input of its QR decomposition to float32 whatever the parameters' dtype; it is recorded with the same
# code in float64 (``_soap_qr_float64``). Shampoo's NaN handling is not recorded: torch's SVD raises on a
# NaN matrix (optlib propagates NaN, as its other optimizers do).

KRONECKER_OUT = Path(__file__).with_name("kronecker.npz")
KRONECKER_SHAPES = [(3, 4), (4, 3), (5,)]   # wide, tall, a vector
NOISE = 0.3
_K = {"shapes": KRONECKER_SHAPES, "noise": NOISE}

KRONECKER_CASES = {
    "Shampoo_default": ("Shampoo", {}, _K),
    "Shampoo_lr": ("Shampoo", {"lr": 0.05}, _K),
    "Shampoo_compute_steps_3": ("Shampoo", {"lr": 0.02, "preconditioning_compute_steps": 3, "matrix_eps": 1e-3}, _K),
    "Shampoo_compute_steps_10": ("Shampoo", {"lr": 0.02, "preconditioning_compute_steps": 10}, _K),
    "Shampoo_matrix_eps": ("Shampoo", {"lr": 0.05, "matrix_eps": 1e-2}, _K),
    "Shampoo_matrix_eps_small": ("Shampoo", {"lr": 0.05, "matrix_eps": 1e-8}, _K),
    "Shampoo_wd": ("Shampoo", {"lr": 0.02, "weight_decay": 0.3}, _K),
    "Shampoo_decoupled": ("Shampoo", {"lr": 0.02, "weight_decay": 0.3, "weight_decouple": True}, _K),
    "Shampoo_fixed_decay": ("Shampoo", {"lr": 0.02, "weight_decay": 0.01, "weight_decouple": True,
                                        "fixed_decay": True}, _K),
    "Shampoo_momentum": ("Shampoo", {"lr": 0.02, "momentum": 0.5}, _K),
    "Shampoo_maximize": ("Shampoo", {"lr": 0.005, "maximize": True}, _K),
    "Shampoo_lr_change": ("Shampoo", {"lr": 0.05}, {**_K, "lr_change": True}),
    "SOAP_default": ("SOAP", {}, _K),
    "SOAP_lr": ("SOAP", {"lr": 0.01}, _K),
    "SOAP_frequency_1": ("SOAP", {"lr": 0.01, "precondition_frequency": 1}, _K),
    "SOAP_frequency_3": ("SOAP", {"lr": 0.01, "precondition_frequency": 3}, _K),
    "SOAP_frequency_50": ("SOAP", {"lr": 0.01, "precondition_frequency": 50}, _K),
    "SOAP_eps": ("SOAP", {"lr": 0.01, "eps": 1e-3}, _K),
    "SOAP_betas_shampoo_beta_wd": ("SOAP", {"lr": 0.01, "betas": (0.9, 0.99), "shampoo_beta": 0.8,
                                            "weight_decay": 0.1}, _K),
    "SOAP_no_weight_decay": ("SOAP", {"lr": 0.01, "weight_decay": 0.0}, _K),
    "SOAP_normalize_no_bias_correction": ("SOAP", {"lr": 0.005, "normalize_gradient": True,
                                                   "correct_bias": False}, _K),
    "SOAP_max_precondition_dim": ("SOAP", {"lr": 0.01, "max_precondition_dim": 3}, _K),
    # a 2-vector: its first factor g g^T has a null space of dimension 1, so its eigenbasis is unique up
    # to signs (a longer vector's is not: see optlib/soap.py)
    "SOAP_precondition_1d": ("SOAP", {"lr": 0.01, "precondition_1d": True},
                             {**_K, "shapes": [(3, 4), (4, 3), (2,)]}),
    "SOAP_maximize": ("SOAP", {"lr": 0.01, "maximize": True}, _K),
    "SOAP_lr_change": ("SOAP", {"lr": 0.01}, {**_K, "lr_change": True}),
    "SOAP_nonfinite": ("SOAP", {"lr": 0.01}, {**_K, "nonfinite": True}),
}


def run_pytorch_optimizer(name):
    """One case of ``KRONECKER_CASES`` with pytorch-optimizer's class, in float64."""
    import pytorch_optimizer
    import torch

    cls_name, kwargs, options = KRONECKER_CASES[name]

    def make(x0):
        params = [torch.tensor(p, dtype=torch.float64) for p in x0]
        opt = getattr(pytorch_optimizer, cls_name)(params, **kwargs)

        def set_hyperparameter(name, value):
            for group in opt.param_groups:
                group[name] = value

        def step(grads):
            for p, g in zip(params, grads, strict=True):
                p.grad = torch.from_numpy(np.array(g, dtype=np.float64))
            opt.step()

        return (lambda: [p.detach().numpy().copy() for p in params],
                lambda name: opt.param_groups[0][name], set_hyperparameter, step)

    return run(make, options)


def _soap_qr_float64(self, state, max_precondition_dim=10000, merge_dims=False):
    """pytorch_optimizer.SOAP.get_orthogonal_matrix_qr (4.1.0) with its QR in float64, not float32
    (the merge_dims=False path, the only one optlib offers)."""
    import torch

    assert not merge_dims
    exp_avg_sq = state["exp_avg_sq"]
    matrices = []
    for ind, (m, o) in enumerate(zip(state["GG"], state["Q"])):
        if len(m) == 0:
            matrices.append([])
            continue
        matrix_product = m @ o
        est_eig = (o * matrix_product).sum(dim=0)
        sort_idx = torch.argsort(est_eig, descending=True)
        exp_avg_sq = exp_avg_sq.index_select(ind, sort_idx)
        power_iter = matrix_product.index_select(1, sort_idx)
        q, _ = torch.linalg.qr(power_iter.to(torch.float64))
        matrices.append(q.to(power_iter.dtype))
    state["exp_avg_sq"] = exp_avg_sq
    return matrices


def main_kronecker(names):
    import importlib.metadata

    import pytorch_optimizer
    import torch

    pytorch_optimizer.SOAP.get_orthogonal_matrix_qr = _soap_qr_float64
    torch.set_default_dtype(torch.float64)
    names = names or list(KRONECKER_CASES)
    unknown = set(names) - set(KRONECKER_CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {sorted(unknown)}")
    versions = {"torch_version": torch.__version__,
                "pytorch_optimizer_version": importlib.metadata.version("pytorch_optimizer")}
    data = dict(np.load(KRONECKER_OUT)) if len(names) < len(KRONECKER_CASES) else {}
    for key, version in versions.items():
        if key in data and str(data[key]) != version:
            raise SystemExit(f"{KRONECKER_OUT} was recorded with {key} {data[key]}, this is {version}")
    data.update({name: run_pytorch_optimizer(name) for name in names})
    data.update({key: np.array(version) for key, version in versions.items()})
    np.savez_compressed(KRONECKER_OUT, **data)
    print(f"recorded {len(names)} of {len(KRONECKER_CASES)} cases, {KRONECKER_OUT.stat().st_size / 1024:.0f} KB, "
          f"pytorch-optimizer {versions['pytorch_optimizer_version']}, torch {torch.__version__}: {KRONECKER_OUT}")


# --- schedule-free SGD and AdamW: the `schedulefree` package (tests/reference/schedulefree.npz) -------------
#
#     python tests/reference/make_reference.py --schedulefree [CASE ...]
#
# Same problem, steps, snapshots and lr change as above, recorded from the package's ScheduleFree classes
# (``foreach=False``, float64; the ``*Reference`` classes too where a case says so). At every snapshot the
# loop records the parameters in train mode (y), switches to eval mode, records them again (the average x)
# and switches back: the round trip a training loop makes to evaluate. ``switch_every_step`` does it after
# every step. The file stores, per case, an array (2, len(SNAPSHOTS), n): y and x at the snapshots.

SCHEDULEFREE_OUT = Path(__file__).with_name("schedulefree.npz")
SCHEDULEFREE_CLASSES = {"ScheduleFreeSGD": "SGDScheduleFree", "ScheduleFreeAdamW": "AdamWScheduleFree"}

SCHEDULEFREE_CASES = {
    "ScheduleFreeSGD_default": ("ScheduleFreeSGD", {}, {}),
    "ScheduleFreeSGD_momentum_wd": ("ScheduleFreeSGD", {"lr": 0.5, "momentum": 0.7, "weight_decay": 0.2}, {}),
    "ScheduleFreeSGD_warmup": ("ScheduleFreeSGD", {"lr": 1.0, "warmup_steps": 30}, {}),
    "ScheduleFreeSGD_r": ("ScheduleFreeSGD", {"lr": 0.5, "r": 1.5}, {}),
    "ScheduleFreeSGD_weight_lr_power": ("ScheduleFreeSGD", {"warmup_steps": 30, "weight_lr_power": 0.5}, {}),
    "ScheduleFreeSGD_lr_change": ("ScheduleFreeSGD", {"lr": 0.8, "warmup_steps": 10}, {"lr_change": True}),
    "ScheduleFreeSGD_switch_every_step": ("ScheduleFreeSGD", {"lr": 0.5, "momentum": 0.8},
                                          {"switch_every_step": True}),
    "ScheduleFreeSGD_reference_class": ("ScheduleFreeSGD", {"lr": 0.5, "weight_decay": 0.1, "warmup_steps": 10},
                                        {"package_class": "SGDScheduleFreeReference"}),
    "ScheduleFreeAdamW_default": ("ScheduleFreeAdamW", {}, {}),
    "ScheduleFreeAdamW_lr_betas_eps": ("ScheduleFreeAdamW", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3}, {}),
    "ScheduleFreeAdamW_wd": ("ScheduleFreeAdamW", {"lr": 0.05, "weight_decay": 0.3}, {}),
    "ScheduleFreeAdamW_warmup": ("ScheduleFreeAdamW", {"lr": 0.1, "warmup_steps": 30}, {}),
    "ScheduleFreeAdamW_r": ("ScheduleFreeAdamW", {"lr": 0.05, "r": 2.0, "warmup_steps": 5}, {}),
    "ScheduleFreeAdamW_weight_lr_power": ("ScheduleFreeAdamW", {"lr": 0.1, "warmup_steps": 30,
                                                                "weight_lr_power": 0.0}, {}),
    "ScheduleFreeAdamW_lr_change": ("ScheduleFreeAdamW", {"lr": 0.1, "weight_decay": 0.1}, {"lr_change": True}),
    "ScheduleFreeAdamW_switch_every_step": ("ScheduleFreeAdamW", {"lr": 0.05, "betas": (0.5, 0.999)},
                                            {"switch_every_step": True}),
    "ScheduleFreeAdamW_reference_class": ("ScheduleFreeAdamW", {"lr": 0.05, "weight_decay": 0.1,
                                                                "warmup_steps": 10},
                                          {"package_class": "AdamWScheduleFreeReference"}),
}


def run_schedule_free(make_optimizer, options):
    """N_STEPS steps with train/eval round trips; returns y and x at SNAPSHOTS, shape (2, len(SNAPSHOTS), n).

    ``make_optimizer(x0)`` returns ``(get_params, get, set, step, train, eval)``; the recording script and
    the tests share this loop, as they share :func:`run`.
    """
    a, b, c, x0 = problem()
    get_params, get, set, step, train, eval = make_optimizer(x0)
    flat = lambda: np.concatenate([p.ravel() for p in get_params()])  # noqa: E731
    ys, xs = [], []
    train()
    for t in range(1, N_STEPS + 1):
        if options.get("lr_change") and t == LR_CHANGE_STEP:
            set("lr", get("lr") * LR_CHANGE_FACTOR)
        step(gradients(a, b, c, get_params(), t))
        if t in SNAPSHOTS:
            ys.append(flat())
        if t in SNAPSHOTS or options.get("switch_every_step"):
            eval()
            if t in SNAPSHOTS:
                xs.append(flat())
            train()
    return np.array([ys, xs])


def run_schedulefree_package(name):
    """One case with the schedulefree package's class, single-tensor (``foreach=False``), in float64."""
    import contextlib
    import io

    import schedulefree
    import torch

    cls_name, kwargs, options = SCHEDULEFREE_CASES[name]
    package_class = getattr(schedulefree, options.get("package_class", SCHEDULEFREE_CLASSES[cls_name]))

    def make(x0):
        params = [torch.tensor(p, dtype=torch.float64) for p in x0]
        opt = package_class(params, foreach=False, **kwargs)

        def set_hyperparameter(name, value):
            for group in opt.param_groups:
                group[name] = value

        def step(grads):
            for p, g in zip(params, grads, strict=True):
                p.grad = torch.from_numpy(np.array(g, dtype=np.float64))
            opt.step()

        def quietly(switch):   # AdamWScheduleFreeReference prints "Switching to ... mode"
            def call():
                with contextlib.redirect_stdout(io.StringIO()):
                    switch()
            return call

        return (lambda: [p.detach().numpy().copy() for p in params], lambda name: opt.param_groups[0][name],
                set_hyperparameter, step, quietly(opt.train), quietly(opt.eval))

    return run_schedule_free(make, options)


def main_schedulefree(names):
    import schedulefree  # noqa: F401  (fail early if the package is missing)
    import torch
    from importlib.metadata import version

    torch.set_default_dtype(torch.float64)
    names = names or list(SCHEDULEFREE_CASES)
    unknown = set(names) - set(SCHEDULEFREE_CASES)
    if unknown:
        raise SystemExit(f"unknown schedule-free cases: {sorted(unknown)}")
    package = version("schedulefree")
    data = dict(np.load(SCHEDULEFREE_OUT)) if len(names) < len(SCHEDULEFREE_CASES) else {}
    if data and str(data["schedulefree_version"]) != package:
        raise SystemExit(f"{SCHEDULEFREE_OUT} was recorded with schedulefree {data['schedulefree_version']}, "
                         f"this is {package}")
    data.update({name: run_schedulefree_package(name) for name in names})
    data["schedulefree_version"] = np.array(package)
    data["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(SCHEDULEFREE_OUT, **data)
    print(f"recorded {len(names)} of {len(SCHEDULEFREE_CASES)} cases, {SCHEDULEFREE_OUT.stat().st_size / 1024:.0f} KB, "
          f"schedulefree {package}, torch {torch.__version__}: {SCHEDULEFREE_OUT}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["kronecker"]:
        main_kronecker(sys.argv[2:])
    elif sys.argv[1:2] == ["--schedulefree"]:
        main_schedulefree(sys.argv[2:])
    else:
        main()
