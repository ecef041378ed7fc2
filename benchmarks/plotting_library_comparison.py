"""Bokeh against Vega-Lite (Altair + vl-convert-python's bundle) on one explorer: chapter 5's momentum explorer.

Both pages draw the same precomputed optlib data (optlib.explorers.site.site_data: every setting of the
grid, the same controls) and serve their library from a file next to the page; the Bokeh page is the book's
(its data in chunks fetched as the reader moves), the Vega-Lite page holds the same values inline as JSON:

* Bokeh: the book's site form (``Explorer.static()``), BokehJS from the ``bokeh`` wheel, the data copied
  into Bokeh's ColumnDataSources by optlib-explorer.js;
* Vega-Lite: an Altair chart of the same panels (contours + paths, loss on a log axis), rendered by the
  Vega/Vega-Lite/vega-embed bundle of ``vl_convert.javascript_bundle()``; a control replaces the views'
  datasets (``view.data(name, rows).runAsync()``).

Printed: the library's JavaScript bytes, the page's bytes (HTML + data), and the median time from an input
event to the frame after the redraw in Chromium, over every value of every control, with a reference timed
in the same run (an input that draws one rectangle on a canvas in the next frame).
Needs (benchmark only, not in requirements.txt): ``pip install altair vl-convert-python``.
Run:  .venv/bin/python benchmarks/plotting_library_comparison.py
"""

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tests"))

import optlib_explorers as ext  # noqa: E402
from explorer_pages import TIMED_INPUT, chromium_page, reference_redraw_ms, serve  # noqa: E402

from optlib.explorers import momentum_explorer  # noqa: E402
from optlib.explorers.site import _control_html, site_data  # noqa: E402

VEGA_GLUE = r"""
(async function () {
  const root = document.querySelector('.optlib-explorer');
  const spec = JSON.parse(root.querySelector('script.optlib-explorer-data').textContent);
  const inputs = [...root.querySelectorAll('[data-control]')];
  const result = await vegaEmbed('#vega', VL_SPEC, {actions: false, renderer: 'canvas'});
  window.vegaView = result.view;
  // Each slot's value at the chosen setting: its table over the controls it depends on (site.py's slots).
  function value(slot) {
    const chosen = inputs.map(i => Number(i.value));
    let index = 0;
    slot.dims.forEach((d, i) => { index = index * spec.sizes[d] + chosen[d]; });
    return slot.values[index];
  }
  async function render() {
    const [cx, cy] = value(spec.contour);
    const lines = [];
    for (let i = 0; i < cx.length; i++) lines.push({x: cx[i], y: cy[i], i: i});
    const paths = [], losses = [];
    for (const [key, slot] of Object.entries(spec.lines)) {
      const v = value(slot);
      if (!v) continue;
      const [x, y] = v;
      const target = key.startsWith('path') ? paths : losses;
      for (let i = 0; i < x.length; i++) target.push({key: key, step: i, x: x[i], y: y[i]});
    }
    const view = window.vegaView;
    await view.data('contour', lines).data('paths', paths).data('losses', losses.filter(d => d.y > 0)).runAsync();
  }
  inputs.forEach(input => input.addEventListener('input', () => { window.lastRender = render(); }));
  await render();
  root.classList.add('optlib-explorer-ready');
})();
"""


def vega_lite_spec() -> dict:
    import altair as alt

    path = alt.Chart(alt.NamedData("paths")).mark_line(point=True).encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=[-3.7, 3.7])), y=alt.Y("y:Q", scale=alt.Scale(domain=[-3.7, 3.7])),
        color="key:N", order="step:Q", tooltip=["key:N", "step:Q", "x:Q", "y:Q"])
    contour = alt.Chart(alt.NamedData("contour")).mark_line(color="#999", strokeWidth=0.8).encode(
        x="x:Q", y="y:Q", order="i:Q")
    loss = alt.Chart(alt.NamedData("losses")).mark_line().encode(
        x=alt.X("step:Q", title="step t"), y=alt.Y("y:Q", scale=alt.Scale(type="log"), title="f − f*"),
        color="key:N", tooltip=["key:N", "step:Q", "y:Q"])
    return alt.hconcat((contour + path).properties(width=360, height=300),
                       loss.properties(width=420, height=300)).to_dict()


