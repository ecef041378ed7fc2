"""Median time of each explorer's live callback: compute + redraw with the Agg backend.

The callback is what runs when a reader moves a slider: ``Explorer.redraw`` on the widget's figure,
then a full Agg render. It is timed at the default settings, alternating the swept parameter
between its default and a neighbouring value so that every redraw really changes the figure. The
first draw (a new figure) is shown too.

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


def time_explorer(explorer) -> tuple[float, float]:
    """Median ms of a first draw (new figure) and of the live callback (redraw in place)."""
    first = median_ms(lambda: explorer.figure().canvas.draw(), repeats=5)
    fig = explorer.figure()
    default = explorer.defaults[explorer.sweep]
    other = next((v for v in explorer.sweep_values() if v != default), default)
    settings = [default, other]

    def callback():
        settings.reverse()
        explorer.redraw(fig, **{explorer.sweep: settings[0]})
        fig.canvas.draw()

    return first, median_ms(callback)


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
