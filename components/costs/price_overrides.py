"""Editor for this session's price overrides (Costs page; reusable on the Settings page).

Overrides live in ``st.session_state["price_overrides"]`` as ``{model id or glob: Price}`` and win over
the bundled prices for new calls (``session.prices.price_overrides()`` merges them with the
server-wide ones). Calls already recorded keep the price they were recorded with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from ragft.costs.prices import Price, coerce_price
from ragft.errors import RagftError
from session import keys
from session.prices import session_overrides

COLUMNS = ("model", "input $/1M", "output $/1M", "cached input $/1M")
_FLASH = "price_overrides_flash"


def rows_from_overrides(overrides: Mapping[str, Price]) -> list[dict[str, Any]]:
    return [
        {
            "model": k,
            "input $/1M": float(p.input_per_m),
            "output $/1M": float(p.output_per_m),
            "cached input $/1M": None if p.cached_input_per_m is None else float(p.cached_input_per_m),
        }
        for k, p in overrides.items()
    ]


def overrides_from_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Price], list[str]]:
    """(overrides, problems) from editor rows; rows without a model are ignored, bad figures reported."""
    new: dict[str, Price] = {}
    problems: list[str] = []
    for row in rows:
        model = str(row.get("model") or "").strip()
        if not model:
            continue
        figures: tuple[Any, ...] = (row.get("input $/1M"), row.get("output $/1M"))
        cached = row.get("cached input $/1M")
        if cached is not None and cached == cached and str(cached).strip() != "":  # skip None, NaN, ""
            figures += (cached,)
        if any(f is None or f != f for f in figures[:2]):
            problems.append(f"Price override for {model}: give both the input and the output price.")
            continue
        try:
            price = coerce_price(figures, f"price override for {model}")
        except RagftError as exc:
            problems.append(exc.message)
            continue
        new[model] = replace(price, source="your override")
    return new, problems


def price_override_editor(key: str = "price_overrides") -> None:
    """The editable table and an Apply button; applied overrides take effect for new calls."""
    st.caption(
        "A model id or a pattern (`ft:gpt-4o-mini*`), with dollars per 1M tokens. Use it for a negotiated "
        "price, a hosted open model, or a self-hosted model whose GPU hours you want to count."
    )
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(flash)
    rows = rows_from_overrides(session_overrides()) or [dict.fromkeys(COLUMNS)]
    edited = st.data_editor(
        rows,
        num_rows="dynamic",
        hide_index=True,
        key=f"{key}_editor",
        column_config={
            "model": st.column_config.TextColumn("model", help="Exact model id or a pattern with *"),
            "input $/1M": st.column_config.NumberColumn("input $/1M", min_value=0.0, format="%.4f"),
            "output $/1M": st.column_config.NumberColumn("output $/1M", min_value=0.0, format="%.4f"),
            "cached input $/1M": st.column_config.NumberColumn("cached input $/1M", min_value=0.0, format="%.4f"),
        },
    )
    if st.button("Apply overrides", key=f"{key}_apply", icon=":material/check:"):
        new, problems = overrides_from_rows(edited)
        if problems:
            for p in problems:
                st.error(p)
            return
        st.session_state[keys.PRICE_OVERRIDES] = new
        st.session_state[_FLASH] = (
            f"{len(new)} price override(s) in force for new calls; recorded calls keep their price."
        )
        st.rerun()
