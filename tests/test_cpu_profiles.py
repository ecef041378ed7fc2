"""The book holds on any CPU: chapters under nbval with the arithmetic of other processors.

Readers' CPUs round differently: OpenBLAS picks its kernels for the processor (they sum in different
orders) and NumPy's SIMD loops for ``exp``, ``log1p``, ``tanh`` differ in the last bit. Two environment
variables make this machine compute as another would (README, "Running a chapter as another CPU would"):

* ``OPENBLAS_CORETYPE``: the OpenBLAS kernels of the named processor;
* ``NPY_DISABLE_CPU_FEATURES``: NumPy's loops without the named instruction sets.

A claim that flips with the last bit is not a claim about an optimizer, so every chapter must pass
nbval under every profile of ``PROFILES`` (``make profiles`` runs them all, about three times the
chapters' nbval time). ``make test`` runs the cheapest part that still catches a claim resting on
rounding: the chapters of ``CHECKED_IN_MAKE_TEST`` (those whose studies are stochastic or chaotic, where
the last bit can grow into a different result) under the old-x86 profile, the one furthest from a modern
machine. Each profile runs in a subprocess (the variables act when NumPy and OpenBLAS load), which
executes the chapter in its own kernel and writes nothing into the website's execution cache
(``--confcutdir=chapters`` leaves out the root conftest.py that would; chapters/conftest.py, which
fails a cell that warns, still applies).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"

#: Environment variables of each emulated CPU (README, "Running a chapter as another CPU would"). "native"
#: clears them: this machine as it is.
PROFILES = {
    "native": {},
    "old-x86": {"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"},
    "haswell": {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"},
}
PROFILE_VARIABLES = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")

#: The chapters ``make test`` runs under the old-x86 profile: those whose printed results depend on the
#: processor. Measured by executing every chapter under the three profiles and comparing the text of every
#: output: chapters 1-9, 11 and 12 printed the same numbers (apart from timings and rounding-size errors,
#: e.g. a gradient check's 1e-10); chapter 10, whose networks are trained near the edge of stability, did
#: not. A new chapter whose results come from seeds or from dynamics that amplify rounding joins with one
#: line here.
CHECKED_IN_MAKE_TEST = [
    "10_choosing.ipynb",
    "13_schedule_free.ipynb",  # seed statistics of SGD and schedule-free runs (printed the same on all three)
    "14_preconditioning.ipynb",  # medians over 48 seeded matrix problems (Muon's moves 252 -> 259 between profiles)
]
MAKE_TEST_PROFILE = "old-x86"

#: ``make profiles`` sets this to run every chapter under every profile.
ALL_PROFILES = os.environ.get("OPTLIB_ALL_PROFILES") == "1"


def profile_environment(profile: str) -> dict[str, str]:
    """This process's environment with the profile's variables (and without any other profile's)."""
    env = {key: value for key, value in os.environ.items() if key not in PROFILE_VARIABLES}
    env.update(PROFILES[profile])
    env["OPTLIB_EXPLORERS"] = "static"  # as in the site build and under `make test`
    return env


def cases() -> list[tuple[str, str]]:
    if ALL_PROFILES:
        return [(profile, path.name) for profile in PROFILES for path in sorted(CHAPTERS.glob("*.ipynb"))]
    return [(MAKE_TEST_PROFILE, name) for name in CHECKED_IN_MAKE_TEST]


def run_under(profile: str, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=profile_environment(profile), capture_output=True,
                          text=True, timeout=timeout)


x86_only = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                              reason="the profiles emulate x86-64 processors (OpenBLAS and NumPy names of x86 kernels)")


def test_every_chapter_of_make_test_exists():
    assert CHECKED_IN_MAKE_TEST and all((CHAPTERS / name).exists() for name in CHECKED_IN_MAKE_TEST)


@x86_only
@pytest.mark.parametrize("profile", [name for name in PROFILES if PROFILES[name]])
def test_a_profile_changes_the_arithmetic_it_names(profile):
    """The variables take effect in the subprocess: NumPy's named loops are off, OpenBLAS runs the named
    core. (Without this, a profile that silently ran as native would pass every chapter.)"""
    probe = ("import json, numpy, threadpoolctl\n"
             "from numpy._core._multiarray_umath import __cpu_features__ as f\n"
             "print(json.dumps([[k for k, on in f.items() if on],\n"
             "                  [i.get('architecture') for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']]))")
    result = run_under(profile, "-c", probe)
    assert result.returncode == 0, result.stderr
    features, cores = json.loads(result.stdout)
    disabled = PROFILES[profile]["NPY_DISABLE_CPU_FEATURES"].split()
    assert not set(disabled) & set(features), f"{profile}: NumPy still uses {set(disabled) & set(features)}"
    # OpenBLAS names its Prescott kernels after the oldest core that shares them (Katmai).
    expected = {"Prescott": {"Prescott", "Katmai"}, "Haswell": {"Haswell"}}[PROFILES[profile]["OPENBLAS_CORETYPE"]]
    assert cores and set(cores) <= expected, f"{profile}: OpenBLAS runs {cores}, not {expected}"


@pytest.mark.book
@x86_only
@pytest.mark.parametrize(("profile", "chapter"), cases(), ids=lambda value: value)
def test_a_chapter_passes_nbval_under_a_cpu_profile(profile, chapter):
    # pyproject.toml's options apply (--nbval-lax); --confcutdir keeps the root conftest.py out (see above)
    result = run_under(profile, "-m", "pytest", "--confcutdir", str(CHAPTERS), "-q", "--no-header", "-x",
                       str(CHAPTERS / chapter))
    assert result.returncode == 0, (f"{chapter} fails under the {profile} profile "
                                    f"({' '.join(f'{k}={v!r}' for k, v in PROFILES[profile].items()) or 'no variables'}):\n"
                                    + "\n".join(result.stdout.splitlines()[-60:]))
