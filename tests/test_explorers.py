"""Every explorer exported by optlib.explorers: its figure, its live controls, its static player.

The live form is tested here, in-process, rather than in the notebooks: executing live widgets
headless can stall the notebook client (jupyter/nbclient#312), so notebooks run with the static form.
"""

import re
import warnings

import matplotlib
import pytest

import optlib.explorers as explorers
from optlib.explorers.catalog import chapter_explorers

matplotlib.use("Agg")

FACTORIES = sorted(chapter_explorers())


@pytest.fixture(params=FACTORIES)
def explorer(request):
    return getattr(explorers, request.param)()


def test_there_are_explorers():
    assert "gradient_descent_explorer" in FACTORIES


def test_default_figure_draws_without_warnings(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = explorer.figure()
        figure.canvas.draw()
    assert figure.axes, "the explorer drew nothing"


def test_live_controls_redraw_with_the_new_value(explorer, monkeypatch):
    calls = []
    original = explorer.draw
    monkeypatch.setattr(explorer, "draw", lambda fig, **params: (calls.append(params), original(fig, **params)))
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    box = explorer.live()
    controls = {child.description: child for child in box.children[0].children}
    sweep = next(c for c in explorer.controls if c.name == explorer.sweep)
    widget = controls[sweep.label or sweep.name]
    new_value = explorer.sweep_values()[-1]
    if new_value == widget.value:
        new_value = explorer.sweep_values()[0]
    calls.clear()
    widget.value = new_value
    assert calls, "changing the control did not redraw"
    assert calls[-1][explorer.sweep] == pytest.approx(widget.value)


def test_static_player_has_distinct_frames(explorer):
    html = explorer.static()
    frames = re.findall(r'frames\[\d+\] = "data:image/[a-z+]+;base64,([^"]+)"', html)
    assert len(frames) == explorer.frames or len(frames) == len(explorer.sweep_values())
    assert len(set(frames)) == len(frames), "two frames of the player are identical"
    assert len(html) < 2_500_000, "a player this large would push its page past 3 MB"
