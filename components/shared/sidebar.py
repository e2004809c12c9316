"""The shared sidebar drawn on every page: active models, workspace, live cost meter."""

from __future__ import annotations

import streamlit as st

from components.shared.cost_meter import render_cost_meter
from components.shared.safe_text import inline
from ragft import errors as E
from session import config, models
from session.workspace import current_workspace


def render() -> None:
    with st.sidebar:
        try:
            s = config.settings()
        except E.RagftError as exc:
            st.error(f"Configuration error: {inline(exc.message)}")
            return
        current_workspace()  # the session's workspace id, kept in the URL (?ws=...)
        render_cost_meter()
        with st.expander("Models", expanded=False, icon=":material/memory:"):
            for slot, title in (("base", "Base"), ("finetuned", "Fine-tuned")):
                ok, text = models.model_status(slot, s)
                (st.caption if ok else st.warning)(f"**{title}:** {inline(text)}")
            st.caption(f"**Embeddings:** {inline(f'{s.embedding.provider}:{s.embedding.model}')}")
