"""The chapters as files: committed without outputs, all in the table of contents, runnable on Colab."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def toc_files():
    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return set(walk(yaml.safe_load((ROOT / "_toc.yml").read_text())))


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs: strip them before committing"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_is_in_the_table_of_contents(path):
    assert f"chapters/{path.stem}" in toc_files()


def test_every_toc_entry_exists():
    for entry in toc_files():
        assert any((ROOT / f"{entry}{suffix}").exists() for suffix in (".ipynb", ".md")), entry


def website() -> str:
    """The book's website, from _config.yml: html.baseurl if set, else the repository's GitHub Pages."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    baseurl = config.get("html", {}).get("baseurl")
    if baseurl:
        return baseurl.rstrip("/") + "/"
    owner, name = urlsplit(config["repository"]["url"]).path.strip("/").split("/")[:2]
    return f"https://{owner}.github.io/{name}/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_installs_optlib_when_missing(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert "import optlib" in first.source and "except ImportError" in first.source
    assert repository in first.source, "the install URL must be the repository in _config.yml"
    assert "remove-cell" in first.metadata.get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_install_cell_sends_colab_readers_to_the_chapter_on_the_website(path):
    """Colab cannot render MyST: the install cell says so once and links this chapter's page."""
    first = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    page = f"{website()}chapters/{path.stem}.html"
    assert re.findall(r"https?://\S+\.html", first.source) == [page], f"the cell must link {page} (once)"
    assert len(re.findall(r"Colab cannot render", first.source)) == 1
    assert first.source.count("MyST") == 1

