"""The chapters' no-warnings hook (chapters/conftest.py) fails a cell that writes to stderr.

Runs nbval, as ``make test`` does, on two throwaway notebooks next to a copy of the hook: one whose
cell warns (a NumPy RuntimeWarning, as chapter 11 once printed) and one whose cells are clean.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_cell_that_warns_fails_and_a_clean_one_passes(tmp_path):
    shutil.copy(ROOT / "chapters" / "conftest.py", tmp_path / "conftest.py")
    notebook(tmp_path / "warns.ipynb", "import numpy as np\nx = 1.0", "np.array([1e300]) * 1e300")
    notebook(tmp_path / "clean.ipynb", "import numpy as np\nx = 1.0", "print(np.array([1e300]) * 1e-300)")
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider",
                             "--rootdir", str(tmp_path), "-rA", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    report = result.stdout
    assert result.returncode == 1, report
    assert "1 failed, 3 passed" in report, report
    assert "FAILED warns.ipynb::Cell 1" in report and "overflow encountered in multiply" in report, report
    assert "a page must show no warning" in report, report
