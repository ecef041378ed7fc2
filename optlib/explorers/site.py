"""The site form of an explorer: every setting of a grid computed at build time, drawn by Bokeh.

**The grid.** :func:`site_grid` lists the website's controls (each :class:`~optlib.explorers.base.Slider`'s
``site_values``, every option of a :class:`~optlib.explorers.base.Choice`, linked sliders such as a start
point offered as one menu of points) and the settings of their product. A slider with at least
:data:`MIN_SLIDER_VALUES` values is a range input; one with fewer is a menu of its values; a yes/no
choice is a checkbox; any other choice is a menu.

**Slots and what they depend on.** What the page draws at a setting is a few *slots*: the title, the
contours of each contour panel, and each line slot of each panel (its ``x``, ``y``, ``y2``, label and
colour). A slot usually depends on a few controls only (a reference run on none of the other
optimizer's), so the build stores each slot once per setting of *its* controls, never once per setting of
all of them. Which controls a slot depends on is found by moving each control over all its values, from the
default setting, from every value of every menu and from random settings (:func:`_dims`), then checked on
random settings of the whole grid: a slot whose value differs from its table there stops the build.

**Chunks.** Each slot's values, in row-major order of its controls, are cut into *chunks* (a few tens of
kilobytes: the values along the first slider the slot depends on, or fewer), which the page fetches when the
reader moves there, with their neighbours along every control fetched ahead (``optlib-explorer.js``).
Numbers are stored as the high 32 bits of each float64 with :data:`MANTISSA_BITS` mantissa bits kept,
rounded (relative error at most :data:`PRECISION`, far below a pixel), as differences along each array,
byte-planed and deflated. The default setting is stored apart, in full float64, inline in the page: what the
page first shows is optlib's numbers exactly.

**Where chunks live.** The kernel writes them inline (``script.optlib-explorer-chunks``, JSON); the book's
build (``_ext/optlib_explorers.py``) moves them into ``_static/optlib-explorers/<id>/<chunk>.js`` files,
each a call ``optlibExplorerChunk(id, chunk, meta, data)``, which the page loads with a ``<script>`` element
(this works from ``file://`` too, where ``fetch`` does not). Without the build step the page reads them inline.

**Every reader.** Next to the figure: an ``aria-live`` summary of the setting (the title, then for each line of a
loss panel whether and when it reaches :data:`SUMMARY_TARGET`, where it ends, or where it diverged, phrased
here at build time), a data table of the drawn setting (key steps), and, where the explorer draws optimizer
paths, the result of :mod:`optlib.explorers.reference`: the default setting's paths against torch.optim's.

**Speed.** Lines are drawn at Bokeh's ``overlay`` level, so a move repaints only the lines of the panels whose
data changed, not their axes and contours. Axes that follow the data are rounded out to ticks (decades on log
axes), as in the live form, so most moves keep them.

The HTML contract: the root has class ``optlib-explorer``; the interactive part ``optlib-explorer-live``;
the summary ``p.optlib-explorer-summary``; the PNG of the default setting (for print and for readers without
JavaScript) is ``img.optlib-explorer-print``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import os
import warnings
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .parts import Choice

if TYPE_CHECKING:   # (annotations only: the explorer imports this module, which reads it)
    from .base import Explorer

__all__ = ["site_grid", "site_data", "site_html", "summary", "phrase", "stored", "rounded_range", "format_value",
           "MIN_SLIDER_VALUES", "MANTISSA_BITS", "PRECISION"]

#: A slider offers at least this many values on the site; one with fewer is shown as a menu.
MIN_SLIDER_VALUES = 8

#: Mantissa bits kept of each stored float64 (of 52): the relative error is at most 2**-(bits + 1).
MANTISSA_BITS = 12
PRECISION = 2.0 ** -(MANTISSA_BITS + 1)

#: The size a chunk aims at (compressed bytes, estimated at 1.4 bytes per number).
CHUNK_BYTES = 16_000

#: The loss a summary says a run reaches (or not).
SUMMARY_TARGET = 1e-3

#: Random settings the dependencies are found from (besides every setting of the menus) and checked on.
PROBES, CHECKS = 12, 48


def format_value(value) -> str:
    """A control value as the page shows it: ``0.1``, ``0.001``, ``(−3, 2.5)``."""
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}".replace("-", "−")
    return str(value)


def value_texts(values) -> list[str]:
    """A control's values as the page shows them (:func:`format_value`), with more digits where three would
    show two values alike (0.9995 and 0.9999 are not both "1").

    >>> value_texts([0.999, 0.9995, 0.9999])
    ['0.999', '0.9995', '0.9999']
    """
    texts = [format_value(v) for v in values]
    for digits in range(4, 17):
        if len(set(texts)) == len(texts):
            break
        texts = [format(v, f".{digits}g").replace("-", "−") if isinstance(v, (float, np.floating))
                 else format_value(v) for v in values]
    return texts


def format_number(value: float) -> str:
    """A number in a summary: ``0.31``, ``2.1e-9``."""
    text = f"{value:.2g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


# --- the grid -----------------------------------------------------------------------------------

class _Settings(Sequence):
    """Every setting of the controls' product, in row-major order (the last control fastest), built on
    demand: ``settings[i]`` is the parameter dict of setting ``i``."""

    def __init__(self, controls: list[dict]):
        self.controls = controls
        self.sizes = [len(c["values"]) for c in controls]
        self.strides = [int(np.prod(self.sizes[i + 1:], dtype=np.int64)) for i in range(len(controls))]

    def __len__(self) -> int:
        return int(np.prod(self.sizes, dtype=np.int64))

    def indices(self, i: int) -> list[int]:
        return [(i // stride) % size for stride, size in zip(self.strides, self.sizes, strict=True)]

    def index(self, indices) -> int:
        return int(sum(i * s for i, s in zip(indices, self.strides, strict=True)))

    def params(self, indices) -> dict:
        params = {}
        for control, index in zip(self.controls, indices, strict=True):
            value = control["values"][index]
            if len(control["names"]) > 1:
                params.update(zip(control["names"], value, strict=True))
            else:
                params[control["name"]] = value
        return params

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.params(self.indices(i % len(self)))


def _kind(control, values) -> str:
    if isinstance(control, Choice):
        return "checkbox" if sorted(map(str, control.options)) == ["no", "yes"] else "select"
    return "range" if len(values) >= MIN_SLIDER_VALUES else "select"


def site_grid(explorer: Explorer) -> tuple[list[dict], _Settings]:
    """``(controls, settings)``: the site's controls (name, names, label, kind, values, default index) and
    every setting of their grid, as parameter dicts, in row-major order (the last control fastest)."""
    linked = tuple(explorer.points.get("names", ()))
    controls = []
    for control in explorer.controls:
        if control.name in linked:
            if control.name == linked[0]:
                values = [tuple(float(v) for v in point) for point in explorer.points["values"]]
                default = tuple(explorer.defaults[name] for name in linked)
                if default not in values:
                    raise ValueError(f"{explorer.name}: the points {values} lack the default {default}")
                controls.append(dict(name="+".join(linked), names=linked, label=explorer.points["label"],
                                     kind="select", values=values, default=values.index(default)))
            continue
        values = control.site_values()
        controls.append(dict(name=control.name, names=(control.name,), label=control.text,
                             kind=_kind(control, values), values=values, default=values.index(control.default)))
    return controls, _Settings(controls)


# --- what a setting draws: its slots ------------------------------------------------------------

def _slots(explorer: Explorer) -> list[tuple]:
    """``("title",)``, ``("contour", panel index)`` per contour panel, ``("line", key, panel index)`` per line."""
    slots = [("title",)]
    slots += [("contour", i) for i, panel in enumerate(explorer.panels) if panel.contour is not None]
    slots += [("line", line.key, i) for i, panel in enumerate(explorer.panels) for line in panel.lines]
    return slots


def _values(explorer: Explorer, slots: list[tuple], params: dict) -> list:
    """Each slot's value at ``params``: a string (title), ``(surface name, window)`` (contours),
    ``None`` or ``(x, y, y2, label, colour)`` (a line)."""
    full = {**explorer.defaults, **params}
    data = explorer.data(**full)
    lines = {line.key: line for panel in explorer.panels for line in panel.lines}
    out = []
    for slot in slots:
        if slot[0] == "title":
            out.append(str(data.get("title", "")))
        elif slot[0] == "contour":
            panel = explorer.panels[slot[1]]
            (x0, x1), (y0, y1) = explorer.window(panel, full, data)
            out.append((str(explorer.surface(panel, full)[0]), (float(x0), float(x1), float(y0), float(y1))))
        else:
            series = data.get(slot[1])
            out.append(None if series is None else (
                series.x, series.y, series.y2, series.label, series.color or lines[slot[1]].color))
    return out


def _digest(value) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    if value is None:
        digest.update(b"\0none")
    elif isinstance(value, str):
        digest.update(b"\0s" + value.encode())
    else:
        for part in (value if isinstance(value, tuple) else (value,)):
            if isinstance(part, np.ndarray):
                digest.update(b"\0a" + np.ascontiguousarray(part, dtype="<f8").tobytes())
            elif isinstance(part, tuple):
                digest.update(b"\0t" + repr(part).encode())
            else:
                digest.update(b"\0v" + repr(part).encode())
    return digest.digest()


# --- evaluating many settings, in parallel processes where the machine has them -----------------

_JOB: dict = {}


def _evaluate(task: list[tuple[int, tuple]]) -> list[tuple[int, list[bytes], dict]]:
    """``[(setting, slots wanted)]`` -> ``[(setting, every slot's digest, {slot: value} of the wanted)]``."""
    explorer, settings, slots = _JOB["explorer"], _JOB["settings"], _JOB["slots"]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, wanted in task:
            values = _values(explorer, slots, settings[index])
            out.append((index, [_digest(v) for v in values], {s: values[s] for s in wanted}))
    return out


def _processes() -> int:
    """Worker processes for the grid: ``OPTLIB_SITE_PROCESSES``, else the CPUs this process may use
    (1: compute in this process). Parallel only where ``fork`` exists (the workers inherit the explorer)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    wanted = os.environ.get("OPTLIB_SITE_PROCESSES", "").strip()
    if wanted:
        return max(1, int(wanted))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class _Workers:
    """Evaluates settings (``{setting: wanted slots}`` -> ``{setting: (digests, {slot: value})}``), in worker
    processes forked once (so each keeps the runs it cached from one request to the next) when there are
    several CPUs, else in this process."""

    def __init__(self, explorer: Explorer, settings: _Settings, slots: list):
        self.job = dict(explorer=explorer, settings=settings, slots=slots)
        self.processes = _processes()
        self.pool = None

    def __enter__(self):
        _JOB.update(self.job)
        if self.processes > 1:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork").Pool(self.processes)
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        _JOB.clear()
        return False

    def __call__(self, requests: dict[int, tuple]) -> dict:
        order = sorted(requests)
        if self.pool is None or len(order) < 64:
            results = _evaluate([(i, requests[i]) for i in order])
        else:
            # Contiguous blocks (row-major: the last controls fastest) keep the runs a block shares in one process.
            blocks = np.array_split(np.array(order), self.processes * 24)
            tasks = [[(int(i), requests[int(i)]) for i in block] for block in blocks if len(block)]
            results = [item for part in self.pool.imap(_evaluate, tasks) for item in part]
        return {index: (digests, values) for index, digests, values in results}


def _dims(explorer: Explorer, settings: _Settings, slots: list, run: _Workers) -> list[tuple[int, ...]]:
    """For every slot, the controls it depends on: each control moved over all its values from the default
    setting, from every value of every menu (the others at their defaults) and from :data:`PROBES` random
    settings."""
    controls = settings.controls
    default = [c["default"] for c in controls]
    menus = [i for i, c in enumerate(controls) if c["kind"] != "range"]
    bases = [default]
    for i in menus:   # every value of every menu, the others at their defaults
        bases += [default[:i] + [value] + default[i + 1:] for value in range(settings.sizes[i]) if value != default[i]]
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(explorer.name.encode()).digest()[:4], "little"))
    bases += [[int(rng.integers(size)) for size in settings.sizes] for _ in range(PROBES)]
    lines = []   # (control, [setting index for each of its values])
    requests = {}
    for base in bases:
        for c, size in enumerate(settings.sizes):
            line = [settings.index(base[:c] + [v] + base[c + 1:]) for v in range(size)]
            lines.append((c, line))
            requests.update(dict.fromkeys(line, ()))
    digests = {i: d for i, (d, _) in run(requests).items()}
    dims = [set() for _ in slots]
    for c, line in lines:
        for s in range(len(slots)):
            if len({digests[i][s] for i in line}) > 1:
                dims[s].add(c)
    return [tuple(sorted(d)) for d in dims]


def _tables(explorer: Explorer, settings: _Settings, slots: list, dims: list, run: _Workers) -> list[dict]:
    """Each slot's value at every setting of the controls it depends on (the others at their defaults),
    checked against :data:`CHECKS` random settings of the whole grid."""
    default = [c["default"] for c in settings.controls]
    requests: dict[int, set] = {}
    projections = []
    for s, slot_dims in enumerate(dims):
        keys = list(itertools.product(*(range(settings.sizes[c]) for c in slot_dims)))
        projections.append(keys)
        for key in keys:
            indices = list(default)
            for c, v in zip(slot_dims, key, strict=True):
                indices[c] = v
            requests.setdefault(settings.index(indices), set()).add(s)
    rng = np.random.default_rng(len(settings))
    checks = [int(i) for i in rng.integers(len(settings), size=CHECKS)] if len(settings) > 1 else []
    for index in checks:
        requests.setdefault(index, set())
    results = run({i: tuple(sorted(w)) for i, w in requests.items()})
    tables = [dict() for _ in slots]
    digests = [dict() for _ in slots]
    for index, (digest, values) in results.items():
        indices = settings.indices(index)
        for s, value in values.items():
            key = tuple(indices[c] for c in dims[s])
            tables[s][key] = value
            digests[s][key] = digest[s]
    for index in checks:
        indices = settings.indices(index)
        for s in range(len(slots)):
            key = tuple(indices[c] for c in dims[s])
            if results[index][0][s] != digests[s][key]:
                raise RuntimeError(
                    f"{explorer.name}: slot {slots[s]} at {settings[index]} differs from its value with the "
                    f"controls it was found to depend on ({[settings.controls[c]['name'] for c in dims[s]]}): "
                    "it depends on another control only at settings the search did not reach")
    return [dict(dims=dims[s], values=[tables[s][key] for key in projections[s]]) for s in range(len(slots))]


# --- numbers as the page stores them ------------------------------------------------------------

def stored(values) -> np.ndarray:
    """``values`` as the page's chunks hold them: float64 with only :data:`MANTISSA_BITS` mantissa bits,
    rounded to nearest (relative error at most :data:`PRECISION`; NaN and infinities kept)."""
    values = np.ascontiguousarray(values, dtype="<f8")
    return _from_words(_words(values))


def _words(values: np.ndarray) -> np.ndarray:
    """The high 32-bit word of each float64 after rounding away all but :data:`MANTISSA_BITS` mantissa bits."""
    bits = np.ascontiguousarray(values, dtype="<f8").view("<u8")
    drop = 52 - MANTISSA_BITS
    finite = np.isfinite(values)
    rounded = np.where(finite, (bits + np.uint64(1 << (drop - 1))) >> np.uint64(drop) << np.uint64(drop), bits)
    words = (rounded >> np.uint64(32)).astype("<u4")
    words[np.isnan(values)] = 0x7FF80000
    return words


def _from_words(words: np.ndarray) -> np.ndarray:
    return (words.astype("<u8") << np.uint64(32)).view("<f8")


def _deflate64(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def _encode_words(arrays: list[np.ndarray]) -> str:
    """Chunk numbers: each array's words as differences (mod 2**32) along it, concatenated, byte-planed."""
    parts = []
    for array in arrays:
        words = _words(array)
        delta = words.copy()
        delta[1:] = words[1:] - words[:-1]
        parts.append(delta)
    words = np.concatenate(parts) if parts else np.zeros(0, "<u4")
    return _deflate64(np.frombuffer(words.tobytes(), np.uint8).reshape(-1, 4).T.tobytes())


def _encode_exact(arrays: list[np.ndarray]) -> str:
    """The default setting's numbers: float64 exactly, byte-planed."""
    values = np.concatenate([np.ascontiguousarray(a, "<f8") for a in arrays]) if arrays else np.zeros(0)
    return _deflate64(np.frombuffer(values.tobytes(), np.uint8).reshape(-1, 8).T.tobytes())


class _Pack:
    """The arrays and strings of a chunk (or of the default setting): each entry refers to them by index.
    An array ``0, 1, ..., n - 1`` is stored as its length only."""

    def __init__(self):
        self.arrays, self.kinds, self.strings = [], [], []
        self._array_index, self._string_index = {}, {}

    def array(self, values) -> int:
        if values is None:
            return -1
        values = np.ascontiguousarray(values, dtype="<f8")
        key = values.tobytes()
        if key not in self._array_index:
            self._array_index[key] = len(self.kinds)
            if len(values) and np.array_equal(values, np.arange(len(values))):
                self.kinds.append([1, len(values)])
            else:
                self.kinds.append([0, len(values)])
                self.arrays.append(values)
        return self._array_index[key]

    def string(self, text: str) -> int:
        if text not in self._string_index:
            self._string_index[text] = len(self.strings)
            self.strings.append(text)
        return self._string_index[text]

    def meta(self) -> dict:
        """``arrays``: each array's length, negative for ``0, 1, ..., n - 1``; ``strings``."""
        return {"arrays": [-n if kind == 1 else n for kind, n in self.kinds], "strings": self.strings}


# --- summaries: what a line shows, in words -----------------------------------------------------

def _summarised(panel) -> bool:
    """A panel of a quantity on a log scale against steps or epochs (a loss): its lines are summarised."""
    return panel.ylog and not panel.xlog and panel.xlabel.split(" ")[0] in ("step", "steps", "epoch", "epochs")


def phrase(panel, line, value) -> str:
    """A line of a loss panel in words: whether and when it reaches :data:`SUMMARY_TARGET`, where it ends,
    or where it diverged (its label says so). Empty for a band or a reference line (two points or fewer)."""
    if value is None or not _summarised(panel) or line.style == "band":
        return ""
    x, y, _, label, _ = value
    if len(y) <= 2:
        return ""
    finite = np.isfinite(y)
    if not finite.any():
        return f"{label}: nothing finite to draw"
    if "diverged" in label:
        return label
    when = panel.xlabel.split(" ")[0].rstrip("s")
    last = int(np.flatnonzero(finite)[-1])
    final = f"ends at {format_number(y[last])}"
    if last < len(y) - 1:   # the rest is not drawable (a loss of exactly f*, on a log axis)
        final = f"reaches the minimum exactly at {when} {format_value(float(x[last + 1]))}"
    below = np.flatnonzero(finite & (y <= SUMMARY_TARGET))
    if len(below):
        return (f"{label}: first below {format_number(SUMMARY_TARGET)} at {when} {format_value(float(x[below[0]]))}, "
                f"{final}")
    return f"{label}: {final}, never below {format_number(SUMMARY_TARGET)}"


# --- the page's data ----------------------------------------------------------------------------

def _contour_lines(surface, resolution: int = 70, levels: int = 15):
    """The surface's contour lines (the live figure's kind of levels, on a coarser grid), as one polyline
    with NaN breaks, and its minima."""
    import contourpy

    from ..plots import contour_grid

    x, y, z, values = contour_grid(surface, resolution, levels)
    generator = contourpy.contour_generator(x, y, z, line_type="Separate")
    if not np.ndim(values):
        values = np.linspace(np.nanmin(z), np.nanmax(z), int(values) + 2)[1:-1]
    xs, ys = [], []
    for level in values:
        for line in generator.lines(level):
            xs += [line[:, 0], [np.nan]]
            ys += [line[:, 1], [np.nan]]
    minima = np.asarray(surface.minima)
    return np.concatenate(xs), np.concatenate(ys), minima[:, 0], minima[:, 1]


def _entry(pack: _Pack, slot: tuple, value, contours: dict, panels) -> list:
    """One slot's value as references into ``pack``."""
    if slot[0] == "title":
        return [pack.string(value)]
    if slot[0] == "contour":
        name, window = value
        return [*(pack.array(a) for a in contours[name]), *window]
    if value is None:
        return [-1, -1, -1, -1, -1, -1]
    x, y, y2, label, colour = value
    return [pack.array(x), pack.array(y), pack.array(y2), pack.string(label), pack.string(colour),
            pack.string(phrase(panels[slot[2]], next(line for line in panels[slot[2]].lines if line.key == slot[1]),
                               value))]


def _chunking(sizes: list[int], kinds: list[str], size: float) -> list[int]:
    """Which of a slot group's dims (positions) lie inside one chunk: sliders only (a menu's other values are
    fetched when picked), each taken while a chunk of entries of ``size`` bytes stays within :data:`CHUNK_BYTES`."""
    inner, entries = [], 1
    for i, kind in enumerate(kinds):
        if kind == "range" and entries * sizes[i] * max(size, 1.0) <= CHUNK_BYTES:
            inner.append(i)
            entries *= sizes[i]
    return inner


def site_data(explorer: Explorer) -> dict:
    """Everything the page needs, computed by optlib: the controls, each slot's dependencies and default,
    and the chunks (see the module docstring)."""
    controls, settings = site_grid(explorer)
    slots = _slots(explorer)
    with _Workers(explorer, settings, slots) as run:
        dims = _dims(explorer, settings, slots, run)
        tables = _tables(explorer, settings, slots, dims, run)
    default = [c["default"] for c in controls]
    defaults = {}
    for s, table in enumerate(tables):
        key = tuple(default[c] for c in table["dims"])
        sizes = [settings.sizes[c] for c in table["dims"]]
        defaults[s] = int(np.ravel_multi_index(key, sizes)) if sizes else 0
    # The contour lines of every surface a contour slot shows, computed once per name.
    contours = {}
    for s, slot in enumerate(slots):
        if slot[0] != "contour":
            continue
        panel = explorer.panels[slot[1]]
        for key, (name, _) in zip(itertools.product(*(range(settings.sizes[c]) for c in dims[s])),
                                  tables[s]["values"], strict=True):
            if name not in contours:
                indices = list(default)
                for c, v in zip(dims[s], key, strict=True):
                    indices[c] = v
                contours[name] = _contour_lines(explorer.surface(panel, {**explorer.defaults,
                                                                         **settings[settings.index(indices)]})[1])
    # Slots with the same dependencies share chunks.
    groups, group_of = [], []
    for s in range(len(slots)):
        for g, group in enumerate(groups):
            if group["dims"] == tables[s]["dims"]:
                group["slots"].append(s)
                group_of.append(g)
                break
        else:
            group_of.append(len(groups))
            groups.append({"dims": tables[s]["dims"], "slots": [s]})
    chunks, seen = {}, {}
    for g, group in enumerate(groups):
        sizes = [settings.sizes[c] for c in group["dims"]]
        kinds = [controls[c]["kind"] for c in group["dims"]]
        count = max(1, int(np.prod(sizes, dtype=np.int64)))
        size = sum(_bytes(value) for s in group["slots"] for value in tables[s]["values"]) / count
        inner = _chunking(sizes, kinds, size)
        outer = [i for i in range(len(sizes)) if i not in inner]
        group.update(inner=inner, outer=outer, sizes=sizes, aliases={})
        for outer_key in itertools.product(*(range(sizes[i]) for i in outer)):
            pack, entries = _Pack(), {}
            for inner_key in itertools.product(*(range(sizes[i]) for i in inner)):
                key = [0] * len(sizes)
                for i, v in zip(outer, outer_key, strict=True):
                    key[i] = v
                for i, v in zip(inner, inner_key, strict=True):
                    key[i] = v
                flat = int(np.ravel_multi_index(key, sizes)) if sizes else 0
                for s in group["slots"]:
                    entries.setdefault(str(s), []).append(
                        _entry(pack, slots[s], tables[s]["values"][flat], contours, explorer.panels))
            chunk = int(np.ravel_multi_index(outer_key, [sizes[i] for i in outer])) if outer else 0
            content = [{**pack.meta(), "entries": entries}, _encode_words(pack.arrays)]
            # A chunk equal to an earlier one of its group (a control that matters only at other settings of
            # the others, such as a warm-up under a schedule without one) is stored once, under an alias.
            key = hashlib.blake2b(json.dumps(content).encode(), digest_size=16).digest()
            if (g, key) in seen:
                group["aliases"][str(chunk)] = seen[(g, key)]
            else:
                seen[(g, key)] = chunk
                chunks[f"{g}-{chunk}"] = content
    exact = _Pack()
    default_entries = [_entry(exact, slots[s], tables[s]["values"][defaults[s]], contours, explorer.panels)
                       for s in range(len(slots))]
    return dict(
        name=explorer.name,
        controls=[dict(name=c["name"], label=c["label"], kind=c["kind"], default=c["default"],
                       values=value_texts(c["values"])) for c in controls],
        panels=[dict(xlog=p.xlog, ylog=p.ylog, contour=p.contour is not None, x=list(p.xlim) if p.xlim else None,
                     y=list(p.ylim) if p.ylim else None, xlabel=p.xlabel, ylabel=p.ylabel, title=p.title)
                for p in explorer.panels],
        lines=[dict(key=line.key, panel=i, legend=line.legend, dash=line.dash, style=line.style)
               for i, panel in enumerate(explorer.panels) for line in panel.lines],
        slots=[dict(kind=slot[0], key=slot[1] if slot[0] == "line" else None,
                    panel=slot[1] if slot[0] == "contour" else (slot[2] if slot[0] == "line" else None),
                    group=group_of[s]) for s, slot in enumerate(slots)],
        groups=[dict(dims=list(g["dims"]), inner=g["inner"], outer=g["outer"], sizes=g["sizes"],
                     slots=g["slots"], aliases=g["aliases"]) for g in groups],
        default=dict(setting=default, entries=default_entries, **exact.meta(), data=_encode_exact(exact.arrays)),
        n_settings=len(settings), mantissa_bits=MANTISSA_BITS,
        _chunks=chunks, _tables=tables, _slots=slots, _defaults=defaults, _contours=contours,
    )


def _bytes(value) -> float:
    """A slot value's size in a chunk, roughly: 1.4 bytes a number, a byte a character."""
    if isinstance(value, str):
        return len(value)
    if value is None:
        return 4
    if isinstance(value[0], str):   # contours: (surface name, window)
        return 100
    return 1.4 * sum(len(a) for a in value[:3] if a is not None) + len(value[3]) + 60


# --- the page -----------------------------------------------------------------------------------

def rounded_range(values, log: bool) -> tuple[float, float] | None:
    """The range of ``values`` rounded out to ticks: decades on a log axis (positive values only), else
    multiples of a 1-2-5 step (about five ticks). ``optlib-explorer.js`` applies the same rule."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if not len(values):
        return None
    low, high = float(values.min()), float(values.max())
    if log:
        low, high = np.floor(np.log10(low)), np.ceil(np.log10(high))
        if high <= low:
            high = low + 1
        return 10.0 ** low, 10.0 ** high
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    raw = (high - low) / 5
    magnitude = 10.0 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    return float(np.floor(low / step + 1e-9) * step), float(np.ceil(high / step - 1e-9) * step)


def _bokeh_panels(explorer: Explorer, data: dict, uid: str) -> list:
    """One Bokeh figure per panel, its data sources holding the default setting; models named ``uid:key``.
    Lines are at the ``overlay`` level (a move repaints them, not the axes and contours)."""
    from bokeh.models import BoxAnnotation, ColumnDataSource, HoverTool, Range1d, Span
    from bokeh.plotting import figure

    tables, slots, defaults, contours = data["_tables"], data["_slots"], data["_defaults"], data["_contours"]
    value = {slot: tables[s]["values"][defaults[s]] for s, slot in enumerate(slots)}
    dashes = {"solid": "solid", "dashed": "dashed", "dotted": "dotted"}
    figures = []
    for index, panel in enumerate(explorer.panels):
        kwargs = dict(sizing_mode="stretch_width", height=280, min_width=220, toolbar_location=None, tools="",
                      x_axis_type="log" if panel.xlog else "linear", y_axis_type="log" if panel.ylog else "linear",
                      x_axis_label=panel.xlabel, y_axis_label=panel.ylabel, title=panel.title)
        if panel.contour is not None:
            name, (x0, x1, y0, y1) = value[("contour", index)]
            xr, yr = (x0, x1), (y0, y1)
        else:
            shown = [value[("line", line.key, index)] for line in panel.lines]
            shown = [v for v in shown if v is not None]
            auto_x = rounded_range(np.concatenate([v[0] for v in shown] or [[0.0]]), panel.xlog) or (0, 1)
            ys = [v[1] for v in shown] + [v[2] for v in shown if v[2] is not None]
            auto_y = rounded_range(np.concatenate(ys or [[0.0]]), panel.ylog) or (0, 1)
            xr = tuple(panel.xlim) if panel.xlim else auto_x
            yr = tuple(panel.ylim) if panel.ylim else auto_y
        kwargs.update(x_range=Range1d(*xr, name=f"{uid}:xrange{index}"),
                      y_range=Range1d(*yr, name=f"{uid}:yrange{index}"))
        fig = figure(**kwargs)
        fig.title.text_font_size = "11px"
        fig.axis.axis_label_text_font_style = "normal"
        fig.xgrid.grid_line_alpha = fig.ygrid.grid_line_alpha = 0.3
        if panel.contour is not None:
            cx, cy, mx, my = contours[name]
            fig.line("x", "y", source=ColumnDataSource(dict(x=cx, y=cy), name=f"{uid}:contour{index}"),
                     color="#999999", line_width=0.8)
            fig.scatter("x", "y", source=ColumnDataSource(dict(x=mx, y=my), name=f"{uid}:minima{index}"),
                        marker="star", size=12, color="#444444")
            fig.xgrid.visible = fig.ygrid.visible = False
        for low, high, colour in panel.hspans:
            fig.add_layout(BoxAnnotation(bottom=low, top=high, fill_color=colour, fill_alpha=0.2, line_alpha=0))
        for low, high, colour in panel.vspans:
            fig.add_layout(BoxAnnotation(left=low, right=high, fill_color=colour, fill_alpha=0.15, line_alpha=0))
        for y, colour in panel.hlines:
            fig.add_layout(Span(location=y, dimension="width", line_color=colour, line_width=1))
        hovered = []
        for line in panel.lines:
            shown = value[("line", line.key, index)]
            x, y, y2, label, colour = shown if shown is not None else (np.zeros(0), np.zeros(0), None, "", line.color)
            name = f"{uid}:{line.key}"
            columns = dict(x=x, y=y, step=np.arange(len(x)), label=[label] * len(x))
            if line.style == "band":
                columns["y2"] = y2 if y2 is not None else np.zeros(len(x))
            source = ColumnDataSource(columns, name=name)
            if line.style == "band":
                fig.varea("x", "y", "y2", source=source, fill_color=colour, fill_alpha=0.2, name=name + ":band",
                          level="overlay")
                continue
            if "line" in line.style:
                hovered.append(fig.line("x", "y", source=source, line_color=colour, line_width=line.width,
                                        line_alpha=line.alpha, line_dash=dashes[line.dash], name=name + ":line",
                                        level="overlay"))
            if "markers" in line.style:
                hovered.append(fig.scatter("x", "y", source=source, size=line.marker_size * 1.6, color=colour,
                                           alpha=line.alpha, name=name + ":markers", level="overlay"))
        if hovered:
            fig.add_tools(HoverTool(renderers=hovered, tooltips=[("", "@label"), ("step", "@step"),
                                                                 ("x", "@x{%.3g}"), ("y", "@y{%.3g}")],
                                    formatters={"@x": "printf", "@y": "printf"}, line_policy="nearest"))
        figures.append(fig)
    return figures


def _print_png(explorer: Explorer) -> str:
    """The default setting's matplotlib figure as a base64 PNG (256-colour palette)."""
    from PIL import Image  # matplotlib's own dependency

    fig = explorer.figure()
    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=80)
    with Image.open(io.BytesIO(raw.getvalue())) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _control_html(uid: str, index: int, control: dict) -> str:
    label, values, default = html.escape(control["label"]), control["values"], control["default"]
    ident = f"{uid}-c{index}"
    if control["kind"] == "range":
        widget = (f'<input type="range" id="{ident}" min="0" max="{len(values) - 1}" step="1" value="{default}" '
                  f'aria-valuetext="{html.escape(values[default])}" data-control="{index}">'
                  f'<output for="{ident}">{html.escape(values[default])}</output>')
    elif control["kind"] == "checkbox":
        checked = " checked" if values[default] == "yes" else ""
        widget = f'<input type="checkbox" id="{ident}" data-control="{index}"{checked}>'
    else:
        options = "".join(f'<option value="{i}"{" selected" if i == default else ""}>{html.escape(v)}</option>'
                          for i, v in enumerate(values))
        widget = f'<select id="{ident}" data-control="{index}">{options}</select>'
    return f'<label class="optlib-explorer-control" for="{ident}"><span>{label}</span> {widget}</label>'


def summary(explorer: Explorer, data) -> str:
    """The ``aria-live`` summary of a setting's data (``explorer.data(...)``): its title, then the phrase of
    each line of a loss panel (:func:`phrase`). The page joins the same strings, which the build made."""
    parts = [data["title"]] if data.get("title") else []
    for panel in explorer.panels:
        for line in panel.lines:
            series = data.get(line.key)
            value = None if series is None else (series.x, series.y, series.y2, series.label, series.color)
            text = phrase(panel, line, value)
            if text:
                parts.append(text)
    return ". ".join(parts) + ("." if parts else "")


def site_html(explorer: Explorer) -> str:
    """The explorer's website form (see the module docstring)."""
    from bokeh.embed import components

    from .reference import torch_check

    data = site_data(explorer)
    default_lines = {slot[1]: data["_tables"][s]["values"][data["_defaults"][s]]
                     for s, slot in enumerate(data["_slots"]) if slot[0] == "line"}
    check = torch_check(explorer, default_lines)
    payload = {k: v for k, v in data.items() if not k.startswith("_")}
    payload["checked"] = check
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    chunks = json.dumps(data["_chunks"], separators=(",", ":"), allow_nan=False)
    uid = f"optlib-{explorer.name}-{hashlib.sha1((text + chunks).encode()).hexdigest()[:10]}"
    figures = _bokeh_panels(explorer, data, uid)
    script, divs = components(figures)
    panels = "".join(f'<div class="optlib-explorer-panel" style="flex-grow: {panel.width:g}">{div}</div>'
                     for panel, div in zip(explorer.panels, divs, strict=True))
    said = html.escape(summary(explorer, explorer.data()))
    controls = "".join(_control_html(uid, i, c) for i, c in enumerate(payload["controls"]))
    name = explorer.name.replace("_", " ")
    checked = f'<p class="optlib-explorer-checked">{html.escape(check)}</p>\n' if check else ""
    return (
        f'<div class="optlib-explorer" id="{uid}" data-explorer="{explorer.name}">\n'
        f'<div class="optlib-explorer-live" role="group" aria-label="{html.escape(name)}">\n'
        f'<div class="optlib-explorer-controls">{controls}</div>\n'
        f'<p class="optlib-explorer-summary" aria-live="polite">{said}</p>\n'
        f'<ul class="optlib-explorer-legend"></ul>\n'
        f'<div class="optlib-explorer-figure">{panels}</div>\n'
        f'<details class="optlib-explorer-data"><summary>Data of this setting (key steps)</summary>'
        f'<div class="optlib-explorer-tables"></div></details>\n'
        f'</div>\n'
        f'{checked}'
        f'<noscript><p>This figure is interactive with JavaScript; below, its default setting: {said}</p></noscript>\n'
        f'<img class="optlib-explorer-print" alt="{html.escape(name)} at its default setting: {said}" '
        f'src="data:image/png;base64,{_print_png(explorer)}">\n'
        f'<script type="application/json" class="optlib-explorer-data">{text}</script>\n'
        f'<script type="application/json" class="optlib-explorer-chunks" data-uid="{uid}">{chunks}</script>\n'
        f'{script}\n</div>\n'
    )
