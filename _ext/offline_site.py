"""The book's own Sphinx hook: a website that works with no kernel and no network, built from the
current optlib.

* Explorers: the build always executes notebooks with ``OPTLIB_EXPLORERS=static``, so every explorer
  is rendered in its kernel-free site form (Bokeh, see ``optlib.explorers.site``), never as a live ipywidgets
  form, which would be dead on a static page and can stall headless execution (jupyter/nbclient#312).
  The Makefile sets the same variable; this makes a plain ``jupyter-book build .`` safe too.
* Fresh outputs: jupyter-cache keys an executed notebook by the notebook's code alone, so a change in
  optlib (an optimizer, a figure, an explorer's grid) would leave stale outputs on the site. The execution
  cache therefore lives in ``_build/.execution_cache/<hash of optlib's source>``: when optlib changes,
  the new cache is empty, the changed setting makes Sphinx read every page again, and every notebook
  is executed again. (No cache is deleted under a running build; caches unused for a day are.)
* MathJax comes from the ``sphinx-mathjax-offline`` package (listed in ``_config.yml``), which copies
  its MathJax into ``_build/html/_static/mathjax``; nothing is vendored in ``_static/``.
* No thebe: Jupyter Book always loads sphinx-thebe, whose scripts would fetch thebe from a CDN on
  demand, and under Sphinx 7 it declares ``THEBE_JS_URL`` twice (an error in every page's console).
  The book has no live-code button (Binder and Colab are its launch buttons), so its scripts and
  stylesheet are left out of the pages; any other script registered twice is written once.
* The bibliography: docutils writes it as ``<div role="list">`` of ``<div role="doc-biblioentry">``;
  ARIA 1.3 deprecates ``doc-biblioentry``, so axe-core sees a list without items (a critical
  "aria-required-children" violation): each entry becomes ``role="listitem"``.
* The single-page build (``make pdf`` prints it): Sphinx looks up node handlers by builder name, and
  falls back to the format ("html") only when no extension registered handlers for "singlehtml".
  sphinx-exercise does, so every other extension's HTML handlers (e.g. sphinx-jupyterbook-latex's
  ``HiddenCellNode`` for ``{tableofcontents}``) would be missing there; they are copied over.
* A lighter first view (issue 21's budget: 1.5 MB gzipped, cold cache, shared files included). The theme
  loads Font Awesome twice: as a 1.5 MB script that swaps every icon for an inline SVG (543 KB gzipped,
  the largest file of a page) and as the web fonts its stylesheet declares. The pages keep the fonts and
  drop the script; the fonts are cut down to the glyphs the site's pages and scripts name (fontTools'
  subsetter, about 300 KB less); and the article's images load when the reader nears them
  (``loading="lazy"``), as browsers do for the explorers' chunks. The website build only: the single page
  that ``make pdf`` prints loads every image.
* The PDF: ``make pdf`` prints the whole book to ``_build/pdf/book.pdf`` (``tools/book_pdf.py``); the
  website build copies it to its root as ``book.pdf``, which the front page links.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def _optlib_digest(srcdir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((srcdir / "optlib").rglob("*.py")):
        digest.update(path.relative_to(srcdir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_per_optlib_version(app, config):
    if config.nb_execution_cache_path:  # a cache chosen in _config.yml: leave it alone
        return
    root = Path(app.outdir).parent / ".execution_cache"
    cache = root / _optlib_digest(Path(app.srcdir))[:16]
    config.nb_execution_cache_path = str(cache)
    if root.is_dir():
        for old in root.iterdir():
            used = old / "global.db" if (old / "global.db").exists() else old
            if old != cache and time.time() - used.stat().st_mtime > 86400:
                shutil.rmtree(old, ignore_errors=True)


def _asset_name(asset) -> str:
    return getattr(asset, "filename", None) or str(asset) or ""


def _page_assets(app, pagename, templatename, context, doctree):
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        body = getattr(script, "attributes", {}).get("body", "")
        name = _asset_name(script)
        if "THEBE_JS_URL" in body or name.split("?")[0].endswith("sphinx-thebe.js"):
            continue
        if (name, body) not in seen:
            seen.add((name, body))
            scripts.append(script)
    context["script_files"] = scripts
    context["css_files"] = [css for css in context.get("css_files", [])
                            if not _asset_name(css).split("?")[0].endswith("sphinx-thebe.css")]
    if 'role="doc-biblioentry"' in context.get("body", ""):
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def _html_handlers_for_singlehtml(app):
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visit_depart in handlers.get("html", {}).items():
        single.setdefault(node, visit_depart)


def _copy_the_pdf(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    pdf = Path(app.outdir).parent / "pdf" / "book.pdf"
    if pdf.exists():
        shutil.copy2(pdf, Path(app.outdir) / pdf.name)
    else:
        logger.info("offline_site: no %s yet; `make pdf` writes it (the front page links book.pdf)", pdf)


_FONTAWESOME_SCRIPT = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\n?')
_EAGER_IMAGE = re.compile(r"<img\b(?![^>]*\bloading=)")
_ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
_ICON_RULE = re.compile(r'([^{}]+)\{content:"\\([0-9a-f]{2,5})"\}')


def _icon_codepoints(css: str, used: set[str]) -> set[int]:
    """The code points of the icons named in ``used`` (``fa-bars``), from the stylesheet's
    ``.fa-bars:before{content:"\\f0c9"}`` rules (aliases share a rule)."""
    points = set()
    for selectors, code in _ICON_RULE.findall(css):
        names = {selector.strip().removeprefix(".").split(":")[0] for selector in selectors.split(",")}
        if names & used:
            points.add(int(code, 16))
    return points


def _lighter_first_view(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    from fontTools import subset
    from fontTools.ttLib import TTFont

    out = Path(app.outdir)
    used = set()
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = _EAGER_IMAGE.sub('<img loading="lazy"', _FONTAWESOME_SCRIPT.sub("", text))
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")
        used |= set(_ICON_CLASS.findall(lighter))
    for script in (out / "_static").rglob("*.js"):
        if "fontawesome" not in script.name:
            used |= set(_ICON_CLASS.findall(script.read_text(encoding="utf-8", errors="replace")))
    css = "".join(path.read_text(encoding="utf-8") for path in (out / "_static" / "styles").glob("*.css"))
    points = _icon_codepoints(css, used)
    fonts = sorted((out / "_static" / "vendor" / "fontawesome" / "webfonts").glob("fa-*"))
    if not points or not fonts:
        logger.warning("offline_site: no Font Awesome icons or fonts found; the fonts are left whole")
        return
    before = sum(font.stat().st_size for font in fonts)
    for font in fonts:
        options = subset.Options()
        options.flavor = "woff2" if font.suffix == ".woff2" else None
        options.layout_features = ["*"]
        with TTFont(font) as whole:
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=points & set(whole.getBestCmap()))
            subsetter.subset(whole)
            whole.flavor = options.flavor
            whole.save(font)
    after = sum(font.stat().st_size for font in fonts)
    logger.info("offline_site: %d icons named; Font Awesome's fonts cut from %d to %d bytes", len(points),
                before, after)


def setup(app):
    previous = os.environ.get("OPTLIB_EXPLORERS")
    if previous not in (None, "", "static"):
        logger.info("offline_site: OPTLIB_EXPLORERS=%s ignored; the website shows the static explorers",
                    previous)
    # Inherited by the kernels that execute the chapters.
    os.environ["OPTLIB_EXPLORERS"] = "static"
    app.connect("config-inited", _cache_per_optlib_version)
    app.connect("html-page-context", _page_assets, priority=900)
    app.connect("builder-inited", _html_handlers_for_singlehtml)
    app.connect("build-finished", _copy_the_pdf)
    app.connect("build-finished", _lighter_first_view)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
