"""Show optlib's own source in a chapter, so the book and the package cannot drift apart."""

from __future__ import annotations

import inspect
import textwrap

__all__ = ["source", "show_source"]


def source(obj) -> str:
    """The source code of a function, method, class or module, dedented."""
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as error:
        raise TypeError(f"cannot show the source of {obj!r}: {error}") from None


def show_source(obj):
    """Display ``obj``'s source as a highlighted Python block (Markdown, rendered by Jupyter and the book)."""
    from IPython.display import Markdown

    return Markdown(f"```python\n{source(obj)}```")
