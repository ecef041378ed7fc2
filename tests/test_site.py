"""The website, as a reader meets it: built once (``built_site``), served on localhost, opened in Chromium.

For every page of ``_toc.yml``: no console error, no failed or external request (the site must work
with no network), math typeset by the site's own MathJax, every image loaded, no ipywidgets control, every internal
link resolving, launch buttons on chapter pages. A screenshot of each page goes to
``_build/screenshots/``, with ``report.json`` (pages, explorers, largest page, build time). The
explorers themselves are exercised by tests/test_site_explorers.py.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``$OPTLIB_CHROMIUM``), driven by
Playwright's Python package; nothing downloads a browser. Without it the browser tests skip, except
when ``OPTLIB_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser fails them.
The checks of the built HTML files themselves (size, widgets, external URLs) need no browser.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import yaml

from tests import browser

# The browser and the served site: fixtures of tests/conftest.py (defined in tests/browser.py), also
# reachable from here for modules that import them from this one.
browser_context, site_url = browser.browser_context, browser.site_url

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
MAX_PAGE_BYTES = 3_000_000
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


PAGES = browser.PAGES  # every page of the table of contents, in reading order


# --- the built files (no browser needed) --------------------------------------------------------


def test_the_site_builds_without_warnings(site_build):
    log = site_build.log.read_text(errors="replace")
    problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    # The kernel's own start-up notice is not a Sphinx warning.
    problems = [line for line in problems if "IPKernelApp" not in line]
    assert site_build.returncode == 0, (f"jupyter-book build -W failed (status {site_build.returncode}; "
                                        f"log {site_build.log}):\n" + "\n".join(problems[-30:]))


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_toc_page_is_built(built_site):
    missing = [page for page in PAGES if not (built_site / f"{page}.html").exists()]
    assert not missing, f"pages of _toc.yml with no HTML: {missing}"


def test_pages_weigh_at_most_3_mb(built_site, site_report):
    sizes = {path.relative_to(built_site).as_posix(): path.stat().st_size for path in html_files(built_site)}
    largest = max(sizes, key=sizes.get)
    site_report["largest_page"] = {"page": largest, "bytes": sizes[largest]}
    heavy = {page: size for page, size in sizes.items() if size > MAX_PAGE_BYTES}
    assert not heavy, f"pages over {MAX_PAGE_BYTES:,} bytes: {heavy}"


WIDGET_MARKERS = ["application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json",
                  "@jupyter-widgets", "jupyter-widgets", "require.min.js"]


def test_no_ipywidgets_in_the_html(built_site):
    found = {path.name: marker for path in html_files(built_site)
             for marker in WIDGET_MARKERS if marker in path.read_text(errors="replace")}
    assert not found, f"ipywidgets output or its JavaScript in the built site (dead on a static page): {found}"


def test_every_explorer_is_displayed_in_its_site_form(built_site):
    """An explorer whose display failed falls back to its repr; the page would have no explorer."""
    failed = {path.relative_to(built_site).as_posix(): text for path in html_files(built_site)
              for text in re.findall(r"&lt;optlib\.explorers\.[\w.]+ (?:at|object at) 0x[0-9a-f]+&gt;",
                                     path.read_text(errors="replace"))}
    assert not failed, f"explorers shown as text instead of their site form (display failed): {failed}"


# A tag that makes the browser fetch something: script, stylesheet/preload link, image, frame, media.
FETCHING_TAG = re.compile(r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*>", re.IGNORECASE | re.DOTALL)
EXTERNAL_URL = re.compile(r"""\b(?:src|href|srcset)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)


def test_no_page_loads_anything_from_another_host(built_site):
    external = set()
    for path in html_files(built_site):
        for tag in FETCHING_TAG.finditer(path.read_text(errors="replace")):
            text = tag.group(0)
            if tag.group(1).lower() == "link" and re.search(r"rel\s*=\s*[\"']?(canonical|alternate)", text):
                continue
            external.update((path.name, url) for url in EXTERNAL_URL.findall(text))
    assert not external, f"pages that fetch from a CDN or another host: {sorted(external)}"


