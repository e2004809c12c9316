"""The class database: migrations from an empty database and from every earlier version, WAL, typed errors,
records. The tests that take ``class_db`` run on both engines: a SQLite file and a fresh PostgreSQL database (the
PostgreSQL half in the slow tier, on the session's throw-away cluster)."""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal as D

import pytest

from ragft.store import StoreError, open_store
from ragft.store import records as R
from ragft.store import spend as S
from ragft.store import workspaces as W
from ragft.store.db import ClassStore, PostgresStore, _statements, postgres_ddl
from ragft.store.migrations import MIGRATIONS, SCHEMA_VERSION


def _raw(store: ClassStore, *statements: str) -> None:
    """Run literal SQL on the engine directly, outside the store (what an older release or a person left)."""
    if isinstance(store, PostgresStore):
        import psycopg

        with psycopg.connect(store.url, autocommit=True) as db:
            for sql in statements:
                db.execute(sql)
        return
    with sqlite3.connect(store.path) as db:
        for sql in statements:
            db.execute(sql)


def _version_on_disk(store: ClassStore) -> int:
    if isinstance(store, PostgresStore):
        import psycopg

        with psycopg.connect(store.url) as db:
            return int(db.execute("SELECT MAX(version) FROM ragft_schema").fetchone()[0])
    with sqlite3.connect(store.path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def _tables(store: ClassStore) -> set[str]:
    if isinstance(store, PostgresStore):
        import psycopg

        with psycopg.connect(store.url) as db:
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            return {r[0] for r in db.execute(sql)}
    with sqlite3.connect(store.path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _at_version(store: ClassStore, version: int) -> None:
    """A database as an older release left it: the first ``version`` steps, applied by hand."""
    if isinstance(store, PostgresStore):
        import psycopg

        with psycopg.connect(store.url, autocommit=True) as raw:
            raw.execute("CREATE TABLE ragft_schema (version INTEGER NOT NULL)")
            for step in MIGRATIONS[:version]:
                for statement in _statements(step):
                    raw.execute(postgres_ddl(statement))
            raw.execute("INSERT INTO ragft_schema (version) VALUES (%s)", (version,))
        return
    db = sqlite3.connect(store.path)
    for step in MIGRATIONS[:version]:
        db.executescript(step)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def test_a_new_database_gets_the_whole_schema_and_sqlite_runs_in_wal_mode(class_db):
    store = open_store(class_db)
    assert store.schema_version() == SCHEMA_VERSION >= 2
    assert {
        "workspaces",
        "spend",
        "reservations",
        "budget_caps",
        "votes",
        "eval_summaries",
        "questions",
        "running",
        "meta",
    } <= _tables(store)
    if isinstance(store, PostgresStore):
        assert "ragft_schema" in _tables(store)
        return
    conn = store.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_an_empty_existing_database_is_migrated(class_db):
    store = open_store(class_db)
    if isinstance(store, PostgresStore):
        assert _tables(store) == set()  # a database the facilitator made: empty
    else:
        store.path.write_bytes(b"")  # an empty file
    assert store.schema_version() == SCHEMA_VERSION


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_earlier_version_is_migrated_and_keeps_its_data(class_db, version):
    store = open_store(class_db)
    _at_version(store, version)
    _raw(  # data of the oldest schema, which every later one must keep
        store,
        "INSERT INTO workspaces VALUES ('w1', 1, 'Participant 1', 1.0, 2.0, 0)",
        "INSERT INTO spend (scope, spent, calls, updated) VALUES ('*', '0.25', 3, 1.0)",  # any version
    )
    assert store.schema_version() == SCHEMA_VERSION
    assert _version_on_disk(store) == SCHEMA_VERSION
    assert W.get(store, "w1").label == "Participant 1"
    with store.read() as conn:
        assert S.spent(conn, S.APP) == (D("0.25"), 3)
    R.record_vote(store, "w1", "c1", "rag", ["base", "rag"])  # the newest tables work
    assert len(R.votes(store)) == 1


def test_a_newer_schema_is_refused_and_left_alone(class_db):
    store = open_store(class_db)
    _at_version(store, SCHEMA_VERSION)
    if isinstance(store, PostgresStore):
        _raw(store, f"UPDATE ragft_schema SET version = {SCHEMA_VERSION + 1}")
    else:
        _raw(store, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as err:
        store.schema_version()
    assert "newer" in err.value.message
    assert _version_on_disk(store) == SCHEMA_VERSION + 1


def test_a_failing_migration_step_leaves_the_old_version(class_db, monkeypatch):
    store = open_store(class_db)
    _at_version(store, 1)
    monkeypatch.setattr(
        "ragft.store.db.MIGRATIONS", MIGRATIONS[:1] + ["CREATE TABLE votes (x INTEGER); CREATE TABLE nope ("]
    )
    with pytest.raises(StoreError):
        store.schema_version()
    assert "votes" not in _tables(store)
    assert _version_on_disk(store) == 1


def test_a_failed_write_rolls_back(class_db):
    store = open_store(class_db)
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            S.add_spend(conn, S.APP, D("1"))
            raise RuntimeError("boom")
    with store.read() as conn:
        assert S.spent(conn, S.APP) == (D(0), 0)
    with pytest.raises(StoreError):
        with store.write() as conn:
            conn.execute("INSERT INTO no_such_table VALUES (?)", (1,))
    W.register(store, "ws-after")  # the store still works after a refused statement
    assert W.get(store, "ws-after") is not None


def test_workspaces_get_numbered_labels_even_when_registered_at_once(class_db):
    store = open_store(class_db)
    ids = [f"ws{i:03d}xxxxx" for i in range(12)]
    threads = [threading.Thread(target=W.register, args=(store, i)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(w.number for w in W.list_workspaces(store))
    assert numbers == list(range(1, 13))
    assert W.register(store, ids[0]).number == W.get(store, ids[0]).number  # idempotent
    assert W.get(store, ids[0]).label == f"Participant {W.get(store, ids[0]).number}"


def test_forget_removes_every_record_and_can_carry_the_spend(class_db):
    store = open_store(class_db)
    W.register(store, "old-workspace")
    W.register(store, "new-workspace")
    with store.write() as conn:
        S.add_spend(conn, "old-workspace", D("0.3"))
        S.add_spend(conn, S.APP, D("0.3"))
    S.set_own_cap(store, "old-workspace", D("0.5"))
    R.record_vote(store, "old-workspace", "c1", "ft", ["base", "ft"])
    R.record_question(store, "old-workspace", "How much is the tent?")
    R.start_running(store, "run1", "old-workspace", "evaluation")
    W.forget(store, "old-workspace", carry_spend_to="new-workspace")
    assert W.get(store, "old-workspace") is None
    assert R.votes(store) == [] and R.questions_asked(store) == {} and R.running(store) == []
    assert S.get_caps(store, "old-workspace") == (None, None)
    with store.read() as conn:
        assert S.spent(conn, "new-workspace")[0] == D("0.3") and S.spent(conn, "old-workspace")[0] == 0
        assert S.spent(conn, S.APP)[0] == D("0.3")


def test_votes_one_per_round_and_readable_for_the_class(class_db):
    store = open_store(class_db)
    assert R.record_vote(store, "a", "c1", "rag", ["base", "rag", "ft"], "tent price?")
    assert not R.record_vote(store, "a", "c1", "ft", ["base", "rag", "ft"])  # second vote on the same round
    assert R.record_vote(store, "b", "c1", "ft", ["base", "rag", "ft"])
    with pytest.raises(ValueError):
        R.record_vote(store, "b", "c2", "hybrid", ["base", "rag"])
    got = R.votes(store)
    assert [(v.workspace_id, v.winner, v.shown) for v in got] == [
        ("a", "rag", ("base", "rag", "ft")),
        ("b", "ft", ("base", "rag", "ft")),
    ]
    assert [v.winner for v in R.votes(store, "b")] == ["ft"]


def test_eval_summaries_questions_and_running(class_db):
    store = open_store(class_db)
    summary = {
        "configuration": "rag",
        "questions": 34,
        "errors": 1,
        "fact_accuracy": 0.76,
        "style_adherence": None,
        "hit_at_k": 1.0,
        "total_cost_usd": "0.0012",
    }
    R.record_eval_summaries(store, "run1", "a", "sample", [summary, {**summary, "configuration": "base"}])
    R.record_eval_summaries(store, "run1", "a", "sample", [summary])  # a rerun replaces
    rows = R.eval_summaries(store)
    assert [(r.configuration, r.fact_accuracy, r.cost, r.style) for r in rows] == [("rag", 0.76, D("0.0012"), None)]
    assert rows[0].summary["questions"] == 34
    for q in ("How much is the tent?", "how much is the tent? ", "Return policy?"):
        R.record_question(store, "a", q)
    R.record_question(store, "b", "How much is the tent?")
    top = R.top_questions(store)
    assert (top[0].count, top[0].workspaces) == (3, 2) and top[1].question == "Return policy?"
    assert R.questions_asked(store) == {"a": 3, "b": 1}
    R.start_running(store, "r1", "a", "comparison", "4 panels")
    assert R.heartbeat(store, "r1", "2 of 4 done")
    assert [(r.kind, r.detail) for r in R.running(store)] == [("comparison", "2 of 4 done")]
    with store.write() as conn:
        conn.execute("UPDATE running SET heartbeat = heartbeat - 1000")
    assert R.running(store, stale_after_s=60) == []  # no heartbeat: gone
    assert not R.heartbeat(store, "r1")


def test_a_file_that_is_not_a_database_is_a_typed_error(tmp_path):
    (tmp_path / "class.sqlite3").write_bytes(b"garbage" * 200)
    with pytest.raises(StoreError) as err:
        W.register(ClassStore.in_dir(tmp_path), "abcdefgh")
    assert "class database" in err.value.message and err.value.hint


def test_switching_to_wal_waits_for_a_writer_instead_of_failing(tmp_path):
    """SQLite answers "database is locked" at once (no busy handler) when a connection switches a file to WAL while
    another is writing, as happens when a room opens a fresh database together: the store waits instead."""
    path = tmp_path / "class.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")  # another connection writing (a reserved lock on the rollback-journal file)
    writer.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.5, lambda: writer.execute("COMMIT")).start()
    store = ClassStore(path)
    conn = store.connection()  # would raise StoreError("database is locked") without the wait
    assert str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
    writer.close()
