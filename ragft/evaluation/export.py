"""What an evaluation hands on: the decision guide's evidence rows, CSV and JSON exports, a Markdown table."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from ragft.evaluation.records import ConfigSummary
from ragft.evaluation.run import Evaluation

def evidence_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Rows for the decision guide's evidence: one per configuration that answered at least one question.

    A configuration that never answered (a missing adapter, a dead endpoint) measured nothing and gives no row;
    ``style_score`` is ``None`` when no question of the set checks the style.
    """
    rows = []
    for s in evaluation.summaries():
        if not s.questions or s.errors == s.questions:
            continue
        rows.append({"configuration": s.configuration, "fact_score": float(s.fact_accuracy),
                     "style_score": None if s.style_adherence is None else float(s.style_adherence),
                     "cost_usd": s.cost_per_question, "source": "evaluate"})
    return rows



CSV_COLUMNS = ("question_id", "question", "configuration", "label", "answer", "error", "fact_score",
               "facts_found", "facts_missing", "stale_facts_found", "style_ok", "style_reasons", "hit", "page_hit",
               "sources", "ttft_s", "total_s", "prompt_tokens", "completion_tokens", "cost_usd")


def to_csv(evaluation: Evaluation) -> str:
    """One row per (question, configuration); lists joined with ``|``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in evaluation.records:
        d = r.to_dict()
        for k in ("facts_found", "facts_missing", "stale_facts_found", "style_reasons"):
            d[k] = " | ".join(d[k])
        d["sources"] = " | ".join(f"{s['source']} p.{s['page']}" if s.get("page") else s["source"]
                                  for s in r.sources)
        w.writerow(d)
    return buf.getvalue()


def to_json(evaluation: Evaluation) -> str:
    return json.dumps({
        "id": evaluation.id, "created": evaluation.created.isoformat(timespec="seconds"),
        "question_set": evaluation.question_set.name, "questions": len(evaluation.question_set),
        "questions_done": evaluation.questions_done, "stopped": evaluation.stopped,
        "configurations": list(evaluation.configurations), "settings": evaluation.settings,
        "wall_s": round(evaluation.wall_s, 3),
        "summary": [s.to_dict() for s in evaluation.summaries()],
        "records": [r.to_dict() for r in evaluation.records],
    }, indent=2, ensure_ascii=False)


def format_table(summaries: Sequence[ConfigSummary]) -> str:
    """The benchmark's Markdown table: configuration | fact accuracy | style adherence | hit@k | ms/question."""
    lines = ["| configuration | fact accuracy | style adherence | hit@k | ms/question |", "|---|---|---|---|---|"]
    for s in summaries:
        lines.append(f"| {s.label} | {pct(s.fact_accuracy)} | {pct(s.style_adherence)} | {pct(s.hit_at_k)} | "
                     f"{'—' if s.mean_total_s is None else f'{s.mean_total_s * 1000:.0f}'} |")
    return "\n".join(lines)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"
