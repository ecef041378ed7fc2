"""Interactive explorers, one module per chapter, on a shared base (live in Jupyter, static on the web)."""

from .adagrad import adagrad_explorer
from .adam import adam_explorer
from .after_adam import after_adam_explorer, newton_schulz_explorer
from .base import Choice, Explorer, Slider, explorer_mode
from .choosing import choosing_explorer
from .gradient_descent import gradient_descent_explorer
from .gradients import gradient_explorer
from .minibatch import minibatch_explorer
from .momentum import momentum_explorer
from .nesterov import nesterov_explorer
from .rmsprop import rmsprop_explorer
from .schedules import schedule_explorer
from .sgd import sgd_explorer
from .surface import draw_runs, surface_explorer

__all__ = ["Choice", "Explorer", "Slider", "explorer_mode", "surface_explorer", "draw_runs",
           "gradient_descent_explorer", "gradient_explorer",
           "momentum_explorer", "nesterov_explorer",
           "adagrad_explorer", "rmsprop_explorer", "adam_explorer",
           "after_adam_explorer", "newton_schulz_explorer", "schedule_explorer",
           "sgd_explorer", "minibatch_explorer", "choosing_explorer"]
