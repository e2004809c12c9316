"""The questionnaire of the decision guide: its factors and their options, and the :class:`Answers` to it.

Every factor has an explicit ``"unknown"`` option ("Don't know"), which never moves a score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ragft.errors import RagftError

UNKNOWN = "unknown"


class GuideError(RagftError):
    """The decision guide could not do what was asked."""


class GuideInputError(GuideError):
    """An answer of the questionnaire is not one of the allowed options."""

    hint = "Pick one of the listed options (or 'Don't know')."


@dataclass(frozen=True)
class Factor:
    """One question: its key (a field of :class:`Answers`), a short label and its options in order."""

    key: str
    label: str
    group: str  # "knowledge" | "behaviour" | "operations"
    options: tuple[tuple[str, str], ...]  # (value, short label); "unknown" comes first

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.options)

    def option_label(self, value: str) -> str:
        return dict(self.options).get(value, value)


_DK = (UNKNOWN, "Don't know")

FACTORS: tuple[Factor, ...] = (
    Factor(
        "change",
        "How often does the knowledge change?",
        "knowledge",
        (
            _DK,
            ("static", "Rarely (a year or more)"),
            ("monthly", "Monthly"),
            ("weekly", "Weekly"),
            ("daily", "Daily or faster"),
        ),
    ),
    Factor(
        "knowledge",
        "What must the model know?",
        "knowledge",
        (
            _DK,
            ("general", "General knowledge it already has"),
            ("some", "Some facts specific to us"),
            ("proprietary", "Many specific, proprietary facts"),
        ),
    ),
    Factor(
        "citations",
        "Must answers cite their sources?",
        "knowledge",
        (
            _DK,
            ("not_needed", "No"),
            ("nice", "Nice to have"),
            ("required", "Required (audit, compliance)"),
        ),
    ),
    Factor(
        "corpus_size",
        "How big is the document collection?",
        "knowledge",
        (
            _DK,
            ("none", "No documents"),
            ("small", "A few pages (fits in one prompt)"),
            ("medium", "Hundreds of pages"),
            ("large", "Thousands of documents or more"),
        ),
    ),
    Factor(
        "corpus_kind",
        "What kind of data is it?",
        "knowledge",
        (
            _DK,
            ("documents", "Text documents (manuals, policies)"),
            ("structured", "Tables, catalogue, database rows"),
            ("conversations", "Past conversations or tickets"),
            ("mixed", "A mix"),
        ),
    ),
    Factor(
        "behaviour",
        "How must the model act?",
        "behaviour",
        (
            _DK,
            ("none", "Default assistant style is fine"),
            ("light", "A style a prompt can describe"),
            ("brand_voice", "A consistent brand voice"),
            ("strict_format", "A fixed output format (e.g. JSON)"),
        ),
    ),
    Factor(
        "examples",
        "Labelled examples on hand (input → ideal answer)",
        "behaviour",
        (
            _DK,
            ("none", "None"),
            ("few", "Fewer than 50"),
            ("hundreds", "50 to 1,000"),
            ("thousands", "More than 1,000"),
        ),
    ),
    Factor(
        "example_quality",
        "Quality of those examples",
        "behaviour",
        (
            _DK,
            ("rough", "Rough (unreviewed logs)"),
            ("curated", "Curated and reviewed"),
        ),
    ),
    Factor(
        "volume",
        "Query volume",
        "operations",
        (
            _DK,
            ("low", "Under 1,000 a month"),
            ("medium", "1,000 to 100,000 a month"),
            ("high", "Over 100,000 a month"),
        ),
    ),
    Factor(
        "latency",
        "Latency budget",
        "operations",
        (
            _DK,
            ("relaxed", "Seconds are fine"),
            ("interactive", "Interactive (1-2 s)"),
            ("strict", "Strict (under 0.5 s)"),
        ),
    ),
    Factor(
        "budget",
        "Budget",
        "operations",
        (
            _DK,
            ("tight", "Tight (nothing for training)"),
            ("moderate", "Moderate"),
            ("generous", "Generous"),
        ),
    ),
    Factor(
        "privacy",
        "Privacy",
        "operations",
        (
            _DK,
            ("cloud_ok", "Cloud APIs are fine"),
            ("sensitive", "Sensitive data (contracts, DPA)"),
            ("on_prem", "Must stay on our own infrastructure"),
        ),
    ),
    Factor(
        "skills",
        "Team skills",
        "operations",
        (
            _DK,
            ("no_code", "Prompting / no-code"),
            ("software", "Software engineers"),
            ("ml", "ML engineers (training, evaluation)"),
        ),
    ),
    Factor(
        "lifecycle",
        "Where would a fine-tune be trained and served?",
        "operations",
        (
            _DK,
            ("openai_new", "A new OpenAI `ft:` model (no access yet)"),
            ("openai_existing", "OpenAI, where we already fine-tune"),
            ("open_model", "Open-weights LoRA (vLLM, Ollama, ...)"),
        ),
    ),
)
FACTOR_BY_KEY: dict[str, Factor] = {f.key: f for f in FACTORS}
GROUP_LABELS = {
    "knowledge": "Knowledge: what the model needs to know",
    "behaviour": "Behaviour: how it needs to act",
    "operations": "Operations: volume, money, people, risk",
}


@dataclass(frozen=True)
class Answers:
    """The questionnaire. Every factor defaults to ``"unknown"``; any other value must be an option."""

    change: str = UNKNOWN
    knowledge: str = UNKNOWN
    citations: str = UNKNOWN
    corpus_size: str = UNKNOWN
    corpus_kind: str = UNKNOWN
    behaviour: str = UNKNOWN
    examples: str = UNKNOWN
    example_quality: str = UNKNOWN
    volume: str = UNKNOWN
    latency: str = UNKNOWN
    budget: str = UNKNOWN
    privacy: str = UNKNOWN
    skills: str = UNKNOWN
    lifecycle: str = UNKNOWN

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            factor = FACTOR_BY_KEY[f.name]
            if value not in factor.values:
                allowed = ", ".join(factor.values)
                raise GuideInputError(f"'{value}' is not an answer to '{factor.label}' (allowed: {allowed}).")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Answers:
        """Build from a mapping of factor key → value; missing keys and ``None`` mean unknown."""
        unknown_keys = sorted(set(values) - set(FACTOR_BY_KEY))
        if unknown_keys:
            raise GuideInputError(f"Unknown question(s): {', '.join(unknown_keys)}.")
        return cls(**{k: (UNKNOWN if v is None else str(v)) for k, v in values.items()})

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.as_dict().items() if v != UNKNOWN)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.as_dict().items() if v == UNKNOWN)
