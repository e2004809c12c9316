"""Evaluation: run a question set through the configurations, score facts, style and retrieval, summarise.

Shape::

    qs = default_question_set()                       # or load_question_set(data, name="mine.csv")
    stop = threading.Event()
    ev = Evaluation.new(qs.subset(4), ["base", "base_rag", "ft", "ft_rag"])
    for p in run_evaluation(ev, model_for=..., retrieve=..., ledger=ledger, cancel=stop):
        print(p.done, "/", p.total, p.record.configuration, p.record.fact_score)
    summaries = ev.summaries()                        # one ConfigSummary per configuration
    to_csv(ev), to_json(ev)

- Each question goes through :func:`ragft.answering.compare.start_comparison` (shared retrieval, budget, ledger
  metering, prompts from :func:`ragft.answering.prompts.build_messages`), so an evaluation costs and meters exactly like
  the Compare page.
- Scorers are plain functions (:func:`fact_found`, :func:`score_facts`, :func:`score_style`,
  :func:`retrieval_hit`) so they can be tested with hand-made answers.
- Question sets: JSONL or CSV with ``id, question, expected_facts, expected_source, expected_style`` (CSV facts
  are one ``|``-separated cell). A malformed set raises :class:`QuestionSetError` naming the line and column.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePath
from typing import Any, Callable, Iterator, Mapping, Sequence

from ragft.answering import compare as C
from ragft.costs.budget import Budget
from ragft.configs import BY_KEY
from ragft.errors import RagftError
from ragft.costs.ledger import SessionLedger
from ragft.paths import SCENARIO_DIR
from ragft.knowledge.scenario import Question
from ragft.evaluation.style import check_style

DEFAULT_QUESTIONS = SCENARIO_DIR / "questions.jsonl"
REQUIRED_FIELDS = ("id", "question", "expected_facts")
OPTIONAL_FIELDS = ("expected_source", "expected_style", "expected_page", "topic", "kind", "stale_facts")
STYLES = ("brand", "any")  # "brand": the Fernhollow voice (ragft.evaluation.style); "any": style is not scored
MAX_QUESTIONS = 1000
MAX_QUESTION_SET_BYTES = 2_000_000


# ==== question sets ===========================================================================================
class QuestionSetError(RagftError):
    """A question set cannot be read. ``line`` (1-based) and ``column`` name the culprit when known."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None,
                 hint: str | None = None) -> None:
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

    def subset(self, n: int | None) -> "QuestionSet":
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
                raise QuestionSetError(f"the fact {text!r} has no letters or digits to look for", line=line,
                                       column=column)
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
    if len(question) > C.MAX_QUESTION_CHARS:
        raise QuestionSetError(f"the question is longer than {C.MAX_QUESTION_CHARS} characters", line=line,
                               column="question")
    facts = _facts(row["expected_facts"], line=line, column="expected_facts", csv_cell=csv_cell)
    if not facts:
        raise QuestionSetError("at least one expected fact is needed", line=line, column="expected_facts")
    style = str(row.get("expected_style") or "any").strip().lower()
    if style not in STYLES:
        raise QuestionSetError(f"{style!r} is not a style this app can check; use one of {', '.join(STYLES)}",
                               line=line, column="expected_style")
    page_raw = row.get("expected_page")
    page: int | None = None
    if page_raw not in (None, ""):
        try:
            page = int(page_raw)
        except (TypeError, ValueError):
            raise QuestionSetError(f"expected a page number, got {page_raw!r}", line=line,
                                   column="expected_page") from None
    stale_raw = row.get("stale_facts") or ()
    stale = _facts(stale_raw, line=line, column="stale_facts", csv_cell=csv_cell) if stale_raw else ()
    return Question(id=qid, question=question.strip(), expected_facts=facts,
                    expected_source=str(row.get("expected_source") or "").strip(), expected_style=style,
                    expected_page=page, topic=str(row.get("topic") or ""), kind=str(row.get("kind") or ""),
                    stale_facts=stale)


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
            raise QuestionSetError(f"the header has no column {name!r} (found: {', '.join(header) or 'nothing'})",
                                   line=1, column=name)
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
            raise QuestionSetError(f"{name} is {len(data) / 1e6:.1f} MB; a question set is at most "
                                   f"{MAX_QUESTION_SET_BYTES / 1e6:.0f} MB.")
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


