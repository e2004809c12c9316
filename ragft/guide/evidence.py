"""Evidence from this session's Compare and Evaluate runs: means per configuration and plain sentences."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ragft.configs import APPROACH_CONFIG, CONFIGURATIONS
from ragft.costs.money import format_usd
from ragft.guide.factors import GuideInputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfigEvidence:
    configuration: str
    label: str
    n: int  # records of this configuration
    fact: float | None  # mean fact score in [0, 1] over records that have one
    n_fact: int
    style: float | None
    n_style: int
    cost_usd: Decimal | None  # mean cost per question
    n_cost: int


@dataclass(frozen=True)
class EvidenceSummary:
    by_config: Mapping[str, ConfigEvidence]  # only configurations with records, in CONFIGURATIONS order
    sentences: tuple[str, ...]
    n_records: int
    n_skipped: int  # records that were malformed and left out
    sources: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.by_config

    def for_approach(self, approach: str) -> ConfigEvidence | None:
        """The evidence of an approach; prompting is measured by base + prompt when that ran, else by base."""
        if approach == "prompting" and "base_prompt" in self.by_config:
            return self.by_config["base_prompt"]
        return self.by_config.get(APPROACH_CONFIG[approach])


def _score(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError("not a number") from None
    if math.isnan(x) or not 0.0 <= x <= 1.0:
        raise ValueError("outside 0..1")
    return x


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError("not an amount") from None
    if not d.is_finite() or d < 0:
        raise ValueError("negative or not finite")
    return d


def format_share(x: float) -> str:
    return f"{x:.0%}"


def _compare_sentence(what: str, metric: str, base: ConfigEvidence, other: ConfigEvidence) -> str | None:
    a = getattr(base, metric)
    b = getattr(other, metric)
    if a is None or b is None:
        return None
    name = "fact accuracy" if metric == "fact" else "style score"
    if round(b, 2) > round(a, 2):
        verb = f"raised {name} from {format_share(a)} to {format_share(b)}"
    elif round(b, 2) < round(a, 2):
        verb = f"lowered {name} from {format_share(a)} to {format_share(b)}"
    else:
        verb = f"left {name} at {format_share(a)}"
    cost = ""
    if base.cost_usd is not None and other.cost_usd is not None:
        diff = other.cost_usd - base.cost_usd
        cost = " at the same cost" if diff == 0 else f" for {format_usd(diff, signed=True)} per question"
    n = f" ({getattr(base, 'n_' + metric)} vs {getattr(other, 'n_' + metric)} answers)"
    return f"In your runs {what} {verb}{cost}{n}."


def summarize_evidence(records: object) -> EvidenceSummary:
    """Means per configuration and plain sentences from compare / evaluate records.

    A record is ``{"configuration": a key of ragft.configs.BY_KEY, "fact_score": float|None,
    "style_score": float|None, "cost_usd": Decimal|None, "source": "compare"|"evaluate"}``. Malformed
    records (unknown configuration, scores outside 0..1, negative cost) are counted in ``n_skipped``.
    """
    if records is None:
        records = ()
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise GuideInputError("The evidence must be a list of records.", hint="")
    acc: dict[str, dict[str, list]] = {c.key: {"fact": [], "style": [], "cost": [], "n": []} for c in CONFIGURATIONS}
    n_records = n_skipped = 0
    sources: set[str] = set()
    for rec in records:
        n_records += 1
        try:
            if not isinstance(rec, Mapping):
                raise ValueError("not a mapping")
            key = rec.get("configuration")
            if key not in acc:
                raise ValueError("unknown configuration")
            fact = _score(rec.get("fact_score"))
            style = _score(rec.get("style_score"))
            cost = _money(rec.get("cost_usd"))
        except ValueError as exc:
            logger.info("evidence record %d left out: %s", n_records, exc)
            n_skipped += 1
            continue
        bucket = acc[key]
        bucket["n"].append(1)
        if fact is not None:
            bucket["fact"].append(fact)
        if style is not None:
            bucket["style"].append(style)
        if cost is not None:
            bucket["cost"].append(cost)
        if rec.get("source"):
            sources.add(str(rec["source"]))

    by_config: dict[str, ConfigEvidence] = {}
    for c in CONFIGURATIONS:
        b = acc[c.key]
        if not b["n"]:
            continue
        by_config[c.key] = ConfigEvidence(
            configuration=c.key,
            label=c.label,
            n=len(b["n"]),
            fact=sum(b["fact"]) / len(b["fact"]) if b["fact"] else None,
            n_fact=len(b["fact"]),
            style=sum(b["style"]) / len(b["style"]) if b["style"] else None,
            n_style=len(b["style"]),
            cost_usd=sum(b["cost"], Decimal(0)) / len(b["cost"]) if b["cost"] else None,
            n_cost=len(b["cost"]),
        )

    sentences: list[str] = []
    base = by_config.get("base")
    pairs = (
        ("base", "base_rag", "RAG", "fact"),
        ("base", "ft", "fine-tuning", "style"),
        ("base", "ft", "fine-tuning", "fact"),
        ("base", "ft_rag", "the hybrid (fine-tune + RAG)", "fact"),
        ("base", "ft_rag", "the hybrid (fine-tune + RAG)", "style"),
        ("ft", "ft_rag", "adding RAG to the fine-tune", "fact"),
        ("base", "base_prompt", "a prompt with examples", "style"),
        ("base", "base_prompt", "a prompt with examples", "fact"),
        ("base_prompt", "ft", "fine-tuning instead of the prompt", "style"),
        ("base_prompt", "ft", "fine-tuning instead of the prompt", "fact"),
    )
    for frm, to, what, metric in pairs:
        x, y = by_config.get(frm), by_config.get(to)
        if x is None or y is None:
            continue
        s = _compare_sentence(what, metric, x, y)
        if s:
            sentences.append(s)
    if base is None and by_config:
        sentences.append("Run the base configuration too, to see what each approach adds over it.")
    return EvidenceSummary(by_config, tuple(sentences), n_records, n_skipped, tuple(sorted(sources)))
