r"""Learning-rate schedules: plain functions of the step, ``lr_t = schedule(t)``.

A schedule is built once from its hyperparameters and then called with the number of updates
already taken, ``t = 0, 1, 2, ...``; it returns the learning rate for the next update. It drives an
optimizer in one way: :func:`scheduled` makes an optimizer class that sets its writable ``lr`` from the
schedule before every update, so a scheduled optimizer goes to any runner (``run``, ``run_stochastic``,
``train``) like any other::

    schedule = cosine(lr=0.1, total_steps=1000)
    opt = scheduled(SGD, schedule)([theta])   # before update t + 1: opt.lr = schedule(t)

Any function ``t -> lr`` is a schedule (``scheduled(SGD, lambda t: 0.1 / np.sqrt(t + 1))``). A
:class:`Schedule` also accepts an integer array of steps and returns an array of rates, which is how
the book plots it. :data:`SCHEDULES` names the book's schedules (the schedule explorer's menu): a new
schedule is its function here and one entry there.

The step convention is torch.optim.lr_scheduler's when ``scheduler.step()`` is called once after
every ``optimizer.step()``: ``schedule(t)`` is the rate torch's scheduler holds after ``t`` calls
to ``scheduler.step()``, i.e. ``scheduler.get_last_lr()`` while update ``t + 1`` is taken:

=========================================  ==========================================================
optlib                                     torch.optim.lr_scheduler (base rate ``lr``)
=========================================  ==========================================================
``constant(lr)``                           no scheduler (``ConstantLR`` with ``factor=1``)
``step(lr, step_size, gamma)``             ``StepLR(step_size, gamma)``
``exponential(lr, gamma)``                 ``ExponentialLR(gamma)``
``cosine(lr, total_steps, min_lr)``        ``CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)``
                                           for ``t <= total_steps``; afterwards optlib *holds*
                                           ``min_lr``, torch's cosine turns and rises again
``warmup_cosine(lr, warmup_steps, ...)``   ``SequentialLR([LinearLR(1/w, 1, w - 1), CosineAnnealingLR(T - w)],
                                           milestones=[w])``, same caveat after ``total_steps``
``wsd(lr, warmup_steps, ...)``             ``SequentialLR`` of ``LinearLR``, ``ConstantLR(factor=1)`` and a
                                           ``LambdaLR`` for the linear or 1 - sqrt decay
=========================================  ==========================================================

Every argument is checked when the schedule is built (``ValueError`` naming the argument), and every
call checks ``t`` (an integer ``>= 0``), so a schedule can never hand an optimizer a negative or NaN
learning rate.

References: Loshchilov & Hutter (2017), "SGDR", for cosine annealing; Goyal et al. (2017) for linear
warm-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .validation import finite_non_negative, function, non_negative_int, one_of, positive_int

__all__ = ["Schedule", "constant", "step", "exponential", "cosine", "warmup_cosine", "wsd", "scheduled", "SCHEDULES",
           "make_schedule"]


# --- argument checks (optlib.validation's, so the same bad value raises the same error everywhere) ---

def _steps(t):
    """``t`` as an int or an integer array, checked to be >= 0."""
    if isinstance(t, np.ndarray):
        if t.dtype.kind not in "iu":
            raise TypeError(f"t must be an integer step count, got an array of dtype {t.dtype}")
        if t.size and t.min() < 0:
            raise ValueError(f"t must be >= 0, got a minimum of {t.min()}")
        return t
    return non_negative_int("t", t)


@dataclass(frozen=True)
class Schedule:
    """A learning rate as a function of the step: ``schedule(t)`` for ``t = 0, 1, ...``.

    ``name`` and ``params`` describe it (``repr`` shows them); ``rate`` is the formula, applied to
    a checked int or integer array.
    """

    name: str
    params: dict
    rate: Callable = field(repr=False, compare=False)

    def __call__(self, t):
        t = _steps(t)
        if isinstance(t, np.ndarray):
            return np.asarray(self.rate(t.astype(float)), dtype=float) * np.ones(t.shape)
        return float(self.rate(t))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _cosine_factor(progress):
    """(1 + cos(pi * progress)) / 2 for progress in [0, 1], held at 0 afterwards."""
    return 0.5 * (1.0 + np.cos(np.pi * np.minimum(progress, 1.0)))


# --- the schedules ---------------------------------------------------------------------------------

def constant(lr: float) -> Schedule:
    r"""The same rate at every step: :math:`\eta_t = \eta`."""
    lr = finite_non_negative("lr", lr)
    # eta_t = eta
    return Schedule("constant", {"lr": lr}, lambda t: lr + 0.0 * t)


def step(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply by ``gamma`` every ``step_size`` steps: :math:`\eta_t = \eta\,\gamma^{\lfloor t/s \rfloor}`.

    torch: ``StepLR(optimizer, step_size, gamma=0.1)``.
    """
    lr = finite_non_negative("lr", lr)
    step_size = positive_int("step_size", step_size)
    gamma = finite_non_negative("gamma", gamma)
    # eta_t = eta * gamma ^ floor(t / s)
    return Schedule("step", {"lr": lr, "step_size": step_size, "gamma": gamma},
                    lambda t: lr * gamma ** np.floor(t / step_size))


