"""What a reader's browser fetches for the explorers: the first view, each move, the whole site; and file:// pages.

Sizes are those a host that compresses transfers (GitHub Pages serves gzip): each file a page fetches, as
recorded by Chromium, is gzip-compressed here (Python's ``gzip``, level 6, the level of ``gzip -6``) from the
built site. The local test server itself sends files uncompressed.

* **First view** of every chapter page with an explorer (loaded, nothing scrolled or touched), as a reader
  with an empty cache fetches it: everything the page fetched, the files every page shares included
  (``_static``: BokehJS, the theme and its icon fonts, MathJax), at most :data:`FIRST_VIEW` gzipped. The
  page's own part (its HTML, its images in ``_images/``, explorer data in ``_static/optlib-explorers/``)
  is reported beside it.
* **Explorer in view**: scrolled to each explorer, which then fetches the data next to its default setting
  ahead of the reader: reported.
* **Any single move**: every value of every control in turn (each control from its default to its first value,
  then to its last, then back), as a reader steps through them: the data one move fetches (the chunk of the new
  setting and the ones next to it, fetched ahead) at most :data:`MOVE` gzipped.
* **The whole site's explorer data** (the chunk files and what the pages hold inline): at most :data:`SITE`
  bytes as stored (uncompressed, as ``file://`` reads them).
* **file://**: a page opened from the disk draws its explorers and loads a chunk when a control moves
  (chunks are ``<script>`` files, which ``file://`` pages may load; ``fetch`` could not).
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from optlib.explorers import CHAPTER_EXPLORERS
from tests.explorer_pages import drawn, explorers_on, set_by_keyboard
from tests.test_site import SCREENSHOTS

FIRST_VIEW = 1_500_000
MOVE = 200_000
SITE = 60_000_000
CHAPTERS = sorted({chapter for chapter, _ in CHAPTER_EXPLORERS.values()})
REPORT: dict = {}


@cache
def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def local_file(site: Path, site_url: str, url: str) -> Path | None:
    if not url.startswith(site_url):
        return None
    path = site / unquote(urlsplit(url).path[len(urlsplit(site_url).path):])
    return path if path.is_file() else None


def own(url: str) -> bool:
    """A file of this page only (not shared by every page)."""
    return "/_static/" not in url or "/_static/optlib-explorers/" in url


class Transfers:
    """Every response of a page, as ``(url, gzipped bytes, bytes)``, in order."""

    def __init__(self, page, site: Path, site_url: str):
        self.seen: list[tuple[str, int, int]] = []
        self.page = page

        def record(response):
            path = local_file(site, site_url, response.url)
            if path is not None:
                self.seen.append((response.url, gzipped(path), path.stat().st_size))

        page.on("response", record)

    def settle(self, quiet_ms: int = 300, limit_ms: int = 20_000) -> None:
        """Wait until no response has come for ``quiet_ms``."""
        count, waited = -1, 0
        while count != len(self.seen) and waited < limit_ms:
            count = len(self.seen)
            self.page.wait_for_timeout(quiet_ms)
            waited += quiet_ms

    def since(self, start: int, only_own: bool = True, raw: bool = False) -> int:
        return sum(size if raw else compressed for url, compressed, size in self.seen[start:]
                   if own(url) or not only_own)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_what_a_reader_fetches(chapter, browser_context, site_url, built_site):
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    # A reader's first visit: nothing from the browser's cache (other pages of this session loaded the shared files).
    browser_context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
    transfers = Transfers(page, built_site, site_url)
    problems, report = [], {}
    try:
        page.goto(f"{site_url}{chapter.replace('.ipynb', '.html')}", wait_until="load")
        infos = explorers_on(page)
        transfers.settle()
        report["first view (gzip)"] = first = transfers.since(0, only_own=False)
        report["first view (raw)"] = transfers.since(0, only_own=False, raw=True)
        report["first view (own, gzip)"] = transfers.since(0)
        report["first view (own, raw)"] = transfers.since(0, raw=True)
        if first > FIRST_VIEW:
            problems.append(f"first view {first:,} bytes gzipped (cold cache, shared files included), "
                            f"over {FIRST_VIEW:,}")
        for info in infos:
            uid, name = info["id"], info["name"]
            start = len(transfers.seen)
            page.locator(f"#{uid}").scroll_into_view_if_needed()
            transfers.settle()
            report[f"{name}: in view (gzip)"] = transfers.since(start)
            largest = (0, "no move fetched anything")
            for index, control in enumerate(info["controls"]):
                steps = [*range(control["default"] - 1, -1, -1), *range(1, len(control["values"])),
                         *range(len(control["values"]) - 2, control["default"] - 1, -1)]
                for value in steps:
                    start = len(transfers.seen)
                    set_by_keyboard(page, uid, index, control, value)
                    drawn(page, uid)
                    transfers.settle(quiet_ms=150)
                    size = transfers.since(start)
                    move = f"{control['label']} -> {control['values'][value]}"
                    largest = max(largest, (size, move), key=lambda fetched: fetched[0])
            report[f"{name}: largest move (gzip)"] = largest
            if largest[0] > MOVE:
                problems.append(f"{name}: the move {largest[1]} fetched {largest[0]:,} bytes gzipped, over {MOVE:,}")
    finally:
        page.close()
    REPORT[chapter] = report
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "transfers.json").write_text(json.dumps(REPORT, indent=2) + "\n")
    print(f"{chapter}: {report}")
    assert not problems, f"{chapter}:\n  " + "\n  ".join(problems)


def test_the_site_holds_at_most_60_mb_of_explorer_data(built_site):
    chunks = sorted((built_site / "_static" / "optlib-explorers").rglob("*.js"))
    inline = 0
    for page in built_site.rglob("*.html"):
        for data in re.findall(r'<script type="application/json" class="optlib-explorer-data">(.*?)</script>',
                               page.read_text(errors="replace"), re.DOTALL):
            inline += len(data.encode())
    stored = sum(path.stat().st_size for path in chunks)
    compressed = sum(gzipped(path) for path in chunks)
    print(f"explorer data: {len(chunks)} chunk files, {stored:,} bytes ({compressed:,} gzipped), "
          f"{inline:,} bytes inline in the pages")
    assert chunks, "no chunk files in _static/optlib-explorers"
    assert stored + inline <= SITE


def test_explorers_work_from_file_urls(browser_context, built_site):
    """A chapter opened from the disk: its explorers draw, and a move loads its chunk and draws it."""
    chapter = next(c for c in CHAPTERS if "gradient_descent" in c) if any(
        "gradient_descent" in c for c in CHAPTERS) else CHAPTERS[0]
    page = browser_context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto((built_site / chapter.replace(".ipynb", ".html")).as_uri(), wait_until="load")
        for info in explorers_on(page):
            uid = info["id"]
            before = drawn(page, uid)
            index = next(i for i, c in enumerate(info["controls"]) if c["kind"] == "range")
            control = info["controls"][index]
            set_by_keyboard(page, uid, index, control, len(control["values"]) - 1 if control["default"] == 0 else 0)
            after = drawn(page, uid)
            assert after["series"] != before["series"], f"{info['name']}: moving {control['label']!r} drew nothing new"
    finally:
        page.close()
    assert not errors, errors
