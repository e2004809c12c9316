"""The Facilitator page's room and actions: participants, spend against caps, what runs, the model queue;
stop a run, pause every model call, reset a participant's budget, set the event's defaults."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

import streamlit as st

from components.shared.navigation import hideable_pages
from components.shared.safe_text import inline
from ragft.classroom import event as EV
from ragft.classroom import pause, tracking
from ragft.classroom.room import Room, snapshot
from ragft.costs.money import format_usd
from ragft.errors import RagftError
from ragft.runs import registry
from ragft.settings import int_bound
from ragft.store import spend as S
from session import classroom, config, keys

logger = logging.getLogger(__name__)


def room() -> Room:
    s = config.server_settings()
    return snapshot(classroom.store(), registry(), app_cap=s.app_budget_usd, participant_cap=s.participant_budget_usd)


def _usd(x: Decimal | None) -> str:
    return "no cap" if x is None else format_usd(x)


def render_room(r: Room) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Participants", len(r.participants))
    c2.metric("App-wide spend", format_usd(r.app_spent), help=f"cap: {_usd(r.app_cap)}")
    c3.metric("Waiting for the model", len(r.queue))
    if r.paused:
        st.warning("Model calls are paused.", icon=":material/pause_circle:")
    st.dataframe(
        [
            {
                "Participant": p.label,
                "Questions": p.questions,
                "Spent": format_usd(p.spent),
                "Cap": _usd(p.cap),
                "Running now": "; ".join(
                    f"{x.kind}: {x.what[:50]}" + (" (stopping)" if x.stopping else "") for x in p.running
                )
                or "–",
                "Last seen": f"{p.last_seen_s:.0f} s ago",
            }
            for p in r.participants
        ],
        hide_index=True,
        key="fac_room_table",
    )
    if r.queue:
        st.markdown("**Model queue** (who waits for the embedded model, and how long)")
        st.dataframe(
            [{"Participant": q.label, "Turns ahead": q.ahead, "Waiting": f"{q.waited_s:.1f} s"} for q in r.queue],
            hide_index=True,
            key="fac_queue_table",
        )


def render_actions(r: Room) -> None:
    st.subheader("Actions")
    runs = [(p.label, x) for p in r.participants for x in p.running]
    if runs:
        pick = st.selectbox(
            "Run",
            range(len(runs)),
            key="fac_pick_run",
            format_func=lambda i: f"{runs[i][0]} · {runs[i][1].kind} · {runs[i][1].what[:60]}",
        )
        if st.button("Stop this run", key="fac_stop_run", icon=":material/stop_circle:"):
            stopped = tracking.stop(classroom.store(), registry(), runs[pick][1].run_id)
            st.toast("Stopping it." if stopped else "It had already ended.")
    else:
        st.caption("Nothing is running.")
    paused = pause.is_paused()
    if st.button(
        "Resume model calls" if paused else "Pause all model calls",
        key="fac_pause",
        icon=":material/play_circle:" if paused else ":material/pause_circle:",
    ):
        pause.set_paused(not paused)
        st.rerun()
    people = {p.label: p.workspace_id for p in r.participants}
    if people:
        who = st.selectbox("Participant", list(people), key="fac_reset_who")
        if st.button("Reset this participant's budget to $0 spent", key="fac_reset"):
            S.reset_spend(classroom.store(), people[who])
            st.toast(f"{who}: spend reset.")
    _event_form()


def _event_form() -> None:
    st.subheader("Event defaults", help="Applied to every session within seconds, without a restart.")
    rules = config.policy()
    ev = EV.load(classroom.store())
    pages = list(hideable_pages())
    with st.form("fac_event"):
        base = st.selectbox("Base model", rules.models_for("base"), key="fac_ev_base")
        ft = st.selectbox("Fine-tuned model", rules.models_for("finetuned"), key="fac_ev_ft")
        top_k = st.number_input(
            "Top-k",
            *int_bound("top_k"),
            int(ev.top_k or config.server_settings(raw=True).top_k),
            key="fac_ev_k",
        )
        cap = st.text_input(
            "Cap per participant ($, empty: the server's)", ev.participant_cap_usd or "", key="fac_ev_cap"
        )
        hidden = st.multiselect(
            "Pages participants do not see", pages, default=list(ev.hidden_pages), key="fac_ev_hidden"
        )
        if st.form_submit_button("Apply to the event", type="primary"):
            try:
                if cap.strip():
                    Decimal(cap.strip())
                new = EV.validate(
                    EV.EventDefaults(base, ft, int(top_k), cap.strip() or None, tuple(hidden)),
                    {"base": rules.models_for("base"), "finetuned": rules.models_for("finetuned")},
                )
                EV.save(classroom.store(), new)
            except InvalidOperation:
                st.error("The cap must be an amount in dollars, e.g. 0.50.")
            except RagftError as exc:
                st.error(inline(exc.message))
            else:
                st.session_state.pop(keys.CLASS_EVENT, None)
                st.success("Applied: sessions pick it up on their next page run.")
