"""Fair sharing of the embedded model: turns handed out round-robin by owner, first come first served within one.

Two kinds of turn, both :class:`FairQueue`:

- **the engine** (one per loaded model and adapter: a pool of llama.cpp contexts, each holding one sequence's KV
  cache, :mod:`ragft.models.pool`): who gets the next free context, ``capacity`` sequences at a time;
- **the token step** (one per process): which generating sequence computes its next token, so every sequence in
  the process advances token by token, round-robin over participants.

Turns rotate over *owners* (a participant's workspace id), not over calls: four panels of one participant take
one place in the rotation, so a participant alone in the queue and a participant with four panels get the same
share. Within one owner, calls are served in arrival order. Nobody starves: an owner served goes to the back.

The caller says who it is with :func:`calling` (a context variable, set in the thread that calls the model);
:func:`position` tells a waiting call its place and an estimated wait, from the average turn length measured.
Before every turn the pause check (:func:`set_pause_check`; :mod:`ragft.classroom.pause` installs its own when
imported) raises when the facilitator paused model calls.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

_CALLER: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar("ragft_fair_caller", default=("", ""))


@contextmanager
def calling(owner: str, key: str = "") -> Iterator[None]:
    """Model calls inside the block are ``owner``'s (a workspace id); ``key`` names the call for :func:`position`."""
    token = _CALLER.set((owner or "", key or ""))
    try:
        yield
    finally:
        _CALLER.reset(token)


def caller() -> tuple[str, str]:
    return _CALLER.get()


class _Ticket:
    __slots__ = ("owner", "key", "arrived", "granted")

    def __init__(self, owner: str, key: str) -> None:
        self.owner, self.key, self.arrived, self.granted = owner, key, time.monotonic(), False


@dataclass(frozen=True)
class Place:
    """A waiting call: ``ahead`` turns to go before it (0: next), ``wait_s`` estimated, ``stage`` which queue."""

    stage: str
    ahead: int
    wait_s: float
    waited_s: float


@dataclass(frozen=True)
class Waiter:
    owner: str
    key: str
    stage: str
    ahead: int
    waited_s: float


class FairQueue:
    """A semaphore of ``capacity`` turns (1: a lock) handed out round-robin over owners, FIFO within an owner
    (see the module docstring)."""

    def __init__(self, name: str, capacity: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"a fair queue needs a capacity of at least 1, not {capacity}")
        self.name = name
        self.capacity = capacity
        self._cond = threading.Condition()
        self._waiting: OrderedDict[str, deque[_Ticket]] = OrderedDict()  # owner -> tickets; order = rotation
        self._held: list[_Ticket] = []
        self._avg_hold_s: float | None = None
        self.turns = 0

    # ---- turns ------------------------------------------------------------------------------------------
    def _grant_next(self) -> None:
        granted = False
        while len(self._held) < self.capacity and self._waiting:
            owner, tickets = next(iter(self._waiting.items()))
            ticket = tickets.popleft()
            del self._waiting[owner]
            if tickets:
                self._waiting[owner] = tickets  # back of the rotation
            ticket.granted = True
            self._held.append(ticket)
            granted = True
        if granted:
            self._cond.notify_all()

    @contextmanager
    def turn(self, owner: str | None = None, key: str | None = None) -> Iterator[None]:
        """Hold the next turn given to this caller (``owner``/``key`` default to :func:`calling`'s)."""
        me_owner, me_key = caller()
        ticket = _Ticket(owner if owner is not None else me_owner, key if key is not None else me_key)
        with self._cond:
            self._waiting.setdefault(ticket.owner, deque()).append(ticket)
            self._grant_next()
            try:
                while not ticket.granted:
                    self._cond.wait()
            except BaseException:
                self._drop(ticket)
                raise
        started = time.monotonic()
        try:
            yield
        finally:
            held = time.monotonic() - started
            with self._cond:
                self._avg_hold_s = held if self._avg_hold_s is None else 0.8 * self._avg_hold_s + 0.2 * held
                self.turns += 1
                self._held.remove(ticket)
                self._grant_next()

    def _drop(self, ticket: _Ticket) -> None:
        if ticket.granted:
            if ticket in self._held:
                self._held.remove(ticket)
                self._grant_next()
            return
        tickets = self._waiting.get(ticket.owner)
        if tickets is not None and ticket in tickets:
            tickets.remove(ticket)
            if not tickets:
                del self._waiting[ticket.owner]

    # ---- what the room sees -------------------------------------------------------------------------------
    def _service_order(self) -> list[_Ticket]:
        """Waiting tickets in the order they will be served (round-robin over owners)."""
        queues = [list(t) for t in self._waiting.values()]
        order: list[_Ticket] = []
        depth = 0
        while True:
            layer = [q[depth] for q in queues if len(q) > depth]
            if not layer:
                return order
            order.extend(layer)
            depth += 1

    @property
    def avg_turn_s(self) -> float | None:
        return self._avg_hold_s

    def busy(self) -> bool:
        with self._cond:
            return bool(self._held)

    def holding(self) -> int:
        """How many turns are held now."""
        with self._cond:
            return len(self._held)

    def waiters(self) -> list[Waiter]:
        now = time.monotonic()
        with self._cond:
            return [Waiter(t.owner, t.key, self.name, i, now - t.arrived) for i, t in enumerate(self._service_order())]

    def place(self, key: str) -> Place | None:
        """Where the waiting call ``key`` stands, or None when it is not waiting here.

        ``ahead`` counts the waiting calls served before it, plus one while every turn is held (a turn must end
        first); the wait is that many turns spread over ``capacity`` turns running side by side.
        """
        now = time.monotonic()
        with self._cond:
            for i, t in enumerate(self._service_order()):
                if t.key == key:
                    ahead = i + (1 if len(self._held) >= self.capacity else 0)
                    wait = ahead * (self._avg_hold_s or 0.0) / self.capacity
                    return Place(self.name, ahead, wait, now - t.arrived)
        return None


