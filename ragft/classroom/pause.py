"""The facilitator's "pause all model calls": one flag for the whole process, kept in the class database too.

:func:`check` runs before every model call and every embedded token step; while paused it raises
:class:`ModelCallsPaused` (the panel shows the message). With a class database attached (:func:`attach`), the
flag is shared by every app process on the host: it is re-read from the database at most every ``REFRESH_S``.
"""

from __future__ import annotations

import logging
import threading
import time

from ragft.errors import RagftError
from ragft.models import fair

logger = logging.getLogger(__name__)

META_KEY = "paused"
REFRESH_S = 2.0


class ModelCallsPaused(RagftError):
    """The facilitator paused every model call."""

    hint = "Wait for the facilitator to resume, then ask again."


_lock = threading.Lock()
_state = {"paused": False, "read_at": 0.0}
_store = None  # the class database this process shares the flag through


def attach(store) -> None:
    """Share the flag through ``store`` (a :class:`ragft.store.ClassStore`)."""
    global _store
    with _lock:
        _store = store
        _state["read_at"] = 0.0


def set_paused(paused: bool) -> None:
    with _lock:
        _state["paused"], _state["read_at"] = bool(paused), time.monotonic()
        store = _store
    if store is not None:
        with store.write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (META_KEY, "1" if paused else "0"),
            )
    logger.warning("model calls %s by the facilitator", "paused" if paused else "resumed")


def is_paused() -> bool:
    with _lock:
        store = _store
        fresh = time.monotonic() - _state["read_at"] < REFRESH_S
        if store is None or fresh:
            return bool(_state["paused"])
    try:
        with store.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    except RagftError:
        logger.exception("cannot read the pause flag; keeping the last value")
        return bool(_state["paused"])
    with _lock:
        _state["paused"], _state["read_at"] = bool(row and row[0] == "1"), time.monotonic()
        return bool(_state["paused"])


def check() -> None:
    if is_paused():
        raise ModelCallsPaused("The facilitator paused all model calls for the moment.")


fair.set_pause_check(check)  # the embedded engine checks the pause before every turn
