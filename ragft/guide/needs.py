"""What each approach needs (data, infrastructure, skills) and what it risks, adjusted to the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ragft.guide.factors import UNKNOWN, Answers
from ragft.guide.lifecycle import OPEN_MODEL_SERVERS, lifecycle_facts


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
        data=(
            "the source documents, kept current, each with a clear source name",
            "questions with known answers to test retrieval",
        ),
        infrastructure=(
            "an embedding model",
            "a vector store (Chroma, pgvector, ...)",
            "a retrieval step in front of the LLM",
            "re-indexing when documents change",
        ),
        skills=(
            "software engineering: ingestion, chunking, retrieval tuning (top-k, thresholds)",
            "evaluating retrieval hits as well as answers",
        ),
    ),
    "finetuning": Needs(
        data=(
            "hundreds or more curated input → ideal-answer examples (JSONL)",
            "a held-out set to compare the fine-tune against the base",
        ),
        infrastructure=("a training service, or a GPU for LoRA", "hosting for the fine-tuned model"),
        skills=("dataset curation", "training and evaluation", "re-training when the base model retires"),
    ),
    "hybrid": Needs(
        data=(
            "the documents for retrieval",
            "examples of the behaviour, written with retrieved context in the "
            "prompt (the RAFT recipe), so the fine-tune learns to use the context",
        ),
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


def needs_for(approach: str, a: Answers) -> Needs:
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


def risks_for(approach: str, a: Answers, today: date) -> tuple[str, ...]:
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
