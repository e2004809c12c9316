"""Class mode core: the fair queue (round-robin by owner, place and wait), the run registry (one of each kind,
facilitator's stop, the reaper for a silent session), the facilitator's lock-out, the class results."""

from __future__ import annotations

import threading
import time

import pytest

from ragft.classroom import auth, results
from ragft.models.fair import FairQueue, calling
from ragft.runs import AlreadyRunning, BackgroundRun, RunRegistry
from ragft.store import open_store
from ragft.store.records import Vote


def _serve(q: FairQueue, owner: str, key: str, order: list[str], gate: threading.Event) -> threading.Thread:
    def work() -> None:
        with calling(owner, key), q.turn():
            order.append(key)
            gate.wait(5)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def _wait_waiting(q: FairQueue, n: int) -> None:
    deadline = time.monotonic() + 10
    while len(q.waiters()) < n:
        assert time.monotonic() < deadline, q.waiters()
        time.sleep(0.01)


def test_turns_go_round_robin_over_owners_and_a_waiting_call_sees_its_place_decrease():
    q = FairQueue("model")
    order: list[str] = []
    gate = threading.Event()
    holder = _serve(q, "x", "x0", order, gate)  # holds the turn
    while not order:
        time.sleep(0.01)
    threads = []
    for key, owner in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")):
        threads.append(_serve(q, owner, key, order, gate))
        _wait_waiting(q, len(threads))
    place = q.place("b1")
    assert place is not None and place.ahead == 2  # the holder and a1, then b1: b does not wait for a's four
    gate.set()
    for t in [holder, *threads]:
        t.join(10)
    assert order == ["x0", "a1", "b1", "a2", "a3"]
    assert q.place("b1") is None


def test_place_decreases_as_turns_pass():
    q = FairQueue("model")
    order: list[str] = []
    gates = [threading.Event() for _ in range(4)]
    threads = [_serve(q, f"o{i}", f"k{i}", order, gates[i]) for i in range(1)]
    while not order:
        time.sleep(0.01)
    for i in range(1, 4):
        threads.append(_serve(q, f"o{i}", f"k{i}", order, gates[i]))
        _wait_waiting(q, i)
    seen = []
    for i in range(3):
        seen.append(q.place("k3").ahead)
        gates[i].set()
        while len(order) < i + 2:
            time.sleep(0.01)
    assert seen == [3, 2, 1]
    gates[3].set()


class Sleepy(BackgroundRun[list]):
    def _work(self) -> None:
        while not self.cancelled:
            time.sleep(0.02)


def test_one_run_of_each_kind_per_participant_and_the_facilitator_stops_it():
    reg = RunRegistry()
    run = Sleepy([], kind="evaluation", owner="ws1").start()
    reg.add(run)
    with pytest.raises(AlreadyRunning):
        reg.check_free("ws1", "evaluation")
    reg.check_free("ws1", "comparison")
    reg.check_free("ws2", "evaluation")
    assert reg.cancel(run.id)
    run.wait(10)
    reg.discard(run)
    reg.check_free("ws1", "evaluation")


def test_a_silent_session_gets_its_run_stopped_by_the_reaper():
    now = [1000.0]
    reg = RunRegistry(idle_s=60, clock=lambda: now[0])
    gone = Sleepy([], kind="evaluation", owner="gone").start()
    alive = Sleepy([], kind="evaluation", owner="alive").start()
    reg.add(gone)
    reg.add(alive)
    now[0] += 45
    reg.touch("alive")
    assert reg.reap() == []
    now[0] += 30
    assert reg.reap() == [gone]
    gone.wait(10)
    assert not alive.cancelled
    alive.cancel()
    alive.wait(10)


def test_wrong_passwords_lock_out_only_the_client_that_typed_them(class_db):
    store = open_store(class_db)  # on both engines
    room, facilitator = auth.client_key("10.0.0.7", "tab-a"), auth.client_key("10.0.0.7", "tab-b")
    assert auth.unlock(store, "s3cret", "s3cret", room, now=0)
    for i in range(auth.MAX_FAILURES):
        assert not auth.unlock(store, "s3cret", f"wrong{i}", room, now=10 + i)
    with pytest.raises(auth.FacilitatorLocked):
        auth.unlock(store, "s3cret", "s3cret", room, now=20)
    assert auth.locked_for(store, room, now=20) > 0
    assert auth.locked_for(store, facilitator, now=20) == 0
    assert auth.unlock(store, "s3cret", "s3cret", facilitator, now=20), "another client is never locked out"
    assert auth.unlock(store, "s3cret", "s3cret", room, now=20 + auth.LOCKOUT_S + 1)


def test_leaderboard_intervals_and_ratings_follow_the_votes():
    votes = [Vote(f"w{i}", f"c{i}", "ft_rag", ("base", "ft_rag"), "q", i) for i in range(6)]
    votes.append(Vote("w9", "c9", "base", ("base", "ft_rag"), "q", 9))
    board = results.leaderboard(votes)
    assert [r.configuration for r in board] == ["ft_rag", "base"]
    top = board[0]
    assert top.wins == 6 and top.shown == 7 and top.low < top.win_rate < top.high
    assert board[0].rating > 1000 > board[1].rating
    lo, hi = results.wilson(0, 0)
    assert (lo, hi) == (0.0, 1.0)
    assert results.votes_per_pair(votes) == [
        {"pair": "base vs ft_rag", "a": "base", "b": "ft_rag", "a_won": 1, "b_won": 6, "votes": 7}
    ]
