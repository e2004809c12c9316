"""Worked examples of the questionnaire, for workshops; also the guide's canonical test cases."""

from __future__ import annotations

from dataclasses import dataclass

from ragft.guide.factors import Answers


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    story: str
    answers: Answers


PRESETS: tuple[Preset, ...] = (
    Preset(
        "catalogue",
        "Shop assistant, prices change weekly",
        "A shop's assistant answers about products whose prices and stock change every week.",
        Answers(
            change="weekly",
            knowledge="proprietary",
            citations="nice",
            corpus_size="medium",
            corpus_kind="structured",
            behaviour="light",
            examples="few",
            volume="medium",
            latency="interactive",
            budget="moderate",
            privacy="cloud_ok",
            skills="software",
        ),
    ),
    Preset(
        "json",
        "Ticket triage into a fixed JSON",
        "Support tickets are classified into a fixed JSON schema; the categories have not changed in years.",
        Answers(
            change="static",
            knowledge="general",
            citations="not_needed",
            corpus_size="none",
            corpus_kind="conversations",
            behaviour="strict_format",
            examples="thousands",
            example_quality="curated",
            volume="high",
            latency="strict",
            budget="moderate",
            privacy="cloud_ok",
            skills="ml",
            lifecycle="open_model",
        ),
    ),
    Preset(
        "brand",
        "Brand-voice assistant on a live catalogue",
        "A retailer wants answers in its brand voice about a catalogue that changes weekly.",
        Answers(
            change="weekly",
            knowledge="proprietary",
            citations="nice",
            corpus_size="medium",
            corpus_kind="documents",
            behaviour="brand_voice",
            examples="hundreds",
            example_quality="curated",
            volume="medium",
            latency="interactive",
            budget="moderate",
            privacy="cloud_ok",
            skills="ml",
            lifecycle="open_model",
        ),
    ),
    Preset(
        "small",
        "Small team, a few pages, low volume",
        "A small office wants help answering questions about a 5-page handbook, a few times a day.",
        Answers(
            change="static",
            knowledge="some",
            corpus_size="small",
            corpus_kind="documents",
            behaviour="none",
            examples="few",
            volume="low",
            latency="relaxed",
            budget="tight",
            privacy="cloud_ok",
            skills="no_code",
        ),
    ),
)
PRESET_BY_KEY = {p.key: p for p in PRESETS}
