"""The book as one PDF (``make pdf``, ``tools/book_pdf.py``), read back with Debian's poppler-utils.

* the PDF exists, and the website offers it (``_build/html/book.pdf``, linked from the front page);
* ``pdftotext`` finds every page of the table of contents by its title, in reading order, each chapter
  with its number, and no raw TeX (the math is typeset);
* ``pdfimages -list`` finds at least as many images as the chapters have figures (each explorer
  counting once, as the figure of its default setting).

Page count, size and build time go to ``_build/pdf/report.json`` and the terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from tests.browser import CHROMIUM, PAGES

ROOT = Path(__file__).resolve().parents[1]
SINGLEHTML = ROOT / "_build" / "singlehtml" / f"{PAGES[0]}.html"  # the whole book on one page
RAW_TEX = ["\\frac", "\\begin", "$$", "\\mathbf", "\\left(", "\\sum_"]


@pytest.fixture(scope="module")
def poppler():
    missing = [tool for tool in ("pdftotext", "pdfimages", "pdfinfo") if shutil.which(tool) is None]
    if missing or not CHROMIUM.exists():
        message = (f"the PDF tests need Chromium ({CHROMIUM}) and poppler-utils (pdftotext, pdfimages, pdfinfo): "
                   f"missing {missing or [str(CHROMIUM)]} (Debian: apt-get install chromium poppler-utils)")
        if os.environ.get("OPTLIB_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " [OPTLIB_REQUIRE_BROWSER=1]")
        pytest.skip(message)


@pytest.fixture(scope="module")
def pdf(book_pdf, poppler) -> Path:
    log = book_pdf.log.read_text(errors="replace")
    assert book_pdf.returncode == 0, f"make pdf failed (status {book_pdf.returncode}; log {book_pdf.log}):\n" + \
        "\n".join(log.splitlines()[-30:])
    assert book_pdf.pdf.exists(), f"make pdf wrote no {book_pdf.pdf}"
    return book_pdf.pdf


@pytest.fixture(scope="module")
def pdf_text(pdf) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return normalize(text)


def normalize(text: str) -> str:
    """One space between words (titles may be wrapped) and plain apostrophes (MyST prints typographic ones)."""
    return " ".join(text.replace("\u2019", "'").split())


def page_title(page: str) -> str:
    """The first level-1 heading of a page of the table of contents (a notebook or a Markdown file)."""
    path = next(ROOT.glob(f"{page}.*"))
    if path.suffix == ".ipynb":
        sources = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"]
    else:
        sources = [path.read_text()]
    for source in sources:
        for line in source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise AssertionError(f"{path} has no level-1 heading")


def test_the_pdf_is_a_pdf_and_reports_its_numbers(pdf, book_pdf, request):
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    report = {"pages": pages, "megabytes": round(pdf.stat().st_size / 1e6, 2),
              "make_pdf_seconds": round(book_pdf.seconds, 1)}
    (pdf.parent / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(f"\nPDF: {json.dumps(report)}")
    assert pages >= len(PAGES), f"{pages} pages for {len(PAGES)} pages of the table of contents"


def test_every_title_in_reading_order_chapters_numbered(pdf_text):
    position, number = 0, 0
    for page in PAGES:
        title = normalize(page_title(page))
        if page.startswith("chapters/"):
            number += 1
            pattern = rf"\b{number}\.?\s+{re.escape(title)}"
        else:
            pattern = re.escape(title)
        match = re.compile(pattern).search(pdf_text, position)
        assert match, f"{page}: title {pattern!r} not found in the PDF after position {position}"
        position = match.end()


class _Code(HTMLParser):
    """The text of every code listing (``<pre>``) of the single-page build."""

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "pre"

    def handle_endtag(self, tag):
        self.depth -= tag == "pre" and self.depth > 0

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def test_no_raw_tex_in_the_pdf(pdf_text):
    """No TeX outside code: a listing may show TeX (a docstring's ``.. math::``), the text may not."""
    code = _Code()
    code.feed(SINGLEHTML.read_text())
    listings = re.sub(r"\s+", "", "".join(code.parts))
    found = []
    for tex in RAW_TEX:
        for match in re.finditer(re.escape(tex), pdf_text):
            around = pdf_text[max(0, match.start() - 25): match.end() + 25]
            if re.sub(r"\s+", "", around) not in listings:
                found.append(around)
    assert not found, f"untypeset TeX in the PDF (outside code listings): {found[:5]}"


class _Figures(HTMLParser):
    """Counts the figures of the chapters in the single-page build: every image in a chapter's part
    of the article (cell outputs, Markdown figures, an explorer's figure of its default setting)."""

    def __init__(self):
        super().__init__()
        self.chapter = None
        self.per_chapter: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        anchor = attrs.get("id") or ""
        if anchor.startswith("document-"):
            self.chapter = anchor.removeprefix("document-") if anchor.startswith("document-chapters/") else None
        elif tag == "img" and self.chapter:
            self.per_chapter[self.chapter] = self.per_chapter.get(self.chapter, 0) + 1


def test_every_figure_is_in_the_pdf(pdf):
    parser = _Figures()
    parser.feed(SINGLEHTML.read_text())
    chapters = [page for page in PAGES if page.startswith("chapters/")]
    assert set(parser.per_chapter) <= set(chapters)
    figures = sum(parser.per_chapter.values())
    assert figures >= len(chapters), f"only {figures} figures found in the chapters: {parser.per_chapter}"
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    images = sum(1 for row in rows if row[2] == "image")  # an image's alpha channel is a row of type smask
    assert images >= figures, f"the PDF embeds {images} images; the chapters have {figures} figures"


def test_the_site_offers_the_pdf(pdf, built_site):
    copy = built_site / "book.pdf"
    assert copy.exists(), "the website has no book.pdf (make book after make pdf copies it)"
    assert copy.read_bytes() == pdf.read_bytes(), "the website's book.pdf is not the PDF just built"
    intro = (built_site / "intro.html").read_text()
    assert re.search(r'<a[^>]+href="book\.pdf"', intro), "the front page does not link book.pdf"
