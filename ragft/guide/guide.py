"""Decision guide: which approach fits a use case, why, what it needs, what it risks. Pure rules, no LLM.

The guide teaches one thesis: fine-tuning changes *behaviour* (tone, voice, output format), it does not
keep *knowledge* current; RAG gives access to current, specific, proprietary facts and needs an embedding
pipeline, a vector store and retrieval; the hybrid (fine-tune for the voice, retrieve the facts) is usually
strongest when both are needed; and the costs differ in kind (training + a per-token premium versus
embeddings + extra context tokens on every query).

Everything here is deterministic:

* :class:`Answers` holds the questionnaire, with an explicit ``"unknown"`` for every factor.
* :func:`recommend` scores the four approaches of :data:`ragft.configs.APPROACHES` with a table of rules.
  Every rule that fires carries a sentence tied to the answer ("your facts change weekly, so ..."), so the
  score of an option is always the sum of the reasons shown for it. ``today`` is an argument because the
  model-lifecycle facts (OpenAI's fine-tuning shutdown) depend on the date.
* :func:`projection_defaults_from` / :func:`projection_inputs_from` prefill the cost projection.
* :func:`summarize_evidence` turns compare / evaluate records of this session into per-configuration means
  and plain sentences.
* :func:`load_guide_text` reads the facilitator-editable Markdown explanations in ``assets/guide``.
* :func:`to_markdown` exports the whole recommendation with the numbers behind the charts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ragft.configs import APPROACH_CONFIG, APPROACH_LABELS, APPROACHES, BY_KEY, CONFIGURATIONS
from ragft.costs.prices import format_usd as _costs_format_usd
from ragft.errors import RagftError
from ragft.paths import GUIDE_DIR
from ragft.costs.projection import ProjectionInputs

UNKNOWN = "unknown"


# ---- errors -----------------------------------------------------------------------------------------
class GuideError(RagftError):
    """The decision guide could not do what was asked."""


class GuideInputError(GuideError):
    """An answer of the questionnaire is not one of the allowed options."""

    hint = "Pick one of the listed options (or 'Don't know')."


class GuideAssetMissing(GuideError):
    """An explanation file of the guide is missing or unreadable."""

    hint = "Restore the file under assets/guide (see assets/guide/README.md)."


# ---- lifecycle facts (dated; update here when vendors change their plans) -------------------------
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
        closing = (
            "OpenAI's self-serve fine-tuning closed to new users on "
            f"{OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d}"
        )
    if today < OPENAI_FT_ENDS:
        ending = (
            f"and ends for everyone on {OPENAI_FT_ENDS:%Y-%m-%d} "
            f"(in {(OPENAI_FT_ENDS - today).days} days)."
        )
    else:
        ending = f"and ended for everyone on {OPENAI_FT_ENDS:%Y-%m-%d}."
    return (
        f"{closing} {ending}",
        "Existing `ft:` models keep running until their base model retires: a fine-tune dies with its "
        "base model, so plan to re-train (or migrate) when the base is deprecated.",
        "The alternative is LoRA on an open-weights model, served by any OpenAI-compatible server "
        f"({OPEN_MODEL_SERVERS}): you keep the weights, so no vendor can retire them.",
    )


# ---- the questionnaire --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Factor:
    """One question: its key (a field of :class:`Answers`), a short label and its options in order."""

    key: str
    label: str
    group: str  # "knowledge" | "behaviour" | "operations"
    options: tuple[tuple[str, str], ...]  # (value, short label); "unknown" comes first

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.options)

    def option_label(self, value: str) -> str:
        return dict(self.options).get(value, value)


_DK = (UNKNOWN, "Don't know")

FACTORS: tuple[Factor, ...] = (
    Factor("change", "How often does the knowledge change?", "knowledge", (
        _DK, ("static", "Rarely (a year or more)"), ("monthly", "Monthly"), ("weekly", "Weekly"),
        ("daily", "Daily or faster"),
    )),
    Factor("knowledge", "What must the model know?", "knowledge", (
        _DK, ("general", "General knowledge it already has"), ("some", "Some facts specific to us"),
        ("proprietary", "Many specific, proprietary facts"),
    )),
    Factor("citations", "Must answers cite their sources?", "knowledge", (
        _DK, ("not_needed", "No"), ("nice", "Nice to have"), ("required", "Required (audit, compliance)"),
    )),
    Factor("corpus_size", "How big is the document collection?", "knowledge", (
        _DK, ("none", "No documents"), ("small", "A few pages (fits in one prompt)"),
        ("medium", "Hundreds of pages"), ("large", "Thousands of documents or more"),
    )),
    Factor("corpus_kind", "What kind of data is it?", "knowledge", (
        _DK, ("documents", "Text documents (manuals, policies)"), ("structured", "Tables, catalogue, database rows"),
        ("conversations", "Past conversations or tickets"), ("mixed", "A mix"),
    )),
    Factor("behaviour", "How must the model act?", "behaviour", (
        _DK, ("none", "Default assistant style is fine"), ("light", "A style a prompt can describe"),
        ("brand_voice", "A consistent brand voice"), ("strict_format", "A fixed output format (e.g. JSON)"),
    )),
    Factor("examples", "Labelled examples on hand (input → ideal answer)", "behaviour", (
        _DK, ("none", "None"), ("few", "Fewer than 50"), ("hundreds", "50 to 1,000"), ("thousands", "More than 1,000"),
    )),
    Factor("example_quality", "Quality of those examples", "behaviour", (
        _DK, ("rough", "Rough (unreviewed logs)"), ("curated", "Curated and reviewed"),
    )),
    Factor("volume", "Query volume", "operations", (
        _DK, ("low", "Under 1,000 a month"), ("medium", "1,000 to 100,000 a month"), ("high", "Over 100,000 a month"),
    )),
    Factor("latency", "Latency budget", "operations", (
        _DK, ("relaxed", "Seconds are fine"), ("interactive", "Interactive (1-2 s)"), ("strict", "Strict (under 0.5 s)"),
    )),
    Factor("budget", "Budget", "operations", (
        _DK, ("tight", "Tight (nothing for training)"), ("moderate", "Moderate"), ("generous", "Generous"),
    )),
    Factor("privacy", "Privacy", "operations", (
        _DK, ("cloud_ok", "Cloud APIs are fine"), ("sensitive", "Sensitive data (contracts, DPA)"),
        ("on_prem", "Must stay on our own infrastructure"),
    )),
    Factor("skills", "Team skills", "operations", (
        _DK, ("no_code", "Prompting / no-code"), ("software", "Software engineers"),
        ("ml", "ML engineers (training, evaluation)"),
    )),
    Factor("lifecycle", "Where would a fine-tune be trained and served?", "operations", (
        _DK, ("openai_new", "A new OpenAI `ft:` model (no access yet)"),
        ("openai_existing", "OpenAI, where we already fine-tune"),
        ("open_model", "Open-weights LoRA (vLLM, Ollama, ...)"),
    )),
)
FACTOR_BY_KEY: dict[str, Factor] = {f.key: f for f in FACTORS}
GROUP_LABELS = {
    "knowledge": "Knowledge: what the model needs to know",
    "behaviour": "Behaviour: how it needs to act",
    "operations": "Operations: volume, money, people, risk",
}


@dataclass(frozen=True)
class Answers:
    """The questionnaire. Every factor defaults to ``"unknown"``; any other value must be an option."""

    change: str = UNKNOWN
    knowledge: str = UNKNOWN
    citations: str = UNKNOWN
    corpus_size: str = UNKNOWN
    corpus_kind: str = UNKNOWN
    behaviour: str = UNKNOWN
    examples: str = UNKNOWN
    example_quality: str = UNKNOWN
    volume: str = UNKNOWN
    latency: str = UNKNOWN
    budget: str = UNKNOWN
    privacy: str = UNKNOWN
    skills: str = UNKNOWN
    lifecycle: str = UNKNOWN

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            factor = FACTOR_BY_KEY[f.name]
            if value not in factor.values:
                allowed = ", ".join(factor.values)
                raise GuideInputError(f"'{value}' is not an answer to '{factor.label}' (allowed: {allowed}).")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Answers":
        """Build from a mapping of factor key → value; missing keys and ``None`` mean unknown."""
        unknown_keys = sorted(set(values) - set(FACTOR_BY_KEY))
        if unknown_keys:
            raise GuideInputError(f"Unknown question(s): {', '.join(unknown_keys)}.")
        return cls(**{k: (UNKNOWN if v is None else str(v)) for k, v in values.items()})

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.as_dict().items() if v != UNKNOWN)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.as_dict().items() if v == UNKNOWN)


# ---- rules ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    """One rule that fired: which answer, what it does to each approach's score, and why (one sentence)."""

    factor: str  # a factor key, or "combination" / "start" for rules over several answers
    answer: str
    text: str
    deltas: Mapping[str, int]

    def delta(self, approach: str) -> int:
        return int(self.deltas.get(approach, 0))


