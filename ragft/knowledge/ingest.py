"""Ingest of uploaded files into a workspace collection, metered like every other paid call.

Per file: check the type → read → chunk → reserve the worst case of its embedding against the budget (a
refusal is that file's error, nothing embedded or stored) → embed in batches → settle the reservation and
record a :class:`~ragft.costs.ledger.CallRecord` (configuration ``INGEST``) in the session's ledger → store.
An embedding that fails midway still records and settles what the finished batches cost.

- Documents are identified by the hash of their bytes: uploading the same content again adds nothing.
  Uploading a file with the same name and new content replaces the older version in the workspace (and
  :class:`~ragft.knowledge.base.KnowledgeBase` then hides the sample's document of that name: the freshness demo).
- One file's failure never stops the others: every file gets a :class:`FileReport`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ragft import errors as E
from ragft.costs.budget import Budget, Reservation
from ragft.costs.ledger import INGEST, SessionLedger
from ragft.costs.metering import embedding_price, record_embedding, reserve_for
from ragft.knowledge.chunking import chunk_pages, validate
from ragft.knowledge.documents import Limits, PasswordRequired, check_type, document_id, load_document
from ragft.knowledge.store import Index, embed_texts
from ragft.knowledge.workspaces import SAMPLE
from ragft.models.embeddings import Embedder
from ragft.settings import DEFAULTS

logger = logging.getLogger(__name__)

Progress = Callable[[str, str, int, int], None]  # (file name, stage, done, total)
STAGES = ("checking", "reading", "ocr", "chunking", "embedding", "storing", "done", "error")  # what progress() names


class ChunkLimitExceeded(E.DocumentError):
    hint = "Split the file, use larger chunks, or ask the facilitator to raise the limit."


def check_chunk_caps(name: str, n_chunks: int, index: Index, limits: Limits) -> None:
    """Refuse a file whose chunks exceed RAGFT_MAX_CHUNKS_PER_FILE, or would take the workspace past
    RAGFT_MAX_CHUNKS_PER_WORKSPACE (an older version of the same file, which it replaces, is not counted)."""
    if n_chunks > limits.max_chunks_per_file:
        raise ChunkLimitExceeded(
            f"{name}: {n_chunks:,} chunks, over the limit of {limits.max_chunks_per_file:,} "
            "per file (RAGFT_MAX_CHUNKS_PER_FILE); nothing indexed."
        )
    held = sum(d.chunks for d in index.documents() if d.name != name)
    if held + n_chunks > limits.max_chunks_per_workspace:
        raise ChunkLimitExceeded(
            f"{name}: {n_chunks:,} chunks would take this workspace to {held + n_chunks:,}, over "
            f"the limit of {limits.max_chunks_per_workspace:,} (RAGFT_MAX_CHUNKS_PER_WORKSPACE); "
            "nothing indexed."
        )


@dataclass
class FileReport:
    """What happened to one uploaded file."""

    name: str
    status: str  # ok | duplicate | error | needs_password
    message: str
    doc_id: str = ""
    kind: str = ""
    pages: int = 0
    chunks: int = 0
    tokens: int = 0
    embed_tokens: int = 0  # the embedding model's tokens of all chunks (what an API bills)
    embed_seconds: float = 0.0
    embed_cost: Decimal | None = None  # what the embedding actually cost (None: price unknown)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # doc ids of older versions removed
    error_type: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def pricing_name(embedder: Embedder) -> str:
    """The embedder's model name as price tables know it ("text-embedding-3-small", "all-MiniLM-L6-v2")."""
    return embedder.model or embedder.model_id


def _price(tokens: int, embedder: Embedder, overrides: Mapping[str, Any] | None) -> Decimal | None:
    """What embedding ``tokens`` costs: the session's billing when the embedder carries one, else the catalogue."""
    try:
        price = embedding_price(embedder, pricing_name(embedder), embedder.provider, overrides)
        return None if price is None else Decimal(max(0, tokens)) * price.input_per_m / Decimal(1_000_000)
    except E.RagftError:  # a malformed price override: priced as unknown (the budget then refuses if capped)
        logger.exception("pricing the embedding of %s tokens with %s failed", tokens, embedder.model_id)
        return None


