"""Training jobs with real worker processes: queue positions, Stop, a killed worker, disk full, a real run.

The queue tests hold the server's lock file themselves, so the workers wait in the queue without loading
anything. The real run trains 2 steps on 5 examples, converts with llama.cpp's converter and loads the GGUF.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal

import pytest

from ragft.training import adapters as A
from ragft.training import jobs
from ragft.training.converter import find_converter
from ragft.training.trainer import training_available
from tests.training_helpers import EXAMPLES, TINY, wait_final, wait_for

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


@pytest.fixture
def held_lock(tmp_path):
    path = jobs.lock_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    fcntl.flock(fh, fcntl.LOCK_EX)
    yield fh
    fh.close()


def test_two_trainings_at_once_queue_with_positions_and_stop(tmp_path, held_lock):
    a = jobs.submit(tmp_path, "workspace-aaaa", "voice-a", EXAMPLES, TINY)
    b = jobs.submit(tmp_path, "workspace-bbbb", "voice-b", EXAMPLES, TINY)
    assert jobs.queue(tmp_path) == [a, b]
    assert jobs.status(tmp_path, b).data.get("pid") is None  # no process until its turn
    wait_for(lambda: jobs.status(tmp_path, a).position == 1)  # behind the training that holds the lock
    assert jobs.status(tmp_path, b).position >= 1
    assert jobs.status(tmp_path, a).state == "queued"
    with pytest.raises(jobs.TrainingRefused):  # one training per workspace at a time
        jobs.submit(tmp_path, "workspace-aaaa", "voice-c", EXAMPLES, TINY)
    jobs.stop(tmp_path, a)
    st = wait_final(tmp_path, a)
    assert st.state == "stopped" and "nothing was saved" in st.message.lower()
    assert jobs.queue(tmp_path) == [b]
    wait_for(lambda: jobs.status(tmp_path, b).data.get("pid"))  # a's process ended: b's worker starts
    wait_for(lambda: jobs.status(tmp_path, b).position == 1)
    assert jobs.status(tmp_path, b).state == "queued"
    jobs.stop(tmp_path, b)
    wait_for(lambda: jobs.status(tmp_path, b).state == "stopped")
    assert A.list_adapters(tmp_path, "workspace-aaaa") == []


def test_a_killed_training_process_is_reported_and_nothing_is_listed(tmp_path, held_lock):
    job = jobs.submit(tmp_path, "workspace-kill", "voice", EXAMPLES, TINY)
    pid = wait_for(lambda: jobs.status(tmp_path, job).data.get("pid"))
    staging = A.staging_dir(tmp_path, "workspace-kill", job)  # as if it had started writing
    (staging / "adapter.gguf").write_bytes(b"half")
    os.kill(pid, signal.SIGKILL)
    st = wait_final(tmp_path, job, timeout=30)
    assert st.state == "failed" and "ended unexpectedly" in st.message
    assert A.list_adapters(tmp_path, "workspace-kill") == []
    assert jobs.queue(tmp_path) == []


def test_bad_names_and_an_existing_adapter_are_refused(tmp_path):
    with pytest.raises(A.AdapterNameError):
        jobs.prepare(tmp_path, "workspace-name", "My Voice!", EXAMPLES, TINY)
    (A.adapters_dir(tmp_path, "workspace-name") / "taken").mkdir(parents=True)
    with pytest.raises(jobs.TrainingRefused, match="already exists"):
        jobs.prepare(tmp_path, "workspace-name", "taken", EXAMPLES, TINY)


def test_disk_full_while_saving_is_a_clear_error():
    with pytest.raises(OSError) as err:
        with open("/dev/full", "w") as fh:
            fh.write("x" * 10)
    exc = A.save_error(err.value)
    assert err.value.errno == errno.ENOSPC
    assert "disk is full" in exc.message and "Nothing was saved" in exc.message


def test_publish_is_atomic_and_never_overwrites(tmp_path):
    staging = A.staging_dir(tmp_path, "workspace-pub", "job1")
    (staging / "adapter.gguf").write_bytes(b"gguf")
    A.write_json(staging / "settings.json", {"name": "v1", "created": 1})
    assert A.list_adapters(tmp_path, "workspace-pub") == []  # staging is never listed
    A.publish(staging, "v1")
    assert [a.name for a in A.list_adapters(tmp_path, "workspace-pub")] == ["v1"]
    other = A.staging_dir(tmp_path, "workspace-pub", "job2")
    with pytest.raises(A.AdapterSaveFailed, match="already exists"):
        A.publish(other, "v1")
    assert set(A.workspace_adapter_choices(tmp_path, "workspace-pub")) == {"yours:v1"}


needs_training = pytest.mark.skipif(
    not training_available()[0] or find_converter() is None,
    reason="training dependencies not installed (bash scripts/setup.sh --train)",
)


@needs_training
@pytest.mark.timeout(1500)
def test_real_training_stop_during_conversion_then_a_loadable_adapter(tmp_path):
    from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine
    from ragft.paths import smollm2_gguf

    ws = "workspace-real"
    first = jobs.submit(tmp_path, ws, "stopped-one", EXAMPLES, TINY)
    wait_for(lambda: jobs.status(tmp_path, first).state in ("converting",) + jobs.FINAL, timeout=900, every=0.05)
    assert jobs.status(tmp_path, first).state == "converting"
    rows = jobs.loss_log(tmp_path, first)
    assert [r["step"] for r in rows] == [1, 2] and all(r["loss"] > 0 for r in rows)
    jobs.stop(tmp_path, first)
    st = wait_final(tmp_path, first, timeout=60)
    assert st.state == "stopped"
    assert A.list_adapters(tmp_path, ws) == []

    job = jobs.submit(
        tmp_path,
        ws,
        "tiny-voice",
        EXAMPLES,
        TINY,
        check={"kind": "brand"},
        heldout=[{"system": "", "prompt": "Hi", "expected": ""}],
    )
    st = wait_final(tmp_path, job, timeout=900, every=0.5)
    assert st.state == "done", st.message
    [adapter] = A.list_adapters(tmp_path, ws)
    assert adapter.name == "tiny-voice" and adapter.gguf.stat().st_size > 100_000
    assert adapter.settings["examples"] == 5 and adapter.settings["config"]["steps"] == 2
    assert (adapter.folder / "loss.csv").read_text().count("\n") == 3
    assert (adapter.folder / "peft" / "adapter_config.json").is_file()
    assert adapter.check is not None and adapter.check["n"] == 1 and "ok" in adapter.check["adapter"]
    model = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), adapter.gguf, n_ctx=512), adapter.model_id)
    out = model.complete([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    assert out.usage.completion_tokens >= 1
