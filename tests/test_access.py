"""The facilitator's policy: server keys stay on the server's endpoint, adapters by name, billing by destination."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ragft import settings_input as F
from ragft.access import (
    KEY_NONE,
    KEY_OWN,
    KEY_SERVER,
    AccessDenied,
    AdapterUnavailable,
    is_private_url,
    normalise_url,
    policy_from,
)
from ragft.costs.billing import BilledChatModel, ServerPriceUnknown, price_for_billing
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.costs.metering import MeteredCall
from ragft.costs.prices import parse_price_overrides
from ragft.errors import ConfigError, redact
from ragft.paths import DEFAULT_ADAPTER
from ragft.settings import load_settings

CANARY = "sk-canary-7f3a9c0d1e2b"
SERVER_URL = "https://api.openai.com/v1"


def server(**env: str):
    base = {"RAGFT_BASE_PROVIDER": "openai", "RAGFT_BASE_MODEL": "gpt-4o-mini", "OPENAI_API_KEY": CANARY}
    base.update(env)
    return policy_from(load_settings(base, {}))


def test_participant_settings_hold_no_key_values():
    p = server()
    s = p.participant_settings()
    assert s.base.api_key is None and s.base.key_source == KEY_SERVER
    assert CANARY not in repr(s) and CANARY not in str(s.__dict__)
    assert p.server.base.api_key == CANARY  # the server keeps it


@pytest.mark.parametrize("url", [SERVER_URL, "https://API.openai.com/v1/", "https://api.openai.com:443/v1"])
def test_server_key_is_attached_at_the_configured_endpoint(url):
    p = server()
    cfg = replace(p.participant_endpoint("base"), base_url=url)
    assert p.resolve_endpoint("base", cfg).api_key == CANARY


@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "http://127.0.0.1:9999/v1"},
        {"base_url": "https://api.openai.com.evil.example/v1"},
        {"provider": "custom"},
        {"model": "gpt-4o"},
    ],
)
def test_server_key_never_follows_a_participant_change(change):
    p = server()
    cfg = replace(p.participant_endpoint("base"), **change)
    with pytest.raises(AccessDenied):
        p.resolve_endpoint("base", cfg)


def test_allowed_models_widen_the_server_slot():
    p = server(RAGFT_BASE_ALLOWED_MODELS="gpt-4o, gpt-4.1-mini")
    assert p.models_for("base") == ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini")
    cfg = replace(p.participant_endpoint("base"), model="gpt-4o")
    assert p.resolve_endpoint("base", cfg).api_key == CANARY


def test_own_key_goes_anywhere_in_own_key_mode_but_not_in_server_only():
    own = replace(
        server().participant_endpoint("base"), base_url="http://127.0.0.1:9/v1", api_key="sk-mine", key_source=KEY_OWN
    )
    assert server(RAGFT_ALLOWED_HOSTS="127.0.0.1").resolve_endpoint("base", own).api_key == "sk-mine"
    with pytest.raises(AccessDenied, match="only lets participants use the server's models"):
        server(RAGFT_PARTICIPANT_ENDPOINTS="server-only").resolve_endpoint("base", own)


def test_server_only_refuses_another_url_even_without_a_key():
    p = server(RAGFT_PARTICIPANT_ENDPOINTS="server-only")
    cfg = replace(p.participant_endpoint("base"), base_url="http://127.0.0.1:9/v1", key_source=KEY_NONE)
    with pytest.raises(AccessDenied):
        p.resolve_endpoint("base", cfg)


def test_bad_participant_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="RAGFT_PARTICIPANT_ENDPOINTS"):
        load_settings({"RAGFT_PARTICIPANT_ENDPOINTS": "anything"}, {})


def test_adapters_by_name_missing_and_forbidden_read_the_same(tmp_path):
    p = policy_from(load_settings({}, {}))
    cfg = p.participant_endpoint("finetuned")
    if DEFAULT_ADAPTER.is_file():
        assert cfg.lora_path == "default"
        assert p.resolve_endpoint("finetuned", cfg).lora_path == str(DEFAULT_ADAPTER)
    messages = []
    for name in ("/etc/passwd", "../../etc/passwd", "no-such-adapter"):
        with pytest.raises(AdapterUnavailable) as err:
            p.resolve_endpoint("finetuned", replace(cfg, lora_path=name))
        messages.append(err.value.message.replace(repr(name), "NAME"))
    assert len(set(messages)) == 1
    assert "/etc" not in messages[0]


def test_server_adapter_path_is_shown_by_name_only(tmp_path):
    adapter = tmp_path / "secret-folder" / "event.gguf"
    adapter.parent.mkdir()
    adapter.write_bytes(b"GGUF")
    p = policy_from(load_settings({"RAGFT_FT_LORA": str(adapter)}, {}))
    cfg = p.participant_endpoint("finetuned")
    assert cfg.lora_path == "server" and "secret-folder" not in repr(p.participant_settings())
    assert p.resolve_endpoint("finetuned", cfg).lora_path == str(adapter)


@pytest.mark.parametrize(
    "url, private",
    [
        ("http://127.0.0.1:8000/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://10.1.2.3/v1", True),
        ("http://192.168.0.5:1234/v1", True),
        ("http://[::1]:8000/v1", True),
        ("https://api.openai.com/v1", False),
        ("http://localhost.evil.example/v1", False),
        ("http://8.8.8.8/v1", False),
    ],
)
def test_private_urls(url, private):
    assert is_private_url(url) is private


def test_billing_is_decided_by_destination_not_label():
    p = server()
    relabelled = replace(p.participant_endpoint("base"), provider="ollama")  # "Ollama" pointed at a paid API
    b = p.billing("base", relabelled)
    assert not b.free
    price = price_for_billing("gpt-4o-mini", "ollama", b, {}, {})
    assert price is not None and price.input_per_m > 0

    local = policy_from(
        load_settings(
            {"RAGFT_BASE_PROVIDER": "llamacpp", "RAGFT_BASE_MODEL": "m", "RAGFT_BASE_URL": "http://127.0.0.1:8000/v1"},
            {},
        )
    )
    assert local.billing("base", local.participant_endpoint("base")).free


def test_session_overrides_never_price_the_server_key():
    p = server()
    b = p.billing("base", p.participant_endpoint("base"))
    assert b.server_key
    zero = parse_price_overrides("*=0/0")
    price = price_for_billing("gpt-4o-mini", "openai", b, {}, zero)
    assert price is not None and price.input_per_m > 0
    own = replace(p.participant_endpoint("base"), api_key="sk-mine", key_source=KEY_OWN)
    assert price_for_billing("gpt-4o-mini", "openai", p.billing("base", own), {}, zero).input_per_m == 0
    # The facilitator's overrides do apply to the server key.
    fac = price_for_billing("gpt-4o-mini", "openai", b, parse_price_overrides("gpt-4o-mini=1/2"), zero)
    assert fac.input_per_m == Decimal(1)


class _Model:
    model_id = "some-unpriced-model"
    provider = "custom"
    label = "some-unpriced-model"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt_tokens(self, messages) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages) + 3


def test_unknown_price_on_the_server_key_fails_closed_under_a_cap(tmp_path):
    p = server(RAGFT_BASE_MODEL="some-unpriced-model")
    b = p.billing("base", p.participant_endpoint("base"))
    model = BilledChatModel(_Model(), b, None)
    budget = Budget(tmp_path, Decimal("0.05"), None)
    with pytest.raises(ServerPriceUnknown, match="RAGFT_PRICE_OVERRIDES"):
        MeteredCall(
            model,
            [{"role": "user", "content": "hi"}],
            ledger=SessionLedger(),
            configuration="base",
            budget=budget,
            max_tokens=8,
        )


def test_redact():
    assert (
        redact(f"401: Incorrect API key provided: {CANARY}", [CANARY, None]) == "401: Incorrect API key provided: ***"
    )


# ---- the Settings form under the policy ----------------------------------------------------------------------
def test_form_keeps_server_key_only_at_its_endpoint():
    p = server(RAGFT_ALLOWED_HOSTS="127.0.0.1")
    current = p.participant_settings()
    same = F.values_from_endpoint(current.base)
    assert same["api_key"] == ""
    cfg = F.endpoint_from_values("base", same, current.base, p)
    assert cfg.key_source == KEY_SERVER and cfg.api_key is None
    moved = dict(same, base_url="http://127.0.0.1:9999/v1", provider="custom")
    cfg = F.endpoint_from_values("base", moved, current.base, p)
    assert cfg.key_source == KEY_NONE and cfg.api_key is None
    with pytest.raises(ConfigError, match="only used with https://api.openai.com/v1"):
        F.endpoint_from_values("base", dict(same, model="gpt-4o"), current.base, p)
    mine = F.endpoint_from_values("base", dict(moved, api_key="sk-mine"), current.base, p)
    assert (mine.key_source, mine.api_key) == (KEY_OWN, "sk-mine")


def test_form_refuses_unknown_adapter_names():
    p = policy_from(load_settings({}, {}))
    with pytest.raises(ConfigError, match="not available"):
        F.endpoint_from_values("finetuned", {"provider": "embedded", "lora_path": "/etc/passwd"}, None, p)


def test_server_only_form_refuses_another_url():
    p = server(RAGFT_PARTICIPANT_ENDPOINTS="server-only")
    current = p.participant_settings()
    values = dict(F.values_from_endpoint(current.base), base_url="http://127.0.0.1:9/v1", provider="custom")
    with pytest.raises(ConfigError, match="only lets participants use the server's models"):
        F.endpoint_from_values("base", values, current.base, p)


def test_normalise_url():
    assert normalise_url("HTTPS://Api.OpenAI.com:443/v1/") == "https://api.openai.com/v1"