class _Meter:
    """Reserve → settle → record for one file's embedding."""

    def __init__(
        self,
        name: str,
        embedder: Embedder,
        ledger: SessionLedger | None,
        budget: Budget | None,
        overrides: Mapping[str, Any] | None,
    ) -> None:
        self.name, self.embedder, self.ledger, self.budget, self.overrides = name, embedder, ledger, budget, overrides
        self.reservation: Reservation | None = None

    def reserve(self, tokens: int) -> None:
        """Hold the worst case; raises BudgetExceeded (nothing spent) when it could cross a cap."""
        worst = _price(tokens, self.embedder, self.overrides)
        if self.budget is not None and worst != 0:
            self.reservation = reserve_for(
                self.budget, self.embedder, worst, f"embedding {self.name} ({tokens:,} tokens)"
            )

    def keep_alive(self) -> None:
        """A batch is done: the hold lasts on while the file is being embedded."""
        if self.reservation is not None:
            self.reservation.keep_alive()

    def settle(self, tokens: int, seconds: float, error: str | None) -> Decimal | None:
        """Replace the hold by what ``tokens`` cost and record the call (also a partial, failed one)."""
        cost = _price(tokens, self.embedder, self.overrides)
        if self.reservation is not None:
            self.reservation.settle(cost)
        if self.ledger is not None and tokens > 0:
            note = f"indexing {self.name}" + (f" (failed: {error})" if error else "")
            try:
                record_embedding(
                    self.ledger,
                    tokens=tokens,
                    model_id=pricing_name(self.embedder),
                    provider=self.embedder.provider,
                    configuration=INGEST,
                    seconds=seconds,
                    price_overrides=self.overrides,
                    note=note,
                    error=error,
                    embedder=self.embedder,
                )
            except E.RagftError:
                logger.exception("recording the embedding of %s in the ledger failed", self.name)
        return cost


def _duplicate(name: str, data: bytes, doc_id: str, indexes: Sequence[Index | None]) -> str | None:
    """The message when these bytes are already in one of ``indexes`` (the workspace first), else None."""
    for idx in indexes:
        if idx is not None and data and idx.has_document(doc_id):
            same = next((d for d in idx.documents() if d.doc_id == doc_id), None)
            where = "the shared sample" if idx.label == SAMPLE else "your workspace"
            shown = f" as {same.name}" if same and same.name != name else ""
            return f"{name}: already in {where}{shown}; nothing added."
    return None


def _window_warning(name: str, embedder: Embedder, counts: Sequence[int]) -> str | None:
    """The local model truncates a text at its window: say how many chunks it cut."""
    if embedder.provider != "local":
        return None
    long = sum(1 for n in counts if n >= embedder.max_tokens)
    if not long:
        return None
    return (
        f"{name}: {long} chunk(s) are longer than the embedding model's {embedder.max_tokens}-token "
        "window and were embedded from their beginning only; use smaller chunks."
    )


def _embed(
    embedder: Embedder,
    texts: list[str],
    counts: Sequence[int],
    meter: _Meter,
    step: Callable[[str, int, int], None],
) -> tuple[np.ndarray, float]:
    """The vectors and the seconds they took; a failure midway settles what the finished batches cost."""
    step("embedding", 0, len(texts))
    embedded = [0]

    def on_batch(done: int, total: int) -> None:
        embedded[0] = done
        meter.keep_alive()
        step("embedding", done, total)

    te = time.perf_counter()
    try:
        vectors = embed_texts(embedder, texts, on_batch=on_batch)
    except BaseException as exc:
        meter.settle(sum(counts[: embedded[0]]), time.perf_counter() - te, E.short_message(exc))
        raise
    return vectors, time.perf_counter() - te


def _replace_older(index: Index, name: str, doc_id: str) -> list[str]:
    """A new version of a file already in the workspace replaces it: the older versions' ids, deleted."""
    replaced = []
    for old in index.documents():
        if old.name == name and old.doc_id != doc_id:
            index.delete_document(old.doc_id)
            replaced.append(old.doc_id)
    return replaced