def test_mathjax_is_served_by_the_site(built_site):
    page = (built_site / "chapters" / "02_gradient_descent.html").read_text()
    assert re.search(r'<script[^>]+src="[./]*_static/mathjax/tex-chtml\.js', page), "MathJax is not local"
    assert (built_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_install_cells_point_at_the_repository():
    """Each chapter's first code cell installs optlib from _config.yml's repository (for Colab)."""
    import nbformat

    spec = f"git+{CONFIG['repository']['url']}@{CONFIG['repository'].get('branch', 'main')}"
    wrong = []
    for page in PAGES:
        path = ROOT / f"{page}.ipynb"
        if path.exists():
            first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
            if spec not in first.source or "remove-cell" not in first.metadata.get("tags", []):
                wrong.append(page)
    assert not wrong, f"chapters whose first cell does not install optlib from {spec} (tag remove-cell): {wrong}"


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def site_report(request, site_build):
    """Numbers for the closing note, written to _build/screenshots/report.json and the terminal."""
    report = {"pages": 0, "explorers": 0, "build_seconds": round(site_build.seconds, 1)}
    yield report
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(f"\nwebsite: {json.dumps(report)}")


@pytest.fixture(scope="session")
def screenshots(built_site):
    # Only this module's files: _build/screenshots/lab/ belongs to tests/test_lab.py.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@functools.cache
def fetch(url: str) -> tuple[int, str]:
    """Status and text of a URL of the local server (cached: most pages share their links)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            text = body.decode("utf-8", errors="replace") if url.endswith((".html", "/")) else ""
            return response.status, text
    except urllib.error.HTTPError as error:
        return error.code, ""


MATH_STATE = r"""
() => {
  const math = [...document.querySelectorAll('span.math, div.math')];
  const untypeset = math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80));
  const errors = [...document.querySelectorAll('mjx-merror')]
    .map(e => e.getAttribute('data-mjx-error') || e.textContent);
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode(node) {
    const parent = node.parentElement;
    return !parent || parent.closest('pre, code, script, style, textarea, mjx-container, .highlight')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
  }});
  const rawTex = /\\\[|\\\(|\$\$|\\begin\{|\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$/;
  const raw = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue;
    if (rawTex.test(text)) raw.push(text.trim().slice(0, 100));
  }
  return {count: math.length, containers: document.querySelectorAll('mjx-container').length,
          untypeset, errors, raw};
}
"""

BROKEN_IMAGES = r"""
async () => {
  const images = [...document.images];
  images.forEach(image => { image.loading = 'eager'; });
  await Promise.all(images.map(image => image.complete ? null : new Promise(done => {
    image.addEventListener('load', done, {once: true});
    image.addEventListener('error', done, {once: true});
    setTimeout(done, 10000);
  })));
  return {count: images.length,
          broken: images.filter(i => !(i.complete && i.naturalWidth > 0))
                        .map(i => (i.currentSrc || i.src || i.id).slice(0, 120))};
}
"""

WIDGET_CONTROLS = (".jupyter-widgets, .widget-area, .widget-slider, .widget-dropdown, "
                   "script[type^='application/vnd.jupyter.widget']")


def launch_button_problems(page, name: str) -> list[str]:
    repo = urlsplit(CONFIG["repository"]["url"]).path.strip("/")
    branch = CONFIG["repository"].get("branch", "main")
    notebook = f"{name}.ipynb"
    expected = {
        "Binder": f"/v2/gh/{repo}/{branch}?urlpath=lab/tree/{notebook}",
        "Colab": f"/github/{repo}/blob/{branch}/{notebook}",
    }
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    return [f"no {button} launch button (a link containing {part!r})"
            for button, part in expected.items() if not any(part in href for href in hrefs)]


def internal_link_problems(page, page_url: str, site_url: str) -> list[str]:
    problems = []
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    for href in sorted(set(hrefs)):
        if not href.startswith(site_url):
            continue  # another host (GitHub, Binder, Colab, a DOI): not part of this site
        target, fragment = urldefrag(href)
        status, text = fetch(target)
        if status != 200:
            problems.append(f"link {href}: status {status}")
        elif fragment and target.endswith((".html", "/")):
            anchor = re.escape(unquote(fragment))
            if not re.search(rf"""\b(?:id|name)\s*=\s*["']{anchor}["']""", text):
                problems.append(f"link {href}: no element with id {unquote(fragment)!r} on its page")
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_page_in_the_browser(name, browser_context, site_url, screenshots, site_report):
    page_url = f"{site_url}{name}.html"
    console_errors, failed, external = [], [], []
    page = browser_context.new_page()

    def route(route):
        if route.request.url.startswith((site_url, "data:", "blob:")):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: request.url not in external and failed.append(
        f"{request.url} ({request.failure})"))
    page.on("response", lambda response: response.status >= 400 and failed.append(
        f"{response.url} (status {response.status})"))
    try:
        response = page.goto(page_url, wait_until="load")
        assert response is not None and response.ok, f"{page_url}: status {response and response.status}"
        page.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise) "
                      "{ await MathJax.startup.promise; } }")
        # Explorers decode their data and draw once after the load: wait until every one says it is ready.
        page.wait_for_function("() => [...document.querySelectorAll('.optlib-explorer')]"
                               ".every(e => e.classList.contains('optlib-explorer-ready'))", timeout=60_000)
        try:  # a page that keeps a connection open is not a failure; its requests are still routed and recorded
            page.wait_for_load_state("networkidle", timeout=10_000)
        except PlaywrightTimeout:
            pass

        problems = []
        math = page.evaluate(MATH_STATE)
        if math["count"] and math["containers"] < math["count"]:
            problems.append(f"math not typeset: {math['count']} formulas, {math['containers']} MathJax containers")
        problems += [f"formula not typeset: {text!r}" for text in math["untypeset"][:5]]
        problems += [f"MathJax error: {text!r}" for text in math["errors"][:5]]
        problems += [f"raw TeX in the text: {text!r}" for text in math["raw"][:5]]

        images = page.evaluate(BROKEN_IMAGES)
        problems += [f"image did not load: {src}" for src in images["broken"]]

        widgets = page.locator(WIDGET_CONTROLS).count()
        if widgets:
            problems.append(f"{widgets} ipywidgets controls on the page (dead without a kernel)")

        explorers = page.locator(".optlib-explorer").count()
        problems += internal_link_problems(page, page_url, site_url)
        if (ROOT / f"{name}.ipynb").exists():
            problems += launch_button_problems(page, name)

        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshots / f"{name.replace('/', '__')}.png"), full_page=True)
        # Everything logged or requested while the page loaded and while the test used it.
        problems += [f"console error: {text}" for text in console_errors]
        problems += [f"failed request: {text}" for text in failed]
        problems += [f"request to another host (the site must work offline): {url}" for url in external]
    finally:
        page.close()

    site_report["pages"] += 1
    site_report["explorers"] += explorers
    site_report.setdefault("per_page", {})[name] = {"explorers": explorers, "images": images["count"],
                                                    "formulas": math["count"]}
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
