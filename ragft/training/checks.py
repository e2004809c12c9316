"""Held-out checks of a trained behaviour: a fixed JSON shape, or fixed opening/closing lines (a voice).

Each check turns one answer into a :class:`CheckResult` (``ok`` plus the reasons it failed), so the page and
the benchmarks score base and adapter with the same rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragft.evaluation.formats import TICKET_SCHEMA, CheckResult, JsonSchema, check_json, strip_fence
from ragft.evaluation.style import check_style

__all__ = ["TICKET_SCHEMA", "Check", "CheckResult", "JsonSchema", "check_json", "infer_check"]


def check_lines(answer: str, first: str, last: str) -> CheckResult:
    """A voice with a fixed opening and closing (e.g. ``Ranger Rowan here.`` … ``Happy trails!``)."""
    text = (answer or "").strip()
    reasons = []
    if not text.startswith(first):
        reasons.append(f"does not open with {first!r}")
    if not text.endswith(last):
        reasons.append(f"does not close with {last!r}")
    return CheckResult(not reasons, None, reasons)


def check_brand_voice(answer: str) -> CheckResult:
    r = check_style(answer)
    return CheckResult(r.ok, None, list(r.reasons))


@dataclass(frozen=True)
class Check:
    """How a held-out answer is scored: ``kind`` is "json", "lines", "brand" or "none"."""

    kind: str
    schema: JsonSchema | None = None
    first: str = ""
    last: str = ""

    @property
    def label(self) -> str:
        return {
            "json": "JSON validity and schema",
            "lines": "voice (opening and closing)",
            "brand": "brand voice (ragft.evaluation.style)",
            "none": "no automatic check",
        }[self.kind]

    def __call__(self, answer: str) -> CheckResult:
        if self.kind == "json":
            return check_json(answer, self.schema)
        if self.kind == "lines":
            return check_lines(answer, self.first, self.last)
        if self.kind == "brand":
            return check_brand_voice(answer)
        return CheckResult(False, None, ["no automatic check for these examples"])


def infer_check(responses: Sequence[str]) -> Check:
    """A check that fits a person's own examples: every response a JSON object → same keys; every response
    opening and closing with the same words → those lines; else none."""
    resp = [r.strip() for r in responses if r and r.strip()]
    if not resp:
        return Check("none")
    objs = []
    for r in resp:
        try:
            obj = json.loads(strip_fence(r))
        except json.JSONDecodeError:
            break
        if not isinstance(obj, dict):
            break
        objs.append(obj)
    else:
        keys = tuple(sorted(set.intersection(*(set(o) for o in objs))))
        same = all(tuple(sorted(o)) == keys for o in objs)
        return Check("json", JsonSchema(keys) if same and keys else None)
    first = _common(r.split()[:3] for r in resp)
    last = _common(list(reversed(r.split()))[:3] for r in resp)
    if first and last:
        return Check("lines", first=" ".join(first), last=" ".join(reversed(last)))
    return Check("none")


def _common(word_lists) -> list[str]:
    lists = list(word_lists)
    out: list[str] = []
    for words in zip(*lists):
        if all(w == words[0] for w in words):
            out.append(words[0])
        else:
            break
    return out if len(lists) > 1 else []


def score(answers: Sequence[str], check: Callable[[str], CheckResult]) -> dict[str, float | int]:
    """Share of answers passing ``check`` (and, for JSON, parsing at all)."""
    results = [check(a) for a in answers]
    n = len(results) or 1
    out: dict[str, float | int] = {"n": len(results), "ok": sum(r.ok for r in results) / n}
    if any(r.valid_json is not None for r in results):
        out["valid_json"] = sum(bool(r.valid_json) for r in results) / n
    return out


def check_to_dict(check: Check) -> dict[str, Any]:
    schema = (
        None
        if check.schema is None
        else {"keys": list(check.schema.keys), "allowed": {k: list(v) for k, v in check.schema.allowed.items()}}
    )
    return {"kind": check.kind, "schema": schema, "first": check.first, "last": check.last}


def check_from_dict(data: Mapping[str, Any]) -> Check:
    s = data.get("schema")
    schema = None if not s else JsonSchema(tuple(s["keys"]), {k: tuple(v) for k, v in s.get("allowed", {}).items()})
    return Check(str(data.get("kind", "none")), schema, str(data.get("first", "")), str(data.get("last", "")))
