"""The shared shell of every page: call ``page_shell(__file__)`` first thing in each page script."""

from __future__ import annotations

import streamlit as st

from components.shared import sidebar
from components.shared.safe_text import inline
from ragft.classroom import pause
from ragft.knowledge.workspaces import JoinCodeNeeded, RoomFull, WorkspaceRevoked
from session import boot, workspace


def page_shell(page_file: str) -> None:
    """Inside the router, nothing to do; a bare run goes through the router once, later bare runs (legacy mode
    persists under AppTest) draw the sidebar themselves, so widget state is never lost to a redirect."""
    if boot.ROUTER_ACTIVE.get():
        return
    boot.send_bare_run_to_router(page_file)
    sidebar.render()


def paused_notice() -> None:
    if pause.is_paused():
        st.warning(
            "The facilitator has paused all model calls for the moment: questions wait until they resume.",
            icon=":material/pause_circle:",
        )


def admit(*, exempt: bool) -> bool:
    """The router's gate: True when this session has its workspace; else draws why not (the room is full, the
    facilitator closed this workspace, a join code is needed: with its form) and returns False. ``exempt``: the
    facilitator's unlocked session, whose new workspace ignores the room's seats and needs no code."""
    if exempt:
        workspace.set_exempt()
    try:
        workspace.current_workspace()
    except (RoomFull, WorkspaceRevoked) as exc:
        st.error(f"{inline(exc.message)} {inline(exc.hint)}", icon=":material/event_seat:")
        return False
    except JoinCodeNeeded as exc:
        st.error(f"{inline(exc.message)} {inline(exc.hint)}", icon=":material/key:")
        _join_code_form()
        return False
    return True


def _join_code_form() -> None:
    with st.form("join_code_form"):
        code = st.text_input("Join code", max_chars=24, placeholder="ABCDE-FGHJK", key="join_code_box")
        if st.form_submit_button("Join", type="primary", icon=":material/login:") and code.strip():
            workspace.try_join_code(code.strip())
            st.rerun()
