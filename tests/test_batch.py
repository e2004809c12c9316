"""Batched decoding on the real bundled SmolLM2: several sequences of one (model, adapter) in one llama.cpp context,
one token each per ``llama_decode``, with the fair scheduler's admission, the pause, stop, errors and LoRA.

Greedy answers are compared alone against batched on the same machine (token ids of the texts), never against words
written here: another CPU may pick other words, but the same ones alone and batched."""

from __future__ import annotations

import gc
import itertools
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from ragft import errors as E
from ragft.models import batch as batch_mod
from ragft.models import fair
from ragft.models.batch import BANK, DEFAULT_SEQUENCES, MIN_SHARED, MIN_TAIL, BatchEngine, batch_from_env, sample_token
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine, render_chatml
from ragft.models.fair import calling
from ragft.paths import DEFAULT_ADAPTER, smollm2_gguf

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

PROMPTS = [
    "What is the capital of France?",
    "Describe a tent for a family of four.",
    "How do I clean hiking boots?",
    "Write one sentence about the sea.",
]
TOKENS = 16


def _messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _batch_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("ragft-batch") and t.is_alive()}


BEFORE = _batch_threads()  # engines other modules' tests left running (the app's cached engines)


@pytest.fixture(scope="module")
def engine() -> Iterator[BatchEngine]:
    e = BatchEngine(smollm2_gguf(), max_sequences=4, n_threads=1)
    yield e
    e.close()
    assert not e.thread.is_alive()


@pytest.fixture(scope="module")
def alone() -> dict[str, str]:
    """Each prompt's greedy answer from ``llama_cpp.Llama`` (one sequence, the pool's path)."""
    ref = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), n_threads=1), "ref")
    out = {p: ref.stream(_messages(p), max_tokens=TOKENS, temperature=0.0).consume().text for p in PROMPTS}
    ref.engine.llm.close()  # type: ignore[attr-defined]
    return out


def _run_at_once(work: Callable[..., None], args: list[tuple[object, ...]]) -> None:
    """``work(*a)`` for every ``a`` of ``args`` on threads of their own, started together; back when all are done."""
    threads = [threading.Thread(target=work, args=a, daemon=True) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def _stream_all(model: EmbeddedChatModel, prompts: list[str], log: list[tuple[str, int]]) -> dict[str, str]:
    texts: dict[str, str] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int, prompt: str) -> None:
        try:
            with calling(f"owner-{i}", f"key-{i}"):
                pieces = []
                for n, piece in enumerate(model.stream(_messages(prompt), max_tokens=TOKENS, temperature=0.0)):
                    pieces.append(piece)
                    with lock:
                        log.append((prompt, n))
                texts[prompt] = "".join(pieces)
                with lock:
                    log.append((prompt, -1))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    _run_at_once(work, [(i, p) for i, p in enumerate(prompts)])
    assert not errors, errors
    return texts


def test_batched_greedy_answers_are_the_answers_alone_and_progress_together(engine, alone):
    model = EmbeddedChatModel(engine, "smollm2")
    steps_before = engine.steps
    log: list[tuple[str, int]] = []
    batched = _stream_all(model, PROMPTS, log)
    for p in PROMPTS:
        assert engine.tokenize(batched[p]) == engine.tokenize(alone[p]), p
    started = [log.index((p, 0)) for p in PROMPTS]
    finished = [log.index((p, -1)) for p in PROMPTS]
    assert max(started) < min(finished), "one answer finished before another got its first token"
    generated = sum(len(engine.tokenize(t)) for t in batched.values())
    assert engine.steps - steps_before < generated, "every token had a step of its own: nothing was batched"
    assert engine.active() == 0


def test_completion_counts_the_prompt_and_a_second_prompt_reuses_the_cached_start(engine, alone):
    model = EmbeddedChatModel(engine, "smollm2")
    done = model.complete(_messages(PROMPTS[0]), max_tokens=4, temperature=0.0)
    assert done.usage.prompt_tokens == model.count_prompt_tokens(_messages(PROMPTS[0])) and done.usage.exact
    assert 0 < done.usage.completion_tokens <= 4
    reused = engine.reused
    again = model.complete(_messages(PROMPTS[1]), max_tokens=TOKENS, temperature=0.0)
    assert engine.reused > reused  # the system prompt came from a slot's cache
    assert engine.tokenize(again.text) == engine.tokenize(alone[PROMPTS[1]])
    # The same prompt once more: all of it comes from the cache but its last MIN_TAIL tokens, evaluated so that its
    # first logits are those of the prompt evaluated whole (one token alone may take other kernels), and the greedy
    # answer is the one alone.
    reused = engine.reused
    third = model.complete(_messages(PROMPTS[1]), max_tokens=TOKENS, temperature=0.0)
    assert engine.reused - reused == model.count_prompt_tokens(_messages(PROMPTS[1])) - MIN_TAIL
    assert engine.tokenize(third.text) == engine.tokenize(alone[PROMPTS[1]])


