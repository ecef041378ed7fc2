"""The grader's side: runs the test cells in a clean process, calling the student's code in the sandbox.

    python -m grading.verdict JOB.json RESULT.json

JOB lists the notebook's code cells, each marked ``setup`` (a read-only cell, restored from the instructor's
source by nbgrader), ``student`` (code the student wrote) or ``test`` (an autograder test cell, hidden tests
included), and the limits. This process:

1. refuses every student cell that imports or names ``optlib`` (the tests compare with optlib, so a solution
   that calls it would pass without computing anything; the sandbox has no optlib anyway, this says why);
2. starts the sandbox (:mod:`grading.sandbox`) and has it run the setup and student cells, in order (the
   student's code never runs here);
3. runs the setup and test cells itself, in order, in a fresh namespace where each name a test needs from the
   student (a function the student wrote, say) is a stand-in that sends the arguments to the sandbox and
   returns the answer, decoded as plain data (:mod:`grading.wire`). In-place changes to the arguments are
   copied back, so "updates ``state`` in place" and "does not modify ``theta``" are checked as before.

So the test cells, NumPy, ``numpy.testing``, builtins and optlib that decide the verdict live in a process
the student's code cannot reach: patching them in the notebook changes nothing here. The hidden tests are
never sent to the sandbox, and a failing hidden line is reported without its text.

RESULT maps each code cell's index to its notebook outputs (the student cells' from the sandbox, the test
cells' from here). The submission has a time budget: the wall time this process spends waiting for it (to
start, to run its cells, to answer each call), so a slow grader or a busy machine between calls costs it
nothing. When the budget is used up the sandbox is killed, the cell or call that was running fails with
``TimeLimitExceeded``, and every later call fails with ``SubmissionStopped``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from grading import sandbox, wire

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n(.*?)^[ \t]*### END HIDDEN TESTS[ \t]*$",
                    flags=re.MULTILINE | re.DOTALL)
MAX_TEXT = 50_000
REFERENCE_MODULE = "optlib"


class TimeLimitExceeded(Exception):
    """The submission used up its wall-time budget; its process was killed."""


class SubmissionStopped(Exception):
    """The submission's process is no longer running (it ended, or was stopped earlier)."""


class SubmissionRefused(Exception):
    """A student cell uses the reference implementation the tests compare with."""


class StudentCodeError(Exception):
    """An exception raised by the student's code whose type is not a builtin one."""


def _text(value, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[:limit] + "\n... (output truncated)\n"


# --- 1. the refusal -----------------------------------------------------------------------------------------

def optlib_use(source: str) -> str | None:
    """'line N: text' of the first import of, or reference to, optlib in ``source``; None if there is none."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None  # the sandbox reports the syntax error
    pattern = re.compile(rf"^\s*{REFERENCE_MODULE}(\.\w+)*\s*$")
    for node in ast.walk(tree):
        found = (
            (isinstance(node, ast.Import) and any(a.name.split(".")[0] == REFERENCE_MODULE for a in node.names))
            or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == REFERENCE_MODULE)
            or (isinstance(node, ast.Name) and node.id == REFERENCE_MODULE)
            or (isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value))
        )
        if found:
            line = source.splitlines()[node.lineno - 1].strip()
            return f"line {node.lineno}: {line[:120]}"
    return None


# --- 2. the sandboxed submission ----------------------------------------------------------------------------

class Submission:
    """The student's code, running in the sandbox, behind a pipe."""

    def __init__(self, work_dir: Path, limits: sandbox.Limits):
        argv, env = sandbox.command(work_dir, limits)
        self.limits = limits
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        env=env or None, cwd=work_dir, start_new_session=True)
        self.waited = 0.0  # seconds spent waiting for the submission: its share of the time limit
        self.buffer = b""
        self.stopped: str | None = None
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ)

    def kill(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stderr_tail(self) -> str:
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - 4000))
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1][:300] if lines else ""

    def _stop(self, exception: Exception) -> Exception:
        self.kill()
        self.stopped = str(exception)
        return exception

    def send(self, message: dict) -> None:
        if self.stopped:
            raise SubmissionStopped(f"the submission's process was stopped earlier: {self.stopped}")
        try:
            self.process.stdin.write(wire.dumps(message))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the reply's end of file says why

    def receive(self, doing: str) -> dict:
        if self.stopped:
            raise SubmissionStopped(f"the submission's process was stopped earlier: {self.stopped}")
        started = time.monotonic()
        try:
            while b"\n" not in self.buffer:
                remaining = self.limits.seconds - self.waited - (time.monotonic() - started)
                if remaining <= 0:
                    raise self._stop(TimeLimitExceeded(
                        f"the submission used up its time limit of {self.limits.seconds:g} s ({doing}) and was "
                        "stopped"))
                if not self.selector.select(timeout=remaining):
                    continue
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    code = self.process.wait()
                    how = f"was killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
                    tail = self.stderr_tail()
                    raise self._stop(SubmissionStopped(
                        f"the submission's process {how} ({doing})" + (f": {tail}" if tail else "")))
                self.buffer += chunk
                if len(self.buffer) > wire.MAX_LINE:
                    raise self._stop(SubmissionStopped(
                        f"the submission sent an answer too long to read ({doing})"))
        finally:
            self.waited += time.monotonic() - started
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as error:
            raise self._stop(SubmissionStopped(f"the submission sent an unreadable answer ({doing}): {error}"))

    def request(self, message: dict, doing: str) -> dict:
        self.send(message)
        return self.receive(doing)


