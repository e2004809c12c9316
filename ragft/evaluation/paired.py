"""Paired differences: two configurations (or one configuration in two runs) on the same questions.

A question is *right* for a configuration when its answer states every expected fact (``metric="facts"``) or is
in the brand voice (``metric="style"``), or labels a field of its JSON answer right (``metric="field:category"``;
:func:`metrics_for` lists the metrics a run's records have). Pairing by question removes the questions' own
difficulty from the comparison: only the questions one got right and the other wrong (the discordant pairs) carry
evidence.

    cmp = compare_records(ev.records, "base_rag", "ft_rag")
    cmp.sentence()   # "Fine-tuned + RAG beat Base + RAG on 6 questions and lost on 0 ..."
    cmp.rows         # per question: who was right, both answers
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ragft.configs import BY_KEY
from ragft.evaluation.fields import field_names
from ragft.evaluation.records import EvalRecord
from ragft.evaluation.stats import Interval, McNemar, format_p, mcnemar_exact, paired_difference

METRICS = {"facts": "every expected fact stated", "style": "in the brand voice"}
FIELD_PREFIX = "field:"  # "field:category": the answer's category field equals the label

# what changed on one question, from A's outcome to B's
B_WON, A_WON, BOTH, NEITHER = "b_won", "a_won", "both", "neither"


def field_metric(name: str) -> str:
    """The metric of one labelled field: ``field_metric("category") == "field:category"``."""
    return FIELD_PREFIX + name


def metrics_for(records: Iterable[EvalRecord]) -> list[str]:
    """The metrics that apply to these records: facts (when a question expects facts, or an answer scored on
    them), style (when it was checked), then every labelled field in first-seen order (``field:category``, ``field:priority``)."""
    rs = list(records)
    facts = any(r.expected_facts or r.fact_score > 0 for r in rs)  # an imported run may not carry its facts
    out = [m for m, hit in (("facts", facts), ("style", any(r.style_applicable for r in rs))) if hit]
    return out + [field_metric(name) for name in field_names(rs)]


def metric_name(metric: str) -> str:
    """A metric's short name for a control: "facts", "style", "category"."""
    return metric.removeprefix(FIELD_PREFIX)


def metric_label(metric: str) -> str:
    if metric.startswith(FIELD_PREFIX):
        return f"{metric.removeprefix(FIELD_PREFIX)} labelled right"
    return METRICS[metric]


def is_right(record: EvalRecord, metric: str = "facts") -> bool | None:
    """Whether one answer counts as right; ``None`` when the metric does not apply (style not checked)."""
    if metric == "facts":
        return record.error is None and record.fact_score >= 1.0
    if metric == "style":
        return None if not record.style_applicable else bool(record.style_ok) and record.error is None
    if metric.startswith(FIELD_PREFIX):
        name = metric.removeprefix(FIELD_PREFIX)
        hits = [e == p for f, e, p in record.fields if f == name]
        return None if not hits else all(hits) and record.error is None
    raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")


@dataclass(frozen=True)
class QuestionDiff:
    question_id: str
    question: str
    a_right: bool
    b_right: bool
    a_answer: str
    b_answer: str
    a_error: str | None = None
    b_error: str | None = None

    @property
    def outcome(self) -> str:
        if self.a_right == self.b_right:
            return BOTH if self.a_right else NEITHER
        return B_WON if self.b_right else A_WON

    @property
    def answer_changed(self) -> bool:
        return (self.a_answer or "").strip() != (self.b_answer or "").strip() or self.a_error != self.b_error


