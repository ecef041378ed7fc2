"""Accessibility of every page of the website, in Chromium.

* axe-core (Deque's WCAG rules, shipped inside ``axe-playwright-python``, injected into the page: no
  network) runs on every page in the theme's light and dark modes: no violation of impact "serious" or
  "critical". Every violation found, of any impact, is counted in ``_build/screenshots/a11y.json``.
* Every control of every explorer (a slider, a button, a menu: whatever the reader can operate) is
  reached by the Tab key and has an accessible name, as the browser computes it for a screen reader.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.browser import EXPLORER_ROOTS, PAGES, open_page, set_theme
from tests.test_site import SCREENSHOTS

BLOCKING = ("serious", "critical")


@pytest.fixture(scope="session")
def a11y_report(request):
    """Violations by impact, rule and page, written to _build/screenshots/a11y.json."""
    report = {"pages": {}, "by_impact": Counter(), "by_rule": Counter(), "explorer_controls": 0}
    yield report
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "a11y.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(f"\naxe violations by impact: {dict(report['by_impact'])}; by rule: "
                            f"{dict(report['by_rule'])}; explorer controls checked: {report['explorer_controls']}")


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def describe(violation: dict) -> str:
    targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
    return (f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} elements): {violation['help']}; "
            f"e.g. {targets}")


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_violation(name, mode, browser_context, site_url, axe, a11y_report):
    opened = open_page(browser_context, site_url, f"{name}.html")
    try:
        set_theme(opened.page, mode)
        results = axe.run(opened.page).response
    finally:
        opened.page.close()
    violations = results["violations"]
    a11y_report["pages"][f"{name} ({mode})"] = {v["id"]: [v["impact"], len(v["nodes"])] for v in violations}
    for violation in violations:
        a11y_report["by_impact"][violation["impact"]] += 1
        a11y_report["by_rule"][f"{violation['id']} ({violation['impact']})"] += 1
    blocking = [describe(v) for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name} in {mode} mode:\n  " + "\n  ".join(blocking)


# Every control of the explorers on the page (open shadow roots included), whether or not focusable.
EXPLORER_CONTROLS = r"""
roots => {
  const controls = [];
  const interactive = 'input, select, textarea, button, a[href], [tabindex], [role=slider], [role=button], '
                    + '[role=spinbutton], [role=combobox], [role=listbox], [role=radio], [role=checkbox], [role=tab]';
  const walk = node => {
    for (const element of node.querySelectorAll('*')) {
      if (element.matches(interactive) && element.getAttribute('tabindex') !== '-1' && !element.disabled
          && element.getClientRects().length && getComputedStyle(element).visibility !== 'hidden'
          && element.type !== 'hidden') {
        controls.push(element);
      }
      if (element.shadowRoot) walk(element.shadowRoot);
    }
  };
  document.querySelectorAll(roots).forEach(root => {
    if (!root.parentElement.closest(roots)) walk(root);
  });
  // Radio buttons of one group are one Tab stop: the group counts, through its checked button.
  const seen = new Set();
  const stops = controls.filter(c => {
    if (c.type !== 'radio' || !c.name) return true;
    const key = (c.form ? 'form' : '') + c.name;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  window.__explorerControls = stops;
  return stops.map(c => c.outerHTML.slice(0, 120));
}
"""

# The element that has the focus, through open shadow roots: marks it as reached, says whether it is the
# first stop again (the walk is over) and whether it belongs to an explorer.
FOCUSED = r"""
roots => {
  let element = document.activeElement;
  while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
  if (!element || element === document.body) return null;
  if (!window.__firstStop) window.__firstStop = element;
  else if (element === window.__firstStop) return {again: true};
  const group = element.type === 'radio' && element.name;
  (window.__explorerControls || []).forEach(c => {
    if (c === element || (group && c.type === 'radio' && c.name === element.name && c.form === element.form)) {
      c.__reached = true;
    }
  });
  let inside = false;
  for (let node = element; node; node = node.parentElement || (node.getRootNode && node.getRootNode().host)) {
    if (node.matches && node.matches(roots)) { inside = true; break; }
  }
  window.__focused = element;
  return {again: false, inside, html: element.outerHTML.slice(0, 100)};
}
"""

UNREACHED = "() => window.__explorerControls.filter(c => !c.__reached).map(c => c.outerHTML.slice(0, 120))"
MAX_TABS = 2000


def accessible_name(cdp) -> tuple[str, str]:
    """Role and accessible name of the focused element, as Chromium's accessibility tree has them."""
    handle = cdp.send("Runtime.evaluate", {"expression": "window.__focused"})
    node = cdp.send("DOM.describeNode", {"objectId": handle["result"]["objectId"]})
    tree = cdp.send("Accessibility.getPartialAXTree",
                    {"backendNodeId": node["node"]["backendNodeId"], "fetchRelatives": False})
    ax = next((n for n in tree["nodes"] if not n.get("ignored")), tree["nodes"][0])
    return ax.get("role", {}).get("value", ""), (ax.get("name", {}).get("value") or "").strip()


@pytest.mark.parametrize("name", PAGES)
def test_every_explorer_control_is_reached_by_tab_and_named(name, browser_context, site_url, a11y_report):
    opened = open_page(browser_context, site_url, f"{name}.html")
    page = opened.page
    problems, controls, named = [], [], 0
    try:
        explorers = page.locator(EXPLORER_ROOTS).count()
        if explorers:
            controls = page.evaluate(EXPLORER_CONTROLS, EXPLORER_ROOTS)
            if not controls:
                problems.append(f"{explorers} explorers but no control a keyboard can reach")
            cdp = browser_context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("Accessibility.enable")
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            for tabs in range(1, MAX_TABS + 1):  # noqa: B007 (reported below)
                page.keyboard.press("Tab")
                focused = page.evaluate(FOCUSED, EXPLORER_ROOTS)
                if focused and focused["again"]:
                    break  # back at the first stop: the whole page has been walked
                if focused is None or not focused["inside"]:
                    continue
                role, label = accessible_name(cdp)
                if label:
                    named += 1
                else:
                    problems.append(f"explorer control without an accessible name (role {role!r}): {focused['html']}")
            problems += [f"explorer control not reached by Tab ({tabs} presses): {html}"
                         for html in page.evaluate(UNREACHED)]
    finally:
        page.close()
    a11y_report["explorer_controls"] += len(controls)
    a11y_report.setdefault("explorer_controls_named", 0)
    a11y_report["explorer_controls_named"] += named
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
