"""The session's workspace and its knowledge base, for every page.

- ``current_workspace()``: this browser session's workspace id, issued and signed by the server and kept in the
  URL (``?ws=...``) so a reload, a new tab or a bookmark finds the same workspace; a made-up, altered, deleted or
  expired id gets a new, empty workspace and a notice. The router's sidebar calls it on every page; it also
  runs the retention purge when due (at start, then at most once an hour).
- ``render_workspace_panel()``: the workspace's anonymous label, what sharing its link means, and deleting the
  whole workspace (with a confirmation).
- ``knowledge_base(settings)``: a :class:`ragft.knowledge.base.KnowledgeBase` for this session (its workspace + the
  shared read-only sample), built per script run from cached, never-mutated resources: the Chroma client and
  the embedder (``st.cache_resource``), and the sample collection, indexed once per process and embedder.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import streamlit as st

from components import state
from ragft import errors as E
from ragft.knowledge import retention
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.documents import Limits
from ragft.knowledge.sample import SampleStatus, ensure_sample_collection, scenario_files
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import Workspaces
from ragft.paths import SCENARIO_DIR
from ragft.settings import Settings

logger = logging.getLogger(__name__)

WS_KEY = "workspace_id"
WS_LABEL_KEY = "workspace_label"
WS_NOTICE_KEY = "workspace_notice"
_SEEN_KEY = "workspace_seen_at"  # monotonic time of the last last_seen update of this session
_CONFIRM_KEY = "ws_confirm_delete"
TOUCH_EVERY_S = 60.0
DELETED_NOTICE = "Your workspace was deleted: this is a new, empty one. The old link no longer opens anything."


@st.cache_resource(show_spinner=False, max_entries=8)
def _workspaces(data_dir: str) -> Workspaces:
    return Workspaces(Path(data_dir))


def workspaces(s: Settings | None = None) -> Workspaces:
    """The server's workspace issuer for the data dir (secret + class database), shared by every session."""
    s = s or state.settings()
    return _workspaces(str(Path(s.data_dir).resolve()))


def _purge_if_due(s: Settings, spaces: Workspaces) -> None:
    try:
        purged = retention.purge_if_due(spaces.store, lambda: client(s), spaces.data_dir, s.workspace_ttl_days)
    except E.RagftError:
        logger.exception("the workspace retention purge failed")
        return
    if purged:
        logger.info("retention purge removed %d workspace(s)", len(purged))


def current_workspace() -> str:
    """This session's workspace id (issued by the server), also put in the URL."""
    s = state.settings()
    spaces = workspaces(s)
    _purge_if_due(s, spaces)
    url = st.query_params.get("ws")
    mine = st.session_state.get(WS_KEY)
    now = time.monotonic()
    if mine and url in (None, "", mine) and now - st.session_state.get(_SEEN_KEY, -1e9) < TOUCH_EVERY_S:
        ws = mine  # checked less than a minute ago in this session
    else:
        asked = url or mine
        resolved = spaces.resolve(asked)
        ws = resolved.workspace_id
        if resolved.notice and asked:
            st.session_state[WS_NOTICE_KEY] = resolved.notice
        st.session_state[WS_LABEL_KEY] = resolved.label
        st.session_state[_SEEN_KEY] = now
    st.session_state[WS_KEY] = ws
    if url != ws:
        st.query_params["ws"] = ws
    return ws


def workspace_label() -> str:
    """The anonymous label of this session's workspace (e.g. "Participant 7")."""
    current_workspace()
    return str(st.session_state.get(WS_LABEL_KEY) or "Your workspace")


def render_workspace_panel(s: Settings | None = None) -> None:
    """Label, what the link shares, and "Delete my whole workspace" with a confirmation."""
    s = s or state.settings()
    ws = current_workspace()
    ttl = s.workspace_ttl_days
    kept = f" It is deleted after {ttl:g} days without use." if ttl > 0 else ""
    st.caption(
        f"**{workspace_label()}** · embeddings: {s.embedding.model}. This page's address is the key to "
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
            new = workspaces(s).delete(ws, client(s))
        except E.RagftError as exc:
            logger.exception("deleting workspace failed")
            st.error(exc.message)
            return
        st.session_state[WS_KEY] = new.id
        st.session_state[WS_LABEL_KEY] = new.label
        st.session_state[_SEEN_KEY] = time.monotonic()
        st.session_state[WS_NOTICE_KEY] = DELETED_NOTICE
        st.query_params["ws"] = new.id
        st.rerun()
    if no.button("Cancel", key="ws_delete_no"):
        st.session_state[_CONFIRM_KEY] = False
        st.rerun()


@st.cache_resource(show_spinner=False, max_entries=8)
def _client(data_dir: str, host: str | None, port: int):
    return make_client(Settings(data_dir=Path(data_dir), chroma_host=host, chroma_port=port))


def client(s: Settings):
    """The shared Chroma client for these settings (raises IndexUnavailable with a clear message)."""
    return _client(str(Path(s.data_dir).resolve()), s.chroma_host, int(s.chroma_port))


def _scenario_signature(directory: Path) -> tuple:
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in scenario_files(directory))


@st.cache_resource(show_spinner="Indexing the sample scenario (once)…", max_entries=8)
def _sample(
    _client_obj, _embedder, client_key: tuple, model_id: str, chunk_tokens: int, overlap: int, signature: tuple
) -> SampleStatus:
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
