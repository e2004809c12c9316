"""A ranked list of retrieved chunks: score, file, page, collection, and the exact text the model sees.

Used by the Knowledge base playground and the Compare page's RAG panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from components.shared.safe_text import inline
from ragft.knowledge.retrieved import RetrievedChunk

_COLLECTION_LABEL = {"sample": "shared sample", "workspace": "your workspace"}


def collection_label(c: RetrievedChunk) -> str:
    col = str(c.metadata.get("collection", "")) if c.metadata else ""
    return _COLLECTION_LABEL.get(col, col)


def where_from(c: RetrievedChunk) -> str:
    """``good.pdf p.2 · your workspace``: the citation exactly as the prompt shows it, then the collection."""
    col = collection_label(c)
    return f"{c.citation or 'unknown file'}" + (f" · {col}" if col else "")


def code_span_text(text: str) -> str:
    """Text for one Markdown code span (shown literally): no backticks, one line."""
    return " ".join(str(text or "").replace("`", "'").split()) or "unknown file"


def sources_rows(chunks: Sequence[RetrievedChunk]) -> list[dict[str, Any]]:
    """One row per chunk, for a compact table or an export."""
    rows = []
    for rank, c in enumerate(chunks, 1):
        meta = c.metadata or {}
        rows.append(
            {
                "rank": rank,
                "score": round(float(c.score), 4),
                "file": c.source,
                "page": c.page,
                "where": str(meta.get("location") or (f"p.{c.page}" if c.page else "")),
                "OCR": bool(meta.get("ocr", False)),
                "collection": collection_label(c),
                "tokens": meta.get("tokens"),
                "text": c.text,
            }
        )
    return rows


def render_sources(
    chunks: Sequence[RetrievedChunk],
    *,
    empty: str = "No chunk came back.",
    max_chars: int | None = None,
    compact: bool = False,
) -> None:
    """Ranked chunks, best first. ``compact`` shows a table; otherwise one card per chunk with its exact text.

    ``max_chars`` shortens long texts (the full text stays one click away in an expander).
    """
    if not chunks:
        st.info(empty, icon=":material/search_off:")
        return
    if compact:
        st.dataframe(
            sources_rows(chunks),
            hide_index=True,
            width="stretch",
            column_config={
                "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.3f"),
                "text": st.column_config.TextColumn("text", width="large"),
            },
        )
        return
    for rank, c in enumerate(chunks, 1):
        with st.container(border=True):
            head, bar = st.columns([3, 1], vertical_alignment="center")
            col = collection_label(c)
            head.markdown(
                f"**#{rank}** &nbsp; score **{c.score:.3f}** &nbsp; · &nbsp; `{code_span_text(c.citation)}`"
                + (f" &nbsp; · &nbsp; {inline(col)}" if col else "")
                + (" &nbsp; · &nbsp; :orange-badge[OCR]" if (c.metadata or {}).get("ocr") else "")
            )
            bar.progress(min(1.0, max(0.0, float(c.score))))
            text = c.text
            if max_chars and len(text) > max_chars:
                st.text(text[:max_chars].rstrip() + " …")
                with st.expander("Full text"):
                    st.text(text)
            else:
                st.text(text)
