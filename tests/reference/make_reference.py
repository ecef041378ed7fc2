"""Record torch.optim trajectories for optlib's reference tests (needs torch; the tests do not).

Run it where torch is installed (it is *not* a dependency of optlib)::

    python tests/reference/make_reference.py          # writes tests/reference/trajectories.npz
    python tests/reference/make_reference.py Muon_default Muon_lr_wd   # (re)records only these cases,
                                                      # keeping the others from the existing file
    python tests/reference/make_reference.py explorers   # writes tests/reference/explorers.npz: every explorer's
                                                      # drawn paths replayed in torch (optlib/explorers/reference.py)

Every case runs one torch.optim class, with its single-tensor algorithm (``foreach=False``, the one
the documentation's pseudo-code describes), in float64 for ``N_STEPS`` steps on the same problem:

    f(x) = 1/2 x^T A x + b^T x + c * sum(log cosh x),   grad f(x) = A x + b + c * tanh(x)

where ``x`` is the concatenation of three parameter arrays of different shapes, ``A`` is a random
symmetric positive definite matrix and ``c`` weights a nonlinearity, so the gradient depends on the
parameters in a non-linear way. The gradient is computed here with NumPy, the same function the test
uses, so torch and optlib see the same gradients as long as their parameters agree.

Cases may also change the learning rate mid-run (``lr_change``: the way a schedule drives an
optimizer), change the momentum mid-run (``momentum_change``), or inject non-finite gradient entries
at one step (``nonfinite``: torch's inf/NaN propagation). Muon updates matrices only, so its cases
run the same problem on two matrices (``shapes``: ``MATRIX_SHAPES``).

Muon's Newton-Schulz iteration runs in bfloat16 in torch (about 3 significant digits), far from the
float64 agreement the tests ask for. This script therefore records torch.optim.Muon with *the same
iteration computed in float64* (``_newton_schulz_float64`` below, torch's code with ``.double()`` in
place of ``.bfloat16()``, patched into ``torch.optim._muon``); everything else is torch's own code.

The file stores, per case, the parameters (concatenated) after the steps in ``SNAPSHOTS`` and the
torch version; the problem itself is regenerated from ``SEED``.
"""

from __future__ import annotations

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
    with np.errstate(all="ignore"):
        for t in range(1, N_STEPS + 1):
            if options.get("lr_change") and t == LR_CHANGE_STEP:
                set("lr", get("lr") * LR_CHANGE_FACTOR)
            if options.get("momentum_change") and t == LR_CHANGE_STEP:
                set("momentum", get("momentum") * MOMENTUM_CHANGE_FACTOR)
            grads = gradients(a, b, c, get_params(), t)
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


def main():
    import torch
    import torch.optim._muon

    if sys.argv[1:] == ["explorers"]:
        torch.set_default_dtype(torch.float64)
        return record_explorers()

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


if __name__ == "__main__":
    main()
