"""One rule in one place: defaults, bounds and stage names have a single definition that the rest reads."""

from __future__ import annotations

import dataclasses

import pytest

from components.knowledge import uploader
from ragft.answering.compare import CompareError, start_comparison
from ragft.knowledge import chunking, ingest
from ragft.settings import BOUNDS, DEFAULTS, SLIDER_MAX, Settings, bound, load_settings, slider_range


def test_load_settings_without_configuration_is_the_dataclass_defaults():
    loaded = load_settings(env={}, secrets={})
    for f in dataclasses.fields(Settings):
        if f.name == "top_k":  # chosen per model pair (default_top_k): 1 for the embedded pair, like the dataclass
            assert loaded.top_k == DEFAULTS.top_k == 1
            continue
        assert getattr(loaded, f.name) == getattr(DEFAULTS, f.name), f.name


def test_every_default_is_inside_its_bound():
    for name in BOUNDS:
        if hasattr(DEFAULTS, name):
            lo, hi = bound(name)
            assert lo <= getattr(DEFAULTS, name) <= hi, name
    assert DEFAULTS.chunk_overlap < DEFAULTS.chunk_tokens


def test_sliders_offer_a_part_of_the_bound_and_the_chunker_agrees():
    for name in SLIDER_MAX:
        lo, hi = slider_range(name)
        assert (lo, hi) != bound(name) and bound(name)[0] == lo < hi <= bound(name)[1]
    assert slider_range("score_threshold") == (0, 1)
    assert (chunking.MIN_CHUNK_TOKENS, chunking.MAX_CHUNK_TOKENS) == bound("chunk_tokens")
    for size in (chunking.MIN_CHUNK_TOKENS - 1, chunking.MAX_CHUNK_TOKENS + 1):
        with pytest.raises(chunking.ChunkSettingsError, match="between 20 and 8000"):
            chunking.validate(size, 0)


@pytest.mark.parametrize(("field", "value"), [("temperature", 2.5), ("temperature", -0.1), ("max_tokens", 0)])
def test_the_comparison_refuses_what_the_bounds_refuse(field, value):
    lo, hi, label = BOUNDS[field]
    with pytest.raises(CompareError) as err:
        start_comparison("A question?", ["base"], model_for=lambda c: None, retrieve=None, **{field: value})  # type: ignore[arg-type, return-value]
    assert label in err.value.message and f"{lo:g}" in err.value.message and f"{hi:g}" in err.value.message


def test_every_ingest_stage_has_a_progress_span_and_words():
    assert set(ingest.STAGES) == set(uploader._STAGE_SPAN) == set(uploader._STAGE_TEXT)


def test_an_evaluation_records_sources_as_chunks_and_a_saved_run_keeps_them():
    from ragft.evaluation.records import EvalRecord
    from ragft.knowledge.retrieved import RetrievedChunk

    chunk = RetrievedChunk("Tent $149", "catalogue.xlsx", None, 0.91, "c1", "doc9", {"location": "Prices rows 2-9"})
    rec = EvalRecord("q1", "What does the tent cost?", "base_rag", "Base + RAG", True, answer="$149", sources=(chunk,))
    back = EvalRecord.from_dict(rec.to_dict())
    assert back.sources == (chunk,) and back.sources[0].doc_id == "doc9"
    assert back.sources[0].citation == "catalogue.xlsx Prices rows 2-9"
    hostile = rec.to_dict() | {"sources": [{"text": 5, "page": "7; DROP", "score": "x"}, "not a chunk"]}
    (only,) = EvalRecord.from_dict(hostile).sources
    assert only.text == "5" and only.page is None and only.score == 0.0


def test_one_share_rule_for_every_meter():
    from decimal import Decimal as D

    from ragft.costs.budget import BudgetStatus, share

    assert share(D("0.25"), D("1")) == 0.25 and share(D("1"), None) is None
    assert (share(D("0"), D("0")), share(D("0.01"), D("0"))) == (0.0, 1.0)  # a $0 cap: full once anything is used
    st = BudgetStatus(D("0.5"), D("0.25"), D("1"), D("2"), D("0"), D("4"))
    assert (st.workspace_fraction, st.app_fraction, st.own_fraction) == (0.75, 0.5, None)
