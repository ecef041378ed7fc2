"""The explorers' drawn paths against torch.optim (``tests/reference/explorers.npz``; see
``optlib/explorers/reference.py``): what the book's build checks, checked here without a build.

* every explorer of the registry is in the reference: its checked paths, or the reason it has none (so a new
  chapter's explorer fails here until its paths are recorded with ``make_reference.py explorers``);
* at every explorer's default setting, every recorded path is drawn and equals torch's iterates to
  ``TOLERANCE`` (1e-9) of the path's size: the sentence the page shows;
* the check fails on a path moved by 1e-8 of its size, and when an explorer is missing from the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlib.explorers import CHAPTER_EXPLORERS
from optlib.explorers.reference import TOLERANCE, _recorded, torch_check

NAMES = sorted(name for name in CHAPTER_EXPLORERS if name != "choosing_explorer")


def default_lines(explorer) -> dict:
    data = explorer.data()
    return {line.key: None if data.get(line.key) is None else
            (data[line.key].x, data[line.key].y, data[line.key].y2, data[line.key].label, data[line.key].color)
            for panel in explorer.panels for line in panel.lines}


def test_every_explorer_is_in_the_reference():
    found, skipped, version = _recorded()
    recorded = {name for name, _ in found} | set(skipped)
    assert set(CHAPTER_EXPLORERS) <= recorded, f"not recorded: {sorted(set(CHAPTER_EXPLORERS) - recorded)}"
    assert version.startswith("2.")


@pytest.mark.parametrize("name", NAMES)
def test_the_default_paths_equal_torchs(name):
    explorer = CHAPTER_EXPLORERS[name][1]()
    found, skipped, version = _recorded()
    sentence = torch_check(explorer, default_lines(explorer))
    checked = [key for (explorer_name, key) in found if explorer_name == name]
    if checked:
        assert sentence.startswith(f"Checked against torch.optim {version.split('+')[0]}"), sentence
        worst = 0.0 if sentence.endswith("exactly.") else float(sentence.rsplit(" to ", 1)[1].split(" ")[0])
        assert worst <= TOLERANCE
    else:
        assert sentence == "" and skipped[name], f"{name}: no checked path and no reason"


def test_the_check_fails_on_a_path_off_by_1e_8():
    name = next(n for (n, _) in _recorded()[0])
    explorer = CHAPTER_EXPLORERS[name][1]()
    lines = default_lines(explorer)
    key = next(k for (n, k) in _recorded()[0] if n == name)
    x, y, y2, label, colour = lines[key]
    lines[key] = (x + 1e-8 * np.nanmax(np.abs(np.concatenate([x, y]))), y, y2, label, colour)
    with pytest.raises(RuntimeError, match="differs from torch.optim's"):
        torch_check(explorer, lines)


def test_the_check_fails_for_an_explorer_not_recorded():
    explorer = CHAPTER_EXPLORERS["gradient_descent_explorer"][1]()
    explorer.name = "an_explorer_nobody_recorded"
    with pytest.raises(RuntimeError, match="no torch.optim reference"):
        torch_check(explorer, default_lines(explorer))
