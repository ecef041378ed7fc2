"""Interactive explorers, one module per chapter, on a shared base (live in Jupyter, precomputed on the web).

:data:`CHAPTER_EXPLORERS` is the registry of the chapters' explorers: which chapter shows which, and
how the tests and the latency benchmark build it.
"""

from .base import Choice, Explorer, Line, Panel, Series, Slider, explorer_mode
from .ch01_gradients import gradient_explorer
from .ch02_gradient_descent import gradient_descent_explorer
from .ch03_sgd import sgd_explorer
from .ch04_minibatch import minibatch_explorer
from .ch05_momentum import momentum_explorer
from .ch06_nesterov import nesterov_explorer
from .ch07_adagrad import adagrad_explorer
from .ch08_rmsprop import rmsprop_explorer
from .ch09_adam import adam_explorer
from .ch11_after_adam import after_adam_explorer, newton_schulz_explorer
from .ch12_schedules import schedule_explorer
from .ch13_schedule_free import schedule_free_explorer
from .choosing import choosing_explorer
from .surface import surface_explorer

__all__ = ["Choice", "Explorer", "Line", "Panel", "Series", "Slider", "explorer_mode", "surface_explorer",
           "gradient_explorer", "gradient_descent_explorer", "sgd_explorer", "minibatch_explorer",
           "momentum_explorer", "nesterov_explorer", "adagrad_explorer", "rmsprop_explorer", "adam_explorer",
           "choosing_explorer", "after_adam_explorer", "newton_schulz_explorer", "schedule_explorer",
           "schedule_free_explorer", "CHAPTER_EXPLORERS"]

#: Every explorer a chapter shows: ``name -> (chapter file, factory)``. ``choosing_explorer`` takes the
#: chapter's study as its argument (the registry's tests build a small one).
CHAPTER_EXPLORERS = {
    "gradient_explorer": ("chapters/01_loss_functions.ipynb", gradient_explorer),
    "gradient_descent_explorer": ("chapters/02_gradient_descent.ipynb", gradient_descent_explorer),
    "sgd_explorer": ("chapters/03_sgd.ipynb", sgd_explorer),
    "minibatch_explorer": ("chapters/04_minibatch.ipynb", minibatch_explorer),
    "momentum_explorer": ("chapters/05_momentum.ipynb", momentum_explorer),
    "nesterov_explorer": ("chapters/06_nesterov.ipynb", nesterov_explorer),
    "adagrad_explorer": ("chapters/07_adagrad.ipynb", adagrad_explorer),
    "rmsprop_explorer": ("chapters/08_rmsprop.ipynb", rmsprop_explorer),
    "adam_explorer": ("chapters/09_adam.ipynb", adam_explorer),
    "choosing_explorer": ("chapters/10_choosing.ipynb", choosing_explorer),
    "after_adam_explorer": ("chapters/11_after_adam.ipynb", after_adam_explorer),
    "newton_schulz_explorer": ("chapters/11_after_adam.ipynb", newton_schulz_explorer),
    "schedule_explorer": ("chapters/12_schedules.ipynb", schedule_explorer),
    "schedule_free_explorer": ("chapters/13_schedule_free.ipynb", schedule_free_explorer),
}
