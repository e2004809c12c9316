"""The shared sample collection: the scenario's files indexed once per process and embedder, read-only after.

Every session searches it beside its own workspace; no session can write to it. It is rebuilt incrementally
when the scenario's files, the chunking or the embedding model change (a fingerprint on the collection).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragft.knowledge.documents import Limits, document_id
from ragft.knowledge.ingest import ingest_file
from ragft.knowledge.store import SCHEMA, CollectionMissing, Index
from ragft.knowledge.workspaces import SAMPLE, sample_collection_name
from ragft.settings import DEFAULTS

logger = logging.getLogger(__name__)

_SAMPLE_LOCK = threading.Lock()  # one builder per process (upserts make concurrent builders harmless anyway)


@dataclass(frozen=True)
class SampleStatus:
    name: str
    documents: tuple[str, ...]
    rebuilt: bool
    seconds: float
    errors: tuple[str, ...] = ()


def scenario_files(scenario_dir: Path) -> list[Path]:
    """The files to index: those flagged ``index`` in ``scenario.json``, else every PDF and Markdown file."""
    scenario_dir = Path(scenario_dir)
    if not scenario_dir.is_dir():
        return []
    manifest = scenario_dir / "scenario.json"
    if manifest.is_file():
        try:
            files = json.loads(manifest.read_text()).get("files", [])
            chosen = [scenario_dir / f["name"] for f in files if f.get("index")]
            if chosen:
                return [p for p in chosen if p.is_file()]
        except (ValueError, AttributeError, KeyError, TypeError):
            logger.warning("%s is malformed; indexing every PDF and Markdown file instead", manifest)
    return sorted(p for p in scenario_dir.iterdir() if p.suffix.lower() in (".pdf", ".md") and p.is_file())


def ensure_sample_collection(
    client: Any,
    embedder: Any,
    scenario_dir: Path,
    *,
    chunk_tokens: int = DEFAULTS.chunk_tokens,
    overlap: int = DEFAULTS.chunk_overlap,
    limits: Limits = Limits(),
) -> SampleStatus:
    """(Re)index the scenario into the shared ``sample`` collection when missing or when its files changed.

    Incremental: documents whose bytes did not change stay; removed or changed files are replaced. A change
    of chunk size/overlap re-indexes everything. The server's own work: not metered to any session.
    """
    t0 = time.perf_counter()
    files = scenario_files(Path(scenario_dir))
    blobs = {p.name: p.read_bytes() for p in files}
    fingerprint = hashlib.sha256(
        json.dumps(
            {
                "files": sorted((n, document_id(b)) for n, b in blobs.items()),
                "chunk_tokens": chunk_tokens,
                "overlap": overlap,
                "model": embedder.model_id,
                "schema": SCHEMA,
            }
        ).encode()
    ).hexdigest()[:32]
    name = sample_collection_name(embedder.model_id)
    with _SAMPLE_LOCK:
        index = Index(client, name, embedder, label=SAMPLE)
        if index.metadata.get("ragft_fingerprint") == fingerprint:
            return SampleStatus(name, tuple(d.name for d in index.documents()), False, time.perf_counter() - t0)
        index.sweep()
        existing = index.documents()
        current = {document_id(b) for b in blobs.values()}
        for d in existing:
            if d.doc_id not in current or d.chunk_tokens != chunk_tokens or d.overlap != overlap:
                index.delete_document(d.doc_id)
        have = {d.doc_id for d in index.documents()}
        errors = []
        for fname, data in blobs.items():
            if document_id(data) in have:
                continue
            report = ingest_file(index, fname, data, chunk_tokens=chunk_tokens, overlap=overlap, limits=limits)
            if not report.ok:
                logger.error("the sample file %s was not indexed: %s", fname, report.message)
                errors.append(report.message)
        index.update_metadata({"ragft_fingerprint": fingerprint if not errors else ""})
        return SampleStatus(
            name, tuple(d.name for d in index.documents()), True, time.perf_counter() - t0, tuple(errors)
        )


def open_sample(client: Any, embedder: Any) -> Index | None:
    """The shared sample collection, read-only, or None when it was never built for this embedder."""
    try:
        return Index(
            client, sample_collection_name(embedder.model_id), embedder, label=SAMPLE, read_only=True, create=False
        )
    except CollectionMissing:
        return None