def exponential(lr: float, gamma: float) -> Schedule:
    r"""Multiply by ``gamma`` every step: :math:`\eta_t = \eta\,\gamma^{t}`.

    torch: ``ExponentialLR(optimizer, gamma)``.
    """
    lr = finite_non_negative("lr", lr)
    gamma = finite_non_negative("gamma", gamma)
    # eta_t = eta * gamma ^ t
    return Schedule("exponential", {"lr": lr, "gamma": gamma}, lambda t: lr * gamma**t)


def cosine(lr: float, total_steps: int, min_lr: float = 0.0) -> Schedule:
    r"""Half a cosine from ``lr`` down to ``min_lr`` over ``total_steps`` steps, then ``min_lr``.

    .. math:: \eta_t = \eta_{\min} + (\eta - \eta_{\min})\,\tfrac12\big(1 + \cos(\pi\, t / T)\big),
              \quad 0 \le t \le T; \qquad \eta_t = \eta_{\min}, \quad t > T.

    torch: ``CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=min_lr)`` for ``t <= T``
    (torch's cosine keeps going after ``T`` and rises back towards ``lr``; optlib holds ``min_lr``).
    """
    lr = finite_non_negative("lr", lr)
    total_steps = positive_int("total_steps", total_steps)
    min_lr = finite_non_negative("min_lr", min_lr)
    if min_lr > lr:
        raise ValueError(f"min_lr must be <= lr, got min_lr={min_lr} > lr={lr}")
    # eta_t = eta_min + (eta - eta_min) (1 + cos(pi t / T)) / 2
    return Schedule("cosine", {"lr": lr, "total_steps": total_steps, "min_lr": min_lr},
                    lambda t: min_lr + (lr - min_lr) * _cosine_factor(t / total_steps))


