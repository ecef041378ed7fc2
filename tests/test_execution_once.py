"""Each chapter is executed once per ``make test``: by nbval, whose executed notebooks the site build reuses.

The root conftest.py writes every chapter that passed under nbval into the build's execution cache,
marked ``executed_by: nbval``; a build that executed the chapter again would have overwritten that
record with its own (and logged "Executing notebook").
"""

import nbformat
import pytest
from jupyter_cache import get_cache


def test_the_build_executes_no_chapter_that_nbval_executed(site_build, chapters_cached_by_nbval, execution_cache):
    if not chapters_cached_by_nbval:
        pytest.skip("no chapter ran under nbval in this session (`make test` runs them all before the build)")
    cache = get_cache(str(execution_cache))
    for path in sorted(chapters_cached_by_nbval):
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
        assert record.data.get("executed_by") == "nbval", f"the site build executed {path.name} again"
    stems = {path.stem for path in chapters_cached_by_nbval}
    again = [line for line in site_build.executed if any(stem in line for stem in stems)]
    assert again == [], f"the site build executed chapters that nbval had executed: {again}"
