"""Prices and usage → dollars, in ``Decimal`` throughout.

Where a price comes from, in this order:

1. a user override (Settings / Costs page), exact model id or a glob such as ``ft:gpt-4o-mini*``;
2. self-hosted providers (the embedded llama.cpp engine, Ollama, LM Studio, a llama.cpp server, the local
   MiniLM embeddings): $0 per token, marked ``local`` so the UI shows tokens and compute seconds instead;
3. the data bundled with ``genai-prices`` (offline: we read its bundled snapshot and never start its
   auto-updater, so nothing is fetched at run time);
4. the dated project table ``assets/prices/training_prices.json`` for what genai-prices lacks
   (fine-tuning training prices by base model, and fine-tuned ``ft:gpt-4.1*`` inference).

Anything else is *unknown*: :func:`price_for` returns ``None`` and every cost built from it is ``None``,
which the UI shows as "price unknown", never as $0.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from ragft.costs.money import format_rate
from ragft.costs.money import format_usd as format_usd  # the app's one money formatter, importable from here
from ragft.errors import ConfigError
from ragft.models.usage import Usage
from ragft.paths import ASSETS
from ragft.settings import parse_price_text, per_million

MILLION = Decimal(1_000_000)
ZERO = Decimal(0)
PRICE_TABLE_PATH = ASSETS / "prices" / "training_prices.json"

# Providers whose models run on hardware you already pay for: no per-token price.
LOCAL_PROVIDERS = frozenset({"embedded", "local", "ollama", "lmstudio", "llamacpp"})
# Our provider names → genai-prices provider ids. None: let genai-prices guess from the model name.
_GENAI_PROVIDER = {"openai": "openai", "azure": "azure", "vllm": None, "custom": None, "": None}


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens, with where the figure comes from and its date."""

    input_per_m: Decimal
    output_per_m: Decimal
    cached_input_per_m: Decimal | None = None
    source: str = ""
    as_of: str = ""  # ISO date of the figure (or of the data snapshot)
    local: bool = False  # self-hosted: $0 per token, the UI shows compute seconds instead

    @property
    def cached_rate(self) -> Decimal:
        """Rate charged for cached prompt tokens (the input rate when no discount is known)."""
        return self.input_per_m if self.cached_input_per_m is None else self.cached_input_per_m

    def describe(self) -> str:
        if self.local:
            return "self-hosted: $0 per token (compute time shown instead)"
        text = f"${format_rate(self.input_per_m)} in / ${format_rate(self.output_per_m)} out per 1M tokens"
        if self.cached_input_per_m is not None:
            text += f", cached in ${format_rate(self.cached_input_per_m)}"
        return text


@dataclass(frozen=True)
class TrainingPrice:
    """One row of the dated training-price table: a hosted service's price per 1M training tokens for a base model
    (or a size bracket of open models), with its source, the day the source was read and, for a service that
    closes, the day it ends (the row then stays visible as history)."""

    base_model: str
    provider: str
    per_m_training_tokens: Decimal
    as_of: str
    source: str
    service: str = ""
    method: str = ""  # "LoRA", "full (hosted)"
    read_on: str = ""  # ISO date the source page was read
    ends: date | None = None  # the service trains nothing from this day on
    closed_to_new_users: date | None = None
    matches: tuple[str, ...] = ()  # model ids (prefixes) this row prices, besides ``base_model``
    example_model: str = ""  # a model id to project the service with (an id the inference prices know)
    tuned_inference: Price | None = None  # per-token price of the tuned model, where it is published
    tuned_note: str = ""
    label: str = ""  # the row's name as written in the table (``base_model`` is lower-cased for matching)

    def ended(self, today: date) -> bool:
        return self.ends is not None and today >= self.ends

    def status(self, today: date) -> str:
        """``available``, ``closed to new users`` or ``ended YYYY-MM-DD`` as of ``today``."""
        if self.ended(today):
            return f"ended {self.ends:%Y-%m-%d}"
        if self.closed_to_new_users is not None and today >= self.closed_to_new_users:
            ends = f", ends {self.ends:%Y-%m-%d}" if self.ends else ""
            return f"closed to new users{ends}"
        return "available"

    def prices(self, model_id: str) -> bool:
        ref = ft_base_model(model_id).lower()
        return ref.startswith(self.base_model) or any(ref.startswith(m) for m in self.matches)


@dataclass(frozen=True)
class CostBreakdown:
    """One call's cost split by kind of token. ``None`` parts mean the price is unknown."""

    input: Decimal
    cached_input: Decimal
    output: Decimal

    @property
    def total(self) -> Decimal:
        return self.input + self.cached_input + self.output


