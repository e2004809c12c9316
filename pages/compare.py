"""Compare: one question, up to four configurations streaming side by side."""

from __future__ import annotations

import streamlit as st

from components.compare import view as V
from components.shared.safe_text import inline
from components.shared.shell import page_shell
from ragft import errors as E
from ragft.answering import compare as C
from ragft.configs import BY_KEY, CONFIGURATIONS, THESIS
from session import config
from session.retrieval import session_retriever

page_shell(__file__)

st.title("Compare")
st.caption(
    "One question, answered by the base model and the fine-tuned model, each with and without retrieved "
    "context (RAG). Everything that differs is shown under each answer."
)

s = config.settings_or_stop()

for cfg in CONFIGURATIONS:  # the thesis' four on; the prompted baselines one toggle away
    st.session_state.setdefault(f"cmp_on_{cfg.key}", cfg in THESIS)
st.session_state.setdefault("cmp_two", False)
st.session_state.setdefault("cmp_two_slot", "base")
st.session_state.setdefault("cmp_blind", False)
st.session_state.setdefault("cmp_question", "")
st.session_state.setdefault("cmp_pending", False)


def _ask_example() -> None:
    pick = st.session_state.get("cmp_example")
    if pick:
        st.session_state["cmp_question"] = pick
        st.session_state["cmp_pending"] = True
    st.session_state["cmp_example"] = None


def _ask_again(comparison_id: str) -> None:
    try:
        req = V.history().rerun_request(comparison_id)
    except E.RagftError:
        return
    st.session_state["cmp_question"] = req["question"]
    st.session_state["cmp_two"] = False
    for cfg in CONFIGURATIONS:
        st.session_state[f"cmp_on_{cfg.key}"] = cfg.key in req["configurations"]
    st.session_state["cmp_pending"] = True


def _stop() -> None:
    run = st.session_state.get(V.RUN_KEY)
    if run is not None:
        run.cancel()


# ---- question and configurations ------------------------------------------------------------------------------
examples = V.example_questions()
if examples:
    st.pills("Try a question from the sample scenario", examples, key="cmp_example", on_change=_ask_example)
with st.form("cmp_form", border=False, enter_to_submit=True):
    c1, c2 = st.columns([6, 1], vertical_alignment="bottom")
    with c1:
        st.text_input(
            "Your question",
            key="cmp_question",
            max_chars=C.MAX_QUESTION_CHARS,
            placeholder="e.g. How much does the Kestrel 2 Tent cost?",
        )
    with c2:
        asked = st.form_submit_button("Ask", type="primary", icon=":material/send:", width="stretch")

with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
    two = st.toggle("Two panels", key="cmp_two", help="One model, with and without RAG")
    if two:
        st.segmented_control(
            "Model",
            ["base", "finetuned"],
            key="cmp_two_slot",
            required=True,
            format_func=lambda v: "Base" if v == "base" else "Fine-tuned",
            label_visibility="collapsed",
        )
    else:
        for cfg in CONFIGURATIONS:
            st.toggle(cfg.label, key=f"cmp_on_{cfg.key}")
    st.toggle("Blind mode", key="cmp_blind", help="Answers labelled A-D in random order; vote, then reveal")

if two:
    slot = st.session_state["cmp_two_slot"] or "base"
    keys = [c.key for c in THESIS if c.slot == slot]
else:
    keys = [c.key for c in CONFIGURATIONS if st.session_state[f"cmp_on_{c.key}"]]
blind = bool(st.session_state["cmp_blind"])
if any(BY_KEY[k].shots for k in keys):
    st.caption(
        "Base + prompt: the base model with instructions and examples from the fine-tune's own training set "
        "(the first ones, or the nearest to your question), sent again with every call."
    )

if any(BY_KEY[k].rag for k in keys):
    _, kb_text = session_retriever(s)
    st.caption(
        f"Knowledge base: {inline(kb_text)} · max {s.max_tokens} tokens · temperature {s.temperature:g} "
        "· change these in Settings"
    )

# ---- start -------------------------------------------------------------------------------------------------------
run: C.ComparisonRun | None = st.session_state.get(V.RUN_KEY)
if asked or st.session_state["cmp_pending"]:
    st.session_state["cmp_pending"] = False
    if run is not None and not run.done:
        run.cancel()
    try:
        run = V.start(st.session_state["cmp_question"], keys, s)
    except E.RagftError as exc:
        st.warning(inline(exc.message), icon=":material/info:")
        run = None

# ---- live run ----------------------------------------------------------------------------------------------------
if run is not None and not run.done:
    st.button("Stop", icon=":material/stop_circle:", on_click=_stop, key="cmp_stop")
    st.markdown(f"**{inline(run.comparison.question)}**")
    views = V.panel_grid(run.comparison, blind)
    finished = V.stream_run(run, views, blind)
    V.record_finished(finished)
    st.session_state.pop(V.RUN_KEY, None)
    st.rerun()
elif run is not None:
    V.record_finished(run.comparison)
    st.session_state.pop(V.RUN_KEY, None)

# ---- the comparison on show --------------------------------------------------------------------------------------
current = None
if st.session_state.get(V.CURRENT_KEY):
    try:
        current = V.history().get(st.session_state[V.CURRENT_KEY])
    except E.RagftError:
        current = None
if current is None:
    st.info("Ask a question to see the configurations answer side by side.", icon=":material/view_column:")
else:
    st.markdown(f"**{inline(current.question)}**")
    if blind or current.id in V.blind_session().rounds:
        V.blind_vote(current)
    V.render_finished(current, blind)
    V.retrieval_caption(current)
    blind_round = V.blind_session().rounds.get(current.id)
    if blind_round is None or blind_round.revealed:  # an export would give the blind labels away
        V.current_downloads(current)

st.divider()
V.history_section(_ask_again)
if blind or V.blind_session().votes:
    V.blind_tally()
