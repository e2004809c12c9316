"""The Chroma server goes away in the middle of a file: that file leaves nothing, the earlier one stays.

This test starts (and kills) its own `chroma run`, so the session's shared server is never touched.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import new_workspace_id, workspace_collection_name
from ragft.models.embeddings import LocalMiniLM
from ragft.settings import Settings
from tests.conftest import chroma_exe, free_port, stop, wait_http

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


class Server:
    def __init__(self, path: Path) -> None:
        self.exe = chroma_exe()
        if self.exe is None:
            pytest.fail("the `chroma` command (package chromadb) is not on PATH")
        self.path, self.port, self.proc = path, free_port(), None

    def start(self) -> None:
        log = open(self.path / "server.log", "ab")
        self.proc = subprocess.Popen(
            [self.exe, "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.path / "db")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        wait_http(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", self.proc, timeout=60)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    if s.proc and s.proc.poll() is None:
        stop(s.proc)


def test_server_killed_mid_file(server):
    embedder = LocalMiniLM()
    settings = Settings(chroma_host="127.0.0.1", chroma_port=server.port)
    ws = new_workspace_id()
    kb = KnowledgeBase(make_client(settings), embedder, ws, include_sample=False)
    kb.workspace._max_batch = 5  # the big file is written in several batches

    def kill_after_first_batch(name, stage, done, total):
        if name == "big.pdf" and stage == "storing" and 0 < done < total:
            server.kill()

    big = gen.make_pdf([f"Product {i}. " + "Rugged gear for long walks in the hills. " * 4 for i in range(20)])
    reports = kb.ingest_files(
        [
            ("good.md", gen.ROOT.joinpath("tests/fixtures/bad_corpus/good.md").read_bytes()),
            ("big.pdf", big),
            ("after.pdf", gen.make_pdf(gen.good_pages())),
        ],
        progress=kill_after_first_batch,
    )
    assert [r.status for r in reports] == ["ok", "error", "error"]
    assert "cannot be reached" in reports[1].message and "Chroma server" in reports[1].message
    assert reports[2].message.startswith("after.pdf")

    # the server comes back: the first batch of big.pdf is there, without its manifest ...
    server.start()
    client = make_client(settings)
    raw = client.get_collection(workspace_collection_name(ws, embedder.model_id), embedding_function=None)
    manifests = raw.get(where={"position": 0}, include=["metadatas"])["metadatas"]
    assert [m["source"] for m in manifests] == ["good.md"]
    assert raw.count() > manifests[0]["doc_chunks"]  # orphan chunks of big.pdf
    # ... and opening the workspace sweeps them: only complete documents remain, nothing was lost
    kb2 = KnowledgeBase(client, embedder, ws, include_sample=False)
    assert [d.name for d in kb2.documents()] == ["good.md"]
    assert raw.count() == kb2.documents()[0].chunks
    assert all(c.source == "good.md" for c in kb2.retrieve("rugged gear for long walks", k=5).chunks)
    assert kb2.ingest_files([("big.pdf", big)])[0].ok  # and the file can simply be uploaded again
