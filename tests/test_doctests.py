"""Run the examples in optlib's docstrings (pytest only collects tests/ and chapters/)."""

import doctest
import importlib
import pkgutil

import pytest

import optlib

MODULES = sorted(info.name for info in pkgutil.walk_packages(optlib.__path__, "optlib."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_some_examples_exist():
    finder = doctest.DocTestFinder()
    examples = sum(len(test.examples) for name in MODULES for test in finder.find(importlib.import_module(name)))
    assert examples > 0
