"""RAG vs Fine-Tuning Explorer: the router. Sets up shared state and the sidebar, then runs the page."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from components.facilitator import gate
from components.shared import navigation, shell, sidebar
from session import boot, classroom, workspace

ROOT = Path(__file__).parent

# The tab's icon is an emoji the browser draws itself: a ":material/...:" page icon makes every participant's browser
# fetch an SVG from fonts.gstatic.com (Streamlit's favicon code), which an offline room cannot reach (and should not).
st.set_page_config(page_title="RAG vs Fine-Tuning Explorer", page_icon="⚖️", layout="wide")
boot.configure_logging()

class_mode_on = bool(os.environ.get("RAGFT_FACILITATOR_PASSWORD"))  # the facilitator's console exists
facilitator = gate.is_unlocked()
hidden = set(classroom.event_defaults().hidden_pages)

nav: dict[str, list] = {}
path_of: dict[str, str] = {}  # url_path -> page file
for spec in navigation.PAGES:  # every page, explicitly (st.navigation; the folder is still called pages/)
    if spec.class_mode_only and not class_mode_on:
        continue
    if (ROOT / spec.path).exists() and spec.path not in hidden:
        # The console is not in a participant's navigation: it stays at its own address (/facilitator) and shows
        # in the menu once this session has unlocked it.
        home = spec.path == navigation.HOME
        if spec.class_mode_only and not facilitator:
            pg = st.Page(spec.path, title=spec.title, icon=spec.icon, default=home, visibility="hidden")
        else:
            pg = st.Page(spec.path, title=spec.title, icon=spec.icon, default=home)
        nav.setdefault(spec.section, []).append(pg)
        path_of[pg.url_path] = spec.path
page = st.navigation(nav)
here = path_of.get(page.url_path, "")
boot.forward_if_wanted(here, set(path_of.values()))
if not shell.admit(exempt=facilitator):
    if here != navigation.CONSOLE:  # a full room still lets the facilitator reach the console's password form
        st.stop()
    token = boot.ROUTER_ACTIVE.set(True)
    try:
        page.run()
    finally:
        boot.ROUTER_ACTIVE.reset(token)
    st.stop()
sidebar.render()
workspace.remember_in_browser()
classroom.touch()
shell.paused_notice()
token = boot.ROUTER_ACTIVE.set(True)
try:
    page.run()
finally:
    boot.ROUTER_ACTIVE.reset(token)
