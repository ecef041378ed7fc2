"""Fixtures shared by the test modules, and the two tiers of the test suite.

``built_site``: the book's website, built once per test run (the first test that asks for it builds it),
after ``book_pdf``, the book as one PDF (``make pdf``), which the website offers for download.
``browser_context`` and ``site_url``: the system's Chromium, and the built site served on localhost, for
every browser test (defined in tests/browser.py).

Tiers: ``make check`` runs ``pytest -m "not book" tests``, optlib's unit and reference tests, in well under
a minute; ``make test`` runs everything. A test is in the ``book`` tier (marked here at collection) when
it needs the book's machinery or draws its figures: a chapter notebook (nbval), a test that uses the
site build (``site_build``/``built_site``, hence every browser test), a module that imports nbgrader,
Playwright, nbformat (it reads or runs notebooks) or ``optlib.explorers``. Any other slow test can say
so itself with ``@pytest.mark.book``.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import browser_context, site_url  # noqa: F401  (fixtures for every browser test)

# A test module that imports one of these is in the book tier (nbformat: it reads or runs notebooks).
BOOK_MODULES = ("nbgrader", "playwright", "optlib.explorers", "nbformat")


def _imports_book_machinery(module) -> bool:
    for value in vars(module).values():
        name = getattr(value, "__name__", "") if inspect.ismodule(value) else getattr(value, "__module__", "") or ""
        if isinstance(name, str) and name.startswith(BOOK_MODULES):
            return True
    return False


def _uses_the_site(item) -> bool:
    return not {"site_build", "book_pdf"}.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = getattr(item, "module", None)
        if item.path.suffix == ".ipynb" or _uses_the_site(item) or (module is not None
                                                                   and _imports_book_machinery(module)):
            item.add_marker(pytest.mark.book)
    # The site build comes after the chapters ran under nbval, which fill its execution cache (conftest.py
    # at the root): the build then executes no chapter a second time.
    items[:] = [item for item in items if not _uses_the_site(item)] + [item for item in items if _uses_the_site(item)]


ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT = 3600  # seconds; a fresh build executes every chapter


@dataclass
class SiteBuild:
    html: Path  # _build/html
    returncode: int
    seconds: float
    log: Path  # the build's full output
    executed: list[str]  # the build's log lines of the notebooks it executed (not found in its cache)


@dataclass
class PdfBuild:
    pdf: Path  # _build/pdf/book.pdf
    returncode: int
    seconds: float
    log: Path  # the output of `make pdf`


@pytest.fixture(scope="session")
def book_pdf() -> PdfBuild:
    """Run ``make pdf``'s script (the single-page build, printed by Chromium) once per test run.

    Never fails by itself: ``tests/test_pdf.py`` checks its status, log and PDF.
    """
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "OPTLIB_EXPLORERS": "static", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = ROOT / "_build" / "pdf-build.log"
    log.parent.mkdir(exist_ok=True)
    pdf = ROOT / "_build" / "pdf" / "book.pdf"
    pdf.unlink(missing_ok=True)
    start = time.perf_counter()
    with log.open("w") as out:
        result = subprocess.run([sys.executable, str(ROOT / "tools" / "book_pdf.py")], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
    return PdfBuild(pdf=pdf, returncode=result.returncode, seconds=time.perf_counter() - start, log=log)


@pytest.fixture(scope="session")
def site_build(book_pdf) -> SiteBuild:
    """Run ``jupyter-book build`` as ``make book`` does (after ``make pdf``, as CI does, so that the
    site includes the PDF), with a fresh Sphinx environment (``--all``), so
    every page is written again and every page's warnings are seen; executed notebooks come from the
    execution cache, which ``_ext/offline_site.py`` clears whenever optlib changes.

    Fails only if no website came out; a build with warnings (non-zero status under ``-W``) still gives
    its pages to the tests, and ``tests/test_site.py::test_the_site_builds_without_warnings`` fails.
    """
    bin_dir = Path(sys.executable).parent  # the venv's jupyter-book, and its python for the kernels
    jupyter_book = bin_dir / "jupyter-book"
    if not jupyter_book.exists():
        pytest.fail(f"jupyter-book is not installed next to {sys.executable}: run `make test`")
    env = {**os.environ, "OPTLIB_EXPLORERS": "static", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = ROOT / "_build" / "site-build.log"
    log.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as out:
        result = subprocess.run([str(jupyter_book), "build", ".", "--all", "-W", "-n", "--keep-going"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
    seconds = time.perf_counter() - start
    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        pytest.fail(f"the book did not build (status {result.returncode}; full log {log}):\n{tail}")
    executed = re.findall(r"^.*Executing notebook using.*$", log.read_text(errors="replace"), flags=re.MULTILINE)
    return SiteBuild(html=html, returncode=result.returncode, seconds=seconds, log=log, executed=executed)


@pytest.fixture(scope="session")
def built_site(site_build) -> Path:
    """The Path of the freshly built website, ``_build/html``."""
    return site_build.html