# ==== scorers =================================================================================================
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_TOKEN_RE = re.compile(rf"(?P<num>(?<![\w.,])[-\u2212\u2013]?{_NUM}|{_NUM})|(?P<word>[^\W\d_]+)|(?P<cur>[$])")
_CURRENCY_WORDS = frozenset({"dollar", "dollars", "usd", "bucks"})
_DROP_WORDS = frozenset({"degree", "degrees", "deg"})
_SYNONYMS = {
    "kilogram": "kg", "kilograms": "kg", "kilo": "kg", "kilos": "kg", "kgs": "kg",
    "gram": "g", "grams": "g", "gr": "g",
    "liter": "l", "liters": "l", "litre": "l", "litres": "l", "ltr": "l",
    "minute": "min", "minutes": "min", "mins": "min",
    "hour": "h", "hours": "h", "hr": "h", "hrs": "h",
    "days": "day", "weeks": "week", "months": "month", "years": "year", "yr": "year", "yrs": "year",
    "celsius": "c", "centigrade": "c",
}


def fact_tokens(text: str) -> list[str]:
    """Canonical tokens for fact matching.

    - case and punctuation are ignored (``Kestrel-2 TENT`` == ``kestrel 2 tent``);
    - numbers lose thousands separators and trailing zeros (``1,299.00`` → ``1299``), keep a leading minus;
    - money becomes one token, whatever the spelling: ``$1,299.00``, ``$1299``, ``1299 dollars``, ``USD 1299``
      → ``$1299`` (a bare ``1299`` is not money and does not match ``$1299``);
    - unit spellings are unified (``litres``/``l``, ``kilograms``/``kg``, ``days``/``day``, ``°C``/``celsius``);
      ``p.m.`` → ``pm``; ``3 to 5`` == ``3-5``.
    """
    low = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", (text or "").lower())
    raw: list[tuple[str, str]] = []
    for m in _TOKEN_RE.finditer(low):
        if m.group("num"):
            s = m.group("num").replace(",", "").replace("\u2212", "-").replace("\u2013", "-")
            try:
                d = Decimal(s).normalize()
            except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
                continue
            raw.append(("num", format(d, "f") if d != 0 else "0"))
        elif m.group("cur"):
            raw.append(("cur", "$"))
        else:
            w = m.group("word")
            if w in _DROP_WORDS:
                continue
            raw.append(("cur", "$") if w in _CURRENCY_WORDS else ("word", _SYNONYMS.get(w, w)))
    out: list[str] = []
    i = 0
    while i < len(raw):
        kind, val = raw[i]
        nxt = raw[i + 1] if i + 1 < len(raw) else None
        if kind == "cur" and nxt and nxt[0] == "num":  # $149, USD 149
            out.append("$" + nxt[1])
            i += 2
            continue
        if kind == "num" and nxt and nxt[0] == "cur":  # 149 dollars
            out.append("$" + val)
            i += 2
            continue
        if kind == "cur":  # a currency word with no number next to it: plain word
            out.append("usd")
        elif kind == "word" and val == "to" and out and raw[i - 1][0] == "num" and nxt and nxt[0] == "num":
            pass  # "3 to 5" reads as the range "3-5"
        else:
            out.append(val)
        i += 1
    return out