def _d(p: int = 0, r: int = 0, f: int = 0, h: int = 0) -> dict[str, int]:
    return {"prompting": p, "rag": r, "finetuning": f, "hybrid": h}


# Prior: with nothing known, the simplest thing wins; the hybrid carries the cost of two pipelines.
PRIOR = _d(p=1, r=0, f=0, h=-1)
PRIOR_TEXT = (
    "Start simple: prompting is the baseline every other approach must beat, and the hybrid "
    "means running two pipelines."
)

# factor → answer → (score changes, sentence tied to the answer). "unknown" never scores.
RULES: dict[str, dict[str, tuple[dict[str, int], str]]] = {
    "change": {
        "static": (_d(f=1), "Your knowledge rarely changes, so a fine-tune will not go stale quickly."),
        "monthly": (_d(r=1, f=-1, h=1),
                    "Your knowledge changes monthly, so a fine-tune would need re-training every month to stay "
                    "current; re-indexing for RAG takes minutes."),
        "weekly": (_d(r=3, f=-3, h=2),
                   "Your knowledge changes weekly, so a fine-tune would be out of date within days; RAG reads "
                   "the current documents at question time."),
        "daily": (_d(p=-1, r=4, f=-4, h=3),
                  "Your knowledge changes daily, so only retrieval at question time can keep up; no training "
                  "schedule can."),
    },
    "knowledge": {
        "general": (_d(p=2, r=-2, h=-2),
                    "The model already knows what it needs, so retrieval would add cost and latency for "
                    "nothing."),
        "some": (_d(r=2, h=1), "The model needs some facts specific to you, which it cannot know by itself."),
        "proprietary": (_d(p=-2, r=3, f=-1, h=3),
                        "The model needs many proprietary facts: retrieval supplies them exactly, while "
                        "fine-tuning memorises facts unreliably and cannot show where they came from."),
    },
    "citations": {
        "not_needed": (_d(), "Answers need not cite sources."),
        "nice": (_d(r=1, h=1), "Citations are welcome, and RAG answers can cite the chunks they were given."),
        "required": (_d(p=-1, r=3, f=-2, h=3),
                     "Answers must cite their sources: RAG can point to the retrieved passage, a fine-tuned "
                     "model cannot say where a fact came from."),
    },
    "corpus_size": {
        "none": (_d(r=-3, h=-3), "You have no documents, so there is nothing to retrieve from."),
        "small": (_d(p=2, r=-1),
                  "Your documents fit in one prompt: paste them into the instructions before building a "
                  "retrieval pipeline."),
        "medium": (_d(r=1, h=1), "Hundreds of pages are too many for one prompt, so they must be retrieved."),
        "large": (_d(p=-2, r=2, h=2),
                  "Thousands of documents need search: only the relevant chunks can go into each prompt."),
    },
    "corpus_kind": {
        "documents": (_d(), "Text documents chunk and embed well for retrieval."),
        "structured": (_d(),
                       "Tables and catalogue rows retrieve best as one record per chunk (or through a SQL / "
                       "tool call); the approach scores do not change."),
        "conversations": (_d(f=1, h=1),
                          "Past conversations are raw material for fine-tuning examples of how you answer."),
        "mixed": (_d(), "Mixed data needs a loader per kind; the approach scores do not change."),
    },
    "behaviour": {
        "none": (_d(p=1, f=-2, h=-2), "The default assistant style is fine, so there is no behaviour to train."),
        "light": (_d(p=1, h=-1), "A style a prompt can describe is cheapest to get with a good prompt."),
        "brand_voice": (_d(p=-1, f=3, h=3),
                        "You need a consistent brand voice: fine-tuning changes how a model acts on every "
                        "answer, where a prompt drifts."),
        "strict_format": (_d(p=-1, f=4, h=3),
                          "You need a fixed output format every time: that is behaviour, which fine-tuning "
                          "teaches reliably (structured outputs / JSON mode can help prompting too)."),
    },
    "examples": {
        "none": (_d(f=-4, h=-3),
                 "You have no labelled examples, so fine-tuning cannot start: you would have to write "
                 "hundreds first."),
        "few": (_d(p=1, f=-2, h=-1),
                "Under 50 examples are too few to fine-tune well, but they make good few-shot prompts."),
        "hundreds": (_d(f=2, h=2), "Hundreds of examples are enough to fine-tune a behaviour (LoRA or hosted)."),
        "thousands": (_d(f=3, h=3), "Thousands of examples make a strong fine-tuning set."),
    },
    "example_quality": {
        "rough": (_d(f=-1, h=-1), "Unreviewed examples teach their mistakes too: curate before training."),
        "curated": (_d(f=1, h=1), "Curated examples are what fine-tuning learns best from."),
    },
    "volume": {
        "low": (_d(p=1, f=-1, h=-1),
                "At under 1,000 queries a month, training and evaluation costs will not pay back."),
        "medium": (_d(), "At 1,000 to 100,000 queries a month, the per-query cost matters: see the projection."),
        "high": (_d(p=-1, f=1),
                 "At over 100,000 queries a month, long instructions repeated in every prompt get expensive; "
                 "a fine-tune can drop them (despite its per-token premium: check the projection)."),
    },
    "latency": {
        "relaxed": (_d(), "Latency is relaxed, so retrieval's extra step does not matter."),
        "interactive": (_d(), "Interactive latency is fine for all four approaches with a small top-k."),
        "strict": (_d(r=-2, f=1, h=-2),
                   "A strict latency budget leaves little room for an embedding call, a vector search and "
                   "hundreds of extra context tokens per query."),
    },
    "budget": {
        "tight": (_d(p=2, r=1, f=-2, h=-3),
                  "A tight budget has no room for training runs, evaluation rounds and a per-token premium."),
        "moderate": (_d(), "A moderate budget allows any approach; the running cost decides (see below)."),
        "generous": (_d(f=1, h=1), "A generous budget can pay for training and evaluating a fine-tune."),
    },
    "privacy": {
        "cloud_ok": (_d(), "Cloud APIs are acceptable, so any hosted model and vector store will do."),
        "sensitive": (_d(r=1, f=-1),
                      "Sensitive data baked into model weights cannot be deleted without re-training; in a "
                      "vector store it can be filtered per user and deleted."),
        "on_prem": (_d(f=-1, h=-1),
                    "Everything must run on your own infrastructure: open-weights models, a local embedding "
                    "model and a local vector store; fine-tuning means training and serving LoRA yourselves."),
    },
    "skills": {
        "no_code": (_d(p=2, r=-1, f=-2, h=-3),
                    "A prompting / no-code team can run prompting today; pipelines and training need "
                    "engineers."),
        "software": (_d(r=1, f=-1, h=-1),
                     "Software engineers can build and run a RAG pipeline; training and evaluating models is a "
                     "new skill for them."),
        "ml": (_d(f=1, h=1), "ML engineers can curate data, train, and evaluate a fine-tune against the base."),
    },
    # "lifecycle" depends on the date: see _lifecycle_reason.
}


