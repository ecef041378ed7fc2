"""Autograde every submission in submitted/ into the gradebook, and say why any submission scored 0.

    python assignments/autograde.py [--course DIR] [--force] [ASSIGNMENT ...]

(`make autograde` runs it.) For each assignment (default: every folder of source/) it runs the real
``nbgrader autograde ASSIGNMENT`` once over all students' submissions in submitted/<student>/<assignment>/.
nbgrader_config.py has nbgrader grade each notebook with ``grading.preprocessor.SandboxedExecute`` instead of a
Jupyter kernel: the submission's own cells run in a bubblewrap sandbox (no network, no course files, limits on
time, memory and processes), the test cells in a separate clean process (see grading/ and teaching.md). This
script first checks that the sandbox starts, and stops with a clear message if it does not (unless
``UNSAFE_NO_SANDBOX=1``, which it announces loudly). It adds what plain nbgrader leaves to the instructor:

* a submission nbgrader cannot even read (not valid JSON, not a notebook, or the notebook is missing) is
  not handed to nbgrader, which would abort on it; it is recorded in the gradebook with 0 points and the
  reason, and the other students are graded as usual;
* a submission on which nbgrader itself fails is recorded with 0 points, with the last line of nbgrader's
  error as the reason;
* a submission whose own code raises before the tests run (say at ``import``) is graded normally (its tests
  fail, so it scores 0 on them); the report names the first of its cells that raised, or else the first test
  that failed because the submission ran out of time or memory or its process ended.

Finally it writes grading_report.csv in the course folder (one row per submission: score, maximum, whether
written answers still wait for manual grading, and the problem found, if any) and prints it. Grades for the
spreadsheet come from ``nbgrader export`` (`make grades`).

nbgrader starts ``alembic`` as a subprocess to create the gradebook, so this script puts the folder of
the running Python (the virtual environment's bin) first on PATH for nbgrader.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat

# nbgrader 0.9's gradebook code triggers SQLAlchemy 2.x "not in session" warnings; they are harmless.
warnings.filterwarnings("ignore", message=".*not in session.*")

COURSE = Path(__file__).resolve().parent
REPORT_FIELDS = ["assignment", "student_id", "score", "max_score", "needs_manual_grade", "problem"]


def _gradebook(course: Path):
    """The course's gradebook, opened with the settings of its nbgrader_config.py."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    coursedir = CourseDirectory(config=config, root=str(course))
    return Gradebook(coursedir.db_url, coursedir.course_id)


def unreadable_reason(submission: Path, notebook_names: list[str]) -> str | None:
    """Why nbgrader could not read this submission folder, or None if every notebook reads."""
    for name in notebook_names:
        path = submission / f"{name}.ipynb"
        if not path.is_file():
            return f"{name}.ipynb is missing from the submission"
        try:
            nbformat.read(str(path), as_version=4)
        except Exception as error:  # NotJSONError, a JSON error, a bad nbformat version, bad encoding...
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            if len(first_line) > 160:
                first_line = first_line[:157] + "..."
            return f"{name}.ipynb is not a readable notebook: {type(error).__name__}: {first_line}"
    return None


def nbgrader_failures(log: str) -> dict[tuple[str, str], str]:
    """{(assignment, student): reason} for each submission nbgrader reports it could not process."""
    records = re.split(r"^(?=\[\w+ \| \w+\])", log, flags=re.MULTILINE)
    reasons: dict[tuple[str, str], str] = {}
    for i, record in enumerate(records):
        match = re.search(r"There was an error processing assignment: (.+)", record)
        if match:
            folder = Path(os.path.normpath(match.group(1).strip()))
            trace = records[i + 1] if i + 1 < len(records) else ""
            lines = [line.strip() for line in trace.splitlines() if line.strip()]
            reason = "nbgrader could not grade it: " + (lines[-1] if lines else "see autograde.log")
            reasons[(folder.name, folder.parent.name)] = reason
    for key in re.findall(r"There was an error processing assignment '([^']*)' for student '([^']*)'", log):
        reasons.setdefault(key, "nbgrader could not grade it: see autograde.log")
    return reasons


def record_zero(course: Path, assignment: str, student: str) -> None:
    """Give a submission 0 in every graded cell, with nothing left to grade by hand (as nbgrader does for a
    missing notebook)."""
    with _gradebook(course) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()


# Errors in a test cell that say what went wrong with the whole submission, not with one test.
SUBMISSION_ERRORS = ("TimeLimitExceeded", "SubmissionStopped", "MemoryError", "RecursionError")


