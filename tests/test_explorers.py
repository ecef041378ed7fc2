"""Every chapter's explorer: its data, its live form (in-process) and its site form's grid.

The live form is tested here rather than in the notebooks: executing live widgets headless can stall
the notebook client (jupyter/nbclient#312), so notebooks run with the site form. The site form in the
browser is tested by tests/test_site_explorers.py.
"""

import html
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest

from optlib import SGD
from optlib.explorers import CHAPTER_EXPLORERS, Choice, Explorer, Line, Panel, Series, Slider
from optlib.explorers.site import format_value, site_grid
from optlib.models import MLP, lr_sweep
from optlib.surfaces import get_surface
from optlib.trajectory import run

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def small_sweep():
    """A small study for chapter 10's explorer (the chapter computes the real one)."""
    from optlib.adam import Adam
    from optlib.real_data import load_digits

    contenders = {"SGD": (SGD, {}), "Adam": (Adam, {})}
    return lr_sweep(MLP(64, 8, 10, activation="relu"), load_digits(), contenders, 10.0 ** np.arange(-3.0, 0.1, 1.0),
                    epochs=2, batch_size=256, seeds=range(2))


def build(name, small_sweep=None):
    factory = CHAPTER_EXPLORERS[name][1]
    return factory(small_sweep) if name == "choosing_explorer" else factory()


@pytest.fixture(params=sorted(CHAPTER_EXPLORERS))
def explorer(request, small_sweep):
    return build(request.param, small_sweep)


def test_the_registry_names_every_chapter_explorer():
    import optlib.explorers as explorers

    exported = {name for name in explorers.__all__ if name.endswith("_explorer") and name != "surface_explorer"}
    assert exported == set(CHAPTER_EXPLORERS)
    for name, (chapter, _) in CHAPTER_EXPLORERS.items():
        with open(chapter, encoding="utf-8") as notebook:
            assert f"{name}(" in notebook.read(), f"{chapter} does not show {name}"