def _lifecycle_reason(value: str, today: date) -> Reason | None:
    closed = today >= OPENAI_FT_CLOSED_TO_NEW_USERS
    ended = today >= OPENAI_FT_ENDS
    if value == "openai_new":
        if closed:
            text = (
                "You plan a new OpenAI `ft:` model, but OpenAI's self-serve fine-tuning closed to new users on "
                f"{OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d}: fine-tune an open-weights model with LoRA "
                f"instead ({OPEN_MODEL_SERVERS})."
            )
            return Reason("lifecycle", value, text, _d(f=-3, h=-3))
        days = (OPENAI_FT_CLOSED_TO_NEW_USERS - today).days
        text = (
            "You plan a new OpenAI `ft:` model, but OpenAI's self-serve fine-tuning closes to new users on "
            f"{OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d} (in {days} days) and ends on {OPENAI_FT_ENDS:%Y-%m-%d}: "
            "a model you start now has a short future."
        )
        return Reason("lifecycle", value, text, _d(f=-2, h=-2))
    if value == "openai_existing":
        if ended:
            text = (
                f"OpenAI's fine-tuning ended on {OPENAI_FT_ENDS:%Y-%m-%d}: your existing `ft:` models run until "
                "their base model retires, but you cannot train new ones there."
            )
            return Reason("lifecycle", value, text, _d(f=-3, h=-3))
        days = (OPENAI_FT_ENDS - today).days
        text = (
            f"You can still train on OpenAI until {OPENAI_FT_ENDS:%Y-%m-%d} (in {days} days); after that your "
            "`ft:` models only run until their base model retires, so plan a migration to open-model LoRA."
        )
        return Reason("lifecycle", value, text, _d(f=-1, h=-1))
    if value == "open_model":
        text = (
            "Open-weights LoRA keeps the weights in your hands, so no vendor can retire your fine-tune; you "
            f"serve it yourselves ({OPEN_MODEL_SERVERS})."
        )
        return Reason("lifecycle", value, text, _d())
    return None


def _combination_reasons(a: Answers) -> list[Reason]:
    out: list[Reason] = []
    needs_behaviour = a.behaviour in ("brand_voice", "strict_format")
    needs_current_facts = a.knowledge == "proprietary" or a.change in ("weekly", "daily")
    if needs_behaviour and needs_current_facts:
        out.append(Reason(
            "combination", "behaviour+knowledge",
            "You need both a consistent behaviour and current, specific facts: fine-tune for the behaviour "
            "and retrieve the facts. That is the hybrid.",
            _d(h=2),
        ))
    return out


