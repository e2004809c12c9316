"""The session ledger: totals by model / configuration / question, the live partial, CSV export."""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal as D

from ragft.costs.ledger import INGEST, KIND_EMBEDDING, CallRecord, SessionLedger
from ragft.costs.prices import cost_of, price_for
from ragft.models.usage import Usage

MINI = price_for("gpt-4o-mini")
FT = price_for("ft:gpt-4o-mini-2024-07-18")


def rec(model, conf, usage, qid="q1", price=MINI, provider="openai", **kw):
    return CallRecord(
        model_id=model,
        provider=provider,
        configuration=conf,
        usage=usage,
        cost=cost_of(usage, price),
        question_id=qid,
        latency_s=kw.pop("latency_s", 1.0),
        **kw,
    )


def filled() -> SessionLedger:
    led = SessionLedger()
    led.record(rec("gpt-4o-mini", "base", Usage(1000, 500)))  # 0.00045
    led.record(rec("gpt-4o-mini", "base_rag", Usage(2000, 500)))  # 0.0006
    led.record(rec("ft:gpt-4o-mini-2024-07-18", "ft", Usage(1000, 500), price=FT))  # 0.0009
    led.record(rec("mystery", "ft_rag", Usage(1000, 500), price=None))  # unknown
    led.record(rec("gpt-4o-mini", "base", Usage(100, 100), qid="q2"))  # 0.000075
    led.record(
        rec(
            "smollm2",
            "base",
            Usage(300, 40),
            qid="q2",
            price=price_for("x", "embedded"),
            provider="embedded",
            local=True,
            latency_s=2.5,
        )
    )
    led.record(
        CallRecord("text-embedding-3-small", "openai", INGEST, Usage(200_000, 0), D("0.004"), kind=KIND_EMBEDDING)
    )
    return led


def test_totals_and_groups():
    led = filled()
    t = led.totals()
    assert t.calls == 7 and t.unknown == 1
    assert t.cost == D("0.00045") + D("0.0006") + D("0.0009") + D("0.000075") + D("0.004")
    assert t.usage.prompt_tokens == 1000 + 2000 + 1000 + 1000 + 100 + 300 + 200_000
    assert t.compute_s == 2.5  # only the local call's wall time counts as compute
    by_model = led.by_model()
    assert by_model["gpt-4o-mini"].cost == D("0.001125") and by_model["gpt-4o-mini"].calls == 3
    assert by_model["mystery"].cost_or_none is None  # unknown stays unknown, not $0
    by_conf = led.by_configuration()
    assert set(by_conf) == {"base", "base_rag", "ft", "ft_rag", INGEST}
    assert by_conf["base"].cost == D("0.000525") and by_conf["ft_rag"].unknown == 1
    by_q = led.by_question()
    assert by_q["q1"].cost == D("0.00195") and by_q["q1"].unknown == 1 and by_q["q2"].calls == 2
    assert led.last_question() == ("q2", by_q["q2"])
    assert led.by_kind()["embedding"].cost == D("0.004")


def test_live_partial_moves_then_settles_on_reported_usage():
    led = SessionLedger()
    led.begin_live("c1", "gpt-4o-mini", "base", price=MINI, prompt_tokens=1000, question_id="q9")
    assert led.totals().cost == D("0.00015") and led.totals().live == 1
    v = led.version
    led.update_live("c1", 100)
    assert led.version > v
    assert led.totals().cost == D("0.00021")  # 1000*.15 + 100*.6 µ$
    assert led.totals(include_live=False).calls == 0
    assert led.last_question_id() == "q9"
    assert led.by_question(include_live=True)["q9"].usage.completion_tokens == 100
    # the server reports 120 completion tokens: the record replaces the partial
    led.record(
        CallRecord(
            "gpt-4o-mini",
            "openai",
            "base",
            Usage(1003, 120),
            cost_of(Usage(1003, 120), MINI),
            question_id="q9",
            call_id="c1",
        )
    )
    assert not led.has_live()
    assert led.totals().cost == D("0.00022245") and led.totals().calls == 1
    led.update_live("c1", 500)  # late updates after the end change nothing
    assert led.totals().cost == D("0.00022245")


def test_live_unknown_price_counts_as_unknown():
    led = SessionLedger()
    led.begin_live("c", "mystery", "ft", price=None, prompt_tokens=10)
    led.update_live("c", 5)
    assert led.totals().unknown == 1 and led.totals().cost == 0
    led.end_live("c")
    assert led.totals().calls == 0


def test_csv_export_round_trips():
    led = filled()
    rows = list(csv.DictReader(io.StringIO(led.to_csv())))
    assert len(rows) == 7
    assert rows[0]["model_id"] == "gpt-4o-mini" and rows[0]["cost_usd"] == "0.00045"
    assert rows[3]["cost_usd"] == "unknown"
    assert rows[5]["local"] == "True" and rows[5]["provider"] == "embedded"
    total = sum(D(r["cost_usd"]) for r in rows if r["cost_usd"] != "unknown")
    assert total == led.totals().cost


def test_cumulative_is_monotonic():
    pts = filled().cumulative()
    assert [p[1] for p in pts] == sorted(p[1] for p in pts)
    assert pts[-1][1] == filled().totals().cost


def test_threads_record_without_losing_calls():
    led = SessionLedger()

    def work(i):
        for j in range(200):
            cid = f"{i}-{j}"
            led.begin_live(cid, "gpt-4o-mini", "base", price=MINI, prompt_tokens=10)
            led.update_live(cid, 5)
            led.record(CallRecord("gpt-4o-mini", "openai", "base", Usage(10, 5), D("0.0000045"), call_id=cid))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(led) == 1600 and not led.has_live()
    assert led.totals().cost == D("0.0000045") * 1600
