"""Compare core: N configurations at once against real local servers (no mocks of a server).

The latency server (tests/fake_latency_server.py) is a real OpenAI-compatible HTTP server on 127.0.0.1;
retrieval is a plain function returning fixed RetrievedChunks (a legitimate input for the compare core).
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from ragft import errors as E
from ragft.answering import compare as C
from ragft.answering.prompts import build_messages
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.errors import RagftError
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models.chat import OpenAICompatibleModel
from ragft.settings import EndpointConfig
from tests.fake_latency_server import LatencyServer

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

CHUNKS = (
    RetrievedChunk("The Kestrel 2 Tent costs $149 and weighs 1.8 kg.", "catalogue.pdf", 1, 0.82, "c1"),
    RetrievedChunk("Returns are accepted within 60 days with a receipt.", "returns-warranty.pdf", 1, 0.41, "c2"),
)
ALL = ["base", "base_rag", "ft", "ft_rag"]


@pytest.fixture(scope="module")
def server():
    with LatencyServer(
        token_delay_s=0.01, first_token_s=0.02, models=("fake-base", "fake-ft", "fail-429", "fail-500", "fail-401")
    ) as srv:
        yield srv


def factory(server: LatencyServer, base: str = "fake-base", ft: str = "fake-ft", provider: str = "custom"):
    models = {
        "base": OpenAICompatibleModel(
            EndpointConfig(provider=provider, model=base, base_url=server.base_url, max_retries=0, timeout_s=10)
        ),
        "finetuned": OpenAICompatibleModel(
            EndpointConfig(provider=provider, model=ft, base_url=server.base_url, max_retries=0, timeout_s=10)
        ),
    }
    return lambda cfg: models[cfg.slot]


class CountingRetriever:
    def __init__(self, chunks=CHUNKS):
        self.calls = 0
        self.chunks = chunks
        self.lock = threading.Lock()

    def __call__(self, question: str) -> C.Retrieval:
        with self.lock:
            self.calls += 1
        return C.Retrieval(chunks=tuple(self.chunks), embed_s=0.001, search_s=0.002, collection="test")


def test_four_configurations_answer_and_share_one_retrieval(server):
    retriever = CountingRetriever()
    ledger = SessionLedger()
    cmp = C.run_comparison(
        "How much is the Kestrel 2 Tent?",
        ALL,
        model_for=factory(server),
        retrieve=retriever,
        ledger=ledger,
        max_tokens=12,
        timeout_s=60,
    )
    assert retriever.calls == 1
    assert [p.configuration for p in cmp.ordered_panels()] == ALL
    for p in cmp.ordered_panels():
        assert p.phase == C.DONE, p.error
        assert p.text == " ".join(f"w{i}" for i in range(1, 13))
        assert p.usage is not None and p.usage.completion_tokens == 12 and p.usage.exact
        assert p.ttft_s is not None and p.total_s is not None and p.total_s >= p.ttft_s
    # RAG panels saw the chunks, plain ones did not; context tokens = with RAG minus without.
    for key in ("base_rag", "ft_rag"):
        p = cmp.panels[key]
        assert p.sources == CHUNKS
        assert "Kestrel 2 Tent costs $149" in p.messages[-1]["content"]
        assert p.messages == build_messages(cmp.question, list(CHUNKS), cmp.system_prompt)
        assert p.context_tokens is not None and p.context_tokens > 10
        assert p.usage.prompt_tokens > cmp.panels[key.replace("_rag", "")].usage.prompt_tokens
    for key in ("base", "ft"):
        assert cmp.panels[key].sources == ()
        assert cmp.panels[key].context_tokens is None
        assert "Context:" not in cmp.panels[key].messages[-1]["content"]
    # Every call is in the ledger under this comparison's id, nothing left streaming.
    recs = ledger.records()
    assert sorted(r.configuration for r in recs) == sorted(ALL)
    assert {r.question_id for r in recs} == {cmp.id}
    assert not ledger.live()
    assert cmp.finished and cmp.wall_s is not None


def test_panels_stream_at_the_same_time(server):
    """All four requests are open on the server at once, and token events interleave across panels."""
    with LatencyServer(token_delay_s=0.03, first_token_s=0.02, models=("fake-base", "fake-ft")) as srv:
        run = C.start_comparison(
            "Is it waterproof?", ALL, model_for=factory(srv), retrieve=C.fixed_retriever(CHUNKS), max_tokens=15
        )
        order = [ev.key for ev in run.events(poll_s=0.05, timeout_s=60) if ev.kind == "token"]
        cmp = run.wait(10)
        assert srv.max_active == 4
    assert all(p.phase == C.DONE for p in cmp.ordered_panels())
    assert len(order) == 60
    first_done = {k: max(i for i, key in enumerate(order) if key == k) for k in ALL}
    first_seen = {k: min(i for i, key in enumerate(order) if key == k) for k in ALL}
    # Every panel got its first token before any panel got its last: they overlapped.
    assert max(first_seen.values()) < min(first_done.values())


@pytest.mark.parametrize(
    "bad, kind",
    [
        ("fail-429", "RateLimited"),
        ("fail-500", "ServerError"),
        ("fail-401", "AuthenticationFailed"),
        ("nope", "ModelNotFound"),
    ],
)
def test_one_failing_slot_stays_in_its_panels(server, bad, kind):
    ledger = SessionLedger()
    cmp = C.run_comparison(
        "Price of the tent?",
        ALL,
        model_for=factory(server, ft=bad),
        retrieve=C.fixed_retriever(CHUNKS),
        ledger=ledger,
        max_tokens=5,
        timeout_s=60,
    )
    for key in ("base", "base_rag"):
        assert cmp.panels[key].phase == C.DONE
        assert cmp.panels[key].text.startswith("w1")
    for key in ("ft", "ft_rag"):
        p = cmp.panels[key]
        assert p.phase == C.ERROR
        assert p.error_kind == kind and type(p.exception).__name__ == kind
        assert isinstance(p.exception, E.ModelError) and E.error_label(p.exception) != kind
        assert p.error and p.text == ""
    assert sorted(r.configuration for r in ledger.records()) == ["base", "base_rag"]
    assert not ledger.live()


def test_budget_refusal_stays_in_its_panel(server, tmp_path):
    budget = Budget(tmp_path, app_cap=None, participant_cap=Decimal("0.01"))
    overrides = {"fake-base": (Decimal("0.10"), Decimal("0.10")), "fake-ft": (Decimal("1000"), Decimal("1000"))}
    ledger = SessionLedger()
    cmp = C.run_comparison(
        "Price of the tent?",
        ["base", "ft"],
        model_for=factory(server),
        retrieve=None,
        ledger=ledger,
        budget=budget,
        max_tokens=8,
        price_overrides=overrides,
        timeout_s=60,
    )
    assert cmp.panels["base"].phase == C.DONE
    assert cmp.panels["base"].cost is not None and cmp.panels["base"].cost > 0
    ft = cmp.panels["ft"]
    assert ft.phase == C.ERROR and ft.error_kind == "BudgetExceeded" and isinstance(ft.exception, E.BudgetExceeded)
    assert E.error_label(ft.exception) == "Refused by the budget"
    assert "budget" in ft.error
    assert [r.configuration for r in ledger.records()] == ["base"]
    # The budget settled on the base call's real cost, nothing held.
    status = budget.status()
    assert status.workspace_reserved == 0
    assert status.workspace_spent == cmp.panels["base"].cost


def test_model_factory_error_and_retrieval_failure_stay_in_panels(server):
    base_factory = factory(server)

    def model_for(cfg):
        if cfg.slot == "finetuned":
            raise RagftError("No LoRA adapter installed.")
        return base_factory(cfg)

    def broken_retriever(q):
        raise RuntimeError("index is gone")

    cmp = C.run_comparison("Hello?", ALL, model_for=model_for, retrieve=broken_retriever, max_tokens=3, timeout_s=60)
    assert cmp.panels["base"].phase == C.DONE
    assert cmp.panels["base_rag"].phase == C.ERROR and "index is gone" in cmp.panels["base_rag"].error
    assert cmp.panels["ft"].phase == C.ERROR and "LoRA" in cmp.panels["ft"].error
    assert cmp.retrieval is not None and cmp.retrieval.error


def test_no_knowledge_base_means_rag_panels_explain(server):
    cmp = C.run_comparison(
        "Hello?", ["base", "base_rag"], model_for=factory(server), retrieve=None, max_tokens=3, timeout_s=60
    )
    assert cmp.panels["base"].phase == C.DONE
    assert cmp.panels["base_rag"].phase == C.ERROR
    assert "Knowledge base" in cmp.panels["base_rag"].error


@pytest.mark.parametrize(
    "question, configs, msg",
    [
        ("   ", ["base"], "Type a question"),
        ("Hi", [], "at least one"),
        ("Hi", ["base", "turbo"], "Unknown configuration"),
        ("x" * 5000, ["base"], "characters"),
    ],
)
def test_bad_input_is_a_typed_error(server, question, configs, msg):
    with pytest.raises(C.CompareError, match=msg):
        C.start_comparison(question, configs, model_for=factory(server), retrieve=None)


def test_configurations_come_back_in_canonical_order(server):
    cmp = C.run_comparison(
        "Hi",
        ["ft_rag", "base"],
        model_for=factory(server),
        retrieve=C.fixed_retriever(CHUNKS),
        max_tokens=2,
        timeout_s=60,
    )
    assert cmp.configurations == ("base", "ft_rag")


def test_cancel_stops_panels_and_records_what_was_spent():
    with LatencyServer(token_delay_s=0.05, first_token_s=0.01, models=("fake-base", "fake-ft")) as srv:
        ledger = SessionLedger()
        run = C.start_comparison(
            "Long answer please", ["base", "ft"], model_for=factory(srv), retrieve=None, ledger=ledger, max_tokens=200
        )
        for ev in run.events(poll_s=0.05, timeout_s=60):
            if ev.kind == "token":
                run.cancel()
        cmp = run.wait(30)
    for p in cmp.ordered_panels():
        assert p.phase == C.ERROR and p.error_kind == "Cancelled" and isinstance(p.exception, E.Cancelled)
        assert 0 < p.usage.completion_tokens < 200
    assert len(ledger.records()) == 2 and all(r.error for r in ledger.records())
    assert not ledger.live()


def test_a_comparison_is_a_background_run(server):
    from ragft.runs import BackgroundRun

    run = C.start_comparison(
        "Hi there",
        ["base", "base_rag"],
        model_for=factory(server),
        retrieve=C.fixed_retriever(CHUNKS),
        max_tokens=30,
        owner="ws-abc",
    )
    assert isinstance(run, BackgroundRun) and run.kind == "comparison"
    assert run.what == "Hi there" and run.owner == "ws-abc" and run.comparison is run.result
    with pytest.raises(TimeoutError):
        run.wait(0.01)  # 30 tokens at 10 ms each are not done in 10 ms
    kinds = [e.kind for e in run.events(poll_s=0.05, timeout_s=60)]
    assert kinds[-1] == "finished" and kinds.count("finished") == 1 and kinds.count("done") == 2
    assert "retrieval" in kinds and "error" not in kinds
    cmp = run.wait(5)
    assert run.done and run.error is None and cmp.finished and cmp.wall_s >= cmp.panels["base"].total_s > 0


def test_evidence_rows_follow_the_contract(server):
    from ragft.evaluation.style import check_style

    cmp = C.run_comparison(
        "Hi", ["base", "ft"], model_for=factory(server, ft="fail-500"), retrieve=None, max_tokens=2, timeout_s=60
    )
    rows = C.evidence_rows(cmp, check_style)
    assert rows == [
        {"configuration": "base", "fact_score": None, "style_score": 0.0, "cost_usd": None, "source": "compare"}
    ]


def test_export_dict_is_plain_data(server):
    import json

    cmp = C.run_comparison(
        "Hi", ALL, model_for=factory(server), retrieve=C.fixed_retriever(CHUNKS), max_tokens=2, timeout_s=60
    )
    data = json.loads(json.dumps(cmp.to_dict()))
    assert data["question"] == "Hi"
    assert [p["configuration"] for p in data["panels"]] == ALL
    assert data["panels"][1]["sources"][0]["source"] == "catalogue.pdf"
    assert data["retrieval"]["chunks"][0]["score"] == 0.82


def test_query_embedding_is_recorded_once_with_its_price(server):
    def retrieve(q):
        return C.Retrieval(
            chunks=CHUNKS,
            embed_s=0.01,
            query_tokens=9,
            embedding_model="text-embedding-3-small",
            embedding_provider="openai",
            collection="test",
        )

    ledger = SessionLedger()
    cmp = C.run_comparison(
        "Price?", ALL, model_for=factory(server), retrieve=retrieve, ledger=ledger, max_tokens=2, timeout_s=60
    )
    emb = [r for r in ledger.records() if r.kind == "embedding"]
    assert len(emb) == 1
    assert emb[0].configuration == "retrieval" and emb[0].question_id == cmp.id
    assert emb[0].usage.prompt_tokens == 9
    assert emb[0].cost is not None and emb[0].cost > 0  # $0.02 per 1M tokens in the bundled prices
    # A local embedder costs nothing and is recorded as local.
    ledger2 = SessionLedger()
    C.run_comparison(
        "Price?",
        ["base_rag"],
        model_for=factory(server),
        ledger=ledger2,
        max_tokens=2,
        timeout_s=60,
        retrieve=lambda q: C.Retrieval(
            chunks=CHUNKS, query_tokens=5, embedding_model="all-MiniLM-L6-v2", embedding_provider="local"
        ),
    )
    (rec,) = [r for r in ledger2.records() if r.kind == "embedding"]
    assert rec.local and rec.cost == 0


def test_against_the_real_llama_cpp_server(llama_server):
    """The OpenAI-compatible path end to end: a streamed llama.cpp answer (usage counted, not reported)."""
    from ragft.settings import EMBEDDED_BASE_MODEL

    model = OpenAICompatibleModel(
        EndpointConfig(
            provider="llamacpp", model=EMBEDDED_BASE_MODEL, base_url=llama_server, max_retries=0, timeout_s=120
        )
    )
    ledger = SessionLedger()
    cmp = C.run_comparison(
        "How much does the Kestrel 2 Tent cost?",
        ["base", "base_rag"],
        model_for=lambda c: model,
        retrieve=C.fixed_retriever(CHUNKS[:1]),
        ledger=ledger,
        max_tokens=8,
        timeout_s=300,
    )
    for p in cmp.ordered_panels():
        assert p.phase == C.DONE, p.error
        assert p.text.strip()
        assert p.usage is not None and 1 <= p.usage.completion_tokens <= 9
        assert p.local and p.cost == 0  # a llama.cpp server is self-hosted: $0 per token
    assert cmp.panels["base_rag"].context_tokens > 10
    assert cmp.panels["base_rag"].usage.prompt_tokens > cmp.panels["base"].usage.prompt_tokens
    assert len(ledger.records()) == 2