def _conflicts(a: Answers) -> list[str]:
    out: list[str] = []
    if a.knowledge == "general" and a.change in ("weekly", "daily"):
        out.append(
            f"You say the model only needs general knowledge, yet your knowledge changes {a.change}. If the "
            "answers depend on those changes, the model needs your specific facts."
        )
    if a.knowledge in ("some", "proprietary") and a.corpus_size == "none":
        out.append(
            "The model needs your specific facts, but you have no documents: write them down first, RAG can "
            "only retrieve what exists."
        )
    if a.citations == "required" and a.corpus_size == "none":
        out.append("Answers must cite sources, but there are no documents to cite.")
    if a.citations == "required" and a.knowledge == "general":
        out.append("Citations are required, but the model is to answer from general knowledge: cite what?")
    if a.behaviour in ("brand_voice", "strict_format") and a.examples == "none":
        out.append(
            "You need a trained behaviour but have no examples: start with a prompt (and structured outputs "
            "for a format) and collect examples from real use."
        )
    if a.example_quality != UNKNOWN and a.examples == "none":
        out.append("You rated the quality of examples, but said you have none.")
    if a.privacy == "on_prem" and a.lifecycle in ("openai_new", "openai_existing"):
        out.append(
            "Your data must stay on your own infrastructure, yet the fine-tune would be trained on OpenAI: the "
            "training data would leave your premises. Open-weights LoRA fits on-premises."
        )
    return out


# ---- what each approach needs and risks ----------------------------------------------------------------
@dataclass(frozen=True)
class Needs:
    data: tuple[str, ...]
    infrastructure: tuple[str, ...]
    skills: tuple[str, ...]


_BASE_NEEDS: dict[str, Needs] = {
    "prompting": Needs(
        data=("a clear instruction and a handful of good examples", "a small test set of real questions"),
        infrastructure=("an LLM endpoint (hosted API or a local model server)",),
        skills=("prompt writing", "checking answers against the test set"),
    ),
    "rag": Needs(
        data=("the source documents, kept current, each with a clear source name",
              "questions with known answers to test retrieval"),
        infrastructure=("an embedding model", "a vector store (Chroma, pgvector, ...)",
                        "a retrieval step in front of the LLM", "re-indexing when documents change"),
        skills=("software engineering: ingestion, chunking, retrieval tuning (top-k, thresholds)",
                "evaluating retrieval hits as well as answers"),
    ),
    "finetuning": Needs(
        data=("hundreds or more curated input → ideal-answer examples (JSONL)",
              "a held-out set to compare the fine-tune against the base"),
        infrastructure=("a training service, or a GPU for LoRA", "hosting for the fine-tuned model"),
        skills=("dataset curation", "training and evaluation", "re-training when the base model retires"),
    ),
    "hybrid": Needs(
        data=("the documents for retrieval", "examples of the behaviour, written with retrieved context in the "
              "prompt (the RAFT recipe), so the fine-tune learns to use the context"),
        infrastructure=("everything RAG needs", "training and hosting for the fine-tune"),
        skills=("both: retrieval engineering and fine-tuning", "evaluation of facts and style together"),
    ),
}

_BASE_RISKS: dict[str, tuple[str, ...]] = {
    "prompting": (
        "long instructions are paid for on every query",
        "style drifts with the phrasing of the question",
        "the model invents facts it was never given (hallucination)",
    ),
    "rag": (
        "a missed retrieval gives a wrong or empty answer",
        "distractor chunks mislead the model, small models most of all",
        "the index goes stale if re-indexing lapses",
        "extra context tokens and a retrieval step on every query",
    ),
    "finetuning": (
        "knowledge frozen at training time: it goes stale and cannot be corrected without re-training",
        "cannot cite where a fact came from",
        "dies with its base model: re-train or migrate when the base retires",
        "a per-token premium on hosted fine-tuned models",
        "narrow data can make the model worse outside its examples",
    ),
    "hybrid": (
        "two pipelines to build, monitor and pay for",
        "a fine-tune not trained with retrieved context may ignore the context",
        "every risk of RAG and of fine-tuning, in one system",
    ),
}


def _needs_for(approach: str, a: Answers) -> Needs:
    base = _BASE_NEEDS[approach]
    data, infra, skills = list(base.data), list(base.infrastructure), list(base.skills)
    retrieves = approach in ("rag", "hybrid")
    trains = approach in ("finetuning", "hybrid")
    if a.privacy == "on_prem":
        infra.append(f"open-weights models on your own servers ({OPEN_MODEL_SERVERS})")
        if retrieves:
            infra.append("a local embedding model and a self-hosted vector store")
        if trains:
            infra.append("your own GPU (or CPU for tiny models) for LoRA training")
    if a.privacy == "sensitive" and retrieves:
        infra.append("access control per document in the vector store, and deletion on request")
    if retrieves and a.corpus_kind == "structured":
        data.append("one record per chunk, or retrieval through SQL / tool calls for tables")
    if retrieves and a.change == "daily":
        infra.append("automatic, incremental re-indexing on every change")
    if trains and a.lifecycle in ("openai_new", "openai_existing", UNKNOWN):
        infra.append("a plan for open-model LoRA if OpenAI fine-tuning is unavailable to you")
    if approach == "prompting" and a.behaviour == "strict_format":
        infra.append("structured outputs / JSON mode to enforce the schema")
    if approach == "prompting" and a.corpus_size == "small":
        data.append("your few pages pasted into the instructions")
    return Needs(tuple(data), tuple(infra), tuple(skills))


def _risks_for(approach: str, a: Answers, today: date) -> tuple[str, ...]:
    risks = list(_BASE_RISKS[approach])
    trains = approach in ("finetuning", "hybrid")
    retrieves = approach in ("rag", "hybrid")
    if trains and a.lifecycle in ("openai_new", "openai_existing", UNKNOWN):
        risks.append(lifecycle_facts(today)[0])
    if trains and a.change in ("monthly", "weekly", "daily") and approach == "finetuning":
        risks.append(f"your knowledge changes {a.change}: every change needs a new training run")
    if retrieves and a.latency == "strict":
        risks.append("retrieval may not fit a sub-second latency budget")
    if approach == "prompting" and a.corpus_size in ("medium", "large"):
        risks.append("your documents do not fit in a prompt")
    if trains and a.privacy == "sensitive":
        risks.append("sensitive data in the weights can leak into answers and cannot be deleted")
    return tuple(risks)


