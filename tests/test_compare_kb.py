"""Compare over a real knowledge base: the one Retrieval type end to end, query embeddings metered, and a
knowledge base that goes away shown as the RAG panels' error (never answered from something else).

Real parts: embedded Chroma in a temp dir (and a `chroma run` of this test's own, killed on purpose), the local
MiniLM, the OpenAI-compatible latency server on 127.0.0.1 for the chat models.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ragft.answering import compare as C
from ragft.costs.budget import Budget
from ragft.costs.ledger import KIND_EMBEDDING, SessionLedger
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.retrieval import Retrieval
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import new_workspace_id
from ragft.models.embeddings import LocalMiniLM
from ragft.settings import Settings
from tests.fake_latency_server import LatencyServer
from tests.test_compare import factory
from tests.test_index import read
from tests.test_index_server_gone import Server

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

QUESTION = "How much does the Boreal Kettle cost?"


@pytest.fixture(scope="module")
def server():
    with LatencyServer(token_delay_s=0.005, first_token_s=0.01, models=("fake-base", "fake-ft")) as srv:
        yield srv


@pytest.fixture(scope="module")
def embedder():
    return LocalMiniLM()


@pytest.fixture
def kb(tmp_path, embedder):
    kb = KnowledgeBase(make_client(Settings(data_dir=tmp_path)), embedder, new_workspace_id(), include_sample=False)
    assert kb.ingest_files([("good.pdf", read("good.pdf"))])[0].ok
    return kb


def test_the_knowledge_base_retrieval_reaches_the_rag_panels_and_its_query_embedding_is_metered(server, kb):
    ledger = SessionLedger()
    cmp = C.run_comparison(
        QUESTION,
        ["base", "base_rag"],
        model_for=factory(server),
        ledger=ledger,
        retrieve=kb.as_retriever(k=2),
        max_tokens=4,
        timeout_s=60,
    )
    r = cmp.retrieval
    assert isinstance(r, Retrieval) and r.ok and r.collection == "workspace"
    assert r.chunks[0].source == "good.pdf" and "EUR 34.50" in r.chunks[0].text
    assert r.query_tokens > 0 and r.embedding_provider == "local" and r.embedding_model == "all-MiniLM-L6-v2"
    assert cmp.panels["base_rag"].phase == C.DONE and cmp.panels["base_rag"].sources == r.chunks
    (rec,) = [x for x in ledger.records() if x.kind == KIND_EMBEDDING]
    assert rec.configuration == "retrieval" and rec.question_id == cmp.id
    assert rec.usage.prompt_tokens == r.query_tokens and rec.model_id == "all-MiniLM-L6-v2"
    assert rec.local and rec.cost == 0
    assert cmp.to_dict()["retrieval"]["chunks"][0]["source"] == "good.pdf"


def test_a_priced_query_embedding_is_charged_to_the_budget(server, kb, tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=None, participant_cap=Decimal(10))
    overrides = {"all-MiniLM-L6-v2": (Decimal(1000), 0), "fake-base": (Decimal("0.10"), Decimal("0.10"))}
    cmp = C.run_comparison(
        QUESTION,
        ["base_rag"],
        model_for=factory(server),
        ledger=ledger,
        budget=budget,
        price_overrides=overrides,
        retrieve=kb.as_retriever(k=1),
        max_tokens=2,
        timeout_s=60,
    )
    (rec,) = [x for x in ledger.records() if x.kind == KIND_EMBEDDING]
    assert rec.cost == Decimal(cmp.retrieval.query_tokens) / 1000 > 0 and not rec.local  # $0.001 per token
    (chat,) = [x for x in ledger.records() if x.kind != KIND_EMBEDDING]
    assert chat.cost > 0 and budget.status().workspace_spent == rec.cost + chat.cost


def test_a_knowledge_base_that_goes_away_is_the_rag_panels_error(server, embedder, tmp_path):
    chroma = Server(tmp_path)
    chroma.start()
    try:
        kb = KnowledgeBase(
            make_client(Settings(chroma_host="127.0.0.1", chroma_port=chroma.port)),
            embedder,
            new_workspace_id(),
            include_sample=False,
        )
        assert kb.ingest_files([("good.pdf", read("good.pdf"))])[0].ok
    finally:
        chroma.kill()
    ledger = SessionLedger()
    cmp = C.run_comparison(
        QUESTION,
        ["base", "base_rag", "ft", "ft_rag"],
        model_for=factory(server),
        ledger=ledger,
        retrieve=kb.as_retriever(k=2),
        max_tokens=3,
        timeout_s=60,
    )
    r = cmp.retrieval
    assert not r.ok and r.error_kind == "IndexUnavailable" and "cannot be reached" in r.error
    assert r.chunks == ()
    for key in ("base_rag", "ft_rag"):
        p = cmp.panels[key]
        assert p.phase == C.ERROR and p.error_kind == "RetrievalFailed" and "cannot be reached" in p.error
        assert p.sources == () and p.text == ""
    assert cmp.panels["base"].phase == cmp.panels["ft"].phase == C.DONE
    assert not [x for x in ledger.records() if x.kind == KIND_EMBEDDING]  # nothing retrieved, nothing metered
    assert sorted(x.configuration for x in ledger.records()) == ["base", "ft"]


def test_an_unexpected_retriever_failure_is_named_in_the_rag_panels(server):
    def broken(_question: str) -> Retrieval:
        raise KeyError("collection")

    cmp = C.run_comparison(
        QUESTION, ["base_rag"], model_for=factory(server), retrieve=broken, max_tokens=2, timeout_s=60
    )
    assert cmp.retrieval.error_kind == "KeyError" and cmp.retrieval.error.startswith("Retrieval failed: KeyError")
    assert cmp.panels["base_rag"].phase == C.ERROR and "KeyError" in cmp.panels["base_rag"].error
