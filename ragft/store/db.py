"""The class database: one SQLite file in the data dir for what is class-wide, owned by :class:`ClassStore`.

- One file, ``<RAGFT_DATA_DIR>/class.sqlite3``, in WAL mode (readers never wait for the writer) with a
  ``busy_timeout``, so several sessions, threads and processes of one host share it safely.
- One connection per thread and process (a connection is never shared across threads; a forked child opens
  its own). Connections run in autocommit mode; every read-check-write runs inside :meth:`ClassStore.write`,
  a short ``BEGIN IMMEDIATE`` transaction that takes the write lock before reading, so two writers can never
  both pass a check on the same state.
- The schema is versioned with ``PRAGMA user_version`` and brought up to date on first open by the steps of
  :mod:`ragft.store.migrations`, inside one transaction (a half-applied step never persists).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ragft.errors import RagftError, short_message
from ragft.store.migrations import MIGRATIONS, SCHEMA_VERSION

logger = logging.getLogger(__name__)

DB_FILE = "class.sqlite3"
BUSY_TIMEOUT_MS = 15000


class StoreError(RagftError):
    """The class database cannot be opened, read or written."""

    hint = "Check that the data directory is writable and the database file is intact (restore it from a backup)."


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip() and not _only_comments(s)]


def _wal(conn: sqlite3.Connection) -> str:
    """Put the database in WAL mode (once per file; later connections only read the mode).

    Switching the mode needs the file to itself, and SQLite answers "database is locked" at once, without its busy
    handler, while other connections of a room opening at the same moment hold it: wait and retry within the busy
    timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
            if mode.lower() == "wal":
                return mode
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as err:
            if "locked" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _only_comments(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


class ClassStore:
    """The class database at ``path``. Cheap to build; connections are opened lazily, one per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._migrated_in: int | None = None  # pid of the process that checked the schema
        self._migrate_lock = threading.Lock()

    @classmethod
    def in_dir(cls, data_dir: Path | str) -> ClassStore:
        return cls(Path(data_dir) / DB_FILE)

    # ---- connections ------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = _wal(conn)
            if str(mode).lower() != "wal":
                logger.warning("class database %s runs in journal mode %s, not WAL", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except (OSError, sqlite3.Error) as err:
            logger.exception("cannot open the class database %s", self.path)
            raise StoreError(f"The class database cannot be opened ({short_message(err)}).") from None
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, schema up to date."""
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != pid:
            conn = self._connect()
            self._local.conn, self._local.pid = conn, pid
        if self._migrated_in != pid:
            with self._migrate_lock:
                if self._migrated_in != pid:
                    migrate(conn)
                    self._migrated_in = pid
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- transactions -----------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short ``BEGIN IMMEDIATE`` transaction: commit on success, roll back on any exception."""
        conn = self.connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            logger.exception("cannot start a write on %s", self.path)
            raise StoreError(f"The class database is busy or unwritable ({short_message(err)}).") from None
        try:
            yield conn
        except sqlite3.Error as err:
            _rollback(conn)
            logger.exception("write on %s failed", self.path)
            raise StoreError(f"The class database refused a write ({short_message(err)}).") from None
        except BaseException:
            _rollback(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as err:
                _rollback(conn)
                logger.exception("commit on %s failed", self.path)
                raise StoreError(f"The class database could not save a change ({short_message(err)}).") from None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (one snapshot for every statement inside)."""
        conn = self.connection()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as err:
            logger.exception("read on %s failed", self.path)
            raise StoreError(f"The class database is unreadable ({short_message(err)}).") from None

    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def __repr__(self) -> str:
        return f"ClassStore({str(self.path)!r})"


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; returns the version it had. One transaction."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The class database has schema version {version}, newer than this app knows ({SCHEMA_VERSION}).",
                    hint="Run the newer app version, or restore an older backup.",
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[step]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step + 1}")
                logger.info("class database migrated to schema version %d", step + 1)
        except BaseException:
            _rollback(conn)
            raise
        conn.execute("COMMIT")
        return version
    except sqlite3.Error as err:
        logger.exception("cannot migrate the class database")
        raise StoreError(f"The class database is unreadable or cannot be upgraded ({short_message(err)}).") from None


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            logger.exception("rollback failed")


_stores: dict[str, ClassStore] = {}
_stores_lock = threading.Lock()


def open_store(data_dir: Path | str) -> ClassStore:
    """The process's :class:`ClassStore` for ``data_dir`` (one per database file, shared by every session)."""
    key = str((Path(data_dir) / DB_FILE).resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = ClassStore(key)
        return store
