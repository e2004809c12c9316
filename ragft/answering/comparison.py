"""What a comparison holds: the panel phases, one panel's result, the comparison, question checks.

Plain dataclasses with ``to_dict`` for history and exports; :mod:`ragft.answering.compare` runs them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ragft import errors as E
from ragft.configs import BY_KEY, CONFIGURATIONS, Configuration
from ragft.costs.prices import Price
from ragft.knowledge.retrieval import Retrieval
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models.usage import Usage
from ragft.settings import DEFAULT_SYSTEM_PROMPT, DEFAULTS

# Panel phases, in order.
QUEUED = "queued"  # waiting for the shared retrieval (RAG panels)
WAITING = "waiting"  # request sent / waiting for the CPU, no token yet
STREAMING = "streaming"
DONE = "done"
ERROR = "error"
FINISHED_PHASES = (DONE, ERROR)

MAX_QUESTION_CHARS = 4000


class CompareError(E.RagftError):
    """The comparison itself cannot start (empty question, unknown configuration...)."""


ModelFactory = Callable[[Configuration], Any]  # returns a ragft.models.chat.ChatModel, may raise RagftError


@dataclass
class PanelResult:
    """One configuration's answer and everything that differs between panels."""

    configuration: str  # base / base_rag / ft / ft_rag
    label: str  # "Base + RAG"
    rag: bool
    phase: str = QUEUED
    model_label: str = ""
    model_id: str = ""
    provider: str = ""
    text: str = ""
    sources: tuple[RetrievedChunk, ...] = ()
    messages: list[dict[str, str]] = field(default_factory=list)  # what the model saw
    prompt_tokens: int | None = None  # counted before the call (what was reserved against the budget)
    context_tokens: int | None = None  # prompt tokens with RAG minus without (RAG panels only)
    tokens_so_far: int = 0
    ttft_s: float | None = None
    total_s: float | None = None
    usage: Usage | None = None
    cost: Decimal | None = None
    price: Price | None = None
    error: str | None = None
    error_kind: str | None = None  # the typed error's class name (BudgetExceeded, RateLimited, ...)
    exception: BaseException | None = field(default=None, repr=False, compare=False)  # for isinstance checks
    started_at: float | None = None  # perf_counter when the call began (for "waiting for the CPU" notes)

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES

    @property
    def local(self) -> bool:
        return bool(self.price is not None and self.price.local)

    @property
    def embedded(self) -> bool:
        return self.provider == "embedded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": self.configuration,
            "label": self.label,
            "rag": self.rag,
            "phase": self.phase,
            "model_label": self.model_label,
            "model_id": self.model_id,
            "provider": self.provider,
            "answer": self.text,
            "error": self.error,
            "error_kind": self.error_kind,
            "sources": [chunk_to_dict(c, i) for i, c in enumerate(self.sources, 1)],
            "messages": [dict(m) for m in self.messages],
            "prompt_tokens": self.usage.prompt_tokens if self.usage else self.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens if self.usage else None,
            "usage_exact": self.usage.exact if self.usage else None,
            "context_tokens": self.context_tokens,
            "ttft_s": self.ttft_s,
            "total_s": self.total_s,
            "cost_usd": None if self.cost is None else str(self.cost),
            "local": self.local,
            "price_source": None if self.price is None else self.price.source,
        }


def chunk_to_dict(c: RetrievedChunk, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "source": c.source,
        "page": c.page,
        "score": round(float(c.score), 4),
        "chunk_id": c.chunk_id,
        "doc_id": c.doc_id,
        "text": c.text,
        **({"location": str(c.metadata["location"])} if c.metadata and c.metadata.get("location") else {}),
    }


def chunk_from_dict(d: Mapping[str, Any]) -> RetrievedChunk:
    """The chunk :func:`chunk_to_dict` wrote (from a saved or imported run: every field coerced, nothing trusted)."""
    page = d.get("page")
    try:
        score = float(d.get("score") or 0.0)
    except (TypeError, ValueError):
        score = 0.0
    location = d.get("location")
    return RetrievedChunk(
        text=str(d.get("text") or ""),
        source=str(d.get("source") or ""),
        page=page if isinstance(page, int) and not isinstance(page, bool) else None,
        score=score,
        chunk_id=str(d.get("chunk_id") or ""),
        doc_id=str(d.get("doc_id") or ""),
        metadata={"location": str(location)} if location else {},
    )


@dataclass
class Comparison:
    """One question through N configurations: the unit kept in the session history and exported."""

    question: str
    configurations: tuple[str, ...]
    panels: dict[str, PanelResult]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    created: datetime = field(default_factory=lambda: datetime.now(tz=UTC))
    retrieval: Retrieval | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    max_tokens: int = DEFAULTS.max_tokens
    temperature: float = DEFAULTS.temperature
    top_k: int | None = None
    wall_s: float | None = None
    finished: bool = False

    def ordered_panels(self) -> list[PanelResult]:
        return [self.panels[k] for k in self.configurations]

    @property
    def total_cost(self) -> Decimal | None:
        """Known spend of the panels; ``None`` when any finished panel's price is unknown."""
        total = Decimal(0)
        for p in self.panels.values():
            if p.usage is None or p.usage.total_tokens == 0:
                continue
            if p.cost is None:
                return None
            total += p.cost
        return total

    def to_dict(self) -> dict[str, Any]:
        r = self.retrieval
        return {
            "id": self.id,
            "question": self.question,
            "created": self.created.isoformat(timespec="seconds"),
            "configurations": list(self.configurations),
            "settings": {
                "system_prompt": self.system_prompt,
                "max_tokens": self.max_tokens,
                "temperature": self.temperature,
                "top_k": self.top_k,
            },
            "retrieval": None
            if r is None
            else {
                "collection": r.collection,
                "embed_s": r.embed_s,
                "search_s": r.search_s,
                "error": r.error,
                "chunks": [chunk_to_dict(c, i) for i, c in enumerate(r.chunks, 1)],
            },
            "wall_s": self.wall_s,
            "total_cost_usd": None if self.total_cost is None else str(self.total_cost),
            "panels": [p.to_dict() for p in self.ordered_panels()],
        }


def resolve_configurations(keys: Sequence[str]) -> tuple[Configuration, ...]:
    """Validate and order the requested configurations (canonical order, no duplicates)."""
    wanted = [str(k) for k in keys]
    unknown = [k for k in wanted if k not in BY_KEY]
    if unknown:
        raise CompareError(f"Unknown configuration {unknown[0]!r}: choose from {', '.join(BY_KEY)}.")
    if not wanted:
        raise CompareError("Choose at least one configuration to compare.")
    return tuple(c for c in CONFIGURATIONS if c.key in wanted)


def validate_question(question: str) -> str:
    q = (question or "").strip()
    if not q:
        raise CompareError("Type a question first.")
    if len(q) > MAX_QUESTION_CHARS:
        raise CompareError(f"The question is {len(q)} characters long; keep it under {MAX_QUESTION_CHARS}.")
    return q
