"""Median time of each explorer's live callback: compute + redraw with the Agg backend.

The callback is what runs when a reader moves a slider: ``Explorer.redraw`` on the widget's figure,
then a full Agg render. It is timed at the default settings but for the swept parameter, which
moves to a new value at every callback, so every redraw really changes the figure and cached
results are not reused. The first draw (a new figure) is shown too.

Target (issue "Chapters"): at most 50 ms per redraw, so a slider feels live. Timing is a benchmark,
not a test: the machines are shared and noisy, so the script also times a reference in the same
run (drawing an empty figure with two axes, the floor of any redraw) and prints the ratio.
Run:  .venv/bin/python benchmarks/explorer_latency.py
"""

import statistics
import time

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optlib.explorers.catalog import chapter_explorers  # noqa: E402

TARGET_MS = 50.0


def median_ms(redraw, repeats: int = 15) -> float:
    redraw()  # warm caches (fonts, imports)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        redraw()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def empty_figure() -> None:
    figure = Figure(figsize=(9.0, 3.8), dpi=80)
    FigureCanvasAgg(figure)
    figure.subplots(1, 2)
    figure.canvas.draw()


def time_explorer(explorer, repeats: int = 15) -> tuple[float, float]:
    """Median ms of a first draw (new figure) and of the live callback (redraw in place).

    Each callback gets a value of the swept control that it has not drawn before where the control
    allows (a slider: values spread over its range, in a scrambled order), so explorers that cache
    their runs are timed computing them, as a reader moving to a new position would see.
    """
    first = median_ms(lambda: explorer.figure().canvas.draw(), repeats=5)
    fig = explorer.figure()
    control = next(c for c in explorer.controls if c.name == explorer.sweep)
    values = list(control.values(4 * repeats))
    values = values[::2] + values[1::2]  # scrambled: neighbours are not drawn one after the other
    position = iter(range(10**9))

    def callback():
        explorer.redraw(fig, **{explorer.sweep: values[next(position) % len(values)]})
        fig.canvas.draw()

    return first, median_ms(callback, repeats=repeats)


def main() -> None:
    reference = median_ms(empty_figure)
    print(f"reference (empty two-axes figure): {reference:.1f} ms")
    print(f"{'explorer':28s} {'callback ms':>12s} {'x reference':>12s} {'first draw ms':>14s}  "
          f"target {TARGET_MS:.0f} ms")
    for name, factory in chapter_explorers().items():
        first, callback = time_explorer(factory())
        print(f"{name:28s} {callback:12.1f} {callback / reference:12.1f} {first:14.1f}  "
              f"{'ok' if callback <= TARGET_MS else 'SLOW'}")

if __name__ == "__main__":
    main()
