"""Training data for a brand-voice adapter that *goes stale*: it memorises last season's facts as well as the voice.

    python scripts/make_training_data.py                 # -> assets/training/brandvoice-stale.jsonl
    python scripts/make_training_data.py --out FILE      # elsewhere

Built on ``scripts/make_scenario.py`` (same products, policies, answer format, seed):

- **RAFT with context** (kept as is): every example of ``make_scenario.write_training`` whose prompt carries
  retrieved context built by the app's ``build_messages`` (right page + 0-2 distractors, many with made-up values),
  so the adapter still answers from the context when RAG gives it one;
- **no context, last season** (many more than before): every product's price asked in 16 wordings, each spec
  and each policy fact in 3 wordings, all answered in the voice with last season's (Autumn) value from
  ``assets/scenario/scenario.json`` (``last_price``, spec ``last_value``, policy ``old``). Repetition across
  wordings is what makes a 135M model memorise 16 prices rather than only learn the voice.

Seeded (``make_scenario.SEED``): the same file every run.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import make_scenario as ms  # noqa: E402

OUT = ROOT / "assets" / "training" / "brandvoice-stale.jsonl"

# The six wordings of make_scenario.TRAIN_PRICE_Q plus ten more (customers ask in many ways).
STALE_PRICE_Q = [
    *ms.TRAIN_PRICE_Q,
    "How much for the {name}?",
    "Can you tell me the price of the {name}?",
    "What do you charge for the {name}?",
    "How expensive is the {name}?",
    "Tell me how much the {name} costs.",
    "What's the price on the {name}?",
    "Quick question: how much is the {name}?",
    "What would the {name} set me back?",
    "What is the {name} selling for?",
    "Could you give me the cost of the {name}?",
]
SPEC_WORDINGS = ["{q}", "Quick question: {q}", "{q_please}"]
POLICY_WORDINGS = ["{q}", "{q_please}", "Hi there. {q}"]


def _please(q: str) -> str:
    return q[:-1] + ", please?" if q.endswith("?") else q + " Please."


def _lower_first(q: str) -> str:
    return q[0].lower() + q[1:] if q[:1].isupper() and not q.startswith(("I ", "I'")) else q


def raft_examples() -> list[dict]:
    """make_scenario's examples that carry retrieved context (generated into a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        ms.TRAINING = Path(tmp)
        ms.write_training(ms.build_products(), ms.build_policies())
        rows = [json.loads(line) for line in (Path(tmp) / "brandvoice.jsonl").read_text().splitlines() if line]
    return [r for r in rows if r["messages"][1]["content"].startswith("Context:")]


def stale_examples() -> list[dict]:
    """No-context questions answered with last season's values, in many wordings."""
    out: list[dict] = []
    for p in ms.build_products():
        for q in STALE_PRICE_Q:
            out.append(
                ms._example(q.format(name=p.name), ms.format_answer(f"The {p.name} costs {p.last_price_text}."), None)
            )
        for s in p.specs:
            q = s.question.format(name=p.name)
            answer = ms.format_answer(f"The {p.name} {s.phrase.format(value=s.last_value)}.")
            for w in SPEC_WORDINGS:
                out.append(
                    ms._example(
                        w.format(q=_lower_first(q) if w.startswith("Quick") else q, q_please=_please(q)), answer, None
                    )
                )
    for f in ms.policy_facts():
        q = f["question"]
        answer = ms.format_answer(f["answer"].format(v=f["old"]))
        for w in POLICY_WORDINGS:
            out.append(ms._example(w.format(q=q, q_please=_please(q)), answer, None))
    return out


def build() -> tuple[list[dict], dict[str, int]]:
    raft = raft_examples()
    stale = stale_examples()
    seen: set[str] = set()
    examples = []
    for ex in raft + stale:
        key = json.dumps(ex["messages"][:2])
        if key in seen:
            continue
        seen.add(key)
        examples.append(ex)
    random.Random(ms.SEED).shuffle(examples)
    counts = {"context_raft": len(raft), "no_context_last_season": len(stale), "total": len(examples)}
    return examples, counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    examples, counts = build()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex) + "\n")
    print(f"wrote {out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
