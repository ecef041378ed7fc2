"""The chapters in JupyterLab, as a reader meets them after ``make lab``: a real JupyterLab in Chromium.

The test starts JupyterLab with the ``lab`` recipe of the Makefile (read with ``make -n``, so it is
the command a reader runs), on a free loopback port with a token, with its user settings, workspaces
and runtime files in a temporary folder; it stops the server (and its kernels) at the end. The only
settings added for the test: no browser is opened by the server, and notebooks are not windowed
(``windowingMode: none``) so that every cell is in the page and its rendered text can be read.

For every chapter of ``_toc.yml``: open it, run all cells (the explorers run LIVE: ``make lab`` sets
``OPTLIB_EXPLORERS=live``), wait until the kernel is idle; then

- no cell shows an error or anything on stderr;
- no markdown cell's rendered text shows raw MyST (``:label:``, a line starting with a backtick fence
  and a brace, ``{eq}``, ``{cite}``, ...), which is what JupyterLab shows without jupyterlab-myst;
- labelled equations are typeset and numbered, admonitions, exercises and proofs are boxes;
- the explorer's first slider, moved with the keyboard, changes the figure;
- screenshots of the first screen and of the explorer go to ``_build/screenshots/lab/``.

Also: JupyterLab and jupyterlab-myst load together without a compatibility warning, and nbgrader's
JupyterLab extensions (instructors' tools) are not in the readers' JupyterLab.

Browser: Debian's Chromium (``/usr/bin/chromium`` or ``$OPTLIB_CHROMIUM``) driven by Playwright; without
it these tests skip, except under ``OPTLIB_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip, toc_pages  # the same browser as the site tests

pytestmark = pytest.mark.book  # JupyterLab, kernels and a browser: `make test`, not `make check`

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "_build" / "screenshots" / "lab"
START_TIMEOUT = 120  # seconds for the server to answer
# Seconds for one chapter's cells to run: a hang detector, not a speed test (chapter 10's whole test took 159-185 s
# on an idle 2-core machine, 240 s would leave it little room on a slower one).
RUN_TIMEOUT = 420


def toc_chapters() -> list[str]:
    """The notebooks of ``_toc.yml`` in reading order, as paths relative to the root."""
    return [f"{page}.ipynb" for page in toc_pages() if (ROOT / f"{page}.ipynb").exists()]


CHAPTERS = toc_chapters()

# Raw MyST as JupyterLab shows it without jupyterlab-myst (the markers of issue 14, plus the other
# roles and directives the chapters use).
RAW_MYST = {
    ":label:": re.compile(r":label:"),
    "```{ fence": re.compile(r"^\s*```+\s*\{", re.MULTILINE),
    ":::{ fence": re.compile(r"^\s*:::+\s*\{", re.MULTILINE),
    "{eq}": re.compile(r"\{eq\}"),
    "{cite}": re.compile(r"\{cite(:[a-z]+)?\}"),
    "{numref}": re.compile(r"\{numref\}"),
    "{doc}": re.compile(r"\{doc\}"),
    "{ref}": re.compile(r"\{ref\}"),
    "{exercise}": re.compile(r"\{exercise"),
    "{solution}": re.compile(r"\{solution"),
    "{prf:": re.compile(r"\{prf:"),
    "{math}": re.compile(r"\{math\}"),
}


def raw_myst(text: str) -> list[tuple[str, str]]:
    """Every raw MyST marker in a text: (its kind, the text around it)."""
    return [(kind, text[max(0, match.start() - 20):match.end() + 30])
            for kind, pattern in RAW_MYST.items() for match in pattern.finditer(text)]


def test_raw_myst_finds_the_markers_issue_14_lists():
    """The detector itself: the markup JupyterLab shows without jupyterlab-myst is found, prose is not."""
    raw = ("```{math}\n:label: eq-momentum-sum\nb_t = 1\n```\nby {eq}`eq-momentum-torch` and "
           "{cite}`polyak1964some`, see {numref}`fig-x`\n```{exercise}\n```{prf:proof}\n:::{note}\n")
    kinds = [kind for kind, _ in raw_myst(raw)]
    assert sorted(kinds) == sorted([":label:", "```{ fence", "```{ fence", "```{ fence", "{eq}",
                                    "{cite}", "{numref}", "{exercise}", "{prf:", "{math}", ":::{ fence"])
    assert raw_myst("The momentum (5) of Polyak (1964) in Exercise 3; code `x = {1: 2}`.") == []


# --- the server and the browser ------------------------------------------------------------------


def make_lab_command() -> list[str]:
    """The recipe of ``make lab`` as the shell would run it (``make -n``), with the venv running pytest
    (which counts as installed)."""
    venv = os.path.relpath(sys.prefix, ROOT)
    # --no-print-directory: under `make test` (a make inside make) make -n also prints "Entering directory".
    result = subprocess.run(["make", "--no-print-directory", "-n", "-o", f"{venv}/.installed", "lab", f"VENV={venv}"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"`make -n lab` should print one command, not:\n{result.stdout}"
    return ["bash", "-c", lines[0] + ' "$@"', "make-lab"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A running JupyterLab: its URL (with the token), log file and process."""

    def __init__(self, url: str, token: str, log: Path, process: subprocess.Popen):
        self.url, self.token, self.log, self.process = url, token, log, process

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, lab_report):
    """JupyterLab started as ``make lab`` starts it, on a free loopback port with a token."""
    playwright_or_skip("JupyterLab")
    home = tmp_path_factory.mktemp("jupyterlab")
    settings = home / "settings"
    # Every cell in the page (no virtual scrolling), so the whole notebook's rendered text can be read.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # No "would you like news?" notification over the notebook.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Never save: running a chapter must not write its outputs into chapters/ (committed without outputs).
    docmanager = settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True)
    docmanager.write_text(json.dumps({"autosave": False}))
    port, token = free_port(), secrets.token_hex(16)
    env = lab_environment(home)
    log = home / "jupyterlab.log"
    # Added for the test: no browser, a fixed loopback port, a token (and root, in CI's container).
    root = ["--allow-root"] if os.geteuid() == 0 else []
    command = make_lab_command() + ["--no-browser", *root, "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                    "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
            if time.perf_counter() - start > START_TIMEOUT:
                pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        lab_report["server_start_seconds"] = round(time.perf_counter() - start, 1)
        yield Lab(url, token, log, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def lab_report(request):
    """Numbers for the closing note: _build/screenshots/lab/report.json and the terminal."""
    report = {"chapters": {}}
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    yield report
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    # CPU time of the finished child processes (JupyterLab with its kernels, Chromium, `make -n`): what
    # the tests cost on an idle machine, whatever else shares the CPU meanwhile.
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["children_cpu_seconds"] = round(used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime, 1)
    try:
        report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        summary = {key: value for key, value in report.items() if key != "chapters"}
        terminal.write_line(f"\njupyterlab: {json.dumps(summary)}")


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    sync_playwright = playwright_or_skip("JupyterLab")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900}, service_workers="block")
        yield context
        context.close()


