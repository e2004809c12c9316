"""The class's results from the class database: a leaderboard of configurations from every blind vote, the
pooled thesis table from every evaluation run, the most asked questions, and the class report (Markdown + CSV).

- A vote says the winner beat each other configuration shown in that round (one comparison per pair).
- Win rate = rounds won / rounds shown, with a 95% Wilson score interval (honest at a handful of votes).
- Bradley-Terry strengths from the pairwise wins (Hunter's MM algorithm, a 0.5 pseudo-win each way so a
  configuration that never lost stays finite), reported on the Elo scale: 1000 + 400·log10(strength / mean).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ragft.configs import BY_KEY
from ragft.store.records import EvalSummaryRow, QuestionCount, Vote
from ragft.text import csv_row, inline

Z95 = 1.959963984540054


def wilson(wins: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``wins`` out of ``n`` (0..1); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pair_wins(votes: Iterable[Vote]) -> dict[tuple[str, str], int]:
    """(winner, loser) -> times; each vote beats every other configuration shown in its round."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for v in votes:
        for other in v.shown:
            if other != v.winner:
                out[(v.winner, other)] += 1
    return dict(out)


def bradley_terry(
    wins: Mapping[tuple[str, str], int], items: Sequence[str], iterations: int = 200, prior: float = 0.5
) -> dict[str, float]:
    """Elo-scaled Bradley-Terry ratings of ``items`` from pairwise ``wins`` (see the module docstring)."""
    items = list(items)
    if not items:
        return {}
    w: dict[tuple[str, str], float] = defaultdict(float)
    for (a, b), k in wins.items():
        w[(a, b)] += k
    pairs = {frozenset(p) for p in wins if p[0] != p[1]}
    for p in pairs:
        a, b = tuple(p)
        w[(a, b)] += prior
        w[(b, a)] += prior
    strength = {i: 1.0 for i in items}
    for _ in range(iterations):
        new = {}
        for i in items:
            won = sum(w[(i, j)] for j in items if j != i)
            denom = sum((w[(i, j)] + w[(j, i)]) / (strength[i] + strength[j]) for j in items if j != i)
            new[i] = won / denom if denom > 0 and won > 0 else strength[i]
        geo = math.exp(sum(math.log(v) for v in new.values()) / len(new))
        strength = {i: v / geo for i, v in new.items()}
    return {i: 1000 + 400 * math.log10(strength[i]) for i in items}


@dataclass(frozen=True)
class LeaderRow:
    configuration: str
    label: str
    wins: int
    shown: int
    win_rate: float
    low: float
    high: float
    rating: float


def leaderboard(votes: Sequence[Vote]) -> list[LeaderRow]:
    """Configurations by Bradley-Terry rating, highest first."""
    shown: dict[str, int] = defaultdict(int)
    won: dict[str, int] = defaultdict(int)
    for v in votes:
        won[v.winner] += 1
        for k in v.shown:
            shown[k] += 1
    ratings = bradley_terry(pair_wins(votes), sorted(shown))
    rows = []
    for k in shown:
        lo, hi = wilson(won[k], shown[k])
        rows.append(
            LeaderRow(
                k,
                BY_KEY[k].label if k in BY_KEY else k,
                won[k],
                shown[k],
                won[k] / shown[k],
                lo,
                hi,
                ratings.get(k, 1000.0),
            )
        )
    return sorted(rows, key=lambda r: (-r.rating, -r.win_rate, r.configuration))


def votes_per_pair(votes: Sequence[Vote]) -> list[dict[str, object]]:
    """Per unordered pair: rounds where both were shown and one of them won, and how they split."""
    wins = pair_wins(votes)
    out = []
    for pair in sorted({tuple(sorted(p)) for p in wins}):
        a, b = pair
        out.append(
            {
                "pair": f"{a} vs {b}",
                "a": a,
                "b": b,
                "a_won": wins.get((a, b), 0),
                "b_won": wins.get((b, a), 0),
                "votes": wins.get((a, b), 0) + wins.get((b, a), 0),
            }
        )
    return out


@dataclass(frozen=True)
class PooledRow:
    configuration: str
    label: str
    runs: int
    participants: int
    questions: int
    errors: int
    fact_accuracy: float
    style_adherence: float | None
    hit_at_k: float | None
    cost_per_question: Decimal | None


