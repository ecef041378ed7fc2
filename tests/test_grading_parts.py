"""The parts of the grading sandbox that need no nbgrader: the wire format, the optlib refusal, copying
in-place changes back, and hidden lines in tracebacks (assignments/grading/)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "assignments"))
from grading import verdict, wire  # noqa: E402

sys.path.pop(0)


def roundtrip(value):
    return wire.decode(wire.loads(wire.dumps({"v": wire.encode(value)}))["v"])


def test_plain_data_crosses_the_pipe_exactly():
    rng = np.random.default_rng(0)
    value = {"step": 3, "exp_avg": rng.normal(size=(2, 3)), "flags": [True, None, "x"],
             "betas": (0.9, 0.999), "scalar": np.float64(1 / 3), "ints": np.arange(4, dtype=np.int32),
             "special": [float("nan"), float("inf"), -0.0, 5e-324]}
    back = roundtrip(value)
    assert back.keys() == value.keys() and back["betas"] == (0.9, 0.999) and back["step"] == 3
    assert back["exp_avg"].dtype == np.float64 and np.array_equal(back["exp_avg"], value["exp_avg"])
    assert back["ints"].dtype == np.int32 and np.array_equal(back["ints"], value["ints"])
    assert type(back["scalar"]) is np.float64 and back["scalar"] == 1 / 3
    assert np.isnan(back["special"][0]) and back["special"][1:] == [float("inf"), -0.0, 5e-324]
    assert np.signbit(back["special"][2])


@pytest.mark.parametrize("value", [lambda x: x, object(), np.array([object()]), {1: 2}, type("L", (list,), {})()])
def test_anything_but_plain_data_is_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


@pytest.mark.parametrize("message", [
    {"__ndarray__": ["object", [1], "AA=="]},              # an object dtype
    {"__ndarray__": ["float64", [3], "AAAAAAAAAAA="]},     # too few bytes for the shape
    {"__pickle__": "gASVAAAAAAAAAAA="},                    # an unknown tag
    {"__dict__": [[1, 2]]},                                # a key that is not a string
])
def test_malformed_answers_are_refused(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_deeply_nested_answers_are_refused():
    with pytest.raises(wire.WireError):
        wire.loads(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("source, line", [
    ("from optlib import Adam\n", "line 1: from optlib import Adam"),
    ("import numpy as np\nimport optlib.adam as a\n", "line 2: import optlib.adam as a"),
    ("def f(x):\n    return optlib.Adam\n", "line 2: return optlib.Adam"),
    ("import importlib\nm = importlib.import_module('optlib')\n", "line 2: m = importlib.import_module('optlib')"),
    ("def f():\n    return __import__('optlib.sgd')\n", "line 2: return __import__('optlib.sgd')"),
])
def test_solutions_using_optlib_are_found(source, line):
    assert verdict.optlib_use(source) == line


@pytest.mark.parametrize("source", [
    "import optlib_does_not_exist\n",
    "# compare with optlib.Adam by hand\nx = 1\n",
    "def f():\n    '''Matches optlib.Adam step by step.'''\n",
    "optlibrary = 3\n",
    "def f(:\n",  # a syntax error is the sandbox's to report
])
def test_other_solutions_are_not_refused(source):
    assert verdict.optlib_use(source) is None


def test_in_place_changes_are_copied_back_into_the_callers_objects():
    theta = np.zeros(3)
    exp_avg = np.zeros(3)
    state = {"step": 0, "exp_avg": exp_avg, "gone": 1}
    verdict.mirror(theta, np.array([1.0, 2.0, 3.0]))
    verdict.mirror(state, {"step": 1, "exp_avg": np.ones(3), "new": [1]})
    assert theta.tolist() == [1.0, 2.0, 3.0]
    assert state == {"step": 1, "exp_avg": exp_avg, "new": [1]} and state["exp_avg"] is exp_avg
    assert exp_avg.tolist() == [1.0, 1.0, 1.0]
    shaped = np.zeros(2)
    assert not verdict.mirror(shaped, np.zeros(3)) and shaped.shape == (2,)


def test_a_failing_hidden_line_is_reported_without_its_text():
    source = ("x = 1\nassert x == 1\n### BEGIN HIDDEN TESTS\n_secret_seed = 8\nassert x == _secret_seed\n"
              "### END HIDDEN TESTS\n")
    try:
        exec(compile(source, "<cell 7>", "exec"), {})
    except AssertionError as exc:
        output = verdict.error_output(exc, "<cell 7>", source, "test t")
    text = "\n".join(output["traceback"])
    assert output["ename"] == "AssertionError" and "in a hidden test (not shown)" in text
    assert "_secret_seed" not in text
    visible = "assert x == 2\n### BEGIN HIDDEN TESTS\n_y = 0\n### END HIDDEN TESTS\n"
    try:
        exec(compile(visible, "<cell 8>", "exec"), {"x": 1})
    except AssertionError as exc:
        output = verdict.error_output(exc, "<cell 8>", visible, "test v")
    assert "assert x == 2" in "\n".join(output["traceback"])
