"""RAG vs Fine-Tuning Explorer: the router. Sets up shared state and the sidebar, then runs the page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components import sidebar

ROOT = Path(__file__).parent

st.set_page_config(page_title="RAG vs Fine-Tuning Explorer", page_icon=":material/compare:", layout="wide")

# Every page, explicitly (st.navigation is the current multipage API; the folder is still called pages/).
PAGES = {
    "Explore": [
        ("pages/home.py", "Home", ":material/home:"),
        ("pages/knowledge_base.py", "Knowledge base", ":material/library_books:"),
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

nav = {
    section: [
        st.Page(path, title=title, icon=icon, default=(path == "pages/home.py"))
        for path, title, icon in pages
        if (ROOT / path).exists()
    ]
    for section, pages in PAGES.items()
}
page = st.navigation({k: v for k, v in nav.items() if v})
sidebar.render()
page.run()
