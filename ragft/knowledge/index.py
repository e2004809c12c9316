"""The vector index: Chroma collections per workspace, a shared read-only sample, ingest and retrieval.

- ``make_client(settings)``: embedded ``PersistentClient`` under ``settings.data_dir / "chroma"`` by default,
  ``HttpClient`` when ``settings.chroma_host`` is set. Everything else takes a ``ClientAPI`` and an ``Embedder``.
- Vectors are computed by our :class:`~ragft.models.embeddings.Embedder` and handed to Chroma explicitly; collections
  have no Chroma embedding function (its default would download a model). Cosine space; a result's score is
  the cosine similarity clipped to [0, 1].
- The embedder's ``model_id`` and dimension are recorded on the collection: opening, adding to or querying it
  with another model raises :class:`EmbeddingMismatch`.
- A document is its chunks plus a manifest: chunk 0 carries the document's figures and is written last, so a
  write cut short (the server going away) leaves chunks without a manifest, which are deleted at once or, if
  the server is gone, swept on the next open; they are excluded from retrieval meanwhile. The other files of
  the same upload still go in.
- Documents are identified by the hash of their bytes: uploading the same content again adds nothing.
  Uploading a file with the same name and new content replaces the older version in the workspace and hides
  the sample's document of that name for this workspace (the freshness demo).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ragft import errors as E
from ragft.errors import short_message
from ragft.knowledge.chunking import Chunk, chunk_pages, validate
from ragft.knowledge.documents import Limits, LoadedDocument, PasswordRequired, check_type, document_id, load_document
from ragft.answering.prompts import RetrievedChunk
from ragft.knowledge.workspaces import SAMPLE, sample_collection_name, workspace_collection_name

SCHEMA = 1
EMBED_BATCH = 64
EXCLUDE_MARGIN = 8  # extra results fetched when some documents are excluded
LOCAL_WINDOW = 256  # all-MiniLM-L6-v2 reads at most 256 word pieces
Progress = Callable[[str, str, int, int], None]  # (file name, stage, done, total)
STAGES = ("checking", "reading", "chunking", "embedding", "storing", "done", "error")


# ---- errors -------------------------------------------------------------------------------------
class EmbeddingMismatch(E.IndexError_):
    """The collection was built with another embedding model (or dimension)."""


class ReadOnlyCollection(E.IndexError_):
    """A write to the shared sample collection."""


class IndexUnavailable(E.IndexError_):
    """Chroma failed or cannot be reached."""


class EmptyIndex(E.IndexError_):
    """Nothing to search."""


# ---- client -------------------------------------------------------------------------------------
def make_client(settings) -> Any:
    """The Chroma client the settings ask for (telemetry off: nothing leaves the machine)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=int(settings.chroma_port),
                                       settings=chroma_settings)
        except Exception as exc:
            raise IndexUnavailable(f"The Chroma server at {where} is unreachable ({short_message(exc)}); "
                                   "start it or unset CHROMA_HOST to use the embedded store.") from exc
    path = Path(settings.data_dir) / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexUnavailable(f"Cannot open the vector store in {path} ({short_message(exc)}); "
                               "check RAGFT_DATA_DIR and its permissions.") from exc


def describe_client(client: Any) -> str:
    try:
        s = client.get_settings()
        if s.chroma_server_host:
            return f"Chroma server {s.chroma_server_host}:{s.chroma_server_http_port}"
        return f"embedded Chroma in {s.persist_directory}"
    except Exception:  # pragma: no cover - unknown client kind
        return "Chroma"


_CONNECTION_NAMES = ("ConnectError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError",
                     "ReadError", "WriteError", "PoolTimeout", "ConnectionRefusedError", "TimeoutException")


