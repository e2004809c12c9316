"""The quick tier opens every page through the router with AppTest, without loading a model.

Both slots point at an OpenAI-compatible endpoint on a closed loopback port: building a client checks nothing,
and no page calls a model until someone asks a question, so every page renders with the sidebar and no llama.cpp
model is loaded (the quick tier's guard in conftest.py would fail the test if one were).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.shared import navigation
from components.shared.safe_text import as_plain
from ragft.paths import ROOT

CLOSED = "http://127.0.0.1:9/v1"  # discard port: nothing listens, nothing is called


@pytest.fixture
def endpoint_only(data_dir, monkeypatch):
    for slot in ("BASE", "FT"):
        monkeypatch.setenv(f"RAGFT_{slot}_PROVIDER", "custom")
        monkeypatch.setenv(f"RAGFT_{slot}_URL", CLOSED)
        monkeypatch.setenv(f"RAGFT_{slot}_MODEL", f"quick-{slot.lower()}")
    monkeypatch.setenv("RAGFT_FACILITATOR_PASSWORD", "class mode on")  # the Facilitator page is registered
    return data_dir


@pytest.mark.parametrize("page", sorted(p.path for p in navigation.PAGES))
def test_every_page_opens_without_a_model(page, endpoint_only):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    sidebar = as_plain(" ".join(c.value for c in at.sidebar.caption))
    assert "quick-base" in sidebar and "quick-ft" in sidebar, "the sidebar names the endpoint models"
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.main.children) > 0