def ingest_file(
    index: Index,
    name: str,
    data: bytes,
    *,
    chunk_tokens: int = DEFAULTS.chunk_tokens,
    overlap: int = DEFAULTS.chunk_overlap,
    limits: Limits = Limits(),
    password: str | None = None,
    progress: Progress | None = None,
    others: Sequence[Index | None] = (),
    ledger: SessionLedger | None = None,
    budget: Budget | None = None,
    price_overrides: Mapping[str, Any] | None = None,
) -> FileReport:
    """Index one file into ``index`` (metered); ``others`` are searched for duplicates only. Never raises."""
    t0 = time.perf_counter()
    embedder = index.embedder

    def step(stage: str, done: int, total: int) -> None:
        if progress:
            progress(name, stage, done, total)

    report = FileReport(name=name, status="error", message="")
    try:
        step("checking", 0, 1)
        check_type(name, data)  # a lying extension is an error even when the bytes are known
        doc_id = document_id(data)
        report.doc_id = doc_id
        duplicate = _duplicate(name, data, doc_id, (index, *others))
        if duplicate:
            report.status, report.message = "duplicate", duplicate
            step("done", 1, 1)
            return report
        doc = load_document(
            name,
            data,
            limits=limits,
            password=password,
            on_page=lambda d, t: step("reading", d, t),
            on_ocr=lambda d, t: step("ocr", d, t),
        )
        report.kind, report.pages, report.warnings = doc.kind, doc.page_count, list(doc.warnings)
        step("chunking", 0, 1)
        chunks = chunk_pages(doc.pages, doc_id=doc.doc_id, source=doc.name, chunk_tokens=chunk_tokens, overlap=overlap)
        report.chunks, report.tokens = len(chunks), sum(c.tokens for c in chunks)
        step("chunking", 1, 1)
        check_chunk_caps(doc.name, len(chunks), index, limits)
        texts = [c.text for c in chunks]
        counts = [int(embedder.count_tokens([t])) for t in texts]
        report.embed_tokens = sum(counts)
        if too_long := _window_warning(name, embedder, counts):
            report.warnings.append(too_long)
        meter = _Meter(name, embedder, ledger, budget, price_overrides)
        meter.reserve(report.embed_tokens)  # BudgetExceeded: this file's error, nothing embedded
        vectors, report.embed_seconds = _embed(embedder, texts, counts, meter, step)
        report.embed_cost = meter.settle(report.embed_tokens, report.embed_seconds, None)
        step("storing", 0, len(chunks))
        index.add_document(
            doc,
            chunks,
            vectors,
            chunk_tokens=chunk_tokens,
            overlap=overlap,
            embed_tokens=report.embed_tokens,
            embed_seconds=report.embed_seconds,
            embed_cost=report.embed_cost,
            on_batch=lambda d, t: step("storing", d, t),
        )
        report.replaced = _replace_older(index, doc.name, doc.doc_id)
        report.status = "ok"
        what = f"{doc.page_count} page(s), " if doc.kind == "pdf" else ""
        report.message = f"{name}: indexed {what}{len(chunks)} chunk(s), {report.tokens:,} tokens."
        if report.replaced:
            report.message += " It replaces the earlier version."
        step("done", 1, 1)
    except PasswordRequired as exc:
        report.status, report.message, report.error_type = "needs_password", exc.message, type(exc).__name__
        step("error", 1, 1)
    except E.RagftError as exc:
        report.status, report.message, report.error_type = "error", exc.message, type(exc).__name__
        if not exc.message.startswith(name):
            report.message = f"{name}: {exc.message}"
        step("error", 1, 1)
    except Exception as exc:  # noqa: BLE001 - one file's surprise must not stop the others
        logger.exception("ingest of %s failed unexpectedly", name)
        report.status, report.error_type = "error", type(exc).__name__
        report.message = f"{name}: unexpected error ({type(exc).__name__}: {E.short_message(exc)}); nothing indexed."
        step("error", 1, 1)
    finally:
        report.seconds = time.perf_counter() - t0
    return report


def ingest_files(
    index: Index,
    files: Sequence[tuple[str, bytes]],
    *,
    others: Sequence[Index | None] = (),
    chunk_tokens: int = DEFAULTS.chunk_tokens,
    overlap: int = DEFAULTS.chunk_overlap,
    limits: Limits = Limits(),
    password: str | Mapping[str, str] | None = None,
    progress: Progress | None = None,
    ledger: SessionLedger | None = None,
    budget: Budget | None = None,
    price_overrides: Mapping[str, Any] | None = None,
) -> list[FileReport]:
    """Index several files into ``index``; one report per file, in order. Never raises for a file.

    ``password``: one for all files or ``{file name: password}``. ``progress(file, stage, done, total)``.
    ``ledger``/``budget``/``price_overrides``: each file's embedding is reserved against ``budget``, then
    recorded in ``ledger`` and settled with what it cost (see the module docstring).
    """
    validate(chunk_tokens, overlap)
    reports: list[FileReport] = []
    seen: dict[str, str] = {}
    for name, data in files:
        pw = password.get(name) if isinstance(password, Mapping) else password
        digest = document_id(data) if data else ""
        try:
            check_type(name, data)
        except E.DocumentError:
            digest = ""  # reported as the error it is by ingest_file, never as a duplicate
        if digest and digest in seen:
            reports.append(
                FileReport(
                    name=name,
                    status="duplicate",
                    doc_id=digest,
                    message=f"{name}: same content as {seen[digest]} in this upload; added once.",
                )
            )
            continue
        report = ingest_file(
            index,
            name,
            data,
            chunk_tokens=chunk_tokens,
            overlap=overlap,
            limits=limits,
            password=pw,
            progress=progress,
            others=others,
            ledger=ledger,
            budget=budget,
            price_overrides=price_overrides,
        )
        if digest and report.status in ("ok", "duplicate"):
            seen[digest] = name
        reports.append(report)
    return reports
