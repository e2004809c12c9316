"""Model-lifecycle facts the guide tells (dated; update here when vendors change their plans)."""

from __future__ import annotations

from datetime import date

from ragft.costs.money import format_rate
from ragft.costs.prices import load_price_table

OPENAI_FT_CLOSED_TO_NEW_USERS = date(2026, 5, 7)
OPENAI_FT_ENDS = date(2027, 1, 6)
OPEN_MODEL_SERVERS = "vLLM, Ollama, llama.cpp, LM Studio or a hosted provider"


def hosted_options_fact(today: date) -> str:
    """Which hosted fine-tuning services remain on ``today`` (non-OpenAI rows of the dated price table), with their
    training price per 1M tokens and what serving the tuned model costs."""
    table = load_price_table()
    rows = [t for t in table.remaining(today) if t.provider != "openai"]
    if not rows:
        return "No hosted fine-tuning price is known besides OpenAI's: LoRA on your own hardware remains."
    by_service: dict[str, list[str]] = {}
    notes: dict[str, str] = {}
    for t in rows:
        by_service.setdefault(t.service or t.provider, []).append(
            f"${format_rate(t.per_m_training_tokens)} per 1M training tokens ({(t.label or t.base_model).split(': ', 1)[-1]})"
        )
        if t.tuned_note:
            notes[t.service or t.provider] = t.tuned_note
    parts = [
        f"{name}: {', '.join(prices)}" + (f" ({notes[name]})" if name in notes else "")
        for name, prices in by_service.items()
    ]
    read = max((t.read_on for t in rows), default="")
    lead = (
        "Hosted fine-tuning you can still buy"
        if today >= OPENAI_FT_ENDS
        else f"Hosted fine-tuning that remains after {OPENAI_FT_ENDS:%Y-%m-%d}"
    )
    return f"{lead} (prices read {read}): " + ". ".join(parts) + "."


def lifecycle_facts(today: date) -> tuple[str, ...]:
    """The model-lifecycle facts as of ``today``, in plain sentences (tense follows the date)."""
    if today < OPENAI_FT_CLOSED_TO_NEW_USERS:
        closing = (
            f"OpenAI's self-serve fine-tuning closes to new users on {OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d} "
            f"(in {(OPENAI_FT_CLOSED_TO_NEW_USERS - today).days} days)"
        )
    else:
        closing = f"OpenAI's self-serve fine-tuning closed to new users on {OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d}"
    if today < OPENAI_FT_ENDS:
        ending = f"and ends for everyone on {OPENAI_FT_ENDS:%Y-%m-%d} (in {(OPENAI_FT_ENDS - today).days} days)."
    else:
        ending = f"and ended for everyone on {OPENAI_FT_ENDS:%Y-%m-%d}."
    return (
        f"{closing} {ending}",
        "Existing `ft:` models keep running until their base model retires: a fine-tune dies with its "
        "base model, so plan to re-train (or migrate) when the base is deprecated.",
        "The alternative is LoRA on an open-weights model, served by any OpenAI-compatible server "
        f"({OPEN_MODEL_SERVERS}): you keep the weights, so no vendor can retire them.",
        hosted_options_fact(today),
    )
