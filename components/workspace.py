"""The session's workspace and its knowledge base, for every page.

- ``current_workspace()``: this browser session's workspace id, kept in the URL (``?ws=...``) so a reload or a
  bookmark finds the same workspace; the router's sidebar calls it on every page.
- ``knowledge_base(settings)``: a :class:`ragft.knowledge.base.KnowledgeBase` for this session (its workspace + the
  shared read-only sample), built per script run from cached, never-mutated resources: the Chroma client and
  the embedder (``st.cache_resource``), and the sample collection, indexed once per process and embedder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from components import state
from ragft import errors as E
from ragft.knowledge.documents import Limits
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.sample import SampleStatus, ensure_sample_collection, scenario_files
from ragft.knowledge.store import make_client
from ragft.paths import SCENARIO_DIR
from ragft.settings import Settings
from ragft.knowledge.workspaces import is_valid_workspace_id, new_workspace_id

logger = logging.getLogger(__name__)

WS_KEY = "workspace_id"
WS_NOTICE_KEY = "workspace_notice"


def current_workspace() -> str:
    """This session's workspace id: from ``?ws=`` when valid, else the session's, else a new one."""
    url = st.query_params.get("ws")
    mine = st.session_state.get(WS_KEY)
    if is_valid_workspace_id(url):
        ws = url
    elif is_valid_workspace_id(mine):
        ws = mine
    else:
        ws = new_workspace_id()
    if url and not is_valid_workspace_id(url):
        st.session_state[WS_NOTICE_KEY] = "The workspace id in the link was not valid, so a new workspace was started."
    st.session_state[WS_KEY] = ws
    if url != ws:
        st.query_params["ws"] = ws
    return ws


@st.cache_resource(show_spinner=False, max_entries=8)
def _client(data_dir: str, host: str | None, port: int):
    return make_client(Settings(data_dir=Path(data_dir), chroma_host=host, chroma_port=port))


def client(s: Settings):
    """The shared Chroma client for these settings (raises IndexUnavailable with a clear message)."""
    return _client(str(Path(s.data_dir).resolve()), s.chroma_host, int(s.chroma_port))


def _scenario_signature(directory: Path) -> tuple:
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in scenario_files(directory))


@st.cache_resource(show_spinner="Indexing the sample scenario (once)…", max_entries=8)
def _sample(_client_obj, _embedder, client_key: tuple, model_id: str, chunk_tokens: int, overlap: int,
            signature: tuple) -> SampleStatus:
    return ensure_sample_collection(_client_obj, _embedder, SCENARIO_DIR, chunk_tokens=chunk_tokens, overlap=overlap)


def sample_status(s: Settings) -> SampleStatus | None:
    """Make sure the shared sample is indexed for this session's embedder (once per process)."""
    sig = _scenario_signature(SCENARIO_DIR)
    if not sig:
        return None
    base = state.server_settings()  # the sample is shared: it follows the server's chunking, not a session's
    emb = state.embedder(s)
    key = (str(Path(s.data_dir).resolve()), s.chroma_host, int(s.chroma_port))
    return _sample(client(s), emb, key, emb.model_id, base.chunk_tokens, base.chunk_overlap, sig)


def knowledge_base(s: Settings | None = None, *, with_sample: bool = True) -> KnowledgeBase:
    """This session's knowledge base. Raises a RagftError (unreachable server, model missing...) to show."""
    s = s or state.settings()
    ws = current_workspace()
    emb = state.embedder(s)
    cl = client(s)
    if with_sample:
        try:
            sample_status(s)
        except E.RagftError as exc:  # the sample failing must not block the user's own documents
            logger.warning("the shared sample could not be indexed: %s", exc.message)
            st.session_state["kb_sample_error"] = exc.message
    return KnowledgeBase(cl, emb, ws, include_sample=with_sample, limits=Limits.from_settings(s))
