"""The submission's side: runs inside the sandbox, executes the student's cells, then answers calls.

Started by :mod:`grading.verdict` as ``python -I student.py`` with the pipe on stdin/stdout. Protocol (one JSON
object per line, :mod:`grading.wire`):

1. it reads ``{"cells": [{"index": i, "source": text}, ...]}`` and runs the cells in order in one namespace,
   sending ``{"cell": i, "stdout": ..., "stderr": ..., "error": null or {...}}`` after each;
2. it sends ``{"ready": true}``, then answers ``{"op": "get", "name": n}`` with the value bound to ``n`` and
   ``{"op": "call", "name": n, "args": [...], "kwargs": {...}}`` with the return value and the arguments as
   they are after the call (so that the grader sees in-place changes), until its input ends.

Nothing here is trusted: the student's code runs in this very process and may rewrite any of it. The grader
decodes every answer as plain data and never runs anything it receives.
"""

import io
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402

MAX_TEXT = 50_000  # characters of printed output kept per cell or call


class BoundedText(io.TextIOBase):
    """A text stream that keeps the first MAX_TEXT characters written to it."""

    def __init__(self):
        self.parts, self.size = [], 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        if self.size < MAX_TEXT:
            self.parts.append(text[:MAX_TEXT - self.size])
        self.size += len(text)
        return len(text)

    def getvalue(self):
        value = "".join(self.parts)
        return value + ("\n... (output truncated)\n" if self.size > MAX_TEXT else "")


def error_of(exc: BaseException) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename == __file__:
        frames = frames[1:]  # the runner's own frames say nothing to the student
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return {"ename": type(exc).__name__, "evalue": str(exc)[:2000],
            "traceback": ["Traceback (most recent call last):\n"] + [line[:2000] for line in lines[-30:]]}


def captured(run):
    """Run ``run()`` with stdout and stderr captured: (value, error or None, stdout, stderr)."""
    out, err = BoundedText(), BoundedText()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        return run(), None, out, err
    except BaseException as exc:  # noqa: BLE001 -- SystemExit and KeyboardInterrupt are the student's too
        return None, error_of(exc), out, err
    finally:
        sys.stdout, sys.stderr = saved


def main():
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    # The student's code gets no stdin, and its low-level writes to fd 1 go to stderr, not into the pipe.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = io.StringIO()

    def send(message):
        channel_out.write(wire.dumps(message))
        channel_out.flush()

    def encoded(value):
        try:
            return wire.encode(value), None
        except wire.WireError as exc:
            return None, {"ename": "TypeError", "evalue": str(exc), "traceback": [f"TypeError: {exc}\n"]}

    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    job = wire.loads(channel_in.readline(wire.MAX_LINE))
    for cell in job["cells"]:
        def run_cell(source=cell["source"], index=cell["index"]):
            exec(compile(source, f"<cell {index + 1}>", "exec"), namespace)

        _, error, out, err = captured(run_cell)
        send({"cell": cell["index"], "stdout": out.getvalue(), "stderr": err.getvalue(), "error": error})
    send({"ready": True})

    while True:
        line = channel_in.readline(wire.MAX_LINE)
        if not line:
            return
        request = wire.loads(line)
        name = request.get("name")
        if name not in namespace:
            send({"missing": True})
            continue
        if request.get("op") == "get":
            if callable(namespace[name]):
                send({"callable": True})
                continue
            value, error = encoded(namespace[name])
            send({"value": value, "error": error})
            continue
        args, kwargs = wire.decode(request["args"]), wire.decode(request["kwargs"])
        result, error, out, err = captured(lambda: namespace[name](*args, **kwargs))
        reply = {"stdout": out.getvalue(), "stderr": err.getvalue(), "error": error}
        if error is None:
            reply["result"], reply["error"] = encoded(result)
            reply["args"], args_error = encoded(list(args))
            reply["kwargs"], kwargs_error = encoded(kwargs)
            reply["error"] = reply["error"] or args_error or kwargs_error
        send(reply)


if __name__ == "__main__":
    main()
