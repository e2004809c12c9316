"""The session's workspace and its knowledge base, for every page.

- ``current_workspace()``: this browser session's workspace id, issued and signed by the server, kept in the
  URL (``?ws=...``, so a reload or a bookmark finds the same workspace) and remembered by the browser in a cookie
  (``ragft_ws``, set by a script in the page), so the join link opened again in the same browser, in a new tab or
  after closing it, returns to the same workspace; ``?fresh=1`` asks for a new one. A made-up, altered, deleted or
  expired id gets a new, empty workspace and a notice; a new workspace beyond the room's seats is refused
  (:class:`ragft.knowledge.workspaces.RoomFull`), so is one the facilitator revoked, and, with join codes required,
  a new one without an unused code (``?code=`` on the link or the router's form: ``JoinCodeNeeded``).
- ``set_exempt()``: the facilitator's session takes a workspace whatever the room's seats. The router's sidebar calls it on every page; it also
  runs the retention purge when due (at start, then at most once an hour).
- ``delete_workspace(settings)``: delete the whole workspace and give the session a new, empty one (the
  Knowledge base page's panel asks for the confirmation).
- ``knowledge_base(settings)``: a :class:`ragft.knowledge.base.KnowledgeBase` for this session (its workspace + the
  shared read-only sample), built per script run from cached, never-mutated resources: the Chroma client and
  the embedder (``st.cache_resource``), and the sample collection, indexed once per process and embedder.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import streamlit as st

from ragft import errors as E
from ragft.knowledge import retention
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.documents import Limits
from ragft.knowledge.sample import SampleStatus, ensure_sample_collection, scenario_files
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import Workspaces
from ragft.paths import SCENARIO_DIR
from ragft.settings import Settings
from session import config, keys, models

logger = logging.getLogger(__name__)

TOUCH_EVERY_S = 60.0
COOKIE = "ragft_ws"
_COOKIE_SET = "workspace_cookie_set"  # the id this session last asked the browser to remember
_EXEMPT = "workspace_exempt"  # the facilitator's session: a new workspace ignores the room's seats
DELETED_NOTICE = "Your workspace was deleted: this is a new, empty one. The old link no longer opens anything."


@st.cache_resource(show_spinner=False, max_entries=8)
def _workspaces(data_dir: str) -> Workspaces:
    return Workspaces(Path(data_dir))


def workspaces(s: Settings | None = None) -> Workspaces:
    """The server's workspace issuer for the data dir (secret + class database), shared by every session."""
    s = s or config.settings()
    return _workspaces(str(Path(s.data_dir).resolve()))


def _purge_if_due(s: Settings, spaces: Workspaces) -> None:
    try:
        purged = retention.purge_if_due(spaces.store, lambda: client(s), spaces.data_dir, s.workspace_ttl_days)
    except E.RagftError:
        logger.exception("the workspace retention purge failed")
        return
    if purged:
        logger.info("retention purge removed %d workspace(s)", len(purged))


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser connection (AppTest)
        return None
    return str(value) if value else None


def current_workspace() -> str:
    """This session's workspace id (issued by the server), also put in the URL and remembered by the browser.

    Raises :class:`ragft.knowledge.workspaces.RoomFull` / ``WorkspaceRevoked`` / ``JoinCodeNeeded`` (see
    ``components.shared.shell.admit``)."""
    s = config.settings()
    spaces = workspaces(s)
    _purge_if_due(s, spaces)
    url = st.query_params.get("ws")
    mine = st.session_state.get(keys.WORKSPACE_ID)
    now = time.monotonic()
    if mine and url in (None, "", mine) and now - st.session_state.get(keys.WORKSPACE_SEEN, -1e9) < TOUCH_EVERY_S:
        ws = mine  # checked less than a minute ago in this session
    else:
        asked = url or mine
        fresh = st.query_params.get("fresh") == "1" and not mine
        bounded = not st.session_state.get(_EXEMPT)
        code = st.session_state.pop(keys.JOIN_CODE, None) or st.query_params.get("code")
        try:
            resolved = spaces.resolve(
                asked,
                remembered=_cookie(),
                fresh=fresh,
                bounded=bounded,
                need_code=bounded and spaces.codes_required(config.server_settings(raw=True).join),
                code=str(code) if code else None,
            )
        finally:
            if "code" in st.query_params:  # tried once: a code never stays in the address bar or the history
                del st.query_params["code"]
        ws = resolved.workspace_id
        if resolved.notice and asked:
            st.session_state[keys.WORKSPACE_NOTICE] = resolved.notice
        st.session_state[keys.WORKSPACE_LABEL] = resolved.label
        st.session_state[keys.WORKSPACE_SEEN] = now
    st.session_state[keys.WORKSPACE_ID] = ws
    if url != ws:
        st.query_params["ws"] = ws
    if "fresh" in st.query_params:
        del st.query_params["fresh"]
    return ws


