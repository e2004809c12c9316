"""The cost projection widget: inputs, a plotly chart of monthly cost against query volume, break-evens.

Used by the Costs page (editable) and the decision guide (``render_projection(inputs)``: the guide's own
inputs, chart only). All figures come from ``ragft.costs.projection``.
"""

from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal
from typing import Any, Mapping

import plotly.graph_objects as go
import streamlit as st

from ragft.configs import APPROACH_LABELS, APPROACHES
from ragft.costs.prices import format_usd, training_price
from ragft.costs.projection import (
    BreakEven,
    MonthlyCost,
    ProjectionInputs,
    break_even_points,
    cost_curve,
    default_volumes,
    project_monthly,
)

COLORS = {"prompting": "#607d8b", "rag": "#1e88e5", "finetuning": "#e53935", "hybrid": "#8e24aa"}

# (field, label, step, help) for the numeric inputs, in display order.
_NUMBERS: tuple[tuple[str, str, float, str], ...] = (
    ("queries_per_month", "Queries per month", 1000, "How many questions the assistant answers in a month."),
    ("prompt_tokens", "Prompt tokens", 10, "System prompt + the user's question, per query."),
    ("answer_tokens", "Answer tokens", 10, "Length of a typical answer."),
    ("style_prompt_tokens", "Style instructions (tokens)", 50,
     "Instructions and examples a base model needs in every prompt to imitate the tone or format a "
     "fine-tuned model has learned (prompting and RAG only)."),
    ("context_tokens", "Retrieved context (tokens)", 50, "Chunks RAG adds to every prompt (top-k x chunk size)."),
    ("corpus_tokens", "Corpus size (tokens)", 10_000, "Everything in the knowledge base, embedded at each re-index."),
    ("reindexes_per_month", "Re-indexes per month", 1.0, "How often the corpus is embedded again (data changes)."),
    ("training_tokens", "Training set (tokens)", 10_000, "Tokens in the fine-tuning file."),
    ("epochs", "Epochs", 1, "Passes over the training set per run."),
    ("retrains_per_month", "Training runs per month", 0.25, "0.25 = once a quarter."),
)
_MODELS: tuple[tuple[str, str], ...] = (
    ("base_model", "Base model"),
    ("finetuned_model", "Fine-tuned model"),
    ("embedding_model", "Embedding model"),
)


def projection_form(defaults: ProjectionInputs | None = None, *, key: str = "costs_proj") -> ProjectionInputs:
    """Widgets for every input; returns the ProjectionInputs they describe."""
    d = defaults or ProjectionInputs(queries_per_month=10_000, style_prompt_tokens=400)
    values: dict[str, Any] = {}
    cols = st.columns(4)
    for i, (name, label, step, help_) in enumerate(_NUMBERS):
        current = getattr(d, name)
        is_float = isinstance(step, float)
        with cols[i % 4]:
            values[name] = st.number_input(
                label, min_value=0.0 if is_float else 0, value=float(current) if is_float else int(current),
                step=step if is_float else int(step), key=f"{key}_{name}", help=help_,
            )
    cols = st.columns(3)
    for col, (name, label) in zip(cols, _MODELS):
        with col:
            values[name] = st.text_input(label, value=getattr(d, name), key=f"{key}_{name}").strip()
    return replace(d, **values)


