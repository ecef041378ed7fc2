"""Driving an explorer's site form in Chromium: its controls, the data Bokeh draws, the redraw time.

Shared by tests/test_site_explorers.py (on the built book) and the benchmarks (explorer_latency.py,
plotting_library_comparison.py), which also serve a folder and time a reference input with the helpers
at the end.
"""

from __future__ import annotations

import json

import numpy as np

#: Everything one explorer on the page holds: its controls (from its own JSON) and the drawn series.
READ_EXPLORERS = r"""
() => [...document.querySelectorAll('.optlib-explorer')].map(root => {
  const spec = JSON.parse(root.querySelector('script.optlib-explorer-data').textContent);
  return {id: root.id, name: root.dataset.explorer, ready: root.classList.contains('optlib-explorer-ready'),
          setting: root.dataset.setting, controls: spec.controls, keys: spec.lines.map(l => l.key),
          n_settings: spec.n_settings};
})
"""

READ_DRAWN = r"""
(uid) => {
  const find = (name) => {
    for (const d of Bokeh.documents) { const m = d.get_model_by_name(name); if (m) return m; }
    return null;
  };
  const root = document.getElementById(uid);
  const spec = JSON.parse(root.querySelector('script.optlib-explorer-data').textContent);
  const out = {summary: root.querySelector('.optlib-explorer-summary').textContent, setting: root.dataset.setting,
               pending: root.dataset.pending || null, series: {}};
  for (const key of spec.lines.map(l => l.key)) {
    const data = find(`${uid}:${key}`).data;
    out.series[key] = {x: Array.from(data.x), y: Array.from(data.y), label: data.label.length ? data.label[0] : "",
                       y2: data.y2 ? Array.from(data.y2) : null};
  }
  return out;
}
"""

#: Set a control's value by script and time input event -> finished redraw: the last drawing call on a
#: canvas (Bokeh draws on canvases; every stroke/fill/drawImage is stamped) after the event, waiting up to
#: two frames and 250 ms of quiet for it. Scheduling stalls after the drawing (a loaded machine) do not
#: count; the time the browser took to run the handler and Bokeh's paint does.
TIMED_INPUT = r"""
async ([uid, index, value]) => {
  if (!window.__optlibDrawStamp) {
    window.__optlibDrawStamp = 0;
    for (const name of ['stroke', 'fill', 'drawImage', 'fillRect', 'strokeRect', 'fillText']) {
      const original = CanvasRenderingContext2D.prototype[name];
      CanvasRenderingContext2D.prototype[name] = function (...args) {
        window.__optlibDrawStamp = performance.now();
        return original.apply(this, args);
      };
    }
  }
  const input = document.getElementById(`${uid}-c${index}`);
  window.__optlibDrawStamp = 0;
  const start = performance.now();
  if (input.type === 'checkbox') {
    const spec = JSON.parse(document.getElementById(uid).querySelector('script.optlib-explorer-data').textContent);
    input.checked = spec.controls[index].values[value] === 'yes';
  } else {
    input.value = String(value);
  }
  input.dispatchEvent(new Event('input', {bubbles: true}));
  const handled = performance.now();
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  await new Promise(resolve => setTimeout(resolve, 250));
  return window.__optlibDrawStamp ? window.__optlibDrawStamp - start : -1;
}
"""


def explorers_on(page) -> list[dict]:
    page.wait_for_function("() => [...document.querySelectorAll('.optlib-explorer')]"
                           ".every(e => e.classList.contains('optlib-explorer-ready'))", timeout=30_000)
    return page.evaluate(READ_EXPLORERS)


#: True once the explorer has drawn the setting its controls show (no chunk still on its way).
SETTLED = r"""
(uid) => {
  const root = document.getElementById(uid);
  const spec = JSON.parse(root.querySelector('script.optlib-explorer-data').textContent);
  const chosen = [...root.querySelectorAll('[data-control]')].map((input, i) => input.type === 'checkbox'
    ? spec.controls[i].values.indexOf(input.checked ? 'yes' : 'no') : Number(input.value));
  return !root.dataset.pending && root.dataset.setting === chosen.join();
}
"""


