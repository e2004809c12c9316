"""The exported promptfoo configuration runs unchanged with ``npx promptfoo eval`` against a real llama.cpp server,
and promptfoo's pass counts agree with the app's own scores on the same answers.

promptfoo comes from the npm registry at a pinned version: ``scripts/setup.sh --dev`` installs it
(``tests/promptfoo_tool.py``) into ``$RAGFT_PROMPTFOO_DIR`` (default ``~/.cache/ragft-promptfoo``, outside the
project); the ``promptfoo`` fixture installs it the same way if it is missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ragft.costs.ledger import SessionLedger
from ragft.evaluation import Evaluation, default_question_set, run_evaluation, standalone_wiring
from ragft.evaluation.promptfoo import app_passes, endpoints_from_settings, promptfoo_results, to_promptfoo_yaml
from ragft.evaluation.scoring import score_facts, score_style
from ragft.settings import EMBEDDED_BASE_MODEL, EMBEDDED_FT_MODEL, EndpointConfig, Settings
from tests import promptfoo_tool

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

EVAL_TIMEOUT_S = 900
QUESTIONS = 4
CONFIGS = ["base", "base_rag", "ft", "ft_rag"]


@pytest.fixture(scope="session")
def promptfoo() -> Path:
    """The folder holding ``node_modules/.bin/promptfoo`` at the pinned version (``tests.promptfoo_tool``)."""
    try:
        return promptfoo_tool.install()
    except promptfoo_tool.PromptfooMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def evaluation(llama_server, tmp_path_factory):
    """The app's evaluation of a few sample questions, all four configurations on the llama.cpp server."""
    data_dir = tmp_path_factory.mktemp("pf-data")
    s = Settings(
        base=EndpointConfig(provider="llamacpp", model=EMBEDDED_BASE_MODEL, base_url=llama_server, timeout_s=120),
        finetuned=EndpointConfig(provider="llamacpp", model=EMBEDDED_FT_MODEL, base_url=llama_server, timeout_s=120),
        data_dir=data_dir,
        top_k=1,
        max_tokens=48,
    )
    model_for, retrieve, _ = standalone_wiring(s, CONFIGS)
    ev = Evaluation.new(default_question_set().subset(QUESTIONS), CONFIGS)
    list(
        run_evaluation(
            ev,
            model_for=model_for,
            retrieve=retrieve,
            ledger=SessionLedger(),
            system_prompt=s.system_prompt,
            max_tokens=s.max_tokens,
            temperature=0.0,
            top_k=s.top_k,
        )
    )
    assert ev.finished and not [r.error for r in ev.records if r.error]
    return ev, s


def test_the_export_runs_unchanged_and_agrees_with_the_app(evaluation, promptfoo, tmp_path):
    ev, s = evaluation
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(to_promptfoo_yaml(ev, endpoints_from_settings(s)), encoding="utf-8")
    out = tmp_path / "results.json"
    env = {
        **os.environ,
        "PROMPTFOO_CONFIG_DIR": str(tmp_path / "promptfoo-home"),  # its database and logs, not ~/.promptfoo
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_DISABLE_REMOTE_GENERATION": "true",
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        ["npx", "--no-install", "promptfoo", "eval", "-c", str(config), "-o", str(out), "--no-cache",
         "--no-progress-bar", "--no-table"],
        cwd=promptfoo, env=env, capture_output=True, text=True, timeout=EVAL_TIMEOUT_S,
    )  # fmt: skip
    # promptfoo exits 100 when a test fails (the small model fails most): anything else is an error
    assert done.returncode in (0, 100), done.stdout[-3000:] + done.stderr[-3000:]
    rows = promptfoo_results(out.read_text(encoding="utf-8"))
    assert len(rows) == len(ev.records) == QUESTIONS * len(CONFIGS)
    assert not [r for r in rows if r["error"]], [r["error"] for r in rows if r["error"]][:3]
    app = {(r.question_id, r.configuration): r for r in ev.records}
    questions = {q.id: q for q in ev.question_set.questions}
    same_answer = 0
    for row in rows:
        rec = app[(row["question_id"], row["configuration"])]
        q = questions[rec.question_id]
        answer = row["output"] or ""
        same_answer += answer.strip() == rec.answer.strip()
        # the app's scorers on promptfoo's answer give promptfoo's verdicts
        facts = score_facts(answer, q.expected_facts, q.stale_facts)
        style = score_style(answer, q.expected_style)
        assert row["facts"] == pytest.approx(facts.score), (answer, facts)
        assert row["stale"] == (0 if facts.stale_found else 1), answer
        assert row["style"] == (1 if (not style.applicable or style.ok) else 0), (answer, style.reasons)
        app_pass = not facts.missing and not facts.stale_found and (not style.applicable or bool(style.ok))
        assert row["pass"] == app_pass, answer
    # temperature 0 on the same server: the same answers, so the same pass counts as the app's own run
    assert same_answer == len(rows), f"{len(rows) - same_answer} answers differ from the app's"
    passed = sum(r["pass"] for r in rows)
    print(f"promptfoo: {passed} of {len(rows)} tests pass; the app: {sum(app_passes(r) for r in ev.records)}")
    assert passed == sum(app_passes(r) for r in ev.records)
    for key in CONFIGS:
        pf = [r for r in rows if r["configuration"] == key]
        mean = sum(r["facts"] for r in pf) / len(pf)
        assert mean == pytest.approx(next(x for x in ev.summaries() if x.configuration == key).fact_accuracy)
