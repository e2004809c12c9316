"""The facilitator's bounds on training: steps refused over RAGFT_TRAIN_MAX_STEPS (core and Fine-tune page), a
job stopped at RAGFT_TRAIN_MAX_SECONDS, a queue of three jobs is one worker process, and Stop from the
Facilitator page ends a running training. Real worker processes, real torch; every training is tiny."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.training import adapters as A
from ragft.training import jobs
from ragft.training.config import TrainConfig, TrainingOverLimit, TrainLimits
from ragft.training.trainer import training_available
from tests.apptest_helpers import open_facilitator
from tests.training_helpers import EXAMPLES, TINY, wait_final, wait_for

pytestmark = pytest.mark.slow  # starts training processes (torch)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse"
needs_torch = pytest.mark.skipif(not training_available()[0], reason="training dependencies are not installed")


def worker_pids(data_dir: Path) -> list[int]:
    """Live processes running ``ragft.training.worker`` on a job folder under ``data_dir``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"ragft.training.worker" in cmd and any(str(data_dir).encode() in c for c in cmd) and state != "Z":
            found.append(int(proc.name))
    return found


def test_more_steps_than_the_server_allows_are_refused_and_nothing_is_queued(tmp_path):
    with pytest.raises(TrainingOverLimit, match="at most 5 training steps per job; you asked for 6"):
        jobs.submit(tmp_path, "workspace-over", "voice", EXAMPLES, TrainConfig(steps=6), limits=TrainLimits(5, 60))
    assert jobs.all_jobs(tmp_path) == [] and worker_pids(tmp_path) == []


@needs_torch
def test_the_fine_tune_page_refuses_steps_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAGFT_TRAIN_MAX_STEPS", "5")
    at = AppTest.from_file(str(ROOT / "pages" / "finetune.py"), default_timeout=120).run()
    assert not at.exception
    assert at.number_input(key="ft_steps").value == 5  # the default stays within the limit
    at.number_input(key="ft_steps").set_value(50)
    at.text_input(key="ft_name").input("my-voice").run()
    at.button(key="ft_train").click().run()
    errors = "\n".join(as_plain(e.value) for e in at.error)
    assert "at most 5 training steps per job; you asked for 50" in errors
    assert jobs.all_jobs(tmp_path) == [] and worker_pids(tmp_path) == []


@needs_torch
def test_a_queue_of_three_is_one_worker_process_and_the_time_limit_stops_it(tmp_path):
    limits = TrainLimits(max_steps=10, max_seconds=10)  # less than loading the base model takes here
    ids = [jobs.submit(tmp_path, f"workspace-{i}", f"voice-{i}", EXAMPLES, TINY, limits=limits) for i in range(3)]
    assert jobs.queue(tmp_path) == ids
    time.sleep(1.0)
    assert len(worker_pids(tmp_path)) == 1
    assert [jobs.status(tmp_path, j).data.get("pid") for j in ids[1:]] == [None, None]
    assert [jobs.status(tmp_path, j).position for j in ids] == [0, 1, 2]
    jobs.stop(tmp_path, ids[2])  # a queued job is dropped without ever starting
    assert jobs.status(tmp_path, ids[2]).state == "stopped" and ids[2] not in jobs.queue(tmp_path)
    first = wait_final(tmp_path, ids[0], timeout=120)
    assert first.state == "stopped" and "time limit of 10 s" in first.message, first.message
    assert A.list_adapters(tmp_path, "workspace-0") == []
    # its process exited: the next job's worker started in its turn, alone
    wait_for(lambda: jobs.status(tmp_path, ids[1]).data.get("pid"), timeout=30)
    assert len(worker_pids(tmp_path)) == 1
    jobs.stop(tmp_path, ids[1])
    wait_final(tmp_path, ids[1], timeout=60)
    wait_for(lambda: worker_pids(tmp_path) == [], timeout=30)


@needs_torch
def test_the_facilitator_lists_and_stops_a_running_training(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAGFT_FACILITATOR_PASSWORD", PASSWORD)
    job = jobs.submit(tmp_path, "workspace-fac", "long-voice", EXAMPLES, TrainConfig(steps=200, max_len=96))
    wait_for(lambda: jobs.status(tmp_path, job).state in ("loading", "training"), timeout=60)
    pid = jobs.status(tmp_path, job).data["pid"]
    at = open_facilitator(PASSWORD)
    rows = next(d.value for d in at.dataframe if "Adapter" in d.value.columns).to_dict("records")
    assert [r["Adapter"] for r in rows] == ["long-voice"] and rows[0]["State"] in ("loading", "training")
    at.button(key="fac_stop_training").click().run()
    assert not at.exception
    st = wait_final(tmp_path, job, timeout=60)
    assert st.state == "stopped" and "nothing was saved" in st.message.lower()
    wait_for(lambda: not jobs.pid_alive(pid), timeout=30)
    assert A.list_adapters(tmp_path, "workspace-fac") == []
