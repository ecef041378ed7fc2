"""The whole book as one PDF, ``_build/pdf/book.pdf`` (``make pdf``).

Jupyter Book 1's own route (``--builder pdfhtml``) prints the single-page HTML build with a browser
that Playwright downloads, which this machine (and a reader offline) cannot fetch. This script does
the same with the system's Chromium:

1. ``jupyter-book build . --builder singlehtml -W -n --keep-going`` writes the whole book as one page,
   ``_build/singlehtml/<root>.html`` (the root of ``_toc.yml``, ``intro``); executed notebooks come
   from the execution cache the website build fills (``_build/.execution_cache``, see
   ``_ext/offline_site.py``), so nothing is executed twice.
2. That page is served on localhost and opened in ``/usr/bin/chromium`` (or ``$OPTLIB_CHROMIUM``),
   driven by Playwright; the script waits until MathJax has typeset every formula and every image has
   loaded, and stops with an error if a formula is left untypeset or an image is broken.
3. Chromium prints it with the book's print stylesheet (``_static/book.css``: no sidebars or buttons,
   each chapter on a new page, each explorer as the PNG of its default setting) to ``_build/pdf/book.pdf``.
4. The PDF is copied into the website (``_build/html/book.pdf``) when that exists; the front page links it.

Run as ``python tools/book_pdf.py`` (``--no-build`` prints the existing single-page build again).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SINGLEHTML = ROOT / "_build" / "singlehtml"
PDF = ROOT / "_build" / "pdf" / "book.pdf"
HTML = ROOT / "_build" / "html"
ROOT_PAGE = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]  # the single page holds the whole book
CHROMIUM = Path(os.environ.get("OPTLIB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUILD_TIMEOUT = 3600  # seconds; a build with an empty execution cache executes every chapter

# Page furniture that Chromium draws in the margins (its own tiny HTML documents, styled inline).
HEADER = '<div style="font-size:8px;width:100%;text-align:center;color:#555"><span class="title"></span></div>'
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')

# Resolves when MathJax has typeset the page; lists what it left untypeset or could not parse.
TYPESET = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  }
  await document.fonts.ready;
  const math = [...document.querySelectorAll('span.math, div.math')];
  return {formulas: math.length,
          untypeset: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
          errors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error'))};
}
"""

# Loads every image now (lazy images below the fold would print blank) and lists the broken ones.
IMAGES = r"""
async () => {
  const images = [...document.images];
  images.forEach(image => { image.loading = 'eager'; });
  await Promise.all(images.map(image => image.complete ? image.decode().catch(() => null) : new Promise(done => {
    image.addEventListener('load', done, {once: true});
    image.addEventListener('error', done, {once: true});
    setTimeout(done, 20000);
  })));
  return {count: images.length,
          broken: images.filter(i => !(i.complete && i.naturalWidth > 0))
                        .map(i => (i.currentSrc || i.src).slice(0, 100))};
}
"""


class PrintError(RuntimeError):
    """The single-page book could not be printed faithfully (untypeset math, a broken image, ...)."""


def build_singlehtml(log: Path) -> int:
    """Build ``_build/singlehtml`` as ``make book`` builds the website; returns jupyter-book's status."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "OPTLIB_EXPLORERS": "static", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        result = subprocess.run([str(bin_dir / "jupyter-book"), "build", ".", "--builder", "singlehtml",
                                 "-W", "-n", "--keep-going"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
    return result.returncode


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(directory: Path):
    """``directory`` on a localhost port, from a thread of this process; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def print_pdf(site: Path, pdf: Path) -> dict:
    """Print the single page ``site/<root>.html`` to ``pdf`` with Chromium; returns what was found."""
    from playwright.sync_api import sync_playwright

    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        raise PrintError(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set OPTLIB_CHROMIUM)")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with serve(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            external = []

            def offline(route):  # the book must print with no network, as the website works with none
                if route.request.url.startswith((url, "data:")):
                    route.continue_()
                else:
                    external.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.goto(f"{url}{ROOT_PAGE}.html", wait_until="load", timeout=300_000)
            math = page.evaluate(TYPESET)
            images = page.evaluate(IMAGES)
            problems = [f"formula not typeset: {text!r}" for text in math["untypeset"][:5]]
            problems += [f"MathJax error: {text!r}" for text in math["errors"][:5]]
            problems += [f"image did not load: {src}" for src in images["broken"][:5]]
            problems += [f"request to another host: {address}" for address in external[:5]]
            if problems:
                raise PrintError("the single-page book is not ready to print:\n  " + "\n  ".join(problems))
            # The front page's link to the PDF means nothing inside the PDF: plain text there.
            page.evaluate("() => document.querySelectorAll('a.book-pdf-download')"
                          ".forEach(a => a.removeAttribute('href'))")
            page.emulate_media(media="print")
            page.pdf(path=str(pdf), format="A4", print_background=True, outline=True, tagged=True,
                     display_header_footer=True, header_template=HEADER, footer_template=FOOTER,
                     margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"})
        finally:
            browser.close()
    return {"formulas": math["formulas"], "images": images["count"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="print the existing _build/singlehtml again")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if not args.no_build:
        log = ROOT / "_build" / "singlehtml-build.log"
        status = build_singlehtml(log)
        if status != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            print(f"{tail}\nthe single-page build failed (status {status}; full log {log})", file=sys.stderr)
            return 1
    built = time.perf_counter()
    try:
        found = print_pdf(SINGLEHTML, PDF)
    except PrintError as error:
        print(error, file=sys.stderr)
        return 1
    done = time.perf_counter()
    if HTML.is_dir():
        shutil.copy2(PDF, HTML / PDF.name)
    print(f"The book as a PDF: {PDF} ({PDF.stat().st_size / 1e6:.1f} MB; {found['formulas']} formulas, "
          f"{found['images']} images; build {built - start:.0f} s, print {done - built:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
