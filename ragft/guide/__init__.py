"""Decision guide: which approach fits a use case, why, what it needs, what it risks. Pure rules, no LLM.

The guide teaches one thesis: fine-tuning changes *behaviour* (tone, voice, output format), it does not
keep *knowledge* current; RAG gives access to current, specific, proprietary facts and needs an embedding
pipeline, a vector store and retrieval; the hybrid (fine-tune for the voice, retrieve the facts) is usually
strongest when both are needed; and the costs differ in kind (training + a per-token premium versus
embeddings + extra context tokens on every query).

Modules:

* :mod:`~ragft.guide.factors`: the questionnaire and :class:`Answers` (``"unknown"`` for every factor).
* :mod:`~ragft.guide.lifecycle`: dated model-lifecycle facts (OpenAI's fine-tuning shutdown).
* :mod:`~ragft.guide.rules`: the scoring table; every rule that fires carries a sentence tied to the answer.
* :mod:`~ragft.guide.needs`: what each approach needs and risks.
* :mod:`~ragft.guide.recommendation`: the know/act position and :func:`recommend`.
* :mod:`~ragft.guide.presets`: worked examples.
* :mod:`~ragft.guide.projection_prefill`: the cost projection prefilled from the answers.
* :mod:`~ragft.guide.evidence`: this session's Compare / Evaluate records as means and sentences.
* :mod:`~ragft.guide.texts`: the facilitator-editable Markdown explanations in ``assets/guide``.
* :mod:`~ragft.guide.export`: the whole recommendation as Markdown.
"""

from ragft.guide.evidence import ConfigEvidence, EvidenceSummary, summarize_evidence
from ragft.guide.export import to_markdown
from ragft.guide.factors import (
    FACTOR_BY_KEY,
    FACTORS,
    GROUP_LABELS,
    UNKNOWN,
    Answers,
    Factor,
    GuideError,
    GuideInputError,
)
from ragft.guide.lifecycle import OPENAI_FT_CLOSED_TO_NEW_USERS, OPENAI_FT_ENDS, lifecycle_facts
from ragft.guide.needs import Needs
from ragft.guide.presets import PRESET_BY_KEY, PRESETS, Preset
from ragft.guide.projection_prefill import (
    projection_defaults_from,
    projection_inputs_from,
    retrains_to_stay_current,
)
from ragft.guide.recommendation import Assessment, Position, Recommendation, position_of, recommend
from ragft.guide.rules import PRIOR, RULES, Reason
from ragft.guide.texts import (
    RESULT_TOPICS,
    GuideAssetMissing,
    GuideText,
    GuideTexts,
    load_all_guide_texts,
    load_guide_text,
    parse_guide_markdown,
)

__all__ = [
    "Answers",
    "Assessment",
    "ConfigEvidence",
    "EvidenceSummary",
    "FACTORS",
    "FACTOR_BY_KEY",
    "Factor",
    "GROUP_LABELS",
    "GuideAssetMissing",
    "GuideError",
    "GuideInputError",
    "GuideText",
    "GuideTexts",
    "Needs",
    "OPENAI_FT_CLOSED_TO_NEW_USERS",
    "OPENAI_FT_ENDS",
    "PRESETS",
    "PRESET_BY_KEY",
    "PRIOR",
    "Position",
    "Preset",
    "RESULT_TOPICS",
    "RULES",
    "Reason",
    "Recommendation",
    "UNKNOWN",
    "lifecycle_facts",
    "load_all_guide_texts",
    "load_guide_text",
    "parse_guide_markdown",
    "position_of",
    "projection_defaults_from",
    "projection_inputs_from",
    "recommend",
    "retrains_to_stay_current",
    "summarize_evidence",
    "to_markdown",
]
