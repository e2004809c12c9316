"""The decision guide's cost section: the projection prefilled from the answers, adjustable, as a chart.

Uses the cost engine (``ragft.costs.projection``) and, when it exists, the shared projection widget
(``components.projection``) for the cost-over-volume view.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import streamlit as st

from components import guide_charts
from ragft.guide import guide as G
from ragft.configs import APPROACH_LABELS, APPROACHES
from ragft.errors import RagftError
from ragft.costs.projection import ProjectionInputs, project_monthly

# (field, label, step, help) of the assumptions a person may adjust.
_FIELDS: tuple[tuple[str, str, float, str], ...] = (
    ("queries_per_month", "Queries per month", 1000, "From your answer on query volume."),
    ("context_tokens", "RAG context tokens per query", 100, "Retrieved chunks added to each prompt."),
    ("style_prompt_tokens", "Style instructions per prompt", 50,
     "Tokens of instructions and examples prompting and RAG need to imitate the trained behaviour."),
    ("corpus_tokens", "Corpus tokens", 10_000, "From your answer on the size of the documents."),
    ("reindexes_per_month", "Re-indexes per month", 1.0, "From how often the knowledge changes."),
    ("training_tokens", "Training tokens", 10_000, "Examples on hand × about 300 tokens each."),
    ("retrains_per_month", "Training runs per month", 0.25,
     "A fine-tune carries behaviour, not facts: refreshed about quarterly."),
)


def _sync_prefill(inputs: ProjectionInputs) -> None:
    """Reset the adjustable numbers when the answers (and so the prefill) change; keep edits otherwise."""
    prefill = {name: getattr(inputs, name) for name, *_ in _FIELDS}
    if st.session_state.get("guide_cost_prefill") != prefill:
        st.session_state["guide_cost_prefill"] = prefill
        for name, value in prefill.items():
            st.session_state[f"guide_cost_{name}"] = value


def _adjusted(inputs: ProjectionInputs) -> ProjectionInputs:
    _sync_prefill(inputs)
    with st.expander("Assumptions (prefilled from your answers)", icon=":material/tune:"):
        cols = st.columns(2)
        changes: dict[str, Any] = {}
        for i, (name, label, step, help_text) in enumerate(_FIELDS):
            is_float = isinstance(step, float)
            with cols[i % 2]:
                value = st.number_input(
                    label, min_value=0.0 if is_float else 0, step=step, key=f"guide_cost_{name}",
                    help=help_text, format="%.2f" if is_float else "%d",
                )
            changes[name] = float(value) if is_float else int(value)
        st.caption(f"Prices: {inputs.base_model}, {inputs.finetuned_model} and {inputs.embedding_model} "
                   "at list prices from the cost engine.")
    return replace(inputs, **changes)


def _overrides() -> Any:
    """This session's price overrides (Settings), if any; the guide works without them."""
    try:
        from components import state  # noqa: PLC0415

        return state.settings().price_overrides or None
    except RagftError:
        return None


def _volume_view(inputs: ProjectionInputs, overrides: Any) -> None:
    """The shared projection widget (cost over query volume, break-evens), once it has landed."""
    try:
        from components.projection import render_projection  # noqa: PLC0415
    except ImportError:
        return
    with st.expander("Cost over query volume, and break-even points", icon=":material/show_chart:"):
        render_projection(inputs, key="guide_projection", editable=False, overrides=overrides, show_table=True)


def render(answers: G.Answers, rec: G.Recommendation, inputs: ProjectionInputs) -> tuple[dict[str, Decimal], str]:
    """Draw the cost section; return (approach → monthly total, a one-line note) for the export."""
    inputs = _adjusted(inputs)
    overrides = _overrides()
    try:
        costs = project_monthly(inputs, overrides)
    except ValueError as exc:
        note = f"The projection refused these numbers: {exc}."
        st.warning(note)
        return {}, note
    st.plotly_chart(guide_charts.cost_chart(costs, rec.best), key="guide_chart_costs",
                    config={"displayModeBar": False})
    cheapest = min((k for k in APPROACHES if costs[k].complete), key=lambda k: costs[k].total, default=None)
    best = costs[rec.best]
    lines = [
        f"At {inputs.queries_per_month:,} queries a month, **{APPROACH_LABELS[rec.best]}** costs about "
        f"**{G.format_usd(best.total)}** a month ({G.format_usd(best.per_query)} per query, "
        f"{G.format_usd(best.setup)} one-off to set up)."
    ]
    if cheapest and cheapest != rec.best:
        lines.append(f"The cheapest is {APPROACH_LABELS[cheapest]} at {G.format_usd(costs[cheapest].total)}: "
                     "cost is one factor among many.")
    stale = G.retrains_to_stay_current(answers)
    if stale:
        kept = project_monthly(replace(inputs, retrains_per_month=stale), overrides)["finetuning"]
        lines.append(
            f"Using fine-tuning for facts that change {answers.change} would take about {stale:g} training "
            f"runs a month: {G.format_usd(kept.total)} a month instead of "
            f"{G.format_usd(costs['finetuning'].total)}, and it would still lag behind."
        )
    unknown = sorted({part for k in APPROACHES for part in costs[k].unknown})
    if unknown:
        lines.append(f"Some prices are unknown ({', '.join(unknown)}): those parts count as $0.")
    if answers.privacy == "on_prem":
        lines.append("On your own servers you pay for hardware and people rather than tokens: these hosted "
                     "prices are for comparison.")
    st.markdown("\n\n".join(lines))
    _volume_view(inputs, overrides)
    note = (f"Projection at {inputs.queries_per_month:,} queries a month, corpus {inputs.corpus_tokens:,} tokens "
            f"re-indexed {inputs.reindexes_per_month:g}× a month, {inputs.training_tokens:,} training tokens "
            f"× {inputs.epochs} epochs, {inputs.retrains_per_month:g} training runs a month.")
    return {k: costs[k].total for k in APPROACHES}, note
