"""Settings from env vars and secrets; typed errors for malformed values; keys never in repr."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest

from ragft.costs.prices import price_for
from ragft.errors import ConfigError
from ragft.settings import ENDPOINT_NUMBERS, NUMBERS, Settings, load_settings


def test_defaults_are_the_embedded_offline_stack():
    s = load_settings({})
    assert s.base.is_embedded and s.finetuned.is_embedded
    assert s.finetuned.lora_path == "default"
    assert s.embedding.provider == "local"
    assert s.chroma_host is None and s.participant_budget_usd is None
    assert s.top_k == 1  # the 135M model is led astray by a second chunk


def test_top_k_default_follows_the_models():
    endpoint = {"RAGFT_BASE_PROVIDER": "openai", "RAGFT_BASE_MODEL": "gpt-4o-mini"}
    assert load_settings(endpoint).top_k == 3
    assert load_settings({**endpoint, "RAGFT_TOP_K": "5"}).top_k == 5


def test_env_overrides_secrets_and_keys_stay_out_of_repr():
    secrets = {
        "RAGFT_BASE_PROVIDER": "openai",
        "RAGFT_BASE_MODEL": "gpt-4o-mini",
        "OPENAI_API_KEY": "sk-from-secrets",
        "RAGFT_TOP_K": "5",
    }
    env = {
        "RAGFT_TOP_K": "3",
        "RAGFT_FT_PROVIDER": "openai",
        "RAGFT_FT_MODEL": "ft:gpt-4o-mini-2024-07-18:acme::x1",
        "RAGFT_APP_BUDGET_USD": "2.50",
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": "8123",
    }
    s = load_settings(env, secrets)
    assert s.top_k == 3
    assert s.base.api_key == "sk-from-secrets" and s.base.base_url == "https://api.openai.com/v1"
    assert s.finetuned.model.startswith("ft:") and s.finetuned.api_key == "sk-from-secrets"
    assert s.app_budget_usd == Decimal("2.50")
    assert (s.chroma_host, s.chroma_port) == ("127.0.0.1", 8123)
    assert "sk-from-secrets" not in repr(s)


@pytest.mark.parametrize(
    "env, words",
    [
        ({"RAGFT_TOP_K": "many"}, "RAGFT_TOP_K must be a whole number"),
        ({"RAGFT_TOP_K": "0"}, "between 1 and 50"),
        ({"RAGFT_BASE_PROVIDER": "skynet"}, "RAGFT_BASE_PROVIDER must be one of"),
        ({"RAGFT_BASE_PROVIDER": "ollama"}, "RAGFT_BASE_MODEL is required"),
        ({"RAGFT_SESSION_BUDGET_USD": "lots"}, "amount in dollars"),
        ({"RAGFT_SESSION_BUDGET_USD": "-1"}, "cannot be negative"),
        ({"RAGFT_CHUNK_TOKENS": "100", "RAGFT_CHUNK_OVERLAP": "100"}, "RAGFT_CHUNK_OVERLAP must be between 0 and 99"),
        ({"RAGFT_TEMPERATURE": "3"}, "between 0.0 and 2.0"),
    ],
)
def test_bad_values_are_typed_errors(env, words):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert words in info.value.message


def test_local_providers_get_their_default_urls():
    s = load_settings(
        {
            "RAGFT_BASE_PROVIDER": "ollama",
            "RAGFT_BASE_MODEL": "llama3.2",
            "RAGFT_FT_PROVIDER": "vllm",
            "RAGFT_FT_MODEL": "brand-lora",
        }
    )
    assert s.base.base_url == "http://127.0.0.1:11434/v1"
    assert s.finetuned.base_url == "http://127.0.0.1:8000/v1"
    assert s.base.api_key is None


def test_price_overrides_from_env():
    s = load_settings({"RAGFT_PRICE_OVERRIDES": "my-vllm-model=0.10/0.40; ft:gpt-4o-mini*=0.3/1.2/0.15"})
    assert s.price_overrides["my-vllm-model"] == (Decimal("0.10"), Decimal("0.40"))
    vllm = price_for("my-vllm-model", "custom", s.price_overrides)
    assert (vllm.input_per_m, vllm.output_per_m) == (Decimal("0.10"), Decimal("0.40"))
    assert price_for("ft:gpt-4o-mini-2024:acme", "openai", s.price_overrides).cached_input_per_m == Decimal("0.15")
    with pytest.raises(ConfigError) as info:
        load_settings({"RAGFT_PRICE_OVERRIDES": "broken"})
    assert "model=input/output" in info.value.message


def test_every_numeric_setting_is_one_table_row_named_in_the_readme():
    fields = dataclasses.fields(Settings)
    assert {f.name for f in fields if f.type in ("int", "float", "int | None")} == {row.name for row in NUMBERS}
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    named = {name for line in table.splitlines()[2:] for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])}
    wanted = [row.env for row in NUMBERS] + [f"RAGFT_BASE{row.env}" for row in ENDPOINT_NUMBERS]
    assert [env for env in wanted if env not in named] == []


def test_every_setting_the_code_reads_is_named_in_the_readme():
    """Any ``RAGFT_*`` name the app, its scripts or its core read is documented (the table or the text)."""
    root = Path(__file__).parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    sources = [*root.glob("ragft/**/*.py"), *root.glob("session/*.py"), *root.glob("components/**/*.py")]
    sources += [root / "streamlit_app.py", *root.glob("pages/*.py"), *root.glob("scripts/*.sh")]
    read = {m for f in sources for m in re.findall(r"[\"'](RAGFT_[A-Z0-9_]+)[\"']", f.read_text(encoding="utf-8"))}
    assert len(read) > 40  # the scan found the settings (a moved folder would make this test pass on nothing)
    assert sorted(name for name in read if name not in readme) == []
