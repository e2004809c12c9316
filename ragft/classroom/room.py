"""One snapshot of the room for the Facilitator page: participants (anonymous labels), their questions, spend
by who paid (the server's key against the facilitator's caps, their own key, hypothetical prices of free calls),
what each runs now (in this app process or another on the host, from the class database), app-wide spend split the
same way, the budget's recent events (resets), and the model queue (who waits, how long).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from ragft.classroom import pause, tracking
from ragft.models import fair
from ragft.runs import RunRegistry
from ragft.store import records as R
from ragft.store import spend as S
from ragft.store import workspaces as W
from ragft.store.db import ClassStore


@dataclass(frozen=True)
class RunNow:
    run_id: str
    kind: str
    what: str
    elapsed_s: float
    stopping: bool


@dataclass(frozen=True)
class Participant:
    workspace_id: str
    label: str
    questions: int
    spent: Decimal  # on the server's key
    cap: Decimal | None  # the facilitator's cap for this participant
    last_seen_s: float
    running: tuple[RunNow, ...]
    own_spent: Decimal = Decimal(0)  # on their own key (their own cap, if any)
    own_cap: Decimal | None = None
    hypothetical: Decimal = Decimal(0)  # free calls at prices they gave them: not paid by anyone


@dataclass(frozen=True)
class QueueRow:
    label: str
    stage: str
    ahead: int
    waited_s: float


@dataclass(frozen=True)
class Room:
    participants: tuple[Participant, ...]
    app_spent: Decimal  # on the server's key: what the app-wide cap counts
    app_cap: Decimal | None
    queue: tuple[QueueRow, ...]
    paused: bool
    avg_generation_s: float | None
    app_own_spent: Decimal = Decimal(0)
    app_hypothetical: Decimal = Decimal(0)
    events: tuple[S.BudgetEvent, ...] = ()


def snapshot(
    store: ClassStore,
    runs: RunRegistry,
    *,
    app_cap: Decimal | None,
    participant_cap: Decimal | None,
    seen_within_s: float = 4 * 3600,
) -> Room:
    now = time.time()
    spaces = [w for w in W.list_workspaces(store) if now - w.last_seen <= seen_within_s]
    labels = {w.id: w.label for w in W.list_workspaces(store, include_deleted=True)}
    asked = R.questions_asked(store)
    spent = {(row.scope, row.payer): row.spent for row in S.spend_table(store)}
    zero = Decimal(0)
    active = runs.active()
    local = {r.id for r in active}
    elsewhere = [row for row in R.running(store) if row.run_id not in local]  # runs of other app processes
    people = []
    for w in spaces:
        own, per_ws = S.get_caps(store, w.id)
        cap = per_ws if per_ws is not None else participant_cap
        mine = tuple(RunNow(r.id, r.kind, r.what, r.elapsed_s, r.cancelled) for r in active if r.owner == w.id) + tuple(
            RunNow(row.run_id, row.kind, row.detail, now - row.started, tracking.stop_requested(store, row.run_id))
            for row in elsewhere
            if row.workspace_id == w.id
        )
        people.append(
            Participant(
                w.id,
                w.label,
                asked.get(w.id, 0),
                spent.get((w.id, S.SERVER), zero),
                cap,
                now - w.last_seen,
                mine,
                own_spent=spent.get((w.id, S.OWN), zero),
                own_cap=own,
                hypothetical=spent.get((w.id, S.HYPOTHETICAL), zero),
            )
        )
    queue = tuple(
        QueueRow(
            labels.get(q.owner, "(no workspace)" if not q.owner else "another participant"),
            q.stage,
            q.ahead,
            q.waited_s,
        )
        for q in fair.waiting()
    )
    return Room(
        tuple(people),
        spent.get((S.APP, S.SERVER), zero),
        app_cap,
        queue,
        pause.is_paused(),
        fair.TOKEN_STEP.avg_turn_s,
        app_own_spent=spent.get((S.APP, S.OWN), zero),
        app_hypothetical=spent.get((S.APP, S.HYPOTHETICAL), zero),
        events=tuple(S.budget_events(store, limit=20)),
    )
