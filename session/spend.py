"""This session's ledger and its workspace's budget, the same objects on every page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.errors import RagftError
from ragft.settings import Settings
from session import config, keys
from session.workspace import current_workspace


def get_ledger() -> SessionLedger:
    """This browser session's ledger (created on first use)."""
    ledger = st.session_state.setdefault(keys.LEDGER, SessionLedger())
    if not isinstance(ledger, SessionLedger):  # a stale object from an older code version
        ledger = st.session_state[keys.LEDGER] = SessionLedger()
    return ledger


def _settings() -> Settings:
    try:
        return config.settings()
    except RagftError:  # a malformed configuration: the page shows it; the meter uses what the session holds
        return config.held_settings() or Settings()


def get_budget(settings: Settings | None = None) -> Budget:
    """This workspace's budget: caps from the settings, spend (per workspace and app-wide) in the class database.

    Keyed by the session's workspace id, so a reload or a new tab on the same workspace link keeps its spend.
    """
    s = settings or _settings()
    ws = current_workspace()
    budget = st.session_state.get(keys.BUDGET)
    if not isinstance(budget, Budget) or budget.data_dir != Path(s.data_dir) or budget.workspace_id != ws:
        budget = Budget(s.data_dir, s.app_budget_usd, s.participant_budget_usd, workspace_id=ws)
        st.session_state[keys.BUDGET] = budget
    elif (budget.app_cap, budget.participant_cap) != (s.app_budget_usd, s.participant_budget_usd):
        budget.set_caps(s.app_budget_usd, s.participant_budget_usd)
    return budget
