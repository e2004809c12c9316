"""The router's bookkeeping: logging, and making every page run inside the router even when Streamlit runs it bare.

Because the pages live in a folder called ``pages/``, Streamlit starts each server process in its legacy
multipage mode: until ``streamlit_app.py`` has run once (its ``st.navigation`` call switches the process to the
current mode), a deep link such as ``/compare`` executes ``pages/compare.py`` alone, without the router's sidebar.
AppTest resets that mode before every run, so ``switch_page`` always runs pages bare.

``components.shared.shell.page_shell()`` at the top of each page fixes both: if this session has never been through the router, a bare run
sends it there once (the router's ``st.navigation`` switches the process to the current mode, then forwards to the
wanted page); later bare runs (legacy mode persists under AppTest) draw the shared shell themselves, so widget
state is never lost to a redirect. The router marks its own runs with a context variable, not session state, so
the marker cannot leak from one run into the next.
"""

from __future__ import annotations

import contextvars
import logging
import os
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

ROUTER_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("ragft_router_active", default=False)
_WANTED = "_boot_wanted_page"
_SEEN = "_boot_router_seen"


def configure_logging() -> None:
    """The app's own loggers (``ragft.*``, ``session.*``, ``components.*``) write to the server log (stderr), once per process.

    ``RAGFT_LOG_LEVEL`` (default INFO) sets the level. Messages never carry keys: participants' keys live only in
    their sessions and endpoint errors are scrubbed of the key they were sent with.
    """
    level = os.environ.get("RAGFT_LOG_LEVEL", "INFO").upper()
    for name in ("ragft", "session", "components"):
        log = logging.getLogger(name)
        if not any(getattr(h, "_ragft", False) for h in log.handlers):
            handler = logging.StreamHandler()
            handler._ragft = True  # type: ignore[attr-defined]
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            log.addHandler(handler)
        log.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")


def send_bare_run_to_router(page_file: str) -> None:
    """A page run outside the router: the first time in this session, switch to the router (which forwards back
    to this page; ``st.switch_page`` ends this run). Afterwards, or when the page is itself the main script,
    return, and the page draws the shared shell itself."""
    if st.session_state.get(_SEEN):
        return
    st.session_state[_WANTED] = f"pages/{Path(page_file).name}"
    try:
        st.switch_page("streamlit_app.py")
    except StreamlitAPIException:  # the page is itself the main script (AppTest.from_file(page)): no router
        return


def forward_if_wanted(current_page_path: str, registered: set[str]) -> None:
    """Router side: after a bare run redirected here, continue to the page the person asked for."""
    st.session_state[_SEEN] = True
    wanted = st.session_state.pop(_WANTED, None)
    if wanted and wanted != current_page_path and wanted in registered:
        st.switch_page(wanted)