SYSTEM = "You are a helpful assistant for a shop. Answer the customer's question in one short sentence."


def test_prompts_in_flight_share_their_common_start_across_banks_and_answer_as_alone():
    """Ten answers at once on two banks of 8 (a fresh engine: no slot holds a cached prompt): each prompt takes the
    longest start it shares with a prompt already in the KV of a sequence in flight, copied from whichever bank
    holds it; the counts follow from the tokens alone, whatever order the prompts are evaluated in, and every
    greedy answer is the one alone."""
    questions = PROMPTS  # four different questions after one system prompt, asked 3, 3, 2 and 2 times
    asked = [questions[i % len(questions)] for i in range(BANK + 2)]
    ref = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), n_threads=1), "ref")
    messages = {q: [{"role": "system", "content": SYSTEM}, *_messages(q)] for q in questions}
    want = {q: ref.stream(m, max_tokens=TOKENS, temperature=0.0).consume().text for q, m in messages.items()}
    ref.engine.llm.close()  # type: ignore[attr-defined]
    e = BatchEngine(smollm2_gguf(), max_sequences=2 * BANK, n_ctx=512, n_threads=1)
    try:
        tokens = {q: e.tokenize(render_chatml(m), special=True) for q, m in messages.items()}
        starts = {
            sum(1 for _ in itertools.takewhile(lambda xy: xy[0] == xy[1], zip(tokens[a], tokens[b], strict=False)))
            for a, b in itertools.combinations(questions, 2)
        }
        assert len(starts) == 1  # every two questions share the same start (the system prompt, the user turn's head)
        start = starts.pop()
        assert start >= MIN_SHARED
        # The first prompt evaluated gets nothing; every other question's first its common start; a repeat all but
        # its last MIN_TAIL tokens (evaluated: they give the first logits as the prompt evaluated whole does).
        expected = (len(questions) - 1) * start + sum(
            (asked.count(q) - 1) * (len(tokens[q]) - MIN_TAIL) for q in questions
        )
        texts: dict[int, str] = {}
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                with calling(f"owner-{i}", f"key-{i}"):
                    model = EmbeddedChatModel(e, "smollm2")
                    texts[i] = "".join(model.stream(messages[asked[i]], max_tokens=TOKENS, temperature=0.0))
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        _run_at_once(work, [(i,) for i in range(len(asked))])
        assert not errors, errors
        assert e.reused == e.shared == expected, (e.reused, e.shared, expected)
        for i, q in enumerate(asked):
            assert e.tokenize(texts[i]) == e.tokenize(want[q]), (i, q)
    finally:
        e.close()


