"""Hostile submissions against the real nbgrader, graded by assignments/autograde.py in a temporary course.

For the ``adam`` assignment, next to an ``honest`` student (the instructor's solution, with a unique marker in
it) and a ``twin`` honest student graded after the others, hostile students each try one attack:

* ``reads_other``: prints every notebook of the course it can find (it knows the course's absolute path);
* ``reads_source``: prints source/adam/adam.ipynb, gradebook.db, the notebook being graded, and the code that
  calls its function (the stack, the IPython history), hunting for the hidden tests;
* ``writes_gradebook``: writes scores into gradebook.db (its own up, everyone else's down);
* ``patches_numpy``: returns zeros, after replacing ``assert_allclose``, ``np.allclose`` and ``np.all`` with
  functions that always agree; ``patches_helpers`` also replaces ``builtins.range``/``enumerate`` and
  ``optlib.Adam``;
* ``connects``: opens a connection to a loopback server this test started;
* ``loops``: its solution cell never ends; ``allocates``: its ``adam_step`` allocates without bound;
* ``wraps_optlib`` and ``wraps_optlib_hidden``: an ``adam_step`` that calls ``optlib.Adam`` (plainly, and
  through ``__import__("opt" + "lib")``) instead of computing the update.

The course's time limit is lowered to 20 s and its memory limit to 1 GiB (nbgrader_config.py) to keep the
test short. The module prints the grading time per student.
"""

from __future__ import annotations

import copy
import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import nbgrader.api as nbgrader_api
import pytest

REPO = Path(__file__).resolve().parents[1]
COURSE_SRC = REPO / "assignments"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
ASSIGNMENT = "adam"
MARKER = "honest-student-marker-5f1c9e2a"
TIME_LIMIT = 20
HONEST = ["honest", "twin"]


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solution_source(course: Path) -> str:
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    (text,) = [c.source for c in source.cells if meta(c).get("solution") and c.cell_type == "code"]
    return re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", text, flags=re.MULTILINE)


ZEROS = '''
def adam_step(theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, amsgrad=False):
    return np.zeros_like(np.asarray(theta, dtype=float))
'''


def hostile_cells(course: Path, port: int) -> dict[str, str]:
    """{student: the source of its solution cell}."""
    honest = solution_source(course)
    return {
        "reads_other": honest + f'''
import glob, json, os
for _path in sorted(glob.glob({str(course)!r} + "/*/*/*/*.ipynb")):
    try:  # one line per notebook, its code only: no output limit cuts it short
        print(_path, json.dumps([c["source"] for c in json.load(open(_path))["cells"]]))
    except OSError as _error:
        print("cannot read", _path, _error)
print("found", len(glob.glob({str(course)!r} + "/*/*/*/*.ipynb")), "notebooks")
''',
        "reads_source": honest.replace('    """One Adam', '''    import inspect
    for _frame in inspect.stack():
        print("CALLER", _frame.filename, _frame.code_context)
    try:
        print("HISTORY", get_ipython().user_ns["In"][-1])
    except Exception as _error:
        print("no IPython history:", _error)
    """One Adam''') + f'''
import glob, json, os
for _path in [{str(course)!r} + "/source/adam/adam.ipynb", {str(course)!r} + "/gradebook.db",
              *glob.glob("*.ipynb"), *glob.glob("../*/*.ipynb")]:
    try:  # the code of the notebooks on one line each, the rest as it is
        _text = open(_path, errors="replace").read()
        if _path.endswith(".ipynb"):
            _text = json.dumps([c["source"] for c in json.loads(_text)["cells"]])
        print(_path, _text)
    except OSError as _error:
        print("cannot read", _path, _error)
try:
    get_ipython().events.register("pre_run_cell", lambda info: print("NEXT CELL", info.raw_cell))
except Exception as _error:
    print("no IPython:", _error)
''',
        "writes_gradebook": ZEROS + f'''
import sqlite3
try:
    _db = sqlite3.connect({str(course)!r} + "/gradebook.db")
    _db.execute("UPDATE grade SET manual_score = 0")
    _db.execute("""UPDATE grade SET manual_score = 10, extra_credit = 10 WHERE notebook_id IN (
        SELECT n.id FROM submitted_notebook n JOIN submitted_assignment a ON n.assignment_id = a.id
        WHERE a.student_id = 'writes_gradebook')""")
    _db.commit()
    print("wrote the gradebook")
except Exception as _error:
    print("cannot write the gradebook:", _error)
''',
        "patches_numpy": ZEROS + '''
import numpy.testing
numpy.testing.assert_allclose = np.testing.assert_allclose = assert_allclose = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
np.all = lambda *args, **kwargs: True
''',
        "patches_helpers": ZEROS + '''
import builtins
import numpy.testing
_agree = lambda *args, **kwargs: None
numpy.testing.assert_allclose = np.testing.assert_allclose = assert_allclose = _agree
np.allclose = lambda *args, **kwargs: True
np.all = lambda *args, **kwargs: True
builtins.range = lambda *args, **kwargs: iter(())
builtins.enumerate = lambda *args, **kwargs: iter(())
range, enumerate = builtins.range, builtins.enumerate
try:
    _reference = __import__("opt" + "lib")  # disguised, so that the refusal of optlib does not stop it first

    class _ZeroAdam:
        def __init__(self, params, **kwargs):
            self.params = params

        def step(self, grads):
            for p in self.params:
                p[...] = 0.0

    _reference.Adam = _ZeroAdam
except ImportError as _error:
    print("no optlib to patch:", _error)
''',
        "connects": honest + f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"hello")
    print("connected")