def first_error_outside_tests(autograded: Path) -> str | None:
    """'name.ipynb, cell N raised Error: message' for the first non-test cell that raised, else for the first
    test cell that failed because the submission ran out of time or memory or stopped; or None."""
    found = []
    for path in sorted(autograded.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type != "code":
                continue
            is_test = bool(cell.metadata.get("nbgrader", {}).get("grade"))
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and (
                        not is_test or output.get("ename") in SUBMISSION_ERRORS):
                    evalue = " ".join(str(output.get("evalue", "")).split())
                    message = f"{output.get('ename')}: {evalue}".strip()
                    found.append((is_test, f"{path.name}, cell {number} raised {message[:200]}"))
                    break
    return min(found, key=lambda item: item[0])[1] if found else None


def require_sandbox(course: Path) -> None:
    """Stop unless a submission's sandbox can start here (or UNSAFE_NO_SANDBOX=1 says to grade without)."""
    sys.path.insert(0, str(course))
    try:
        from grading import sandbox
    finally:
        sys.path.remove(str(course))
    if sandbox.unsafe():
        banner = "!" * 100
        print(f"{banner}\n{sandbox.unsafe_warning()}\n{banner}", file=sys.stderr, flush=True)
        return
    try:
        sandbox.check()
    except sandbox.SandboxUnavailable as error:
        raise SystemExit(
            f"Grading stopped: {error}.\nSubmissions run their own code, so autograde.py runs each one in a "
            "bubblewrap sandbox (see teaching.md). Install bubblewrap (`apt-get install bubblewrap`) or, on a "
            "machine where user namespaces are allowed, check that `bwrap --unshare-all --ro-bind / / true` "
            f"works. To grade WITHOUT the sandbox anyway: {sandbox.UNSAFE_VARIABLE}=1 make autograde") from None


def autograde(course: Path, assignments: list[str], force: bool = False) -> list[dict]:
    require_sandbox(course)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])

    # 1. Read every submission first; nbgrader never sees the ones it could not read.
    submissions = {}  # (assignment, student) -> folder
    for assignment in assignments:
        for folder in sorted(course.glob(f"submitted/*/{assignment}")):
            if folder.is_dir():
                submissions[(assignment, folder.parent.name)] = folder
    problems: dict[tuple[str, str], str] = {}
    for (assignment, student), folder in submissions.items():
        names = sorted(p.stem for p in (course / "source" / assignment).glob("*.ipynb"))
        reason = unreadable_reason(folder, names)
        if reason:
            problems[(assignment, student)] = reason

    # 2. One nbgrader run for everyone whose submissions all read (nbgrader starts slowly), and one per
    # remaining readable submission of the students excluded from it.
    excluded = sorted({student for _, student in problems})
    runs = []
    if any(student not in excluded for _, student in submissions):
        every_one = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
        everything = sorted(assignments) == every_one
        for assignment in ["*"] if everything else assignments:
            runs.append([assignment] + (["--CourseDirectory.student_id_exclude=" + ",".join(excluded)]
                                        if excluded else []))
    for key in sorted(submissions):
        if key[1] in excluded and key not in problems:
            runs.append([key[0], "--student", key[1]])

    log_path = course / "autograde.log"
    failures: dict[tuple[str, str], str] = {}
    with open(log_path, "w") as log_file:
        for args in runs:
            command = [sys.executable, "-m", "nbgrader", "autograde", *args] + (["--force"] if force else [])
            print("$ nbgrader", " ".join(command[3:]), flush=True)
            result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
            log = result.stdout + result.stderr
            log_file.write(f"$ nbgrader {' '.join(command[3:])}\n{log}\n")
            found = nbgrader_failures(log)
            if "SandboxUnavailable" in log:
                sys.stderr.write(log[-3000:])
                raise SystemExit(f"Grading stopped: the sandbox could not start; see {log_path}")
            if result.returncode != 0 and not found:
                sys.stderr.write(log)
                raise SystemExit(f"nbgrader autograde failed (exit {result.returncode}); see {log_path}")
            failures.update(found)

    # 3. Every submission that could not be graded gets 0 and its reason.
    problems.update(failures)
    for assignment, student in problems:
        stale = course / "autograded" / student / assignment
        if stale.exists():
            shutil.rmtree(stale)  # never leave an older graded copy next to a zero
        record_zero(course, assignment, student)

    rows = []
    with _gradebook(course) as gb:
        for assignment in assignments:
            try:
                submissions = gb.find_assignment(assignment).submissions
            except Exception:
                continue  # no such assignment in the gradebook yet
            for submission in sorted(submissions, key=lambda s: s.student.id):
                student = submission.student.id
                problem = problems.get((assignment, student))
                if problem is None:
                    problem = first_error_outside_tests(course / "autograded" / student / assignment)
                rows.append({
                    "assignment": assignment,
                    "student_id": student,
                    "score": round(submission.score, 6),
                    "max_score": round(submission.max_score, 6),
                    "needs_manual_grade": bool(submission.needs_manual_grade),
                    "problem": problem or "",
                })
    with open(course / "grading_report.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=REPORT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: every folder of source/)")
    parser.add_argument("--course", type=Path, default=COURSE,
                        help="the course folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="regrade submissions that were graded before")
    args = parser.parse_args(argv)
    course = args.course.resolve()
    assignments = args.assignments or sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    rows = autograde(course, assignments, force=args.force)
    for row in rows:
        manual = " (+ written answers to grade)" if row["needs_manual_grade"] else ""
        problem = f"  -- {row['problem']}" if row["problem"] else ""
        print(f"{row['assignment']:>18}  {row['student_id']:<16} {row['score']:g} / {row['max_score']:g}"
              f"{manual}{problem}")
    print(f"Report: {course / 'grading_report.csv'}; the gradebook: {course / 'gradebook.db'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
