"""The site form of an explorer: every setting of a grid computed at build time, drawn by Bokeh.

:func:`site_html` runs the explorer's ``compute`` at every setting of :func:`site_grid` (the product of
each control's ``site_values``, with linked sliders such as a start point offered as one choice of
points), keeps each distinct array once (a run that does not depend on a control is stored once, not
once per value of that control), and writes:

* the controls as plain HTML (``<input type="range">`` over the grid's indices and ``<select>``), each
  inside its ``<label>``, its value shown in an ``<output>``: Tab reaches them, arrows change them;
* a Bokeh figure (vector-sharp: Bokeh scales its canvas to the device pixel ratio) whose data sources
  hold the default setting, with hover tools that show the step and the values;
* the precomputed data as JSON (float64 arrays, base64), which ``optlib-explorer.js`` (served from the
  site's ``_static`` by ``_ext/optlib_explorers.py``, with BokehJS) copies into the data sources when a
  control moves: the page selects data, it computes nothing;
* a PNG of the default setting (the live form's matplotlib figure) for print and for readers without
  JavaScript.

The HTML contract: the root has class ``optlib-explorer``; the interactive part ``optlib-explorer-live``;
the PNG is ``img.optlib-explorer-print``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import zlib
from typing import TYPE_CHECKING

import numpy as np

from .parts import Choice

if TYPE_CHECKING:   # (annotations only: the explorer imports this module, which reads it)
    from .base import Explorer

__all__ = ["site_grid", "site_data", "site_html", "format_value"]

#: The largest page-specific payload one explorer may add (bytes of HTML + data).
MAX_EXPLORER_BYTES = 1_200_000


def format_value(value) -> str:
    """A control value as the page shows it: ``0.1``, ``0.001``, ``(−3, 2.5)``."""
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}".replace("-", "−")
    return str(value)


def site_grid(explorer: Explorer) -> tuple[list[dict], list[dict]]:
    """``(controls, settings)``: the site's controls (name, label, kind, values, default index) and
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
        kind = "select" if isinstance(control, Choice) else "range"
        controls.append(dict(name=control.name, names=(control.name,), label=control.text, kind=kind,
                             values=values, default=values.index(control.default)))
    settings = []
    for combination in itertools.product(*(c["values"] for c in controls)):
        params = {}
        for control, value in zip(controls, combination, strict=True):
            if len(control["names"]) > 1:
                params.update(zip(control["names"], value, strict=True))
            else:
                params[control["name"]] = value
        settings.append(params)
    return controls, settings


class _Pool:
    """Distinct float64 arrays, each stored once; ``add`` returns an array's index."""

    def __init__(self):
        self.index: dict[bytes, int] = {}
        self.arrays: list[np.ndarray] = []

    def add(self, array) -> int:
        array = np.ascontiguousarray(array, dtype="<f8")
        key = array.tobytes()
        if key not in self.index:
            self.index[key] = len(self.arrays)
            self.arrays.append(array)
        return self.index[key]


class _Strings(_Pool):
    def add(self, text) -> int:
        if text not in self.index:
            self.index[text] = len(self.arrays)
            self.arrays.append(text)
        return self.index[text]


