"""The index with real parts: Chroma embedded in a temp dir AND a real `chroma run` server, the local MiniLM.

Every test taking ``client`` runs twice: ``embedded`` (PersistentClient in a temp dir) and ``server``
(HttpClient to the session's `chroma run` on 127.0.0.1, one fresh database per test).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from ragft import errors as E
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.chunking import chunk_pages
from ragft.knowledge.documents import load_document
from ragft.knowledge.retrieval import retrieve
from ragft.knowledge.sample import ensure_sample_collection, open_sample
from ragft.knowledge.store import EmbeddingMismatch, Index, IndexUnavailable, ReadOnlyCollection, make_client
from ragft.knowledge.workspaces import (
    WorkspaceIdError,
    new_workspace_id,
    sample_collection_name,
    workspace_collection_name,
)
from ragft.models.embeddings import LocalMiniLM
from ragft.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "bad_corpus"
_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


@pytest.fixture(scope="module")
def embedder():
    return LocalMiniLM()


class OtherModel:
    """The real local model under another id, cut to 128 dimensions: a genuinely different embedding space."""

    provider, model, model_id, dimensions, max_tokens = "local", "minilm-128", "local:minilm-128", 128, 256

    def __init__(self, base):
        self.base = base

    def embed(self, texts):
        v = self.base.embed(texts)[:, :128]
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def __call__(self, texts):
        return list(self.embed(texts))

    def count_tokens(self, texts):
        return self.base.count_tokens(texts)


class FailingOn:
    """The real embedder, except that a batch containing ``marker`` fails as a remote API would."""

    def __init__(self, base, marker):
        self.base, self.marker = base, marker
        self.provider, self.model, self.model_id = base.provider, base.model, base.model_id
        self.dimensions, self.max_tokens = base.dimensions, base.max_tokens

    def embed(self, texts):
        if any(self.marker in t for t in texts):
            raise E.ServerError("The embedding server failed (500).")
        return self.base.embed(texts)

    def __call__(self, texts):
        return list(self.embed(texts))

    def count_tokens(self, texts):
        return self.base.count_tokens(texts)


@pytest.fixture(params=["embedded", "server"])
def client(request, tmp_path):
    import chromadb
    from chromadb.config import Settings as CS

    if request.param == "embedded":
        return make_client(Settings(data_dir=tmp_path))
    host, port = request.getfixturevalue("chroma_server")
    db = f"t{uuid.uuid4().hex[:12]}"
    chromadb.AdminClient(
        CS(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=host,
            chroma_server_http_port=port,
            anonymized_telemetry=False,
        )
    ).create_database(db)
    return chromadb.HttpClient(host=host, port=port, database=db, settings=CS(anonymized_telemetry=False))


def read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def md(text: str) -> bytes:
    return text.encode()


CATALOGUE_OLD = gen.make_pdf(gen.good_pages())
CATALOGUE_NEW = gen.make_pdf([p.replace("EUR 34.50", "EUR 39.00") for p in gen.good_pages()])


@pytest.fixture
def scenario(tmp_path):
    d = tmp_path / "scenario"
    d.mkdir()
    (d / "catalogue.pdf").write_bytes(CATALOGUE_OLD)
    (d / "policies.md").write_bytes(
        md(
            "# Returns\n\nReturns are accepted within 30 days of delivery.\n\n"
            "# Shipping\n\nStandard shipping takes 3 to 5 working days."
        )
    )
    return d


# ---- ingest, documents, retrieval ---------------------------------------------------------------
def test_ingest_lists_documents_and_retrieves_the_right_chunk(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    stages = []
    reports = kb.ingest_files(
        [("good.pdf", read("good.pdf")), ("good.md", read("good.md"))],
        progress=lambda f, s, d, t: stages.append((f, s, d, t)),
    )
    assert [r.status for r in reports] == ["ok", "ok"]
    pdf = reports[0]
    assert (pdf.pages, pdf.chunks, pdf.kind) == (3, 3, "pdf")
    assert pdf.tokens > 0 and pdf.embed_tokens > 0 and pdf.embed_seconds > 0
    assert pdf.embed_cost == 0  # the local model is free
    docs = {d.name: d for d in kb.documents()}
    assert set(docs) == {"good.pdf", "good.md"}
    assert (docs["good.pdf"].pages, docs["good.pdf"].chunks, docs["good.pdf"].tokens) == (3, 3, pdf.tokens)
    assert docs["good.pdf"].chunk_tokens == 200 and docs["good.pdf"].embedding_model == embedder.model_id
    # the stages of one file come in order
    order = [s for f, s, _, _ in stages if f == "good.pdf"]
    assert order[0] == "checking" and order[-1] == "done"
    assert order.index("reading") < order.index("chunking") < order.index("embedding") < order.index("storing")

    res = kb.retrieve("How much does the Boreal Kettle cost?", k=2)
    top = res.chunks[0]
    assert (top.source, top.page) == ("good.pdf", 2) and "EUR 34.50" in top.text
    assert 0.0 <= res.chunks[-1].score <= top.score <= 1.0
    assert top.doc_id == docs["good.pdf"].doc_id and top.chunk_id.startswith(top.doc_id)
    assert res.embed_s > 0 and res.search_s > 0 and res.query_tokens > 0

    res = kb.retrieve("How many days do I have to return a product?", k=1)
    assert res.chunks[0].source == "good.md" and res.chunks[0].page is None


def test_chunk_inspector_returns_every_chunk_in_order(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    text = "\n\n".join(f"Section {i}. " + "The policy says many careful things. " * 12 for i in range(8))
    (r,) = kb.ingest_files([("long.md", md(text))], chunk_tokens=60, overlap=10)
    chunks = kb.chunks(r.doc_id)
    assert len(chunks) == r.chunks > 4
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.tokens <= 60 and c.source == "long.md" for c in chunks)
    assert chunks[0].text.startswith("Section 0.")
    loaded = load_document("long.md", md(text))
    expect = chunk_pages(loaded.pages, doc_id=loaded.doc_id, source="long.md", chunk_tokens=60, overlap=10)
    assert [c.text for c in chunks] == [c.text for c in expect]


def test_same_content_adds_nothing(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    kb.ingest_files([("good.pdf", read("good.pdf"))])
    before = kb.workspace.count()
    reports = kb.ingest_files([("good.pdf", read("good.pdf")), ("copy.pdf", read("good.pdf"))])
    assert [r.status for r in reports] == ["duplicate", "duplicate"]
    assert "already in your workspace" in reports[0].message and "as good.pdf" in reports[1].message
    assert kb.workspace.count() == before and len(kb.documents()) == 1
    # twice in the same upload: added once
    reports = kb.ingest_files([("a.md", md("# A\n\nalpha")), ("b.md", md("# A\n\nalpha"))])
    assert [r.status for r in reports] == ["ok", "duplicate"]


def test_new_version_of_a_file_replaces_the_old_one(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    (old,) = kb.ingest_files([("catalogue.pdf", CATALOGUE_OLD)])
    (new,) = kb.ingest_files([("catalogue.pdf", CATALOGUE_NEW)])
    assert new.ok and new.replaced == [old.doc_id] and "replaces" in new.message
    assert [d.doc_id for d in kb.documents()] == [new.doc_id]
    assert "EUR 39.00" in kb.retrieve("Boreal Kettle price", k=1).chunks[0].text


def test_delete_one_document_and_reset(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    a, b = kb.ingest_files([("good.pdf", read("good.pdf")), ("good.md", read("good.md"))])
    assert kb.delete_document(a.doc_id) == 3
    assert [d.name for d in kb.documents()] == ["good.md"]
    assert kb.chunks(a.doc_id) == []
    assert all(c.source != "good.pdf" for c in kb.retrieve("Boreal Kettle price", k=5).chunks)
    assert kb.delete_document("no-such-doc") == 0
    assert kb.reset() == 1
    assert kb.documents() == [] and kb.workspace.count() == 0
    assert kb.retrieve("anything", k=3).chunks == ()
    assert kb.ingest_files([("good.pdf", read("good.pdf"))])[0].ok  # usable after a reset


def test_filters_and_threshold(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    a, b = kb.ingest_files([("good.pdf", read("good.pdf")), ("good.md", read("good.md"))])
    q = "Boreal Kettle price"
    only_md = kb.retrieve(q, k=5, doc_filter=[b.doc_id])
    assert only_md.chunks and {c.doc_id for c in only_md.chunks} == {b.doc_id}
    assert {c.doc_id for c in kb.retrieve(q, k=5, exclude_doc_ids=[a.doc_id]).chunks} == {b.doc_id}
    assert kb.retrieve(q, k=5, doc_filter=[]).chunks == ()
    strict = kb.retrieve(q, k=5, threshold=0.99)
    assert strict.chunks == () and strict.below_threshold == strict.candidates == 4
    loose = kb.retrieve(q, k=5, threshold=0.0)
    assert len(loose.chunks) == 4
    mid = sorted(c.score for c in loose.chunks)[2]
    assert all(c.score >= mid for c in kb.retrieve(q, k=5, threshold=mid).chunks)


# ---- isolation ----------------------------------------------------------------------------------
def test_two_workspaces_never_see_each_other(client, embedder):
    ws_a, ws_b = new_workspace_id(), new_workspace_id()
    a = KnowledgeBase(client, embedder, ws_a, include_sample=False)
    b = KnowledgeBase(client, embedder, ws_b, include_sample=False)
    (secret,) = a.ingest_files([("secret.md", md("# Secret\n\nThe vault code of Project Heron is 4711."))])
    assert secret.ok
    assert a.retrieve("vault code of Project Heron", k=3).chunks[0].source == "secret.md"
    assert b.retrieve("vault code of Project Heron", k=3).chunks == ()
    assert b.documents() == [] and b.chunks(secret.doc_id) == []
    assert b.delete_document(secret.doc_id) == 0 and b.reset() == 0
    # B uploading the same bytes gets its own copy, not A's
    assert b.ingest_files([("mine.md", md("# Secret\n\nThe vault code of Project Heron is 4711."))])[0].ok
    b.reset()
    assert [d.name for d in a.documents()] == ["secret.md"]
    assert a.retrieve("vault code", k=1).chunks[0].doc_id == secret.doc_id
    # names are derived from a hash of the id: distinct, and never the raw id
    na, nb = (workspace_collection_name(w, embedder.model_id) for w in (ws_a, ws_b))
    assert na != nb and ws_a not in na and not na.startswith("sample")


@pytest.mark.parametrize("bad", ["", "short", "../../etc", "sample", "a b c d e f g h", "x" * 65, None])
def test_invalid_workspace_ids_are_refused(bad):
    with pytest.raises(WorkspaceIdError):
        workspace_collection_name(bad, "local:x")


# ---- the shared sample --------------------------------------------------------------------------
def test_sample_is_built_once_shared_and_read_only(client, embedder, scenario):
    st = ensure_sample_collection(client, embedder, scenario)
    assert st.rebuilt and sorted(st.documents) == ["catalogue.pdf", "policies.md"] and not st.errors
    assert not ensure_sample_collection(client, embedder, scenario).rebuilt
    a = KnowledgeBase(client, embedder, new_workspace_id())
    b = KnowledgeBase(client, embedder, new_workspace_id())
    for kb in (a, b):
        top = kb.retrieve("How long does standard shipping take?", k=1).chunks[0]
        assert top.source == "policies.md" and top.metadata["collection"] == "sample"
    assert a.documents() == [] and len(a.documents(include_sample=True)) == 2
    sample_doc = a.sample.documents()[0]
    with pytest.raises(ReadOnlyCollection):
        a.sample.delete_document(sample_doc.doc_id)
    with pytest.raises(ReadOnlyCollection):
        a.sample.reset()
    loaded = load_document("x.md", md("# x\n\nnew"))
    chunks = chunk_pages(loaded.pages, doc_id=loaded.doc_id, source="x.md")
    with pytest.raises(ReadOnlyCollection):
        a.sample.add_document(
            loaded,
            chunks,
            embedder.embed([c.text for c in chunks]),
            chunk_tokens=200,
            overlap=30,
            embed_tokens=1,
            embed_seconds=0.0,
            embed_cost=None,
        )
    assert a.delete_document(sample_doc.doc_id) == 0  # a session's delete never reaches the sample
    a.reset()
    assert len(b.sample.documents()) == 2
    # uploading a sample file again is a duplicate, not a second copy
    (r,) = a.ingest_files([("policies.md", (scenario / "policies.md").read_bytes())])
    assert r.status == "duplicate" and "shared sample" in r.message


def test_sample_reindexes_only_what_changed(client, embedder, scenario):
    ensure_sample_collection(client, embedder, scenario)
    sample = open_sample(client, embedder)
    before = {d.name: d for d in sample.documents()}
    (scenario / "policies.md").write_bytes(md("# Returns\n\nReturns are accepted within 60 days."))
    st = ensure_sample_collection(client, embedder, scenario)
    after = {d.name: d for d in sample.documents()}
    assert st.rebuilt
    assert after["catalogue.pdf"] == before["catalogue.pdf"]  # untouched, same added_at
    assert after["policies.md"].doc_id != before["policies.md"].doc_id
    assert sample.count() == sum(d.chunks for d in after.values())
    (scenario / "policies.md").unlink()
    ensure_sample_collection(client, embedder, scenario)
    assert [d.name for d in sample.documents()] == ["catalogue.pdf"]
    # other chunking settings → everything re-chunked
    ensure_sample_collection(client, embedder, scenario, chunk_tokens=50, overlap=5)
    assert [d.chunk_tokens for d in sample.documents()] == [50]


def test_scenario_manifest_picks_the_files_to_index(client, embedder, scenario):
    (scenario / "copy.md").write_bytes(md("# Copy of the catalogue\n\nnot to be indexed"))
    (scenario / "scenario.json").write_text(
        json.dumps(
            {
                "files": [
                    {"name": "catalogue.pdf", "index": True},
                    {"name": "policies.md", "index": True},
                    {"name": "copy.md", "index": False},
                ]
            }
        )
    )
    st = ensure_sample_collection(client, embedder, scenario)
    assert sorted(st.documents) == ["catalogue.pdf", "policies.md"]


def test_newer_workspace_file_hides_the_sample_version(client, embedder, scenario):
    ensure_sample_collection(client, embedder, scenario)
    kb = KnowledgeBase(client, embedder, new_workspace_id())
    q = "What is the price of the Boreal Kettle?"
    assert "EUR 34.50" in kb.retrieve(q, k=1).chunks[0].text
    (r,) = kb.ingest_files([("catalogue.pdf", CATALOGUE_NEW)])
    assert r.ok
    assert [d.name for d in kb.shadowed_sample_docs()] == ["catalogue.pdf"]
    res = kb.retrieve(q, k=5)
    texts = " ".join(c.text for c in res.chunks)
    assert "EUR 39.00" in res.chunks[0].text and "EUR 34.50" not in texts
    assert res.chunks[0].metadata["collection"] == "workspace"
    # another session still sees the sample's price
    other = KnowledgeBase(client, embedder, new_workspace_id())
    assert "EUR 34.50" in other.retrieve(q, k=1).chunks[0].text
    kb.delete_document(r.doc_id)
    assert "EUR 34.50" in kb.retrieve(q, k=1).chunks[0].text


def test_real_scenario_answers_a_catalogue_question(embedder, tmp_path):
    scenario_dir = ROOT / "assets" / "scenario"
    if not (scenario_dir / "scenario.json").is_file():
        pytest.skip("the sample scenario is not generated yet")
    from ragft.knowledge.scenario import load_scenario

    sc = load_scenario(scenario_dir)
    client = make_client(Settings(data_dir=tmp_path))
    st = ensure_sample_collection(client, embedder, scenario_dir)
    manifest = json.loads((scenario_dir / "scenario.json").read_text())
    assert sorted(st.documents) == sorted(f["name"] for f in manifest["files"] if f.get("index"))
    assert not st.errors
    kb = KnowledgeBase(client, embedder, new_workspace_id())
    hits = 0
    for product in sc.products:
        top = kb.retrieve(f"How much does the {product.name} cost?", k=1).chunks[0]
        hits += top.source == sc.catalogue_pdf and top.page == product.page and product.price_text in top.text
    assert hits >= len(sc.products) - 1, f"{hits}/{len(sc.products)} products found on their page"


# ---- embedding model recorded on the collection --------------------------------------------------
def test_another_embedding_model_is_refused(client, embedder):
    other = OtherModel(embedder)
    ws = new_workspace_id()
    kb = KnowledgeBase(client, embedder, ws, include_sample=False)
    kb.ingest_files([("good.pdf", read("good.pdf"))])
    name = workspace_collection_name(ws, embedder.model_id)
    with pytest.raises(EmbeddingMismatch) as info:
        Index(client, name, other)
    assert embedder.model_id in info.value.message and "re-index" in info.value.message
    with pytest.raises(EmbeddingMismatch):
        retrieve("Boreal Kettle", [kb.workspace], k=1, embedder=other)
    # the other model has its own collection for the same workspace: nothing of the first shows up there
    kb2 = KnowledgeBase(client, other, ws, include_sample=False)
    assert kb2.documents() == [] and kb2.workspace.name != kb.workspace.name
    assert kb2.ingest_files([("good.md", read("good.md"))])[0].ok
    assert [d.name for d in kb.documents()] == ["good.pdf"]


def test_vectors_of_the_wrong_dimension_are_refused(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    doc = load_document("x.md", md("# x\n\nsome text"))
    chunks = chunk_pages(doc.pages, doc_id=doc.doc_id, source="x.md")
    with pytest.raises(EmbeddingMismatch):
        kb.workspace.add_document(
            doc,
            chunks,
            np.ones((len(chunks), 128), dtype=np.float32),
            chunk_tokens=200,
            overlap=30,
            embed_tokens=1,
            embed_seconds=0.0,
            embed_cost=None,
        )
    assert kb.workspace.count() == 0


# ---- failures inside a file leave nothing partial -------------------------------------------------
def big_pdf(pages: int, marker_from: int | None = None) -> bytes:
    texts = []
    for i in range(pages):
        tag = " MARKER" if marker_from is not None and i >= marker_from else ""
        texts.append(f"Product {i}{tag}. " + "A sturdy item for the trail with a long description. " * 4)
    return gen.make_pdf(texts)


def test_embedding_failure_mid_file_leaves_no_partial_document(client, embedder):
    flaky = FailingOn(embedder, "MARKER")
    kb = KnowledgeBase(client, flaky, new_workspace_id(), include_sample=False)
    reports = kb.ingest_files(
        [("first.md", read("good.md")), ("broken.pdf", big_pdf(100, marker_from=90)), ("last.pdf", read("good.pdf"))]
    )
    assert [r.status for r in reports] == ["ok", "error", "ok"]
    assert "embedding server failed" in reports[1].message and reports[1].message.startswith("broken.pdf")
    assert sorted(d.name for d in kb.documents()) == ["first.md", "last.pdf"]
    assert kb.workspace.count() == sum(d.chunks for d in kb.documents())


def test_storage_failure_between_batches_leaves_no_partial_document(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    kb.workspace._max_batch = 7  # several batches per file

    def fail_after_first_batch(name, stage, done, total):
        if name == "broken.pdf" and stage == "storing" and 0 < done < total:
            raise OSError("disk full")

    reports = kb.ingest_files(
        [("first.md", read("good.md")), ("broken.pdf", big_pdf(30)), ("last.pdf", read("good.pdf"))],
        progress=fail_after_first_batch,
    )
    assert [r.status for r in reports] == ["ok", "error", "ok"]
    assert "disk full" in reports[1].message
    assert sorted(d.name for d in kb.documents()) == ["first.md", "last.pdf"]
    assert kb.workspace.count() == sum(d.chunks for d in kb.documents())


def test_orphan_chunks_are_swept_on_open_and_never_retrieved(client, embedder):
    ws = new_workspace_id()
    kb = KnowledgeBase(client, embedder, ws, include_sample=False)
    kb.ingest_files([("good.md", read("good.md"))])
    # what a crashed writer leaves: chunks of a document without its manifest (chunk 0)
    doc = load_document("half.pdf", big_pdf(5))
    chunks = chunk_pages(doc.pages, doc_id=doc.doc_id, source="half.pdf")[1:]
    kb.workspace._col.upsert(
        ids=[c.chunk_id for c in chunks],
        embeddings=embedder.embed([c.text for c in chunks]),
        documents=[c.text for c in chunks],
        metadatas=[{"doc_id": c.doc_id, "source": c.source, "page": c.page, "position": c.position} for c in chunks],
    )
    assert kb.workspace.count() > kb.documents()[0].chunks
    reopened = KnowledgeBase(client, embedder, ws, include_sample=False)
    assert reopened.workspace.count() == reopened.documents()[0].chunks
    assert all(c.source == "good.md" for c in reopened.retrieve("sturdy item for the trail", k=5).chunks)


# ---- passwords, clients, persistence --------------------------------------------------------------
def test_encrypted_pdf_waits_for_its_password(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    files = [("encrypted.pdf", read("encrypted.pdf")), ("good.md", read("good.md"))]
    first = kb.ingest_files(files)
    assert [r.status for r in first] == ["needs_password", "ok"]
    wrong = kb.ingest_files(files[:1], password={"encrypted.pdf": "nope"})
    assert wrong[0].status == "needs_password" and "wrong password" in wrong[0].message
    ok = kb.ingest_files(
        files[:1], password={"encrypted.pdf": json.loads((CORPUS / "expected.json").read_text())["password"]}
    )
    assert ok[0].ok
    assert "EUR 44.00" in kb.retrieve("staff price of the Aurora Desk Lamp", k=1).chunks[0].text


def test_make_client_uses_the_server_when_chroma_host_is_set(chroma_server, embedder):
    host, port = chroma_server
    client = make_client(Settings(chroma_host=host, chroma_port=port))
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    assert kb.where == "the Chroma server"  # named for messages; host and port stay in the server log
    assert client.get_settings().chroma_server_host == host
    assert kb.ingest_files([("good.md", read("good.md"))])[0].ok
    kb.reset()


def test_make_client_dead_server_is_a_clear_error():
    from tests.conftest import free_port

    with pytest.raises(IndexUnavailable) as info:
        make_client(Settings(chroma_host="127.0.0.1", chroma_port=free_port()))
    assert "unreachable" in info.value.message and "CHROMA_HOST" in info.value.message


def test_data_survives_a_restart(tmp_path, embedder):
    """A separate process indexes into the data dir; this process, started after it ended, finds it all."""
    ws = new_workspace_id()
    script = f"""