def _translate(exc: BaseException, action: str, where: str) -> E.RagftError:
    names = {t.__name__ for t in type(exc).__mro__}
    if names & set(_CONNECTION_NAMES):
        return IndexUnavailable(f"The vector index ({where}) cannot be reached while {action} ({short_message(exc)}); "
                                "start the Chroma server again or unset CHROMA_HOST.")
    if "dimension" in str(exc).lower():
        return EmbeddingMismatch(f"The vector index refused the vectors while {action} ({short_message(exc)}): "
                                 "it was built with another embedding model; re-index or switch the model back.")
    return IndexUnavailable(f"The vector index ({where}) failed while {action} ({short_message(exc)}).")


@contextlib.contextmanager
def _guard(action: str, where: str) -> Iterator[None]:
    try:
        yield
    except E.RagftError:
        raise
    except Exception as exc:  # chromadb and httpx raise many types
        raise _translate(exc, action, where) from exc


# ---- values -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    name: str
    kind: str
    pages: int  # pages in the file
    chunks: int
    tokens: int  # cl100k tokens of all chunks
    embed_tokens: int  # the embedding model's tokens (what an API bills)
    embed_seconds: float
    embed_cost: Decimal | None  # None: price unknown
    chunk_tokens: int
    overlap: int
    size_bytes: int
    added_at: str  # ISO time
    collection: str  # "sample" or "workspace"
    embedding_model: str = ""


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
    embed_tokens: int = 0
    embed_seconds: float = 0.0
    embed_cost: Decimal | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # doc ids of older versions removed
    error_type: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class RetrievalResult:
    """Ranked chunks for one question; the two timings kept apart (the Compare page shows both)."""

    question: str
    chunks: list[RetrievedChunk]
    embed_s: float  # embedding the question
    search_s: float  # searching the collections
    query_tokens: int = 0
    candidates: int = 0  # results before the threshold and the final cut
    below_threshold: int = 0
    collections: tuple[str, ...] = ()
    embedding_model: str = ""

    @property
    def total_s(self) -> float:
        return self.embed_s + self.search_s