except OSError as _error:
    print("cannot connect:", _error)
''',
        "loops": honest + "\nwhile True:\n    pass\n",
        "allocates": honest.replace('    """One Adam', '''    _hog = []
    while True:
        _hog.append(np.empty(2**24))  # 128 MiB more each time (not touched: touching only costs time)
    """One Adam'''),
        "wraps_optlib": '''
def adam_step(theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, amsgrad=False):
    from optlib import Adam
    if "opt" not in state:
        state["opt"] = Adam([np.array(theta, dtype=float)], lr=lr, betas=betas, eps=eps, amsgrad=amsgrad)
    state["step"] += 1
    state["opt"].step([grad])
    return state["opt"].params[0].copy()
''',
        "wraps_optlib_hidden": '''
def adam_step(theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, amsgrad=False):
    reference = __import__("opt" + "lib")
    ...
    return theta
''',
    }


def notebook_with(course: Path, solution: str, marker: str = ""):
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if meta(cell).get("solution") and cell.cell_type == "code":
            cell.source = (f"# {marker}\n" if marker else "") + solution
    return nb


class LoopbackServer:
    """Counts the connections to a port on 127.0.0.1."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close()


def run(args, cwd, env=ENV, timeout=900):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def scores(course: Path) -> dict[str, dict]:
    with nbgrader_api.Gradebook(f"sqlite:///{course}/gradebook.db", "optimizers-book") as gb:
        return {sub.student.id: {"total": sub.score,
                                 "cells": {g.name: g.score for nb in sub.notebooks for g in nb.grades}}
                for sub in gb.find_assignment(ASSIGNMENT).submissions}


def make_course(root: Path) -> Path:
    for name in ("nbgrader_config.py", "autograde.py"):
        shutil.copy(COURSE_SRC / name, root / name)
    shutil.copytree(COURSE_SRC / "grading", root / "grading", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(COURSE_SRC / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    with open(root / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.SandboxedExecute.timeout = {TIME_LIMIT}\nc.SandboxedExecute.memory_limit = 1024\n")
    run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT], cwd=root)
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("hostile_course"))
    server = LoopbackServer()
    try:
        for student, text in hostile_cells(root, server.port).items():
            nbformat.write(notebook_with(root, text), _submission(root, student))
        nbformat.write(notebook_with(root, solution_source(root), MARKER), _submission(root, "honest"))
        # The twin is graded after the hostile students (alphabetical order), in a second run.
        started = time.perf_counter()
        first = run([sys.executable, "autograde.py", "--course", str(root)], cwd=root)
        seconds = time.perf_counter() - started
        after_first = scores(root)
        nbformat.write(notebook_with(root, solution_source(root)), _submission(root, "twin"))
        second = run([sys.executable, "autograde.py", "--course", str(root)], cwd=root)
        run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT], cwd=root)
    finally:
        server.close()
    with open(root / "grading_report.csv") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}

    class Course:
        pass

    c = Course()
    c.root, c.server, c.report, c.first_log, c.second_log = root, server, report, first.stdout, second.stdout
    c.after_first, c.scores, c.seconds = after_first, scores(root), seconds
    c.students = len(after_first)
    yield c
    print(f"\nGraded {c.students} adam submissions in {c.seconds:.1f} s ({c.seconds / c.students:.1f} s each, "
          f"one of them stopped at the {TIME_LIMIT} s limit)")


