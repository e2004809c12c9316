"""The server's own upload limit against the app's: ``server.maxUploadSize`` must not exceed ``RAGFT_MAX_UPLOAD_MB``.

Streamlit reads ``server.maxUploadSize`` once, when the server starts (``scripts/run.sh`` passes it from
``RAGFT_MAX_UPLOAD_MB``). If the server was started another way with a larger limit, a file bigger than the app's
limit is received whole before the app refuses it: the facilitator is told in the log (once per limit pair) and on
Home.
"""

from __future__ import annotations

import logging

import streamlit as st

from ragft.settings import Settings

logger = logging.getLogger(__name__)


def server_upload_limit_mb() -> int:
    return int(st.get_option("server.maxUploadSize"))


def upload_limit_problem(s: Settings) -> str | None:
    """A one-line warning when the running server accepts bigger uploads than RAGFT_MAX_UPLOAD_MB, else None."""
    server_mb = server_upload_limit_mb()
    if server_mb <= s.max_upload_mb:
        return None
    msg = (
        f"The server accepts uploads up to {server_mb} MB (server.maxUploadSize) but RAGFT_MAX_UPLOAD_MB is "
        f"{s.max_upload_mb} MB: larger files reach the app before it refuses them. Start the app with "
        f"`bash scripts/run.sh`, or pass `--server.maxUploadSize {s.max_upload_mb}` to `streamlit run`."
    )
    _log_once(server_mb, s.max_upload_mb, msg)
    return msg


@st.cache_resource(show_spinner=False, max_entries=8)
def _log_once(server_mb: int, app_mb: int, msg: str) -> bool:
    logger.warning(msg)
    return True
