"""The optimizers the contract tests run for, each one's parameters and settings, and the helpers they share.

The contract (test_optimizers.py): bad input is refused and changes nothing, a state_dict round trip is bit
for bit, float32 stays float32, lr = 0 freezes, element-wise classes may be stacked, ... Each test runs for
every class it applies to; test_kronecker.py and test_schedulefree.py keep only what is their methods' own.
"""

import pickle

import numpy as np
import pytest

from optlib import (SGD, SOAP, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Muon, NAdam, RAdam, RMSprop,
                    ScheduleFreeAdamW, ScheduleFreeSGD, Shampoo)

TORCH = [SGD, Adagrad, RMSprop, Adam, AdamW, NAdam, Adadelta, Adamax, RAdam]
ELEVEN = TORCH + [Lion, Muon]
KRONECKER = [Shampoo, SOAP]                        # vectors and matrices only; square matrices in their state
SCHEDULE_FREE = [ScheduleFreeSGD, ScheduleFreeAdamW]  # train() and eval(); "train_mode" in their state_dict
ALL = ELEVEN + KRONECKER + SCHEDULE_FREE

# Settings that switch on every buffer and branch each class has (momentum, centering, AMSGrad, ...).
FULL = {
    SGD: dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    Adagrad: dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    RMSprop: dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    Adam: dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    AdamW: dict(lr=0.01, amsgrad=True),
    NAdam: dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True),
    Adadelta: dict(lr=0.5, weight_decay=0.01),
    Adamax: dict(lr=0.01, weight_decay=0.01),
    RAdam: dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.01),
    Lion: dict(lr=0.01, weight_decay=0.1),
    Muon: dict(lr=0.02, weight_decay=0.05, momentum=0.9),
    Shampoo: dict(lr=0.02, momentum=0.5, weight_decay=0.01, preconditioning_compute_steps=2, matrix_eps=1e-4),
    SOAP: dict(lr=0.01, betas=(0.9, 0.99), shampoo_beta=0.9, weight_decay=0.01, precondition_frequency=2,
               precondition_1d=True, normalize_gradient=True),
    # weight decay, warm-up, polynomial weights, another weight power
    ScheduleFreeSGD: dict(lr=0.2, momentum=0.8, weight_decay=0.05, warmup_steps=3, r=1.0, weight_lr_power=1.5),
    ScheduleFreeAdamW: dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, warmup_steps=3, r=1.0,
                            weight_lr_power=1.5),
}

# The keyword defaults optlib must reproduce: torch.optim's (torch 2.13); Lion, not in torch: the paper's;
# Muon: torch's, plus optlib's maximize; Shampoo and SOAP: pytorch-optimizer 4.1.0's; the schedule-free
# pair: schedulefree 1.4.1's (SGDScheduleFree, AdamWScheduleFree; foreach aside).
DEFAULTS = {
    SGD: dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    Adagrad: dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                  maximize=False),
    RMSprop: dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                  maximize=False),
    Adam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
               decoupled_weight_decay=False),
    AdamW: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                decoupled_weight_decay=True),
    NAdam: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                decoupled_weight_decay=False, maximize=False),
    Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
    Adamax: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False),
    RAdam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                maximize=False),
    Lion: dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False),
    Muon: dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315),
               eps=1e-7, ns_steps=5, adjust_lr_fn=None, maximize=False),
    Shampoo: dict(lr=1e-3, momentum=0.0, weight_decay=0.0, weight_decouple=False, fixed_decay=False,
                  preconditioning_compute_steps=1, matrix_eps=1e-6, maximize=False),
    SOAP: dict(lr=3e-3, betas=(0.95, 0.95), shampoo_beta=None, weight_decay=1e-2, precondition_frequency=10,
               max_precondition_dim=10000, precondition_1d=False, correct_bias=True, normalize_gradient=False,
               eps=1e-8, maximize=False),
    ScheduleFreeSGD: dict(lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0),
    ScheduleFreeAdamW: dict(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                            weight_lr_power=2.0),
}


def two_matrices(seed=0, dtype=np.float64):
    """Two matrices (Muon takes only matrices; the element-wise classes do not care)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal((2, 4)).astype(dtype)]


def two_matrices_and_a_vector(seed=0, dtype=np.float64):
    """A wide matrix, a tall matrix and a vector: each of Shampoo's and SOAP's kinds of parameter."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in [(3, 4), (4, 2), (3,)]]


def a_matrix_and_a_vector(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(4).astype(dtype)]


PARAMS = {**{cls: two_matrices for cls in ELEVEN}, **{cls: two_matrices_and_a_vector for cls in KRONECKER},
          **{cls: a_matrix_and_a_vector for cls in SCHEDULE_FREE}}


def params_for(cls, seed=0, dtype=np.float64):
    """The parameters the contract tests give ``cls``."""
    return PARAMS[cls](seed, dtype)


def grad_of(params):
    """Gradient of a fixed non-quadratic loss, sum(p^2/2 + sin(p)), so it depends on the parameters."""
    return [p + np.cos(p) for p in params]


def run(opt, steps):
    for _ in range(steps):
        opt.step(grad_of(opt.params))


def snapshot(opt):
    """Deep copy of everything a call may change: parameters, state, step count, hyperparameters, mode."""
    return pickle.dumps(([p.copy() for p in opt.params], opt.state, opt.step_count, opt.hyperparameters,
                         getattr(opt, "train_mode", None)))


def ids(classes):
    return [c.__name__ for c in classes]


def state_values(opt_or_state_dict):
    """Every value in the per-parameter states, SOAP's lists of factors and bases unpacked."""
    states = opt_or_state_dict["state"] if isinstance(opt_or_state_dict, dict) else opt_or_state_dict.state
    return [v for state in states for value in state.values() for v in (value if isinstance(value, list) else [value])]


def same_bits(a, b) -> bool:
    """Equal structure (dicts, lists) and equal values bit for bit (arrays: dtype, shape and bytes)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_bits(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same_bits(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    return pickle.dumps(a) == pickle.dumps(b)


def refuses(cls, exc, match, **kwargs):
    """Constructing ``cls`` with ``kwargs`` raises ``exc`` with a message matching ``match``."""
    with pytest.raises(exc, match=match):
        cls(params_for(cls), **kwargs)


def an_optimizer_and_another_runs_state_dict(cls):
    """An optimizer two steps into its run, and the state_dict of another run (other parameters, half the
    rate, five steps): all of it loadable, so that a load refused for one spoiled entry tests all or nothing."""
    opt = cls(params_for(cls), **FULL[cls])
    run(opt, 2)
    other = cls(params_for(cls, seed=1), **dict(FULL[cls], lr=FULL[cls]["lr"] / 2))
    run(other, 5)
    return opt, other.state_dict()
