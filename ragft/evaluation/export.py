"""What an evaluation hands on: the decision guide's evidence rows, CSV and JSON exports, Markdown tables.

Every rate and mean in an export carries its 95% interval (:mod:`ragft.evaluation.stats`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from ragft.evaluation.history import SavedRun
from ragft.evaluation.paired import PairedComparison, compare_records
from ragft.evaluation.records import ConfigSummary
from ragft.evaluation.run import Evaluation
from ragft.evaluation.stats import Interval
from ragft.text import csv_dict


def evidence_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Rows for the decision guide's evidence: one per configuration that answered at least one question.

    A configuration that never answered (a missing adapter, a dead endpoint) measured nothing and gives no row;
    ``style_score`` is ``None`` when no question of the set checks the style.
    """
    rows = []
    for s in evaluation.summaries():
        if not s.questions or s.errors == s.questions:
            continue
        rows.append(
            {
                "configuration": s.configuration,
                "fact_score": float(s.fact_accuracy),
                "style_score": None if s.style_adherence is None else float(s.style_adherence),
                "cost_usd": s.cost_per_question,
                "source": "evaluate",
            }
        )
    return rows


CSV_COLUMNS = (
    "question_id",
    "question",
    "configuration",
    "label",
    "answer",
    "error",
    "fact_score",
    "facts_found",
    "facts_missing",
    "stale_facts_found",
    "style_ok",
    "style_reasons",
    "hit",
    "page_hit",
    "sources",
    "ttft_s",
    "total_s",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "claims_stated",
    "claims_supported",
    "unsupported_claims",
    "faithfulness",
)


def to_csv(evaluation: Evaluation) -> str:
    """One row per (question, configuration); lists joined with ``|``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in evaluation.records:
        d = r.to_dict()
        for k in ("facts_found", "facts_missing", "stale_facts_found", "style_reasons", "unsupported_claims"):
            d[k] = " | ".join(d[k])
        d["sources"] = " | ".join(c.citation for c in r.sources)
        w.writerow(csv_dict(d))
    return buf.getvalue()


def all_pairs(evaluation: Evaluation, metric: str = "facts") -> list[PairedComparison]:
    """Every later configuration against every earlier one (``ft_rag`` vs ``base_rag``, ...)."""
    keys = evaluation.configurations
    return [compare_records(evaluation.records, a, b, metric) for i, a in enumerate(keys) for b in keys[i + 1 :]]


def to_json(evaluation: Evaluation) -> str:
    """The run as a file :func:`ragft.evaluation.history.parse_run` re-imports: settings (no key, no server path),
    summaries with their 95% intervals, every pair of configurations compared, every record."""
    return SavedRun.from_evaluation(evaluation).to_json()


SUMMARY_FIGURES = (
    "fact_accuracy",
    "style_adherence",
    "hit_at_k",
    "page_hit_at_k",
    "stale_rate",
    "mean_ttft_s",
    "mean_total_s",
    "tokens_per_question",
    "groundedness",
    "faithfulness",
)


def summary_csv(evaluation: Evaluation) -> str:
    """One row per configuration: every figure with its 95% interval (``_low``/``_high`` columns)."""
    cols = ["configuration", "label", "questions", "errors"]
    for f in SUMMARY_FIGURES:
        cols += [f, f"{f}_low", f"{f}_high"]
    cols += ["cost_per_question_usd", "total_cost_usd"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for s in evaluation.summaries():
        row: dict[str, Any] = s.to_dict()
        for f in SUMMARY_FIGURES:
            iv = s.interval(f)
            row[f] = _r(iv.estimate)
            row[f"{f}_low"], row[f"{f}_high"] = _r(iv.low), _r(iv.high)
        w.writerow(csv_dict(row))
    return buf.getvalue()


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def ms(iv: Interval) -> str:
    return iv.scaled(1000) if iv.known else "—"


def format_table(summaries: Sequence[ConfigSummary]) -> str:
    """The benchmark's Markdown table: configuration | fact accuracy | style adherence | hit@k | ms/question,
    each figure followed by its 95% interval."""
    lines = ["| configuration | fact accuracy | style adherence | hit@k | ms/question |", "|---|---|---|---|---|"]
    for s in summaries:
        lines.append(
            f"| {s.label} | {s.interval('fact_accuracy').pct()} | {s.interval('style_adherence').pct()} | "
            f"{s.interval('hit_at_k').pct()} | {ms(s.interval('mean_total_s'))} |"
        )
    return "\n".join(lines)


def format_paired(comparisons: Sequence[PairedComparison]) -> str:
    """Markdown table of paired comparisons: B beat A on, lost on, difference (95% interval), exact McNemar p."""
    lines = [
        "| comparison | metric | B won | B lost | both right | both wrong | difference (95% interval) | "
        "McNemar exact p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        d = c.difference
        diff = (
            "—"
            if not d.known
            else (f"{(d.estimate or 0) * 100:+.0f} pts ({(d.low or 0) * 100:+.0f} to {(d.high or 0) * 100:+.0f})")
        )
        lines.append(
            f"| {c.b_label} vs {c.a_label} | {c.metric} | {c.b_won} | {c.a_won} | {c.count('both')} | "
            f"{c.count('neither')} | {diff} | {c.test.p_value:.4g} |"
        )
    return "\n".join(lines)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"
