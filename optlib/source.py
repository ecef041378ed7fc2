"""Show optlib's own source in a chapter, so the book and the package cannot drift apart.

A chapter shows the *code*: the math lives in the chapter's prose, and a docstring's reStructuredText
math would appear raw inside the listing, so docstrings are left out unless asked for. Several objects
can be shown in one listing (``show_source(Adam._update, Adam._moments)``), so that a chapter shows the
small methods that make up its own idea and no more.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

__all__ = ["source", "show_source"]


def source(obj, docstring: bool = False) -> str:
    """The source code of a function, method, class or module, dedented; without its docstring
    (the lines of the string literal that opens the body) unless ``docstring=True``."""
    try:
        text = textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as error:
        raise TypeError(f"cannot show the source of {obj!r}: {error}") from None
    if docstring:
        return text
    tree = ast.parse(text)
    node = tree if inspect.ismodule(obj) else tree.body[0]
    body = getattr(node, "body", [])
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        lines = text.splitlines(keepends=True)
        del lines[body[0].lineno - 1:body[0].end_lineno]
        text = "".join(lines)
    return text


def show_source(*objs, docstring: bool = False):
    """Display the source of one or more objects as one highlighted Python block (Markdown, rendered
    by Jupyter and the book), docstrings left out unless ``docstring=True``."""
    from IPython.display import Markdown

    if not objs:
        raise TypeError("show_source needs at least one function, method, class or module")
    code = "\n".join(source(obj, docstring) for obj in objs)
    return Markdown(f"```python\n{code}```")
