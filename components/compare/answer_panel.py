"""One answer panel of the Compare page: header, streaming answer, compact metrics, sources, prompt.

``AnswerPanel`` reserves its slots once (inside a column) and is then redrawn in place: ``update`` while
tokens arrive, ``finish`` when the configuration is done or failed. In blind mode the header shows only the
letter and the metrics, sources and prompt stay hidden until the vote reveals them.
"""

from __future__ import annotations

import time

import streamlit as st

from components.shared.safe_text import inline, show_answer
from components.shared.sources import render_sources as ranked_sources
from ragft import errors as E
from ragft.answering import compare as C
from ragft.costs.prices import format_usd
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models.fair import Place

LLAMACPP_HINT = (
    "A llama-cpp-python server cuts a streaming answer off (an empty answer) when another request "
    "arrives: start it with `interrupt_requests: false` in its config so panels can run at once."
)


def cost_text(p: C.PanelResult) -> str:
    if p.usage is None:
        return "-"
    if p.local:
        return "$0 · local"
    return format_usd(p.cost)


def metrics_line(p: C.PanelResult) -> str:
    bits = []
    if p.ttft_s is not None:
        bits.append(f"first token **{p.ttft_s:.2f} s**")
    if p.total_s is not None:
        bits.append(f"total **{p.total_s:.2f} s**")
    if p.usage is not None:
        approx = "" if p.usage.exact else "≈"
        bits.append(f"tokens {approx}**{p.usage.prompt_tokens}** in / {approx}**{p.usage.completion_tokens}** out")
    bits.append(f"cost **{inline(cost_text(p))}**")
    if p.rag and p.context_tokens is not None:
        bits.append(f"RAG added **+{p.context_tokens}** context tokens")
    return " · ".join(bits)


def waiting_note(p: C.PanelResult, place: Place | None = None) -> str:
    if p.phase == C.QUEUED:
        return "Retrieving context…"
    waited = "" if p.started_at is None else f" ({time.perf_counter() - p.started_at:.0f} s)"
    if place is not None:
        turn = "next in line" if place.ahead == 0 else f"{place.ahead} ahead of you in the queue"
        wait = f", about {place.wait_s:.0f} s to wait" if place.wait_s >= 1 else ""
        return (
            f"Waiting for the shared model{waited}: {turn}{wait}. Everyone in the room takes turns, "
            "one answer per participant at a time."
        )
    if p.embedded:
        return f"Waiting for the CPU{waited}: the embedded model takes turns with the other answers."
    return f"Waiting for {p.provider or 'the server'}{waited}…"


COUNT_EVERY_S = 1.0  # a streaming panel's token count


class AnswerPanel:
    """Slots for one panel, redrawn in place."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.box = st.container(border=True, key=f"cmp_panel_{key}")
        with self.box:
            self.head = st.empty()
            self.status = st.empty()
            self.body = st.empty()
            self.footer = st.empty()
        self._shown = ""  # what the status and body show now: "waiting" or "streaming"
        self._count_at = 0.0  # when the streaming token count was last drawn

    def header(self, p: C.PanelResult, letter: str | None = None, revealed: bool = False) -> None:
        with self.head.container():
            if letter is not None and revealed:
                st.markdown(f"#### {letter} · {p.label}")
                st.caption(inline(p.model_label or p.model_id or "…"))
            elif letter is not None:
                st.markdown(f"#### Answer {letter}")
                st.caption("Configuration hidden until you vote")
            else:
                st.markdown(f"#### {p.label}")
                st.caption(inline(p.model_label or p.model_id or "…"))

    def update(self, p: C.PanelResult, place: Place | None = None) -> None:
        """While streaming: status note (with the place in the model's queue) and the answer so far."""
        if p.finished:
            return
        if p.phase in (C.QUEUED, C.WAITING) and not p.text:
            self.status.info(waiting_note(p, place), icon=":material/hourglass_top:")
            if self._shown != "waiting":  # an empty body sent once, not with every note
                self.body.empty()
                self._shown = "waiting"
            return
        # The token count is redrawn once a second, the answer as often as the page's coalescer allows: one
        # element delta per redraw instead of two (the server's messages, the browsers' renders).
        now = time.monotonic()
        if self._shown != "streaming" or now - self._count_at >= COUNT_EVERY_S:
            self.status.caption(f":blue[streaming…] {p.tokens_so_far} tokens")
            self._count_at = now
            self._shown = "streaming"
        show_answer(p.text, self.body, cursor=True)

    def finish(self, p: C.PanelResult, *, hide_details: bool = False) -> None:
        self.status.empty()
        with self.body.container():
            if p.error:
                st.error(f"**{error_heading(p)}** · {inline(p.error)}", icon=":material/error:")
                if p.text:
                    show_answer(p.text)
            elif p.text.strip():
                show_answer(p.text)
            else:
                st.caption("(The model returned an empty answer.)")
                if not p.embedded:
                    st.caption(LLAMACPP_HINT)
        if hide_details:
            self.footer.empty()
            return
        with self.footer.container():
            if p.usage is not None or not p.error:
                st.caption(metrics_line(p))
            if p.rag and (p.sources or not p.error):
                label = f"Sources ({len(p.sources)})" if p.sources else "Sources (none)"
                with st.expander(label, icon=":material/library_books:"):
                    render_sources(p.sources)
            if p.messages:
                with st.expander("What the model saw", icon=":material/visibility:"):
                    render_prompt(p)


def error_heading(p: C.PanelResult) -> str:
    """``Refused by the budget``, ``Timed out``...: the panel's error, matched by its class."""
    if p.exception is not None:
        return E.error_label(p.exception)
    return p.error_kind or "Error"


def render_sources(chunks: tuple[RetrievedChunk, ...] | list[RetrievedChunk]) -> None:
    """The ranked sources, as the knowledge base page lists them."""
    if not chunks:
        st.caption("Retrieval returned nothing above the score threshold, so the model got no context.")
        return
    ranked_sources(list(chunks), max_chars=400)


def render_prompt(p: C.PanelResult) -> None:
    n = p.usage.prompt_tokens if p.usage is not None else p.prompt_tokens
    if n is not None:
        st.caption(f"{n} prompt tokens · {len(p.messages)} messages, exactly as sent")
    for m in p.messages:
        st.markdown(f"**{m['role']}**")
        st.code(m["content"], language=None, wrap_lines=True)