# ---- the two axes ----------------------------------------------------------------------------------------
_CONTEXT_LEVELS: dict[str, dict[str, float]] = {
    "knowledge": {"general": 0.1, "some": 0.55, "proprietary": 0.9},
    "change": {"static": 0.3, "monthly": 0.6, "weekly": 0.8, "daily": 0.95},
    "citations": {"not_needed": 0.35, "nice": 0.6, "required": 0.9},
    "corpus_size": {"none": 0.1, "small": 0.4, "medium": 0.65, "large": 0.85},
}
_CONTEXT_WEIGHTS = {"knowledge": 3.0, "change": 2.0, "citations": 1.0, "corpus_size": 1.0}
_BEHAVIOUR_LEVELS = {"none": 0.1, "light": 0.35, "brand_voice": 0.75, "strict_format": 0.9}


@dataclass(frozen=True)
class Position:
    """Where the case sits on the two axes, each in [0, 1]; 0.5 means "not known"."""

    context: float  # what the model needs to know
    behaviour: float  # how it needs to act
    context_known: bool
    behaviour_known: bool

    @property
    def quadrant(self) -> str:
        """The approach of the quadrant the point falls in (ties at 0.5 go to the simpler side)."""
        high_c, high_b = self.context > 0.5, self.behaviour > 0.5
        if high_c and high_b:
            return "hybrid"
        if high_c:
            return "rag"
        if high_b:
            return "finetuning"
        return "prompting"


def position_of(a: Answers) -> Position:
    total, weight = 0.0, 0.0
    for key, levels in _CONTEXT_LEVELS.items():
        value = getattr(a, key)
        if value in levels:
            total += levels[value] * _CONTEXT_WEIGHTS[key]
            weight += _CONTEXT_WEIGHTS[key]
    context = round(total / weight, 3) if weight else 0.5
    behaviour = _BEHAVIOUR_LEVELS.get(a.behaviour, 0.5)
    return Position(context, behaviour, weight > 0, a.behaviour in _BEHAVIOUR_LEVELS)


# ---- recommendation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Assessment:
    """One approach: its score, the reasons for and against it, what it needs, what it risks."""

    approach: str
    label: str
    score: int
    reasons_for: tuple[Reason, ...]
    reasons_against: tuple[Reason, ...]
    needs: Needs
    risks: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    best: str
    runner_up: str
    scores: Mapping[str, int]  # approach → score (prior + sum of reason deltas)
    ranking: tuple[str, ...]  # best first
    assessments: Mapping[str, Assessment]
    reasons: tuple[Reason, ...]  # every rule that fired, in questionnaire order
    position: Position
    conflicts: tuple[str, ...]
    lifecycle: tuple[str, ...]
    confidence: str  # "low" | "medium" | "high"
    answered: int
    today: date

    @property
    def label(self) -> str:
        return APPROACH_LABELS[self.best]

    @property
    def margin(self) -> int:
        return self.scores[self.best] - self.scores[self.runner_up]

    def why(self, limit: int | None = None) -> tuple[Reason, ...]:
        """Reasons that push the best option up, strongest first."""
        items = self.assessments[self.best].reasons_for
        return items[:limit] if limit else items

    def why_not(self, approach: str) -> tuple[Reason, ...]:
        """Reasons that favour the best option over ``approach``, largest difference first."""
        diffs = [(r.delta(self.best) - r.delta(approach), i, r) for i, r in enumerate(self.reasons)]
        return tuple(r for d, _, r in sorted(diffs, key=lambda t: (-t[0], t[1])) if d > 0)

    @property
    def headline(self) -> Reason | None:
        """The reason that says most about the case: strong for the best option and, at equal strength,
        the one that separates it most from the runner-up."""
        pros = self.why()
        if not pros:
            return None
        b, r = self.best, self.runner_up
        return max(pros, key=lambda x: (2 * x.delta(b) - x.delta(r), -pros.index(x)))

    def summary(self) -> str:
        if self.answered == 0:
            return (
                "Nothing answered yet: start with prompting, the cheapest baseline, and answer the questions "
                "to see what your case needs."
            )
        because = f" {self.headline.text}" if self.headline else ""
        return f"{self.label} fits best ({self.confidence} confidence).{because}"


_SIMPLICITY = {k: i for i, k in enumerate(APPROACHES)}  # ties go to the simpler (earlier) approach


def recommend(answers: Answers, today: date) -> Recommendation:
    """Score every approach for ``answers`` as of ``today`` (the lifecycle facts depend on the date)."""
    if not isinstance(answers, Answers):
        raise GuideInputError("recommend() needs an Answers object.")
    if not isinstance(today, date):
        raise GuideInputError("recommend() needs today's date.")
    reasons: list[Reason] = []
    for factor in FACTORS:
        value = getattr(answers, factor.key)
        if value == UNKNOWN:
            continue
        if factor.key == "lifecycle":
            lr = _lifecycle_reason(value, today)
            if lr is not None:
                reasons.append(lr)
            continue
        deltas, text = RULES[factor.key][value]
        reasons.append(Reason(factor.key, value, text, deltas))
    reasons.extend(_combination_reasons(answers))

    scores = {k: PRIOR[k] + sum(r.delta(k) for r in reasons) for k in APPROACHES}
    ranking = tuple(sorted(APPROACHES, key=lambda k: (-scores[k], _SIMPLICITY[k])))
    best, runner_up = ranking[0], ranking[1]

    assessments: dict[str, Assessment] = {}
    for k in APPROACHES:
        pros = sorted((r for r in reasons if r.delta(k) > 0), key=lambda r: -r.delta(k))
        cons = sorted((r for r in reasons if r.delta(k) < 0), key=lambda r: r.delta(k))
        assessments[k] = Assessment(
            k, APPROACH_LABELS[k], scores[k], tuple(pros), tuple(cons),
            _needs_for(k, answers), _risks_for(k, answers, today),
        )
    if not reasons:  # all unknown: the prior is the only reason
        start = Reason("start", UNKNOWN, PRIOR_TEXT, PRIOR)
        assessments["prompting"] = Assessment(
            "prompting", APPROACH_LABELS["prompting"], scores["prompting"], (start,), (),
            assessments["prompting"].needs, assessments["prompting"].risks,
        )

    conflicts = tuple(_conflicts(answers))
    answered = len(answers.known)
    margin = scores[best] - scores[runner_up]
    if answered == 0 or conflicts or margin == 0 or answered < 3:
        confidence = "low"
    elif margin >= 3 and answered >= 6:
        confidence = "high"
    else:
        confidence = "medium"
    return Recommendation(
        best=best, runner_up=runner_up, scores=scores, ranking=ranking, assessments=assessments,
        reasons=tuple(reasons), position=position_of(answers), conflicts=conflicts,
        lifecycle=lifecycle_facts(today), confidence=confidence, answered=answered, today=today,
    )