def drawn(page, uid: str) -> dict:
    """What the explorer draws, once it has drawn the setting its controls show."""
    page.wait_for_function(SETTLED, arg=uid, timeout=30_000)
    return page.evaluate(READ_DRAWN, uid)


def control_value(page, uid: str, index: int, control: dict) -> int:
    """The index of the value control ``index`` shows (a checkbox: the index of "yes" or "no")."""
    element = page.locator(f"#{uid}-c{index}")
    if control["kind"] == "checkbox":
        return control["values"].index("yes" if element.is_checked() else "no")
    return int(element.input_value())


def set_by_keyboard(page, uid: str, index: int, control: dict, target: int) -> None:
    """Move control ``index`` to value ``target`` as a reader would: Tab-focus it, then arrow keys (a
    checkbox: the space bar)."""
    element = page.locator(f"#{uid}-c{index}")
    element.focus()
    current = control_value(page, uid, index, control)
    if control["kind"] == "checkbox":
        if current != target:
            page.keyboard.press("Space")
        return
    key = "ArrowRight" if control["kind"] == "range" else "ArrowDown"
    back = "ArrowLeft" if control["kind"] == "range" else "ArrowUp"
    for _ in range(abs(target - current)):
        page.keyboard.press(key if target > current else back)
    if control["kind"] == "select" and int(element.input_value()) != target:
        element.select_option(str(target))


def params_of(info: dict, indices: list[int]) -> list:
    return [c["values"][i] for c, i in zip(info["controls"], indices, strict=True)]


def relative_error(drawn_values, expected) -> float:
    a = np.asarray(drawn_values, dtype=float)
    b = np.asarray(expected, dtype=float)
    if a.shape != b.shape:
        return np.inf
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return np.inf
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)))


def dumps(value) -> str:
    return json.dumps(value, default=float)


# --- for the benchmarks: a served folder, Debian's Chromium, and the reference redraw -------------------

def serve(directory) -> str:
    """Serve ``directory`` on a free loopback port from a daemon thread; returns its base URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def chromium_page(playwright):
    """A page of Debian's Chromium (never a downloaded browser), 1280 x 900."""
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"])
    return browser.new_page(viewport={"width": 1280, "height": 900})


def bokeh_reference_redraw_ms(page, bokeh_js_url: str) -> float:
    """Median time from an input event to the end of Bokeh's redraw of an empty plot (one panel of an explorer's
    size, one line of two points, whose data the input replaces): what any Bokeh redraw costs at least
    (15 inputs)."""
    import statistics

    from bokeh.embed import components
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    fig = figure(width=420, height=280, toolbar_location=None, tools="")
    fig.line("x", "y", source=ColumnDataSource(dict(x=[0.0, 1.0], y=[0.0, 1.0]), name="ref-source"))
    script, div = components(fig)
    page.set_content(f'<script src="{bokeh_js_url}"></script><input type="range" id="ref-c0" min="0" max="9">'
                     f'{div}{script}<script>document.getElementById("ref-c0").addEventListener("input", (e) => {{'
                     'for (const d of Bokeh.documents) { const m = d.get_model_by_name("ref-source");'
                     ' if (m) m.data = {x: [0, 1], y: [0, Number(e.target.value)]}; } });</script>')
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
    page.wait_for_timeout(300)
    return statistics.median([page.evaluate(TIMED_INPUT, ["ref", 0, i % 10]) for i in range(1, 16)])


def reference_redraw_ms(page) -> float:
    """Median time from an input event to a listener's one canvas rectangle in the next frame (15 inputs)."""
    import statistics

    page.set_content('<input type="range" id="ref-c0" min="0" max="9"><canvas id="c" width="10" height="10">'
                     '</canvas><script>const c = document.getElementById("c").getContext("2d");'
                     'document.getElementById("ref-c0").addEventListener("input", () => requestAnimationFrame('
                     '() => c.fillRect(0, 0, 5, 5)));</script>')
    return statistics.median([page.evaluate(TIMED_INPUT, ["ref", 0, i % 10]) for i in range(1, 16)])

