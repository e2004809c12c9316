"""Session state and shared resources for every page.

- Server-wide defaults come from env vars and ``.streamlit/secrets.toml`` (read here, passed to the core as plain
  mappings). Each browser session then holds its own :class:`ragft.settings.Settings` in
  ``st.session_state["settings"]`` (the Settings page edits that copy; keys typed there never leave the session).
- Heavy read-only resources (loaded llama.cpp engines, the embedder, Chroma clients) live in
  ``st.cache_resource`` and are shared by all sessions; they are never mutated after creation.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import streamlit as st

from components.cost_meter import session_overrides
from ragft import errors as E
from ragft.access import Policy, policy_from
from ragft.classroom import event
from ragft.costs.billing import Billed, price_for_billing
from ragft.models.chat import ChatModel, make_chat_model
from ragft.models.embeddings import Embedder, make_embedding_function
from ragft.models.pool import EnginePool
from ragft.settings import EmbeddingConfig, EndpointConfig, Settings, load_settings
from ragft.store import open_store
from ragft.training.adapters import workspace_adapter_choices

_EVENT_KEY = "_class_event"
EVENT_REFRESH_S = 5.0


def _secrets() -> dict:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(v, (str, int, float, bool))}
    except Exception:  # noqa: BLE001 - no secrets.toml: Streamlit raises its own error types on access
        return {}


@st.cache_resource(show_spinner=False)
def _server_settings(env_key: tuple) -> Settings:
    return load_settings(os.environ, _secrets())


def server_settings(raw: bool = False) -> Settings:
    """Server-wide defaults (env + secrets), with the event's defaults the facilitator set (unless ``raw``).
    Raises ConfigError for malformed values."""
    env_key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("RAGFT_", "CHROMA_"))))
    s = _server_settings(env_key)
    return s if raw else event.apply(s, event_defaults())


def event_defaults() -> event.EventDefaults:
    """The event's defaults from the class database, re-read at most every few seconds per session."""
    cached = st.session_state.get(_EVENT_KEY)
    if cached is not None and time.monotonic() - cached[0] < EVENT_REFRESH_S:
        return cached[1]
    env_key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("RAGFT_", "CHROMA_"))))
    ev = event.load(open_store(_server_settings(env_key).data_dir))
    st.session_state[_EVENT_KEY] = (time.monotonic(), ev)
    return ev


@st.cache_resource(show_spinner=False, max_entries=16)
def _policy(env_key: tuple, event_json: str) -> Policy:
    return policy_from(server_settings())


def policy() -> Policy:
    """The facilitator's rules (server settings with keys: they stay in this process, never in a session),
    plus the adapters this session's workspace trained on the Fine-tune page (``yours:<name>``)."""
    env_key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("RAGFT_", "CHROMA_"))))
    rules = _policy(env_key, event_defaults().to_json())
    mine = _workspace_adapters(rules.server)
    return replace(rules, extra_adapters={**(rules.extra_adapters or {}), **mine}) if mine else rules


def _workspace_adapters(server: Settings) -> dict[str, Path]:
    ws = st.session_state.get("workspace_id")  # set by components.workspace.current_workspace() on every page
    if not ws:
        return {}
    try:
        return workspace_adapter_choices(server.data_dir, ws)
    except E.RagftError:
        return {}


def default_settings() -> Settings:
    """The server defaults as a participant's session holds them: no key values, adapters by name."""
    return policy().participant_settings()


def settings() -> Settings:
    """This session's settings (the server defaults without secrets, edited on the Settings page)."""
    if "settings" not in st.session_state:
        st.session_state["settings"] = default_settings()
    s = st.session_state["settings"]
    cap = server_settings().participant_budget_usd  # the facilitator's cap is a rule: it reaches open sessions
    if s.participant_budget_usd != cap:
        s = st.session_state["settings"] = replace(s, participant_budget_usd=cap)
    return s


def settings_or_stop() -> Settings:
    """This session's settings; on a malformed configuration, a one-line error on the page and stop."""
    try:
        return settings()
    except E.ConfigError as exc:
        st.error(f"The configuration has an error: {exc.message}")
        st.stop()
        raise  # unreachable: st.stop() raises


def set_settings(new: Settings) -> None:
    st.session_state["settings"] = new


@st.cache_resource(show_spinner="Loading the embedded model…", max_entries=8)
def _engine(model_path: str, lora_path: str | None) -> EnginePool:
    # One pool of llama.cpp contexts per (model, adapter), shared by every session: each generating answer holds
    # a context of its own, and the core hands token steps round-robin over participants.
    return EnginePool(Path(model_path), Path(lora_path) if lora_path else None)


def _engine_loader(path: Path, lora: Path | None) -> EnginePool:
    return _engine(str(path), str(lora) if lora else None)


def slot_config(slot: str, s: Settings | None = None) -> EndpointConfig:
    s = s or settings()
    return s.base if slot == "base" else s.finetuned


@st.cache_resource(show_spinner=False, max_entries=32)
def _endpoint_model(cfg: EndpointConfig) -> ChatModel:
    # One client per endpoint configuration (keys stay in memory only), so the model-name check against /models
    # that it memoises runs once, not on every question.
    return make_chat_model(cfg)


def chat_model(slot: str, s: Settings | None = None) -> ChatModel:
    """The ChatModel of a slot ("base" or "finetuned"), billed for this session.

    The server's key is attached here, at the last moment, and only where the facilitator's policy allows it.
    Raises typed errors (AccessDenied, AdapterMissing, ...).
    """
    cfg = slot_config(slot, s)
    rules = policy()
    resolved = rules.resolve_endpoint(slot, cfg)
    model = (
        _endpoint_model(resolved)
        if not resolved.is_embedded
        else make_chat_model(resolved, engine_loader=_engine_loader)
    )
    billing = rules.billing(slot, cfg)
    price = price_for_billing(
        model.model_id, model.provider, billing, rules.server.price_overrides, session_overrides()
    )
    return Billed(model, billing, price)  # type: ignore[return-value]


def model_status(slot: str, s: Settings | None = None) -> tuple[bool, str]:
    """(ok, one-line description) without raising: for the sidebar and the Home page.

    Embedded slots are loaded (that is what can fail: model file, adapter). Endpoint slots are only described:
    building a client checks nothing, and this runs on every page; the Settings page's "test connection" calls them.
    """
    cfg = slot_config(slot, s)
    if not cfg.is_embedded:
        return True, cfg.label
    try:
        return True, chat_model(slot, s=s).label
    except E.RagftError as exc:
        return False, exc.message


@st.cache_resource(show_spinner="Loading the embedding model…", max_entries=4)
def _embedder(cfg: EmbeddingConfig) -> Embedder:
    return make_embedding_function(cfg)


def embedder(s: Settings | None = None) -> Embedder:
    """This session's embedder, billed like chat models (the server key only where the policy allows)."""
    cfg = (s or settings()).embedding
    rules = policy()
    emb = _embedder(rules.resolve_embedding(cfg))
    billing = rules.billing(None, cfg)
    price = price_for_billing(emb.model_id, emb.provider, billing, rules.server.price_overrides, session_overrides())
    return Billed(emb, billing, price)  # type: ignore[return-value]
