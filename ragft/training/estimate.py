"""What a training run costs: hosted fine-tuning (dated price table) next to this CPU's minutes (free)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ragft.costs.prices import MILLION, Price, load_price_table
from ragft.models.tokens import count_message_tokens
from ragft.training.config import TrainConfig
from ragft.training.examples import Example

# Measured on the 2-core machine (benchmarks/README.md, "Fine-tune studio"): loading the GGUF dequantised,
# seconds per training step per 1,000 tokens in the batch, and the GGUF conversion.
LOAD_S = 20.0
STEP_BASE_S = 0.25
STEP_PER_KTOKEN_S = 1.6
CONVERT_S = 12.0


@dataclass(frozen=True)
class HostedCost:
    """One hosted service's price for this training run, and whether it can still be bought on the day asked."""

    base_model: str
    provider: str
    per_m: Decimal
    as_of: str
    source: str
    cost: Decimal
    service: str = ""
    method: str = ""
    read_on: str = ""
    status: str = "available"  # "available", "closed to new users, ends ...", "ended YYYY-MM-DD"
    ended: bool = False
    tuned_inference: Price | None = None
    tuned_note: str = ""
    label: str = ""


def hosted_training_tokens(examples: Sequence[Example], model: str = "gpt-4o-mini") -> int:
    """Tokens of the training file as a hosted service counts them (tiktoken, chat format)."""
    return sum(count_message_tokens(ex.messages, model) for ex in examples)


def hosted_costs(training_tokens: int, epochs: int, today: date | None = None) -> list[HostedCost]:
    """One row per row of the dated table: tokens × epochs × its price per 1M training tokens, with its status on
    ``today`` (default: the machine's date). Services still open come first, ended ones last (kept as history)."""
    day = today or date.today()
    rows = []
    for row in load_price_table().training:
        cost = Decimal(max(0, training_tokens)) * Decimal(max(0, epochs)) * row.per_m_training_tokens / MILLION
        rows.append(
            HostedCost(
                row.base_model,
                row.provider,
                row.per_m_training_tokens,
                row.as_of,
                row.source,
                cost,
                service=row.service,
                method=row.method,
                read_on=row.read_on,
                status=row.status(day),
                ended=row.ended(day),
                tuned_inference=row.tuned_inference,
                tuned_note=row.tuned_note,
                label=row.label,
            )
        )
    return sorted(rows, key=lambda r: r.ended)  # stable: table order within each group


def remaining_services(today: date) -> list[str]:
    """Names of the hosted fine-tuning services one can still buy on ``today`` (table order, once each)."""
    names: list[str] = []
    for row in load_price_table().remaining(today):
        if row.service and row.service not in names:
            names.append(row.service)
    return names


def price_table_date() -> str:
    return load_price_table().compiled_on


def busy_factor() -> float:
    """How much slower than idle this machine is now: the 1-minute load average per core, at least 1."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


def local_seconds(tokens_per_example: Sequence[int], cfg: TrainConfig, busy: float = 1.0) -> float:
    """Rough wall time of the local run on this kind of machine (load + steps + conversion), ``busy`` times the
    idle figure on a shared CPU (:func:`busy_factor`)."""
    if not tokens_per_example:
        return (LOAD_S + CONVERT_S) * busy
    mean = sum(tokens_per_example) / len(tokens_per_example)
    per_step = STEP_BASE_S + STEP_PER_KTOKEN_S * mean * cfg.batch_size / 1000
    return (LOAD_S + cfg.steps * per_step + CONVERT_S) * busy
