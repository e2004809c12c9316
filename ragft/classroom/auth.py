"""Unlocking the Facilitator page: the password compared in constant time, failures throttled per client.

A client is one browser session at one address (the app passes ``client_key(ip, session)``). After
``MAX_FAILURES`` wrong passwords in a row from one client, that client alone waits ``LOCKOUT_S`` seconds; every
other client, the facilitator's included, can still unlock at once. Nothing is ever locked for everyone: a
global lock-out lets any participant keep the facilitator out for the whole workshop. The counts live in the
class database (``meta`` rows ``facilitator_fail:<key>``), so they hold across the app's processes. A brute force
from many fresh sessions is only slowed, not stopped: the password must be long (see the README), and every
failure is logged with its address. The password comes from ``RAGFT_FACILITATOR_PASSWORD`` and is never put in a
URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from ragft.errors import RagftError
from ragft.store.db import ClassStore

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT_S = 300.0
_PREFIX = "facilitator_fail:"


class FacilitatorLocked(RagftError):
    """Too many wrong passwords from this browser: unlocking is refused here for a while."""

    hint = "Wait, then type the password set in RAGFT_FACILITATOR_PASSWORD."


def client_key(ip: str | None, session: str | None) -> str:
    """A short, stable key for one client (an address plus a browser session); no raw address is stored."""
    raw = f"{ip or '?'}|{session or '?'}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def _get(conn, key: str) -> tuple[int, float]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    try:
        failures, _, until = str(row[0]).partition(" ") if row else ("0", "", "0")
        return int(failures), float(until or 0)
    except ValueError:
        return 0, 0.0


def _put(conn, key: str, failures: int, until: float) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, f"{failures} {until!r}"),
    )


def locked_for(store: ClassStore, client: str, now: float | None = None) -> float:
    """Seconds this client stays locked (0 when it may try)."""
    now = time.time() if now is None else now
    with store.read() as conn:
        return max(0.0, _get(conn, _PREFIX + client)[1] - now)


def unlock(
    store: ClassStore,
    configured: str,
    typed: str,
    client: str,
    now: float | None = None,
    *,
    address: str | None = None,
) -> bool:
    """True when ``typed`` is the facilitator's password. Raises :class:`FacilitatorLocked` while *this client* is
    locked out (other clients are not affected). ``address`` (the client's, for the log line only) is not stored."""
    now = time.time() if now is None else now
    if not configured:
        return False
    ok = hmac.compare_digest(typed.encode("utf-8"), configured.encode("utf-8"))
    key = _PREFIX + client
    with store.write() as conn:
        failures, until = _get(conn, key)
        left = until - now if until > now else 0.0
        if not left:
            if ok:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                failures += 1
                if failures >= MAX_FAILURES:
                    _put(conn, key, 0, now + LOCKOUT_S)
                    logger.warning(
                        "facilitator page locked for one client (%s at %s) for %.0f s after %d wrong passwords",
                        client[:8],
                        address or "an unknown or loopback address",
                        LOCKOUT_S,
                        MAX_FAILURES,
                    )
                else:
                    _put(conn, key, failures, 0.0)
    if left:
        raise FacilitatorLocked(
            f"Too many wrong passwords from this browser: try again in {max(1, round(left / 60))} minute(s)."
        )
    return ok
