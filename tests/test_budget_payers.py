"""Who pays decides which cap (issue 20, item 1), on the class database: the facilitator's caps and the app-wide
total count only the server's key; own-key spend counts against the participant's own cap; a price given to a free
call is hypothetical (recorded, never held, never refused, in no total); the app-wide reset is recorded; a
reservation holds at least as long as its call may run."""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal as D

import pytest

from ragft.access import KEY_OWN, KEY_SERVER, policy_from
from ragft.costs.billing import BilledChatModel, Billing, ServerPriceUnknown, payer_of
from ragft.costs.budget import HYPOTHETICAL, OWN, SERVER, Budget, OwnPriceUnknown, PriceUnknownForBudget
from ragft.costs.metering import call_hold_s, reserve_for
from ragft.errors import BudgetExceeded
from ragft.models.chat import OpenAICompatibleModel
from ragft.settings import EndpointConfig, load_settings
from ragft.store import spend as S

MILLION_PER_M = D(1_000_000)


def server_settings():
    return load_settings(
        {
            "RAGFT_BASE_PROVIDER": "openai",
            "RAGFT_BASE_URL": "https://api.example.test/v1",
            "RAGFT_BASE_MODEL": "gpt-4o-mini",
            "OPENAI_API_KEY": "sk-facilitator",
            "RAGFT_APP_BUDGET_USD": "1",
            "RAGFT_PARTICIPANT_BUDGET_USD": "0.50",
        },
        {},
    )


def test_billing_names_who_pays_each_kind_of_call():
    policy = policy_from(server_settings())
    embedded = EndpointConfig()  # the embedded engine: free
    on_server = policy.participant_endpoint("base")  # the facilitator's endpoint and key
    own = EndpointConfig(
        provider="openai",
        model="gpt-4o-mini",
        base_url="https://api.example.test/v1",
        api_key="sk-mine",
        key_source=KEY_OWN,
    )
    elsewhere = EndpointConfig(provider="custom", model="m", base_url="https://llm.example.org/v1")  # no key, theirs
    assert on_server.key_source == KEY_SERVER
    assert policy.billing("finetuned", embedded).payer == HYPOTHETICAL
    assert policy.billing("base", on_server).payer == SERVER
    assert policy.billing("base", own).payer == OWN
    assert policy.billing("base", elsewhere).payer == OWN
    # The facilitator's key on a free (loopback) endpoint is still the facilitator's: priced by them alone.
    assert Billing(free=True, server_key=True).payer == SERVER
    assert payer_of(object()) == SERVER  # a model without billing: every cap applies (the safe side)


def test_a_price_on_a_free_call_is_hypothetical_and_counts_against_no_cap(tmp_path):
    """$1,000,000 per 1M on the embedded model: the call is neither refused nor in any real total."""
    alice = Budget(tmp_path, app_cap=D("1"), participant_cap=D("0.50"), workspace_id="ws-alice")
    bob = Budget(tmp_path, app_cap=D("1"), participant_cap=D("0.50"), workspace_id="ws-bob")
    alice.set_own_cap(D("0.10"))
    worst = D(2000) * MILLION_PER_M / D(1_000_000)  # $2,000 of made-up money
    for _ in range(3):
        res = alice.reserve(worst, payer=HYPOTHETICAL, label="an embedded answer")
        assert alice.status().app_reserved == 0  # nothing held
        res.settle(D("1500"))
    st = alice.status()
    assert st.hypothetical == D("4500") and st.app_hypothetical == D("4500")
    assert (st.workspace_spent, st.own_spent, st.app_spent, st.app_reserved) == (0, 0, 0, 0)
    bob.reserve(D("0.40")).settle(D("0.40"))  # another participant's server-key call still runs
    assert bob.status().app_spent == D("0.40")
    alice.reserve(None, payer=HYPOTHETICAL).settle(None)  # unknown price on a free call: passes too


def test_own_key_spend_never_touches_the_facilitators_caps(tmp_path):
    b = Budget(tmp_path, app_cap=D("1"), participant_cap=D("0.50"), workspace_id="ws-a")
    b.reserve(D("5"), payer=OWN).settle(D("5"))  # ten times the facilitator's cap, on their own key
    st = b.status()
    assert (st.own_spent, st.app_own_spent) == (D("5"), D("5"))
    assert (st.workspace_spent, st.app_spent) == (0, 0)
    b.reserve(D("0.50")).settle(D("0.50"))  # their full share of the server's key is still there
    with pytest.raises(BudgetExceeded) as err:
        b.reserve(D("0.01"))
    assert "server's key" in err.value.message
    b.reserve(D("1"), payer=OWN).release()  # own key: no own cap, nothing refuses it


