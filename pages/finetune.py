"""Fine-tune: write or upload examples, train a LoRA on this CPU in a separate process, use it at once."""

from __future__ import annotations

import streamlit as st

from components.finetune import examples as FX
from components.finetune import result as FR
from components.finetune import train as FT
from components.shared.shell import page_shell
from ragft import errors as E
from ragft.training.checks import check_to_dict
from ragft.training.config import TrainLimits
from session import config
from session.workspace import current_workspace

page_shell(__file__)

st.title("Fine-tune")
st.caption(
    "Teach the small embedded model a behaviour (a voice, a JSON shape, a persona) from a few examples, "
    "on this CPU, then compare it beside base and RAG. Fine-tuning changes behaviour, not knowledge."
)

s = config.settings_or_stop()
limits = TrainLimits.from_settings(config.server_settings())  # the facilitator's budget per training
workspace = current_workspace()
FX.init()

st.subheader("1. Examples")
FX.source_picker()
rows = FX.editor()

st.subheader("2. Settings and cost")
try:
    cfg = FT.settings_form(len([r for r in rows if r.get("prompt") or r.get("response")]), limits)
except E.RagftError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()
report = FX.validate(rows, cfg.max_len)
if report is not None and report.examples:
    with st.container(border=True):
        FT.costs(report.examples, report.tokens, cfg, config.today_or_stop())

st.subheader("3. Train")
ready = report is not None and report.ok
examples = report.examples if report is not None else []
check = FX.check_for(examples)
to_train, heldout = FX.split_heldout(examples, check)
extra = {
    "preset": st.session_state.get(FX.PRESET_KEY),
    "check": check_to_dict(check),
    "heldout": heldout,
    "limits": limits,
}
if ready:
    kept = len(examples) - len(to_train)
    st.caption(
        f"After training, a quick check scores base vs the adapter on {len(heldout)} held-out prompts: "
        f"{check.label}." + (f" The last {kept} examples are kept out of training for it." if kept else "")
        if heldout
        else "No quick check for these examples (no preset, or no JSON shape or fixed opening/closing to score)."
    )
FT.resume_workspace_job(s.data_dir, workspace)
FT.train_button(s.data_dir, workspace, to_train, cfg, ready, extra)
FT.progress(s.data_dir)

st.subheader("4. Your adapters")
FR.adapters_section(s.data_dir, workspace)
if examples:
    st.download_button(
        "Examples as chat JSONL (for a hosted fine-tuning service)",
        FX.examples_jsonl(examples),
        file_name="examples.jsonl",
        icon=":material/download:",
        key="ft_dl_examples",
        on_click="ignore",
    )
