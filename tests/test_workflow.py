"""The publishing workflow, ``.github/workflows/book.yml``, read as GitHub Actions reads it (YAML).

It must have the shape Jupyter Book 1's docs publish (checkout, Python with pip's cache, the execution
cache, the build, the Pages artifact, a deployment to GitHub Pages on pushes to main), and run the
README's own commands: the tests and the build a reader runs are the ones CI runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def steps(job: dict) -> list[dict]:
    return job["steps"]


def step_index(job: dict, predicate) -> int:
    found = [i for i, step in enumerate(steps(job)) if predicate(step)]
    assert found, "no such step"
    return found[0]


def runs(step: dict) -> list[str]:
    """The shell commands of a step, one per line, without comments."""
    return [line.strip() for line in step.get("run", "").splitlines()
            if line.strip() and not line.strip().startswith("#")]


def readme_make_commands() -> list[str]:
    """The `make` commands of the README's "Two commands" block (the ones a reader runs)."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no bash block under '## Two commands'"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.startswith("make ")]


def uses(step: dict, action: str) -> bool:
    return step.get("uses", "").split("@")[0] == action


def test_it_runs_on_pushes_to_main(workflow):
    on = triggers(workflow)
    assert on["push"]["branches"] == ["main"]


def test_the_build_job_runs_the_readmes_commands_in_order(workflow):
    job = workflow["jobs"]["build"]
    commands = [command for step in steps(job) for command in runs(step)]
    wanted = readme_make_commands()
    assert set(wanted) >= {"make book", "make test", "make pdf"}, f"README's commands: {wanted}"
    missing = [command for command in wanted if command not in commands]
    assert not missing, f"README commands the workflow does not run: {missing}"
    # The tests first; the build that is published after them.
    assert commands.index("make test") < commands.index("make pdf") < commands.index("make book")
    if "make check" in commands:
        assert commands.index("make check") < commands.index("make test"), "the quick check comes first"


def test_the_build_job_has_the_jupyter_book_shape(workflow):
    job = workflow["jobs"]["build"]
    assert job["runs-on"].startswith("ubuntu")
    checkout = step_index(job, lambda s: uses(s, "actions/checkout"))
    python = step_index(job, lambda s: uses(s, "actions/setup-python"))
    assert steps(job)[python]["with"]["cache"] == "pip"
    cache = step_index(job, lambda s: uses(s, "actions/cache"))
    test = step_index(job, lambda s: "make test" in runs(s))
    build = step_index(job, lambda s: "make book" in runs(s))
    upload = step_index(job, lambda s: uses(s, "actions/upload-pages-artifact"))
    assert checkout < python < cache < test < build < upload
    # The cache is the one _ext/offline_site.py keeps the executed notebooks in.
    assert steps(job)[cache]["with"]["path"] == "_build/.execution_cache"
    assert "_build/.execution_cache" in (ROOT / "_ext" / "offline_site.py").read_text()
    # The artifact is the website `make book` writes, and only main's is uploaded.
    assert steps(job)[upload]["with"]["path"] == "_build/html"
    assert "_build/html" in (ROOT / "Makefile").read_text()
    assert "refs/heads/main" in steps(job)[upload]["if"] and "push" in steps(job)[upload]["if"]


def test_the_tests_need_the_browser_and_the_pdf_tools(workflow):
    job = workflow["jobs"]["build"]
    test = steps(job)[step_index(job, lambda s: "make test" in runs(s))]
    assert test["env"]["OPTLIB_REQUIRE_BROWSER"] == "1", "CI must fail, not skip, without a browser"
    installs = " ".join(command for step in steps(job) for command in runs(step) if "apt-get install" in command)
    assert "poppler-utils" in installs


def test_the_deploy_job_publishes_to_pages_from_main_only(workflow):
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(uses(step, "actions/deploy-pages") for step in steps(deploy))


def test_the_readme_says_how_to_publish():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"## Publishing.*?(?=\n## |\Z)", readme, re.DOTALL)
    assert section, "README.md has no '## Publishing' section"
    assert ".github/workflows/book.yml" in section.group(0) and "GitHub Actions" in section.group(0)
