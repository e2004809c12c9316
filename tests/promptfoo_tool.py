"""promptfoo (npm) for the export test, installed at a pinned version outside the project.

``scripts/setup.sh --dev`` runs ``python -m tests.promptfoo_tool`` so the test tools are all in place before the
tests start; the ``promptfoo`` fixture of ``tests/test_promptfoo_run.py`` calls :func:`install` too, a no-op when
the pinned version is there. The folder is ``$RAGFT_PROMPTFOO_DIR`` (default ``~/.cache/ragft-promptfoo``): about
3.5 minutes the first time on 2 cores, then nothing. 0.121.20 is the last version that supports the Node.js 20 of
Debian's machines (0.122 wants Node 22.22).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROMPTFOO_VERSION = "0.121.20"
INSTALL_TIMEOUT_S = 900


class PromptfooMissing(RuntimeError):
    pass


def home() -> Path:
    return Path(os.environ.get("RAGFT_PROMPTFOO_DIR") or Path.home() / ".cache" / "ragft-promptfoo")


def installed(folder: Path) -> bool:
    package = folder / "node_modules" / "promptfoo" / "package.json"
    return package.is_file() and json.loads(package.read_text()).get("version") == PROMPTFOO_VERSION


def install() -> Path:
    """The folder holding ``node_modules/.bin/promptfoo`` at the pinned version (npm install once)."""
    folder = home()
    if installed(folder):
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise PromptfooMissing("npm is not installed: the promptfoo export test needs Node.js and npm")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error",
         f"promptfoo@{PROMPTFOO_VERSION}"],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
    )  # fmt: skip
    if done.returncode != 0 or not installed(folder):
        raise PromptfooMissing(f"npm install promptfoo@{PROMPTFOO_VERSION} failed: {done.stderr[-2000:]}")
    return folder


if __name__ == "__main__":
    try:
        print(install())
    except PromptfooMissing as exc:
        sys.exit(str(exc))
