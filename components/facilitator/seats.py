"""The Facilitator page's seats: bound the room (live workspaces at most) and revoke a workspace (its data goes,
its seat is free, its link and its browser are refused from then on)."""

from __future__ import annotations

import logging

import streamlit as st

from components.shared.safe_text import inline
from ragft.classroom.room import Room
from ragft.errors import RagftError
from ragft.store import workspaces as W
from session import classroom, config, keys, workspace

logger = logging.getLogger(__name__)


def render_seats(r: Room) -> None:
    st.subheader("Seats", help="A browser keeps its workspace: the join link opened again returns to it.")
    store = classroom.store()
    now = W.seats(store)
    live = W.live_count(store)
    st.caption(
        f"{live} workspace(s) live (yours included)"
        + (f", {now} seat(s) in the room." if now else "; the room has no bound.")
    )
    with st.form("fac_seats"):
        n = st.number_input("Seats (0: no bound)", 0, 10_000, int(now or 0), key="fac_seats_n")
        if st.form_submit_button("Set the seats"):
            W.set_seats(store, int(n) or None)
            st.success(f"The room holds {int(n)} workspace(s): a new one beyond that is refused." if n else "No bound.")
    mine = keys.workspace_id()
    people = {
        f"{p.label} (seen {p.last_seen_s:.0f} s ago)": p.workspace_id for p in r.participants if p.workspace_id != mine
    }
    if not people:
        return
    who = st.selectbox("Workspace", list(people), key="fac_revoke_who")
    sure = st.checkbox("Yes, delete its documents and results and refuse its link", key="fac_revoke_sure")
    if st.button("Revoke this workspace", key="fac_revoke", disabled=not sure, icon=":material/person_remove:"):
        s = config.server_settings(raw=True)
        try:
            workspace.workspaces(s).revoke(people[who], workspace.client(s))
        except RagftError as exc:
            st.error(inline(exc.message))
        else:
            st.session_state.pop("fac_revoke_sure", None)
            st.toast(f"{who.split(' (')[0]}: revoked; its seat is free.")
            st.rerun()
