"""The Facilitator page's lock: nothing of the page renders until the password of ``RAGFT_FACILITATOR_PASSWORD``
is typed (compared in constant time; repeated failures lock out only the client that typed them: its address plus its
browser session, counted in the class database)."""

from __future__ import annotations

import logging
import os

import streamlit as st

from components.shared.safe_text import inline
from ragft.classroom import auth
from ragft.errors import RagftError
from session import classroom, client

logger = logging.getLogger(__name__)

UNLOCKED_KEY = "fac_unlocked"
PASSWORD_ENV = "RAGFT_FACILITATOR_PASSWORD"


def configured_password() -> str:
    return os.environ.get(PASSWORD_ENV, "")


def is_unlocked() -> bool:
    """True once this session typed the password (draws nothing)."""
    return bool(st.session_state.get(UNLOCKED_KEY))


def _client() -> tuple[str, str | None]:
    """This client for the throttle (its address, behind a trusted proxy the forwarded one, and its browser
    session) and its address for the log."""
    ip = client.address()
    return auth.client_key(ip, client.session_id()), ip


def unlocked() -> bool:
    """True once this session typed the password; otherwise draws the unlock form and returns False."""
    if st.session_state.get(UNLOCKED_KEY):
        return True
    st.title("Facilitator")
    with st.form("fac_unlock"):
        typed = st.text_input("Facilitator password", type="password", key="fac_password")
        go = st.form_submit_button("Unlock", type="primary")
    if go:
        key, ip = _client()
        try:
            ok = auth.unlock(classroom.store(), configured_password(), typed or "", key, address=ip)
        except RagftError as exc:
            st.error(inline(exc.message), icon=":material/lock_clock:")
            return False
        if ok:
            st.session_state[UNLOCKED_KEY] = True
            st.session_state.pop("fac_password", None)
            st.rerun()
        logger.warning("a wrong facilitator password was typed (client address %s)", ip or "unknown")
        st.error("Wrong password.", icon=":material/lock:")
    return False