def _submission(root: Path, student: str) -> Path:
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{ASSIGNMENT}.ipynb"


def graded_text(course, student: str) -> str:
    """Everything the student's code could write into its graded notebook, and its feedback page."""
    nb = nbformat.read(course.root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    outputs = str([c.get("outputs", []) for c in nb.cells])
    feedback = (course.root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    return outputs + "\n" + feedback


def hidden_test_lines(course) -> list[str]:
    source = nbformat.read(course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    lines = []
    for cell in source.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.DOTALL):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 12]
    return lines


def full_marks(course) -> float:
    with nbgrader_api.Gradebook(f"sqlite:///{course.root}/gradebook.db", "optimizers-book") as gb:
        return gb.find_assignment(ASSIGNMENT).max_score


def test_honest_students_score_full_marks(course):
    assert full_marks(course) == 10
    for student in HONEST:
        assert course.scores[student]["total"] == 10, (student, course.scores[student])
        assert course.report[student]["problem"] == ""


def test_reading_another_submission_shows_nothing(course):
    assert course.scores["reads_other"]["total"] == 10  # its own adam_step is right
    text = graded_text(course, "reads_other")
    assert "found 0 notebooks" in text  # the attack ran, and found nothing
    assert MARKER not in text
    # The check can fail: the honest notebook does hold the marker, and the attack does look for it.
    assert MARKER in (course.root / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()


def test_reading_the_source_and_the_hidden_tests_shows_no_hidden_line(course):
    lines = hidden_test_lines(course)
    assert len(lines) >= 10
    text = graded_text(course, "reads_source")
    assert "cannot read" in text  # the attack ran, and found nothing to read
    leaked = [line for line in lines if line in text]
    assert not leaked, leaked[:3]
    # The check can fail: the hidden lines are in the source notebook the attack tries to print.
    assert all(line in (course.root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
               .replace('\\"', '"') for line in lines)
    assert course.scores["reads_source"]["total"] == 10


def test_writing_the_gradebook_changes_no_grade(course):
    assert "cannot write the gradebook" in graded_text(course, "writes_gradebook")
    assert course.scores["writes_gradebook"]["total"] == 0  # what its zeros earn
    for student, got in course.after_first.items():
        if student != "writes_gradebook":
            assert course.scores[student] == got, student


@pytest.mark.parametrize("student", ["patches_numpy", "patches_helpers"])
def test_patching_the_test_helpers_scores_zero(course, student):
    got = course.scores[student]
    assert got["total"] == 0 and set(got["cells"].values()) == {0}, got
    assert course.report[student]["problem"] == ""  # graded, not refused: its tests just fail


def test_no_network(course):
    assert course.server.connections == 0
    assert "cannot connect" in graded_text(course, "connects")
    assert course.scores["connects"]["total"] == 10


@pytest.mark.parametrize("student, reason", [("loops", "TimeLimitExceeded"), ("allocates", "MemoryError")])
def test_endless_loop_and_allocation_score_zero_with_a_reason(course, student, reason):
    got = course.scores[student]
    assert got["total"] == 0 and set(got["cells"].values()) == {0}, got
    assert reason in course.report[student]["problem"], course.report[student]
    assert student in course.first_log and course.report[student]["problem"] in course.first_log


def test_the_run_goes_on_after_a_stopped_submission(course):
    # Every student was graded in the first run, the endless loop stopped at its limit.
    assert set(course.after_first) == set(hostile_cells(course.root, 0)) | {"honest"}
    assert f"time limit of {TIME_LIMIT} s" in course.report["loops"]["problem"]


@pytest.mark.parametrize("student", ["wraps_optlib", "wraps_optlib_hidden"])
def test_a_solution_calling_optlib_is_refused(course, student):
    got = course.scores[student]
    assert got["total"] == 0 and set(got["cells"].values()) == {0}, got
    problem = course.report[student]["problem"]
    if student == "wraps_optlib":
        assert "SubmissionRefused" in problem and "from optlib import Adam" in problem, problem
    else:  # not found by reading the code: the sandbox has no optlib
        assert "No module named 'optlib'" in graded_text(course, student)


def test_the_sandbox_check_passes_here():
    sys.path.insert(0, str(COURSE_SRC))
    try:
        from grading import sandbox
    finally:
        sys.path.remove(str(COURSE_SRC))
    assert sandbox.check().startswith("sandbox ok")
