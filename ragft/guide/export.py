"""The recommendation as Markdown: reasons, needs, risks and the numbers behind every chart."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ragft.configs import APPROACH_LABELS, APPROACHES
from ragft.costs.money import format_usd
from ragft.guide.evidence import EvidenceSummary, format_share
from ragft.guide.factors import FACTORS, Answers
from ragft.guide.recommendation import Recommendation


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(
    answers: Answers,
    rec: Recommendation,
    evidence: EvidenceSummary | None = None,
    costs: Mapping[str, Decimal] | None = None,
    cost_note: str = "",
) -> str:
    """The recommendation, its reasons, needs, risks, and the numbers behind every chart, as Markdown."""
    L: list[str] = []
    L.append(f"# Decision guide: {rec.label}")
    L.append("")
    L.append(
        f"_RAG vs Fine-Tuning Explorer, {rec.today:%Y-%m-%d}. Confidence: {rec.confidence}; "
        f"{rec.answered} of {len(FACTORS)} questions answered._"
    )
    L.append("")
    L.append(rec.summary())
    L.append("")
    if rec.conflicts:
        L.append("## Check these answers")
        L.extend(f"- {c}" for c in rec.conflicts)
        L.append("")
    L.append("## Scores")
    L.append("")
    L.append("| Approach | Score |")
    L.append("|---|---:|")
    for k in rec.ranking:
        mark = " (recommended)" if k == rec.best else ""
        L.append(f"| {APPROACH_LABELS[k]}{mark} | {rec.scores[k]} |")
    L.append("")
    p = rec.position
    L.append("## Position on the two axes")
    L.append("")
    L.append(f"- What the model needs to know (context): {p.context:.2f}{'' if p.context_known else ' (not known)'}")
    L.append(f"- How it needs to act (behaviour): {p.behaviour:.2f}{'' if p.behaviour_known else ' (not known)'}")
    L.append(f"- Quadrant: {APPROACH_LABELS[p.quadrant]}")
    L.append("")
    L.append(f"## Why {rec.label}")
    L.append("")
    why = rec.why()
    L.extend(f"- {r.text} ({r.delta(rec.best):+d})" for r in why)
    if not why:
        L.append("- No answer favours it strongly; it wins on simplicity.")
    against = rec.assessments[rec.best].reasons_against
    if against:
        L.append("")
        L.append("Against it:")
        L.extend(f"- {r.text} ({r.delta(rec.best):+d})" for r in against)
    L.append("")
    L.append("## Your answers")
    L.append("")
    L.append("| Question | Answer |")
    L.append("|---|---|")
    for f in FACTORS:
        L.append(f"| {_cell(f.label)} | {_cell(f.option_label(getattr(answers, f.key)))} |")
    L.append("")
    L.append("## What each option needs and risks")
    for k in rec.ranking:
        a = rec.assessments[k]
        L.append("")
        L.append(f"### {a.label} (score {a.score})")
        L.append("")
        L.append(f"- **Data:** {'; '.join(a.needs.data)}")
        L.append(f"- **Infrastructure:** {'; '.join(a.needs.infrastructure)}")
        L.append(f"- **Skills:** {'; '.join(a.needs.skills)}")
        L.append(f"- **Risks:** {'; '.join(a.risks)}")
    L.append("")
    L.append("## Model lifecycle")
    L.append("")
    L.extend(f"- {t}" for t in rec.lifecycle)
    L.append("")
    L.append("## Monthly cost projection")
    L.append("")
    if costs:
        L.append("| Approach | USD per month |")
        L.append("|---|---:|")
        for k in APPROACHES:
            if k in costs:
                L.append(f"| {APPROACH_LABELS[k]} | {format_usd(Decimal(costs[k]))} |")
        if cost_note:
            L.append("")
            L.append(cost_note)
    else:
        L.append(cost_note or "Not available.")
    L.append("")
    L.append("## Evidence from your runs")
    L.append("")
    if evidence is None or evidence.empty:
        L.append("No compare or evaluation runs in this session.")
    else:
        L.append("| Configuration | Runs | Fact accuracy | Style | Cost per question |")
        L.append("|---|---:|---:|---:|---:|")
        for ev in evidence.by_config.values():
            fact = format_share(ev.fact) if ev.fact is not None else "–"
            style = format_share(ev.style) if ev.style is not None else "–"
            cost = format_usd(ev.cost_usd, unknown="–")
            L.append(f"| {ev.label} | {ev.n} | {fact} | {style} | {cost} |")
        if evidence.sentences:
            L.append("")
            L.extend(f"- {s}" for s in evidence.sentences)
    L.append("")
    return "\n".join(L)
