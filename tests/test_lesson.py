"""The lesson's core: prompted configurations (instructions + k training examples), per-field classification
scores with Wilson intervals and a confusion table, and the examples-vs-training break-even."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

from ragft.answering.fewshot import FewShot, FewShotError, Shot, build_prompted_messages, nearest
from ragft.configs import BY_KEY, CONFIGURATIONS, THESIS
from ragft.costs.projection import ProjectionInputError, ProjectionInputs, examples_break_even
from ragft.evaluation import (
    EvalRecord,
    compare_records,
    confusion,
    field_accuracy,
    json_validity,
    parse_question_set,
    preset_of,
    tickets_question_set,
)
from ragft.evaluation.fields import MISSING, NO_JSON, predicted_fields
from ragft.evaluation.paired import metric_name, metrics_for
from ragft.evaluation.stats import wilson
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.training.examples import read_jsonl_file
from ragft.training.presets import PRESETS, adapter_fewshot, preset_fewshot, preset_for_adapter


def test_prompted_configurations_are_in_the_table_and_use_the_base_slot():
    assert [c.key for c in THESIS] == ["base", "base_rag", "ft", "ft_rag"]
    for key, rag, shots in (
        ("base_prompt", False, "first"),
        ("base_prompt_rag", True, "first"),
        ("base_nearest", False, "nearest"),
    ):
        cfg = BY_KEY[key]
        assert cfg in CONFIGURATIONS and cfg.slot == "base" and cfg.rag is rag and cfg.shots == shots


def test_prompt_has_instructions_and_k_shots_from_the_training_set():
    fs = preset_fewshot("tickets", k=5)
    train = read_jsonl_file(PRESETS["tickets"].data)
    pairs = {(e.prompt, e.response) for e in train}
    chunk = RetrievedChunk(text="Returns within 30 days.", source="returns.pdf", page=1)
    msgs = build_prompted_messages("My tent arrived torn.", [chunk], "SYSTEM", fs, "first")
    assert msgs[0]["role"] == "system" and msgs[0]["content"].startswith("SYSTEM")
    assert PRESETS["tickets"].instructions in msgs[0]["content"]
    turns = msgs[1:-1]
    assert len(turns) == 10 and [m["role"] for m in turns] == ["user", "assistant"] * 5
    shots = [(turns[i]["content"], turns[i + 1]["content"]) for i in range(0, 10, 2)]
    assert all(s in pairs for s in shots)
    assert shots == [(e.prompt, e.response) for e in train[:5]]
    assert msgs[-1]["role"] == "user" and "Returns within 30 days." in msgs[-1]["content"]
    assert msgs[-1]["content"].endswith("Question: My tent arrived torn.")


def test_nearest_examples_are_the_most_similar_last():
    shots = (Shot("refund charged twice", "a"), Shot("colour of the tent", "b"), Shot("charged twice card", "c"))
    picked = nearest("I was charged twice", shots, 2)
    assert {s.answer for s in picked} == {"a", "c"}
    fs = FewShot("x", shots, k=1)
    assert fs.pick("what colour is the tent", "nearest") == (shots[1],)
    assert fs.pick("anything", "first") == (shots[0],)


def test_fewshot_bad_input_is_a_typed_error():
    with pytest.raises(FewShotError):
        FewShot("x", (), k=2)
    with pytest.raises(FewShotError):
        FewShot("x", (Shot("a", "b"),), k=0)
    with pytest.raises(FewShotError):
        FewShot("x", (Shot("a", "b"),)).pick("q", "random")


def test_examples_come_from_the_adapters_own_training_set(tmp_path):
    assert preset_for_adapter("default") == "brandvoice"
    assert preset_for_adapter("/x/assets/adapter/tickets-lora.gguf") == "tickets"
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "adapter.gguf").write_bytes(b"")
    (folder / "settings.json").write_text(json.dumps({"preset": "tickets"}))
    row = {"messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": '{"a": "b"}'}]}
    (folder / "examples.jsonl").write_text(json.dumps(row) + "\n")
    fs = adapter_fewshot(folder / "adapter.gguf")
    assert fs.examples == (Shot("hello", '{"a": "b"}'),) and "your examples" in fs.source


def test_ticket_set_has_labels_and_enough_held_out_tickets():
    qs = tickets_question_set()
    assert len(qs) >= 48 and preset_of(qs) == "tickets"
    assert all(dict(q.expected_fields).keys() == {"category", "priority"} for q in qs.questions)
    train = {e.prompt for e in read_jsonl_file(PRESETS["tickets"].data)}
    assert not train & {q.question for q in qs.questions}  # held out: never trained on
    assert len({dict(q.expected_fields)["category"] for q in qs.questions}) == 5


def test_expected_fields_parse_from_jsonl_and_csv_and_reject_bad():
    row = {"id": "t1", "question": "q", "expected_facts": ["billing"], "expected_fields": {"category": "Billing"}}
    qs = parse_question_set(json.dumps(row), "x.jsonl")
    assert qs.questions[0].expected_fields == (("category", "billing"),)
    csv = "id,question,expected_facts,expected_fields\nt1,q,billing,category=billing|priority=high\n"
    assert parse_question_set(csv, "x.csv").questions[0].expected_fields == (
        ("category", "billing"),
        ("priority", "high"),
    )
    bad = {**row, "expected_fields": {"category": 3}}
    with pytest.raises(Exception, match="expected_fields"):
        parse_question_set(json.dumps(bad), "x.jsonl")


def _rec(qid: str, cfg: str, answer: str, cat: str, prio: str = "low") -> EvalRecord:
    pred = predicted_fields(answer, ("category", "priority"))
    return EvalRecord(
        question_id=qid,
        question=qid,
        configuration=cfg,
        label=cfg,
        rag=False,
        answer=answer,
        fields=(("category", cat, pred["category"]), ("priority", prio, pred["priority"])),
    )


def test_per_field_accuracy_wilson_and_confusion_on_hand_made_records():
    j = lambda c, p="low": json.dumps({"category": c, "priority": p, "summary": "s"})  # noqa: E731
    records = [
        _rec("q1", "ft", j("billing"), "billing"),
        _rec("q2", "ft", j("billing", "high"), "shipping"),
        _rec("q3", "ft", j("shipping"), "shipping"),
        _rec("q4", "ft", "```json\n" + j("returns") + "\n```", "returns"),
        _rec("q5", "ft", "Sorry, I cannot help.", "returns"),
        _rec("q1", "base", '{"priority": "low"}', "billing"),
    ]
    acc = field_accuracy(records, "ft", "category")
    assert (acc.correct, acc.n) == (3, 5) and acc.interval == wilson(3, 5)
    assert round(acc.interval.low, 3) == 0.231 and round(acc.interval.high, 3) == 0.882
    pri = field_accuracy(records, "ft", "priority")
    assert (pri.correct, pri.n) == (3, 5)  # q2 said high, q5 is not JSON
    valid = json_validity(records, "ft")
    assert (valid.correct, valid.n) == (4, 5)
    table = confusion(records, "ft", "category")
    assert table.expected == ("billing", "returns", "shipping")
    assert table.predicted == ("billing", "returns", "shipping", NO_JSON)
    assert table.count("shipping", "billing") == 1 and table.count("returns", NO_JSON) == 1
    assert table.correct == 3 and table.total == 5
    assert table.rows()[0] == {"expected": "billing", "billing": 1, "returns": 0, "shipping": 0, NO_JSON: 0}
    assert confusion(records, "base", "category").predicted == ("billing", MISSING)
    paired = compare_records(records, "base", "ft", "field:category")
    assert paired.n == 1 and paired.b_won == 1
    # the metrics these records offer the paired widget: no facts, no style, their two labelled fields
    assert metrics_for(records) == ["field:category", "field:priority"]
    assert [metric_name(m) for m in metrics_for(records)] == ["category", "priority"]
    voiced = [dataclasses.replace(records[0], expected_facts=("$1",), style_applicable=True, fields=())]
    assert metrics_for(voiced) == ["facts", "style"]
    assert (
        compare_records(records, "base", "ft", "field:priority")
        .sentence()
        .startswith("Fine-tuned beat Base on 0 questions and lost on 0 (priority labelled right; both right on 1")
    )


def test_break_even_counts_the_examples_on_every_call():
    overrides = {"base-m": (1, 2), "ft-m": (2, 4)}  # dollars per 1M tokens: input/output
    inputs = ProjectionInputs(
        queries_per_month=1000,
        prompt_tokens=100,
        answer_tokens=50,
        training_tokens=100_000,
        epochs=2,
        base_model="base-m",
        finetuned_model="ft-m",
        provider="custom",
    )
    be = examples_break_even(inputs, 1000, overrides, training_per_m=Decimal("5"))
    # per call: prompted (100 + 1000) x $1/M + 50 x $2/M = $0.0012; fine-tuned 100 x $2/M + 50 x $4/M = $0.0004
    assert be.examples_cost_per_call == Decimal("0.001")
    assert be.prompted_per_call == Decimal("0.0012") and be.finetuned_per_call == Decimal("0.0004")
    assert be.training_cost == Decimal("1")  # 200,000 tokens x $5/M
    assert be.calls == Decimal("1250")  # $1 / $0.0008 per call
    # examples too short to pay for the fine-tuned price: training never pays back
    assert examples_break_even(inputs, 10, overrides, training_per_m=Decimal("5")).calls is None
    with pytest.raises(ProjectionInputError):
        examples_break_even(inputs, -1, overrides)
