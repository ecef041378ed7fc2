"""The website's controls and how its numbers are stored, checked on every explorer of the registry
(no browser, no build: ``optlib.explorers.CHAPTER_EXPLORERS``, so a new chapter's explorer is covered as soon as
it is registered).

* **Dense controls.** Every slider offers at least ``MIN_SLIDER_VALUES`` (8) values, each shown as a different
  text; a learning rate (a control
  named ``lr`` or ``*_lr``) at least 12, log-spaced (consecutive ratios within a factor 2.5 of each other); no
  control offers a single value; a control of two values is a menu or a checkbox, never a slider.
* **Stored numbers.** The chunks keep ``MANTISSA_BITS`` of float64's 52 mantissa bits, rounded: the relative
  error is at most ``PRECISION`` (2**-13, about 1.2e-4: a tenth of a pixel on an 800-pixel panel), on random
  numbers of every magnitude float64 has; NaN and infinities are kept.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlib.explorers import CHAPTER_EXPLORERS
from optlib.explorers.site import MANTISSA_BITS, MIN_SLIDER_VALUES, PRECISION, site_grid, stored, value_texts

#: Controls whose values come from elsewhere, with the reason: chapter 10's learning rates are the grid its
#: study trained (chapters/10_choosing.ipynb), not a choice of the site.
STUDY_GRID = {("choosing_explorer", "lr"), ("choosing_explorer", "reference_lr")}


def tiny_study():
    """A study small enough to build chapter 10's explorer for its labels (the chapter trains the real one)."""
    import numpy as np

    from optlib import SGD, Adam
    from optlib.models import MLP, lr_sweep
    from optlib.real_data import load_digits

    return lr_sweep(MLP(64, 4, 10, activation="relu"), load_digits(), {"SGD": (SGD, {}), "Adam": (Adam, {})},
                    10.0 ** np.arange(-3.0, 0.1, 1.0), epochs=1, batch_size=512, seeds=range(2))


def build(name):
    factory = CHAPTER_EXPLORERS[name][1]
    return factory(tiny_study()) if name == "choosing_explorer" else factory()


def density_problems(controls: list[dict], explorer: str = "") -> list[str]:
    problems = []
    for control in controls:
        label, values, kind = control["label"], control["values"], control["kind"]
        if len(values) < 2:
            problems.append(f"{label!r} offers a single value")
        if len(set(value_texts(values))) < len(values):
            problems.append(f"{label!r} shows two values alike: {value_texts(values)}")
        if kind == "range" and len(values) < MIN_SLIDER_VALUES:
            problems.append(f"slider {label!r} has {len(values)} values (at least {MIN_SLIDER_VALUES})")
        if len(values) == 2 and kind not in ("select", "checkbox"):
            problems.append(f"{label!r} has two values but is a {kind}, not a menu or a checkbox")
        learning_rate = control["name"] == "lr" or control["name"].endswith("_lr")
        if learning_rate and (explorer, control["name"]) not in STUDY_GRID:
            if len(values) < 12:
                problems.append(f"learning rate {label!r} has {len(values)} values (at least 12)")
            ratios = np.diff(np.log(np.asarray(values, dtype=float)))
            if len(ratios) and (ratios.min() <= 0 or np.exp(ratios.max() - ratios.min()) > 2.5):
                problems.append(f"learning rate {label!r} is not log-spaced: {values}")
    return problems


def test_the_density_check_finds_what_it_should():
    coarse = [dict(name="lr", label="η", kind="range", values=[0.01, 0.1, 1.0]),
              dict(name="seed", label="seed", kind="select", values=[0]),
              dict(name="beta2", label="β₂", kind="range", values=[0.99, 0.999]),
              dict(name="lr", label="η2", kind="range", values=list(np.linspace(0.01, 1, 12)))]
    found = density_problems(coarse)
    assert any("single value" in p for p in found) and any("'β₂' has two values" in p for p in found)
    assert any("'η' has 3 values" in p for p in found) and any("'η2' is not log-spaced" in p for p in found)
    dense = [dict(name="lr", label="η", kind="range", values=list(np.geomspace(0.01, 1, 12))),
             dict(name="amsgrad", label="AMSGrad", kind="checkbox", values=["no", "yes"])]
    assert density_problems(dense) == []


@pytest.mark.parametrize("name", sorted(CHAPTER_EXPLORERS))
def test_every_control_is_dense(name):
    controls, settings = site_grid(build(name))
    problems = density_problems(controls, name)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
    assert len(settings) == int(np.prod([len(c["values"]) for c in controls]))


def test_stored_numbers_keep_their_precision():
    rng = np.random.default_rng(0)
    values = rng.standard_normal(100_000) * 10.0 ** rng.uniform(-300, 300, 100_000)
    error = np.abs(stored(values) - values) / np.abs(values)
    assert error.max() <= PRECISION == 2.0 ** -(MANTISSA_BITS + 1)
    assert error.max() > PRECISION / 2   # the bound is reached: the rounding keeps no more than it says
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])
    np.testing.assert_array_equal(stored(special), special)
