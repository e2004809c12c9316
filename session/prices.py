"""This session's price overrides ("what would this cost hosted"), and the overrides in force."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ragft.costs.prices import Price
from ragft.errors import RagftError
from ragft.settings import Settings
from session import config, keys


def session_overrides() -> dict[str, Price]:
    """This session's own prices, ``{model id or glob: Price}`` (edited on Costs → Prices)."""
    return st.session_state.setdefault(keys.PRICE_OVERRIDES, {})


def set_session_overrides(overrides: dict[str, Price]) -> None:
    st.session_state[keys.PRICE_OVERRIDES] = overrides


def price_overrides(s: Settings | None = None) -> dict[str, Any]:
    """Overrides in force: server-wide ones from the settings, then this session's (which win)."""
    if s is None:
        try:
            s = config.settings()
        except RagftError:  # a malformed configuration: the page shows it; use what the session holds
            s = config.held_settings()
    merged: dict[str, Any] = {}
    if s is not None and s.price_overrides:
        merged.update(s.price_overrides)
    merged.update(session_overrides())
    return merged