@dataclass(frozen=True)
class PairedComparison:
    """B against A on the questions both answered. ``difference`` is B's share right minus A's."""

    a_label: str
    b_label: str
    metric: str
    rows: tuple[QuestionDiff, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def b_won(self) -> int:
        return self.count(B_WON)

    @property
    def a_won(self) -> int:
        return self.count(A_WON)

    @property
    def difference(self) -> Interval:
        return paired_difference(self.count(BOTH), self.a_won, self.b_won, self.count(NEITHER))

    @property
    def test(self) -> McNemar:
        return mcnemar_exact(self.a_won, self.b_won)

    def discordant(self) -> list[QuestionDiff]:
        return [r for r in self.rows if r.outcome in (B_WON, A_WON)]

    def sentence(self) -> str:
        """The result in words a workshop audience reads."""
        if not self.n:
            return f"{self.a_label} and {self.b_label} answered no question in common."
        q = "question" if self.b_won == 1 else "questions"
        head = (
            f"{self.b_label} beat {self.a_label} on {self.b_won} {q} and lost on {self.a_won} "
            f"({metric_label(self.metric)}; both right on {self.count(BOTH)}, both wrong on {self.count(NEITHER)}, "
            f"{self.n} questions in all)."
        )
        d = self.difference
        assert d.estimate is not None and d.low is not None and d.high is not None
        diff = (
            f" Difference in questions right: {d.estimate * 100:+.0f} points "
            f"(95% interval {d.low * 100:+.0f} to {d.high * 100:+.0f})."
        )
        t = self.test
        if t.discordant == 0:
            verdict = " They got exactly the same questions right: no evidence either way."
        elif t.p_value < 0.05:
            verdict = (
                f" Exact McNemar test: {format_p(t.p_value)}, so a split this lopsided would rarely happen "
                "by chance: the difference is real on questions like these."
            )
        else:
            verdict = (
                f" Exact McNemar test: {format_p(t.p_value)}, so a split like this could well be chance "
                "with this few questions: run more before drawing a conclusion."
            )
        return head + diff + verdict

    def to_dict(self) -> dict[str, object]:
        d, t = self.difference, self.test
        return {
            "a": self.a_label,
            "b": self.b_label,
            "metric": self.metric,
            "questions": self.n,
            "b_won": self.b_won,
            "a_won": self.a_won,
            "both_right": self.count(BOTH),
            "both_wrong": self.count(NEITHER),
            "difference_95": d.to_dict(),
            "mcnemar_exact_p": round(t.p_value, 6),
            "sentence": self.sentence(),
        }


def _by_question(records: Iterable[EvalRecord], configuration: str) -> dict[str, EvalRecord]:
    return {r.question_id: r for r in records if r.configuration == configuration}


def pair(
    a: dict[str, EvalRecord], b: dict[str, EvalRecord], a_label: str, b_label: str, metric: str = "facts"
) -> PairedComparison:
    """Pair two ``question id -> record`` maps (questions in A's order; a question one of them lacks is left out,
    and so is one where the metric does not apply)."""
    rows = []
    for qid, ra in a.items():
        rb = b.get(qid)
        if rb is None:
            continue
        ok_a, ok_b = is_right(ra, metric), is_right(rb, metric)
        if ok_a is None or ok_b is None:
            continue
        rows.append(QuestionDiff(qid, ra.question, ok_a, ok_b, ra.answer, rb.answer, ra.error, rb.error))
    return PairedComparison(a_label, b_label, metric, tuple(rows))


def label_of(configuration: str) -> str:
    cfg = BY_KEY.get(configuration)
    return cfg.label if cfg else configuration


def compare_records(records: Sequence[EvalRecord], a: str, b: str, metric: str = "facts") -> PairedComparison:
    """Configuration ``b`` against ``a`` within one evaluation."""
    return pair(_by_question(records, a), _by_question(records, b), label_of(a), label_of(b), metric)


def compare_runs(
    baseline: Sequence[EvalRecord],
    current: Sequence[EvalRecord],
    configuration: str,
    metric: str = "facts",
    baseline_name: str = "the baseline run",
    current_name: str = "this run",
) -> PairedComparison:
    """One configuration in two runs: what changed since the baseline, question by question."""
    label = label_of(configuration)
    return pair(
        _by_question(baseline, configuration),
        _by_question(current, configuration),
        f"{label} in {baseline_name}",
        f"{label} in {current_name}",
        metric,
    )
