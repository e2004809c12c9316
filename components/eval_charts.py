"""Plotly figure of the Evaluate page: accuracy (facts and style) against cost per question, per configuration.

Pure function returning a ``plotly.graph_objects.Figure`` (no Streamlit here); the page draws it with
``st.plotly_chart``. The x axis comes from :func:`ragft.evaluation.records.cost_axis`: dollars per question when any
configuration was paid, else tokens or compute seconds per question (a self-hosted model costs $0 per token).
"""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from ragft.evaluation.records import ConfigSummary, CostAxis

# One colour per configuration (the plain ones lighter, their +RAG twins darker).
CONFIG_COLORS = {"base": "#90a4ae", "base_rag": "#1e88e5", "ft": "#ef9a9a", "ft_rag": "#8e24aa"}
_FONT = dict(size=13)


def accuracy_cost_chart(summaries: Sequence[ConfigSummary], axis: CostAxis, height: int = 380) -> go.Figure:
    """Per configuration: fact accuracy (circle) and style adherence (diamond) at its cost per question,
    joined by a thin line so the pair reads as one configuration."""
    fig = go.Figure()
    for s in summaries:
        x = axis.value(s)
        if x is None:  # unknown price: nothing to place on a dollar axis
            continue
        color = CONFIG_COLORS.get(s.configuration, "#455a64")
        facts = s.fact_accuracy * 100
        style = None if s.style_adherence is None else s.style_adherence * 100
        if style is not None:
            fig.add_trace(go.Scatter(x=[x, x], y=[facts, style], mode="lines", line=dict(color=color, width=1),
                                     hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(
            x=[x], y=[facts], mode="markers+text", name=f"{s.label}: facts", legendgroup=s.configuration,
            marker=dict(symbol="circle", size=14, color=color, line=dict(color="#222", width=1)),
            text=[s.label], textposition="top center",
            hovertemplate=f"<b>{s.label}</b><br>fact accuracy %{{y:.0f}}%<br>{axis.title}: %{{x:.4g}}<extra></extra>",
        ))
        if style is not None:
            fig.add_trace(go.Scatter(
                x=[x], y=[style], mode="markers", name=f"{s.label}: style", legendgroup=s.configuration,
                marker=dict(symbol="diamond", size=13, color="white", line=dict(color=color, width=3)),
                hovertemplate=f"<b>{s.label}</b><br>style adherence %{{y:.0f}}%<br>{axis.title}: "
                              f"%{{x:.4g}}<extra></extra>",
            ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=_FONT,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      xaxis_title=axis.title, yaxis_title="accuracy (%)  ● facts   ◇ style")
    fig.update_yaxes(range=[-5, 105], ticksuffix="%")
    if axis.kind == "cost":
        fig.update_xaxes(tickprefix="$", rangemode="tozero")
    else:
        fig.update_xaxes(rangemode="tozero")
    return fig
