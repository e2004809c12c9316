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
    sections = (
        _head(rec),
        _scores(rec),
        _position(rec),
        _why(rec),
        _answers(answers),
        _needs(rec),
        ["## Model lifecycle", "", *(f"- {t}" for t in rec.lifecycle), ""],
        _costs(costs, cost_note),
        _evidence(evidence),
    )
    return "\n".join(line for section in sections for line in section)


def _head(rec: Recommendation) -> list[str]:
    L = [f"# Decision guide: {rec.label}", ""]
    L.append(
        f"_RAG vs Fine-Tuning Explorer, {rec.today:%Y-%m-%d}. Confidence: {rec.confidence}; "
        f"{rec.answered} of {len(FACTORS)} questions answered._"
    )
    L += ["", rec.summary(), ""]
    if rec.conflicts:
        L.append("## Check these answers")
        L.extend(f"- {c}" for c in rec.conflicts)
        L.append("")
    return L


def _scores(rec: Recommendation) -> list[str]:
    L = ["## Scores", "", "| Approach | Score |", "|---|---:|"]
    for k in rec.ranking:
        mark = " (recommended)" if k == rec.best else ""
        L.append(f"| {APPROACH_LABELS[k]}{mark} | {rec.scores[k]} |")
    return [*L, ""]


def _position(rec: Recommendation) -> list[str]:
    p = rec.position
    return [
        "## Position on the two axes",
        "",
        f"- What the model needs to know (context): {p.context:.2f}{'' if p.context_known else ' (not known)'}",
        f"- How it needs to act (behaviour): {p.behaviour:.2f}{'' if p.behaviour_known else ' (not known)'}",
        f"- Quadrant: {APPROACH_LABELS[p.quadrant]}",
        "",
    ]


def _why(rec: Recommendation) -> list[str]:
    L = [f"## Why {rec.label}", ""]
    why = rec.why()
    L.extend(f"- {r.text} ({r.delta(rec.best):+d})" for r in why)
    if not why:
        L.append("- No answer favours it strongly; it wins on simplicity.")
    against = rec.assessments[rec.best].reasons_against
    if against:
        L += ["", "Against it:"]
        L.extend(f"- {r.text} ({r.delta(rec.best):+d})" for r in against)
    return [*L, ""]


def _answers(answers: Answers) -> list[str]:
    L = ["## Your answers", "", "| Question | Answer |", "|---|---|"]
    for f in FACTORS:
        L.append(f"| {_cell(f.label)} | {_cell(f.option_label(getattr(answers, f.key)))} |")
    return [*L, ""]


def _needs(rec: Recommendation) -> list[str]:
    L = ["## What each option needs and risks"]
    for k in rec.ranking:
        a = rec.assessments[k]
        L += ["", f"### {a.label} (score {a.score})", ""]
        L.append(f"- **Data:** {'; '.join(a.needs.data)}")
        L.append(f"- **Infrastructure:** {'; '.join(a.needs.infrastructure)}")
        L.append(f"- **Skills:** {'; '.join(a.needs.skills)}")
        L.append(f"- **Risks:** {'; '.join(a.risks)}")
    return [*L, ""]


def _costs(costs: Mapping[str, Decimal] | None, cost_note: str) -> list[str]:
    L = ["## Monthly cost projection", ""]
    if not costs:
        return [*L, cost_note or "Not available.", ""]
    L += ["| Approach | USD per month |", "|---|---:|"]
    for k in APPROACHES:
        if k in costs:
            L.append(f"| {APPROACH_LABELS[k]} | {format_usd(Decimal(costs[k]))} |")
    if cost_note:
        L += ["", cost_note]
    return [*L, ""]


def _evidence(evidence: EvidenceSummary | None) -> list[str]:
    L = ["## Evidence from your runs", ""]
    if evidence is None or evidence.empty:
        return [*L, "No compare or evaluation runs in this session.", ""]
    L += ["| Configuration | Runs | Fact accuracy | Style | Cost per question |", "|---|---:|---:|---:|---:|"]
    for ev in evidence.by_config.values():
        fact = format_share(ev.fact) if ev.fact is not None else "–"
        style = format_share(ev.style) if ev.style is not None else "–"
        cost = format_usd(ev.cost_usd, unknown="–")
        L.append(f"| {ev.label} | {ev.n} | {fact} | {style} | {cost} |")
    if evidence.sentences:
        L.append("")
        L.extend(f"- {s}" for s in evidence.sentences)
    return [*L, ""]