def _contains(hay: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    return any(list(hay[i:i + n]) == list(needle) for i in range(len(hay) - n + 1))


def fact_found(fact: str, answer: str) -> bool:
    """Whether ``answer`` states ``fact`` (normalised, token-bounded: ``$149`` is not found in ``$1499``)."""
    return _contains(fact_tokens(answer), fact_tokens(fact))


@dataclass(frozen=True)
class FactScore:
    found: tuple[str, ...]
    missing: tuple[str, ...]
    stale_found: tuple[str, ...] = ()  # last season's values the answer states (a stale fine-tune)

    @property
    def score(self) -> float:
        total = len(self.found) + len(self.missing)
        return len(self.found) / total if total else 0.0


def score_facts(answer: str, expected: Sequence[str], stale: Sequence[str] = ()) -> FactScore:
    tokens = fact_tokens(answer)
    found = tuple(f for f in expected if _contains(tokens, fact_tokens(f)))
    missing = tuple(f for f in expected if f not in found)
    return FactScore(found, missing, tuple(f for f in stale if _contains(tokens, fact_tokens(f))))


@dataclass(frozen=True)
class StyleScore:
    applicable: bool
    ok: bool | None
    reasons: tuple[str, ...] = ()


def score_style(answer: str, expected_style: str) -> StyleScore:
    """``brand``: the trained Fernhollow voice (:func:`ragft.evaluation.style.check_style`); ``any``: not scored."""
    if (expected_style or "any") == "any":
        return StyleScore(False, None)
    result = check_style(answer or "")
    return StyleScore(True, result.ok, tuple(result.reasons))


def _doc_key(name: str) -> tuple[str, str]:
    p = PurePath((name or "").strip().lower())
    return p.name, p.stem


def retrieval_hit(expected_source: str, sources: Sequence[str]) -> bool | None:
    """Whether ``expected_source`` is among the retrieved chunks' sources (hit@k, k = len(sources)).

    File names compare case-insensitively, without folders; the same document in another format counts
    (``catalogue.md`` for ``catalogue.pdf``). ``None`` when the question names no expected source.
    """
    if not (expected_source or "").strip():
        return None
    name, stem = _doc_key(expected_source)
    for s in sources:
        n, st = _doc_key(s)
        if n == name or st == stem:
            return True
    return False


def page_hit(expected_source: str, expected_page: int | None,
             retrieved: Sequence[tuple[str, int | None]]) -> bool | None:
    """Stricter hit@k: the expected source AND page among the retrieved ``(source, page)`` pairs.

    A whole catalogue is one source, so a source hit can still be the wrong product's page; this tells them
    apart. ``None`` when the question names no expected page or source.
    """
    if expected_page is None or not (expected_source or "").strip():
        return None
    return any(retrieval_hit(expected_source, [src]) and page == expected_page for src, page in retrieved)


# ==== records and summaries ===================================================================================
@dataclass
class EvalRecord:
    """One question answered by one configuration, scored."""

    question_id: str
    question: str
    configuration: str
    label: str
    rag: bool
    answer: str = ""
    error: str | None = None
    expected_facts: tuple[str, ...] = ()
    facts_found: tuple[str, ...] = ()
    facts_missing: tuple[str, ...] = ()
    stale_found: tuple[str, ...] = ()
    fact_score: float = 0.0
    style_applicable: bool = False
    style_ok: bool | None = None
    style_reasons: tuple[str, ...] = ()
    expected_source: str = ""
    hit: bool | None = None  # RAG configurations only
    page_hit: bool | None = None  # RAG configurations with an expected page only
    sources: tuple[dict[str, Any], ...] = ()  # rank, source, page, score, text
    ttft_s: float | None = None
    total_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: Decimal | None = None
    local: bool = False

    @property
    def tokens(self) -> int:
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id, "question": self.question, "configuration": self.configuration,
            "label": self.label, "rag": self.rag, "answer": self.answer, "error": self.error,
            "expected_facts": list(self.expected_facts), "facts_found": list(self.facts_found),
            "facts_missing": list(self.facts_missing), "stale_facts_found": list(self.stale_found),
            "fact_score": round(self.fact_score, 4), "style_applicable": self.style_applicable,
            "style_ok": self.style_ok, "style_reasons": list(self.style_reasons),
            "expected_source": self.expected_source, "hit": self.hit, "page_hit": self.page_hit, "sources": [dict(s) for s in self.sources],
            "ttft_s": _r(self.ttft_s), "total_s": _r(self.total_s), "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens, "cost_usd": None if self.cost is None else str(self.cost),
            "local": self.local,
        }


