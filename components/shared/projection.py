"""The cost projection widgets: one editor for its inputs, and a plotly chart of monthly cost against query
volume with the break-even points.

The Costs page edits every input (:func:`projection_editor` with all fields); the decision guide edits the
assumptions its answers prefill (a subset, with its own help texts) and shows the same chart
(:func:`render_projection`). All figures come from ``ragft.costs.projection``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ragft.configs import APPROACH_LABELS, APPROACHES
from ragft.costs.money import format_rate, format_usd
from ragft.costs.projection import (
    BreakEven,
    MonthlyCost,
    ProjectionInputs,
    break_even_points,
    cost_curve,
    default_volumes,
    examples_break_even,
    project_monthly,
    training_row,
)
from ragft.errors import RagftError

logger = logging.getLogger(__name__)

COLORS = {"prompting": "#607d8b", "rag": "#1e88e5", "finetuning": "#e53935", "hybrid": "#8e24aa"}


@dataclass(frozen=True)
class NumberField:
    """One numeric input of the projection: its label, step (a float step makes a float input) and help."""

    label: str
    step: float | int
    help: str

    @property
    def is_float(self) -> bool:
        return isinstance(self.step, float)


# Every numeric input, in display order.
NUMBER_FIELDS: dict[str, NumberField] = {
    "queries_per_month": NumberField("Queries per month", 1000, "How many questions the assistant answers in a month."),
    "prompt_tokens": NumberField("Prompt tokens", 10, "System prompt + the user's question, per query."),
    "answer_tokens": NumberField("Answer tokens", 10, "Length of a typical answer."),
    "style_prompt_tokens": NumberField(
        "Instructions + examples (tokens)",
        50,
        "Instructions and examples a base model needs in every prompt to imitate the tone or format a "
        "fine-tuned model has learned (prompting and RAG only): paid on every call, against training once.",
    ),
    "context_tokens": NumberField(
        "Retrieved context (tokens)", 50, "Chunks RAG adds to every prompt (top-k x chunk size)."
    ),
    "corpus_tokens": NumberField(
        "Corpus size (tokens)", 10_000, "Everything in the knowledge base, embedded at each re-index."
    ),
    "reindexes_per_month": NumberField(
        "Re-indexes per month", 1.0, "How often the corpus is embedded again (data changes)."
    ),
    "training_tokens": NumberField("Training set (tokens)", 10_000, "Tokens in the fine-tuning file."),
    "epochs": NumberField("Epochs", 1, "Passes over the training set per run."),
    "retrains_per_month": NumberField("Training runs per month", 0.25, "0.25 = once a quarter."),
}
MODEL_FIELDS: dict[str, str] = {
    "base_model": "Base model",
    "finetuned_model": "Fine-tuned model",
    "embedding_model": "Embedding model",
}
COSTS_PAGE_DEFAULTS = ProjectionInputs(queries_per_month=10_000, style_prompt_tokens=400)


def _sync_prefill(defaults: ProjectionInputs, names: Sequence[str], key: str) -> None:
    """Put ``defaults`` into the widgets when they change (or a widget lost its state); keep edits otherwise."""
    prefill = {name: getattr(defaults, name) for name in names}
    changed = st.session_state.get(f"{key}_prefill") != prefill
    st.session_state[f"{key}_prefill"] = prefill
    for name, value in prefill.items():
        widget = f"{key}_{name}"
        if changed or widget not in st.session_state:
            field = NUMBER_FIELDS.get(name)
            if field is not None:
                value = float(value) if field.is_float else int(value)
            st.session_state[widget] = value


def projection_editor(
    defaults: ProjectionInputs,
    *,
    key: str,
    fields: Sequence[str] | None = None,
    models: bool = True,
    columns: int = 4,
    helps: Mapping[str, str] | None = None,
) -> ProjectionInputs:
    """Number inputs for ``fields`` (all by default) and text inputs for the model names; returns ``defaults``
    with what the person typed. Edits persist across reruns until ``defaults`` change (new prefill)."""
    names = list(fields) if fields is not None else list(NUMBER_FIELDS)
    unknown = [n for n in names if n not in NUMBER_FIELDS]
    if unknown:
        raise ValueError(f"Not numeric projection inputs: {', '.join(unknown)}")
    _sync_prefill(defaults, names + (list(MODEL_FIELDS) if models else []), key)
    helps = helps or {}
    values: dict[str, Any] = {}
    cols = st.columns(columns)
    for i, name in enumerate(names):
        field = NUMBER_FIELDS[name]
        with cols[i % columns]:
            value = st.number_input(
                field.label,
                min_value=0.0 if field.is_float else 0,
                step=field.step,
                key=f"{key}_{name}",
                help=helps.get(name, field.help),
                format="%.2f" if field.is_float else "%d",
            )
        values[name] = float(value) if field.is_float else int(value)
    if models:
        cols = st.columns(len(MODEL_FIELDS))
        for col, (name, label) in zip(cols, MODEL_FIELDS.items(), strict=True):
            with col:
                values[name] = st.text_input(label, key=f"{key}_{name}").strip()
    return replace(defaults, **values)


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
            x=volumes,
            y=[float(v) for v in curve[a]],
            mode="lines",
            name=APPROACH_LABELS[a] + (" (partly unpriced)" if unknown else ""),
            line=dict(color=COLORS[a], width=2.5, dash="dot" if unknown else "solid"),
            customdata=[format_usd(v) for v in curve[a]],
            hovertemplate="%{x:,} queries/month: %{customdata}<extra>" + APPROACH_LABELS[a] + "</extra>",
        )
    if points:
        fig.add_scatter(
            x=[float(p.queries_per_month) for p in points],
            y=[float(p.monthly_cost) for p in points],
            mode="markers",
            name="break-even",
            marker=dict(size=11, color="black", symbol="diamond"),
            text=[
                f"{APPROACH_LABELS[p.cheaper_above]} cheaper than {APPROACH_LABELS[p.cheaper_below]} above "
                f"{float(p.queries_per_month):,.0f} queries/month"
                for p in points
            ],
            customdata=[format_usd(p.monthly_cost) for p in points],
            hovertemplate="%{text}<br>%{customdata} a month<extra></extra>",
        )
    fig.add_vline(
        x=max(1, inputs.queries_per_month),
        line_dash="dash",
        line_color="grey",
        annotation_text=f"{inputs.queries_per_month:,}/month",
        annotation_position="top left",
    )
    fig.update_layout(
        height=420,
        margin=dict(l=10, r=10, t=30, b=10),
        hovermode="closest",
        xaxis=dict(type="log", title="Queries per month"),
        yaxis=dict(type="log" if log_y else "linear", title="Monthly cost (USD)", tickprefix="$"),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return fig, points, lines


def _table(lines: dict[str, MonthlyCost]) -> list[dict[str, str]]:
    rows = []
    for a in APPROACHES:
        m = lines[a]
        rows.append(
            {
                "approach": APPROACH_LABELS[a],
                "monthly total": format_usd(m.total) + (" + unpriced " + ", ".join(m.unknown) if m.unknown else ""),
                "inference": format_usd(m.inference),
                "embeddings": format_usd(m.embeddings),
                "training": format_usd(m.training),
                "per 1,000 queries": format_usd(m.per_query * 1000),
                "one-off setup": format_usd(m.setup),
            }
        )
    return rows


def _sentences(points: list[BreakEven], lines: dict[str, MonthlyCost], q: int) -> list[str]:
    priced = {a: m for a, m in lines.items() if m.complete}
    out = []
    if priced:
        best = min(priced, key=lambda a: (priced[a].total, APPROACHES.index(a)))
        out.append(
            f"At **{q:,}** queries a month the cheapest is **{APPROACH_LABELS[best]}** "
            f"({format_usd(priced[best].total)} a month)."
        )
    for p in points:
        out.append(
            f"Above **{float(p.queries_per_month):,.0f}** queries a month, {APPROACH_LABELS[p.cheaper_above]} "
            f"costs less than {APPROACH_LABELS[p.cheaper_below]} (both {format_usd(p.monthly_cost)} there)."
        )
    if not points:
        out.append("No break-even in this range: the order of the lines does not change with volume.")
    unpriced = sorted({part for m in lines.values() for part in m.unknown})
    if unpriced:
        out.append(
            f":orange[Prices unknown for: {', '.join(unpriced)}. Dotted lines leave those parts out: set a "
            "price override on the Costs page.]"
        )
    return out


def examples_sentence(inputs: ProjectionInputs, overrides: Mapping[str, Any] | None = None) -> str:
    """The prompt's instructions and examples (``style_prompt_tokens``), paid on every call, against training the
    fine-tune once: ``ragft.costs.projection.examples_break_even`` in words."""
    tokens = inputs.style_prompt_tokens
    if tokens <= 0:
        return (
            "No instructions or examples in the prompt (0 tokens): set them to see when "
            "training once costs less than sending examples with every call."
        )
    be = examples_break_even(inputs, tokens, overrides)
    head = f"The prompt's **{tokens:,}** tokens of instructions and examples cost " + (
        f"{format_usd(be.examples_cost_per_call)} on every call"
        if be.examples_cost_per_call is not None
        else "an unknown price on every call"
    )
    if be.training_cost is not None:
        head += (
            f"; training the fine-tune once costs {format_usd(be.training_cost)} "
            f"({inputs.training_tokens:,} tokens × {inputs.epochs} epochs)"
        )
    if be.calls is None:
        if be.prompted_per_call is None or be.finetuned_per_call is None or be.training_cost is None:
            return head + ". A price is unknown, so there is no break-even: set it on the Costs page."
        return (
            head + f". The fine-tuned model's higher price per token ({format_usd(be.finetuned_per_call)} a call "
            f"against {format_usd(be.prompted_per_call)} with the examples) eats what the examples cost: "
            "training never pays back on price alone."
        )
    calls = float(be.calls)
    if calls < 1:
        return head + ". Training pays back from the first call."
    q = inputs.queries_per_month
    months = f" At your {q:,} calls a month it pays back in {calls / q:,.1f} months." if q > 0 else ""
    return (
        head + f". **At {calls:,.0f} calls a month the prompt's examples cost more than training once** "
        f"(a call with the examples {format_usd(be.prompted_per_call)}, the fine-tuned call "
        f"{format_usd(be.finetuned_per_call)})." + months
    )


def render_projection(
    inputs: ProjectionInputs,
    *,
    key: str,
    overrides: Mapping[str, Any] | None = None,
    show_table: bool = True,
) -> bool:
    """Chart, sentences and (optionally) the table for ``inputs``; False (and a warning) if they are refused."""
    try:
        fig, points, lines = projection_figure(inputs, overrides)
    except RagftError as exc:
        logger.exception("projection refused its inputs")
        st.warning(f"The projection refused these numbers: {exc.message}")
        return False
    st.plotly_chart(fig, key=f"{key}_chart", config={"displayModeBar": False})
    st.markdown("\n\n".join(_sentences(points, lines, inputs.queries_per_month)))
    st.markdown(examples_sentence(inputs, overrides))
    if show_table:
        st.dataframe(_table(lines), hide_index=True, key=f"{key}_table")
    train = training_row(inputs)
    note = "Training at " + (
        f"${format_rate(train.per_m_training_tokens)} per 1M tokens ({train.service or train.provider}, "
        f"{train.base_model}, as of {train.as_of})"
        if train
        else "an unknown price"
    )
    st.caption(
        f"{note}; inference and embeddings at the prices in use (see Prices). Fine-tuned models cost more "
        "per token than their base; RAG pays for embeddings and for the context added to every prompt."
    )
    return True
