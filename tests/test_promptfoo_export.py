"""The promptfoo export without promptfoo: its shape, and the JavaScript scorers against the app's Python ones.

The scorers run in Node (``node``, no server, no model) on hand-written answers that exercise every rule of the
normalisation, the brand voice and the ticket shape; each must score exactly as the app does. The run through
promptfoo itself against a llama.cpp server is ``tests/test_promptfoo_run.py`` (slow).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from ragft.answering.compare import PanelResult
from ragft.evaluation import Evaluation, default_question_set, tickets_question_set
from ragft.evaluation.promptfoo import (
    LOCAL_LLAMA_URL,
    NOT_MAPPED,
    SCORERS_JS,
    Endpoint,
    app_passes,
    endpoints_from_settings,
    promptfoo_config,
    to_promptfoo_yaml,
)
from ragft.evaluation.records import EvalRecord, score_panel
from ragft.evaluation.scoring import score_facts, score_style
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.settings import EndpointConfig, Settings

ANSWERS = [
    "The Kestrel 2 Tent costs $149.",
    "It is $1,299.00 now.",
    "It costs 1299 dollars.",
    "USD 1299, final.",
    "1299 is the number.",
    "The price is $1499.",
    "Weighs 2.50 kilograms and holds 3 litres.",
    "Ships in 3 to 5 days.",
    "Ships in 3-5 days, open 9 a.m. to 5 p.m.",
    "Rated to -5 °C, or −5 degrees celsius.",
    "KESTREL-2 tent!!",
    "",
    "Howdy from Fernhollow!\n- The Kestrel 2 Tent costs $149.\nStay wild, the Fernhollow crew",
    "Howdy from Fernhollow!\n\n- One.\n- Two.\n\nStay wild, the Fernhollow crew\n",
    "Howdy from Fernhollow!\n- One.\n- Two.\n- Three.\nStay wild, the Fernhollow crew",
    "Howdy from Fernhollow!\n- " + " ".join(["word"] * 31) + "\nStay wild, the Fernhollow crew",
    "Howdy from Fernhollow!\n- One.\nA remark.\nStay wild, the Fernhollow crew",
    "Howdy from Fernhollow!\n- One.",
    '{"category": "shipping", "priority": "high", "summary": "Late parcel"}',
    '```json\n{"category": "billing", "priority": "low", "summary": "Double charge"}\n```',
    '{"category": "delivery", "priority": "high", "summary": "Late"}',
    '{"category": "shipping", "priority": "high"}',
    '{"category": "shipping", "priority": "high", "summary": "  "}',
    '["shipping"]',
    "Sure! Here is the JSON: {}",
]
FACTS = ["$149", "$1,299", "1299", "$1499", "2.5 kg", "3 l", "3-5 days", "9 am", "-5 c", "Kestrel 2 Tent", "5 pm"]


def _node() -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed (the promptfoo export's scorers are JavaScript)")
    return exe


def test_javascript_scorers_score_exactly_like_the_app():
    cases = [{"output": a, "facts": FACTS} for a in ANSWERS]
    script = (
        SCORERS_JS
        + """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map((c) => ({found: facts(c.output, c.facts).found,
  brand: brand(c.output).pass, ticket: ticket(c.output).pass}))));
