"""Session state and shared resources for every page.

- Server-wide defaults come from env vars and ``.streamlit/secrets.toml`` (read here, passed to the core as plain
  mappings). Each browser session then holds its own :class:`ragft.settings.Settings` in
  ``st.session_state["settings"]`` (the Settings page edits that copy; keys typed there never leave the session).
- Heavy read-only resources (loaded llama.cpp engines, the embedder, Chroma clients) live in
  ``st.cache_resource`` and are shared by all sessions; they are never mutated after creation.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from ragft import errors as E
from ragft.models.embeddings import Embedder, make_embedding_function
from ragft.models.chat import ChatModel, EmbeddedEngine, make_chat_model
from ragft.settings import EmbeddingConfig, EndpointConfig, Settings, load_settings


def _secrets() -> dict:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(v, (str, int, float, bool))}
    except Exception:  # no secrets.toml: Streamlit raises on access
        return {}


@st.cache_resource(show_spinner=False)
def _server_settings(env_key: tuple) -> Settings:
    return load_settings(os.environ, _secrets())


def server_settings() -> Settings:
    """Server-wide defaults (env + secrets). Raises ConfigError for malformed values."""
    env_key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("RAGFT_", "CHROMA_"))))
    return _server_settings(env_key)


def settings() -> Settings:
    """This session's settings (a copy of the server defaults, edited on the Settings page)."""
    if "settings" not in st.session_state:
        st.session_state["settings"] = server_settings()
    return st.session_state["settings"]


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
def _engine(model_path: str, lora_path: str | None, lane: int) -> EmbeddedEngine:
    # One engine per (model, adapter, lane). Lanes let two configurations of the same slot (e.g. base and
    # base+RAG) generate at the same time; the core interleaves them token by token on the CPU.
    return EmbeddedEngine(Path(model_path), Path(lora_path) if lora_path else None)


def _engine_loader(lane: int):
    return lambda path, lora: _engine(str(path), str(lora) if lora else None, lane)


def slot_config(slot: str, s: Settings | None = None) -> EndpointConfig:
    s = s or settings()
    return s.base if slot == "base" else s.finetuned


@st.cache_resource(show_spinner=False, max_entries=32)
def _endpoint_model(cfg: EndpointConfig) -> ChatModel:
    # One client per endpoint configuration (keys stay in memory only), so the model-name check against /models
    # that it memoises runs once, not on every question.
    return make_chat_model(cfg)


def chat_model(slot: str, lane: int = 0, s: Settings | None = None) -> ChatModel:
    """The ChatModel of a slot ("base" or "finetuned"). Raises typed errors (AdapterMissing, ...)."""
    cfg = slot_config(slot, s)
    if not cfg.is_embedded:
        return _endpoint_model(cfg)
    return make_chat_model(cfg, engine_loader=_engine_loader(lane))


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
    return _embedder((s or settings()).embedding)