_dec = per_million  # one rule for a price in dollars per 1M tokens


# ---- the project table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceTable:
    compiled_on: str
    notice: str
    how: str
    training: tuple[TrainingPrice, ...]
    inference: tuple[tuple[str, str, Price], ...]  # (model prefix, provider, price)
    not_listed: str = ""  # services looked for whose price was not found (so they are not in the table)

    def remaining(self, today: date) -> tuple[TrainingPrice, ...]:
        """The training rows one can still buy on ``today``."""
        return tuple(t for t in self.training if not t.ended(today))

    def ended(self, today: date) -> tuple[TrainingPrice, ...]:
        """The rows of services that ended before ``today`` (history)."""
        return tuple(t for t in self.training if t.ended(today))


def _day(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"The price table's {what} must be a date YYYY-MM-DD, got {value!r}.") from None


def _training_row(row: Mapping[str, Any]) -> TrainingPrice:
    name = row["base_model"]
    tuned = None
    if row.get("tuned_input_per_m") not in (None, ""):
        tuned = Price(
            input_per_m=_dec(row["tuned_input_per_m"], f"tuned inference of {name}"),
            output_per_m=_dec(row.get("tuned_output_per_m", row["tuned_input_per_m"]), f"tuned inference of {name}"),
            source=f"project table ({row['source']})",
            as_of=row["as_of"],
        )
    return TrainingPrice(
        base_model=name.lower(),
        provider=row.get("provider", "openai"),
        per_m_training_tokens=_dec(row["usd_per_m_training_tokens"], f"training price of {name}"),
        as_of=row["as_of"],
        source=row["source"],
        service=row.get("service", ""),
        method=row.get("method", ""),
        read_on=row.get("read_on", ""),
        ends=_day(row.get("ends"), f"end date of {name}"),
        closed_to_new_users=_day(row.get("closed_to_new_users"), f"closing date of {name}"),
        matches=tuple(str(m).lower() for m in row.get("matches", ())),
        example_model=row.get("example_model", ""),
        tuned_inference=tuned,
        tuned_note=row.get("tuned_note", ""),
        label=name,
    )