def test_a_copy_of_a_start_that_fails_leaves_the_prompt_evaluated_whole_and_the_answer_as_alone(monkeypatch, caplog):
    """When llama.cpp refuses a sequence's KV state (here: the real call is handed a truncated copy, as a stream that
    ran out would), nothing of the copy is kept: the prompt is evaluated from its start, the answers are those alone
    and nothing is counted as shared."""
    ref = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), n_threads=1), "ref")
    messages = {q: [{"role": "system", "content": SYSTEM}, *_messages(q)] for q in PROMPTS}
    want = {q: ref.stream(m, max_tokens=TOKENS, temperature=0.0).consume().text for q, m in messages.items()}
    ref.engine.llm.close()  # type: ignore[attr-defined]
    real_set = batch_mod.L.llama_state_seq_set_data_ext
    refused: list[int] = []

    def truncated_set(ctx, state, n_bytes, seq_id, flags):  # type: ignore[no-untyped-def]
        got = real_set(ctx, state, n_bytes // 2, seq_id, flags)
        refused.append(got)
        return got

    monkeypatch.setattr(batch_mod.L, "llama_state_seq_set_data_ext", truncated_set)
    e = BatchEngine(smollm2_gguf(), max_sequences=BANK, n_ctx=512, n_threads=1)
    try:
        texts: dict[str, str] = {}
        errors: list[BaseException] = []

        def work(i: int, q: str) -> None:
            try:
                with calling(f"owner-{i}", f"key-{i}"):
                    texts[q] = "".join(
                        EmbeddedChatModel(e, "smollm2").stream(messages[q], max_tokens=TOKENS, temperature=0.0)
                    )
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        with caplog.at_level("WARNING", logger="ragft.models.batch"):
            _run_at_once(work, [(i, q) for i, q in enumerate(PROMPTS)])
        assert not errors, errors
        assert refused and set(refused) == {0}  # llama.cpp itself refused every copy tried
        assert "could not copy a sequence's KV state" in caplog.text
        assert e.shared == 0 and e.reused == 0
        for q in PROMPTS:
            assert e.tokenize(texts[q]) == e.tokenize(want[q]), q
    finally:
        e.close()


def test_a_prompts_last_tokens_beside_other_streams_tokens_give_the_logits_of_the_prompt_evaluated_whole():
    """A step that carries a prompt's last two tokens beside another sequence's next token (one ``decode`` of the
    engine) gives that prompt the first logits, bit for bit, of the prompt evaluated whole in a step of its own: the
    chunk is not split by llama.cpp into ubatches of one token per stream (which take other kernels on some CPUs)."""
    e = BatchEngine(smollm2_gguf(), max_sequences=BANK, n_ctx=512, n_threads=1, prompt_cache=False)
    try:
        a, b = (
            e.tokenize(render_chatml([{"role": "system", "content": SYSTEM}, *_messages(q)]), special=True)
            for q in PROMPTS[:2]
        )
        assert list(e.tokens(a, max_tokens=2, temperature=0.0))  # opens the bank; the driver is idle after it
        d = e._driver
        for slot in range(3):
            batch_mod.L.llama_memory_seq_rm(d.mems[0], slot, -1, -1)

        def row(where: tuple) -> np.ndarray:
            src, i = where
            if i < 0:
                return np.array(src)
            return np.ctypeslib.as_array(batch_mod.L.llama_get_logits_ith(src, i), shape=(d.n_vocab,)).copy()

        whole = row(d.decode([(t, p, 2, p == len(b) - 1) for p, t in enumerate(b)])[-1])
        after_a = row(d.decode([(t, p, 0, p == len(a) - 1) for p, t in enumerate(a)])[-1])
        d.decode([(t, p, 1, False) for p, t in enumerate(b[:-2])])  # the next stream: llama.cpp would pair them
        step = [(int(after_a.argmax()), len(a), 0, True), (b[-2], len(b) - 2, 1, False), (b[-1], len(b) - 1, 1, True)]
        got = row(d.decode(step)[2])
        assert np.array_equal(got, whole), float(np.abs(got - whole).max())
    finally:
        e.close()


def test_a_steps_tokens_go_to_llama_cpp_in_stream_order_and_each_gets_its_own_logits():
    """Tokens handed in any order are decoded in stream (slot) order, as llama.cpp needs to put the streams of a step
    in one ubatch, and each token's logits are its own: the same as those of the tokens handed in order."""
    e = BatchEngine(smollm2_gguf(), max_sequences=BANK, n_ctx=512, n_threads=1, prompt_cache=False)
    try:
        prompts = [e.tokenize(render_chatml(_messages(q)), special=True) for q in PROMPTS[:3]]
        assert list(e.tokens(prompts[0], max_tokens=2, temperature=0.0))  # opens the bank; the driver is idle after it
        d = e._driver
        for slot, p in enumerate(prompts):
            batch_mod.L.llama_memory_seq_rm(d.mems[0], slot, -1, -1)
            d.decode([(t, i, slot, False) for i, t in enumerate(p)])

        def step(order: list[int]) -> dict[int, np.ndarray]:
            items = [(prompts[s][-1], len(prompts[s]), s, True) for s in order]
            where = d.decode(items)
            assert [d.batch.seq_id[j][0] for j in range(d.batch.n_tokens)] == sorted(order)
            out = {}
            for (src, row), s in zip(where, order, strict=True):
                out[s] = np.ctypeslib.as_array(batch_mod.L.llama_get_logits_ith(src, row), shape=(d.n_vocab,)).copy()
                batch_mod.L.llama_memory_seq_rm(d.mems[0], s, len(prompts[s]), -1)
            return out

        shuffled, ordered = step([2, 0, 1]), step([0, 1, 2])
        for s in range(3):
            assert np.array_equal(shuffled[s], ordered[s]), s
        assert not np.array_equal(ordered[0], ordered[1])  # three different prompts: three different rows
    finally:
        e.close()


def test_an_answer_that_ends_between_two_others_swaps_with_the_last_and_nothing_is_lost(alone):
    """Three answers in slots 0, 1, 2; the middle one ends first: the one in slot 2 swaps with slot 1 (its KV there,
    slot 1's cached prompt to slot 2), so the bank's streams stay one run (one ubatch per step); both long answers
    are the answers alone, and the ended answer's prompt is still cached whole (its next ask evaluates MIN_TAIL)."""
    e = BatchEngine(smollm2_gguf(), max_sequences=BANK, n_threads=1)
    try:
        prompts = [e.tokenize(render_chatml(_messages(p)), special=True) for p in PROMPTS[:3]]
        gens = [e.tokens(p, max_tokens=n, temperature=0.0) for p, n in zip(prompts, (TOKENS, 6, TOKENS), strict=True)]
        firsts = [next(g) for g in gens]  # admitted one after another (the second still has 5 tokens to go): 0, 1, 2
        assert e.moved == 0
        assert firsts[1] + "".join(gens[1])
        texts = {i: firsts[i] + "".join(gens[i]) for i in (0, 2)}
        assert e.moved == 1  # the third answer swapped into the second's slot once, and never again
        for i in (0, 2):
            assert e.tokenize(texts[i]) == e.tokenize(alone[PROMPTS[i]]), PROMPTS[i]
        reused = e.reused
        again = "".join(e.tokens(prompts[1], max_tokens=TOKENS, temperature=0.0))
        assert e.reused - reused == len(prompts[1]) - MIN_TAIL  # its cached prompt went to slot 2, not lost
        assert e.tokenize(again) == e.tokenize(alone[PROMPTS[1]])
    finally:
        e.close()


def test_a_long_prompt_is_evaluated_in_chunks(engine):
    long = _messages("Summarise: " + " ".join(f"Item {i} costs {i} dollars." for i in range(70)))
    prompt = engine.tokenize(render_chatml(long), special=True)
    assert 560 < len(prompt) < 768  # over one idle chunk of 512, within its tail rule: still one batch at most
    steps = engine.steps
    assert list(engine.tokens(prompt, max_tokens=2, temperature=0.0))
    assert engine.steps - steps >= 2


def test_answers_beyond_one_bank_open_another_answer_as_alone_and_an_idle_bank_closes(alone):
    """More answers than one bank holds: a second context of the same pair opens, every answer generates at
    once (two ``llama_decode`` per step), greedy answers are those alone; the extra bank's memory goes back when
    it is idle while the first goes on, and every bank closes when nothing is asked."""
    n = BANK + 2
    e = BatchEngine(smollm2_gguf(), max_sequences=n, n_threads=1, idle_close_s=0.5)
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(n)]
    first_tokens: list[int] = []
    ends: list[int] = []
    texts: dict[int, str] = {}
    banks_seen: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with calling(f"owner-{i}", f"key-{i}"):
                pieces = []
                for piece in EmbeddedChatModel(e, "smollm2").stream(
                    _messages(prompts[i]), max_tokens=TOKENS, temperature=0.0
                ):
                    if not pieces:
                        with lock:
                            first_tokens.append(e.steps)
                            banks_seen.append(e.banks_open)
                    pieces.append(piece)
                texts[i] = "".join(pieces)
                with lock:
                    ends.append(e.steps)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    try:
        _run_at_once(work, [(i,) for i in range(n)])
        assert not errors, errors
        assert max(banks_seen) == 2, banks_seen
        assert max(first_tokens) < min(ends), "an answer finished before another got its first token"
        for i in range(n):
            assert e.tokenize(texts[i]) == e.tokenize(alone[prompts[i]]), prompts[i]
        # One long answer on the first bank: the second closes while it runs.
        prompt = e.tokenize(render_chatml(_messages("Tell me a long story about a lighthouse.")), special=True)
        long = e.tokens(prompt, max_tokens=400, temperature=0.0)
        next(long)
        deadline = time.monotonic() + 20
        while e.banks_open > 1:
            assert time.monotonic() < deadline, "the idle second bank stayed open"
            time.sleep(0.02)
        assert e.active() == 1 and e.banks_open == 1
        long.close()
        deadline = time.monotonic() + 20
        while e.context_open:
            assert time.monotonic() < deadline, "the idle banks stayed open"
            time.sleep(0.05)
    finally:
        e.close()


