"""AppTest: the Evaluate page on the embedded default (2 questions, short answers), uploads, bad sets, evidence."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.settings import Settings
from tests.apptest_helpers import embedded_settings, open_page

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


def open_evaluate(settings: Settings) -> AppTest:
    return open_page("pages/evaluate.py", settings, timeout=600)


def test_two_question_run_shows_table_chart_drilldown_and_evidence(data_dir):
    at = open_evaluate(embedded_settings(data_dir))
    assert at.title[0].value == "Evaluate"
    assert any("fine-tuning fixes voice" in m.value for m in at.markdown)
    at.number_input(key="eval_subset").set_value(2)
    at.button(key="eval_go").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    ev = at.session_state["eval_result"]
    assert ev.finished and not ev.stopped and ev.questions_done == 2
    assert len(ev.records) == 8 and {r.configuration for r in ev.records} == {"base", "base_rag", "ft", "ft_rag"}
    # Every answer ran through the session's ledger, like on Compare.
    assert len([r for r in at.session_state["ledger"].records() if r.kind == "chat"]) == 8
    # Results table: one row per configuration.
    tables = [d.value for d in at.dataframe if "Configuration" in d.value.columns]
    assert len(tables) == 1
    table = tables[0]
    assert list(table["Configuration"]) == ["Base", "Base + RAG", "Fine-tuned", "Fine-tuned + RAG"]
    assert list(table["Questions"]) == [2, 2, 2, 2]
    assert table["hit@k"].isna().tolist() == [True, False, True, False]
    # The embedded model is $0: the chart says it plots tokens instead.
    assert any("plots tokens per question" in c.value for c in at.caption)
    assert {b.label for b in at.get("download_button")} >= {"Results as CSV", "Results as JSON"}
    # Drill-down: the first question, four answers, sources for the RAG ones.
    assert at.selectbox(key="eval_pick").value == ev.records[0].question_id
    assert len([e for e in at.expander if e.label.startswith("Sources (2)")]) == 2
    # Evidence for the decision guide, once per configuration.
    evidence = at.session_state["evidence"]
    assert [r["configuration"] for r in evidence] == ["base", "base_rag", "ft", "ft_rag"]
    assert all(
        r["source"] == "evaluate" and 0.0 <= r["fact_score"] <= 1.0 and 0.0 <= r["style_score"] <= 1.0 for r in evidence
    )
    # A rerun (e.g. switching the axis) neither re-runs nor appends the evidence twice.
    at.segmented_control(key="eval_axis").set_value("seconds").run()
    assert not at.exception
    assert any("compute seconds per question" in c.value for c in at.caption)
    assert len(at.session_state["evidence"]) == 4


def test_bad_upload_is_a_message_naming_the_line_and_no_run(data_dir):
    at = open_evaluate(embedded_settings(data_dir))
    at.segmented_control(key="eval_source").set_value("upload").run()
    assert not at.exception
    good = json.dumps({"id": "a", "question": "How much does the Kestrel 2 Tent cost?", "expected_facts": ["$149"]})
    bad = good + "\n" + json.dumps({"id": "b", "question": "Q?"}) + "\n"
    at.file_uploader(key="eval_upload").set_value(("bad.jsonl", bad.encode(), "application/json")).run()
    assert not at.exception, at.exception
    errors = [as_plain(e.value) for e in at.error]
    assert len(errors) == 1 and "bad.jsonl" in errors[0] and "line 2" in errors[0] and "expected_facts" in errors[0]
    assert not [b for b in at.button if b.key == "eval_go"]  # nothing to run
    # An empty file and a CSV without the facts column: messages too, never a crash.
    at.file_uploader(key="eval_upload").set_value(("empty.csv", b"", "text/csv")).run()
    assert not at.exception and "empty" in at.error[0].value
    at.file_uploader(key="eval_upload").set_value(("q.csv", b"id,question\nq1,Hi?\n", "text/csv")).run()
    assert not at.exception and "'expected_facts'" in as_plain(at.error[0].value)
    # A good upload replaces the error with the question preview.
    at.file_uploader(key="eval_upload").set_value(("ok.jsonl", good.encode(), "application/json")).run()
    assert not at.exception and not at.error
    assert any(e.label == "The questions (1)" for e in at.expander)
    assert "eval_result" not in at.session_state


def test_single_configuration_subset_of_one(data_dir):
    at = open_evaluate(embedded_settings(data_dir))
    at.multiselect(key="eval_configs").set_value(["base_rag"])
    at.number_input(key="eval_subset").set_value(1)
    at.button(key="eval_go").click().run()
    assert not at.exception, at.exception
    ev = at.session_state["eval_result"]
    assert [r.configuration for r in ev.records] == ["base_rag"]
    assert ev.records[0].hit is True  # the first sample question's product page is retrieved
    assert [r["configuration"] for r in at.session_state["evidence"]] == ["base_rag"]


def test_a_stopped_run_shows_what_was_scored(data_dir):
    """Stop = ``run.cancel()`` (the button's callback): the page follows the run to its end, keeps the scored
    questions, says it was stopped and still hands the evidence over."""
    from ragft import evaluation as EV

    s = embedded_settings(data_dir)
    at = open_evaluate(s)
    model_for, retrieve, _ = EV.standalone_wiring(s, ["base"])
    ev = EV.Evaluation.new(EV.default_question_set().subset(3), ["base"])
    run = EV.start_evaluation(ev, model_for=model_for, retrieve=retrieve, max_tokens=8)
    next(e for e in run.events(poll_s=0.05) if e.kind == EV.PROGRESS)  # the first answer is scored
    at.session_state["eval_run"] = run
    run.cancel()
    at.run()
    assert not at.exception, at.exception
    result = at.session_state["eval_result"]
    assert result is ev and ev.stopped and 1 <= ev.questions_done < 3
    assert any("stopped after" in c.value for c in at.caption)
    assert [r["configuration"] for r in at.session_state["evidence"]] == ["base"]
    assert "eval_run" not in at.session_state
