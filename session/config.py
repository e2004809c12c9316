"""This session's settings and the facilitator's rules.

- Server-wide defaults come from env vars and ``.streamlit/secrets.toml`` (read here, passed to the core as plain
  mappings), with the event's defaults the facilitator set on the Facilitator page (class database).
- Each browser session then holds its own :class:`ragft.settings.Settings` (``keys.SETTINGS``; the Settings page
  edits that copy; keys typed there never leave the session).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import streamlit as st

from ragft import clock
from ragft import errors as E
from ragft.access import Policy, policy_from
from ragft.classroom import event
from ragft.settings import Settings, load_settings
from ragft.store import open_store
from ragft.training.adapters import workspace_adapter_choices
from session import keys

EVENT_REFRESH_S = 5.0


def _secrets() -> dict:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(v, (str, int, float, bool))}
    except Exception:  # noqa: BLE001 - no secrets.toml: Streamlit raises its own error types on access
        return {}


def _env_key() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("RAGFT_", "CHROMA_"))))


@st.cache_resource(show_spinner=False)
def _server_settings(env_key: tuple) -> Settings:
    return load_settings(os.environ, _secrets())


def server_settings(raw: bool = False) -> Settings:
    """Server-wide defaults (env + secrets), with the event's defaults the facilitator set (unless ``raw``).
    Raises ConfigError for malformed values."""
    s = _server_settings(_env_key())
    return s if raw else event.apply(s, event_defaults())


def event_defaults() -> event.EventDefaults:
    """The event's defaults from the class database, re-read at most every few seconds per session."""
    cached = st.session_state.get(keys.CLASS_EVENT)
    if cached is not None and time.monotonic() - cached[0] < EVENT_REFRESH_S:
        return cached[1]
    ev = event.load(open_store(_server_settings(_env_key()).data_dir))
    st.session_state[keys.CLASS_EVENT] = (time.monotonic(), ev)
    return ev


@st.cache_resource(show_spinner=False, max_entries=16)
def _policy(env_key: tuple, event_json: str) -> Policy:
    return policy_from(server_settings())


def policy() -> Policy:
    """The facilitator's rules (server settings with keys: they stay in this process, never in a session),
    plus the adapters this session's workspace trained on the Fine-tune page (``yours:<name>``)."""
    rules = _policy(_env_key(), event_defaults().to_json())
    mine = _workspace_adapters(rules.server)
    return replace(rules, extra_adapters={**(rules.extra_adapters or {}), **mine}) if mine else rules


def _workspace_adapters(server: Settings) -> dict[str, Path]:
    ws = keys.workspace_id()  # set by session.workspace.current_workspace() on every page
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
    if keys.SETTINGS not in st.session_state:
        st.session_state[keys.SETTINGS] = default_settings()
    s = st.session_state[keys.SETTINGS]
    cap = server_settings().participant_budget_usd  # the facilitator's cap is a rule: it reaches open sessions
    if s.participant_budget_usd != cap:
        s = st.session_state[keys.SETTINGS] = replace(s, participant_budget_usd=cap)
    return s


def held_settings() -> Settings | None:
    """The settings this session holds, without checking the configuration (for the meter on a broken one)."""
    value = st.session_state.get(keys.SETTINGS)
    return value if isinstance(value, Settings) else None


def settings_or_stop() -> Settings:
    """This session's settings; on a malformed configuration, a one-line error on the page and stop."""
    try:
        return settings()
    except E.ConfigError as exc:
        st.error(f"The configuration has an error: {exc.message}")
        st.stop()
        raise  # unreachable: st.stop() raises


def today_or_stop() -> date:
    """Today for dated facts (``RAGFT_TODAY`` when the server sets it, else the machine's date); a malformed
    ``RAGFT_TODAY`` is a one-line error on the page and a stop."""
    try:
        return clock.today()
    except E.ConfigError as exc:
        st.error(f"The configuration has an error: {exc.message}")
        st.stop()
        raise  # unreachable: st.stop() raises


def set_settings(new: Settings) -> None:
    st.session_state[keys.SETTINGS] = new
