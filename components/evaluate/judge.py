"""The optional LLM judge on the Evaluate page: faithfulness of the RAG answers, metered like any call.

Only a slot configured with an OpenAI-compatible endpoint can judge (the embedded 135M model cannot follow the
judge's prompts). The judge's calls go to the session's ledger and budget (configuration ``judge``).
"""

from __future__ import annotations

import logging

import streamlit as st

from components.shared.cost_meter import refresh_cost_meter
from components.shared.safe_text import inline
from ragft import errors as E
from ragft import evaluation as EV
from ragft.evaluation.judge import judge_evaluation
from ragft.settings import Settings
from session import models
from session.prices import price_overrides
from session.spend import get_budget, get_ledger

logger = logging.getLogger(__name__)

SLOT_LABELS = {"base": "the base slot's model", "finetuned": "the fine-tuned slot's model"}


def judge_slots(s: Settings) -> list[str]:
    return [slot for slot in ("base", "finetuned") if not models.slot_config(slot, s).is_embedded]


def section(ev: EV.Evaluation, s: Settings, on_judged) -> None:
    """Expander with the judge: which endpoint, how many answers, the button; ``on_judged(ev)`` afterwards."""
    targets = [r for r in ev.records if r.rag and not r.error and (r.answer or "").strip()]
    with st.expander("LLM-judged faithfulness (optional)", icon=":material/gavel:"):
        st.caption(
            "The offline *Grounded* column only checks figures and names. A judge model reads each RAG answer, "
            "lists its claims, and checks each against the retrieved context (the claim-extraction-and-"
            "verification method RAG evaluation frameworks use): 2 calls per answer, metered and capped by "
            "your budget like any call."
        )
        slots = judge_slots(s)
        if not slots:
            st.info(
                "No judge available: configure an OpenAI-compatible endpoint for the base or fine-tuned slot "
                "in Settings. The embedded 135M model is too small to judge.",
                icon=":material/info:",
            )
            return
        if not targets:
            st.caption("This run has no RAG answer to judge.")
            return
        slot = st.radio(
            "Judge model",
            slots,
            key="eval_judge_slot",
            horizontal=True,
            format_func=lambda k: f"{SLOT_LABELS[k]} ({models.slot_config(k, s).model})",
        )
        if not st.button(f"Judge {len(targets)} RAG answer(s)", key="eval_judge_go", icon=":material/gavel:"):
            return
        try:
            model = models.chat_model(slot or slots[0], s=s)
        except E.RagftError as exc:
            st.error(inline(exc.message), icon=":material/error:")
            return
        bar = st.progress(0.0, text="Judging…")
        failures = 0
        for i, rec in enumerate(
            judge_evaluation(ev, model, ledger=get_ledger(), budget=get_budget(s), price_overrides=price_overrides(s)),
            1,
        ):
            failures += rec.judge_error is not None
            bar.progress(min(1.0, i / len(targets)), text=f"Judged {i}/{len(targets)}")
            refresh_cost_meter()
        bar.empty()
        errors = [r.judge_error for r in targets if r.judge_error]
        if errors:
            st.warning(f"{len(errors)} answer(s) could not be judged: {inline(errors[0])}", icon=":material/warning:")
        on_judged(ev)
        st.rerun()


def show_record(rec: EV.EvalRecord) -> None:
    """Groundedness and the judge's verdict under one answer in the drill-down."""
    if rec.claims_stated is not None:
        if not rec.claims_stated:
            st.caption("grounded: states no figure or name to check")
        else:
            line = f"grounded: {rec.claims_supported}/{rec.claims_stated} figures and names found in the sources"
            if rec.unsupported_claims:
                st.markdown(f":orange[{line}; not found: {inline(', '.join(rec.unsupported_claims))}]")
            else:
                st.markdown(f":green[{line}]")
    if rec.faithfulness is not None:
        st.caption(f"judge: {rec.faithfulness * 100:.0f}% of {len(rec.judge_claims)} claim(s) supported")
        for c in rec.judge_claims:
            st.markdown(("- :green[✓] " if c.get("supported") else "- :red[✗] ") + inline(str(c.get("claim", ""))))
    elif rec.judge_error:
        st.caption(f"judge: {inline(rec.judge_error)}")
