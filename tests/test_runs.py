"""BackgroundRun: the one worker-thread abstraction behind comparisons and evaluations (real threads, no mocks)."""

from __future__ import annotations

import threading
import time

import pytest

from ragft import errors as E
from ragft.runs import ERROR, FINISHED, TICK, BackgroundRun


class Counter(BackgroundRun[list]):
    """Appends a number every ``step_s`` until cancelled or ``limit`` is reached, posting one event per number."""

    def __init__(
        self, step_s: float = 0.01, limit: int = 10_000, fail_at: int | None = None, exc: BaseException | None = None
    ) -> None:
        super().__init__([], kind="test", what="counting", owner="ws-1")
        self.step_s, self.limit, self.fail_at, self.exc = step_s, limit, fail_at, exc
        self.finished_called = threading.Event()

    def _work(self) -> None:
        for i in range(self.limit):
            if self.cancelled:
                return
            if self.fail_at is not None and i == self.fail_at:
                raise self.exc or RuntimeError("boom\nsecond line")
            self.result.append(i)
            self.post("count", text=str(i), data=i)
            time.sleep(self.step_s)

    def _finish(self) -> None:
        self.finished_called.set()


def test_cancel_stops_the_worker_and_keeps_its_result():
    run = Counter().start()
    first = next(ev for ev in run.events(poll_s=0.05, timeout_s=10) if ev.kind == "count")
    assert first.data == 0 and not run.done
    run.cancel()
    assert run.cancelled
    result = run.wait(timeout_s=5)
    assert run.done and result is run.result and 1 <= len(result) < 10_000
    size = len(result)
    time.sleep(0.05)
    assert len(run.result) == size  # the worker really stopped
    assert run.error is None and run.finished_called.is_set()


def test_wait_times_out_while_the_worker_runs():
    run = Counter(step_s=0.02).start()
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError, match="test did not finish"):
        run.wait(timeout_s=0.1)
    assert 0.09 <= time.perf_counter() - t0 < 2
    assert not run.done
    run.cancel()
    run.wait(timeout_s=5)


def test_an_exception_in_the_worker_becomes_an_error_event():
    run = Counter(step_s=0, limit=10, fail_at=3).start()
    events = list(run.events(poll_s=0.05, timeout_s=10))
    kinds = [e.kind for e in events if e.kind != TICK]
    assert kinds == ["count"] * 3 + [ERROR, FINISHED]
    error = next(e for e in events if e.kind == ERROR)
    assert error.text == "RuntimeError: boom" == run.error
    assert isinstance(run.exception, RuntimeError)
    assert run.done and run.result == [0, 1, 2] and run.finished_called.is_set()


def test_a_typed_error_keeps_its_message_and_class():
    run = Counter(step_s=0, fail_at=0, exc=E.BudgetExceeded("The session cap of $1 is reached.")).start()
    run.wait(timeout_s=5)
    assert run.error == "The session cap of $1 is reached. " + E.BudgetExceeded.hint
    assert E.error_label(run.exception) == "Refused by the budget"


def test_events_tick_without_news_and_end_after_finished():
    run = Counter(step_s=0.3, limit=2).start()
    events = list(run.events(poll_s=0.05, timeout_s=10))
    assert events[-1].kind == FINISHED
    assert sum(1 for e in events if e.kind == TICK) >= 3
    # Following the run again after "finished" was taken returns at once instead of waiting forever.
    t0 = time.perf_counter()
    assert list(run.events(poll_s=0.05, timeout_s=10)) == []
    assert time.perf_counter() - t0 < 1


def test_a_run_knows_what_it_runs_and_for_whom():
    a, b = Counter(limit=0), Counter(limit=0)
    assert a.id != b.id and len(a.id) == 10
    assert a.kind == "test" and a.what == "counting" and a.owner == "ws-1"
    assert a.started.tzinfo is not None and a.elapsed_s >= 0
    assert "running" in repr(a)
    a.start().wait(timeout_s=5)
    assert "done" in repr(a)
