"""Monthly projections of the four approaches, and their break-even points (figures worked by hand)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from ragft.costs.projection import (
    ProjectionInputError,
    ProjectionInputs,
    break_even_points,
    cheapest,
    cost_curve,
    default_volumes,
    inputs_from_mapping,
    project_monthly,
)
from ragft.errors import RagftError


def test_defaults_by_hand():
    # gpt-4o-mini $0.15/$0.60, ft $0.30/$1.20, text-embedding-3-small $0.02, training $3 per 1M.
    m = project_monthly(ProjectionInputs(queries_per_month=10_000))
    # prompting: 10k x (80 x .15 + 150 x .6) µ$ = 10k x 102 µ$
    assert m["prompting"].total == D("1.02") and m["prompting"].fixed == 0
    # rag: inference 10k x (680 x .15 + 90) µ$ = 1.92; embeddings: 200k x 4 x .02 µ$ = 0.016 + 10k x 80 x .02 µ$ = 0.016
    assert m["rag"].inference == D("1.92") and m["rag"].embeddings == D("0.032") and m["rag"].total == D("1.952")
    # finetuning: 10k x (80 x .3 + 150 x 1.2) µ$ = 2.04; training 300k x 3 x $3/1M = $2.70 per run x 0.25/month
    assert m["finetuning"].inference == D("2.04") and m["finetuning"].training == D("0.675")
    assert m["finetuning"].setup == D("2.7") and m["finetuning"].total == D("2.715")
    # hybrid: 10k x (680 x .3 + 180) µ$ = 3.84 + embeddings 0.032 + training 0.675
    assert m["hybrid"].total == D("4.547")
    assert all(x.complete for x in m.values())


def test_curve_is_the_line_fixed_plus_per_query():
    inputs = ProjectionInputs(queries_per_month=1000)
    curve = cost_curve(inputs, [0, 1000, 1_000_000])
    lines = project_monthly(inputs)
    for a, values in curve.items():
        assert values[0] == lines[a].fixed
        assert values[1] == lines[a].total
        assert values[2] == lines[a].fixed + lines[a].per_query * 1_000_000


def test_no_break_even_when_finetuning_only_adds_cost():
    # Without a style prompt to replace, ft costs more per query AND has training: it never wins.
    inputs = ProjectionInputs(queries_per_month=1000)
    assert not [b for b in break_even_points(inputs, [1, 10**8]) if "finetuning" in (b.a, b.b)]
    assert cheapest(inputs) == "prompting"


def test_break_even_when_finetuning_replaces_a_long_prompt():
    inputs = ProjectionInputs(queries_per_month=1000, style_prompt_tokens=1500)
    points = {(b.a, b.b): b for b in break_even_points(inputs, [1, 10**8])}
    be = points[("prompting", "finetuning")]
    # prompting per query: 1580 x .15 + 90 = 327 µ$; ft: 204 µ$; ft fixed 0.675 → Q = 0.675 / 123e-6
    assert abs(be.queries_per_month - D("5487.80487804878")) < D("0.001")
    assert be.cheaper_below == "prompting" and be.cheaper_above == "finetuning"
    lines = project_monthly(inputs)
    q = be.queries_per_month
    assert abs(lines["prompting"].at(q) - lines["finetuning"].at(q)) < D("1e-15")
    assert lines["prompting"].at(q * D("0.9")) < lines["finetuning"].at(q * D("0.9"))
    assert lines["prompting"].at(q * D("1.1")) > lines["finetuning"].at(q * D("1.1"))
    assert cheapest(ProjectionInputs(queries_per_month=100, style_prompt_tokens=1500)) == "prompting"
    assert cheapest(ProjectionInputs(queries_per_month=100_000, style_prompt_tokens=1500)) == "finetuning"
    # outside the volume range → not reported
    assert ("prompting", "finetuning") not in {(b.a, b.b) for b in break_even_points(inputs, [10, 1000])}


def test_more_reindexing_or_retraining_raises_fixed_cost_only():
    a = project_monthly(ProjectionInputs(queries_per_month=5000))
    b = project_monthly(ProjectionInputs(queries_per_month=5000, reindexes_per_month=30, retrains_per_month=1))
    assert b["rag"].fixed > a["rag"].fixed and b["rag"].per_query == a["rag"].per_query
    assert b["finetuning"].training == 4 * a["finetuning"].training
    assert b["prompting"] == a["prompting"]


def test_local_models_cost_nothing_and_unknown_is_flagged():
    local = ProjectionInputs(
        queries_per_month=10_000,
        base_model="smollm2-135m-instruct",
        finetuned_model="smollm2-135m-brandvoice-lora",
        embedding_model="all-MiniLM-L6-v2",
        provider="embedded",
        embedding_provider="local",
    )
    m = project_monthly(local)
    assert all(x.total == 0 and x.complete for x in m.values())
    unknown = project_monthly(ProjectionInputs(queries_per_month=10, finetuned_model="ft:acme-model"))
    # the training price still comes from the base model (gpt-4o-mini), the ft inference price does not
    assert unknown["finetuning"].unknown == ("inference",) and unknown["hybrid"].unknown == ("inference",)
    nothing = project_monthly(ProjectionInputs(queries_per_month=10, base_model="acme", finetuned_model="ft:acme"))
    assert nothing["hybrid"].unknown == ("inference", "training") and nothing["rag"].unknown == ("inference",)
    assert unknown["prompting"].complete
    assert not [
        b
        for b in break_even_points(
            ProjectionInputs(queries_per_month=10, finetuned_model="ft:acme-model", style_prompt_tokens=5000),
            [1, 10**9],
        )
        if "finetuning" in (b.a, b.b)
    ]


def test_overrides_reach_the_projection():
    inputs = ProjectionInputs(queries_per_month=1_000_000)
    m = project_monthly(inputs, overrides={"gpt-4o-mini": ("1", "1")})
    assert m["prompting"].total == D("230")  # 1M x 230 tokens x $1/1M


@pytest.mark.parametrize(
    "field",
    [
        "queries_per_month",
        "context_tokens",
        "epochs",
        "reindexes_per_month",
        "retrains_per_month",
        "style_prompt_tokens",
    ],
)
def test_negative_inputs_are_refused_with_a_typed_error(field):
    with pytest.raises(ProjectionInputError) as err:
        project_monthly(replace(ProjectionInputs(queries_per_month=10), **{field: -1}))
    assert isinstance(err.value, RagftError) and field in err.value.message and err.value.hint


def test_inputs_from_mapping_ignores_other_keys():
    inputs = inputs_from_mapping({"queries_per_month": 7, "corpus_tokens": 5, "not_an_input": 1})
    assert inputs == ProjectionInputs(queries_per_month=7, corpus_tokens=5)


def test_default_volumes():
    v = default_volumes(1000)
    assert v[0] == 10 and v[-1] == 100_000 and v == sorted(set(v))
