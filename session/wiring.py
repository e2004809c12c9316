"""What a comparison or an evaluation needs from this session, built once in the script thread.

``RunWiring.build(settings, configurations, session_retriever)`` gathers the models (built here: loaded engines
live in ``st.cache_resource``, which only the script thread may fill), the retriever and its description, the
session's ledger, budget and price overrides, and the generation settings. ``run_kwargs()`` hands them to
:func:`ragft.answering.compare.start_comparison` or :func:`ragft.evaluation.run.start_evaluation`, so the
Compare and Evaluate pages start their runs with the same wiring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragft import errors as E
from ragft.answering import compare as C
from ragft.answering.fewshot import FewShot
from ragft.configs import Configuration
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.settings import Settings
from ragft.training.presets import PRESETS, adapter_fewshot, preset_fewshot
from session import keys, models
from session.prices import price_overrides
from session.spend import get_budget, get_ledger

logger = logging.getLogger(__name__)

SessionRetriever = Callable[[Settings], tuple[C.Retriever | None, str]]


def model_factory(configs: Sequence[Configuration], s: Settings) -> C.ModelFactory:
    """Build every model in the script thread (st.cache_resource needs it), errors kept per configuration.

    Embedded configurations of one slot share one engine (batched decoding, or a pool of contexts), so they
    stream at once.
    """
    built: dict[str, Any] = {}
    for cfg in configs:
        try:
            built[cfg.key] = models.chat_model(cfg.slot, s=s)
        except E.RagftError as exc:
            logger.warning("the %s model is unavailable: %s", cfg.key, exc.message)
            built[cfg.key] = exc

    def model_for(cfg: Configuration) -> Any:
        value = built[cfg.key]
        if isinstance(value, E.RagftError):
            raise value
        return value

    return model_for


@dataclass(frozen=True)
class RunWiring:
    """What a run (a comparison or an evaluation) takes from the session, plus what to show about them."""

    configurations: tuple[str, ...]
    model_for: C.ModelFactory
    retrieve: C.Retriever | None
    knowledge_base: str  # one line describing the knowledge base in use ("" when no RAG configuration runs)
    ledger: SessionLedger
    budget: Budget | None
    price_overrides: Mapping[str, Any]
    model_labels: Mapping[str, str]
    system_prompt: str | None
    max_tokens: int
    temperature: float
    top_k: int | None
    owner: str = ""  # the session's workspace id, so a run says whose it is
    fewshot: FewShot | None = None  # instructions and examples of the prompted configurations

    @classmethod
    def build(
        cls,
        s: Settings,
        config_keys: Sequence[str],
        session_retriever: SessionRetriever,
        *,
        preset: str | None = None,
    ) -> RunWiring:
        """Resolve the configurations (CompareError for bad keys) and gather the session's parts for them.

        The prompted configurations take their examples from ``preset`` (a question set made for one, such as
        the support tickets), else from the fine-tuned slot's own training set."""
        configs = C.resolve_configurations(config_keys)
        retrieve, kb_text = session_retriever(s) if any(c.rag for c in configs) else (None, "")
        fewshot = None
        if any(c.shots for c in configs):
            fewshot = preset_fewshot(preset) if preset else adapter_fewshot(s.finetuned.lora_path)
        # a question set made for a preset runs with the preset's own system prompt (what its adapter learned)
        system_prompt = PRESETS[preset].default_system if preset and preset != "brandvoice" else s.system_prompt
        return cls(
            configurations=tuple(c.key for c in configs),
            model_for=model_factory(configs, s),
            retrieve=retrieve,
            knowledge_base=kb_text,
            ledger=get_ledger(),
            budget=get_budget(s),
            price_overrides=price_overrides(s),
            model_labels={"base": s.base.label, "finetuned": s.finetuned.label},
            system_prompt=system_prompt,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_k=s.top_k,
            owner=keys.workspace_id(),
            fewshot=fewshot,
        )

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``start_comparison`` / ``start_evaluation`` (and ``run_evaluation``)."""
        return {
            "model_for": self.model_for,
            "retrieve": self.retrieve,
            "ledger": self.ledger,
            "budget": self.budget,
            "system_prompt": self.system_prompt,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_k": self.top_k,
            "price_overrides": dict(self.price_overrides),
            "model_labels": dict(self.model_labels),
            "owner": self.owner,
            "fewshot": self.fewshot,
        }
