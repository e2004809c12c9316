"""Browser e2e of "who pays decides which cap" (issue 20): made-up prices on a free model cannot stop the room.

The real app under ``streamlit run`` with the facilitator's caps (app-wide $1, $0.50 per participant, a facilitator
password), the base slot on the embedded model (free) and the fine-tuned slot on the facilitator's paid endpoint (a
real OpenAI-compatible server on 127.0.0.1, the server's key, priced with ``RAGFT_PRICE_OVERRIDES``). In headless
Chromium, participant A prices the embedded model at $1,000,000 per 1M tokens on Costs → Prices and asks a question:
it is answered (not refused by any cap), shows as hypothetical, and the facilitator's app-wide spend on the server's
key stays $0 (the Facilitator page and the class database). Participant B's server-key call then still runs.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest

from ragft.store import open_store
from ragft.store import spend as S
from tests.e2e.conftest import wait_idle
from tests.fake_latency_server import LatencyServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

KEY = "sk-facilitator-paying-e2e"
PASSWORD = "room 12 password"
QUESTION = "How much does the Kestrel 2 Tent cost?"
CONFIGS = ("Base", "Base + RAG", "Fine-tuned", "Fine-tuned + RAG")


@pytest.fixture(scope="module")
def facilitator_endpoint():
    with LatencyServer(token_delay_s=0.005, first_token_s=0.01) as srv:
        yield srv


@pytest.fixture(scope="module")
def app(facilitator_endpoint, app_on_stub):
    return app_on_stub(
        "paying-data",
        facilitator_endpoint.base_url,
        {"FT": "fake-ft"},
        OPENAI_API_KEY=KEY,
        RAGFT_PRICE_OVERRIDES="fake-ft=1/1",
        RAGFT_APP_BUDGET_USD="1",
        RAGFT_PARTICIPANT_BUDGET_USD="0.50",
        RAGFT_FACILITATOR_PASSWORD=PASSWORD,
        RAGFT_MAX_TOKENS="8",
    )


def open_page(page, url: str, name: str) -> None:
    """Go to a page by its navigation link (the app is loaded once per participant: a new load is a new session)."""
    if not page.url.startswith(url):
        page.goto(url)
        wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    wait_idle(page)
    time.sleep(0.5)
    wait_idle(page)


def enter_override(page, model: str, per_m: str) -> None:
    """Type one row into Costs → Prices → "Your price overrides" (a canvas grid: cells by position) and apply it."""
    page.get_by_role("tab", name="Prices").click()
    for _ in range(4):  # an edit typed while the grid reruns can be lost: check, and type the row again
        grid = page.locator("[data-testid=stDataFrame]:visible").last
        grid.scroll_into_view_if_needed()
        time.sleep(0.5)
        width = grid.bounding_box()["width"]
        for frac, text in ((0.135, model), (0.36, per_m), (0.60, per_m)):  # model, input $/1M, output $/1M
            grid.click(position={"x": width * frac, "y": 52})  # select the cell: typing starts its editor
            time.sleep(0.4)
            page.keyboard.type(text, delay=30)
            page.keyboard.press("Enter")
            time.sleep(0.3)
            wait_idle(page)
            time.sleep(0.3)
        page.get_by_role("button", name="Apply overrides").click()
        try:
            page.get_by_text("1 price override(s) in force").wait_for(timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - not applied yet: type it again
            wait_idle(page)
    raise AssertionError("the price override could not be entered")


def switch(page, label: str):
    return page.get_by_test_id("stCheckbox").filter(has_text=re.compile(rf"^{re.escape(label)}$"))


def ask_only(page, config: str) -> None:
    """On Compare, run only ``config`` and ask the question; wait for its answer's metrics line."""
    for label in CONFIGS:
        if switch(page, label).locator("input").is_checked() != (label == config):
            switch(page, label).click()
            wait_idle(page)
    assert [switch(page, c).locator("input").is_checked() for c in CONFIGS] == [c == config for c in CONFIGS]
    box = page.get_by_label("Your question")
    box.fill(QUESTION)
    box.press("Enter")
    page.wait_for_function(  # its metrics line, or a refusal (then the test fails at once, not at the timeout)
        "() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => e.innerText.startsWith('first token'))"
        " || document.querySelector('[data-testid=stMain]').innerText.includes('Refused')",
        timeout=600_000,
    )
    wait_idle(page, 600_000)


def app_spend(data) -> dict[str, Decimal]:
    store = open_store(data)
    with store.read() as conn:
        return {payer: S.spent(conn, S.APP, payer)[0] for payer in S.PAYERS}


def test_made_up_prices_on_a_free_model_do_not_stop_the_room(app, browser, facilitator_endpoint):
    url, data = app
    a = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    a.set_default_timeout(60_000)
    open_page(a, url, "Costs")
    enter_override(a, "smollm2*", "1000000")
    open_page(a, url, "Compare")
    ask_only(a, "Base")  # the embedded model: free, priced $1,000,000 per 1M by this participant
    main = a.get_by_test_id("stMain").inner_text()
    assert "Refused" not in main and "could cost up to" not in main, main[-2000:]
    sidebar = a.get_by_test_id("stSidebar").inner_text()
    assert re.search(r"Hypothetical: \$[\d,.]+", sidebar), sidebar
    assert re.search(r"Session spend\s*\n?\s*\$0\b", sidebar), sidebar
    spend = app_spend(data)
    assert spend[S.SERVER] == 0  # the facilitator's app-wide total
    assert spend[S.HYPOTHETICAL] > Decimal("1")  # made-up dollars: recorded apart, counted against nothing

    f = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    f.set_default_timeout(60_000)
    f.goto(url + "/facilitator")  # the console's own address: it is not in participants' navigation
    wait_idle(f)
    f.get_by_label("Facilitator password").fill(PASSWORD)
    f.get_by_role("button", name="Unlock").click()
    wait_idle(f)
    f.get_by_text("App-wide spend (server key)").wait_for()
    metric = f.get_by_test_id("stMetric").filter(has_text="App-wide spend (server key)")
    assert metric.get_by_test_id("stMetricValue").inner_text().strip() == "$0"
    hypothetical = f.get_by_test_id("stMetric").filter(has_text="Hypothetical")
    assert hypothetical.get_by_test_id("stMetricValue").inner_text().strip() not in ("$0", "")

    b = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    b.set_default_timeout(60_000)
    before = len(facilitator_endpoint.authorizations())
    open_page(b, url, "Compare")
    ask_only(b, "Fine-tuned")  # another participant, on the facilitator's key
    main = b.get_by_test_id("stMain").inner_text()
    assert "Refused" not in main, main[-2000:]
    assert any(KEY in h for h in facilitator_endpoint.authorizations()[before:])  # it reached the paid endpoint
    spend = app_spend(data)
    assert 0 < spend[S.SERVER] < Decimal("0.01")  # only B's real call is in the facilitator's total
