"""A ranked list of retrieved chunks: score, file, page, collection, and the exact text the model sees.

Used by the Knowledge base playground and the Compare page's RAG panels.
"""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from ragft.rag import RetrievedChunk

_COLLECTION_LABEL = {"sample": "shared sample", "workspace": "your workspace"}


def where_from(c: RetrievedChunk) -> str:
    """``good.pdf · p. 2 · your workspace``"""
    parts = [c.source or "unknown file"]
    if c.page:
        parts.append(f"p. {c.page}")
    col = str(c.metadata.get("collection", "")) if c.metadata else ""
    if col:
        parts.append(_COLLECTION_LABEL.get(col, col))
    return " · ".join(parts)


def sources_rows(chunks: Sequence[RetrievedChunk]) -> list[dict[str, Any]]:
    """One row per chunk, for a compact table or an export."""
    rows = []
    for rank, c in enumerate(chunks, 1):
        meta = c.metadata or {}
        rows.append({"rank": rank, "score": round(float(c.score), 4), "file": c.source, "page": c.page,
                     "collection": _COLLECTION_LABEL.get(str(meta.get("collection", "")), meta.get("collection", "")),
                     "tokens": meta.get("tokens"), "text": c.text})
    return rows


def render_sources(chunks: Sequence[RetrievedChunk], *, empty: str = "No chunk came back.",
                   max_chars: int | None = None, compact: bool = False) -> None:
    """Ranked chunks, best first. ``compact`` shows a table; otherwise one card per chunk with its exact text.

    ``max_chars`` shortens long texts (the full text stays one click away in an expander).
    """
    if not chunks:
        st.info(empty, icon=":material/search_off:")
        return
    if compact:
        st.dataframe(sources_rows(chunks), hide_index=True, width="stretch",
                     column_config={"score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0,
                                                                             format="%.3f"),
                                    "text": st.column_config.TextColumn("text", width="large")})
        return
    for rank, c in enumerate(chunks, 1):
        with st.container(border=True):
            head, bar = st.columns([3, 1], vertical_alignment="center")
            head.markdown(f"**#{rank}** &nbsp; score **{c.score:.3f}** &nbsp; · &nbsp; {_md_escape(where_from(c))}")
            bar.progress(min(1.0, max(0.0, float(c.score))))
            text = c.text
            if max_chars and len(text) > max_chars:
                st.text(text[:max_chars].rstrip() + " …")
                with st.expander("Full text"):
                    st.text(text)
            else:
                st.text(text)


def _md_escape(text: str) -> str:
    for ch in "\\`*_{}[]()#+-.!|<>":
        text = text.replace(ch, "\\" + ch)
    return text
