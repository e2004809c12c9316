"""Per-session ledger of model calls: what each call cost, totals, a live in-flight partial, CSV export.

One :class:`SessionLedger` lives in ``st.session_state["ledger"]``. It is thread-safe because the compare
page runs the four configurations in threads. While an answer streams, :meth:`SessionLedger.update_live`
moves an in-flight partial (tokens counted so far at the model's price); when the call ends the caller
records a :class:`CallRecord` with the usage the server reported and ends the live entry, so the totals
settle on the reported figures.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from ragft.costs.prices import Price, cost_of
from ragft.models.usage import Usage
from ragft.text import csv_dict

HYPOTHETICAL = "hypothetical"  # the payer of a free call priced by someone (ragft.store.spend.HYPOTHETICAL)
KIND_CHAT = "chat"
KIND_EMBEDDING = "embedding"
# Configuration keys used for calls outside the four compare configurations.
INGEST = "ingest"  # embeddings computed while indexing documents
RETRIEVAL = "retrieval"  # configuration of the query embedding of a RAG question
SEARCH = "search"  # a query embedding of the Knowledge base page's search box


def new_call_id() -> str:
    return uuid.uuid4().hex[:12]


def _now() -> datetime:
    return datetime.now(tz=UTC)


@dataclass(frozen=True)
class CallRecord:
    """One finished (or interrupted) call. ``cost`` is ``None`` when the model's price is unknown."""

    model_id: str
    provider: str
    configuration: str  # base / base_rag / ft / ft_rag (ragft.configs), or INGEST, or "" for other calls
    usage: Usage
    cost: Decimal | None
    latency_s: float = 0.0  # total wall time of the call
    question_id: str | None = None
    ttft_s: float | None = None  # time to first token
    kind: str = KIND_CHAT
    local: bool = False  # self-hosted: $0, compute seconds = latency
    price_source: str = ""
    question: str = ""
    error: str | None = None  # set when the call failed or was interrupted after spending tokens
    call_id: str = field(default_factory=new_call_id)
    time: datetime = field(default_factory=_now)
    payer: str = ""  # "server" (the facilitator's key), "own", "hypothetical" (a free call someone priced); "": unknown

    @property
    def hypothetical(self) -> bool:
        """A free call at a price someone gave it: what it would cost hosted, paid by nobody."""
        return self.payer == HYPOTHETICAL


@dataclass(frozen=True)
class LiveCall:
    """A call whose answer is streaming now: a partial that moves with the tokens counted so far."""

    call_id: str
    model_id: str
    configuration: str
    price: Price | None
    question_id: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: datetime = field(default_factory=_now)
    payer: str = ""

    @property
    def usage(self) -> Usage:
        return Usage(self.prompt_tokens, self.completion_tokens, 0, exact=False)

    @property
    def cost(self) -> Decimal | None:
        return cost_of(self.usage, self.price)


