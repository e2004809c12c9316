"""Untrusted text shown in the page: ``show_answer`` for answers; ``inline`` (and the rest) come from the core's
:mod:`ragft.text`, the one copy of the rules (see its docstring).
"""

from __future__ import annotations

import streamlit as st

from ragft.text import ANSWER_TAGS, WORD_JOINER, answer_html, as_plain, inline

__all__ = ["ANSWER_TAGS", "WORD_JOINER", "answer_html", "as_plain", "inline", "show_answer"]


def show_answer(text: str, into=None, *, cursor: bool = False) -> None:
    """Show an answer (``into``: a placeholder such as ``st.empty()``; default: here). Nothing for empty text."""
    html = answer_html((text or "") + (" ▌" if cursor else ""))
    target = into if into is not None else st
    if html.strip():
        target.html(f"<div>{html}</div>")
    elif into is not None:
        into.empty()
