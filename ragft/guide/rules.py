"""The rules of the decision guide: each answer moves the score of each approach, with a sentence saying why.

The score of an approach is :data:`PRIOR` plus the deltas of every :class:`Reason` that fired, so the
reasons shown for an option always add up to its score. ``"unknown"`` answers never score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ragft.guide.factors import UNKNOWN, Answers
from ragft.guide.lifecycle import OPEN_MODEL_SERVERS, OPENAI_FT_CLOSED_TO_NEW_USERS, OPENAI_FT_ENDS


@dataclass(frozen=True)
class Reason:
    """One rule that fired: which answer, what it does to each approach's score, and why (one sentence)."""

    factor: str  # a factor key, or "combination" / "start" for rules over several answers
    answer: str
    text: str
    deltas: Mapping[str, int]

    def delta(self, approach: str) -> int:
        return int(self.deltas.get(approach, 0))


def deltas(p: int = 0, r: int = 0, f: int = 0, h: int = 0) -> dict[str, int]:
    return {"prompting": p, "rag": r, "finetuning": f, "hybrid": h}


# Prior: with nothing known, the simplest thing wins; the hybrid carries the cost of two pipelines.
PRIOR = deltas(p=1, r=0, f=0, h=-1)
PRIOR_TEXT = (
    "Start simple: prompting is the baseline every other approach must beat, and the hybrid "
    "means running two pipelines."
)

# factor → answer → (score changes, sentence tied to the answer). "unknown" never scores.
RULES: dict[str, dict[str, tuple[dict[str, int], str]]] = {
    "change": {
        "static": (deltas(f=1), "Your knowledge rarely changes, so a fine-tune will not go stale quickly."),
        "monthly": (
            deltas(r=1, f=-1, h=1),
            "Your knowledge changes monthly, so a fine-tune would need re-training every month to stay "
            "current; re-indexing for RAG takes minutes.",
        ),
        "weekly": (
            deltas(r=3, f=-3, h=2),
            "Your knowledge changes weekly, so a fine-tune would be out of date within days; RAG reads "
            "the current documents at question time.",
        ),
        "daily": (
            deltas(p=-1, r=4, f=-4, h=3),
            "Your knowledge changes daily, so only retrieval at question time can keep up; no training schedule can.",
        ),
    },
    "knowledge": {
        "general": (
            deltas(p=2, r=-2, h=-2),
            "The model already knows what it needs, so retrieval would add cost and latency for nothing.",
        ),
        "some": (deltas(r=2, h=1), "The model needs some facts specific to you, which it cannot know by itself."),
        "proprietary": (
            deltas(p=-2, r=3, f=-1, h=3),
            "The model needs many proprietary facts: retrieval supplies them exactly, while "
            "fine-tuning memorises facts unreliably and cannot show where they came from.",
        ),
    },
    "citations": {
        "not_needed": (deltas(), "Answers need not cite sources."),
        "nice": (deltas(r=1, h=1), "Citations are welcome, and RAG answers can cite the chunks they were given."),
        "required": (
            deltas(p=-1, r=3, f=-2, h=3),
            "Answers must cite their sources: RAG can point to the retrieved passage, a fine-tuned "
            "model cannot say where a fact came from.",
        ),
    },
    "corpus_size": {
        "none": (deltas(r=-3, h=-3), "You have no documents, so there is nothing to retrieve from."),
        "small": (
            deltas(p=2, r=-1),
            "Your documents fit in one prompt: paste them into the instructions before building a retrieval pipeline.",
        ),
        "medium": (deltas(r=1, h=1), "Hundreds of pages are too many for one prompt, so they must be retrieved."),
        "large": (
            deltas(p=-2, r=2, h=2),
            "Thousands of documents need search: only the relevant chunks can go into each prompt.",
        ),
    },
    "corpus_kind": {
        "documents": (deltas(), "Text documents chunk and embed well for retrieval."),
        "structured": (
            deltas(),
            "Tables and catalogue rows retrieve best as one record per chunk (or through a SQL / "
            "tool call); the approach scores do not change.",
        ),
        "conversations": (
            deltas(f=1, h=1),
            "Past conversations are raw material for fine-tuning examples of how you answer.",
        ),
        "mixed": (deltas(), "Mixed data needs a loader per kind; the approach scores do not change."),
    },
    "behaviour": {
        "none": (deltas(p=1, f=-2, h=-2), "The default assistant style is fine, so there is no behaviour to train."),
        "light": (deltas(p=1, h=-1), "A style a prompt can describe is cheapest to get with a good prompt."),
        "brand_voice": (
            deltas(p=-1, f=3, h=3),
            "You need a consistent brand voice: fine-tuning changes how a model acts on every "
            "answer, where a prompt drifts.",
        ),
        "strict_format": (
            deltas(p=-1, f=4, h=3),
            "You need a fixed output format every time: that is behaviour, which fine-tuning "
            "teaches reliably (structured outputs / JSON mode can help prompting too).",
        ),
    },
    "examples": {
        "none": (
            deltas(f=-4, h=-3),
            "You have no labelled examples, so fine-tuning cannot start: you would have to write hundreds first.",
        ),
        "few": (
            deltas(p=1, f=-2, h=-1),
            "Under 50 examples are too few to fine-tune well, but they make good few-shot prompts.",
        ),
        "hundreds": (deltas(f=2, h=2), "Hundreds of examples are enough to fine-tune a behaviour (LoRA or hosted)."),
        "thousands": (deltas(f=3, h=3), "Thousands of examples make a strong fine-tuning set."),
    },
    "example_quality": {
        "rough": (deltas(f=-1, h=-1), "Unreviewed examples teach their mistakes too: curate before training."),
        "curated": (deltas(f=1, h=1), "Curated examples are what fine-tuning learns best from."),
    },
    "volume": {
        "low": (
            deltas(p=1, f=-1, h=-1),
            "At under 1,000 queries a month, training and evaluation costs will not pay back.",
        ),
        "medium": (deltas(), "At 1,000 to 100,000 queries a month, the per-query cost matters: see the projection."),
        "high": (
            deltas(p=-1, f=1),
            "At over 100,000 queries a month, long instructions repeated in every prompt get expensive; "
            "a fine-tune can drop them (despite its per-token premium: check the projection).",
        ),
    },
    "latency": {
        "relaxed": (deltas(), "Latency is relaxed, so retrieval's extra step does not matter."),
        "interactive": (deltas(), "Interactive latency is fine for all four approaches with a small top-k."),
        "strict": (
            deltas(r=-2, f=1, h=-2),
            "A strict latency budget leaves little room for an embedding call, a vector search and "
            "hundreds of extra context tokens per query.",
        ),
    },
    "budget": {
        "tight": (
            deltas(p=2, r=1, f=-2, h=-3),
            "A tight budget has no room for training runs, evaluation rounds and a per-token premium.",
        ),
        "moderate": (deltas(), "A moderate budget allows any approach; the running cost decides (see below)."),
        "generous": (deltas(f=1, h=1), "A generous budget can pay for training and evaluating a fine-tune."),
    },
    "privacy": {
        "cloud_ok": (deltas(), "Cloud APIs are acceptable, so any hosted model and vector store will do."),
        "sensitive": (
            deltas(r=1, f=-1),
            "Sensitive data baked into model weights cannot be deleted without re-training; in a "
            "vector store it can be filtered per user and deleted.",
        ),
        "on_prem": (
            deltas(f=-1, h=-1),
            "Everything must run on your own infrastructure: open-weights models, a local embedding "
            "model and a local vector store; fine-tuning means training and serving LoRA yourselves.",
        ),
    },
    "skills": {
        "no_code": (
            deltas(p=2, r=-1, f=-2, h=-3),
            "A prompting / no-code team can run prompting today; pipelines and training need engineers.",
        ),
        "software": (
            deltas(r=1, f=-1, h=-1),
            "Software engineers can build and run a RAG pipeline; training and evaluating models is a "
            "new skill for them.",
        ),
        "ml": (deltas(f=1, h=1), "ML engineers can curate data, train, and evaluate a fine-tune against the base."),
    },
    # "lifecycle" depends on the date: see _lifecycle_reason.
}