@lru_cache(maxsize=4)
def load_price_table(path: Path = PRICE_TABLE_PATH) -> PriceTable:
    """Read the dated project table (fine-tuning training prices and what genai-prices lacks)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"The price table {path} is unreadable: {err}.") from None
    try:
        training = tuple(_training_row(row) for row in raw.get("training", []))
    except (KeyError, TypeError) as err:
        raise ConfigError(f"The price table {path} has a training row without {err}.") from None
    inference = tuple(
        (
            row["model_prefix"].lower(),
            row.get("provider", "openai"),
            Price(
                input_per_m=_dec(row["input_per_m"], row["model_prefix"]),
                output_per_m=_dec(row["output_per_m"], row["model_prefix"]),
                cached_input_per_m=(
                    _dec(row["cached_input_per_m"], row["model_prefix"]) if row.get("cached_input_per_m") else None
                ),
                source=f"project table ({row['source']})",
                as_of=row["as_of"],
            ),
        )
        for row in raw.get("inference", [])
    )
    # Longest prefix first, so "ft:gpt-4.1-mini" wins over "ft:gpt-4.1".
    inference = tuple(sorted(inference, key=lambda r: -len(r[0])))
    return PriceTable(
        compiled_on=raw.get("compiled_on", ""),
        notice=raw.get("notice", ""),
        how=raw.get("compiled_how", ""),
        not_listed=raw.get("not_listed", ""),
        training=training,
        inference=inference,
    )


# ---- genai-prices (bundled, offline) -------------------------------------------------------------
_snapshot_lock = threading.Lock()


def _snapshot():
    # The bundled snapshot only: never genai_prices.UpdatePrices (which fetches from the internet).
    from genai_prices import data_snapshot

    return data_snapshot._bundled_snapshot()  # genai-prices' documented offline data


@lru_cache(maxsize=1)
def pricing_data_info() -> dict[str, str]:
    """Version of the bundled price data and the date of its latest price change up to today."""
    from importlib.metadata import version

    from genai_prices import types

    today = date.today()
    latest = date.min
    for provider in _snapshot().providers:
        for model in provider.models:
            if isinstance(model.prices, list):
                for cond in model.prices:
                    c = cond.constraint
                    if isinstance(c, types.StartDateConstraint) and latest < c.start_date <= today:
                        latest = c.start_date
    return {
        "package": "genai-prices",
        "version": version("genai-prices"),
        "latest_change": latest.isoformat() if latest != date.min else "",
    }


def _genai_price(model_id: str, provider: str) -> Price | None:
    from genai_prices import types

    provider_id = _GENAI_PROVIDER.get(provider, provider)
    now = datetime.now(tz=UTC)
    try:
        with _snapshot_lock:  # its lookup caches are plain dicts
            prov, model = _snapshot().find_provider_model(model_id, None, provider_id, None)
        prices = model.get_prices(now)
    except LookupError:
        return None

    def rate(name: str) -> Decimal | None:
        value = getattr(prices, name, None)
        if value is None:
            return None
        if isinstance(value, types.TieredPrices):  # base tier; long prompts may cost more
            value = value.base
        return Decimal(str(value))

    inp, out, cached = rate("input_mtok"), rate("output_mtok"), rate("cache_read_mtok")
    if inp is None:
        return None
    as_of = ""
    if isinstance(model.prices, list):
        for cond in reversed(model.prices):
            c = cond.constraint
            if c is None or c.active(now):
                as_of = c.start_date.isoformat() if isinstance(c, types.StartDateConstraint) else ""
                break
    info = pricing_data_info()
    return Price(
        input_per_m=inp,
        output_per_m=out if out is not None else ZERO,
        cached_input_per_m=cached,
        source=f"genai-prices {info['version']} ({prov.id}/{model.id})",
        as_of=as_of or info["latest_change"],
    )


def _table_price(model_id: str, provider: str) -> Price | None:
    ref = model_id.lower()
    for prefix, prov, price in load_price_table().inference:
        if ref.startswith(prefix) and (provider in (prov, "azure", "custom", "vllm", "")):
            return price
    return None


# ---- overrides -----------------------------------------------------------------------------------
def coerce_price(value: Any, what: str = "price override") -> Price:
    """A ``Price`` from an override value: ``Price``, ``(in, out)``, ``(in, out, cached)`` or a mapping."""
    if isinstance(value, Price):
        return value
    if isinstance(value, Mapping):
        cached = value.get("cached_input_per_m")
        return Price(
            input_per_m=_dec(value.get("input_per_m"), f"{what} (input)"),
            output_per_m=_dec(value.get("output_per_m"), f"{what} (output)"),
            cached_input_per_m=None if cached in (None, "") else _dec(cached, f"{what} (cached input)"),
            source=str(value.get("source") or "override"),
            as_of=str(value.get("as_of") or date.today().isoformat()),
        )
    if isinstance(value, (tuple, list)) and len(value) in (2, 3):
        return Price(
            input_per_m=_dec(value[0], f"{what} (input)"),
            output_per_m=_dec(value[1], f"{what} (output)"),
            cached_input_per_m=_dec(value[2], f"{what} (cached input)") if len(value) == 3 else None,
            source="override",
            as_of=date.today().isoformat(),
        )
    raise ConfigError(f"{what} must be (input, output[, cached]) dollars per 1M tokens, got {value!r}.")


def _override_for(model_id: str, overrides: Mapping[str, Any] | None) -> Price | None:
    if not overrides:
        return None
    ref = model_id.lower()
    lowered = {str(k).strip().lower(): v for k, v in overrides.items()}
    if ref in lowered:
        return coerce_price(lowered[ref], f"price override for {model_id}")
    # Globs, most specific (longest) first.
    for pattern in sorted((k for k in lowered if any(ch in k for ch in "*?[")), key=len, reverse=True):
        if fnmatch.fnmatchcase(ref, pattern):
            return coerce_price(lowered[pattern], f"price override for {pattern}")
    return None


def parse_price_overrides(text: str | None) -> dict[str, Price]:
    """Parse ``"model=in/out[/cached]; other=in/out"`` (env var / secrets form) into overrides."""
    return {
        model: coerce_price(figures, f"price override for {model}") for model, figures in parse_price_text(text).items()
    }


# ---- the public API ------------------------------------------------------------------------------
def is_local_provider(provider: str) -> bool:
    return (provider or "").lower() in LOCAL_PROVIDERS


@lru_cache(maxsize=512)
def _catalogue_price(model_id: str, provider: str) -> Price | None:
    if is_local_provider(provider):
        return Price(ZERO, ZERO, ZERO, source=f"self-hosted ({provider})", as_of="", local=True)
    return _genai_price(model_id, provider) or _table_price(model_id, provider)


def price_for(model_id: str, provider: str = "openai", overrides: Mapping[str, Any] | None = None) -> Price | None:
    """The price in use for a model, or ``None`` when it is unknown (never a silent $0)."""
    model_id = (model_id or "").strip()
    provider = (provider or "").strip().lower()
    override = _override_for(model_id, overrides)
    if override is not None:
        return override
    if not model_id and not is_local_provider(provider):
        return None
    return _catalogue_price(model_id, provider)


def cost_breakdown(usage: Usage, price: Price | None) -> CostBreakdown | None:
    if price is None:
        return None
    cached = max(0, min(usage.cached_tokens, usage.prompt_tokens))  # OpenAI counts cached inside prompt
    uncached = max(0, usage.prompt_tokens - cached)
    return CostBreakdown(
        input=Decimal(uncached) * price.input_per_m / MILLION,
        cached_input=Decimal(cached) * price.cached_rate / MILLION,
        output=Decimal(max(0, usage.completion_tokens)) * price.output_per_m / MILLION,
    )


def cost_of(usage: Usage, price: Price | None) -> Decimal | None:
    """Dollars for one call's usage; ``None`` when the price is unknown."""
    parts = cost_breakdown(usage, price)
    return None if parts is None else parts.total


