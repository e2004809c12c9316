"""AppTest: the router and every registered page render without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared import navigation
from components.shared.safe_text import as_plain

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

ROOT = Path(__file__).resolve().parent.parent


def registered_pages() -> list[str]:
    """The page files the router registers (components.shared.navigation.PAGES, the one list of pages)."""
    return sorted(p.path for p in navigation.PAGES)


def test_every_page_file_is_registered_and_exists():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
    assert files == registered_pages()


@pytest.mark.parametrize("page", registered_pages())
def test_page_renders_without_exception(page, data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_FACILITATOR_PASSWORD", "class mode on")  # the Facilitator page is registered
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.main.children) > 0


def test_home_names_the_active_models(data_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    assert not at.exception
    texts = as_plain(" ".join(s.value for s in at.success) + " ".join(e.value for e in at.error))
    assert "smollm2-135m-instruct" in texts
    assert at.title[0].value == "RAG vs Fine-Tuning Explorer"
