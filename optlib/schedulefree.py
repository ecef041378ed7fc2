r"""Schedule-free SGD and AdamW, with the ``schedulefree`` package's names, defaults and update.

A schedule-free optimizer keeps three points per parameter and needs no learning-rate schedule:

* :math:`z_t`, the *base* sequence: plain SGD (or an Adam-normalised step) with a constant rate;
* :math:`x_t`, the *average* of the :math:`z`'s: the point to evaluate, test and ship;
* :math:`y_t`, an interpolation of the two, where the gradient is taken (the parameters in training).

One step, for a gradient :math:`g_t` taken at :math:`y_t` (Defazio et al. 2024, with the package's
warm-up and weights; :math:`\gamma` is ``lr``, :math:`\beta` is ``momentum``, or ``betas[0]`` for AdamW):

.. math::

   \gamma_t &= \gamma \min(1, t / T_{\text{warmup}})                 &&(\text{linear warm-up}) \\
   \gamma^{\max}_t &= \max(\gamma^{\max}_{t-1}, \gamma_t) \\
   w_t &= t^{\,r}\,(\gamma^{\max}_t)^{p}, \qquad W_t = W_{t-1} + w_t, \qquad c_t = w_t / W_t
                                                                       &&(p = \text{weight_lr_power}) \\
   d_t &= g_t + \lambda y_t                                           &&\text{(SGD)} \\
   d_t &= \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + \lambda y_t,
      \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2                  &&\text{(AdamW)} \\
   z_{t+1} &= z_t - \gamma_t\, d_t \\
   x_{t+1} &= (1 - c_t)\, x_t + c_t\, z_{t+1} \\
   y_{t+1} &= \beta\, x_{t+1} + (1 - \beta)\, z_{t+1}

with :math:`x_1 = y_1 = z_1` the initial parameters, :math:`v_0 = 0`, :math:`W_0 = 0` and :math:`c_t = 0`
while :math:`W_t = 0`. So :math:`x_{T+1} = \sum_{t=1}^{T} w_t z_{t+1} / W_T`; with :math:`r = 0` and a
constant rate, :math:`c_t = 1/t` and :math:`x` is the plain running mean of the :math:`z`'s, which is
why no schedule is needed (chapter "Schedule-free and WSD").

**Train and eval.** While training, the parameters hold :math:`y`; :meth:`ScheduleFree.eval` puts
:math:`x` into them (to measure a loss, test, or save the model) and :meth:`ScheduleFree.train` puts
:math:`y` back. A step in eval mode is refused, as the package refuses it. :meth:`evaluation_params`
returns :math:`x` in either mode without changing anything (the runners record losses there).

Defaults (``schedulefree`` 1.4.1, ``SGDScheduleFree`` and ``AdamWScheduleFree``):

* ``ScheduleFreeSGD(lr=1.0, momentum=0.9, weight_decay=0, warmup_steps=0, r=0, weight_lr_power=2)``;
* ``ScheduleFreeAdamW(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, warmup_steps=0, r=0,
  weight_lr_power=2)``.

Conventions worth knowing (where the package, the paper and optlib differ):

* **Bias correction and the weights (AdamW).** The paper's Algorithm 1 folds Adam's bias correction
  into the rate, :math:`\gamma_t = \gamma\sqrt{1-\beta_2^t}\,\min(1, t/T_{\text{warmup}})`, so it also
  enters the weights :math:`c_t \propto \gamma_t^2` (the package keeps this form as
  ``AdamWScheduleFreePaper``). The package's default ``AdamWScheduleFree`` divides :math:`v_t` by
  :math:`1-\beta_2^t` inside the root, as Adam does, and leaves it out of the weights. optlib follows
  ``AdamWScheduleFree``.
* **The weights use the largest rate so far**, :math:`\gamma^{\max}_t`, where the paper writes
  :math:`\gamma_t^2`. The two agree during a warm-up and at a constant rate; when ``lr`` is lowered
  mid-run, the package (and optlib) keeps weighting new points by the old, larger rate.
* **The first point.** :math:`c_1 = 1`, so the average holds the iterates :math:`z_2, z_3, \dots` and
  not the start; the paper's :math:`c_{t+1} = 1/(t+1)` also averages in :math:`z_1`. optlib follows
  the package.
* **Weight decay** is taken at :math:`y` and added to the (normalised) step, so it moves :math:`z`
  and, through the average, :math:`x`: :math:`z_{t+1} = z_t - \gamma_t(\dots + \lambda y_t)`. For SGD
  this is the gradient of :math:`\tfrac\lambda2\|y\|^2`; for AdamW it is decoupled from the
  normalisation, as in AdamW.
* **What is stored.** The package's memory-saving classes keep :math:`y` (in the parameters) and
  :math:`z`, and recover :math:`x = (y - (1-\beta) z)/\beta` when switching to eval (hence their
  :math:`\beta > 0`). optlib stores :math:`z` and :math:`x`, as the package's
  ``SGDScheduleFreeReference`` and ``AdamWScheduleFreeReference`` do, so each line of the update is one
  of the equations above; the numbers agree with ``SGDScheduleFree`` and ``AdamWScheduleFree`` to
  rounding (tests/test_schedulefree_reference.py: 1e-10, float64). :math:`W_t` and
  :math:`\gamma^{\max}_t` are kept per parameter (``weight_sum``, ``lr_max``), as torch keeps its step
  count, so a ``state_dict`` carries them.
* **The first mode.** optlib starts in train mode, as ``SGDScheduleFreeReference`` does (the package's
  ``SGDScheduleFree`` and ``AdamWScheduleFree`` start in eval mode and need a ``train()`` first). Before
  the first step :math:`x = y = z`, so the two differ only in whether a first step is refused.
* A ``state_dict`` holds the mode (``"train_mode"``), not the parameters (as in torch, they are the
  model's): save and restore the parameters with it.

References: Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, "The Road Less Scheduled" (NeurIPS
2024); the ``schedulefree`` package (facebookresearch/schedule_free), version 1.4.1.
"""

