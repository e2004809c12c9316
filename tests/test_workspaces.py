"""Workspaces issued and signed by the server, forged ids refused, deletion by the participant, TTL purge across
a restart (real embedded Chroma and SQLite in temp folders, real processes)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from ragft.costs.budget import Budget
from ragft.knowledge import retention
from ragft.knowledge.workspaces import (
    EXPIRED_NOTICE,
    INVALID_NOTICE,
    SECRET_FILE,
    JoinCodeNeeded,
    RoomFull,
    WorkspaceRevoked,
    Workspaces,
    is_signed_by,
    load_secret,
    new_workspace_id,
    workspace_collection_name,
)
from ragft.store import join_codes as J
from ragft.store import records as R
from ragft.store import workspaces as W

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

ROOT = Path(__file__).resolve().parent.parent
MODEL = "local:test-model"


def _client(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))


def _fill(client, ws: str, model: str = MODEL) -> str:
    name = workspace_collection_name(ws, model)
    col = client.get_or_create_collection(name, embedding_function=None)
    col.add(ids=["c1"], embeddings=[[0.1, 0.2, 0.3]], documents=["the tent costs $149"])
    return name


def _names(client) -> set[str]:
    return {getattr(c, "name", c) for c in client.list_collections()}


def test_secret_is_made_once_with_mode_0600(tmp_path):
    a = load_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(a) >= 32
    assert load_secret(tmp_path) == a
    os.chmod(path, 0o644)
    assert load_secret(tmp_path) == a and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_issued_ids_verify_and_forged_or_tampered_ones_do_not(tmp_path):
    secret = load_secret(tmp_path)
    ws = new_workspace_id(secret)
    assert is_signed_by(ws, secret)
    rand, sig = ws.split(".")
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    for forged in (rand, f"{rand}.{flipped}", "aaaaaaaa", f"{'a' * 16}.{sig}", "", None, "../../etc.passwd00"):
        assert not is_signed_by(forged, secret)
    assert not is_signed_by(ws, load_secret(tmp_path / "other-server"))


def test_resolve_keeps_an_issued_workspace_and_replaces_a_forged_one(tmp_path):
    spaces = Workspaces(tmp_path)
    first = spaces.resolve(None)
    assert first.notice is None and first.label == "Participant 1"
    again = Workspaces(tmp_path).resolve(first.workspace_id)  # reload, new tab, or after a restart
    assert (again.workspace_id, again.notice) == (first.workspace_id, None)
    forged = spaces.resolve("aaaaaaaaaaaa")
    assert forged.notice == INVALID_NOTICE and forged.workspace_id != "aaaaaaaaaaaa"
    assert spaces.is_issued(forged.workspace_id) and forged.label == "Participant 2"


def test_last_seen_moves_on_every_visit(tmp_path):
    spaces = Workspaces(tmp_path)
    ws = spaces.resolve(None).workspace_id
    with spaces.store.write() as conn:
        conn.execute("UPDATE workspaces SET last_seen = 1000 WHERE id = ?", (ws,))
    spaces.resolve(ws)
    assert W.get(spaces.store, ws).last_seen > time.time() - 60


def test_participant_deletes_the_whole_workspace_and_keeps_their_spend(tmp_path):
    spaces = Workspaces(tmp_path)
    client = _client(tmp_path)
    ws = spaces.resolve(None).workspace_id
    other = spaces.resolve(None).workspace_id
    mine = {_fill(client, ws), _fill(client, ws, "openai:text-embedding-3-small")}
    theirs = _fill(client, other)
    (tmp_path / "workspaces" / ws / "adapters").mkdir(parents=True)
    budget = Budget(tmp_path, app_cap=None, participant_cap=D("1"), workspace_id=ws)
    budget.reserve(D("0.4")).settle(D("0.4"))
    R.record_vote(spaces.store, ws, "c1", "rag", ["base", "rag"])
    new = spaces.delete(ws, client)
    names = _names(client)
    assert not (mine & names) and theirs in names  # the collections are dropped, not only emptied
    assert not (tmp_path / "workspaces" / ws).exists()
    assert W.get(spaces.store, ws) is None and R.votes(spaces.store) == []
    assert spaces.resolve(ws).notice == EXPIRED_NOTICE  # the old link no longer opens it
    assert new.id != ws and spaces.is_issued(new.id)
    fresh = Budget(tmp_path, app_cap=None, participant_cap=D("1"), workspace_id=new.id)
    assert fresh.status().workspace_spent == D("0.4")  # deleting does not reset the budget


_CREATE = """
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_workspaces import _client, _fill
from ragft.knowledge.workspaces import Workspaces
d = Path({data!r})
spaces = Workspaces(d)
old, recent = spaces.resolve(None).workspace_id, spaces.resolve(None).workspace_id
client = _client(d)
_fill(client, old)
_fill(client, recent)
print(old, recent)
"""

_PURGE = """
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_workspaces import _client
from ragft.knowledge import retention
from ragft.store.db import open_store
d = Path({data!r})
print(",".join(retention.purge_if_due(open_store(d), lambda: _client(d), d, 7)))
"""


def _run(code: str, **fmt) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code.format(root=str(ROOT), tests=str(ROOT / "tests"), **fmt)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_unused_workspaces_are_purged_after_a_restart(tmp_path):
    old, recent = _run(_CREATE, data=str(tmp_path)).split()
    with sqlite3.connect(tmp_path / "class.sqlite3") as db:  # the old one was last seen 8 days ago
        db.execute("UPDATE workspaces SET last_seen = ? WHERE id = ?", (time.time() - 8 * 86400, old))
    assert _run(_PURGE, data=str(tmp_path)) == old  # a new process: the purge runs at its start
    client = _client(tmp_path)
    names = _names(client)
    assert workspace_collection_name(old, MODEL) not in names
    assert workspace_collection_name(recent, MODEL) in names
    spaces = Workspaces(tmp_path)
    assert W.get(spaces.store, old) is None and W.get(spaces.store, recent) is not None
    assert spaces.resolve(old).notice == EXPIRED_NOTICE


def test_purge_runs_at_start_then_at_most_once_an_hour(tmp_path):
    spaces = Workspaces(tmp_path)
    client = _client(tmp_path)
    ws = spaces.resolve(None).workspace_id
    now = time.time()
    opened = []

    def get_client():
        opened.append(1)
        return client

    assert retention.purge_if_due(spaces.store, get_client, tmp_path, 7, now=now) == []  # first call: runs
    with spaces.store.write() as conn:
        conn.execute("UPDATE workspaces SET last_seen = ?", (now - 30 * 86400,))
    assert retention.purge_if_due(spaces.store, get_client, tmp_path, 7, now=now + 10) is None  # not asked again
    assert retention.purge_if_due(spaces.store, get_client, tmp_path, 7, now=now + 120) is None  # not due yet
    assert opened == [1]  # no vector store opened while nothing was due
    assert retention.purge_if_due(spaces.store, get_client, tmp_path, 7, now=now + 3700) == [ws]
    assert retention.purge_expired(spaces.store, client, tmp_path, 0) == []  # TTL 0 keeps everything


def test_a_workspace_used_again_during_the_purge_is_kept(tmp_path):
    spaces = Workspaces(tmp_path)
    client = _client(tmp_path)
    ws = spaces.resolve(None).workspace_id
    name = _fill(client, ws)
    cutoff_now = time.time() + 8 * 86400  # "now" for the purge: 8 days on, but the participant is back at it
    with spaces.store.write() as conn:
        conn.execute("UPDATE workspaces SET last_seen = ?", (cutoff_now - 86400,))
    assert retention.purge_expired(spaces.store, client, tmp_path, 7, now=cutoff_now) == []
    assert name in _names(client)


@pytest.mark.parametrize("bad", ["", "short", "x" * 80])
def test_unsigned_or_malformed_ids_never_reach_the_database(tmp_path, bad):
    spaces = Workspaces(tmp_path)
    got = spaces.resolve(bad)
    assert W.get(spaces.store, bad) is None and spaces.is_issued(got.workspace_id)


def test_a_browser_keeps_its_workspace_the_room_is_bounded_and_a_revoked_one_is_refused(tmp_path):
    spaces = Workspaces(tmp_path)
    mine = spaces.resolve(None).workspace_id
    assert spaces.resolve(None, remembered=mine).workspace_id == mine, "the join link again, same browser"
    assert spaces.resolve(None, remembered=mine, fresh=True).workspace_id != mine, "asked for a fresh one"
    W.set_seats(spaces.store, W.live_count(spaces.store))
    with pytest.raises(RoomFull, match="room is full"):
        spaces.resolve(None, bounded=True)
    assert spaces.resolve(None, remembered=mine, bounded=True).workspace_id == mine, "a seated browser gets back in"
    spaces.revoke(mine, _client(tmp_path / "chroma"))
    with pytest.raises(WorkspaceRevoked):
        spaces.resolve(mine, bounded=True)
    with pytest.raises(WorkspaceRevoked):
        spaces.resolve(None, remembered=mine, fresh=True, bounded=True)
    assert spaces.resolve(None, bounded=True).workspace_id, "the revoked seat is free"


def test_with_join_codes_a_new_browser_needs_an_unused_code_which_then_is_its_own(tmp_path):
    spaces = Workspaces(tmp_path)
    first, second = J.issue(spaces.store, 2)
    with pytest.raises(JoinCodeNeeded, match="needs a join code"):
        spaces.resolve(None, bounded=True, need_code=True)
    with pytest.raises(JoinCodeNeeded, match="not one the facilitator issued"):
        spaces.resolve(None, bounded=True, need_code=True, code="ABCDE-FGHJK")
    assert W.live_count(spaces.store) == 0, "no workspace without a code"
    mine = spaces.resolve(None, bounded=True, need_code=True, code=J.display(first)).workspace_id
    assert J.code_of(spaces.store, mine) == first
    # The same browser (its cookie) returns with or without the code; another browser with it is refused.
    assert spaces.resolve(None, remembered=mine, bounded=True, need_code=True, code=first).workspace_id == mine
    with pytest.raises(JoinCodeNeeded, match="already used in another browser"):
        spaces.resolve(None, bounded=True, need_code=True, code=first)
    # A fresh workspace needs a fresh code; the seats still bound the room.
    with pytest.raises(JoinCodeNeeded):
        spaces.resolve(None, remembered=mine, fresh=True, bounded=True, need_code=True)
    W.set_seats(spaces.store, 1)
    with pytest.raises(RoomFull):
        spaces.resolve(None, bounded=True, need_code=True, code=second)
    assert J.get(spaces.store, second).status == "unused"
    # The facilitator's session (not bounded) needs no code.
    assert spaces.resolve(None, bounded=False, need_code=False).workspace_id
    # A participant who deletes their workspace keeps their code on the new one.
    new = spaces.delete(mine, _client(tmp_path / "chroma"))
    assert J.code_of(spaces.store, new.id) == first
