"""optlib: the optimizers of "How deep-learning optimizers work", in NumPy.

Every optimizer speaks torch.optim's language (class names, keyword names, defaults, update
semantics) and updates a list of NumPy arrays in place::

    import numpy as np
    from optlib import SGD

    theta = np.array([1.0, -2.0])
    opt = SGD([theta], lr=0.1)
    opt.step([2 * theta])          # gradient of |theta|^2

Modules, each with one job (the import graph flows from figures and widgets down to optimizers);
tests/test_validation.py checks that this list names every module:

* ``optlib.optimizer``: the base class (checks, in-place updates, checkpoints);
* one module per optimizer (``optlib.sgd``, ``optlib.adagrad``, ..., ``optlib.muon``, ``optlib.shampoo``,
  ``optlib.soap``);
* ``optlib.averages``: the leaky (exponential moving) averages the optimizers share;
* ``optlib.validation``: argument checks shared by the whole package (each names the argument; a wrong
  type is a TypeError, a wrong value a ValueError);
* ``optlib.surfaces``: 2-D test functions with analytic gradients and known minima;
* ``optlib.problems``: finite-sum problems (least squares, a sparse bag of words) behind one interface,
  ``FiniteSum``, and seeded mini-batches;
* ``optlib.real_data``: the digits and diabetes sets bundled with scikit-learn;
* ``optlib.losses``: loss functions with their gradients;
* ``optlib.models``: linear models and a small MLP with hand-written backprop, and their training loop
  over epochs and seeds (``train``, ``lr_sweep``);
* ``optlib.gradcheck``: a finite-difference gradient checker;
* ``optlib.statistics``: summaries of a result over seeds (``seed_band``: the median or the mean, and the range);
* ``optlib.trajectory``: run an optimizer on a surface (``run``) or on mini-batches of a finite sum
  (``run_stochastic``); one result type (``Trajectory``) and one divergence rule;
* ``optlib.schedules``: learning-rate schedules as functions of the step;
* ``optlib.iteration_matrices``: the 2x2 maps of heavy ball and Nesterov on a quadratic;
* ``optlib.plots``: contour and loss figures, one colour per optimizer;
* ``optlib.explorers``: live ipywidgets explorers and their kernel-free website form;
* ``optlib.source``: show optlib's own source in a chapter.

Adding an optimizer, its explorer and its chapter: the few rules are in ``optlib/README.md``.
"""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lion import Lion
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .schedulefree import ScheduleFreeAdamW, ScheduleFreeSGD
from .sgd import SGD
from .shampoo import Shampoo
from .soap import SOAP

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adadelta", "Adamax", "RAdam",
           "Lion", "Muon", "ScheduleFreeSGD", "ScheduleFreeAdamW", "Shampoo", "SOAP"]
__version__ = "0.1.0"

# The book's toolkit, as submodules: optlib.surfaces.quadratic(...), optlib.trajectory.run(...), ...
from . import gradcheck, losses, schedules, source, surfaces, trajectory  # noqa: E402, F401


def __getattr__(name):
    """``optlib.plots`` is imported on first use: ``import optlib`` does not import matplotlib."""
    if name == "plots":
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'optlib' has no attribute {name!r}")
