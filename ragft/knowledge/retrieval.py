"""Retrieval over one or more collections, and THE result type every consumer uses.

:class:`Retrieval` travels unchanged from the knowledge base to the Knowledge base page's playground, to
Compare (shared by the RAG panels) and to Evaluate. It keeps what the query embedding cost (``query_tokens``,
the embedding model and provider), so the comparison can meter it, and a failure as ``error`` (with its
``error_kind``), so the RAG panels show what went wrong instead of answering from something else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragft import errors as E
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.knowledge.store import Index, embed_texts
from ragft.models.embeddings import Embedder

logger = logging.getLogger(__name__)

EXCLUDE_MARGIN = 8  # extra results fetched when some documents are excluded


@dataclass(frozen=True)
class Retrieval:
    """Ranked chunks for one question, the two timings kept apart, what the query embedding used."""

    chunks: tuple[RetrievedChunk, ...] = ()
    embed_s: float = 0.0  # embedding the question
    search_s: float = 0.0  # searching the collections
    collection: str = ""  # which collections answered, e.g. "workspace+sample"
    error: str | None = None  # retrieval failed: RAG panels show this instead of answering
    error_kind: str = ""  # the typed error's class name (IndexUnavailable, EmbeddingMismatch...)
    question: str = ""
    query_tokens: int = 0  # the embedding model's tokens of the question (priced for a paid embedder)
    embedding_model: str = ""  # the provider's model name, for pricing ("text-embedding-3-small")
    embedding_provider: str = ""  # "local", "openai", ...
    embedding_model_id: str = ""  # the id recorded on the collections ("openai:text-embedding-3-small")
    candidates: int = 0  # results before the threshold and the final cut
    below_threshold: int = 0
    embedder: Embedder | None = field(
        default=None, repr=False, compare=False
    )  # prices the query embedding (session billing)

    @property
    def total_s(self) -> float:
        return self.embed_s + self.search_s

    @property
    def ok(self) -> bool:
        return self.error is None


Retriever = Callable[[str], Retrieval]


def failed_retrieval(exc: BaseException, question: str = "") -> Retrieval:
    """The Retrieval that reports ``exc``: a typed error's message, or the surprise named as such."""
    if isinstance(exc, E.RagftError):
        return Retrieval(error=exc.message, error_kind=type(exc).__name__, question=question)
    return Retrieval(
        error=f"Retrieval failed: {E.describe_error(exc)}", error_kind=type(exc).__name__, question=question
    )


def _embedding_fields(embedder: Embedder | None) -> dict[str, Any]:
    if embedder is None:
        return {}
    return {
        "embedding_model": embedder.model or embedder.model_id,
        "embedding_provider": embedder.provider,
        "embedding_model_id": embedder.model_id,
        "embedder": embedder,
    }


def _where(doc_filter: Iterable[str] | None, exclude: Iterable[str] | None) -> dict | None:
    conds: list[dict] = []
    if doc_filter is not None:
        conds.append({"doc_id": {"$in": sorted(set(doc_filter)) or ["-none-"]}})
    if exclude:
        conds.append({"doc_id": {"$nin": sorted(set(exclude))}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def retrieve(
    question: str,
    collections: Sequence[Index | None],
    *,
    k: int = 2,
    threshold: float = 0.0,
    doc_filter: Iterable[str] | None = None,
    exclude_doc_ids: Iterable[str] | None = None,
    embedder: Embedder | None = None,
) -> Retrieval:
    """Embed the question once, search every collection, merge by score, keep the best ``k`` over ``threshold``.

    ``doc_filter``: only these document ids. ``exclude_doc_ids``: never these (a sample document shadowed by a
    newer version in the workspace). The same text found in two collections is returned once. Store and
    embedding failures raise their typed errors (the caller decides how to show them).
    """
    question = (question or "").strip()
    cols = [c for c in collections if c is not None]
    embedder = embedder or (cols[0].embedder if cols else None)
    fields = _embedding_fields(embedder)
    label = "+".join(c.label for c in cols)
    if embedder is None or not question or not cols or k < 1:
        return Retrieval(question=question, collection=label, **fields)
    for c in cols:
        c.check_embedder(embedder)
    t0 = time.perf_counter()
    vector = embed_texts(embedder, [question])[0]
    embed_s = time.perf_counter() - t0
    exclude = set(exclude_doc_ids or ())
    where = _where(doc_filter, exclude)
    t1 = time.perf_counter()
    found: list[RetrievedChunk] = []
    n = k + 2  # a little more than k: duplicates across collections are dropped below
    for c in cols:
        if exclude:
            # A store-side $nin filter is slow on big collections (~200 ms at 100k chunks, benchmarks/
            # bench_retrieval.py), and excluded documents rarely reach the top: over-fetch and drop them,
            # and filter in the store only when they crowded the results out.
            got = c.query(vector, n + EXCLUDE_MARGIN, _where(doc_filter, None))
            kept = [x for x in got if x.doc_id not in exclude]
            if len(kept) < n and len(got) == n + EXCLUDE_MARGIN:
                kept = c.query(vector, n, where)
            found.extend(kept)
        else:
            found.extend(c.query(vector, n, where))
    search_s = time.perf_counter() - t1
    found.sort(key=lambda ch: (-ch.score, ch.metadata.get("collection", ""), ch.chunk_id))
    seen: set[str] = set()
    best: list[RetrievedChunk] = []
    below = 0
    for ch in found:
        key = str(ch.metadata.get("content_hash") or ch.chunk_id)
        if key in seen:
            continue
        seen.add(key)
        if ch.score < threshold:
            below += 1
            continue
        if len(best) < k:
            best.append(ch)
    try:
        q_tokens = int(embedder.count_tokens([question]))
    except Exception:  # noqa: BLE001 - the vectors are there; only the metered token count is missing
        logger.exception("counting the question's embedding tokens failed (%s)", fields["embedding_model_id"])
        q_tokens = 0
    return Retrieval(
        chunks=tuple(best),
        embed_s=embed_s,
        search_s=search_s,
        collection=label,
        question=question,
        query_tokens=q_tokens,
        candidates=len(found),
        below_threshold=below,
        **fields,
    )
