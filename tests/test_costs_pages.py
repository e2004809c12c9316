"""AppTest: the Costs page and the sidebar cost meter, driven through the real router.

AppTest quirk (streamlit 1.67): ``switch_page("pages/x.py")`` runs that page file on its own, without the
router, because the folder is called ``pages/``, and so does a plain ``run()`` after the first one. The
sidebar is drawn only when the router runs, so sidebar assertions use a fresh AppTest (whose first run is
the router) given the same session objects: :func:`router_sidebar`.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ragft.costs.ledger import CallRecord, SessionLedger
from ragft.costs.prices import Price, cost_of, price_for
from ragft.models.usage import Usage
from ragft.settings import load_settings

pytestmark = pytest.mark.slow  # the pages load the embedded model (sidebar status, answers)

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")


def sidebar_text(at: AppTest) -> str:
    parts = [f"{m.label}: {m.value}" for m in at.sidebar.metric] + [c.value for c in at.sidebar.caption]
    parts += [m.value for m in at.sidebar.markdown]
    return " | ".join(str(p) for p in parts)


def router_sidebar(**session) -> str:
    """Run the router (default page) in a fresh AppTest holding these session objects; the sidebar text."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in session.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return sidebar_text(at)


def costs_page(data_dir, **env) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_costs_page_empty_session(data_dir):
    at = costs_page(data_dir)
    assert at.title[0].value == "Costs"
    assert any("No calls yet" in i.value for i in at.info)
    assert [m.value for m in at.main.metric][:2] == ["$0", "0"]
    assert "2027-01-06" in " ".join(w.value for w in at.warning)  # the fine-tuning shutdown notice
    side = router_sidebar(ledger=at.session_state["ledger"])
    assert "Session spend: $0" in side and "No budget cap set." in side


def _ledger_with_calls() -> SessionLedger:
    led = SessionLedger()
    mini, ft = price_for("gpt-4o-mini"), price_for("ft:gpt-4o-mini-2024-07-18")
    led.record(
        CallRecord(
            "gpt-4o-mini",
            "openai",
            "base",
            Usage(1000, 500),
            cost_of(Usage(1000, 500), mini),
            question_id="q1",
            question="What does the Trailblazer cost?",
            latency_s=0.8,
        )
    )
    led.record(
        CallRecord(
            "ft:gpt-4o-mini-2024-07-18",
            "openai",
            "ft_rag",
            Usage(1000, 500),
            cost_of(Usage(1000, 500), ft),
            question_id="q1",
            question="What does the Trailblazer cost?",
        )
    )
    led.record(CallRecord("mystery-model", "custom", "base_rag", Usage(10, 10), None, question_id="q1"))
    return led


