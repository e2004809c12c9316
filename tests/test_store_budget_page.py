"""AppTest of the budget on the Costs page: the participant sets their own cap on what they pay themselves; it is
kept for their workspace (a reload finds it) and leaves the facilitator's cap on the server's key alone."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.costs.budget import OWN, Budget
from ragft.settings import load_settings

pytestmark = pytest.mark.slow  # the pages load the embedded model (sidebar status, answers)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")


def costs(data_dir, ws: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["settings"] = load_settings(
        {"RAGFT_PARTICIPANT_BUDGET_USD": "0.50", "RAGFT_DATA_DIR": str(data_dir)}
    )
    if ws:
        at.query_params["ws"] = ws
    at.run()
    at.switch_page("pages/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> str:
    return " ".join(as_plain(c.value) for c in at.main.caption)


def test_participant_sets_their_own_cap_and_a_reload_keeps_it(data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_PARTICIPANT_BUDGET_USD", "0.50")  # the facilitator's cap is server configuration
    at = costs(data_dir)
    ws = at.query_params["ws"]
    assert "Cap: $0.50" in captions(at) and "Your own cap: none" in captions(at)
    field = at.number_input(key="costs_own_cap_value")
    assert field.max is None or field.max > 0.5  # their own money: not bounded by the facilitator's cap
    field.set_value(2.0)
    at.button(key="FormSubmitter:costs_own_cap-Set my cap").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Your own cap: $2.00" in captions(at) and "Cap: $0.50" in captions(at)
    budget = Budget(data_dir, None, D("0.50"), workspace_id=ws)
    st = budget.status()
    assert (st.own_cap, st.workspace_cap) == (D("2.00"), D("0.50"))
    budget.reserve(D("0.15")).settle(D("0.15"))  # spent from another tab of the same workspace, server's key
    budget.reserve(D("0.75"), payer=OWN).settle(D("0.75"))  # and on their own key
    again = costs(data_dir, ws)  # a reload: same workspace, same caps, same spend, each where it was paid
    assert "Your own cap: $2.00" in captions(again) and "Cap: $0.50" in captions(again)
    metrics = {m.label: m.value for m in again.main.metric}
    assert metrics["You, on the server's key"] == "$0.15" and metrics["You, on your own key"] == "$0.75"
    other = costs(data_dir)  # another participant keeps the facilitator's cap, no own cap
    assert other.query_params["ws"] != ws and "Your own cap: none" in captions(other)
    again.button(key="FormSubmitter:costs_own_cap-Remove my cap").click().run()
    assert "Your own cap: none" in captions(again) and "Cap: $0.50" in captions(again)
