"""An aborted call on the server's key settles at its prompt cost (issue 20, item 6), against a real
OpenAI-compatible server on 127.0.0.1: a call that times out before its first token, one stopped midway, and one the
server refuses outright (which alone settles at $0)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ragft.costs.billing import BilledChatModel, Billing
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.costs.metering import MeteredCall
from ragft.costs.prices import Price
from ragft.errors import RagftError
from ragft.models.chat import OpenAICompatibleModel
from ragft.settings import EndpointConfig
from tests.fake_latency_server import LatencyServer

pytestmark = pytest.mark.slow  # starts a server

PRICE = Price(D(1000), D(2000), source="RAGFT_PRICE_OVERRIDES")  # the facilitator's price, $ per 1M tokens
MESSAGES = [{"role": "user", "content": "How much is the Kestrel 2 Tent? " * 20}]


def server_key_model(srv: LatencyServer, model: str = "fake-base", **cfg) -> BilledChatModel:
    endpoint = EndpointConfig(
        provider="openai", model=model, base_url=srv.base_url, api_key="sk-facilitator", key_source="server", **cfg
    )
    return BilledChatModel(OpenAICompatibleModel(endpoint), Billing(free=False, server_key=True), PRICE)


def metered(model, budget, ledger) -> MeteredCall:
    return MeteredCall(model, MESSAGES, ledger=ledger, configuration="base", budget=budget, max_tokens=16)


def test_a_call_that_times_out_before_its_first_token_costs_its_prompt(tmp_path):
    with LatencyServer(first_token_s=3.0, token_delay_s=0.001) as srv:
        model = server_key_model(srv, timeout_s=1.0, max_retries=0)
        budget, ledger = Budget(tmp_path, D("1"), D("0.50"), workspace_id="ws-a"), SessionLedger()
        call = metered(model, budget, ledger)
        with pytest.raises(Exception):  # noqa: B017 - the read timeout (today the transport's own error)
            call.consume()
    prompt_cost = D(call.prompt_tokens) * PRICE.input_per_m / D(1_000_000)
    assert call.prompt_tokens > 100 and prompt_cost > 0
    assert call.record is not None and call.record.error and call.record.usage.completion_tokens == 0
    assert call.cost == prompt_cost  # was $0: a participant's 1 s timeout made every server-key call free
    st = budget.status()
    assert (st.workspace_spent, st.app_spent, st.app_reserved) == (prompt_cost, prompt_cost, 0)
    assert ledger.records() == [call.record]  # shown in the participant's ledger too


def test_a_call_stopped_midway_costs_its_prompt_and_the_tokens_received(tmp_path):
    with LatencyServer(first_token_s=0.01, token_delay_s=0.05) as srv:
        budget, ledger = Budget(tmp_path, D("1"), None, workspace_id="ws-a"), SessionLedger()
        call = metered(server_key_model(srv), budget, ledger)
        it = iter(call)
        next(it), next(it)
        it.close()  # the participant pressed Stop, or the page reran
    expected = (D(call.prompt_tokens) * PRICE.input_per_m + 2 * PRICE.output_per_m) / D(1_000_000)
    assert call.record is not None and call.record.error == "interrupted"
    assert call.cost == expected and budget.status().app_spent == expected


def test_a_call_the_server_refuses_outright_costs_nothing(tmp_path):
    with LatencyServer() as srv:
        budget, ledger = Budget(tmp_path, D("1"), None, workspace_id="ws-a"), SessionLedger()
        call = metered(server_key_model(srv, model="fail-429", max_retries=0), budget, ledger)
        with pytest.raises(RagftError):
            call.consume()
    assert call.cost == 0 and len(ledger) == 0
    st = budget.status()
    assert (st.app_spent, st.app_reserved) == (0, 0)
