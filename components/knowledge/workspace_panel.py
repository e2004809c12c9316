"""The workspace panel of the Knowledge base page: its label, what sharing its link means, and deleting it."""

from __future__ import annotations

import logging

import streamlit as st

from ragft import errors as E
from ragft.settings import Settings
from session import workspace

logger = logging.getLogger(__name__)

_CONFIRM_KEY = "ws_confirm_delete"


def render_workspace_panel(s: Settings) -> None:
    """Label, what the link shares, and "Delete my whole workspace" with a confirmation."""
    ttl = s.workspace_ttl_days
    kept = f" It is deleted after {ttl:g} days without use." if ttl > 0 else ""
    st.caption(
        f"**{workspace.workspace_label()}** · embeddings: {s.embedding.model}. This page's address is the key to "
        "your workspace: bookmark it to come back; **anyone with this link can see and change this "
        f"workspace**.{kept}"
    )
    if not st.session_state.get(_CONFIRM_KEY):
        if st.button("Delete my whole workspace…", icon=":material/delete_forever:", key="ws_delete"):
            st.session_state[_CONFIRM_KEY] = True
            st.rerun()
        return
    st.warning(
        "Delete this whole workspace: every document, index and record of it? This cannot be undone; "
        "you get a new, empty workspace (your spend so far still counts against your budget)."
    )
    yes, no = st.columns(2)
    if yes.button("Yes, delete my workspace", type="primary", key="ws_delete_yes"):
        st.session_state[_CONFIRM_KEY] = False
        try:
            workspace.delete_workspace(s)
        except E.RagftError as exc:
            logger.exception("deleting workspace failed")
            st.error(exc.message)
            return
        st.rerun()
    if no.button("Cancel", key="ws_delete_no"):
        st.session_state[_CONFIRM_KEY] = False
        st.rerun()
