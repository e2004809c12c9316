"""The class database: what is class-wide, owned by :class:`ClassStore` (SQLite) or :class:`PostgresStore`.

``RAGFT_DATABASE_URL`` unset: one SQLite file in the data dir, for one host (below). ``postgresql://…``: a
PostgreSQL database shared by every replica of the app (:class:`PostgresStore`, through psycopg 3 and its pool).
Both run the same migrations and the same SQL (``?`` placeholders, ``ON CONFLICT`` upserts); callers see one
interface, :meth:`ClassStore.write` / :meth:`ClassStore.read` yielding a :class:`Conn`.

SQLite:

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

import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ragft.errors import ConfigError, RagftError, short_message
from ragft.store.migrations import MIGRATIONS, SCHEMA_VERSION

logger = logging.getLogger(__name__)

DB_FILE = "class.sqlite3"
BUSY_TIMEOUT_MS = 15000
DATABASE_URL_ENV = "RAGFT_DATABASE_URL"
WRITE_LOCK = 0x7261_6674  # the advisory lock every PostgreSQL write takes ("raft"): one writer at a time, as SQLite
CONNECT_TIMEOUT_S = 5.0


class Cursor(Protocol):
    """What a statement returns, on either engine."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


TRAINING_LOCK = 0x7261_6674_0001  # the class-wide "one training at a time" lock
RETENTION_LOCK = 0x7261_6674_0002  # the retention purge: one replica at a time
TURN_WAIT_S = 60  # how long a waiting turn (:meth:`ClassStore.turn`) waits before the database gives up


def lock_key(name: str) -> int:
    """A class-wide lock id for a name (a collection's): 64 bits of its SHA-256, as PostgreSQL's signed bigint."""
    return int.from_bytes(hashlib.sha256(f"ragft-lock:{name}".encode()).digest()[:8], "big", signed=True)


class Held(Protocol):
    """An exclusive turn (see :meth:`ClassStore.try_exclusive`); ``release()`` ends it."""

    def release(self) -> None: ...


class _HostTurn:
    """On one host the caller's file lock is the whole turn: nothing to hold in the database."""

    def release(self) -> None:
        return None


class Conn(Protocol):
    """A connection inside :meth:`ClassStore.write` or :meth:`ClassStore.read`: ``?`` placeholders on both engines."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...


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
    def write(self) -> Iterator[Conn]:
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
    def read(self) -> Iterator[Conn]:
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

    @property
    def key(self) -> str:
        """One name per database (the same on every replica of a shared one)."""
        return str(self.path)

    def try_exclusive(self, lock_id: int) -> Held | None:
        """A class-wide exclusive turn (e.g. :data:`TRAINING_LOCK`), or None while another process has it.

        SQLite serves one host, where the caller's file lock already decides: always granted here.
        """
        return _HostTurn()

    @contextmanager
    def turn(self, lock_id: int, *, shared: bool = False, wait: bool = True) -> Iterator[bool]:
        """A short class-wide turn held for the ``with`` block: True when held, False when ``wait`` is off and
        another replica has it (exclusive against shared: many ``shared`` holders, or one exclusive).

        SQLite serves one host, where the caller's own (process) lock already decides: always True here.
        """
        yield True

    engine = "sqlite"

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


def database_url(env: Mapping[str, str] | None = None) -> str | None:
    """``RAGFT_DATABASE_URL`` from the server's environment (the facilitator's), or None for SQLite.

    Read from the process environment, like the thread counts: one class database serves every session of the
    process. A value that is not a ``postgresql://`` URL is a ConfigError, never a silent fallback to a local file.
    """
    raw = ((os.environ if env is None else env).get(DATABASE_URL_ENV) or "").strip()
    if not raw:
        return None
    if urlsplit(raw).scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"{DATABASE_URL_ENV} must be a postgresql:// URL (unset it for the SQLite file).")
    return raw


def open_store(data_dir: Path | str, url: str | None = None) -> ClassStore:
    """The process's class database: PostgreSQL at ``url`` (default :func:`database_url`), else the SQLite file
    in ``data_dir``. One store per database, shared by every session of the process."""
    url = url or database_url()
    key = url or str((Path(data_dir) / DB_FILE).resolve())
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = PostgresStore(url) if url else ClassStore(key)
        return store


# ---- PostgreSQL ----------------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\?")
_DDL = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),  # Unix seconds: PostgreSQL's REAL is 4 bytes
)


def postgres_sql(sql: str) -> str:
    """The same statement for psycopg: ``?`` → ``%s`` (a literal ``%`` doubled)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


