"""Median time of each explorer's live callback (compute + update + render + PNG), and of its site redraw.

The live callback is what runs when a reader moves a control in Jupyter, ``LiveFigure.png``:
``Explorer.update`` on the widget's view, the render (matplotlib's blitting: the kept background of each
axes at these limits, then the lines, what a full draw puts over them, and the legend), and the PNG the
image widget shows. It is timed two ways: while dragging (every slider dragged 20 widget steps from its
default and back, one callback per value the widget sends with ``continuous_update``; each value new to
the runs' caches on the way out), and jumping (every control in turn over the values of its website grid).
It also sends each drag's values at 60 Hz through the live widget's ``Throttle`` and counts the frames
drawn (the others were dropped as stale) and the time from the last value to its frame.

With ``--site DIR`` (a built book, ``_build/html``), it also opens every chapter page with an explorer in
Chromium and times input event -> finished redraw (the last canvas drawing call) for every value of every
control (the data next to the setting fetched ahead, as for a reader), against an empty Bokeh redraw (a plot
of one panel's size whose one line the input replaces) timed in the same run; target 16 ms (one frame).

Targets: at most 50 ms median per live callback (issue 10), 16 ms per site redraw (issue 21). Timing is a
benchmark, not a test: the machine is shared and noisy, so the script also times references in the same run
and prints the ratio. Live reference: a full Agg draw of an empty figure with two axes (what any full redraw
costs at least). Site references: Bokeh's redraw of an empty plot (the ratio printed), and an input whose
listener draws one rectangle on a canvas in the next frame (what the browser costs at least).
Run:  .venv/bin/python benchmarks/explorer_latency.py [--site _build/html]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optlib.explorers import CHAPTER_EXPLORERS, Choice  # noqa: E402
from optlib.explorers.live import LiveFigure, Throttle  # noqa: E402

TARGET_MS = 50.0
SITE_TARGET_MS = 16.0
ROOT = Path(__file__).resolve().parents[1]


def median_ms(callbacks, warm: int = 1) -> float:
    callbacks = list(callbacks)
    for callback in callbacks[:warm]:
        callback()
    times = []
    for callback in callbacks[warm:]:
        start = time.perf_counter()
        callback()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def empty_figure() -> None:
    figure = Figure(figsize=(9.0, 3.8), dpi=80)
    FigureCanvasAgg(figure)
    figure.subplots(1, 2)
    figure.canvas.draw()


def study():
    """A small sweep for chapter 10's explorer (the chapter computes the real one)."""
    from optlib import SGD
    from optlib.adam import Adam
    from optlib.models import MLP, lr_sweep
    from optlib.real_data import load_digits

    return lr_sweep(MLP(64, 8, 10, activation="relu"), load_digits(), {"SGD": (SGD, {}), "Adam": (Adam, {})},
                    10.0 ** np.arange(-3.0, 0.1, 1.0), epochs=2, batch_size=256, seeds=range(2))


def drag_values(control, steps: int = 20) -> list:
    """The values a slider's widget sends while dragged ``steps`` widget steps away from its default and back
    (towards the farther end): what ``continuous_update`` delivers, one callback each."""
    if control.log:
        low, high, value, step = np.log10(control.low), np.log10(control.high), np.log10(control.default), 0.01
    else:
        low, high, value = control.low, control.high, control.default
        step = control.step or (high - low) / 100
    direction = 1 if high - value >= value - low else -1
    away = [float(np.clip(value + direction * k * step, low, high)) for k in range(1, steps + 1)]
    path = away + away[-2::-1] + [value]
    return [10.0**v for v in path] if control.log else path


def live_callback_ms(explorer) -> tuple[float, float]:
    """Median ms of the live callback (:meth:`LiveFigure.png`: update, render, PNG) ``(while dragging, jumps)``:
    every slider dragged from its default and back (:func:`drag_values`), and every control moved over its site
    values from the defaults, one control at a time."""
    figure = LiveFigure(explorer, title_in_image=False, legend_in_image=False)   # as live_widget: text above
    figure.png()
    drags, jumps = [], []
    for control in explorer.controls:
        if not isinstance(control, Choice):
            drags += [{control.name: value} for value in drag_values(control)]
        values = control.options if isinstance(control, Choice) else control.values(12)
        jumps += [{control.name: value} for value in list(values[1::2]) + list(values[::2]) + [control.default]]

    def callback(move):
        return lambda: figure.png(**move)

    return median_ms(callback(move) for move in drags), median_ms(callback(move) for move in jumps)


