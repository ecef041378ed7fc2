"""Median time of each explorer's live callback (compute + update + render + PNG), and of its site redraw.

The live callback is what runs when a reader moves a control in Jupyter, ``LiveFigure.png``:
``Explorer.update`` on the widget's view, the render (the kept backgrounds of these axis limits, then
the lines and legends), and the PNG the image widget shows. It is timed from the default setting, every
control in turn moving over the values of its website grid (each new to the run's caches where the control allows), so
explorers that cache their runs are timed computing them.

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

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optlib.explorers import CHAPTER_EXPLORERS, Choice  # noqa: E402
from optlib.explorers.live import LiveFigure  # noqa: E402

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
    import numpy as np

    from optlib import SGD
    from optlib.adam import Adam
    from optlib.models import MLP, lr_sweep
    from optlib.real_data import load_digits

    return lr_sweep(MLP(64, 8, 10, activation="relu"), load_digits(), {"SGD": (SGD, {}), "Adam": (Adam, {})},
                    10.0 ** np.arange(-3.0, 0.1, 1.0), epochs=2, batch_size=256, seeds=range(2))


def live_callback_ms(explorer) -> float:
    """Median ms of the live callback (:meth:`LiveFigure.png`: update, render, PNG), every control moved
    over its site values from the defaults, one control at a time."""
    figure = LiveFigure(explorer, title_in_image=False)   # as live_widget: the title is text
    figure.png()
    moves = []
    for control in explorer.controls:
        values = control.options if isinstance(control, Choice) else control.values(12)
        for value in list(values[1::2]) + list(values[::2]) + [control.default]:
            moves.append({control.name: value})

    def callback(move):
        return lambda: figure.png(**move)

    return median_ms(callback(move) for move in moves)


def live(names) -> None:
    reference = median_ms([empty_figure] * 16)
    print(f"live reference (empty two-axes figure): {reference:.1f} ms")
    print(f"{'explorer':28s} {'callback ms':>12s} {'x reference':>12s}  target {TARGET_MS:.0f} ms")
    sweep = None
    for name, (_, factory) in CHAPTER_EXPLORERS.items():
        if names and name not in names:
            continue
        if name == "choosing_explorer":
            sweep = sweep or study()
            explorer = factory(sweep)
        else:
            explorer = factory()
        callback = live_callback_ms(explorer)
        print(f"{name:28s} {callback:12.1f} {callback / reference:12.1f}  {'ok' if callback <= TARGET_MS else 'SLOW'}",
              flush=True)


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