def _r(x: float | None, n: int = 4) -> float | None:
    return None if x is None else round(float(x), n)


def score_panel(q: Question, panel: C.PanelResult) -> EvalRecord:
    """Score one configuration's answer to one question (errors score 0 and keep their message)."""
    answered = panel.phase == C.DONE
    answer = panel.text if answered else ""
    facts = score_facts(answer, q.expected_facts, q.stale_facts)
    style = score_style(answer, q.expected_style)
    if style.applicable and not answered:
        style = StyleScore(True, False, (f"no answer: {panel.error or 'the configuration failed'}",))
    sources = tuple(C.chunk_to_dict(c, i) for i, c in enumerate(panel.sources, 1))
    retrieved = panel.rag and (answered or bool(panel.sources))  # a RAG answer, or a failure after retrieval
    hit = retrieval_hit(q.expected_source, [c.source for c in panel.sources]) if retrieved else None
    phit = page_hit(q.expected_source, q.expected_page, [(c.source, c.page) for c in panel.sources]) \
        if retrieved else None
    usage = panel.usage
    return EvalRecord(
        question_id=q.id, question=q.question, configuration=panel.configuration, label=panel.label, rag=panel.rag,
        answer=answer, error=None if answered else (panel.error or "no answer"), expected_facts=q.expected_facts,
        facts_found=facts.found, facts_missing=facts.missing, stale_found=facts.stale_found,
        fact_score=facts.score, style_applicable=style.applicable, style_ok=style.ok, style_reasons=style.reasons,
        expected_source=q.expected_source, hit=hit, page_hit=phit, sources=sources, ttft_s=panel.ttft_s, total_s=panel.total_s,
        prompt_tokens=usage.prompt_tokens if usage else panel.prompt_tokens,
        completion_tokens=usage.completion_tokens if usage else None, cost=panel.cost, local=panel.local,
    )


