"""Monthly cost of prompting, RAG, fine-tuning and hybrid against query volume, with break-even points.

The model (all in ``Decimal`` dollars per month, Q = queries per month):

* prompting   Q x (prompt + style prompt) tokens x base input price + Q x answer tokens x base output price
* rag         prompting's inference with the retrieved context added to every prompt
              + embeddings: the corpus re-embedded ``reindexes_per_month`` times + one query embedding per query
* finetuning  Q x prompt x ft input price + Q x answer x ft output price (ft models cost more per token,
              and need no style prompt: that behaviour was trained in)
              + training: training tokens x epochs x training price x ``retrains_per_month``
* hybrid      fine-tuned model with retrieved context: fine-tuning's training + RAG's embeddings

Every approach is a straight line ``fixed + per_query x Q``, so break-even volumes are exact.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from itertools import combinations
from typing import Any

from ragft.configs import APPROACHES
from ragft.costs.prices import MILLION, Price, TrainingPrice, price_for, training_price
from ragft.errors import RagftError

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


class ProjectionInputError(RagftError, ValueError):
    """A number given to the projection is out of range (negative counts or frequencies)."""

    hint = "Use zero or more for every count and frequency."


@dataclass(frozen=True)
class ProjectionInputs:
    queries_per_month: int
    prompt_tokens: int = 80  # the user's question plus the system prompt
    answer_tokens: int = 150
    context_tokens: int = 600  # retrieved chunks added to each RAG prompt
    corpus_tokens: int = 200_000
    reindexes_per_month: float = 4
    training_tokens: int = 300_000  # tokens in the training file
    epochs: int = 3
    retrains_per_month: float = 0.25
    base_model: str = "gpt-4o-mini"
    finetuned_model: str = "ft:gpt-4o-mini-2024-07-18"
    embedding_model: str = "text-embedding-3-small"
    # Instructions / few-shot examples a base model needs to imitate what fine-tuning teaches
    # (tone, format). Added to prompting and RAG prompts only.
    style_prompt_tokens: int = 0
    provider: str = "openai"
    embedding_provider: str = "openai"
    # Where the fine-tuned model is trained and served, when not with the base model's provider (e.g. a LoRA on
    # Fireworks once OpenAI's fine-tuning has ended); "" = ``provider``.
    finetuned_provider: str = ""

    @property
    def ft_provider(self) -> str:
        return self.finetuned_provider or self.provider


def inputs_from_mapping(values: Mapping[str, Any]) -> ProjectionInputs:
    """A ``ProjectionInputs`` from a plain mapping, ignoring keys that are not inputs."""
    known = {f.name for f in fields(ProjectionInputs)}
    return ProjectionInputs(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class MonthlyCost:
    """Dollars per month for one approach, by part. ``unknown`` names parts whose price is unknown."""

    approach: str
    inference: Decimal
    embeddings: Decimal
    training: Decimal
    fixed: Decimal  # the part that does not grow with volume (re-indexing, retraining)
    per_query: Decimal  # what each extra query adds
    setup: Decimal  # one-off: the first training run and the first indexing of the corpus
    unknown: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return self.inference + self.embeddings + self.training

    @property
    def complete(self) -> bool:
        return not self.unknown

    def at(self, queries_per_month: int | float | Decimal) -> Decimal:
        return self.fixed + self.per_query * Decimal(str(queries_per_month))


@dataclass(frozen=True)
class BreakEven:
    """Two approaches cost the same at ``queries_per_month``; above it ``cheaper_above`` wins."""

    a: str
    b: str
    queries_per_month: Decimal
    monthly_cost: Decimal
    cheaper_above: str
    cheaper_below: str


@dataclass(frozen=True)
class _Prices:
    base: Price | None
    ft: Price | None
    embed: Price | None
    train_per_m: Decimal | None


def training_row(inputs: ProjectionInputs) -> TrainingPrice | None:
    """The training price the projection uses: the fine-tuned model's own row, else (same provider) its base's."""
    row = training_price(inputs.finetuned_model, inputs.ft_provider)
    if row is None and inputs.ft_provider == inputs.provider:
        row = training_price(inputs.base_model, inputs.provider)
    return row


def _prices(inputs: ProjectionInputs, overrides: Mapping[str, Any] | None) -> _Prices:
    train = training_row(inputs)
    ft = price_for(inputs.finetuned_model, inputs.ft_provider, overrides)
    return _Prices(
        base=price_for(inputs.base_model, inputs.provider, overrides),
        ft=ft,
        embed=price_for(inputs.embedding_model, inputs.embedding_provider, overrides),
        # A self-hosted fine-tuned model (LoRA on your own machine) has no per-token training price.
        train_per_m=ZERO if (ft is not None and ft.local) else (train.per_m_training_tokens if train else None),
    )


def _d(x: int | float) -> Decimal:
    return Decimal(str(max(0, x)))


def _per_query(price: Price | None, prompt: int, answer: int) -> Decimal | None:
    if price is None:
        return None
    return (_d(prompt) * price.input_per_m + _d(answer) * price.output_per_m) / MILLION


def _validate(inputs: ProjectionInputs) -> None:
    for name in (
        "queries_per_month",
        "prompt_tokens",
        "answer_tokens",
        "context_tokens",
        "corpus_tokens",
        "training_tokens",
        "epochs",
        "style_prompt_tokens",
    ):
        if getattr(inputs, name) < 0:
            raise ProjectionInputError(f"{name} cannot be negative ({getattr(inputs, name)}).")
    for name in ("reindexes_per_month", "retrains_per_month"):
        if getattr(inputs, name) < 0:
            raise ProjectionInputError(f"{name} cannot be negative ({getattr(inputs, name)}).")


def project_monthly(inputs: ProjectionInputs, overrides: Mapping[str, Any] | None = None) -> dict[str, MonthlyCost]:
    """Monthly cost of each approach at ``inputs.queries_per_month``; keys are ``ragft.configs.APPROACHES``."""
    _validate(inputs)
    p = _prices(inputs, overrides)
    q = _d(inputs.queries_per_month)

    # Embeddings (RAG and hybrid): corpus re-indexing is fixed, query embeddings grow with volume.
    if p.embed is None:
        embed_fixed, embed_per_query, embed_setup = ZERO, ZERO, ZERO
    else:
        embed_fixed = _d(inputs.corpus_tokens) * _d(inputs.reindexes_per_month) * p.embed.input_per_m / MILLION
        embed_per_query = _d(inputs.prompt_tokens) * p.embed.input_per_m / MILLION
        embed_setup = _d(inputs.corpus_tokens) * p.embed.input_per_m / MILLION
    # Training (fine-tuning and hybrid): each run is tokens x epochs; amortised by retrain frequency.
    if p.train_per_m is None:
        run, train_fixed = ZERO, ZERO
    else:
        run = _d(inputs.training_tokens) * _d(inputs.epochs) * p.train_per_m / MILLION
        train_fixed = run * _d(inputs.retrains_per_month)

    style = inputs.style_prompt_tokens
    plans = {
        "prompting": (p.base, inputs.prompt_tokens + style, False, False),
        "rag": (p.base, inputs.prompt_tokens + style + inputs.context_tokens, True, False),
        "finetuning": (p.ft, inputs.prompt_tokens, False, True),
        "hybrid": (p.ft, inputs.prompt_tokens + inputs.context_tokens, True, True),
    }
    out: dict[str, MonthlyCost] = {}
    for approach in APPROACHES:
        price, prompt, uses_rag, uses_ft = plans[approach]
        unknown: list[str] = []
        infer_q = _per_query(price, prompt, inputs.answer_tokens)
        if infer_q is None:
            unknown.append("inference")
            infer_q = ZERO
        e_fixed, e_q, e_setup = (embed_fixed, embed_per_query, embed_setup) if uses_rag else (ZERO, ZERO, ZERO)
        if uses_rag and p.embed is None:
            unknown.append("embeddings")
        t_fixed, t_setup = (train_fixed, run) if uses_ft else (ZERO, ZERO)
        if uses_ft and p.train_per_m is None:
            unknown.append("training")
        out[approach] = MonthlyCost(
            approach=approach,
            inference=infer_q * q,
            embeddings=e_fixed + e_q * q,
            training=t_fixed,
            fixed=e_fixed + t_fixed,
            per_query=infer_q + e_q,
            setup=e_setup + t_setup,
            unknown=tuple(unknown),
        )
    return out


def cost_curve(
    inputs: ProjectionInputs, volumes: Sequence[int], overrides: Mapping[str, Any] | None = None
) -> dict[str, list[Decimal]]:
    """Monthly total of each approach at each query volume."""
    lines = project_monthly(inputs, overrides)
    return {a: [lines[a].at(v) for v in volumes] for a in APPROACHES}


def break_even_points(
    inputs: ProjectionInputs,
    volumes: Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[BreakEven]:
    """Volumes where two approaches cost the same, inside ``[min(volumes), max(volumes)]`` if given.

    Pairs whose price is partly unknown are left out (a break-even against a guess would mislead).
    """
    lines = project_monthly(inputs, overrides)
    lo = Decimal(min(volumes)) if volumes else ZERO
    hi = Decimal(max(volumes)) if volumes else None
    points: list[BreakEven] = []
    for a, b in combinations(APPROACHES, 2):
        la, lb = lines[a], lines[b]
        if la.unknown or lb.unknown:
            continue
        slope = la.per_query - lb.per_query
        if slope == 0:
            continue
        q = (lb.fixed - la.fixed) / slope
        if q <= 0 or q < lo or (hi is not None and q > hi):
            continue
        above, below = (b, a) if slope > 0 else (a, b)
        points.append(BreakEven(a, b, q, la.at(q), cheaper_above=above, cheaper_below=below))
    return sorted(points, key=lambda x: x.queries_per_month)


def cheapest(inputs: ProjectionInputs, overrides: Mapping[str, Any] | None = None) -> str | None:
    """The approach with the lowest fully priced monthly total at ``inputs.queries_per_month``."""
    lines = {a: m for a, m in project_monthly(inputs, overrides).items() if m.complete}
    if not lines:
        return None
    return min(lines, key=lambda a: (lines[a].total, APPROACHES.index(a)))


def default_volumes(center: int, points: int = 60) -> list[int]:
    """Log-spaced volumes from 10 to at least 100x ``center`` (for the chart's x axis)."""
    top = max(10_000, center * 100)
    lo = 10.0
    out: list[int] = []
    ratio = (top / lo) ** (1 / (points - 1))
    for i in range(points):
        v = int(round(lo * ratio**i))
        if not out or v > out[-1]:
            out.append(v)
    return out


@dataclass(frozen=True)
class ExamplesBreakEven:
    """A prompted configuration's examples, paid on every call, against a fine-tune's one-time training.

    ``calls`` is the number of calls after which the examples have cost as much as one training run, counting the
    whole difference per call: (question + examples) at the base price against the question alone at the
    fine-tuned model's price (which is often higher per token). ``None`` when a price is unknown or the
    fine-tuned call costs as much as the prompted one (then training never pays back).
    """

    examples_tokens: int
    examples_cost_per_call: Decimal | None  # the examples' tokens at the base model's input price
    prompted_per_call: Decimal | None  # question + examples + answer on the base model
    finetuned_per_call: Decimal | None  # question + answer on the fine-tuned model
    training_cost: Decimal | None  # one run: training tokens x epochs x training price
    calls: Decimal | None

    @property
    def known(self) -> bool:
        return self.calls is not None


def examples_break_even(
    inputs: ProjectionInputs,
    examples_tokens: int,
    overrides: Mapping[str, Any] | None = None,
    *,
    training_per_m: Decimal | None = None,
) -> ExamplesBreakEven:
    """When one training run costs less than sending ``examples_tokens`` of instructions and examples with
    every call (``inputs``: prompt/answer tokens, models, training tokens and epochs). ``training_per_m``
    replaces the catalogue's training price (dollars per 1M training tokens)."""
    _validate(inputs)
    if examples_tokens < 0:
        raise ProjectionInputError(f"examples_tokens cannot be negative ({examples_tokens}).")
    p = _prices(inputs, overrides)
    if training_per_m is not None:
        p = _Prices(p.base, p.ft, p.embed, Decimal(str(training_per_m)))
    prompted = _per_query(p.base, inputs.prompt_tokens + examples_tokens, inputs.answer_tokens)
    tuned = _per_query(p.ft, inputs.prompt_tokens, inputs.answer_tokens)
    examples_cost = None if p.base is None else _d(examples_tokens) * p.base.input_per_m / MILLION
    training = (
        None if p.train_per_m is None else _d(inputs.training_tokens) * _d(inputs.epochs) * p.train_per_m / MILLION
    )
    calls = None
    if prompted is not None and tuned is not None and training is not None and prompted > tuned:
        calls = training / (prompted - tuned)
    return ExamplesBreakEven(examples_tokens, examples_cost, prompted, tuned, training, calls)
