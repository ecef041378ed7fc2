"""The explorers' drawn paths against torch.optim's, at each explorer's default setting.

**Recording** (``tests/reference/make_reference.py explorers``, where torch is installed; torch is never a
dependency of the book). The book's Python runs every explorer of the registry at its default setting in a
fresh process (no cached runs) with each optimizer step *taped* (:func:`tapes`): the optimizer's class, its
hyperparameters at that step (a schedule changes ``lr``), the gradient it was given, and its parameters before
and after. Each path the explorer draws is matched to the taped run (and the start, for stacked runs) that
produced it, bit for bit. The recording script then replays each matched tape in torch.optim, float64, the
single-tensor algorithm: the same class and hyperparameters, the same gradient at every step, and stores
torch's iterates in ``tests/reference/explorers.npz``, with the paths it could not check and why (an
optimizer torch.optim lacks, an average of iterates, an explorer that draws no path).

**Checking** (the build, :func:`torch_check`, from :mod:`optlib.explorers.site`). The default setting's
drawn paths against the stored torch iterates: the largest difference over every drawn point of every checked
path, relative to the size of that path (:func:`relative_difference`). Above :data:`TOLERANCE` the build stops;
the page says what was checked and the difference found.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["TOLERANCE", "REFERENCE", "TORCH_OPTIMIZERS", "tapes", "matched_paths", "relative_difference",
           "torch_check"]

#: The largest relative difference between a drawn path and torch.optim's iterates the build accepts.
TOLERANCE = 1e-9

#: Where the recorded torch iterates are (written by tests/reference/make_reference.py).
REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "reference" / "explorers.npz"

#: The optimizers of torch.optim that optlib implements (a taped class is replayed as the first of these in
#: its method resolution order: optlib's scheduled Adam is torch's Adam with ``lr`` set before each step).
TORCH_OPTIMIZERS = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "Adadelta", "Adamax", "RAdam",
                    "Muon")


class _Tape:
    """Every step of every optimizer made while it is open: ``runs`` in order of creation."""

    def __enter__(self):
        from ..optimizer import Optimizer

        self.runs, self._by_id, self._step = [], {}, Optimizer.step
        tape, original = self, Optimizer.step

        def step(optimizer, grads):
            run = tape._by_id.get(id(optimizer))
            if run is None or run["optimizer"] is not optimizer:
                run = {"optimizer": optimizer, "classes": [c.__name__ for c in type(optimizer).__mro__],
                       "start": [np.array(p, dtype=float) for p in optimizer.params], "hyperparameters": [],
                       "grads": [], "params": []}
                tape._by_id[id(optimizer)] = run
                tape.runs.append(run)
            run["hyperparameters"].append(optimizer.hyperparameters)
            run["grads"].append([np.array(g, dtype=float) for g in grads])
            original(optimizer, grads)
            run["params"].append([np.array(p, dtype=float) for p in optimizer.params])

        Optimizer.step = step
        return self

    def __exit__(self, *exc):
        from ..optimizer import Optimizer

        Optimizer.step = self._step
        return False


def tapes() -> _Tape:
    """A context in which every :class:`~optlib.optimizer.Optimizer` step is recorded (see the module
    docstring). Runs cached before it opened are not recorded: use it in a fresh process."""
    return _Tape()


def _history(run: dict) -> np.ndarray:
    """A taped run's iterates ``(steps + 1, *shape)`` of its one parameter array."""
    if len(run["start"]) != 1:
        raise ValueError("an explorer's run optimizes one parameter array")
    return np.stack([run["start"][0], *(p[0] for p in run["params"])])


def matched_paths(explorer, runs: list[dict]) -> tuple[dict, dict]:
    """``(matched, unmatched)``: for each path the explorer draws at its default setting (a line of a panel
    whose axes are the parameters), the taped run and column that produced it, bit for bit, as
    ``{key: (run index, column or None, label)}``; the other paths as ``{key: reason}``."""
    data = explorer.data()
    matched, unmatched = {}, {}
    for panel in explorer.panels:
        if panel.contour is None:
            continue
        for line in panel.lines:
            series = data.get(line.key)
            if series is None or len(series.x) < 2:
                continue
            drawn = np.stack([series.x, series.y], axis=-1)
            finite = np.isfinite(drawn).all(axis=1)
            found = None
            for r, run in enumerate(runs):
                history = _history(run)
                columns = [None] if history.ndim == 2 else range(history.shape[1])
                for column in columns:
                    path = history if column is None else history[:, column]
                    if path.shape[-1] != 2 or len(path) < finite.sum() or not finite[:len(path)].any():
                        continue
                    n = min(len(path), len(drawn))
                    if finite[n:].any():
                        continue
                    if np.array_equal(path[:n][finite[:n]], drawn[:n][finite[:n]]):
                        found = (r, column, series.label)
                        break
                if found:
                    break
            if found is None:
                unmatched[line.key] = f"{series.label}: not the iterates of an optimizer (an average, or computed)"
            else:
                classes = runs[found[0]]["classes"]
                if not any(name in TORCH_OPTIMIZERS for name in classes):
                    unmatched[line.key] = f"{series.label}: {classes[0]} is not in torch.optim"
                else:
                    matched[line.key] = found
    return matched, unmatched