def _contour_lines(surface, resolution: int = 70, levels: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """The surface's contour lines (the live figure's kind of levels, on a coarser grid), as one polyline
    with NaN breaks."""
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


#: Mantissa bits dropped from each stored float64 (52 - 20 = 32 kept: relative error below 2.4e-10).
DROPPED_BITS = 20


def _stored(values: np.ndarray) -> np.ndarray:
    """``values`` as the page stores them: float64 with the last :data:`DROPPED_BITS` mantissa bits zeroed
    (relative error below ``2**-32``, under the tests' 1e-9), which the compressor then drops."""
    bits = np.ascontiguousarray(values, dtype="<f8").view("<u8")
    mask = np.uint64((2**64 - 1) ^ (2**DROPPED_BITS - 1))
    return (bits & mask).view("<f8")


def _encode(values: np.ndarray) -> str:
    """base64 of the zlib-compressed, byte-shuffled float64 array (byte 0 of every value, then byte 1, ...):
    the page decodes it with the browser's ``DecompressionStream("deflate")``."""
    shuffled = np.frombuffer(values.astype("<f8").tobytes(), np.uint8).reshape(-1, 8).T.tobytes()
    return base64.b64encode(zlib.compress(shuffled, 9)).decode("ascii")


def _slot_tables(rows: list[list], shape: list[int], singles: int, lines: int) -> list[dict]:
    """Each slot of a setting's row (the title, each contour panel, each line's five entries) as a table
    over only the controls it depends on: a control along which the slot never changes is dropped
    (a reference run that no control of the other optimizer moves is listed once, not once per value).

    Returns ``[{"dims": [control index, ...], "strides": [...], "values": [...]}]``.
    """
    table = np.asarray(rows, dtype=np.int64).reshape(*shape, -1)
    spans = [(i, i + 1) for i in range(singles)] + [(singles + 5 * j, singles + 5 * j + 5) for j in range(lines)]
    slots = []
    for start, stop in spans:
        part = table[..., start:stop]
        dims = []
        for axis in range(len(shape)):
            first = part.take([0], axis=axis)
            if np.all(part == first):
                part = first
            else:
                dims.append(axis)
        part = part.reshape([shape[d] for d in dims] + [stop - start])
        strides = np.cumprod([1] + [shape[d] for d in dims][::-1])[::-1][1:].astype(int).tolist()
        values = part.reshape(-1, stop - start)
        slots.append(dict(dims=dims, strides=strides,
                          values=values[:, 0].tolist() if stop - start == 1 else values.tolist()))
    return slots


def site_data(explorer: Explorer) -> dict:
    """Everything the page needs, computed by optlib: the controls, the distinct arrays, and per setting
    which arrays each line slot and contour panel shows (see the module docstring)."""
    controls, settings = site_grid(explorer)
    pool, strings = _Pool(), _Strings()
    keys = [line.key for panel in explorer.panels for line in panel.lines]
    contour_panels = [i for i, panel in enumerate(explorer.panels) if panel.contour is not None]
    contour_table, contour_index = [], {}
    rows = []
    for params in settings:
        full = {**explorer.defaults, **params}
        data = explorer.data(**full)
        row = [strings.add(data.get("title", ""))]
        for i in contour_panels:
            panel = explorer.panels[i]
            name, surface = explorer.surface(panel, full)
            (x0, x1), (y0, y1) = explorer.window(panel, full, data)
            if name not in contour_index:
                cx, cy, mx, my = _contour_lines(surface)
                contour_index[name] = [pool.add(cx), pool.add(cy), pool.add(mx), pool.add(my)]
            contour_table.append([*contour_index[name], float(x0), float(x1), float(y0), float(y1)])
            row.append(len(contour_table) - 1)
        for panel in explorer.panels:
            for line in panel.lines:
                series = data.get(line.key)
                if series is None:
                    row += [-1, -1, -1, -1, -1]
                    continue
                row += [pool.add(series.x), pool.add(series.y),
                        -1 if series.y2 is None else pool.add(series.y2), strings.add(series.label),
                        strings.add(series.color or line.color)]
        rows.append(row)
    # Identical contour entries (the same surface and window) are stored once.
    unique, remap = [], {}
    for entry in contour_table:
        remap.setdefault(json.dumps(entry), len(unique))
        if remap[json.dumps(entry)] == len(unique):
            unique.append(entry)
    position = 1
    for _ in contour_panels:
        for row in rows:
            row[position] = remap[json.dumps(contour_table[row[position]])]
        position += 1
    offsets = np.cumsum([0] + [len(a) for a in pool.arrays]).tolist()
    buffer = _stored(np.concatenate(pool.arrays) if pool.arrays else np.zeros(0))
    strides = list(np.cumprod([1] + [len(c["values"]) for c in controls[::-1]])[::-1][1:].astype(int).tolist())
    return dict(
        name=explorer.name,
        controls=[dict(name=c["name"], label=c["label"], kind=c["kind"], default=c["default"],
                       values=[format_value(v) for v in c["values"]]) for c in controls],
        strides=strides, keys=keys,
        lines=[dict(key=line.key, legend=line.legend, dash=line.dash, style=line.style)
               for panel in explorer.panels for line in panel.lines], contour_panels=contour_panels, contours=unique,
        strings=strings.arrays, slots=_slot_tables(rows, [len(c["values"]) for c in controls],
                                                    1 + len(contour_panels), len(keys)),
        offsets=offsets, n_settings=len(rows),
        pool=_encode(buffer),
        default=int(sum(c["default"] * s for c, s in zip(controls, strides, strict=True))),
        _buffer=buffer, _rows=rows,
    )


def _bokeh_layout(explorer: Explorer, data: dict, uid: str):
    """The Bokeh figures, their data sources holding the default setting; models named ``uid:key``."""
    from bokeh.layouts import row
    from bokeh.models import BoxAnnotation, ColumnDataSource, DataRange1d, HoverTool, Range1d, Span
    from bokeh.plotting import figure

    buffer, offsets, strings = data["_buffer"], data["offsets"], data["strings"]
    setting = data["_rows"][data["default"]]

    def array(i):
        return buffer[offsets[i]:offsets[i + 1]] if i >= 0 else np.zeros(0)

    dashes = {"solid": "solid", "dashed": "dashed", "dotted": "dotted"}
    figures = []
    position = 1 + len(data["contour_panels"])
    height = 300
    total = sum(p.width for p in explorer.panels)
    for index, panel in enumerate(explorer.panels):
        width = int(round(880 * panel.width / total))
        kwargs = dict(width=width, height=height, toolbar_location=None, tools="",
                      x_axis_type="log" if panel.xlog else "linear", y_axis_type="log" if panel.ylog else "linear",
                      x_axis_label=panel.xlabel, y_axis_label=panel.ylabel, title=panel.title)
        if panel.contour is not None:
            entry = data["contours"][setting[1 + data["contour_panels"].index(index)]]
            kwargs.update(x_range=Range1d(entry[4], entry[5], name=f"{uid}:xrange{index}"),
                          y_range=Range1d(entry[6], entry[7], name=f"{uid}:yrange{index}"), match_aspect=True)
        else:
            kwargs["x_range"] = (Range1d(*panel.xlim, name=f"{uid}:xrange{index}") if panel.xlim
                                 else DataRange1d(name=f"{uid}:xrange{index}", only_visible=True))
            kwargs["y_range"] = (Range1d(*panel.ylim, name=f"{uid}:yrange{index}") if panel.ylim
                                 else DataRange1d(name=f"{uid}:yrange{index}", only_visible=True))
        fig = figure(**kwargs)
        fig.title.text_font_size = "11px"
        fig.axis.axis_label_text_font_style = "normal"
        fig.xgrid.grid_line_alpha = fig.ygrid.grid_line_alpha = 0.3
        if panel.contour is not None:
            cx, cy, mx, my = (array(i) for i in entry[:4])
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
            xi, yi, y2i, label, colour = setting[position:position + 5]
            position += 5
            name = f"{uid}:{line.key}"
            x, y = array(xi), array(yi)
            columns = dict(x=x, y=y, step=np.arange(len(x)), label=[strings[label] if label >= 0 else ""] * len(x))
            if line.style == "band":
                columns["y2"] = array(y2i)
            source = ColumnDataSource(columns, name=name)
            colour = strings[colour] if colour >= 0 else line.color
            if line.style == "band":
                fig.varea("x", "y", "y2", source=source, fill_color=colour, fill_alpha=0.2, name=name + ":band")
                continue
            if "line" in line.style:
                hovered.append(fig.line("x", "y", source=source, line_color=colour, line_width=line.width,
                                        line_alpha=line.alpha, line_dash=dashes[line.dash], name=name + ":line"))
            if "markers" in line.style:
                hovered.append(fig.scatter("x", "y", source=source, size=line.marker_size * 1.6,
                                           color=colour, alpha=line.alpha, name=name + ":markers"))
        if hovered:
            fig.add_tools(HoverTool(renderers=hovered, tooltips=[("", "@label"), ("step", "@step"),
                                                                 ("x", "@x{0.[0000]}"), ("y", "@y{0.[000000]}")],
                                    line_policy="nearest"))
        figures.append(fig)
    return row(figures, sizing_mode="scale_width")


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
    else:
        options = "".join(f'<option value="{i}"{" selected" if i == default else ""}>{html.escape(v)}</option>'
                          for i, v in enumerate(values))
        widget = f'<select id="{ident}" data-control="{index}">{options}</select>'
    return f'<label class="optlib-explorer-control" for="{ident}"><span>{label}</span> {widget}</label>'


def site_html(explorer: Explorer) -> str:
    """The explorer's website form (see the module docstring)."""
    from bokeh.embed import components

    data = site_data(explorer)
    payload = {k: v for k, v in data.items() if not k.startswith("_")}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    uid = f"optlib-{explorer.name}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    script, div = components(_bokeh_layout(explorer, data, uid))
    default = data["_rows"][data["default"]]
    title = html.escape(data["strings"][default[0]])
    controls = "".join(_control_html(uid, i, c) for i, c in enumerate(data["controls"]))
    alt = html.escape(f"{explorer.name.replace('_', ' ')} at its default setting: {data['strings'][default[0]]}")
    out = (
        f'<div class="optlib-explorer" id="{uid}" data-explorer="{explorer.name}">\n'
        f'<div class="optlib-explorer-live" role="group" aria-label="{html.escape(explorer.name.replace("_", " "))}">\n'
        f'<div class="optlib-explorer-controls">{controls}</div>\n'
        f'<p class="optlib-explorer-title" aria-live="polite">{title}</p>\n'
        f'<ul class="optlib-explorer-legend"></ul>\n'
        f'<div class="optlib-explorer-figure">{div}</div>\n'
        f'</div>\n'
        f'<noscript><p>This figure is interactive with JavaScript; below, its default setting.</p></noscript>\n'
        f'<img class="optlib-explorer-print" alt="{alt}" src="data:image/png;base64,{_print_png(explorer)}">\n'
        f'<script type="application/json" class="optlib-explorer-data">{text}</script>\n'
        f'{script}\n</div>\n'
    )
    if len(out) > MAX_EXPLORER_BYTES:
        raise ValueError(f"{explorer.name}: the site form is {len(out):,} bytes, over the budget of "
                         f"{MAX_EXPLORER_BYTES:,}: make its controls' grids coarser")
    return out

