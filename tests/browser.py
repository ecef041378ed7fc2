"""Small helpers shared by the browser tests of the website (the fixtures are in ``tests/conftest.py``).

``open_page`` opens a page of the built site as a reader's browser would, with no network: any
request to another host is aborted and recorded. ``set_theme`` switches the theme's light/dark mode
the way its own switch does (the ``data-theme`` and ``data-mode`` attributes of ``<html>``), without
storing the choice, so that other tests of the same browser profile still start in light mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.test_site import PAGES  # every page of _toc.yml, in reading order

__all__ = ["PAGES", "OpenPage", "open_page", "set_theme", "EXPLORER_ROOTS"]

# An explorer's root element: the site-form contract (``.optlib-explorer``), or today's
# matplotlib player (``div.animation``) until every explorer follows the contract.
EXPLORER_ROOTS = ".optlib-explorer, div.animation"

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
    page.wait_for_timeout(100)  # transitions and observers of the attribute (e.g. explorers' themes)