def throttled_drag(explorer, hz: float = 60.0) -> tuple[int, int, float]:
    """Every slider dragged as in :func:`live_callback_ms`, its values sent at ``hz`` through the live widget's
    :class:`Throttle`: ``(values sent, frames drawn, ms from the last value to its frame)``, the last averaged
    over the sliders."""
    figure = LiveFigure(explorer, title_in_image=False, legend_in_image=False)
    figure.png()
    sent, delays = 0, []
    throttle = Throttle(lambda move: figure.png(**move))
    for control in explorer.controls:
        if isinstance(control, Choice):
            continue
        for value in drag_values(control):
            throttle.submit({control.name: value})
            sent += 1
            time.sleep(1.0 / hz)
        released = time.perf_counter()
        throttle.wait()
        delays.append(1e3 * (time.perf_counter() - released))
    return sent, throttle.drawn, statistics.mean(delays)


def live(names) -> None:
    reference = median_ms([empty_figure] * 16)
    print(f"live reference (empty two-axes figure): {reference:.1f} ms")
    print(f"{'explorer':28s} {'drag ms':>8s} {'x ref':>6s} {'jumps ms':>9s} {'x ref':>6s}  target {TARGET_MS:.0f} ms"
          "   60 Hz drag: frames drawn / values sent, last frame after release")
    sweep = None
    for name, (_, factory) in CHAPTER_EXPLORERS.items():
        if names and name not in names:
            continue
        if name == "choosing_explorer":
            sweep = sweep or study()
            explorer = factory(sweep)
        else:
            explorer = factory()
        drag, jumps = live_callback_ms(explorer)
        verdict = "ok" if max(drag, jumps) <= TARGET_MS else "SLOW"
        sent, drawn, delay = throttled_drag(explorer)
        print(f"{name:28s} {drag:8.1f} {drag / reference:6.1f} {jumps:9.1f} {jumps / reference:6.1f}  {verdict:4s}"
              f"   {drawn:4d} / {sent:<4d} {delay:6.1f} ms", flush=True)


def site(directory: Path, names) -> None:
    """Input event -> the last canvas drawing call of the redraw, every value of every control, against an
    empty Bokeh redraw timed in the same run (target: 16 ms, one frame)."""
    import os

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from explorer_pages import (
        TIMED_INPUT,
        bokeh_reference_redraw_ms,
        chromium_page,
        drawn,
        explorers_on,
        reference_redraw_ms,
        serve,
    )

    base = serve(directory)
    bokeh_js = next((directory / "_static").glob("bokeh-*.min.js")).name
    pages = sorted({chapter for chapter, _ in CHAPTER_EXPLORERS.values()})
    with sync_playwright() as playwright:
        page = chromium_page(playwright)
        browser = page.context.browser
        page.goto(base + pages[0].replace(".ipynb", ".html"), wait_until="load")
        canvas = reference_redraw_ms(page)
        page.goto(base + pages[0].replace(".ipynb", ".html"), wait_until="load")
        empty = bokeh_reference_redraw_ms(page, base + "_static/" + bokeh_js)
        print(f"machine load (1, 5, 15 min): {os.getloadavg()}")
        print(f"site references: input -> one canvas rectangle in the next frame {canvas:.1f} ms; "
              f"input -> Bokeh's redraw of an empty plot {empty:.1f} ms")
        print(f"{'explorer':28s} {'redraw ms':>10s} {'x empty Bokeh':>14s} {'moves':>6s}  "
              f"target {SITE_TARGET_MS:.0f} ms")
        for chapter in pages:
            page.goto(base + chapter.replace(".ipynb", ".html"), wait_until="load")
            for info in explorers_on(page):
                if names and info["name"] not in names:
                    continue
                page.locator(f"#{info['id']}").scroll_into_view_if_needed()
                page.wait_for_timeout(1000)   # the data next to the default setting, fetched ahead
                times = []
                for index, control in enumerate(info["controls"]):
                    count = len(control["values"])
                    for value in [*range(count), control["default"]]:
                        elapsed = page.evaluate(TIMED_INPUT, [info["id"], index, value])
                        drawn(page, info["id"])
                        if elapsed >= 0:  # -1: nothing drawn changed
                            times.append(elapsed)
                redraw = statistics.median(times)
                print(f"{info['name']:28s} {redraw:10.1f} {redraw / empty:14.2f} {len(times):6d}  "
                      f"{'ok' if redraw <= SITE_TARGET_MS else 'SLOW'}", flush=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built book (_build/html): also time the site redraws")
    parser.add_argument("--no-live", action="store_true", help="skip the live callbacks")
    parser.add_argument("names", nargs="*", help="explorers to time (default: all)")
    args = parser.parse_args()
    if not args.no_live:
        live(args.names)
    if args.site:
        site(args.site, args.names)


if __name__ == "__main__":
    main()
