"""A job that runs in a background thread while a page follows it: comparisons and evaluations.

Shape::

    run = SomeRun(result_object, kind="evaluation", what="8 questions × 4 configurations", owner=workspace_id)
    run.start()                                # calls run._work() in a worker thread
    for event in run.events(poll_s=0.25):      # page thread: "tick" every poll_s without news, "finished" last
        ...
    run.cancel()                               # the worker checks run.cancelled and stops at its next step
    result = run.wait(timeout_s=60)            # TimeoutError when it is still running

- A subclass overrides :meth:`BackgroundRun._work` and posts its own events with :meth:`post`; its result object
  (a comparison, an evaluation) is filled in place and readable at any time.
- An exception escaping ``_work`` never crashes the app: it becomes ``run.error`` (one line, with
  ``run.exception`` kept for ``isinstance`` checks), is logged, and is posted as an ``error`` event.
- ``finished`` is always the last event, posted after ``done`` is set.

The process-wide :func:`registry` knows the runs participants started from a page (``registry().add(run)``): at
most one active comparison and one evaluation per participant (:meth:`RunRegistry.check_free`), heartbeats
(:meth:`RunRegistry.touch`, also on every event a page takes), a reaper that cancels the runs of a participant
whose session has been silent for ``idle_s``, and cancel by run id for the facilitator.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from ragft.errors import RagftError, describe_error

logger = logging.getLogger(__name__)

T = TypeVar("T")

TICK = "tick"
ERROR = "error"
FINISHED = "finished"


@dataclass(frozen=True)
class RunEvent:
    """``kind``: ``tick`` (no news for a while), ``error``, ``finished``, or a kind the run defines.

    ``key`` names the part of the run it concerns (a panel), ``text`` a token or message, ``data`` any payload
    (an evaluation's progress).
    """

    kind: str
    key: str | None = None
    text: str = ""
    data: Any = None


class BackgroundRun(Generic[T]):
    """One job in a worker thread: a cancel flag, a done flag, an event queue, and the result it fills."""

    def __init__(self, result: T, *, kind: str, what: str = "", owner: str = "") -> None:
        self.result = result
        self.kind = kind  # "comparison", "evaluation"
        self.what = what  # what it is running, in a few words (a question, a question set)
        self.owner = owner  # the session that started it (its workspace id)
        self.id = uuid.uuid4().hex[:10]
        self.started = datetime.now(tz=UTC)
        self.started_perf = time.perf_counter()
        self.error: str | None = None
        self.exception: BaseException | None = None
        self.queue: queue.Queue[RunEvent] = queue.Queue()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"{kind}-{self.id}", daemon=True)

    def __repr__(self) -> str:
        state = "done" if self.done else ("cancelled" if self.cancelled else "running")
        return f"<{type(self).__name__} {self.id} {self.kind} {state} owner={self.owner!r} what={self.what[:40]!r}>"

    # ---- control (page thread) ---------------------------------------------------------------------------
    def start(self) -> BackgroundRun[T]:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the worker to stop at its next step (what it spent so far stays recorded)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_perf

    def wait(self, timeout_s: float | None = None) -> T:
        """The result once the run is done. Raises ``TimeoutError`` when it is still running after ``timeout_s``."""
        if not self._done.wait(timeout_s):
            raise TimeoutError(f"the {self.kind} did not finish in time")
        return self.result

    def events(self, poll_s: float = 0.1, timeout_s: float | None = None) -> Iterator[RunEvent]:
        """Yield events until the run has finished (the last one has kind ``finished``).

        Yields ``RunEvent("tick")`` every ``poll_s`` without news, so a page can redraw elapsed time or react to
        a Stop click. ``timeout_s`` bounds the whole wait (None: until done). A page that follows the run again
        after ``finished`` was taken gets what is left in the queue and then returns.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            try:
                ev = self.queue.get(timeout=poll_s)
            except queue.Empty:
                if self.done and self.queue.empty():
                    return
                if deadline is not None and time.monotonic() > deadline:
                    return
                if self.owner:
                    registry().touch(self.owner)
                yield RunEvent(TICK)
                continue
            if self.owner:
                registry().touch(self.owner)
            yield ev
            if ev.kind == FINISHED:
                return

    # ---- worker side ------------------------------------------------------------------------------------
    def post(self, kind: str, key: str | None = None, text: str = "", data: Any = None) -> None:
        self.queue.put(RunEvent(kind, key, text, data))

    def _work(self) -> None:
        """The job. Runs in the worker thread; checks ``self.cancelled`` between steps."""
        raise NotImplementedError

    def _finish(self) -> None:
        """Called in the worker once the job has ended, however it ended, before ``done`` is set."""

    def _main(self) -> None:
        try:
            self._work()
        except RagftError as exc:
            logger.warning("%s %s stopped: %s", self.kind, self.id, exc.message)
            self._failed(exc)
        except Exception as exc:  # noqa: BLE001 - reported to the page as an error event, never a crash
            logger.exception("%s %s failed", self.kind, self.id)
            self._failed(exc)
        finally:
            try:
                self._finish()
            except Exception:  # noqa: BLE001 - the run must still end
                logger.exception("%s %s could not finish cleanly", self.kind, self.id)
            self._done.set()
            self.post(FINISHED)
            registry().discard(self)

    def _failed(self, exc: BaseException) -> None:
        self.exception = exc
        self.error = describe_error(exc)
        self.post(ERROR, text=self.error)


# ---- the process's registry of participants' runs ----------------------------------------------------------
class AlreadyRunning(RagftError):
    """A participant asked for a second comparison or evaluation while one runs."""

    hint = "Stop it first (its Stop button), or wait until it finishes."


Hook = Callable[["BackgroundRun[Any]"], None]


@dataclass
class _Entry:
    run: BackgroundRun[Any]
    on_finish: Hook | None = None
    on_heartbeat: Hook | None = None


class RunRegistry:
    """The runs participants started, by id; thread-safe; shared by every session of the process."""

    def __init__(self, idle_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._seen: dict[str, float] = {}
        self._reaper: threading.Thread | None = None

    def check_free(self, owner: str, kind: str) -> None:
        """Raise :class:`AlreadyRunning` when ``owner`` already runs a ``kind`` (comparison, evaluation)."""
        for run in self.active(owner, kind):
            raise AlreadyRunning(f"You already have a {kind} running ({run.what[:60]}).")

    def add(self, run: BackgroundRun[Any], *, on_finish: Hook | None = None, on_heartbeat: Hook | None = None) -> None:
        """Track ``run`` until it ends; ``on_finish(run)`` runs in its worker once it has ended."""
        with self._lock:
            self._entries[run.id] = _Entry(run, on_finish, on_heartbeat)
            if run.owner:
                self._seen[run.owner] = self._clock()
        if run.done:  # ended before it was added
            self.discard(run)

    def discard(self, run: BackgroundRun[Any]) -> None:
        with self._lock:
            entry = self._entries.pop(run.id, None)
        if entry is not None and entry.on_finish is not None:
            try:
                entry.on_finish(run)
            except Exception:  # noqa: BLE001 - a record that cannot be written must not break the run
                logger.exception("recording the end of %s %s failed", run.kind, run.id)

    def get(self, run_id: str) -> BackgroundRun[Any] | None:
        with self._lock:
            entry = self._entries.get(run_id)
        return entry.run if entry else None

    def active(self, owner: str | None = None, kind: str | None = None) -> list[BackgroundRun[Any]]:
        """Runs not done yet (of ``owner``, of ``kind``), oldest first."""
        with self._lock:
            runs = [e.run for e in self._entries.values()]
        return sorted(
            (
                r
                for r in runs
                if not r.done and (owner is None or r.owner == owner) and (kind is None or r.kind == kind)
            ),
            key=lambda r: r.started_perf,
        )

    def cancel(self, run_id: str) -> bool:
        run = self.get(run_id)
        if run is None or run.done:
            return False
        logger.warning("%s %s of %s stopped from outside its session", run.kind, run.id, run.owner)
        run.cancel()
        return True

    def touch(self, owner: str) -> None:
        """``owner``'s session is alive now (its page ran or followed a run)."""
        if owner:
            with self._lock:
                self._seen[owner] = self._clock()

    def silent_for(self, owner: str) -> float | None:
        with self._lock:
            seen = self._seen.get(owner)
        return None if seen is None else self._clock() - seen

    def reap(self) -> list[BackgroundRun[Any]]:
        """Cancel the runs of owners silent for longer than ``idle_s`` (their session is gone); beat the others."""
        stopped = []
        for run in self.active():
            silent = self.silent_for(run.owner) if run.owner else None
            if silent is not None and silent > self.idle_s and not run.cancelled:
                logger.warning("%s %s: no heartbeat from its session for %.0f s, stopping it", run.kind, run.id, silent)
                run.cancel()
                stopped.append(run)
                continue
            with self._lock:
                entry = self._entries.get(run.id)
            if entry is not None and entry.on_heartbeat is not None:
                try:
                    entry.on_heartbeat(run)
                except Exception:  # noqa: BLE001 - the next pass tries again
                    logger.exception("heartbeat of %s %s failed", run.kind, run.id)
        return stopped

    def start_reaper(self, every_s: float = 10.0) -> None:
        """Reap every ``every_s`` (at most a quarter of ``idle_s``) in a daemon thread (once per process); each
        pass also runs the runs' heartbeat hooks (which pick up a stop asked from another process)."""
        with self._lock:
            if self._reaper is not None:
                return
            self._reaper = threading.Thread(target=self._reap_forever, args=(every_s,), name="run-reaper", daemon=True)
        self._reaper.start()

    def _reap_forever(self, every_s: float) -> None:
        while True:
            time.sleep(min(every_s, max(0.05, self.idle_s / 4)))  # a short idle_s is noticed in time
            try:
                self.reap()
            except Exception:  # noqa: BLE001 - the reaper must keep going
                logger.exception("the run reaper failed")


_REGISTRY = RunRegistry()


def registry() -> RunRegistry:
    """The process's registry (every session of this process shares it)."""
    return _REGISTRY
