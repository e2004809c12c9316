"""AppTest of the Decision guide page: answering the questionnaire changes the recommendation and its reasons."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ragft.guide.texts as guide_texts

pytestmark = pytest.mark.slow  # the pages load the embedded model (sidebar status, answers)

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "guide.py")


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _recommendation(at: AppTest) -> str:
    return next(s.value for s in at.subheader if s.value.startswith("Recommendation: "))


def _reasons(at: AppTest) -> str:
    """The "Why ..." list: the markdown whose bullets carry a score delta like `+3`."""
    assert any(s.value.startswith("Why ") for s in at.subheader)
    return "\n".join(m.value for m in at.markdown if m.value.startswith("- ") and "`+" in m.value)


def _answer(at: AppTest, **answers: str) -> AppTest:
    for key, value in answers.items():
        at.selectbox(key=f"guide_q_{key}").set_value(value)
    at.run()
    assert not at.exception, at.exception
    return at


def test_answers_change_the_recommendation_and_its_reasons():
    at = _page()
    assert _recommendation(at) == "Recommendation: Prompting only"
    assert any("Nothing answered yet" in s.value for s in at.success)

    _answer(at, change="weekly", knowledge="proprietary")
    assert _recommendation(at) == "Recommendation: RAG"
    reasons = _reasons(at)
    assert "Your knowledge changes weekly, so a fine-tune would be out of date within days" in reasons
    assert any("RAG fits best" in s.value for s in at.success)

    _answer(at, behaviour="brand_voice", examples="hundreds")
    assert _recommendation(at) == "Recommendation: Hybrid (fine-tune + RAG)"
    assert "You need a consistent brand voice" in _reasons(at)

    _answer(at, change="static", knowledge="general", behaviour="strict_format")
    assert _recommendation(at) == "Recommendation: Fine-tuning"
    assert "fixed output format" in _reasons(at)
    assert "changes weekly" not in _reasons(at)


def test_the_chosen_answer_is_explained_beside_the_question():
    at = _answer(_page(), change="daily")
    assert any("Only retrieval at question time keeps up" in c.value for c in at.caption)


def test_presets_and_clear():
    at = _page()
    at.button(key="guide_preset_json").click().run()
    assert not at.exception
    assert _recommendation(at) == "Recommendation: Fine-tuning"
    assert at.selectbox(key="guide_q_behaviour").value == "strict_format"
    at.button(key="guide_clear").click().run()
    assert _recommendation(at) == "Recommendation: Prompting only"
    assert at.selectbox(key="guide_q_behaviour").value == "unknown"


def test_contradictory_answers_show_a_warning_not_an_error():
    at = _answer(_page(), knowledge="general", change="daily")
    assert any("Check these answers" in w.value for w in at.warning)
    assert not at.error


def test_cost_projection_is_prefilled_from_the_answers():
    pytest.importorskip("ragft.costs.projection")
    at = _answer(_page(), volume="high", corpus_size="large")
    assert at.number_input(key="guide_cost_queries_per_month").value == 300_000
    assert at.number_input(key="guide_cost_corpus_tokens").value == 10_000_000
    assert any("At 300,000 queries a month" in m.value for m in at.markdown)
    _answer(at, volume="low")
    assert at.number_input(key="guide_cost_queries_per_month").value == 500


def test_evidence_absent_then_present():
    at = _page()
    assert any("Compare" in i.value for i in at.info), [i.value for i in at.info]
    at.session_state["evidence"] = [
        {
            "configuration": "base",
            "fact_score": 0.1,
            "style_score": 0.3,
            "cost_usd": Decimal("0.0001"),
            "source": "compare",
        },
        {
            "configuration": "base_rag",
            "fact_score": 0.8,
            "style_score": 0.3,
            "cost_usd": Decimal("0.0005"),
            "source": "evaluate",
        },
    ]
    at.run()
    assert not at.exception
    assert any(
        "In your runs RAG raised fact accuracy from 10% to 80% for +$0.0004 per question" in m.value
        for m in at.markdown
    )
    assert at.dataframe, "the evidence table is shown"


def test_bad_evidence_is_reported_not_raised():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["evidence"] = "not a list"
    at.run()
    assert not at.exception
    assert any("list of records" in w.value for w in at.warning)


def test_export_preview_holds_the_recommendation():
    at = _answer(_page(), change="weekly", knowledge="proprietary")
    report = at.code[0].value
    assert report.startswith("# Decision guide: RAG")
    assert "Your knowledge changes weekly" in report


def test_missing_explanations_do_not_break_the_page(tmp_path, monkeypatch):
    empty = tmp_path / "guide"
    empty.mkdir()
    monkeypatch.setattr(guide_texts, "GUIDE_DIR", empty)
    at = _answer(_page(), change="weekly", knowledge="proprietary")
    assert _recommendation(at) == "Recommendation: RAG"
    assert any("Guide text missing" in w.value and "factors/change.md" in w.value for w in at.warning)


def test_a_stale_answer_in_the_session_falls_back_to_unknown():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["guide_q_change"] = "hourly"
    at.run()
    assert not at.exception
    assert at.selectbox(key="guide_q_change").value == "unknown"
