"""nbgrader's configuration for the book's course; the course root is this folder (assignments/).

Run nbgrader from here (`cd assignments && nbgrader ...`), or use the Makefile targets
`make assignments`, `make autograde` and `make grades`; see the book page "Teaching with this book".
nbgrader starts `alembic` as a subprocess, so the virtual environment's bin must be on PATH.

Layout (nbgrader's defaults):
    source/<assignment>/<assignment>.ipynb     the instructor's notebooks, with solutions and hidden tests
    release/<assignment>/                      the student versions (`nbgrader generate_assignment`)
    submitted/<student>/<assignment>/          what students hand in (you collect it there)
    autograded/<student>/<assignment>/         graded copies (`nbgrader autograde`)
    feedback/<student>/<assignment>/           HTML feedback (`nbgrader generate_feedback`)
    gradebook.db                               the SQLite gradebook; grades.csv is exported from it
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader's config loader)

c.CourseDirectory.course_id = "optimizers-book"
# The course root is the folder of this file, wherever nbgrader is started from.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# Grading runs each submission's own code in a bubblewrap sandbox and its test cells in a separate,
# clean process (grading/, see teaching.md): this preprocessor takes the place of nbgrader's Execute.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
c.Autograde.autograde_preprocessors = [
    "grading.preprocessor.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Limits for one submission: seconds of wall time the grader waits for all its code (to start, to run
# its cells and to answer the tests' calls; an endless loop is stopped at this limit and every test
# still waiting for it fails), MiB of address space, processes and threads.
c.SandboxedExecute.timeout = 120
c.SandboxedExecute.memory_limit = 2048
c.SandboxedExecute.max_processes = 64
# Keep submissions' printed output bounded in the autograded copies.
c.LimitOutput.max_lines = 200

# Feedback for students shows the test cells without their hidden part (nbgrader's default
# feedback would show the hidden tests verbatim). A failing hidden test shows its error message
# (its err_msg), and its traceback says "in a hidden test (not shown)" (grading/verdict.py).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
