"""The thesis, measured: the shipped question set through base, base+RAG, fine-tuned and fine-tuned+RAG on the
embedded default (SmolLM2-135M via llama.cpp, the committed LoRA adapter, local MiniLM retrieval over the sample
scenario in a temporary Chroma), scored like the Evaluate page.

Prints the table "configuration | fact accuracy | style adherence | hit@k | ms/question", every figure with its 95%
interval (Wilson for rates, a seeded bootstrap for means), then the extra columns (page hit@k, stale answers,
tokens/question, errors), the paired comparison of fine-tuned + RAG against base + RAG (questions each got right
and the other wrong, the difference with Newcombe's interval, the exact McNemar test) and, with --verbose, every
answer.
ms/question is the mean wall time of one configuration's answer; the four configurations of a question run at
once and share the CPU token by token, so it grows with the number of configurations and with other load.

Run: python benchmarks/bench_thesis.py [--subset N] [--max-tokens 96] [--top-k 2] [--verbose] [--json out.json]
                                       [--adapter path/to/other-lora.gguf]

--adapter evaluates another GGUF LoRA in the fine-tuned slot (default: the committed one). A per-kind table
(price / spec / policy) gives, for every configuration, the share of answers with the current value and with
last season's (stale) value, each with its Wilson interval.
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
from ragft.evaluation.stats import wilson  # noqa: E402
from ragft.paths import DEFAULT_ADAPTER  # noqa: E402
from ragft.settings import Settings  # noqa: E402

ALL = ["base", "base_rag", "ft", "ft_rag"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=int, default=None, help="only N questions (round-robin over kinds)")
    ap.add_argument("--max-tokens", type=int, default=Settings().max_tokens)
    ap.add_argument("--top-k", type=int, default=Settings().top_k)
    ap.add_argument("--configs", default=",".join(ALL))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="also write the full results as JSON")
    ap.add_argument("--adapter", type=Path, default=None, help="GGUF LoRA for the fine-tuned slot (default: shipped)")
    args = ap.parse_args()
    adapter = args.adapter.resolve() if args.adapter else DEFAULT_ADAPTER

    qs = EV.default_question_set().subset(args.subset)
    keys = [k.strip() for k in args.configs.split(",") if k.strip()]
    print(
        f"# bench_thesis: {len(qs)} questions × {len(keys)} configurations · max_tokens {args.max_tokens} · "
        f"top-k {args.top_k} · temperature 0 · adapter "
        f"{adapter.name if adapter.is_file() else 'MISSING (fine-tuned rows will error)'}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-thesis-") as tmp:
        s = Settings(data_dir=Path(tmp)).with_(top_k=args.top_k, max_tokens=args.max_tokens)
        if args.adapter:
            s = s.with_(finetuned=dataclasses.replace(s.finetuned, lora_path=str(adapter)))
        t0 = time.perf_counter()
        model_for, retrieve, desc = EV.standalone_wiring(s, keys)
        print(f"# retrieval: {desc} (ready in {time.perf_counter() - t0:.1f} s)")
        ev = EV.Evaluation.new(qs, keys)
        last_q = 0
        for p in EV.run_evaluation(
            ev,
            model_for=model_for,
            retrieve=retrieve,
            system_prompt=s.system_prompt,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_k=s.top_k,
        ):
            if p.question_index != last_q:
                last_q = p.question_index
                print(
                    f"  question {p.question_index}/{len(qs)} ({time.perf_counter() - t0:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
            if args.verbose:
                r = p.record
                print(
                    f"  {r.configuration:8s} {r.question_id:26s} facts {r.fact_score:.0%} style {r.style_ok} "
                    f"hit {r.hit}/{r.page_hit} stale {list(r.stale_found)} {r.error or ''} :: "
                    f"{' / '.join(r.answer.splitlines())[:140]}"
                )
        summaries = ev.summaries()
        print()
        print(EV.format_table(summaries))
        print()
        print("| configuration | page hit@k | stale answers | tokens/question | first token ms | errors |")
        print("|---|---|---|---|---|---|")
        for x in summaries:
            print(
                f"| {x.label} | {x.interval('page_hit_at_k').pct()} | {x.interval('stale_rate').pct()} | "
                f"{x.interval('tokens_per_question').scaled(1)} | {EV.ms(x.interval('mean_ttft_s'))} | "
                f"{x.errors}/{x.questions} |"
            )
        print()
        print(by_kind(ev.records, qs))
        pairs = [
            (a, b)
            for a, b in (("base_rag", "ft_rag"), ("base", "base_rag"), ("ft", "ft_rag"), ("base", "ft"))
            if a in keys and b in keys
        ]
        if pairs:
            facts = [EV.compare_records(ev.records, a, b, "facts") for a, b in pairs]
            style = [EV.compare_records(ev.records, a, b, "style") for a, b in pairs]
            print()
            print(EV.format_paired(facts + style))
            print()
            for c in facts[:1] + style[:1]:
                print(f"# {c.sentence()}")
        print(f"\n# wall time {ev.wall_s:.0f} s for {len(qs)} questions")
        if args.json:
            args.json.write_text(EV.to_json(ev))
            print(f"# results written to {args.json}")
    return 0


def by_kind(records, qs) -> str:
    """Per question kind and configuration: answers with the current value / with last season's value."""
    kind = {q.id: q.kind or "other" for q in qs.questions}
    labels: dict[str, str] = {}
    cells: dict[tuple[str, str], list] = {}
    for r in records:
        labels.setdefault(r.configuration, r.label)
        for k in (kind.get(r.question_id, "other"), "all"):
            cells.setdefault((r.configuration, k), []).append(r)
    kinds = [k for k in ("price", "spec", "policy", "all") if any(c[1] == k for c in cells)]
    lines = ["| configuration | kind | current value | stale value (last season) |", "|---|---|---|---|"]
    for cfg, label in labels.items():
        for k in kinds:
            rs = cells.get((cfg, k), [])
            cur = sum(1 for r in rs if not r.error and r.fact_score >= 1.0)
            stale = sum(1 for r in rs if not r.error and r.stale_found)
            lines.append(
                f"| {label} | {k} | {cur}/{len(rs)} = {wilson(cur, len(rs)).pct()} | "
                f"{stale}/{len(rs)} = {wilson(stale, len(rs)).pct()} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
