"""Your own questions on the Evaluate page: draft a question set from your uploaded documents, review it in a
table (``st.data_editor``), then use it like an uploaded set.

Drafting needs an OpenAI-compatible endpoint model (the base or fine-tuned slot); the embedded 135M model is too
small to write usable questions, which the page says. Calls are metered (configuration ``drafting``). Session keys
are prefixed ``eval_draft_``.
"""

from __future__ import annotations

import logging

import streamlit as st

from components.evaluate.judge import SLOT_LABELS, judge_slots
from components.shared.cost_meter import refresh_cost_meter
from components.shared.safe_text import inline
from ragft import errors as E
from ragft import evaluation as EV
from ragft.evaluation import drafting as D
from ragft.settings import Settings
from session import models
from session.prices import price_overrides
from session.spend import get_budget, get_ledger
from session.workspace import knowledge_base

logger = logging.getLogger(__name__)

ROWS_KEY = "eval_draft_rows"


def _excerpts(s: Settings) -> list[D.Excerpt]:
    kb = knowledge_base(s, with_sample=False)
    out = []
    for doc in kb.workspace.documents():
        out += [D.Excerpt(c.text, c.source, c.page) for c in kb.workspace.chunks(doc.doc_id)]
    return out


def _draft(s: Settings, slot: str, n: int) -> None:
    try:
        model = models.chat_model(slot, s=s)
        excerpts = _excerpts(s)
    except E.RagftError as exc:
        st.error(inline(exc.message), icon=":material/error:")
        return
    rows, problems = [], []
    bar = st.progress(0.0, text="Drafting…")
    try:
        for i, d in enumerate(
            D.draft_questions(
                model, excerpts, n, ledger=get_ledger(), budget=get_budget(s), price_overrides=price_overrides(s)
            ),
            1,
        ):
            if d.row:
                rows.append(d.row)
            else:
                problems.append(f"{d.excerpt.source}: {d.problem}")
            bar.progress(min(1.0, i / max(1, n)), text=f"{i} excerpt(s) read · {len(rows)} question(s) drafted")
            refresh_cost_meter()
    except E.RagftError as exc:  # the budget cap, no documents, the embedded model
        st.error(inline(exc.message), icon=":material/error:")
    bar.empty()
    if rows:
        st.session_state[ROWS_KEY] = rows
        st.session_state.pop("eval_draft_editor", None)
    if problems:
        st.caption(f"{len(problems)} excerpt(s) gave no usable question (first: {inline(problems[0])}).")


def section(s: Settings, disabled: bool) -> EV.QuestionSet | None:
    """The drafting controls and the editable table; the reviewed set, or None while there is none (or it is bad)."""
    slots = judge_slots(s)
    if not slots:
        st.info(
            "Drafting questions needs a capable model: configure an OpenAI-compatible endpoint for the base or "
            "fine-tuned slot in Settings. The embedded 135M model is too small to write usable questions and "
            "answers; you can still type questions into the table below yourself.",
            icon=":material/info:",
        )
    else:
        c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
        slot = c1.radio(
            "Drafting model",
            slots,
            key="eval_draft_slot",
            horizontal=True,
            disabled=disabled,
            format_func=lambda k: f"{SLOT_LABELS[k]} ({models.slot_config(k, s).model})",
        )
        n = c2.number_input("Questions to draft", 1, D.MAX_DRAFTS, 10, key="eval_draft_n", disabled=disabled)
        if c3.button("Draft from my documents", key="eval_draft_go", icon=":material/edit_note:", disabled=disabled):
            _draft(s, slot or slots[0], int(n))
    st.caption(
        "Review every row before you use it: a question, the fact a right answer must state (several "
        "separated by `|`), the document it comes from. Add, edit or delete rows."
    )
    rows = st.session_state.get(ROWS_KEY) or [{c: None for c in D.COLUMNS}]
    edited = st.data_editor(
        rows,
        num_rows="dynamic",
        key="eval_draft_editor",
        width="stretch",
        disabled=disabled,
        column_order=list(D.COLUMNS),
        column_config={
            "id": st.column_config.TextColumn("id", required=True),
            "question": st.column_config.TextColumn("question", width="large", required=True),
            "expected_facts": st.column_config.TextColumn("expected facts (| between)", width="medium", required=True),
            "expected_source": st.column_config.TextColumn("source document"),
            "expected_page": st.column_config.NumberColumn("page", min_value=1, step=1),
            "expected_style": st.column_config.SelectboxColumn("style", options=list(EV.STYLES), default="any"),
        },
    )
    table = edited.to_dict("records") if hasattr(edited, "to_dict") else list(edited)
    if not any(str(r.get("question") or "").strip() for r in table):
        return None
    try:
        return D.rows_to_question_set(table, "Your drafted questions")
    except E.RagftError as exc:
        st.error(f"The table: {inline(exc.message)}", icon=":material/error:")
        return None
