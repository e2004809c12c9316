"""Table-driven tests of the decision guide's rules (ragft.guide.recommend): pure, no Streamlit, no LLM."""

from __future__ import annotations

from datetime import date

import pytest

from ragft.configs import APPROACHES
from ragft.guide import (
    FACTORS,
    OPENAI_FT_CLOSED_TO_NEW_USERS,
    OPENAI_FT_ENDS,
    PRESETS,
    PRIOR,
    Answers,
    GuideInputError,
    position_of,
    recommend,
)

TODAY = date(2026, 11, 24)  # after OpenAI closed fine-tuning to new users, before it ends for everyone

# (id, answers, expected best, a phrase one of the best option's reasons must contain, conflicts expected)
CASES = [
    ("fast-changing catalogue -> RAG", dict(change="weekly", knowledge="proprietary"), "rag", "changes weekly", False),
    (
        "daily prices with required citations -> RAG",
        dict(change="daily", knowledge="proprietary", citations="required", corpus_size="large"),
        "rag",
        "cite their sources",
        False,
    ),
    (
        "fixed JSON format + stable knowledge -> fine-tuning",
        dict(behaviour="strict_format", change="static", knowledge="general", examples="hundreds"),
        "finetuning",
        "fixed output format",
        False,
    ),
    (
        "brand voice + current catalogue -> hybrid",
        dict(behaviour="brand_voice", knowledge="proprietary", change="weekly", examples="hundreds"),
        "hybrid",
        "That is the hybrid",
        False,
    ),
    (
        "little data + low volume -> prompting",
        dict(corpus_size="small", examples="few", volume="low"),
        "prompting",
        "fit in one prompt",
        False,
    ),
    (
        "brand voice, stable general knowledge, curated examples -> fine-tuning",
        dict(
            behaviour="brand_voice",
            knowledge="general",
            change="static",
            examples="thousands",
            example_quality="curated",
        ),
        "finetuning",
        "brand voice",
        False,
    ),
    (
        "brand voice + catalogue but no examples -> RAG first",
        dict(behaviour="brand_voice", knowledge="proprietary", change="weekly", examples="none"),
        "rag",
        "changes weekly",
        True,
    ),
    (
        "brand voice wanted, tight budget and a no-code team -> prompting",
        dict(behaviour="brand_voice", budget="tight", skills="no_code"),
        "prompting",
        "no-code",
        False,
    ),
    (
        "strict latency, high volume, fixed format -> fine-tuning",
        dict(behaviour="strict_format", change="static", latency="strict", volume="high", examples="thousands"),
        "finetuning",
        "fixed output format",
        False,
    ),
    (
        "on-premises, proprietary documents -> RAG",
        dict(privacy="on_prem", knowledge="proprietary", corpus_size="medium", skills="software"),
        "rag",
        "proprietary facts",
        False,
    ),
    (
        "sensitive data, large corpus, citations -> RAG",
        dict(privacy="sensitive", corpus_size="large", citations="required"),
        "rag",
        "cite",
        False,
    ),
    (
        "contradictory: general knowledge that changes daily",
        dict(knowledge="general", change="daily"),
        "prompting",
        "already knows",
        True,
    ),
    (
        "contradictory: proprietary facts but no documents",
        dict(knowledge="proprietary", corpus_size="none", citations="required"),
        "rag",
        "nothing to retrieve",
        True,
    ),
    (
        "past tickets + strict format + ML team -> fine-tuning",
        dict(corpus_kind="conversations", behaviour="strict_format", skills="ml", examples="hundreds"),
        "finetuning",
        "fixed output format",
        False,
    ),
]