# ---- the process's queues -----------------------------------------------------------------------------------
TOKEN_STEP = FairQueue("token")
_ENGINES: weakref.WeakKeyDictionary[Any, FairQueue] = weakref.WeakKeyDictionary()
_ENGINES_LOCK = threading.Lock()


def engine_queue(engine: Any, capacity: int = 1) -> FairQueue:
    """The queue for one loaded engine or pool of contexts (created on first use, dropped with it); ``capacity``
    is how many sequences it generates at once (its contexts)."""
    with _ENGINES_LOCK:
        q = _ENGINES.get(engine)
        if q is None:
            q = _ENGINES[engine] = FairQueue("model", capacity)
        return q


def _no_pause() -> None:
    return None


_pause_check: list[Callable[[], None]] = [_no_pause]


def set_pause_check(check: Callable[[], None]) -> None:
    """Install the check called before every turn (it raises to refuse the turn, e.g. while paused)."""
    _pause_check[0] = check


def check_pause() -> None:
    """Run the installed pause check: raises (e.g. ``ModelCallsPaused``) while the facilitator has paused calls."""
    _pause_check[0]()


@contextmanager
def engine_turn(engine: Any, capacity: int = 1) -> Iterator[None]:
    """One whole generation on ``engine``: one of its ``capacity`` contexts or sequences."""
    check_pause()
    with engine_queue(engine, capacity).turn():
        yield


@contextmanager
def token_turn() -> Iterator[None]:
    """One token step (or the prompt's processing) among every sequence generating in the process."""
    check_pause()
    with TOKEN_STEP.turn():
        yield


def _queues() -> list[FairQueue]:
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
    return engines + [TOKEN_STEP]


def position(key: str) -> Place | None:
    """Where the call ``key`` waits now (None when it generates or is not known): the engine first, then tokens.

    Waiting for an engine, the estimate is the turns ahead × the average generation on it; waiting for a token
    step, it is at most a few steps.
    """
    for q in _queues():
        p = q.place(key)
        if p is not None:
            return p
    return None


def waiting() -> list[Waiter]:
    """Every call waiting for an engine (the model queue the facilitator sees), longest wait first."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
    out = [w for q in engines for w in q.waiters()]
    return sorted(out, key=lambda w: -w.waited_s)