def record_tapes(out: Path, name: str) -> None:
    """Tape the explorer ``name`` of the registry at its default setting and save what torch needs to replay
    its drawn paths in ``out`` (an ``.npz``). Call it in a fresh process, one explorer per process
    (``python -m optlib.explorers.reference tape OUT NAME``): runs another explorer cached would not be taped."""
    from . import CHAPTER_EXPLORERS

    arrays, cases, skipped = {}, [], {}
    try:
        explorer = CHAPTER_EXPLORERS[name][1]()
    except TypeError:   # takes the chapter's own study (chapter 10): not built here
        explorer = None
        skipped[name] = [["*", "draws the chapter's own study (training losses of a network), not paths"]]
    if explorer is not None:
        with tapes() as tape:
            explorer.data()
        matched, unmatched = matched_paths(explorer, tape.runs)
        skipped[name] = [[key, reason] for key, reason in unmatched.items()]
        if not matched and not unmatched:
            skipped[name] = [["*", "draws no optimizer path"]]
        for key, (r, column, label) in matched.items():
            run = tape.runs[r]
            prefix = f"{name}/{key}"
            arrays[f"{prefix}/start"] = run["start"][0]
            arrays[f"{prefix}/grads"] = np.stack([g[0] for g in run["grads"]])
            arrays[f"{prefix}/optlib"] = _history(run)
            cases.append({"explorer": name, "key": key, "label": label, "column": column,
                          "classes": run["classes"], "hyperparameters": run["hyperparameters"]})
    np.savez_compressed(out, cases=np.array(json.dumps(cases, default=_plain)),
                        skipped=np.array(json.dumps(skipped)), **arrays)


def _plain(value):
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {value!r} in a tape")


@lru_cache(maxsize=1)
def _recorded(path: Path = REFERENCE) -> tuple[dict, dict, str]:
    """``({(explorer, key): case with its torch iterates}, {explorer: [[key, reason], ...]}, torch version)``."""
    with np.load(path) as stored:
        cases = json.loads(str(stored["cases"]))
        skipped = json.loads(str(stored["skipped"]))
        version = str(stored["torch_version"])
        found = {}
        for case in cases:
            prefix = f"{case['explorer']}/{case['key']}"
            found[(case["explorer"], case["key"])] = {**case, "torch": stored[f"{prefix}/torch"]}
    return found, skipped, version


def relative_difference(drawn: np.ndarray, torch: np.ndarray) -> float:
    """The largest difference between two paths' points, relative to the size of the path (its largest
    coordinate): a path converging to a minimum at 0 ends in coordinates of 1e-16, where two correct
    implementations differ in every digit; on the drawing, and relative to the path, they do not.

    >>> relative_difference(np.array([[2.0, 1.0], [1e-16, 0.0]]), np.array([[2.0, 1.0], [3e-16, 0.0]]))
    1e-16
    """
    scale = float(np.max(np.abs(torch), initial=0.0))
    return float(np.max(np.abs(drawn - torch), initial=0.0)) / scale if scale > 0 else 0.0


def torch_check(explorer, lines: dict) -> str:
    """Compare the default setting's drawn paths (``lines``: ``{key: (x, y, y2, label, colour)}``) with the
    torch.optim iterates recorded for this explorer; return the sentence the page shows ("" when it draws no
    path torch.optim could have made). Raises when a difference exceeds :data:`TOLERANCE`, or when the
    reference has no entry for this explorer (record it: ``make_reference.py explorers``)."""
    found, skipped, version = _recorded()
    cases = {key: case for (name, key), case in found.items() if name == explorer.name}
    if not cases:
        if explorer.name in skipped:
            return ""
        raise RuntimeError(f"{explorer.name}: no torch.optim reference in {REFERENCE.name}; record it with "
                           "/work/torchvenv/bin/python tests/reference/make_reference.py explorers")
    worst, by_class = 0.0, {}
    for key, case in cases.items():
        if lines.get(key) is None:
            raise RuntimeError(f"{explorer.name}: the reference has {key!r}, which the default setting does not draw")
        x, y = lines[key][0], lines[key][1]
        drawn = np.stack([x, y], axis=-1)
        torch = case["torch"]
        finite = np.isfinite(drawn).all(axis=1)
        n = min(len(torch), len(drawn))
        if finite[n:].any() or not np.isfinite(torch[:n][finite[:n]]).all():
            difference = np.inf
        else:
            difference = relative_difference(drawn[:n][finite[:n]], torch[:n][finite[:n]])
        if not difference <= TOLERANCE:
            raise RuntimeError(f"{explorer.name}: the drawn path {key!r} ({case['label']}) differs from torch.optim's "
                               f"iterates by {difference:.3g} of the path's size (tolerance {TOLERANCE:g})")
        worst = max(worst, difference)
        torch_class = next(c for c in case["classes"] if c in TORCH_OPTIMIZERS)
        by_class.setdefault(torch_class, []).append(case["label"])
    paths = "; ".join(f"{' and '.join(labels)} as torch.optim.{name}" for name, labels in by_class.items())
    agreement = "exactly" if worst == 0 else f"to {worst:.1g} of the path's size at most"
    return (f"Checked against torch.optim {version.split('+')[0]}: at the default setting, the drawn paths "
            f"({paths}) equal torch's iterates, fed the same gradients, {agreement}.")


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "tape":
        raise SystemExit("usage: python -m optlib.explorers.reference tape OUT.npz EXPLORER")
    record_tapes(Path(sys.argv[2]), sys.argv[3])
