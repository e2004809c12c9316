"""The Facilitator page's trainings: every job on this server (queued, running, recently ended), the server's
budget per job, and Stop for any of them."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import streamlit as st

from ragft import errors as E
from ragft.store import workspaces as W
from ragft.training import jobs
from ragft.training.config import TrainLimits
from session import classroom, config

logger = logging.getLogger(__name__)


def _labels() -> dict[str, str]:
    try:
        return {w.id: w.label for w in W.list_workspaces(classroom.store(), include_deleted=True)}
    except E.RagftError:
        logger.exception("could not read the workspaces' labels")
        return {}


def _elapsed(job: jobs.JobStatus) -> str:
    started = job.data.get("started")
    if not started:
        return "–"
    end = job.data.get("updated") if not job.active else time.time()
    return f"{max(0.0, float(end or time.time()) - float(started)):.0f} s"


def render_trainings() -> None:
    s = config.server_settings()
    data_dir = Path(s.data_dir)
    st.caption(f"This server allows {TrainLimits.from_settings(s).describe()}. One training runs at a time.")
    try:
        jobs.dispatch(data_dir)  # a training that ended while no page polled: start the next one
        found = jobs.all_jobs(data_dir)
    except (E.RagftError, OSError) as exc:
        st.error(f"The trainings cannot be listed: {exc}", icon=":material/error:")
        return
    if not found:
        st.caption("No training on this server.")
        return
    labels = _labels()
    st.dataframe(
        [
            {
                "Participant": labels.get(j.workspace, "(unknown workspace)"),
                "Adapter": j.name,
                "State": j.state,
                "Step": f"{j.step} of {j.steps}",
                "In queue": j.position if j.state == "queued" else "–",
                "Running for": _elapsed(j),
                "Message": j.message,
            }
            for j in found
        ],
        hide_index=True,
        key="fac_trainings_table",
    )
    active = [j for j in found if j.active]
    if not active:
        return
    pick = st.selectbox(
        "Training",
        range(len(active)),
        key="fac_pick_training",
        format_func=lambda i: f"{labels.get(active[i].workspace, '?')} · {active[i].name} · {active[i].state}",
    )
    if st.button("Stop this training", key="fac_stop_training", icon=":material/stop_circle:"):
        jobs.stop(data_dir, active[pick].job_id)
        st.toast("Stopping it: nothing of it is saved.")
