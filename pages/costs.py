"""Costs: what this session spent (by model, configuration, time), its calls, the prices in use, the budget
caps, and the monthly projection of the four approaches."""

from __future__ import annotations

import streamlit as st

from components.costs import view as V
from components.shared.projection import COSTS_PAGE_DEFAULTS, projection_editor, render_projection
from components.shared.shell import page_shell
from ragft.costs.money import format_usd
from session import config
from session.prices import price_overrides
from session.spend import get_ledger

page_shell(__file__)

st.title("Costs")
st.caption(
    "Every token this session spent, as money, at the prices shown under **Prices**. "
    "Self-hosted models cost $0 per token: their cost is compute time."
)

settings = config.settings_or_stop()
ledger = get_ledger()
overrides = price_overrides(settings)
totals = ledger.totals(include_live=False)

c = st.columns(5)
c[0].metric(
    "Session spend",
    V.paid_money(totals),
    help="Paid by the server's key or by you. Prices you gave free calls are hypothetical, shown apart.",
)
if totals.hypothetical:
    c[0].caption(f"+ {format_usd(totals.hypothetical)} hypothetical (free calls at your prices)")
c[1].metric("Calls", f"{totals.calls:,}")
c[2].metric("Tokens in", f"{totals.usage.prompt_tokens:,}")
c[3].metric("Tokens out", f"{totals.usage.completion_tokens:,}")
c[4].metric("Local compute", f"{totals.compute_s:.1f} s")
if totals.unknown:
    st.warning(
        f"{totals.unknown} call(s) used a model whose price is unknown: they are counted in tokens but not "
        "in dollars. Set a price for them under **Prices**."
    )

# Keyed: the open tab stays when a banner above the tabs comes or goes (the facilitator's pause).
spend, calls, prices, budget_tab, projection = st.tabs(
    ["Spend", "Calls", "Prices", "Budget", "Projection"], key="costs_tab", on_change="rerun"
)
with spend:
    V.spend_panel(ledger)
with calls:
    V.calls_panel(ledger)
with prices:
    V.prices_panel(settings, ledger, overrides, config.today_or_stop())
with budget_tab:
    V.budget_panel(settings)
with projection:
    st.markdown(
        "Monthly cost of each approach at a given query volume, with the volumes where one becomes "
        "cheaper than another. Hosted list prices, for comparison with the embedded models ($0 per token)."
    )
    proj_inputs = projection_editor(COSTS_PAGE_DEFAULTS, key="costs_proj")
    render_projection(proj_inputs, key="costs_proj", overrides=overrides)
