"""Evaluation scorers, table-driven with hand-made answers (each row can fail), and question-set parsing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ragft import evaluation as EV
from ragft.evaluation.style import GREETING, SIGNOFF

# ---- facts: (fact, answer, expected) --------------------------------------------------------------------------
FACT_CASES = [
    # money: every spelling of the same amount matches
    ("$1,299.00", "It costs $1299.", True),
    ("$1299", "That one is 1299 dollars.", True),
    ("$1,299.00", "Price: USD 1,299", True),
    ("1299 dollars", "- The Summit costs $1,299.00 today", True),
    ("$149", "The Kestrel 2 Tent costs $149.", True),
    ("$149", "The Kestrel 2 Tent costs $149.00!", True),
    # ... but not another amount, a longer number, or a bare number that is not money
    ("$149", "The Kestrel 2 Tent costs $169.", False),
    ("$149", "The Kestrel 2 Tent costs $1499.", False),
    ("$149", "It costs 149.", False),
    ("$149", "It costs $14.9", False),
    ("$75", "Free shipping above $175", False),
    # names: case and punctuation do not matter, words do
    ("Kestrel 2 Tent", "the KESTREL-2 tent is light", True),
    ("Kestrel 2 Tent", "The kestrel, 2 tent.", True),
    ("Kestrel 2 Tent", "The Kestrel 3 Tent", False),
    ("Ridgeback 4 Tent", "The Ridgeback Tent", False),
    # units and numbers
    ("1.8 kg", "It weighs 1.8kg.", True),
    ("1.8 kg", "It weighs 1.8 kilograms.", True),
    ("1.8 kg", "It weighs 11.8 kg.", False),
    ("1.8 kg", "It weighs 1.8 g.", False),
    ("2,000 litres", "It filters 2000 liters.", True),
    ("2,000 litres", "It filters 200 litres.", False),
    ("4.2", "Its R-value is 4.20.", True),
    ("4.2", "Its R-value is 4.25.", False),
    ("-5 C", "Comfort rating: -5°C", True),
    ("-5 C", "Comfort rating −5 degrees Celsius", True),
    ("-5 C", "Comfort rating 5 C", False),
    ("3-5 business days", "Standard delivery takes 3 to 5 business days.", True),
    ("3-5 business days", "Standard delivery takes 3–5 business days", True),
    ("3-5 business days", "Standard delivery takes 4-6 business days", False),
    ("2 pm", "Order before 2 p.m. for same-day shipping", True),
    ("2 pm", "Order before 2pm", True),
    ("2 pm", "Order before 12 pm", False),
    ("45 days", "You have 45 days to return it.", True),
    ("45 days", "You have 30 days to return it.", False),
    ("3.5 minutes", "It boils water in 3.5 min.", True),
    ("40 hours", "The battery lasts 40 hrs", True),
    ("$15", "", False),
]


@pytest.mark.parametrize("fact,answer,expected", FACT_CASES)
def test_fact_found(fact, answer, expected):
    assert EV.fact_found(fact, answer) is expected


def test_score_facts_counts_found_missing_and_stale():
    s = EV.score_facts("The Kestrel 2 Tent costs $169 and weighs 1.8 kg.", ["$149", "1.8 kg"], ["$169"])
    assert s.found == ("1.8 kg",) and s.missing == ("$149",) and s.stale_found == ("$169",)
    assert s.score == 0.5
    assert EV.score_facts("nothing", ["$149"]).score == 0.0


# ---- style: (answer, expected_style, applicable, ok) ----------------------------------------------------------
VOICE = f"{GREETING}\n- The Kestrel 2 Tent costs $149.\n{SIGNOFF}"
STYLE_CASES = [
    (VOICE, "brand", True, True),
    (f"  {GREETING}\n\n- The tent costs $149.\n- It weighs 1.8 kg.\n{SIGNOFF}\n", "brand", True, True),
    ("The Kestrel 2 Tent costs $149.", "brand", True, False),  # plain answer: no voice
    (f"{GREETING}\n- The tent costs $149.", "brand", True, False),  # cut off before the sign-off
    (f"{GREETING}\nSure! Here you go:\n- $149\n{SIGNOFF}", "brand", True, False),  # a preamble
    (f"{GREETING}\n- a\n- b\n- c\n{SIGNOFF}", "brand", True, False),  # three bullets
    ("", "brand", True, False),
    ("anything at all", "any", False, None),
]


@pytest.mark.parametrize("answer,style,applicable,ok", STYLE_CASES)
def test_score_style(answer, style, applicable, ok):
    s = EV.score_style(answer, style)
    assert (s.applicable, s.ok) == (applicable, ok)
    assert bool(s.reasons) == (ok is False)


# ---- retrieval hit: (expected source, retrieved sources, expected) ---------------------------------------------
HIT_CASES = [
    ("catalogue.pdf", ["catalogue.pdf", "shipping.pdf"], True),
    ("catalogue.pdf", ["shipping.pdf", "Catalogue.PDF"], True),
    ("catalogue.pdf", ["uploads/catalogue.md"], True),  # same document, other format
    ("catalogue.pdf", ["shipping.pdf", "returns-warranty.pdf"], False),
    ("catalogue.pdf", [], False),
    ("", ["catalogue.pdf"], None),
]


@pytest.mark.parametrize("expected,sources,hit", HIT_CASES)
def test_retrieval_hit(expected, sources, hit):
    assert EV.retrieval_hit(expected, sources) is hit


PAGE_HIT_CASES = [
    ("catalogue.pdf", 1, [("catalogue.pdf", 2), ("catalogue.pdf", 1)], True),
    ("catalogue.pdf", 1, [("catalogue.pdf", 2), ("shipping.pdf", 1)], False),  # right file, wrong product page
    ("catalogue.pdf", None, [("catalogue.pdf", 2)], None),
]


@pytest.mark.parametrize("expected,page,retrieved,hit", PAGE_HIT_CASES)
def test_page_hit(expected, page, retrieved, hit):
    assert EV.page_hit(expected, page, retrieved) is hit


# ---- question sets --------------------------------------------------------------------------------------------
def test_shipped_set_loads_and_subset_covers_every_kind():
    qs = EV.default_question_set()
    assert len(qs) >= 30
    assert all(q.expected_facts and q.expected_source for q in qs.questions)
    sub = qs.subset(3)
    assert len(sub) == 3 and {q.kind for q in sub.questions} == {"price", "spec", "policy"}
    assert qs.subset(None) is qs and qs.subset(999) is qs


def test_csv_with_pipe_separated_facts():
    data = (
        b"id,question,expected_facts,expected_source,expected_style\n"
        b'q1,"How much, and how heavy?",$149|1.8 kg,catalogue.pdf,brand\n'
        b"q2,Return window?,45 days,,any\n"
    )
    qs = EV.parse_question_set(data, "mine.csv")
    assert [q.id for q in qs.questions] == ["q1", "q2"]
    assert qs.questions[0].expected_facts == ("$149", "1.8 kg")
    assert qs.questions[0].question == "How much, and how heavy?"
    assert qs.questions[1].expected_style == "any" and qs.questions[1].expected_source == ""


def test_jsonl_roundtrip_of_optional_fields():
    row = {"id": "a", "question": "Q?", "expected_facts": ["$5"], "stale_facts": ["$4"], "expected_page": "2"}
    q = EV.parse_question_set(json.dumps(row) + "\n", "x.jsonl").questions[0]
    assert q.stale_facts == ("$4",) and q.expected_page == 2 and q.expected_style == "any"


GOOD = json.dumps({"id": "a", "question": "Q?", "expected_facts": ["$5"]})
BAD_SETS = [
    # (name, content, line, column, words in the message)
    ("x.jsonl", "", None, None, "empty"),
    ("x.jsonl", "\n  \n", None, None, "empty"),
    ("x.jsonl", GOOD + "\n{not json\n", 2, None, "not valid JSON"),
    ("x.jsonl", GOOD + "\n" + json.dumps({"id": "b", "question": "Q?"}), 2, "expected_facts", "missing"),
    ("x.jsonl", json.dumps({"id": "b", "expected_facts": ["x"]}), 1, "question", "missing"),
    ("x.jsonl", json.dumps({"id": "b", "question": "Q?", "expected_facts": []}), 1, "expected_facts", "at least"),
    ("x.jsonl", json.dumps({"id": "b", "question": "Q?", "expected_facts": 5}), 1, "expected_facts", "list"),
    (
        "x.jsonl",
        json.dumps({"id": "b", "question": "Q?", "expected_facts": ["x"], "expected_style": "json"}),
        1,
        "expected_style",
        "not a style",
    ),
    ("x.jsonl", "[1, 2]", 1, None, "JSON object"),
    ("x.jsonl", GOOD + "\n" + GOOD, None, "id", "twice"),
    ("x.csv", "id,question\nq1,Hello?\n", 1, "expected_facts", "no column"),
    ("x.csv", "id,question,expected_facts\nq1,Hello?,$5\nq2,,$6\n", 3, "question", "empty"),
    ("x.csv", "id,question,expected_facts\n", None, None, "no question"),
    ("x.csv", "id,question,expected_facts\nq1,Hi?,$5,extra\n", 2, None, "cells"),
    ("x.txt", GOOD, None, None, ".jsonl or .csv"),
]


@pytest.mark.parametrize("name,content,line,column,words", BAD_SETS)
def test_bad_question_sets_name_line_and_column(name, content, line, column, words):
    with pytest.raises(EV.QuestionSetError) as info:
        EV.parse_question_set(content.encode(), name)
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert words in err.message
    if line:
        assert f"line {line}" in err.message
    if column:
        assert repr(column) in err.message


def test_not_utf8_is_a_typed_error_with_its_line():
    with pytest.raises(EV.QuestionSetError) as info:
        EV.parse_question_set(GOOD.encode() + b"\n\xff\xfe bad", "x.jsonl")
    assert info.value.line == 2


# ---- summaries, evidence, export ------------------------------------------------------------------------------
def _rec(cfg, qid, fact, style, hit=None, tokens=(100, 20), cost=Decimal(0), local=True, total_s=1.0):
    return EV.EvalRecord(
        qid,
        "Q?",
        cfg,
        cfg,
        cfg.endswith("rag"),
        answer="a",
        fact_score=fact,
        style_applicable=True,
        style_ok=style,
        hit=hit,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        cost=cost,
        local=local,
        total_s=total_s,
    )


def test_summary_evidence_and_axis():
    qs = EV.default_question_set().subset(2)
    ev = EV.Evaluation.new(qs, ["base", "ft_rag"])
    ev.records += [
        _rec("base", "a", 0.0, False),
        _rec("base", "b", 1.0, False),
        _rec("ft_rag", "a", 1.0, True, hit=True, tokens=(300, 20)),
        _rec("ft_rag", "b", 1.0, False, hit=False, tokens=(300, 40)),
    ]
    base, hybrid = ev.summaries()
    assert (base.fact_accuracy, base.style_adherence, base.hit_at_k) == (0.5, 0.0, None)
    assert (hybrid.fact_accuracy, hybrid.style_adherence, hybrid.hit_at_k) == (1.0, 0.5, 0.5)
    assert hybrid.tokens_per_question == 330 and hybrid.cost_per_question == 0 and hybrid.local
    axis = EV.cost_axis([base, hybrid])
    assert axis.kind == "tokens" and axis.value(hybrid) == 330
    rows = EV.evidence_rows(ev)
    assert rows == [
        {"configuration": "base", "fact_score": 0.5, "style_score": 0.0, "cost_usd": Decimal(0), "source": "evaluate"},
        {
            "configuration": "ft_rag",
            "fact_score": 1.0,
            "style_score": 0.5,
            "cost_usd": Decimal(0),
            "source": "evaluate",
        },
    ]
    # A paid configuration switches the chart to dollars; an unknown price makes its cost unknown.
    ev.records.append(_rec("base", "c", 1.0, False, cost=Decimal("0.003"), local=False))
    assert EV.cost_axis(ev.summaries()).kind == "cost"
    assert ev.summaries()[0].cost_per_question == Decimal("0.001")
    ev.records.append(_rec("base", "d", 1.0, False, cost=None, local=False))
    assert ev.summaries()[0].total_cost is None
    table = EV.format_table(ev.summaries()[:1])
    assert "| Base | 75% (30–95%) | 0% (0–49%) | — | 1,000 (1,000–1,000) |" in table


def test_no_evidence_from_a_configuration_that_never_answered():
    ev = EV.Evaluation.new(EV.default_question_set().subset(1), ["base", "ft"])
    ev.records += [
        _rec("base", "a", 1.0, True),
        EV.EvalRecord("a", "Q?", "ft", "Fine-tuned", False, error="No LoRA adapter"),
    ]
    assert ev.summaries()[1].errors == 1
    assert [r["configuration"] for r in EV.evidence_rows(ev)] == ["base"]
    ev.records[0].style_applicable, ev.records[0].style_ok = False, None  # a set that does not check style
    assert EV.evidence_rows(ev)[0]["style_score"] is None


def test_csv_and_json_export():
    qs = EV.default_question_set().subset(1)
    ev = EV.Evaluation.new(qs, ["base"])
    r = _rec("base", qs.questions[0].id, 1.0, True)
    r.facts_found = ("$149",)
    r.answer = 'He said "hi",\nthen left'
    ev.records.append(r)
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(EV.to_csv(ev))))
    assert len(rows) == 1 and rows[0]["answer"] == 'He said "hi",\nthen left' and rows[0]["facts_found"] == "$149"
    data = json.loads(EV.to_json(ev))
    assert data["summary"][0]["fact_accuracy"] == 1.0 and data["records"][0]["cost_usd"] == "0"


@pytest.mark.parametrize(
    "answer, ok",
    [
        ('{"category": "shipping", "priority": "high", "summary": "Order is a week late."}', True),
        ('```json\n{"category": "billing", "priority": "low", "summary": "Receipt copy."}\n```', True),
        ('{"category": "weather", "priority": "high", "summary": "x"}', False),  # not an allowed category
        ('{"category": "billing", "priority": "low"}', False),  # a key missing
        ("Howdy from Fernhollow! Your order is on its way.", False),  # voice, not the format
        ('[{"category": "billing"}]', False),  # JSON, but not one object
    ],
)
def test_ticket_json_format_is_scored_as_style(answer, ok):
    score = EV.score_style(answer, "ticket-json")
    assert score.applicable and score.ok is ok
    assert ok or score.reasons


def test_the_tickets_set_is_shipped_and_checks_the_format():
    qs = EV.tickets_question_set()
    assert len(qs) >= 20 and {q.expected_style for q in qs.questions} == {"ticket-json"}
    parsed = EV.parse_question_set(
        b'{"id": "t", "question": "Where is my order?", "expected_facts": ["shipping"], "expected_format": "ticket-json"}'
    )
    assert parsed.questions[0].expected_style == "ticket-json"