# ---- worked examples (presets for workshops, also the canonical test cases) ------------------------------
@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    story: str
    answers: Answers


PRESETS: tuple[Preset, ...] = (
    Preset("catalogue", "Shop assistant, prices change weekly",
           "A shop's assistant answers about products whose prices and stock change every week.",
           Answers(change="weekly", knowledge="proprietary", citations="nice", corpus_size="medium",
                   corpus_kind="structured", behaviour="light", examples="few", volume="medium",
                   latency="interactive", budget="moderate", privacy="cloud_ok", skills="software")),
    Preset("json", "Ticket triage into a fixed JSON",
           "Support tickets are classified into a fixed JSON schema; the categories have not changed in years.",
           Answers(change="static", knowledge="general", citations="not_needed", corpus_size="none",
                   corpus_kind="conversations", behaviour="strict_format", examples="thousands",
                   example_quality="curated", volume="high", latency="strict", budget="moderate",
                   privacy="cloud_ok", skills="ml", lifecycle="open_model")),
    Preset("brand", "Brand-voice assistant on a live catalogue",
           "A retailer wants answers in its brand voice about a catalogue that changes weekly.",
           Answers(change="weekly", knowledge="proprietary", citations="nice", corpus_size="medium",
                   corpus_kind="documents", behaviour="brand_voice", examples="hundreds",
                   example_quality="curated", volume="medium", latency="interactive", budget="moderate",
                   privacy="cloud_ok", skills="ml", lifecycle="open_model")),
    Preset("small", "Small team, a few pages, low volume",
           "A small office wants help answering questions about a 5-page handbook, a few times a day.",
           Answers(change="static", knowledge="some", corpus_size="small", corpus_kind="documents",
                   behaviour="none", examples="few", volume="low", latency="relaxed", budget="tight",
                   privacy="cloud_ok", skills="no_code")),
)
PRESET_BY_KEY = {p.key: p for p in PRESETS}


# ---- cost projection prefill ----------------------------------------------------------------------------
_QUERIES = {"low": 500, "medium": 20_000, "high": 300_000}
_CORPUS_TOKENS = {"none": 0, "small": 10_000, "medium": 400_000, "large": 10_000_000}
_REINDEXES = {"static": 1 / 12, "monthly": 1.0, "weekly": 4.33, "daily": 30.0}
_TRAINING_EXAMPLES = {"none": 500, "few": 50, "hundreds": 500, "thousands": 3_000}
TOKENS_PER_EXAMPLE = 300
# Instructions + few-shot examples a base model needs to imitate the behaviour a fine-tune learns.
_STYLE_PROMPT_TOKENS = {"none": 0, "light": 150, "brand_voice": 500, "strict_format": 400}


