"""Training examples: parsing chat JSONL / CSV / rows with line errors, validation, presets, checks, cost."""

from __future__ import annotations

import json

import pytest

from ragft.errors import ConfigError, RagftError
from ragft.training import examples as X
from ragft.training.checks import TICKET_SCHEMA, Check, check_json, infer_check, score
from ragft.training.config import TrainConfig, default_config
from ragft.training.estimate import hosted_costs, local_seconds
from ragft.training.presets import PRESETS


def chat(user, assistant, system=None):
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user},
        {"role": "assistant", "content": assistant},
    ]
    return json.dumps({"messages": msgs})


def test_jsonl_lines_parse_and_bad_lines_are_named():
    text = "\n".join(
        [
            chat("Hi", "Hello", "Be kind"),
            "{not json",
            json.dumps({"messages": [{"role": "bot", "content": "x"}, {"role": "assistant", "content": "y"}]}),
            json.dumps({"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "y"}]}),
            json.dumps({"prompt": "no messages"}),
            json.dumps({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]}),
            "",
            chat("Second", "Answer"),
        ]
    )
    examples, problems = X.parse_jsonl(text.encode())
    assert [e.prompt for e in examples] == ["Hi", "Second"]
    assert examples[0].system == "Be kind"
    wheres = [p.where for p in problems]
    assert wheres == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert "not valid JSON" in problems[0].message
    assert "role 'bot'" in problems[1].message
    assert "empty" in problems[2].message
    assert "assistant → user" in problems[4].message


def test_csv_needs_prompt_and_response_and_names_rows():
    examples, problems = X.parse_csv(b"prompt,response\nHi,Hello\n,missing prompt\nOnly prompt,\n")
    assert len(examples) == 1
    assert [str(p) for p in problems] == [
        "row 3: the prompt (user turn) is empty",
        "row 4: the response (assistant turn) is empty",
    ]
    _, problems = X.parse_csv(b"question,answer\nHi,Hello\n")
    assert problems[0].where == "row 1" and "prompt and response" in problems[0].message
    _, problems = X.parse_upload("notes.txt", b"hello")
    assert "neither chat JSONL" in problems[0].message
    _, problems = X.parse_jsonl(b"\xff\xfe\x00bad")
    assert "UTF-8" in problems[0].message


def counter(text: str) -> int:
    return len(text.split())


def test_validation_single_example_duplicates_and_length():
    one = [X.Example("Hi", "Hello")]
    report = X.validate(one, counter, 512)
    assert not report.ok
    assert "at least 5" in str(report.errors[-1])
    with pytest.raises(X.ExamplesInvalid) as err:
        report.raise_if_invalid()
    assert isinstance(err.value, RagftError) and err.value.problems

    many = [X.Example(f"q{i}", f"a{i}") for i in range(6)] + [X.Example("q1", "a1"), X.Example("Q2", "other")]
    report = X.validate(many, counter, 512)
    assert [str(p) for p in report.errors] == ["example 7: is a duplicate of example 2"]
    assert [str(p) for p in report.warnings] == ["example 8: has the same prompt as example 3"]

    long = [X.Example(f"q{i}", "word " * (600 if i == 2 else 3)) for i in range(6)]
    report = X.validate(long, counter, 512)
    assert report.errors and report.errors[0].where == "example 3" and "more than the 512" in report.errors[0].message
    assert len(report.tokens) == 6


def test_jsonl_round_trip():
    ex = [X.Example("Hi", "Hello", "sys"), X.Example("Q", "A")]
    back, problems = X.parse_jsonl(X.to_jsonl(ex))
    assert back == ex and not problems


@pytest.mark.slow  # loads the embedded model for its tokenizer
def test_presets_are_valid_and_counted_with_the_model_tokenizer():
    from ragft.training.tokenizer import count_tokens

    for key, preset in PRESETS.items():
        ex = preset.examples(preset.page_examples)
        report = X.validate(ex, count_tokens, 512)
        assert report.ok, (key, report.errors)
        assert len(ex) == preset.page_examples
        assert preset.heldout_prompts(), key
    full = PRESETS["brandvoice"].examples()
    assert len(full) == 247  # the shipped adapter's data


def test_json_check_and_inferred_checks():
    good = '{"category": "billing", "priority": "high", "summary": "Double charge"}'
    assert check_json(good, TICKET_SCHEMA).ok
    bad = check_json('{"category": "money", "priority": "high", "summary": "x"}', TICKET_SCHEMA)
    assert bad.valid_json and not bad.ok and "money" in bad.reasons[0]
    assert check_json("Sure! Here is", TICKET_SCHEMA).valid_json is False
    assert score([good, "nope"], Check("json", TICKET_SCHEMA)) == {"n": 2, "ok": 0.5, "valid_json": 0.5}
    inferred = infer_check(['{"a": 1, "b": "x"}', '{"b": "y", "a": 2}'])
    assert inferred.kind == "json" and inferred.schema.keys == ("a", "b")
    lines = infer_check(["Ranger here. A. Bye now!", "Ranger here. B. Bye now!"])
    assert lines.kind == "lines" and lines("Ranger here. C. Bye now!").ok
    assert infer_check(["one", "two"]).kind == "none"


def test_config_bounds_and_defaults():
    assert default_config(20).steps == 40 and default_config(50).steps == 100 and default_config(1).steps == 40
    assert default_config(500).steps == 120
    with pytest.raises(ConfigError, match="rank"):
        TrainConfig.from_dict({"rank": 0})
    with pytest.raises(ConfigError, match="targets"):
        TrainConfig.from_dict({"targets": ["mlp"]})
    cfg = TrainConfig.from_dict({"lr": "0.0005", "steps": "12"})
    assert cfg.lr == 0.0005 and cfg.steps == 12 and cfg.epochs(24) == 2.0


def test_cost_elsewhere_uses_the_dated_table():
    rows = hosted_costs(1_000_000, 3)
    by = {r.base_model: r for r in rows}
    assert by["gpt-4o-mini"].cost == 3 * by["gpt-4o-mini"].per_m
    assert local_seconds([100] * 20, TrainConfig(steps=20)) > local_seconds([100] * 20, TrainConfig(steps=10))
