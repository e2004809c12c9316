"""Scoring overhead per answer against generation time, and groundedness of the RAG answers.

Reads the answers of a bench_thesis run (``python benchmarks/bench_thesis.py --json run.json``) and, for every
answer, times what scoring adds after generation: the offline groundedness check (figures and named entities
against the retrieved context) and the whole scorer (facts, stale facts, style, groundedness). Each is repeated
``--repeat`` times and the per-answer median is compared with the median generation time of the same answers
(goal: groundedness ≤ 1% of generation). Then it prints groundedness per RAG configuration with its 95% interval,
and re-derives the paired comparison of fine-tuned + RAG against base + RAG from the saved answers.

Run: python benchmarks/bench_grounding.py run.json [--repeat 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft import evaluation as EV  # noqa: E402
from ragft.evaluation.grounding import check_groundedness  # noqa: E402
from ragft.evaluation.scoring import score_facts, score_style  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="JSON written by bench_thesis.py --json (or a run exported by the page)")
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    data = json.loads(args.run.read_text())
    records = [EV.EvalRecord.from_dict(r) for r in data["records"]]
    questions = {q.id: q for q in EV.default_question_set().questions}
    answered = [r for r in records if not r.error and r.total_s]
    ground_s, score_s, gen_s = [], [], []
    for r in answered:
        q = questions.get(r.question_id)
        ctx = [c.text for c in r.sources]
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            if r.rag:
                check_groundedness(r.answer, ctx, r.question)
        t1 = time.perf_counter()
        for _ in range(args.repeat):
            score_facts(r.answer, r.expected_facts, q.stale_facts if q else ())
            score_style(r.answer, q.expected_style if q else "brand")
            if r.rag:
                check_groundedness(r.answer, ctx, r.question)
        t2 = time.perf_counter()
        if r.rag:
            ground_s.append((t1 - t0) / args.repeat)
        score_s.append((t2 - t1) / args.repeat)
        gen_s.append(float(r.total_s or 0))
        if r.rag:  # the saved run may predate the groundedness fields: recompute them
            g = check_groundedness(r.answer, ctx, r.question)
            r.claims_stated, r.claims_supported, r.unsupported_claims = g.stated, g.supported, g.unsupported
    gen = statistics.median(gen_s)
    g_med, s_med = statistics.median(ground_s or [0.0]), statistics.median(score_s)
    print(f"# bench_grounding: {len(answered)} answers from {args.run.name} · {args.repeat} repeats each")
    print()
    print("| what | median per answer | share of median generation time |")
    print("|---|---|---|")
    print(f"| generation (the run's total per answer) | {gen * 1000:,.0f} ms | 100% |")
    print(f"| groundedness check (RAG answers) | {g_med * 1e6:,.0f} µs | {g_med / gen * 100:.4f}% |")
    print(f"| all scoring (facts, stale, style, groundedness) | {s_med * 1e6:,.0f} µs | {s_med / gen * 100:.4f}% |")
    print(
        f"| groundedness, slowest answer | {max(ground_s or [0.0]) * 1e6:,.0f} µs | "
        f"{max(ground_s or [0.0]) / gen * 100:.4f}% |"
    )
    configs = list(dict.fromkeys(r.configuration for r in records))
    print()
    print("| configuration | grounded (figures and names found in the context) | answers with an unsupported claim |")
    print("|---|---|---|")
    for k in configs:
        s = EV.summarise(records, k)
        if s.interval("groundedness").n:
            rag = [r for r in records if r.configuration == k and r.claims_stated]
            bad = EV.wilson(sum(1 for r in rag if r.unsupported_claims), len(rag))
            print(f"| {s.label} | {s.interval('groundedness').pct()} | {bad.pct()} |")
    if "base_rag" in configs and "ft_rag" in configs:
        print()
        cmp = [EV.compare_records(records, "base_rag", "ft_rag", m) for m in ("facts", "style")]
        print(EV.format_paired(cmp))
        print(f"\n# {cmp[0].sentence()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
