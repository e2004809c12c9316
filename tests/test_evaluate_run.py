"""End-to-end: a small subset of the shipped questions through all four configurations on the embedded default.

Real parts only: the bundled SmolLM2 (llama.cpp in-process), the committed LoRA adapter for the fine-tuned slot,
the local MiniLM embedder and the sample scenario indexed into an embedded Chroma in a temp dir, exactly as the
app's knowledge base does it. Asserts the *direction* of the thesis, not the absolute numbers:
RAG beats no-RAG on facts; the fine-tuned model beats the base model on style.
If the adapter is not installed the fine-tuned configurations error, score 0, and the style assertions FAIL.
"""

from __future__ import annotations

import threading

import pytest

from ragft import evaluation as EV
from ragft.costs.ledger import SessionLedger
from ragft.settings import Settings

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

SUBSET = 4


def embedded_setup(data_dir):
    """(model_for, retrieve, settings) as the app wires them on the embedded default, outside Streamlit."""
    s = Settings(data_dir=data_dir)
    model_for, retrieve, _ = EV.standalone_wiring(s)
    return model_for, retrieve, s


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("eval-data")
    model_for, retrieve, s = embedded_setup(data_dir)
    ev = EV.Evaluation.new(EV.default_question_set().subset(SUBSET), ["base", "base_rag", "ft", "ft_rag"])
    ledger = SessionLedger()
    progress = list(
        EV.run_evaluation(
            ev,
            model_for=model_for,
            retrieve=retrieve,
            ledger=ledger,
            system_prompt=s.system_prompt,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_k=s.top_k,
        )
    )
    print("\n" + EV.format_table(ev.summaries()))
    for r in ev.records:
        print(
            f"{r.configuration:8s} {r.question_id:24s} facts={r.fact_score:.0f} style={r.style_ok} "
            f"hit={r.hit}/{r.page_hit} err={r.error} answer={r.answer[:90]!r}"
        )
    return ev, progress, ledger, (model_for, retrieve)


def by_config(ev):
    return {s.configuration: s for s in ev.summaries()}


def test_run_reports_progress_per_question_and_configuration(evaluation):
    ev, progress, ledger, _ = evaluation
    assert ev.finished and not ev.stopped and ev.questions_done == SUBSET
    assert [p.done for p in progress] == list(range(1, SUBSET * 4 + 1))
    assert all(p.total == SUBSET * 4 for p in progress)
    assert [p.record.configuration for p in progress[:4]] == ["base", "base_rag", "ft", "ft_rag"]
    # Real answers, timed and metered through the ledger like the Compare page.
    base = [r for r in ev.records if r.configuration in ("base", "base_rag")]
    assert all(r.answer.strip() and r.error is None for r in base)
    assert all(r.ttft_s and r.total_s and r.prompt_tokens and r.completion_tokens for r in base)
    assert all(r.cost == 0 and r.local for r in base)
    assert len([r for r in ledger.records() if r.kind == "chat"]) >= len(base)
    # RAG prompts are longer (the context) and retrieval found the expected document for most questions.
    s = by_config(ev)
    assert s["base_rag"].prompt_tokens_per_question > s["base"].prompt_tokens_per_question + 50
    assert s["base_rag"].hit_at_k is not None and s["base_rag"].hit_at_k >= 0.75
    assert s["base"].hit_at_k is None


@pytest.mark.parametrize("rag,plain", [("base_rag", "base"), ("ft_rag", "ft")])
def test_rag_beats_no_rag_on_facts(evaluation, rag, plain):
    s = by_config(evaluation[0])
    assert s[rag].fact_accuracy > s[plain].fact_accuracy, (s[rag], s[plain])


def test_fine_tuned_beats_base_on_style(evaluation):
    ev = evaluation[0]
    s = by_config(ev)
    ft_errors = [r.error for r in ev.records if r.configuration in ("ft", "ft_rag") and r.error]
    assert not ft_errors, f"the fine-tuned slot did not answer (is the adapter committed?): {ft_errors[0]}"
    assert s["ft"].style_adherence > s["base"].style_adherence
    assert s["ft_rag"].style_adherence > s["base_rag"].style_adherence


def test_stop_between_questions_keeps_what_was_scored(evaluation):
    _, _, _, (model_for, retrieve) = evaluation
    ev = EV.Evaluation.new(EV.default_question_set().subset(3), ["base"])
    stop = threading.Event()
    seen = []
    for p in EV.run_evaluation(ev, model_for=model_for, retrieve=retrieve, cancel=stop, max_tokens=8):
        seen.append(p)
        stop.set()  # the user pressed Stop while the first question was being scored
    assert len(seen) == 1 and ev.stopped and not ev.finished and ev.questions_done == 1
    assert [r.question_id for r in ev.records] == [ev.question_set.questions[0].id]
    assert EV.evidence_rows(ev)[0]["configuration"] == "base"


def test_stop_in_the_background_run(evaluation):
    _, _, _, (model_for, retrieve) = evaluation
    ev = EV.Evaluation.new(EV.default_question_set().subset(3), ["base", "base_rag"])
    run = EV.start_evaluation(ev, model_for=model_for, retrieve=retrieve, max_tokens=8, owner="ws-test")
    assert run.kind == "evaluation" and run.owner == "ws-test" and "3 question(s)" in run.what
    kinds = []
    for event in run.events(poll_s=0.05):
        kinds.append(event.kind)
        if event.kind == EV.PROGRESS:
            assert isinstance(event.data, EV.EvalProgress) and event.data.done >= 1
            run.cancel()
    assert run.wait(timeout_s=300) is ev
    assert run.error is None and ev.stopped and ev.questions_done < 3
    assert len(ev.records) == 2 * ev.questions_done
    assert kinds[-1] == "finished" and "error" not in kinds


def test_a_failing_wiring_becomes_the_runs_error():
    """A bug in what the run was given (here a model factory that is not callable) ends the run with an error
    event and a message for the page; what was scored before stays."""
    ev = EV.Evaluation.new(EV.default_question_set().subset(2), ["base"])
    run = EV.start_evaluation(ev, model_for=None, retrieve=None, max_tokens=8, nonsense_option=1)
    events = list(run.events(poll_s=0.05, timeout_s=60))
    assert [e.kind for e in events if e.kind != "tick"] == ["error", "finished"]
    assert run.done and run.error.startswith("TypeError") and isinstance(run.exception, TypeError)
    assert ev.records == [] and not ev.finished
