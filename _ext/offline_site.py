"""The book's own Sphinx hook: a website that works with no kernel and no network, built from the
current optlib.

* Explorers: the build always executes notebooks with ``OPTLIB_EXPLORERS=static``, so every explorer
  is rendered as its kernel-free player (see ``optlib.explorers.base``), never as a live ipywidgets
  form, which would be dead on a static page and can stall headless execution (jupyter/nbclient#312).
  The Makefile sets the same variable; this makes a plain ``jupyter-book build .`` safe too.
* Fresh outputs: the execution cache (``_build/.jupyter_cache``) is keyed by a notebook's code alone,
  so a change in optlib (an optimizer, a figure, the player) would leave stale outputs on the site.
  When optlib's source changes, the cache is cleared and every notebook is read and executed again.
* MathJax comes from the ``sphinx-mathjax-offline`` package (listed in ``_config.yml``), which copies
  its MathJax into ``_build/html/_static/mathjax``; nothing is vendored in ``_static/``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def _optlib_digest(srcdir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((srcdir / "optlib").rglob("*.py")):
        digest.update(path.relative_to(srcdir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _clear_stale_outputs(app, config):
    build = Path(app.outdir).parent
    stamp = build / ".optlib-digest"
    digest = _optlib_digest(Path(app.srcdir))
    app.optlib_changed = not stamp.exists() or stamp.read_text().strip() != digest
    if app.optlib_changed:
        cache = Path(config.nb_execution_cache_path or build / ".jupyter_cache")
        if cache.exists():
            logger.info("offline_site: optlib changed; clearing the execution cache %s", cache)
            shutil.rmtree(cache)
        build.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest + "\n")


def _notebooks_to_reread(app, env, added, changed, removed):
    if not getattr(app, "optlib_changed", False):
        return []
    return [name for name in env.found_docs if env.doc2path(name).endswith(".ipynb")]


def setup(app):
    previous = os.environ.get("OPTLIB_EXPLORERS")
    if previous not in (None, "", "static"):
        logger.info("offline_site: OPTLIB_EXPLORERS=%s ignored; the website shows the static explorers", previous)
    # Inherited by the kernels that execute the chapters.
    os.environ["OPTLIB_EXPLORERS"] = "static"
    app.connect("config-inited", _clear_stale_outputs)
    app.connect("env-get-outdated", _notebooks_to_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
