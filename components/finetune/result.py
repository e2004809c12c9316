"""Fine-tune page: the workspace's adapters, "use as the fine-tuned model", the quick check, take-away files."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from components.shared.safe_text import inline
from ragft import errors as E
from ragft.training.adapters import WORKSPACE_PREFIX, AdapterInfo, list_adapters, peft_zip, recipes
from session import config

logger = logging.getLogger(__name__)


def use_as_finetuned(adapter: AdapterInfo) -> None:
    """Make the adapter this session's fine-tuned slot (embedded engine + LoRA, chosen by name)."""
    s = config.settings()
    ft = replace(
        s.finetuned,
        provider="embedded",
        model=adapter.model_id,
        base_url=None,
        api_key=None,
        lora_path=WORKSPACE_PREFIX + adapter.name,
    )
    config.set_settings(replace(s, finetuned=ft))
    for key in [k for k in st.session_state if str(k).startswith("set_finetuned_")]:
        del st.session_state[key]  # the Settings form re-reads the slot from the session's settings
    st.session_state["ft_notice"] = (
        f"The fine-tuned slot now uses {inline(repr(adapter.name))}: ask on Compare or run Evaluate to see it beside base and RAG."
    )


def _check_table(check: dict) -> None:
    if "error" in check:
        st.warning(f"The quick check could not run: {inline(check['error'])}", icon=":material/warning:")
        return
    base, mine = check.get("base", {}), check.get("adapter", {})
    rows = [
        {"model": "base", "passes the check": f"{base.get('ok', 0):.0%}"},
        {"model": "with the adapter", "passes the check": f"{mine.get('ok', 0):.0%}"},
    ]
    if "valid_json" in base:
        rows[0]["valid JSON"] = f"{base['valid_json']:.0%}"
        rows[1]["valid JSON"] = f"{mine.get('valid_json', 0):.0%}"
    st.markdown(f"**Quick check** on {inline(check.get('n', 0))} held-out prompts · {inline(check.get('check', ''))}")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for sample in check.get("samples", [])[:2]:
        st.caption(f"Prompt: {inline(str(sample['prompt'])[:160])}")
        a, b = st.columns(2)
        a.text_area("base", sample["base"], height=110, disabled=True, key=f"ft_s_b_{hash(sample['prompt'])}")
        b.text_area("adapter", sample["adapter"], height=110, disabled=True, key=f"ft_s_a_{hash(sample['prompt'])}")


def adapter_card(adapter: AdapterInfo, in_use: bool) -> None:
    s = adapter.settings
    with st.container(border=True):
        head, button = st.columns([4, 1])
        head.markdown(f"**{inline(adapter.name)}**" + (" · *in use as the fine-tuned model*" if in_use else ""))
        head.caption(
            inline(
                f"{s.get('examples', '?')} examples · {s.get('config', {}).get('steps', '?')} steps · "
                f"loss {s.get('first_loss', '?')} → {s.get('last_loss', '?')} · "
                f"{s.get('wall_seconds', '?')} s · preset {s.get('preset') or 'own examples'}"
            )
        )
        if button.button(
            "Use as fine-tuned", key=f"ft_use_{adapter.name}", disabled=in_use, icon=":material/swap_horiz:"
        ):
            use_as_finetuned(adapter)
            st.rerun()
        if adapter.check:
            _check_table(adapter.check)
        elif adapter.folder is not None:
            st.caption("Quick check: running or not available for these examples.")
        with st.expander("Take it away: GGUF, serving recipes, examples", icon=":material/download:"):
            c1, c2, c3 = st.columns(3)
            c1.download_button(
                "Adapter (GGUF)",
                adapter.gguf.read_bytes(),
                file_name=f"{adapter.name}-lora.gguf",
                key=f"ft_dl_gguf_{adapter.name}",
                icon=":material/download:",
                on_click="ignore",
            )
            zipped = peft_zip(adapter)
            if zipped:
                c2.download_button(
                    "PEFT (for vLLM)",
                    zipped,
                    file_name=f"{adapter.name}-peft.zip",
                    key=f"ft_dl_peft_{adapter.name}",
                    icon=":material/download:",
                    on_click="ignore",
                )
            ex = adapter.folder / "examples.jsonl" if adapter.folder else None
            if ex is not None and ex.is_file():
                c3.download_button(
                    "Examples (chat JSONL)",
                    ex.read_bytes(),
                    file_name=f"{adapter.name}.jsonl",
                    key=f"ft_dl_ex_{adapter.name}",
                    icon=":material/download:",
                    help="The format hosted fine-tuning services take.",
                    on_click="ignore",
                )
            for engine, recipe in recipes(adapter).items():
                st.markdown(f"**{inline(engine)}**")
                st.code(recipe, language="json" if recipe.startswith("{") else "bash")


def adapters_section(data_dir: Path, workspace: str) -> None:
    notice = st.session_state.pop("ft_notice", None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    try:
        mine = list_adapters(data_dir, workspace)
    except E.RagftError as exc:
        logger.exception("listing adapters failed")
        st.error(inline(exc.message), icon=":material/error:")
        return
    if not mine:
        st.caption(
            "No adapter trained in this workspace yet. The shipped ones (brand voice, JSON tickets) are in Settings."
        )
        return
    current = config.settings().finetuned.lora_path
    for adapter in mine:
        adapter_card(adapter, in_use=current == WORKSPACE_PREFIX + adapter.name)
