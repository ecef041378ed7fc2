"""Every explorer on the built website, in Chromium: controls, drawn data, words, table, redraw, drag.

For each chapter page with an explorer (``optlib.explorers.CHAPTER_EXPLORERS``) and each explorer on it:

* it shows its default setting on load, and the data Bokeh draws (read from ``Bokeh.documents``) equal
  optlib's own numbers, computed here: exactly at the default setting (the page holds it in float64), and at
  two more settings (every control at its last value, a seeded random setting) to ``PRECISION`` relative
  (2**-13, about 1.2e-4: the chunks keep 12 mantissa bits, a tenth of a pixel on an 800-pixel panel); for a
  few surface explorers also against a plain ``optlib.trajectory.run`` written out in this file;
* its ``aria-live`` summary is, at each of these settings, the one optlib's numbers give
  (``optlib.explorers.site.summary``), and it changes when the controls move;
* its data table, once opened, lists the drawn values (to the three significant digits it shows);
* every control has an accessible name (its ``<label>``), is at least 24 x 24 CSS pixels, is reached by focus
  and moved by the keyboard (arrows; the space bar for a checkbox), and moving it changes what is drawn;
* dragging its first slider with the mouse across every value draws every value the thumb passes;
* the five changes ``optlib-explorer.js`` makes to BokehJS 3.9 (``BOKEH_SPARES``) all apply;
* the median time from input event to the last canvas drawing call of the redraw is measured and
  reported (timing is asserted by no test: ``benchmarks/explorer_latency.py --site`` prints it against
  a reference timed in the same run);
* no console error, no failed request, nothing from another host;
* a screenshot at two settings goes to ``_build/screenshots/``.

Chapter 10's explorer draws the chapter's own learning-rate study (seven optimizers, a minute of
training). At each of its three settings the test retrains, with optlib, the two optimizers that setting
shows, exactly as the chapter's ``lr_sweep`` trains them, and compares every drawn series.
"""

from __future__ import annotations

import functools
import statistics

import numpy as np
import pytest

from optlib import SGD, Adam, RMSprop
from optlib.explorers import CHAPTER_EXPLORERS, choosing_explorer
from optlib.explorers.site import PRECISION, format_value, site_grid, summary
from optlib.surfaces import get_surface
from optlib.trajectory import run
from tests.explorer_pages import TIMED_INPUT, control_value, drawn, explorers_on, relative_error, set_by_keyboard
from tests.test_site import SCREENSHOTS, browser_context, site_url  # noqa: F401  (fixtures)

#: Median input-to-redraw time per explorer (ms), for the report.
REDRAW_MS: dict = {}
#: optlib.trajectory.run from one start against the explorer's stacked starts, at the default setting.
RTOL = 1e-9
MIN_TARGET_PX = 24
CHAPTERS = sorted({chapter for chapter, _ in CHAPTER_EXPLORERS.values()})
#: What optlib-explorer.js changes in BokehJS 3.9 to redraw within a frame (its comments): all must apply to the
#: BokehJS the site ships, or the redraw is silently slower.
BOKEH_SPARES = {"unchanged-sheets", "lines-placed-after-frame", "axis-room", "no-css-visuals", "font-size-once"}


def independent(name: str, params: dict) -> dict:
    """Paths of a few explorers computed here with optlib's runner, not through the explorer's code."""
    surface = get_surface(params.get("surface", "quadratic")) if "surface" in params else None
    start = (params.get("start_x"), params.get("start_y"))
    if name == "gradient_descent_explorer":
        return {"path0": run(SGD, surface, start, steps=50, lr=params["lr"]).points}
    if name == "momentum_explorer":
        return {"path0": run(SGD, surface, start, steps=60, lr=params["lr"]).points,
                "path1": run(SGD, surface, start, steps=60, lr=params["lr"], momentum=params["momentum"]).points}
    if name == "nesterov_explorer":
        kw = dict(steps=60, lr=params["lr"], momentum=params["momentum"])
        return {"path0": run(SGD, surface, start, **kw).points,
                "path1": run(SGD, surface, start, nesterov=True, **kw).points}
    if name == "adam_explorer":
        return {"path0": run(SGD, surface, start, steps=80, lr=params["momentum_lr"], momentum=0.9).points,
                "path1": run(RMSprop, surface, start, steps=80, lr=params["lr"], alpha=params["beta2"]).points,
                "path2": run(Adam, surface, start, steps=80, lr=params["lr"], betas=(params["beta1"], params["beta2"]),
                             amsgrad=params["amsgrad"] == "yes").points}
    return {}


