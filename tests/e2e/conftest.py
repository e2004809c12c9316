"""Browser e2e fixtures: the real app under `streamlit run` on a free port, driven by Playwright + Debian Chromium.

After streamlit/streamlit's e2e_playwright/conftest.py: a module-scoped server, `/_stcore/health` polled (never a
fixed sleep), then each page waited on until `[data-test-script-state='notRunning']`.
"""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.app_server import running_app

CHROMIUM = os.environ.get("RAGFT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (pip) is not installed"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    data = tmp_path_factory.mktemp("e2e-data")
    with running_app(data, RAGFT_MAX_TOKENS=os.environ.get("RAGFT_E2E_MAX_TOKENS", "24")) as url:
        yield url


@pytest.fixture(scope="module")
def app_on_stub(tmp_path_factory):
    """Start the real app with model slots on an endpoint stub (a module's OpenAI-compatible server on 127.0.0.1).

    ``app_on_stub(folder, stub_url, {"FT": "fake-ft"}, **env)`` returns ``(app url, data dir)``: each slot named
    (``BASE``, ``FT``) is ``custom`` at ``stub_url`` with that model, ``env`` is the rest of the server's settings,
    and the data dir is a new ``folder``. Every app started so stops at the end of the module.
    """
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with ExitStack() as started:

        def start(folder: str, stub_url: str, slots: dict[str, str], **env: str) -> tuple[str, Path]:
            for slot, model in slots.items():
                env |= {f"RAGFT_{slot}_PROVIDER": "custom", f"RAGFT_{slot}_URL": stub_url, f"RAGFT_{slot}_MODEL": model}
            data = tmp_path_factory.mktemp(folder)
            return started.enter_context(running_app(data, **env)), data

        yield start


@pytest.fixture(scope="module")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    try:
        yield pg
    finally:
        ctx.close()


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)
