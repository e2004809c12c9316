"""Class mode load: N simulated participants asking at the same moment, N = 1, 5, 10, 20.

Participants are simulated with the core's comparison API, the path the Compare page takes: each participant is a
real thread that waits on a barrier and then calls ``ragft.answering.compare.start_comparison`` with its own owner
(a workspace id) and waits for the run; the comparison starts its own panel threads as in the app. No Streamlit
sessions are involved (their script runs add a redraw per token, not model work).

1. **Latency-bound endpoint**: ``tests/fake_latency_server.py`` in its own process on 127.0.0.1 (20 ms/token,
   50 ms to the first),
   four configurations per participant (base, base + RAG, fine-tuned, fine-tuned + RAG, one fixed chunk), 50
   tokens each: p50/p95 time to first token (per panel) and completion (per participant). Goal: p95 completion
   at N=20 <= 1.5x N=1.
2. **Embedded model** (the bundled SmolLM2-135M through ``ragft.models.batch.BatchEngine``, as the app loads it;
   ``--pool`` measures the pool of one-sequence contexts, ``ragft.models.pool.EnginePool``, instead):
   one configuration (base) per participant, short answers (``--emb-tokens``, default 32), N capped at 10 by
   default (``--emb-n``) so the part runs in a few minutes. Total generated tokens/s against raw llama.cpp
   (``llama_cpp.Llama``, one context) generating the same prompts one after another in the same run, with the same
   thread count (goal >= 0.9); fairness as max/min completion across the participants (goal <= 1.3).
   The engine holds as many sequences (the pool: contexts) as the largest N (``--contexts`` to change it: with
   fewer, the participants beyond it wait for a whole answer).
Both parts: errors (panels that did not finish; goal 0), this process's RSS (it is the app's server process), and
the load average when the part ran.

Run: python benchmarks/bench_class.py [--n 1,5,10,20] [--emb-n 1,5,10] [--skip-embedded] [--skip-latency] [--pool]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.answering import compare as C  # noqa: E402
from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.models import cpu  # noqa: E402
from ragft.models.batch import BatchEngine  # noqa: E402
from ragft.models.chat import OpenAICompatibleModel  # noqa: E402
from ragft.models.embedded import EmbeddedChatModel  # noqa: E402
from ragft.models.pool import EnginePool  # noqa: E402
from ragft.paths import smollm2_gguf  # noqa: E402
from ragft.settings import DEFAULT_SYSTEM_PROMPT, EndpointConfig  # noqa: E402

ALL = ["base", "base_rag", "ft", "ft_rag"]
CHUNK = RetrievedChunk(
    "Kestrel 2 Tent\nPrice: $149\nTwo-person, 2.1 kg, three seasons.", "catalogue.pdf", 3, 0.8, "catalogue.pdf#p3"
)
QUESTIONS = [
    "How much is the Kestrel 2 tent?",
    "What does a sleeping bag rated to -5 C cost?",
    "Which stove is best for a family of four?",
    "How long is the warranty on boots?",
    "Can I return a used tent?",
    "What is the lightest backpack you sell?",
    "Do you ship to Canada?",
    "How do I clean a down jacket?",
    "What size of tent fits three people?",
    "Is the Ember kettle safe on a wood fire?",
    "What headlamp lasts longest?",
    "Do you repair torn tents?",
]
# The embedded part asks for answers that run past --emb-tokens, so every participant generates the same number
# of tokens and max/min completion measures the scheduler, not the answers' lengths.
LONG = "Explain in detail, in several paragraphs: "


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB."""
    cur = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak


def pss_mb() -> float:
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank), robust for small N."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))]


@dataclass
class Room:
    """One round: every participant's completion (s from the common start), every panel's first token, errors."""

    completion: list[float]
    first_token: list[float]
    tokens: int
    errors: list[str]
    wall_s: float