def test_costs_page_shows_spend_calls_and_csv(data_dir):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["ledger"] = _ledger_with_calls()
    at.run()
    at.switch_page("pages/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = [m.value for m in at.main.metric]
    assert metrics[0] == "$0.00135 (+1 unpriced)" and metrics[1] == "3"  # 0.00045 + 0.0009
    side = router_sidebar(ledger=at.session_state["ledger"])  # the meter agrees, names the last question
    assert "Session spend: $0.00135 + 1 unpriced" in side and "Last question" in side
    assert any("price is unknown" in w.value for w in at.warning)
    # the CSV export carries every call
    ledger = at.session_state["ledger"]
    rows = list(csv.DictReader(io.StringIO(ledger.to_csv())))
    assert [r["cost_usd"] for r in rows] == ["0.00045", "0.0009", "unknown"]


def test_session_overrides_show_in_the_price_table(data_dir):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["price_overrides"] = {
        "smollm2-*": Price(D("0.1"), D("0.2"), source="your override", as_of="2026-11-24")
    }
    at.run()
    at.switch_page("pages/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(df.value for df in at.dataframe if "role" in df.value.columns)
    base = table[table["role"] == "base slot"].iloc[0]
    assert (base["input $/1M"], base["output $/1M"], base["source"]) == ("0.1", "0.2", "your override")
    emb = table[table["role"] == "embeddings"].iloc[0]
    assert emb["input $/1M"] == "0" and emb["source"].startswith("self-hosted")
    # Apply with the editor untouched keeps the same overrides (nothing silently dropped)
    at.button(key="costs_overrides_apply").click().run()
    assert not at.exception
    assert set(at.session_state["price_overrides"]) == {"smollm2-*"}
    assert any("1 price override(s) in force" in m.value for m in at.success)


def test_override_rows_are_validated():
    from components.costs.price_overrides import overrides_from_rows, rows_from_overrides

    good, problems = overrides_from_rows(
        [
            {"model": "gpt-4o-mini", "input $/1M": 0.2, "output $/1M": 0.8, "cached input $/1M": None},
            {"model": "ft:*", "input $/1M": 1, "output $/1M": 2, "cached input $/1M": float("nan")},
            {"model": "", "input $/1M": None, "output $/1M": None, "cached input $/1M": None},
        ]
    )
    assert not problems and set(good) == {"gpt-4o-mini", "ft:*"}
    assert good["gpt-4o-mini"].output_per_m == D("0.8") and good["ft:*"].cached_input_per_m is None
    assert good["ft:*"].source == "your override"
    assert overrides_from_rows(rows_from_overrides(good))[0] == good  # round trip
    bad, problems = overrides_from_rows(
        [
            {"model": "x", "input $/1M": 1, "output $/1M": None},
            {"model": "y", "input $/1M": -1, "output $/1M": 2},
        ]
    )
    assert bad == {} and len(problems) == 2 and "both" in problems[0] and "positive" in problems[1]


def test_budget_caps_are_shown(data_dir, monkeypatch):
    # Caps are the facilitator's: RAGFT_*_BUDGET_USD in the server's environment, whatever a session holds.
    for name, value in {"RAGFT_SESSION_BUDGET_USD": "0.50", "RAGFT_APP_BUDGET_USD": "20"}.items():
        monkeypatch.setenv(name, value)
    caps = load_settings(
        {"RAGFT_SESSION_BUDGET_USD": "0.50", "RAGFT_APP_BUDGET_USD": "20", "RAGFT_DATA_DIR": str(data_dir)}
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["settings"] = caps
    at.run()
    at.switch_page("pages/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.main.caption)
    assert "Cap: $0.50" in captions and "Cap: $20.00" in captions
    assert str(data_dir) not in captions  # no server path is shown to participants
    side = router_sidebar(settings=caps)
    assert "No budget cap set." not in side and "Session spend: $0" in side


def test_sidebar_meter_changes_after_a_call_is_recorded(data_dir):
    ledger = SessionLedger()
    before = router_sidebar(ledger=ledger)
    mini = price_for("gpt-4o-mini")
    ledger.record(
        CallRecord(
            "gpt-4o-mini",
            "openai",
            "base",
            Usage(2000, 1000),
            cost_of(Usage(2000, 1000), mini),
            question_id="qq",
            question="Hi",
        )
    )
    after = router_sidebar(ledger=ledger)
    assert before != after
    assert "$0.0009" in after and "Tokens in **2,000**" in after


@pytest.mark.slow
def test_sidebar_meter_changes_after_a_question_is_answered_on_compare(data_dir):
    """Ask on the real Compare page (embedded model); the router's sidebar meter then shows the calls."""
    from ragft.settings import EMBEDDED_FT_MODEL, EndpointConfig, Settings

    settings = Settings(
        finetuned=EndpointConfig(model=EMBEDDED_FT_MODEL, lora_path=None), data_dir=data_dir, max_tokens=8, top_k=1
    )
    ledger = SessionLedger()
    overrides = {"smollm2-*": Price(D("1"), D("2"), source="your override")}  # so dollars move too
    before = router_sidebar(ledger=ledger, settings=settings, price_overrides=overrides)
    assert "Session spend: $0" in before and "Last question" not in before

    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["settings"] = settings
    at.session_state["ledger"] = ledger
    at.session_state["price_overrides"] = overrides
    at.run()
    at.switch_page("pages/compare.py").run()
    at.text_input(key="cmp_question").set_value("How much does the Kestrel 2 Tent cost?")
    at.button(key="FormSubmitter:cmp_form-Ask").click().run()
    assert not at.exception, [e.value for e in at.exception]
    chats = [r for r in ledger.records() if r.kind == "chat"]
    assert len(chats) >= 2 and not ledger.has_live()

    after = router_sidebar(ledger=ledger, settings=settings, price_overrides=overrides)
    assert after != before
    t = ledger.totals()
    assert f"Tokens in **{t.usage.prompt_tokens:,}**" in after and t.usage.prompt_tokens > 0
    assert "Last question" in after
    assert all(not r.local and r.cost > 0 for r in chats)  # the chat calls are priced by the override, not local
    embeds = [r for r in ledger.records() if r.kind == "embedding"]
    assert embeds and all(r.local for r in embeds)  # the query embedding is metered too (local MiniLM: $0)
    from ragft.costs.prices import format_usd

    # The embedded model is free: the override's dollars are hypothetical, shown apart, never as spend.
    assert "Session spend: $0" in after and t.real == 0
    assert f"Hypothetical: {format_usd(t.hypothetical)}" in after and t.hypothetical == t.cost > 0
