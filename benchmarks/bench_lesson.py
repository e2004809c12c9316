"""The lesson's two new measurements, through the app's own path (``run_evaluation``, the Evaluate page's scorers):

- ``tickets``: the 80 held-out support tickets (``assets/adapter/tickets-questions.jsonl``) through every
  configuration, the tickets adapter in the fine-tuned slot, the tickets preset's system prompt, and the
  prompted configurations' examples from the adapter's own training set (``assets/training/tickets.jsonl``).
  Prints category and priority accuracy and JSON validity with 95% Wilson intervals, the confusion table of the
  category for every configuration, and the paired comparison (exact McNemar) of the category.
- ``voice``: the 34 shipped questions through the prompted configurations (the brand-voice adapter's training
  set as examples), facts, style and last season's value, to set beside ``bench_thesis.py``.

This is an accuracy benchmark (rates, not times); ``ms/question`` is printed only as a rough figure.

Run: python benchmarks/bench_lesson.py tickets [--subset N] [--configs base,ft,...] [--adapter x.gguf] [--k 6]
     python benchmarks/bench_lesson.py voice [--subset N] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft import evaluation as EV  # noqa: E402
from ragft.evaluation.stats import wilson  # noqa: E402
from ragft.paths import ADAPTER_DIR, DEFAULT_ADAPTER  # noqa: E402
from ragft.settings import Settings  # noqa: E402
from ragft.training.presets import PRESETS, preset_fewshot  # noqa: E402

TICKETS = ["base", "base_prompt", "base_nearest", "base_rag", "base_prompt_rag", "ft", "ft_rag"]
VOICE = ["base_prompt", "base_prompt_rag", "base_nearest"]


def pct(iv) -> str:
    return iv.pct() if iv.n else "—"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["tickets", "voice"])
    ap.add_argument("--subset", type=int, default=None)
    ap.add_argument("--configs", default=None)
    ap.add_argument("--adapter", type=Path, default=None)
    ap.add_argument("--k", type=int, default=6, help="examples in the prompted configurations")
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    tickets = args.what == "tickets"
    keys = [k.strip() for k in (args.configs or ",".join(TICKETS if tickets else VOICE)).split(",") if k.strip()]
    qs = (EV.tickets_question_set() if tickets else EV.default_question_set()).subset(args.subset)
    preset = PRESETS["tickets" if tickets else "brandvoice"]
    adapter = (args.adapter or (ADAPTER_DIR / preset.adapter_file if tickets else DEFAULT_ADAPTER)).resolve()
    fewshot = preset_fewshot(preset.key, k=args.k)
    system = preset.default_system if tickets else Settings().system_prompt
    max_tokens = args.max_tokens or (64 if tickets else Settings().max_tokens)
    print(
        f"# bench_lesson {args.what}: {len(qs)} questions × {len(keys)} configurations · k {fewshot.k} examples "
        f"from {fewshot.source} · adapter {adapter.name} · max_tokens {max_tokens} · temperature 0 · "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-lesson-") as tmp:
        s = Settings(data_dir=Path(tmp)).with_(max_tokens=max_tokens)
        s = s.with_(finetuned=dataclasses.replace(s.finetuned, lora_path=str(adapter)))
        model_for, retrieve, desc = EV.standalone_wiring(s, keys)
        print(f"# retrieval: {desc}")
        ev = EV.Evaluation.new(qs, keys)
        t0 = time.perf_counter()
        last = 0
        for p in EV.run_evaluation(
            ev,
            model_for=model_for,
            retrieve=retrieve,
            system_prompt=system,
            max_tokens=max_tokens,
            temperature=0.0,
            top_k=s.top_k,
            fewshot=fewshot,
        ):
            if p.question_index != last:
                last = p.question_index
                print(f"  question {last}/{len(qs)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
            if args.verbose:
                r = p.record
                print(
                    f"  {r.configuration:16s} {r.question_id} {r.fields} :: {' / '.join(r.answer.splitlines())[:120]}"
                )
    records = ev.records
    summaries = {x.configuration: x for x in ev.summaries()}
    print()
    if tickets:
        print("| configuration | category | priority | valid JSON | schema | prompt tokens/question | errors |")
        print("|---|---|---|---|---|---|---|")
        for k in keys:
            x = summaries[k]
            cat = EV.field_accuracy(records, k, "category")
            pri = EV.field_accuracy(records, k, "priority")
            valid = EV.json_validity(records, k)
            print(
                f"| {x.label} | {cat.correct}/{cat.n} = {pct(cat.interval)} | {pri.correct}/{pri.n} = "
                f"{pct(pri.interval)} | {valid.correct}/{valid.n} = {pct(valid.interval)} | "
                f"{pct(x.interval('style_adherence'))} | {x.prompt_tokens_per_question:.0f} | {x.errors} |"
            )
        for k in keys:
            c = EV.confusion(records, k, "category")
            print(f"\n## category confusion: {summaries[k].label} (rows expected, columns predicted)\n")
            print("| expected | " + " | ".join(c.predicted) + " |")
            print("|---|" + "---|" * len(c.predicted))
            for row in c.rows():
                print(f"| {row['expected']} | " + " | ".join(str(row[p]) for p in c.predicted) + " |")
        pairs = [
            (a, b)
            for a, b in (("base", "ft"), ("base_prompt", "ft"), ("base_nearest", "ft"))
            if a in keys and b in keys
        ]
        if pairs:
            print()
            print(EV.format_paired([EV.compare_records(records, a, b, "field:category") for a, b in pairs]))
    else:
        print("| configuration | fact accuracy | style | stale (last season) | prompt tokens/question | errors |")
        print("|---|---|---|---|---|---|")
        for k in keys:
            x = summaries[k]
            stale = sum(1 for r in records if r.configuration == k and r.stale_found)
            n = sum(1 for r in records if r.configuration == k)
            print(
                f"| {x.label} | {pct(x.interval('fact_accuracy'))} | {pct(x.interval('style_adherence'))} | "
                f"{stale}/{n} = {wilson(stale, n).pct()} | {x.prompt_tokens_per_question:.0f} | {x.errors} |"
            )
    print(f"\n# wall {ev.wall_s:.0f} s · load average {os.getloadavg()[0]:.1f} (a loaded machine: times are rough)")
    if args.json:
        args.json.write_text(EV.to_json(ev))
        print(f"# results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
