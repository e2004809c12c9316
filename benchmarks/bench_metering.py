"""Metering overhead per streamed token, beside generation time, measured in the same run.

    python benchmarks/bench_metering.py [--tokens 96] [--rounds 3]

Prints:
1. generation time per token of the embedded model (SmolLM2-135M, llama.cpp), bare ``model.stream``;
2. the same through ``MeteredCall`` (budget reserve/settle, live partial, ledger record);
3. the metering work alone per token: ``MeteredCall`` over a pre-recorded token stream (no model), minus
   the bare stream over the same tokens; this is the number that matters, since (1) vs (2) is within the
   noise of generation;
4. per-call costs that do not grow with tokens: budget reserve + settle (file lock + JSON write), the price
   lookup, and ``ledger.totals()`` with 1,000 calls recorded (what the sidebar meter reads on each redraw).
The ratio (3) / (1) is the overhead as a fraction of generation time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.costs.budget import Budget  # noqa: E402
from ragft.costs.ledger import CallRecord, SessionLedger  # noqa: E402
from ragft.costs.metering import MeteredCall  # noqa: E402
from ragft.costs.prices import cost_of, price_for  # noqa: E402
from ragft.models.chat import ChatStream, make_chat_model  # noqa: E402
from ragft.models.usage import Usage  # noqa: E402
from ragft.settings import EMBEDDED_BASE_MODEL, EndpointConfig  # noqa: E402

MESSAGES = build_messages("Write a long paragraph about camping tents, their fabrics and how to pitch them.")


class ReplayModel:
    """Replays recorded pieces as a ChatStream: the metering path without the cost of generation."""

    provider = "openai"
    model_id = "gpt-4o-mini"

    def __init__(self, pieces: list[str], prompt_tokens: int) -> None:
        self.pieces = pieces
        self.prompt_tokens = prompt_tokens

    def count_prompt_tokens(self, messages) -> int:
        return self.prompt_tokens

    def count_tokens(self, text: str) -> int:
        return len(self.pieces)

    def stream(self, messages, *, max_tokens: int, temperature: float) -> ChatStream:
        usage = Usage(self.prompt_tokens, len(self.pieces), 0, exact=True)
        return ChatStream(iter([*self.pieces, usage]), lambda text: usage)


def per_token(seconds: float, tokens: int) -> float:
    return seconds / max(1, tokens)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replays", type=int, default=300)
    args = ap.parse_args()

    model = make_chat_model(EndpointConfig(provider="embedded", model=EMBEDDED_BASE_MODEL))
    data = Path(tempfile.mkdtemp(prefix="bench-metering-"))
    budget = Budget(data, app_cap=Decimal("1000"), participant_cap=Decimal("1000"))
    ledger = SessionLedger()
    over = {EMBEDDED_BASE_MODEL: ("0.15", "0.60")}  # priced like gpt-4o-mini so every path computes dollars

    # warm-up (loads the model, fills caches)
    model.stream(MESSAGES, max_tokens=8, temperature=0.0).consume()

    bare, metered, pieces = [], [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        s = model.stream(MESSAGES, max_tokens=args.tokens, temperature=0.0)
        got = list(s)
        bare.append(per_token(time.perf_counter() - t, len(got)))
        pieces = got
        t = time.perf_counter()
        call = MeteredCall(
            model,
            MESSAGES,
            ledger=ledger,
            budget=budget,
            configuration="base",
            max_tokens=args.tokens,
            price_overrides=over,
        )
        n = sum(1 for _ in call)
        metered.append(per_token(time.perf_counter() - t, n))
    gen = statistics.median(bare)
    print(
        f"embedded generation: {len(pieces)} tokens/answer, median {gen * 1e3:.2f} ms/token "
        f"({1 / gen:.0f} tokens/s) bare; {statistics.median(metered) * 1e3:.2f} ms/token metered "
        f"(end-to-end, within generation noise: {min(bare) * 1e3:.2f}-{max(bare) * 1e3:.2f} ms bare)"
    )

    # Metering alone: replay the recorded tokens with and without MeteredCall.
    replay = ReplayModel(pieces * 10, prompt_tokens=40)  # ~10x longer answers for a steadier per-token figure
    n_tok = len(replay.pieces)
    ledger2 = SessionLedger()
    price = price_for("gpt-4o-mini")

    def run_bare() -> float:
        t = time.perf_counter()
        for _ in replay.stream(MESSAGES, max_tokens=n_tok, temperature=0.0):
            pass
        return time.perf_counter() - t

    def run_metered(with_budget: bool) -> float:
        t = time.perf_counter()
        for _ in MeteredCall(
            replay,
            MESSAGES,
            ledger=ledger2,
            budget=budget if with_budget else None,
            configuration="base",
            max_tokens=n_tok,
            price=price,
        ):
            pass
        return time.perf_counter() - t

    b = statistics.median(run_bare() for _ in range(args.replays))
    m = statistics.median(run_metered(False) for _ in range(args.replays))
    mb = statistics.median(run_metered(True) for _ in range(max(20, args.replays // 5)))
    per_tok = max(0.0, (m - b) / n_tok)
    print(
        f"metering per token (live partial + bookkeeping, no budget): {per_tok * 1e6:.2f} µs "
        f"over {n_tok}-token replays (bare replay {b / n_tok * 1e6:.2f} µs/token)"
    )
    print(f"per call, independent of length: budget reserve+settle+record {max(0.0, mb - m) * 1e3:.3f} ms")
    print(f"RATIO metering/generation per token: {per_tok / gen:.5f} ({per_tok / gen * 100:.3f}% of generation time)")
    budget_per_token_equiv = max(0.0, mb - m) / max(1, len(pieces))
    print(
        f"RATIO incl. budget file lock amortised over a {len(pieces)}-token answer: "
        f"{(per_tok + budget_per_token_equiv) / gen:.5f}"
    )

    # What the sidebar meter reads on each redraw.
    big = SessionLedger()
    for i in range(1000):
        u = Usage(500 + i, 100)
        big.record(CallRecord("gpt-4o-mini", "openai", "base", u, cost_of(u, price), question_id=f"q{i // 4}"))
    big.begin_live("live", "gpt-4o-mini", "base", price=price, prompt_tokens=500)
    t = time.perf_counter()
    for _ in range(50):
        big.totals()
        big.last_question()
    read = (time.perf_counter() - t) / 50
    t = time.perf_counter()
    for _ in range(2000):
        price_for("ft:gpt-4o-mini-2024-07-18:acme::x")
    look = (time.perf_counter() - t) / 2000
    print(
        f"meter read with 1,000 calls recorded (totals + last question): {read * 1e3:.2f} ms; "
        f"price lookup (cached): {look * 1e6:.1f} µs"
    )


if __name__ == "__main__":
    main()
