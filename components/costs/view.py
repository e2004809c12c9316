"""The Costs page's panels: spend charts, the calls table, the prices in use, the budget caps."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import streamlit as st

from components.costs.price_overrides import price_override_editor
from components.shared.cost_meter import budget_figure, render_own_cap
from ragft.configs import BY_KEY
from ragft.costs.ledger import INGEST, RETRIEVAL, SEARCH, SessionLedger, Totals
from ragft.costs.money import format_rate
from ragft.costs.prices import format_usd, load_price_table, price_row, price_rows, pricing_data_info
from ragft.errors import RagftError
from ragft.guide.lifecycle import hosted_options_fact, lifecycle_facts
from ragft.settings import Settings
from session import models
from session.spend import get_budget

logger = logging.getLogger(__name__)


def money(t: Totals) -> str:
    if t.calls and t.cost_or_none is None:
        return "price unknown"
    text = format_usd(t.cost)
    if t.hypothetical and t.hypothetical == t.cost:
        text += " (hypothetical)"
    elif t.hypothetical:
        text += f" ({format_usd(t.hypothetical)} hypothetical)"
    return f"{text} (+{t.unknown} unpriced)" if t.unknown else text


def paid_money(t: Totals) -> str:
    """What was paid, by the server's key or the participant (hypothetical prices of free calls apart)."""
    if t.calls and t.cost_or_none is None:
        return "price unknown"
    text = format_usd(t.real)
    return f"{text} (+{t.unknown} unpriced)" if t.unknown else text


PAID_BY = {"server": "server's key", "own": "you", "hypothetical": "nobody (hypothetical)"}


def conf_label(key: str) -> str:
    if key in BY_KEY:
        return BY_KEY[key].label
    labels = {
        INGEST: "Indexing (embeddings)",
        RETRIEVAL: "Question embeddings (RAG)",
        SEARCH: "Knowledge base searches",
    }
    return {**labels, "other": "Other"}.get(key, key)


