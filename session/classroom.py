"""Class mode for every session: the class database of this server, what sessions write into it (votes,
questions, runs), heartbeats, the pause flag shared across processes, and the event's defaults.

Writes never break a participant's page: a database that refuses one is logged and the page goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from ragft.classroom import event as EV
from ragft.classroom import pause, tracking
from ragft.errors import RagftError
from ragft.runs import BackgroundRun, registry
from ragft.store import ClassStore, open_store
from ragft.store import records as R
from session import config, keys

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(data_dir: str) -> ClassStore:
    store = open_store(data_dir)
    pause.attach(store)
    registry().start_reaper()
    return store


def store() -> ClassStore:
    """The class database in the server's data dir (shared by every session)."""
    return _store(str(Path(config.server_settings(raw=True).data_dir).resolve()))


def touch() -> None:
    """This session is alive (called on every page run and by the meter's fragment)."""
    ws = keys.workspace_id()
    if ws:
        registry().touch(ws)


def check_free(owner: str, kind: str) -> None:
    """Raise AlreadyRunning when this participant already runs a ``kind`` (in any tab)."""
    if owner:
        registry().check_free(owner, kind)


def track(run: BackgroundRun[Any]) -> None:
    try:
        tracking.track(store(), run)
    except RagftError:
        logger.exception("cannot track %s %s", run.kind, run.id)


def record_question(owner: str, question: str, page: str = "compare") -> None:
    if not owner:
        return
    try:
        R.record_question(store(), owner, question, page)
    except RagftError:
        logger.exception("cannot record a question")


def record_vote(comparison_id: str, winner: str, shown: Sequence[str], question: str) -> None:
    ws = keys.workspace_id()
    if not ws:
        return
    try:
        R.record_vote(store(), ws, comparison_id, winner, list(shown), question)
    except (RagftError, ValueError):
        logger.exception("cannot record a blind vote")


def event_defaults() -> EV.EventDefaults:
    try:
        return config.event_defaults()
    except RagftError:  # a malformed configuration: the pages say so; the router keeps every page
        logger.exception("cannot read the event's defaults")
        return EV.EventDefaults()