def _student_exception(name: str, error) -> Exception:
    error = error if isinstance(error, dict) else {}
    ename, evalue = _text(error.get("ename"), 100), _text(error.get("evalue"), 2000)
    trace = "".join(_text(line, 2000) for line in error.get("traceback", [])[:40] if isinstance(line, str))
    message = (f"{evalue}\n\n" if evalue else "") + f"{name} raised {ename or 'an exception'} in the submission:\n{trace}"
    kind = getattr(builtins, ename, None) if ename.isidentifier() else None
    if isinstance(kind, type) and issubclass(kind, Exception):
        with contextlib.suppress(Exception):
            return kind(message)
    return StudentCodeError(f"{ename}: {message}")


def mirror(old, new) -> bool:
    """Make ``old`` equal to ``new`` in place where it can; False when ``old`` cannot hold ``new``."""
    if isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        if old.shape != new.shape or old.dtype != new.dtype:
            return False
        if not np.array_equal(old, new, equal_nan=old.dtype.kind in "fc"):
            if not old.flags.writeable:
                return False
            old[...] = new
        return True
    if type(old) is dict and type(new) is dict:
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            if key not in old or not mirror(old[key], value):
                old[key] = value
        return True
    if type(old) is list and type(new) is list:
        if len(old) != len(new):
            old[:] = new
        for i, value in enumerate(new):
            if not mirror(old[i], value):
                old[i] = value
        return True
    return type(old) is type(new) and not isinstance(old, np.ndarray) and old == new


class StudentFunction:
    """Stands in for a function of the submission: calls it in the sandbox with copies of the arguments."""

    def __init__(self, submission: Submission, name: str):
        self.submission, self.name = submission, name

    def __repr__(self):
        return f"<the submission's {self.name}>"

    def __call__(self, *args, **kwargs):
        try:
            message = {"op": "call", "name": self.name, "args": wire.encode(list(args)),
                       "kwargs": wire.encode(kwargs)}
        except wire.WireError as error:
            raise TypeError(f"the grader cannot pass these arguments to {self.name}: {error}") from None
        reply = self.submission.request(message, f"in {self.name}")
        if reply.get("missing"):
            raise NameError(f"name '{self.name}' is not defined")
        sys.stdout.write(_text(reply.get("stdout")))
        sys.stderr.write(_text(reply.get("stderr")))
        if reply.get("error"):
            raise _student_exception(self.name, reply["error"])
        try:
            result = wire.decode(reply.get("result"))
            new_args, new_kwargs = wire.decode(reply.get("args")), wire.decode(reply.get("kwargs"))
        except wire.WireError as error:
            raise TypeError(f"{self.name} returned something the grader cannot read: {error}") from None
        if type(new_args) is list and len(new_args) == len(args):
            for old, new in zip(args, new_args):
                mirror(old, new)
        if type(new_kwargs) is dict:
            for key, old in kwargs.items():
                if key in new_kwargs:
                    mirror(old, new_kwargs[key])
        return result


# --- 3. the tests -------------------------------------------------------------------------------------------

def _names(source: str, context) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, context)}
    if context is ast.Store:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def hidden_lines(source: str) -> set[int]:
    lines = set()
    for match in HIDDEN.finditer(source):
        first = source.count("\n", 0, match.start()) + 1
        lines |= set(range(first, first + match.group(0).count("\n") + 1))
    return lines


def error_output(exc: BaseException, filename: str | None = None, source: str = "",
                 label: str = "") -> dict:
    """An nbformat error output; frames of ``filename`` show their line unless it is a hidden test's."""
    hidden = hidden_lines(source)
    lines = source.splitlines()
    trace = ["Traceback (most recent call last):"]
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename != filename:
            continue
        if frame.lineno in hidden:
            trace.append(f"  {label}, in a hidden test (not shown)")
        else:
            text = lines[frame.lineno - 1].strip() if 0 < frame.lineno <= len(lines) else ""
            trace.append(f"  {label}, line {frame.lineno}:\n    {text}")
    evalue = str(exc)
    trace.append(f"{type(exc).__name__}: {evalue}" if evalue else type(exc).__name__)
    return {"output_type": "error", "ename": type(exc).__name__, "evalue": _text(evalue, 20_000),
            "traceback": trace}


