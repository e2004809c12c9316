"""The recommendation: the case's position on the know/act axes, a score per approach, the best one and why.

:func:`recommend` is deterministic; ``today`` is an argument because the model-lifecycle facts (OpenAI's
fine-tuning shutdown) depend on the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ragft.configs import APPROACH_LABELS, APPROACHES
from ragft.guide.factors import FACTORS, UNKNOWN, Answers, GuideInputError
from ragft.guide.lifecycle import lifecycle_facts
from ragft.guide.needs import Needs, needs_for, risks_for
from ragft.guide.rules import PRIOR, PRIOR_TEXT, RULES, Reason, combination_reasons, conflicts_in, lifecycle_reason

_CONTEXT_LEVELS: dict[str, dict[str, float]] = {
    "knowledge": {"general": 0.1, "some": 0.55, "proprietary": 0.9},
    "change": {"static": 0.3, "monthly": 0.6, "weekly": 0.8, "daily": 0.95},
    "citations": {"not_needed": 0.35, "nice": 0.6, "required": 0.9},
    "corpus_size": {"none": 0.1, "small": 0.4, "medium": 0.65, "large": 0.85},
}
_CONTEXT_WEIGHTS = {"knowledge": 3.0, "change": 2.0, "citations": 1.0, "corpus_size": 1.0}
_BEHAVIOUR_LEVELS = {"none": 0.1, "light": 0.35, "brand_voice": 0.75, "strict_format": 0.9}


@dataclass(frozen=True)
class Position:
    """Where the case sits on the two axes, each in [0, 1]; 0.5 means "not known"."""

    context: float  # what the model needs to know
    behaviour: float  # how it needs to act
    context_known: bool
    behaviour_known: bool

    @property
    def quadrant(self) -> str:
        """The approach of the quadrant the point falls in (ties at 0.5 go to the simpler side)."""
        high_c, high_b = self.context > 0.5, self.behaviour > 0.5
        if high_c and high_b:
            return "hybrid"
        if high_c:
            return "rag"
        if high_b:
            return "finetuning"
        return "prompting"


def position_of(a: Answers) -> Position:
    total, weight = 0.0, 0.0
    for key, levels in _CONTEXT_LEVELS.items():
        value = getattr(a, key)
        if value in levels:
            total += levels[value] * _CONTEXT_WEIGHTS[key]
            weight += _CONTEXT_WEIGHTS[key]
    context = round(total / weight, 3) if weight else 0.5
    behaviour = _BEHAVIOUR_LEVELS.get(a.behaviour, 0.5)
    return Position(context, behaviour, weight > 0, a.behaviour in _BEHAVIOUR_LEVELS)


@dataclass(frozen=True)
class Assessment:
    """One approach: its score, the reasons for and against it, what it needs, what it risks."""

    approach: str
    label: str
    score: int
    reasons_for: tuple[Reason, ...]
    reasons_against: tuple[Reason, ...]
    needs: Needs
    risks: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    best: str
    runner_up: str
    scores: Mapping[str, int]  # approach → score (prior + sum of reason deltas)
    ranking: tuple[str, ...]  # best first
    assessments: Mapping[str, Assessment]
    reasons: tuple[Reason, ...]  # every rule that fired, in questionnaire order
    position: Position
    conflicts: tuple[str, ...]
    lifecycle: tuple[str, ...]
    confidence: str  # "low" | "medium" | "high"
    answered: int
    today: date

    @property
    def label(self) -> str:
        return APPROACH_LABELS[self.best]

    @property
    def margin(self) -> int:
        return self.scores[self.best] - self.scores[self.runner_up]

    def why(self, limit: int | None = None) -> tuple[Reason, ...]:
        """Reasons that push the best option up, strongest first."""
        items = self.assessments[self.best].reasons_for
        return items[:limit] if limit else items

    def why_not(self, approach: str) -> tuple[Reason, ...]:
        """Reasons that favour the best option over ``approach``, largest difference first."""
        diffs = [(r.delta(self.best) - r.delta(approach), i, r) for i, r in enumerate(self.reasons)]
        return tuple(r for d, _, r in sorted(diffs, key=lambda t: (-t[0], t[1])) if d > 0)

    @property
    def headline(self) -> Reason | None:
        """The reason that says most about the case: strong for the best option and, at equal strength,
        the one that separates it most from the runner-up."""
        pros = self.why()
        if not pros:
            return None
        b, r = self.best, self.runner_up
        return max(pros, key=lambda x: (2 * x.delta(b) - x.delta(r), -pros.index(x)))

    def summary(self) -> str:
        if self.answered == 0:
            return (
                "Nothing answered yet: start with prompting, the cheapest baseline, and answer the questions "
                "to see what your case needs."
            )
        because = f" {self.headline.text}" if self.headline else ""
        return f"{self.label} fits best ({self.confidence} confidence).{because}"


_SIMPLICITY = {k: i for i, k in enumerate(APPROACHES)}  # ties go to the simpler (earlier) approach


def recommend(answers: Answers, today: date) -> Recommendation:
    """Score every approach for ``answers`` as of ``today`` (the lifecycle facts depend on the date)."""
    if not isinstance(answers, Answers):
        raise GuideInputError("recommend() needs an Answers object.")
    if not isinstance(today, date):
        raise GuideInputError("recommend() needs today's date.")
    reasons: list[Reason] = []
    for factor in FACTORS:
        value = getattr(answers, factor.key)
        if value == UNKNOWN:
            continue
        if factor.key == "lifecycle":
            lr = lifecycle_reason(value, today)
            if lr is not None:
                reasons.append(lr)
            continue
        deltas, text = RULES[factor.key][value]
        reasons.append(Reason(factor.key, value, text, deltas))
    reasons.extend(combination_reasons(answers))

    scores = {k: PRIOR[k] + sum(r.delta(k) for r in reasons) for k in APPROACHES}
    ranking = tuple(sorted(APPROACHES, key=lambda k: (-scores[k], _SIMPLICITY[k])))
    best, runner_up = ranking[0], ranking[1]

    assessments: dict[str, Assessment] = {}
    for k in APPROACHES:
        pros = sorted((r for r in reasons if r.delta(k) > 0), key=lambda r: -r.delta(k))
        cons = sorted((r for r in reasons if r.delta(k) < 0), key=lambda r: r.delta(k))
        assessments[k] = Assessment(
            k,
            APPROACH_LABELS[k],
            scores[k],
            tuple(pros),
            tuple(cons),
            needs_for(k, answers),
            risks_for(k, answers, today),
        )
    if not reasons:  # all unknown: the prior is the only reason
        start = Reason("start", UNKNOWN, PRIOR_TEXT, PRIOR)
        assessments["prompting"] = Assessment(
            "prompting",
            APPROACH_LABELS["prompting"],
            scores["prompting"],
            (start,),
            (),
            assessments["prompting"].needs,
            assessments["prompting"].risks,
        )

    conflicts = tuple(conflicts_in(answers))
    answered = len(answers.known)
    margin = scores[best] - scores[runner_up]
    if answered == 0 or conflicts or margin == 0 or answered < 3:
        confidence = "low"
    elif margin >= 3 and answered >= 6:
        confidence = "high"
    else:
        confidence = "medium"
    return Recommendation(
        best=best,
        runner_up=runner_up,
        scores=scores,
        ranking=ranking,
        assessments=assessments,
        reasons=tuple(reasons),
        position=position_of(answers),
        conflicts=conflicts,
        lifecycle=lifecycle_facts(today),
        confidence=confidence,
        answered=answered,
        today=today,
    )
