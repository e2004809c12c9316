"""Markdown export and the plotly figures: the numbers behind the charts are the recommendation's numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from components.guide.charts import SHORT_LABELS, cost_chart, quadrant_chart, score_chart
from ragft.configs import APPROACH_LABELS
from ragft.guide import PRESET_BY_KEY, Answers, recommend, summarize_evidence, to_markdown

TODAY = date(2026, 11, 24)


def test_export_contains_scores_reasons_answers_costs_and_evidence():
    a = PRESET_BY_KEY["brand"].answers
    rec = recommend(a, TODAY)
    ev = summarize_evidence(
        [
            {"configuration": "base", "fact_score": 0.1, "style_score": 0.2, "cost_usd": Decimal("0.0001")},
            {"configuration": "ft_rag", "fact_score": 0.8, "style_score": 0.9, "cost_usd": Decimal("0.0006")},
        ]
    )
    md = to_markdown(a, rec, ev, {"rag": Decimal("5.41"), "hybrid": Decimal("8.08")}, "At 20,000 queries a month.")
    assert md.startswith("# Decision guide: Hybrid (fine-tune + RAG)")
    assert f"| Hybrid (fine-tune + RAG) (recommended) | {rec.scores['hybrid']} |" in md
    assert f"| RAG | {rec.scores['rag']} |" in md
    assert "That is the hybrid." in md
    assert "| How often does the knowledge change? | Weekly |" in md
    assert "| Hybrid (fine-tune + RAG) | $8.08 |" in md and "At 20,000 queries a month." in md
    assert "| Fine-tuned + RAG | 1 | 80% | 90% | $0.0006 |" in md
    assert "raised fact accuracy from 10% to 80% for +$0.0005 per question" in md
    assert f"Quadrant: {APPROACH_LABELS['hybrid']}" in md
    assert "2027-01-06" in md  # lifecycle facts travel with the export


def test_export_without_costs_or_evidence_says_so():
    rec = recommend(Answers(), TODAY)
    md = to_markdown(Answers(), rec, None, None, "The cost projection is not available yet.")
    assert "The cost projection is not available yet." in md
    assert "No compare or evaluation runs in this session." in md
    assert "(not known)" in md


def test_score_chart_bars_are_the_scores_best_on_top():
    rec = recommend(PRESET_BY_KEY["json"].answers, TODAY)
    bar = score_chart(rec).data[0]
    assert list(bar.y)[-1] == SHORT_LABELS["finetuning"]  # plotly draws the last category on top
    assert dict(zip(bar.y, bar.x, strict=True)) == {SHORT_LABELS[k]: v for k, v in rec.scores.items()}


def test_quadrant_star_is_at_the_position():
    rec = recommend(PRESET_BY_KEY["catalogue"].answers, TODAY)
    star = quadrant_chart(rec.position, rec.best).data[0]
    assert (star.x[0], star.y[0]) == (rec.position.context, rec.position.behaviour)
    assert star.x[0] > 0.5 > star.y[0]
    unknown = quadrant_chart(recommend(Answers(), TODAY).position).data[0]
    assert "not known" in unknown.text[0]


def test_cost_chart_stacks_the_parts_to_the_totals():
    from ragft.costs.projection import project_monthly
    from ragft.guide import projection_inputs_from

    costs = project_monthly(projection_inputs_from(PRESET_BY_KEY["brand"].answers))
    fig = cost_chart(costs, "hybrid")
    bars = [t for t in fig.data if t.type == "bar"]
    hybrid_index = list(bars[0].x).index(SHORT_LABELS["hybrid"] + " ★")
    stacked = sum(b.y[hybrid_index] for b in bars)
    assert abs(stacked - float(costs["hybrid"].total)) < 1e-9
