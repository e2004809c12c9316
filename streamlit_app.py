"""RAG vs Fine-Tuning Explorer: the router. Sets up shared state and the sidebar, then runs the page."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from components import boot, class_mode, sidebar

ROOT = Path(__file__).parent

st.set_page_config(page_title="RAG vs Fine-Tuning Explorer", page_icon=":material/compare:", layout="wide")
boot.configure_logging()

# Every page, explicitly (st.navigation is the current multipage API; the folder is still called pages/).
PAGES = {
    "Explore": [
        ("pages/home.py", "Home", ":material/home:"),
        ("pages/knowledge_base.py", "Knowledge base", ":material/library_books:"),
        ("pages/finetune.py", "Fine-tune", ":material/model_training:"),
        ("pages/compare.py", "Compare", ":material/view_column:"),
        ("pages/evaluate.py", "Evaluate", ":material/fact_check:"),
    ],
    "Decide": [
        ("pages/guide.py", "Decision guide", ":material/alt_route:"),
        ("pages/costs.py", "Costs", ":material/payments:"),
    ],
    "Configure": [
        ("pages/settings.py", "Settings", ":material/settings:"),
    ],
}

if os.environ.get("RAGFT_FACILITATOR_PASSWORD"):  # class mode: the facilitator's console
    PAGES["Facilitator"] = [("pages/facilitator.py", "Facilitator", ":material/groups:")]
hidden = set(class_mode.event_defaults().hidden_pages)

nav: dict[str, list] = {}
path_of: dict[str, str] = {}  # url_path -> page file
for section, pages in PAGES.items():
    for path, title, icon in pages:
        if (ROOT / path).exists() and path not in hidden:
            pg = st.Page(path, title=title, icon=icon, default=(path == "pages/home.py"))
            nav.setdefault(section, []).append(pg)
            path_of[pg.url_path] = path
page = st.navigation(nav)
boot.forward_if_wanted(path_of.get(page.url_path, ""), set(path_of.values()))
sidebar.render()
class_mode.touch()
class_mode.paused_notice()
token = boot.ROUTER_ACTIVE.set(True)
try:
    page.run()
finally:
    boot.ROUTER_ACTIVE.reset(token)