@dataclass(frozen=True)
class ConfigSummary:
    configuration: str
    label: str
    questions: int
    errors: int
    fact_accuracy: float  # mean fact score (0..1), failed answers count as 0
    style_adherence: float | None  # share of style-checked answers in the voice; None when none is checked
    hit_at_k: float | None  # RAG configurations only
    page_hit_at_k: float | None  # same, with the expected page (None when no question names one)
    stale_rate: float  # share of answers stating last season's value
    mean_ttft_s: float | None
    mean_total_s: float | None  # latency per question (its compute seconds on a local model)
    prompt_tokens_per_question: float
    completion_tokens_per_question: float
    cost_per_question: Decimal | None  # None when a price is unknown
    total_cost: Decimal | None
    local: bool  # every call on a self-hosted model ($0: compare tokens or seconds instead)

    @property
    def tokens_per_question(self) -> float:
        return self.prompt_tokens_per_question + self.completion_tokens_per_question

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": self.configuration, "label": self.label, "questions": self.questions,
            "errors": self.errors, "fact_accuracy": round(self.fact_accuracy, 4),
            "style_adherence": _r(self.style_adherence), "hit_at_k": _r(self.hit_at_k), "page_hit_at_k": _r(self.page_hit_at_k),
            "stale_rate": round(self.stale_rate, 4), "mean_ttft_s": _r(self.mean_ttft_s),
            "mean_total_s": _r(self.mean_total_s),
            "prompt_tokens_per_question": round(self.prompt_tokens_per_question, 1),
            "completion_tokens_per_question": round(self.completion_tokens_per_question, 1),
            "cost_per_question_usd": None if self.cost_per_question is None else str(self.cost_per_question),
            "total_cost_usd": None if self.total_cost is None else str(self.total_cost), "local": self.local,
        }


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def summarise(records: Sequence[EvalRecord], configuration: str) -> ConfigSummary:
    rs = [r for r in records if r.configuration == configuration]
    cfg = BY_KEY.get(configuration)
    n = len(rs)
    styled = [r for r in rs if r.style_applicable]
    hits = [r.hit for r in rs if r.hit is not None]
    costs = [r.cost for r in rs if r.error is None or r.tokens]
    total: Decimal | None = Decimal(0)
    for c in costs:
        if c is None:
            total = None
            break
        total += c
    return ConfigSummary(
        configuration=configuration, label=cfg.label if cfg else configuration, questions=n,
        errors=sum(1 for r in rs if r.error), fact_accuracy=_mean([r.fact_score for r in rs]) or 0.0,
        style_adherence=_mean([1.0 if r.style_ok else 0.0 for r in styled]),
        hit_at_k=_mean([1.0 if h else 0.0 for h in hits]),
        page_hit_at_k=_mean([1.0 if r.page_hit else 0.0 for r in rs if r.page_hit is not None]),
        stale_rate=_mean([1.0 if r.stale_found else 0.0 for r in rs]) or 0.0,
        mean_ttft_s=_mean([r.ttft_s for r in rs if r.ttft_s is not None]),
        mean_total_s=_mean([r.total_s for r in rs if r.total_s is not None]),
        prompt_tokens_per_question=_mean([float(r.prompt_tokens or 0) for r in rs]) or 0.0,
        completion_tokens_per_question=_mean([float(r.completion_tokens or 0) for r in rs]) or 0.0,
        cost_per_question=None if total is None or not n else total / n,
        total_cost=total,
        local=bool(rs) and all(r.local or r.error for r in rs),
    )


@dataclass
class Evaluation:
    """A question set through some configurations: settings, the records so far, and whether it was stopped."""

    question_set: QuestionSet
    configurations: tuple[str, ...]
    records: list[EvalRecord] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    created: datetime = field(default_factory=lambda: datetime.now(tz=timezone.utc))
    settings: dict[str, Any] = field(default_factory=dict)
    questions_done: int = 0
    stopped: bool = False
    finished: bool = False
    wall_s: float = 0.0
    retrieval: dict[str, Any] = field(default_factory=dict)  # question id -> retrieval summary

    @classmethod
    def new(cls, question_set: QuestionSet, configurations: Sequence[str], **settings: Any) -> "Evaluation":
        configs = C.resolve_configurations(configurations)
        if not question_set.questions:
            raise QuestionSetError("The question set is empty.")
        return cls(question_set, tuple(c.key for c in configs), settings=dict(settings))

    @property
    def total_steps(self) -> int:
        return len(self.question_set) * len(self.configurations)

    def summaries(self) -> list[ConfigSummary]:
        return [summarise(self.records, k) for k in self.configurations]

    def records_for(self, question_id: str) -> list[EvalRecord]:
        return [r for r in self.records if r.question_id == question_id]

    def answered_questions(self) -> list[Question]:
        done = {r.question_id for r in self.records}
        return [q for q in self.question_set.questions if q.id in done]


# ==== running =================================================================================================
@dataclass(frozen=True)
class EvalProgress:
    """One (question, configuration) scored. ``done``/``total`` count such steps."""

    done: int
    total: int
    question_index: int  # 1-based
    record: EvalRecord