def lifecycle_reason(value: str, today: date) -> Reason | None:
    closed = today >= OPENAI_FT_CLOSED_TO_NEW_USERS
    ended = today >= OPENAI_FT_ENDS
    if value == "openai_new":
        if closed:
            text = (
                "You plan a new OpenAI `ft:` model, but OpenAI's self-serve fine-tuning closed to new users on "
                f"{OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d}: fine-tune an open-weights model with LoRA "
                f"instead ({OPEN_MODEL_SERVERS})."
            )
            return Reason("lifecycle", value, text, deltas(f=-3, h=-3))
        days = (OPENAI_FT_CLOSED_TO_NEW_USERS - today).days
        text = (
            "You plan a new OpenAI `ft:` model, but OpenAI's self-serve fine-tuning closes to new users on "
            f"{OPENAI_FT_CLOSED_TO_NEW_USERS:%Y-%m-%d} (in {days} days) and ends on {OPENAI_FT_ENDS:%Y-%m-%d}: "
            "a model you start now has a short future."
        )
        return Reason("lifecycle", value, text, deltas(f=-2, h=-2))
    if value == "openai_existing":
        if ended:
            text = (
                f"OpenAI's fine-tuning ended on {OPENAI_FT_ENDS:%Y-%m-%d}: your existing `ft:` models run until "
                "their base model retires, but you cannot train new ones there."
            )
            return Reason("lifecycle", value, text, deltas(f=-3, h=-3))
        days = (OPENAI_FT_ENDS - today).days
        text = (
            f"You can still train on OpenAI until {OPENAI_FT_ENDS:%Y-%m-%d} (in {days} days); after that your "
            "`ft:` models only run until their base model retires, so plan a migration to open-model LoRA."
        )
        return Reason("lifecycle", value, text, deltas(f=-1, h=-1))
    if value == "open_model":
        text = (
            "Open-weights LoRA keeps the weights in your hands, so no vendor can retire your fine-tune; you "
            f"serve it yourselves ({OPEN_MODEL_SERVERS})."
        )
        return Reason("lifecycle", value, text, deltas())
    return None


def combination_reasons(a: Answers) -> list[Reason]:
    out: list[Reason] = []
    needs_behaviour = a.behaviour in ("brand_voice", "strict_format")
    needs_current_facts = a.knowledge == "proprietary" or a.change in ("weekly", "daily")
    if needs_behaviour and needs_current_facts:
        out.append(
            Reason(
                "combination",
                "behaviour+knowledge",
                "You need both a consistent behaviour and current, specific facts: fine-tune for the behaviour "
                "and retrieve the facts. That is the hybrid.",
                deltas(h=2),
            )
        )
    return out


def conflicts_in(a: Answers) -> list[str]:
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
