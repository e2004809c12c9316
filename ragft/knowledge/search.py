"""The Knowledge base page's search box: a bounded, metered retrieval (reserve → embed → record → settle).

A query is at most :data:`MAX_QUERY_CHARS` characters (:class:`SearchTooLong` otherwise, before anything is
embedded). Its embedding is priced by the session's billing (the server's key pays at the server's prices), held
against the budget before the call (:class:`ragft.costs.budget.BudgetExceeded` when it could cross a cap), then
recorded in the session's ledger (configuration :data:`ragft.costs.ledger.SEARCH`) and settled at what it cost.
The :class:`~ragft.knowledge.retrieval.Retrieval` returned holds no embedder, so it can be kept in a session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ragft import errors as E
from ragft.costs.budget import Budget, Reservation
from ragft.costs.ledger import SEARCH, SessionLedger
from ragft.costs.metering import embedding_price, record_embedding, reserve_for
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.ingest import pricing_name
from ragft.knowledge.retrieval import Retrieval

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000


class SearchTooLong(E.RagftError):
    hint = "Shorten the query: a question or a few keywords."


def _cost(tokens: int, embedder: Any, overrides: Mapping[str, Any] | None) -> Decimal | None:
    price = embedding_price(embedder, pricing_name(embedder), getattr(embedder, "provider", ""), overrides)
    return None if price is None else Decimal(max(0, tokens)) * price.input_per_m / Decimal(1_000_000)


def search(
    kb: KnowledgeBase,
    query: str,
    *,
    k: int,
    threshold: float,
    include_sample: bool = True,
    doc_filter: Iterable[str] | None = None,
    ledger: SessionLedger | None = None,
    budget: Budget | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    max_chars: int = MAX_QUERY_CHARS,
) -> Retrieval:
    """Retrieve for ``query`` with its embedding metered. Raises SearchTooLong, BudgetExceeded or the
    retrieval's typed error; nothing is recorded or held for a refused query."""
    q = (query or "").strip()
    if len(q) > max_chars:
        raise SearchTooLong(f"A search may have at most {max_chars:,} characters; this one has {len(q):,}.")
    embedder = kb.embedder
    tokens = int(embedder.count_tokens([q])) if q else 0
    worst = _cost(tokens, embedder, price_overrides)
    reservation: Reservation | None = None
    if budget is not None and q and worst != 0:
        reservation = reserve_for(budget, embedder, worst, f"a search embedding ({tokens:,} tokens)")
    try:
        result = kb.retrieve(q, k=k, threshold=threshold, include_sample=include_sample, doc_filter=doc_filter)
    except BaseException:
        if reservation is not None:  # nothing came back: the request is counted as not billed
            reservation.settle(Decimal(0))
        raise
    spent = result.query_tokens or (tokens if q else 0)
    cost = _cost(spent, embedder, price_overrides)
    if reservation is not None:
        reservation.settle(cost)
    if ledger is not None and spent:
        try:
            record_embedding(
                ledger,
                tokens=spent,
                model_id=pricing_name(embedder),
                provider=getattr(embedder, "provider", ""),
                configuration=SEARCH,
                seconds=result.embed_s,
                price_overrides=price_overrides,
                note=f"search: {q}",
                embedder=embedder,
            )
        except E.RagftError:  # the results are there; only the ledger line is missing
            logger.exception("recording a search embedding in the ledger failed")
    return replace(result, embedder=None)