def run_evaluation(
    evaluation: Evaluation,
    *,
    model_for: C.ModelFactory,
    retrieve: C.Retriever | None,
    ledger: SessionLedger | None = None,
    budget: Budget | None = None,
    cancel: threading.Event | None = None,
    system_prompt: str | None = C.DEFAULT_SYSTEM_PROMPT,
    max_tokens: int = 96,
    temperature: float = 0.0,
    top_k: int | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    model_labels: Mapping[str, str] | None = None,
    poll_s: float = 0.2,
) -> Iterator[EvalProgress]:
    """Run every question through the configurations (each question as one comparison), yielding a progress
    per scored (question, configuration). ``cancel`` is checked between questions and while one runs: a
    question cut short is dropped (its spend stays in the ledger), and ``evaluation.stopped`` is set."""
    started = time.perf_counter()
    evaluation.settings.update({"system_prompt": system_prompt, "max_tokens": max_tokens,
                                "temperature": temperature, "top_k": top_k})
    ledger = ledger if ledger is not None else SessionLedger()
    done = 0
    total = evaluation.total_steps
    try:
        for qi, q in enumerate(evaluation.question_set.questions, 1):
            if cancel is not None and cancel.is_set():
                evaluation.stopped = True
                return
            run = C.start_comparison(q.question, evaluation.configurations, model_for=model_for, retrieve=retrieve,
                                     ledger=ledger, budget=budget, system_prompt=system_prompt,
                                     max_tokens=max_tokens, temperature=temperature, top_k=top_k,
                                     price_overrides=price_overrides, model_labels=model_labels)
            while True:
                try:
                    run.wait(poll_s)
                    break
                except TimeoutError:
                    if cancel is not None and cancel.is_set():
                        run.cancel()  # every panel stops after its current token; the spend is recorded
                        run.wait()
                        evaluation.stopped = True
                        return
            comparison = run.comparison
            r = comparison.retrieval
            if r is not None:
                evaluation.retrieval[q.id] = {"collection": r.collection, "error": r.error,
                                              "sources": [c.citation for c in r.chunks]}
            for key in comparison.configurations:
                record = score_panel(q, comparison.panels[key])
                evaluation.records.append(record)
                done += 1
                yield EvalProgress(done, total, qi, record)
            evaluation.questions_done = qi
        evaluation.finished = True
    finally:
        evaluation.wall_s = time.perf_counter() - started


class EvalRun:
    """:func:`run_evaluation` in a background thread (the page polls ``progress()`` and may ``cancel()``)."""

    def __init__(self, evaluation: Evaluation, **kwargs: Any) -> None:
        self.evaluation = evaluation
        self.queue: "queue.Queue[EvalProgress]" = queue.Queue()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self.error: str | None = None
        self.last: EvalProgress | None = None
        self._kwargs = kwargs
        self._thread = threading.Thread(target=self._work, name=f"eval-{evaluation.id}", daemon=True)

    def start(self) -> "EvalRun":
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            for p in run_evaluation(self.evaluation, cancel=self._cancel, **self._kwargs):
                self.last = p
                self.queue.put(p)
        except RagftError as exc:
            self.error = exc.message
        except Exception as exc:  # noqa: BLE001 - reported on the page, never a crash
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> Evaluation:
        if not self._done.wait(timeout_s):
            raise TimeoutError("the evaluation did not finish in time")
        return self.evaluation

    def progress(self, poll_s: float = 0.25) -> Iterator[EvalProgress | None]:
        """Yield each progress as it comes, ``None`` every ``poll_s`` without news, until the run is done."""
        while True:
            try:
                yield self.queue.get(timeout=poll_s)
            except queue.Empty:
                if self.done and self.queue.empty():
                    return
                yield None


def start_evaluation(evaluation: Evaluation, **kwargs: Any) -> EvalRun:
    return EvalRun(evaluation, **kwargs).start()


