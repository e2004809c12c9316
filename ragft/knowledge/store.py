"""The vector store: the Chroma client, one collection per :class:`Index`, and the store's typed errors.

- ``make_client(settings)``: embedded ``PersistentClient`` under ``settings.data_dir / "chroma"`` by default,
  ``HttpClient`` when ``settings.chroma_host`` is set. Everything else takes a ``ClientAPI`` and an ``Embedder``.
- Vectors are computed by our :class:`~ragft.models.embeddings.Embedder` and handed to Chroma explicitly; collections
  have no Chroma embedding function (its default would download a model). Cosine space; a result's score is
  the cosine similarity clipped to [0, 1].
- The embedder's ``model_id`` and dimension are recorded on the collection: opening, adding to or querying it
  with another model raises :class:`EmbeddingMismatch`.
- A document is its chunks plus a manifest: chunk 0 carries the document's figures and is written last, so a
  write cut short (the server going away) leaves chunks without a manifest, which are deleted at once or, if
  the server is gone, swept on the next open; they are excluded from retrieval meanwhile.
- Storing a document and sweeping cannot race: both take the collection's lock (one per collection name in the
  app process, shared by every session, so two tabs of one workspace share it). A sweep that finds a document
  being stored skips this time (the page never waits for another tab's upload) and runs on a later page build.
  Across replicas of the app (one Chroma server, a PostgreSQL class database) an :class:`Index` given the class
  database (``turns``) also takes a class-wide turn per collection (:meth:`ClassStore.turn`): storing holds it
  shared (uploads never wait for each other), a sweep tries it exclusively and skips while any replica stores.
  On SQLite (one host) that turn is always granted and the process lock is the whole rule: run one app process
  per Chroma server there.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

from ragft import errors as E
from ragft.knowledge.chunking import Chunk
from ragft.knowledge.documents import LoadedDocument
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models.embeddings import Embedder
from ragft.settings import Settings
from ragft.store.db import ClassStore, lock_key

if TYPE_CHECKING:  # chromadb loads lazily (make_client): its import costs seconds
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

logger = logging.getLogger(__name__)

SCHEMA = 1
EMBED_BATCH = 64

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def collection_lock(name: str) -> threading.RLock:
    """The process-wide lock of one collection: held while a document is stored and while sweeping."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.RLock())


# ---- errors -------------------------------------------------------------------------------------
class EmbeddingMismatch(E.IndexError_):
    """The collection was built with another embedding model (or dimension)."""


class ReadOnlyCollection(E.IndexError_):
    """A write to the shared sample collection."""


class IndexUnavailable(E.IndexError_):
    """Chroma failed or cannot be reached."""


class CollectionMissing(E.IndexError_):
    """The collection asked for (with ``create=False``) does not exist."""


