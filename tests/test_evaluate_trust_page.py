"""AppTest: the Evaluate page's trust features on scored results: intervals, paired comparison, groundedness,
saved runs with a baseline, import of a run file, and the reviewed table of your own questions.

The results are scored records put in the session (no model runs here: test_evaluate_page.py runs the real
embedded model through the page), so the page's rendering of intervals and comparisons is tested on known counts.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft import evaluation as EV
from ragft.evaluation import history as H
from ragft.knowledge.retrieved import RetrievedChunk
from tests.apptest_helpers import embedded_settings, open_page
from tests.test_evaluate_drafting import serve as serve_drafting

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

CTX = "Kestrel 2 Tent. Price: $149. Weight: 1.8 kg."


def _evaluation(right_base: list[int], right_ft: list[int]) -> EV.Evaluation:
    qs = EV.default_question_set().subset(len(right_base))
    ev = EV.Evaluation.new(qs, ["base_rag", "ft_rag"])
    src = (RetrievedChunk(CTX, "catalogue.pdf", 1, 0.9),)
    for cfg, rights in (("base_rag", right_base), ("ft_rag", right_ft)):
        for q, ok in zip(qs.questions, rights, strict=True):
            ev.records.append(
                EV.EvalRecord(
                    q.id,
                    q.question,
                    cfg,
                    cfg,
                    True,
                    answer="It costs $149." if ok else "It costs $999 in Narnia.",
                    fact_score=float(ok),
                    style_applicable=True,
                    style_ok=cfg == "ft_rag",
                    hit=True,
                    sources=src,
                    total_s=1.0 + ok,
                    claims_stated=1 if ok else 2,
                    claims_supported=1 if ok else 0,
                    unsupported_claims=() if ok else ("$999", "Narnia"),
                    local=True,
                )
            )
    ev.questions_done, ev.finished = len(qs), True
    return ev


def _open(data_dir) -> AppTest:
    return open_page("pages/evaluate.py", embedded_settings(data_dir), timeout=120)


def test_results_show_intervals_paired_comparison_and_groundedness(data_dir):
    at = _open(data_dir)
    ev = _evaluation([0, 0, 0, 0, 0, 0, 1, 1], [1] * 8)
    at.session_state["eval_result"] = ev
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "Configuration" in d.value.columns)
    assert list(table["± facts"]) == ["7–59%", "68–100%"]  # Wilson intervals of 2/8 and 8/8
    assert list(table["Grounded"]) == [25.0, 100.0]
    assert any("95% intervals" in c.value for c in at.caption)
    sentences = [as_plain(m.value) for m in at.success]
    assert any(s.startswith("Fine-tuned + RAG beat Base + RAG on 6 questions and lost on 0") for s in sentences)
    assert {b.label for b in at.get("download_button")} >= {"Results as JSON", "Summary with 95% intervals (CSV)"}
    # per-question diff: the six questions where they differ
    diff = next(d.value for d in at.dataframe if "outcome" in d.value.columns)
    assert len(diff) == 6 and set(diff["outcome"]) == {"B right, A wrong"}
    # drill-down: the offline groundedness line names what the sources do not support
    assert any("not found: $999, Narnia" in as_plain(m.value) for m in at.markdown)
    # no endpoint configured: the judge says why it is not available
    assert any("too small to judge" in i.value for i in at.info)


def test_saved_runs_compare_with_a_baseline_and_import(data_dir):
    at = _open(data_dir)
    ws = at.session_state["workspace_id"]
    hist = H.RunHistory(data_dir, ws)
    old, new = _evaluation([1, 0, 0, 0], [1, 0, 0, 0]), _evaluation([1, 1, 1, 0], [1, 1, 1, 1])
    hist.save(H.SavedRun.from_evaluation(old, {"top_k": 1}))
    hist.save(H.SavedRun.from_evaluation(new, {"top_k": 2}))
    at.session_state["eval_hist_base"], at.session_state["eval_hist_new"] = old.id, new.id
    at.run()
    assert not at.exception, at.exception
    assert any("top_k: '1' → '2'" in as_plain(c.value) for c in at.caption)
    texts = [as_plain(m.value) for m in at.info] + [as_plain(m.value) for m in at.success]
    assert any(
        "Fine-tuned + RAG in the later run beat Fine-tuned + RAG in the baseline on 3 questions and lost on 0" in t
        for t in texts
    ), texts
    # import: a bad file is a message, a good one becomes the baseline
    at.file_uploader(key="eval_hist_upload").set_value(("bad.json", b'{"format": "x"}', "application/json")).run()
    assert not at.exception and any("not an evaluation run" in as_plain(e.value) for e in at.error)
    other = _evaluation([0, 0], [1, 1])
    data = H.SavedRun.from_evaluation(other, {}).to_json().encode()
    at.file_uploader(key="eval_hist_upload").set_value(("run.json", data, "application/json")).run()
    assert not at.exception, at.exception
    assert at.session_state["eval_hist_base"] == other.id and (hist.folder / f"{other.id}.json").is_file()
    assert json.loads((hist.folder / f"{other.id}.json").read_text())["imported"] is True


def test_your_own_questions_table_becomes_the_question_set(data_dir):
    at = _open(data_dir)
    at.session_state["eval_draft_rows"] = [
        {
            "id": "d1",
            "question": "How much is the Kestrel 2 Tent?",
            "expected_facts": "$149",
            "expected_source": "catalogue.pdf",
            "expected_page": 3,
            "expected_style": "any",
        },
        {
            "id": "d2",
            "question": "How long is the return window?",
            "expected_facts": "45 days",
            "expected_source": "policies.md",
            "expected_page": None,
            "expected_style": "any",
        },
    ]
    at.segmented_control(key="eval_source").set_value("draft").run()
    assert not at.exception, at.exception
    assert any("too small to write usable questions" in i.value for i in at.info)  # embedded only: says so
    assert any(e.label == "The questions (2)" for e in at.expander)
    assert [b for b in at.button if b.key == "eval_go"]


def test_the_judge_on_the_page_scores_rag_answers_through_an_endpoint(data_dir):
    """The base slot points at a real local server standing in for a hosted judge (tests/test_evaluate_judge.py)."""
    from ragft.settings import EndpointConfig
    from tests.test_evaluate_judge import JudgeServer

    server = JudgeServer()
    try:
        s = embedded_settings(data_dir).with_(
            base=EndpointConfig(provider="custom", model="judge-model", base_url=server.url, api_key="own-key")
        )
        at = open_page("pages/evaluate.py", s, timeout=120)
        at.session_state["eval_result"] = _evaluation([1, 0], [1, 1])
        at.run()
        assert not at.exception, at.exception
        at.button(key="eval_judge_go").click().run()
        assert not at.exception, at.exception
        ev = at.session_state["eval_result"]
        assert [r.faithfulness for r in ev.records] == [1.0, 0.0, 1.0, 1.0]  # "$999" is not in the context
        judge_calls = [r for r in at.session_state["ledger"].records() if r.configuration == "judge"]
        assert len(judge_calls) == 8  # two per RAG answer, on the session's ledger
        table = next(d.value for d in at.dataframe if "Configuration" in d.value.columns)
        assert list(table["Faithfulness (judge)"]) == [50.0, 100.0]
        saved = H.RunHistory(data_dir, at.session_state["workspace_id"]).load(ev.id)
        assert saved.records[1].faithfulness == 0.0 and server.url not in saved.to_json()
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture()
def drafting_server():
    with serve_drafting() as url:
        yield url


def test_drafting_from_uploaded_documents_with_an_endpoint_fills_the_table(data_dir, drafting_server):
    """An uploaded document in the workspace, the base slot on a local server standing in for a hosted model."""
    from ragft.knowledge.base import KnowledgeBase
    from ragft.knowledge.store import make_client
    from ragft.models.embeddings import make_embedding_function
    from ragft.settings import EndpointConfig

    s = embedded_settings(data_dir).with_(
        base=EndpointConfig(provider="custom", model="drafter", base_url=drafting_server, api_key="own-key")
    )
    at = open_page("pages/evaluate.py", s, timeout=180)
    kb = KnowledgeBase(make_client(s), make_embedding_function(s.embedding), at.session_state["workspace_id"])
    doc = b"The Kestrel 2 Tent costs $149 and weighs 1.8 kg.\n\nReturns are accepted within 45 days of delivery.\n"
    assert kb.ingest_files([("shop.md", doc)])[0].ok
    at.segmented_control(key="eval_source").set_value("draft").run()
    assert not at.exception, at.exception
    assert not any("too small" in i.value for i in at.info)  # an endpoint model is configured
    at.number_input(key="eval_draft_n").set_value(2)
    at.button(key="eval_draft_go").click().run()
    assert not at.exception, at.exception
    rows = at.session_state["eval_draft_rows"]
    assert rows and all(r["expected_source"] == "shop.md" for r in rows)
    assert len([r for r in at.session_state["ledger"].records() if r.configuration == "drafting"]) >= 1
    assert any(e.label == f"The questions ({len(rows)})" for e in at.expander)


def test_the_tickets_set_is_a_shipped_choice_on_the_page(data_dir):
    at = open_page("pages/evaluate.py", embedded_settings(data_dir))
    at.segmented_control(key="eval_source").set_value("tickets").run()
    assert not at.exception, at.exception
    assert any("Format, not facts" in c.value for c in at.caption)
    assert [b for b in at.button if b.key == "eval_go"]
