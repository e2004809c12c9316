"""The cost projection (``ragft.costs.projection``) prefilled from the guide's answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from ragft.costs.prices import hosted_finetune_option
from ragft.costs.projection import ProjectionInputs, inputs_from_mapping
from ragft.guide.factors import Answers

_QUERIES = {"low": 500, "medium": 20_000, "high": 300_000}
_CORPUS_TOKENS = {"none": 0, "small": 10_000, "medium": 400_000, "large": 10_000_000}
_REINDEXES = {"static": 1 / 12, "monthly": 1.0, "weekly": 4.33, "daily": 30.0}
_TRAINING_EXAMPLES = {"none": 500, "few": 50, "hundreds": 500, "thousands": 3_000}
TOKENS_PER_EXAMPLE = 300
# Instructions + few-shot examples a base model needs to imitate the behaviour a fine-tune learns.
_STYLE_PROMPT_TOKENS = {"none": 0, "light": 150, "brand_voice": 500, "strict_format": 400}


def projection_defaults_from(answers: Answers, today: date | None = None) -> dict[str, Any]:
    """Keyword arguments for ``ragft.costs.projection.ProjectionInputs``, prefilled from the answers.

    Unknown answers keep the projection's own defaults (they are simply left out), except the query
    volume, which the projection requires: unknown → 5,000 a month. Assumptions: a re-index re-embeds the
    whole corpus after each change; training tokens = examples × 300 tokens (with no examples yet, the 500
    you would have to write); a fine-tune is refreshed quarterly (it carries behaviour, not facts), yearly
    when nothing changes; without a fine-tune, prompting and RAG carry the behaviour as instructions and
    examples in every prompt (``style_prompt_tokens``). From the day OpenAI's fine-tuning ends (``today``), the
    fine-tune is priced as the first hosted option that remains (a LoRA on an open model, its own provider).
    """
    out: dict[str, Any] = {"queries_per_month": _QUERIES.get(answers.volume, 5_000)}
    if answers.corpus_size in _CORPUS_TOKENS:
        out["corpus_tokens"] = _CORPUS_TOKENS[answers.corpus_size]
    if answers.change in _REINDEXES:
        out["reindexes_per_month"] = _REINDEXES[answers.change]
    if answers.examples in _TRAINING_EXAMPLES:
        out["training_tokens"] = _TRAINING_EXAMPLES[answers.examples] * TOKENS_PER_EXAMPLE
    if answers.change == "static":
        out["retrains_per_month"] = 1 / 12  # nothing to refresh: a yearly touch-up
    if answers.behaviour in _STYLE_PROMPT_TOKENS:
        out["style_prompt_tokens"] = _STYLE_PROMPT_TOKENS[answers.behaviour]
    hosted = hosted_finetune_option(today) if today is not None else None
    if hosted is not None:
        out["finetuned_model"] = hosted.example_model
        out["finetuned_provider"] = hosted.provider
    return out


def projection_inputs_from(answers: Answers, today: date | None = None) -> ProjectionInputs:
    """A ``ProjectionInputs`` prefilled from the answers (see :func:`projection_defaults_from`)."""
    return inputs_from_mapping(projection_defaults_from(answers, today))


def retrains_to_stay_current(answers: Answers) -> float | None:
    """Training runs a month a fine-tune would need to keep its *facts* current, or None if they are stable.

    The projection assumes a fine-tune carries behaviour only (quarterly refresh); this is the price of
    using it for knowledge instead, the mistake the guide warns about.
    """
    if answers.change in ("monthly", "weekly", "daily"):
        return _REINDEXES[answers.change]
    return None
