"""Session history and its exports, on comparisons produced by the real compare core."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ragft.answering import compare as C
from ragft.answering.history import (
    HistoryError,
    SessionHistory,
    comparison_markdown,
    exports_for,
    session_exports,
    session_json,
    session_markdown,
)
from ragft.models.usage import Usage
from tests.fake_latency_server import LatencyServer
from tests.test_compare import CHUNKS, factory


@pytest.fixture(scope="module")
def comparisons():
    with LatencyServer(token_delay_s=0.005, first_token_s=0.01, models=("fake-base", "fake-ft", "fail-429")) as srv:
        overrides = {"fake-base": (Decimal("0.15"), Decimal("0.60"))}
        a = C.run_comparison(
            "How much is the Kestrel 2 Tent?",
            ["base", "base_rag", "ft", "ft_rag"],
            model_for=factory(srv, ft="fail-429"),
            retrieve=C.fixed_retriever(CHUNKS, "sample"),
            max_tokens=4,
            price_overrides=overrides,
            top_k=2,
            timeout_s=60,
        )
        b = C.run_comparison(
            "What | is the returns window?",
            ["base"],
            model_for=factory(srv),
            retrieve=None,
            max_tokens=3,
            price_overrides=overrides,
            timeout_s=60,
        )
    return a, b


def test_history_keeps_newest_first_and_caps(comparisons):
    a, b = comparisons
    h = SessionHistory(max_items=2)
    h.add(a)
    h.add(b)
    assert [c.id for c in h.items()] == [b.id, a.id]
    assert h.latest() is b
    h.add(a)  # re-adding moves it to the top, no duplicate
    assert [c.id for c in h.items()] == [a.id, b.id]
    extra = C.Comparison("q", ("base",), {"base": C.PanelResult("base", "Base", False)})
    h.add(extra)
    assert len(h) == 2 and h.items()[-1].id == a.id
    assert h.rerun_request(a.id) == {"question": a.question, "configurations": list(a.configurations)}
    with pytest.raises(HistoryError):
        h.get("missing")
    h.remove(a.id)
    assert [c.id for c in h.items()] == [extra.id]


def test_markdown_shows_answers_metrics_sources_and_errors(comparisons):
    a, _ = comparisons
    md = comparison_markdown(a)
    assert md.startswith("## How much is the Kestrel 2 Tent?")
    assert "| Base + RAG | fake-base |" in md
    assert "> w1 w2 w3 w4" in md
    assert "**Error (RateLimited):**" in md
    assert "catalogue.pdf p.1 (score 0.82): The Kestrel 2 Tent costs $149" in md
    assert "top-k 2" in md
    base_rag = a.panels["base_rag"]
    assert f"+{base_rag.context_tokens} |" in md
    # Priced calls show dollars; the failing slot shows no cost.
    assert "price unknown" not in md.split("### Base")[0]


def test_session_exports_round_trip(comparisons):
    a, b = comparisons
    h = SessionHistory()
    h.add(a)
    h.add(b)
    md_export, json_export = session_exports(h)
    assert md_export.file_name.endswith(".md") and json_export.file_name.endswith(".json")
    # Oldest first in a report.
    assert md_export.data.index("Kestrel") < md_export.data.index("returns window")
    assert "What \\| is" not in md_export.data.split("\n")[0]
    data = json.loads(json_export.data)
    assert [c["id"] for c in data["comparisons"]] == [a.id, b.id]
    panel = data["comparisons"][0]["panels"][1]
    assert panel["configuration"] == "base_rag" and panel["sources"][0]["text"].startswith("The Kestrel")
    assert Decimal(panel["cost_usd"]) > 0
    assert data["comparisons"][0]["panels"][2]["error_kind"] == "RateLimited"
    total = sum(Decimal(p["cost_usd"]) for c in data["comparisons"] for p in c["panels"] if p["cost_usd"])
    assert f"${total:.6f}".rstrip("0") in md_export.data or "Model spend" in md_export.data


def test_one_comparison_exports(comparisons):
    a, _ = comparisons
    md, js = exports_for(a)
    assert md.data.startswith("# How much is the Kestrel 2 Tent?")
    assert json.loads(js.data)["comparison"]["question"] == a.question


def test_local_panels_say_zero_local():
    p = C.PanelResult(
        "base",
        "Base",
        False,
        phase=C.DONE,
        text="hi",
        model_id="smollm2",
        provider="embedded",
        usage=Usage(10, 2),
        cost=Decimal(0),
    )
    from ragft.costs.prices import price_for

    p.price = price_for("smollm2", "embedded")
    c = C.Comparison("q?", ("base",), {"base": p})
    assert "$0 · local" in comparison_markdown(c)
    assert "Model spend in these comparisons:** $0" in session_markdown([c])
    assert json.loads(session_json([c]))["comparisons"][0]["panels"][0]["local"] is True