def test_the_default_places_per_pair_hold_a_comparison_for_eight_participants(monkeypatch):
    monkeypatch.delenv("RAGFT_EMBEDDED_CONTEXTS", raising=False)
    e = BatchEngine(smollm2_gguf(), n_threads=1)
    try:
        assert e.capacity == DEFAULT_SEQUENCES == 16 and not e.context_open  # two banks of 8, none open yet
    finally:
        e.close()
    monkeypatch.setenv("RAGFT_EMBEDDED_CONTEXTS", "3")
    e = BatchEngine(smollm2_gguf(), n_threads=1)
    try:
        assert e.capacity == 3
    finally:
        e.close()


def test_temperature_sampling_stays_in_the_top_tokens():
    import numpy as np

    logits = np.full(50, -10.0, dtype=np.float32)
    logits[[3, 7]] = (5.0, 4.5)
    rng = np.random.default_rng(1)
    assert {sample_token(logits, 0.8, rng) for _ in range(50)} <= {3, 7}
    assert {sample_token(logits, 5.0, rng) for _ in range(200)} == {3, 7}


def test_a_stopped_stream_frees_its_sequence_and_the_next_is_admitted_and_an_idle_context_closes():
    e = BatchEngine(smollm2_gguf(), max_sequences=1, n_threads=1, idle_close_s=0.3)
    assert not e.context_open  # opened by the first answer
    try:
        prompt = e.tokenize(render_chatml(_messages(PROMPTS[1])), special=True)
        first = e.tokens(prompt, max_tokens=64, temperature=0.0)
        next(first)
        next(first)
        first.close()  # a stopped panel
        deadline = time.monotonic() + 10
        while e.active():
            assert time.monotonic() < deadline, "the stopped sequence kept its place"
            time.sleep(0.01)
        second = list(e.tokens(prompt, max_tokens=3, temperature=0.0))
        assert second and e.active() == 0
        deadline = time.monotonic() + 10
        while e.context_open:
            assert time.monotonic() < deadline, "the idle context stayed open"
            time.sleep(0.05)
        assert list(e.tokens(prompt, max_tokens=3, temperature=0.0)) == second  # opened again, same answer
    finally:
        e.close()


