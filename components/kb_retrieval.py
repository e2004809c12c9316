"""The knowledge base's retrieval for the Compare page (``components.compare_view`` looks for this module).

``compare_retriever(settings)`` returns ``(retriever, description)``: the retriever is a plain
``question -> ragft.answering.compare.Retrieval`` callable that touches no Streamlit state, so it can run in the compare
worker thread. It searches this session's workspace and the shared sample (a sample document replaced by a
newer upload of the same name is hidden), with the session's top-k and score threshold.
"""

from __future__ import annotations

from typing import Any, Callable

from components.workspace import knowledge_base
from ragft.settings import Settings


def compare_retriever(s: Settings) -> tuple[Callable[[str], Any], str]:
    kb = knowledge_base(s)
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
    desc = f"{what} · top-k {s.top_k} · threshold {s.score_threshold:.2f} · {kb.embedder.model_id}"
    return kb.as_retriever(k=s.top_k, threshold=s.score_threshold), desc
