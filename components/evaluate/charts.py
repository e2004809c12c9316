"""Plotly figure of the Evaluate page: accuracy (facts and style) against cost per question, per configuration.

Pure function returning a ``plotly.graph_objects.Figure`` (no Streamlit here); the page draws it with
``st.plotly_chart``. Every point carries its 95% interval as an error bar (Wilson for the rates; on a seconds
axis the bootstrap interval of the mean latency along x). The x axis comes from
:func:`ragft.evaluation.records.cost_axis`: dollars per question when any configuration was paid, else tokens or
compute seconds per question (a self-hosted model costs $0 per token).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from ragft.evaluation.records import ConfigSummary, CostAxis
from ragft.evaluation.stats import Interval

# One colour per configuration (the plain ones lighter, their +RAG twins darker).
CONFIG_COLORS = {"base": "#90a4ae", "base_rag": "#1e88e5", "ft": "#ef9a9a", "ft_rag": "#8e24aa"}
_FONT = dict(size=13)


def error_bar(iv: Interval, scale: float = 100.0, color: str = "#455a64") -> dict | None:
    """Plotly ``error_y``/``error_x`` of an interval (asymmetric), ``None`` when it is unknown."""
    if not iv.known:
        return None
    assert iv.estimate is not None and iv.low is not None and iv.high is not None
    return dict(
        type="data",
        symmetric=False,
        array=[(iv.high - iv.estimate) * scale],
        arrayminus=[(iv.estimate - iv.low) * scale],
        color=color,
        thickness=1.5,
        width=6,
    )


def _band(iv: Interval) -> str:
    return "" if not iv.known else f" (95% interval {iv.low * 100:.0f}–{iv.high * 100:.0f}%)"  # type: ignore[operator]


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
        fi, si = s.interval("fact_accuracy"), s.interval("style_adherence")
        ex = error_bar(s.interval("mean_total_s"), 1.0, color) if axis.kind == "seconds" else None
        if style is not None:
            fig.add_trace(
                go.Scatter(
                    x=[x, x],
                    y=[facts, style],
                    mode="lines",
                    line=dict(color=color, width=1),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[x],
                y=[facts],
                mode="markers+text",
                name=f"{s.label}: facts",
                legendgroup=s.configuration,
                marker=dict(symbol="circle", size=14, color=color, line=dict(color="#222", width=1)),
                text=[s.label],
                textposition="top center",
                error_y=error_bar(fi, color=color),
                error_x=ex,
                hovertemplate=f"<b>{s.label}</b><br>fact accuracy %{{y:.0f}}%{_band(fi)}<br>{axis.title}: "
                f"%{{x:.4g}}<extra></extra>",
            )
        )
        if style is not None:
            fig.add_trace(
                go.Scatter(
                    x=[x],
                    y=[style],
                    mode="markers",
                    name=f"{s.label}: style",
                    legendgroup=s.configuration,
                    marker=dict(symbol="diamond", size=13, color="white", line=dict(color=color, width=3)),
                    error_y=error_bar(si, color=color),
                    hovertemplate=f"<b>{s.label}</b><br>style adherence %{{y:.0f}}%{_band(si)}<br>{axis.title}: "
                    f"%{{x:.4g}}<extra></extra>",
                )
            )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        font=_FONT,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        xaxis_title=axis.title,
        yaxis_title="accuracy (%)  ● facts   ◇ style  (bars: 95% interval)",
    )
    fig.update_yaxes(range=[-5, 105], ticksuffix="%")
    if axis.kind == "cost":
        fig.update_xaxes(tickprefix="$", rangemode="tozero")
    else:
        fig.update_xaxes(rangemode="tozero")
    return fig
