"""The freshness demo: change a price in the sample catalogue for this workspace and watch RAG follow it.

The new catalogue PDF is indexed in the participant's workspace and hides the sample's version for them only: RAG
answers follow at once, while a fine-tuned model keeps what it learned at training time.
"""

from __future__ import annotations

import logging

import streamlit as st

from components.knowledge.uploader import REPORTS_KEY, ingest_with_progress
from components.shared.safe_text import inline
from ragft import errors as E
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.scenario import ScenarioError, change_price, load_scenario
from ragft.knowledge.store import DocumentInfo
from session import config

logger = logging.getLogger(__name__)


def render_freshness_demo(kb: KnowledgeBase, mine: list[DocumentInfo]) -> None:
    """Change a price in the sample catalogue: the new PDF goes to this workspace and hides the sample's one."""
    try:
        sc = load_scenario()
    except E.RagftError as exc:
        logger.exception("the sample scenario could not be loaded for the freshness demo")
        st.warning(f"The freshness demo is unavailable: {inline(exc.message)}", icon=":material/warning:")
        return
    changed: dict[str, int] = st.session_state.setdefault("kb_fresh_prices", {})
    if not any(d.name == sc.catalogue_pdf for d in mine):
        changed.clear()  # the user's catalogue was deleted (or never made): the sample's prices apply
    with st.container(border=True):
        st.markdown(
            "**Freshness demo:** change a price in the catalogue. The new catalogue is indexed in *your* "
            "workspace and replaces the sample's version for you only: RAG answers follow at once, a "
            "fine-tuned model keeps what it learned."
        )
        names = [p.name for p in sc.products]
        c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
        prod = c1.selectbox("Product", names, key="kb_fresh_product")
        now = changed.get(prod, sc.product(prod).price)
        c1.caption(f"Current price: ${now}")
        key = f"kb_fresh_price_{names.index(prod)}"
        st.session_state.setdefault(key, int(now) + 10)
        new_price = c2.number_input("New price ($)", min_value=1, max_value=100_000, step=1, key=key)
        if c3.button("Publish", icon=":material/published_with_changes:", key="kb_fresh_go"):
            try:
                upd = change_price(sc, prod, new_price, prices=changed)
            except ScenarioError as exc:
                st.error(inline(exc.message))
                return
            base = config.server_settings()  # same chunking as the sample: one product per chunk

            reports = ingest_with_progress(
                kb, [(upd.file_name, upd.pdf)], chunk_tokens=base.chunk_tokens, overlap=base.chunk_overlap
            )
            if reports[0].ok:
                changed[prod] = upd.new_price
                reports[0].message += f" {prod}: ${upd.old_price} → ${upd.new_price}."
            st.session_state[REPORTS_KEY] = reports
            st.session_state["kb_fresh_msg"] = (reports[0].ok, reports[0].message)
            st.session_state["kb_result"] = None
            st.rerun()
        if msg := st.session_state.pop("kb_fresh_msg", None):
            (st.success if msg[0] else st.error)(inline(msg[1]))
        if changed:
            st.caption(
                "Changed in your workspace: "
                + ", ".join(f"{n} ${p}" for n, p in changed.items())
                + ". Delete your catalogue.pdf (Your documents) to go back to the sample's prices."
            )
