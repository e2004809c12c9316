"""AppTest of the budget on the Costs page: the participant lowers their own cap; it is kept for their workspace
(a reload finds it) and can never exceed the facilitator's cap."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.costs.budget import Budget
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


def test_participant_lowers_their_cap_and_a_reload_keeps_it(data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_PARTICIPANT_BUDGET_USD", "0.50")  # the facilitator's cap is server configuration
    at = costs(data_dir)
    ws = at.query_params["ws"]
    assert "Cap: $0.50" in captions(at)
    field = at.number_input(key="costs_own_cap_value")
    assert field.max == 0.5  # the facilitator's cap is the most a participant may choose
    field.set_value(0.2)
    at.button(key="FormSubmitter:costs_own_cap-Set my cap").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Cap: $0.20" in captions(at)
    budget = Budget(data_dir, None, D("0.50"), workspace_id=ws)
    assert budget.status().session_cap == D("0.20")
    budget.reserve(D("0.15")).settle(D("0.15"))  # spent from another tab of the same workspace
    again = costs(data_dir, ws)  # a reload: same workspace, same cap, same spend
    assert "Cap: $0.20" in captions(again)
    assert any(m.value == "$0.15" for m in again.main.metric)
    other = costs(data_dir)  # another participant keeps the facilitator's cap
    assert other.query_params["ws"] != ws and "Cap: $0.50" in captions(other)
    again.button(key="FormSubmitter:costs_own_cap-Remove my cap").click().run()
    assert "Cap: $0.50" in captions(again)
