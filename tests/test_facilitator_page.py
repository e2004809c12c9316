"""AppTest of the Facilitator page: a wrong password is refused and nothing of the page renders; votes from
several participants' sessions aggregate in the class results; a participant's run is stopped from the page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.runs import BackgroundRun, registry
from ragft.store import open_store
from ragft.store import records as R
from tests.apptest_helpers import open_facilitator

pytestmark = pytest.mark.slow  # the pages load the embedded model (sidebar status, answers)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
PASSWORD = "correct horse"


@pytest.fixture
def facilitator_env(data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_FACILITATOR_PASSWORD", PASSWORD)
    return data_dir


def table(at: AppTest, column: str):
    """The dataframe on the page that has ``column``."""
    for d in at.dataframe:
        if column in d.value.columns:
            return d.value
    raise AssertionError(f"no table with a {column!r} column")


def test_wrong_password_is_refused_and_nothing_renders(facilitator_env):
    at = open_facilitator("not it")
    assert any("Wrong password" in as_plain(e.value) for e in at.error)
    assert not at.tabs and not at.dataframe
    assert "fac_room_table" not in [getattr(d, "key", None) for d in at.dataframe]


def test_votes_from_several_sessions_aggregate_on_the_page(facilitator_env):
    store = open_store(facilitator_env)
    for ws, winner in (("wsA", "ft_rag"), ("wsB", "ft_rag"), ("wsC", "base_rag")):  # three participants' sessions
        participant = AppTest.from_file(APP, default_timeout=120)
        participant.run()
        assert not participant.exception
        own = participant.session_state["workspace_id"]
        assert R.record_vote(store, own, f"cmp-{ws}", winner, ["base", "base_rag", "ft_rag"], "What costs X?")
    at = open_facilitator(PASSWORD)
    board = table(at, "Rating (Bradley-Terry)")
    rows = {r["Configuration"]: r for r in board.to_dict("records")}
    assert rows["Fine-tuned + RAG"]["Won"] == 2 and rows["Fine-tuned + RAG"]["Shown"] == 3
    assert rows["Base + RAG"]["Won"] == 1 and rows["Base"]["Won"] == 0
    assert "3 blind vote" in " ".join(as_plain(s.value) for s in at.subheader)


class Endless(BackgroundRun[list]):
    def _work(self) -> None:
        while not self.cancelled:
            time.sleep(0.02)


def test_the_facilitator_stops_a_participants_run(facilitator_env):
    participant = AppTest.from_file(APP, default_timeout=120)
    participant.run()
    ws = participant.session_state["workspace_id"]
    run = Endless([], kind="evaluation", what="shipped set: 34 question(s)", owner=ws).start()
    registry().add(run)
    try:
        at = open_facilitator(PASSWORD)
        room = table(at, "Running now").to_dict("records")
        assert any("evaluation" in r["Running now"] for r in room)
        at.button(key="fac_stop_run").click().run()
        run.wait(10)
        assert run.cancelled and run.done
    finally:
        run.cancel()
        registry().discard(run)


def test_the_facilitator_resets_the_app_wide_total_after_confirming(facilitator_env, monkeypatch):
    """Spend by who paid on the Room tab; the app-wide reset needs a confirmation, frees the room and is recorded."""
    from decimal import Decimal as D

    from ragft.costs.budget import HYPOTHETICAL, OWN, Budget
    from ragft.errors import BudgetExceeded
    from ragft.store import spend as S

    monkeypatch.setenv("RAGFT_APP_BUDGET_USD", "1")
    participant = AppTest.from_file(APP, default_timeout=120)
    participant.run()
    ws = participant.session_state["workspace_id"]
    budget = Budget(facilitator_env, D("1"), None, workspace_id=ws)
    budget.reserve(D("0.95")).settle(D("0.95"))  # the server's key
    budget.reserve(D("4"), payer=OWN).settle(D("4"))  # their own key
    budget.reserve(D("9000"), payer=HYPOTHETICAL).settle(D("9000"))  # a free model they priced
    with pytest.raises(BudgetExceeded):
        budget.reserve(D("0.10"))  # the room is stopped on the server's key
    at = open_facilitator(PASSWORD)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["App-wide spend (server key)"] == "$0.95"
    assert metrics["Participants' own keys"] == "$4.00" and metrics["Hypothetical"] == "$9,000.00"
    row = next(r for r in table(at, "Server key").to_dict("records") if r["Server key"] == "$0.95")
    assert row["Own key"] == "$4.00" and row["Hypothetical"] == "$9,000.00"
    reset = at.button(key="fac_reset_app")
    assert reset.disabled  # not without the confirmation
    at.checkbox(key="fac_reset_app_confirm").check().run()
    at.button(key="fac_reset_app").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}["App-wide spend (server key)"] == "$0"
    events = table(at, "Cleared").to_dict("records")
    assert any(
        e["What"] == "app-wide total" and e["Paid by"] == "server key" and e["Cleared"] == "$0.95" for e in events
    )
    assert [e.amount for e in S.budget_events(open_store(facilitator_env)) if e.payer == S.SERVER] == [D("0.95")]
    budget.reserve(D("0.10")).settle(D("0.10"))  # the room runs again; the participant keeps their own spend
    assert budget.status().workspace_spent == D("1.05")
