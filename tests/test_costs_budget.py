"""Budget caps on the class database: refusal before spending, racing threads and processes, persistence across
reopening, the participant cap per workspace (reloads, new tabs, own lower cap). The tests taking ``class_db`` run
on both engines (SQLite, and PostgreSQL in the slow tier: the processes racing are then two replicas)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from ragft.costs.budget import OWN, Budget, PriceUnknownForBudget
from ragft.costs.prices import price_for, worst_case_cost
from ragft.errors import BudgetExceeded, RagftError
from ragft.store import StoreError, open_store
from ragft.store.spend import HOST

ROOT = Path(__file__).resolve().parent.parent


def test_call_that_would_cross_the_session_cap_is_refused_with_no_spend(class_db):
    b = Budget(class_db, app_cap=None, participant_cap=D("0.001"))
    r = b.reserve(D("0.0006"))
    r.settle(D("0.0005"))
    with pytest.raises(BudgetExceeded) as err:
        b.reserve(D("0.0006"))  # 0.0005 + 0.0006 > 0.001
    assert "your budget" in err.value.message and "Raise the cap" in err.value.message
    assert isinstance(err.value, RagftError)
    st = b.status()
    assert st.workspace_spent == D("0.0005") and st.workspace_reserved == 0
    assert st.app_spent == D("0.0005") and st.app_reserved == 0  # the refusal spent nothing
    b.reserve(D("0.0005")).settle(D("0.0005"))  # exactly up to the cap is allowed
    assert b.status().workspace_spent == D("0.001")


def test_app_cap_is_shared_by_sessions(class_db):
    alice = Budget(class_db, app_cap=D("1"), participant_cap=None)
    bob = Budget(class_db, app_cap=D("1"), participant_cap=None)
    alice.reserve(D("0.6")).settle(D("0.6"))
    held = bob.reserve(D("0.3"))  # in flight: counts against the cap until settled
    with pytest.raises(BudgetExceeded) as err:
        alice.reserve(D("0.2"))
    assert "app-wide" in err.value.message and "in flight" in err.value.message
    held.settle(D("0.1"))  # the call cost less than its worst case: the difference is freed
    alice.reserve(D("0.2")).settle(D("0.2"))
    assert alice.app_spent() == (D("0.9"), D("0"))
    assert bob.status().workspace_spent == D("0.1") and alice.status().workspace_spent == D("0.8")


def test_worst_case_of_a_real_price_against_the_cap(tmp_path):
    price = price_for("gpt-4o-mini")
    worst = worst_case_cost(1000, 500, price)  # $0.00045
    b = Budget(tmp_path, app_cap=D("0.001"), participant_cap=None)
    b.reserve(worst).settle(worst)
    b.reserve(worst).settle(worst)
    with pytest.raises(BudgetExceeded):
        b.reserve(worst)  # 0.0009 + 0.00045 > 0.001


def test_unknown_price_refused_only_when_a_cap_is_set(tmp_path):
    with pytest.raises(PriceUnknownForBudget) as err:
        Budget(tmp_path, app_cap=D("5"), participant_cap=None).reserve(None, label="a mystery answer")
    assert "unknown" in err.value.message and "override" in err.value.message
    free = Budget(tmp_path / "nocap", app_cap=None, participant_cap=None)
    free.reserve(None).settle(None)
    assert free.status().app_spent == 0


def test_persisted_spend_survives_reopening(tmp_path):
    b = Budget(tmp_path, app_cap=D("10"), participant_cap=None)
    b.reserve(D("1.25")).settle(D("1.2345"))
    b.record_spend(D("0.0055"))
    del b
    reopened = Budget(tmp_path, app_cap=D("10"), participant_cap=D("1"))
    assert reopened.app_spent() == (D("1.24"), D("0"))
    assert reopened.status().workspace_spent == 0  # a new session starts at zero, the app total does not
    with sqlite3.connect(tmp_path / "class.sqlite3") as db:
        assert db.execute("SELECT spent, calls FROM spend WHERE scope = '*'").fetchone() == ("1.2400", 2)
    assert not (tmp_path / "budget").exists()  # no second place for the spend


def test_twenty_threads_racing_never_overshoot_the_app_cap(class_db):
    cap, step = D("1.00"), D("0.07")
    start = threading.Barrier(20)
    refused = []
    errors = []

    def worker():
        budget = Budget(class_db, app_cap=cap, participant_cap=None)  # one session per thread
        start.wait()
        while True:
            try:
                res = budget.reserve(step)
            except BudgetExceeded:
                refused.append(1)
                return
            except Exception as exc:
                errors.append(exc)
                return
            res.settle(step)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    spent, reserved = Budget(class_db, app_cap=cap, participant_cap=None).app_spent()
    assert spent <= cap
    assert spent == D("0.98")  # 14 calls of 0.07 fit under 1.00, and all 14 happened
    assert reserved == 0 and len(refused) == 20


_PROC = """
import sys
from decimal import Decimal as D
sys.path.insert(0, {root!r})
from ragft.costs.budget import Budget
from ragft.errors import BudgetExceeded
b = Budget({data!r}, app_cap=D("1.00"), participant_cap=None)
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