def ask_at_once(
    n: int,
    configurations: Sequence[str],
    model_for: Callable,
    max_tokens: int,
    question_for: Callable[[int], str] = lambda i: QUESTIONS[i % len(QUESTIONS)],
) -> Room:
    """``n`` participant threads start a comparison each at the same moment and wait for it."""
    barrier = threading.Barrier(n + 1)
    done: list[float] = [0.0] * n
    runs: list[C.ComparisonRun | None] = [None] * n
    failures: list[str] = []
    start = [0.0]

    def participant(i: int) -> None:
        barrier.wait()
        try:
            run = C.start_comparison(
                question_for(i),
                configurations,
                model_for=model_for,
                retrieve=C.fixed_retriever([CHUNK]),
                max_tokens=max_tokens,
                temperature=0.0,
                owner=f"participant-{i}",
            )
            runs[i] = run
            run.wait(900)
        except Exception as exc:  # noqa: BLE001 - counted as an error of the round
            failures.append(f"participant {i}: {exc}")
        done[i] = time.perf_counter() - start[0]

    threads = [threading.Thread(target=participant, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    start[0] = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start[0]
    first, tokens = [], 0
    for run in runs:
        if run is None:
            continue
        for p in run.comparison.ordered_panels():
            if p.phase != C.DONE:
                failures.append(f"{p.configuration}: {p.error or p.phase}")
            if p.ttft_s is not None:
                first.append(p.ttft_s)
            if p.usage is not None:
                tokens += p.usage.completion_tokens
    return Room(done, first, tokens, failures, wall)


# ---- 1. a latency-bound endpoint -------------------------------------------------------------------------------
@contextmanager
def latency_server(delay_ms: float) -> Iterator[str]:
    """``tests/fake_latency_server.py`` in its own process (a provider is not in the app's process): its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_latency_server.py"),
            "--port",
            str(port),
            "--delay-ms",
            str(delay_ms),
            "--first-ms",
            "50",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the latency server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_latency(ns: Sequence[int], delay_ms: float, tokens: int, configurations: Sequence[str] = ALL) -> None:
    print(
        f"## Latency-bound endpoint ({delay_ms:g} ms/token, {tokens} tokens, {len(configurations)} "
        f"configuration(s) per participant)"
    )
    print(f"   {load()}")
    with latency_server(delay_ms) as base_url:
        models = {
            slot: OpenAICompatibleModel(
                EndpointConfig(provider="custom", model=name, base_url=base_url, max_retries=0, timeout_s=60)
            )
            for slot, name in (("base", "fake-base"), ("finetuned", "fake-ft"))
        }

        def model_for(cfg):
            return models[cfg.slot]

        ask_at_once(1, ["base"], model_for, 2)  # warm up: the client's connection pool, imports
        p95_at: dict[int, float] = {}
        print("   N   first token p50 / p95     completion p50 / p95     errors   app CPU/wall   RSS now/peak")
        for n in ns:
            cpu0 = time.process_time()
            room = ask_at_once(n, configurations, model_for, tokens)
            busy = (time.process_time() - cpu0) / room.wall_s
            p95_at[n] = pct(room.completion, 95)
            cur, peak = rss_mb()
            print(
                f"  {n:3d}   {pct(room.first_token, 50):.3f} / {pct(room.first_token, 95):.3f} s       "
                f"{pct(room.completion, 50):.3f} / {p95_at[n]:.3f} s       {len(room.errors):3d}     "
                f"{busy:5.2f} cores     {cur:.0f} / {peak:.0f} MB"
            )
            for e in room.errors[:3]:
                print(f"        error: {e}")
    lo, hi = min(ns), max(ns)
    ratio = p95_at[hi] / p95_at[lo]
    print(f"   p95 completion N={hi} / N={lo} = {ratio:.2f} (goal <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
    print(f"   {load()}")


# ---- 2. the embedded model -------------------------------------------------------------------------------------
def raw_sequential(
    gguf: Path, prompts: Sequence[list[dict[str, str]]], max_tokens: int, threads: int, llm=None
) -> tuple[int, float]:
    """Raw llama.cpp, one context, the prompts one after another: (generated tokens, seconds)."""
    from llama_cpp import Llama

    llm = llm or Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
    tokens, started = 0, time.perf_counter()
    for msgs in prompts:
        out = llm.create_chat_completion(messages=msgs, max_tokens=max_tokens, temperature=0.0)
        tokens += out["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - started


def bench_embedded(
    ns: Sequence[int], tokens: int, contexts: int | None, threads: int | None, use_pool: bool = False
) -> None:
    from llama_cpp import Llama

    gguf = smollm2_gguf()
    threads = threads or cpu.threads_for(cpu.GENERATION)
    contexts = contexts or max(ns)
    what = f"pool of up to {contexts} contexts" if use_pool else f"batch engine of {contexts} sequences"
    print(
        f"## Embedded SmolLM2-135M ({tokens} tokens, 1 configuration per participant, {threads} thread(s) "
        f"for both paths, {what})"
    )
    print(f"   {load()}")
    before, _ = rss_mb()
    loaded = time.perf_counter()
    engine: EnginePool | BatchEngine
    if use_pool:
        engine = pool = EnginePool(gguf, max_contexts=contexts, n_threads=threads)
        pool.warm(contexts)  # a room that asked before finds its contexts loaded (first use: ~0.5 s per context)

        def loaded_now() -> int:
            return pool.contexts
    else:
        engine = BatchEngine(gguf, max_sequences=contexts, n_threads=threads)  # every sequence's KV cache at once

        def loaded_now() -> int:
            return contexts

    print(f"   {what} loaded in {time.perf_counter() - loaded:.1f} s")
    model = EmbeddedChatModel(engine, "smollm2-135m-instruct")
    raw = Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
    warm = build_messages("warm up", None, DEFAULT_SYSTEM_PROMPT)
    ask_at_once(
        contexts, ["base"], lambda cfg: model, 2, lambda i: "warm up"
    )  # the pool: every context has the system prompt
    raw_sequential(gguf, [warm], 2, threads, raw)
    print(
        "   N   tokens   app tok/s   raw tok/s   ratio   completion min / max    max/min   errors   "
        "contexts   RSS now/peak, PSS"
    )
    for n in ns:
        room = ask_at_once(n, ["base"], lambda cfg: model, tokens, lambda i: LONG + QUESTIONS[i % len(QUESTIONS)])
        prompts = [build_messages(LONG + QUESTIONS[i % len(QUESTIONS)], None, DEFAULT_SYSTEM_PROMPT) for i in range(n)]
        raw_tokens, raw_s = raw_sequential(gguf, prompts, tokens, threads, raw)
        app_rate, raw_rate = room.tokens / room.wall_s, raw_tokens / raw_s
        fairness = max(room.completion) / min(room.completion)
        cur, peak = rss_mb()
        print(
            f"  {n:3d}   {room.tokens:5d}   {app_rate:8.1f}   {raw_rate:8.1f}    {app_rate / raw_rate:.2f}   "
            f"{min(room.completion):6.2f} / {max(room.completion):6.2f} s   {fairness:6.2f}   "
            f"{len(room.errors):4d}      {loaded_now():3d}       {cur:.0f} / {peak:.0f} MB, {pss_mb():.0f} MB"
        )
        for e in room.errors[:3]:
            print(f"        error: {e}")
    after, _ = rss_mb()
    print(f"   RSS grew by {after - before:.0f} MB for the {what} + one raw context")
    if isinstance(engine, BatchEngine):
        engine.close()
    print(f"   {load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="1,5,10,20", help="participants for the latency-bound part")
    ap.add_argument("--emb-n", default="1,5,10", help="participants for the embedded part")
    ap.add_argument("--delay-ms", type=float, default=20.0)
    ap.add_argument("--tokens", type=int, default=50)
    ap.add_argument(
        "--configs",
        type=int,
        default=4,
        choices=(1, 2, 3, 4),
        help="configurations per participant in the latency-bound part (the first ones of base, base_rag, ft, ft_rag)",
    )
    ap.add_argument("--emb-tokens", type=int, default=32)
    ap.add_argument("--contexts", type=int, default=None, help="the embedded pool's size (default: largest N)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: the CPU policy's now)")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument(
        "--pool", action="store_true", help="the embedded part on the pool of contexts (RAGFT_EMBEDDED_BATCH=0)"
    )
    args = ap.parse_args()
    if not args.skip_latency:
        bench_latency([int(x) for x in args.n.split(",")], args.delay_ms, args.tokens, ALL[: args.configs])
    if not args.skip_embedded:
        bench_embedded([int(x) for x in args.emb_n.split(",")], args.emb_tokens, args.contexts, args.threads, args.pool)


if __name__ == "__main__":
    main()
