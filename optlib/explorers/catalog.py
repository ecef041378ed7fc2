"""Find every chapter's explorer, for the tests and the latency benchmark."""

from __future__ import annotations

import inspect
from collections.abc import Callable

__all__ = ["chapter_explorers"]


def chapter_explorers() -> dict[str, Callable]:
    """``{name: factory}`` for every ``*_explorer`` in ``optlib.explorers`` callable with no arguments.

    Building blocks that need arguments (such as ``surface_explorer``) are left out.
    """
    from optlib import explorers

    def ready_made(factory) -> bool:
        return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                   for p in inspect.signature(factory).parameters.values())

    return {name: getattr(explorers, name) for name in sorted(explorers.__all__)
            if name.endswith("_explorer") and ready_made(getattr(explorers, name))}