def warmup_cosine(lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> Schedule:
    r"""A linear warm-up to ``lr`` over ``warmup_steps`` steps, then :func:`cosine` down to ``min_lr``.

    .. math::
       \eta_t = \begin{cases}
         \eta\,\dfrac{t+1}{W} & 0 \le t < W \\[1ex]
         \eta_{\min} + (\eta - \eta_{\min})\,\tfrac12\Big(1 + \cos\big(\pi\,\tfrac{t-W}{T-W}\big)\Big)
                               & W \le t \le T \\[1ex]
         \eta_{\min} & t > T
       \end{cases}

    The ramp starts at :math:`\eta/W`, not at 0 (a zero first step would be wasted) and reaches
    :math:`\eta` at :math:`t = W - 1`; the cosine then starts from :math:`\eta` at :math:`t = W`.
    ``warmup_steps=0`` gives exactly ``cosine(lr, total_steps, min_lr)``.

    torch: ``SequentialLR(optimizer, [LinearLR(optimizer, start_factor=1/W, end_factor=1,
    total_iters=W-1), CosineAnnealingLR(optimizer, T_max=T-W, eta_min=min_lr)], milestones=[W])``.
    """
    lr = finite_non_negative("lr", lr)
    warmup_steps = non_negative_int("warmup_steps", warmup_steps)
    total_steps = positive_int("total_steps", total_steps)
    min_lr = finite_non_negative("min_lr", min_lr)
    if warmup_steps >= total_steps:
        raise ValueError(f"warmup_steps must be < total_steps, got warmup_steps={warmup_steps} "
                         f">= total_steps={total_steps}")
    if min_lr > lr:
        raise ValueError(f"min_lr must be <= lr, got min_lr={min_lr} > lr={lr}")
    W, T = warmup_steps, total_steps

    def rate(t):
        # eta_t = eta (t + 1) / W                                              (t < W)
        ramp = lr * (t + 1) / max(W, 1)
        # eta_t = eta_min + (eta - eta_min) (1 + cos(pi (t - W) / (T - W))) / 2  (t >= W)
        decay = min_lr + (lr - min_lr) * _cosine_factor(np.maximum(t - W, 0) / (T - W))
        return np.where(t < W, ramp, decay)

    return Schedule("warmup_cosine", {"lr": lr, "warmup_steps": W, "total_steps": T, "min_lr": min_lr}, rate)


def wsd(lr: float, warmup_steps: int, total_steps: int, decay_steps: int, min_lr: float = 0.0,
        decay_shape: str = "linear") -> Schedule:
    r"""Warmup-stable-decay: a linear warm-up, the constant rate ``lr``, then a short decay to ``min_lr``.

    .. math::
       \eta_t = \begin{cases}
         \eta\,\dfrac{t+1}{W} & 0 \le t < W \\[1ex]
         \eta & W \le t < T - D \\[1ex]
         \eta_{\min} + (\eta - \eta_{\min})\,\big(1 - \phi(s)\big), \quad s = \dfrac{t - (T - D)}{D}
                               & T - D \le t \le T \\[1ex]
         \eta_{\min} & t > T
       \end{cases}

    with :math:`\phi(s) = s` (``decay_shape="linear"``) or :math:`\phi(s) = \sqrt{s}` (``"1-sqrt"``, which
    Hägele et al. found better). The warm-up is :func:`warmup_cosine`'s (it starts at :math:`\eta/W`);
    the decay ("cooldown") takes the last ``decay_steps`` of the ``total_steps`` updates, so the run can be
    continued from any checkpoint of the stable phase and cooled down whenever the budget is known.

    torch: ``SequentialLR`` of ``LinearLR`` (the warm-up), ``ConstantLR(factor=1)`` and a ``LambdaLR`` for
    the decay. transformers' ``get_wsd_schedule`` has the same phases, with a warm-up that starts at 0.

    References: Hu et al. (2024), "MiniCPM" (WSD); Hägele et al. (2024), "Scaling Laws and Compute-Optimal
    Training Beyond Fixed Training Durations" (the 1 - sqrt cooldown).
    """
    lr = finite_non_negative("lr", lr)
    warmup_steps = non_negative_int("warmup_steps", warmup_steps)
    total_steps = positive_int("total_steps", total_steps)
    decay_steps = positive_int("decay_steps", decay_steps)
    min_lr = finite_non_negative("min_lr", min_lr)
    decay_shape = one_of("decay_shape", decay_shape, ("linear", "1-sqrt"))
    if warmup_steps + decay_steps > total_steps:
        raise ValueError(f"warmup_steps + decay_steps must be <= total_steps, got {warmup_steps} + {decay_steps} "
                         f"> total_steps={total_steps}")
    if min_lr > lr:
        raise ValueError(f"min_lr must be <= lr, got min_lr={min_lr} > lr={lr}")
    W, T, D = warmup_steps, total_steps, decay_steps
    phi = np.sqrt if decay_shape == "1-sqrt" else (lambda s: s)

    def rate(t):
        # eta_t = eta (t + 1) / W                                  (t < W)
        ramp = lr * (t + 1) / max(W, 1)
        # s = (t - (T - D)) / D, held in [0, 1]
        s = np.clip((t - (T - D)) / D, 0.0, 1.0)
        # eta_t = eta_min + (eta - eta_min) (1 - phi(s))           (t >= W; s = 0 is the stable phase)
        stable_then_decay = min_lr + (lr - min_lr) * (1.0 - phi(s))
        return np.where(t < W, ramp, stable_then_decay)

    return Schedule("wsd", {"lr": lr, "warmup_steps": W, "total_steps": T, "decay_steps": D, "min_lr": min_lr,
                            "decay_shape": decay_shape}, rate)


def scheduled(optimizer_class, schedule: Callable[[int], float]):
    """An optimizer class whose ``lr`` follows ``schedule``: ``lr = schedule(t)`` before update ``t + 1``.

    ``t`` is the optimizer's ``step_count`` (updates already taken), so the schedule survives a
    ``state_dict`` round trip. The one way optlib applies a schedule, with any runner::

        run(scheduled(Adam, warmup_cosine(0.5, 20, 200)), surface, steps=200)
        run_stochastic(scheduled(SGD, lambda t: 0.2 / np.sqrt(t + 1)), problem, start, 1000, rng=rng)

    The ``lr`` given to the class is overwritten before the first update.
    """
    schedule = function("schedule", schedule)

    class Scheduled(optimizer_class):
        def step(self, grads):
            self.lr = schedule(self.step_count)
            super().step(grads)

    Scheduled.__name__ = Scheduled.__qualname__ = f"Scheduled{optimizer_class.__name__}"
    Scheduled.schedule = staticmethod(schedule)
    return Scheduled


#: The book's schedules by name (the schedule explorer's menu), each as its default member over a run of
#: ``steps`` updates, ``(lr, steps, warmup_steps) -> Schedule`` (``warmup_cosine`` and ``wsd`` warm up;
#: WSD cools down over the last 20% of the steps, where Hägele et al. find it matches the cosine).
SCHEDULES: dict[str, Callable[[float, int, int], Schedule]] = {
    "constant": lambda lr, steps, warmup_steps: constant(lr),
    "step": lambda lr, steps, warmup_steps: step(lr, step_size=max(steps // 3, 1), gamma=0.1),
    "exponential": lambda lr, steps, warmup_steps: exponential(lr, gamma=0.01 ** (1 / steps)),  # to lr / 100
    "cosine": lambda lr, steps, warmup_steps: cosine(lr, steps),
    "warmup_cosine": lambda lr, steps, warmup_steps: warmup_cosine(lr, min(warmup_steps, steps - 1), steps),
    "wsd": lambda lr, steps, warmup_steps: wsd(lr, min(warmup_steps, steps - max(steps // 5, 1)), steps,
                                               max(steps // 5, 1)),
}


def make_schedule(name: str, lr: float, steps: int, warmup_steps: int = 0) -> Schedule:
    """The book's schedule ``name`` (one of :data:`SCHEDULES`) over a run of ``steps`` updates."""
    name = one_of("name", name, tuple(SCHEDULES))
    steps = positive_int("steps", steps)
    warmup_steps = non_negative_int("warmup_steps", warmup_steps)
    return SCHEDULES[name](lr, steps, warmup_steps)