@pytest.mark.parametrize("answers,best,phrase,conflicted", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_table(answers, best, phrase, conflicted):
    rec = recommend(Answers(**answers), TODAY)
    assert rec.best == best, dict(rec.scores)
    texts = " ".join(r.text for r in rec.why()) + " " + " ".join(r.text for r in rec.reasons)
    assert phrase in texts, texts
    assert bool(rec.conflicts) is conflicted, rec.conflicts
    if conflicted:
        assert rec.confidence == "low"


def test_the_cases_reach_every_approach_and_every_factor():
    assert {best for _, _, best, _, _ in CASES} == set(APPROACHES)
    exercised = {key for _, answers, _, _, _ in CASES for key, value in answers.items() if value != "unknown"}
    exercised.add("lifecycle")  # depends on the date: the lifecycle tests below
    assert exercised == {f.key for f in FACTORS}, {f.key for f in FACTORS} - exercised


def test_all_unknown_recommends_prompting_with_low_confidence():
    rec = recommend(Answers(), TODAY)
    assert rec.best == "prompting"
    assert rec.confidence == "low"
    assert rec.answered == 0
    assert rec.reasons == ()  # no answer fired a rule ...
    assert [r.factor for r in rec.why()] == ["start"]  # ... and the page still has a reason to show
    assert "Nothing answered yet" in rec.summary()
    assert dict(rec.scores) == PRIOR
    assert position_of(Answers()).context == 0.5 and not position_of(Answers()).context_known


def test_scores_are_exactly_prior_plus_reasons():
    for preset in PRESETS:
        rec = recommend(preset.answers, TODAY)
        for k in APPROACHES:
            assert rec.scores[k] == PRIOR[k] + sum(r.delta(k) for r in rec.reasons)
            a = rec.assessments[k]
            assert all(r.delta(k) > 0 for r in a.reasons_for)
            assert all(r.delta(k) < 0 for r in a.reasons_against)


@pytest.mark.parametrize(
    "key,best", [("catalogue", "rag"), ("json", "finetuning"), ("brand", "hybrid"), ("small", "prompting")]
)
def test_presets_land_in_their_quadrant(key, best):
    preset = next(p for p in PRESETS if p.key == key)
    rec = recommend(preset.answers, TODAY)
    assert rec.best == best
    assert rec.position.quadrant == best
    assert rec.confidence == "high"
    assert not rec.conflicts


def test_answering_more_changes_the_recommendation_and_its_reasons():
    first = recommend(Answers(change="weekly", knowledge="proprietary"), TODAY)
    second = recommend(
        Answers(change="weekly", knowledge="proprietary", behaviour="brand_voice", examples="hundreds"), TODAY
    )
    assert (first.best, second.best) == ("rag", "hybrid")
    assert {r.factor for r in second.why()} - {r.factor for r in first.why()} >= {"behaviour", "examples"}


def test_why_not_runner_up_lists_only_reasons_that_separate_them():
    rec = recommend(
        Answers(behaviour="brand_voice", knowledge="proprietary", change="weekly", examples="hundreds"), TODAY
    )
    assert rec.runner_up == "rag"
    why_not = rec.why_not("rag")
    assert why_not and all(r.delta("hybrid") > r.delta("rag") for r in why_not)
    assert "knowledge" not in {r.factor for r in why_not}  # proprietary facts favour both equally


# ---- lifecycle: the date is an argument ------------------------------------------------------------------
JSON_CASE = dict(behaviour="strict_format", change="static", knowledge="general", examples="hundreds")


def test_planning_a_new_openai_ft_model_after_closure_is_penalised_and_explained():
    new = recommend(Answers(**JSON_CASE, lifecycle="openai_new"), TODAY)
    own = recommend(Answers(**JSON_CASE, lifecycle="open_model"), TODAY)
    assert own.scores["finetuning"] - new.scores["finetuning"] == 3
    text = next(r.text for r in new.reasons if r.factor == "lifecycle")
    assert "closed to new users on 2026-05-07" in text and "LoRA" in text
    assert any(r.factor == "lifecycle" for r in new.assessments["finetuning"].reasons_against)


def test_lifecycle_wording_follows_the_date():
    before = recommend(Answers(**JSON_CASE, lifecycle="openai_new"), date(2026, 5, 1))
    text = next(r.text for r in before.reasons if r.factor == "lifecycle")
    assert "closes to new users on 2026-05-07 (in 6 days)" in text
    existing_now = recommend(Answers(**JSON_CASE, lifecycle="openai_existing"), date(2026, 12, 27))
    assert "until 2027-01-06 (in 10 days)" in existing_now.reasons[-1].text
    existing_after = recommend(Answers(**JSON_CASE, lifecycle="openai_existing"), date(2027, 2, 1))
    assert "ended on 2027-01-06" in existing_after.reasons[-1].text
    assert existing_after.scores["finetuning"] < existing_now.scores["finetuning"]
    assert "ended for everyone on 2027-01-06" in existing_after.lifecycle[0]
    assert "ends for everyone on 2027-01-06 (in 10 days)" in existing_now.lifecycle[0]
    assert OPENAI_FT_CLOSED_TO_NEW_USERS < OPENAI_FT_ENDS


def test_fine_tuning_risks_carry_the_lifecycle_fact_when_the_platform_is_openai_or_unknown():
    rec = recommend(Answers(**JSON_CASE), TODAY)
    assert any("closed to new users" in r for r in rec.assessments["finetuning"].risks)
    assert any("dies with its base model" in r for r in rec.assessments["finetuning"].risks)
    own = recommend(Answers(**JSON_CASE, lifecycle="open_model"), TODAY)
    assert not any("closed to new users" in r for r in own.assessments["finetuning"].risks)


def test_on_prem_with_openai_fine_tuning_is_a_conflict_and_changes_the_needs():
    rec = recommend(Answers(privacy="on_prem", lifecycle="openai_existing", knowledge="proprietary"), TODAY)
    assert any("leave your premises" in c for c in rec.conflicts)
    infra = " ".join(rec.assessments["rag"].needs.infrastructure)
    assert "open-weights models on your own servers" in infra and "local embedding model" in infra


# ---- axes ---------------------------------------------------------------------------------------------------
def test_position_moves_along_both_axes():
    knows = position_of(Answers(knowledge="proprietary", change="daily"))
    acts = position_of(Answers(behaviour="strict_format", knowledge="general"))
    assert knows.context > 0.8 and knows.behaviour == 0.5 and not knows.behaviour_known
    assert acts.behaviour == 0.9 and acts.context < 0.2
    assert position_of(Answers(knowledge="general", behaviour="none")).quadrant == "prompting"


# ---- bad input ------------------------------------------------------------------------------------------------
def test_invalid_answers_raise_a_typed_error_with_a_message():
    with pytest.raises(GuideInputError) as exc:
        Answers(change="hourly")
    assert "hourly" in exc.value.message and "weekly" in exc.value.message
    with pytest.raises(GuideInputError):
        Answers.from_mapping({"colour": "blue"})
    assert Answers.from_mapping({"change": None, "volume": "low"}) == Answers(volume="low")
    with pytest.raises(GuideInputError):
        recommend({"change": "weekly"}, TODAY)  # type: ignore[arg-type]
    with pytest.raises(GuideInputError):
        recommend(Answers(), "2026-11-24")  # type: ignore[arg-type]


def test_every_factor_offers_unknown_first_and_is_a_field():
    assert {f.key for f in FACTORS} == set(Answers().as_dict())
    assert all(f.values[0] == "unknown" for f in FACTORS)
