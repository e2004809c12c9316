"""Scored records and per-configuration summaries of an evaluation, and the chart's cost axis.

- :class:`EvalRecord`: one question answered by one configuration, scored (:func:`score_panel`).
- :class:`ConfigSummary`: the means over a configuration's records (:func:`summarise`).
- :func:`cost_axis`: what the accuracy chart plots along x (dollars, else tokens or seconds for local models).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ragft.answering import compare as C
from ragft.answering.comparison import chunk_from_dict, chunk_to_dict
from ragft.configs import BY_KEY
from ragft.evaluation.fields import score_fields
from ragft.evaluation.grounding import check_groundedness
from ragft.evaluation.scoring import StyleScore, page_hit, retrieval_hit, score_facts, score_style
from ragft.evaluation.stats import NO_DATA, Interval, bootstrap_mean, rate_interval
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.knowledge.scenario import Question


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
    sources: tuple[RetrievedChunk, ...] = ()  # in rank order
    ttft_s: float | None = None
    total_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: Decimal | None = None
    local: bool = False
    # groundedness (RAG answers): figures and named entities stated / found in the retrieved context
    claims_stated: int | None = None
    claims_supported: int | None = None
    unsupported_claims: tuple[str, ...] = ()
    # the optional LLM judge's faithfulness (share of the answer's claims the context supports)
    faithfulness: float | None = None
    judge_claims: tuple[dict[str, Any], ...] = ()  # claim, supported
    judge_error: str | None = None
    messages: tuple[dict[str, str], ...] = ()  # the chat messages the configuration sent (promptfoo export)
    # labelled fields of a JSON answer (a ticket's category, priority): (field, expected, predicted)
    fields: tuple[tuple[str, str, str], ...] = ()

    @property
    def groundedness(self) -> float | None:
        if not self.claims_stated or self.claims_supported is None:
            return None
        return self.claims_supported / self.claims_stated

    @property
    def tokens(self) -> int:
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "question": self.question,
            "configuration": self.configuration,
            "label": self.label,
            "rag": self.rag,
            "answer": self.answer,
            "error": self.error,
            "expected_facts": list(self.expected_facts),
            "facts_found": list(self.facts_found),
            "facts_missing": list(self.facts_missing),
            "stale_facts_found": list(self.stale_found),
            "fact_score": round(self.fact_score, 4),
            "style_applicable": self.style_applicable,
            "style_ok": self.style_ok,
            "style_reasons": list(self.style_reasons),
            "expected_source": self.expected_source,
            "hit": self.hit,
            "page_hit": self.page_hit,
            "sources": [chunk_to_dict(c, i) for i, c in enumerate(self.sources, 1)],
            "ttft_s": _r(self.ttft_s),
            "total_s": _r(self.total_s),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": None if self.cost is None else str(self.cost),
            "local": self.local,
            "claims_stated": self.claims_stated,
            "claims_supported": self.claims_supported,
            "unsupported_claims": list(self.unsupported_claims),
            "faithfulness": _r(self.faithfulness),
            "judge_claims": [dict(c) for c in self.judge_claims],
            "judge_error": self.judge_error,
            "messages": [dict(m) for m in self.messages],
            "fields": [{"field": f, "expected": e, "predicted": p} for f, e, p in self.fields],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvalRecord:
        """The inverse of :meth:`to_dict` (raises KeyError/TypeError/ValueError on a malformed dict)."""

        def tup(name: str) -> tuple[Any, ...]:
            value = d.get(name) or ()
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{name} must be a list")
            return tuple(value)

        def num(name: str, kind: type) -> Any:
            value = d.get(name)
            return None if value is None else kind(value)

        cost = d.get("cost_usd")
        return cls(
            question_id=str(d["question_id"]),
            question=str(d["question"]),
            configuration=str(d["configuration"]),
            label=str(d.get("label") or d["configuration"]),
            rag=bool(d.get("rag")),
            answer=str(d.get("answer") or ""),
            error=None if d.get("error") is None else str(d["error"]),
            expected_facts=tuple(str(x) for x in tup("expected_facts")),
            facts_found=tuple(str(x) for x in tup("facts_found")),
            facts_missing=tuple(str(x) for x in tup("facts_missing")),
            stale_found=tuple(str(x) for x in tup("stale_facts_found")),
            fact_score=float(d.get("fact_score") or 0),
            style_applicable=bool(d.get("style_applicable")),
            style_ok=None if d.get("style_ok") is None else bool(d["style_ok"]),
            style_reasons=tuple(str(x) for x in tup("style_reasons")),
            expected_source=str(d.get("expected_source") or ""),
            hit=None if d.get("hit") is None else bool(d["hit"]),
            page_hit=None if d.get("page_hit") is None else bool(d["page_hit"]),
            sources=tuple(chunk_from_dict(x) for x in tup("sources") if isinstance(x, dict)),
            ttft_s=num("ttft_s", float),
            total_s=num("total_s", float),
            prompt_tokens=num("prompt_tokens", int),
            completion_tokens=num("completion_tokens", int),
            cost=None if cost is None else Decimal(str(cost)),
            local=bool(d.get("local")),
            claims_stated=num("claims_stated", int),
            claims_supported=num("claims_supported", int),
            unsupported_claims=tuple(str(x) for x in tup("unsupported_claims")),
            faithfulness=num("faithfulness", float),
            judge_claims=tuple(dict(x) for x in tup("judge_claims")),
            judge_error=None if d.get("judge_error") is None else str(d["judge_error"]),
            messages=tuple({"role": str(m["role"]), "content": str(m["content"])} for m in tup("messages")),
            fields=tuple(
                (str(x["field"]), str(x["expected"]), str(x["predicted"])) for x in tup("fields") if isinstance(x, dict)
            ),
        )


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
    sources = tuple(panel.sources)
    retrieved = panel.rag and (answered or bool(panel.sources))  # a RAG answer, or a failure after retrieval
    hit = retrieval_hit(q.expected_source, [c.source for c in panel.sources]) if retrieved else None
    phit = (
        page_hit(q.expected_source, q.expected_page, [(c.source, c.page) for c in panel.sources]) if retrieved else None
    )
    usage = panel.usage
    grounded = (
        check_groundedness(answer, [c.text for c in panel.sources], q.question) if panel.rag and answered else None
    )
    return EvalRecord(
        question_id=q.id,
        question=q.question,
        configuration=panel.configuration,
        label=panel.label,
        rag=panel.rag,
        answer=answer,
        error=None if answered else (panel.error or "no answer"),
        expected_facts=q.expected_facts,
        facts_found=facts.found,
        facts_missing=facts.missing,
        stale_found=facts.stale_found,
        fact_score=facts.score,
        style_applicable=style.applicable,
        style_ok=style.ok,
        style_reasons=style.reasons,
        expected_source=q.expected_source,
        hit=hit,
        page_hit=phit,
        sources=sources,
        ttft_s=panel.ttft_s,
        total_s=panel.total_s,
        prompt_tokens=usage.prompt_tokens if usage else panel.prompt_tokens,
        completion_tokens=usage.completion_tokens if usage else None,
        cost=panel.cost,
        local=panel.local,
        claims_stated=grounded.stated if grounded else None,
        claims_supported=grounded.supported if grounded else None,
        unsupported_claims=grounded.unsupported if grounded else (),
        messages=tuple(dict(m) for m in panel.messages),
        fields=score_fields(answer, q.expected_fields) if q.expected_fields else (),
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
    # 95% intervals by figure name (fact_accuracy, style_adherence, hit_at_k, page_hit_at_k, stale_rate,
    # mean_ttft_s, mean_total_s, tokens_per_question): Wilson for proportions, bootstrap for means
    intervals: Mapping[str, Interval] = field(default_factory=dict)

    def interval(self, name: str) -> Interval:
        return self.intervals.get(name, NO_DATA)

    @property
    def tokens_per_question(self) -> float:
        return self.prompt_tokens_per_question + self.completion_tokens_per_question

    @property
    def groundedness(self) -> float | None:
        """Mean share of an answer's figures and names found in its retrieved context (RAG answers that state any)."""
        return self.interval("groundedness").estimate

    @property
    def faithfulness(self) -> float | None:
        """Mean LLM-judged faithfulness (when a judge scored this configuration)."""
        return self.interval("faithfulness").estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": self.configuration,
            "label": self.label,
            "questions": self.questions,
            "errors": self.errors,
            "fact_accuracy": round(self.fact_accuracy, 4),
            "style_adherence": _r(self.style_adherence),
            "hit_at_k": _r(self.hit_at_k),
            "page_hit_at_k": _r(self.page_hit_at_k),
            "stale_rate": round(self.stale_rate, 4),
            "mean_ttft_s": _r(self.mean_ttft_s),
            "mean_total_s": _r(self.mean_total_s),
            "prompt_tokens_per_question": round(self.prompt_tokens_per_question, 1),
            "completion_tokens_per_question": round(self.completion_tokens_per_question, 1),
            "cost_per_question_usd": None if self.cost_per_question is None else str(self.cost_per_question),
            "total_cost_usd": None if self.total_cost is None else str(self.total_cost),
            "local": self.local,
            "groundedness": _r(self.groundedness),
            "faithfulness": _r(self.faithfulness),
            "intervals_95": {k: v.to_dict() for k, v in self.intervals.items()},
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
    total: Decimal | None = (
        None if any(c is None for c in costs) else sum((c for c in costs if c is not None), Decimal(0))
    )
    return ConfigSummary(
        configuration=configuration,
        label=cfg.label if cfg else configuration,
        questions=n,
        errors=sum(1 for r in rs if r.error),
        fact_accuracy=_mean([r.fact_score for r in rs]) or 0.0,
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
        intervals=_intervals(rs, styled),
    )


