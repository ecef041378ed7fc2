"""Chapter "Preconditioning: Shampoo and SOAP": the preconditioner as an ellipse on a rotated valley, and
Adam, Shampoo, SOAP and Muon on a matrix problem whose curvature is a Kronecker product."""

from __future__ import annotations

import functools

import numpy as np

from ..adagrad import Adagrad
from ..adam import Adam
from ..muon import Muon
from ..plots import color
from ..shampoo import Shampoo
from ..soap import SOAP
from ..surfaces import quadratic
from ..trajectory import has_diverged, loss_gap
from .base import Explorer, Line, Panel, Series, Slider, explorer_factory

__all__ = ["preconditioner_explorer", "kronecker_explorer", "valley", "preconditioned_run", "rotation",
           "kronecker_quadratic", "matrix_loss", "MATRIX_OPTIMIZERS", "matrix_run",
           "FullMatrixAdaGrad"]

#: The valley of the first explorer: a quadratic with condition number 50, turned by the explorer's angle.
VALLEY_KAPPA = 50.0
VALLEY_START = (-3.0, 2.5)
#: The steps after which the explorer draws the preconditioner's ellipse.
ELLIPSE_STEPS = (2, 5, 10, 30)
FULL = "Shampoo on θ (full-matrix AdaGrad)"
DIAGONAL = "Adagrad (diagonal)"


def valley(angle_degrees: float):
    """The rotated quadratic :math:`\\tfrac12 \\theta^\\top H \\theta`, condition number 50, its flat
    direction turned by ``angle_degrees`` from the x axis (0: the axes are the valley's axes)."""
    return quadratic(VALLEY_KAPPA, angle=np.radians(angle_degrees) + np.pi / 2)


def preconditioner(opt) -> np.ndarray:
    """The matrix that multiplies the gradient in ``opt``'s last step: :math:`C_t^{-1/2}` for Shampoo on a
    vector (full-matrix AdaGrad), :math:`\\operatorname{diag}(1/(\\sqrt{s_t} + \\epsilon))` for Adagrad."""
    if isinstance(opt, Shampoo):
        return opt.state[0]["inv_pre_cond_0"]
    return np.diag(1.0 / (np.sqrt(opt.state[0]["sum"]) + opt.eps))


