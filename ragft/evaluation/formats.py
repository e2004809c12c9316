"""Format checks of an answer: one JSON object, optionally in a fixed flat shape (the support-ticket schema).

Used by the evaluation scorers (style ``ticket-json``) and by the training core's held-out checks, so the page, the
Evaluate page and the benchmarks score JSON answers with the same rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    valid_json: bool | None = None  # JSON checks only: parsed as a JSON object
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JsonSchema:
    """A flat JSON object: exactly these keys; optional allowed values per key; string values non-empty."""

    keys: tuple[str, ...]
    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


TICKET_SCHEMA = JsonSchema(
    keys=("category", "priority", "summary"),
    allowed={
        "category": ("billing", "shipping", "returns", "product", "account"),
        "priority": ("low", "medium", "high"),
    },
)


def strip_fence(text: str) -> str:
    """The answer without a Markdown code fence around it (models often wrap JSON in ```json ... ```)."""
    t = text.strip()
    if t.startswith("```"):
        t = t.strip("`")
        t = t[4:] if t.lower().startswith("json") else t
    return t.strip()


def check_json(answer: str, schema: JsonSchema | None) -> CheckResult:
    """Valid when the whole answer is one JSON object; schema-adherent when its keys and values fit."""
    try:
        obj: Any = json.loads(strip_fence(answer or ""))
    except json.JSONDecodeError as exc:
        return CheckResult(False, False, [f"not JSON ({exc.msg})"])
    if not isinstance(obj, dict):
        return CheckResult(False, False, ["JSON, but not an object"])
    if schema is None:
        return CheckResult(True, True)
    reasons = []
    if tuple(sorted(obj)) != tuple(sorted(schema.keys)):
        reasons.append(f"keys {sorted(obj)} instead of {sorted(schema.keys)}")
    for key, allowed in schema.allowed.items():
        if key in obj and obj[key] not in allowed:
            reasons.append(f"{key}={obj[key]!r} is not one of {', '.join(allowed)}")
    for key in schema.keys:
        if key in obj and not (isinstance(obj[key], str) and obj[key].strip()):
            reasons.append(f"{key} is not a non-empty string")
    return CheckResult(not reasons, True, reasons)
