"""What a participant's runs leave in the class database: a ``running`` row while they run (with heartbeats),
and, when an evaluation ends, its per-configuration summaries (also when it was stopped after some questions).

The page that starts a run calls :func:`track`; the process's :func:`ragft.runs.registry` then calls back.
"""

from __future__ import annotations

import logging
from typing import Any

from ragft.runs import BackgroundRun, registry
from ragft.store import records as R
from ragft.store.db import ClassStore

logger = logging.getLogger(__name__)


def track(store: ClassStore, run: BackgroundRun[Any]) -> None:
    """Register ``run`` (already started) with the process's registry and the class database."""
    try:
        R.start_running(store, run.id, run.owner, run.kind, run.what[:200])
    except Exception:  # noqa: BLE001 - the run goes on even when the room cannot list it
        logger.exception("cannot list %s %s in the class database", run.kind, run.id)
    registry().add(run, on_finish=lambda r: finished(store, r), on_heartbeat=lambda r: R.heartbeat(store, r.id))
    registry().start_reaper()


def finished(store: ClassStore, run: BackgroundRun[Any]) -> None:
    R.finish_running(store, run.id)
    if run.kind != "evaluation":
        return
    evaluation = run.result
    summaries = [s.to_dict() for s in evaluation.summaries() if s.questions]
    if summaries and run.owner:
        R.record_eval_summaries(store, evaluation.id, run.owner, evaluation.question_set.name, summaries)
        logger.info("evaluation %s of %s: %d configuration summaries recorded", evaluation.id, run.owner,
                    len(summaries))
