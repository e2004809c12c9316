"""Fine-tune: write or upload examples, train a LoRA on this CPU in a separate process, use it at once."""

from __future__ import annotations

import streamlit as st

from components import finetune_examples as FX
from components import finetune_result as FR
from components import finetune_train as FT
from components import state
from components.boot import page_shell
from components.workspace import current_workspace
from ragft import errors as E
from ragft.training.checks import check_to_dict

page_shell(__file__)

st.title("Fine-tune")
st.caption("Teach the small embedded model a behaviour (a voice, a JSON shape, a persona) from a few examples, "
           "on this CPU, then compare it beside base and RAG. Fine-tuning changes behaviour, not knowledge.")

s = state.settings_or_stop()
workspace = current_workspace()
FX.init()

st.subheader("1. Examples")
FX.source_picker()
rows = FX.editor()

st.subheader("2. Settings and cost")
try:
    cfg = FT.settings_form(len([r for r in rows if r.get("prompt") or r.get("response")]))
except E.RagftError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()
report = FX.validate(rows, cfg.max_len)
if report is not None and report.examples:
    with st.container(border=True):
        FT.costs(report.examples, report.tokens, cfg)

st.subheader("3. Train")
ready = report is not None and report.ok
examples = report.examples if report is not None else []
check = FX.check_for(examples)
extra = {"preset": st.session_state.get(FX.PRESET_KEY), "check": check_to_dict(check),
         "heldout": FX.heldout_for(examples)}
if ready:
    st.caption(f"After training, a quick check scores base vs the adapter: {check.label}.")
FT.train_button(s.data_dir, workspace, examples, cfg, ready, extra)
FT.progress(s.data_dir)

st.subheader("4. Your adapters")
FR.adapters_section(s.data_dir, workspace)
if examples:
    st.download_button("Examples as chat JSONL (for a hosted fine-tuning service)", FX.examples_jsonl(examples),
                       file_name="examples.jsonl", icon=":material/download:", key="ft_dl_examples")
