"""Glue between the Compare page and the core: retrieval switch, models, live rendering, history, blind mode.

- Retrieval is ``session.retrieval.session_retriever``: the session's workspace plus the shared sample
  scenario (read-only); when it cannot be reached, its error shows in the RAG panels.
- ``stream_run(run, views)`` drains a :class:`ragft.answering.compare.ComparisonRun`'s events in the script thread and
  redraws each panel as its tokens arrive, a few times a second at most (and the sidebar meter, which cannot rerun
  on its own meanwhile).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from components.compare.answer_panel import AnswerPanel, waiting_note
from components.shared import cost_meter
from components.shared.safe_text import inline
from ragft import errors as E
from ragft.answering import compare as C
from ragft.answering.blind import BlindSession
from ragft.answering.history import SessionHistory, exports_for, session_exports
from ragft.configs import BY_KEY
from ragft.evaluation.style import check_style
from ragft.knowledge.scenario import load_questions
from ragft.models import fair
from ragft.redraw import PANEL_EVERY_S, Coalescer
from ragft.settings import Settings
from session import classroom, keys
from session.retrieval import session_retriever
from session.wiring import RunWiring

logger = logging.getLogger(__name__)

RUN_KEY = "cmp_run"
HISTORY_KEY = "cmp_history"
BLIND_KEY = "cmp_blind_session"
CURRENT_KEY = "cmp_current"
EVIDENCE_DONE_KEY = "cmp_evidence_done"


# ---- session objects -------------------------------------------------------------------------------------
def history() -> SessionHistory:
    return st.session_state.setdefault(HISTORY_KEY, SessionHistory())


def blind_session() -> BlindSession:
    return st.session_state.setdefault(BLIND_KEY, BlindSession())


# ---- example questions -------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, ttl=3600)
def example_questions(n: int = 4) -> list[str]:
    """A few questions from the sample scenario: one of each kind first (price, spec, policy)."""
    try:
        qs = load_questions()
    except E.RagftError:
        logger.exception("the sample scenario's questions cannot be loaded")
        return []
    picked: list[str] = []
    for kind in ("price", "policy", "spec"):
        for q in qs:
            if q.kind == kind and q.question not in picked:
                picked.append(q.question)
                break
    for q in qs:
        if len(picked) >= n:
            break
        if q.question not in picked:
            picked.append(q.question)
    return picked[:n]


# ---- starting a run ---------------------------------------------------------------------------------------
def start(question: str, keys: list[str], s: Settings) -> C.ComparisonRun:
    """Start a comparison for this session. Raises CompareError for bad input."""
    C.validate_question(question)
    wiring = RunWiring.build(s, keys, session_retriever)
    classroom.check_free(wiring.owner, "comparison")
    run = C.start_comparison(question, wiring.configurations, **wiring.run_kwargs())
    st.session_state[RUN_KEY] = run
    classroom.track(run)
    classroom.record_question(wiring.owner, question)
    return run


# ---- rendering ----------------------------------------------------------------------------------------------
def panel_grid(comparison: C.Comparison, blind: bool) -> dict[str, AnswerPanel]:
    """Columns side by side, one panel per configuration (in blind order when blind)."""
    keys = list(comparison.configurations)
    letters: dict[str, str] = {}
    if blind:
        r = blind_session().round_for(comparison.id, keys)
        keys = list(r.order)
        letters = {k: r.letter_for(k) for k in keys}
    views: dict[str, AnswerPanel] = {}
    for col, key in zip(st.columns(len(keys)), keys):
        with col:
            view = AnswerPanel(key)
            view.header(comparison.panels[key], letters.get(key), revealed=_revealed(comparison))
            views[key] = view
    return views


def _revealed(comparison: C.Comparison) -> bool:
    r = blind_session().rounds.get(comparison.id)
    return r is not None and r.revealed


def stream_run(run: C.ComparisonRun, views: dict[str, AnswerPanel], blind: bool) -> C.Comparison:
    """Redraw panels as events arrive, until the run finishes. Returns the finished comparison.

    Redraws are coalesced (:class:`ragft.redraw.Coalescer`): a panel's new phase and its first text at once, its
    growing answer at most every ``PANEL_EVERY_S``, an unchanged panel never; every event and every tick looks at
    every panel, so a change held back is drawn by the next one.
    """
    cmp = run.comparison
    gate = Coalescer(PANEL_EVERY_S)
    for p in cmp.ordered_panels():
        _draw_panel(views[p.configuration], p, cmp.id, gate, blind)
    for ev in run.events(poll_s=0.25):
        if ev.kind == "finished":
            break
        for p in cmp.ordered_panels():
            _draw_panel(views[p.configuration], p, cmp.id, gate, blind)
        if ev.kind in ("token", "done", "error", "tick"):
            cost_meter.refresh_cost_meter()
    for p in cmp.ordered_panels():  # whatever the run left unfinished is drawn as it ended
        if gate.due(p.configuration, phase=_FINAL):
            views[p.configuration].finish(p, hide_details=blind)
    return cmp


_FINAL = "final"


def _draw_panel(view: AnswerPanel, p: C.PanelResult, comparison_id: str, gate: Coalescer, blind: bool) -> None:
    """One panel, if the gate says its change is due: finished once, waiting when its note's text changes (its place,
    the wait, whole seconds waited), streaming by its token count."""
    key = p.configuration
    if p.finished:
        if gate.due(key, phase=_FINAL):
            view.finish(p, hide_details=blind)
        return
    if p.phase in (C.QUEUED, C.WAITING) and not p.text:
        place = fair.position(C.panel_key(comparison_id, key)) if p.phase == C.WAITING else None
        if gate.due(key, phase=(p.phase, False), state=waiting_note(p, place)):  # what it shows: once a second
            view.update(p, place)
        return
    if gate.due(key, phase=(p.phase, bool(p.text)), state=p.tokens_so_far):
        view.update(p)


def render_finished(comparison: C.Comparison, blind: bool) -> None:
    blind = blind or comparison.id in blind_session().rounds  # once seen blind, keep its A-D order
    hide = blind and not _revealed(comparison)
    views = panel_grid(comparison, blind)
    for p in comparison.ordered_panels():
        views[p.configuration].finish(p, hide_details=hide)


def retrieval_caption(comparison: C.Comparison) -> None:
    r = comparison.retrieval
    if r is None:
        return
    if r.error:
        st.caption(f"Retrieval: {inline(r.error)}")
    else:
        st.caption(
            f"Retrieved {len(r.chunks)} chunk(s) once from **{inline(r.collection)}** for both RAG panels · "
            f"embedding the question {r.embed_s * 1000:.0f} ms · search {r.search_s * 1000:.0f} ms"
            + (f" · wall time {comparison.wall_s:.2f} s" if comparison.wall_s else "")
        )


def current_downloads(comparison: C.Comparison) -> None:
    """Export the comparison on show (Markdown for a report, JSON for analysis)."""
    md, js = exports_for(comparison)
    with st.container(horizontal=True):
        st.download_button(
            "This comparison as Markdown",
            md.data,
            md.file_name,
            md.mime,
            key="cmp_dl_cur_md",
            icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            "as JSON",
            js.data,
            js.file_name,
            js.mime,
            key="cmp_dl_cur_json",
            icon=":material/data_object:",
            on_click="ignore",
        )


def record_finished(comparison: C.Comparison) -> None:
    """Once per comparison: keep it in the history and hand the evidence to the decision guide."""
    done: set = st.session_state.setdefault(EVIDENCE_DONE_KEY, set())
    history().add(comparison)
    st.session_state[CURRENT_KEY] = comparison.id
    if comparison.id in done:
        return
    done.add(comparison.id)
    keys.add_evidence(C.evidence_rows(comparison, check_style))


# ---- blind mode ---------------------------------------------------------------------------------------------
def blind_vote(comparison: C.Comparison) -> None:
    bs = blind_session()
    r = bs.round_for(comparison.id, list(comparison.configurations))
    if r.revealed:
        letter = r.letter_for(r.vote or "")
        st.success(
            f"You picked **answer {letter}**: **{BY_KEY[r.vote].label if r.vote else '?'}**. Labels revealed below.",
            icon=":material/how_to_vote:",
        )
        st.caption(" · ".join(f"{letter} = {BY_KEY[k].label}" for letter, k in r.labelled()))
        return
    answered = [letter for letter, k in r.labelled() if comparison.panels[k].phase == C.DONE]
    if not answered:
        st.warning("No answer to vote on: every configuration failed.")
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    with c1:
        pick = st.segmented_control("Which answer is best?", answered, key=f"cmp_vote_pick_{comparison.id}")
    with c2:
        if st.button("Vote and reveal", type="primary", disabled=pick is None, key=f"cmp_vote_{comparison.id}"):
            try:
                key = bs.vote(comparison.id, pick or "")
            except E.RagftError as exc:
                st.error(inline(exc.message))
            else:
                classroom.record_vote(comparison.id, key, r.order, comparison.question)
                st.rerun()


def blind_tally() -> None:
    rows = blind_session().tally()
    if not rows:
        return
    st.markdown(f"**Blind votes this session:** {blind_session().votes}")
    st.dataframe(
        [{"Configuration": r.label, "Picked as best": r.wins, "Shown": r.shown} for r in rows],
        hide_index=True,
        width="content",
    )
    st.caption("Win counts, not a ranking: with a handful of questions the differences are anecdotes.")
    st.button("Reset the votes", key="cmp_blind_reset", on_click=blind_session().reset, icon=":material/restart_alt:")


# ---- history ------------------------------------------------------------------------------------------------
def history_section(on_rerun: Callable[[str], None]) -> None:
    h = history()
    items = h.items()
    if not items:
        return
    st.subheader(f"Session history ({len(items)})")
    md, js = session_exports(h)
    c1, c2, c3 = st.columns([1, 1, 3])
    c1.download_button(
        "Session as Markdown",
        md.data,
        md.file_name,
        md.mime,
        key="cmp_dl_session_md",
        icon=":material/download:",
        on_click="ignore",
    )
    c2.download_button(
        "Session as JSON",
        js.data,
        js.file_name,
        js.mime,
        key="cmp_dl_session_json",
        icon=":material/data_object:",
        on_click="ignore",
    )
    c3.button(
        "Clear the history",
        key="cmp_history_clear",
        on_click=_clear_history,
        icon=":material/delete:",
        help="Forget these comparisons (the cost ledger keeps its records)",
    )
    for c in items:
        answered = sum(1 for p in c.panels.values() if p.phase == C.DONE)
        title = f"{c.created.strftime('%H:%M:%S')} · {inline(c.question[:80])} · {answered}/{len(c.panels)} answered"
        with st.expander(title):
            for p in c.ordered_panels():
                st.markdown(f"**{p.label}** · " + (inline(p.error) if p.error else _short(p.text)))
            b1, b2, b3, b4 = st.columns(4)
            if b1.button("Show", key=f"cmp_show_{c.id}", icon=":material/visibility:"):
                st.session_state[CURRENT_KEY] = c.id
                st.rerun()
            b2.button(
                "Ask again",
                key=f"cmp_rerun_{c.id}",
                icon=":material/replay:",
                on_click=on_rerun,
                args=(c.id,),
                help="Same question and configurations, with the current settings",
            )
            cmd, cjs = exports_for(c)
            b3.download_button(
                "Markdown", cmd.data, cmd.file_name, cmd.mime, key=f"cmp_dl_md_{c.id}", on_click="ignore"
            )
            b4.download_button("JSON", cjs.data, cjs.file_name, cjs.mime, key=f"cmp_dl_json_{c.id}", on_click="ignore")


def _clear_history() -> None:
    history().clear()
    st.session_state.pop(CURRENT_KEY, None)


def _short(text: str, n: int = 160) -> str:
    flat = " ".join((text or "").split())
    return inline(flat[:n] + ("…" if len(flat) > n else "")) or "(empty)"
