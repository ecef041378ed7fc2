"""The nbgrader preprocessor that grades a notebook through :mod:`grading.verdict` instead of a kernel.

nbgrader_config.py puts :class:`SandboxedExecute` in place of nbgrader's ``Execute`` in
``Autograde.autograde_preprocessors``. nbgrader still does everything else: it restores the read-only and test
cells from the instructor's source, and after this preprocessor has filled in the outputs, ``SaveAutoGrades``
scores each test cell (full points without an error output, 0 with one) and writes the gradebook, all in the
grader's own process, after the submission's process has ended. The outputs of the test cells come from the
clean verdict process; the student's code can only write the outputs of its own cells.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from grading import sandbox

COURSE_CODE = Path(__file__).resolve().parent.parent  # the folder that holds the grading package


def cell_kind(cell) -> str | None:
    """'test' (an autograder test), 'setup' (read-only code) or 'student' (code the student wrote)."""
    if cell.cell_type != "code":
        return None
    if utils.is_grade(cell) and not utils.is_solution(cell):
        return "test"
    return "setup" if utils.is_locked(cell) else "student"


class SandboxedExecute(NbGraderPreprocessor):
    """Runs the student's cells in the sandbox and the test cells in a clean process; fills in the outputs."""

    timeout = Float(120.0, help="Wall seconds the grader waits for all of one submission's code (its start, its "
                    "cells, its answers to the tests' calls).").tag(config=True)
    memory_limit = Integer(2048, help="MiB of address space for the submission's process.").tag(config=True)
    max_processes = Integer(64, help="Processes (and threads) the submission may run at once.").tag(config=True)

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        cells = []
        for index, cell in enumerate(nb.cells):
            kind = cell_kind(cell)
            if kind:
                cells.append({"index": index, "kind": kind, "source": cell.source,
                              "grade_id": cell.metadata.get("nbgrader", {}).get("grade_id")})
        files = [str(p.relative_to(folder)) for p in folder.rglob("*")
                 if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb"
                 and ".ipynb_checkpoints" not in p.parts]
        job = {"cells": cells, "folder": str(folder.resolve()), "files": files,
               "limits": {"seconds": self.timeout, "memory_mib": self.memory_limit,
                          "processes": self.max_processes}}
        if sandbox.unsafe():
            self.log.warning(sandbox.unsafe_warning())
        with tempfile.TemporaryDirectory(prefix="verdict-") as tmp:
            job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
            job_path.write_text(json.dumps(job))
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(COURSE_CODE)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
            process = subprocess.run([sys.executable, "-m", "grading.verdict", str(job_path), str(result_path)],
                                     cwd=folder, env=env, capture_output=True, text=True,
                                     timeout=self.timeout + 300)
            if process.returncode != 0 or not result_path.is_file():
                raise RuntimeError(f"the verdict process failed (exit {process.returncode}): "
                                   f"{process.stderr.strip()[-2000:]}")
            result = json.loads(result_path.read_text())
        if "sandbox_unavailable" in result:
            raise sandbox.SandboxUnavailable(result["sandbox_unavailable"])
        count = 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            outputs = result["outputs"].get(str(index))
            cell.outputs = [nbformat.from_dict(o) for o in outputs] if outputs is not None else []
            if outputs is not None:
                count += 1
                cell.execution_count = count
        return nb, resources
