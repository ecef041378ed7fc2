"""What the text says about the website's explorers matches the explorers the pages show.

Every chapter with an explorer (``optlib.explorers.CHAPTER_EXPLORERS``, so a new chapter is covered as soon as
it registers one) has one "Explore" box (``{admonition} Explore``). In it, **bold** is kept for the labels of
the page's controls, exactly as the page shows them:

* every bold phrase is the label of a control of an explorer on that page (a box cannot name a control the
  page lacks), and every control of the page's explorers is named (the reader learns what each one is);
* the box names the Jupyter form (``make lab``), which offers every value of a slider and any start point;
* neither a box nor the front page's paragraph on explorers calls an explorer a "player" (the site's
  explorers were players once: one slider sweeping one parameter).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

from optlib.explorers import CHAPTER_EXPLORERS
from optlib.explorers.site import site_grid
from tests.test_site_grids import tiny_study

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted({chapter for chapter, _ in CHAPTER_EXPLORERS.values()})
EXPLORE_BOX = re.compile(r"(```+|:::+)\{admonition\}\s*Explore\s*\n(.*?)\n\1", re.DOTALL)
BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
PLAYER = re.compile(r"\bplayers?\b", re.IGNORECASE)


@cache
def labels_on(chapter: str) -> frozenset[str]:
    """The labels of every control of the explorers ``chapter`` shows, as the website shows them."""
    labels = set()
    for name, (page, factory) in CHAPTER_EXPLORERS.items():
        if page != chapter:
            continue
        explorer = factory(tiny_study()) if name == "choosing_explorer" else factory()
        labels.update(control["label"] for control in site_grid(explorer)[0])
    return frozenset(labels)


def explore_boxes(chapter: str) -> list[str]:
    notebook = nbformat.read(ROOT / chapter, as_version=4)
    return [match.group(2) for cell in notebook.cells if cell.cell_type == "markdown"
            for match in EXPLORE_BOX.finditer(cell.source)]


def problems_with(box: str, labels: frozenset[str]) -> list[str]:
    """What is wrong with an Explore box's text, for a page whose controls have ``labels``."""
    named = {re.sub(r"\s+", " ", phrase.strip()) for phrase in BOLD.findall(box)}
    problems = [f"names {phrase!r}, which is no control of the page (its controls: {sorted(labels)})"
                for phrase in sorted(named - labels)]
    problems += [f"does not name the control {label!r} (in bold)" for label in sorted(labels - named)]
    if "make lab" not in box:
        problems.append("does not name the Jupyter form (`make lab`)")
    problems += [f"calls the explorer a {word!r}" for word in PLAYER.findall(box)]
    return problems


def test_the_check_finds_what_it_should():
    """The check itself, on a box written the old way and on one written the new way."""
    labels = frozenset({"learning rate η", "surface", "start point"})
    old = ("On this page, drag the slider to sweep the learning rate. The player shows the **step size**. "
           "In Jupyter the same cell gives live sliders.")
    found = problems_with(old, labels)
    assert any("'step size'" in p for p in found) and any("player" in p for p in found)
    assert sum("does not name the control" in p for p in found) == 3 and any("make lab" in p for p in found)
    new = ("Move **learning rate η** past 2 and watch the path leave; pick a **surface** and a **start point**. "
           "`make lab` gives every value.")
    assert problems_with(new, labels) == []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_explore_box_describes_the_page(chapter):
    boxes = explore_boxes(chapter)
    assert len(boxes) == 1, f"{chapter}: {len(boxes)} Explore boxes (one expected)"
    problems = problems_with(boxes[0], labels_on(chapter))
    assert not problems, f"{chapter}'s Explore box:\n  " + "\n  ".join(problems)


def test_the_front_page_describes_the_explorers():
    intro = (ROOT / "intro.md").read_text()
    paragraph = next(p for p in intro.split("\n- ") if p.startswith("**On the website**"))
    assert not PLAYER.search(paragraph), f"the front page calls the explorers players: {paragraph!r}"
    assert "make lab" in intro
