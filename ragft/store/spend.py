"""Money in the class database: spend per workspace and app-wide by who paid, in-flight reservations,
per-workspace caps, and the budget's events (resets).

Who paid (``payer``): :data:`SERVER` (the facilitator's key: what the facilitator's caps count), :data:`OWN` (the
participant's own key or endpoint: their own cap), :data:`HYPOTHETICAL` (a price given to a free call, "what
would this cost hosted": shown, never counted against a cap).

The functions taking a ``conn`` run inside the caller's transaction (:meth:`ClassStore.write`), so the
budget can read, check and write in one ``BEGIN IMMEDIATE``; the others open their own.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ragft.store.db import ClassStore, Conn

APP = "*"  # the spend row of the whole app
SERVER = "server"
OWN = "own"
HYPOTHETICAL = "hypothetical"
PAYERS = (SERVER, OWN, HYPOTHETICAL)
ZERO = Decimal(0)
HOST = socket.gethostname()


def money(value: object, default: Decimal = ZERO) -> Decimal:
    """A stored amount as Decimal (NULL or garbage → ``default``)."""
    if value is None:
        return default
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default
    return out if out.is_finite() else default


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- inside a transaction ----------------------------------------------------------------------------
def prune_reservations(conn: Conn, stale_after_s: float, now: float | None = None) -> int:
    """Drop reservations past their expiry (without one: older than ``stale_after_s``) or held by a dead process
    of this host."""
    now = time.time() if now is None else now
    dropped = conn.execute("DELETE FROM reservations WHERE COALESCE(expires, t + ?) < ?", (stale_after_s, now)).rowcount
    for rid, pid in conn.execute("SELECT id, pid FROM reservations WHERE host = ?", (HOST,)).fetchall():
        if not pid_alive(int(pid)):
            conn.execute("DELETE FROM reservations WHERE id = ?", (rid,))
            dropped += 1
    return dropped


def _payer(payer: str) -> str:
    if payer not in PAYERS:
        raise ValueError(f"unknown payer {payer!r}")
    return payer


def spent(conn: Conn, scope: str, payer: str = SERVER) -> tuple[Decimal, int]:
    """(money, calls) of one scope paid by ``payer``."""
    row = conn.execute(
        "SELECT spent, calls FROM spend WHERE scope = ? AND payer = ?", (scope, _payer(payer))
    ).fetchone()
    return (money(row[0]), int(row[1])) if row else (ZERO, 0)


def reserved(conn: Conn, workspace_id: str | None = None, payer: str = SERVER) -> Decimal:
    """Money in flight paid by ``payer``, app-wide (``None``) or for one workspace."""
    if workspace_id is None:
        rows = conn.execute("SELECT amount FROM reservations WHERE payer = ?", (_payer(payer),)).fetchall()
    else:
        rows = conn.execute(
            "SELECT amount FROM reservations WHERE workspace_id = ? AND payer = ?", (workspace_id, _payer(payer))
        ).fetchall()
    return sum((money(r[0]) for r in rows), ZERO)


def add_reservation(
    conn: Conn,
    rid: str,
    workspace_id: str,
    amount: Decimal,
    payer: str = SERVER,
    expires: float | None = None,
) -> None:
    """Hold ``amount``; ``expires`` (Unix time) is when it may be dropped as stale (None: the pruner's default)."""
    conn.execute(
        "INSERT INTO reservations (id, workspace_id, amount, pid, host, t, payer, expires) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (rid, workspace_id, str(amount), os.getpid(), HOST, time.time(), _payer(payer), expires),
    )


def extend_reservation(conn: Conn, rid: str, expires: float) -> bool:
    """Move a reservation's expiry to ``expires`` (its call is still running); False when it is gone."""
    return conn.execute("UPDATE reservations SET expires = ? WHERE id = ?", (expires, rid)).rowcount > 0


def drop_reservation(conn: Conn, rid: str) -> bool:
    return conn.execute("DELETE FROM reservations WHERE id = ?", (rid,)).rowcount > 0


def add_spend(conn: Conn, scope: str, amount: Decimal, calls: int = 1, payer: str = SERVER) -> None:
    now = time.time()
    total, n = spent(conn, scope, payer)
    conn.execute(
        "INSERT INTO spend (scope, payer, spent, calls, updated) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(scope, payer) DO UPDATE SET spent = excluded.spent, calls = excluded.calls, "
        "updated = excluded.updated",
        (scope, payer, str(total + amount), n + calls, now),
    )


def record_event(conn: Conn, kind: str, scope: str, payer: str = "", amount: Decimal = ZERO, note: str = "") -> None:
    conn.execute(
        "INSERT INTO budget_events (kind, scope, payer, amount, note, t) VALUES (?, ?, ?, ?, ?, ?)",
        (kind, scope, payer, str(amount), note, time.time()),
    )


def caps(conn: Conn, workspace_id: str) -> tuple[Decimal | None, Decimal | None]:
    """(the participant's own cap, the facilitator's cap for this workspace); None where not set."""
    row = conn.execute(
        "SELECT own_cap, facilitator_cap FROM budget_caps WHERE workspace_id = ?", (workspace_id,)
    ).fetchone()
    if row is None:
        return None, None
    return (money(row[0]) if row[0] is not None else None, money(row[1]) if row[1] is not None else None)


def _set_cap(store: ClassStore, workspace_id: str, column: str, cap: Decimal | None) -> None:
    if cap is not None and (not cap.is_finite() or cap < 0):
        raise ValueError("a budget cap cannot be negative")
    with store.write() as conn:
        conn.execute(
            f"INSERT INTO budget_caps (workspace_id, {column}, updated) VALUES (?, ?, ?) "
            f"ON CONFLICT(workspace_id) DO UPDATE SET {column} = excluded.{column}, updated = excluded.updated",
            (workspace_id, None if cap is None else str(cap), time.time()),
        )


# ---- own transactions --------------------------------------------------------------------------------
def set_own_cap(store: ClassStore, workspace_id: str, cap: Decimal | None) -> None:
    """The participant's own cap (the budget never lets it exceed the facilitator's); None removes it."""
    _set_cap(store, workspace_id, "own_cap", cap)


def set_facilitator_cap(store: ClassStore, workspace_id: str, cap: Decimal | None) -> None:
    """A per-workspace cap set by the facilitator, in place of the default; None goes back to the default."""
    _set_cap(store, workspace_id, "facilitator_cap", cap)


def get_caps(store: ClassStore, workspace_id: str) -> tuple[Decimal | None, Decimal | None]:
    with store.read() as conn:
        return caps(conn, workspace_id)


RESET_APP = "reset_app"
RESET_WORKSPACE = "reset_workspace"


def reset_spend(store: ClassStore, workspace_id: str, payer: str = SERVER, note: str = "") -> Decimal:
    """Start a workspace's spend on ``payer`` again at $0 (the app-wide total keeps what was spent); the event is
    recorded. Returns what was cleared."""
    with store.write() as conn:
        before, _ = spent(conn, workspace_id, payer)
        conn.execute("DELETE FROM spend WHERE scope = ? AND payer = ?", (workspace_id, _payer(payer)))
        record_event(conn, RESET_WORKSPACE, workspace_id, payer, before, note)
    return before


def reset_app_spend(store: ClassStore, note: str = "") -> dict[str, Decimal]:
    """Start the app-wide totals (every payer) again at $0; workspaces keep theirs. One event per payer is
    recorded with what it cleared, which is returned."""
    cleared: dict[str, Decimal] = {}
    with store.write() as conn:
        for payer in PAYERS:
            cleared[payer], _ = spent(conn, APP, payer)
        conn.execute("DELETE FROM spend WHERE scope = ?", (APP,))
        for payer, amount in cleared.items():
            record_event(conn, RESET_APP, APP, payer, amount, note)
    return cleared


@dataclass(frozen=True)
class BudgetEvent:
    kind: str
    scope: str
    payer: str
    amount: Decimal
    note: str
    t: float


def budget_events(store: ClassStore, limit: int = 50) -> list[BudgetEvent]:
    """The budget's events, newest first."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT kind, scope, payer, amount, note, t FROM budget_events ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
    return [BudgetEvent(r[0], r[1], r[2], money(r[3]), r[4], float(r[5])) for r in rows]


@dataclass(frozen=True)
class SpendRow:
    scope: str  # APP or a workspace id
    spent: Decimal
    calls: int
    reserved: Decimal
    updated: float
    payer: str = SERVER


def spend_table(store: ClassStore) -> list[SpendRow]:
    """Every spend row (app-wide first, then workspaces by spend, highest first), with money in flight."""
    with store.read() as conn:
        rows = conn.execute("SELECT scope, payer, spent, calls, updated FROM spend").fetchall()
        flight: dict[tuple[str, str], Decimal] = {}
        for ws, payer, amount in conn.execute("SELECT workspace_id, payer, amount FROM reservations").fetchall():
            flight[(ws, payer)] = flight.get((ws, payer), ZERO) + money(amount)
            flight[(APP, payer)] = flight.get((APP, payer), ZERO) + money(amount)
    out = [SpendRow(r[0], money(r[2]), int(r[3]), flight.get((r[0], r[1]), ZERO), float(r[4]), r[1]) for r in rows]
    out.sort(key=lambda r: (r.scope != APP, PAYERS.index(r.payer) if r.payer in PAYERS else 9, -r.spent))
    return out