def _intervals(rs: Sequence[EvalRecord], styled: Sequence[EvalRecord]) -> dict[str, Interval]:
    return {
        "fact_accuracy": rate_interval([r.fact_score for r in rs]),
        "style_adherence": rate_interval([1.0 if r.style_ok else 0.0 for r in styled]),
        "hit_at_k": rate_interval([1.0 if r.hit else 0.0 for r in rs if r.hit is not None]),
        "page_hit_at_k": rate_interval([1.0 if r.page_hit else 0.0 for r in rs if r.page_hit is not None]),
        "stale_rate": rate_interval([1.0 if r.stale_found else 0.0 for r in rs]),
        "mean_ttft_s": bootstrap_mean([r.ttft_s for r in rs if r.ttft_s is not None]),
        "mean_total_s": bootstrap_mean([r.total_s for r in rs if r.total_s is not None]),
        "tokens_per_question": bootstrap_mean([float(r.tokens) for r in rs]),
        "groundedness": rate_interval([g for r in rs if (g := r.groundedness) is not None]),
        "faithfulness": rate_interval([r.faithfulness for r in rs if r.faithfulness is not None]),
    }


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
        return CostAxis(
            "seconds",
            "Compute seconds per question",
            "Every configuration ran on a self-hosted model, which costs $0 per token: the chart plots "
            "compute seconds per question instead (what you pay for in hardware and time).",
        )
    return CostAxis(
        "tokens",
        "Tokens per question (prompt + completion)",
        "Every configuration ran on a self-hosted model, which costs $0 per token: the chart plots "
        "tokens per question instead (what the same traffic would be billed for on a hosted API).",
    )