#: Chapter 10's learning rates (the chapter's ``lrs``).
CHOOSING_LRS = 10.0 ** np.arange(-3.5, 1.01, 0.5)


@functools.lru_cache(maxsize=4)
def choosing_study(names: tuple[str, ...]):
    """Chapter 10's study (chapters/10_choosing.ipynb, "The chapter's study"), for ``names`` only.

    ``lr_sweep`` trains each optimizer on its own, at every learning rate and seed at once (stacked), so
    the subset reproduces the chapter's numbers bit for bit; one learning rate trained alone would not
    (stacking changes the floating-point rounding, which training amplifies near the edge of stability:
    the chapter's section "The last bit"). The chapter's sweep: 30 seeds, 10 learning rates.
    """
    import optlib
    from optlib.models import MLP, lr_sweep
    from optlib.real_data import load_digits

    contenders = {
        "SGD": (optlib.SGD, {}),
        "Momentum": (optlib.SGD, {"momentum": 0.9}),
        "Nesterov": (optlib.SGD, {"momentum": 0.9, "nesterov": True}),
        "Adagrad": (optlib.Adagrad, {}),
        "RMSprop": (optlib.RMSprop, {}),
        "Adam": (optlib.Adam, {}),
        "AdamW": (optlib.AdamW, {}),
    }
    return lr_sweep(MLP(64, 32, 10, activation="relu"), load_digits(seed=0), {n: contenders[n] for n in names},
                    CHOOSING_LRS, seeds=range(30), epochs=20, batch_size=64, eval_every=4)


def expected(name: str, explorers, info: dict, indices: list[int]):
    """``(explorer, params)``: an explorer that computes, with optlib, what the page should draw at the
    setting ``indices`` of its controls."""
    if name != "choosing_explorer":
        explorer = explorers(name)
        return explorer, params_for(explorer, indices)
    # The page shows each value as text; the learning rates are the study's grid, in increasing order.
    params = {}
    for control, index in zip(info["controls"], indices, strict=True):
        value = control["values"][index]
        if control["name"] in ("lr", "reference_lr"):
            assert format_value(CHOOSING_LRS[index]) == value, f"{control['name']}: {value} is not the study's"
            value = float(CHOOSING_LRS[index])
        params[control["name"]] = value
    study = choosing_study(tuple(sorted({params["optimizer"], params["reference"]})))
    return choosing_explorer(study, optimizer=params["optimizer"], reference=params["reference"]), params


@pytest.fixture(scope="module")
def explorers():
    built = {}

    def get(name):
        if name not in built:
            built[name] = CHAPTER_EXPLORERS[name][1]()
        return built[name]

    return get


def params_for(explorer, indices: list[int]) -> dict:
    _, settings = site_grid(explorer)
    return {**explorer.defaults, **settings.params(indices)}