import sys; sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from ragft.models.embeddings import LocalMiniLM
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.store import make_client
from ragft.settings import Settings
kb = KnowledgeBase(make_client(Settings(data_dir=Path({str(tmp_path)!r}))), LocalMiniLM(), {ws!r})
print(kb.ingest_files([("good.pdf", Path({str(CORPUS / "good.pdf")!r}).read_bytes())])[0].status)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().endswith("ok"), out.stderr[-2000:]
    kb = KnowledgeBase(make_client(Settings(data_dir=tmp_path)), embedder, ws)
    assert [d.name for d in kb.documents()] == ["good.pdf"]
    assert kb.retrieve("Cirrus Pillow", k=1).chunks[0].page == 3


def test_sample_name_is_per_embedder(embedder):
    assert sample_collection_name(embedder.model_id) != sample_collection_name("openai:text-embedding-3-small")
    assert sample_collection_name(embedder.model_id).startswith("sample-")


def test_excluding_a_document_that_fills_the_top_results_still_returns_others(client, embedder):
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    crowd = "\n\n".join(f"Kettle note {i}: the Boreal Kettle boils water fast." for i in range(30))
    a, b = kb.ingest_files(
        [("crowd.md", md(crowd)), ("other.md", md("# Lamp\n\nThe Aurora lamp is warm."))], chunk_tokens=20, overlap=0
    )
    assert a.chunks >= 15
    res = kb.retrieve("Boreal Kettle boils water", k=2, exclude_doc_ids=[a.doc_id])
    assert [c.doc_id for c in res.chunks] == [b.doc_id]  # found by the store-side filter, past the crowd
    assert len(kb.retrieve("Boreal Kettle boils water", k=2).chunks) == 2