def projection_defaults_from(answers: Answers) -> dict[str, Any]:
    """Keyword arguments for ``ragft.costs.projection.ProjectionInputs``, prefilled from the answers.

    Unknown answers keep the projection's own defaults (they are simply left out), except the query
    volume, which the projection requires: unknown → 5,000 a month. Assumptions: a re-index re-embeds the
    whole corpus after each change; training tokens = examples × 300 tokens (with no examples yet, the 500
    you would have to write); a fine-tune is refreshed quarterly (it carries behaviour, not facts), yearly
    when nothing changes; without a fine-tune, prompting and RAG carry the behaviour as instructions and
    examples in every prompt (``style_prompt_tokens``).
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
    return out


def projection_inputs_from(answers: Answers) -> ProjectionInputs:
    """A ``ProjectionInputs`` prefilled from the answers (see :func:`projection_defaults_from`)."""
    known = {f.name for f in fields(ProjectionInputs)}
    return ProjectionInputs(**{k: v for k, v in projection_defaults_from(answers).items() if k in known})


def retrains_to_stay_current(answers: Answers) -> float | None:
    """Training runs a month a fine-tune would need to keep its *facts* current, or None if they are stable.

    The projection assumes a fine-tune carries behaviour only (quarterly refresh); this is the price of
    using it for knowledge instead, the mistake the guide warns about.
    """
    if answers.change in ("monthly", "weekly", "daily"):
        return _REINDEXES[answers.change]
    return None


# ---- evidence from this session's runs --------------------------------------------------------------------
@dataclass(frozen=True)
class ConfigEvidence:
    configuration: str
    label: str
    n: int  # records of this configuration
    fact: float | None  # mean fact score in [0, 1] over records that have one
    n_fact: int
    style: float | None
    n_style: int
    cost_usd: Decimal | None  # mean cost per question
    n_cost: int


@dataclass(frozen=True)
class EvidenceSummary:
    by_config: Mapping[str, ConfigEvidence]  # only configurations with records, in CONFIGURATIONS order
    sentences: tuple[str, ...]
    n_records: int
    n_skipped: int  # records that were malformed and left out
    sources: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.by_config

    def for_approach(self, approach: str) -> ConfigEvidence | None:
        return self.by_config.get(APPROACH_CONFIG[approach])


def _score(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError("not a number") from None
    if math.isnan(x) or not 0.0 <= x <= 1.0:
        raise ValueError("outside 0..1")
    return x


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError("not an amount") from None
    if not d.is_finite() or d < 0:
        raise ValueError("negative or not finite")
    return d


def format_usd(amount: Decimal, signed: bool = False) -> str:
    """Dollars as the cost engine prints them ($0.0004, $1.25), with an explicit sign when ``signed``."""
    text = _costs_format_usd(abs(amount))
    if not signed:
        return _costs_format_usd(amount)
    return ("+" if amount > 0 else "-" if amount < 0 else "±") + text


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _compare_sentence(what: str, metric: str, base: ConfigEvidence, other: ConfigEvidence) -> str | None:
    a = getattr(base, metric)
    b = getattr(other, metric)
    if a is None or b is None:
        return None
    name = "fact accuracy" if metric == "fact" else "style score"
    if round(b, 2) > round(a, 2):
        verb = f"raised {name} from {_pct(a)} to {_pct(b)}"
    elif round(b, 2) < round(a, 2):
        verb = f"lowered {name} from {_pct(a)} to {_pct(b)}"
    else:
        verb = f"left {name} at {_pct(a)}"
    cost = ""
    if base.cost_usd is not None and other.cost_usd is not None:
        diff = other.cost_usd - base.cost_usd
        cost = " at the same cost" if diff == 0 else f" for {format_usd(diff, signed=True)} per question"
    n = f" ({getattr(base, 'n_' + metric)} vs {getattr(other, 'n_' + metric)} answers)"
    return f"In your runs {what} {verb}{cost}{n}."


def summarize_evidence(records: Iterable[Mapping[str, Any]] | None) -> EvidenceSummary:
    """Means per configuration and plain sentences from compare / evaluate records.

    A record is ``{"configuration": "base"|"base_rag"|"ft"|"ft_rag", "fact_score": float|None,
    "style_score": float|None, "cost_usd": Decimal|None, "source": "compare"|"evaluate"}``. Malformed
    records (unknown configuration, scores outside 0..1, negative cost) are counted in ``n_skipped``.
    """
    if records is None:
        records = ()
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise GuideInputError("The evidence must be a list of records.", hint="")
    acc: dict[str, dict[str, list]] = {c.key: {"fact": [], "style": [], "cost": [], "n": []} for c in CONFIGURATIONS}
    n_records = n_skipped = 0
    sources: set[str] = set()
    for rec in records:
        n_records += 1
        try:
            if not isinstance(rec, Mapping):
                raise ValueError("not a mapping")
            key = rec.get("configuration")
            if key not in acc:
                raise ValueError("unknown configuration")
            fact = _score(rec.get("fact_score"))
            style = _score(rec.get("style_score"))
            cost = _money(rec.get("cost_usd"))
        except ValueError:
            n_skipped += 1
            continue
        bucket = acc[key]
        bucket["n"].append(1)
        if fact is not None:
            bucket["fact"].append(fact)
        if style is not None:
            bucket["style"].append(style)
        if cost is not None:
            bucket["cost"].append(cost)
        if rec.get("source"):
            sources.add(str(rec["source"]))

    by_config: dict[str, ConfigEvidence] = {}
    for c in CONFIGURATIONS:
        b = acc[c.key]
        if not b["n"]:
            continue
        by_config[c.key] = ConfigEvidence(
            configuration=c.key, label=c.label, n=len(b["n"]),
            fact=sum(b["fact"]) / len(b["fact"]) if b["fact"] else None, n_fact=len(b["fact"]),
            style=sum(b["style"]) / len(b["style"]) if b["style"] else None, n_style=len(b["style"]),
            cost_usd=sum(b["cost"], Decimal(0)) / len(b["cost"]) if b["cost"] else None, n_cost=len(b["cost"]),
        )

    sentences: list[str] = []
    base = by_config.get("base")
    pairs = (
        ("base", "base_rag", "RAG", "fact"),
        ("base", "ft", "fine-tuning", "style"),
        ("base", "ft", "fine-tuning", "fact"),
        ("base", "ft_rag", "the hybrid (fine-tune + RAG)", "fact"),
        ("base", "ft_rag", "the hybrid (fine-tune + RAG)", "style"),
        ("ft", "ft_rag", "adding RAG to the fine-tune", "fact"),
    )
    for frm, to, what, metric in pairs:
        x, y = by_config.get(frm), by_config.get(to)
        if x is None or y is None:
            continue
        s = _compare_sentence(what, metric, x, y)
        if s:
            sentences.append(s)
    if base is None and by_config:
        sentences.append("Run the base configuration too, to see what each approach adds over it.")
    return EvidenceSummary(by_config, tuple(sentences), n_records, n_skipped, tuple(sorted(sources)))


# ---- explanations (facilitator-editable Markdown) ------------------------------------------------------
RESULT_TOPICS = ("intro", "scores", "quadrant", "costs", "evidence", "lifecycle")


@dataclass(frozen=True)
class GuideText:
    """One Markdown file: its title, the first paragraph (short help), the intro, and its ``##`` sections."""

    path: Path
    title: str
    summary: str
    intro: str
    sections: Mapping[str, str]  # lower-cased heading → body

    def section(self, name: str) -> str:
        return self.sections.get(name.strip().lower(), "")


def parse_guide_markdown(text: str, path: Path = Path("<text>")) -> GuideText:
    title = ""
    intro_lines: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = intro_lines
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)  # notes for facilitators, never shown
    for line in text.splitlines():
        if not title and line.startswith("# "):
            title = line[2:].strip()
            continue
        m = re.match(r"^##\s+(.+?)\s*$", line)
        if m:
            current = sections.setdefault(m.group(1).strip().lower(), [])
            continue
        current.append(line)
    intro = "\n".join(intro_lines).strip()
    summary = re.split(r"\n\s*\n", intro, maxsplit=1)[0].strip() if intro else ""
    return GuideText(path, title, summary, intro, {k: "\n".join(v).strip() for k, v in sections.items()})


def guide_text_path(kind: str, key: str, guide_dir: Path | None = None) -> Path:
    root = Path(guide_dir) if guide_dir is not None else GUIDE_DIR
    if kind == "factor":
        if key not in FACTOR_BY_KEY:
            raise GuideInputError(f"No question named '{key}'.")
        return root / "factors" / f"{key}.md"
    if kind == "approach":
        if key not in APPROACHES:
            raise GuideInputError(f"No approach named '{key}'.")
        return root / "approaches" / f"{key}.md"
    if kind == "topic":
        if key not in RESULT_TOPICS:
            raise GuideInputError(f"No guide topic named '{key}'.")
        return root / f"{key}.md"
    raise GuideInputError(f"Unknown kind of guide text '{kind}'.")


