"""Browser e2e: with join codes required (``RAGFT_JOIN=codes``), a browser gets a workspace only for an unused code.

The real app under ``streamlit run`` with a facilitator password and the class database in a fresh data dir, in
headless Chromium. The facilitator issues codes on the Facilitator page; a context opening the code's link gets in
(and back in without it); a second context with the same code is refused; a context without a code sees the message
and no workspace, then types an unused code in the form and gets in.
"""

from __future__ import annotations

import pytest

from ragft.store import join_codes as J
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
    data = tmp_path_factory.mktemp("codes-data")
    with running_app(data, RAGFT_FACILITATOR_PASSWORD=PASSWORD, RAGFT_JOIN="codes") as url:
        yield url, data


def _open(ctx, url):
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(url)
    wait_idle(pg)
    return pg


def _ws(pg) -> str | None:
    return pg.evaluate("() => new URL(location.href).searchParams.get('ws')")


def _live(data) -> set[str]:
    return {w.id for w in W.list_workspaces(open_store(data))}


def test_a_code_admits_one_browser_and_no_code_admits_none(app, browser):
    url, data = app
    fac_ctx = browser.new_context()
    fac = _open(fac_ctx, url + "/facilitator")
    fac.get_by_label("Facilitator password").fill(PASSWORD)
    fac.get_by_role("button", name="Unlock").click()
    wait_idle(fac)
    fac.get_by_role("tab", name="Join link").click()
    fac.get_by_label("Codes to issue").fill("2")
    fac.get_by_role("button", name="Issue codes").click()
    # The page's confirmation, not the script state alone: right after the click the previous run's "not running"
    # can still be on the page (a loaded machine), and the store would be read before the codes are in it.
    fac.get_by_text("2 new code(s).").wait_for()
    wait_idle(fac)
    codes = [c.code for c in J.list_codes(open_store(data))]
    assert len(codes) == 2
    fac.get_by_text(J.display(codes[0])).first.wait_for(state="attached")  # listed (a grid cell of the table)
    seated = _live(data)  # the facilitator's own workspace (no code needed)

    first = browser.new_context()
    page = _open(first, f"{url}/?code={J.display(codes[0])}")
    page.wait_for_function("() => new URL(location.href).searchParams.get('ws')")
    ws = _ws(page)
    assert ws in _live(data) and J.get(open_store(data), codes[0]).workspace_id == ws
    assert "code=" not in page.url, "the code leaves the address bar once tried"
    page.wait_for_function("() => document.cookie.includes('ragft_ws=')")
    again = _open(first, url)  # the join link again, same browser, no code
    again.wait_for_function("() => new URL(location.href).searchParams.get('ws')")
    assert _ws(again) == ws

    second = browser.new_context()
    refused = _open(second, f"{url}/?code={J.display(codes[0])}")
    assert refused.get_by_text("already used in another browser").count() == 1
    assert _ws(refused) is None and _live(data) == seated | {ws}

    third = browser.new_context()
    bare = _open(third, url)
    assert bare.get_by_text("This workshop needs a join code").count() == 1
    assert _ws(bare) is None and _live(data) == seated | {ws}
    bare.get_by_label("Join code").fill(codes[1].lower())
    bare.get_by_role("button", name="Join").click()
    bare.wait_for_function("() => new URL(location.href).searchParams.get('ws')")
    wait_idle(bare)
    assert J.get(open_store(data), codes[1]).workspace_id == _ws(bare)
    bare.get_by_text("needs a join code").wait_for(state="detached", timeout=30_000)  # the form goes
    for ctx in (fac_ctx, first, second, third):
        ctx.close()
