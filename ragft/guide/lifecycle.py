"""Model-lifecycle facts the guide tells (dated; update here when vendors change their plans)."""

from __future__ import annotations

from datetime import date

OPENAI_FT_CLOSED_TO_NEW_USERS = date(2026, 5, 7)
OPENAI_FT_ENDS = date(2027, 1, 6)
OPEN_MODEL_SERVERS = "vLLM, Ollama, llama.cpp, LM Studio or a hosted provider"


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
    )
