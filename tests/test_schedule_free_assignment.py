"""The schedule_free assignment's tests against typical wrong solutions, run in-process (no nbgrader).

tests/test_assignments.py grades the solution, a blank and one wrong submission with the real nbgrader in
the sandbox; here each typical mistake is put into the solution cells and every test cell (hidden parts
included) is run as grading runs them, in order: each mistake must fail the tests listed, and only those.
"""

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "assignments" / "source" / "schedule_free" / "schedule_free.ipynb"
STEP_RETURN = 'return beta1 * state["x"] + (1.0 - beta1) * state["z"]'
BIAS_CORRECTED = 'denom = np.sqrt(state["exp_avg_sq"] / (1.0 - beta2**t)) + eps'
DECAY_AT_Y = "direction = grad / denom + weight_decay * y"
LARGEST_RATE = 'weight = state["lr_max"] ** 2'
RAMP = "rate = lr * (t / warmup_steps if t <= warmup_steps else 1.0)"

# mistake -> (text of the solution, its replacement, the tests it must fail)
MISTAKES = {
    "solution": (None, None, set()),
    "returns the average x": (STEP_RETURN, 'return state["x"].copy()',
                              {"test_matches_optlib", "test_decay_and_warmup_match_optlib"}),
    "no bias correction": (BIAS_CORRECTED, 'denom = np.sqrt(state["exp_avg_sq"]) + eps',
                           {"test_first_step", "test_matches_optlib", "test_decay_and_warmup_match_optlib"}),
    "decay taken at x": (DECAY_AT_Y, 'direction = grad / denom + weight_decay * state["x"]',
                         {"test_decay_and_warmup_match_optlib"}),
    "weights by the current rate": (LARGEST_RATE, "weight = rate ** 2", {"test_rate_and_weight"}),
    "warm-up from zero": (RAMP, "rate = lr * ((t - 1) / warmup_steps if t <= warmup_steps else 1.0)",
                          {"test_rate_and_weight", "test_decay_and_warmup_match_optlib"}),
    "y and z swapped": (STEP_RETURN, 'return beta1 * state["z"] + (1.0 - beta1) * state["x"]',
                        {"test_matches_optlib", "test_decay_and_warmup_match_optlib"}),
}


def grade(old, new):
    """{test id: passed} and {test id: points} after running every cell, the solutions with old -> new."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]   # (plain JSON: this test stays in `make check`)
    namespace, passed, points, replaced = {}, {}, {}, 0
    for cell in cells:
        info = cell["metadata"]["nbgrader"]
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if old is not None and info.get("solution") and old in source:
            source, replaced = source.replace(old, new), replaced + 1
        if info.get("grade"):
            points[info["grade_id"]] = info["points"]
            try:
                exec(source, namespace)
                passed[info["grade_id"]] = True
            except AssertionError:
                passed[info["grade_id"]] = False
        else:
            exec(source, namespace)
    assert old is None or replaced == 1, "the mistake must occur once in a solution cell"
    return passed, points


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_typical_mistake_fails_exactly_its_tests(mistake):
    old, new, should_fail = MISTAKES[mistake]
    passed, points = grade(old, new)
    assert sum(points.values()) == 10 and len(points) == 4
    assert {name for name, ok in passed.items() if not ok} == should_fail
    score = sum(points[name] for name, ok in passed.items() if ok)
    assert score == (10 if mistake == "solution" else 10 - sum(points[name] for name in should_fail))
    assert mistake == "solution" or score < 10
