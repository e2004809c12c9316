"""axe-core (Deque's accessibility engine, npm) for the browser tests.

The version is pinned in ``tests/e2e/npm/package.json`` with its integrity hash in ``package-lock.json``;
``npm ci`` installs it into ``tests/e2e/npm/node_modules`` (ignored by git). ``scripts/setup.sh --dev`` runs
``python -m tests.e2e.axe``; a test that finds it missing (or at another version than the pin) installs it the
same way. The script is injected into the page with Playwright's ``add_script_tag`` and run with ``axe.run``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NPM_DIR = Path(__file__).resolve().parent / "npm"
AXE_PACKAGE = NPM_DIR / "node_modules" / "axe-core"
AXE_JS = AXE_PACKAGE / "axe.min.js"

# What fails the test: WCAG 2.x A/AA rules and axe's best practices, at these impacts.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")


def pinned_version() -> str:
    return json.loads((NPM_DIR / "package.json").read_text())["dependencies"]["axe-core"]


def installed_version() -> str | None:
    meta = AXE_PACKAGE / "package.json"
    if not (meta.is_file() and AXE_JS.is_file()):
        return None
    return str(json.loads(meta.read_text())["version"])


def axe_script() -> Path:
    """The pinned ``axe.min.js``, installed with ``npm ci`` from the lockfile when missing or at another version."""
    if installed_version() != pinned_version():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed (apt-get install npm): it installs axe-core for the a11y test")
        subprocess.run(
            [npm, "ci", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
            check=True,
            timeout=300,
        )
        if installed_version() != pinned_version():
            raise RuntimeError(f"npm ci did not install axe-core {pinned_version()} into {NPM_DIR}")
    return AXE_JS


@dataclass(frozen=True)
class Allowed:
    """A violation that is the framework's, not ours: an axe rule on nodes inside one of its components.

    ``within`` is a regular expression searched in the node's place: the ``data-testid`` values of the node and
    its ancestors, outermost first, joined by " > " (e.g. "stSidebar > stSidebarNav > stSidebarNavItems").
    Streamlit's test ids are stable across releases; axe's own ``target`` selectors (generated emotion class
    names, ``nth-child``) are not.
    """

    rule: str
    within: str
    reason: str

    def covers(self, rule: str, place: str) -> bool:
        return rule == self.rule and re.search(self.within, place) is not None


def run_axe(page: Any, within: str | None = None) -> list[dict]:
    """axe's violations on the page as it is now, or only inside the shown elements that match the CSS selector
    ``within`` (the script is injected once per document)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script()))
    return page.evaluate(
        """async ([tags, within]) => {
            const context = within
                ? {include: [...document.querySelectorAll(within)].filter(e => e.getClientRects().length > 0)}
                : document;
            const placeOf = (target) => {
                let el = target.length === 1 ? document.querySelector(target[0]) : null;
                const ids = [];
                for (; el; el = el.parentElement) if (el.dataset && el.dataset.testid) ids.unshift(el.dataset.testid);
                return ids.join(' > ');
            };
            const r = await axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), place: placeOf(n.target), impact: n.impact,
                                         html: n.html.slice(0, 160), summary: n.failureSummary}))
            }));
        }""",
        [TAGS, within],
    )


def failing(violations: list[dict], allowlist: tuple[Allowed, ...]) -> tuple[list[str], list[str]]:
    """(serious/critical nodes the app controls, nodes the allowlist explained), one line each."""
    ours: list[str] = []
    theirs: list[str] = []
    for v in violations:
        for n in v["nodes"]:
            impact = n["impact"] or v["impact"]
            if impact not in FAILING_IMPACTS:
                continue
            place = " > ".join(n["place"].split(" > ")[-3:]) or n["target"]
            why = (n["summary"] or "").strip().splitlines()[-1:]
            line = f"{v['id']} ({impact}) in {place}: {n['html'][:100]} ({' '.join(why)[:160]})"
            (theirs if any(a.covers(v["id"], n["place"]) for a in allowlist) else ours).append(line)
    return ours, theirs


if __name__ == "__main__":
    print(axe_script())
