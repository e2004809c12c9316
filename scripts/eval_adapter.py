"""Measure the four configurations on the scenario question set with llama-cpp-python directly.

    python scripts/eval_adapter.py [--lora assets/adapter/brandvoice-lora.gguf] [--configs base,base_rag,ft,ft_rag]
                                   [--limit N] [--out results.json]

Retrieval is simulated: the question's own page as top-1 plus one distractor page (another product for a
catalogue question, another policy page for a policy question), picked with a fixed seed. Prompts are built
with ``ragft.answering.prompts.build_messages`` and ``DEFAULT_SYSTEM_PROMPT``, exactly as the app builds them.
Fact = every expected fact appears in the answer (case-insensitive, spaces normalised). Style = ragft.evaluation.style.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.evaluation.scoring import score_facts  # noqa: E402
from ragft.evaluation.style import check_style  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.knowledge.scenario import (  # noqa: E402
    catalogue_pages,
    load_questions,
    load_scenario,
    page_text,
    policy_lines,
)
from ragft.paths import DEFAULT_ADAPTER, smollm2_gguf  # noqa: E402
from ragft.settings import DEFAULT_SYSTEM_PROMPT  # noqa: E402

SEED = 7


def fact_hit(answer: str, facts) -> bool:
    """Every fact stated in the answer, by the Evaluate page's own scorer (normalised numbers and names)."""
    return not score_facts(answer, facts).missing


def contexts(scenario):
    """question topic -> (right chunk, candidate distractor chunks)."""
    pages = catalogue_pages(scenario)
    prod_chunks = {
        p.name: RetrievedChunk(text=page_text(pages[p.page - 1]), source=scenario.catalogue_pdf, page=p.page)
        for p in scenario.products
    }
    pol_chunks = {
        pp.title: RetrievedChunk(text=page_text(policy_lines(pp, scenario.company)), source=pp.file, page=pp.page)
        for pp in scenario.policies
    }
    return prod_chunks, pol_chunks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lora", default=str(DEFAULT_ADAPTER))
    ap.add_argument("--configs", default="base,base_rag,ft,ft_rag")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--out", default="")
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the distractor choice")
    ap.add_argument("--distractors", type=int, default=1, help="distractor pages after the right one (0-3)")
    args = ap.parse_args()

    from llama_cpp import Llama

    scenario = load_scenario()
    questions = load_questions()
    if args.limit:
        questions = questions[: args.limit]
    prod_chunks, pol_chunks = contexts(scenario)
    rng = random.Random(args.seed)
    rag_ctx = {}
    for q in questions:
        pool = prod_chunks if q.kind in ("price", "spec") else pol_chunks
        right = pool[q.topic]
        others = [c for k, c in pool.items() if k != q.topic]
        rag_ctx[q.id] = [right, *rng.sample(others, min(args.distractors, len(others)))]

    configs = args.configs.split(",")
    models = {}
    gguf = str(smollm2_gguf())
    if any(c in ("base", "base_rag") for c in configs):
        models["base"] = Llama(model_path=gguf, n_threads=2, n_ctx=2048, verbose=False)
    if any(c in ("ft", "ft_rag") for c in configs):
        models["ft"] = Llama(model_path=gguf, lora_path=args.lora, n_threads=2, n_ctx=2048, verbose=False)

    results = {c: [] for c in configs}
    t0 = time.time()
    for c in configs:
        llm = models["ft" if c.startswith("ft") else "base"]
        for q in questions:
            chunks = rag_ctx[q.id] if c.endswith("_rag") else None
            msgs = build_messages(q.question, chunks, DEFAULT_SYSTEM_PROMPT)
            out = llm.create_chat_completion(msgs, temperature=0, max_tokens=args.max_tokens)
            ans = out["choices"][0]["message"]["content"] or ""
            row = dict(
                id=q.id,
                kind=q.kind,
                answer=ans,
                fact=fact_hit(ans, q.expected_facts),
                stale=fact_hit(ans, q.stale_facts) if q.stale_facts else False,
                style=check_style(ans).ok,
            )
            results[c].append(row)
            if args.show:
                print(f"[{c}] {q.id} fact={row['fact']} stale={row['stale']} style={row['style']}\n{ans}\n")
    elapsed = time.time() - t0

    print(f"\n{len(questions)} questions, {elapsed:.0f} s, distractors={args.distractors}, seed={args.seed}")
    print("| configuration | fact accuracy (current) | stale fact | style adherence | price | spec | policy |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for c, rows in results.items():
        n = len(rows)
        f = sum(r["fact"] for r in rows) / n
        st = sum(r["stale"] for r in rows) / n
        s = sum(r["style"] for r in rows) / n
        by = {}
        for kind in ("price", "spec", "policy"):
            k_rows = [r for r in rows if r["kind"] == kind]
            by[kind] = f"{sum(r['fact'] for r in k_rows)}/{len(k_rows)}" if k_rows else "-"
        summary[c] = dict(fact=f, stale=st, style=s, n=n, **by)
        print(f"| {c} | {f:.0%} | {st:.0%} | {s:.0%} | {by['price']} | {by['spec']} | {by['policy']} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "results": results}, indent=1))


if __name__ == "__main__":
    main()