def streams(stdout: str, stderr: str) -> list[dict]:
    return [{"output_type": "stream", "name": name, "text": _text(text)}
            for name, text in (("stdout", stdout), ("stderr", stderr)) if text]


def grade(job: dict) -> dict:
    limits = sandbox.Limits(**job.get("limits", {}))
    cells = job["cells"]
    outputs: dict[int, list[dict]] = {}

    # 1. Refuse student cells that use optlib; they are not run.
    program = []
    for cell in cells:
        use = optlib_use(cell["source"]) if cell["kind"] == "student" else None
        if use:
            refusal = SubmissionRefused(
                f"this cell uses {REFERENCE_MODULE} ({use}). The graded functions must compute the update "
                f"themselves; the tests compare them with {REFERENCE_MODULE}, so calling it proves nothing. "
                "The cell was not run.")
            outputs[cell["index"]] = [error_output(refusal)]
        elif cell["kind"] in ("setup", "student"):
            program.append({"index": cell["index"], "source": cell["source"]})

    # 2. The sandbox runs the setup and student cells.
    work_dir = Path(tempfile.mkdtemp(prefix="submission-"))
    try:
        for name in job.get("files", []):
            source = Path(job["folder"]) / name
            if source.is_file() and not source.is_symlink():
                (work_dir / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, work_dir / name)
        sandbox.prepare_work_dir(work_dir)
        submission = Submission(work_dir, limits)
        try:
            return _run(job, cells, program, outputs, submission)
        finally:
            submission.kill()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _run(job, cells, program, outputs, submission) -> dict:
    submission.send({"cells": program})
    for cell in program:
        try:
            reply = submission.receive(f"while running cell {cell['index'] + 1}")
        except (TimeLimitExceeded, SubmissionStopped) as error:
            if submission.stderr_tail().startswith("bwrap:"):
                raise sandbox.SandboxUnavailable(f"the sandbox could not start: {submission.stderr_tail()}")
            outputs[cell["index"]] = [error_output(error)]
            break
        if reply.get("cell") != cell["index"]:
            outputs[cell["index"]] = [error_output(submission._stop(
                SubmissionStopped("the submission's process answered out of turn")))]
            break
        outputs[cell["index"]] = streams(_text(reply.get("stdout")), _text(reply.get("stderr")))
        if reply.get("error"):
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            outputs[cell["index"]].append({
                "output_type": "error", "ename": _text(error.get("ename"), 100) or "Error",
                "evalue": _text(error.get("evalue"), 2000),
                "traceback": [_text(line, 2000) for line in error.get("traceback", [])[:40]
                              if isinstance(line, str)]})
    else:
        with contextlib.suppress(TimeLimitExceeded, SubmissionStopped):
            submission.receive("after its last cell")  # {"ready": true}

    # 3. The tests, here, with stand-ins for what they need from the student.
    tests = [c for c in cells if c["kind"] == "test"]
    setup = [c for c in cells if c["kind"] == "setup"]
    needed = set().union(*(_names(c["source"], ast.Load) for c in tests)) if tests else set()
    needed -= set(dir(builtins))
    needed -= set().union(*(_names(c["source"], ast.Store) for c in setup)) if setup else set()
    namespace = {"__name__": "__main__"}
    for name in sorted(needed):
        if name.startswith("_"):
            continue
        try:
            reply = submission.request({"op": "get", "name": name}, f"reading {name}")
        except (TimeLimitExceeded, SubmissionStopped):
            namespace[name] = StudentFunction(submission, name)  # every call reports why it stopped
            continue
        if reply.get("callable"):
            namespace[name] = StudentFunction(submission, name)
        elif not reply.get("missing") and not reply.get("error"):
            with contextlib.suppress(wire.WireError):
                namespace[name] = wire.decode(reply.get("value"))

    for cell in cells:
        if cell["kind"] not in ("setup", "test"):
            continue
        filename = f"<cell {cell['index'] + 1}>"
        label = f"test {cell.get('grade_id') or cell['index'] + 1}"
        stdout, stderr = io.StringIO(), io.StringIO()
        error = None
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                exec(compile(cell["source"], filename, "exec"), namespace)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 -- any failure fails the test
                error = error_output(exc, filename, cell["source"], label)
        if cell["kind"] == "test":
            outputs[cell["index"]] = streams(stdout.getvalue(), stderr.getvalue()) + ([error] if error else [])
    return {"outputs": {str(k): v for k, v in outputs.items()}}


def main(argv=None) -> int:
    job_path, result_path = (argv or sys.argv[1:])[:2]
    job = json.loads(Path(job_path).read_text())
    try:
        result = grade(job)
    except sandbox.SandboxUnavailable as error:
        result = {"sandbox_unavailable": str(error)}
    Path(result_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
