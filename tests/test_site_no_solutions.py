"""The built website (``built_site``, from tests/conftest.py) holds no solution and no hidden test.

Every file under _build/html is searched: the HTML pages (as text, tags removed), the downloadable
sources (``_sources/``, ``.md`` and ``.ipynb``), the search index and any other text file. What is searched
for, in every assignment under assignments/source/:

* each solution region and each hidden-test region, whole, with whitespace collapsed (a whole region
  rather than single lines, since a chapter may well show a line such as ``theta - lr * grad``);
* each sentence of a written model answer;

and no page links to or ships a file of assignments/.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "assignments" / "source").glob("*/*.ipynb"))
TEXT_SUFFIXES = {".html", ".htm", ".md", ".ipynb", ".txt", ".py", ".js", ".json", ".xml", ".tex", ".rst"}


def _regions(text: str, begin: str, end: str) -> list[str]:
    return re.findall(rf"{re.escape(begin)}\n(.*?)\n[ \t]*{re.escape(end)}", text, flags=re.DOTALL)


def _normal(text: str) -> str:
    return " ".join(text.split())


def secrets(path: Path) -> list[str]:
    """The texts of one source notebook that must never be published, whitespace collapsed."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution"):
            sentences = re.split(r"(?<=[.!?])\s+", cell.source)
            found += [s for s in sentences if len(s) > 40]
        else:
            found += _regions(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
            found += _regions(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    return [_normal(s) for s in found if s.strip()]


def searchable_text(path: Path) -> str:
    raw = path.read_text(errors="replace")
    if path.suffix in {".html", ".htm"}:
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    elif path.suffix == ".ipynb":
        try:
            raw = "\n".join("".join(c.get("source", "")) for c in json.loads(raw).get("cells", []))
        except (ValueError, AttributeError):
            pass
    return _normal(raw)


def test_the_check_finds_what_it_looks_for():
    """Positive control: the source notebooks, rendered as a page would be, contain every secret."""
    from nbconvert import HTMLExporter

    assert len(SOURCES) >= 4
    for path in SOURCES:
        nb = nbformat.read(path, as_version=4)
        page = _normal(html.unescape(re.sub(r"<[^>]+>", "", HTMLExporter().from_notebook_node(nb)[0])))
        ipynb = searchable_text(path)
        found = secrets(path)
        assert len(found) >= 3
        assert all(s in ipynb for s in found)
        code = [s for s in found if s in page]
        assert len(code) >= len(found) - 1  # all but the model answer, whose markdown the page renders


def test_website_contains_no_solution_and_no_hidden_test(built_site):
    assert (built_site / "teaching.html").is_file(), "the instructors' page is in the book"
    wanted = {(path.parent.name, s) for path in SOURCES for s in secrets(path)}
    names = {path.name for path in SOURCES}
    leaks, files = [], 0
    for path in sorted(built_site.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(built_site).as_posix()
        assert path.name not in names and "assignments/" not in relative, f"{relative} is an assignment file"
        if path.suffix not in TEXT_SUFFIXES:
            continue
        files += 1
        raw = path.read_text(errors="replace")
        if path.suffix in {".html", ".htm"}:
            links = re.findall(r"""(?:href|src)\s*=\s*["']([^"']*)["']""", raw)
            inside = [link for link in links if "assignments/" in link]
            assert not inside, f"{relative} links into assignments/: {inside[:3]}"
        text = searchable_text(path)
        leaks += [(relative, assignment, s[:80]) for assignment, s in wanted if s in text]
    assert files > 10
    assert not leaks, f"{len(leaks)} leaks, e.g. {leaks[:5]}"


@pytest.mark.parametrize("pattern", ["assignments/source", "assignments/release", "assignments/submitted",
                                     "assignments/autograded", "assignments/feedback"])
def test_book_config_excludes_the_course_folders(pattern):
    """_config.yml keeps every course folder out of the build, even if a page named one in the toc."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert pattern in config["exclude_patterns"]