def _bar(groups: dict[str, Totals], label, title: str, key: str) -> None:
    names = list(groups)
    fig = go.Figure(
        go.Bar(
            x=[label(n) for n in names],
            y=[float(groups[n].cost) for n in names],
            text=[money(groups[n]) for n in names],
            textposition="outside",
            customdata=[
                [groups[n].calls, groups[n].usage.prompt_tokens, groups[n].usage.completion_tokens] for n in names
            ],
            hovertemplate="%{x}: %{text}<br>%{customdata[0]} calls, %{customdata[1]:,} in / "
            "%{customdata[2]:,} out tokens<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        height=320,
        margin=dict(l=10, r=10, t=40, b=10),
        yaxis=dict(title="USD", tickprefix="$", rangemode="tozero"),
    )
    st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def spend_panel(ledger: SessionLedger) -> None:
    if not len(ledger):
        st.info(
            "No calls yet. Ask a question on **Compare** or index documents on **Knowledge base**: "
            "every call shows up here with its tokens and cost."
        )
        return
    left, right = st.columns(2)
    with left:
        _bar(ledger.by_model(), str, "By model", "costs_by_model")
    with right:
        _bar(ledger.by_configuration(), conf_label, "By configuration", "costs_by_conf")
    points = ledger.cumulative()
    fig = go.Figure(
        go.Scatter(
            x=[p[0] for p in points],
            y=[float(p[1]) for p in points],
            mode="lines+markers",
            line_shape="hv",
            name="cumulative spend",
            customdata=[format_usd(p[1]) for p in points],
            hovertemplate="%{x|%H:%M:%S}: %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Over time (cumulative)",
        height=300,
        margin=dict(l=10, r=10, t=40, b=10),
        yaxis=dict(title="USD", tickprefix="$", rangemode="tozero"),
    )
    st.plotly_chart(fig, key="costs_over_time", config={"displayModeBar": False})
    by_q = ledger.by_question()
    if by_q:
        questions = {r.question_id: r.question for r in ledger.records() if r.question_id}
        st.markdown("**By question**")
        st.dataframe(
            [
                {
                    "question": questions.get(q) or q,
                    "calls": t.calls,
                    "tokens in": t.usage.prompt_tokens,
                    "tokens out": t.usage.completion_tokens,
                    "cost": money(t),
                }
                for q, t in by_q.items()
            ],
            hide_index=True,
            key="costs_by_question",
        )


def calls_panel(ledger: SessionLedger) -> None:
    rows = ledger.to_rows()
    if not rows:
        st.info("No calls recorded in this session yet.")
    else:
        shown = [
            {
                "time": str(r["time"])[11:19],
                "kind": r["kind"],
                "model": r["model_id"],
                "configuration": conf_label(str(r["configuration"])),
                "in": r["prompt_tokens"],
                "out": r["completion_tokens"],
                "cached": r["cached_tokens"],
                "exact": r["usage_exact"],
                "cost": r["cost_usd"] if r["cost_usd"] == "unknown" else format_usd(Decimal(str(r["cost_usd"]))),
                "paid by": PAID_BY.get(str(r["paid_by"]), ""),
                "latency s": r["latency_s"],
                "ttft s": r["ttft_s"],
                "note": r["error"],
            }
            for r in reversed(rows)
        ]
        st.dataframe(shown, hide_index=True, key="costs_calls_table")
        st.caption(
            "“exact” is False where the server reported no usage and the tokens were counted with the "
            "model's tokenizer. Newest first."
        )
    a, b = st.columns([1, 1])
    a.download_button(
        "Download CSV",
        ledger.to_csv(),
        file_name="ragft_calls.csv",
        mime="text/csv",
        key="costs_csv",
        disabled=not rows,
        icon=":material/download:",
        on_click="ignore",
    )
    if b.button(
        "Clear this session's ledger",
        key="costs_clear",
        disabled=not rows,
        help="Forgets this session's calls. The app-wide spend (budget) is not reset.",
    ):
        ledger.clear()
        st.rerun()


def _slot_price_row(role: str, slot: str | None, settings: Settings) -> dict:
    """The price this session's calls in a slot are counted at (the session's billing, not the provider label)."""
    cfg = settings.embedding if slot is None else (settings.base if slot == "base" else settings.finetuned)
    try:
        model = models.chat_model(slot, s=settings) if slot else models.embedder(settings)
    except RagftError as exc:
        logger.info("price row for %s unavailable: %s", role, exc.message)
        return {**price_row(role, cfg.model, cfg.provider, None), "paid by": "", "source": exc.message}
    if model.billing.server_key:
        who = "the server's key"
    elif model.billing.free:
        local = model.price is None or model.price.local
        who = "free (runs locally)" if local else "nobody: a hypothetical price, counted against no cap"
    else:
        who = "you (your own cap)"
    return {**price_row(role, model.model_id, cfg.provider, model.price), "paid by": who}


def prices_panel(settings: Settings, ledger: SessionLedger, overrides: dict, today: date) -> None:
    info = pricing_data_info()
    table = load_price_table()
    st.markdown("**Prices in use** (USD per 1M tokens)")
    rows = [
        _slot_price_row("base slot", "base", settings),
        _slot_price_row("fine-tuned slot", "finetuned", settings),
        _slot_price_row("embeddings", None, settings),
    ]
    in_use = {(r["model"], r["provider"]) for r in rows}
    seen = sorted({(r.model_id, r.provider) for r in ledger.records()} - in_use)
    rows += price_rows([("seen this session", m, p) for m, p in seen], overrides)
    st.dataframe(rows, hide_index=True, key="costs_price_table")
    st.caption(
        f"Chat and embedding prices: {info['package']} {info['version']}, bundled data (no updates at run "
        f"time; latest price change it records: {info['latest_change']}). Fine-tuning training prices and "
        f"fine-tuned GPT-4.1 prices: project table compiled {table.compiled_on}. Overrides win over both; "
        "calls on the server's key use only the facilitator's overrides."
    )

    st.markdown("**Fine-tuning training prices** (USD per 1M training tokens)")
    st.warning(f"{lifecycle_facts(today)[0]} {hosted_options_fact(today)}", icon=":material/event_busy:")
    st.dataframe(
        [
            {
                "service": t.service or t.provider,
                "base model": t.label or t.base_model,
                "provider": t.provider,
                "$ per 1M": format_rate(t.per_m_training_tokens),
                "status": t.status(today),
                "as of": t.as_of,
                "read on": t.read_on,
                "source": t.source,
            }
            for t in sorted(table.training, key=lambda t: t.ended(today))
        ],
        hide_index=True,
        key="costs_training_table",
    )
    st.caption(table.how + (f" {table.not_listed}" if table.not_listed else ""))

    st.markdown("**Your price overrides** (this session)")
    price_override_editor(key="costs_overrides")


def budget_panel(settings: Settings) -> None:
    try:
        budget = get_budget(settings)
        status = budget.status()
    except RagftError as exc:
        st.error(exc.message)
        status = None
    if status is not None:
        a, b, c, d = st.columns(4)
        a.metric(
            "You, on the server's key",
            format_usd(status.workspace_spent),
            help="What the facilitator's key paid for this workspace, in every tab and across reloads: every call is "
            "reserved against the facilitator's cap, then settled.",
        )
        a.caption(
            f"Cap: {format_usd(status.workspace_cap, unknown='none')}"
            + (f" · in flight {format_usd(status.workspace_reserved)}" if status.workspace_reserved else "")
        )
        b.metric(
            "You, on your own key",
            format_usd(status.own_spent),
            help="What you paid on your own key or endpoint: counted against your own cap only.",
        )
        b.caption(
            f"Your own cap: {format_usd(status.own_cap, unknown='none')}"
            + (f" · in flight {format_usd(status.own_reserved)}" if status.own_reserved else "")
        )
        c.metric(
            "Hypothetical",
            format_usd(status.hypothetical),
            help="Free calls (the embedded model, local embeddings) at the prices you gave them: what they would "
            "cost hosted. Nobody pays it and it counts against no cap.",
        )
        c.caption("Not paid, not capped")
        d.metric("Whole app, on the server's key", format_usd(status.app_spent))
        d.caption(
            f"Cap: {format_usd(status.app_cap, unknown='none')}"
            + (f" · in flight {format_usd(status.app_reserved)}" if status.app_reserved else "")
        )
        fig = budget_figure(status)
        if fig is not None:
            st.plotly_chart(fig, key="costs_budget_chart", config={"displayModeBar": False})
        render_own_cap(budget, status, key="costs_own_cap")
        st.markdown(
            "Who pays decides which cap counts a call. Before every call the app reserves its worst case (prompt "
            "tokens + the maximum answer length at the model's price) against the caps of whoever pays: the "
            "facilitator's caps for the server's key, your own cap for your own key, none for a free call. A call "
            "that could cross a cap is refused before it starts, so nothing is spent; afterwards the reservation is "
            "replaced by what the call cost (a call stopped midway costs at least its prompt). With a cap set, a "
            "model whose price is unknown is refused (set an override). Self-hosted models cost $0 and always pass, "
            "whatever price you give them."
        )
        st.caption(
            "The facilitator sets the caps on the server's key (`RAGFT_PARTICIPANT_BUDGET_USD` per participant, "
            "`RAGFT_APP_BUDGET_USD` for everyone); the spend is kept by the server in its class database."
        )