def pages(directory: Path) -> dict:
    import vl_convert

    explorer = momentum_explorer()
    bokeh_body = explorer.static()
    shutil.copy(ext._bokeh_js(), directory / ext.BOKEH_FILE)
    for name in ("optlib-explorer.js", "optlib-explorer.css"):
        shutil.copy(ext.STATIC / name, directory / name)
    (directory / "bokeh.html").write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><script defer src="{ext.BOKEH_FILE}"></script>'
        f'<script defer src="optlib-explorer.js"></script><link rel="stylesheet" href="optlib-explorer.css">'
        f"</head><body>{bokeh_body}</body></html>")
    (directory / "vega-bundle.js").write_text(vl_convert.javascript_bundle())
    data = site_data(explorer)
    # The same precomputed data as the Bokeh page (each slot once per setting of the controls it depends on),
    # as plain JSON numbers: this page holds every setting inline, the Bokeh page fetches chunks.
    plain = lambda a: [None if not np.isfinite(v) else float(v) for v in a]  # noqa: E731
    tables = dict(zip(data["_slots"], data["_tables"], strict=True))
    contour = next(t for slot, t in tables.items() if slot[0] == "contour")
    names = {n: data["_contours"][n] for n, _ in contour["values"]}
    payload = json.dumps({
        "controls": data["controls"], "sizes": [len(c["values"]) for c in data["controls"]],
        "contour": {"dims": contour["dims"], "values": [[plain(names[n][0]), plain(names[n][1])]
                                                        for n, _ in contour["values"]]},
        "lines": {slot[1]: {"dims": t["dims"], "values": [None if v is None else [plain(v[0]), plain(v[1])]
                                                          for v in t["values"]]}
                  for slot, t in tables.items() if slot[0] == "line"}}, separators=(",", ":"))
    controls = "".join(_control_html("v", i, c) for i, c in enumerate(data["controls"]))
    glue = VEGA_GLUE.replace("VL_SPEC", json.dumps(vega_lite_spec()))
    (directory / "vega.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><script src="vega-bundle.js"></script></head><body>'
        f'<div class="optlib-explorer" id="v"><div class="optlib-explorer-controls">{controls}</div>'
        f'<div id="vega"></div><script type="application/json" class="optlib-explorer-data">{payload}</script>'
        f"</div><script>{glue}</script></body></html>")
    return {"bokeh": ("bokeh.html", [ext.BOKEH_FILE, "optlib-explorer.js"]),
            "vega-lite": ("vega.html", ["vega-bundle.js"])}




def main() -> None:
    from playwright.sync_api import sync_playwright

    directory = Path(tempfile.mkdtemp(prefix="optlib-compare-"))
    made = pages(directory)

    base = serve(directory)
    with sync_playwright() as playwright:
        page = chromium_page(playwright)
        browser = page.context.browser
        # Reference: an input whose listener draws one rectangle on a canvas in the next frame.
        reference = reference_redraw_ms(page)
        print(f"reference (input -> one canvas rectangle in the next frame): {reference:.1f} ms")
        print(f"{'library':10s} {'JS bytes':>10s} {'page bytes':>11s} {'redraw ms':>10s} {'x ref':>6s}")
        for library, (html, scripts) in made.items():
            errors = []
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(base + html, wait_until="load")
            page.wait_for_function("() => document.querySelector('.optlib-explorer').classList"
                                   ".contains('optlib-explorer-ready')", timeout=60_000)
            uid = page.evaluate("() => document.querySelector('.optlib-explorer').id")
            controls = json.loads(page.evaluate(
                "() => document.querySelector('script.optlib-explorer-data').textContent"))["controls"]
            times = []
            for index, control in enumerate(controls):
                for value in [*range(len(control["values"])), control["default"]]:
                    elapsed = page.evaluate(TIMED_INPUT, [uid, index, value])
                    if elapsed >= 0:
                        times.append(elapsed)
            page.screenshot(path=str(directory / f"{library}.png"))
            js = sum((directory / s).stat().st_size for s in scripts)
            size = (directory / html).stat().st_size
            median = statistics.median(times)
            print(f"{library:10s} {js:10,d} {size:11,d} {median:10.1f} {median / reference:6.1f}"
                  + (f"  errors: {errors}" if errors else ""), flush=True)
            page.close()
        browser.close()
    print(f"pages and screenshots in {directory}")


if __name__ == "__main__":
    main()