def test_own_key_call_with_an_unknown_price(tmp_path):
    """Not refused by the facilitator's caps; refused only under the participant's own cap."""
    b = Budget(tmp_path, app_cap=D("1"), participant_cap=D("0.50"), workspace_id="ws-a")
    cfg = EndpointConfig(
        provider="custom", model="mystery-7b", base_url="https://llm.example.org/v1", api_key="sk-mine"
    )
    own = BilledChatModel(OpenAICompatibleModel(cfg), Billing(free=False, server_key=False), None)
    reserve_for(b, own, None, "a mystery-7b answer").settle(None)
    b.set_own_cap(D("2"))
    with pytest.raises(OwnPriceUnknown) as err:
        reserve_for(b, own, None, "a mystery-7b answer")
    assert "your own cap" in err.value.message and "Costs" in err.value.hint
    server = BilledChatModel(OpenAICompatibleModel(cfg), Billing(free=False, server_key=True), None)
    with pytest.raises(ServerPriceUnknown):  # on the facilitator's key an unknown price still fails closed
        reserve_for(b, server, None, "a mystery-7b answer")
    assert isinstance(ServerPriceUnknown("x"), PriceUnknownForBudget)


def test_the_app_wide_reset_frees_the_room_and_is_recorded(tmp_path):
    b = Budget(tmp_path, app_cap=D("1"), participant_cap=None, workspace_id="ws-a")
    b.reserve(D("0.90")).settle(D("0.90"))
    b.reserve(D("3"), payer=OWN).settle(D("3"))
    b.reserve(D("7"), payer=HYPOTHETICAL).settle(D("7"))
    with pytest.raises(BudgetExceeded) as err:
        b.reserve(D("0.20"))
    assert "app-wide" in err.value.message
    cleared = S.reset_app_spend(b.store, note="Facilitator page")
    assert cleared == {SERVER: D("0.90"), OWN: D("3"), HYPOTHETICAL: D("7")}
    st = b.status()
    assert (st.app_spent, st.app_own_spent, st.app_hypothetical) == (0, 0, 0)
    assert (st.workspace_spent, st.own_spent, st.hypothetical) == (D("0.90"), D("3"), D("7"))  # workspaces keep theirs
    b.reserve(D("0.20")).settle(D("0.20"))  # the room runs again
    events = S.budget_events(b.store)
    assert [(e.kind, e.payer, e.amount) for e in events if e.kind == S.RESET_APP] == [
        (S.RESET_APP, HYPOTHETICAL, D("7")),
        (S.RESET_APP, OWN, D("3")),
        (S.RESET_APP, SERVER, D("0.90")),
    ]
    assert all(e.note == "Facilitator page" and e.scope == S.APP for e in events)
    assert S.reset_spend(b.store, "ws-a") == D("1.10")  # a participant's reset: their server-key spend, recorded
    assert S.budget_events(b.store)[0].kind == S.RESET_WORKSPACE and b.status().own_spent == D("3")


def _reservation_times(data_dir) -> list[tuple[str, float, float | None]]:
    with sqlite3.connect(data_dir / "class.sqlite3") as db:
        return db.execute("SELECT id, t, expires FROM reservations").fetchall()


def _age_reservations(data_dir, seconds: float) -> None:
    """As if ``seconds`` had passed since the reservations were made (their times moved back)."""
    with sqlite3.connect(data_dir / "class.sqlite3") as db:
        db.execute("UPDATE reservations SET t = t - ?, expires = expires - ?", (seconds, seconds))


def test_a_reservation_holds_at_least_as_long_as_the_longest_call(tmp_path):
    """Timeout 3,600 s with 2 retries: the hold lasts 3 x 3,600 s + margin, not the default 900 s."""
    cfg = EndpointConfig(
        provider="openai", model="gpt-4o-mini", base_url="https://api.example.test/v1", timeout_s=3600, max_retries=2
    )
    model = BilledChatModel(OpenAICompatibleModel(cfg), Billing(free=False, server_key=True), None)
    hold = call_hold_s(model)
    assert hold is not None and hold >= 3 * 3600
    b = Budget(tmp_path, app_cap=D("1"), participant_cap=None, workspace_id="ws-a")
    res = reserve_for(b, model, D("0.60"), "a long answer", hold_s=hold)
    ((_, t, expires),) = _reservation_times(tmp_path)
    assert expires is not None and expires - t >= 3 * 3600
    _age_reservations(tmp_path, 3600)  # an hour later, past the old 15-minute expiry: still held
    assert b.status().app_reserved == D("0.60")
    with pytest.raises(BudgetExceeded):
        b.reserve(D("0.60"))
    assert res.keep_alive(every_s=0)  # the call made progress: the hold moves on from now
    ((_, _, kept),) = _reservation_times(tmp_path)
    assert kept >= time.time() + hold - 5
    res.settle(D("0.10"))
    assert b.status().app_reserved == 0 and b.status().app_spent == D("0.10")
    # A call without a timeout of its own keeps the budget's default; a dead call's hold does expire.
    b.reserve(D("0.20"))
    ((_, t, expires),) = _reservation_times(tmp_path)
    assert expires - t == pytest.approx(b.stale_after_s, abs=1)
    _age_reservations(tmp_path, b.stale_after_s + 1)
    assert b.status().app_reserved == 0
    assert call_hold_s(object()) is None
