"""The decision guide's cost section: the projection prefilled from the answers, adjustable, as a chart.

The assumptions are edited with the shared projection editor (``components.shared.projection``), the same one the
Costs page uses; the figures come from the cost engine (``ragft.costs.projection``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

import streamlit as st

from components.guide import charts as guide_charts
from components.shared.projection import projection_editor, render_projection
from ragft.configs import APPROACH_LABELS, APPROACHES
from ragft.costs.money import format_usd
from ragft.costs.projection import ProjectionInputs, project_monthly, training_row
from ragft.errors import RagftError
from ragft.guide import Answers, Recommendation, retrains_to_stay_current
from session import config, keys

logger = logging.getLogger(__name__)

# The assumptions a person may adjust, and what each one was prefilled from.
GUIDE_FIELDS: dict[str, str] = {
    "queries_per_month": "From your answer on query volume.",
    "context_tokens": "Retrieved chunks added to each prompt.",
    "style_prompt_tokens": "Tokens of instructions and examples prompting and RAG need to imitate the trained "
    "behaviour.",
    "corpus_tokens": "From your answer on the size of the documents.",
    "reindexes_per_month": "From how often the knowledge changes.",
    "training_tokens": "Examples on hand × about 300 tokens each.",
    "retrains_per_month": "A fine-tune carries behaviour, not facts: refreshed about quarterly.",
}


def _adjusted(inputs: ProjectionInputs) -> ProjectionInputs:
    with st.expander("Assumptions (prefilled from your answers)", icon=":material/tune:"):
        adjusted = projection_editor(
            inputs, key="guide_cost", fields=list(GUIDE_FIELDS), models=False, columns=2, helps=GUIDE_FIELDS
        )
        st.caption(
            f"Prices: {inputs.base_model}, {inputs.finetuned_model} and {inputs.embedding_model} "
            "at list prices from the cost engine."
        )
    return adjusted


def hosted_note(inputs: ProjectionInputs) -> str:
    """Where the projection trains the fine-tune, when it is not the base model's provider (OpenAI's ended)."""
    if not inputs.finetuned_provider:
        return ""
    row = training_row(inputs)
    where = row.service if row is not None else inputs.finetuned_provider
    return (
        f"OpenAI's self-serve fine-tuning has ended, so fine-tuning and hybrid are priced as a LoRA of "
        f"{inputs.finetuned_model} on {where}"
        + (f" (training ${row.per_m_training_tokens} per 1M tokens, read {row.read_on})" if row is not None else "")
        + "; prompting and RAG keep the base model."
    )


def _overrides() -> Any:
    """This session's price overrides (Settings), if any; the guide works without them."""
    try:
        return config.settings().price_overrides or None
    except RagftError:
        logger.exception("settings unreadable: the guide's projection uses list prices")
        return None


def render(answers: Answers, rec: Recommendation, inputs: ProjectionInputs) -> tuple[dict[str, Decimal], str]:
    """Draw the cost section; return (approach → monthly total, a one-line note) for the export."""
    trained = keys.training_tokens()  # the Fine-tune page's examples, when there are some
    if isinstance(trained, int) and trained > 0:
        inputs = replace(inputs, training_tokens=trained)
    inputs = _adjusted(inputs)
    overrides = _overrides()
    try:
        costs = project_monthly(inputs, overrides)
    except RagftError as exc:
        logger.exception("projection refused the guide's inputs")
        note = f"The projection refused these numbers: {exc.message}"
        st.warning(note)
        return {}, note
    st.plotly_chart(guide_charts.cost_chart(costs, rec.best), key="guide_chart_costs", config={"displayModeBar": False})
    if note := hosted_note(inputs):
        st.info(note, icon=":material/event_busy:")
    cheapest = min((k for k in APPROACHES if costs[k].complete), key=lambda k: costs[k].total, default=None)
    best = costs[rec.best]
    lines = [
        f"At {inputs.queries_per_month:,} queries a month, **{APPROACH_LABELS[rec.best]}** costs about "
        f"**{format_usd(best.total)}** a month ({format_usd(best.per_query)} per query, "
        f"{format_usd(best.setup)} one-off to set up)."
    ]
    if cheapest and cheapest != rec.best:
        lines.append(
            f"The cheapest is {APPROACH_LABELS[cheapest]} at {format_usd(costs[cheapest].total)}: "
            "cost is one factor among many."
        )
    stale = retrains_to_stay_current(answers)
    if stale:
        kept = project_monthly(replace(inputs, retrains_per_month=stale), overrides)["finetuning"]
        lines.append(
            f"Using fine-tuning for facts that change {answers.change} would take about {stale:g} training "
            f"runs a month: {format_usd(kept.total)} a month instead of "
            f"{format_usd(costs['finetuning'].total)}, and it would still lag behind."
        )
    unknown = sorted({part for k in APPROACHES for part in costs[k].unknown})
    if unknown:
        lines.append(f"Some prices are unknown ({', '.join(unknown)}): those parts count as $0.")
    if answers.privacy == "on_prem":
        lines.append(
            "On your own servers you pay for hardware and people rather than tokens: these hosted "
            "prices are for comparison."
        )
    st.markdown("\n\n".join(lines))
    with st.expander("Cost over query volume, and break-even points", icon=":material/show_chart:"):
        render_projection(inputs, key="guide_projection", overrides=overrides, show_table=True)
    note = (
        f"Projection at {inputs.queries_per_month:,} queries a month, corpus {inputs.corpus_tokens:,} tokens "
        f"re-indexed {inputs.reindexes_per_month:g}× a month, {inputs.training_tokens:,} training tokens "
        f"× {inputs.epochs} epochs, {inputs.retrains_per_month:g} training runs a month."
    )
    return {k: costs[k].total for k in APPROACHES}, note