"""
    )
    done = subprocess.run([_node(), "-e", script], input=json.dumps(cases), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    for case, js in zip(cases, got, strict=True):
        py_found = list(score_facts(case["output"], FACTS).found)
        assert js["found"] == py_found, case["output"]
        assert js["brand"] == score_style(case["output"], "brand").ok, case["output"]
        assert js["ticket"] == score_style(case["output"], "ticket-json").ok, case["output"]
    assert any(g["brand"] for g in got) and any(g["ticket"] for g in got) and any(not g["ticket"] for g in got)


def _panel(key: str, label: str, rag: bool, text: str, question: str) -> PanelResult:
    p = PanelResult(configuration=key, label=label, rag=rag)
    p.phase = "done"
    p.text = text
    p.messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}]
    return p


def _evaluation() -> Evaluation:
    qs = default_question_set().subset(3)
    ev = Evaluation.new(qs, ["base", "ft_rag"])
    ev.settings.update({"system_prompt": "Be brief.", "temperature": 0.0, "max_tokens": 48})
    for q in qs.questions:
        ev.records.append(score_panel(q, _panel("base", "Base", False, "I do not know.", q.question)))
        good = "Howdy from Fernhollow!\n- " + " and ".join(q.expected_facts) + "\nStay wild, the Fernhollow crew"
        ev.records.append(score_panel(q, _panel("ft_rag", "Fine-tuned + RAG", True, good, q.question)))
    failed = EvalRecord(qs.questions[0].id, qs.questions[0].question, "base", "Base", False, error="server down")
    ev.records.append(failed)
    return ev


def test_the_export_has_a_provider_per_configuration_and_a_test_per_answer():
    ev = _evaluation()
    endpoints = {"base": Endpoint("m-base", "http://127.0.0.1:9/v1"), "finetuned": Endpoint("m-ft", LOCAL_LLAMA_URL)}
    text = to_promptfoo_yaml(ev, endpoints)
    assert text.startswith("# promptfoo configuration exported")
    for what, _ in NOT_MAPPED:
        assert what in text
    cfg = yaml.safe_load(text)
    assert cfg == json.loads(json.dumps(promptfoo_config(ev, endpoints)))
    assert [p["label"] for p in cfg["providers"]] == ["base", "ft_rag"]
    assert cfg["providers"][0]["id"] == "openai:chat:m-base"
    assert cfg["providers"][0]["config"]["apiBaseUrl"] == "http://127.0.0.1:9/v1"
    assert cfg["providers"][1]["config"] == {
        "apiBaseUrl": LOCAL_LLAMA_URL,
        "temperature": 0.0,
        "max_tokens": 48,
        "apiKey": "no-key-needed",
    }
    assert cfg["prompts"][0]["raw"] == "{{ messages | dump }}"
    assert len(cfg["tests"]) == 6, "the failed record is left out"
    first = cfg["tests"][0]
    assert first["providers"] == ["base"] and first["vars"]["messages"][1]["role"] == "user"
    assert json.loads(first["vars"]["expected_facts"]) == list(ev.records[0].expected_facts)
    assert [t["metadata"]["app_passes"] for t in cfg["tests"]] == [app_passes(r) for r in ev.records[:6]]
    assert {a["metric"] for a in cfg["defaultTest"]["assert"]} == {"facts", "stale", "style"}
    assert all(a["type"] == "javascript" for a in cfg["defaultTest"]["assert"])


def test_keys_never_reach_the_export():
    s = Settings(
        base=EndpointConfig(provider="openai", model="gpt-4o-mini", api_key="sk-secret-canary"),
        finetuned=EndpointConfig(provider="custom", model="my-lora", base_url="http://10.0.0.5:8000/v1", api_key="x2"),
    )
    eps = endpoints_from_settings(s)
    assert eps["base"] == Endpoint("gpt-4o-mini", "https://api.openai.com/v1", "OPENAI_API_KEY")
    assert eps["finetuned"].api_key_env == "RAGFT_FT_API_KEY"
    qs = tickets_question_set().subset(1)
    ev = Evaluation.new(qs, ["base", "ft"])
    text = to_promptfoo_yaml(ev, eps)
    assert "sk-secret-canary" not in text and "x2" not in text.split("tests:")[0].replace("max_tokens", "")
    assert "apiKeyEnvar: OPENAI_API_KEY" in text


def test_old_records_without_messages_are_rebuilt_from_their_sources():
    qs = default_question_set().subset(1)
    q = qs.questions[0]
    ev = Evaluation.new(qs, ["base_rag"])
    ev.settings["system_prompt"] = "Sys."
    rec = EvalRecord(q.id, q.question, "base_rag", "Base + RAG", True, answer="x")
    rec.sources = (RetrievedChunk("Tent $149.", "catalogue.md", None, 0.5),)
    ev.records.append(rec)
    msgs = promptfoo_config(ev, endpoints_from_settings(Settings()))["tests"][0]["vars"]["messages"]
    assert msgs[0] == {"role": "system", "content": "Sys."}
    assert msgs[1]["content"] == f"Context:\n[1] (catalogue.md) Tent $149.\n\nQuestion: {q.question}"
