"""A pool of llama.cpp contexts per (model, adapter): participants asking at once progress together on the real
bundled SmolLM2, contexts grow on demand up to the pool's size, and a fair queue with several turns hands them out
round-robin over owners."""

from __future__ import annotations

import threading
import time

import pytest

from ragft import errors as E
from ragft.models import fair
from ragft.models.embedded import EmbeddedChatModel
from ragft.models.fair import FairQueue, calling
from ragft.models.pool import EnginePool, contexts_from_env
from ragft.paths import smollm2_gguf

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

QUESTION = [{"role": "user", "content": "Describe a tent for a family of four in detail."}]


def _ask(
    model: EmbeddedChatModel,
    owner: str,
    log: list[tuple[str, int]],
    lock: threading.Lock,
    errors: list[BaseException],
    max_tokens: int = 24,
) -> threading.Thread:
    def work() -> None:
        try:
            with calling(owner, owner):
                for i, _ in enumerate(model.stream(QUESTION, max_tokens=max_tokens, temperature=0.0)):
                    with lock:
                        log.append((owner, i))
                with lock:
                    log.append((owner, -1))  # finished
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def test_participants_asking_at_once_progress_together_on_one_pool():
    pool = EnginePool(smollm2_gguf(), max_contexts=3, n_threads=1)
    model = EmbeddedChatModel(pool, "smollm2")
    log: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    threads = [_ask(model, f"p{i}", log, lock, errors) for i in range(3)]
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert pool.contexts == 3
    finished_at = [log.index((f"p{i}", -1)) for i in range(3)]
    started_at = [log.index((f"p{i}", 0)) for i in range(3)]
    assert max(started_at) < min(finished_at), "one participant finished before another got its first token"
    steps = [o for o, i in log if i >= 0]
    assert all(steps.count(f"p{i}") >= 4 for i in range(3))


def test_a_pool_of_one_serves_one_sequence_at_a_time():
    pool = EnginePool(smollm2_gguf(), max_contexts=1, n_threads=1)
    model = EmbeddedChatModel(pool, "smollm2")
    log: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    threads = [_ask(model, f"p{i}", log, lock, errors, max_tokens=8) for i in range(2)]
    for t in threads:
        t.join(300)
    assert not errors, errors
    owners = [o for o, _ in log]
    first = owners[0]
    assert owners[: owners.index(first) + owners.count(first)] == [first] * owners.count(first)
    assert pool.contexts == 1


def test_an_idle_context_beyond_the_first_is_closed():
    pool = EnginePool(smollm2_gguf(), max_contexts=2, n_threads=1, idle_close_s=0.0)
    gate, inside = threading.Event(), threading.Event()

    def hold() -> None:
        with calling("a", "a"), pool.sequence():
            inside.set()
            gate.wait(30)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    inside.wait(30)
    with calling("b", "b"), pool.sequence() as engine:
        assert engine is not pool.primary and pool.contexts == 2
    gate.set()
    t.join(30)
    assert pool.contexts == 1


def test_the_pool_size_comes_from_the_environment():
    assert contexts_from_env({}) >= 1
    assert contexts_from_env({"RAGFT_EMBEDDED_CONTEXTS": "12"}) == 12
    for bad in ("0", "many", "65"):
        with pytest.raises(E.ConfigError):
            contexts_from_env({"RAGFT_EMBEDDED_CONTEXTS": bad})


def test_a_queue_with_two_turns_grants_two_owners_then_rotates():
    q = FairQueue("model", capacity=2)
    order: list[str] = []
    gates = {k: threading.Event() for k in ("a1", "a2", "a3", "a4", "b1")}

    def serve(owner: str, key: str) -> threading.Thread:
        def work() -> None:
            with calling(owner, key), q.turn():
                order.append(key)
                gates[key].wait(10)

        t = threading.Thread(target=work, daemon=True)
        t.start()
        return t

    threads = []
    for owner, key in (("a", "a1"), ("a", "a2"), ("a", "a3"), ("a", "a4"), ("b", "b1")):
        threads.append(serve(owner, key))
        deadline = time.monotonic() + 10
        while len(order) + len(q.waiters()) < len(threads):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert order == ["a1", "a2"] and q.holding() == 2
    place = q.place("b1")
    assert place is not None and place.ahead == 2  # both turns held (one must end), then a3, then b1
    gates["a1"].set()
    deadline = time.monotonic() + 10
    while len(order) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert order[2] == "a3" and q.place("b1").ahead == 1
    gates["a2"].set()
    while len(order) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for g in gates.values():
        g.set()
    for t in threads:
        t.join(10)
    assert order == ["a1", "a2", "a3", "b1", "a4"]  # a's fourth call waits behind b's first
    assert fair.position("a4") is None
