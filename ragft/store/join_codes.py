"""Join codes issued per participant, in the class database: the facilitator's other way to bound the room.

With codes required (``RAGFT_JOIN=codes`` in the server's configuration, or the Facilitator page's switch kept here
in ``meta``), a browser that has no workspace yet gets one only by presenting an unused code, and that code then
belongs to the workspace it admitted: the same browser returns to it (its cookie), another browser with the same
code is refused. :func:`claim` checks the code, the room's seats, inserts the workspace and marks the code used in
one short write transaction (``BEGIN IMMEDIATE`` on SQLite, the advisory lock on PostgreSQL), so two browsers racing
one code can never both get in.

Codes are 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L): about 49 bits, shown as ``ABCDE-FGHJK``;
typed with or without the dash, in any case; stored normalised (:func:`normalise`).
A code's row outlives its workspace (revoked, deleted, purged), so a used code stays used.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import Enum

from ragft.store import workspaces as W
from ragft.store.db import ClassStore

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10
MAX_ISSUE = 500  # codes per click on the Facilitator page
REQUIRED_KEY = "room_join"  # meta: "codes" when the Facilitator page requires codes, "open" otherwise
CODES = "codes"
OPEN = "open"


class Claim(Enum):
    OK = "ok"
    UNKNOWN = "unknown"  # never issued here (or mistyped)
    REVOKED = "revoked"
    USED = "used"  # already admitted another workspace
    FULL = "full"  # every seat of the room is taken


@dataclass(frozen=True)
class JoinCode:
    code: str
    note: str
    created: float
    claimed: float | None
    workspace_id: str | None
    revoked: bool

    @property
    def status(self) -> str:
        if self.revoked:
            return "revoked"
        return "used" if self.claimed is not None else "unused"


def normalise(text: str | None) -> str:
    """A typed code as stored: upper case, spaces and dashes dropped ("" when it cannot be one)."""
    plain = "".join(ch for ch in (text or "").upper() if ch not in " -_\t")
    return plain if len(plain) == LENGTH and all(ch in ALPHABET for ch in plain) else ""


def display(code: str) -> str:
    """``ABCDEFGHJK`` → ``ABCDE-FGHJK`` (easier to read aloud and type)."""
    return f"{code[: LENGTH // 2]}-{code[LENGTH // 2 :]}"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


# ---- the switch ------------------------------------------------------------------------------------------
def page_requires(store: ClassStore) -> bool:
    """The Facilitator page's switch (the server's ``RAGFT_JOIN=codes`` is the other way in: see :func:`required`)."""
    return W.get_meta(store, REQUIRED_KEY) == CODES


def required(store: ClassStore, server_join: str) -> bool:
    """Do new workspaces need a code? ``RAGFT_JOIN=codes`` always; else the Facilitator page's switch."""
    return server_join == CODES or page_requires(store)


def set_required(store: ClassStore, on: bool) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (REQUIRED_KEY, CODES if on else OPEN),
        )


# ---- issuing, listing, revoking ------------------------------------------------------------------------
_COLS = "code, note, created, claimed, workspace_id, revoked"


def _row(row) -> JoinCode:
    return JoinCode(
        str(row[0]),
        str(row[1]),
        float(row[2]),
        None if row[3] is None else float(row[3]),
        None if row[4] is None else str(row[4]),
        bool(row[5]),
    )


def issue(store: ClassStore, n: int, *, note: str = "", now: float | None = None) -> list[str]:
    """``n`` new unused codes (1..:data:`MAX_ISSUE`), in one transaction."""
    if not 1 <= n <= MAX_ISSUE:
        raise ValueError(f"issue between 1 and {MAX_ISSUE} codes at a time")
    now = time.time() if now is None else now
    made: list[str] = []
    with store.write() as conn:
        while len(made) < n:
            code = new_code()
            inserted = conn.execute(
                "INSERT INTO join_codes (code, note, created, revoked) VALUES (?, ?, ?, 0) ON CONFLICT (code) DO NOTHING",
                (code, note[:200], now),
            ).rowcount
            if inserted:
                made.append(code)
    return made


def list_codes(store: ClassStore) -> list[JoinCode]:
    """Every code, oldest first."""
    with store.read() as conn:
        rows = conn.execute(f"SELECT {_COLS} FROM join_codes ORDER BY created, code").fetchall()
    return [_row(r) for r in rows]


def get(store: ClassStore, code: str) -> JoinCode | None:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_COLS} FROM join_codes WHERE code = ?", (normalise(code),)).fetchone()
    return _row(row) if row else None


def revoke(store: ClassStore, codes: list[str]) -> list[str]:
    """Refuse these codes from now on; returns the live workspaces they had admitted (the caller revokes those)."""
    plain = [normalise(c) for c in codes if normalise(c)]
    admitted: list[str] = []
    with store.write() as conn:
        for code in plain:
            row = conn.execute("SELECT workspace_id FROM join_codes WHERE code = ?", (code,)).fetchone()
            if row is None:
                continue
            conn.execute("UPDATE join_codes SET revoked = 1 WHERE code = ?", (code,))
            if row[0]:
                live = conn.execute("SELECT 1 FROM workspaces WHERE id = ? AND deleted = 0", (row[0],)).fetchone()
                if live:
                    admitted.append(str(row[0]))
    return admitted


def code_of(store: ClassStore, workspace_id: str) -> str | None:
    with store.read() as conn:
        row = conn.execute("SELECT code FROM join_codes WHERE workspace_id = ?", (workspace_id,)).fetchone()
    return str(row[0]) if row else None


def rebind(store: ClassStore, old_workspace: str, new_workspace: str) -> None:
    """A participant replaced their workspace (deleted it): their code now belongs to the new one."""
    with store.write() as conn:
        conn.execute("UPDATE join_codes SET workspace_id = ? WHERE workspace_id = ?", (new_workspace, old_workspace))


# ---- claiming --------------------------------------------------------------------------------------------
def claim(
    store: ClassStore, code: str, workspace_id: str, bound: int | None, *, now: float | None = None
) -> tuple[Claim, W.WorkspaceRecord | None]:
    """Admit a new workspace ``workspace_id`` with ``code``: the code must be issued, not revoked, not used, and a
    seat free (``bound``: the room's seats, None for no bound). The check, the new workspace and the claim are one
    transaction; nothing is written unless the outcome is :attr:`Claim.OK`."""
    now = time.time() if now is None else now
    plain = normalise(code)
    if not plain:
        return Claim.UNKNOWN, None
    with store.write() as conn:
        row = conn.execute("SELECT claimed, revoked FROM join_codes WHERE code = ?", (plain,)).fetchone()
        if row is None:
            return Claim.UNKNOWN, None
        if row[1]:
            return Claim.REVOKED, None
        if row[0] is not None:
            return Claim.USED, None
        if bound is not None and W.live_in(conn) >= bound:
            return Claim.FULL, None
        rec = W.insert(conn, workspace_id, now)
        conn.execute(
            "UPDATE join_codes SET claimed = ?, workspace_id = ? WHERE code = ? AND claimed IS NULL",
            (now, workspace_id, plain),
        )
        return Claim.OK, rec
