"""Classification scores: labelled fields of a JSON answer (a ticket's category and priority), per field.

Shape::

    predicted = predicted_fields('{"category": "billing", ...}', ("category", "priority"))
    acc = field_accuracy(records, "ft", "category")       # correct / n with its 95% Wilson interval
    table = confusion(records, "ft", "category")          # expected label × predicted label counts
    valid = json_validity(records, "ft")                  # share of answers that are one JSON object

An answer that is not one JSON object predicts :data:`NO_JSON` for every field; a JSON object without the field
predicts :data:`MISSING`. Both count as wrong, and both have a column in the confusion table, so a model that
answers in prose shows as such rather than as a wrong label.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ragft.evaluation.formats import strip_fence
from ragft.evaluation.stats import Interval, wilson


class EvalRecord(Protocol):
    """What these scores read of a :class:`ragft.evaluation.records.EvalRecord`."""

    @property
    def configuration(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def fields(self) -> tuple[tuple[str, str, str], ...]: ...


NO_JSON = "(not JSON)"
MISSING = "(missing)"


def parse_object(answer: str) -> dict[str, Any] | None:
    """The answer as one JSON object (a Markdown fence around it allowed), else None."""
    try:
        obj = json.loads(strip_fence(answer or ""))
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def predicted_fields(answer: str, names: Sequence[str]) -> dict[str, str]:
    """Each field's predicted label (lower-case, stripped), :data:`NO_JSON` or :data:`MISSING`."""
    obj = parse_object(answer)
    if obj is None:
        return {n: NO_JSON for n in names}
    out = {}
    for n in names:
        v = obj.get(n)
        out[n] = str(v).strip().lower() if isinstance(v, (str, int, float)) and str(v).strip() else MISSING
    return out


def score_fields(answer: str, expected: Sequence[tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    """``(field, expected, predicted)`` for every labelled field of a question."""
    predicted = predicted_fields(answer, [n for n, _ in expected])
    return tuple((n, v.lower(), predicted[n]) for n, v in expected)


def field_names(records: Sequence[EvalRecord]) -> list[str]:
    """The labelled fields found in the records, in first-seen order."""
    out: list[str] = []
    for r in records:
        for name, _, _ in r.fields:
            if name not in out:
                out.append(name)
    return out


@dataclass(frozen=True)
class FieldAccuracy:
    configuration: str
    field: str
    correct: int
    n: int
    interval: Interval  # 95% Wilson

    @property
    def rate(self) -> float | None:
        return self.correct / self.n if self.n else None


def field_accuracy(records: Sequence[EvalRecord], configuration: str, field: str) -> FieldAccuracy:
    """Share of the configuration's answers whose ``field`` equals the label (failed answers count as wrong)."""
    pairs = [(e, p) for r in records if r.configuration == configuration for (f, e, p) in r.fields if f == field]
    correct = sum(1 for e, p in pairs if e == p)
    return FieldAccuracy(configuration, field, correct, len(pairs), wilson(correct, len(pairs)))


def json_validity(records: Sequence[EvalRecord], configuration: str) -> FieldAccuracy:
    """Share of the configuration's answers to labelled questions that are one JSON object."""
    rs = [r for r in records if r.configuration == configuration and r.fields]
    ok = sum(1 for r in rs if parse_object(r.answer) is not None)
    return FieldAccuracy(configuration, "valid JSON", ok, len(rs), wilson(ok, len(rs)))


@dataclass(frozen=True)
class Confusion:
    """Counts of (expected label, predicted label) for one field and configuration."""

    configuration: str
    field: str
    expected: tuple[str, ...]  # row labels, sorted
    predicted: tuple[str, ...]  # column labels: the expected ones first, then other predictions
    counts: dict[tuple[str, str], int]

    def count(self, expected: str, predicted: str) -> int:
        return self.counts.get((expected, predicted), 0)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per expected label: ``{"expected": label, <predicted label>: count, ...}`` (for a table)."""
        return [{"expected": e, **{p: self.count(e, p) for p in self.predicted}} for e in self.expected]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def correct(self) -> int:
        return sum(self.count(e, e) for e in self.expected)


def confusion(records: Sequence[EvalRecord], configuration: str, field: str) -> Confusion:
    counts: dict[tuple[str, str], int] = {}
    for r in records:
        if r.configuration != configuration:
            continue
        for f, e, p in r.fields:
            if f == field:
                counts[(e, p)] = counts.get((e, p), 0) + 1
    expected = tuple(sorted({e for e, _ in counts}))
    others = sorted({p for _, p in counts} - set(expected), key=lambda p: (p in (NO_JSON, MISSING), p))
    return Confusion(configuration, field, expected, expected + tuple(others), counts)
