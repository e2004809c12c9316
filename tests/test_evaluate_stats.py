"""Intervals, paired differences and the exact McNemar test, against published values and by their properties."""

from __future__ import annotations

import json
import math
import random

import pytest

from ragft import evaluation as EV
from ragft.evaluation import stats as S


def test_wilson_matches_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 → 0.2553-0.3662; 15/148 → 0.0624-0.1605;
    # 0/20 → 0-0.1611; 1/29 → 0.0061-0.1718.
    for k, n, lo, hi in (
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ):
        iv = S.wilson(k, n)
        assert iv.estimate == pytest.approx(k / n)
        assert iv.low == pytest.approx(lo, abs=1e-4) and iv.high == pytest.approx(hi, abs=1e-4)
    assert S.wilson(0, 0).known is False and S.wilson(0, 0).pct() == "—"
    with pytest.raises(ValueError):
        S.wilson(3, 2)


def test_wilson_at_the_edges_stays_inside_zero_and_one():
    full = S.wilson(34, 34)
    assert full.high == 1.0 and 0.89 < full.low < 0.9  # 100% of 34 still allows ~90%
    assert S.wilson(17, 34).pct() == "50% (34–66%)"


def test_exact_mcnemar():
    assert S.mcnemar_exact(0, 6).p_value == pytest.approx(2 / 64)
    assert S.mcnemar_exact(6, 0).p_value == pytest.approx(2 / 64)
    assert S.mcnemar_exact(2, 10).p_value == pytest.approx(2 * (1 + 12 + 66) / 4096)
    assert S.mcnemar_exact(1, 0).p_value == 1.0
    assert S.mcnemar_exact(0, 0).p_value == 1.0
    assert S.mcnemar_exact(5, 5).p_value == 1.0
    # it is a binomial test: the same as summing the binomial distribution directly
    n, k = 30, 9
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    assert S.mcnemar_exact(k, n - k).p_value == pytest.approx(2 * tail)


def test_newcombe_paired_difference():
    # e=12 both right, f=2 / g=9 discordant, h=21 both wrong (n=44): difference 7/44
    iv = S.paired_difference(12, 2, 9, 21)
    assert iv.estimate == pytest.approx(7 / 44)
    assert 0 < iv.low < 0.05 and 0.25 < iv.high < 0.35
    # the positive association (phi > 0) narrows the interval compared with ignoring the pairing
    wa, wb = S.wilson(14, 44), S.wilson(21, 44)
    unpaired_low = iv.estimate - math.sqrt((wb.estimate - wb.low) ** 2 + (wa.high - wa.estimate) ** 2)
    assert iv.low > unpaired_low
    # with no association beyond n/2 (phi = 0) it is exactly that square-and-add of two Wilson intervals
    flat = S.paired_difference(5, 5, 10, 10)
    w1, w2 = S.wilson(10, 30), S.wilson(15, 30)
    assert flat.low == pytest.approx(0.5 / 3 - math.sqrt((w2.estimate - w2.low) ** 2 + (w1.high - w1.estimate) ** 2))
    swapped = S.paired_difference(12, 9, 2, 21)
    assert swapped.low == pytest.approx(-iv.high) and swapped.high == pytest.approx(-iv.low)
    same = S.paired_difference(20, 0, 0, 14)
    assert same.estimate == 0 and same.low < 0 < same.high
    assert S.paired_difference(0, 0, 0, 0).known is False


def test_bootstrap_is_seeded_and_covers_the_mean():
    rng = random.Random(1)
    xs = [rng.uniform(0.5, 3.0) for _ in range(40)]
    a, b = S.bootstrap_mean(xs), S.bootstrap_mean(list(xs))
    assert a == b  # same values, same interval
    assert a.low < sum(xs) / 40 < a.high and a.method == "bootstrap"
    wider = S.bootstrap_mean(xs[:8])
    assert (wider.high - wider.low) > (a.high - a.low)
    assert S.bootstrap_mean([2.0, 2.0]).low == 2.0 and S.bootstrap_mean([]).known is False


def test_rate_interval_picks_wilson_for_proportions_and_bootstrap_for_partial_scores():
    assert S.rate_interval([1, 0, 1, 1]).method == "wilson"
    assert S.rate_interval([1, 0.5, 1, 0]).method == "bootstrap"


def _rec(cfg: str, qid: str, score: float, style: bool | None = True, answer: str = "a") -> EV.EvalRecord:
    return EV.EvalRecord(
        qid,
        f"question {qid}?",
        cfg,
        cfg,
        cfg.endswith("rag"),
        answer=answer,
        fact_score=score,
        style_applicable=style is not None,
        style_ok=style,
        total_s=1.0,
    )