def _embedding_cost(tokens: int, embedder: Any, overrides: Mapping[str, Any] | None = None) -> Decimal | None:
    try:
        from ragft.costs.prices import embedding_cost
    except ImportError:  # the cost engine not installed: local models are free, others unknown
        return Decimal(0) if getattr(embedder, "provider", "") == "local" else None
    try:
        return embedding_cost(tokens, embedder.model_id, embedder.provider, overrides)
    except Exception:  # noqa: BLE001 - a price lookup must never fail an ingest
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def embed_texts(embedder: Any, texts: Sequence[str], on_batch: Callable[[int, int], None] | None = None,
                batch: int = EMBED_BATCH) -> np.ndarray:
    """Vectors for ``texts`` in batches (progress after each); checks the shape the model returned."""
    parts: list[np.ndarray] = []
    for i in range(0, len(texts), batch):
        chunk = list(texts[i:i + batch])
        raw = embedder.embed(chunk) if hasattr(embedder, "embed") else embedder(chunk)
        arr = np.asarray(raw, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(chunk) or not np.isfinite(arr).all():
            raise E.ModelError(f"The embedding model {embedder.model_id} returned malformed vectors "
                               f"({arr.shape} for {len(chunk)} texts).")
        parts.append(arr)
        if on_batch:
            on_batch(min(i + batch, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, int(getattr(embedder, "dimensions", 0) or 0)), dtype=np.float32)
    return np.concatenate(parts)


# ---- one collection ------------------------------------------------------------------------------
class Index:
    """One Chroma collection bound to one embedder. ``read_only`` refuses every write (the shared sample)."""

    def __init__(self, client: Any, name: str, embedder: Any, *, label: str = "workspace",
                 read_only: bool = False, create: bool = True, where: str | None = None) -> None:
        self.client = client
        self.name = name
        self.embedder = embedder
        self.label = label
        self.read_only = read_only
        self.where = where or describe_client(client)
        self._pending: set[str] = set()  # doc ids whose partial chunks could not be deleted yet
        self._max_batch: int | None = None
        with _guard("opening the index", self.where):
            if create:
                self._col = client.get_or_create_collection(
                    name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None,
                    metadata=self._new_metadata(label))
            else:
                self._col = client.get_collection(name, embedding_function=None)
        self.check_embedder(embedder)

    def _new_metadata(self, label: str) -> dict[str, Any]:
        meta: dict[str, Any] = {"ragft_schema": SCHEMA, "ragft_embedding": self.embedder.model_id,
                                "ragft_kind": label, "ragft_created": _now()}
        dim = getattr(self.embedder, "dimensions", None)
        if dim:
            meta["ragft_dim"] = int(dim)
        return meta

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._col.metadata or {})

    @property
    def model_id(self) -> str:
        return str(self.metadata.get("ragft_embedding", ""))

    def check_embedder(self, embedder: Any) -> None:
        built = self.model_id
        if built != embedder.model_id:
            shown = built or "an unknown model"
            raise EmbeddingMismatch(f"This index was built with {shown}, not {embedder.model_id}; "
                                    f"re-index or switch the embedding model back to {shown}.")
        dim = self.metadata.get("ragft_dim")
        own = getattr(embedder, "dimensions", None)
        if dim and own and int(dim) != int(own):
            raise EmbeddingMismatch(f"This index holds {dim}-dimensional vectors but {embedder.model_id} makes "
                                    f"{own}; re-index or switch the embedding model back.")

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyCollection("The sample knowledge base is shared and read-only; upload your own files "
                                     "to your workspace instead.")

    # -- reading --------------------------------------------------------------------------------
    def count(self) -> int:
        with _guard("counting chunks", self.where):
            return int(self._col.count())

    def documents(self) -> list[DocumentInfo]:
        """Complete documents (those whose manifest is written), oldest first."""
        with _guard("listing documents", self.where):
            got = self._col.get(where={"position": 0}, include=["metadatas"])
        docs = [self._info(m) for m in got["metadatas"] or []]
        return sorted(docs, key=lambda d: (d.added_at, d.name))

    def _info(self, m: Mapping[str, Any]) -> DocumentInfo:
        return DocumentInfo(
            doc_id=str(m.get("doc_id", "")), name=str(m.get("source", "")), kind=str(m.get("kind", "")),
            pages=int(m.get("doc_pages", 0)), chunks=int(m.get("doc_chunks", 0)), tokens=int(m.get("doc_tokens", 0)),
            embed_tokens=int(m.get("doc_embed_tokens", 0)), embed_seconds=float(m.get("doc_embed_seconds", 0.0)),
            embed_cost=_decimal(m.get("doc_embed_cost")), chunk_tokens=int(m.get("doc_chunk_tokens", 0)),
            overlap=int(m.get("doc_overlap", 0)), size_bytes=int(m.get("doc_size_bytes", 0)),
            added_at=str(m.get("doc_added_at", "")), collection=self.label, embedding_model=self.model_id)

    def has_document(self, doc_id: str) -> bool:
        with _guard("looking up a document", self.where):
            got = self._col.get(where={"$and": [{"doc_id": doc_id}, {"position": 0}]}, include=[])
        return bool(got["ids"])

    def chunks(self, doc_id: str) -> list[Chunk]:
        """Every chunk of a document in order (the chunk inspector)."""
        with _guard("reading chunks", self.where):
            got = self._col.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        out = [self._chunk(cid, text, m) for cid, text, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(out, key=lambda c: c.position)

    @staticmethod
    def _chunk(cid: str, text: str, m: Mapping[str, Any]) -> Chunk:
        page = int(m.get("page", 0)) or None
        return Chunk(chunk_id=cid, doc_id=str(m.get("doc_id", "")), source=str(m.get("source", "")), page=page,
                     position=int(m.get("position", 0)), text=text or "", tokens=int(m.get("tokens", 0)),
                     content_hash=str(m.get("content_hash", "")), char_start=int(m.get("char_start", 0)),
                     char_end=int(m.get("char_end", 0)))

    # -- writing --------------------------------------------------------------------------------
    def max_batch(self) -> int:
        if self._max_batch is None:
            with _guard("asking the batch size", self.where):
                self._max_batch = int(self.client.get_max_batch_size())
        return self._max_batch

    def add_document(self, doc: LoadedDocument, chunks: Sequence[Chunk], vectors: np.ndarray, *,
                     chunk_tokens: int, overlap: int, embed_tokens: int, embed_seconds: float,
                     embed_cost: Decimal | None, on_batch: Callable[[int, int], None] | None = None) -> None:
        """Write one document; all or nothing (see the module docstring). ``on_batch(written, total)``."""
        self._check_writable()
        if not chunks:
            raise E.IndexError_(f"{doc.name}: no chunks to index.")
        if len(vectors) != len(chunks):
            raise E.IndexError_(f"{doc.name}: {len(vectors)} vectors for {len(chunks)} chunks.")
        self.check_embedder(self.embedder)
        dim = self.metadata.get("ragft_dim")
        if dim and vectors.shape[1] != int(dim):
            raise EmbeddingMismatch(f"This index holds {dim}-dimensional vectors, the model made "
                                    f"{vectors.shape[1]}; re-index or switch the embedding model back.")
        manifest = {
            "doc_pages": doc.page_count, "doc_chunks": len(chunks), "doc_tokens": sum(c.tokens for c in chunks),
            "doc_embed_tokens": int(embed_tokens), "doc_embed_seconds": round(float(embed_seconds), 4),
            "doc_embed_cost": "" if embed_cost is None else str(embed_cost), "doc_chunk_tokens": int(chunk_tokens),
            "doc_overlap": int(overlap), "doc_size_bytes": doc.size_bytes, "doc_added_at": _now(),
            "doc_warnings": len(doc.warnings),
        }
        metas = []
        for c in chunks:
            m: dict[str, Any] = {"doc_id": c.doc_id, "source": c.source, "page": c.page or 0, "position": c.position,
                                 "tokens": c.tokens, "content_hash": c.content_hash, "char_start": c.char_start,
                                 "char_end": c.char_end, "kind": doc.kind}
            if c.position == 0:
                m.update(manifest)
            metas.append(m)
        order = list(range(1, len(chunks))) + [0]  # the manifest goes in last
        size = self.max_batch()
        try:
            with _guard(f"storing {doc.name}", self.where):
                for i in range(0, len(order), size):
                    idx = order[i:i + size]
                    self._col.upsert(ids=[chunks[k].chunk_id for k in idx], embeddings=vectors[idx],
                                     documents=[chunks[k].text for k in idx], metadatas=[metas[k] for k in idx])
                    if on_batch:
                        on_batch(min(i + size, len(order)), len(order))
        except E.RagftError:
            self._discard(doc.doc_id)
            raise

    def _discard(self, doc_id: str) -> None:
        """Best effort removal of a document's partial chunks; remembered when the store is unreachable."""
        try:
            self._col.delete(where={"doc_id": doc_id})
            self._pending.discard(doc_id)
        except Exception:  # noqa: BLE001 - the store is gone: sweep later
            self._pending.add(doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document; returns how many chunks went."""
        self._check_writable()
        with _guard("deleting a document", self.where):
            ids = self._col.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._col.delete(ids=ids)
        return len(ids)

    def reset(self) -> int:
        """Remove every document (the collection itself stays, so open handles keep working)."""
        self._check_writable()
        removed = 0
        with _guard("resetting the workspace", self.where):
            while True:
                ids = self._col.get(include=[], limit=self.max_batch())["ids"]
                if not ids:
                    break
                self._col.delete(ids=ids)
                removed += len(ids)
        self._pending.clear()
        return removed

    def sweep(self) -> list[str]:
        """Delete chunks of documents without a manifest (a write cut short). Returns their doc ids."""
        if self.read_only:
            return []
        with _guard("checking the index", self.where):
            manifests = self._col.get(where={"position": 0}, include=["metadatas"])["metadatas"] or []
            expected = sum(int(m.get("doc_chunks", 0)) for m in manifests)
            if self._col.count() == expected and not self._pending:
                return []
            complete = {str(m.get("doc_id")) for m in manifests}
            got = self._col.get(include=["metadatas"])
            orphans = sorted({str(m.get("doc_id")) for m in got["metadatas"] or []} - complete)
            for doc_id in orphans:
                self._col.delete(where={"doc_id": doc_id})
        self._pending.clear()
        return orphans

    # -- searching ------------------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[RetrievedChunk]:
        exclude = set(self._pending)
        if exclude:
            cond = {"doc_id": {"$nin": sorted(exclude)}}
            where = {"$and": [where, cond]} if where else cond
        with _guard("searching", self.where):
            res = self._col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=int(k),
                                  where=where, include=["documents", "metadatas", "distances"])
        out = []
        for cid, text, m, d in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]):
            score = float(min(1.0, max(0.0, 1.0 - float(d))))
            meta = dict(m or {})
            meta.update(collection=self.label, distance=float(d))
            out.append(RetrievedChunk(text=text or "", source=str(meta.get("source", "")),
                                      page=int(meta.get("page", 0)) or None, score=score, chunk_id=cid,
                                      doc_id=str(meta.get("doc_id", "")), metadata=meta))
        return out


# ---- retrieval over several collections ----------------------------------------------------------
def _where(doc_filter: Iterable[str] | None, exclude: Iterable[str] | None) -> dict | None:
    conds = []
    if doc_filter is not None:
        conds.append({"doc_id": {"$in": sorted(set(doc_filter)) or ["-none-"]}})
    if exclude:
        conds.append({"doc_id": {"$nin": sorted(set(exclude))}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def retrieve(question: str, collections: Sequence[Index], *, k: int = 2, threshold: float = 0.0,
             doc_filter: Iterable[str] | None = None, exclude_doc_ids: Iterable[str] | None = None,
             embedder: Any = None) -> RetrievalResult:
    """Embed the question once, search every collection, merge by score, keep the best ``k`` over ``threshold``.

    ``doc_filter``: only these document ids. ``exclude_doc_ids``: never these (a sample document shadowed by a
    newer version in the workspace). The same text found in two collections is returned once.
    """
    question = (question or "").strip()
    cols = [c for c in collections if c is not None]
    embedder = embedder or (cols[0].embedder if cols else None)
    model = getattr(embedder, "model_id", "")
    if not question or not cols or k < 1:
        return RetrievalResult(question, [], 0.0, 0.0, embedding_model=model)
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
    kept: list[RetrievedChunk] = []
    below = 0
    for ch in found:
        key = str(ch.metadata.get("content_hash") or ch.chunk_id)
        if key in seen:
            continue
        seen.add(key)
        if ch.score < threshold:
            below += 1
            continue
        if len(kept) < k:
            kept.append(ch)
    try:
        q_tokens = int(embedder.count_tokens([question]))
    except Exception:  # noqa: BLE001
        q_tokens = 0
    return RetrievalResult(question, kept, embed_s, search_s, query_tokens=q_tokens, candidates=len(found),
                           below_threshold=below, collections=tuple(c.label for c in cols), embedding_model=model)


# ---- the sample collection -----------------------------------------------------------------------
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
            pass
    return sorted(p for p in scenario_dir.iterdir() if p.suffix.lower() in (".pdf", ".md") and p.is_file())


def ensure_sample_collection(client: Any, embedder: Any, scenario_dir: Path, *, chunk_tokens: int = 200,
                             overlap: int = 30, limits: Limits = Limits()) -> SampleStatus:
    """(Re)index the scenario into the shared ``sample`` collection when missing or when its files changed.

    Incremental: documents whose bytes did not change stay; removed or changed files are replaced. A change
    of chunk size/overlap re-indexes everything.
    """
    t0 = time.perf_counter()
    files = scenario_files(Path(scenario_dir))
    blobs = {p.name: p.read_bytes() for p in files}
    fingerprint = hashlib.sha256(json.dumps({
        "files": sorted((n, document_id(b)) for n, b in blobs.items()), "chunk_tokens": chunk_tokens,
        "overlap": overlap, "model": embedder.model_id, "schema": SCHEMA}).encode()).hexdigest()[:32]
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
            report = _ingest_one(index, fname, data, chunk_tokens=chunk_tokens, overlap=overlap, limits=limits,
                                 password=None, progress=None, others=())
            if not report.ok:
                errors.append(report.message)
        meta = {k: v for k, v in index.metadata.items() if not k.startswith("hnsw:")}
        meta["ragft_fingerprint"] = fingerprint if not errors else ""
        with _guard("marking the sample up to date", index.where):
            index._col.modify(metadata=meta)
        return SampleStatus(name, tuple(d.name for d in index.documents()), True, time.perf_counter() - t0,
                            tuple(errors))


def open_sample(client: Any, embedder: Any) -> Index | None:
    """The shared sample collection, read-only, or None when it was never built for this embedder."""
    try:
        return Index(client, sample_collection_name(embedder.model_id), embedder, label=SAMPLE, read_only=True,
                     create=False)
    except EmbeddingMismatch:
        raise
    except E.IndexError_:
        return None


# ---- ingest -------------------------------------------------------------------------------------
def _ingest_one(index: Index, name: str, data: bytes, *, chunk_tokens: int, overlap: int, limits: Limits,
                password: str | None, progress: Progress | None, others: Sequence[Index],
                price_overrides: Mapping[str, Any] | None = None,
                before_embed: Callable[[str, int], None] | None = None) -> FileReport:
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
        for idx in (index, *others):
            if idx is not None and data and idx.has_document(doc_id):
                same = next((d for d in idx.documents() if d.doc_id == doc_id), None)
                where = "the shared sample" if idx.label == SAMPLE else "your workspace"
                shown = f" as {same.name}" if same and same.name != name else ""
                report.status, report.message = "duplicate", f"{name}: already in {where}{shown}; nothing added."
                step("done", 1, 1)
                return report
        doc = load_document(name, data, limits=limits, password=password,
                            on_page=lambda d, t: step("reading", d, t))
        report.kind, report.pages, report.warnings = doc.kind, doc.page_count, list(doc.warnings)
        step("chunking", 0, 1)
        chunks = chunk_pages(doc.pages, doc_id=doc.doc_id, source=doc.name, chunk_tokens=chunk_tokens,
                             overlap=overlap)
        report.chunks, report.tokens = len(chunks), sum(c.tokens for c in chunks)
        step("chunking", 1, 1)
        texts = [c.text for c in chunks]
        if getattr(embedder, "provider", "") == "local":  # the local model truncates at its window: say so
            counts = [int(embedder.count_tokens([t])) for t in texts]
            report.embed_tokens = sum(counts)
            window = int(getattr(embedder, "max_tokens", 0) or LOCAL_WINDOW)
            long = sum(1 for n in counts if n >= window)
            if long:
                report.warnings.append(f"{name}: {long} chunk(s) are longer than the embedding model's {window}-token "
                                       "window and were embedded from their beginning only; use smaller chunks.")
        else:
            report.embed_tokens = int(embedder.count_tokens(texts))
        if before_embed is not None:  # e.g. the budget: may refuse the file before any paid call
            before_embed(name, report.embed_tokens)
        step("embedding", 0, len(texts))
        te = time.perf_counter()
        vectors = embed_texts(embedder, texts, on_batch=lambda d, t: step("embedding", d, t))
        report.embed_seconds = time.perf_counter() - te
        report.embed_cost = _embedding_cost(report.embed_tokens, embedder, price_overrides)
        step("storing", 0, len(chunks))
        index.add_document(doc, chunks, vectors, chunk_tokens=chunk_tokens, overlap=overlap,
                           embed_tokens=report.embed_tokens, embed_seconds=report.embed_seconds,
                           embed_cost=report.embed_cost, on_batch=lambda d, t: step("storing", d, t))
        # a new version of a file already in the workspace replaces it
        for old in index.documents():
            if old.name == doc.name and old.doc_id != doc.doc_id:
                index.delete_document(old.doc_id)
                report.replaced.append(old.doc_id)
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
        report.status, report.error_type = "error", type(exc).__name__
        report.message = f"{name}: unexpected error ({type(exc).__name__}: {short_message(exc)}); nothing indexed."
        step("error", 1, 1)
    finally:
        report.seconds = time.perf_counter() - t0
    return report


# ---- the knowledge base of one session -----------------------------------------------------------
class KnowledgeBase:
    """A session's workspace collection plus, read-only, the shared sample."""

    def __init__(self, client: Any, embedder: Any, workspace_id: str, *, include_sample: bool = True,
                 limits: Limits = Limits(), price_overrides: Mapping[str, Any] | None = None) -> None:
        self.client = client
        self.embedder = embedder
        self.workspace_id = workspace_id
        self.limits = limits
        self.price_overrides = price_overrides
        self.where = describe_client(client)
        self.workspace = Index(client, workspace_collection_name(workspace_id, embedder.model_id), embedder,
                               label="workspace", where=self.where)
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

    def ingest_files(self, files: Sequence[tuple[str, bytes]], *, chunk_tokens: int = 200, overlap: int = 30,
                     password: str | Mapping[str, str] | None = None, progress: Progress | None = None,
                     before_embed: Callable[[str, int], None] | None = None) -> list[FileReport]:
        return ingest_files(self, files, chunk_tokens=chunk_tokens, overlap=overlap, password=password,
                            progress=progress, before_embed=before_embed)

    def retrieve(self, question: str, *, k: int = 2, threshold: float = 0.0, include_sample: bool = True,
                 doc_filter: Iterable[str] | None = None,
                 exclude_doc_ids: Iterable[str] | None = None) -> RetrievalResult:
        cols = [self.workspace] + ([self.sample] if include_sample and self.sample else [])
        exclude = set(exclude_doc_ids or ())
        if include_sample and self.sample:
            exclude |= {d.doc_id for d in self.shadowed_sample_docs()}
        return retrieve(question, cols, k=k, threshold=threshold, doc_filter=doc_filter, exclude_doc_ids=exclude,
                        embedder=self.embedder)

    def as_retriever(self, *, k: int = 2, threshold: float = 0.0, include_sample: bool = True,
                     doc_filter: Iterable[str] | None = None) -> Callable[[str], Any]:
        """A ``question -> ragft.answering.compare.Retrieval`` callable for the Compare page (errors become ``error``)."""
        from ragft.answering.compare import Retrieval

        def run(question: str) -> Any:
            try:
                r = self.retrieve(question, k=k, threshold=threshold, include_sample=include_sample,
                                  doc_filter=doc_filter)
            except E.RagftError as exc:
                return Retrieval(error=exc.message)
            label = "+".join(r.collections)
            return Retrieval(chunks=tuple(r.chunks), embed_s=r.embed_s, search_s=r.search_s, collection=label)

        return run


def ingest_files(kb: KnowledgeBase, files: Sequence[tuple[str, bytes]], *, chunk_tokens: int = 200,
                 overlap: int = 30, password: str | Mapping[str, str] | None = None,
                 progress: Progress | None = None,
                 before_embed: Callable[[str, int], None] | None = None) -> list[FileReport]:
    """Index several files into the workspace; one report per file, in order. Never raises for a file.

    ``password``: one for all files or ``{file name: password}``. ``progress(file, stage, done, total)``.
    ``before_embed(file, embedding tokens)`` runs before a file is embedded and may raise a RagftError (a
    budget refusal) to skip that file.
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
            digest = ""  # reported as the error it is by _ingest_one, never as a duplicate
        if digest and digest in seen:
            reports.append(FileReport(name=name, status="duplicate", doc_id=digest,
                                      message=f"{name}: same content as {seen[digest]} in this upload; added once."))
            continue
        others = [kb.sample] if kb.sample is not None else []
        report = _ingest_one(kb.workspace, name, data, chunk_tokens=chunk_tokens, overlap=overlap, limits=kb.limits,
                             password=pw, progress=progress, others=others, price_overrides=kb.price_overrides,
                             before_embed=before_embed)
        if digest and report.status in ("ok", "duplicate"):
            seen[digest] = name
        reports.append(report)
    return reports