from __future__ import annotations

import numpy as np

from .averages import leaky_average_of_squares
from .optimizer import Hyperparameter, Optimizer
from .validation import beta_pair, boolean, finite_non_negative, non_negative, non_negative_int

__all__ = ["ScheduleFree", "ScheduleFreeSGD", "ScheduleFreeAdamW"]


def _open_unit_interval(name, value, *, label=None):
    value = non_negative(name, value, label=label)
    if not 0.0 < value < 1.0:
        raise ValueError(f"Invalid {label or name}: {value} ({name} must lie strictly between 0 and 1)")
    return value


class ScheduleFree(Optimizer):
    """What schedule-free SGD and AdamW share: the averaging weights, the three points, train and eval.

    A subclass writes the step direction :math:`d_t` of its base optimizer (:meth:`_direction`) and
    names its interpolation coefficient :math:`\\beta` (:meth:`_beta`).
    """

    lr = Hyperparameter(non_negative, "learning rate")
    weight_decay = Hyperparameter(non_negative, "weight_decay value")
    warmup_steps = Hyperparameter(non_negative_int)
    r = Hyperparameter(finite_non_negative)
    weight_lr_power = Hyperparameter(finite_non_negative)

    def __init__(self, params, **hyperparameters):
        super().__init__(params, **hyperparameters)
        self._train_mode = True

    def _init_state(self, param):
        return {
            "z": param.copy(),      # z, the base sequence
            "x": param.copy(),      # x, the weighted average of the z's
            "weight_sum": 0.0,      # W, the sum of the averaging weights so far
            "lr_max": 0.0,          # the largest scheduled rate so far
        }

    def _beta(self) -> float:
        """The interpolation coefficient: y = beta x + (1 - beta) z."""
        raise NotImplementedError

    def _direction(self, grad, y, state):
        """The base optimizer's step direction d_t (before the rate), from the gradient taken at y."""
        raise NotImplementedError

    def _rate_and_weight(self, state):
        """The scheduled rate gamma_t and the averaging weight c_t of this step (updates W and the max rate)."""
        t = self.step_count
        # gamma_t = gamma min(1, t / T_warmup)
        lr = self.lr * (t / self.warmup_steps if t <= self.warmup_steps else 1.0)
        # gamma_max_t = max(gamma_max_{t-1}, gamma_t)
        state["lr_max"] = max(state["lr_max"], lr)
        # w_t = t^r (gamma_max_t)^p
        weight = t**self.r * state["lr_max"] ** self.weight_lr_power
        # W_t = W_{t-1} + w_t
        state["weight_sum"] += weight
        # c_t = w_t / W_t   (0 while W_t = 0)
        c = weight / state["weight_sum"] if state["weight_sum"] > 0 else 0.0
        return lr, c

    def _update(self, param, grad, state):
        y, z, x, beta = param, state["z"], state["x"], self._beta()
        lr, c = self._rate_and_weight(state)
        # d_t: the base optimizer's direction at y_t, weight decay lambda y_t included
        d = self._direction(grad, y, state)
        # z_{t+1} = z_t - gamma_t d_t
        z -= lr * d
        # x_{t+1} = (1 - c_t) x_t + c_t z_{t+1}
        x[...] = (1.0 - c) * x + c * z
        # y_{t+1} = beta x_{t+1} + (1 - beta) z_{t+1}
        y[...] = beta * x + (1.0 - beta) * z

    # --- train and eval -------------------------------------------------------------------------

    @property
    def train_mode(self) -> bool:
        """True while the parameters hold y (training), False while they hold x (after ``eval()``)."""
        return self._train_mode

    def eval(self) -> None:
        """Put the average x into the parameters (to evaluate, test or save); nothing else changes."""
        if self._train_mode:
            for param, state in zip(self.params, self.state, strict=True):
                param[...] = state["x"]
            self._train_mode = False

    def train(self) -> None:
        """Put y = beta x + (1 - beta) z back into the parameters, to take steps again."""
        if not self._train_mode:
            beta = self._beta()
            if self.step_count > 0:   # before the first step x = y = z: the parameters already hold it
                for param, state in zip(self.params, self.state, strict=True):
                    param[...] = beta * state["x"] + (1.0 - beta) * state["z"]
            self._train_mode = True

    def evaluation_params(self) -> list[np.ndarray]:
        """The average x, where the loss of the current iterate is measured (copies; no state changes)."""
        return [state["x"].copy() for state in self.state]

    def step(self, grads) -> None:
        """One update from gradients taken at y (the parameters in train mode). Refused in eval mode."""
        if not self._train_mode:
            raise RuntimeError(f"{type(self).__name__}.step was called in eval mode (the parameters hold the "
                               "average x): call train() before stepping, eval() before evaluating")
        super().step(grads)

    # --- checkpoints: the mode travels with the state --------------------------------------------

    def state_dict(self) -> dict:
        """The base class's state dict plus ``"train_mode"`` (which point the parameters hold)."""
        return {**super().state_dict(), "train_mode": self._train_mode}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``, mode included, all or nothing. The parameters are not in it: restore
        them from the same checkpoint (they hold y if it was saved in train mode, x in eval mode)."""
        if isinstance(state_dict, dict):
            if "train_mode" not in state_dict:
                raise ValueError("state_dict lacks ['train_mode']: it must come from "
                                 f"{type(self).__name__}.state_dict()")
            mode = boolean("state_dict['train_mode']", state_dict["train_mode"])
        super().load_state_dict(state_dict)   # checks the rest; raises before changing anything
        self._train_mode = mode


class ScheduleFreeSGD(ScheduleFree):
    """Schedule-free SGD: SGD steps on z, their running average x, gradients taken between them at y.

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = ScheduleFreeSGD([theta], lr=0.5, momentum=0.5)
    >>> opt.step([theta.copy()])        # gradient of |theta|^2 / 2: z = 0.5 theta, x = z (c_1 = 1)
    >>> theta                           # y = 0.5 x + 0.5 z
    array([ 0.5, -1. ])
    >>> opt.eval(); theta               # the parameters now hold the average x
    array([ 0.5, -1. ])
    """

    momentum = Hyperparameter(_open_unit_interval, "momentum")

    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power)

    def _beta(self):
        return self.momentum

    def _direction(self, grad, y, state):
        # d_t = g_t + lambda y_t
        return grad + self.weight_decay * y if self.weight_decay != 0 else grad


class ScheduleFreeAdamW(ScheduleFree):
    """Schedule-free AdamW: Adam-normalised steps on z (no first moment: the averaging replaces it).

    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0])
    >>> opt = ScheduleFreeAdamW([theta], lr=0.1, eps=0.0)
    >>> opt.step([np.array([3.0, -0.5])])   # z = theta - 0.1 sign(g), x = z, y = z
    >>> theta
    array([ 0.9, -1.9])
    """

    betas = Hyperparameter(beta_pair, "betas")
    eps = Hyperparameter(non_negative, "epsilon value")

    def __init__(self, params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0,
                 r=0.0, weight_lr_power=2.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power)

    def _init_state(self, param):
        return {**super()._init_state(param), "exp_avg_sq": np.zeros_like(param)}   # v, the second moment

    def _beta(self):
        return self.betas[0]

    def _direction(self, grad, y, state):
        beta2, t = self.betas[1], self.step_count
        v = state["exp_avg_sq"]
        # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        leaky_average_of_squares(v, grad, beta2)
        # d_t = g_t / (sqrt(v_t / (1 - beta2^t)) + eps) + lambda y_t
        d = grad / (np.sqrt(v / (1.0 - beta2**t)) + self.eps)
        return d + self.weight_decay * y if self.weight_decay != 0 else d