def test_the_pause_refuses_new_and_running_sequences(engine):
    prompt = engine.tokenize(render_chatml(_messages(PROMPTS[0])), special=True)
    paused = [False]

    class Paused(E.RagftError):
        pass

    def check() -> None:
        if paused[0]:
            raise Paused("The facilitator paused model calls.")

    fair.set_pause_check(check)
    try:
        running = engine.tokens(prompt, max_tokens=64, temperature=0.0)
        next(running)
        paused[0] = True
        with pytest.raises(Paused):
            list(running)
        with pytest.raises(Paused):
            next(engine.tokens(prompt, max_tokens=4, temperature=0.0))
    finally:
        fair.set_pause_check(lambda: None)
    assert list(engine.tokens(prompt, max_tokens=2, temperature=0.0))


def test_a_failed_step_reaches_the_caller_as_a_typed_error_and_the_engine_goes_on(engine, monkeypatch):
    prompt = engine.tokenize(render_chatml(_messages(PROMPTS[2])), special=True)

    def broken(items):
        raise RuntimeError("simulated llama_decode failure")

    monkeypatch.setattr(engine._driver, "decode", broken)
    with pytest.raises(E.ServerError) as info:
        list(engine.tokens(prompt, max_tokens=4, temperature=0.0))
    assert "simulated" in info.value.message
    monkeypatch.undo()
    assert list(engine.tokens(prompt, max_tokens=2, temperature=0.0))
    assert engine.thread.is_alive()


def test_the_lora_pair_answers_as_llama_cpp_does_with_the_adapter():
    question = _messages("How much is the Kestrel 2 tent?")
    ref = EmbeddedEngine(smollm2_gguf(), DEFAULT_ADAPTER, n_threads=1)
    expected = EmbeddedChatModel(ref, "ref").stream(question, max_tokens=TOKENS, temperature=0.0).consume().text
    ref.llm.close()
    e = BatchEngine(smollm2_gguf(), DEFAULT_ADAPTER, max_sequences=2, n_threads=1)
    try:
        got = EmbeddedChatModel(e, "ft").stream(question, max_tokens=TOKENS, temperature=0.0).consume().text
        assert e.tokenize(got) == e.tokenize(expected)
        base = BatchEngine(smollm2_gguf(), max_sequences=1, n_threads=1)
        try:
            plain = "".join(base.pieces(question, max_tokens=TOKENS, temperature=0.0))
        finally:
            base.close()
        assert plain != got, "the adapter changed nothing"
    finally:
        e.close()


