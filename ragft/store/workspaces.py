"""Workspace records in the class database: issued ids, anonymous labels ("Participant 7"), last use, deletion.

Only ids the server issued are registered (see :mod:`ragft.knowledge.workspaces` for signing). Deleting a
workspace removes every record keyed by it in one transaction; its spend can be carried over to the
workspace that replaces it, so deleting a workspace never resets a participant's budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ragft.store.db import ClassStore, Conn
from ragft.store.spend import add_spend, money

# Tables whose rows belong to one workspace (column workspace_id), deleted with it.
OWNED_TABLES = ("reservations", "budget_caps", "votes", "eval_summaries", "questions", "running")


@dataclass(frozen=True)
class WorkspaceRecord:
    id: str
    number: int
    label: str
    created: float
    last_seen: float
    deleted: bool


def _record(row) -> WorkspaceRecord:
    return WorkspaceRecord(row[0], int(row[1]), row[2], float(row[3]), float(row[4]), bool(row[5]))


_COLS = "id, number, label, created, last_seen, deleted"


def register(store: ClassStore, workspace_id: str, *, now: float | None = None) -> WorkspaceRecord:
    """Record a newly issued workspace with the next participant number (idempotent)."""
    now = time.time() if now is None else now
    with store.write() as conn:
        row = conn.execute(f"SELECT {_COLS} FROM workspaces WHERE id = ?", (workspace_id,)).fetchone()
        if row is not None:
            return _record(row)
        return insert(conn, workspace_id, now)


def insert(conn: Conn, workspace_id: str, now: float) -> WorkspaceRecord:
    """Insert a new workspace with the next participant number, inside the caller's write transaction."""
    number = int(conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM workspaces").fetchone()[0])
    conn.execute(
        "INSERT INTO workspaces (id, number, label, created, last_seen, deleted) VALUES (?, ?, ?, ?, ?, 0)",
        (workspace_id, number, f"Participant {number}", now, now),
    )
    return WorkspaceRecord(workspace_id, number, f"Participant {number}", now, now, False)


def live_in(conn: Conn) -> int:
    """Live workspaces, inside the caller's transaction."""
    return int(conn.execute("SELECT COUNT(*) FROM workspaces WHERE deleted = 0").fetchone()[0])


def get(store: ClassStore, workspace_id: str) -> WorkspaceRecord | None:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_COLS} FROM workspaces WHERE id = ?", (workspace_id,)).fetchone()
    return _record(row) if row else None


def touch(store: ClassStore, workspace_id: str, *, now: float | None = None) -> bool:
    """Mark a live workspace as used now; False when it is unknown or deleted."""
    with store.write() as conn:
        return (
            conn.execute(
                "UPDATE workspaces SET last_seen = ? WHERE id = ? AND deleted = 0",
                (time.time() if now is None else now, workspace_id),
            ).rowcount
            > 0
        )


def list_workspaces(store: ClassStore, *, include_deleted: bool = False) -> list[WorkspaceRecord]:
    """Workspaces, most recently seen first."""
    where = "" if include_deleted else "WHERE deleted = 0"
    with store.read() as conn:
        rows = conn.execute(f"SELECT {_COLS} FROM workspaces {where} ORDER BY last_seen DESC").fetchall()
    return [_record(r) for r in rows]


def unused_since(store: ClassStore, cutoff: float) -> list[WorkspaceRecord]:
    """Live or deleted workspaces last seen before ``cutoff`` (Unix seconds)."""
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT {_COLS} FROM workspaces WHERE last_seen < ? ORDER BY last_seen", (cutoff,)
        ).fetchall()
    return [_record(r) for r in rows]


def mark_deleted(store: ClassStore, workspace_id: str) -> None:
    """Flag a workspace as being deleted (its collections are dropped next, then :func:`forget`)."""
    with store.write() as conn:
        conn.execute("UPDATE workspaces SET deleted = 1 WHERE id = ?", (workspace_id,))


def forget(store: ClassStore, workspace_id: str, *, carry_spend_to: str | None = None) -> None:
    """Delete every record of a workspace. With ``carry_spend_to``, its spend moves to that workspace."""
    with store.write() as conn:
        if carry_spend_to is not None:
            rows = conn.execute("SELECT payer, spent, calls FROM spend WHERE scope = ?", (workspace_id,)).fetchall()
            for payer, amount, calls in rows:
                add_spend(conn, carry_spend_to, money(amount), int(calls), payer=payer)
        conn.execute("DELETE FROM spend WHERE scope = ?", (workspace_id,))
        for table in OWNED_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE workspace_id = ?", (workspace_id,))
        conn.execute("DELETE FROM workspaces WHERE id = ?", (workspace_id,))


def get_meta(store: ClassStore, key: str) -> str | None:
    with store.read() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def claim_meta_after(store: ClassStore, key: str, now: float, min_gap_s: float) -> bool:
    """Set ``key`` to ``now`` if it is unset or older than ``min_gap_s``; True when this caller got it."""
    with store.write() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is not None:
            try:
                if now - float(row[0]) < min_gap_s:
                    return False
            except ValueError:
                pass
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, repr(now)),
        )
        return True


# ---- bounding the room: seats and revoked workspaces ------------------------------------------------------
SEATS_KEY = "room_seats"
_REVOKED = "revoked_workspace:"


def seats(store: ClassStore) -> int | None:
    """How many live workspaces the room holds (None: no bound)."""
    value = get_meta(store, SEATS_KEY)
    try:
        n = int(value) if value else 0
    except ValueError:
        return None
    return n if n > 0 else None


def set_seats(store: ClassStore, n: int | None) -> None:
    """Bound the room at ``n`` live workspaces (None or 0: no bound). Workspaces already issued stay."""
    with store.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (SEATS_KEY, str(int(n or 0))),
        )


def live_count(store: ClassStore) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM workspaces WHERE deleted = 0").fetchone()[0])


def register_within(
    store: ClassStore, workspace_id: str, bound: int | None, *, now: float | None = None
) -> WorkspaceRecord | None:
    """Like :func:`register`, but only while fewer than ``bound`` workspaces are live (None: no bound); the count
    and the insert are one transaction, so two sessions can never both take the last seat."""
    now = time.time() if now is None else now
    with store.write() as conn:
        if bound is not None:
            if live_in(conn) >= bound:
                return None
        return insert(conn, workspace_id, now)


def mark_revoked(store: ClassStore, workspace_id: str, *, now: float | None = None) -> None:
    """Remember that the facilitator closed this workspace (its link and its browser are refused from now on)."""
    with store.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_REVOKED + workspace_id, repr(time.time() if now is None else now)),
        )


def is_revoked(store: ClassStore, workspace_id: str) -> bool:
    return get_meta(store, _REVOKED + workspace_id) is not None
