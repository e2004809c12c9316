"""Class mode with real parts: a participant's evaluation (against the latency server on 127.0.0.1) stops when its
session is gone, through the process's run registry and the class database; the facilitator's stop reaches a run
in another process through the database; a waiting panel's place in the queue for the embedded model decreases
as two participants ask at once; the sidebar meter's fragment keeps the session alive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ragft import evaluation as EV
from ragft.answering import compare as C
from ragft.classroom import tracking
from ragft.models import fair
from ragft.models.chat import OpenAICompatibleModel
from ragft.models.embedded import EmbeddedChatModel
from ragft.models.pool import EnginePool
from ragft.paths import smollm2_gguf
from ragft.runs import registry
from ragft.settings import EndpointConfig
from ragft.store import open_store
from ragft.store import records as R
from tests.fake_latency_server import LatencyServer

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
PASSWORD = "correct horse"


def _until(check, timeout_s: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_an_evaluation_stops_when_its_session_sends_no_heartbeat(data_dir, monkeypatch):
    store = open_store(data_dir)
    monkeypatch.setattr(registry(), "idle_s", 1.0)  # a minute in the app; a second here
    with LatencyServer(token_delay_s=0.02, first_token_s=0.02, models=("fake-base",)) as srv:
        model = OpenAICompatibleModel(
            EndpointConfig(provider="custom", model="fake-base", base_url=srv.base_url, max_retries=0, timeout_s=30)
        )
        ev = EV.Evaluation.new(EV.default_question_set(), ["base"])
        run = EV.start_evaluation(ev, model_for=lambda cfg: model, retrieve=None, max_tokens=20, owner="ws-gone")
        tracking.track(store, run)
        assert [row.run_id for row in R.running(store)] == [run.id]
        alive_until = time.monotonic() + 2.5  # the session beats for longer than the timeout: the run goes on
        while time.monotonic() < alive_until:
            registry().touch("ws-gone")
            time.sleep(0.1)
        assert not run.cancelled and ev.questions_done >= 1
        run.wait(60)  # the session is gone: no more heartbeats
    assert run.cancelled and ev.stopped and not ev.finished
    assert ev.questions_done < len(ev.question_set)
    assert R.running(store) == []
    summaries = R.eval_summaries(store, "ws-gone")
    assert [s.configuration for s in summaries] == ["base"] and summaries[0].questions == ev.questions_done


PARTICIPANT = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from ragft import evaluation as EV
    from ragft.classroom import tracking
    from ragft.models.chat import OpenAICompatibleModel
    from ragft.runs import registry
    from ragft.settings import EndpointConfig
    from ragft.store import open_store
    from tests.fake_latency_server import LatencyServer

    store = open_store(sys.argv[2])
    registry().start_reaper(every_s=0.2)
    with LatencyServer(token_delay_s=0.02, first_token_s=0.02, models=("fake-base",)) as srv:
        model = OpenAICompatibleModel(EndpointConfig(provider="custom", model="fake-base", base_url=srv.base_url,
                                                     max_retries=0, timeout_s=30))
        ev = EV.Evaluation.new(EV.default_question_set(), ["base"])
        run = EV.start_evaluation(ev, model_for=lambda cfg: model, retrieve=None, max_tokens=20, owner=sys.argv[3])
        tracking.track(store, run)
        print(json.dumps({"run_id": run.id}), flush=True)
        while not run.done:
            registry().touch(sys.argv[3])  # the participant's page is open
            time.sleep(0.1)
    print(json.dumps({"cancelled": run.cancelled, "stopped": ev.stopped, "questions": ev.questions_done,
                      "total": len(ev.question_set)}), flush=True)
""")


def test_the_facilitator_stops_a_run_of_another_process_through_the_database(data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_FACILITATOR_PASSWORD", PASSWORD)
    participant = AppTest.from_file(APP, default_timeout=120)
    participant.run()
    ws = participant.session_state["workspace_id"]
    proc = subprocess.Popen(
        [sys.executable, "-c", PARTICIPANT, str(ROOT), str(data_dir), ws],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        run_id = json.loads(proc.stdout.readline())["run_id"]
        store = open_store(data_dir)
        assert registry().get(run_id) is None  # not this process's run
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("pages/facilitator.py").run()
        at.text_input(key="fac_password").input(PASSWORD)
        at.button[0].click().run()
        room = next(d.value for d in at.dataframe if "Running now" in d.value.columns).to_dict("records")
        assert any("evaluation" in r["Running now"] for r in room)
        at.button(key="fac_stop_run").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert tracking.stop_requested(store, run_id)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["cancelled"] and result["stopped"] and result["questions"] < result["total"]
    assert proc.returncode == 0
    assert R.running(store) == [] and not tracking.stop_requested(store, run_id)


def test_a_waiting_panels_place_in_the_queue_decreases_with_two_participants_asking():
    pool = EnginePool(smollm2_gguf(), max_contexts=1, n_threads=1)
    model = EmbeddedChatModel(pool, "smollm2")
    question = "Describe a good tent for a family of four."
    first = C.start_comparison(
        question, ["base"], model_for=lambda cfg: model, retrieve=None, max_tokens=24, owner="participant-a"
    )
    _until(lambda: first.comparison.panels["base"].phase == C.STREAMING, what="the first answer to stream")
    second = C.start_comparison(
        question, ["base", "ft"], model_for=lambda cfg: model, retrieve=None, max_tokens=12, owner="participant-b"
    )
    keys = [C.panel_key(second.comparison.id, k) for k in ("base", "ft")]
    seen: dict[str, list[int]] = {k: [] for k in keys}
    while not second.done:
        for k in keys:
            place = fair.position(k)
            if place is not None and (not seen[k] or seen[k][-1] != place.ahead):
                seen[k].append(place.ahead)
        time.sleep(0.01)
    first.wait(120)
    assert all(p.phase == C.DONE for p in (*first.comparison.ordered_panels(), *second.comparison.ordered_panels()))
    assert any(s[:2] == [2, 1] for s in seen.values()), seen  # behind the first answer and its own first panel
    assert all(s == sorted(s, reverse=True) for s in seen.values()), seen
    assert all(fair.position(k) is None for k in keys)


def test_the_sidebar_meter_fragment_sends_the_sessions_heartbeat(data_dir):
    def script() -> None:
        import streamlit as st

        from components.shared import cost_meter

        with st.sidebar:
            cost_meter.render_cost_meter()

    at = AppTest.from_function(script, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    ws = at.session_state["workspace_id"]
    silent = registry().silent_for(ws)
    assert silent is not None and silent < 30


@pytest.fixture(autouse=True)
def _no_leftover_runs():
    yield
    for run in registry().active():
        if run.owner in ("ws-gone",):
            run.cancel()
