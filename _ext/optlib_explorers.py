"""Serve the explorers' JavaScript, CSS and data from the site's own _static, for every page that needs them.

* BokehJS comes from the installed ``bokeh`` wheel (the version the build's Python uses, so the page and
  the document model always match) and the explorer glue (``optlib-explorer.js`` / ``.css``) from
  ``optlib/explorers/static``. They are copied to ``_static`` once per build and linked (deferred) only from
  pages that hold an explorer, so a browser fetches them once and caches them across pages; nothing comes
  from a CDN.
* Each explorer's data chunks, which the executed notebook holds inline (``script.optlib-explorer-chunks``,
  see ``optlib/explorers/site.py``), are moved out of the page into ``_static/optlib-explorers/<id>/<chunk>.js``
  (one call ``optlibExplorerChunk(id, chunk, meta, data)`` each): the page loads a chunk with a ``<script>``
  element when the reader moves there, which works over HTTP and from ``file://`` alike. The page keeps an
  empty element whose ``data-src`` says where the chunks are. Chunk folders that no page of the build refers
  to any more are removed when the build finishes.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import bokeh
from bokeh.util.paths import bokehjs_path

STATIC = Path(__file__).resolve().parent.parent / "optlib" / "explorers" / "static"
BOKEH_FILE = f"bokeh-{bokeh.__version__}.min.js"
CHUNKS = "optlib-explorers"   # the folder of _static that holds every explorer's chunks

INLINE_CHUNKS = re.compile(
    r'<script type="application/json" class="optlib-explorer-chunks" data-uid="([\w-]+)">(.*?)</script>', re.DOTALL)


def _bokeh_js() -> Path:
    """BokehJS's core bundle in the installed wheel (plots only: the controls are plain HTML)."""
    return Path(bokehjs_path()) / "js" / "bokeh.min.js"


def write_chunks(body: str, static: Path, relative: str) -> str:
    """Move every explorer's inline chunks in ``body`` into files under ``static / CHUNKS``; return the body
    with, in their place, an empty element that points at ``relative`` (the URL of that folder from the page)."""

    def move(match: re.Match) -> str:
        uid, chunks = match.group(1), json.loads(match.group(2))
        folder = static / CHUNKS / uid
        folder.mkdir(parents=True, exist_ok=True)
        for name, (meta, data) in chunks.items():
            arguments = ",".join(json.dumps(value, separators=(",", ":")) for value in (uid, name, meta, data))
            (folder / f"{name}.js").write_text(f"optlibExplorerChunk({arguments});\n")
        return (f'<script type="application/json" class="optlib-explorer-chunks" data-uid="{uid}" '
                f'data-src="{relative}{CHUNKS}/{uid}/"></script>')

    return INLINE_CHUNKS.sub(move, body)


def _link(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "optlib-explorer" not in body:
        return
    app.add_js_file(BOKEH_FILE, loading_method="defer")
    app.add_js_file("optlib-explorer.js", loading_method="defer")
    app.add_css_file("optlib-explorer.css")
    if "optlib-explorer-chunks" in body:
        static_url = context["pathto"]("_static/", 1)
        context["body"] = write_chunks(body, Path(app.outdir) / "_static", static_url)


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_bokeh_js(), static / BOKEH_FILE)
    for name in ("optlib-explorer.js", "optlib-explorer.css"):
        shutil.copyfile(STATIC / name, static / name)
    # Chunk folders of explorers no page shows any more (an earlier build's data).
    folder = static / CHUNKS
    if folder.is_dir():
        used = set()
        for page in Path(app.outdir).rglob("*.html"):
            used.update(re.findall(rf"{CHUNKS}/([\w-]+)/", page.read_text(errors="replace")))
        for old in folder.iterdir():
            if old.name not in used:
                shutil.rmtree(old, ignore_errors=True)


def setup(app):
    app.connect("html-page-context", _link)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
