"""Shared vocabulary: the compare configurations and the four approaches of the decision guide.

The four of the thesis (base, base + RAG, fine-tuned, fine-tuned + RAG) plus the prompting baselines: the base
model with instructions and k examples from the fine-tune's own training set (``shots="first"``), with and
without RAG, and with the k *nearest* labelled examples retrieved for each question (``shots="nearest"``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Configuration:
    key: str
    label: str
    slot: str  # "base" or "finetuned": which model slot answers
    rag: bool  # whether retrieved context is added to the prompt
    shots: str = ""  # "" none; "first": instructions + the first k training examples; "nearest": the k nearest


BASE = Configuration("base", "Base", "base", False)
BASE_RAG = Configuration("base_rag", "Base + RAG", "base", True)
FT = Configuration("ft", "Fine-tuned", "finetuned", False)
FT_RAG = Configuration("ft_rag", "Fine-tuned + RAG", "finetuned", True)
BASE_PROMPT = Configuration("base_prompt", "Base + prompt", "base", False, "first")
BASE_PROMPT_RAG = Configuration("base_prompt_rag", "Base + prompt + RAG", "base", True, "first")
BASE_NEAREST = Configuration("base_nearest", "Base + nearest examples", "base", False, "nearest")
THESIS: tuple[Configuration, ...] = (BASE, BASE_RAG, FT, FT_RAG)  # the default selection of Compare and Evaluate
PROMPTED: tuple[Configuration, ...] = (BASE_PROMPT, BASE_PROMPT_RAG, BASE_NEAREST)
CONFIGURATIONS: tuple[Configuration, ...] = THESIS + PROMPTED
BY_KEY = {c.key: c for c in CONFIGURATIONS}
SHOT_MODES = ("first", "nearest")

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