def test_paired_comparison_counts_sentence_and_export():
    qs = EV.default_question_set().subset(8)
    ev = EV.Evaluation.new(qs, ["base_rag", "ft_rag"])
    ids = [q.id for q in qs.questions]
    # ft_rag right on all 8; base_rag wrong on the first 6
    for i, qid in enumerate(ids):
        ev.records.append(_rec("base_rag", qid, 1.0 if i >= 6 else 0.0, style=False))
        ev.records.append(_rec("ft_rag", qid, 1.0, style=True))
    cmp = EV.compare_records(ev.records, "base_rag", "ft_rag")
    assert (cmp.b_won, cmp.a_won, cmp.count("both"), cmp.count("neither")) == (6, 0, 2, 0)
    text = cmp.sentence()
    assert text.startswith("Fine-tuned + RAG beat Base + RAG on 6 questions and lost on 0")
    assert "p = 0.031" in text and "rarely happen by chance" in text
    assert [d.question_id for d in cmp.discordant()] == ids[:6]
    d = cmp.difference
    assert d.estimate == pytest.approx(0.75) and d.low > 0
    rev = EV.compare_records(ev.records, "ft_rag", "base_rag")
    assert (rev.b_won, rev.a_won) == (0, 6) and "beat Fine-tuned + RAG on 0 questions and lost on 6" in rev.sentence()
    # a question only one configuration answered is not paired
    ev.records.append(_rec("ft_rag", "extra", 1.0))
    assert EV.compare_records(ev.records, "base_rag", "ft_rag").n == 8
    data = json.loads(EV.to_json(ev))
    assert data["paired"][0]["b_won"] == 6 and data["paired"][0]["mcnemar_exact_p"] == pytest.approx(0.03125)
    summary = data["summary"][1]["intervals_95"]["fact_accuracy"]
    assert summary["method"] == "wilson" and summary["low"] < 1.0 == summary["high"]
    table = EV.format_paired([cmp])
    assert "| Fine-tuned + RAG vs Base + RAG | facts | 6 | 0 | 2 | 0 | +75 pts" in table


def test_paired_style_skips_unchecked_questions_and_a_small_split_is_called_chance():
    recs = [
        _rec("base", "q1", 1, style=None),
        _rec("ft", "q1", 1, style=None),
        _rec("base", "q2", 0, style=False),
        _rec("ft", "q2", 1, style=True),
    ]
    cmp = EV.compare_records(recs, "base", "ft", metric="style")
    assert cmp.n == 1 and cmp.b_won == 1
    assert "could well be chance" in EV.compare_records(recs, "base", "ft").sentence()
    with pytest.raises(ValueError):
        EV.compare_records(recs, "base", "ft", metric="tone")


def test_summary_csv_carries_interval_columns():
    import csv
    import io

    ev = EV.Evaluation.new(EV.default_question_set().subset(4), ["base"])
    ev.records += [_rec("base", q.id, 1.0 if i % 2 else 0.0) for i, q in enumerate(ev.question_set.questions)]
    rows = list(csv.DictReader(io.StringIO(EV.summary_csv(ev))))
    assert rows[0]["fact_accuracy"] == "0.5"
    assert float(rows[0]["fact_accuracy_low"]) < 0.5 < float(rows[0]["fact_accuracy_high"])
    assert "| Base | 50% (15–85%) |" in EV.format_table(ev.summaries())


def test_the_chart_draws_each_interval_as_an_error_bar():
    from components.evaluate.charts import accuracy_cost_chart

    ev = EV.Evaluation.new(EV.default_question_set().subset(4), ["base"])
    ev.records += [
        EV.EvalRecord(
            q.id,
            "Q?",
            "base",
            "Base",
            False,
            fact_score=float(i % 2),
            style_applicable=True,
            style_ok=True,
            total_s=1.0 + i,
        )
        for i, q in enumerate(ev.question_set.questions)
    ]
    s = ev.summaries()
    fig = accuracy_cost_chart(s, EV.cost_axis(s, "seconds"))
    facts, style = fig.data[1], fig.data[2]
    iv = s[0].interval("fact_accuracy")
    assert facts.error_y.array[0] == pytest.approx((iv.high - iv.estimate) * 100)
    assert facts.error_y.arrayminus[0] == pytest.approx((iv.estimate - iv.low) * 100)
    assert style.error_y.array[0] == 0 and style.error_y.arrayminus[0] > 0  # 4/4 in voice: 51–100%
    assert facts.error_x.array[0] > 0  # seconds axis: the bootstrap interval of the mean latency
    assert "95% interval" in facts.hovertemplate
