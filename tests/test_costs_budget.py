"""Budget caps: refusal before spending, racing threads and processes, persistence across reopening."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from ragft.costs.budget import Budget, BudgetFileError, PriceUnknownForBudget
from ragft.costs.prices import price_for, worst_case_cost
from ragft.errors import BudgetExceeded, RagftError

ROOT = Path(__file__).resolve().parent.parent


def test_call_that_would_cross_the_session_cap_is_refused_with_no_spend(tmp_path):
    b = Budget(tmp_path, app_cap=None, session_cap=D("0.001"))
    r = b.reserve(D("0.0006"))
    r.settle(D("0.0005"))
    with pytest.raises(BudgetExceeded) as err:
        b.reserve(D("0.0006"))  # 0.0005 + 0.0006 > 0.001
    assert "session" in err.value.message and "Raise the cap" in err.value.message
    assert isinstance(err.value, RagftError)
    st = b.status()
    assert st.session_spent == D("0.0005") and st.session_reserved == 0
    assert st.app_spent == D("0.0005") and st.app_reserved == 0  # the refusal spent nothing
    b.reserve(D("0.0005")).settle(D("0.0005"))  # exactly up to the cap is allowed
    assert b.status().session_spent == D("0.001")


def test_app_cap_is_shared_by_sessions(tmp_path):
    alice = Budget(tmp_path, app_cap=D("1"), session_cap=None)
    bob = Budget(tmp_path, app_cap=D("1"), session_cap=None)
    alice.reserve(D("0.6")).settle(D("0.6"))
    held = bob.reserve(D("0.3"))  # in flight: counts against the cap until settled
    with pytest.raises(BudgetExceeded) as err:
        alice.reserve(D("0.2"))
    assert "app-wide" in err.value.message and "in flight" in err.value.message
    held.settle(D("0.1"))  # the call cost less than its worst case: the difference is freed
    alice.reserve(D("0.2")).settle(D("0.2"))
    assert alice.app_spent() == (D("0.9"), D("0"))
    assert bob.status().session_spent == D("0.1") and alice.status().session_spent == D("0.8")


def test_worst_case_of_a_real_price_against_the_cap(tmp_path):
    price = price_for("gpt-4o-mini")
    worst = worst_case_cost(1000, 500, price)  # $0.00045
    b = Budget(tmp_path, app_cap=D("0.001"), session_cap=None)
    b.reserve(worst).settle(worst)
    b.reserve(worst).settle(worst)
    with pytest.raises(BudgetExceeded):
        b.reserve(worst)  # 0.0009 + 0.00045 > 0.001


def test_unknown_price_refused_only_when_a_cap_is_set(tmp_path):
    with pytest.raises(PriceUnknownForBudget) as err:
        Budget(tmp_path, app_cap=D("5"), session_cap=None).reserve(None, label="a mystery answer")
    assert "unknown" in err.value.message and "override" in err.value.message
    free = Budget(tmp_path / "nocap", app_cap=None, session_cap=None)
    free.reserve(None).settle(None)
    assert free.status().app_spent == 0


def test_persisted_spend_survives_reopening(tmp_path):
    b = Budget(tmp_path, app_cap=D("10"), session_cap=None)
    b.reserve(D("1.25")).settle(D("1.2345"))
    b.record_spend(D("0.0055"))
    del b
    reopened = Budget(tmp_path, app_cap=D("10"), session_cap=D("1"))
    assert reopened.app_spent() == (D("1.24"), D("0"))
    assert reopened.status().session_spent == 0  # a new session starts at zero, the app total does not
    data = json.loads((tmp_path / "budget" / "app_spend.json").read_text())
    assert data["spent"] == "1.2400" and data["calls"] == 2


def test_twenty_threads_racing_never_overshoot_the_app_cap(tmp_path):
    cap, step = D("1.00"), D("0.07")
    start = threading.Barrier(20)
    refused = []
    errors = []

    def worker():
        budget = Budget(tmp_path, app_cap=cap, session_cap=None)  # one session per thread
        start.wait()
        while True:
            try:
                res = budget.reserve(step)
            except BudgetExceeded:
                refused.append(1)
                return
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
                return
            res.settle(step)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    spent, reserved = Budget(tmp_path, app_cap=cap, session_cap=None).app_spent()
    assert spent <= cap
    assert spent == D("0.98")  # 14 calls of 0.07 fit under 1.00, and all 14 happened
    assert reserved == 0 and len(refused) == 20


_PROC = """
import sys
from decimal import Decimal as D
sys.path.insert(0, {root!r})
from ragft.costs.budget import Budget
from ragft.errors import BudgetExceeded
b = Budget({data!r}, app_cap=D("1.00"), session_cap=None)
n = 0
while True:
    try:
        r = b.reserve(D("0.03"))
    except BudgetExceeded:
        break
    r.settle(D("0.03"))
    n += 1
print(n)
"""


def test_processes_racing_never_overshoot_the_app_cap(tmp_path):
    code = _PROC.format(root=str(ROOT), data=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    counts = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    spent, reserved = Budget(tmp_path, app_cap=None, session_cap=None).app_spent()
    assert sum(counts) == 33 and spent == D("0.99") and reserved == 0


def test_reservation_of_a_dead_process_is_dropped(tmp_path):
    b = Budget(tmp_path, app_cap=D("1"), session_cap=None)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    path = tmp_path / "budget" / "app_spend.json"
    b.reserve(D("0.1")).settle(D("0.1"))
    data = json.loads(path.read_text())
    data["reservations"]["ghost"] = {"amount": "0.9", "pid": child.pid, "host": os.uname().nodename, "t": time.time()}
    path.write_text(json.dumps(data))
    b.reserve(D("0.5")).settle(D("0"))  # the ghost's 0.9 no longer blocks
    assert "ghost" not in json.loads(path.read_text())["reservations"]


def test_stale_reservation_expires(tmp_path):
    b = Budget(tmp_path, app_cap=D("1"), session_cap=None, stale_after_s=60)
    path = tmp_path / "budget" / "app_spend.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"spent": "0", "calls": 0, "reservations": {
        "old": {"amount": "0.9", "pid": os.getpid(), "host": "another-host", "t": time.time() - 3600}}}))
    b.reserve(D("0.5")).release()
    assert b.app_spent() == (D("0"), D("0"))


def test_unsettled_reservation_keeps_worst_case_on_error(tmp_path):
    b = Budget(tmp_path, app_cap=D("1"), session_cap=None)
    with pytest.raises(RuntimeError):
        with b.reserve(D("0.2")):
            raise RuntimeError("connection dropped mid-answer")
    assert b.app_spent() == (D("0.2"), D("0"))
    r = b.reserve(D("0.1"))
    r.settle(D("0.05"))
    r.settle(D("0.09"))  # settling twice changes nothing
    assert b.app_spent()[0] == D("0.25")


def test_corrupt_spend_file_is_a_typed_error(tmp_path):
    path = tmp_path / "budget" / "app_spend.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    b = Budget(tmp_path, app_cap=D("1"), session_cap=None)
    with pytest.raises(BudgetFileError) as err:
        b.reserve(D("0.1"))
    assert "unreadable" in err.value.message
    assert b.status().app_spent == 0  # the meter still draws
