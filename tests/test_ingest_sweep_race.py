"""Two tabs of one workspace: one stores a 100-page PDF while the other builds pages (each build sweeps the
workspace's collection). Real embedded Chroma, the real local MiniLM: every chunk is there afterwards."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest

from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import new_workspace_id, workspace_collection_name
from ragft.models.embeddings import LocalMiniLM
from ragft.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def test_a_page_build_in_another_tab_never_cuts_a_document_being_stored(tmp_path):
    embedder = LocalMiniLM()
    client = make_client(Settings(data_dir=tmp_path))
    ws = new_workspace_id()
    pdf = gen.make_pdf([f"Page {i}. Product {i} is rugged gear for long walks in the hills. " * 6 for i in range(100)])
    storing = KnowledgeBase(client, embedder, ws, include_sample=False)
    storing.workspace._max_batch = 4  # many batches: a long window in which the manifest is not there yet
    started, done = threading.Event(), threading.Event()
    sweeps: list[int] = []

    def progress(name, stage, written, total):
        if stage == "storing" and 0 < written < total:
            started.set()

    def other_tab():
        started.wait(120)
        while not done.is_set():
            KnowledgeBase(client, embedder, ws, include_sample=False)  # what every page build does
            sweeps.append(1)

    t = threading.Thread(target=other_tab)
    t.start()
    try:
        reports = storing.ingest_files([("catalogue.pdf", pdf)], progress=progress)
    finally:
        done.set()
        t.join(60)
    assert started.is_set() and sweeps, "the other tab built pages while the document was being stored"
    assert reports[0].ok, reports[0].message
    after = KnowledgeBase(client, embedder, ws, include_sample=False)
    [doc] = after.documents()
    assert doc.pages == 100
    raw = client.get_collection(workspace_collection_name(ws, embedder.model_id), embedding_function=None)
    assert raw.count() == doc.chunks >= 100
    assert after.ingest_files([("catalogue.pdf", pdf)])[0].status != "ok"  # a duplicate, and rightly so


def test_a_second_upload_of_the_same_participant_meanwhile_is_refused_and_nothing_is_lost(tmp_path):
    embedder = LocalMiniLM()
    client = make_client(Settings(data_dir=tmp_path))
    ws = new_workspace_id()
    first = KnowledgeBase(client, embedder, ws, include_sample=False)
    assert first.ingest_files([("before.pdf", gen.make_pdf(gen.good_pages()))])[0].ok  # already indexed
    big = gen.make_pdf([f"Page {i}. Product {i} is rugged gear for long walks. " * 6 for i in range(60)])
    tab_b: list = []

    def progress(name, stage, done, total):
        if stage == "storing" and not tab_b:  # the first tab is mid-upload: the second tab uploads too

            def second_tab():
                other = KnowledgeBase(client, embedder, ws, include_sample=False)
                tab_b.extend(other.ingest_files([("second.pdf", gen.make_pdf(["Another file. " * 20]))]))

            t2 = threading.Thread(target=second_tab)
            t2.start()
            t2.join(120)

    t = threading.Thread(target=lambda: tab_b.append(first.ingest_files([("big.pdf", big)], progress=progress)))
    t.start()
    t.join(300)
    refused, big_reports = tab_b
    assert refused.status == "error" and refused.error_type == "IngestBusy"
    assert "another upload of your workspace is being indexed" in refused.message
    assert big_reports[0].ok
    kb = KnowledgeBase(client, embedder, ws, include_sample=False)
    assert sorted(d.name for d in kb.documents()) == ["before.pdf", "big.pdf"]
    raw = client.get_collection(workspace_collection_name(ws, embedder.model_id), embedding_function=None)
    assert raw.count() == sum(d.chunks for d in kb.documents())
    assert kb.ingest_files([("second.pdf", gen.make_pdf(["Another file. " * 20]))])[0].ok  # once it is done
