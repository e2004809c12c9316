"""The knowledge base of one session: its workspace collection plus, read-only, the shared sample.

Pages and components hold a :class:`KnowledgeBase` per script run; it lists documents, ingests files (metered:
see :mod:`ragft.knowledge.ingest`) and retrieves (one :class:`~ragft.knowledge.retrieval.Retrieval` type).
A sample document whose name the workspace holds in a newer version is hidden from this session's
retrieval (the freshness demo).

One ingest at a time per workspace (so per participant: parsing, OCR and embedding of one batch of uploads):
a second one started meanwhile (another tab, a double click) is refused at once, file by file, with a clear
message and nothing touched; what is indexed stays. The slot is per app process (sticky sessions keep a
participant's tabs on one replica); storing and sweeping are excluded across replicas too when ``turns`` (the class
database) is given: see :mod:`ragft.knowledge.store`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.knowledge.chunking import Chunk
from ragft.knowledge.documents import Limits
from ragft.knowledge.ingest import FileReport, Progress, ingest_files
from ragft.knowledge.retrieval import Retrieval, Retriever, retrieve
from ragft.knowledge.sample import open_sample
from ragft.knowledge.store import DocumentInfo, Index, describe_client
from ragft.knowledge.workspaces import workspace_collection_name
from ragft.settings import DEFAULTS
from ragft.store.db import ClassStore

logger = logging.getLogger(__name__)

BUSY_MESSAGE = (
    "{name}: another upload of your workspace is being indexed (in another tab?); one at a time per participant. "
    "Nothing was changed: upload this file again when that one is done."
)
_SLOTS: dict[str, threading.Lock] = {}
_SLOTS_GUARD = threading.Lock()


def ingest_slot(workspace_id: str) -> threading.Lock:
    """The workspace's ingest slot (one upload batch, OCR included, at a time per participant)."""
    with _SLOTS_GUARD:
        return _SLOTS.setdefault(workspace_id, threading.Lock())


class KnowledgeBase:
    """A session's workspace collection plus, read-only, the shared sample."""

    def __init__(
        self,
        client: Any,
        embedder: Any,
        workspace_id: str,
        *,
        include_sample: bool = True,
        limits: Limits = Limits(),
        turns: ClassStore | None = None,
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.workspace_id = workspace_id
        self.limits = limits
        self.where = describe_client(client)
        self.workspace = Index(
            client,
            workspace_collection_name(workspace_id, embedder.model_id),
            embedder,
            label="workspace",
            where=self.where,
            turns=turns,
        )
        self.workspace.sweep()
        self.sample = open_sample(client, embedder) if include_sample else None

    @property
    def collections(self) -> list[Index]:
        return [c for c in (self.sample, self.workspace) if c is not None]

    def documents(self, *, include_sample: bool = False) -> list[DocumentInfo]:
        docs = list(self.sample.documents()) if include_sample and self.sample else []
        return docs + self.workspace.documents()

    def shadowed_sample_docs(self) -> list[DocumentInfo]:
        """Sample documents hidden for this workspace because it holds a newer file of the same name."""
        if self.sample is None:
            return []
        mine = {d.name: d.doc_id for d in self.workspace.documents()}
        return [d for d in self.sample.documents() if d.name in mine and mine[d.name] != d.doc_id]

    def chunks(self, doc_id: str) -> list[Chunk]:
        for c in self.collections:
            found = c.chunks(doc_id)
            if found:
                return found
        return []

    def delete_document(self, doc_id: str) -> int:
        return self.workspace.delete_document(doc_id)

    def reset(self) -> int:
        return self.workspace.reset()

    def ingest_files(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        chunk_tokens: int = DEFAULTS.chunk_tokens,
        overlap: int = DEFAULTS.chunk_overlap,
        password: str | Mapping[str, str] | None = None,
        progress: Progress | None = None,
        ledger: SessionLedger | None = None,
        budget: Budget | None = None,
        price_overrides: Mapping[str, Any] | None = None,
    ) -> list[FileReport]:
        """Index files into the workspace (a file already in the sample is a duplicate), metered per file.
        Refused file by file (status ``error``, error_type ``IngestBusy``) while another ingest of this workspace
        runs."""
        slot = ingest_slot(self.workspace_id)
        if not slot.acquire(blocking=False):
            return [
                FileReport(name=name, status="error", message=BUSY_MESSAGE.format(name=name), error_type="IngestBusy")
                for name, _ in files
            ]
        try:
            return ingest_files(
                self.workspace,
                files,
                others=[self.sample],
                chunk_tokens=chunk_tokens,
                overlap=overlap,
                limits=self.limits,
                password=password,
                progress=progress,
                ledger=ledger,
                budget=budget,
                price_overrides=price_overrides,
            )
        finally:
            slot.release()

    def retrieve(
        self,
        question: str,
        *,
        k: int = 2,
        threshold: float = 0.0,
        include_sample: bool = True,
        doc_filter: Iterable[str] | None = None,
        exclude_doc_ids: Iterable[str] | None = None,
    ) -> Retrieval:
        """The best ``k`` chunks over ``threshold`` from the workspace (and the sample). Raises typed errors."""
        cols = [self.workspace] + ([self.sample] if include_sample and self.sample else [])
        exclude = set(exclude_doc_ids or ())
        if include_sample and self.sample:
            exclude |= {d.doc_id for d in self.shadowed_sample_docs()}
        return retrieve(
            question,
            cols,
            k=k,
            threshold=threshold,
            doc_filter=doc_filter,
            exclude_doc_ids=exclude,
            embedder=self.embedder,
        )

    def as_retriever(
        self,
        *,
        k: int = 2,
        threshold: float = 0.0,
        include_sample: bool = True,
        doc_filter: Iterable[str] | None = None,
    ) -> Retriever:
        """``question -> Retrieval`` for Compare and Evaluate. A failure raises its typed error, which
        :func:`ragft.answering.compare.start_comparison` turns into the Retrieval's ``error``."""

        def run(question: str) -> Retrieval:
            return self.retrieve(
                question, k=k, threshold=threshold, include_sample=include_sample, doc_filter=doc_filter
            )

        return run
