"""Retention: workspaces unused for ``RAGFT_WORKSPACE_TTL_DAYS`` lose their collections, files and records.

:func:`purge_if_due` runs when the app starts (the first call in a process) and then at most once an hour
across every process sharing the class database (the last run's time is kept in it). On PostgreSQL (replicas) it
also runs on one replica at a time: the purge takes the class-wide :data:`~ragft.store.db.RETENTION_LOCK` without
waiting, and a replica that does not get it skips this round (the one that holds it is purging). On SQLite (one
host) that turn is always granted, as before. A workspace is
first flagged deleted (only if still unused, so a participant coming back at that moment keeps it), then its
Chroma collections and its folder under ``<data_dir>/workspaces/`` are removed, then its records. A failure
leaves it flagged, and the next purge tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ragft.knowledge.workspaces import WorkspaceDeleteFailed, drop_workspace_data
from ragft.store import workspaces as records
from ragft.store.db import RETENTION_LOCK, ClassStore

logger = logging.getLogger(__name__)

PURGE_KEY = "retention.last_purge"
PURGE_EVERY_S = 3600.0
DAY_S = 86400.0

CHECK_EVERY_S = 60.0  # how often a process asks the database whether a purge is due
_checked: dict[str, float] = {}  # database file -> when this process last asked
_started_lock = threading.Lock()


def purge_expired(
    store: ClassStore, client: Any, data_dir: Path | str, ttl_days: float, *, now: float | None = None
) -> list[str]:
    """Delete the workspaces last seen more than ``ttl_days`` ago; returns their ids. ``ttl_days`` 0: none."""
    if ttl_days <= 0:
        return []
    now = time.time() if now is None else now
    cutoff = now - ttl_days * DAY_S
    purged = []
    for rec in records.unused_since(store, cutoff):
        with store.write() as conn:  # flag it only if still unused
            still = conn.execute(
                "UPDATE workspaces SET deleted = 1 WHERE id = ? AND last_seen < ?", (rec.id, cutoff)
            ).rowcount
        if not still:
            continue
        try:
            drop_workspace_data(client, data_dir, rec.id)
        except WorkspaceDeleteFailed:
            logger.exception("retention: workspace %s stays flagged, to retry", rec.id)
            continue
        records.forget(store, rec.id)
        purged.append(rec.id)
    if purged:
        logger.info("retention: deleted %d workspace(s) unused for %g days", len(purged), ttl_days)
    return purged


def purge_if_due(
    store: ClassStore, get_client: Callable[[], Any], data_dir: Path | str, ttl_days: float, *, now: float | None = None
) -> list[str] | None:
    """Purge at the first call of this process, then at most once an hour; None when not due.

    ``get_client`` is called only when a purge runs (opening a vector store on every page would be wasted).
    """
    if ttl_days <= 0:
        return None
    now = time.time() if now is None else now
    key = store.key
    with _started_lock:
        first = key not in _checked
        if not first and now - _checked[key] < CHECK_EVERY_S:
            return None  # asked the database less than a minute ago
        _checked[key] = now
    turn = store.try_exclusive(RETENTION_LOCK)
    if turn is None:
        logger.info("retention: another replica is purging; skipped this round")
        return None
    try:
        if not records.claim_meta_after(store, PURGE_KEY, now, 0.0 if first else PURGE_EVERY_S):
            return None
        return purge_expired(store, get_client(), data_dir, ttl_days, now=now)
    finally:
        turn.release()
