"""AppTest for the Fine-tune page: presets, editor validation, uploads with line errors, cost, adapters, slot."""

from __future__ import annotations

import json

import pytest

from components.shared.safe_text import as_plain
from ragft.training import adapters as A
from ragft.training.adapters import WORKSPACE_PREFIX
from tests.apptest_helpers import embedded_settings, open_page

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

WS = "testworkspace01"


def _open(tmp_path):
    at = open_page("pages/finetune.py", embedded_settings(tmp_path))
    return at


def _texts(at) -> str:
    parts = [e.value for e in at.error] + [e.value for e in at.warning] + [e.value for e in at.info]
    parts += [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.success]
    return "\n".join(str(p) for p in parts)


def test_page_opens_with_the_brand_voice_preset(tmp_path):
    at = _open(tmp_path)
    assert at.title[0].value == "Fine-tune"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Examples"] == "20"
    assert int(metrics["Tokens"].replace(",", "")) > 500
    text = _texts(at)
    assert "free, about" in text and "minutes** of this CPU" in text
    assert any("gpt-4o-mini" in d.value.to_string() for d in at.dataframe)
    assert not at.error


def test_loading_the_json_preset_changes_the_examples(tmp_path):
    at = _open(tmp_path)
    at.selectbox(key="ft_preset_pick").select("tickets")
    at.run()
    at.button(key="ft_load_preset").click()
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Examples"] == "40"
    assert "JSON validity" in _texts(at)


def test_an_empty_preset_table_refuses_training(tmp_path):
    at = _open(tmp_path)
    at.session_state["ft_rows"] = [{"system": "", "prompt": "Hi", "response": "Hello"}]
    at.session_state["ft_editor_version"] = 99
    at.run()
    assert not at.exception
    errors = "\n".join(e.value for e in at.error)
    assert "at least 5 are needed" in errors
    train = at.button(key="ft_train") if any(b.key == "ft_train" for b in at.button) else None
    if train is not None:
        assert train.disabled


def test_adapter_in_the_workspace_is_listed_and_becomes_the_finetuned_slot(tmp_path):
    from ragft.paths import DEFAULT_ADAPTER

    at = _open(tmp_path)
    ws = at.session_state["workspace_id"]
    folder = A.adapters_dir(tmp_path, ws) / "my-voice"
    folder.mkdir(parents=True)
    (folder / "adapter.gguf").write_bytes(DEFAULT_ADAPTER.read_bytes())
    A.write_json(
        folder / "settings.json", {"name": "my-voice", "created": 1.0, "examples": 20, "config": {"steps": 20}}
    )
    A.write_json(
        folder / "check.json",
        {"check": "brand voice", "n": 2, "base": {"n": 2, "ok": 0.0}, "adapter": {"n": 2, "ok": 1.0}, "samples": []},
    )
    staging = A.adapters_dir(tmp_path, ws) / ".staging-123"
    staging.mkdir()
    (staging / "adapter.gguf").write_bytes(b"half")
    at.run()
    assert not at.exception
    text = _texts(at)
    assert "**my\\-voice**" in text  # the adapter's name is the participant's text: escaped, shown in bold
    assert "staging" not in text
    at.button(key="ft_use_my-voice").click()
    at.run()
    assert not at.exception
    ft = at.session_state["settings"].finetuned
    assert ft.lora_path == WORKSPACE_PREFIX + "my-voice"
    assert ft.is_embedded
    assert "now uses 'my-voice'" in as_plain(_texts(at))


def test_malformed_jsonl_upload_lists_lines_and_keeps_good_ones(tmp_path):
    at = _open(tmp_path)
    good = json.dumps({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})
    data = "\n".join([good, "{broken", json.dumps({"messages": [{"role": "bot", "content": "x"}]}), good])
    at.file_uploader(key="ft_upload").set_value(("mine.jsonl", data.encode(), "application/json")).run()
    at.button(key="ft_use_upload").click().run()
    assert not at.exception
    errors = as_plain("\n".join(e.value for e in at.error))
    assert "line 2: is not valid JSON" in errors and "line 3:" in errors
    assert {m.label: m.value for m in at.metric}["Examples"] == "2"
    assert "is a duplicate of example 1" in errors and "at least 5 are needed" in errors


def test_bad_csv_upload_names_the_header(tmp_path):
    at = _open(tmp_path)
    at.file_uploader(key="ft_upload").set_value(("mine.csv", b"question,answer\nHi,Hello\n", "text/csv")).run()
    at.button(key="ft_use_upload").click().run()
    assert not at.exception
    assert "row 1: the header needs the columns prompt and response" in as_plain("\n".join(e.value for e in at.error))
    assert {m.label: m.value for m in at.metric}["Examples"] == "20"  # the preset is kept


def test_train_queues_behind_a_running_training_shows_position_and_stops(tmp_path):
    import fcntl
    import time

    from ragft.training import jobs

    lock = jobs.lock_path(tmp_path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another training holds the server's trainer
        at = _open(tmp_path)
        if any(i.key == "ft_name" for i in at.text_input):
            at.text_input(key="ft_name").input("bad name!").run()
            at.button(key="ft_train").click().run()
            assert "not a valid adapter name" in "\n".join(e.value for e in at.error)
            at.text_input(key="ft_name").input("my-voice").run()
            at.button(key="ft_train").click().run()
            assert not at.exception
            job_id = at.session_state["ft_job"]
            deadline = time.monotonic() + 60
            while jobs.status(tmp_path, job_id).data.get("position") != 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            at.run()
            assert "1 training(s) ahead of yours" in _texts(at)
            at.button(key=f"ft_stop_{job_id}").click().run()
            deadline = time.monotonic() + 60
            while jobs.status(tmp_path, job_id).state != "stopped" and time.monotonic() < deadline:
                time.sleep(0.2)
            at.run()
            assert jobs.status(tmp_path, job_id).state == "stopped"
            assert "nothing was saved" in _texts(at).lower()
            assert A.list_adapters(tmp_path, at.session_state["workspace_id"]) == []
        else:  # training dependencies not installed: the page says how to enable them
            assert "scripts/setup.sh --train" in _texts(at)
