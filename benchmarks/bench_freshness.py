"""The freshness demo, measured: change prices in the catalogue and see who follows.

What the Knowledge base page's freshness demo does (``ragft.knowledge.scenario.change_price`` → the new
catalogue PDF indexed in the participant's workspace, hiding the sample's copy), then the price question of every
changed product through base + RAG, fine-tuned and fine-tuned + RAG, scored like the Evaluate page with the
*new* price as the expected fact. The lesson: the RAG configurations quote the new price at once; the fine-tuned
model keeps quoting what it learned (last season's price, for the shipped adapter).

Run: python benchmarks/bench_freshness.py [--products N] [--delta 10] [--adapter path.gguf] [--verbose]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft import evaluation as EV  # noqa: E402
from ragft.evaluation.questions import QuestionSet  # noqa: E402
from ragft.evaluation.stats import wilson  # noqa: E402
from ragft.knowledge.scenario import Question, change_price, load_scenario  # noqa: E402
from ragft.paths import DEFAULT_ADAPTER  # noqa: E402
from ragft.settings import Settings  # noqa: E402

KEYS = ["base_rag", "ft", "ft_rag"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=6, help="how many products get a new price (spread over the list)")
    ap.add_argument("--delta", type=int, default=10, help="new price = current + delta (the page's default)")
    ap.add_argument("--adapter", type=Path, default=None, help="GGUF LoRA for the fine-tuned slot (default: shipped)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    adapter = args.adapter.resolve() if args.adapter else DEFAULT_ADAPTER
    sc = load_scenario()
    products = list(sc.products)
    step = max(1, len(products) // max(1, args.products))
    picked = products[::step][: args.products]
    prices: dict[str, int] = {}
    update = None
    for p in picked:
        new = int(p.price) + args.delta
        if new == p.last_price:
            new += 1
        update = change_price(sc, p.name, new, prices=prices)
        prices[p.name] = update.new_price
    assert update is not None
    questions = tuple(
        Question(
            id=f"fresh-{p.sku.lower()}",
            question=f"How much does the {p.name} cost?",
            expected_facts=(f"${prices[p.name]}",),
            expected_source=sc.catalogue_pdf,
            expected_page=p.page,
            topic=p.name,
            kind="price",
            stale_facts=(p.last_price_text,),
        )
        for p in picked
    )
    qs = QuestionSet("freshness", questions)
    print(f"# bench_freshness: {len(picked)} prices changed (current + {args.delta}) · adapter {adapter.name}")
    with tempfile.TemporaryDirectory(prefix="bench-fresh-") as tmp:
        s = Settings(data_dir=Path(tmp))
        if args.adapter:
            s = s.with_(finetuned=dataclasses.replace(s.finetuned, lora_path=str(adapter)))
        ws = "freshness-demo"
        t0 = time.perf_counter()
        model_for, retrieve, desc = EV.standalone_wiring(s, KEYS, workspace_id=ws)
        from ragft.knowledge.base import KnowledgeBase
        from ragft.knowledge.store import make_client
        from ragft.models.embeddings import make_embedding_function

        kb = KnowledgeBase(make_client(s), make_embedding_function(s.embedding), ws)
        reports = kb.ingest_files(
            [(update.file_name, update.pdf)], chunk_tokens=s.chunk_tokens, overlap=s.chunk_overlap
        )
        print(f"# {desc}; new catalogue indexed in the workspace: {reports[0].ok} ({time.perf_counter() - t0:.1f} s)")
        ev = EV.Evaluation.new(qs, KEYS)
        for pr in EV.run_evaluation(
            ev,
            model_for=model_for,
            retrieve=retrieve,
            system_prompt=s.system_prompt,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_k=s.top_k,
        ):
            r = pr.record
            if args.verbose:
                print(
                    f"  {r.configuration:8s} {r.question_id:18s} new {r.fact_score:.0%} stale {list(r.stale_found)} "
                    f":: {' / '.join(r.answer.splitlines())[:120]}"
                )
    print()
    print("| configuration | quotes the new price | quotes last season's price | errors |")
    print("|---|---|---|---|")
    for key in KEYS:
        rs = [r for r in ev.records if r.configuration == key]
        new = sum(1 for r in rs if not r.error and r.fact_score >= 1.0)
        old = sum(1 for r in rs if not r.error and r.stale_found)
        err = sum(1 for r in rs if r.error)
        print(
            f"| {rs[0].label if rs else key} | {new}/{len(rs)} = {wilson(new, len(rs)).pct()} | "
            f"{old}/{len(rs)} = {wilson(old, len(rs)).pct()} | {err} |"
        )
    print(f"\n# changed: {', '.join(f'{n} ${p}' for n, p in prices.items())}; wall time {ev.wall_s:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
