"""Question sets for an evaluation: JSONL or CSV parsing into :class:`QuestionSet`, with typed errors.

Columns: ``id, question, expected_facts, expected_source, expected_style`` (plus optional ``expected_page``,
``topic``, ``kind``, ``stale_facts``). In CSV the facts are one ``|``-separated cell. A malformed set raises
:class:`QuestionSetError` naming the line and column.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from ragft.answering.compare import MAX_QUESTION_CHARS
from ragft.errors import RagftError
from ragft.evaluation.scoring import fact_tokens
from ragft.knowledge.scenario import Question
from ragft.paths import ADAPTER_DIR, SCENARIO_DIR

logger = logging.getLogger(__name__)

DEFAULT_QUESTIONS = SCENARIO_DIR / "questions.jsonl"
TICKETS_QUESTIONS = ADAPTER_DIR / "tickets-questions.jsonl"
REQUIRED_FIELDS = ("id", "question", "expected_facts")
OPTIONAL_FIELDS = (
    "expected_source",
    "expected_style",
    "expected_page",
    "topic",
    "kind",
    "stale_facts",
    "expected_fields",
)
STYLES = ("brand", "ticket-json", "any")
# "brand": the Fernhollow voice (ragft.evaluation.style); "ticket-json": one JSON object in the support-ticket shape
# (ragft.training.checks.TICKET_SCHEMA); "any": style is not scored. ``expected_format`` is read as a synonym.
MAX_QUESTIONS = 1000
MAX_QUESTION_SET_BYTES = 2_000_000


class QuestionSetError(RagftError):
    """A question set cannot be read. ``line`` (1-based) and ``column`` name the culprit when known."""

    def __init__(
        self, message: str, *, line: int | None = None, column: str | None = None, hint: str | None = None
    ) -> None:
        where = ", ".join(p for p in (f"line {line}" if line else "", f"column {column!r}" if column else "") if p)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class QuestionSet:
    name: str
    questions: tuple[Question, ...]

    def __len__(self) -> int:
        return len(self.questions)

    def subset(self, n: int | None) -> QuestionSet:
        """The first ``n`` questions taken round-robin over their kinds (price, spec, policy...) in file order,
        so a small subset still covers every kind. ``None`` or ``n >= len``: the whole set."""
        if n is None or n >= len(self.questions):
            return self
        if n < 1:
            raise QuestionSetError("The subset needs at least one question.")
        by_kind: dict[str, list[Question]] = {}
        for q in self.questions:
            by_kind.setdefault(q.kind, []).append(q)
        picked: list[Question] = []
        queues = [list(v) for v in by_kind.values()]
        while len(picked) < n:
            for qs in queues:
                if qs and len(picked) < n:
                    picked.append(qs.pop(0))
        return QuestionSet(f"{self.name} (subset of {n})", tuple(picked))


def _facts(value: Any, *, line: int, column: str, csv_cell: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        items = value.split("|") if csv_cell else [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise QuestionSetError(f"expected a list of strings, got {type(value).__name__}", line=line, column=column)
    out = []
    for item in items:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise QuestionSetError(f"every fact must be text, got {type(item).__name__}", line=line, column=column)
        text = str(item).strip()
        if text:
            if not fact_tokens(text):
                raise QuestionSetError(
                    f"the fact {text!r} has no letters or digits to look for", line=line, column=column
                )
            out.append(text)
    return tuple(out)


def _question_from_row(row: Mapping[str, Any], *, line: int, csv_cell: bool) -> Question:
    for name in REQUIRED_FIELDS:
        if name not in row or row[name] is None:
            raise QuestionSetError("missing required field", line=line, column=name)
    qid = str(row["id"]).strip()
    if not qid:
        raise QuestionSetError("the id is empty", line=line, column="id")
    question = row["question"]
    if not isinstance(question, str) or not question.strip():
        raise QuestionSetError("the question is empty", line=line, column="question")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionSetError(
            f"the question is longer than {MAX_QUESTION_CHARS} characters", line=line, column="question"
        )
    facts = _facts(row["expected_facts"], line=line, column="expected_facts", csv_cell=csv_cell)
    if not facts:
        raise QuestionSetError("at least one expected fact is needed", line=line, column="expected_facts")
    style = str(row.get("expected_style") or row.get("expected_format") or "any").strip().lower()
    if style not in STYLES:
        raise QuestionSetError(
            f"{style!r} is not a style this app can check; use one of {', '.join(STYLES)}",
            line=line,
            column="expected_style",
        )
    page_raw = row.get("expected_page")
    page: int | None = None
    if page_raw not in (None, ""):
        try:
            page = int(page_raw)
        except (TypeError, ValueError):
            raise QuestionSetError(
                f"expected a page number, got {page_raw!r}", line=line, column="expected_page"
            ) from None
    stale_raw = row.get("stale_facts") or ()
    stale = _facts(stale_raw, line=line, column="stale_facts", csv_cell=csv_cell) if stale_raw else ()
    fields = _expected_fields(row.get("expected_fields"), line=line)
    return Question(
        id=qid,
        question=question.strip(),
        expected_facts=facts,
        expected_source=str(row.get("expected_source") or "").strip(),
        expected_style=style,
        expected_page=page,
        topic=str(row.get("topic") or ""),
        kind=str(row.get("kind") or ""),
        stale_facts=stale,
        expected_fields=fields,
    )


def _expected_fields(value: Any, *, line: int) -> tuple[tuple[str, str], ...]:
    """Labelled fields of a JSON answer: an object in JSONL, ``name=value|name=value`` in a CSV cell."""
    if value in (None, "", {}):
        return ()
    if isinstance(value, str):
        pairs = [p.split("=", 1) for p in value.split("|") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise QuestionSetError("write the fields as name=value|name=value", line=line, column="expected_fields")
        value = {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise QuestionSetError(
            "expected an object of field names to non-empty strings", line=line, column="expected_fields"
        )
    return tuple((k.strip(), v.strip().lower()) for k, v in value.items())


def _parse_jsonl(text: str) -> list[Question]:
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"not valid JSON ({exc.msg} at character {exc.pos + 1})", line=n) from None
        if not isinstance(row, dict):
            raise QuestionSetError(f"expected a JSON object, got {type(row).__name__}", line=n)
        out.append(_question_from_row(row, line=n, csv_cell=False))
    return out


def _parse_csv(text: str) -> list[Question]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise QuestionSetError(f"not valid CSV ({exc})", line=1) from None
    header = [h.strip().lstrip("\ufeff").lower() for h in header]
    for name in REQUIRED_FIELDS:
        if name not in header:
            raise QuestionSetError(
                f"the header has no column {name!r} (found: {', '.join(header) or 'nothing'})", line=1, column=name
            )
    out = []
    try:
        for row in reader:
            n = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise QuestionSetError(f"{len(row)} cells but the header has {len(header)} columns", line=n)
            values = dict(zip(header, row))
            for name in REQUIRED_FIELDS:
                if not (values.get(name) or "").strip():
                    raise QuestionSetError("the cell is empty", line=n, column=name)
            out.append(_question_from_row(values, line=n, csv_cell=True))
    except csv.Error as exc:
        raise QuestionSetError(f"not valid CSV ({exc})", line=reader.line_num) from None
    return out


def parse_question_set(data: bytes | str, name: str = "questions.jsonl", fmt: str | None = None) -> QuestionSet:
    """Parse a question set from its bytes. ``fmt``: "jsonl" or "csv" (default: from the file name)."""
    fmt = (fmt or PurePath(name).suffix.lstrip(".")).lower()
    if fmt in ("json", "ndjson"):
        fmt = "jsonl"
    if fmt not in ("jsonl", "csv"):
        raise QuestionSetError(f"{name}: a question set is a .jsonl or .csv file.")
    if isinstance(data, bytes):
        if len(data) > MAX_QUESTION_SET_BYTES:
            raise QuestionSetError(
                f"{name} is {len(data) / 1e6:.1f} MB; a question set is at most {MAX_QUESTION_SET_BYTES / 1e6:.0f} MB."
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise QuestionSetError("the file is not UTF-8 text", line=line) from None
    else:
        text = data
    if not text.strip():
        raise QuestionSetError(f"{name} is empty: it needs at least one question.")
    questions = _parse_jsonl(text) if fmt == "jsonl" else _parse_csv(text)
    if not questions:
        raise QuestionSetError(f"{name} holds no question (only a header or blank lines).")
    if len(questions) > MAX_QUESTIONS:
        raise QuestionSetError(f"{name} has {len(questions)} questions; at most {MAX_QUESTIONS}.")
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise QuestionSetError(f"{name}: the id {q.id!r} appears twice; ids must be unique.", column="id")
        seen.add(q.id)
    return QuestionSet(name, tuple(questions))


def load_question_set(path: Path | str) -> QuestionSet:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise QuestionSetError(f"The question set {path} is missing.") from None
    return parse_question_set(data, path.name)


def default_question_set() -> QuestionSet:
    """The question set shipped with the sample scenario."""
    qs = load_question_set(DEFAULT_QUESTIONS)
    return QuestionSet("Sample scenario (Fernhollow Outfitters)", qs.questions)


def preset_of(qs: QuestionSet) -> str | None:
    """The training preset a question set was made for: the support tickets when every question expects the
    ticket JSON (its prompted configurations take the tickets' examples), else None (the fine-tuned slot's)."""
    return "tickets" if qs.questions and all(q.expected_style == "ticket-json" for q in qs.questions) else None


def tickets_question_set() -> QuestionSet:
    """The held-out support tickets of the JSON adapter: format (a fixed JSON shape) rather than voice."""
    qs = load_question_set(TICKETS_QUESTIONS)
    return QuestionSet("Support tickets → JSON (the tickets adapter's held-out set)", qs.questions)
