"""Fine-tune page: the examples (preset, table editor, JSONL/CSV upload), their validation and token counts."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from components.shared.safe_text import inline
from ragft import errors as E
from ragft.training import examples as X
from ragft.training.checks import Check, infer_check
from ragft.training.presets import PRESETS, Preset

logger = logging.getLogger(__name__)

ROWS_KEY = "ft_rows"  # list of {"system", "prompt", "response"}: the examples being edited
PRESET_KEY = "ft_preset"
EDITOR_VERSION = "ft_editor_version"  # bumped to reset the data editor after loading a preset or a file
COLUMNS = ["system", "prompt", "response"]


def load_rows(rows: list[dict[str, str]], preset: str | None) -> None:
    st.session_state[ROWS_KEY] = rows
    st.session_state[PRESET_KEY] = preset
    st.session_state[EDITOR_VERSION] = st.session_state.get(EDITOR_VERSION, 0) + 1


def init() -> None:
    if ROWS_KEY not in st.session_state:
        p = PRESETS["brandvoice"]
        load_rows([e.row() for e in p.examples(p.page_examples)], p.key)


def current_preset() -> Preset | None:
    return PRESETS.get(st.session_state.get(PRESET_KEY) or "")


def source_picker() -> None:
    """Start from a preset, or upload chat JSONL / CSV; problems are listed with their line or row."""
    c1, c2 = st.columns([3, 2])
    with c1:
        key = st.selectbox(
            "Start from a preset", list(PRESETS), format_func=lambda k: PRESETS[k].label, key="ft_preset_pick"
        )
        p = PRESETS[key]
        st.caption(p.description)
        if st.button("Load preset", key="ft_load_preset", icon=":material/playlist_add:"):
            load_rows([e.row() for e in p.examples(p.page_examples)], p.key)
            st.rerun()
    with c2:
        up = st.file_uploader(
            "…or upload chat JSONL or CSV (prompt, response)", type=["jsonl", "json", "csv"], key="ft_upload"
        )
        if up is not None and st.button("Use this file", key="ft_use_upload", icon=":material/upload_file:"):
            examples, problems = X.parse_upload(up.name, up.getvalue())
            st.session_state["ft_upload_problems"] = [str(p) for p in problems]
            if examples:
                load_rows([e.row() for e in examples], None)
            st.rerun()
    problems = st.session_state.get("ft_upload_problems") or []
    if problems:
        shown = "\n".join(f"- {inline(p)}" for p in problems[:12])
        more = f"\n- … and {len(problems) - 12} more" if len(problems) > 12 else ""
        st.error(
            f"The file has {len(problems)} problem{'s' if len(problems) != 1 else ''} "
            f"(the other lines were loaded):\n{shown}{more}",
            icon=":material/error:",
        )


def editor() -> list[dict[str, str]]:
    """The examples table (add, edit, delete rows); returns the rows as edited."""
    df = pd.DataFrame(st.session_state[ROWS_KEY], columns=COLUMNS).fillna("")
    edited = st.data_editor(
        df,
        num_rows="dynamic",
        width="stretch",
        hide_index=False,
        key=f"ft_editor_{st.session_state.get(EDITOR_VERSION, 0)}",
        column_config={
            "system": st.column_config.TextColumn("system (optional)", width="small"),
            "prompt": st.column_config.TextColumn("prompt (user)", width="medium"),
            "response": st.column_config.TextColumn("response (assistant: what the model should learn)", width="large"),
        },
    )
    return [{c: ("" if pd.isna(r.get(c)) else str(r.get(c))) for c in COLUMNS} for r in edited.to_dict("records")]


def validate(rows: list[dict[str, str]], max_len: int) -> X.Report | None:
    """Parse and validate the table; shows errors (by row) and warnings; None when tokens cannot be counted."""
    examples, problems = X.parse_rows(rows)
    try:
        from ragft.training.tokenizer import count_tokens

        report = X.validate(examples, count_tokens, max_len)
    except E.RagftError as exc:
        logger.exception("token counting failed")
        st.error(inline(exc.message), icon=":material/error:")
        return None
    report.errors[:0] = problems
    tokens = report.tokens
    cols = st.columns(4)
    cols[0].metric("Examples", len(examples))
    cols[1].metric("Tokens", f"{report.total_tokens:,}")
    cols[2].metric("Longest", f"{max(tokens, default=0):,}", help=f"at most {max_len:,} per example")
    cols[3].metric("Mean", f"{(sum(tokens) / len(tokens)) if tokens else 0:,.0f}")
    if report.errors:
        st.error(
            "Fix before training:\n"
            + "\n".join(f"- {inline(p)}" for p in report.errors[:12])
            + (f"\n- … and {len(report.errors) - 12} more" if len(report.errors) > 12 else ""),
            icon=":material/error:",
        )
    if report.warnings:
        st.warning("\n".join(f"- {inline(p)}" for p in report.warnings[:8]), icon=":material/warning:")
    with st.expander("Tokens per example", icon=":material/token:"):
        st.dataframe(
            pd.DataFrame(
                {"example": range(1, len(tokens) + 1), "tokens": tokens, "prompt": [e.prompt[:80] for e in examples]}
            ),
            hide_index=True,
            width="stretch",
        )
    return report


def check_for(examples: list[X.Example]) -> Check:
    p = current_preset()
    if p is not None:
        return p.check
    return infer_check([e.response for e in examples])


HOLD_OUT = 3  # own examples kept out of training for the quick check (when there are at least 10)


def split_heldout(examples: list[X.Example], check: Check) -> tuple[list[X.Example], list[dict[str, str]]]:
    """(examples to train on, held-out prompts). A preset brings its own held-out prompts; a person's own set
    with a check keeps its last few examples out of training for the quick check."""
    p = current_preset()
    if p is not None:
        return examples, p.heldout_prompts()
    if check.kind == "none" or len(examples) < 10:
        return examples, []
    held = examples[-HOLD_OUT:]
    return examples[:-HOLD_OUT], [{"system": e.system, "prompt": e.prompt, "expected": e.response} for e in held]


def examples_jsonl(examples: list[X.Example]) -> bytes:
    return X.to_jsonl(examples).encode("utf-8")