# --- the readers' JupyterLab: which extensions, and do they fit -----------------------------------


def lab_environment(home: Path) -> dict[str, str]:
    """The environment `make lab` gives JupyterLab, with the user's own Jupyter folders moved to `home`."""
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(home / "config"),  # not the user's ~/.jupyter
           "JUPYTER_CONFIG_PATH": str(ROOT / "lab"),  # as the Makefile sets them
           "JUPYTER_PATH": str(ROOT / "lab"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython"),
           "MPLCONFIGDIR": str(home / "matplotlib")}
    env.pop("OPTLIB_EXPLORERS", None)  # `make lab` sets it (live); pytest's conftest sets static
    return env


def test_make_lab_puts_the_readers_settings_on_the_config_path():
    command = make_lab_command()[2]
    assert 'JUPYTER_CONFIG_PATH="' + str(ROOT / "lab") in command
    assert 'JUPYTER_PATH="' + str(ROOT / "lab") in command
    assert "OPTLIB_EXPLORERS=live" in command


def test_labextensions_load_together_and_nbgrader_is_hidden(tmp_path):
    """`jupyter labextension list` in the readers' set-up: no incompatible extension, jupyterlab-myst
    and the widgets enabled, nbgrader's extension disabled (instructors run it outside `make lab`)."""
    result = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], cwd=ROOT, capture_output=True,
                            text=True, env=lab_environment(tmp_path), timeout=120)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, listing
    assert "not compatible" not in listing and " X" not in listing, listing
    lines = {line.split()[0]: line for line in listing.splitlines() if re.match(r"\s+\S+ v\d", line)}
    for name in ("jupyterlab-myst", "@jupyter-widgets/jupyterlab-manager", "optlib-citations"):
        assert name in lines and "enabled" in lines[name] and "OK" in lines[name], listing
    assert "disabled" in lines["@jupyter/nbgrader"], listing


