"""The Facilitator page's room and actions: participants, spend by who paid against the caps, what runs, the model
queue; stop a run, pause every model call, reset a participant's budget or the app-wide total (confirmed, recorded),
set the event's defaults."""

from __future__ import annotations

import logging
from datetime import datetime
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
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Participants", len(r.participants))
    c2.metric(
        "App-wide spend (server key)",
        format_usd(r.app_spent),
        help=f"What your key paid, all participants: the only spend against the app-wide cap ({_usd(r.app_cap)}).",
    )
    c3.metric(
        "Participants' own keys",
        format_usd(r.app_own_spent),
        help="Paid by participants on their own keys: counted against their own caps, never against yours.",
    )
    c4.metric(
        "Hypothetical",
        format_usd(r.app_hypothetical),
        help="Free calls (the embedded model, local embeddings) at prices participants gave them to see what "
        "they would cost hosted. Nobody pays this; it counts against no cap.",
    )
    c5.metric("Waiting for the model", len(r.queue))
    st.caption(f"App-wide cap on the server's key: {_usd(r.app_cap)}.")
    if r.paused:
        st.warning("Model calls are paused.", icon=":material/pause_circle:")
    st.dataframe(
        [
            {
                "Participant": p.label,
                "Questions": p.questions,
                "Server key": format_usd(p.spent),
                "Cap": _usd(p.cap),
                "Own key": format_usd(p.own_spent) + (f" (own cap {format_usd(p.own_cap)})" if p.own_cap else ""),
                "Hypothetical": format_usd(p.hypothetical),
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
        if st.button(
            "Reset this participant's budget to $0 spent",
            key="fac_reset",
            help="Their spend on the server's key starts again at $0 (the app-wide total keeps it).",
        ):
            S.reset_spend(classroom.store(), people[who], note=f"Facilitator page: {who}")
            st.toast(f"{who}: spend reset.")
    _reset_app(r)
    _event_form()


def _reset_app(r: Room) -> None:
    """Start the app-wide total again at $0, once confirmed; the event is kept in the class database."""
    st.markdown(
        f"**App-wide total**: {format_usd(r.app_spent)} on the server's key (cap {_usd(r.app_cap)}), "
        f"{format_usd(r.app_own_spent)} on participants' own keys, {format_usd(r.app_hypothetical)} hypothetical."
    )
    sure = st.checkbox(
        "Yes, start the app-wide total again at $0 (participants keep their own spend)", key="fac_reset_app_confirm"
    )
    if st.button("Reset the app-wide total", key="fac_reset_app", disabled=not sure, icon=":material/restart_alt:"):
        cleared = S.reset_app_spend(classroom.store(), note="Facilitator page")
        st.session_state.pop("fac_reset_app_confirm", None)
        logger.info("app-wide spend reset from the Facilitator page: %s", cleared)
        st.toast(f"App-wide total reset ({format_usd(cleared[S.SERVER])} on the server's key cleared).")
        st.rerun()
    if r.events:
        st.markdown("**Budget resets** (kept in the class database)")
        st.dataframe(
            [
                {
                    "When": datetime.fromtimestamp(e.t).strftime("%H:%M:%S"),
                    "What": "app-wide total" if e.kind == S.RESET_APP else "a participant's budget",
                    "Paid by": PAID_BY.get(e.payer, e.payer),
                    "Cleared": format_usd(e.amount),
                    "By": e.note,
                }
                for e in r.events
            ],
            hide_index=True,
            key="fac_budget_events",
        )


PAID_BY = {S.SERVER: "server key", S.OWN: "own keys", S.HYPOTHETICAL: "hypothetical"}


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