def pooled_thesis(rows: Sequence[EvalSummaryRow]) -> list[PooledRow]:
    """Every evaluation run pooled per configuration, each weighted by its number of questions."""
    by: dict[str, list[EvalSummaryRow]] = defaultdict(list)
    for r in rows:
        by[r.configuration].append(r)
    out = []
    for key, rs in by.items():
        n = sum(r.questions for r in rs)

        def mean(vals: list[tuple[float | None, int]]) -> float | None:
            got = [(v, q) for v, q in vals if v is not None and q]
            total = sum(q for _, q in got)
            return sum(v * q for v, q in got) / total if total else None

        costs = [r.cost for r in rs if r.cost is not None]
        cost = (sum(costs, Decimal(0)) / n) if n and len(costs) == len(rs) else None
        out.append(
            PooledRow(
                key,
                BY_KEY[key].label if key in BY_KEY else key,
                len({r.run_id for r in rs}),
                len({r.workspace_id for r in rs}),
                n,
                sum(r.errors for r in rs),
                mean([(r.fact_accuracy, r.questions) for r in rs]) or 0.0,
                mean([(r.style, r.questions) for r in rs]),
                mean([(r.hit_at_k, r.questions) for r in rs]),
                cost,
            )
        )
    order = list(BY_KEY)
    return sorted(out, key=lambda r: order.index(r.configuration) if r.configuration in order else 99)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _md_cell(text: object) -> str:
    """A report table cell: untrusted text (questions, configuration names) shown as typed, never as Markdown."""
    return inline(text)


def report_markdown(
    board: Sequence[LeaderRow],
    pairs: Sequence[Mapping[str, object]],
    pooled: Sequence[PooledRow],
    questions: Sequence[QuestionCount],
    participants: int,
) -> str:
    total_votes = sum(r.wins for r in board)
    lines = [
        "# Class report: RAG vs fine-tuning",
        "",
        f"Participants: {participants}. Blind votes: {total_votes}.",
        "",
        "## Leaderboard (blind votes)",
        "",
        "| configuration | rating (Bradley-Terry, Elo scale) | win rate | 95% interval | won / shown |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {_md_cell(r.label)} | {r.rating:.0f} | {_pct(r.win_rate)} | {_pct(r.low)}–{_pct(r.high)} | "
        f"{r.wins} / {r.shown} |"
        for r in board
    ] or ["| (no votes yet) | | | | |"]
    lines += ["", "### Votes per pair", "", "| pair | votes | split |", "|---|---|---|"]
    lines += [f"| {_md_cell(p['pair'])} | {p['votes']} | {p['a_won']}–{p['b_won']} |" for p in pairs]
    lines += [
        "",
        "## Pooled evaluation runs (the thesis table)",
        "",
        "| configuration | runs | participants | questions | fact accuracy | style | hit@k | cost / question |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {_md_cell(r.label)} | {r.runs} | {r.participants} | {r.questions} | {_pct(r.fact_accuracy)} | "
        f"{_pct(r.style_adherence)} | {_pct(r.hit_at_k)} | "
        f"{'unknown' if r.cost_per_question is None else f'${r.cost_per_question:.6f}'} |"
        for r in pooled
    ]
    lines += ["", "## Most asked questions", "", "| question | times | participants |", "|---|---|---|"]
    lines += [f"| {_md_cell(q.question)} | {q.count} | {q.workspaces} |" for q in questions]
    return "\n".join(lines) + "\n"


def report_csv(board: Sequence[LeaderRow], pooled: Sequence[PooledRow]) -> str:
    """One table: a row per configuration with its blind-vote and pooled evaluation figures."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "configuration",
            "label",
            "rating",
            "win_rate",
            "win_low95",
            "win_high95",
            "wins",
            "shown",
            "eval_runs",
            "eval_questions",
            "fact_accuracy",
            "style_adherence",
            "hit_at_k",
            "cost_per_question",
        ]
    )
    lb = {r.configuration: r for r in board}
    pl = {r.configuration: r for r in pooled}
    for key in sorted(set(lb) | set(pl), key=lambda k: list(BY_KEY).index(k) if k in BY_KEY else 99):
        b, p = lb.get(key), pl.get(key)
        row = b or p
        w.writerow(
            csv_row(
                [
                    key,
                    row.label if row is not None else key,
                    f"{b.rating:.1f}" if b else "",
                    f"{b.win_rate:.4f}" if b else "",
                    f"{b.low:.4f}" if b else "",
                    f"{b.high:.4f}" if b else "",
                    b.wins if b else "",
                    b.shown if b else "",
                    p.runs if p else "",
                    p.questions if p else "",
                    f"{p.fact_accuracy:.4f}" if p else "",
                    "" if not p or p.style_adherence is None else f"{p.style_adherence:.4f}",
                    "" if not p or p.hit_at_k is None else f"{p.hit_at_k:.4f}",
                    "" if not p or p.cost_per_question is None else str(p.cost_per_question),
                ]
            )
        )
    return buf.getvalue()
