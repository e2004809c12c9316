"""Shared vocabulary: the four compare configurations and the four approaches of the decision guide."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Configuration:
    key: str
    label: str
    slot: str  # "base" or "finetuned": which model slot answers
    rag: bool  # whether retrieved context is added to the prompt


BASE = Configuration("base", "Base", "base", False)
BASE_RAG = Configuration("base_rag", "Base + RAG", "base", True)
FT = Configuration("ft", "Fine-tuned", "finetuned", False)
FT_RAG = Configuration("ft_rag", "Fine-tuned + RAG", "finetuned", True)
CONFIGURATIONS: tuple[Configuration, ...] = (BASE, BASE_RAG, FT, FT_RAG)
BY_KEY = {c.key: c for c in CONFIGURATIONS}

# Approaches of the decision guide and the cost projection.
APPROACHES: tuple[str, ...] = ("prompting", "rag", "finetuning", "hybrid")
APPROACH_LABELS = {
    "prompting": "Prompting only",
    "rag": "RAG",
    "finetuning": "Fine-tuning",
    "hybrid": "Hybrid (fine-tune + RAG)",
}
# Which compare configuration demonstrates each approach.
APPROACH_CONFIG = {"prompting": "base", "rag": "base_rag", "finetuning": "ft", "hybrid": "ft_rag"}
