"""Accessibility checked, not assumed: axe-core in the page under test, at each state a test
reaches, in every engine the test runs in.

``check_accessibility(browser, "profile-2fa-on")`` injects axe-core (``tests/axe``, a pinned npm
package installed with ``npm ci`` as ``scripts/test.sh`` does), runs it on the whole document
with the WCAG 2.2 A/AA rule tags, saves the results as ``test-artifacts/axe/ENGINE/STATE.json``
(git-ignored) and fails on any violation, naming the rule, the elements and the file.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.browser.drivers import Driver

AXE_DIR = Path(__file__).resolve().parents[1] / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# What comes back from the page: the violations and incomplete checks whole, the rest by id
# (each pass lists every node it checked: too much to carry for every state).
RUN = """
const options = { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations', 'incomplete'] };
return window.axe.run(document, options).then((r) => ({
  url: r.url,
  timestamp: r.timestamp,
  testEngine: r.testEngine,
  testEnvironment: r.testEnvironment,
  toolOptions: r.toolOptions,
  violations: r.violations,
  incomplete: r.incomplete,
  passes: r.passes.map((rule) => rule.id),
  inapplicable: r.inapplicable.map((rule) => rule.id),
}));
"""


@cache
def axe_source() -> str:
    """axe.min.js, installed from tests/axe/package-lock.json the first time it is needed."""
    if not AXE_SCRIPT.is_file():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, check=True)  # noqa: S607
    return AXE_SCRIPT.read_text(encoding="utf-8")


def check_accessibility(browser: Driver | Page, state: str) -> Path:
    """Runs axe-core on the page as it is now; saves the results as ``STATE.json`` under
    ``test-artifacts/axe/ENGINE/`` and fails on any WCAG 2.2 A/AA violation."""
    if isinstance(browser, Page):
        from tests.browser.drivers.chromium import ChromiumDriver

        browser = ChromiumDriver(browser, "")
    if not browser.js("return typeof window.axe === 'object'"):
        browser.inject_script(axe_source())
    results: dict[str, Any] = browser.js(RUN, WCAG_TAGS)
    results["state"] = state
    results["engine"] = browser.engine
    folder = ARTIFACTS / browser.engine
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{state}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    violations = results["violations"]
    assert not violations, (
        f"[{browser.engine}] {state}: {len(violations)} accessibility rule(s) violated "
        f"(axe-core results: {path})\n" + "\n".join(describe(rule) for rule in violations)
    )
    return path


def describe(rule: dict[str, Any]) -> str:
    """One violated rule: its id, impact and help, then each element and why it fails."""
    lines = [f"- {rule['id']} ({rule.get('impact')}): {rule['help']}"]
    for node in rule["nodes"][:10]:
        target = " ".join(str(t) for t in node["target"])
        summary = (node.get("failureSummary") or "").replace("\n", " ")
        lines.append(f"    {target}: {node['html'][:160]} | {summary[:300]}")
    return "\n".join(lines)
