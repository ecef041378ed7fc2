"""The bubblewrap command that runs one submission's code, and the check that it can start.

What the sandboxed process sees and may do (Linux namespaces via Debian's ``bwrap``):

* no network: a network namespace of its own, with only a loopback that nobody else shares;
* a file system made of: ``/usr`` (and the ``/bin``, ``/lib`` links), the Python installation and the virtual
  environment, all read-only; this folder (``grading/``, the runner's code) read-only at ``/opt/grading``; a
  fresh ``/proc`` and minimal ``/dev``; an empty 64 MiB tmpfs as ``/tmp`` and home; and the submission's work
  folder at ``/submission``. The course (other submissions,
  ``source/``, ``gradebook.db``), the book (so ``optlib``), ``/etc`` and ``/home`` are simply absent;
  the work folder is a 64 MiB tmpfs holding read-only copies of the submission's files, so a submission
  can neither fill the disk nor change what is graded;
* its own PID, IPC and UTS namespaces: it sees and signals only its own processes, and when its first
  process ends (or the grader kills it at the time limit) every process it started ends too;
* resource limits (``prlimit``): address space (memory), CPU seconds, size of a written file, no core dumps,
  and a number of processes. ``RLIMIT_NPROC`` counts the processes of a user id and does not apply to root,
  so when the grader runs as root the submission runs as user ``nobody`` (65534) inside the sandbox, where the
  limit holds; as a normal user it is the user's current count plus the allowance. Wall time is enforced by
  the grader (:mod:`grading.verdict`), which kills the sandbox at the limit.

With ``UNSAFE_NO_SANDBOX=1`` in the environment the runner starts without bwrap (still in its own process, with
the same limits and the same tamper-proof verdicts, but able to read and write whatever the instructor can):
only for a machine without bubblewrap, and it says so loudly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

GRADING_DIR = Path(__file__).resolve().parent
INSIDE_GRADING = "/opt/grading"
INSIDE_WORK = "/submission"
NOBODY = 65534
WORK_MIB = 64
UNSAFE_VARIABLE = "UNSAFE_NO_SANDBOX"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here."""


@dataclass(frozen=True)
class Limits:
    """Per-submission limits: wall seconds (enforced by the grader), address space, processes."""

    seconds: float = 120.0
    memory_mib: int = 2048
    processes: int = 64
    file_mib: int = 64


def unsafe() -> bool:
    return os.environ.get(UNSAFE_VARIABLE, "") not in ("", "0")


def unsafe_warning() -> str:
    return (f"WARNING: {UNSAFE_VARIABLE} is set: the submissions run WITHOUT the sandbox. Their code can read "
            "and change everything you can (other submissions, source/, the gradebook, your home) and use "
            "the network. The verdicts still come from a separate, clean process.")


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[:i + 1]) for i in range(len(parts))]


def _process_count(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            count += int(line.split()[1]) == uid
                            break
            except OSError:
                continue
    return count


def _prlimit(limits: Limits, as_root: bool) -> list[str]:
    nproc = limits.processes if as_root else _process_count(os.getuid()) + limits.processes
    return ["prlimit", f"--as={limits.memory_mib * 2**20}", f"--cpu={int(limits.seconds) + 5}",
            f"--fsize={limits.file_mib * 2**20}", "--core=0", f"--nproc={nproc}", "--"]


def _environment(work: str) -> dict[str, str]:
    return {"HOME": "/tmp", "TMPDIR": "/tmp", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
            "PWD": work, "MPLCONFIGDIR": "/tmp", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def command(work_dir: Path, limits: Limits, program: list[str] | None = None) -> tuple[list[str], dict]:
    """(argv, env) that runs ``program`` (default: the student runner) on ``work_dir`` in the sandbox."""
    python = os.path.normpath(os.path.abspath(sys.executable))  # the venv's, not the link's target
    as_root = os.geteuid() == 0
    if unsafe():
        argv = [*_prlimit(limits, as_root=False), python, "-I", "-B",
                *(program or [str(GRADING_DIR / "student.py")])]
        return argv, {**_environment(str(work_dir)), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`")
    # As root, bwrap needs no user namespace; the student's code then runs as nobody (see above).
    namespaces = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
                  if as_root else ["--unshare-all"])
    argv = [bwrap, *namespaces, "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(64 * 2**20), "--tmpfs", "/tmp"]
    # The Python installation and the virtual environment, read-only, at their own paths (the venv's
    # pyvenv.cfg and its interpreter's links name them).
    mounts: list[str] = []
    for path in (sys.base_prefix, sys.prefix, os.path.dirname(python), os.path.dirname(os.path.realpath(python))):
        for target in {os.path.normpath(path), os.path.realpath(path)}:
            if not any(target == m or target.startswith(m + os.sep) for m in mounts + ["/usr"]):
                mounts = [m for m in mounts if not m.startswith(target + os.sep)] + [target]
    made = {"/tmp", "/usr", "/proc", "/dev"}
    for mount in sorted(mounts) + [INSIDE_GRADING + "/x"]:
        for folder in _ancestors(mount):
            if folder not in made:
                argv += ["--perms", "0755", "--dir", folder]
                made.add(folder)
    for mount in sorted(mounts):
        argv += ["--ro-bind", mount, mount]
    # The work folder: a 64 MiB tmpfs (so a submission cannot fill the disk), with the submission's own files
    # (copies, read-only) in it.
    argv += ["--ro-bind", str(GRADING_DIR), INSIDE_GRADING,
             "--perms", "0777", "--size", str(WORK_MIB * 2**20), "--tmpfs", INSIDE_WORK]
    for path in sorted(work_dir.rglob("*")):
        inside = f"{INSIDE_WORK}/{path.relative_to(work_dir).as_posix()}"
        if path.is_dir() and not path.is_symlink():
            argv += ["--perms", "0777", "--dir", inside]
        elif path.is_file() and not path.is_symlink():
            argv += ["--ro-bind", str(path), inside]
    argv += ["--chdir", INSIDE_WORK, "--clearenv"]
    for key, value in _environment(INSIDE_WORK).items():
        argv += ["--setenv", key, value]
    if as_root:
        argv += ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all"]
    argv += [*_prlimit(limits, as_root), python, "-I", "-B",
             *(program or [INSIDE_GRADING + "/student.py"])]
    return argv, {}


def prepare_work_dir(work_dir: Path) -> None:
    """Let the sandboxed user (nobody, when grading as root) read the copies of the submission's files."""
    for path in [work_dir, *work_dir.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def check(limits: Limits = Limits(seconds=30)) -> str:
    """Start a sandbox that imports NumPy; return its answer, or raise SandboxUnavailable saying why."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as tmp:
        work = Path(tmp)
        prepare_work_dir(work)
        probe = ["-c", "import numpy, os; print('sandbox ok: uid', os.getuid(), 'numpy', numpy.__version__)"]
        try:
            argv, env = command(work, limits, probe)
            result = subprocess.run(argv, env=env or None, capture_output=True, text=True, timeout=60,
                                    stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(f"the sandbox could not start: {error}") from None
        if result.returncode != 0 or "sandbox ok" not in result.stdout:
            message = (result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}")
            raise SandboxUnavailable(f"the sandbox could not start: {message.splitlines()[-1]}")
        return result.stdout.strip()


if __name__ == "__main__":
    print(check())
