"""Budget evasion on the facilitator's key: a participant's tricks never spend past the caps.

A real OpenAI-compatible server on 127.0.0.1 stands in for the facilitator's paid endpoint; the facilitator prices
its model with ``RAGFT_PRICE_OVERRIDES`` and sets an app cap of a few cents. Each trick goes through the same path
the app uses (``ragft.access`` policy → ``BilledChatModel`` → ``MeteredCall`` against the class-database budget):
a ``*`` = 0/0 session override, relabelling the provider, a reload and a new tab (a new Budget object for the same
workspace), and many calls at once from several sessions. Spend never exceeds the cap by more than one call's
reservation, and every refused call spends nothing.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal

import pytest

from ragft.access import KEY_NONE, policy_from
from ragft.costs.billing import BilledChatModel, BilledEmbedder, price_for_billing
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.costs.metering import MeteredCall
from ragft.costs.prices import parse_price_overrides
from ragft.errors import BudgetExceeded
from ragft.models.chat import make_chat_model
from ragft.settings import load_settings
from tests.fake_latency_server import LatencyServer

KEY = "sk-facilitator-budget-test"
CAP = Decimal("0.05")
MAX_TOKENS = 16
ZERO_EVERYTHING = parse_price_overrides("*=0/0")


@pytest.fixture(scope="module")
def endpoint():
    with LatencyServer(token_delay_s=0.001, first_token_s=0.001) as srv:
        yield srv


@pytest.fixture
def policy(endpoint):
    server = load_settings(
        {
            "RAGFT_BASE_PROVIDER": "openai",
            "RAGFT_BASE_URL": endpoint.base_url,
            "RAGFT_BASE_MODEL": "fake-base",
            "OPENAI_API_KEY": KEY,
            "RAGFT_PRICE_OVERRIDES": "fake-base=300/300",
            "RAGFT_APP_BUDGET_USD": str(CAP),
        },
        {},
    )
    return policy_from(server)


def session_model(policy, cfg, session_overrides):
    """What session.models.chat_model builds for a session."""
    resolved = policy.resolve_endpoint("base", cfg)
    model = make_chat_model(resolved)
    billing = policy.billing("base", cfg)
    price = price_for_billing(model.model_id, model.provider, billing, policy.server.price_overrides, session_overrides)
    return BilledChatModel(model, billing, price)


def ask(model, budget) -> tuple[bool, Decimal]:
    """(answered, what the ledger recorded) for one question."""
    ledger = SessionLedger()
    try:
        call = MeteredCall(
            model,
            [{"role": "user", "content": "How much is the Kestrel 2 Tent?"}],
            ledger=ledger,
            configuration="base",
            budget=budget,
            max_tokens=MAX_TOKENS,
        )
    except BudgetExceeded:
        return False, ledger.totals().cost or Decimal(0)
    call.consume()
    return True, call.cost or Decimal(0)


def worst_case(policy) -> Decimal:
    model = session_model(policy, policy.participant_endpoint("base"), {})
    call = MeteredCall(
        model,
        [{"role": "user", "content": "How much is the Kestrel 2 Tent?"}],
        ledger=SessionLedger(),
        configuration="base",
        budget=None,
        max_tokens=MAX_TOKENS,
    )
    return call.worst_case


def test_zero_override_does_not_price_the_server_key(policy, tmp_path):
    budget = Budget(tmp_path, policy.server.app_budget_usd, None, workspace_id="ws-a")
    model = session_model(policy, policy.participant_endpoint("base"), ZERO_EVERYTHING)
    assert model.billing.server_key and model.price is not None and model.price.input_per_m == 300
    answered = refused = 0
    for _ in range(40):
        ok, _cost = ask(model, budget)
        answered += ok
        refused += not ok
        if refused >= 3:
            break
    spent, in_flight = budget.app_spent()
    assert answered >= 1 and refused >= 3
    assert in_flight == 0
    assert spent <= CAP + worst_case(policy)
    assert spent > 0  # the override did not make the calls free


def test_relabelled_provider_gets_no_server_key_and_no_free_ride(policy, endpoint, tmp_path):
    before = len(endpoint.authorizations())
    relabelled = replace(policy.participant_endpoint("base"), provider="ollama", key_source=KEY_NONE)
    model = session_model(policy, relabelled, ZERO_EVERYTHING)
    assert not model.billing.server_key
    assert ask(model, Budget(tmp_path, None, None, workspace_id="ws-b"))[0]
    assert not any(KEY in a for a in endpoint.authorizations()[before:])


def test_reload_and_new_tab_keep_the_participant_spend(policy, tmp_path):
    cap = Decimal("0.02")
    model = session_model(policy, policy.participant_endpoint("base"), {})
    first = Budget(tmp_path, None, cap, workspace_id="ws-c")
    while ask(model, first)[0]:
        pass
    spent = first.status().workspace_spent
    assert 0 < spent <= cap + worst_case(policy)
    for _ in ("reload", "new tab"):
        again = Budget(tmp_path, None, cap, workspace_id="ws-c")  # a new session object, the same workspace
        assert again.status().workspace_spent == spent
        assert ask(model, again) == (False, Decimal(0))
    other = Budget(tmp_path, None, cap, workspace_id="ws-d")  # another participant starts at zero
    assert other.status().workspace_spent == 0


def test_many_sessions_at_once_never_cross_the_app_cap(policy, tmp_path):
    model = session_model(policy, policy.participant_endpoint("base"), ZERO_EVERYTHING)
    results: list[tuple[bool, Decimal]] = []
    lock = threading.Lock()

    def participant(i: int) -> None:
        budget = Budget(tmp_path, policy.server.app_budget_usd, None, workspace_id=f"ws-{i}")
        for _ in range(6):
            r = ask(model, budget)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    spent, in_flight = Budget(tmp_path, CAP, None, workspace_id="ws-x").app_spent()
    assert in_flight == 0
    assert spent <= CAP + worst_case(policy)
    refused = [cost for ok, cost in results if not ok]
    assert refused and all(cost == 0 for cost in refused)
    assert any(ok for ok, _ in results)


def test_ingest_and_questions_at_once_on_the_server_key(policy, tmp_path):
    """Concurrent ingest + compare on the facilitator's key: the session's `*` = 0/0 prices neither, the app cap
    holds, and a file refused by the cap stores nothing."""
    from ragft.costs.billing import Billing
    from ragft.costs.prices import Price
    from ragft.knowledge.base import KnowledgeBase
    from ragft.knowledge.store import make_client
    from ragft.knowledge.workspaces import new_workspace_id
    from ragft.models.embeddings import LocalMiniLM
    from ragft.settings import Settings

    # The local embedder stands in for the facilitator's paid embedding endpoint: billed to the server key at the
    # facilitator's price ($1,000 per 1M tokens), whatever the session's overrides say.
    embedder = BilledEmbedder(LocalMiniLM(), Billing(free=False, server_key=True), Price(Decimal(1000), Decimal(0)))
    chat = session_model(policy, policy.participant_endpoint("base"), ZERO_EVERYTHING)
    kb = KnowledgeBase(make_client(Settings(data_dir=tmp_path)), embedder, new_workspace_id(), include_sample=False)
    docs = [(f"notes-{i}.md", ("The Kestrel 2 Tent costs $149 and sleeps two. " * 40).encode()) for i in range(6)]
    reports: list = []
    answers: list[tuple[bool, Decimal]] = []

    def ingest() -> None:
        budget = Budget(tmp_path, CAP, None, workspace_id="ws-ingest")
        for name, data in docs:
            reports.extend(
                kb.ingest_files([(name, data)], ledger=SessionLedger(), budget=budget, price_overrides=ZERO_EVERYTHING)
            )

    def questions(i: int) -> None:
        budget = Budget(tmp_path, CAP, None, workspace_id=f"ws-q{i}")
        for _ in range(5):
            answers.append(ask(chat, budget))

    threads = [threading.Thread(target=ingest)] + [threading.Thread(target=questions, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    spent, in_flight = Budget(tmp_path, CAP, None, workspace_id="ws-x").app_spent()
    biggest_file = max(Decimal(r.embed_tokens or 0) * 1000 / Decimal(1_000_000) for r in reports)
    assert in_flight == 0
    assert spent <= CAP + max(worst_case(policy), biggest_file)
    refused_files = [r for r in reports if not r.ok]
    stored = {d.name for d in kb.workspace.documents()}
    assert refused_files, "the cap never refused a file: the test did not reach the cap"
    assert not stored & {r.name for r in refused_files}  # a refused file stores nothing
    assert all(r.embed_cost is None or r.embed_cost > 0 for r in reports if r.ok)  # priced by the server, not 0/0
