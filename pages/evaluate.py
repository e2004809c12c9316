"""Evaluate: a question set through the configurations, scored for facts, style and retrieval, against cost."""

from __future__ import annotations

import streamlit as st

from components.evaluate import drafting as eval_drafting
from components.evaluate import history as eval_history
from components.evaluate import view as EVV
from components.shared.safe_text import inline
from components.shared.shell import page_shell
from ragft import errors as E
from ragft import evaluation as EV
from ragft.configs import BY_KEY, CONFIGURATIONS, THESIS
from session import config

page_shell(__file__)

st.title("Evaluate")
st.markdown(
    "Run a question set through the configurations and **measure** what the thesis predicts: "
    "**RAG fixes facts** (the answer comes from the current documents), **fine-tuning fixes voice and format** "
    "(the adapter learned the brand voice: greeting, short bullets, sign-off), and the **hybrid does both**. "
    "The sample fine-tune was trained on *last season's* catalogue, so on its own it answers in voice but with "
    "**stale prices**: watch the *Stale answers* column. Every figure comes with its 95% interval: with a few "
    "dozen questions a rate is uncertain by several points, and the paired comparison says whether a difference "
    "between two configurations is more than chance."
)

s = config.settings_or_stop()

st.session_state.setdefault("eval_source", "shipped")
st.session_state.setdefault("eval_configs", [c.key for c in THESIS])
st.session_state.setdefault("eval_subset", 8)

run: EV.EvalRun | None = st.session_state.get(EVV.RUN_KEY)
running = run is not None and not run.done

# ---- question set ---------------------------------------------------------------------------------------------
SOURCES = {
    "shipped": "Sample scenario",
    "tickets": "Support tickets (JSON format)",
    "upload": "Upload JSONL or CSV",
    "draft": "Your own questions",
}
st.segmented_control(
    "Question set", list(SOURCES), key="eval_source", required=True, disabled=running, format_func=lambda k: SOURCES[k]
)
qs: EV.QuestionSet | None = None
if st.session_state["eval_source"] == "draft":
    qs = eval_drafting.section(s, disabled=running)
elif st.session_state["eval_source"] == "upload":
    up = st.file_uploader(
        "Question set",
        type=["jsonl", "csv"],
        key="eval_upload",
        disabled=running,
        help="Columns: id, question, expected_facts (a list in JSONL; `|`-separated in CSV), "
        "expected_source, expected_style (brand, ticket-json or any)",
    )
    if up is None:
        st.info("Upload a question set, or pick the sample scenario's.", icon=":material/upload_file:")
    else:
        try:
            qs = EVV.uploaded_set(up.getvalue(), up.name)
        except E.RagftError as exc:
            st.error(f"{inline(up.name)}: {inline(exc.message)}", icon=":material/error:")
else:
    try:
        qs = EVV.shipped_set("tickets" if st.session_state["eval_source"] == "tickets" else "scenario")
    except E.RagftError as exc:
        st.error(inline(exc.message))
    if st.session_state["eval_source"] == "tickets":
        st.caption(
            "Format, not facts: the tickets adapter was trained to answer a support ticket with one JSON object "
            "(category, priority, summary). Style here is JSON validity and schema adherence; facts are the "
            "category and priority. Put the tickets adapter in the fine-tuned slot (Settings → LoRA adapter "
            "`tickets-lora`) to see it."
        )

if qs is not None:
    EVV.preview(qs)
    st.multiselect(  # seven configurations, full width: a row of pills ran off a phone's screen
        "Configurations",
        [c.key for c in CONFIGURATIONS],
        key="eval_configs",
        format_func=lambda k: BY_KEY[k].label,
        disabled=running,
    )
    _, c2 = st.columns([3, 1], vertical_alignment="bottom")
    with c2:
        if st.session_state["eval_subset"] > len(qs):
            st.session_state["eval_subset"] = len(qs)
        st.number_input(
            "Questions",
            min_value=1,
            max_value=len(qs),
            step=1,
            key="eval_subset",
            disabled=running,
            help="A subset covering every kind of question (price, spec, policy) in file order",
        )
    keys = [k for k in st.session_state["eval_configs"] or [] if k in BY_KEY]
    n = int(st.session_state["eval_subset"])
    st.caption(
        f"{n} question(s) × {len(keys)} configuration(s) = {n * len(keys)} answers · max {s.max_tokens} "
        f"tokens each · top-k {s.top_k} · change these in Settings"
        + (
            " · the embedded model answers one token at a time on this CPU: expect about a second or more per answer"
            if s.base.is_embedded or s.finetuned.is_embedded
            else ""
        )
    )
    if not running and st.button(
        "Run evaluation", type="primary", icon=":material/play_arrow:", key="eval_go", disabled=not keys
    ):
        try:
            run = EVV.start(qs.subset(n), keys, s)
            running = True
        except E.RagftError as exc:
            st.warning(inline(exc.message), icon=":material/info:")

# ---- live run -------------------------------------------------------------------------------------------------
if running and run is not None:
    EVV.follow(run)
    st.rerun()
elif run is not None:  # finished between two reruns
    EVV.finish(run)

if st.session_state.get(EVV.ERROR_KEY):
    st.error(f"The evaluation stopped with an error: {inline(st.session_state[EVV.ERROR_KEY])}")

# ---- results --------------------------------------------------------------------------------------------------
result: EV.Evaluation | None = st.session_state.get(EVV.RESULT_KEY)
if result is None:
    st.info(
        "Choose a question set and configurations, then run. Results, a chart of accuracy against cost and "
        "every answer appear here.",
        icon=":material/fact_check:",
    )
else:
    EVV.results(result)
eval_history.section(result)
