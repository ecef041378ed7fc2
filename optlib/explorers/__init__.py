"""Interactive explorers, one module per chapter, on a shared base (live in Jupyter, precomputed on the web).

Changed in issue 20, for whoever writes an explorer: decorate the factory with ``@explorer_factory``
(from ``.base``) instead of passing ``name=`` to ``Explorer``/``surface_explorer``, and register it with one
line of ``_REGISTRY`` below (no import, no ``__all__`` entry). The parts (``Slider``, ``Choice``,
``Series``, ``Line``, ``Panel``) live in ``parts.py`` and are still imported from ``.base`` or from here.
A run's legend label is ``base.run_label(label, path)``; its loss panel ``trajectory.loss_gap``; a contour
panel's window ``Explorer.window``. Gone (unused or replaced): ``Explorer.control``,
``Explorer.site_settings``, ``site.site_sizes``, ``site.BOKEH_JS``, ``Slider.widget``/``Choice.widget``
(now ``live.control_widget``), ``LiveFigure.backgrounds`` (``reused`` and ``full_draws`` remain). The
live widget sends slider values while dragged and draws them through ``live.Throttle`` (tests wait with
``box.redraw.wait()``); it shows the title and the legend as text (``LiveFigure(..., legend_in_image=False)``).

:data:`CHAPTER_EXPLORERS` is the registry of the chapters' explorers: which chapter shows which, and
how the tests and the latency benchmark build it. A new explorer is one module (see ``ch05_momentum.py``)
and one line of ``_REGISTRY``; its name is its factory's, and ``from optlib.explorers import <name>`` works.
"""

from importlib import import_module

from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_factory, explorer_mode
from .surface import cached_run, surface_explorer

#: ``(chapter notebook, "module.factory")``, one line per explorer, in the book's order.
_REGISTRY = [
    ("chapters/01_loss_functions.ipynb", "ch01_gradients.gradient_explorer"),
    ("chapters/02_gradient_descent.ipynb", "ch02_gradient_descent.gradient_descent_explorer"),
    ("chapters/03_sgd.ipynb", "ch03_sgd.sgd_explorer"),
    ("chapters/04_minibatch.ipynb", "ch04_minibatch.minibatch_explorer"),
    ("chapters/05_momentum.ipynb", "ch05_momentum.momentum_explorer"),
    ("chapters/06_nesterov.ipynb", "ch06_nesterov.nesterov_explorer"),
    ("chapters/07_adagrad.ipynb", "ch07_adagrad.adagrad_explorer"),
    ("chapters/08_rmsprop.ipynb", "ch08_rmsprop.rmsprop_explorer"),
    ("chapters/09_adam.ipynb", "ch09_adam.adam_explorer"),
    ("chapters/10_choosing.ipynb", "choosing.choosing_explorer"),
    ("chapters/11_after_adam.ipynb", "ch11_after_adam.after_adam_explorer"),
    ("chapters/11_after_adam.ipynb", "ch11_after_adam.newton_schulz_explorer"),
    ("chapters/12_schedules.ipynb", "ch12_schedules.schedule_explorer"),
    ("chapters/13_schedule_free.ipynb", "ch13_schedule_free.schedule_free_explorer"),
    ("chapters/14_preconditioning.ipynb", "ch14_preconditioning.preconditioner_explorer"),
    ("chapters/14_preconditioning.ipynb", "ch14_preconditioning.kronecker_explorer"),
]


def _factory(where: str):
    module, name = where.split(".")
    return getattr(import_module(f".{module}", __name__), name)


#: Every explorer a chapter shows: ``name -> (chapter notebook, factory)``, the name being the factory's.
#: ``choosing_explorer`` takes the chapter's study as its argument (the registry's tests build a small one).
CHAPTER_EXPLORERS = {factory.__name__: (chapter, factory)
                     for chapter, factory in ((chapter, _factory(where)) for chapter, where in _REGISTRY)}
globals().update({name: factory for name, (_, factory) in CHAPTER_EXPLORERS.items()})

__all__ = ["Choice", "Explorer", "Line", "Panel", "Series", "Slider", "explorer_factory", "explorer_mode",
           "surface_explorer", "cached_run", "CHAPTER_EXPLORERS", *CHAPTER_EXPLORERS]
