"""The live cost meter of the sidebar, and the participant's own-cap form.

- ``render_cost_meter()`` draws the meter where it is called (the shared sidebar calls it on every page):
  session spend, tokens in/out, the last question's cost, local compute seconds, and progress against the
  budget caps as a small plotly bar. It is an ``st.fragment`` with ``run_every``: it polls fast while a
  call is streaming, slowly otherwise, and each of its runs is the session's heartbeat (``session.classroom.touch``),
  so a participant's runs are stopped only once no tab of the session is open.
- A fragment cannot rerun while the page script itself is busy (Streamlit queues fragment runs behind the
  script run), so a page that streams answers in its own script run calls ``refresh_cost_meter()`` from
  its loop (e.g. once per compare event): it redraws the meter in place, at most every 2 seconds (``REFRESH_MIN_S``:
  a redraw reads the budget from the class database and sends each of the meter's elements again).
- The session's ledger and budget come from :mod:`session.spend`.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ragft.costs.budget import Budget, BudgetStatus, share
from ragft.costs.ledger import Totals
from ragft.costs.prices import format_usd
from ragft.errors import RagftError
from ragft.redraw import METER_EVERY_S
from ragft.settings import Settings
from session import classroom
from session.spend import get_budget, get_ledger

logger = logging.getLogger(__name__)

_SLOT_KEY = "cost_meter_slot"
_DRAWN_KEY = "cost_meter_drawn"  # (monotonic time, ledger version) of the last in-place redraw
_SEQ_KEY = "cost_meter_seq"
LIVE_EVERY_S = 1.0
IDLE_EVERY_S = 15.0
REFRESH_MIN_S = METER_EVERY_S  # in place from a streaming loop: each redraw reads the class database

SPENT, INFLIGHT, FREE = "#2e7d32", "#f9a825", "rgba(128,128,128,0.18)"


# ---- your own cap ------------------------------------------------------------------------------------
def render_own_cap(budget: Budget, status: BudgetStatus, *, key: str) -> None:
    """Let the participant cap what they pay themselves (their own key), kept for their workspace."""
    with st.form(key, border=False):
        st.markdown("**Your own cap** (calls on your own key)")
        value = st.number_input(
            "Stop my own-key calls at (USD)",
            min_value=0.0,
            value=float(status.own_cap if status.own_cap is not None else 1),
            step=0.01,
            format="%.2f",
            key=f"{key}_value",
            help="Counts only what you pay on your own key or endpoint. Calls on the server's key count against "
            "the facilitator's cap; free calls count against none.",
        )
        left, right = st.columns(2)
        save = left.form_submit_button("Set my cap")
        clear = right.form_submit_button("Remove my cap", disabled=status.own_cap is None)
    if save or clear:
        try:
            now = budget.set_own_cap(None if clear else Decimal(str(round(value, 6))))
        except (RagftError, ValueError) as exc:
            logger.exception("setting the participant's own cap failed")
            st.error(getattr(exc, "message", "That cap is not valid."))
            return
        st.toast(f"Your own cap is now {format_usd(now)}." if now is not None else "No cap on your own-key calls.")
        st.rerun()


# ---- drawing -----------------------------------------------------------------------------------------
def budget_figure(status: BudgetStatus) -> go.Figure | None:
    """Small horizontal bars, one per cap that is set: spent / in flight / left, as shares of the cap."""
    rows = []
    if status.workspace_cap is not None:
        rows.append(("Server key", status.workspace_spent, status.workspace_reserved, status.workspace_cap))
    if status.own_cap is not None:
        rows.append(("Your key", status.own_spent, status.own_reserved, status.own_cap))
    if status.app_cap is not None:
        rows.append(("App", status.app_spent, status.app_reserved, status.app_cap))
    if not rows:
        return None
    labels = [r[0] for r in rows]

    spent = [share(r[1], r[3]) or 0.0 for r in rows]
    flight = [share(r[2], r[3]) or 0.0 for r in rows]
    free = [max(0.0, 1.0 - s - f) for s, f in zip(spent, flight, strict=False)]
    dollars = {
        "spent": [format_usd(r[1]) for r in rows],
        "in flight": [format_usd(r[2]) for r in rows],
        "left": [format_usd(max(Decimal(0), r[3] - r[1] - r[2])) for r in rows],
    }
    fig = go.Figure()
    for name, values, color in (("spent", spent, SPENT), ("in flight", flight, INFLIGHT), ("left", free, FREE)):
        fig.add_bar(
            y=labels,
            x=values,
            name=name,
            orientation="h",
            marker_color=color,
            customdata=dollars[name],
            hovertemplate="%{y}: %{customdata} " + name + "<extra></extra>",
        )
    for (label, _s, _f, cap), used in zip(rows, (s + f for s, f in zip(spent, flight, strict=False)), strict=False):
        fig.add_annotation(
            y=label,
            x=1.0,
            text=f"{used:.0%} of {format_usd(cap)}",
            showarrow=False,
            xanchor="right",
            font=dict(size=10),
        )
    fig.update_layout(
        barmode="stack",
        height=30 + 26 * len(rows),
        margin=dict(l=0, r=0, t=2, b=2),
        showlegend=False,
        xaxis=dict(visible=False, range=[0, max(1.0, max(s + f for s, f in zip(spent, flight, strict=False)))]),
        yaxis=dict(autorange="reversed", tickfont=dict(size=11)),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def _money(t: Totals, *, hypothetical: bool = False) -> str:
    """What was paid (hypothetical prices of free calls apart; with ``hypothetical``, named after it)."""
    if t.calls == 0:
        return "$0"
    if t.cost_or_none is None:
        return "price unknown"
    text = format_usd(t.real)
    if hypothetical and t.hypothetical:
        text += f" (+ {format_usd(t.hypothetical)} hypothetical)"
    return f"{text} + {t.unknown} unpriced" if t.unknown else text


def _draw(chart_key: str) -> None:
    ledger = get_ledger()
    budget = get_budget()
    totals = ledger.totals(include_live=True)
    live = ledger.live()
    st.markdown("**Cost meter**" + (" · :orange[streaming…]" if live else ""))
    st.metric(
        "Session spend",
        _money(totals),
        help="What this browser session's calls cost whoever paid them (the server's key or yours), at the prices "
        "in use (see the Costs page); prices you gave free calls are shown apart, as hypothetical. Calls whose "
        "price is unknown are counted, never shown as $0.",
    )
    u = totals.usage
    st.caption(f"Tokens in **{u.prompt_tokens:,}** · out **{u.completion_tokens:,}** · {totals.calls} calls")
    if totals.hypothetical:
        st.caption(f"Hypothetical: {format_usd(totals.hypothetical)} (free calls at your prices; nobody pays it)")
    qid, last = ledger.last_question(include_live=True)
    if qid is not None:
        st.caption(f"Last question: **{_money(last, hypothetical=True)}** ({last.calls} calls)")
    if totals.compute_s:
        st.caption(f"Local models: $0, {totals.compute_s:.1f} s of compute")
    status = budget.status()
    fig = budget_figure(status)
    if fig is None:
        st.caption("No budget cap set.")
    else:
        st.plotly_chart(fig, key=chart_key, config={"displayModeBar": False, "staticPlot": True}, width="stretch")
    st.session_state[_DRAWN_KEY] = (time.monotonic(), ledger.version)


def _this_run() -> object | None:
    """An object unique to the current script run (its cursor map), to spot a slot left by an earlier run."""
    ctx = get_script_run_ctx()
    return getattr(ctx, "cursors", None) if ctx is not None else None


def _meter_body() -> None:
    classroom.touch()  # the session's heartbeat: its runs go on while a tab shows the meter, even without clicks
    slot = st.empty()
    st.session_state[_SLOT_KEY] = (slot, _this_run())
    with slot.container():
        _draw("cost_meter_budget")


_meter_live = st.fragment(run_every=LIVE_EVERY_S)(_meter_body)
_meter_idle = st.fragment(run_every=IDLE_EVERY_S)(_meter_body)


def render_cost_meter(settings: Settings | None = None) -> None:
    """Draw the meter here (the shared sidebar calls it inside ``with st.sidebar``)."""
    try:
        get_budget(settings)
        (_meter_live if get_ledger().has_live() else _meter_idle)()
    except RagftError as exc:  # e.g. an unwritable data dir: say so, keep the page alive
        st.caption(f"Cost meter unavailable: {exc.message}")


def refresh_cost_meter(force: bool = False) -> None:
    """Redraw the meter in place from a page's streaming loop (throttled; no-op if nothing changed)."""
    stored = st.session_state.get(_SLOT_KEY)
    if not stored or stored[1] is None or stored[1] is not _this_run():
        return  # the meter was not drawn in this run (e.g. a page run on its own): nothing to move
    slot = stored[0]
    last_t, last_v = st.session_state.get(_DRAWN_KEY, (0.0, -1))
    if not force and (get_ledger().version == last_v or time.monotonic() - last_t < REFRESH_MIN_S):
        return
    seq = st.session_state.get(_SEQ_KEY, 0) + 1
    st.session_state[_SEQ_KEY] = seq
    try:
        with slot.container():
            _draw(f"cost_meter_budget_{seq}")
    except RagftError:
        pass