def shared_requirements(extension: Path) -> dict[str, str]:
    """The shared JupyterLab/Lumino packages an extension's built code asks for, as 'major.minor.patch'
    lower bounds of caret ranges, read from its webpack chunks (the versions it was built against)."""
    found = {}
    package = r"(@(?:jupyterlab|lumino|jupyter)/[\w-]+)"
    patterns = [package.join(['"', r'",\s*(?:!0|!1|true|false),\s*\[1,\s*(\d+),\s*(\d+),\s*(\d+)\]']),
                package.join(['shareKey:"', r'",import:null,requiredVersion:"\^(\d+)\.(\d+)\.(\d+)"'])]
    for chunk in (extension / "static").glob("*.js"):
        text = chunk.read_text(errors="replace")
        for pattern in patterns:
            for name, *version in re.findall(pattern, text):
                found[name] = max(found.get(name, "0.0.0"), ".".join(version),
                                  key=lambda v: tuple(map(int, v.split("."))))
    return found


def test_readers_extensions_were_built_for_this_jupyterlab():
    """No enabled extension asks for a newer JupyterLab package than this JupyterLab provides: such an
    extension logs "Unsatisfied version" in the browser (the warning an unpinned ipywidgets gave)."""
    share = Path(sys.prefix) / "share" / "jupyter"
    provided = json.loads((share / "lab" / "static" / "package.json").read_text())["resolutions"]
    disabled = json.loads((ROOT / "lab" / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    too_new, checked = [], 0
    for package in sorted((share / "labextensions").glob("**/package.json")):
        name = json.loads(package.read_text())["name"]
        if disabled.get(name) or not (package.parent / "static").is_dir():
            continue
        for dependency, wanted in shared_requirements(package.parent).items():
            have = re.sub(r"^[~^]", "", provided.get(dependency, "")).split("-")[0]
            if not have:
                continue
            checked += 1
            want = tuple(map(int, wanted.split(".")))
            got = tuple(map(int, have.split(".")))
            if got[0] != want[0] or got < want:
                too_new.append(f"{name} wants {dependency} ^{wanted}, JupyterLab has {have}")
    assert checked > 5, "found no shared-package requirement to check: has the build format changed?"
    assert not too_new, "\n".join(too_new)


# --- one chapter ---------------------------------------------------------------------------------

# The text of every markdown cell as rendered (its hidden editor is not in innerText).
MARKDOWN_TEXT = """
() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-MarkdownCell')].map((cell, index) => ({
  index, rendered: !!cell.querySelector('.jp-RenderedMarkdown, .myst'),
  text: cell.querySelector('.jp-Cell-inputArea').innerText}))
"""

# Code cells' prompts: "[ ]" never run, "[*]" queued or running, "[12]" done.
PROMPTS = """
() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell .jp-InputPrompt')]
  .map(prompt => prompt.innerText.trim())
"""

# Outputs on stderr (tracebacks are stderr outputs in JupyterLab too), with their text.
STDERR = """
() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(o => o.innerText.slice(0, 600))
"""

# What the book's MyST became: typeset math, numbered labelled equations, links for {eq}, boxes.
STRUCTURE = """
labels => {
  const panel = document.querySelector('.jp-NotebookPanel');
  const q = s => [...panel.querySelectorAll('.jp-MarkdownCell ' + s)];
  const number = label => {
    const element = panel.querySelector(`.jp-MarkdownCell [id="${label}"]`);
    const found = element && /\\((\\d+)\\)\\s*$/.exec(element.textContent);
    return found ? Number(found[1]) : null;
  };
  const link = label => q(`a.hover-link[href="#${label}"]`).map(a => a.textContent.trim());  // also in closed solutions
  return {
    katex: q('.katex').length, katexErrors: q('.katex-error').map(e => e.title || e.innerText),
    displayMath: q('.katex-display').length,
    equationNumbers: Object.fromEntries(labels.map(label => [label, number(label)])),
    equationLinks: Object.fromEntries(labels.map(label => [label, link(label)])),
    admonitions: q('aside.myst-admonition').length, exercises: q('aside.myst-exercise').length,
    solutions: q('details.myst-exercise').length, openSolutions: q('details.myst-exercise[open]').length,
    proofs: q('aside.myst-proof').length,
  };
}
"""

ADMONITIONS = ("admonition", "note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
               "error", "seealso")


def myst_source(chapter: str) -> dict:
    """What the chapter's markdown asks for: labelled equations, {eq} references, directive counts."""
    notebook = json.loads((ROOT / chapter).read_text())
    text = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    fence = r"^\s*(?:```+|:::+)\s*\{%s\}"
    math_blocks = re.findall(r"^\s*(```+|:::+)\s*\{math\}(.*?)^\s*\1\s*$", text, re.MULTILINE | re.DOTALL)
    labels = [label for _, body in math_blocks for label in re.findall(r"^:label:\s*(\S+)", body, re.MULTILINE)]
    labels += re.findall(r"\$\$\s*\((\S+?)\)", text)
    def count(name):
        return len(re.findall(fence % name, text, re.MULTILINE))

    return {"labels": labels, "eq_refs": sorted(set(re.findall(r"\{eq\}`([^`]+)`", text))),
            "admonitions": sum(count(name) for name in ADMONITIONS), "exercises": count("exercise"),
            "solutions": count(r"solution(?:-start)?"), "proofs": count(r"prf:\w+")}


def structure_problems(found: dict, source: dict) -> list[str]:
    problems = [f"math error: {text!r}" for text in found["katexErrors"]]
    numbers = found["equationNumbers"]
    problems += [f"labelled equation {label} shows no number" for label in source["labels"] if numbers[label] is None]
    shown = [numbers[label] for label in source["labels"] if numbers[label] is not None]
    if shown != sorted(set(shown)):
        problems.append(f"labelled equations are not numbered in increasing order: {numbers}")
    # jupyterlab-myst resolves references within a notebook only: {eq} to another chapter's equation
    # cannot become a link there (counted in the report as cross_chapter_eq_refs).
    for label in [label for label in source["eq_refs"] if label in source["labels"]]:
        links = found["equationLinks"].get(label, [])
        if not links or any(text != f"({numbers.get(label)})" for text in links):
            problems.append(f"{{eq}}`{label}` is not a link reading ({numbers.get(label)}): {links}")
    for kind in ("admonitions", "exercises", "solutions", "proofs"):
        if found[kind] != source[kind]:
            problems.append(f"{source[kind]} {kind} in the source, {found[kind]} boxes rendered")
    if found["openSolutions"]:
        problems.append(f"{found['openSolutions']} solutions are open (they should start collapsed)")
    return problems


def shutdown_kernels(lab: Lab) -> None:
    """Shut down every kernel of the server (one chapter's kernel must not slow the next)."""
    def call(method: str, path: str):
        request = urllib.request.Request(f"{lab.url}{path}", method=method,
                                         headers={"Authorization": f"token {lab.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    for session in call("GET", "api/sessions"):
        call("DELETE", f"api/sessions/{session['id']}")


# Citations: jupyterlab-myst leaves each key in a <span title="Citation Not Found">; the optlib-citations
# extension (lab/labextensions) marks it with its author-year label, shown instead of the key.
CITATIONS = """
() => ({
  unresolved: [...document.querySelectorAll('.jp-NotebookPanel span[title="Citation Not Found"]')]
    .map(span => span.textContent.trim()),
  shown: [...document.querySelectorAll('.jp-NotebookPanel span[data-optlib-cite]')].map(span => ({
    key: span.textContent.trim(), label: getComputedStyle(span, '::after').content, reference: span.title,
    keyHidden: parseFloat(getComputedStyle(span).fontSize) === 0,
    icons: [...span.querySelectorAll('svg')].filter(svg => getComputedStyle(svg).display !== 'none').length})),
  // Each group as displayed: "(" label "; " label ")" from the stylesheet's generated content.
  groups: [...document.querySelectorAll('.jp-NotebookPanel .cite-group')].map(group => {
    const content = (element, pseudo) => {
      const value = getComputedStyle(element, pseudo).content;
      return value === 'none' || value === 'normal' ? '' : JSON.parse(value);
    };
    const spans = [...group.querySelectorAll('span[data-optlib-cite]')];
    return content(group, '::before') + spans.map(span => content(span, '::before') + content(span, '::after')).join('')
      + content(group, '::after');
  }),
})
"""


LATEX_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "c": "\u0327"}


def latex_to_text(text: str) -> str:
    """BibTeX's {\\"u} and braces as plain Unicode text ("G{\\"u}rb{\\"u}zbalaban" -> "Gürbüzbalaban")."""
    text = re.sub(r"""\\([`'^"~c])\s*\{?\\?([A-Za-z])\}?""", lambda m: m.group(2) + LATEX_ACCENTS[m.group(1)], text)
    return unicodedata.normalize("NFC", text.replace("{", "").replace("}", "")).strip()


def bibliography() -> dict[str, tuple[str, str]]:
    """key -> (first author's last name, year) from references.bib."""
    entries = {}
    for entry in re.split(r"\n(?=@)", (ROOT / "references.bib").read_text()):
        key = re.match(r"\s*@\w+\s*\{\s*([^,\s]+)", entry)
        author = re.search(r"\bauthor\s*=\s*\{(.*)\}\s*,?\s*$", entry, re.MULTILINE)
        year = re.search(r"\byear\s*=\s*\{?(\d{4})", entry)
        if key and author and year:
            first = latex_to_text(author.group(1)).split(" and ")[0]
            entries[key.group(1)] = (first.split(",")[0].strip(), year.group(1))
    return entries


def cited_keys(chapter: str) -> set[str]:
    notebook = json.loads((ROOT / chapter).read_text())
    text = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    return {key.strip() for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text) for key in keys.split(",")}


def citation_problems(found: dict, chapter: str) -> list[str]:
    """Every key the chapter cites is shown as 'Author(s), year' (not its key, no warning icon)."""
    problems = [f"citation {key!r} shown as a bare key (not in references.bib?)" for key in found["unresolved"]]
    bib = bibliography()
    problems += [f"citation group reads {group!r}" for group in found["groups"]
                 if not re.fullmatch(r"\((?:[^;()]+, \d{4}; )*[^;()]+, \d{4}\)", group)]
    shown = {item["key"]: item for item in found["shown"]}
    for key in sorted(cited_keys(chapter)):
        if key not in shown:
            if key not in found["unresolved"]:
                problems.append(f"citation {key!r} is not in the rendered notebook")
            continue
        item, (author, year) = shown[key], bib.get(key, ("?", "?"))
        if not (item["label"].startswith(f'"{author}') and item["label"].endswith(f', {year}"')):
            problems.append(f"citation {key!r} reads {item['label']}, not '{author}..., {year}'")
        if not item["keyHidden"] or item["icons"]:
            problems.append(f"citation {key!r}: its key or warning icon is still shown")
        if year not in item["reference"] or author not in item["reference"]:
            problems.append(f"citation {key!r}: tooltip {item['reference']!r} is not its reference")
    return problems


def wait_until_run(page, timeout: float) -> list[str]:
    """Wait until no code cell is queued or running and the kernel is idle; return the prompts."""
    deadline = time.monotonic() + timeout
    page.wait_for_timeout(500)
    while True:
        prompts = page.evaluate(PROMPTS)
        busy = any("*" in prompt for prompt in prompts)
        status = page.locator(".jp-StatusBar-TextItem", has_text="Idle").count()
        if not busy and status:
            return prompts
        if time.monotonic() > deadline:
            pytest.fail(f"cells still running after {timeout} s: prompts {prompts}")
        page.wait_for_timeout(250)


try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the browser tests then skip or fail in playwright_or_skip("JupyterLab")
    PlaywrightError = Exception


def move_first_slider(page) -> tuple[str | None, list[str]]:
    """Move the first explorer slider with the keyboard; the explorer's figure must change.

    Returns the explorer's locator name for the screenshot and the problems found."""
    explorer = page.locator(".jp-Notebook .jp-OutputArea-output:has(.widget-slider)").first
    if explorer.count() == 0:
        return None, ["no ipywidgets slider in the notebook (the live explorer did not display)"]
    slider = explorer.locator(".widget-slider").first
    handle = slider.locator("[role=slider]").first
    # The figure: a PNG in an ipywidgets Output or Image widget (or, if drawn otherwise, the Output itself).
    figure = explorer.locator(".widget-output img, img.widget-image").first
    if figure.count() == 0:
        figure = explorer.locator(".widget-output").first
    explorer.scroll_into_view_if_needed()
    if figure.count() == 0:
        return explorer, ["the explorer shows no figure"]
    before_value = handle.get_attribute("aria-valuenow")
    before_src, before_pixels = figure.get_attribute("src"), figure.screenshot()
    handle.focus()
    handle.press("End")
    deadline = time.monotonic() + 30
    while True:  # the kernel redraws the figure (the Output widget replaces its image): wait for it
        page.wait_for_timeout(250)
        try:
            if figure.count() and (figure.get_attribute("src", timeout=1000) != before_src
                                   or figure.screenshot(timeout=2000) != before_pixels):
                break
        except PlaywrightError:
            pass  # the old image was removed before the new one came: look again
        if time.monotonic() > deadline:
            after = handle.get_attribute("aria-valuenow")
            if after == before_value:
                return explorer, [f"key End did not move the first slider (value {before_value})"]
            return explorer, [f"moving the first slider ({before_value} -> {after}) did not change the figure"]
    if handle.get_attribute("aria-valuenow") == before_value:
        return explorer, ["the figure changed but the slider did not move"]
    return explorer, []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: Path(path).stem)
def test_chapter_in_jupyterlab(chapter, lab, browser, lab_report):
    name = Path(chapter).stem
    committed = (ROOT / chapter).read_bytes()
    start = time.perf_counter()
    page = browser.new_page()
    console_errors = []
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    try:
        # ?reset: a fresh workspace, so this chapter is the only notebook open.
        page.goto(f"{lab.url}lab/tree/{chapter}?reset&token={lab.token}")
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        assert page.locator(".jp-NotebookPanel").count() == 1, "another notebook is open too"
        # Run only once the kernel is up: "Run All Cells" before it fails with "Session has no kernel" and runs
        # nothing (chapter 10, opened right after chapter 9's kernel was shut down).
        page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=START_TIMEOUT * 1000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).first.click()
        prompts = wait_until_run(page, RUN_TIMEOUT)
        page.wait_for_timeout(500)  # widget views render after the kernel's messages

        problems = []
        not_run = [index for index, prompt in enumerate(prompts) if not re.search(r"\[\d+\]", prompt)]
        if not_run:
            problems.append(f"code cells {not_run} did not run (of {len(prompts)})")
        problems += [f"stderr or error output: {text!r}" for text in page.evaluate(STDERR)]

        # Every markdown cell rendered, and nothing of its MyST left as raw text.
        raw, raw_kinds = [], {}
        for cell in page.evaluate(MARKDOWN_TEXT):
            if not cell["rendered"]:
                problems.append(f"markdown cell {cell['index']} is not rendered")
            for kind, text in raw_myst(cell["text"]):
                raw.append(f"markdown cell {cell['index']}: raw {kind}: {text!r}")
                raw_kinds[kind] = raw_kinds.get(kind, 0) + 1
        problems += raw
        source = myst_source(chapter)
        labels = source["labels"] + [label for label in source["eq_refs"] if label not in source["labels"]]
        structure = page.evaluate(STRUCTURE, labels)
        problems += structure_problems(structure, source)
        citations = page.evaluate(CITATIONS)
        problems += citation_problems(citations, chapter)

        explorer, slider_problems = move_first_slider(page)
        problems += slider_problems
        if explorer is not None:
            explorer.screenshot(path=str(SCREENSHOTS / f"{name}--explorer.png"))
        page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        problems += [f"JavaScript error: {text}" for text in console_errors]
    finally:
        page.close()
        shutdown_kernels(lab)
    lab_report["chapters"][name] = {"seconds": round(time.perf_counter() - start, 1), "raw_myst": len(raw),
                                    "raw_myst_kinds": raw_kinds,
                                    "code_cells": len(prompts), "citations": len(citations["shown"]),
                                    "cross_chapter_eq_refs": len(set(source["eq_refs"]) - set(source["labels"])),
                                    **{k: structure[k] for k in ("katex", "displayMath", "admonitions", "exercises",
                                                                 "solutions", "proofs")},
                                    "numbered_equations": sum(n is not None for n in
                                                              structure["equationNumbers"].values())}
    if (ROOT / chapter).read_bytes() != committed:
        (ROOT / chapter).write_bytes(committed)
        problems.append("JupyterLab saved the notebook (restored): autosave must be off")
    assert not problems, f"{chapter} in JupyterLab:\n  " + "\n  ".join(problems)


