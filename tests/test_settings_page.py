"""Settings page (AppTest) against a real llama.cpp server on 127.0.0.1, plus the form validation."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft import settings_input as F
from ragft.errors import ConfigError
from ragft.paths import ROOT
from ragft.settings import EMBEDDED_BASE_MODEL, Settings

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


def open_settings(data_dir) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["settings"] = Settings(data_dir=data_dir)
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, slot: str, provider: str) -> AppTest:
    at.selectbox(key=f"set_{slot}_provider").set_value(provider).run()
    assert not at.exception
    return at


def all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    parts += [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def test_preset_fills_url_and_test_connection_works(data_dir, llama_server):
    at = choose(open_settings(data_dir), "base", "llamacpp")
    assert at.text_input(key="set_base_base_url").value == "http://127.0.0.1:8000/v1"  # the preset's default
    at.text_input(key="set_base_base_url").set_value(llama_server)
    at.text_input(key="set_base_model").set_value(EMBEDDED_BASE_MODEL)
    at.button(key="set_test_base").click().run()
    assert not at.exception
    assert [s.value for s in at.success] and "Connected to" in at.success[0].value
    at.button(key="set_apply").click().run()
    s = at.session_state["settings"]
    assert s.base.provider == "llamacpp" and s.base.base_url == llama_server.rstrip("/")
    assert s.base.model == EMBEDDED_BASE_MODEL
    assert "Settings applied" in at.success[0].value


@pytest.mark.parametrize(
    "model, url, expected",
    [
        ("no-such-model", None, "ModelNotFound"),
        (EMBEDDED_BASE_MODEL, "http://127.0.0.1:9/v1", "EndpointUnreachable"),
    ],
)
def test_test_connection_names_what_is_wrong(data_dir, llama_server, model, url, expected):
    at = choose(open_settings(data_dir), "finetuned", "custom")
    at.text_input(key="set_finetuned_base_url").set_value(url or llama_server)
    at.text_input(key="set_finetuned_model").set_value(model)
    at.number_input(key="set_finetuned_timeout_s").set_value(5.0)
    at.number_input(key="set_finetuned_max_retries").set_value(0)
    at.button(key="set_test_finetuned").click().run()
    assert not at.exception
    assert len(at.error) == 1 and expected in at.error[0].value
    # Nothing was applied: the session still uses the embedded default.
    assert at.session_state["settings"].finetuned.provider == "embedded"


def test_openai_ft_id_and_key_stay_in_the_session(data_dir):
    at = choose(open_settings(data_dir), "finetuned", "openai")
    at.text_input(key="set_finetuned_model").set_value("ft:gpt-4o-mini-2024-07-18:acme::abc123")
    at.button(key="set_apply").click().run()
    assert "needs an API key" in at.error[0].value
    at.text_input(key="set_finetuned_api_key").set_value("sk-test-SECRET-123")
    at.number_input(key="set_gen_max_tokens").set_value(50)
    at.number_input(key="set_gen_top_k").set_value(3)
    at.button(key="set_apply").click().run()
    assert not at.exception and not at.error
    s = at.session_state["settings"]
    assert s.finetuned.model == "ft:gpt-4o-mini-2024-07-18:acme::abc123"
    assert s.finetuned.api_key == "sk-test-SECRET-123"
    assert s.finetuned.base_url == "https://api.openai.com/v1"
    assert (s.max_tokens, s.top_k) == (50, 3)
    assert "SECRET" not in all_text(at) and "SECRET" not in repr(s)
    assert "your own key" in all_text(at)
    at.button(key="set_reset").click().run()
    assert at.session_state["settings"].finetuned.provider == "embedded"
    assert at.session_state["settings"].max_tokens == 96


def test_server_defaults_from_env_are_shown(data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_BASE_PROVIDER", "ollama")
    monkeypatch.setenv("RAGFT_BASE_MODEL", "llama3.2:1b")
    monkeypatch.setenv("RAGFT_MAX_TOKENS", "77")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception
    text = all_text(at)
    assert "Ollama · llama3.2:1b at http://127.0.0.1:11434/v1" in as_plain(text)
    assert "max tokens 77" in text
    assert at.selectbox(key="set_base_provider").value == "ollama"


@pytest.mark.parametrize(
    "values, msg",
    [
        ({"provider": "custom", "model": "m", "base_url": "localhost:8000"}, "base URL must look like"),
        ({"provider": "custom", "model": "", "base_url": "http://x/v1"}, "enter a model name"),
        ({"provider": "custom", "model": "two words", "base_url": "http://x/v1"}, "contains spaces"),
        (
            {
                "provider": "azure",
                "model": "dep",
                "base_url": "https://r.openai.azure.com",
                "api_key": "k",
                "api_version": "",
            },
            "API version",
        ),
        ({"provider": "nope"}, "unknown provider"),
        ({"provider": "custom", "model": "m", "base_url": "http://x/v1", "timeout_s": 0}, "timeout"),
    ],
)
def test_bad_endpoint_values_are_config_errors(values, msg):
    with pytest.raises(ConfigError, match=msg):
        F.endpoint_from_values("base", values)


def test_generation_limits():
    with pytest.raises(ConfigError, match="Top-k"):
        F.build_settings(Settings(), {"generation": {"top_k": 0}})
    s = F.build_settings(Settings(), {"generation": {"temperature": 0.7, "system_prompt": "  Be brief.  "}})
    assert s.temperature == 0.7 and s.system_prompt == "Be brief."
    assert s.base.provider == "embedded"