def worst_case_cost(prompt_tokens: int, max_output_tokens: int, price: Price | None) -> Decimal | None:
    """Upper bound before a call: every prompt token uncached, the answer as long as allowed."""
    if price is None:
        return None
    return (
        Decimal(max(0, prompt_tokens)) * price.input_per_m + Decimal(max(0, max_output_tokens)) * price.output_per_m
    ) / MILLION


def embedding_cost(
    tokens: int, model_id: str, provider: str, overrides: Mapping[str, Any] | None = None
) -> Decimal | None:
    """Dollars to embed ``tokens`` tokens (ingest or query); local MiniLM is $0; unknown → None."""
    price = price_for(model_id, provider, overrides)
    if price is None:
        return None
    return Decimal(max(0, tokens)) * price.input_per_m / MILLION


def ft_base_model(model_id: str) -> str:
    """``ft:gpt-4o-mini-2024-07-18:org::id`` → ``gpt-4o-mini-2024-07-18``; other ids unchanged."""
    ref = model_id.strip()
    if ref.lower().startswith("ft:"):
        return ref.split(":")[1]
    return ref


def training_price(base_model: str, provider: str = "openai", today: date | None = None) -> TrainingPrice | None:
    """Fine-tuning training price for a base model (or an ``ft:`` id), longest prefix match. With ``today``, a
    service that has ended by then prices nothing (``None``): it can no longer be bought."""
    ref = ft_base_model(base_model).lower()
    best: TrainingPrice | None = None
    best_len = -1
    for row in load_price_table().training:
        if row.provider != provider and provider not in ("azure", "custom", ""):
            continue
        if today is not None and row.ended(today):
            continue
        length = max((len(p) for p in (row.base_model, *row.matches) if ref.startswith(p)), default=-1)
        if length > best_len:
            best, best_len = row, length
    return best


def hosted_finetune_option(today: date) -> TrainingPrice | None:
    """The hosted fine-tuning row a projection uses once OpenAI's has ended: the first remaining row (table order)
    with an example model whose inference price is known; ``None`` while an OpenAI row can still be bought."""
    table = load_price_table()
    if any(t.provider == "openai" and not t.ended(today) for t in table.training):
        return None
    for row in table.remaining(today):
        if row.example_model:
            return row
    return None


def training_cost(
    training_tokens: int, epochs: int, base_model: str, provider: str = "openai", today: date | None = None
) -> Decimal | None:
    """One fine-tuning run: tokens in the training file x epochs x the per-1M training price."""
    row = training_price(base_model, provider, today)
    if row is None:
        return None
    return Decimal(max(0, training_tokens)) * Decimal(max(0, epochs)) * row.per_m_training_tokens / MILLION


def price_row(role: str, model_id: str, provider: str, price: Price | None) -> dict[str, str]:
    """One row of the price table shown in the UI."""
    return {
        "role": role,
        "model": model_id,
        "provider": provider,
        "input $/1M": "unknown" if price is None else format_rate(price.input_per_m),
        "cached input $/1M": ""
        if price is None or price.cached_input_per_m is None
        else format_rate(price.cached_input_per_m),
        "output $/1M": "unknown" if price is None else format_rate(price.output_per_m),
        "source": "price unknown: set an override" if price is None else price.source,
        "as of": "" if price is None else price.as_of,
    }


def price_rows(
    models: Iterable[tuple[str, str, str]], overrides: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """Rows for the price table shown in the UI: ``models`` is (role, model id, provider)."""
    return [
        price_row(role, model_id, provider, price_for(model_id, provider, overrides))
        for role, model_id, provider in models
    ]
