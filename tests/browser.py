"""What the browser tests of the website share: the browser, the served site, and a few helpers.

* ``browser_context`` (fixture): Debian's Chromium (``/usr/bin/chromium``, or ``$OPTLIB_CHROMIUM``) driven by
  Playwright, with a new empty profile; skips, or fails in CI (``OPTLIB_REQUIRE_BROWSER=1``), without a
  browser. Playwright's sync API runs one instance per thread, so every module that uses this fixture
  (it is registered in ``tests/conftest.py`` and imported by ``tests/test_site.py``) shares one browser.
* ``site_url`` (fixture): the built site (``built_site``) served on localhost by a thread of this process.
* ``open_page`` opens a page as a reader's browser would, with no network: any request to another host
  is aborted and recorded. ``set_theme`` switches the theme's light/dark mode the way its own switch does
  (the ``data-theme`` and ``data-mode`` attributes of ``<html>``), without storing the choice, so that
  later pages of the shared browser profile still open in light mode.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("OPTLIB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def toc_pages() -> list[str]:
    """Every page of the table of contents, in reading order (the root first), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key, []))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [str(Path(page).with_suffix("")) if page.endswith((".md", ".ipynb")) else page for page in pages]


PAGES = toc_pages()

_SHARED: dict = {}  # the one Playwright instance and browser context of this test process


def playwright_or_skip(what: str):
    """Playwright's ``sync_playwright``, or a skip (a failure under ``OPTLIB_REQUIRE_BROWSER=1``, as in CI)
    when Playwright or Debian's Chromium is missing; ``what`` names the tests in the message."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright's Python package is not installed (pip install -r requirements.txt)"
    if missing is None and not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        missing = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set OPTLIB_CHROMIUM)"
    if missing:
        message = f"browser tests of {what} need a browser: {missing}"
        if os.environ.get("OPTLIB_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " [OPTLIB_REQUIRE_BROWSER=1]")
        pytest.skip(message)
    return sync_playwright


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    """A Chromium context with a new empty profile; skips (or fails in CI) when there is no browser."""
    sync_playwright = playwright_or_skip("the website")
    owner = not _SHARED
    if owner:
        playwright = sync_playwright().start()
        _SHARED["playwright"] = playwright
        _SHARED["context"] = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900}, service_workers="block")
    yield _SHARED["context"]
    if owner:
        _SHARED.pop("context").close()
        _SHARED.pop("playwright").stop()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(built_site):
    """The built site, served on localhost by a thread of this process."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


__all__ = ["PAGES", "CHROMIUM", "CHROMIUM_ARGS", "browser_context", "site_url", "OpenPage", "open_page", "set_theme",
           "EXPLORER_ROOTS"]

# An explorer's root element on the site (optlib.explorers.site).
EXPLORER_ROOTS = ".optlib-explorer"

_WAIT_FOR_MATH = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await document.fonts.ready;
}"""


@dataclass
class OpenPage:
    page: object  # playwright.sync_api.Page
    external: list[str] = field(default_factory=list)  # requests to another host (aborted)
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions


def open_page(context, site_url: str, path: str) -> OpenPage:
    """Open ``site_url + path`` offline; wait for the load, for MathJax and the fonts, and (at most 10 s,
    the machine may be busy) for the network to settle."""
    page = context.new_page()
    opened = OpenPage(page)

    def route(route):
        if route.request.url.startswith((site_url, "data:", "blob:")):
            route.continue_()
        else:
            opened.external.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and opened.errors.append(message.text))
    page.on("pageerror", lambda error: opened.errors.append(f"uncaught: {error}"))
    response = page.goto(site_url + path, wait_until="load", timeout=120_000)
    assert response is not None and response.ok, f"{path}: status {response and response.status}"
    page.evaluate(_WAIT_FOR_MATH)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_load_state("networkidle", timeout=10_000)
    except PlaywrightTimeout:
        pass  # everything the checks need has loaded above; a late request is still routed and recorded
    return opened


def set_theme(page, mode: str) -> None:
    """Show the page in the theme's ``light`` or ``dark`` mode (as its switch does, not stored)."""
    if mode not in ("light", "dark"):
        raise ValueError(f"mode must be 'light' or 'dark', not {mode!r}")
    page.evaluate("mode => { const html = document.documentElement; html.dataset.mode = mode; "
                  "html.dataset.theme = mode; }", mode)
    # Observers of the attribute (e.g. the explorers' themes) act in the next frames; the theme's colour
    # transitions must have ended before anything reads colours (axe's contrast check, screenshots): on a
    # loaded machine a fixed wait was not enough (a search button half-way to its dark colour).
    page.wait_for_timeout(100)
    page.wait_for_function("() => document.getAnimations().every(a => !(a instanceof CSSTransition) "
                           "|| a.playState !== 'running')", timeout=10_000)
