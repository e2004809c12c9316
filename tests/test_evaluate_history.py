"""Runs over time: saved per workspace without keys or server paths, listed, compared, exported and re-imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragft import evaluation as EV
from ragft.evaluation import history as H
from ragft.knowledge.workspaces import new_workspace_id
from ragft.settings import EndpointConfig, Settings

KEY = "sk-canary-1234567890abcdef"


def _ev(scores: dict[str, list[float]], n: int = 6) -> EV.Evaluation:
    qs = EV.default_question_set().subset(n)
    ev = EV.Evaluation.new(qs, list(scores))
    for cfg, vals in scores.items():
        for q, v in zip(qs.questions, vals, strict=False):
            ev.records.append(
                EV.EvalRecord(
                    q.id, q.question, cfg, cfg, cfg.endswith("rag"), answer=f"{cfg} {v}", fact_score=v, total_s=1.0
                )
            )
    return ev


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path).with_(
        base=EndpointConfig(provider="custom", model="judge-me", base_url="http://10.1.2.3:8000/v1", api_key=KEY),
        finetuned=EndpointConfig(model="smollm2-135m-brandvoice-lora", lora_path=str(tmp_path / "secret" / "x.gguf")),
    )


def test_saved_run_has_settings_but_no_key_or_server_path(tmp_path):
    s = _settings(tmp_path)
    ev = _ev({"base_rag": [1, 1, 0, 0, 1, 0], "ft_rag": [1, 1, 1, 1, 1, 0]})
    ev.records[2].error = f"AdapterMissing: no adapter at {tmp_path}/secret/x.gguf (key {KEY})"
    ws = new_workspace_id()
    hist = H.RunHistory(tmp_path, ws)
    path = hist.save(H.SavedRun.from_evaluation(ev, H.describe_settings(s)))
    assert path.parent == tmp_path / "workspaces" / ws / "evaluations"
    text = path.read_text()
    assert KEY not in text and str(tmp_path) not in text and "10.1.2.3" not in text
    saved = json.loads(text)
    assert saved["settings"]["finetuned"]["adapter"] == "x" and saved["settings"]["top_k"] == s.top_k
    assert saved["settings"]["system_prompt"] == s.system_prompt and saved["question_set_hash"]
    assert "…/x.gguf" in saved["records"][2]["error"] and "[key]" in saved["records"][2]["error"]


def test_list_load_compare_with_a_baseline_and_settings_changes(tmp_path):
    ws = new_workspace_id()
    hist = H.RunHistory(tmp_path, ws)
    s = Settings(data_dir=tmp_path)
    first = _ev({"ft_rag": [1, 0, 0, 0, 1, 0]})
    hist.save(H.SavedRun.from_evaluation(first, H.describe_settings(s)))
    second = _ev({"ft_rag": [1, 1, 1, 1, 0, 0]})
    hist.save(H.SavedRun.from_evaluation(second, H.describe_settings(s.with_(top_k=3))))
    runs = hist.runs()
    assert [r.id for r in runs] == [second.id, first.id]  # newest first
    base, new = hist.load(first.id), hist.load(second.id)
    assert H.same_questions(base, new)
    assert H.settings_changes(base.settings, new.settings) == [("top_k", s.top_k, 3)]
    cmp = EV.compare_runs(base.records, new.records, "ft_rag")
    assert (cmp.b_won, cmp.a_won) == (3, 1)
    assert cmp.sentence().startswith("Fine-tuned + RAG in this run beat Fine-tuned + RAG in the baseline run on 3")
    assert [d.question_id for d in cmp.discordant()] == [q.id for q in first.question_set.questions[1:5]]
    assert new.summaries()[0].fact_accuracy == pytest.approx(4 / 6)
    with pytest.raises(H.RunNotFound):
        hist.load("nope")
    with pytest.raises(H.RunNotFound):
        hist.load("../../etc")


def test_export_and_reimport_into_another_workspace(tmp_path):
    ev = _ev({"base": [0, 0, 1, 0, 0, 0], "ft": [0, 1, 0, 0, 0, 0]})
    run = H.SavedRun.from_evaluation(ev, H.describe_settings(Settings(data_dir=tmp_path)))
    data = run.to_json().encode()
    other = H.RunHistory(tmp_path, new_workspace_id())
    back = other.import_bytes(data, "/home/someone/evaluation-x.json")
    assert back.imported and back.note == "from evaluation-x.json"
    again = other.load(run.id)
    assert again.records == run.records and again.imported
    assert [s.to_dict() for s in again.summaries()] == [s.to_dict() for s in run.summaries()]


@pytest.mark.parametrize(
    "data, says",
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not an evaluation run"),
        (json.dumps({"format": H.FORMAT, "version": 99}).encode(), "version 99"),
        (
            json.dumps({"format": H.FORMAT, "version": 1, "id": "a", "created": "2026-01-01T00:00:00"}).encode(),
            "'configurations' is missing",
        ),
        (
            json.dumps(
                {
                    "format": H.FORMAT,
                    "version": 1,
                    "id": "../x",
                    "created": "2026-01-01",
                    "configurations": [],
                    "records": [],
                }
            ).encode(),
            "not a run id",
        ),
        (
            json.dumps(
                {
                    "format": H.FORMAT,
                    "version": 1,
                    "id": "a",
                    "created": "2026-01-01",
                    "configurations": ["base"],
                    "records": [{"question_id": "q"}],
                }
            ).encode(),
            "record 1",
        ),
        (
            json.dumps(
                {
                    "format": H.FORMAT,
                    "version": 1,
                    "id": "a",
                    "created": "yesterday",
                    "configurations": [],
                    "records": [],
                }
            ).encode(),
            "yesterday",
        ),
    ],
)
def test_a_bad_run_file_is_a_typed_error(tmp_path, data, says):
    with pytest.raises(H.RunFileError) as err:
        H.RunHistory(tmp_path, new_workspace_id()).import_bytes(data, "bad.json")
    assert says in err.value.message and "Export run as JSON" in err.value.message


def test_an_unreadable_saved_file_is_skipped_and_old_runs_are_pruned(tmp_path, monkeypatch):
    hist = H.RunHistory(tmp_path, new_workspace_id())
    monkeypatch.setattr(H, "MAX_RUNS", 2)
    ids = []
    for _ in range(3):
        ev = _ev({"base": [1, 0, 0, 0, 0, 0]})
        ids.append(ev.id)
        hist.save(H.SavedRun.from_evaluation(ev, {}))
    (hist.folder / "broken.json").write_text("{")
    assert {r.id for r in hist.runs()} <= set(ids) and len(hist.runs()) <= 2
    assert len(list(hist.folder.glob("*.json"))) == 3  # two runs and the broken file
