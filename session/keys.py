"""Every ``st.session_state`` key shared across pages, one constant each, with typed accessors.

Page-local keys stay with their page's widgets and carry the page's prefix (``cmp_``, ``eval_``, ``kb_``, ``ft_``,
``guide_``, ``set_``, ``fac_``); a key read or written by more than one page or widget module lives here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

SETTINGS = "settings"  # this session's ragft.settings.Settings (the Settings page edits it)
WORKSPACE_ID = "workspace_id"  # the issued, signed workspace id (also in the URL as ?ws=)
WORKSPACE_LABEL = "workspace_label"  # its anonymous label ("Participant 7")
WORKSPACE_NOTICE = "workspace_notice"  # a one-time notice (a made-up link got a new workspace, ...)
WORKSPACE_SEEN = "workspace_seen_at"  # monotonic time this session last confirmed its workspace
JOIN_CODE = "join_code_typed"  # a join code typed in the router's form, tried once on the next run
LEDGER = "ledger"  # ragft.costs.ledger.SessionLedger: every call of this session
BUDGET = "budget"  # ragft.costs.budget.Budget of this session's workspace
PRICE_OVERRIDES = "price_overrides"  # this session's prices: {model id or glob: Price}
EVIDENCE = "evidence"  # rows from finished comparisons and evaluations, read by the decision guide
TRAINING_TOKENS = "ft_training_tokens"  # the Fine-tune page's training-file tokens, for the guide's projection
SAMPLE_ERROR = "kb_sample_error"  # why the shared sample could not be indexed, shown once on Knowledge base
CLASS_EVENT = "_class_event"  # (monotonic time, EventDefaults) cached for a few seconds


def workspace_id() -> str:
    """This session's workspace id, or "" before the router has resolved it."""
    return str(st.session_state.get(WORKSPACE_ID) or "")


def evidence() -> object:
    """The evidence rows collected in this session, as held (the guide validates them: a session can hold
    anything), or None."""
    return st.session_state.get(EVIDENCE)


def add_evidence(rows: list[dict[str, Any]]) -> None:
    """Hand finished rows to the decision guide (a malformed value held before is replaced)."""
    held = st.session_state.get(EVIDENCE)
    st.session_state[EVIDENCE] = (held if isinstance(held, list) else []) + list(rows)


def training_tokens() -> int | None:
    value = st.session_state.get(TRAINING_TOKENS)
    return value if isinstance(value, int) else None


def set_training_tokens(tokens: int | None) -> None:
    st.session_state[TRAINING_TOKENS] = tokens


def set_sample_error(message: str) -> None:
    st.session_state[SAMPLE_ERROR] = message


def pop_sample_error() -> str | None:
    value = st.session_state.pop(SAMPLE_ERROR, None)
    return str(value) if value else None
