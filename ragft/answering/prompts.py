"""Prompt assembly: the exact messages each configuration sends, with retrieved context and citations.

The same functions build the prompts of the app, the fine-tuning data (``scripts/make_scenario.py``)
and the evaluation, so that the adapter is trained on the very format it is served with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant for a shop. Answer the customer's question."


@dataclass(frozen=True)
class RetrievedChunk:
    """One chunk returned by retrieval: what the model saw and where it came from."""

    text: str
    source: str  # file name
    page: int | None = None  # 1-based page, None for formats without pages
    score: float = 0.0  # similarity in [0, 1], higher is closer
    chunk_id: str = ""
    doc_id: str = ""
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def citation(self) -> str:
        location = self.metadata.get("location") if self.metadata else None
        if location:  # "slide 3", "Prices rows 2-9", "§ Returns" (formats without PDF pages)
            return f"{self.source} {location}"
        return f"{self.source} p.{self.page}" if self.page else self.source


def format_context(chunks: Sequence[RetrievedChunk]) -> str:
    """Numbered context block: ``[1] (catalogue.pdf p.2) text``."""
    return "\n\n".join(f"[{i}] ({c.citation}) {c.text.strip()}" for i, c in enumerate(chunks, 1))


def build_user_prompt(question: str, chunks: Sequence[RetrievedChunk] | None = None) -> str:
    question = question.strip()
    if not chunks:
        return question
    return f"Context:\n{format_context(chunks)}\n\nQuestion: {question}"


def build_messages(
    question: str,
    chunks: Sequence[RetrievedChunk] | None = None,
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
) -> list[dict[str, str]]:
    """Chat messages in OpenAI format. No chunks → the plain (non-RAG) prompt."""
    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": build_user_prompt(question, chunks)})
    return messages
