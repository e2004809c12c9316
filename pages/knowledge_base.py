"""Knowledge base: upload documents, build the RAG index, look inside it, try retrieval."""

from __future__ import annotations

import streamlit as st

from components.knowledge.freshness import render_freshness_demo
from components.knowledge.uploader import render_uploader
from components.knowledge.workspace_panel import render_workspace_panel
from components.shared.safe_text import inline
from components.shared.shell import page_shell
from components.shared.sources import render_sources
from ragft import errors as E
from ragft.costs.money import format_usd
from ragft.knowledge.search import MAX_QUERY_CHARS, search
from ragft.knowledge.store import DocumentInfo
from ragft.settings import EmbeddingConfig, bound, slider_range
from session import config, keys, prices, spend
from session.workspace import current_workspace, knowledge_base, pop_notice

page_shell(__file__)

st.title("Knowledge base")
st.caption(
    "Upload your own documents next to the shared sample scenario. They are split into chunks, embedded and "
    "stored in a vector index; look inside it and try retrieval before asking a model anything."
)

s = config.settings_or_stop()

ws = current_workspace()
CHUNK_MIN, CHUNK_MAX = slider_range("chunk_tokens")
st.session_state.setdefault("kb_chunk_tokens", min(CHUNK_MAX, max(CHUNK_MIN, int(s.chunk_tokens) // 10 * 10)))
st.session_state.setdefault("kb_overlap", int(s.chunk_overlap))
st.session_state.setdefault("kb_confirm_reset", False)
st.session_state.setdefault("kb_result", None)
if notice := pop_notice():
    st.warning(notice, icon=":material/warning:")


# ---- indexing settings ------------------------------------------------------------------------------------
def _embedding_label(cfg: EmbeddingConfig) -> str:
    if cfg.provider == "local":
        return f"{cfg.model} (local, offline, free)"
    return f"{cfg.model} ({cfg.provider}, paid per token)"


options: list[EmbeddingConfig] = [EmbeddingConfig()]
for cfg in (config.default_settings().embedding, s.embedding):  # the server's without its key (attached at call time)
    if cfg not in options:
        options.append(cfg)

with st.expander("Indexing settings", icon=":material/tune:", expanded=False):
    c1, c2, c3 = st.columns(3)
    chosen = c1.selectbox(
        "Embedding model",
        options,
        index=options.index(s.embedding),
        format_func=_embedding_label,
        help="Each model has its own index: switching shows the documents indexed with it. "
        "Other models are configured on the Settings page.",
    )
    if chosen != s.embedding:
        config.set_settings(s.with_(embedding=chosen))
        st.session_state["kb_result"] = None
        st.rerun()
    size = c2.slider(
        "Chunk size (tokens)",
        CHUNK_MIN,
        CHUNK_MAX,
        step=10,
        key="kb_chunk_tokens",
        help="Small chunks keep contexts tight (one product per chunk for the small local model).",
    )
    if st.session_state["kb_overlap"] > size // 2:
        st.session_state["kb_overlap"] = size // 2
    overlap = c3.slider(
        "Overlap (tokens)",
        0,
        size // 2,
        key="kb_overlap",
        help="The end of each chunk is repeated at the start of the next, cut at a word boundary.",
    )
    st.caption("Applies to the next files you index. Chunks never cross a page. Tokens are OpenAI cl100k tokens.")

try:
    kb = knowledge_base(s)
except E.RagftError as exc:
    st.error(f"The knowledge base is unavailable: {inline(exc.message)}", icon=":material/error:")
    st.stop()
if err := keys.pop_sample_error():
    st.warning(f"The shared sample could not be indexed: {inline(err)}", icon=":material/warning:")


def _safe(fn, default):
    """Run a read on the index; show its typed error instead of crashing the page."""
    try:
        return fn()
    except E.RagftError as exc:
        st.error(inline(exc.message), icon=":material/error:")
        return default


def _doc_rows(docs: list[DocumentInfo]) -> list[dict]:
    return [
        {
            "file": d.name,
            "type": d.kind.upper(),
            "pages": d.pages,
            "chunks": d.chunks,
            "tokens": d.tokens,
            "embedding tokens": d.embed_tokens,
            "embedding s": round(d.embed_seconds, 3),
            "embedding $": None if d.embed_cost is None else float(d.embed_cost),
            "chunk size / overlap": f"{d.chunk_tokens} / {d.overlap}",
            "added": d.added_at.replace("T", " ")[:16],
        }
        for d in docs
    ]


def _show_docs(rows: list[dict]) -> None:
    small = {k: st.column_config.NumberColumn(k, width="small") for k in ("pages", "chunks", "tokens")}
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            **small,
            "type": st.column_config.TextColumn(width="small"),
            "embedding $": st.column_config.NumberColumn(format="$%.6f"),
        },
    )


mine = _safe(kb.workspace.documents, [])
sample_docs = _safe(kb.sample.documents, []) if kb.sample is not None else []
shadowed = _safe(kb.shadowed_sample_docs, [])

# Keyed: the open tab stays when a message above the tabs comes or goes (an ingest's result, the facilitator's pause).
tab_docs, tab_chunks, tab_search, tab_sample = st.tabs(
    ["Your documents", "Chunk inspector", "Retrieval playground", "Shared sample"], key="kb_tab", on_change="rerun"
)

# ---- upload and documents ---------------------------------------------------------------------------------
with tab_docs:
    render_uploader(kb, chunk_tokens=size, overlap=overlap)
    st.subheader("Documents in your workspace")
    if mine:
        _show_docs(_doc_rows(mine))
        cost = sum((d.embed_cost for d in mine if d.embed_cost is not None), start=0)
        st.caption(
            f"{len(mine)} document(s) · {sum(d.chunks for d in mine)} chunks · "
            f"{sum(d.tokens for d in mine):,} tokens · embedding {sum(d.embed_seconds for d in mine):.2f} s, "
            f"{format_usd(cost)}" + (" (some prices unknown)" if any(d.embed_cost is None for d in mine) else "")
        )
        for d in shadowed:
            st.info(
                f"Your **{inline(d.name)}** replaces the shared sample's version for this session.",
                icon=":material/published_with_changes:",
            )
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        names = {d.doc_id: d.name for d in mine}
        if st.session_state.get("kb_delete_pick") not in names:
            st.session_state.pop("kb_delete_pick", None)
        victim = c1.selectbox("Delete a document", list(names), format_func=lambda d: names[d], key="kb_delete_pick")
        if c2.button("Delete", icon=":material/delete:", key="kb_delete") and victim is not None:
            removed = _safe(lambda: kb.delete_document(victim), None)
            if removed is not None:
                st.session_state["kb_result"] = None
                st.toast(f"Deleted {inline(names[victim])} ({removed} chunks).")
                st.rerun()
        if not st.session_state["kb_confirm_reset"]:
            if st.button("Reset workspace…", icon=":material/restart_alt:", key="kb_reset"):
                st.session_state["kb_confirm_reset"] = True
                st.rerun()
        else:
            st.warning(f"Delete all {len(mine)} document(s) of your workspace? The shared sample stays.")
            y, n = st.columns(2)
            if y.button("Yes, delete everything", type="primary", key="kb_reset_yes"):
                _safe(kb.reset, None)
                st.session_state["kb_confirm_reset"] = False
                st.session_state["kb_result"] = None
                st.rerun()
            if n.button("Cancel", key="kb_reset_no"):
                st.session_state["kb_confirm_reset"] = False
                st.rerun()
    else:
        st.caption("No documents yet: drop files above. Until then retrieval uses the shared sample.")
    render_workspace_panel(s)

# ---- chunk inspector ----------------------------------------------------------------------------------------
with tab_chunks:
    every = [(d, "your workspace") for d in mine] + [(d, "shared sample") for d in sample_docs]
    if not every:
        st.caption("Nothing indexed yet.")
    else:
        labels = {d.doc_id: f"{d.name} ({where}, {d.chunks} chunks)" for d, where in every}
        if st.session_state.get("kb_inspect_doc") not in labels:
            st.session_state.pop("kb_inspect_doc", None)
        pick = st.selectbox("Document", list(labels), format_func=lambda d: labels[d], key="kb_inspect_doc")
        chunks = _safe(lambda: kb.chunks(pick), []) if pick is not None else []
        if chunks:
            st.dataframe(
                [
                    {
                        "#": c.position,
                        "where": c.where,
                        "OCR": c.ocr,
                        "tokens": c.tokens,
                        "characters": len(c.text),
                        "text": c.text,
                    }
                    for c in chunks
                ],
                hide_index=True,
                width="stretch",
                column_config={
                    "#": st.column_config.NumberColumn(width="small"),
                    "where": st.column_config.TextColumn(
                        width="small", help="PDF page, slide, sheet rows or HTML section"
                    ),
                    "OCR": st.column_config.CheckboxColumn(width="small", help="Text read from a scanned page by OCR"),
                    "tokens": st.column_config.NumberColumn(width="small"),
                    "characters": st.column_config.NumberColumn(width="small"),
                    "text": st.column_config.TextColumn(width="large"),
                },
            )
            if not 0 <= st.session_state.get("kb_inspect_pos", 0) < len(chunks):
                st.session_state["kb_inspect_pos"] = 0
            pos = st.number_input("Show chunk #", 0, len(chunks) - 1, key="kb_inspect_pos")
            c = chunks[int(pos)]
            where = c.where.replace("p.", "page ", 1) if c.where.startswith("p.") else (c.where or "no pages")
            if c.ocr:
                st.info(
                    "This text was read from a scanned page by OCR: characters may be misread.",
                    icon=":material/document_scanner:",
                )
            st.caption(
                f"{inline(c.source)} · {where} · {c.tokens} tokens · characters {c.char_start}-{c.char_end} of the "
                f"page · id `{c.chunk_id}` · hash `{c.content_hash}`"
            )
            st.text(c.text)

# ---- retrieval playground -----------------------------------------------------------------------------------
with tab_search:
    with st.form("kb_search_form", border=False):
        query = st.text_input(
            "Query",
            key="kb_query",
            max_chars=MAX_QUERY_CHARS,
            placeholder="e.g. How much does the Kestrel 2 Tent cost?",
        )
        c1, c2, c3 = st.columns(3)
        k_min, k_max = slider_range("top_k")
        k = c1.slider("Top-k", k_min, k_max, min(k_max, int(s.top_k)), key="kb_k")
        threshold = c2.slider(
            "Score threshold",
            *bound("score_threshold"),
            float(s.score_threshold),
            0.05,
            key="kb_threshold",
            help="Chunks scoring below this are left out. The score is the cosine similarity.",
        )
        use_sample = c3.toggle("Include the shared sample", True, key="kb_use_sample")
        doc_names = {d.doc_id: d.name for d, _ in every}
        st.session_state["kb_only"] = [i for i in st.session_state.get("kb_only", []) if i in doc_names]
        only = st.multiselect(
            "Only these documents (optional)", list(doc_names), format_func=lambda i: doc_names.get(i, i), key="kb_only"
        )
        submitted = st.form_submit_button("Search", icon=":material/search:", type="primary")
    if submitted and query.strip():
        result = _safe(
            lambda: search(
                kb,
                query,
                k=k,
                threshold=threshold,
                include_sample=use_sample,
                doc_filter=only or None,
                ledger=spend.get_ledger(),
                budget=spend.get_budget(s),
                price_overrides=prices.price_overrides(),
            ),
            None,
        )
        st.session_state["kb_result"] = result
    result = st.session_state["kb_result"]
    if result is not None:
        m1, m2, m3 = st.columns(3)
        m1.metric("Query embedding", f"{result.embed_s * 1000:.1f} ms")
        m2.metric("Search", f"{result.search_s * 1000:.1f} ms")
        m3.metric(
            "Returned",
            f"{len(result.chunks)} of {result.candidates}",
            help=f"{result.below_threshold} candidate(s) scored below the threshold.",
        )
        render_sources(result.chunks, empty="No chunk passed the threshold: lower it, or add documents.")

# ---- shared sample ------------------------------------------------------------------------------------------
with tab_sample:
    st.caption(
        "The sample scenario is indexed once and shared, read-only, by every session. Your uploads go to "
        "your own workspace; a file with the same name as a sample file replaces it for you only."
    )
    if kb.sample is None or not sample_docs:
        st.info("The shared sample is not indexed for this embedding model.", icon=":material/info:")
    else:
        hidden = {d.doc_id for d in shadowed}
        rows = _doc_rows(sample_docs)
        for row, d in zip(rows, sample_docs):
            row.pop("added")
            row["used"] = "hidden by your upload" if d.doc_id in hidden else "yes"
        _show_docs(rows)
        render_freshness_demo(kb, mine)
