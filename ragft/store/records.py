"""Class records in the class database: blind votes, evaluation run summaries, questions asked, what is running.

Each writer is one short transaction; each reader returns plain frozen values for the Facilitator page.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ragft.store.db import ClassStore
from ragft.store.spend import HOST, money, pid_alive


# ---- blind votes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vote:
    workspace_id: str
    comparison_id: str
    winner: str
    shown: tuple[str, ...]
    question: str
    t: float


def record_vote(
    store: ClassStore, workspace_id: str, comparison_id: str, winner: str, shown: Sequence[str], question: str = ""
) -> bool:
    """One vote per workspace and comparison; False when that round already had a vote."""
    if winner not in shown:
        raise ValueError("the winner must be one of the configurations shown")
    with store.write() as conn:
        cur = conn.execute(
            "INSERT INTO votes (workspace_id, comparison_id, winner, shown, question, t) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (workspace_id, comparison_id, winner, ",".join(shown), question, time.time()),
        )
        return cur.rowcount > 0


def votes(store: ClassStore, workspace_id: str | None = None) -> list[Vote]:
    """Every vote (or one workspace's), oldest first."""
    sql = "SELECT workspace_id, comparison_id, winner, shown, question, t FROM votes"
    args: tuple = ()
    if workspace_id is not None:
        sql, args = sql + " WHERE workspace_id = ?", (workspace_id,)
    with store.read() as conn:
        rows = conn.execute(sql + " ORDER BY t, id", args).fetchall()
    return [Vote(r[0], r[1], r[2], tuple(x for x in r[3].split(",") if x), r[4], float(r[5])) for r in rows]


# ---- evaluation runs ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalSummaryRow:
    run_id: str
    workspace_id: str
    configuration: str
    question_set: str
    questions: int
    errors: int
    fact_accuracy: float
    style: float | None
    hit_at_k: float | None
    cost: Decimal | None
    summary: Mapping[str, Any]
    t: float


def record_eval_summaries(
    store: ClassStore, run_id: str, workspace_id: str, question_set: str, summaries: Sequence[Mapping[str, Any]]
) -> None:
    """Store a finished run's per-configuration summaries (``ConfigSummary.to_dict()``); replaces a rerun's."""
    now = time.time()
    with store.write() as conn:
        conn.execute("DELETE FROM eval_summaries WHERE run_id = ?", (run_id,))
        for s in summaries:
            cost = s.get("total_cost_usd")
            conn.execute(
                "INSERT INTO eval_summaries (run_id, workspace_id, configuration, question_set, questions, errors, "
                "fact_accuracy, style, hit_at_k, cost, summary_json, t) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    workspace_id,
                    str(s["configuration"]),
                    question_set,
                    int(s.get("questions", 0)),
                    int(s.get("errors", 0)),
                    float(s.get("fact_accuracy", 0.0)),
                    s.get("style_adherence"),
                    s.get("hit_at_k"),
                    None if cost is None else str(cost),
                    json.dumps(dict(s), default=str),
                    now,
                ),
            )


def eval_summaries(store: ClassStore, workspace_id: str | None = None) -> list[EvalSummaryRow]:
    sql = (
        "SELECT run_id, workspace_id, configuration, question_set, questions, errors, fact_accuracy, style, "
        "hit_at_k, cost, summary_json, t FROM eval_summaries"
    )
    args: tuple = ()
    if workspace_id is not None:
        sql, args = sql + " WHERE workspace_id = ?", (workspace_id,)
    with store.read() as conn:
        rows = conn.execute(sql + " ORDER BY t, run_id, configuration", args).fetchall()
    return [
        EvalSummaryRow(
            r[0],
            r[1],
            r[2],
            r[3],
            int(r[4]),
            int(r[5]),
            float(r[6]),
            r[7],
            r[8],
            money(r[9]) if r[9] is not None else None,
            json.loads(r[10]),
            float(r[11]),
        )
        for r in rows
    ]


# ---- questions asked ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionCount:
    question: str
    count: int
    workspaces: int


def record_question(store: ClassStore, workspace_id: str, question: str, page: str = "compare") -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO questions (workspace_id, question, page, t) VALUES (?, ?, ?, ?)",
            (workspace_id, question, page, time.time()),
        )


def questions_asked(store: ClassStore) -> dict[str, int]:
    """Questions asked per workspace."""
    with store.read() as conn:
        rows = conn.execute("SELECT workspace_id, COUNT(*) FROM questions GROUP BY workspace_id").fetchall()
    return {r[0]: int(r[1]) for r in rows}


def top_questions(store: ClassStore, limit: int = 10) -> list[QuestionCount]:
    """The most asked questions (same text after trimming and lower-casing)."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT MIN(question), COUNT(*), COUNT(DISTINCT workspace_id) FROM questions "
            "GROUP BY lower(trim(question)) ORDER BY COUNT(*) DESC, MIN(t) LIMIT ?",
            (limit,),
        ).fetchall()
    return [QuestionCount(r[0], int(r[1]), int(r[2])) for r in rows]


# ---- what is running ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunningRow:
    run_id: str
    workspace_id: str
    kind: str
    detail: str
    started: float
    heartbeat: float
    pid: int
    host: str


def start_running(store: ClassStore, run_id: str, workspace_id: str, kind: str, detail: str = "") -> None:
    now = time.time()
    with store.write() as conn:
        conn.execute(
            "INSERT INTO running (run_id, workspace_id, kind, detail, started, heartbeat, pid, host) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET workspace_id = excluded.workspace_id, "
            "kind = excluded.kind, detail = excluded.detail, started = excluded.started, "
            "heartbeat = excluded.heartbeat, pid = excluded.pid, host = excluded.host",
            (run_id, workspace_id, kind, detail, now, now, os.getpid(), HOST),
        )


def heartbeat(store: ClassStore, run_id: str, detail: str | None = None) -> bool:
    """Mark a run alive now (and update its detail); False when it is no longer listed."""
    with store.write() as conn:
        if detail is None:
            cur = conn.execute("UPDATE running SET heartbeat = ? WHERE run_id = ?", (time.time(), run_id))
        else:
            cur = conn.execute(
                "UPDATE running SET heartbeat = ?, detail = ? WHERE run_id = ?", (time.time(), detail, run_id)
            )
        return cur.rowcount > 0


def finish_running(store: ClassStore, run_id: str) -> None:
    with store.write() as conn:
        conn.execute("DELETE FROM running WHERE run_id = ?", (run_id,))


def running(store: ClassStore, *, stale_after_s: float = 120.0) -> list[RunningRow]:
    """What runs now, oldest first; drops rows of dead processes of this host and rows without a recent heartbeat."""
    now = time.time()
    with store.write() as conn:
        conn.execute("DELETE FROM running WHERE heartbeat < ?", (now - stale_after_s,))
        for rid, pid in conn.execute("SELECT run_id, pid FROM running WHERE host = ?", (HOST,)).fetchall():
            if not pid_alive(int(pid)):
                conn.execute("DELETE FROM running WHERE run_id = ?", (rid,))
        rows = conn.execute(
            "SELECT run_id, workspace_id, kind, detail, started, heartbeat, pid, host FROM running ORDER BY started"
        ).fetchall()
    return [RunningRow(r[0], r[1], r[2], r[3], float(r[4]), float(r[5]), int(r[6]), r[7]) for r in rows]
