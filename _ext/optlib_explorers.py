"""Serve the explorers' JavaScript and CSS from the site's own _static, once, for every page that needs them.

BokehJS comes from the installed ``bokeh`` wheel (the version the build's Python uses, so the page and
the document model always match) and the explorer glue (``optlib-explorer.js`` / ``.css``) from
``optlib/explorers/static``. They are copied to ``_static`` once per build and linked (deferred) only from
pages that hold an explorer, so a browser fetches them once and caches them across pages; nothing is
inlined per page and nothing comes from a CDN.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import bokeh
from bokeh.util.paths import bokehjs_path

STATIC = Path(__file__).resolve().parent.parent / "optlib" / "explorers" / "static"
BOKEH_FILE = f"bokeh-{bokeh.__version__}.min.js"


def _bokeh_js() -> Path:
    """BokehJS's core bundle in the installed wheel (plots only: the controls are plain HTML)."""
    return Path(bokehjs_path()) / "js" / "bokeh.min.js"


def _link(app, pagename, templatename, context, doctree):
    if "optlib-explorer" not in context.get("body", ""):
        return
    app.add_js_file(BOKEH_FILE, loading_method="defer")
    app.add_js_file("optlib-explorer.js", loading_method="defer")
    app.add_css_file("optlib-explorer.css")


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_bokeh_js(), static / BOKEH_FILE)
    for name in ("optlib-explorer.js", "optlib-explorer.css"):
        shutil.copyfile(STATIC / name, static / name)


def setup(app):
    app.connect("html-page-context", _link)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