def load_guide_text(kind: str, key: str, guide_dir: Path | None = None) -> GuideText:
    """Read ``assets/guide/{factors|approaches}/<key>.md`` or ``assets/guide/<topic>.md``."""
    path = guide_text_path(kind, key, guide_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuideAssetMissing(f"The guide text {path.name} is missing ({path}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuideAssetMissing(f"The guide text {path.name} cannot be read: {exc}.") from None
    return parse_guide_markdown(text, path)


@dataclass(frozen=True)
class GuideTexts:
    factors: Mapping[str, GuideText]
    approaches: Mapping[str, GuideText]
    topics: Mapping[str, GuideText]
    missing: tuple[str, ...] = ()  # files that could not be read (only when loaded with strict=False)

    @property
    def problem(self) -> str:
        """One line for the page when some files are missing, else ''."""
        if not self.missing:
            return ""
        return GuideAssetMissing(f"Guide text missing: {', '.join(self.missing)}.").message


def load_all_guide_texts(guide_dir: Path | None = None, strict: bool = True) -> GuideTexts:
    """Every explanation file at once.

    ``strict``: one :class:`GuideAssetMissing` naming all the missing files. Otherwise the files that
    exist are returned and the others are listed in ``missing`` (the page still works without them).
    """
    missing: list[str] = []

    def grab(kind: str, keys: Sequence[str]) -> dict[str, GuideText]:
        out: dict[str, GuideText] = {}
        for k in keys:
            try:
                out[k] = load_guide_text(kind, k, guide_dir)
            except GuideAssetMissing:
                p = guide_text_path(kind, k, guide_dir)
                missing.append(f"{p.parent.name}/{p.name}" if kind != "topic" else p.name)
        return out

    texts = GuideTexts(grab("factor", [f.key for f in FACTORS]), grab("approach", APPROACHES),
                       grab("topic", RESULT_TOPICS), tuple(missing))
    if missing and strict:
        raise GuideAssetMissing(f"Guide text missing: {', '.join(missing)}.")
    return texts


# ---- Markdown export ----------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(
    answers: Answers,
    rec: Recommendation,
    evidence: EvidenceSummary | None = None,
    costs: Mapping[str, Decimal] | None = None,
    cost_note: str = "",
) -> str:
    """The recommendation, its reasons, needs, risks, and the numbers behind every chart, as Markdown."""
    L: list[str] = []
    L.append(f"# Decision guide: {rec.label}")
    L.append("")
    L.append(f"_RAG vs Fine-Tuning Explorer, {rec.today:%Y-%m-%d}. Confidence: {rec.confidence}; "
             f"{rec.answered} of {len(FACTORS)} questions answered._")
    L.append("")
    L.append(rec.summary())
    L.append("")
    if rec.conflicts:
        L.append("## Check these answers")
        L.extend(f"- {c}" for c in rec.conflicts)
        L.append("")
    L.append("## Scores")
    L.append("")
    L.append("| Approach | Score |")
    L.append("|---|---:|")
    for k in rec.ranking:
        mark = " (recommended)" if k == rec.best else ""
        L.append(f"| {APPROACH_LABELS[k]}{mark} | {rec.scores[k]} |")
    L.append("")
    p = rec.position
    L.append("## Position on the two axes")
    L.append("")
    L.append(f"- What the model needs to know (context): {p.context:.2f}{'' if p.context_known else ' (not known)'}")
    L.append(f"- How it needs to act (behaviour): {p.behaviour:.2f}{'' if p.behaviour_known else ' (not known)'}")
    L.append(f"- Quadrant: {APPROACH_LABELS[p.quadrant]}")
    L.append("")
    L.append(f"## Why {rec.label}")
    L.append("")
    why = rec.why()
    L.extend(f"- {r.text} ({r.delta(rec.best):+d})" for r in why)
    if not why:
        L.append("- No answer favours it strongly; it wins on simplicity.")
    against = rec.assessments[rec.best].reasons_against
    if against:
        L.append("")
        L.append("Against it:")
        L.extend(f"- {r.text} ({r.delta(rec.best):+d})" for r in against)
    L.append("")
    L.append("## Your answers")
    L.append("")
    L.append("| Question | Answer |")
    L.append("|---|---|")
    for f in FACTORS:
        L.append(f"| {_cell(f.label)} | {_cell(f.option_label(getattr(answers, f.key)))} |")
    L.append("")
    L.append("## What each option needs and risks")
    for k in rec.ranking:
        a = rec.assessments[k]
        L.append("")
        L.append(f"### {a.label} (score {a.score})")
        L.append("")
        L.append(f"- **Data:** {'; '.join(a.needs.data)}")
        L.append(f"- **Infrastructure:** {'; '.join(a.needs.infrastructure)}")
        L.append(f"- **Skills:** {'; '.join(a.needs.skills)}")
        L.append(f"- **Risks:** {'; '.join(a.risks)}")
    L.append("")
    L.append("## Model lifecycle")
    L.append("")
    L.extend(f"- {t}" for t in rec.lifecycle)
    L.append("")
    L.append("## Monthly cost projection")
    L.append("")
    if costs:
        L.append("| Approach | USD per month |")
        L.append("|---|---:|")
        for k in APPROACHES:
            if k in costs:
                L.append(f"| {APPROACH_LABELS[k]} | {format_usd(Decimal(costs[k]))} |")
        if cost_note:
            L.append("")
            L.append(cost_note)
    else:
        L.append(cost_note or "Not available.")
    L.append("")
    L.append("## Evidence from your runs")
    L.append("")
    if evidence is None or evidence.empty:
        L.append("No compare or evaluation runs in this session.")
    else:
        L.append("| Configuration | Runs | Fact accuracy | Style | Cost per question |")
        L.append("|---|---:|---:|---:|---:|")
        for ev in evidence.by_config.values():
            fact = _pct(ev.fact) if ev.fact is not None else "–"
            style = _pct(ev.style) if ev.style is not None else "–"
            cost = format_usd(ev.cost_usd) if ev.cost_usd is not None else "–"
            L.append(f"| {ev.label} | {ev.n} | {fact} | {style} | {cost} |")
        if evidence.sentences:
            L.append("")
            L.extend(f"- {s}" for s in evidence.sentences)
    L.append("")
    return "\n".join(L)


__all__ = [
    "APPROACHES", "Answers", "Assessment", "BY_KEY", "ConfigEvidence", "EvidenceSummary", "FACTORS",
    "FACTOR_BY_KEY", "Factor", "GuideAssetMissing", "GuideError", "GuideInputError", "GuideText",
    "GuideTexts", "Needs", "OPENAI_FT_CLOSED_TO_NEW_USERS", "OPENAI_FT_ENDS", "PRESETS", "PRESET_BY_KEY",
    "Position", "Preset", "Reason", "Recommendation", "UNKNOWN", "format_usd",
    "lifecycle_facts", "load_all_guide_texts", "load_guide_text", "parse_guide_markdown", "position_of",
    "projection_defaults_from", "projection_inputs_from", "recommend", "summarize_evidence", "to_markdown",
]
