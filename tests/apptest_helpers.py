"""Helpers shared by the page tests: embedded-default settings, opening a page, unlocking the Facilitator console."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ragft.paths import DEFAULT_ADAPTER, ROOT
from ragft.settings import EMBEDDED_FT_MODEL, EndpointConfig, Settings
from session import keys


def embedded_settings(data_dir, **changes) -> Settings:
    """The embedded default with short answers. The fine-tuned slot uses the trained adapter when it is
    installed; without it, the same embedded model (the page mechanics under test are the same either way)."""
    ft = EndpointConfig(model=EMBEDDED_FT_MODEL, lora_path="default" if DEFAULT_ADAPTER.is_file() else None)
    return Settings(finetuned=ft, data_dir=data_dir, max_tokens=12, top_k=2).with_(**changes)


def open_page(page: str, settings: Settings, timeout: float = 300) -> AppTest:
    """Run the router once with ``settings`` in the session, then switch to ``page`` (e.g. "pages/compare.py")."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    at.session_state[keys.SETTINGS] = settings
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def open_facilitator(password: str, timeout: float = 120) -> AppTest:
    """Run the router, switch to the Facilitator console and unlock it with ``password``."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    at.run()
    at.switch_page("pages/facilitator.py").run()
    at.text_input(key="fac_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at
