"""optlib.source: chapters show code, not docstrings (whose reStructuredText math would show raw)."""

import ast

import pytest

import optlib
from optlib import SGD, Adam
from optlib.schedules import warmup_cosine
from optlib.source import show_source, source


def test_source_leaves_out_the_docstring_and_keeps_the_code():
    code = source(warmup_cosine)
    assert warmup_cosine.__doc__ and ":math:" in warmup_cosine.__doc__
    assert ":math:" not in code and '"""' not in code
    assert code.startswith("def warmup_cosine(") and "return" in code
    ast.parse(code)                                              # still valid Python
    with_doc = source(warmup_cosine, docstring=True)
    assert ":math:" in with_doc and len(with_doc.splitlines()) > len(code.splitlines())
    assert source(SGD._momentum).startswith("def _momentum(self, g, state):\n    beta, tau")


def test_source_of_a_class_and_a_module():
    assert source(SGD).startswith("class SGD(Optimizer):\n\n    lr = Hyperparameter(")
    module = source(optlib.sgd)
    assert module.lstrip().startswith("from __future__ import annotations")
    assert "class SGD(Optimizer)" in module


def test_show_source_shows_several_objects_in_one_listing():
    shown = show_source(Adam._moments, Adam._update).data
    assert shown.startswith("```python\ndef _moments(") and shown.endswith("```")
    assert shown.count("def ") == 2 and shown.index("def _moments") < shown.index("def _update")
    with pytest.raises(TypeError, match="at least one"):
        show_source()
    with pytest.raises(TypeError, match="cannot show the source of 3"):
        show_source(3)