# ==== wiring outside Streamlit (tests, benchmarks, scripts) ==================================================
def standalone_wiring(settings: Any, configurations: Sequence[str] = ("base", "base_rag", "ft", "ft_rag"),
                      workspace_id: str | None = None) -> tuple[C.ModelFactory, C.Retriever, str]:
    """``(model_for, retrieve, description)`` as the app wires them, without Streamlit.

    Retrieval: the knowledge base in ``settings.data_dir`` (the sample scenario indexed into the shared sample
    collection, plus a fresh workspace), top-k and threshold from the settings. Models: each slot from the
    settings; embedded engines are loaded once per (model, adapter, lane), lane 0 for a plain configuration and
    1 for its +RAG twin (as ``components/compare_view`` does). A slot that cannot load (a missing adapter) is
    kept as its typed error, which the configuration's answers then report.
    """
    from ragft.models.embeddings import make_embedding_function
    from ragft.knowledge.index import KnowledgeBase, ensure_sample_collection, make_client
    from ragft.models.chat import EmbeddedEngine, make_chat_model
    from ragft.knowledge.workspaces import new_workspace_id

    emb = make_embedding_function(settings.embedding)
    client = make_client(settings)
    ensure_sample_collection(client, emb, SCENARIO_DIR, chunk_tokens=settings.chunk_tokens,
                             overlap=settings.chunk_overlap)
    kb = KnowledgeBase(client, emb, workspace_id or new_workspace_id())
    retrieve = kb.as_retriever(k=settings.top_k, threshold=settings.score_threshold)
    engines: dict[tuple[str, str, int], EmbeddedEngine] = {}

    def loader(lane: int) -> Callable[[Path, Path | None], EmbeddedEngine]:
        def load(path: Path, lora: Path | None) -> EmbeddedEngine:
            key = (str(path), str(lora), lane)
            if key not in engines:
                engines[key] = EmbeddedEngine(path, lora)
            return engines[key]

        return load

    built: dict[str, Any] = {}
    for cfg in C.resolve_configurations(configurations):
        endpoint = settings.base if cfg.slot == "base" else settings.finetuned
        try:
            built[cfg.key] = make_chat_model(endpoint, engine_loader=loader(1 if cfg.rag else 0))
        except RagftError as exc:
            built[cfg.key] = exc

    def model_for(cfg: Any) -> Any:
        value = built[cfg.key]
        if isinstance(value, RagftError):
            raise value
        return value

    desc = f"sample scenario in {settings.data_dir} · top-k {settings.top_k} · {emb.model_id}"
    return model_for, retrieve, desc


# ==== evidence, chart axis, export ============================================================================
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


@dataclass(frozen=True)
class CostAxis:
    """What the accuracy chart plots along x: dollars when anything costs money, else tokens (local models)."""

    kind: str  # "cost", "tokens", "seconds"
    title: str
    note: str

    def value(self, s: ConfigSummary) -> float | None:
        if self.kind == "cost":
            return None if s.cost_per_question is None else float(s.cost_per_question)
        if self.kind == "seconds":
            return s.mean_total_s
        return s.tokens_per_question


def is_paid(summaries: Sequence[ConfigSummary]) -> bool:
    """Whether any configuration cost money (else every model was self-hosted at $0 per token)."""
    return any(s.cost_per_question not in (None, Decimal(0)) for s in summaries)


def cost_axis(summaries: Sequence[ConfigSummary], local_measure: str = "tokens") -> CostAxis:
    """Dollars per question when anything was paid; otherwise ``local_measure``: "tokens" or "seconds"."""
    if is_paid(summaries):
        return CostAxis("cost", "Cost per question (USD)", "")
    if local_measure == "seconds":
        return CostAxis("seconds", "Compute seconds per question",
                        "Every configuration ran on a self-hosted model, which costs $0 per token: the chart plots "
                        "compute seconds per question instead (what you pay for in hardware and time).")
    return CostAxis("tokens", "Tokens per question (prompt + completion)",
                    "Every configuration ran on a self-hosted model, which costs $0 per token: the chart plots "
                    "tokens per question instead (what the same traffic would be billed for on a hosted API).")


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
        lines.append(f"| {s.label} | {_pct(s.fact_accuracy)} | {_pct(s.style_adherence)} | {_pct(s.hit_at_k)} | "
                     f"{'—' if s.mean_total_s is None else f'{s.mean_total_s * 1000:.0f}'} |")
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"
