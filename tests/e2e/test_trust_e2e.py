"""Browser e2e of the workshop trust boundary: the facilitator's key never reaches a participant or a foreign URL.

The app runs under ``streamlit run`` with a canary key in its environment and both slots on a real
OpenAI-compatible server on 127.0.0.1 (the facilitator's endpoint). A participant in headless Chromium opens every
page, asks a question, downloads every export on the way, then points the base slot at a second server (the
participant's own URL) and tests and uses it. The canary must appear in no input value, no page text, no
WebSocket frame, no download and no server log line; the facilitator's server must have received it (so the test
would see a leak), the participant's server never.
"""

from __future__ import annotations

import pytest

from tests.e2e.app_server import running_app
from tests.e2e.conftest import _skip_reason, wait_idle
from tests.fake_latency_server import LatencyServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CANARY = "sk-canary-3b9e71c5a0d24f86"
PAGES = ("Knowledge base", "Compare", "Evaluate", "Decision guide", "Costs", "Settings")


@pytest.fixture(scope="module")
def servers():
    with (
        LatencyServer(token_delay_s=0.005, first_token_s=0.01) as facilitator,
        LatencyServer(token_delay_s=0.005, first_token_s=0.01) as participant,
    ):
        yield facilitator, participant


@pytest.fixture(scope="module")
def app(servers, tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    facilitator, participant = servers
    data = tmp_path_factory.mktemp("trust-data")
    server_env = {
        "OPENAI_API_KEY": CANARY,
        "RAGFT_BASE_PROVIDER": "custom",
        "RAGFT_BASE_URL": facilitator.base_url,
        "RAGFT_BASE_MODEL": "fake-base",
        "RAGFT_FT_PROVIDER": "custom",
        "RAGFT_FT_URL": facilitator.base_url,
        "RAGFT_FT_MODEL": "fake-ft",
        "RAGFT_MAX_TOKENS": "12",
        "RAGFT_APP_BUDGET_USD": "1",
        "RAGFT_ALLOWED_HOSTS": f"127.0.0.1:{participant.port}",  # the participant's own server, allowed
    }
    with running_app(data, "--logger.level", "debug", **server_env) as url:  # debug: even debug lines are checked
        yield url, data / "streamlit.log"


class Watch:
    """Everything the browser received or holds that could carry the key."""

    def __init__(self, page) -> None:
        self.page = page
        self.frames = 0
        self.leaks: list[str] = []
        self.downloads = 0
        page.on("websocket", self._on_ws)

    def _on_ws(self, ws) -> None:
        ws.on("framereceived", self._frame)
        ws.on("framesent", self._frame)

    def _frame(self, payload) -> None:
        self.frames += 1
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        if CANARY.encode() in data:
            self.leaks.append("a WebSocket frame")

    def check_page(self, where: str) -> None:
        html = self.page.content()
        values = self.page.evaluate(
            "() => [...document.querySelectorAll('input, textarea')].map(e => e.value + ' ' + e.placeholder)"
        )
        if CANARY in html or CANARY in self.page.inner_text("body"):
            self.leaks.append(f"the page text of {where}")
        if any(CANARY in v for v in values):
            self.leaks.append(f"an input value on {where}")

    def _download(self, button) -> bytes:
        """The file behind a download button; a click that lands during a rerun is canceled, so try once more."""
        for attempt in range(2):
            with self.page.expect_download() as info:
                button.click()
            try:
                return open(info.value.path(), "rb").read()
            except Exception:
                if attempt:
                    raise
                wait_idle(self.page)
        raise AssertionError("unreachable")

    def download_all(self, where: str) -> None:
        buttons = self.page.locator("[data-testid='stDownloadButton'] button")
        for i in range(buttons.count()):
            button = buttons.nth(i)
            if not (button.is_visible() and button.is_enabled()):
                continue  # inside a closed expander or another tab
            body = self._download(button)
            self.downloads += 1
            if CANARY.encode() in body:
                self.leaks.append(f"download {i} on {where}")


def open_page(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    wait_idle(page)


def test_canary_key_never_reaches_the_browser_or_a_participant_url(app, servers, page):
    url, log_path = app
    facilitator, participant = servers
    watch = Watch(page)
    page.goto(url)
    wait_idle(page)
    watch.check_page("Home")
    for title in PAGES:
        open_page(page, title)
        watch.check_page(title)
    assert not watch.leaks, watch.leaks

    # Ask on Compare with the server's configuration: the facilitator's endpoint gets the key (server side).
    open_page(page, "Compare")
    box = page.get_by_label("Your question")
    box.fill("How much does the Kestrel 2 Tent cost?")
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".filter(e => e.innerText.startsWith('first token')).length >= 2",
        timeout=120_000,
    )
    wait_idle(page)
    watch.check_page("Compare after a question")
    watch.download_all("Compare")
    assert f"Bearer {CANARY}" in facilitator.authorizations()  # the key was really used (so a leak would show)
    open_page(page, "Costs")
    page.get_by_role("tab", name="Calls").click()
    watch.check_page("Costs")
    watch.download_all("Costs")
    open_page(page, "Decision guide")
    watch.check_page("Decision guide")
    watch.download_all("Decision guide")

    # The participant points the base slot at their own URL: tested and used without the server's key.
    open_page(page, "Settings")
    page.get_by_label("Base URL").first.fill(participant.base_url)
    page.get_by_label("Base URL").first.press("Tab")
    wait_idle(page)
    page.get_by_role("button", name="Test connection").first.click()
    wait_idle(page)
    watch.check_page("Settings after a test connection")
    page.get_by_role("button", name="Apply").click()
    try:
        page.get_by_text("Settings applied").wait_for(timeout=30_000)
    except Exception:
        alerts = page.locator("[data-testid='stAlert']").all_inner_texts()
        raise AssertionError(f"Apply did not apply: {alerts}") from None
    wait_idle(page)
    open_page(page, "Compare")
    box = page.get_by_label("Your question")
    box.fill("What is the return window?")
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".filter(e => e.innerText.startsWith('first token')).length >= 2",
        timeout=120_000,
    )
    wait_idle(page)
    watch.check_page("Compare on the participant's URL")

    got = participant.authorizations()
    assert got, "the participant's server was never called"
    assert not any(CANARY in a for a in got), "the server's key was sent to a URL the participant typed"
    assert watch.frames > 0 and watch.downloads >= 2
    assert not watch.leaks, watch.leaks
    log_text = log_path.read_text(errors="replace")
    assert "Uncaught app exception" not in log_text
    assert CANARY not in log_text


def test_a_url_on_the_apps_loopback_reaches_nothing(app, servers, page):
    """SSRF: another path on the facilitator's loopback server (not a URL the server configured, not allowed) is
    refused with a message in the page, and neither local server receives anything."""
    url, _ = app
    facilitator, participant = servers
    before = (len(facilitator.seen), len(participant.seen))
    page.goto(url)
    wait_idle(page)
    open_page(page, "Settings")
    for typed in (f"http://localhost:{facilitator.port}/v2", f"http://2130706433:{facilitator.port}/v1/x"):
        page.get_by_label("Base URL").first.fill(typed)
        page.get_by_label("Base URL").first.press("Tab")
        wait_idle(page)
        page.get_by_role("button", name="Test connection").first.click()
        alert = page.locator("[data-testid='stAlert']").filter(has_text=typed.split("/")[2].split(":")[0])
        alert.first.wait_for(timeout=30_000)
        wait_idle(page)
        shown = alert.first.inner_text()
        assert "loopback address" in shown and "RAGFT_ALLOWED_HOSTS" in shown, shown
    assert (len(facilitator.seen), len(participant.seen)) == before
