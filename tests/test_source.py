"""optlib.source: chapters show code, not docstrings (whose reStructuredText math would show raw); the
book shows every helper an optimizer's listing calls."""

import ast
import importlib
import inspect
import json
import sys
import textwrap
from pathlib import Path

import pytest

import optlib
from optlib import SGD, Adam
from optlib.optimizer import Hyperparameter
from optlib.schedules import warmup_cosine
from optlib.source import show_source, source

CHAPTERS = Path(__file__).parents[1] / "chapters"


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
    shown = show_source(Adam._update, Adam._moments).data
    assert shown.startswith("```python\ndef _update(") and shown.endswith("```")
    assert shown.count("def ") == 2 and shown.index("def _update") < shown.index("def _moments")
    with pytest.raises(TypeError, match="at least one"):
        show_source()
    with pytest.raises(TypeError, match="cannot show the source of 3"):
        show_source(3)


def _shown_in_the_book() -> dict:
    """Every object a chapter shows with show_source, and the first chapter that shows it."""
    names = {"optlib": optlib}
    package = Path(optlib.__file__).parent
    for path in sorted([*package.glob("*.py"), *package.glob("explorers/ch*.py")]):   # a chapter's own helpers
        if path.stem != "__init__":
            module = importlib.import_module(".".join(["optlib", *path.relative_to(package).with_suffix("").parts]))
            names.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    shown = {}
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            code = "".join(cell["source"])
            if cell["cell_type"] != "code" or "show_source(" not in code:
                continue
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source":
                    for argument in node.args:
                        shown.setdefault(eval(ast.unparse(argument), names), path.stem)
    return shown


def _helpers(function):
    """The optlib functions ``function`` calls: ``self.method(...)`` of its class, and plain names."""
    qualified = function.__qualname__.split(".")
    owner = getattr(sys.modules[function.__module__], qualified[0]) if len(qualified) > 1 else None
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(function)))):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", None) == "self" and owner:
            yield getattr(owner, node.func.attr)
        elif isinstance(node.func, ast.Name) and inspect.isfunction(function.__globals__.get(node.func.id)):
            target = function.__globals__[node.func.id]
            if target.__module__.startswith("optlib."):
                yield target


def test_every_helper_an_optimizer_listing_calls_is_shown_in_the_book():
    # a listing that calls a helper the book never shows is incomplete (issue 20); argument checks
    # (optlib.validation's, and the validators of hyperparameters) are not part of an update
    checks = {f for f in vars(optlib.validation).values() if inspect.isfunction(f)}
    optimizers = [c for c in vars(optlib).values() if isinstance(c, type) and issubclass(c, optlib.Optimizer)]
    checks |= {h.validate for c in optimizers for h in vars(c).values() if isinstance(h, Hyperparameter)}
    shown = _shown_in_the_book()
    optimizer_modules = {c.__module__ for c in optimizers} | {"optlib.averages"}
    listed = [f for f in shown if getattr(f, "__module__", None) in optimizer_modules]
    assert {"SGD._update", "RMSprop._update", "Adam._update", "AdamFamily._moments", "lerp", "Muon._update",
            "Muon.adjusted_lr"} <= {f.__qualname__ for f in listed}
    missing, seen, todo = [], set(), list(listed)
    while todo:
        function = todo.pop()
        for helper in _helpers(function):
            if helper in checks or helper in seen:
                continue
            seen.add(helper)
            todo.append(helper)
            if helper not in shown:
                missing.append(f"{function.__qualname__} calls {helper.__qualname__}")
    assert not missing, missing