# ---- client -------------------------------------------------------------------------------------
def make_client(settings: Settings) -> ClientAPI:
    """The Chroma client the settings ask for (telemetry off: nothing leaves the machine)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=int(settings.chroma_port), settings=chroma_settings
            )
        except Exception as exc:
            raise IndexUnavailable(
                f"The Chroma server at {where} is unreachable ({E.short_message(exc)}); "
                "start it or unset CHROMA_HOST to use the embedded store."
            ) from exc
    path = Path(settings.data_dir) / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexUnavailable(
            f"Cannot open the vector store in {path} ({E.short_message(exc)}); "
            "check RAGFT_DATA_DIR and its permissions."
        ) from exc


def describe_client(client: ClientAPI) -> str:
    """Which store, in words a participant may read ("the Chroma server" or "the embedded vector store").

    Never a host, port or folder: messages reach participants' pages; where the data lives goes to the server log.
    """
    try:
        s = client.get_settings()
        if s.chroma_server_host:
            logger.debug("vector store: Chroma server %s:%s", s.chroma_server_host, s.chroma_server_http_port)
            return "the Chroma server"
        logger.debug("vector store: embedded Chroma in %s", s.persist_directory)
        return "the embedded vector store"
    except Exception:  # noqa: BLE001 - an unknown client kind: a generic name is enough for a message
        return "the vector store"


def _translate(exc: BaseException, action: str, where: str) -> E.RagftError:
    if isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError)):
        return IndexUnavailable(
            f"The vector index ({where}) cannot be reached while {action} ({E.short_message(exc)}); "
            "start the Chroma server again or unset CHROMA_HOST."
        )
    if "dimension" in str(exc).lower():
        return EmbeddingMismatch(
            f"The vector index refused the vectors while {action} ({E.short_message(exc)}): "
            "it was built with another embedding model; re-index or switch the model back."
        )
    return IndexUnavailable(f"The vector index ({where}) failed while {action} ({E.short_message(exc)}).")


@contextlib.contextmanager
def guard(action: str, where: str) -> Iterator[None]:
    """Turn any store failure inside the block into IndexUnavailable / EmbeddingMismatch."""
    try:
        yield
    except E.RagftError:
        raise
    except Exception as exc:  # chromadb and httpx raise many types
        logger.warning("vector store failed while %s", action, exc_info=exc)
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _meta_int(value: object) -> int:
    """A count kept in chunk metadata (0 when it is missing or not a number)."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    on_batch: Callable[[int, int], None] | None = None,
    batch: int = EMBED_BATCH,
) -> np.ndarray:
    """Vectors for ``texts`` in batches (progress after each); checks the shape the model returned."""
    parts: list[np.ndarray] = []
    for i in range(0, len(texts), batch):
        chunk = list(texts[i : i + batch])
        arr = np.asarray(embedder.embed(chunk), dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(chunk) or not np.isfinite(arr).all():
            raise E.ModelError(
                f"The embedding model {embedder.model_id} returned malformed vectors "
                f"({arr.shape} for {len(chunk)} texts)."
            )
        parts.append(arr)
        if on_batch:
            on_batch(min(i + batch, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dimensions or 0), dtype=np.float32)
    return np.concatenate(parts)


# ---- one collection ------------------------------------------------------------------------------
class Index:
    """One Chroma collection bound to one embedder. ``read_only`` refuses every write (the shared sample)."""

    def __init__(
        self,
        client: ClientAPI,
        name: str,
        embedder: Embedder,
        *,
        label: str = "workspace",
        read_only: bool = False,
        create: bool = True,
        where: str | None = None,
        turns: ClassStore | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.turns = turns  # the class database whose turns exclude a sweep while another replica stores
        self.embedder = embedder
        self.label = label
        self.read_only = read_only
        self.where = where or describe_client(client)
        self._pending: set[str] = set()  # doc ids whose partial chunks could not be deleted yet
        self._max_batch: int | None = None
        with guard("opening the index", self.where):
            if create:
                self._col = client.get_or_create_collection(
                    name,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                    metadata=self._new_metadata(label),
                )
            else:
                self._col = self._existing(client, name)
        self.check_embedder(embedder)

    @staticmethod
    def _existing(client: ClientAPI, name: str) -> Collection:
        from chromadb.errors import NotFoundError

        try:
            return client.get_collection(name, embedding_function=None)
        except NotFoundError as exc:
            raise CollectionMissing(f"The collection {name} does not exist.") from exc

    def _new_metadata(self, label: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "ragft_schema": SCHEMA,
            "ragft_embedding": self.embedder.model_id,
            "ragft_kind": label,
            "ragft_created": _now(),
        }
        dim = self.embedder.dimensions
        if dim:
            meta["ragft_dim"] = int(dim)
        return meta

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._col.metadata or {})

    def update_metadata(self, values: Mapping[str, Any]) -> None:
        """Set collection metadata keys (e.g. the sample's fingerprint), keeping the others."""
        meta = {k: v for k, v in self.metadata.items() if not k.startswith("hnsw:")}
        meta.update(values)
        with guard("updating the collection's metadata", self.where):
            self._col.modify(metadata=meta)

    @property
    def model_id(self) -> str:
        return str(self.metadata.get("ragft_embedding", ""))

    def check_embedder(self, embedder: Embedder) -> None:
        built = self.model_id
        if built != embedder.model_id:
            shown = built or "an unknown model"
            raise EmbeddingMismatch(
                f"This index was built with {shown}, not {embedder.model_id}; "
                f"re-index or switch the embedding model back to {shown}."
            )
        dim = self.metadata.get("ragft_dim")
        own = embedder.dimensions
        if dim and own and int(dim) != int(own):
            raise EmbeddingMismatch(
                f"This index holds {dim}-dimensional vectors but {embedder.model_id} makes "
                f"{own}; re-index or switch the embedding model back."
            )

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyCollection(
                "The sample knowledge base is shared and read-only; upload your own files to your workspace instead."
            )

    # -- reading --------------------------------------------------------------------------------
    def count(self) -> int:
        with guard("counting chunks", self.where):
            return int(self._col.count())

    def documents(self) -> list[DocumentInfo]:
        """Complete documents (those whose manifest is written), oldest first."""
        with guard("listing documents", self.where):
            got = self._col.get(where={"position": 0}, include=["metadatas"])
        docs = [self._info(m) for m in got["metadatas"] or []]
        return sorted(docs, key=lambda d: (d.added_at, d.name))

    def _info(self, m: Mapping[str, Any]) -> DocumentInfo:
        return DocumentInfo(
            doc_id=str(m.get("doc_id", "")),
            name=str(m.get("source", "")),
            kind=str(m.get("kind", "")),
            pages=int(m.get("doc_pages", 0)),
            chunks=int(m.get("doc_chunks", 0)),
            tokens=int(m.get("doc_tokens", 0)),
            embed_tokens=int(m.get("doc_embed_tokens", 0)),
            embed_seconds=float(m.get("doc_embed_seconds", 0.0)),
            embed_cost=_decimal(m.get("doc_embed_cost")),
            chunk_tokens=int(m.get("doc_chunk_tokens", 0)),
            overlap=int(m.get("doc_overlap", 0)),
            size_bytes=int(m.get("doc_size_bytes", 0)),
            added_at=str(m.get("doc_added_at", "")),
            collection=self.label,
            embedding_model=self.model_id,
        )

    def has_document(self, doc_id: str) -> bool:
        with guard("looking up a document", self.where):
            got = self._col.get(where={"$and": [{"doc_id": doc_id}, {"position": 0}]}, include=[])
        return bool(got["ids"])

    def chunks(self, doc_id: str) -> list[Chunk]:
        """Every chunk of a document in order (the chunk inspector)."""
        with guard("reading chunks", self.where):
            got = self._col.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        out = [
            self._chunk(cid, text, m)
            for cid, text, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]
        return sorted(out, key=lambda c: c.position)

    @staticmethod
    def _chunk(cid: str, text: str, m: Mapping[str, Any]) -> Chunk:
        page = int(m.get("page", 0)) or None
        return Chunk(
            chunk_id=cid,
            doc_id=str(m.get("doc_id", "")),
            source=str(m.get("source", "")),
            page=page,
            position=int(m.get("position", 0)),
            text=text or "",
            tokens=int(m.get("tokens", 0)),
            content_hash=str(m.get("content_hash", "")),
            char_start=int(m.get("char_start", 0)),
            char_end=int(m.get("char_end", 0)),
            location=str(m.get("location", "")),
            ocr=bool(m.get("ocr", False)),
        )

    # -- writing --------------------------------------------------------------------------------
    def max_batch(self) -> int:
        if self._max_batch is None:
            with guard("asking the batch size", self.where):
                self._max_batch = int(self.client.get_max_batch_size())
        return self._max_batch

    def add_document(
        self,
        doc: LoadedDocument,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        chunk_tokens: int,
        overlap: int,
        embed_tokens: int,
        embed_seconds: float,
        embed_cost: Decimal | None,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> None:
        """Write one document; all or nothing (see the module docstring). ``on_batch(written, total)``."""
        self._check_writable()
        if not chunks:
            raise E.IndexError_(f"{doc.name}: no chunks to index.")
        if len(vectors) != len(chunks):
            raise E.IndexError_(f"{doc.name}: {len(vectors)} vectors for {len(chunks)} chunks.")
        self.check_embedder(self.embedder)
        dim = self.metadata.get("ragft_dim")
        if dim and vectors.shape[1] != int(dim):
            raise EmbeddingMismatch(
                f"This index holds {dim}-dimensional vectors, the model made "
                f"{vectors.shape[1]}; re-index or switch the embedding model back."
            )
        manifest = {
            "doc_pages": doc.page_count,
            "doc_chunks": len(chunks),
            "doc_tokens": sum(c.tokens for c in chunks),
            "doc_embed_tokens": int(embed_tokens),
            "doc_embed_seconds": round(float(embed_seconds), 4),
            "doc_embed_cost": "" if embed_cost is None else str(embed_cost),
            "doc_chunk_tokens": int(chunk_tokens),
            "doc_overlap": int(overlap),
            "doc_size_bytes": doc.size_bytes,
            "doc_added_at": _now(),
            "doc_warnings": len(doc.warnings),
        }
        metas = []
        for c in chunks:
            m: dict[str, Any] = {
                "doc_id": c.doc_id,
                "source": c.source,
                "page": c.page or 0,
                "position": c.position,
                "tokens": c.tokens,
                "content_hash": c.content_hash,
                "char_start": c.char_start,
                "char_end": c.char_end,
                "kind": doc.kind,
                "location": c.location,
                "ocr": c.ocr,
            }
            if c.position == 0:
                m.update(manifest)
            metas.append(m)
        order = list(range(1, len(chunks))) + [0]  # the manifest goes in last
        size = self.max_batch()
        try:
            with (
                collection_lock(self.name),
                self._turn(shared=True, wait=True),
                guard(f"storing {doc.name}", self.where),
            ):
                for i in range(0, len(order), size):
                    idx = order[i : i + size]
                    self._col.upsert(
                        ids=[chunks[k].chunk_id for k in idx],
                        embeddings=vectors[idx],
                        documents=[chunks[k].text for k in idx],
                        metadatas=[metas[k] for k in idx],
                    )
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
            logger.warning(
                "could not delete the partial chunks of %s in %s; swept on the next open", doc_id, self.where
            )
            self._pending.add(doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document; returns how many chunks went."""
        self._check_writable()
        with guard("deleting a document", self.where):
            ids = self._col.get(where={"doc_id": doc_id}, include=[])["ids"]
            if ids:
                self._col.delete(ids=ids)
        return len(ids)

    def reset(self) -> int:
        """Remove every document (the collection itself stays, so open handles keep working)."""
        self._check_writable()
        removed = 0
        with guard("resetting the workspace", self.where):
            while True:
                ids = self._col.get(include=[], limit=self.max_batch())["ids"]
                if not ids:
                    break
                self._col.delete(ids=ids)
                removed += len(ids)
        self._pending.clear()
        return removed

    def sweep(self) -> list[str]:
        """Delete chunks of documents without a manifest (a write cut short). Returns their doc ids. Skipped
        (returns []) while a document is being stored into this collection, by this or another session."""
        if self.read_only:
            return []
        lock = collection_lock(self.name)
        if not lock.acquire(blocking=False):
            return []
        try:
            with self._turn(shared=False, wait=False) as mine:
                if not mine:
                    logger.debug("sweep of %s skipped: another replica is storing into it", self.name)
                    return []
                return self._sweep()
        finally:
            lock.release()

    def _turn(self, *, shared: bool, wait: bool) -> contextlib.AbstractContextManager[bool]:
        """This collection's class-wide turn (always granted without a class database, or on SQLite)."""
        if self.turns is None:
            return contextlib.nullcontext(True)
        return self.turns.turn(lock_key(self.name), shared=shared, wait=wait)

    def _sweep(self) -> list[str]:
        with guard("checking the index", self.where):
            manifests = self._col.get(where={"position": 0}, include=["metadatas"])["metadatas"] or []
            expected = sum(_meta_int(m.get("doc_chunks")) for m in manifests)
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
        with guard("searching", self.where):
            res = self._col.query(
                query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
                n_results=int(k),
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        out = []
        texts, metas, distances = (
            (res["documents"] or [[]])[0],
            (res["metadatas"] or [[]])[0],
            (res["distances"] or [[]])[0],
        )
        for cid, text, m, d in zip(res["ids"][0], texts, metas, distances, strict=True):
            score = float(min(1.0, max(0.0, 1.0 - float(d))))
            meta = dict(m or {})
            meta.update(collection=self.label, distance=float(d))
            out.append(
                RetrievedChunk(
                    text=text or "",
                    source=str(meta.get("source", "")),
                    page=_meta_int(meta.get("page")) or None,
                    score=score,
                    chunk_id=cid,
                    doc_id=str(meta.get("doc_id", "")),
                    metadata=meta,
                )
            )
        return out
