"""Embedded generation through the app's ChatModel vs raw llama-cpp-python, same prompt, same run.

The app's engine chooses its threads per token step with the CPU policy (``ragft.models.cpu``); raw llama.cpp runs
with every core (``--threads`` to change), the fastest fixed setting on an idle machine. The app's engine is the one
it runs by default, ``ragft.models.batch.BatchEngine`` (its prompt cache off: a cold prompt every time, as raw's);
``--engine single`` measures one ``EmbeddedEngine`` context (the pool's).

Prints tokens/s and time to first token for both and the ratio app/raw (goal >= 0.95). Runs are interleaved
(raw, app, raw, app, ...) so background load hits both alike; the median of each is reported.
Usage: python benchmarks/bench_models.py [--rounds 5] [--max-tokens 64] [--engine batch|single]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llama_cpp import Llama  # noqa: E402

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.models import cpu  # noqa: E402
from ragft.models.batch import BatchEngine  # noqa: E402
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine  # noqa: E402
from ragft.paths import smollm2_gguf  # noqa: E402

CHUNKS = [
    RetrievedChunk(
        text=f"Product {i}. Price: ${20 + 7 * i}. Weight {300 + i} g. Ships in {i % 3 + 1} days.",
        source="catalogue.pdf",
        page=i + 1,
    )
    for i in range(4)
]
MESSAGES = build_messages("Describe product 2 and its price in detail.", CHUNKS)


def raw_run(llm: Llama, max_tokens: int) -> tuple[float, float, int]:
    llm.reset()  # cold prompt every time, for both sides
    t0 = time.perf_counter()
    ttft, n = None, 0
    for chunk in llm.create_chat_completion(messages=MESSAGES, max_tokens=max_tokens, temperature=0.0, stream=True):
        if chunk["choices"][0]["delta"].get("content"):
            if ttft is None:
                ttft = time.perf_counter() - t0
            n += 1
    return ttft or 0.0, time.perf_counter() - t0, n


def app_run(model: EmbeddedChatModel, max_tokens: int) -> tuple[float, float, int]:
    if isinstance(model.engine, EmbeddedEngine):
        model.engine.llm.reset()
    s = model.stream(MESSAGES, max_tokens=max_tokens, temperature=0.0).consume()
    return s.ttft_s or 0.0, s.total_s or 0.0, s.tokens_so_far


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=cpu.cores_available(), help="raw llama.cpp threads")
    ap.add_argument("--engine", choices=("batch", "single"), default="batch", help="the app's engine")
    a = ap.parse_args()
    gguf = smollm2_gguf()
    threads = a.threads
    raw = Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
    engine = EmbeddedEngine(gguf) if a.engine == "single" else BatchEngine(gguf, max_sequences=1, prompt_cache=False)
    app = EmbeddedChatModel(engine, "smollm2")
    raw_run(raw, 8), app_run(app, 8)  # warm-up
    r, p = [], []
    for _ in range(a.rounds):
        r.append(raw_run(raw, a.max_tokens))
        p.append(app_run(app, a.max_tokens))

    def summary(rows):
        ttft = statistics.median(x[0] for x in rows)
        tps = statistics.median((x[2] - 1) / (x[1] - x[0]) for x in rows if x[2] > 1 and x[1] > x[0])
        return ttft, tps

    (rt, rtps), (pt, ptps) = summary(r), summary(p)
    print(
        f"raw threads={threads}, app engine {a.engine}, threads chosen by the policy rounds={a.rounds} "
        f"max_tokens={a.max_tokens} prompt_tokens={app.count_prompt_tokens(MESSAGES)}"
    )
    print(f"raw llama-cpp-python : TTFT {rt * 1000:7.1f} ms   generation {rtps:6.1f} tokens/s")
    print(f"app ChatModel        : TTFT {pt * 1000:7.1f} ms   generation {ptps:6.1f} tokens/s")
    print(f"ratio app/raw tokens/s: {ptps / rtps:.3f}  (goal >= 0.95)")
    print(f"ratio raw/app TTFT    : {rt / pt:.3f}")


if __name__ == "__main__":
    main()
