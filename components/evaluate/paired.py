"""The Evaluate page's paired views: two configurations of one run, or one configuration in two runs.

:func:`render_comparison` shows a :class:`ragft.evaluation.paired.PairedComparison`: the plain-words sentence,
the counts, and the per-question diff (only the questions that differ by default). Question and answer texts are
untrusted and go through :func:`components.shared.safe_text.inline` / the answer renderer.
"""

from __future__ import annotations

import streamlit as st

from components.shared.safe_text import inline, show_answer
from ragft import evaluation as EV
from ragft.configs import BY_KEY
from ragft.evaluation import paired as P

_MARK = {P.B_WON: "B right, A wrong", P.A_WON: "A right, B wrong", P.BOTH: "both right", P.NEITHER: "both wrong"}


def render_comparison(cmp: EV.PairedComparison, key: str) -> None:
    """Sentence, counts and the per-question diff of one paired comparison (widget keys prefixed ``key``)."""
    if not cmp.n:
        st.info(inline(cmp.sentence()), icon=":material/info:")
        return
    won = cmp.b_won > cmp.a_won and cmp.test.p_value < 0.05
    lost = cmp.a_won > cmp.b_won and cmp.test.p_value < 0.05
    box = st.success if won else st.warning if lost else st.info
    box(inline(cmp.sentence()), icon=":material/balance:")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("B right, A wrong", cmp.b_won, help=f"B = {inline(cmp.b_label)}")
    c2.metric("A right, B wrong", cmp.a_won, help=f"A = {inline(cmp.a_label)}")
    c3.metric("Both right", cmp.count(P.BOTH))
    c4.metric("Both wrong", cmp.count(P.NEITHER))
    only = st.toggle("Only the questions where they differ", value=True, key=f"{key}_only")
    rows = cmp.discordant() if only else list(cmp.rows)
    st.dataframe(
        [
            {
                "question": r.question_id,
                "text": r.question,
                "outcome": _MARK[r.outcome],
                "A answer": r.a_error or r.a_answer,
                "B answer": r.b_error or r.b_answer,
                "answer changed": r.answer_changed,
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
        key=f"{key}_table",
        column_config={
            "text": st.column_config.TextColumn("question text", width="medium"),
            "A answer": st.column_config.TextColumn(f"A: {cmp.a_label}", width="large"),
            "B answer": st.column_config.TextColumn(f"B: {cmp.b_label}", width="large"),
        },
    )
    if rows:
        ids = [r.question_id for r in rows]
        by_id = {r.question_id: r for r in rows}
        if st.session_state.get(f"{key}_pick") not in ids:
            st.session_state[f"{key}_pick"] = ids[0]
        pick = st.selectbox(
            "Side by side",
            ids,
            key=f"{key}_pick",
            format_func=lambda i: f"{i} · {by_id[i].question[:80]} · {_MARK[by_id[i].outcome]}",
        )
        r = by_id[pick]
        for col, label, right, answer, error in zip(
            st.columns(2),
            (cmp.a_label, cmp.b_label),
            (r.a_right, r.b_right),
            (r.a_answer, r.b_answer),
            (r.a_error, r.b_error),
            strict=True,
        ):
            with col, st.container(border=True):
                st.markdown(f"**{inline(label)}** · " + (":green[right]" if right else ":red[wrong]"))
                if error:
                    st.error(inline(error))
                elif (answer or "").strip():
                    show_answer(answer)
                else:
                    st.caption("(empty answer)")


def configurations_section(ev: EV.Evaluation) -> None:
    """Pick two configurations of this run and compare them question by question."""
    keys = list(ev.configurations)
    if len(keys) < 2:
        return
    st.subheader("Paired comparison")
    st.caption(
        "The same questions answered by two configurations: only the questions one got right and the other "
        "wrong carry evidence (an exact McNemar test on them says whether the split could be chance)."
    )
    default_a = "base_rag" if "base_rag" in keys else keys[0]
    default_b = "ft_rag" if "ft_rag" in keys and default_a != "ft_rag" else keys[-1]
    metrics = P.metrics_for(ev.records) or ["facts"]
    st.session_state.setdefault("eval_pair_a", default_a)
    st.session_state.setdefault("eval_pair_b", default_b)
    for k in ("eval_pair_a", "eval_pair_b"):
        if st.session_state[k] not in keys:
            st.session_state[k] = default_a if k.endswith("a") else default_b
    if st.session_state.get("eval_pair_metric") not in metrics:  # a new run with other scores (tickets, voice)
        st.session_state["eval_pair_metric"] = metrics[0]
    c1, c2 = st.columns(2)
    a = c1.selectbox("A", keys, key="eval_pair_a", format_func=lambda k: BY_KEY[k].label if k in BY_KEY else k)
    b = c2.selectbox("B", keys, key="eval_pair_b", format_func=lambda k: BY_KEY[k].label if k in BY_KEY else k)
    metric = (
        st.segmented_control(
            "Right means",
            metrics,
            key="eval_pair_metric",
            required=True,
            format_func=P.metric_name,
            help="facts: every expected fact stated; style: in the voice or format; a field (category, "
            "priority): the JSON answer's label equals the ticket's.",
        )
        or metrics[0]
    )
    if a == b:
        st.caption("Pick two different configurations.")
        return
    render_comparison(EV.compare_records(ev.records, a, b, metric), "eval_pair")