def remember_in_browser() -> None:
    """Ask the browser to remember this session's workspace (a first-party cookie, SameSite=Lax, Secure over
    HTTPS), once per workspace per session. The id is the same capability as the ``?ws=`` link, no more."""
    ws = st.session_state.get(keys.WORKSPACE_ID)
    if not ws or st.session_state.get(_COOKIE_SET) == ws:
        return
    st.session_state[_COOKIE_SET] = ws
    if _cookie() == ws:
        return
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(ws)):
        return
    try:
        ttl_days = config.server_settings(raw=True).workspace_ttl_days
    except E.RagftError:
        ttl_days = 0
    age = int((ttl_days if ttl_days > 0 else 30) * 86400)  # as long as the workspace lives (30 days: never purged)
    st.html(
        "<script>document.cookie = "
        f"'{COOKIE}={ws}; path=/; max-age={age}; SameSite=Lax' + "
        "(location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def try_join_code(code: str) -> None:
    """The participant typed a join code: the next run tries it (once)."""
    st.session_state[keys.JOIN_CODE] = code
    st.session_state.pop(keys.WORKSPACE_SEEN, None)


def set_exempt() -> None:
    """This is the facilitator's session (unlocked): a new workspace for it ignores the room's seats."""
    st.session_state[_EXEMPT] = True


def workspace_label() -> str:
    """The anonymous label of this session's workspace (e.g. "Participant 7")."""
    current_workspace()
    return str(st.session_state.get(keys.WORKSPACE_LABEL) or "Your workspace")


def delete_workspace(s: Settings) -> None:
    """Delete this session's whole workspace (documents, index, records) and switch the session to a new, empty
    one. Raises a RagftError when the store refuses."""
    new = workspaces(s).delete(current_workspace(), client(s))
    st.session_state[keys.WORKSPACE_ID] = new.id
    st.session_state[keys.WORKSPACE_LABEL] = new.label
    st.session_state[keys.WORKSPACE_SEEN] = time.monotonic()
    st.session_state[keys.WORKSPACE_NOTICE] = DELETED_NOTICE
    st.query_params["ws"] = new.id


def pop_notice() -> str | None:
    """The one-time notice about this session's workspace (a made-up link got a new one, ...), once."""
    value = st.session_state.pop(keys.WORKSPACE_NOTICE, None)
    return str(value) if value else None


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
    base = config.server_settings()  # the sample is shared: it follows the server's chunking, not a session's
    emb = models.embedder(s)
    key = (str(Path(s.data_dir).resolve()), s.chroma_host, int(s.chroma_port))
    return _sample(client(s), emb, key, emb.model_id, base.chunk_tokens, base.chunk_overlap, sig)


def knowledge_base(s: Settings | None = None, *, with_sample: bool = True) -> KnowledgeBase:
    """This session's knowledge base. Raises a RagftError (unreachable server, model missing...) to show."""
    s = s or config.settings()
    ws = current_workspace()
    emb = models.embedder(s)
    cl = client(s)
    if with_sample:
        try:
            sample_status(s)
        except E.RagftError as exc:  # the sample failing must not block the user's own documents
            logger.warning("the shared sample could not be indexed: %s", exc.message)
            keys.set_sample_error(exc.message)
    return KnowledgeBase(
        cl, emb, ws, include_sample=with_sample, limits=Limits.from_settings(s), turns=workspaces(s).store
    )
