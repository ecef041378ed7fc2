"""Settings for every pytest run, whatever the command line, and each chapter executed once per run.

Chapter notebooks run (under nbval) with the explorers' kernel-free form, as in the website build:
executing live ipywidgets headless can stall the notebook client (jupyter/nbclient#312). The kernel
nbval starts inherits this process's environment. The live form is tested in tests/test_explorers.py.

**Each chapter executed once.** nbval executes every chapter as a test (``--nbval-lax``: every cell
runs without error, the asserting cells pass). When every code cell of a chapter has passed, the
notebook as nbval executed it (its outputs, cell by cell) is written into the website's execution cache
(``_build/.execution_cache/<hash of optlib>``, the jupyter-cache that ``_ext/offline_site.py`` gives
the build), exactly as the build would have cached it after executing the chapter itself. The site
build that follows (``tests/conftest.py``'s ``site_build``, ordered after the notebooks) then finds
every chapter in the cache and executes none; tests/test_execution_once.py checks it. A chapter that
failed under nbval is not cached, so the build executes it again and fails on it too.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("OPTLIB_EXPLORERS", "static")

ROOT = Path(__file__).resolve().parent
EXECUTED_BY = "nbval"  # the mark in a cache record's data of a chapter that nbval executed

# {notebook path: {code cell number: (passed, outputs, seconds)}} for the chapters nbval runs now
_cells: dict[Path, dict[int, tuple[bool, list, float]]] = {}
# the chapters whose executed form nbval wrote into the execution cache in this run
NBVAL_CACHED: set[Path] = set()


def execution_cache_path() -> Path:
    """The build's execution cache for the current optlib: the rule of ``_ext/offline_site.py``, imported."""
    spec = importlib.util.spec_from_file_location("_optlib_offline_site", ROOT / "_ext" / "offline_site.py")
    offline_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(offline_site)
    return ROOT / "_build" / ".execution_cache" / offline_site._optlib_digest(ROOT)[:16]


def executed_notebook(nb, outputs_by_cell: dict[int, list]):
    """``nb`` with each code cell's outputs and execution count as nbval's kernel produced them."""
    import nbformat

    nb = copy.deepcopy(nb)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for count, cell in enumerate(code_cells, start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(copy.deepcopy(dict(output))) for output in outputs_by_cell[count - 1]]
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    nbformat.validate(nb)
    return nb


def _cache_executed_chapter(path: Path, nb, cells: dict[int, tuple[bool, list, float]]) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    executed = executed_notebook(nb, {number: outputs for number, (_, outputs, _) in cells.items()})
    seconds = sum(s for _, _, s in cells.values())
    get_cache(str(execution_cache_path())).cache_notebook_bundle(
        CacheBundleIn(executed, str(path), data={"execution_seconds": seconds, "executed_by": EXECUTED_BY}),
        check_validity=False, overwrite=True)
    NBVAL_CACHED.add(path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or item.path.suffix != ".ipynb" or not hasattr(item, "cell_num"):
        return
    notebook = item.parent
    cells = _cells.setdefault(item.path, {})
    cells[item.cell_num] = (report.passed, list(getattr(item, "test_outputs", [])), report.duration)
    n_code_cells = sum(cell.cell_type == "code" for cell in notebook.nb.cells)
    if len(cells) == n_code_cells and all(passed for passed, _, _ in cells.values()):
        try:
            _cache_executed_chapter(item.path, notebook.nb, cells)
        except Exception as error:  # the build then executes the chapter itself: slower, never wrong
            item.warn(pytest.PytestWarning(f"{item.path.name} not written to the execution cache: {error!r}"))


@pytest.fixture(scope="session")
def chapters_cached_by_nbval() -> set[Path]:
    """The chapters that nbval executed in this run and wrote into the build's execution cache."""
    return NBVAL_CACHED


@pytest.fixture(scope="session")
def execution_cache() -> Path:
    """The directory of the build's execution cache for the current optlib."""
    return execution_cache_path()
