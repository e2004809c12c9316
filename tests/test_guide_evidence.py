"""summarize_evidence: per-configuration means and sentences from hand-made compare / evaluate records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ragft.guide import GuideInputError, summarize_evidence


def rec(config, fact=None, style=None, cost=None, source="compare"):
    return {"configuration": config, "fact_score": fact, "style_score": style, "cost_usd": cost, "source": source}


def test_rag_raised_fact_accuracy_sentence_with_cost_difference():
    records = [
        rec("base", 0.0, 0.5, Decimal("0.0001")),
        rec("base", 0.2, 0.5, Decimal("0.0001")),
        rec("base_rag", 0.8, 0.5, Decimal("0.0005")),
        rec("base_rag", 0.8, 0.5, Decimal("0.0005"), "evaluate"),
    ]
    s = summarize_evidence(records)
    assert s.by_config["base"].fact == pytest.approx(0.1)
    assert s.by_config["base"].n == 2 and s.by_config["base_rag"].n_fact == 2
    assert s.by_config["base_rag"].cost_usd == Decimal("0.0005")
    assert s.sentences[0] == (
        "In your runs RAG raised fact accuracy from 10% to 80% for +$0.0004 per question (2 vs 2 answers)."
    )
    assert s.sources == ("compare", "evaluate")
    assert s.for_approach("rag").fact == pytest.approx(0.8)
    assert s.for_approach("hybrid") is None


def test_fine_tuning_style_and_hybrid_sentences_and_lowered_wording():
    records = [
        rec("base", 0.5, 0.2, "0.0002"),
        rec("ft", 0.3, 0.9, "0.0004"),
        rec("ft_rag", 0.9, 0.9, "0.0004"),
    ]
    s = summarize_evidence(records)
    text = "\n".join(s.sentences)
    assert "fine-tuning raised style score from 20% to 90% for +$0.0002 per question" in text
    assert "fine-tuning lowered fact accuracy from 50% to 30%" in text
    assert "the hybrid (fine-tune + RAG) raised fact accuracy from 50% to 90%" in text
    assert "adding RAG to the fine-tune raised fact accuracy from 30% to 90% at the same cost" in text


def test_missing_scores_and_costs_are_left_out_not_counted_as_zero():
    records = [rec("base", None, None, None), rec("base", 0.4), rec("base_rag", 0.4)]
    s = summarize_evidence(records)
    base = s.by_config["base"]
    assert (base.n, base.n_fact, base.fact, base.cost_usd, base.style) == (2, 1, 0.4, None, None)
    assert s.sentences == ("In your runs RAG left fact accuracy at 40% (1 vs 1 answers).",)


def test_malformed_records_are_skipped_and_counted():
    records = [
        rec("base", 0.5),
        rec("gpt-9", 0.5),
        rec("base", 1.5),
        rec("base", "high"),
        rec("base", 0.5, cost="-1"),
        "not a record",
        rec("base", 0.7),
    ]
    s = summarize_evidence(records)
    assert s.n_records == 7 and s.n_skipped == 5
    assert s.by_config["base"].n == 2 and s.by_config["base"].fact == pytest.approx(0.6)
    assert "Run the base configuration" not in " ".join(s.sentences)


def test_without_base_runs_the_summary_says_what_to_run():
    s = summarize_evidence([rec("ft_rag", 0.9, 0.9)])
    assert list(s.by_config) == ["ft_rag"]
    assert s.sentences == ("Run the base configuration too, to see what each approach adds over it.",)


def test_empty_and_bad_containers():
    assert summarize_evidence(None).empty and summarize_evidence([]).empty
    with pytest.raises(GuideInputError):
        summarize_evidence("base")  # type: ignore[arg-type]
    with pytest.raises(GuideInputError):
        summarize_evidence(42)  # type: ignore[arg-type]
