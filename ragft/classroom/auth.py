"""Unlocking the Facilitator page: the password compared in constant time, failures counted in the class database.

After ``MAX_FAILURES`` wrong passwords in a row (from any session or process) the page stays locked for
``LOCKOUT_S`` seconds, for everyone: the count lives in the database, not in a browser session, so opening a new
tab does not reset it. The password comes from ``RAGFT_FACILITATOR_PASSWORD`` and is never put in a URL.
"""

from __future__ import annotations

import hmac
import logging
import time

from ragft.errors import RagftError
from ragft.store.db import ClassStore

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT_S = 300.0
_FAILURES = "facilitator_failures"
_LOCKED_UNTIL = "facilitator_locked_until"


class FacilitatorLocked(RagftError):
    """Too many wrong passwords: unlocking is refused for a while."""

    hint = "Wait, then type the password set in RAGFT_FACILITATOR_PASSWORD."


def _get(conn, key: str, default: float) -> float:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    try:
        return float(row[0]) if row else default
    except ValueError:
        return default


def _put(conn, key: str, value: float) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, repr(value)),
    )


def locked_for(store: ClassStore, now: float | None = None) -> float:
    """Seconds the page stays locked (0 when it may be tried)."""
    now = time.time() if now is None else now
    with store.read() as conn:
        return max(0.0, _get(conn, _LOCKED_UNTIL, 0.0) - now)


def unlock(store: ClassStore, configured: str, typed: str, now: float | None = None) -> bool:
    """True when ``typed`` is the facilitator's password. Raises :class:`FacilitatorLocked` while locked out."""
    now = time.time() if now is None else now
    if not configured:
        return False
    ok = hmac.compare_digest(typed.encode("utf-8"), configured.encode("utf-8"))
    with store.write() as conn:
        until = _get(conn, _LOCKED_UNTIL, 0.0)
        if until > now:
            left = until - now
        else:
            left = 0.0
            if ok:
                _put(conn, _FAILURES, 0)
            else:
                failures = int(_get(conn, _FAILURES, 0)) + 1
                if failures >= MAX_FAILURES:
                    _put(conn, _LOCKED_UNTIL, now + LOCKOUT_S)
                    failures = 0
                    logger.warning(
                        "facilitator page locked for %.0f s after %d wrong passwords", LOCKOUT_S, MAX_FAILURES
                    )
                _put(conn, _FAILURES, failures)
    if left:
        raise FacilitatorLocked(
            f"Too many wrong passwords: the Facilitator page is locked for {left / 60:.0f} more minute(s)."
        )
    return ok