def test_default_figure_draws_without_warnings(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = explorer.figure()
        figure.canvas.draw()
    assert figure.axes, "the explorer drew nothing"


def _differs(a: dict, b: dict) -> bool:
    for key in (set(a) | set(b)) - {"title"}:
        if (a.get(key) is None) != (b.get(key) is None):
            return True
        if a.get(key) is not None and not (np.array_equal(a[key].x, b[key].x, equal_nan=True)
                                          and np.array_equal(a[key].y, b[key].y, equal_nan=True)):
            return True
    return False


def test_every_control_changes_the_data(explorer):
    """Moving any control (to another value of its site grid) changes some drawn array, at the defaults
    or, for a control that matters to some options only (AdamW's weight decay), at another option of a
    menu."""
    bases = [{}] + [{c.name: option} for c in explorer.controls if isinstance(c, Choice) for option in c.options]
    for control in explorer.controls:
        others = [v for v in control.site_values() if v != control.default]
        if not others:
            continue
        assert any(_differs(explorer.data(**base), explorer.data(**{**base, control.name: others[-1]}))
                   for base in bases if control.name not in base), f"{control.name} changes nothing drawn"


def test_live_controls_update_the_figure(explorer, monkeypatch):
    """Each ipywidgets control, moved, runs the update with its new value and changes the figure."""
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    calls = []
    original = explorer.update
    monkeypatch.setattr(explorer, "update", lambda view, **params: (calls.append(params), original(view, **params))[1])
    box = explorer.live()
    widgets = {child.description: child for child in box.children[0].children}
    for control in explorer.controls:
        widget = widgets[control.text]
        others = [v for v in control.site_values() if v != control.default]
        if not others:
            continue
        calls.clear()
        widget.value = others[-1]
        box.redraw.wait()
        assert calls, f"changing {control.name} did not redraw"
        assert calls[-1][control.name] == pytest.approx(widget.value)
        caption, image = box.children[1:]
        data = explorer.data(**calls[-1])
        assert html.escape(data["title"]) in caption.value, "the title is not the setting's"
        legend = {data[line.key].label for panel in explorer.panels for line in panel.lines
                  if line.legend and data.get(line.key) is not None and data[line.key].label}
        assert all(html.escape(label) in caption.value for label in legend), "the legend is not the setting's"
        assert bytes(image.value).startswith(b"\x89PNG"), "the image is not a PNG"


@pytest.mark.book
def test_live_callback_draws_what_a_full_draw_draws(explorer):
    """The live callback's PNG (kept backgrounds + the animated artists, blitted) is the full draw of the same
    setting, pixel for pixel, after a move of every control in turn (new limits, new surfaces, kept
    backgrounds reused on the way back)."""
    import io

    from PIL import Image

    from optlib.explorers.live import LiveFigure

    live = LiveFigure(explorer)
    widget = LiveFigure(explorer, title_in_image=False, legend_in_image=False)   # as the live widget draws
    moves = [{}] + [{control.name: value} for control in explorer.controls
                    for value in (control.site_values()[-1], control.default)]
    for move in moves:
        full = explorer.figure(**move)
        for figure, texts_shown in ((live, True), (widget, False)):
            shown = np.asarray(Image.open(io.BytesIO(figure.png(**move))).convert("RGBA"))
            for text in [*full.texts, *(ax.get_legend() for ax in full.axes if ax.get_legend())]:
                text.set_visible(texts_shown)   # the title, the legend
            full.canvas.draw()
            expected = np.asarray(full.canvas.buffer_rgba())
            assert shown.shape == expected.shape
            differ = np.any(shown != expected, axis=-1).mean()
            assert differ == 0, f"{explorer.name} at {move}: {differ:.2%} of pixels differ from a full draw"
    for figure in (live, widget):
        assert figure.reused > 0 and figure.full_draws == 0, "no background was reused, or a render was a full draw"


@pytest.mark.book
def test_live_callback_falls_back_to_a_full_draw_when_axes_overlap():
    """Three labelled panels in a figure too narrow for them: their boxes overlap, and the live PNG is
    still the full draw (without the title, which the widget shows as text)."""
    import io

    from PIL import Image

    from optlib.explorers.live import LiveFigure, blank_figure

    def compute(scale):
        return {"title": f"scale {scale}", "a": Series([0, 1], [0, scale], "a"), "b": Series([0, 1], [scale, 0], "b")}

    panels = [Panel((Line("a"),), xlabel="x", ylabel="a very long label"),
              Panel((Line("b"),), xlabel="x", ylabel="another long label"),
              Panel((Line("c"),), xlabel="x", ylabel="a third label")]
    explorer = Explorer(compute, [Slider("scale", 1.0, 1000.0, 10.0, log=True)], panels, figsize=(2.4, 2.0))
    live = LiveFigure(explorer, title_in_image=False)
    shown = np.asarray(Image.open(io.BytesIO(live.png(scale=500.0))).convert("RGBA"))
    assert live.full_draws == 1, "the panels' backgrounds do not overlap"
    full = blank_figure(explorer.figsize, explorer.dpi)
    view = explorer.update(explorer.setup(full, scale=500.0), scale=500.0)
    view.title.set_visible(False)
    full.canvas.draw()
    np.testing.assert_array_equal(shown, np.asarray(full.canvas.buffer_rgba()))


def test_setup_then_update_draws_what_compute_returns():
    explorer = build("momentum_explorer")
    figure = explorer.figure(lr=0.05, momentum=0.5)
    view = explorer.setup(figure, lr=0.05, momentum=0.5)
    view = explorer.update(view, lr=0.05, momentum=0.5)
    expected = run(SGD, get_surface("quadratic"), (-3.0, 2.5), steps=60, lr=0.05, momentum=0.5)
    line = view.artists["path1"].artist
    np.testing.assert_allclose(line.get_xdata(), expected.points[:, 0], rtol=1e-12)
    np.testing.assert_allclose(line.get_ydata(), expected.points[:, 1], rtol=1e-12)


def test_site_grid_covers_every_control_with_its_default(explorer):
    controls, settings = site_grid(explorer)
    linked = set(explorer.points.get("names", ()))
    names = {c["name"] for c in controls}
    for control in explorer.controls:
        assert control.name in names or control.name in linked
    assert len(settings) == int(np.prod([len(c["values"]) for c in controls]))
    assert {**explorer.defaults} == {**explorer.defaults, **settings[
        sum(c["default"] * int(np.prod([len(d["values"]) for d in controls[i + 1:]]))
            for i, c in enumerate(controls))]}


def test_controls_refuse_bad_settings():
    with pytest.raises(ValueError, match="outside"):
        Slider("lr", 0.1, 1.0, 2.0)
    with pytest.raises(ValueError, match="lacks the default"):
        Slider("lr", 0.1, 1.0, 0.5, grid=[0.1, 1.0]).site_values()
    with pytest.raises(ValueError, match="not one of"):
        Choice("surface", ["a", "b"], "c")
    with pytest.raises(ValueError, match="unknown explorer parameters"):
        build("gradient_descent_explorer").data(momentum=0.9)
    with pytest.raises(ValueError, match="repeated"):
        Explorer(lambda a: {}, [Slider("a", 0, 1, 0.5), Slider("a", 0, 1, 0.5)], [])
    with pytest.raises(ValueError, match="x, y"):
        Series([1, 2], [1, 2, 3])
    with pytest.raises(TypeError, match="sweep"):
        CHAPTER_EXPLORERS["choosing_explorer"][1]([1, 2, 3])


def test_format_value():
    assert format_value(0.1) == "0.1"
    assert format_value((-3.0, 2.5)) == "(−3, 2.5)"
    assert format_value("quadratic") == "quadratic"


def test_import_optlib_does_not_import_plotting_or_widgets():
    code = ("import sys, optlib, optlib.problems, optlib.trajectory, optlib.schedules, optlib.models; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets', 'bokeh')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sgd_explorer_marks_where_the_first_order_formula_fails():
    """Near one-sample SGD's stability limit the measured plateau is several times the first-order formula,
    and the explorer shades that range."""
    from optlib.explorers.ch03_sgd import PLATEAU_LRS, formula_fails_above, measured_plateau
    from optlib.problems import noise_ball, regression_problem

    problem = regression_problem("round", 1.0)
    measured = measured_plateau("round", 1.0)
    predicted = np.array([noise_ball(problem, lr) for lr in PLATEAU_LRS])
    ratio = measured / predicted
    assert abs(ratio[0] - 1) < 0.25, "at a small learning rate the formula holds"
    assert np.nanmax(ratio) > 3 or np.isnan(measured[-1]), "near the limit it is off several times"
    limit = formula_fails_above()
    assert 0.05 < limit < 0.5
    panel = build("sgd_explorer").panels[2]
    assert panel.vspans[0][0] == limit


def _explorer_imports() -> dict:
    """module -> the modules of optlib.explorers it imports, at any level (functions included), except
    under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "optlib" / "explorers"
    graph = {}
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) == "TYPE_CHECKING" for stmt in block.body for node in ast.walk(stmt)}
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and id(node) not in skipped:
                imported |= {node.module} if node.module else {alias.name for alias in node.names}
        graph[path.stem] = imported - {path.stem}
    return graph


def test_the_explorers_import_graph_has_no_cycle():
    """Parts <- forms <- base <- chapters' explorers <- the package: no module imports one that imports it
    back, not even inside a function."""
    from graphlib import TopologicalSorter

    graph = _explorer_imports()
    assert "site" in graph["base"] and "live" in graph["base"]
    assert "base" not in graph["site"] and "base" not in graph["live"]
    list(TopologicalSorter(graph).static_order())   # raises graphlib.CycleError on a cycle


def test_an_explorer_is_named_after_its_factory(small_sweep):
    for name in CHAPTER_EXPLORERS:
        assert build(name, small_sweep).name == name


def test_cached_run_remembers_a_run_by_its_values():
    from optlib.explorers import cached_run

    surface = get_surface("quadratic")
    first = cached_run(SGD, surface, np.array([[-3.0, 2.5]]), 20, lr=0.1)
    assert cached_run(SGD, get_surface("quadratic"), [[-3.0, 2.5]], 20, lr=0.1) is first   # equal values: a hit
    other = cached_run(SGD, surface, np.array([[-3.0, 2.0]]), 20, lr=0.1)
    assert other is not first and other.points[0, 0, 1] == 2.0
    np.testing.assert_array_equal(first.points, run(SGD, surface, np.array([[-3.0, 2.5]]), steps=20, lr=0.1).points)


def test_the_throttle_draws_the_last_value_and_drops_the_stale_ones():
    """Values submitted while a draw runs are dropped but the last, which is drawn next."""
    import threading

    from optlib.explorers.live import Throttle

    started, release, drawn = threading.Event(), threading.Event(), []

    def draw(value):
        drawn.append(value)
        started.set()
        release.wait(10)

    throttle = Throttle(draw)
    throttle.submit(1)
    assert started.wait(10)   # the first value is being drawn
    for value in range(2, 51):
        throttle.submit(value)
    release.set()
    throttle.wait()
    assert drawn == [1, 50] and throttle.drawn == 2 and throttle.dropped == 48


def test_the_throttle_reports_a_failed_draw_and_keeps_drawing():
    from optlib.explorers.live import Throttle

    shown, drawn = [], []

    def draw(value):
        if value == "bad":
            raise ValueError("no such setting")
        drawn.append(value)

    throttle = Throttle(draw, on_error=shown.append)
    throttle.submit("bad")
    with pytest.raises(ValueError, match="no such setting"):
        throttle.wait()
    throttle.submit("good")
    throttle.wait()
    assert drawn == ["good"] and [str(error) for error in shown] == ["no such setting"]


def test_sliders_send_their_values_while_dragged(explorer):
    from optlib.explorers.live import control_widget

    for control in explorer.controls:
        if isinstance(control, Slider):
            assert control_widget(control).continuous_update