def test_processes_racing_never_overshoot_the_app_cap(class_db):
    code = _PROC.format(root=str(ROOT), data=str(class_db))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    counts = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    spent, reserved = Budget(class_db, app_cap=None, participant_cap=None).app_spent()
    assert sum(counts) == 33 and spent == D("0.99") and reserved == 0


def _insert_reservation(data_dir, rid, amount, pid, host, t):
    with open_store(data_dir).write() as db:
        db.execute(
            "INSERT INTO reservations (id, workspace_id, amount, pid, host, t) VALUES (?, 'x', ?, ?, ?, ?)",
            (rid, amount, pid, host, t),
        )


def test_reservation_of_a_dead_process_is_dropped(class_db):
    b = Budget(class_db, app_cap=D("1"), participant_cap=None)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    b.reserve(D("0.1")).settle(D("0.1"))
    _insert_reservation(class_db, "ghost", "0.9", child.pid, HOST, time.time())
    b.reserve(D("0.5")).settle(D("0"))  # the ghost's 0.9 no longer blocks
    with open_store(class_db).read() as db:
        assert int(db.execute("SELECT COUNT(*) FROM reservations WHERE id = 'ghost'").fetchone()[0]) == 0


def test_stale_reservation_expires(class_db):
    b = Budget(class_db, app_cap=D("1"), participant_cap=None, stale_after_s=60)
    b.status()  # creates the database
    _insert_reservation(class_db, "old", "0.9", os.getpid(), "another-host", time.time() - 3600)
    _insert_reservation(class_db, "fresh", "0.2", os.getpid(), "another-host", time.time())
    b.reserve(D("0.5")).release()
    assert b.app_spent() == (D("0"), D("0.2"))  # the old one expired, the fresh one (other host) still holds


def test_unsettled_reservation_keeps_worst_case_on_error(tmp_path):
    b = Budget(tmp_path, app_cap=D("1"), participant_cap=None)
    with pytest.raises(RuntimeError):
        with b.reserve(D("0.2")):
            raise RuntimeError("connection dropped mid-answer")
    assert b.app_spent() == (D("0.2"), D("0"))
    r = b.reserve(D("0.1"))
    r.settle(D("0.05"))
    r.settle(D("0.09"))  # settling twice changes nothing
    assert b.app_spent()[0] == D("0.25")


def test_corrupt_database_is_a_typed_error(tmp_path):
    (tmp_path / "class.sqlite3").write_bytes(b"this is not a database" * 100)
    b = Budget(tmp_path, app_cap=D("1"), participant_cap=None)
    with pytest.raises(StoreError) as err:
        b.reserve(D("0.1"))
    assert isinstance(err.value, RagftError) and "class database" in err.value.message
    assert b.status().app_spent == 0  # the meter still draws


