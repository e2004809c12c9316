"""Who this browser session is, as the server sees it: its address (behind the facilitator's trusted proxies, the
one ``X-Forwarded-For`` names; see :mod:`ragft.net.forwarded`) and its session id, for the password throttle and
the server log.

The direct peer is the WebSocket connection's own address (``client_context.remote_ip``, not
``st.context.ip_address``, which hides loopback addresses: a proxy on the same host is loopback). Streamlit's server
(uvicorn) would itself rewrite that address from ``X-Forwarded-For`` when the peer is in ``FORWARDED_ALLOW_IPS``
(loopback when unset); ``scripts/run.sh`` sets it to trust nobody, so the app's rule is the only one.
"""

from __future__ import annotations

import functools
import logging
import os

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ragft.errors import RagftError
from ragft.net.forwarded import client_address
from session import config

logger = logging.getLogger(__name__)

UVICORN_TRUST_VAR = "FORWARDED_ALLOW_IPS"  # what Streamlit's server (uvicorn) trusts before the app sees a request


def session_id() -> str | None:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else None


def _peer() -> str | None:
    sid = session_id()
    if sid is None or not runtime.exists():
        return None
    client = runtime.get_instance().get_client(sid)
    context = getattr(client, "client_context", None) if client is not None else None
    peer = getattr(context, "remote_ip", None) if context is not None else None
    return str(peer) if peer else None


def _forwarded_for() -> list[str]:
    try:
        return [str(v) for v in st.context.headers.get_all("X-Forwarded-For")]
    except Exception:  # noqa: BLE001 - no browser connection (AppTest)
        return []


def address() -> str | None:
    """This client's address: the direct peer, or behind a trusted proxy the hop ``X-Forwarded-For`` names."""
    try:
        trusted = config.server_settings(raw=True).trusted_proxies
    except RagftError:  # a malformed setting is shown on every page; the peer alone is still an address
        trusted = ()
    forwarded = _forwarded_for()
    if forwarded and uvicorn_rewrites_addresses():
        _warn_uvicorn()
    return client_address(_peer(), forwarded, trusted)


@functools.cache
def _warn_uvicorn() -> None:
    logger.warning(
        "%s is unset: Streamlit's server takes X-Forwarded-For from a loopback peer before the app sees it; "
        "start the app with scripts/run.sh (which sets it to trust nobody) so RAGFT_TRUSTED_PROXIES decides",
        UVICORN_TRUST_VAR,
    )


def uvicorn_rewrites_addresses() -> bool:
    """True when Streamlit's own server takes ``X-Forwarded-For`` from a loopback peer before the app sees it
    (``FORWARDED_ALLOW_IPS`` unset: uvicorn's default), so a header a client sent could change its address."""
    return os.environ.get(UVICORN_TRUST_VAR) is None
