"""The core's ingest meters itself: reserve before embedding, settle and record after, also when it fails midway.

Real parts: embedded Chroma in a temp dir, the local MiniLM, a real Budget (its spend file in the temp dir) and
a SessionLedger. The local model is free, so a price override gives it a price the budget can refuse.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ragft.costs.budget import Budget
from ragft.costs.ledger import INGEST, KIND_EMBEDDING, SessionLedger
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import new_workspace_id
from ragft.models.embeddings import LocalMiniLM
from ragft.settings import Settings
from tests.test_index import FailingOn, big_pdf, read

PER_M = Decimal(1000)  # dollars per 1M embedding tokens: $0.001 per token, so a few hundred tokens cost cents
OVERRIDES = {"all-MiniLM-L6-v2": (PER_M, 0)}


class Counting(FailingOn):
    """The real embedder; counts the texts it was asked to embed."""

    def __init__(self, base, marker="never-present"):
        super().__init__(base, marker)
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture(scope="module")
def embedder():
    return LocalMiniLM()


@pytest.fixture
def client(tmp_path):
    return make_client(Settings(data_dir=tmp_path))


def cost(tokens: int) -> Decimal:
    return Decimal(tokens) * PER_M / Decimal(1_000_000)


def test_each_file_is_reserved_recorded_and_settled(client, embedder, tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=None, participant_cap=Decimal(5))
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
    reports = kb.ingest_files(
        [("good.md", read("good.md")), ("good.pdf", read("good.pdf"))],
        ledger=ledger,
        budget=budget,
        price_overrides=OVERRIDES,
    )
    assert [r.status for r in reports] == ["ok", "ok"]
    recs = ledger.records()
    assert [(r.kind, r.configuration) for r in recs] == [(KIND_EMBEDDING, INGEST)] * 2
    for rep, rec in zip(reports, recs, strict=True):
        assert rec.usage.prompt_tokens == rep.embed_tokens > 0
        assert rec.cost == rep.embed_cost == cost(rep.embed_tokens)
        assert rec.error is None and rep.name in rec.question
    spent = sum((r.cost for r in recs), Decimal(0))
    status = budget.status()
    assert status.workspace_spent == status.app_spent == spent and status.workspace_reserved == 0
    assert {d.name: d.embed_cost for d in kb.documents()} == {r.name: r.embed_cost for r in reports}


def test_a_file_the_budget_refuses_is_never_embedded_nor_stored(client, embedder, tmp_path):
    counting = Counting(embedder)
    ledger = SessionLedger()
    kb = KnowledgeBase(client, counting, new_workspace_id(), include_sample=False)
    probe = kb.ingest_files([("good.md", read("good.md"))])[0]  # unmetered: no ledger, no budget
    assert probe.ok and not ledger.records()
    kb.reset()
    # room for good.md (and a little more), not for a 20-page PDF
    budget = Budget(tmp_path, app_cap=None, participant_cap=cost(probe.embed_tokens) * 2)
    counting.texts = 0
    reports = kb.ingest_files(
        [("good.md", read("good.md")), ("big.pdf", big_pdf(20))],
        ledger=ledger,
        budget=budget,
        price_overrides=OVERRIDES,
    )
    assert [r.status for r in reports] == ["ok", "error"]
    refused = reports[1]
    assert refused.error_type == "BudgetExceeded" and "Refused" in refused.message
    assert refused.message.startswith("big.pdf") and refused.embed_tokens > reports[0].embed_tokens
    assert counting.texts == reports[0].chunks  # big.pdf never reached the model
    assert [r.question for r in ledger.records()] == ["indexing good.md"]
    status = budget.status()
    assert status.workspace_reserved == 0 and status.workspace_spent == cost(reports[0].embed_tokens)
    assert [d.name for d in kb.documents()] == ["good.md"]


def test_an_unknown_price_under_a_cap_is_refused(client, embedder, tmp_path):
    priceless = FailingOn(embedder, "never-present")
    priceless.provider, priceless.model = "openai", "no-such-embedding-model"
    budget = Budget(tmp_path, app_cap=Decimal(1), participant_cap=None)
    kb = KnowledgeBase(client, priceless, new_workspace_id(), include_sample=False)
    (report,) = kb.ingest_files([("good.md", read("good.md"))], ledger=SessionLedger(), budget=budget)
    assert report.error_type == "PriceUnknownForBudget" and not kb.documents()


def test_an_embedding_that_fails_midway_records_what_was_spent(client, embedder, tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=None, participant_cap=Decimal(50))
    kb = KnowledgeBase(client, FailingOn(embedder, "MARKER"), new_workspace_id(), include_sample=False)
    (report,) = kb.ingest_files(
        [("broken.pdf", big_pdf(100, marker_from=90))], ledger=ledger, budget=budget, price_overrides=OVERRIDES
    )
    assert report.status == "error" and "embedding server failed" in report.message
    (rec,) = ledger.records()
    assert rec.configuration == INGEST and rec.error and "embedding server failed" in rec.error
    # the first batch (64 chunks) was embedded and paid for; the failing one was not
    assert 0 < rec.usage.prompt_tokens < report.embed_tokens
    assert rec.cost == cost(rec.usage.prompt_tokens)
    status = budget.status()
    assert status.workspace_spent == rec.cost and status.workspace_reserved == 0
    assert not kb.documents() and kb.workspace.count() == 0


def test_a_store_failure_after_embedding_still_records_the_embedding(client, embedder, tmp_path):
    ledger = SessionLedger()
    kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)

    def fail_storing(name, stage, done, total):
        if stage == "storing":
            raise OSError("disk full")

    (report,) = kb.ingest_files(
        [("good.pdf", read("good.pdf"))], ledger=ledger, progress=fail_storing, price_overrides=OVERRIDES
    )
    assert report.status == "error" and "disk full" in report.message
    (rec,) = ledger.records()
    assert rec.usage.prompt_tokens == report.embed_tokens > 0 and rec.error is None
    assert not kb.documents()
