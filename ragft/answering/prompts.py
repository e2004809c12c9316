"""Prompt assembly: the exact messages each configuration sends, with retrieved context and citations.

The same functions build the prompts of the app, the fine-tuning data (``scripts/make_scenario.py``)
and the evaluation, so that the adapter is trained on the very format it is served with.
"""

from __future__ import annotations

from collections.abc import Sequence

from ragft.knowledge.retrieved import RetrievedChunk
from ragft.settings import DEFAULT_SYSTEM_PROMPT


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
