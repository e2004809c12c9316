"""Plotly figures of the decision guide: score per option, the context/behaviour quadrant, monthly cost.

Pure functions that return ``plotly.graph_objects.Figure`` (no Streamlit here), so they can be tested and
reused; the page draws them with ``st.plotly_chart``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from ragft.configs import APPROACHES
from ragft.costs.money import format_usd
from ragft.guide import Position, Recommendation

# One colour per approach, the same as the Costs page's projection (components/projection.py).
APPROACH_COLORS = {
    "prompting": "#607d8b",
    "rag": "#1e88e5",
    "finetuning": "#e53935",
    "hybrid": "#8e24aa",
}
_FONT = dict(size=13)
SHORT_LABELS = {"prompting": "Prompting", "rag": "RAG", "finetuning": "Fine-tuning", "hybrid": "Hybrid"}


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=_FONT, showlegend=False)
    return fig


def score_chart(rec: Recommendation) -> go.Figure:
    """Horizontal bars, best option on top and highlighted; each bar's hover lists its top reasons."""
    order = list(reversed(rec.ranking))  # plotly draws the first category at the bottom
    hovers = []
    for k in order:
        a = rec.assessments[k]
        lines = [f"+{r.delta(k)}  {r.text}" for r in a.reasons_for[:3]]
        lines += [f"{r.delta(k)}  {r.text}" for r in a.reasons_against[:3]]
        hovers.append("<br>".join(_wrap(t) for t in lines) or "no answer moves this option")
    fig = go.Figure(
        go.Bar(
            x=[rec.scores[k] for k in order],
            y=[SHORT_LABELS[k] for k in order],
            orientation="h",
            marker=dict(
                color=[APPROACH_COLORS[k] for k in order],
                opacity=[1.0 if k == rec.best else 0.45 for k in order],
                line=dict(color="#222", width=[2 if k == rec.best else 0 for k in order]),
            ),
            text=[f"{rec.scores[k]:+d}" for k in order],
            textposition="outside",
            cliponaxis=False,
            customdata=hovers,
            hovertemplate="<b>%{y}</b>: %{x}<br>%{customdata}<extra></extra>",
        )
    )
    span = max(1, max(rec.scores.values()) - min(0, *rec.scores.values()))
    lo = min(0, *rec.scores.values()) - max(2, span * 0.15)
    hi = max(0, *rec.scores.values()) + max(2, span * 0.15)
    fig.update_xaxes(title="score (sum of the reasons)", range=[lo, hi], zeroline=True, zerolinecolor="#999")
    fig.update_yaxes(automargin=True)
    return _layout(fig, 300)


def _wrap(text: str, width: int = 70) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + len(w) + 1 > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    return "<br>".join(lines)


# Quadrant corners: (x0, x1, y0, y1) in the unit square, and where each approach's label goes.
_QUADRANTS = {
    "prompting": (0.0, 0.5, 0.0, 0.5),
    "rag": (0.5, 1.0, 0.0, 0.5),
    "finetuning": (0.0, 0.5, 0.5, 1.0),
    "hybrid": (0.5, 1.0, 0.5, 1.0),
}


def quadrant_chart(position: Position, best: str | None = None) -> go.Figure:
    """The case as a star on "what the model needs to know" (x) against "how it needs to act" (y)."""
    fig = go.Figure()
    for k, (x0, x1, y0, y1) in _QUADRANTS.items():
        fig.add_shape(
            type="rect",
            x0=x0,
            x1=x1,
            y0=y0,
            y1=y1,
            line=dict(width=0),
            fillcolor=APPROACH_COLORS[k],
            opacity=0.22 if k == best else 0.08,
            layer="below",
        )
        # Labels sit in bands above and below the square, so the star never hides them.
        top = y0 == 0.5
        fig.add_annotation(
            x=(x0 + x1) / 2,
            y=1.0 if top else 0.0,
            yanchor="bottom" if top else "top",
            yshift=2 if top else -2,
            text=f"<b>{SHORT_LABELS[k]}</b>" if k == best else SHORT_LABELS[k],
            showarrow=False,
            font=dict(color=APPROACH_COLORS[k], size=13),
        )
    notes = []
    if not position.context_known:
        notes.append("context not known")
    if not position.behaviour_known:
        notes.append("behaviour not known")
    fig.add_trace(
        go.Scatter(
            x=[position.context],
            y=[position.behaviour],
            mode="markers+text",
            marker=dict(symbol="star", size=22, color="#ffbf00", line=dict(color="#222", width=1.5)),
            text=["<br>".join(["your case"] + notes)],
            textposition="top center" if position.behaviour < 0.5 else "bottom center",
            hovertemplate="needs to know: %{x:.2f}<br>needs to act: %{y:.2f}<extra>your case</extra>",
        )
    )
    fig.update_xaxes(
        title="needs to know (context) →",
        range=[0, 1],
        showgrid=False,
        zeroline=False,
        tickvals=[0.06, 0.94],
        ticktext=["general", "specific"],
    )
    fig.update_yaxes(
        title="needs to act (behaviour) →",
        range=[-0.13, 1.13],
        showgrid=False,
        zeroline=False,
        tickvals=[0.02, 0.98],
        ticktext=["default", "strict"],
        tickangle=-90,
    )
    fig.add_shape(type="line", x0=0.5, x1=0.5, y0=0, y1=1, line=dict(color="#999", dash="dot"))
    fig.add_shape(type="line", x0=0, x1=1, y0=0.5, y1=0.5, line=dict(color="#999", dash="dot"))
    return _layout(fig, 300)


def cost_chart(costs: Mapping[str, Any], best: str | None = None) -> go.Figure:
    """Stacked monthly cost per approach (inference, embeddings, training) from ``project_monthly``."""
    keys = [k for k in APPROACHES if k in costs]
    labels = [SHORT_LABELS[k] + (" ★" if k == best else "") for k in keys]
    fig = go.Figure()
    for part, color in (("inference", "#4c78a8"), ("embeddings", "#72b7b2"), ("training", "#e45756")):
        amounts = [Decimal(getattr(costs[k], part)) for k in keys]
        fig.add_trace(
            go.Bar(
                name=part,
                x=labels,
                y=[float(a) for a in amounts],
                marker_color=color,
                customdata=[format_usd(a) for a in amounts],
                hovertemplate=f"{part}: %{{customdata}}<extra>%{{x}}</extra>",
            )
        )
    totals = [Decimal(costs[k].total) for k in keys]
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[float(t) for t in totals],
            mode="text",
            text=[format_usd(t) for t in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="USD per month", rangemode="tozero")
    _layout(fig, 320)
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=1.12, x=0))
    return fig
