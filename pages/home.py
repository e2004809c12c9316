"""Home: what the app is for, which models are active, where to start."""

from __future__ import annotations

import streamlit as st

from components.shared import navigation
from components.shared.safe_text import inline
from components.shared.shell import page_shell
from ragft.paths import SCENARIO_DIR
from session import config, models
from session.uploads import upload_limit_problem

page_shell(__file__)

st.title("RAG vs Fine-Tuning Explorer")
st.markdown(
    "Ask one question and watch four answers side by side: a **base** model, the base model with "
    "**retrieval (RAG)**, a **fine-tuned** model, and the fine-tuned model **with RAG**, each with its sources, "
    "latency, tokens and cost."
)

col1, col2, col3 = st.columns(3)
with col1:
    st.markdown(
        "#### Fine-tuning changes behaviour\nTone, format, a brand voice or a fixed JSON shape. It does **not** "
        "keep knowledge current: a fine-tune learns last season's prices and keeps repeating them."
    )
with col2:
    st.markdown(
        "#### RAG brings current facts\nCatalogue, prices, policies: retrieved at question time from your "
        "documents. It needs an embedding pipeline, a vector store and retrieval, and adds context tokens."
    )
with col3:
    st.markdown(
        "#### The hybrid is usually strongest\nFine-tune for voice, retrieve for facts. Costs differ: training + a "
        "per-token premium versus embeddings + extra context tokens per query."
    )

st.divider()
st.subheader("Active models")
s = config.settings_or_stop()
if problem := upload_limit_problem(config.server_settings()):
    st.warning(problem, icon=":material/upload_file:")

for slot, title in (("base", "Base slot"), ("finetuned", "Fine-tuned slot")):
    cfg = models.slot_config(slot, s)
    ok, text = models.model_status(slot, s)
    kind = "Embedded, offline (no key)" if cfg.is_embedded else f"OpenAI-compatible endpoint ({cfg.provider})"
    with st.container(border=True):
        st.markdown(f"**{title}** · {kind}")
        if ok:
            st.success(inline(text), icon=":material/check_circle:")
        else:
            st.error(inline(text), icon=":material/error:")
st.caption(
    f"Embeddings: `{s.embedding.provider}:{s.embedding.model}` · vector store: "
    + ("a Chroma server" if s.chroma_host else "embedded Chroma on this server")
)

st.divider()
st.subheader("Where to start")
scenario = SCENARIO_DIR / "scenario.json"
for path, label, help_text in navigation.start_steps():
    c1, c2 = st.columns([1, 3])
    with c1:
        try:
            st.page_link(path, label=label)
        except Exception:  # noqa: BLE001 - the page is not registered (hidden by the facilitator)
            st.markdown(label)
    with c2:
        st.caption(help_text)
if scenario.exists():
    st.info(
        "A sample scenario is loaded: a fictional company's **current** catalogue and policies, and a model "
        "fine-tuned on **last season's** answers in the brand voice. Try asking for a price on Compare.",
        icon=":material/storefront:",
    )
