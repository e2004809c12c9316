"""A throw-away PostgreSQL cluster on 127.0.0.1, for the tests and benchmarks of the class database.

    with throwaway_postgres() as url:     # postgresql://ragft@127.0.0.1:<port>  (trust auth, fsync off)
        ...

``initdb`` in a temp dir, then ``postgres`` on a free port; as root both run as Debian's ``postgres`` user
(PostgreSQL refuses root). Stopped and deleted on exit. Debian keeps the server programs in
``/usr/lib/postgresql/<version>/bin`` (``bash scripts/setup.sh --dev`` installs the package).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def postgres_bin(name: str) -> str | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).is_file():
            return str(d / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_postgres(timeout_s: float = 60.0) -> Iterator[str]:
    import psycopg

    initdb, postgres = postgres_bin("initdb"), postgres_bin("postgres")
    if not initdb or not postgres:
        raise PostgresUnavailable("PostgreSQL is not installed (Debian's postgresql: bash scripts/setup.sh --dev)")
    root = Path(tempfile.mkdtemp(prefix="ragft-pg-"))  # not under a 0700 tree: the postgres user enters it
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    proc: subprocess.Popen | None = None
    log = open(root.parent / f"{root.name}.log", "wb")
    try:
        subprocess.run(
            [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "ragft", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        port = _free_port()
        settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"]
        proc = subprocess.Popen(
            [*as_user, postgres, "-D", str(data), "-p", str(port), "-k", str(sock), "-c", "listen_addresses=127.0.0.1"]
            + [arg for s in settings for arg in ("-c", s)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"postgresql://ragft@127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                psycopg.connect(f"{url}/postgres", connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = Path(log.name).read_text(errors="replace")[-800:]
                    raise PostgresUnavailable(f"PostgreSQL did not start: {tail}") from None
                time.sleep(0.2)
        yield url
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
        Path(log.name).unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """A new empty database on the cluster; its URL."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"
