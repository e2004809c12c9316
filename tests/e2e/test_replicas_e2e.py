"""Browser e2e: two replicas of the app share one room through PostgreSQL and a Chroma server.

A real PostgreSQL (throw-away cluster), a real ``chroma run`` and two ``streamlit run`` processes with separate
local data dirs, both pointed at them (``RAGFT_DATABASE_URL``, ``CHROMA_HOST``), and both model slots on one
OpenAI-compatible server on 127.0.0.1 that streams slowly (``tests/fake_latency_server.py``: a model far away, and no
embedded model loaded twice on a 2-core machine). A workspace link made on replica A opens the same workspace on
replica B, with the document indexed on A; the Facilitator page on A lists a participant who joined on B, stops the
evaluation that participant runs on B, and a pause set on A refuses B's next model call.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.app_server import running_app
from tests.e2e.conftest import _skip_reason, wait_idle
from tests.fake_latency_server import LatencyServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "replicas share one room"
MODEL = "slow-600"  # 0.6 s a token: an answer of 16 tokens takes about 10 s, 8 questions over a minute
PAUSED = "The facilitator paused all model calls for the moment."
NOTE = b"# Replica notes\n\nThe Heron rain shell weighs 310 grams and packs into its own pocket.\n"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, postgres_server, chroma_server):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from scripts.pg_cluster import create_database

    url = create_database(postgres_server, f"rep_{uuid.uuid4().hex[:10]}")
    host, port = chroma_server
    with LatencyServer(first_token_s=0.05, token_delay_s=0.05, models=(MODEL,)) as llm:
        env = {
            "RAGFT_DATABASE_URL": url,
            "CHROMA_HOST": host,
            "CHROMA_PORT": str(port),
            "RAGFT_MAX_TOKENS": "16",
            "RAGFT_FACILITATOR_PASSWORD": PASSWORD,
            "RAGFT_BASE_PROVIDER": "custom",
            "RAGFT_BASE_URL": llm.base_url,
            "RAGFT_BASE_MODEL": MODEL,
            "RAGFT_FT_PROVIDER": "custom",
            "RAGFT_FT_URL": llm.base_url,
            "RAGFT_FT_MODEL": MODEL,
        }
        with (
            running_app(tmp_path_factory.mktemp("replica-a"), **env) as a,
            running_app(tmp_path_factory.mktemp("replica-b"), **env) as b,
        ):
            yield a, b, url, llm


def _workspace(page) -> str:
    ws = parse_qs(urlsplit(page.url).query).get("ws", [""])[0]
    assert ws, page.url
    return ws


def test_a_workspace_link_from_one_replica_opens_on_the_other_with_its_documents(replicas, page):
    a, b, db_url, _ = replicas
    page.goto(a)
    wait_idle(page)
    ws = _workspace(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Knowledge base", exact=True).click()
    page.get_by_test_id("stFileUploaderDropzone").wait_for()
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        {"name": "replica-notes.md", "mimeType": "text/markdown", "buffer": NOTE}
    )
    page.get_by_role("button", name="Index 1 file").click()
    page.get_by_text("replica-notes.md: indexed").wait_for(timeout=180_000)
    wait_idle(page)

    other = page.context.browser.new_context(viewport={"width": 1600, "height": 1000})
    try:
        pb = other.new_page()
        pb.set_default_timeout(60_000)
        pb.goto(f"{b}/?ws={ws}")
        wait_idle(pb)
        assert _workspace(pb) == ws  # B accepted A's signed link: the same workspace, not a new one
        pb.get_by_test_id("stSidebarNav").get_by_text("Knowledge base", exact=True).click()
        wait_idle(pb)
        pb.get_by_text("replica-notes.md").first.wait_for(state="attached", timeout=60_000)  # in the grid (canvas)
    finally:
        other.close()

    import psycopg

    with psycopg.connect(db_url) as conn:  # one room: both replicas wrote to the same class database
        rows = conn.execute("SELECT id FROM workspaces WHERE deleted = 0").fetchall()
    assert ws in {r[0] for r in rows}


def _open(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(url)
    wait_idle(pg)
    return ctx, pg


def _nav(pg, title: str) -> None:
    pg.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    pg.get_by_role("heading", name=title, exact=True).first.wait_for()
    wait_idle(pg)


def _unlock(pg) -> None:
    pg.get_by_label("Facilitator password").fill(PASSWORD)
    pg.get_by_role("button", name="Unlock").click()
    wait_idle(pg)
    pg.get_by_role("tab", name="Actions").wait_for()


def _rows(db_url: str, sql: str, *args) -> list:
    import psycopg

    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, args).fetchall()


def _until(check, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def test_the_facilitator_on_one_replica_sees_stops_and_pauses_the_other(replicas, browser):
    a, b, db_url, llm = replicas
    p_ctx, participant = _open(browser, b)  # a participant joins on replica B
    ws = _workspace(participant)
    [(label,)] = _rows(db_url, "SELECT label FROM workspaces WHERE id = %s", ws)
    f_ctx, fac = _open(browser, f"{a}/facilitator")  # the facilitator's console on replica A
    try:
        _unlock(fac)
        # A lists B's participant (the room's table is a canvas: its text is in the grid's accessible table).
        fac.get_by_test_id("stDataFrame").first.get_by_text(label, exact=True).first.wait_for(state="attached")

        # B's participant starts an evaluation; A's console lists it and stops it.
        _nav(participant, "Evaluate")
        participant.get_by_role("button", name="Run evaluation").click()
        participant.get_by_role("button", name="Stop", exact=True).wait_for(timeout=60_000)
        # the first question answered (so the stopped run has results to show), seven still to go
        participant.get_by_text(re.compile(r"[1-9]\d*/\d+ answers scored")).first.wait_for(timeout=120_000)
        _until(lambda: _rows(db_url, "SELECT run_id FROM running WHERE workspace_id = %s", ws), "B lists its run")
        [(run_id,)] = _rows(db_url, "SELECT run_id FROM running WHERE workspace_id = %s", ws)
        fac.goto(f"{a}/facilitator")  # a new load of the console (a new session: unlocked again), a fresh snapshot
        wait_idle(fac)
        _unlock(fac)
        room = fac.get_by_test_id("stDataFrame").first  # the Room tab: B's participant, running an evaluation
        room.get_by_text(re.compile(r"^evaluation: ")).first.wait_for(state="attached")
        fac.get_by_role("tab", name="Actions").click()
        assert fac.get_by_text("Nothing is running.").count() == 0  # the only run listed is B's
        fac.get_by_role("button", name="Stop this run").click()
        wait_idle(fac)
        # B's own process stops it (it reads the request at its run's next heartbeat): its page shows a stopped run.
        participant.get_by_text(re.compile(r"stopped after \d+ of \d+ questions")).wait_for(timeout=90_000)
        _until(lambda: not _rows(db_url, "SELECT run_id FROM running WHERE run_id = %s", run_id), "B ended the run")
        assert not _rows(db_url, "SELECT key FROM meta WHERE key = %s", f"stop_requested:{run_id}")

        # A pause set on A holds on B: the next question on B is refused with the pause message, no call leaves.
        fac.get_by_role("tab", name="Actions").click()
        fac.get_by_role("button", name="Pause all model calls").click()
        # the click's script run sets the flag and reruns: the button then offers to resume (a wait_idle alone can
        # pass before that run has started, and the row was read too early once under a loaded CI)
        fac.get_by_role("button", name="Resume model calls").wait_for(timeout=60_000)  # still on Actions
        wait_idle(fac)
        _until(lambda: _rows(db_url, "SELECT value FROM meta WHERE key = 'paused'") == [("1",)], "A set the pause")
        time.sleep(2.5)  # B re-reads the shared flag at most every 2 s
        _nav(participant, "Compare")
        asked = llm.requests
        box = participant.get_by_label("Your question")
        box.fill("How much does the Kestrel 2 Tent cost?")
        box.press("Enter")
        participant.get_by_text(PAUSED).first.wait_for(timeout=60_000)
        wait_idle(participant)
        assert llm.requests == asked, "no model call left replica B while paused"
    finally:
        import psycopg

        with psycopg.connect(db_url) as conn:  # resume, whatever happened above
            conn.execute("UPDATE meta SET value = '0' WHERE key = 'paused'")
        p_ctx.close()
        f_ctx.close()
