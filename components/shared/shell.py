"""The shared shell of every page: call ``page_shell(__file__)`` first thing in each page script."""

from __future__ import annotations

import streamlit as st

from components.shared import sidebar
from ragft.classroom import pause
from session import boot


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
