"""Bounds on the facilitator's key, without a model or a server: on a server-key slot the server's timeout and
retries are used whatever a session holds, the Settings form refuses others and an over-long system prompt with
a clear message, a search query over its bound is refused before anything is embedded, the trainer's step budget
comes from the server's settings, and "Test connection" is refused while the facilitator has paused model calls."""

from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft import settings_input as F
from ragft.access import KEY_OWN, KEY_SERVER, ServerKeyLimit, policy_from
from ragft.classroom import pause
from ragft.errors import ConfigError
from ragft.knowledge.search import MAX_QUERY_CHARS, SearchTooLong, search
from ragft.paths import ROOT
from ragft.settings import load_settings
from ragft.training.config import TrainLimits
from session import keys

CANARY = "sk-canary-bounds-5d1e"
CLOSED = "http://127.0.0.1:9/v1"  # nothing listens: nothing is called
SERVER_ENV = {
    "RAGFT_BASE_PROVIDER": "custom",
    "RAGFT_BASE_URL": CLOSED,
    "RAGFT_BASE_MODEL": "quick-base",
    "RAGFT_BASE_TIMEOUT": "30",
    "RAGFT_BASE_RETRIES": "1",
    "RAGFT_FT_PROVIDER": "custom",
    "RAGFT_FT_URL": CLOSED,
    "RAGFT_FT_MODEL": "quick-ft",
    "OPENAI_API_KEY": CANARY,
    "RAGFT_MAX_SYSTEM_PROMPT_CHARS": "200",
}


def policy(**env):
    return policy_from(load_settings({**SERVER_ENV, **env}, {}))


def test_a_server_key_call_uses_the_servers_timeout_and_retries():
    p = policy()
    mine = replace(p.participant_endpoint("base"), timeout_s=1.0, max_retries=10)  # as a session could hold it
    assert mine.key_source == KEY_SERVER
    resolved = p.resolve_endpoint("base", mine)
    assert (resolved.timeout_s, resolved.max_retries, resolved.api_key) == (30.0, 1, CANARY)
    own = replace(mine, api_key="sk-mine", key_source=KEY_OWN)  # the participant's key: their own choice
    assert (p.resolve_endpoint("base", own).timeout_s, p.resolve_endpoint("base", own).max_retries) == (1.0, 10)


def test_the_form_refuses_another_timeout_or_retries_on_the_server_key():
    p = policy()
    current = p.participant_settings()
    values = dict(F.values_from_endpoint(current.base), timeout_s=1.0, max_retries=10)
    with pytest.raises(ServerKeyLimit, match=r"the timeout \(30 s\) and the retries \(1\); you asked for 1 s and 10"):
        F.endpoint_from_values("base", values, current.base, p)
    assert F.endpoint_from_values("base", F.values_from_endpoint(current.base), current.base, p).timeout_s == 30.0
    mine = F.endpoint_from_values("base", dict(values, api_key="sk-mine"), current.base, p)
    assert (mine.key_source, mine.timeout_s, mine.max_retries) == (KEY_OWN, 1.0, 10)


def test_the_form_and_the_call_refuse_a_long_system_prompt_on_the_server_key():
    p = policy()
    current = p.participant_settings()
    endpoint = F.values_from_endpoint(current.base)
    values = {"base": endpoint, "finetuned": F.values_from_endpoint(current.finetuned), "embedding": {}}
    long_prompt = "Answer. " * 50  # 400 characters
    with pytest.raises(ServerKeyLimit, match="at most 200 characters; this one has 399"):
        F.build_settings(current, {**values, "generation": {"system_prompt": long_prompt}}, p)
    assert F.build_settings(current, {**values, "generation": {"system_prompt": "Be brief."}}, p)
    with pytest.raises(ServerKeyLimit, match="at most 200 characters"):
        p.check_messages([{"role": "system", "content": long_prompt}, {"role": "user", "content": "hi"}])
    p.check_messages([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x" * 5000}])


def test_a_search_over_its_bound_is_refused_before_anything_is_embedded():
    class Untouchable:  # a knowledge base that fails the test if anything reaches it
        @property
        def embedder(self):
            raise AssertionError("the query reached the embedder")

    with pytest.raises(SearchTooLong, match=f"at most {MAX_QUERY_CHARS:,} characters; this one has 1,001"):
        search(Untouchable(), "q" * (MAX_QUERY_CHARS + 1), k=2, threshold=0.0)  # type: ignore[arg-type]


def test_training_limits_come_from_the_servers_settings():
    s = load_settings({"RAGFT_TRAIN_MAX_STEPS": "12", "RAGFT_TRAIN_MAX_SECONDS": "90"}, {})
    assert TrainLimits.from_settings(s) == TrainLimits(12, 90.0)
    with pytest.raises(ConfigError, match="RAGFT_TRAIN_MAX_STEPS must be between 1 and 2000"):
        load_settings({"RAGFT_TRAIN_MAX_STEPS": "5000"}, {})


@pytest.fixture
def server_env(data_dir, monkeypatch):
    for k, v in SERVER_ENV.items():
        monkeypatch.setenv(k, v)
    return data_dir


def test_the_settings_page_refuses_a_one_second_timeout_on_the_server_key(server_env):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    at.number_input(key="set_base_timeout_s").set_value(1.0)
    at.number_input(key="set_base_max_retries").set_value(10)
    at.button(key="set_apply").click().run()
    errors = " ".join(as_plain(e.value) for e in at.error)
    assert "the facilitator sets the timeout (30 s) and the retries (1)" in errors
    assert at.session_state[keys.SETTINGS].base.timeout_s == 30.0  # nothing applied


def test_test_connection_is_refused_while_model_calls_are_paused(server_env):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/settings.py").run()
    pause.set_paused(True)
    try:
        at.button(key="set_test_base").click().run()
    finally:
        pause.set_paused(False)
    errors = " ".join(as_plain(e.value) for e in at.error)
    assert "ModelCallsPaused" in errors and "paused all model calls" in errors, errors