def ellipse(center, P: np.ndarray, radius: float, points: int = 41) -> np.ndarray:
    r"""The ellipse :math:`\{x : x^\top P^{-1} x = 1\}` (the steps of unit length in the geometry that the
    preconditioner ``P`` defines: its semi-axes are the square roots of ``P``'s eigenvalues), scaled so that
    its longest radius is ``radius``, around ``center``. For the ideal :math:`P = H^{-1}` it has the shape of
    the contour lines of :math:`\tfrac12 \theta^\top H \theta`."""
    w, V = np.linalg.eigh(P)
    root = (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T
    angle = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return np.asarray(center)[:, None] + radius * (root @ circle) / np.sqrt(w.max())


@functools.lru_cache(maxsize=512)
def preconditioned_run(optimizer: str, lr: float, angle: float, steps: int = 40):
    """``(points, losses, {step: P_step})``: full-matrix AdaGrad (``FULL``) or Adagrad (``DIAGONAL``) on
    :func:`valley`, and the preconditioner after each step of :data:`ELLIPSE_STEPS`."""
    surface = valley(angle)
    theta = np.array(VALLEY_START)
    opt = Shampoo([theta], lr=lr) if optimizer == FULL else Adagrad([theta], lr=lr)
    points, matrices = [theta.copy()], {}
    for t in range(1, steps + 1):
        opt.step([surface.gradient(theta)])
        points.append(theta.copy())
        if t in ELLIPSE_STEPS:
            matrices[t] = preconditioner(opt).copy()
    points = np.array(points)
    losses = surface.value(points)
    dead = np.logical_or.accumulate(has_diverged(losses))
    points[dead], losses[dead] = np.nan, np.nan
    return points, losses, matrices


def _final(losses: np.ndarray, min_value: float) -> str:
    """A drawn run's last loss gap for a title: a number, or "diverged" (the run's losses are NaN from its
    divergence on)."""
    return "diverged" if np.isnan(losses[-1]) else f"{max(losses[-1] - min_value, 0.0):.1e}"


@explorer_factory
def preconditioner_explorer(steps: int = 40) -> Explorer:
    """Full-matrix AdaGrad and diagonal Adagrad on a turned valley: their paths, and each preconditioner
    drawn as an ellipse (:func:`ellipse`) after steps 2, 5, 10 and 30, nested around the minimum."""
    runs = [FULL, DIAGONAL]

    def contour(params):
        angle = float(params["angle"])
        return f"valley at {angle:g} degrees", valley(angle)

    def compute(lr, angle):
        lr, angle = float(lr), float(angle)
        f_star = valley(angle).min_value
        out, ends = {}, []
        for i, name in enumerate(runs):
            points, losses, matrices = preconditioned_run(name, lr, angle, steps)
            c = color(name)
            out[f"path{i}"] = Series(points[:, 0], points[:, 1], name, c)
            gap = loss_gap(losses, f_star)
            ends.append(_final(losses, f_star))
            out[f"loss{i}"] = Series(np.arange(len(gap)), gap, name, c)
            shapes = [ellipse((0.0, 0.0), P, 0.8 * (k + 1)) for k, P in enumerate(matrices.values())
                      if np.all(np.isfinite(P))]
            xs = np.concatenate([np.append(e[0], np.nan) for e in shapes] or [[np.nan]])
            ys = np.concatenate([np.append(e[1], np.nan) for e in shapes] or [[np.nan]])
            out[f"ellipse{i}"] = Series(xs, ys, f"{name.split()[0]}, after steps {', '.join(map(str, matrices))}", c)
        out["title"] = (f"Valley turned by φ = {angle:g}°, η = {lr:.3g}: after {steps} steps "
                        f"f − f* is {ends[0]} for full-matrix AdaGrad and {ends[1]} for Adagrad")
        return out

    panels = [
        Panel(tuple(Line(f"path{i}", color(name), style="line+markers", width=1.3) for i, name in enumerate(runs)),
              xlabel="θ₁", ylabel="θ₂", contour=contour, xlim=(-3.5, 3.5), ylim=(-3.5, 3.5)),
        Panel(tuple(Line(f"ellipse{i}", color(name), width=1.3) for i, name in enumerate(runs)),
              xlabel="θ₁", ylabel="θ₂", contour=contour, xlim=(-3.5, 3.5), ylim=(-3.5, 3.5),
              title="preconditioner ellipses"),
        Panel(tuple(Line(f"loss{i}", color(name), legend=False) for i, name in enumerate(runs)),
              xlabel="step t", ylabel="f(θ_t) − f*", ylog=True, width=1.2, ylim=(1e-12, 1e2)),
    ]
    controls = [
        Slider("lr", 0.03, 10.0, 3.0, log=True, label="learning rate η",
               grid=[0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0]),
        Slider("angle", 0.0, 90.0, 45.0, label="valley angle φ (degrees)", step=5.0,
               grid=[0.0, 10.0, 20.0, 30.0, 45.0, 60.0, 70.0, 80.0, 90.0]),
    ]
    return Explorer(compute, controls, panels, figsize=(12.0, 3.8))


# --- a matrix problem with Kronecker-factored curvature ----------------------------------------------

def rotation(n: int, angle_degrees: float) -> np.ndarray:
    """An ``n x n`` rotation that turns every pair of axes (0, 1), (2, 3), ... and then (0, 2), (1, 3), ...
    by ``angle_degrees``: the identity at 0, and at 45 degrees every new axis mixes all old ones equally
    (for ``n = 4``)."""
    c, s = np.cos(np.radians(angle_degrees)), np.sin(np.radians(angle_degrees))
    R = np.eye(n)
    for stride in (1, 2):
        for i in range(n):
            j = i + stride
            if (i // stride) % 2 or j >= n:
                continue
            G = np.eye(n)
            G[[i, i, j, j], [i, j, i, j]] = c, -s, s, c
            R = G @ R
    return R


def kronecker_quadratic(seed: int, angle_degrees: float = 45.0, kappa: float = 100.0, shape=(4, 4)):
    r"""``(A, B, W_star, W0)`` of the matrix problem
    :math:`f(W) = \tfrac12 \operatorname{tr}\big((W - W_\star)^\top A (W - W_\star) B\big)`, whose gradient is
    :math:`A (W - W_\star) B` and whose Hessian is :math:`A \otimes B`.

    :math:`A` and :math:`B` have eigenvalues spread geometrically over :math:`[1, \kappa]` (so the Hessian's
    condition number is :math:`\kappa^2`); the whole problem (:math:`A, B, W_\star, W_0`) is the axis-aligned
    one seen in coordinates turned by :func:`rotation` on both sides, :math:`W \mapsto U W V^\top`. ``seed``
    draws :math:`W_\star` and :math:`W_0` (standard normal).
    """
    m, n = shape
    rng = np.random.default_rng(seed)
    W_star, W0 = rng.standard_normal(shape), rng.standard_normal(shape)
    U, V = rotation(m, angle_degrees), rotation(n, angle_degrees)
    A = U @ np.diag(np.geomspace(1.0, kappa, m)) @ U.T
    B = V @ np.diag(np.geomspace(1.0, kappa, n)) @ V.T
    return A, B, U @ W_star @ V.T, U @ W0 @ V.T


def matrix_loss(A, B, W_star, W) -> float:
    """:math:`f(W) - f^\\star` (:math:`f^\\star = 0`)."""
    E = W - W_star
    return 0.5 * float(np.sum(E * (A @ E @ B)))


class FullMatrixAdaGrad:
    """Shampoo on :math:`\\mathrm{vec}(W)`: full-matrix AdaGrad of a matrix (an ``mn x mn`` statistic),
    for comparison; it steps a flat view of the matrix with optlib's Shampoo."""

    elementwise = False

    def __init__(self, params, **hyperparameters):
        self.flat = params[0].reshape(-1)   # a view: stepping it steps the matrix
        self.optimizer = Shampoo([self.flat], **hyperparameters)

    def step(self, grads):
        self.optimizer.step([grads[0].reshape(-1)])


#: name -> (class, keyword arguments, η*: the learning rate the chapter's study finds best at 45 degrees,
#: rounded; the chapter checks that it is). SOAP runs with Adam's betas, so that the two differ mainly in
#: the basis (chapter 14 lists the rest); no weight decay, so that the minimum stays at W_star.
MATRIX_OPTIMIZERS = {
    "Adam": (Adam, {"betas": (0.9, 0.999)}, 0.3),
    "SOAP": (SOAP, {"betas": (0.9, 0.999), "weight_decay": 0.0}, 0.3),
    "Shampoo": (Shampoo, {}, 1.8),
    "Muon": (Muon, {"weight_decay": 0.0}, 0.056),
    "full-matrix AdaGrad": (FullMatrixAdaGrad, {"matrix_eps": 1e-10}, 1.8),
}


def matrix_run(name: str, lr: float, problem, steps: int, target: float | None = None,
               ceiling: float | None = None) -> np.ndarray:
    """Relative losses :math:`(f(W_t) - f^\\star)/(f(W_0) - f^\\star)` for :math:`t = 0, 1, \\ldots` of optimizer
    ``name`` (:data:`MATRIX_OPTIMIZERS`) at learning rate ``lr``; the run stops early once it diverges
    (the book's rule), reaches ``target`` or rises above ``ceiling`` (if given)."""
    cls, kwargs, _ = MATRIX_OPTIMIZERS[name]
    A, B, W_star, W0 = problem
    W = W0.copy()
    f0 = matrix_loss(A, B, W_star, W)
    opt = cls([W], lr=lr, **kwargs)
    losses = [1.0]
    for _ in range(steps):
        opt.step([A @ (W - W_star) @ B])
        losses.append(matrix_loss(A, B, W_star, W) / f0)
        if has_diverged(losses[-1]) or (target is not None and losses[-1] <= target) \
                or (ceiling is not None and losses[-1] > ceiling):
            break
    return np.array(losses)


#: The loss (relative to the start) at which the chapter counts the steps, and the explorer's title.
TARGET = 1e-4


def _superscript(n: int) -> str:
    return str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


@functools.lru_cache(maxsize=2048)
def _matrix_curve(name: str, multiplier: float, angle: float, steps: int) -> np.ndarray:
    lr = MATRIX_OPTIMIZERS[name][2] * multiplier
    losses = np.full(steps + 1, np.nan)
    run = matrix_run(name, lr, kronecker_quadratic(0, angle), steps)
    losses[:len(run)] = np.where(has_diverged(run), np.nan, run)
    return losses


@explorer_factory
def kronecker_explorer(steps: int = 150) -> Explorer:
    """Adam, SOAP, Shampoo, Muon and full-matrix AdaGrad on :func:`kronecker_quadratic` (seed 0), each at
    its own learning rate times a common factor, as the problem's axes turn away from the matrix's."""
    names = list(MATRIX_OPTIMIZERS)
    t = np.arange(steps + 1)

    def compute(angle, multiplier):
        angle, multiplier = float(angle), float(multiplier)
        out, reached = {}, []
        for i, name in enumerate(names):
            lr = MATRIX_OPTIMIZERS[name][2] * multiplier
            curve = _matrix_curve(name, multiplier, angle, steps)
            out[f"loss{i}"] = Series(t, curve, f"{name}, η = {lr:.3g}", color(name))
            hit = np.flatnonzero(curve <= TARGET)
            reached.append(f"{name} {hit[0]}" if len(hit) else f"{name} > {steps}")
        out["title"] = (f"Axes turned by φ = {angle:g}°, η = {multiplier:.3g} × best; steps to "
                        f"10{_superscript(round(np.log10(TARGET)))} of the start loss: " + ", ".join(reached))
        return out

    panels = [Panel(tuple(Line(f"loss{i}", color(name), dash="dotted" if "full" in name else "solid")
                          for i, name in enumerate(names)),
                    xlabel="step t", ylabel="(f(W_t) − f*) / (f(W_0) − f*)", ylog=True, ylim=(1e-8, 1e2))]
    controls = [
        Slider("angle", 0.0, 45.0, 45.0, label="rotation of the axes φ (degrees)", step=5.0,
               grid=[0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0]),
        Slider("multiplier", 0.1, 10.0, 1.0, log=True, label="learning rate η / best η",
               grid=[0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0]),
    ]
    return Explorer(compute, controls, panels, figsize=(9.0, 3.8))