def test_make_lab_opens_on_the_first_chapter_without_instructors_tools(lab, browser):
    """The page `make lab` opens (its default URL) shows the first chapter of _toc.yml, rendered by
    jupyterlab-myst, and no nbgrader menu or panel."""
    page = browser.new_page()
    try:
        page.goto(f"{lab.url}?reset&token={lab.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-MarkdownCell .myst", timeout=60_000)
        page.wait_for_timeout(1000)
        tabs = page.locator(".jp-mod-current .lm-TabBar-tabLabel, .lm-DockPanel-tabBar .lm-mod-current "
                            ".lm-TabBar-tabLabel").all_inner_texts()
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        panels = page.locator(".lm-TabBar-tab").evaluate_all("tabs => tabs.map(t => t.title || t.innerText)")
        page.screenshot(path=str(SCREENSHOTS / "opening.png"))
    finally:
        page.close()
    first = CHAPTERS[0]
    assert page.url.split("?")[0].endswith(f"/lab/tree/{first}"), page.url
    assert Path(first).name in tabs, f"the current tab is {tabs}, not {first}"
    assert "Run" in menus and not [menu for menu in menus if "grader" in menu.lower()], menus
    assert not [panel for panel in panels if re.search(r"assignment|grader|course", panel, re.I)], panels
