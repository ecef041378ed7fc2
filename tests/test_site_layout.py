"""Every explorer's panels inside their column, on a phone (390 px) and on a desktop (1280 px).

Each chapter page with an explorer is opened at both widths; for every explorer, every canvas Bokeh drew must lie
inside its panel, inside the explorer, inside the page's article column (1 px of slack for rounding), and the
article must not scroll sideways because of it. A screenshot of each explorer at each width goes to
``_build/screenshots/<explorer>--<width>px.png``. The check itself is tried on a page made to fail (a canvas
wider than its column).
"""

from __future__ import annotations

import pytest

from optlib.explorers import CHAPTER_EXPLORERS
from tests.explorer_pages import explorers_on
from tests.test_site import SCREENSHOTS

WIDTHS = (390, 1280)
CHAPTERS = sorted({chapter for chapter, _ in CHAPTER_EXPLORERS.values()})

#: Every canvas of every explorer (open shadow roots included) that sticks out of its panel, its explorer or
#: the article column, with the rectangles.
OVERFLOWS = r"""
() => {
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1
                           && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const box = (e) => e.getBoundingClientRect();
  const column = document.querySelector('.bd-article') || document.querySelector('main') || document.body;
  const out = [];
  for (const root of document.querySelectorAll('.optlib-explorer')) {
    const canvases = [];
    const walk = (node) => {
      for (const e of node.querySelectorAll('*')) {
        if (e.tagName === 'CANVAS' && e.getClientRects().length) canvases.push(e);
        if (e.shadowRoot) walk(e.shadowRoot);
      }
    };
    walk(root);
    if (!canvases.length) out.push({explorer: root.dataset.explorer || root.id, what: 'no canvas drawn'});
    if (!inside(box(root), box(column))) {
      out.push({explorer: root.dataset.explorer || root.id, what: 'explorer wider than the column',
                rect: box(root).toJSON(), column: box(column).toJSON()});
    }
    for (const canvas of canvases) {
      let host = canvas;
      while (host && !(host.classList && host.classList.contains('optlib-explorer-panel'))) {
        host = host.parentElement || (host.getRootNode && host.getRootNode().host);
      }
      for (const [name, container] of [['panel', host], ['explorer', root], ['column', column]]) {
        if (container && !inside(box(canvas), box(container))) {
          out.push({explorer: root.dataset.explorer || root.id, what: `canvas outside its ${name}`,
                    rect: box(canvas).toJSON(), container: box(container).toJSON()});
        }
      }
    }
  }
  return out;
}
"""


def test_the_check_finds_a_canvas_out_of_its_column(browser_context):
    page = browser_context.new_page()
    try:
        page.set_content('<main style="width: 300px"><div class="optlib-explorer" data-explorer="wide">'
                         '<div class="optlib-explorer-panel"><canvas width="500" height="10"></canvas></div>'
                         '</div></main>')
        found = page.evaluate(OVERFLOWS)
    finally:
        page.close()
    assert {f["what"] for f in found} >= {"canvas outside its panel", "canvas outside its column"}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_panel_fits_its_column(chapter, width, browser_context, site_url):
    page = browser_context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(f"{site_url}{chapter.replace('.ipynb', '.html')}", wait_until="load")
        infos = explorers_on(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for info in infos:
            root = page.locator(f"#{info['id']}")
            root.scroll_into_view_if_needed()
            page.wait_for_timeout(300)   # Bokeh lays out on a resize in the next frames
            root.screenshot(path=str(SCREENSHOTS / f"{info['name']}--{width}px.png"))
        found = page.evaluate(OVERFLOWS)
        sideways = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    finally:
        page.close()
    assert not found, f"{chapter} at {width} px: {found}"
    assert sideways <= 1, f"{chapter} at {width} px scrolls sideways by {sideways} px"
