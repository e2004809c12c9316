"""Cost projection prefilled from the answers, fed to the real cost engine (ragft.costs.projection)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from ragft.guide import (
    PRESET_BY_KEY,
    Answers,
    projection_defaults_from,
    projection_inputs_from,
    retrains_to_stay_current,
)

projection = pytest.importorskip("ragft.costs.projection")


def test_unknown_answers_keep_the_engine_defaults_except_volume():
    assert projection_defaults_from(Answers()) == {"queries_per_month": 5_000}
    inputs = projection_inputs_from(Answers())
    assert inputs == projection.ProjectionInputs(queries_per_month=5_000)


def test_answers_prefill_volume_corpus_changes_examples_and_style():
    a = Answers(volume="high", corpus_size="large", change="weekly", examples="thousands", behaviour="brand_voice")
    inputs = projection_inputs_from(a)
    assert inputs.queries_per_month == 300_000
    assert inputs.corpus_tokens == 10_000_000
    assert inputs.reindexes_per_month == pytest.approx(4.33)
    assert inputs.training_tokens == 3_000 * 300
    assert inputs.style_prompt_tokens == 500
    assert set(projection_defaults_from(a)) <= {f.name for f in fields(projection.ProjectionInputs)}


def test_volume_drives_the_monthly_totals():
    low = projection.project_monthly(projection_inputs_from(Answers(volume="low")))
    high = projection.project_monthly(projection_inputs_from(Answers(volume="high")))
    for k in ("prompting", "rag", "finetuning", "hybrid"):
        assert high[k].total > low[k].total
    # RAG pays for the extra context on every query: more than prompting at the same volume.
    assert high["rag"].total > high["prompting"].total


def test_keeping_a_fine_tune_current_with_weekly_changes_costs_more():
    a = PRESET_BY_KEY["catalogue"].answers
    assert retrains_to_stay_current(a) == pytest.approx(4.33)
    assert retrains_to_stay_current(Answers(change="static")) is None
    inputs = projection_inputs_from(a)
    from dataclasses import replace

    normal = projection.project_monthly(inputs)["finetuning"]
    current = projection.project_monthly(replace(inputs, retrains_per_month=retrains_to_stay_current(a)))["finetuning"]
    assert current.training > normal.training * 10
