"""The Facilitator page's class results (leaderboard, pooled thesis table, most asked questions, plotly charts,
report export) and the room's join link with a QR code."""

from __future__ import annotations

import io

import plotly.graph_objects as go
import segno
import streamlit as st

from components.shared.safe_text import inline
from ragft.classroom import results as RS
from ragft.store import records as R
from ragft.store import workspaces as W
from session import classroom


def render_results() -> None:
    store = classroom.store()
    votes = R.votes(store)
    board = RS.leaderboard(votes)
    pairs = RS.votes_per_pair(votes)
    pooled = RS.pooled_thesis(R.eval_summaries(store))
    top = R.top_questions(store, 10)
    st.subheader(f"Leaderboard from {len(votes)} blind vote(s)")
    if board:
        _table(
            [
                {
                    "Configuration": r.label,
                    "Rating (Bradley-Terry)": round(r.rating),
                    "Win rate": r.win_rate,
                    "95% low": r.low,
                    "95% high": r.high,
                    "Won": r.wins,
                    "Shown": r.shown,
                }
                for r in board
            ],
            "fac_board",
            percent=("Win rate", "95% low", "95% high"),
        )
        fig = go.Figure(
            go.Bar(
                x=[r.label for r in board],
                y=[r.win_rate for r in board],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r.high - r.win_rate for r in board],
                    "arrayminus": [r.win_rate - r.low for r in board],
                },
            )
        )
        fig.update_layout(
            yaxis={"title": "win rate (95% Wilson interval)", "tickformat": ".0%", "range": [0, 1]},
            height=320,
            margin={"t": 10, "b": 10},
        )
        st.plotly_chart(fig, key="fac_board_chart")
        st.dataframe(
            [{"Pair": p["pair"], "Votes": p["votes"], "Split": f"{p['a_won']}–{p['b_won']}"} for p in pairs],
            hide_index=True,
            key="fac_pairs",
        )
    else:
        st.caption("No blind votes yet: participants vote in Compare's blind mode.")
    st.subheader("The class's pooled evaluation runs")
    if pooled:
        _table(
            [
                {
                    "Configuration": r.label,
                    "Runs": r.runs,
                    "Participants": r.participants,
                    "Questions": r.questions,
                    "Fact accuracy": r.fact_accuracy,
                    "Style": r.style_adherence,
                    "Hit@k": r.hit_at_k,
                }
                for r in pooled
            ],
            "fac_pooled",
            percent=("Fact accuracy", "Style", "Hit@k"),
        )
        fig = go.Figure(go.Bar(x=[r.label for r in pooled], y=[r.fact_accuracy for r in pooled]))
        fig.update_layout(
            yaxis={"title": "fact accuracy", "tickformat": ".0%", "range": [0, 1]},
            height=300,
            margin={"t": 10, "b": 10},
        )
        st.plotly_chart(fig, key="fac_pooled_chart")
    else:
        st.caption("No evaluation run has finished yet.")
    st.subheader("Most asked questions")
    for q in top:
        st.markdown(f"- {inline(q.question)} · {q.count}× by {q.workspaces} participant(s)")
    participants = len(W.list_workspaces(store))
    md = RS.report_markdown(board, pairs, pooled, top, participants)
    csv_text = RS.report_csv(board, pooled)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Class report (Markdown)", md, "class-report.md", "text/markdown", key="fac_dl_md", on_click="ignore"
    )
    c2.download_button(
        "Class results (CSV)", csv_text, "class-results.csv", "text/csv", key="fac_dl_csv", on_click="ignore"
    )


def render_join() -> None:
    st.subheader("Join the room")
    url = st.text_input("The app's address as participants reach it", value=_guess_url(), key="fac_join_url")
    if url:
        st.code(url, language=None)
        buf = io.BytesIO()
        segno.make(url, error="m").save(buf, kind="png", scale=8, border=2)
        st.image(buf.getvalue(), caption="Scan to join", alt=f"QR code of the join link {url}", width=240)


def _guess_url() -> str:
    try:
        return (st.context.url or "").split("?")[0].rsplit("/", 1)[0] + "/"
    except Exception:  # noqa: BLE001 - no browser context (tests): the facilitator types it
        return ""


def _table(rows: list[dict[str, object]], key: str, *, percent: tuple[str, ...] = ()) -> None:
    """A results table; the ``percent`` columns hold shares (0..1) shown as percentages."""
    st.dataframe(
        rows,
        hide_index=True,
        key=key,
        column_config={k: st.column_config.NumberColumn(format="percent") for k in percent},
    )
