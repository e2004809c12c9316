"""Compare benchmarks: four-way concurrency and time to first token, measured in one run.

1. Four-way wall time against a real local OpenAI-compatible server whose latency dominates (a fixed delay
   per token, tests/fake_latency_server.py), versus each configuration alone. Goal: four-way <= 1.2 x the
   slowest single configuration.
2. Time to first token on the page path (start_comparison -> event queue -> first token event) for the embedded
   model with a 4-chunk RAG prompt: alone, and while all four configurations run (the Compare page's case).

Run: python benchmarks/bench_compare.py [--delay-ms 20] [--tokens 50] [--repeats 3] [--skip-embedded]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.answering import compare as C  # noqa: E402
from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.knowledge.scenario import catalogue_pages, load_scenario, page_text, policy_lines  # noqa: E402
from ragft.models.chat import EmbeddedEngine, OpenAICompatibleModel, make_chat_model  # noqa: E402
from ragft.settings import EMBEDDED_FT_MODEL, EndpointConfig  # noqa: E402
from tests.fake_latency_server import LatencyServer  # noqa: E402

ALL = ["base", "base_rag", "ft", "ft_rag"]


def scenario_pages() -> list[RetrievedChunk]:
    """The sample catalogue as one chunk per page (one product each): a fixed RAG context of known size."""
    sc = load_scenario()
    out = [
        RetrievedChunk(page_text(lines), sc.catalogue_pdf, i, 0.0, f"{sc.catalogue_pdf}#p{i}")
        for i, lines in enumerate(catalogue_pages(sc), 1)
    ]
    out += [
        RetrievedChunk(page_text(policy_lines(p, sc.company)), p.file, p.page, 0.0, f"{p.file}#p{p.page}")
        for p in sc.policies
    ]
    return out


def latency_factory(srv: LatencyServer):
    models = {
        slot: OpenAICompatibleModel(
            EndpointConfig(provider="custom", model=name, base_url=srv.base_url, max_retries=0, timeout_s=30)
        )
        for slot, name in (("base", "fake-base"), ("finetuned", "fake-ft"))
    }
    return lambda cfg: models[cfg.slot]


def bench_concurrency(delay_ms: float, tokens: int, repeats: int) -> float:
    chunks = scenario_pages()[:4]
    with LatencyServer(token_delay_s=delay_ms / 1000, first_token_s=0.05, models=("fake-base", "fake-ft")) as srv:
        mf = latency_factory(srv)
        retrieve = C.fixed_retriever(chunks)
        C.run_comparison("warm up", ["base"], model_for=mf, retrieve=None, max_tokens=2, timeout_s=60)
        singles: dict[str, list[float]] = {k: [] for k in ALL}
        fours: list[float] = []
        for _ in range(repeats):
            for k in ALL:
                t = time.perf_counter()
                cmp = C.run_comparison(
                    "How much is the Kestrel 2 Tent?",
                    [k],
                    model_for=mf,
                    retrieve=retrieve,
                    max_tokens=tokens,
                    timeout_s=120,
                )
                singles[k].append(time.perf_counter() - t)
                assert cmp.panels[k].phase == C.DONE, cmp.panels[k].error
            t = time.perf_counter()
            cmp = C.run_comparison(
                "How much is the Kestrel 2 Tent?",
                ALL,
                model_for=mf,
                retrieve=retrieve,
                max_tokens=tokens,
                timeout_s=120,
            )
            fours.append(time.perf_counter() - t)
            assert all(p.phase == C.DONE for p in cmp.ordered_panels())
        peak = srv.max_active
    med = {k: statistics.median(v) for k, v in singles.items()}
    slowest_key = max(med, key=med.get)
    four = statistics.median(fours)
    ratio = four / med[slowest_key]
    print(f"## Four-way concurrency ({delay_ms:g} ms/token, {tokens} tokens, median of {repeats})")
    for k in ALL:
        print(f"  {k:8s} alone      {med[k]:.3f} s")
    print(f"  four at once        {four:.3f} s  (server saw {peak} requests streaming at once)")
    print(
        f"  ratio four-way / slowest single ({slowest_key}) = {ratio:.3f}  (goal <= 1.2: "
        f"{'met' if ratio <= 1.2 else 'NOT met'})"
    )
    print(f"  ratio four-way / sum of singles = {four / sum(med.values()):.3f}  (1.0 would be sequential)")
    return ratio


def first_token_s(run: C.ComparisonRun, key: str, started: float) -> float | None:
    for ev in run.events(poll_s=0.05, timeout_s=300):
        if ev.kind == "token" and ev.key == key:
            return time.perf_counter() - started
    return None


def bench_embedded_ttft(repeats: int) -> None:
    from ragft.paths import DEFAULT_ADAPTER

    chunks = scenario_pages()[:4]
    engines: dict = {}

    def loader(slot, lane):
        # One engine per (slot, lane), as the app has when the adapter is installed (without it both slots
        # would otherwise share the base engines and wait for each other).
        return lambda path, lora: engines.setdefault((slot, lane), EmbeddedEngine(path, lora))

    base_cfg = EndpointConfig()
    ft_cfg = EndpointConfig(model=EMBEDDED_FT_MODEL, lora_path="default" if DEFAULT_ADAPTER.is_file() else None)
    models = {
        (c, lane): make_chat_model(base_cfg if c == "base" else ft_cfg, loader(c, lane))
        for c in ("base", "finetuned")
        for lane in (0, 1)
    }
    mf = lambda cfg: models[(cfg.slot, 1 if cfg.rag else 0)]  # noqa: E731 - a one-line factory, read beside its use
    q = "How much does the Kestrel 2 Tent cost?"
    n_prompt = models[("base", 1)].count_prompt_tokens(build_messages(q, chunks))
    C.run_comparison("warm up", ALL, model_for=mf, retrieve=C.fixed_retriever(chunks), max_tokens=2, timeout_s=300)
    alone, alone_model, together, together_model, wall4 = [], [], [], [], []

    def cold() -> None:
        # llama.cpp keeps the last prompt's KV cache: a repeated prompt would skip prompt processing. Reset it
        # so each figure is a first-time question (the warm case is printed separately below).
        for eng in engines.values():
            with eng.lock:
                eng.llm.reset()

    for _ in range(repeats):
        cold()
        t = time.perf_counter()
        run = C.start_comparison(q, ["base_rag"], model_for=mf, retrieve=C.fixed_retriever(chunks), max_tokens=32)
        alone.append(first_token_s(run, "base_rag", t))
        alone_model.append(run.wait(300).panels["base_rag"].ttft_s)
        cold()
        t = time.perf_counter()
        run = C.start_comparison(q, ALL, model_for=mf, retrieve=C.fixed_retriever(chunks), max_tokens=32)
        together.append(first_token_s(run, "base_rag", t))
        cmp = run.wait(300)
        together_model.append(cmp.panels["base_rag"].ttft_s)
        assert all(p.phase == C.DONE for p in cmp.ordered_panels()), [p.error for p in cmp.ordered_panels()]
        wall4.append(cmp.wall_s)
    print(
        f"## Embedded model, 4-chunk RAG prompt ({n_prompt} prompt tokens, 32 max tokens, median of {repeats})"
        f"{'' if DEFAULT_ADAPTER.is_file() else ' [no adapter installed: ft slot = base weights]'}"
    )
    print(
        f"  base+RAG alone:      first token on the page path {statistics.median(alone):.3f} s "
        f"(model's own TTFT {statistics.median(alone_model):.3f} s)"
    )
    print(
        f"  base+RAG among four: first token on the page path {statistics.median(together):.3f} s "
        f"(model's own TTFT {statistics.median(together_model):.3f} s); four-way wall {statistics.median(wall4):.2f} s"
    )
    print(f"  ratio first token among four / alone = {statistics.median(together) / statistics.median(alone):.2f}")
    t = time.perf_counter()
    run = C.start_comparison(q, ["base_rag"], model_for=mf, retrieve=C.fixed_retriever(chunks), max_tokens=32)
    warm = first_token_s(run, "base_rag", t)
    run.wait(300)
    print(f"  warm (the same context asked again, llama.cpp reuses the cached prompt prefix): {warm:.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay-ms", type=float, default=20.0)
    ap.add_argument("--tokens", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-embedded", action="store_true")
    a = ap.parse_args()
    bench_concurrency(a.delay_ms, a.tokens, a.repeats)
    if not a.skip_embedded:
        bench_embedded_ttft(a.repeats)


if __name__ == "__main__":
    main()
