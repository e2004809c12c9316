"""Money in the class database: spend per workspace and app-wide, in-flight reservations, per-workspace caps.

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
    """Drop reservations older than ``stale_after_s`` or held by a dead process of this host."""
    now = time.time() if now is None else now
    dropped = conn.execute("DELETE FROM reservations WHERE t < ?", (now - stale_after_s,)).rowcount
    for rid, pid in conn.execute("SELECT id, pid FROM reservations WHERE host = ?", (HOST,)).fetchall():
        if not pid_alive(int(pid)):
            conn.execute("DELETE FROM reservations WHERE id = ?", (rid,))
            dropped += 1
    return dropped


def spent(conn: Conn, scope: str) -> tuple[Decimal, int]:
    row = conn.execute("SELECT spent, calls FROM spend WHERE scope = ?", (scope,)).fetchone()
    return (money(row[0]), int(row[1])) if row else (ZERO, 0)


def reserved(conn: Conn, workspace_id: str | None = None) -> Decimal:
    """Money in flight, app-wide (``None``) or for one workspace."""
    if workspace_id is None:
        rows = conn.execute("SELECT amount FROM reservations").fetchall()
    else:
        rows = conn.execute("SELECT amount FROM reservations WHERE workspace_id = ?", (workspace_id,)).fetchall()
    return sum((money(r[0]) for r in rows), ZERO)


def add_reservation(conn: Conn, rid: str, workspace_id: str, amount: Decimal) -> None:
    conn.execute(
        "INSERT INTO reservations (id, workspace_id, amount, pid, host, t) VALUES (?, ?, ?, ?, ?, ?)",
        (rid, workspace_id, str(amount), os.getpid(), HOST, time.time()),
    )


def drop_reservation(conn: Conn, rid: str) -> bool:
    return conn.execute("DELETE FROM reservations WHERE id = ?", (rid,)).rowcount > 0


def add_spend(conn: Conn, scope: str, amount: Decimal, calls: int = 1) -> None:
    now = time.time()
    total, n = spent(conn, scope)
    conn.execute(
        "INSERT INTO spend (scope, spent, calls, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(scope) DO UPDATE SET spent = excluded.spent, calls = excluded.calls, updated = excluded.updated",
        (scope, str(total + amount), n + calls, now),
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


def reset_spend(store: ClassStore, workspace_id: str) -> None:
    """Start a workspace's spend again at $0 (the app-wide total keeps what was spent)."""
    with store.write() as conn:
        conn.execute("DELETE FROM spend WHERE scope = ?", (workspace_id,))


@dataclass(frozen=True)
class SpendRow:
    scope: str  # APP or a workspace id
    spent: Decimal
    calls: int
    reserved: Decimal
    updated: float


def spend_table(store: ClassStore) -> list[SpendRow]:
    """Every spend row (app-wide first, then workspaces by spend, highest first), with money in flight."""
    with store.read() as conn:
        rows = conn.execute("SELECT scope, spent, calls, updated FROM spend").fetchall()
        flight: dict[str, Decimal] = {}
        for ws, amount in conn.execute("SELECT workspace_id, amount FROM reservations").fetchall():
            flight[ws] = flight.get(ws, ZERO) + money(amount)
    out = [
        SpendRow(
            r[0],
            money(r[1]),
            int(r[2]),
            sum(flight.values(), ZERO) if r[0] == APP else flight.get(r[0], ZERO),
            float(r[3]),
        )
        for r in rows
    ]
    out.sort(key=lambda r: (r.scope != APP, -r.spent))
    return out