def projection_figure(
    inputs: ProjectionInputs,
    overrides: Mapping[str, Any] | None = None,
    volumes: list[int] | None = None,
) -> tuple[go.Figure, list[BreakEven], dict[str, MonthlyCost]]:
    """(figure, break-evens inside the chart's range, monthly costs at ``inputs.queries_per_month``)."""
    volumes = volumes or default_volumes(max(1, inputs.queries_per_month))
    curve = cost_curve(inputs, volumes, overrides)
    lines = project_monthly(inputs, overrides)
    points = break_even_points(inputs, volumes, overrides)
    all_values = [v for a in APPROACHES for v in curve[a]]
    log_y = all(v > 0 for v in all_values)
    fig = go.Figure()
    for a in APPROACHES:
        unknown = lines[a].unknown
        fig.add_scatter(
            x=volumes, y=[float(v) for v in curve[a]], mode="lines",
            name=APPROACH_LABELS[a] + (" (partly unpriced)" if unknown else ""),
            line=dict(color=COLORS[a], width=2.5, dash="dot" if unknown else "solid"),
            hovertemplate="%{x:,} queries/month: %{y:$,.2f}<extra>" + APPROACH_LABELS[a] + "</extra>",
        )
    if points:
        fig.add_scatter(
            x=[float(p.queries_per_month) for p in points], y=[float(p.monthly_cost) for p in points],
            mode="markers", name="break-even", marker=dict(size=11, color="black", symbol="diamond"),
            text=[f"{APPROACH_LABELS[p.cheaper_above]} cheaper than {APPROACH_LABELS[p.cheaper_below]} above "
                  f"{float(p.queries_per_month):,.0f} queries/month" for p in points],
            hovertemplate="%{text}<br>%{y:$,.2f} a month<extra></extra>",
        )
    fig.add_vline(x=max(1, inputs.queries_per_month), line_dash="dash", line_color="grey",
                  annotation_text=f"{inputs.queries_per_month:,}/month", annotation_position="top left")
    fig.update_layout(
        height=420, margin=dict(l=10, r=10, t=30, b=10), hovermode="closest",
        xaxis=dict(type="log", title="Queries per month"),
        yaxis=dict(type="log" if log_y else "linear", title="Monthly cost (USD)", tickprefix="$"),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig, points, lines


def _table(lines: dict[str, MonthlyCost]) -> list[dict[str, str]]:
    rows = []
    for a in APPROACHES:
        m = lines[a]
        rows.append({
            "approach": APPROACH_LABELS[a],
            "monthly total": format_usd(m.total) + (" + unpriced " + ", ".join(m.unknown) if m.unknown else ""),
            "inference": format_usd(m.inference),
            "embeddings": format_usd(m.embeddings),
            "training": format_usd(m.training),
            "per 1,000 queries": format_usd(m.per_query * 1000),
            "one-off setup": format_usd(m.setup),
        })
    return rows


def _sentences(points: list[BreakEven], lines: dict[str, MonthlyCost], q: int) -> list[str]:
    priced = {a: m for a, m in lines.items() if m.complete}
    out = []
    if priced:
        best = min(priced, key=lambda a: (priced[a].total, APPROACHES.index(a)))
        out.append(f"At **{q:,}** queries a month the cheapest is **{APPROACH_LABELS[best]}** "
                   f"({format_usd(priced[best].total)} a month).")
    for p in points:
        out.append(f"Above **{float(p.queries_per_month):,.0f}** queries a month, {APPROACH_LABELS[p.cheaper_above]} "
                   f"costs less than {APPROACH_LABELS[p.cheaper_below]} (both {format_usd(p.monthly_cost)} there).")
    if not points:
        out.append("No break-even in this range: the order of the lines does not change with volume.")
    unpriced = sorted({part for m in lines.values() for part in m.unknown})
    if unpriced:
        out.append(f":orange[Prices unknown for: {', '.join(unpriced)}. Dotted lines leave those parts out: set a "
                   "price override on the Costs page.]")
    return out


def render_projection(
    inputs: ProjectionInputs | None = None,
    *,
    key: str = "projection",
    editable: bool | None = None,
    overrides: Mapping[str, Any] | None = None,
    show_table: bool = True,
) -> ProjectionInputs | None:
    """Draw the projection. ``inputs`` given and ``editable`` unset → chart only (the guide's use)."""
    if editable is None:
        editable = inputs is None
    if editable:
        inputs = projection_form(inputs, key=key)
    assert inputs is not None
    try:
        fig, points, lines = projection_figure(inputs, overrides)
    except ValueError as exc:  # negative inputs and the like
        st.warning(f"The projection refused these numbers: {exc}.")
        return None
    st.plotly_chart(fig, key=f"{key}_chart", config={"displayModeBar": False})
    st.markdown("\n\n".join(_sentences(points, lines, inputs.queries_per_month)))
    if show_table:
        st.dataframe(_table(lines), hide_index=True, key=f"{key}_table")
    train = training_price(inputs.finetuned_model, inputs.provider) or training_price(inputs.base_model, inputs.provider)
    note = ("Training at " + (f"${train.per_m_training_tokens} per 1M tokens ({train.base_model}, as of {train.as_of})"
                              if train else "an unknown price"))
    st.caption(f"{note}; inference and embeddings at the prices in use (see Prices). Fine-tuned models cost more "
               "per token than their base; RAG pays for embeddings and for the context added to every prompt.")
    return inputs


def inputs_from_mapping(values: Mapping[str, Any]) -> ProjectionInputs:
    """ProjectionInputs from a plain mapping, ignoring unknown keys (for pages that keep dicts)."""
    known = {f.name for f in fields(ProjectionInputs)}
    return ProjectionInputs(**{k: v for k, v in values.items() if k in known})


def monthly_totals(inputs: ProjectionInputs, overrides: Mapping[str, Any] | None = None) -> dict[str, Decimal]:
    return {a: m.total for a, m in project_monthly(inputs, overrides).items()}