def test_participant_spend_survives_a_reload_and_a_new_tab(class_db):
    tab1 = Budget(class_db, app_cap=None, participant_cap=D("0.10"), workspace_id="ws-a")
    tab1.reserve(D("0.06")).settle(D("0.06"))
    tab2 = Budget(class_db, app_cap=None, participant_cap=D("0.10"), workspace_id="ws-a")  # reload / new tab
    assert tab2.status().workspace_spent == D("0.06")
    held = tab2.reserve(D("0.03"))
    with pytest.raises(BudgetExceeded) as err:
        tab1.reserve(D("0.02"))  # 0.06 spent + 0.03 in flight in the other tab + 0.02 > 0.10
    assert "in flight" in err.value.message
    held.settle(D("0.01"))
    tab1.reserve(D("0.02")).settle(D("0.02"))
    other = Budget(class_db, app_cap=None, participant_cap=D("0.10"), workspace_id="ws-b")
    assert other.status().workspace_spent == 0  # another participant is counted apart
    assert tab1.status().workspace_spent == D("0.09") and other.status().app_spent == D("0.09")


def test_own_cap_counts_only_own_key_spend_and_is_independent_of_the_facilitators(class_db):
    """Who pays decides which cap: the participant's own cap counts what they pay themselves; the facilitator's cap
    counts the server's key. One never lowers or raises the other."""
    b = Budget(class_db, app_cap=None, participant_cap=D("0.50"), workspace_id="ws-a")
    assert b.set_own_cap(D("0.05")) == D("0.05")
    b.reserve(D("0.04"), payer=OWN).settle(D("0.04"))
    with pytest.raises(BudgetExceeded) as err:
        b.reserve(D("0.02"), payer=OWN)
    assert "your own cap" in err.value.message and "own cap" in err.value.hint
    b.reserve(D("0.40")).settle(D("0.40"))  # the server's key: the facilitator's $0.50, not the own $0.05
    again = Budget(class_db, app_cap=None, participant_cap=D("0.50"), workspace_id="ws-a")  # persisted
    st = again.status()
    assert (st.workspace_cap, st.own_cap, st.workspace_cap) == (D("0.50"), D("0.05"), D("0.50"))
    assert (st.workspace_spent, st.own_spent, st.app_spent, st.app_own_spent) == (
        D("0.40"),
        D("0.04"),
        D("0.40"),
        D("0.04"),
    )
    assert again.set_own_cap(D("5")) == D("5")  # their own money: above the facilitator's cap is fine
    again.reserve(D("1"), payer=OWN).settle(D("1"))
    with pytest.raises(BudgetExceeded):
        again.reserve(D("0.11"))  # 0.40 + 0.11 > 0.50 on the server's key
    assert again.set_own_cap(None) is None
    again.reserve(D("100"), payer=OWN).release()  # no own cap: nothing limits what they pay


def test_facilitator_cap_per_workspace_wins_over_the_default(class_db):
    from ragft.store.spend import reset_spend, set_facilitator_cap

    b = Budget(class_db, app_cap=None, participant_cap=D("0.10"), workspace_id="ws-a")
    b.reserve(D("0.10")).settle(D("0.10"))
    with pytest.raises(BudgetExceeded):
        b.reserve(D("0.01"))
    set_facilitator_cap(b.store, "ws-a", D("0.20"))
    b.reserve(D("0.05")).settle(D("0.05"))
    reset_spend(b.store, "ws-a")
    st = b.status()
    assert st.workspace_spent == 0 and st.workspace_cap == D("0.20") and st.app_spent == D("0.15")


def test_refused_calls_spend_nothing_under_both_caps(class_db):
    b = Budget(class_db, app_cap=D("0.05"), participant_cap=D("0.03"), workspace_id="ws-a")
    for _ in range(5):
        with pytest.raises(BudgetExceeded):
            b.reserve(D("0.04"))
    with pytest.raises(PriceUnknownForBudget):
        b.reserve(None)
    st = b.status()
    assert (st.workspace_spent, st.workspace_reserved, st.app_spent, st.app_reserved) == (0, 0, 0, 0)
