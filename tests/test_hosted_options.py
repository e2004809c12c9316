"""Hosted fine-tuning after OpenAI's ends (2027-01-06): the dated table, the app's date, and what follows it.

Core functions take ``today``; ``ragft.clock.today`` reads ``RAGFT_TODAY``. The Fine-tune and Decision guide
pages on both sides of the date are in ``test_hosted_pages.py`` (slow: the pages load the embedded model).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from ragft import clock
from ragft.costs.prices import hosted_finetune_option, load_price_table, price_for, training_cost, training_price
from ragft.costs.projection import project_monthly, training_row
from ragft.errors import ConfigError
from ragft.guide import Answers, lifecycle_facts, projection_inputs_from
from ragft.guide.lifecycle import OPENAI_FT_CLOSED_TO_NEW_USERS, OPENAI_FT_ENDS, hosted_options_fact
from ragft.training.estimate import hosted_costs, remaining_services

BEFORE = date(2026, 12, 2)
ON = date(2027, 1, 6)
AFTER = date(2027, 3, 1)


def test_today_reads_ragft_today_and_refuses_a_bad_one():
    assert clock.today({"RAGFT_TODAY": "2027-01-06"}) == ON
    assert clock.today({"RAGFT_TODAY": " "}) == date.today()
    assert clock.today({}) == date.today()
    with pytest.raises(ConfigError, match="RAGFT_TODAY must be a date written YYYY-MM-DD"):
        clock.today({"RAGFT_TODAY": "next tuesday"})


def test_every_training_row_has_a_source_a_read_date_and_a_service():
    table = load_price_table()
    for row in table.training:
        assert row.source.startswith("https://"), row
        assert date.fromisoformat(row.read_on) <= BEFORE, row
        assert row.service and row.method, row
    services = {t.service for t in table.training}
    assert "OpenAI self-serve fine-tuning" in services and "Fireworks AI fine-tuning" in services
    # the services whose price was not found are named, not priced
    assert "Together AI" in table.not_listed and "Vertex AI" in table.not_listed
    assert not any("together" in t.provider or "vertex" in t.provider for t in table.training)


def test_openai_rows_end_on_the_lifecycle_date():
    openai = [t for t in load_price_table().training if t.provider == "openai"]
    assert openai and all(t.ends == OPENAI_FT_ENDS for t in openai)
    assert all(t.closed_to_new_users == OPENAI_FT_CLOSED_TO_NEW_USERS for t in openai)
    row = openai[0]
    assert row.status(date(2026, 1, 1)) == "available"
    assert row.status(BEFORE) == "closed to new users, ends 2027-01-06"
    assert row.status(date(2027, 1, 5)) == "closed to new users, ends 2027-01-06"
    assert row.status(ON) == "ended 2027-01-06" and row.ended(ON) and not row.ended(date(2027, 1, 5))


def test_ended_rows_price_nothing_when_a_date_is_given_but_stay_as_history():
    assert training_cost(300_000, 3, "gpt-4o-mini") == D("2.7")  # history: what a run cost
    assert training_cost(300_000, 3, "gpt-4o-mini", today=BEFORE) == D("2.7")
    assert training_price("gpt-4o-mini", today=ON) is None
    table = load_price_table()
    assert {t.provider for t in table.ended(ON)} == {"openai"}
    assert {t.provider for t in table.remaining(ON)} == {"fireworks"}
    assert len(table.remaining(ON)) + len(table.ended(ON)) == len(table.training)


def test_fireworks_lora_prices_by_size_bracket_and_serves_at_the_base_price():
    small = training_price("accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks", today=AFTER)
    assert small is not None and small.per_m_training_tokens == D("0.50") and small.method == "LoRA"
    assert small.tuned_inference is not None and small.tuned_inference.input_per_m == D("0.20")
    big = training_price("accounts/fireworks/models/llama-v3p3-70b-instruct", "fireworks")
    assert big is not None and big.per_m_training_tokens == D("3.00")
    assert training_cost(1_000_000, 2, "accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks") == D("1")
    # the tuned model's price the projection uses agrees with the table's "served at the base price"
    served = price_for(small.example_model, "fireworks")
    assert served is not None and served.input_per_m == small.tuned_inference.input_per_m


def test_cost_elsewhere_lists_the_remaining_options_first_and_keeps_ended_ones():
    before = hosted_costs(100_000, 3, BEFORE)
    after = hosted_costs(100_000, 3, AFTER)
    assert not any(r.ended for r in before)
    assert {r.provider for r in after if not r.ended} == {"fireworks"}
    ended = [r for r in after if r.ended]
    assert ended and all(r.provider == "openai" and r.status == "ended 2027-01-06" for r in ended)
    assert [r.ended for r in after] == sorted(r.ended for r in after)  # open ones first
    gpt = next(r for r in ended if r.base_model == "gpt-4o-mini")
    assert gpt.cost == D("0.9")  # 100k x 3 x $3 / 1M: still shown, as history
    assert remaining_services(BEFORE) == ["OpenAI self-serve fine-tuning", "Fireworks AI fine-tuning"]
    assert remaining_services(ON) == ["Fireworks AI fine-tuning"]


def test_lifecycle_facts_name_the_remaining_options_on_both_sides():
    before, after = lifecycle_facts(BEFORE), lifecycle_facts(ON)
    assert "ends for everyone on 2027-01-06 (in 35 days)" in before[0]
    assert "ended for everyone on 2027-01-06" in after[0]
    assert before[-1].startswith("Hosted fine-tuning that remains after 2027-01-06")
    assert after[-1].startswith("Hosted fine-tuning you can still buy")
    for facts in (before, after):
        assert "Fireworks AI fine-tuning: $0.5 per 1M training tokens (open models up to 16B)" in facts[-1]
        assert "read 2026-12-02" in facts[-1]
    assert hosted_options_fact(ON) == after[-1]


def test_guide_projection_switches_to_the_remaining_hosted_option():
    answers = Answers(volume="medium", behaviour="brand_voice", examples="hundreds")
    assert hosted_finetune_option(BEFORE) is None
    assert hosted_finetune_option(ON) is not None
    before = projection_inputs_from(answers, BEFORE)
    after = projection_inputs_from(answers, ON)
    assert before.finetuned_model.startswith("ft:gpt-4o-mini") and before.finetuned_provider == ""
    assert after.finetuned_model == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert after.finetuned_provider == "fireworks" and after.base_model == before.base_model
    assert projection_inputs_from(answers) == before  # no date: as before
    row = training_row(after)
    assert row is not None and row.provider == "fireworks"
    cost_before, cost_after = project_monthly(before), project_monthly(after)
    assert cost_after["finetuning"].complete and cost_after["hybrid"].complete
    assert cost_after["prompting"] == cost_before["prompting"]  # the base model's side is unchanged
    # 150,000 training tokens x 3 epochs: $0.5/1M on Fireworks against $3/1M on OpenAI
    assert cost_after["finetuning"].setup == D("0.225") and cost_before["finetuning"].setup == D("1.35")
