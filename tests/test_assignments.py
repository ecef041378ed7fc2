"""The course assignments, graded by the real nbgrader commands in a temporary course folder.

One module-scoped course is built once (the expensive part: nbgrader and a kernel per submission):

* ``nbgrader generate_assignment`` makes the student versions from assignments/source/;
* for every assignment three students submit: ``solution`` (the source notebook itself), ``blank`` (the
  student version untouched) and ``wrong`` (the student version filled in with a known mistake);
* ``assignments/autograde.py`` (which runs ``nbgrader autograde``) grades them; then two broken
  submissions arrive (``not_json``: not a notebook at all; ``raises_at_import``: each of its code cells
  starts by importing a module that does not exist), and for gradient_descent a third (``kills_kernel``:
  its code ends its own process, in the sandbox); a second run grades them;
* ``nbgrader export`` writes grades.csv, and ``nbgrader generate_feedback`` the students' feedback.

nbgrader runs ``alembic`` as a subprocess, so every command runs with the venv's bin first on PATH.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import nbgrader.api as nbgrader_api  # in requirements.txt: a missing nbgrader fails, never skips
import pytest

REPO = Path(__file__).resolve().parents[1]
COURSE_SRC = REPO / "assignments"
ASSIGNMENTS = sorted(p.name for p in (COURSE_SRC / "source").iterdir() if p.is_dir())
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}

# A known mistake per assignment: (text in a solution cell, its wrong replacement, the tests it must fail).
WRONG = {
    "gradient_descent": (
        "np.asarray(theta, dtype=float) - lr * np.asarray(grad, dtype=float)",
        "np.asarray(theta, dtype=float) + lr * np.asarray(grad, dtype=float)",  # ascends: wrong sign
        {"test_gd_step_by_hand", "test_gd_step_matches_optlib"},
    ),
    "momentum": (
        "return theta - lr * (grad + momentum * new_buf), new_buf",
        "return theta - lr * new_buf, new_buf",  # "Nesterov" that is just the heavy ball
        {"test_nesterov_by_hand", "test_nesterov_matches_optlib"},
    ),
    "adagrad_rmsprop": (
        "new_state_sum = state_sum + grad * grad",
        "new_state_sum = grad * grad",  # forgets the past: a sign method, first step still right
        {"test_adagrad_step_decays", "test_adagrad_matches_optlib"},
    ),
    "adam": (
        "bias_correction1 = 1.0 - beta1**t\n    bias_correction2 = 1.0 - beta2**t",
        "bias_correction1 = 1.0\n    bias_correction2 = 1.0",  # Adam without bias correction
        {"test_adam_first_step", "test_adam_matches_optlib", "test_amsgrad_matches_optlib"},
    ),
    "schedule_free": (
        'return beta1 * state["x"] + (1.0 - beta1) * state["z"]',
        'return state["x"].copy()',  # steps from the average x: the gradient is no longer taken at y
        {"test_matches_optlib", "test_decay_and_warmup_match_optlib"},
    ),
}
GOOD_STUDENTS = ["blank", "solution", "wrong"]
BAD_STUDENTS = ["not_json", "raises_at_import"]
# The mistake of raises_at_import, put at the top of each of its solution cells.
BAD_IMPORT = "import optlib_does_not_exist  # a typo in an import\n"
KILLS_KERNEL = "import os\nos._exit(1)  # the submission's process dies in its first solution cell\n"


def run(args, cwd, check=True, timeout=900):
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def nbgrader(*args, cwd, check=True):
    return run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, check=check)


def autograde(course: Path):
    return run([sys.executable, str(course / "autograde.py"), "--course", str(course)], cwd=course)


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def filled_in(assignment: str, course: Path, mistake: tuple[str, str] | None = None, prefix: str = ""):
    """The student version with every solution cell completed as in the source (optionally with a mistake)."""
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = {meta(c)["grade_id"]: c.source for c in source.cells if meta(c).get("solution")}
    nb = copy.deepcopy(release)
    replaced = 0
    for cell in nb.cells:
        if meta(cell).get("solution"):
            text = solutions[meta(cell)["grade_id"]]
            text = re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", text, flags=re.MULTILINE)
            if mistake and mistake[0] in text:
                text = text.replace(mistake[0], mistake[1])
                replaced += 1
            if cell.cell_type == "code":
                text = prefix + text
            cell.source = text
    assert mistake is None or replaced == 1, f"{assignment}: the mistake must occur in one solution cell"
    return nb


def submit(course: Path, student: str, assignment: str, nb=None, raw: str | None = None):
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    if raw is not None:
        path.write_text(raw)
    else:
        nbformat.write(nb, str(path))


def scores(course: Path) -> dict:
    """{(assignment, student): {'total': score, 'cells': {grade_id: score}, 'manual': needs_manual_grade}}."""
    out = {}
    with nbgrader_api.Gradebook(f"sqlite:///{course}/gradebook.db", "optimizers-book") as gb:
        for assignment in ASSIGNMENTS:
            for sub in gb.find_assignment(assignment).submissions:
                cells = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
                out[(assignment, sub.student.id)] = {"total": sub.score, "cells": cells,
                                                      "manual": sub.needs_manual_grade}
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A graded course folder; ``course.timings`` holds the seconds each phase took."""
    root = tmp_path_factory.mktemp("course")
    for name in ("nbgrader_config.py", "autograde.py"):
        shutil.copy(COURSE_SRC / name, root / name)
    shutil.copytree(COURSE_SRC / "grading", root / "grading", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(COURSE_SRC / "source", root / "source")
    timings = {}

    t0 = time.perf_counter()
    nbgrader("generate_assignment", "*", cwd=root)
    timings["generate_assignment"] = time.perf_counter() - t0

    for assignment in ASSIGNMENTS:
        release = nbformat.read(root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        submit(root, "solution", assignment, source)
        submit(root, "blank", assignment, release)
        submit(root, "wrong", assignment, filled_in(assignment, root, WRONG[assignment][:2]))

    t0 = time.perf_counter()
    first = autograde(root)
    timings[f"autograde (3 students x {len(ASSIGNMENTS)} assignments)"] = time.perf_counter() - t0
    before = scores(root)

    for assignment in ASSIGNMENTS:
        submit(root, "not_json", assignment, raw='{"cells": [  <- the upload was cut off here')
        submit(root, "raises_at_import", assignment, filled_in(assignment, root, prefix=BAD_IMPORT))
    submit(root, "kills_kernel", "gradient_descent", filled_in("gradient_descent", root, prefix=KILLS_KERNEL))
    t0 = time.perf_counter()
    second = autograde(root)
    timings[f"autograde (+2 broken students x {len(ASSIGNMENTS)} assignments, +1)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    nbgrader("export", cwd=root)
    timings["export"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    nbgrader("generate_feedback", "*", cwd=root)
    timings["generate_feedback"] = time.perf_counter() - t0

    with open(root / "grading_report.csv") as f:
        report = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    with open(root / "grades.csv") as f:
        grades = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}

    class Course:
        pass

    c = Course()
    c.root, c.timings, c.before, c.after = root, timings, before, scores(root)
    c.report, c.grades, c.first_log, c.second_log = report, grades, first.stdout, second.stdout
    yield c
    print("\nGrading times: " + ", ".join(f"{k}: {v:.1f} s" for k, v in timings.items()))


def max_points(course, assignment) -> tuple[float, float]:
    with nbgrader_api.Gradebook(f"sqlite:///{course.root}/gradebook.db", "optimizers-book") as gb:
        a = gb.find_assignment(assignment)
        return a.max_code_score, a.max_score


def cell_points(course, assignment) -> dict[str, float]:
    source = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {meta(c)["grade_id"]: meta(c)["points"] for c in source.cells
            if meta(c).get("grade") and c.cell_type == "code"}


# --- the assignments themselves ---------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_is_a_complete_assignment(assignment):
    nb = nbformat.read(COURSE_SRC / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    nbformat.validate(nb)
    kinds = [meta(c) for c in nb.cells]
    assert all(kinds), "every cell carries nbgrader metadata (read-only cells are locked)"
    ids = [k["grade_id"] for k in kinds]
    assert len(ids) == len(set(ids)), "grade ids are unique"
    tests = [c for c in nb.cells if meta(c).get("grade") and c.cell_type == "code"]
    assert len(tests) >= 4 and all(meta(c)["points"] > 0 and meta(c)["locked"] for c in tests)
    assert any("### BEGIN HIDDEN TESTS" in c.source and "from optlib import" in c.source for c in tests)
    solutions = [c for c in nb.cells if meta(c).get("solution") and c.cell_type == "code"]
    assert solutions and all("### BEGIN SOLUTION" in c.source for c in solutions)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "committed without outputs"


def test_adagrad_assignment_has_a_manually_graded_written_answer():
    nb = nbformat.read(COURSE_SRC / "source" / "adagrad_rmsprop" / "adagrad_rmsprop.ipynb", as_version=4)
    written = [c for c in nb.cells
               if c.cell_type == "markdown" and meta(c).get("solution") and meta(c).get("grade")]
    assert len(written) == 1 and meta(written[0])["points"] == 2


# --- the student versions ---------------------------------------------------------------------------------

def _regions(text: str, begin: str, end: str) -> list[str]:
    return re.findall(rf"{re.escape(begin)}\n(.*?)\n[ \t]*{re.escape(end)}", text, flags=re.DOTALL)


def secret_lines(nb) -> set[str]:
    """Lines of solutions, model answers and hidden tests that occur nowhere else in the source notebook."""
    secret, public = set(), set()
    for cell in nb.cells:
        text = cell.source
        if meta(cell).get("solution") and cell.cell_type == "markdown":
            found = [text]  # a written model answer: the whole cell is replaced by the stub
        else:
            found = _regions(text, "### BEGIN SOLUTION", "### END SOLUTION")
            found += _regions(text, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
        rest = text
        for region in found:
            rest = rest.replace(region, "")
            secret |= {line.strip() for line in region.splitlines() if line.strip()}
        public |= {line.strip() for line in rest.splitlines() if line.strip()}
    return {line for line in secret - public if len(line) > 3 and "###" not in line}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_has_no_solution_and_no_hidden_test(course, assignment):
    source = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    secrets = secret_lines(source)
    assert len(secrets) > 20
    files = [p for p in (course.root / "release" / assignment).rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text()
        raw_sources = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text
        leaked = sorted(line for line in secrets if line in raw_sources or json.dumps(line)[1:-1] in text)
        assert not leaked, f"{path.name} leaks: {leaked[:5]}"
        assert "raise NotImplementedError()" in raw_sources


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_runs_with_only_the_stub_errors(course, assignment):
    """Top to bottom in a plain kernel, every error is the stub's NotImplementedError."""
    from nbclient import NotebookClient

    nb = nbformat.read(course.root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(course.root / "release" / assignment)}})
    client.execute()
    errors = [(i, o["ename"]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o["output_type"] == "error"]
    assert errors, "the tests call the stubs, so some must raise"
    assert {e for _, e in errors} == {"NotImplementedError"}, errors
    erroring = {i for i, _ in errors}
    # Errors come only from test cells (which call the stubs), never from setup or solution cells.
    assert all(meta(nb.cells[i]).get("grade") for i in erroring)


# --- grading -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(course, assignment):
    max_code, max_total = max_points(course, assignment)
    got = course.after[(assignment, "solution")]
    assert all(score == cell_points(course, assignment)[name]
               for name, score in got["cells"].items() if name in cell_points(course, assignment))
    assert got["total"] == max_code > 0
    # Written answers wait for the instructor: only the Adagrad assignment has one.
    assert got["manual"] == (max_total > max_code)
    assert course.report[(assignment, "solution")]["problem"] == ""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_student_version_scores_zero(course, assignment):
    got = course.after[(assignment, "blank")]
    assert got["total"] == 0
    assert set(got["cells"].values()) <= {0, None}
    assert course.report[(assignment, "blank")]["problem"] == ""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_submission_loses_exactly_the_points_of_its_failing_tests(course, assignment):
    points = cell_points(course, assignment)
    should_fail = WRONG[assignment][2]
    assert should_fail <= points.keys()
    got = course.after[(assignment, "wrong")]["cells"]
    for name, full in points.items():
        assert got[name] == (0 if name in should_fail else full), name
    max_code, _ = max_points(course, assignment)
    assert course.after[(assignment, "wrong")]["total"] == max_code - sum(points[n] for n in should_fail)
    assert 0 < course.after[(assignment, "wrong")]["total"] < max_code


def test_solution_can_be_completed_by_manual_grading(course):
    """The instructor grades the written answer (as formgrader would); the solution then has every point."""
    with nbgrader_api.Gradebook(f"sqlite:///{course.root}/gradebook.db", "optimizers-book") as gb:
        grade = gb.find_grade("adagrad_decay_explanation", "adagrad_rmsprop", "adagrad_rmsprop", "solution")
        assert grade.needs_manual_grade and grade.auto_score is None
        grade.manual_score = 2
        gb.db.commit()
        sub = gb.find_submission("adagrad_rmsprop", "solution")
        assert sub.score == sub.max_score == 9
        grade.manual_score = None  # leave the shared course as it was
        gb.db.commit()


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unreadable_submission_scores_zero_with_a_reason(course, assignment):
    got = course.after[(assignment, "not_json")]
    assert got["total"] == 0 and not got["manual"]
    reason = course.report[(assignment, "not_json")]["problem"]
    assert f"{assignment}.ipynb is not a readable notebook" in reason and "JSON" in reason, reason
    assert "not_json" in course.second_log and reason in course.second_log


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_submission_raising_at_import_scores_zero_with_a_reason(course, assignment):
    got = course.after[(assignment, "raises_at_import")]
    assert got["total"] == 0
    reason = course.report[(assignment, "raises_at_import")]["problem"]
    assert "ModuleNotFoundError" in reason and "optlib_does_not_exist" in reason, reason


def test_submission_killing_its_process_scores_zero_with_a_reason(course):
    got = course.after[("gradient_descent", "kills_kernel")]
    assert got["total"] == 0 and not got["manual"]
    assert set(got["cells"].values()) == {0}
    reason = course.report[("gradient_descent", "kills_kernel")]["problem"]
    assert reason.startswith("gradient_descent.ipynb, cell 4 raised SubmissionStopped:"), reason
    assert "exit code 1" in reason, reason


def test_broken_submissions_leave_the_other_grades_unaffected(course):
    for key, value in course.before.items():
        assert course.after[key] == value, key
    assert set(course.after) == (set(course.before) | {(a, s) for a in ASSIGNMENTS for s in BAD_STUDENTS}
                                 | {("gradient_descent", "kills_kernel")})
    # Every other submission is still graded, and its autograded copy is there.
    for assignment in ASSIGNMENTS:
        for student in GOOD_STUDENTS + ["raises_at_import"]:
            assert (course.root / "autograded" / student / assignment / f"{assignment}.ipynb").is_file()
        assert not (course.root / "autograded" / "not_json" / assignment).exists()


def test_grades_csv_exported_for_every_submission(course):
    students = GOOD_STUDENTS + BAD_STUDENTS + ["kills_kernel"]
    # nbgrader export lists every student for every assignment; one who did not submit has 0.
    assert set(course.grades) == {(a, s) for a in ASSIGNMENTS for s in students}
    for (assignment, student), row in course.grades.items():
        graded = course.after.get((assignment, student))
        expected = graded["total"] if graded else 0
        assert float(row["score"]) == pytest.approx(expected)
        assert float(row["max_score"]) == max_points(course, assignment)[1]
    print("\nassignment          solution  blank  wrong  not_json  raises_at_import  (max)")
    for a in ASSIGNMENTS:
        row = [course.after[(a, s)]["total"] for s in ["solution", "blank", "wrong", *BAD_STUDENTS]]
        print(f"{a:<18}" + "".join(f"{x:>8g}" for x in row) + f"   ({max_points(course, a)[1]:g})")


def _text(html_text: str) -> str:
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", html_text)).split())


def hidden_blocks(nb) -> list[str]:
    return [region for c in nb.cells
            for region in _regions(c.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_no_hidden_test(course, assignment):
    source = nbformat.read(course.root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    blocks = [" ".join(b.split()) for b in hidden_blocks(source)]
    assert blocks
    # The check itself finds hidden tests in a page that has them: the source notebook as HTML.
    from nbconvert import HTMLExporter

    control = _text(HTMLExporter().from_notebook_node(source)[0])
    assert all(block in control for block in blocks)
    for student in ["solution", "wrong", "blank", "raises_at_import"]:
        page = course.root / "feedback" / student / assignment / f"{assignment}.html"
        text = _text(page.read_text())
        assert "Score:" in text or "score" in text.lower()
        for block in blocks:
            assert block not in text, f"{page} shows a hidden test"


# --- the visible AMSGrad test (issue 11, finding 25) -------------------------------------------------------

def _visible(text: str) -> str:
    return re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", "", text, flags=re.DOTALL)


@pytest.mark.parametrize("variant, passes", [
    ("solution", True),
    ("max_copies_v", False),  # "max_exp_avg_sq" merely mirrors v: the old visible test passed it
    ("max_of_bias_corrected", False),  # the max taken over v-hat instead of v
])
def test_visible_amsgrad_test_checks_the_running_max_on_a_shrinking_gradient(variant, passes):
    nb = nbformat.read(COURSE_SRC / "source" / "adam" / "adam.ipynb", as_version=4)
    cells = {meta(c)["grade_id"]: c.source for c in nb.cells}
    solution = re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", cells["adam_step"], flags=re.MULTILINE)
    mistakes = {
        "max_copies_v": ('state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], state["exp_avg_sq"])',
                         'state["max_exp_avg_sq"] = state["exp_avg_sq"].copy()'),
        "max_of_bias_corrected": (
            'state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], state["exp_avg_sq"])\n'
            '        second = state["max_exp_avg_sq"]',
            'state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"],\n'
            '                                     state["exp_avg_sq"] / (1.0 - beta2**t))\n'
            '        second = state["max_exp_avg_sq"] * (1.0 - beta2**t)'),
    }
    if variant in mistakes:
        assert mistakes[variant][0] in solution
        solution = solution.replace(*mistakes[variant])
    namespace = {}
    exec(cells["setup"], namespace)
    exec(solution, namespace)
    test = _visible(cells["test_amsgrad_matches_optlib"])
    assert "shrinking gradient, by hand" in test
    if passes:
        exec(test, namespace)
    else:
        with pytest.raises(AssertionError):
            exec(test, namespace)


# --- "modify neither input" in adagrad_rmsprop (issue 19) --------------------------------------------------

IN_PLACE = {  # a solution that updates the caller's accumulator in place, and returns it as the new one
    "adagrad_step": ("new_state_sum = state_sum + grad * grad",
                     "state_sum += grad * grad\n    new_state_sum = state_sum"),
    "rmsprop_step": ("new_square_avg = alpha * square_avg + (1.0 - alpha) * grad * grad",
                     "square_avg *= alpha\n    square_avg += (1.0 - alpha) * grad * grad\n"
                     "    new_square_avg = square_avg"),
}


@pytest.mark.parametrize("in_place, loses", [
    (None, set()),
    ("adagrad_step", {"test_adagrad_matches_optlib"}),
    ("rmsprop_step", {"test_rmsprop_matches_optlib"}),
])
def test_an_in_place_accumulator_loses_the_points_of_the_hidden_test(in_place, loses):
    """Every test cell, hidden parts included, run on the solution and on in-place variants of it: the
    in-place accumulator passes every visible test and the comparison with optlib, and fails only the hidden
    check that the inputs are left unchanged, which costs its cell's points (2 of the 7 autograded)."""
    nb = nbformat.read(COURSE_SRC / "source" / "adagrad_rmsprop" / "adagrad_rmsprop.ipynb", as_version=4)
    namespace = {}
    failing, points = set(), {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        name, source = meta(cell)["grade_id"], cell.source
        if meta(cell).get("solution"):
            source = re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", source, flags=re.MULTILINE)
            if name == in_place:
                assert IN_PLACE[name][0] in source
                source = source.replace(*IN_PLACE[name])
        try:
            exec(source, namespace)
        except AssertionError as error:
            assert meta(cell).get("grade"), name
            failing.add(name)
            assert "modified its input" in str(error) or "new arrays" in str(error), error
        if meta(cell).get("grade"):
            points[name] = meta(cell)["points"]
    assert failing == loses
    assert sum(points[n] for n in failing) == (2 if in_place else 0) and sum(points.values()) == 7