def postgres_ddl(sql: str) -> str:
    """A migration step's DDL for PostgreSQL (SQLite's AUTOINCREMENT and REAL)."""
    for pattern, replacement in _DDL:
        sql = pattern.sub(replacement, sql)
    return sql


def redact_url(url: str) -> str:
    """``postgresql://user@host:port/db`` without the password (for logs and the store's name)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class _PgConn:
    """A psycopg connection speaking the store's SQL (``?`` placeholders)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        cursor: Cursor = self.raw.execute(postgres_sql(sql), tuple(parameters))
        return cursor


class PostgresStore(ClassStore):
    """The class database on PostgreSQL (``RAGFT_DATABASE_URL``), shared by every replica.

    Connections come from a psycopg pool (opened on first use, per process). Every :meth:`write` takes one
    transaction-scoped advisory lock before reading, so a read-check-write is as safe across replicas as SQLite's
    ``BEGIN IMMEDIATE`` is on one host. :meth:`read` is one ``REPEATABLE READ`` snapshot. The schema version lives
    in ``ragft_schema``.
    """

    engine = "postgresql"

    def __init__(self, url: str, *, max_size: int = 8) -> None:
        self.url = url
        self.path = Path(redact_url(url))  # a name for logs; nothing is on a local disk
        self.max_size = max_size
        self._pool: Any = None
        self._pool_pid: int | None = None
        self._migrated_in: int | None = None
        self._migrate_lock = threading.Lock()

    @property
    def key(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"PostgresStore({self.key!r})"

    def _errors(self) -> tuple[type[BaseException], ...]:
        import psycopg
        import psycopg_pool

        return (psycopg.Error, psycopg_pool.PoolTimeout, OSError)

    def _get_pool(self) -> Any:
        pid = os.getpid()
        if self._pool is None or self._pool_pid != pid:  # a forked child opens its own
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(
                self.url,
                min_size=1,
                max_size=self.max_size,
                kwargs={"autocommit": True, "connect_timeout": int(CONNECT_TIMEOUT_S)},
                open=False,
                name="ragft-class",
            )
            try:
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            except self._errors() as err:
                pool.close()
                logger.error("cannot reach the class database %s: %s", self.key, err)
                raise StoreError(
                    f"The class database (PostgreSQL) cannot be reached ({short_message(err)}).",
                    hint="Check RAGFT_DATABASE_URL and that PostgreSQL is running; nothing on the server's key runs "
                    "while its budget cannot be checked.",
                ) from None
            self._pool, self._pool_pid = pool, pid
        if self._migrated_in != pid:
            with self._migrate_lock:
                if self._migrated_in != pid:
                    self._migrate(self._pool)
                    self._migrated_in = pid
        return self._pool

    def connection(self) -> sqlite3.Connection:
        raise StoreError("A PostgreSQL class database has no single connection: use write() or read().")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextmanager
    def _transaction(self, begin: str, what: str, lock: bool) -> Iterator[Conn]:
        pool = self._get_pool()
        try:
            with pool.connection(timeout=CONNECT_TIMEOUT_S * 2) as raw:
                raw.execute(begin)
                try:
                    if lock:
                        raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    yield _PgConn(raw)
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
        except self._errors() as err:
            logger.exception("%s on %s failed", what, self.key)
            raise StoreError(f"The class database refused a {what} ({short_message(err)}).") from None

    @contextmanager
    def write(self) -> Iterator[Conn]:
        with self._transaction("BEGIN", "write", lock=True) as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Conn]:
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ", "read", lock=False) as conn:
            yield conn

    def schema_version(self) -> int:
        with self.read() as conn:
            return _pg_version(conn)

    def try_exclusive(self, lock_id: int) -> Held | None:
        """A class-wide turn across every replica: PostgreSQL's session advisory lock ``lock_id``."""
        return _pg_try_exclusive(self, lock_id)

    @contextmanager
    def turn(self, lock_id: int, *, shared: bool = False, wait: bool = True) -> Iterator[bool]:
        """A class-wide turn across every replica: a transaction-scoped advisory lock on a pooled connection, held
        for the ``with`` block (ended by a rollback, or by the connection dying with its replica). Waiting is
        bounded by :data:`TURN_WAIT_S` (then a StoreError)."""
        fn = ("pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock") + ("_shared" if shared else "")
        pool = self._get_pool()
        try:
            raw = pool.getconn(timeout=CONNECT_TIMEOUT_S * 2)
        except self._errors() as err:
            logger.exception("cannot take a turn on %s", self.key)
            raise StoreError(f"The class database (PostgreSQL) cannot be reached ({short_message(err)}).") from None
        try:
            try:
                raw.execute("BEGIN")
                if wait:
                    raw.execute(f"SET LOCAL lock_timeout = '{int(TURN_WAIT_S)}s'")
                row = raw.execute(f"SELECT {fn}(%s)", (lock_id,)).fetchone()
            except self._errors() as err:
                logger.exception("cannot take a turn on %s", self.key)
                raise StoreError(f"The class database refused a lock ({short_message(err)}).") from None
            yield True if wait else bool(row and row[0])
        finally:
            try:
                raw.execute("ROLLBACK")  # ends the transaction: the lock goes with it
            except self._errors():
                logger.warning("ending a turn on %s failed (the connection is dropped)", self.key, exc_info=True)
            pool.putconn(raw)

    def _migrate(self, pool: Any) -> int:
        """Bring the database to :data:`SCHEMA_VERSION` (one transaction, under the write lock: one replica at a
        time; the others then find it done)."""
        try:
            with pool.connection(timeout=CONNECT_TIMEOUT_S * 2) as raw:
                raw.execute("BEGIN")
                try:
                    raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    raw.execute("CREATE TABLE IF NOT EXISTS ragft_schema (version INTEGER NOT NULL)")
                    conn = _PgConn(raw)
                    version = _pg_version(conn)
                    if version > SCHEMA_VERSION:
                        raise StoreError(
                            f"The class database has schema version {version}, newer than this app knows "
                            f"({SCHEMA_VERSION}).",
                            hint="Run the newer app version, or restore an older backup.",
                        )
                    for step in range(version, SCHEMA_VERSION):
                        for statement in _statements(MIGRATIONS[step]):
                            raw.execute(postgres_ddl(statement))
                        raw.execute("DELETE FROM ragft_schema")
                        raw.execute("INSERT INTO ragft_schema (version) VALUES (%s)", (step + 1,))
                        logger.info("class database %s migrated to schema version %d", self.key, step + 1)
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
                return version
        except self._errors() as err:
            logger.exception("cannot migrate the class database %s", self.key)
            raise StoreError(
                f"The class database is unreadable or cannot be upgraded ({short_message(err)})."
            ) from None


class _PgTurn:
    """A session-level advisory lock on its own connection: held while the connection lives, so a process that
    dies (or a host that goes away) gives the turn back without anyone cleaning up."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def release(self) -> None:
        try:
            self.raw.close()
        except Exception:  # noqa: BLE001 - closing a dead connection: the lock is gone with it
            logger.warning("closing the training-turn connection failed", exc_info=True)


def _pg_try_exclusive(store: PostgresStore, lock_id: int) -> Held | None:
    import psycopg

    try:
        raw = psycopg.connect(store.url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_S))
        row = raw.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,)).fetchone()
        got = bool(row and row[0])
    except psycopg.Error as err:
        logger.exception("cannot take a class-wide turn on %s", store.key)
        raise StoreError(f"The class database (PostgreSQL) cannot be reached ({short_message(err)}).") from None
    if not got:
        raw.close()
        return None
    return _PgTurn(raw)


def _pg_version(conn: Conn) -> int:
    row = conn.execute("SELECT MAX(version) FROM ragft_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0