@dataclass(frozen=True)
class Totals:
    """Sum over calls. ``cost`` adds the known costs; ``unknown`` counts calls whose price is unknown."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    unknown: int = 0
    compute_s: float = 0.0  # wall time of self-hosted calls (their cost is compute, not dollars)
    latency_s: float = 0.0
    live: int = 0  # how many in-flight partials are included
    hypothetical: Decimal = Decimal(0)  # the part of ``cost`` nobody pays (free calls at prices someone gave them)

    @property
    def real(self) -> Decimal:
        """What was paid (by the server's key or the participant): ``cost`` without the hypothetical part."""
        return self.cost - self.hypothetical

    @property
    def cost_or_none(self) -> Decimal | None:
        """``None`` when every priced call is unknown (nothing to show but 'price unknown')."""
        return None if self.unknown and self.unknown == self.calls else self.cost


class _Acc:
    """Mutable running sums (cheap), frozen into a Totals at the end."""

    __slots__ = (
        "calls",
        "prompt",
        "completion",
        "cached",
        "exact",
        "cost",
        "unknown",
        "compute_s",
        "latency_s",
        "live",
        "hypothetical",
    )

    def __init__(self) -> None:
        self.calls = self.prompt = self.completion = self.cached = self.unknown = self.live = 0
        self.exact = True
        self.cost = Decimal(0)
        self.hypothetical = Decimal(0)
        self.compute_s = self.latency_s = 0.0

    def add(
        self,
        usage: Usage,
        cost: Decimal | None,
        local: bool,
        latency_s: float,
        live: bool = False,
        hypothetical: bool = False,
    ) -> None:
        self.calls += 1
        self.prompt += usage.prompt_tokens
        self.completion += usage.completion_tokens
        self.cached += usage.cached_tokens
        self.exact = self.exact and usage.exact
        if cost is None:
            self.unknown += 1
        else:
            self.cost += cost
            if hypothetical:
                self.hypothetical += cost
        if local:
            self.compute_s += latency_s
        self.latency_s += latency_s
        self.live += 1 if live else 0

    def freeze(self) -> Totals:
        return Totals(
            self.calls,
            Usage(self.prompt, self.completion, self.cached, self.exact),
            self.cost,
            self.unknown,
            self.compute_s,
            self.latency_s,
            self.live,
            self.hypothetical,
        )


CSV_COLUMNS = (
    "time",
    "call_id",
    "kind",
    "model_id",
    "provider",
    "configuration",
    "question_id",
    "question",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "usage_exact",
    "cost_usd",
    "price_source",
    "latency_s",
    "ttft_s",
    "local",
    "error",
    "paid_by",
)


class SessionLedger:
    """Every call of one browser session, plus the calls streaming right now."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: list[CallRecord] = []
        self._live: OrderedDict[str, LiveCall] = OrderedDict()
        self._version = 0

    # ---- writing ----------------------------------------------------------------------------------
    def record(self, rec: CallRecord) -> None:
        if not isinstance(rec, CallRecord):
            raise TypeError("SessionLedger.record takes a CallRecord")
        with self._lock:
            self._records.append(rec)
            self._live.pop(rec.call_id, None)
            self._version += 1

    def begin_live(
        self,
        call_id: str,
        model_id: str,
        configuration: str,
        *,
        price: Price | None = None,
        prompt_tokens: int = 0,
        question_id: str | None = None,
        payer: str = "",
    ) -> None:
        with self._lock:
            self._live[call_id] = LiveCall(
                call_id, model_id, configuration, price, question_id, prompt_tokens, 0, payer=payer
            )
            self._version += 1

    def update_live(self, call_id: str, completion_tokens_so_far: int, prompt_tokens: int | None = None) -> None:
        with self._lock:
            live = self._live.get(call_id)
            if live is None:  # ended already (or never begun): nothing to move
                return
            self._live[call_id] = replace(
                live,
                completion_tokens=max(0, int(completion_tokens_so_far)),
                prompt_tokens=live.prompt_tokens if prompt_tokens is None else max(0, int(prompt_tokens)),
            )
            self._version += 1

    def end_live(self, call_id: str) -> None:
        with self._lock:
            if self._live.pop(call_id, None) is not None:
                self._version += 1

    def clear(self) -> None:
        """Forget everything (the Costs page's "new session" button)."""
        with self._lock:
            self._records.clear()
            self._live.clear()
            self._version += 1

    # ---- reading ----------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Changes whenever anything is recorded or a live partial moves (cheap change detection)."""
        return self._version

    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def live(self) -> list[LiveCall]:
        with self._lock:
            return list(self._live.values())

    def has_live(self) -> bool:
        return bool(self._live)

    def __len__(self) -> int:
        return len(self._records)

    def totals(self, *, include_live: bool = True, where: Callable[[CallRecord], bool] | None = None) -> Totals:
        with self._lock:
            records = list(self._records)
            live = list(self._live.values()) if include_live and where is None else []
        return _sum([r for r in records if where is None or where(r)], live)

    def _group(self, key: Callable[[CallRecord], str | None], include_live: bool, live_key) -> dict[str, Totals]:
        with self._lock:
            records = list(self._records)
            live = list(self._live.values()) if include_live else []
        groups: dict[str, _Acc] = {}
        for r in records:
            k = key(r)
            if k is not None:
                groups.setdefault(k, _Acc()).add(r.usage, r.cost, r.local, r.latency_s, hypothetical=r.hypothetical)
        for lc in live:
            k = live_key(lc)
            if k is not None:
                groups.setdefault(k, _Acc()).add(
                    lc.usage,
                    lc.cost,
                    bool(lc.price and lc.price.local),
                    0.0,
                    live=True,
                    hypothetical=lc.payer == HYPOTHETICAL,
                )
        return {k: a.freeze() for k, a in groups.items()}

    def by_model(self, include_live: bool = False) -> dict[str, Totals]:
        return self._group(lambda r: r.model_id, include_live, lambda lc: lc.model_id)

    def by_configuration(self, include_live: bool = False) -> dict[str, Totals]:
        return self._group(lambda r: r.configuration or "other", include_live, lambda lc: lc.configuration or "other")

    def by_question(self, include_live: bool = False) -> dict[str, Totals]:
        return self._group(lambda r: r.question_id, include_live, lambda lc: lc.question_id)

    def by_kind(self) -> dict[str, Totals]:
        return self._group(lambda r: r.kind, False, lambda lc: None)

    def last_question_id(self) -> str | None:
        """The question asked most recently (a streaming one counts)."""
        with self._lock:
            for lc in reversed(self._live.values()):
                if lc.question_id:
                    return lc.question_id
            for r in reversed(self._records):
                if r.question_id:
                    return r.question_id
        return None

    def last_question(self, include_live: bool = True) -> tuple[str | None, Totals]:
        qid = self.last_question_id()
        if qid is None:
            return None, Totals()
        with self._lock:
            records = [r for r in self._records if r.question_id == qid]
            live = [lc for lc in self._live.values() if lc.question_id == qid] if include_live else []
        return qid, _sum(records, live)

    def cumulative(self) -> list[tuple[datetime, Decimal]]:
        """(time, cumulative known spend) after each call, for the spend-over-time chart."""
        running = Decimal(0)
        points = []
        for r in sorted(self.records(), key=lambda r: r.time):
            running += r.cost or Decimal(0)
            points.append((r.time, running))
        return points

    # ---- export -----------------------------------------------------------------------------------
    def to_rows(self) -> list[dict[str, object]]:
        return [_row(r) for r in self.records()]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.to_rows():
            writer.writerow(csv_dict(row))
        return buf.getvalue()


def _row(r: CallRecord) -> dict[str, object]:
    return {
        "time": r.time.isoformat(timespec="milliseconds"),
        "call_id": r.call_id,
        "kind": r.kind,
        "model_id": r.model_id,
        "provider": r.provider,
        "configuration": r.configuration,
        "question_id": r.question_id or "",
        "question": r.question,
        "prompt_tokens": r.usage.prompt_tokens,
        "completion_tokens": r.usage.completion_tokens,
        "cached_tokens": r.usage.cached_tokens,
        "usage_exact": r.usage.exact,
        "cost_usd": "unknown" if r.cost is None else f"{r.cost:f}",
        "price_source": r.price_source,
        "latency_s": round(r.latency_s, 4),
        "ttft_s": "" if r.ttft_s is None else round(r.ttft_s, 4),
        "local": r.local,
        "error": r.error or "",
        "paid_by": r.payer,
    }


def _sum(records: Iterable[CallRecord], live: Iterable[LiveCall]) -> Totals:
    """The totals of finished calls and in-flight partials."""
    acc = _Acc()
    for r in records:
        acc.add(r.usage, r.cost, r.local, r.latency_s, hypothetical=r.hypothetical)
    for lc in live:
        local = bool(lc.price and lc.price.local)
        acc.add(lc.usage, lc.cost, local, 0.0, live=True, hypothetical=lc.payer == HYPOTHETICAL)
    return acc.freeze()
