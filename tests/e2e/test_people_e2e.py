"""Browser e2e: participants are people, not tabs, and the facilitator always gets in.

The real app under ``streamlit run`` with a facilitator password and the class database in a fresh data dir,
driven by headless Chromium. One browser context opening the join link twice gets one workspace (its cookie);
50 wrong passwords from one context do not stop the facilitator in another; the facilitator bounds the room and
the next fresh context is refused with a message; a revoked workspace's browser is refused.
"""

from __future__ import annotations

import time

import pytest

from ragft.store import open_store
from ragft.store import workspaces as W
from tests.e2e.app_server import running_app
from tests.e2e.conftest import _skip_reason, wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    data = tmp_path_factory.mktemp("people-data")
    with running_app(data, RAGFT_FACILITATOR_PASSWORD=PASSWORD) as url:
        yield url, data


def _open(ctx, url):
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(url)
    wait_idle(pg)
    return pg


def _ws(pg) -> str:
    pg.wait_for_function("() => new URL(location.href).searchParams.get('ws')")
    return pg.evaluate("() => new URL(location.href).searchParams.get('ws')")


def _live(data) -> list[str]:
    return [w.id for w in W.list_workspaces(open_store(data))]


def _unlock(pg, password: str) -> None:
    box = pg.get_by_label("Facilitator password")
    box.fill(password)
    pg.get_by_role("button", name="Unlock").click()
    wait_idle(pg)


def test_people_not_tabs_and_the_facilitator_gets_in(app, browser):
    url, data = app
    participant = browser.new_context()
    first = _open(participant, url)
    ws = _ws(first)
    assert "Facilitator" not in first.locator("[data-testid='stSidebarNav']").inner_text()
    first.wait_for_function("() => document.cookie.includes('ragft_ws=')")
    first.close()
    again = _open(participant, url)  # the join link (no ?ws=) opened again in the same browser
    assert _ws(again) == ws
    assert _live(data) == [ws], "one browser, one workspace"

    # 50 wrong passwords from the participant's browser, then the facilitator in another browser.
    again.goto(url + "/facilitator")
    wait_idle(again)
    t0 = time.monotonic()
    for i in range(50):
        _unlock(again, f"guess{i}")
    assert again.get_by_text("Too many wrong passwords").count() > 0, f"{time.monotonic() - t0:.0f} s of guesses"
    fac_ctx = browser.new_context()
    fac = _open(fac_ctx, url + "/facilitator")
    _unlock(fac, PASSWORD)
    fac.get_by_role("tab", name="Actions").click()
    fac.get_by_label("Seats (0: no bound)").wait_for(timeout=20_000)  # unlocked at once, after the 50 guesses

    # Bound the room at the seats now live (participant + facilitator): the next fresh browser is refused.
    seats = len(_live(data))
    fac.get_by_label("Seats (0: no bound)").fill(str(seats))
    fac.get_by_label("Seats (0: no bound)").press("Enter")
    wait_idle(fac)
    fac.get_by_role("button", name="Set the seats").click()
    # the page's confirmation first: right after the click the previous run's "not running" can still be on the page
    fac.get_by_text(f"The room holds {seats} workspace(s)").wait_for(timeout=60_000)
    wait_idle(fac)
    assert W.seats(open_store(data)) == seats
    late = browser.new_context()
    refused = _open(late, url)
    assert refused.get_by_text("This room is full").count() == 1
    assert len(_live(data)) == seats

    # Revoke the participant's workspace: its browser is refused, its seat is free for the late one.
    # (no reload: a new page load is a new session, which must unlock again)
    fac.get_by_text("Yes, delete its documents").click()
    wait_idle(fac)
    revoke = fac.get_by_role("button", name="Revoke this workspace")
    fac.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('Revoke') && !b.disabled)"
    )
    revoke.click()
    deadline = time.monotonic() + 30
    while ws in _live(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ws not in _live(data)
    back = _open(participant, url)
    assert back.get_by_text("The facilitator closed this workspace").count() == 1
    admitted = _open(late, url)
    assert admitted.get_by_text("This room is full").count() == 0 and _ws(admitted) in _live(data)
    for ctx in (participant, fac_ctx, late):
        ctx.close()
