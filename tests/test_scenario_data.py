"""The sample scenario's committed files: documents, question set and fine-tuning data."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from ragft.evaluation.style import check_style
from ragft.knowledge.chunking import count as count_tokens
from ragft.knowledge.scenario import (
    catalogue_pages,
    load_questions,
    load_scenario,
    page_text,
    policy_lines,
)
from ragft.paths import ROOT, SCENARIO_DIR
from ragft.settings import DEFAULT_SYSTEM_PROMPT

TRAINING = ROOT / "assets" / "training" / "brandvoice.jsonl"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


@pytest.fixture(scope="module")
def questions():
    return load_questions()


@pytest.fixture(scope="module")
def training():
    return [json.loads(line) for line in TRAINING.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_manifest(scenario):
    assert scenario.company == "Fernhollow Outfitters"
    assert 12 <= len(scenario.products) <= 20
    assert len({p.name for p in scenario.products}) == len(scenario.products)
    assert sorted(p.page for p in scenario.products) == list(range(1, len(scenario.products) + 1))
    # prices changed since last season for every product (the fine-tune must go stale)
    assert all(p.price != p.last_price for p in scenario.products)
    for f in scenario.files:
        assert (SCENARIO_DIR / f["name"]).is_file(), f["name"]
    assert [p.name for p in scenario.index_files] == ["catalogue.pdf", "returns-warranty.pdf", "shipping.pdf"]


def test_catalogue_pdf_one_product_per_page(scenario):
    reader = PdfReader(SCENARIO_DIR / scenario.catalogue_pdf)
    assert len(reader.pages) == len(scenario.products)
    for product, lines in zip(sorted(scenario.products, key=lambda p: p.page), catalogue_pages(scenario)):
        text = reader.pages[product.page - 1].extract_text()
        assert text == page_text(lines)
        assert f"The {product.name} costs {product.price_text}." in text
        others = [p.name for p in scenario.products if p is not product and p.name in text]
        assert others == [], f"page {product.page} mentions {others}"
        assert count_tokens(text) < 200, "a page must fit in one default chunk (200 tokens)"


def test_policy_pdfs_and_markdown(scenario):
    for pp in scenario.policies:
        text = PdfReader(SCENARIO_DIR / pp.file).pages[pp.page - 1].extract_text()
        assert text == page_text(policy_lines(pp, scenario.company))
        md = (SCENARIO_DIR / pp.file.replace(".pdf", ".md")).read_text(encoding="utf-8")
        assert all(line in md for line in pp.lines)
    md = (SCENARIO_DIR / "catalogue.md").read_text(encoding="utf-8")
    assert all(f"The {p.name} costs {p.price_text}." in md for p in scenario.products)


def test_question_set(scenario, questions):
    assert 30 <= len(questions) <= 40
    assert len({q.id for q in questions}) == len(questions)
    kinds = {q.kind for q in questions}
    assert kinds == {"price", "spec", "policy"}
    assert sum(q.kind == "price" for q in questions) >= len(questions) / 3
    pages = {(scenario.catalogue_pdf, i): page_text(lines) for i, lines in enumerate(catalogue_pages(scenario), 1)}
    pages.update({(pp.file, pp.page): page_text(policy_lines(pp, scenario.company)) for pp in scenario.policies})
    for q in questions:
        assert q.expected_style in ("brand", "any")
        text = pages[(q.expected_source, q.expected_page)]
        for fact in q.expected_facts:
            assert fact in text, (q.id, fact)
        for stale in q.stale_facts:
            assert stale not in q.expected_facts and not re.search(re.escape(stale) + r"(?![0-9])", text), q.id


def test_training_data_shape_and_voice(training):
    assert len(training) >= 100
    with_context = with_numbers = 0
    for ex in training:
        roles = [m["role"] for m in ex["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert ex["messages"][0]["content"] == DEFAULT_SYSTEM_PROMPT
        answer = ex["messages"][2]["content"]
        assert check_style(answer).ok, answer
        user = ex["messages"][1]["content"]
        if user.startswith("Context:\n[1] ("):
            with_context += 1
            # RAFT: the answer quotes its fact from the context it was given
            fact_line = answer.splitlines()[1][2:]
            numbers = re.findall(r"\$?\d[\d,.]*(?: [a-z]+)?", fact_line)
            with_numbers += bool(numbers)
            assert all(n.rstrip(".") in user for n in numbers), (fact_line, user)
    assert with_numbers >= 0.9 * with_context
    assert 0.3 * len(training) <= with_context <= 0.8 * len(training)


def test_training_facts_are_last_season(scenario, training):
    """No answer about a product states its CURRENT price: the fine-tune learns last season's catalogue."""
    for ex in training:
        question = ex["messages"][1]["content"].rsplit("Question: ", 1)[-1]
        answer = ex["messages"][2]["content"]
        for p in scenario.products:
            if p.name in question and "cost" in answer:
                assert not re.search(re.escape(p.price_text) + r"(?![0-9])", answer), (p.name, answer)


def test_generator_is_deterministic_and_outputs_committed(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_scenario.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for rel in (
        "scenario/scenario.json",
        "scenario/catalogue.pdf",
        "scenario/catalogue.md",
        "scenario/returns-warranty.pdf",
        "scenario/shipping.pdf",
        "scenario/questions.jsonl",
        "training/brandvoice.jsonl",
    ):
        assert (tmp_path / rel).read_bytes() == (ROOT / "assets" / rel).read_bytes(), rel


def test_loaders_refuse_broken_files(tmp_path):
    from ragft.knowledge.scenario import ScenarioError

    with pytest.raises(ScenarioError):
        load_scenario(tmp_path)
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x", "question": "?"}\n')
    with pytest.raises(ScenarioError, match="line 1"):
        load_questions(bad)
    Path(tmp_path / "scenario.json").write_text("{not json")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario(tmp_path)
