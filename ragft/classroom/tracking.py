"""What a participant's runs leave in the class database: a ``running`` row while they run (with heartbeats),
and, when an evaluation ends, its per-configuration summaries (also when it was stopped after some questions).

The page that starts a run calls :func:`track`; the process's :func:`ragft.runs.registry` then calls back.

A facilitator in another app process stops a run through the database: :func:`stop` cancels it at once when it
runs in this process, else :func:`request_stop` leaves a "stop requested" flag that the run's own process reads at
its next heartbeat (the registry's reaper pass, every few seconds) and acts on.
"""

from __future__ import annotations

import logging
from typing import Any

from ragft.runs import BackgroundRun, RunRegistry, registry
from ragft.store import records as R
from ragft.store.db import ClassStore

logger = logging.getLogger(__name__)


def track(store: ClassStore, run: BackgroundRun[Any]) -> None:
    """Register ``run`` (already started) with the process's registry and the class database."""
    try:
        R.start_running(store, run.id, run.owner, run.kind, run.what[:200])
    except Exception:  # noqa: BLE001 - the run goes on even when the room cannot list it
        logger.exception("cannot list %s %s in the class database", run.kind, run.id)
    registry().add(run, on_finish=lambda r: finished(store, r), on_heartbeat=lambda r: beat(store, r))
    registry().start_reaper()


STOP_PREFIX = "stop_requested:"


def request_stop(store: ClassStore, run_id: str) -> None:
    """Ask the process that runs ``run_id`` to stop it (read at that run's next heartbeat)."""
    with store.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = '1'",
            (STOP_PREFIX + run_id,),
        )
    logger.warning("stop requested for run %s through the class database", run_id)


def stop_requested(store: ClassStore, run_id: str) -> bool:
    with store.read() as conn:
        return conn.execute("SELECT 1 FROM meta WHERE key = ?", (STOP_PREFIX + run_id,)).fetchone() is not None


def stop(store: ClassStore, runs: RunRegistry, run_id: str) -> bool:
    """The facilitator's stop: at once for a run of this process, through the database for another's.
    False when the run is no longer listed anywhere."""
    if runs.cancel(run_id):
        return True
    if any(row.run_id == run_id for row in R.running(store)):
        request_stop(store, run_id)
        return True
    return False


def beat(store: ClassStore, run: BackgroundRun[Any]) -> None:
    """The run's heartbeat in the database; cancels it when a stop was requested from another process."""
    R.heartbeat(store, run.id)
    if not run.cancelled and stop_requested(store, run.id):
        logger.warning(
            "%s %s of %s stopped by the facilitator (requested through the class database)", run.kind, run.id, run.owner
        )
        run.cancel()


def finished(store: ClassStore, run: BackgroundRun[Any]) -> None:
    R.finish_running(store, run.id)
    with store.write() as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (STOP_PREFIX + run.id,))
    if run.kind != "evaluation":
        return
    evaluation = run.result
    summaries = [s.to_dict() for s in evaluation.summaries() if s.questions]
    if summaries and run.owner:
        R.record_eval_summaries(store, evaluation.id, run.owner, evaluation.question_set.name, summaries)
        logger.info(
            "evaluation %s of %s: %d configuration summaries recorded", evaluation.id, run.owner, len(summaries)
        )
