"""The Facilitator page's join codes: require a code for new participants, issue N one-use codes, list them, download
them as CSV or a printable sheet, revoke them (a used code's workspace with it)."""

from __future__ import annotations

import logging
from datetime import datetime

import streamlit as st

from components.shared.safe_text import inline
from ragft.classroom import join as J
from ragft.errors import RagftError
from ragft.store import join_codes as C
from ragft.store import workspaces as W
from session import classroom, config, workspace

logger = logging.getLogger(__name__)


def render_join_codes() -> None:
    st.subheader("Join codes", help="One code per participant: it admits one new workspace, in one browser.")
    store = classroom.store()
    forced = config.server_settings(raw=True).join == C.CODES
    on = st.toggle(
        "Require a join code for new participants",
        value=forced or C.page_requires(store),
        disabled=forced,
        key="fac_codes_required",
        help="Workspaces already issued keep working; a browser without one needs an unused code.",
    )
    if forced:
        st.caption("Set by the server (RAGFT_JOIN=codes).")
    elif on != C.page_requires(store):
        C.set_required(store, on)
        st.toast("New participants need a join code." if on else "The join link admits anyone again.")
    with st.form("fac_codes_issue"):
        c1, c2 = st.columns([1, 3])
        n = c1.number_input("Codes to issue", 1, C.MAX_ISSUE, 10, key="fac_codes_n")
        note = c2.text_input("Note (optional, e.g. the table or session)", max_chars=200, key="fac_codes_note")
        if st.form_submit_button("Issue codes", icon=":material/key:"):
            made = C.issue(store, int(n), note=note.strip())
            logger.info("%d join code(s) issued from the Facilitator page", len(made))
            st.success(f"{len(made)} new code(s).")
    codes = C.list_codes(store)
    if not codes:
        st.caption("No code issued yet.")
        return
    labels = {w.id: w.label for w in W.list_workspaces(store)}
    unused = sum(c.status == "unused" for c in codes)
    st.caption(f"{len(codes)} code(s): {unused} unused.")
    st.dataframe(
        [
            {
                "Code": C.display(c.code),
                "Status": c.status,
                "Participant": labels.get(c.workspace_id or "", "(gone)" if c.workspace_id else "–"),
                "Note": c.note,
                "Issued": datetime.fromtimestamp(c.created).strftime("%H:%M:%S"),
            }
            for c in codes
        ],
        hide_index=True,
        key="fac_codes_table",
    )
    url = str(st.session_state.get("fac_join_url") or "")
    d1, d2 = st.columns(2)
    d1.download_button(
        "Codes (CSV)",
        J.codes_csv(codes, labels, url),
        "join-codes.csv",
        "text/csv",
        key="fac_codes_csv",
        on_click="ignore",
    )
    d2.download_button(
        "Printable sheet of unused codes (HTML)",
        J.codes_sheet_html(codes, url),
        "join-codes.html",
        "text/html",
        key="fac_codes_sheet",
        on_click="ignore",
    )
    _revoke(codes, labels)


def _revoke(codes: list[C.JoinCode], labels: dict[str, str]) -> None:
    live = [c for c in codes if not c.revoked]
    if not live:
        return

    def name(code: str) -> str:
        c = next(x for x in live if x.code == code)
        who = labels.get(c.workspace_id or "")
        return C.display(code) + (f" (used by {who})" if who else f" ({c.status})")

    pick = st.multiselect("Codes to revoke", [c.code for c in live], format_func=name, key="fac_codes_revoke")
    sure = st.checkbox(
        "Yes, refuse these codes (a used code's workspace is revoked too: its documents and results go)",
        key="fac_codes_revoke_sure",
    )
    if st.button("Revoke these codes", key="fac_codes_revoke_go", disabled=not (sure and pick)):
        s = config.server_settings(raw=True)
        admitted = C.revoke(classroom.store(), list(pick))
        spaces = workspace.workspaces(s)
        try:
            for ws in admitted:
                spaces.revoke(ws, workspace.client(s))
        except RagftError as exc:
            st.error(inline(exc.message))
            return
        for k in ("fac_codes_revoke", "fac_codes_revoke_sure"):
            st.session_state.pop(k, None)
        st.toast(f"{len(pick)} code(s) revoked, {len(admitted)} workspace(s) with them.")
        st.rerun()
