"""Metered calls against the real bundled model: embedded llama.cpp and a llama.cpp server on 127.0.0.1."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ragft.answering.prompts import build_messages
from ragft.costs.budget import Budget
from ragft.costs.ledger import INGEST, SessionLedger
from ragft.costs.metering import MeteredCall, record_embedding
from ragft.costs.prices import cost_of, price_for
from ragft.errors import BudgetExceeded
from ragft.models.chat import make_chat_model
from ragft.settings import EMBEDDED_BASE_MODEL, EndpointConfig

pytestmark = pytest.mark.slow  # loads the bundled model in-process

MESSAGES = build_messages("What colour is the sky on a clear day? Answer in one sentence.")


@pytest.fixture(scope="module")
def embedded():
    return make_chat_model(EndpointConfig(provider="embedded", model=EMBEDDED_BASE_MODEL))


def test_embedded_call_is_free_local_and_the_live_partial_moves(embedded, tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=D("0.01"), participant_cap=D("0.01"))  # $0 calls pass any cap
    call = MeteredCall(
        embedded,
        MESSAGES,
        ledger=ledger,
        budget=budget,
        configuration="base",
        question_id="q1",
        question="sky",
        max_tokens=24,
    )
    seen = []
    for i, _piece in enumerate(call, 1):
        live = ledger.live()
        assert len(live) == 1 and live[0].completion_tokens == i
        seen.append(ledger.totals().usage.completion_tokens)
    assert seen == list(range(1, len(seen) + 1)) and len(seen) > 3
    rec = call.record
    assert not ledger.has_live() and ledger.records() == [rec]
    assert rec.local and rec.cost == 0 and rec.provider == "embedded" and rec.configuration == "base"
    assert rec.usage.exact and rec.usage.completion_tokens == call.stream.usage.completion_tokens
    assert rec.usage.prompt_tokens == call.prompt_tokens > 10
    assert rec.latency_s > 0 and rec.ttft_s is not None and rec.error is None
    assert ledger.totals().compute_s == rec.latency_s
    assert budget.status().workspace_spent == 0 and budget.status().workspace_reserved == 0


def test_priced_call_against_a_real_server_settles_on_usage(llama_server, tmp_path):
    model = make_chat_model(EndpointConfig(provider="custom", model=EMBEDDED_BASE_MODEL, base_url=llama_server))
    over = {EMBEDDED_BASE_MODEL: ("1", "2")}  # as if hosted at $1 in / $2 out per 1M
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=D("1"), participant_cap=None)
    call = MeteredCall(
        model,
        MESSAGES,
        ledger=ledger,
        budget=budget,
        configuration="base_rag",
        question_id="q",
        max_tokens=20,
        price_overrides=over,
    )
    assert call.worst_case == (D(call.prompt_tokens) * 1 + 20 * 2) / D(1_000_000)
    text = "".join(call)
    assert text and call.record.usage.completion_tokens > 0
    assert call.cost == cost_of(call.record.usage, price_for(EMBEDDED_BASE_MODEL, "custom", over)) > 0
    assert call.cost <= call.worst_case
    assert budget.status().app_spent == call.cost and budget.status().app_reserved == 0


def test_unknown_price_with_a_cap_is_refused_before_any_token(llama_server, tmp_path):
    model = make_chat_model(EndpointConfig(provider="custom", model=EMBEDDED_BASE_MODEL, base_url=llama_server))
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=D("1"), participant_cap=None)
    with pytest.raises(BudgetExceeded) as err:
        MeteredCall(model, MESSAGES, ledger=ledger, budget=budget, configuration="base", max_tokens=20)
    assert "unknown" in err.value.message
    assert len(ledger) == 0 and budget.status().app_spent == 0
    # without a cap it runs, and its cost is recorded as unknown rather than $0
    call = MeteredCall(model, MESSAGES, ledger=ledger, configuration="base", max_tokens=8).consume()
    assert call.record.cost is None and ledger.totals().unknown == 1 and call.record.price_source == "price unknown"


def test_over_the_cap_refused_without_spend(embedded, tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=None, participant_cap=D("0.00001"))
    over = {EMBEDDED_BASE_MODEL: ("10", "10")}  # worst case: (prompt + 64) x $10/1M > $0.00001
    with pytest.raises(BudgetExceeded):
        MeteredCall(
            embedded, MESSAGES, ledger=ledger, budget=budget, configuration="ft", max_tokens=64, price_overrides=over
        )
    assert len(ledger) == 0 and budget.status().workspace_spent == 0


def test_interrupted_stream_records_what_was_spent(embedded, tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=D("1"), participant_cap=None)
    over = {EMBEDDED_BASE_MODEL: ("1", "1")}
    call = MeteredCall(
        embedded, MESSAGES, ledger=ledger, budget=budget, configuration="base", max_tokens=40, price_overrides=over
    )
    it = iter(call)
    for _ in range(3):
        next(it)
    it.close()  # what a Streamlit rerun does to an abandoned generator
    rec = call.record
    assert rec.error == "interrupted" and rec.usage.completion_tokens == 3 and not rec.usage.exact
    assert ledger.records() == [rec] and not ledger.has_live()
    assert rec.cost == D(call.prompt_tokens + 3) / D(1_000_000)
    assert budget.status().app_spent == rec.cost and budget.status().app_reserved == 0
    # the engine is free again: the next call runs
    assert MeteredCall(embedded, MESSAGES, ledger=ledger, configuration="base", max_tokens=4).consume().text


def test_embedding_records(tmp_path):
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=None, participant_cap=None)
    record_embedding(ledger, tokens=200_000, model_id="text-embedding-3-small", provider="openai", budget=budget)
    record_embedding(
        ledger,
        tokens=12,
        model_id="text-embedding-3-small",
        provider="openai",
        configuration="base_rag",
        question_id="q1",
    )
    record_embedding(ledger, tokens=5000, model_id="all-MiniLM-L6-v2", provider="local", seconds=1.5)
    by = ledger.by_configuration()
    assert by[INGEST].cost == D("0.004") and by["base_rag"].cost == D("0.00000024")
    assert ledger.totals().compute_s == 1.5 and budget.status().app_spent == D("0.004")
