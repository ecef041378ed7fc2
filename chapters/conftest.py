"""Chapter notebooks under nbval: a cell that writes to stderr fails.

A page must not show a warning. Python's warnings (a RuntimeWarning from NumPy, a DeprecationWarning
from a library) print to stderr, which neither ``--nbval-lax`` nor the book's ``-W`` build treats as
an error: the page just shows a pink box. This hook runs after nbval has executed a chapter cell and
fails the cell if anything arrived on its stderr stream, quoting the text. It applies to every
notebook collected from this folder, whatever the command (``make test`` or
``pytest --nbval-lax chapters/NN_*.ipynb``). ``tests/test_chapter_warnings.py`` checks that it fails
on a cell that warns and passes a clean one.
"""

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    # nbval's cell items keep the outputs of their execution in ``test_outputs`` (None if skipped).
    outputs = getattr(item, "test_outputs", None) or []
    stderr = "".join(output.get("text", "") for output in outputs
                     if output.get("output_type") == "stream" and output.get("name") == "stderr")
    if stderr:
        pytest.fail(f"the cell wrote to stderr (a page must show no warning):\n{stderr}", pytrace=False)
    return result
