"""Prices and usage → dollars, table-driven against figures computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ragft.costs.prices import (
    Price,
    cost_breakdown,
    cost_of,
    embedding_cost,
    format_usd,
    ft_base_model,
    load_price_table,
    parse_price_overrides,
    price_for,
    price_rows,
    pricing_data_info,
    training_cost,
    worst_case_cost,
)
from ragft.errors import ConfigError
from ragft.models.usage import Usage

# (model id, provider, usage (prompt, completion, cached), expected dollars) -- worked out by hand:
CHAT_CASES = [
    # gpt-4o-mini: $0.15 in, $0.075 cached in, $0.60 out per 1M
    ("gpt-4o-mini", "openai", (1000, 500, 0), D("0.00045")),  # 1000*.15 + 500*.6 = 450 µ$
    ("gpt-4o-mini", "openai", (1000, 500, 200), D("0.000435")),  # 800*.15 + 200*.075 + 500*.6
    ("gpt-4o-mini", "openai", (1_000_000, 1_000_000, 0), D("0.75")),
    ("gpt-4o-mini", "azure", (1000, 500, 0), D("0.00045")),  # Azure falls back to OpenAI's list
    # fine-tuned gpt-4o-mini (genai-prices): $0.30 in, $1.20 out, no cached discount known → input rate
    ("ft:gpt-4o-mini-2024-07-18", "openai", (1000, 500, 0), D("0.0009")),
    ("ft:gpt-4o-mini-2024-07-18:acme:brand:abc123", "openai", (1000, 500, 200), D("0.0009")),
    # fine-tuned gpt-4o: $3.75 in, $15 out
    ("ft:gpt-4o-2024-08-06:acme::x", "openai", (1000, 1000, 0), D("0.01875")),
    # fine-tuned gpt-4.1-mini (project table): $0.80 in, $0.20 cached, $3.20 out
    ("ft:gpt-4.1-mini-2025-04-14:acme::x", "openai", (2000, 300, 1000), D("0.00196")),  # 800+200+960 µ$
    # fine-tuned gpt-4.1 (project table, longest prefix must not be confused with -mini): $3 / $12
    ("ft:gpt-4.1-2025-04-14:acme::y", "openai", (1000, 1000, 0), D("0.015")),
    # gpt-4.1-mini: $0.40 in, $0.10 cached, $1.60 out
    ("gpt-4.1-mini", "openai", (10_000, 2_000, 4_000), D("0.006")),  # 6000*.4 + 4000*.1 + 2000*1.6
    # self-hosted: $0
    ("smollm2-135m-instruct", "embedded", (1000, 500, 0), D("0")),
    ("llama3.1:8b", "ollama", (1000, 500, 0), D("0")),
]


@pytest.mark.parametrize("model,provider,usage,expected", CHAT_CASES)
def test_chat_cost_matches_hand_computed(model, provider, usage, expected):
    price = price_for(model, provider)
    assert price is not None, f"{model} should have a known price"
    assert cost_of(Usage(*usage), price) == expected
    assert isinstance(cost_of(Usage(*usage), price), D)


def test_ft_models_cost_more_per_token_than_their_base():
    base, ft = price_for("gpt-4o-mini"), price_for("ft:gpt-4o-mini-2024-07-18")
    assert ft.input_per_m == 2 * base.input_per_m and ft.output_per_m == 2 * base.output_per_m


def test_breakdown_parts_add_up():
    parts = cost_breakdown(Usage(1000, 500, 200), price_for("gpt-4o-mini"))
    assert (parts.input, parts.cached_input, parts.output) == (D("0.00012"), D("0.000015"), D("0.0003"))
    assert parts.total == D("0.000435")


@pytest.mark.parametrize(
    "tokens,model,provider,expected",
    [
        (200_000, "text-embedding-3-small", "openai", D("0.004")),  # $0.02 per 1M
        (1_000_000, "text-embedding-3-large", "openai", D("0.13")),
        (12_345, "text-embedding-3-small", "openai", D("0.0002469")),
        (1_000_000, "all-MiniLM-L6-v2", "local", D("0")),
    ],
)
def test_embedding_cost(tokens, model, provider, expected):
    assert embedding_cost(tokens, model, provider) == expected


@pytest.mark.parametrize("model,provider", [("acme-secret-model", "openai"), ("my-model", "custom"), ("", "openai")])
def test_unknown_model_is_unknown_never_zero(model, provider):
    assert price_for(model, provider) is None
    assert cost_of(Usage(1000, 1000), None) is None
    assert worst_case_cost(1000, 100, None) is None
    assert embedding_cost(1000, model, provider) is None
    assert format_usd(None) == "price unknown"
    row = price_rows([("base", model, provider)])[0]
    assert row["input $/1M"] == "unknown" and "unknown" in row["source"]


def test_local_prices_are_marked_local():
    p = price_for("smollm2-135m-instruct", "embedded")
    assert p.local and p.input_per_m == 0 and "self-hosted" in p.describe()
    assert not price_for("gpt-4o-mini").local


def test_worst_case_ignores_cache_and_uses_max_tokens():
    # 1000 prompt * $0.15 + 500 max out * $0.60 = 450 µ$
    assert worst_case_cost(1000, 500, price_for("gpt-4o-mini")) == D("0.00045")
    assert worst_case_cost(1000, 500, price_for("ft:gpt-4o-mini-2024-07-18")) == D("0.0009")


def test_overrides_exact_glob_and_forms():
    over = {
        "gpt-4o-mini": (D("1"), D("2")),
        "ft:*": ("3", "4", "0.5"),
        "ft:gpt-4o-mini*": {"input_per_m": "5", "output_per_m": "6", "source": "facilitator", "as_of": "2026-11-01"},
        "my-model": Price(D("7"), D("8"), source="workshop", as_of="2026-10-01"),
    }
    assert cost_of(Usage(1000, 1000), price_for("GPT-4o-mini", "openai", over)) == D("0.003")
    p = price_for("ft:gpt-4o-mini-2024-07-18:x", "openai", over)  # longest glob wins
    assert (p.input_per_m, p.output_per_m, p.source, p.as_of) == (D("5"), D("6"), "facilitator", "2026-11-01")
    assert price_for("ft:gpt-4.1-2025", "openai", over).cached_input_per_m == D("0.5")
    assert price_for("my-model", "custom", over).source == "workshop"
    # An override also prices a self-hosted model (someone paying for GPU hours can say so).
    assert price_for("smollm2-135m-instruct", "embedded", {"smollm2-*": ("0.1", "0.1")}).input_per_m == D("0.1")


@pytest.mark.parametrize("bad", [("x", "1"), ("-1", "2"), ("1",), ("nan", "1")])
def test_bad_override_is_a_typed_error(bad):
    with pytest.raises(ConfigError) as err:
        price_for("m", "openai", {"m": bad})
    assert "per 1M tokens" in err.value.message


def test_parse_overrides_env_form():
    over = parse_price_overrides("gpt-4o-mini=0.2/0.8; ft:*=1/2/0.25\n")
    assert over["gpt-4o-mini"].output_per_m == D("0.8")
    assert over["ft:*"].cached_input_per_m == D("0.25")
    assert parse_price_overrides("") == {}
    with pytest.raises(ConfigError):
        parse_price_overrides("gpt-4o-mini=0.2")


@pytest.mark.parametrize(
    "tokens,epochs,model,expected",
    [
        (300_000, 3, "gpt-4o-mini", D("2.7")),  # $3 per 1M training tokens
        (300_000, 3, "ft:gpt-4o-mini-2024-07-18:acme::x", D("2.7")),
        (100_000, 2, "gpt-4.1-mini-2025-04-14", D("1")),  # $5
        (100_000, 2, "gpt-4.1-2025-04-14", D("5")),  # $25, not gpt-4.1-mini's $5
        (1_000_000, 1, "gpt-4.1-nano", D("1.5")),
        (1_000_000, 1, "gpt-4o-2024-08-06", D("25")),
    ],
)
def test_training_cost(tokens, epochs, model, expected):
    assert training_cost(tokens, epochs, model) == expected


def test_training_price_unknown_base():
    assert training_cost(1000, 1, "llama-3-8b") is None


def test_price_table_is_dated_and_sourced():
    table = load_price_table()
    assert table.compiled_on and "2027-01-06" in table.notice and "2026-05-07" in table.notice
    for row in table.training:
        assert row.as_of[:2] == "20" and row.source.startswith("http")
    info = pricing_data_info()
    assert info["version"] and info["latest_change"][:2] == "20"
    assert price_for("gpt-4o-mini").as_of and "genai-prices" in price_for("gpt-4o-mini").source


def test_ft_base_model():
    assert ft_base_model("ft:gpt-4o-mini-2024-07-18:acme::abc") == "gpt-4o-mini-2024-07-18"
    assert ft_base_model("gpt-4o") == "gpt-4o"


@pytest.mark.parametrize(
    "amount,text",
    [
        (None, "price unknown"),
        (D("0"), "$0"),
        (D("0.000435"), "$0.000435"),
        (D("0.0456"), "$0.0456"),
        (D("0.5"), "$0.50"),
        (D("0.0100"), "$0.01"),
        (D("12.345"), "$12.35"),
        (D("1234.5"), "$1,234.50"),
        (D("0.00012345"), "$0.0001235"),
    ],
)
def test_format_usd(amount, text):
    assert format_usd(amount) == text


def test_no_network_needed(no_network):
    assert price_for("gpt-4.1-nano", "openai") is not None
    assert no_network == []