def open_page(context, url):
    page = context.new_page()
    problems = {"console": [], "failed": [], "external": []}

    def route(route):
        if route.request.url.startswith(url.split("/chapters/")[0]) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems["external"].append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and problems["console"].append(message.text))
    page.on("pageerror", lambda error: problems["console"].append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: request.url not in problems["external"]
            and problems["failed"].append(request.url))
    page.on("response", lambda response: response.status >= 400 and problems["failed"].append(
        f"{response.url} ({response.status})"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, url
    return page, problems


def compare(name, explorer, page, uid, params, exact: bool) -> list[str]:
    """Differences between what the page draws and optlib's numbers for ``params``: none at all where the page
    holds float64 (``exact``: the default setting), else none above ``PRECISION`` relative."""
    shown = drawn(page, uid)
    expected = explorer.data(**params)
    tolerance = 0.0 if exact else PRECISION
    problems = []
    if shown["summary"] != summary(explorer, expected):
        problems.append(f"summary {shown['summary']!r} != {summary(explorer, expected)!r}")
    for key, series in shown["series"].items():
        want = expected.get(key)
        if want is None:
            if series["x"]:
                problems.append(f"{key}: drawn, but optlib has no such series at {params}")
            continue
        for axis in ("x", "y") + (("y2",) if want.y2 is not None else ()):
            error = relative_error([np.nan if v is None else v for v in series[axis]], getattr(want, axis))
            if not error <= tolerance:
                problems.append(f"{key}.{axis}: relative error {error:.3g} at {params}")
        if series["label"] != want.label:
            problems.append(f"{key}: label {series['label']!r} != {want.label!r}")
    for key, points in independent(name, params).items() if exact else ():
        for axis in (0, 1):
            error = relative_error([np.nan if v is None else v for v in shown["series"][key]["xy"[axis]]],
                                   points[:, axis])
            if not error <= RTOL:
                problems.append(f"{key}: differs from optlib.trajectory.run by {error:.3g} at {params}")
    return problems


def move_to(page, info, indices):
    for index, (control, target) in enumerate(zip(info["controls"], indices, strict=True)):
        set_by_keyboard(page, info["id"], index, control, target)


def current(page, info) -> list[int]:
    return [control_value(page, info["id"], i, c) for i, c in enumerate(info["controls"])]


#: The explorer's data tables (opened), as text: [{caption, rows: [[index, x, y], ...]}].
READ_TABLES = r"""
async (uid) => {
  const root = document.getElementById(uid);
  const details = root.querySelector('details.optlib-explorer-data');
  details.open = true;   // the page writes the tables on the toggle event that follows
  for (let i = 0; i < 100 && !root.querySelector('.optlib-explorer-tables table'); i++) {
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  const tables = [...root.querySelectorAll('.optlib-explorer-tables table')].map(table => ({
    caption: table.caption.textContent,
    rows: [...table.tBodies[0].rows].map(row => [...row.cells].map(cell => cell.textContent))}));
  details.open = false;
  return tables;
}
"""


def table_problems(page, uid) -> list[str]:
    """The data table lists what is drawn: each row's numbers are the drawn values at that index, to the
    three significant digits it shows."""
    tables, shown, problems = page.evaluate(READ_TABLES, uid), drawn(page, uid), []
    if not tables:
        return ["no data table"]
    by_label = {}
    for series in shown["series"].values():
        by_label.setdefault(series["label"], []).append(series)
    for table in tables:
        label = table["caption"].split(": ")[0]
        candidates = by_label.get(label, [])
        if not table["rows"]:
            problems.append(f"table {table['caption']!r} has no row")
        matches = False
        for series in candidates:
            ok = max((int(row[0]) for row in table["rows"]), default=0) < len(series["x"])
            for index, x, y in table["rows"] if ok else ():
                i = int(index)
                for text, value in ((x, series["x"][i]), (y, series["y"][i])):
                    number = float(text.replace("−", "-"))
                    if value is None or abs(number - value) > 5e-3 * abs(value):
                        ok = False
            matches = matches or ok
        if not matches:
            problems.append(f"table {table['caption']!r} does not list the drawn values of {label!r}")
    return problems


#: Record every setting the explorer draws and every value the control passes (a mouse drag), from now on.
WATCH = r"""
([uid, index]) => {
  const root = document.getElementById(uid);
  const input = document.getElementById(`${uid}-c${index}`);
  window.__drawnSettings = []; window.__passed = [];
  new MutationObserver(() => window.__drawnSettings.push(root.dataset.setting))
    .observe(root, {attributes: true, attributeFilter: ['data-setting']});
  input.addEventListener('input', () => window.__passed.push(Number(input.value)));
}
"""


def drag_problems(page, info, index) -> list[str]:
    """Drag slider ``index`` with the mouse from its first value to its last: every value the thumb passes
    must be drawn."""
    uid, control = info["id"], info["controls"][index]
    set_by_keyboard(page, uid, index, control, 0)
    drawn(page, uid)
    page.evaluate(WATCH, [uid, index])
    box = page.locator(f"#{uid}-c{index}").bounding_box()
    y, n = box["y"] + box["height"] / 2, len(control["values"])
    thumb = 8  # half of Chromium's range thumb: the thumb's centre runs from x + 8 to x + width - 8
    at = [box["x"] + thumb + (box["width"] - 2 * thumb) * v / (n - 1) for v in range(n)]
    page.mouse.move(at[0], y)
    page.mouse.down()
    for x in at[1:]:
        page.mouse.move(x, y, steps=3)
        page.wait_for_timeout(60)
    page.mouse.up()
    drawn(page, uid)
    passed = set(page.evaluate("() => window.__passed"))
    seen = {int(s.split(",")[index]) for s in page.evaluate("() => window.__drawnSettings")}
    problems = []
    if passed != set(range(1, n)):
        problems.append(f"dragging {control['label']!r} passed {sorted(passed)}, not every value 1..{n - 1}")
    if not passed <= seen:
        problems.append(f"dragging {control['label']!r}: values passed but never drawn: {sorted(passed - seen)}")
    set_by_keyboard(page, uid, index, control, control["default"])
    return problems


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_explorers_on_the_page(chapter, browser_context, site_url, explorers):  # noqa: F811
    url = f"{site_url}{chapter.replace('.ipynb', '.html')}"
    page, requests = open_page(browser_context, url)
    problems, report = [], {}
    try:
        infos = explorers_on(page)
        expected_names = sorted(n for n, (c, _) in CHAPTER_EXPLORERS.items() if c == chapter)
        assert sorted(i["name"] for i in infos) == expected_names, f"{chapter}: explorers {infos}"
        spared = set(page.evaluate("() => (document.documentElement.dataset.optlibBokehSpared || '').split(' ')"))
        if spared - {""} != BOKEH_SPARES:
            problems.append(f"BokehJS style work spared: {sorted(spared - {''})}, not all of {sorted(BOKEH_SPARES)} "
                            "(another BokehJS? see optlib-explorer.js)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for info in infos:
            name, uid = info["name"], info["id"]
            tag = f"{name}"
            root = page.locator(f"#{uid}")
            root.scroll_into_view_if_needed()
            defaults = [c["default"] for c in info["controls"]]
            if current(page, info) != defaults:
                problems.append(f"{tag}: the controls do not start at the default setting")
            explorer, params = expected(name, explorers, info, defaults)
            problems += [f"{tag} (default): {p}" for p in compare(name, explorer, page, uid, params, exact=True)]
            root.screenshot(path=str(SCREENSHOTS / f"{name}--default.png"))
            said_at_default = drawn(page, uid)["summary"]
            if root.locator(".optlib-explorer-summary[aria-live=polite]").count() != 1:
                problems.append(f"{tag}: no aria-live summary")
            problems += [f"{tag}: {p}" for p in table_problems(page, uid)]
            # Every control: an accessible name, keyboard operation, a change in what is drawn.
            for index, control in enumerate(info["controls"]):
                element = page.locator(f"#{uid}-c{index}")
                label = element.evaluate("e => e.labels.length ? e.labels[0].textContent.trim() : ''")
                if control["label"] not in label:
                    problems.append(f"{tag}: control {index} has no label naming it ({label!r})")
                size = element.bounding_box()
                if min(size["width"], size["height"]) < MIN_TARGET_PX:
                    problems.append(f"{tag}: control {control['label']!r} is {size['width']:.0f} x "
                                    f"{size['height']:.0f} px (at least {MIN_TARGET_PX} x {MIN_TARGET_PX})")
                if len(control["values"]) < 2:
                    problems.append(f"{tag}: control {control['label']!r} offers a single value")
                    continue
                before = drawn(page, uid)
                start = control_value(page, uid, index, control)
                element.focus()
                if control["kind"] == "checkbox":
                    page.keyboard.press("Space")
                else:
                    page.keyboard.press("ArrowRight" if control["kind"] == "range" else "ArrowDown")
                    if start == len(control["values"]) - 1 or control_value(page, uid, index, control) == start:
                        page.keyboard.press("ArrowLeft" if control["kind"] == "range" else "ArrowUp")
                        page.keyboard.press("ArrowLeft" if control["kind"] == "range" else "ArrowUp")
                if control_value(page, uid, index, control) == start:
                    problems.append(f"{tag}: arrow keys do not move {control['label']!r}")
                    continue
                # A control may matter only at other settings of the others (AdamW's weight decay):
                # then it must change the drawing at some other value of a menu.
                changed = drawn(page, uid) != before
                if not changed:
                    for other, other_control in enumerate(info["controls"]):
                        if other == index or other_control["kind"] == "range" or changed:
                            continue
                        for option in range(len(other_control["values"])):
                            set_by_keyboard(page, uid, other, other_control, option)
                            before = drawn(page, uid)
                            set_by_keyboard(page, uid, index, control, start)
                            after_start = drawn(page, uid)
                            set_by_keyboard(page, uid, index, control, (start + 1) % len(control["values"]))
                            if drawn(page, uid) != after_start:
                                changed = True
                                break
                        set_by_keyboard(page, uid, other, other_control, other_control["default"])
                if not changed:
                    problems.append(f"{tag}: moving {control['label']!r} changes nothing drawn")
                set_by_keyboard(page, uid, index, control, control["default"])
            # Drawn data against optlib at two more settings.
            last = [len(c["values"]) - 1 for c in info["controls"]]
            rng = np.random.default_rng(sum(map(ord, name)))
            randomly = [int(rng.integers(len(c["values"]))) for c in info["controls"]]
            for indices, what in ((last, "last"), (randomly, "random")):
                move_to(page, info, indices)
                if current(page, info) != indices:
                    problems.append(f"{tag}: could not set the controls to {indices}")
                explorer, params = expected(name, explorers, info, indices)
                problems += [f"{tag} ({what}): {p}" for p in compare(name, explorer, page, uid, params,
                                                                     exact=indices == defaults)]
                if what == "last" and indices != defaults and drawn(page, uid)["summary"] == said_at_default:
                    problems.append(f"{tag}: the aria-live summary did not change with the controls")
            root.screenshot(path=str(SCREENSHOTS / f"{name}--moved.png"))
            move_to(page, info, defaults)
            sliders = [i for i, c in enumerate(info["controls"]) if c["kind"] == "range"]
            if sliders:
                problems += [f"{tag}: {p}" for p in drag_problems(page, info, sliders[0])]
            # Input event -> the frame after the redraw, every value of every control.
            times = []
            for index, control in enumerate(info["controls"]):
                for value in [*range(len(control["values"])), control["default"]]:
                    elapsed = page.evaluate(TIMED_INPUT, [uid, index, value])
                    if elapsed >= 0:  # -1: nothing drawn changed (the same value, or one it ignores)
                        times.append(elapsed)
            # Speed is a benchmark's job (benchmarks/explorer_latency.py --site, with a reference timed in
            # the same run); here the medians go to the report, and a redraw must have happened.
            median = statistics.median(times) if times else float("nan")
            report[name] = round(median, 1)
            REDRAW_MS[name] = round(median, 1)
        problems += [f"console error: {text}" for text in requests["console"]]
        problems += [f"failed request: {text}" for text in requests["failed"]]
        problems += [f"request to another host: {text}" for text in requests["external"]]
    finally:
        page.close()
    print(f"{chapter}: median redraw ms {report}")
    assert not problems, f"{chapter}:\n  " + "\n  ".join(problems)


MAX_PAGE_BYTES = 1_500_000
MAX_SHARED_JS_BYTES = 2_500_000


def page_bytes(built_site, html_path) -> int:
    """The page's HTML plus what only it loads from the site (its images in _images/)."""
    import re

    text = html_path.read_text(errors="replace")
    total = len(text.encode())
    for src in set(re.findall(r'<img[^>]+src="([^"]+_images/[^"]+)"', text)):
        target = (html_path.parent / src).resolve()
        if target.exists():
            total += target.stat().st_size
    return total


def test_pages_weigh_at_most_1_5_mb(built_site):
    sizes = {path.relative_to(built_site).as_posix(): page_bytes(built_site, path)
             for path in built_site.rglob("*.html") if "_static" not in path.parts}
    print("page bytes (HTML + page-specific data):", {k: v for k, v in sorted(sizes.items()) if v > 200_000})
    heavy = {page: size for page, size in sizes.items() if size > MAX_PAGE_BYTES}
    assert not heavy, f"pages over {MAX_PAGE_BYTES:,} bytes: {heavy}"


def test_the_plotting_library_is_served_once_from_static(built_site):
    import re

    static = built_site / "_static"
    shared = sorted(static.glob("bokeh-*.min.js")) + [static / "optlib-explorer.js", static / "optlib-explorer.css"]
    assert all(path.exists() for path in shared), shared
    total = sum(path.stat().st_size for path in shared)
    print(f"shared explorer JavaScript and CSS: {total:,} bytes")
    assert total <= MAX_SHARED_JS_BYTES
    for chapter in CHAPTERS:
        text = (built_site / chapter.replace(".ipynb", ".html")).read_text()
        assert re.search(r'<script[^>]+src="[./]*_static/bokeh-[\d.]+\.min\.js', text), chapter
        assert "Bokeh=" not in text and len(re.findall(r"bokeh", text, re.I)) < 200, f"{chapter} inlines BokehJS"