def test_close_stops_the_thread_and_fails_the_callers():
    e = BatchEngine(smollm2_gguf(), max_sequences=1, n_threads=1)
    prompt = e.tokenize(render_chatml(_messages(PROMPTS[1])), special=True)
    running = e.tokens(prompt, max_tokens=200, temperature=0.0)
    next(running)
    e.close()
    assert not e.thread.is_alive()
    with pytest.raises(E.ServerError):
        list(running)
    with pytest.raises(E.ServerError):
        next(e.tokens(prompt, max_tokens=2, temperature=0.0))
    assert not [t for t in threading.enumerate() if t is e.thread]
    dropped = BatchEngine(smollm2_gguf(), max_sequences=1, n_threads=1)  # as a cache drops an engine
    thread = dropped.thread
    assert list(dropped.tokens(prompt, max_tokens=1, temperature=0.0))
    del dropped
    gc.collect()
    thread.join(30)
    assert not thread.is_alive()


def test_places_are_handed_out_round_robin_over_owners():
    e = BatchEngine(smollm2_gguf(), max_sequences=1, n_threads=1)
    prompt = e.tokenize(render_chatml(_messages(PROMPTS[3])), special=True)
    order: list[str] = []
    gate = threading.Event()
    holding = threading.Event()

    def ask(owner: str, key: str) -> threading.Thread:
        def work() -> None:
            with calling(owner, key):
                it = e.tokens(prompt, max_tokens=2, temperature=0.0)
                next(it)
                order.append(key)
                if key == "a1":
                    holding.set()
                    gate.wait(30)
                list(it)

        t = threading.Thread(target=work, daemon=True)
        t.start()
        return t

    try:
        threads = [ask("a", "a1")]
        assert holding.wait(30)
        queue = fair.engine_queue(e, e.capacity)
        for owner, key in (("a", "a2"), ("a", "a3"), ("b", "b1")):
            threads.append(ask(owner, key))
            deadline = time.monotonic() + 10
            while len(queue.waiters()) < len(threads) - 1:
                assert time.monotonic() < deadline
                time.sleep(0.01)
        place = fair.position("b1")
        assert place is not None and place.stage == "model" and place.ahead == 2  # a1 must end, then a2
        gate.set()
        for t in threads:
            t.join(60)
        assert order == ["a1", "a2", "b1", "a3"]  # a's third call waits behind b's first
    finally:
        gate.set()
        e.close()


def test_the_switch_and_no_driver_left_running(engine):
    assert batch_from_env({}) and batch_from_env({"RAGFT_EMBEDDED_BATCH": "1"})
    assert not batch_from_env({"RAGFT_EMBEDDED_BATCH": "0"})
    with pytest.raises(E.ConfigError):
        batch_from_env({"RAGFT_EMBEDDED_BATCH": "maybe"})
    # Every engine this module made is closed, but the shared one (closed by its fixture after the last test).
    assert _batch_threads() - BEFORE == {engine.thread}


def test_prompts_are_evaluated_round_robin_over_participants_oldest_first_within_one():
    from ragft.models.batch import _Prompts, _Seq

    q = _Prompts()
    seqs = {}
    for name, owner in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("b2", "b"), ("c1", "c")):
        with calling(owner, name):
            seqs[name] = _Seq([1, 2, 3], 4, 0.0)
        q.add(seqs[name])
        time.sleep(0.002)  # distinct arrival times
    order = []
    while True:
        nxt = q.first_of(list(seqs.values()))
        if nxt is None:
            break
        order.append(nxt.key)
        q.discard(nxt, evaluated=True)
        del seqs[nxt.key]
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3"]
    # A newcomer goes ahead of the prompts of participants served since it last was.
    with calling("a", "a4"):
        a4 = _Seq([1], 1, 0.0)
    with calling("d", "d1"):
        d1 = _Seq([1], 1, 0.0)
    q.add(a4)
    time.sleep(0.002)
    q.add(d1)
    assert q.first_of([a4, d1]) is d1
    q.discard(d1)  # dropped, not evaluated: d keeps its rank
    assert q.first_of([a4]) is a4
