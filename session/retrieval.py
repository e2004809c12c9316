"""This session's knowledge base as a retriever for Compare and Evaluate.

``session_retriever(settings)`` returns ``(retriever, description)``. The knowledge base is opened here, in the
script thread (it needs the session's workspace and cached clients); the retriever is a plain
``question -> ragft.knowledge.retrieval.Retrieval`` callable that touches no Streamlit state, so it runs in the
comparison's worker thread. It searches this session's workspace and the shared sample (a sample document
replaced by a newer upload of the same name is hidden), with the session's top-k and score threshold.

A knowledge base that cannot be opened (Chroma unreachable, a bug) gives a retriever that raises that error,
so the RAG panels show it; nothing else answers in its place.
"""

from __future__ import annotations

import logging

from ragft import errors as E
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.retrieval import Retrieval, Retriever
from ragft.settings import Settings
from session.workspace import knowledge_base

logger = logging.getLogger(__name__)


def describe(kb: KnowledgeBase, s: Settings) -> str:
    """One line: which documents answer, with top-k, threshold and embedding model."""
    mine = kb.workspace.documents()
    sample = kb.sample.documents() if kb.sample is not None else []
    hidden = {d.doc_id for d in kb.shadowed_sample_docs()}
    parts = []
    if mine:
        parts.append(f"your workspace ({len(mine)} document{'s' if len(mine) != 1 else ''})")
    shown = [d for d in sample if d.doc_id not in hidden]
    if shown:
        parts.append(f"sample scenario ({len(shown)} document{'s' if len(shown) != 1 else ''})")
    if hidden:
        parts.append(f"{len(hidden)} sample document(s) replaced by your upload")
    what = " + ".join(parts) if parts else "an empty knowledge base"
    return f"{what} · top-k {s.top_k} · threshold {s.score_threshold:.2f} · {kb.embedder.model_id}"


def _failing(exc: Exception) -> Retriever:
    def retrieve(_question: str) -> Retrieval:
        raise exc

    return retrieve


def session_retriever(s: Settings) -> tuple[Retriever, str]:
    """(retriever, description) of this session's knowledge base; an unreachable one is its error."""
    try:
        kb = knowledge_base(s)
        desc = describe(kb, s)
    except E.RagftError as exc:
        logger.warning("the knowledge base cannot be opened: %s", exc.message)
        return _failing(exc), f"knowledge base unavailable: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - a bug: shown in the RAG panels and logged, never a silent stand-in
        logger.exception("opening the knowledge base failed unexpectedly")
        return _failing(exc), f"knowledge base unavailable: {type(exc).__name__}: {exc}"
    return kb.as_retriever(k=s.top_k, threshold=s.score_threshold), desc
