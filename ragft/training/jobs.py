"""Training jobs: submitted by the page, run in a separate process, one at a time per server, queued in order.

Each job is a folder ``<RAGFT_DATA_DIR>/training/jobs/<job id>/`` holding its request, ``status.json``
(written atomically by the worker), ``loss.jsonl`` (one line per step, appended as training goes: the page
polls it) and the worker's log. A queued job is only a folder: :func:`dispatch` starts the worker process
(``python -m ragft.training.worker``, its own process group) of the first queued job when no other training
runs, so a queue of N jobs is one process. It runs after every submit, when a worker exits, and on every poll
of a page that shows trainings. The worker holds the lock file ``training/train.lock`` while it loads, trains,
converts and saves, within the facilitator's budget (:class:`ragft.training.config.TrainLimits`: steps checked
here, wall time enforced by the worker). :func:`stop` terminates its process group (the converter included), or
drops a job that has not started.

A job whose process is gone without a final status is reported as failed ("ended unexpectedly"), so a
killed training never looks like it is still running, and nothing half-saved is shown as an adapter.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragft import errors as E
from ragft.models import cpu
from ragft.paths import ROOT
from ragft.training.adapters import adapters_dir, check_name, write_json
from ragft.training.config import TrainConfig, TrainLimits
from ragft.training.examples import Example, to_jsonl

logger = logging.getLogger(__name__)

ACTIVE = ("queued", "loading", "training", "converting")
FINAL = ("done", "failed", "stopped")
KEEP_FINISHED_S = 24 * 3600


class TrainingRefused(E.RagftError):
    hint = "Wait for your current training to finish, or stop it."


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    state: str  # queued | loading | training | converting | checking | done | failed | stopped
    message: str
    position: int  # jobs ahead of this one (0 = running or next)
    step: int
    steps: int
    name: str
    workspace: str
    adapter: str | None  # published adapter folder (from "checking" on)
    data: dict[str, Any]

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def published(self) -> bool:
        return self.adapter is not None


def jobs_root(data_dir: Path) -> Path:
    return Path(data_dir) / "training" / "jobs"


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / "training" / "train.lock"


def dispatch_lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / "training" / "dispatch.lock"


@contextmanager
def _dispatching(data_dir: Path) -> Iterator[None]:
    """One dispatcher at a time on this host (app sessions, reaper threads, other app processes)."""
    path = dispatch_lock_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_job_id() -> str:
    return f"{time.time_ns() // 1_000_000:013d}-{secrets.token_hex(3)}"


def write_status(job_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into status.json, atomically (write a temp file, then rename)."""
    current = read_json(job_dir / "status.json") or {}
    current.update(fields, updated=time.time())
    tmp = job_dir / f".status.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(current, default=str), encoding="utf-8")
    os.replace(tmp, job_dir / "status.json")
    return current


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    """True while the worker process runs (a zombie counts as gone)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, PermissionError, OverflowError):
        return False
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _raw_state(job_dir: Path) -> dict[str, Any]:
    st = read_json(job_dir / "status.json") or {}
    if st.get("state") in FINAL:
        return st
    if st.get("state") == "queued" and not st.get("pid"):
        return st  # waiting for its turn: no process yet (see dispatch)
    if not pid_alive(st.get("pid")) and time.time() - float(st.get("updated", 0)) > 2:
        stopped = (job_dir / "stop_requested").exists()
        return dict(
            st,
            state="stopped" if stopped else "failed",
            message="Training was stopped; nothing was saved."
            if stopped
            else "The training process ended unexpectedly (killed or out of memory); nothing was saved.",
        )
    return st


def queue(data_dir: Path) -> list[str]:
    """Job ids waiting or running on this server, in order (oldest first)."""
    root = jobs_root(data_dir)
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if d.is_dir() and _raw_state(d).get("state") in ACTIVE)


def status(data_dir: Path, job_id: str) -> JobStatus:
    job_dir = jobs_root(data_dir) / job_id
    st = _raw_state(job_dir)
    if not st:
        raise E.RagftError(f"Training job {job_id} was not found.")
    q = queue(data_dir)
    position = q.index(job_id) if job_id in q else 0
    if st.get("state") == "queued":  # the worker also counts a training outside the queue (the script) holding the lock
        position = max(position, int(st.get("position") or 0))
    return JobStatus(
        job_id=job_id,
        state=st.get("state", "queued"),
        message=st.get("message", ""),
        position=position,
        step=int(st.get("step", 0)),
        steps=int(st.get("steps", 0)),
        name=st.get("name", ""),
        workspace=st.get("workspace", ""),
        adapter=st.get("adapter"),
        data=st,
    )


def loss_log(data_dir: Path, job_id: str) -> list[dict[str, Any]]:
    """The rows written so far (a half-written last line is skipped)."""
    rows: list[dict[str, Any]] = []
    try:
        text = (jobs_root(data_dir) / job_id / "loss.jsonl").read_text(encoding="utf-8")
    except OSError:
        return rows
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def workspace_jobs(data_dir: Path, workspace_id: str) -> list[JobStatus]:
    """This workspace's jobs, newest first."""
    root = jobs_root(data_dir)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir(), reverse=True):
        st = read_json(d / "status.json") or {}
        if st.get("workspace") == workspace_id:
            out.append(status(data_dir, d.name))
    return out


def all_jobs(data_dir: Path) -> list[JobStatus]:
    """Every job on this server (active and recently finished), newest first: the Facilitator page's list."""
    root = jobs_root(data_dir)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir(), reverse=True):
        if d.is_dir() and (d / "status.json").is_file():
            try:
                out.append(status(data_dir, d.name))
            except E.RagftError:
                continue
    return out


def prepare(
    data_dir: Path,
    workspace_id: str,
    name: str,
    examples: Sequence[Example],
    cfg: TrainConfig,
    *,
    preset: str | None = None,
    check: dict[str, Any] | None = None,
    heldout: Sequence[dict[str, str]] = (),
    limits: TrainLimits | None = None,
) -> Path:
    """Write a job folder (request, examples, status "queued"); :func:`dispatch` starts its worker in turn.

    Raises TrainingOverLimit when ``cfg`` asks for more than ``limits`` (the facilitator's budget per job).
    """
    limits = limits or TrainLimits()
    limits.check(cfg)
    name = check_name(name)
    final = adapters_dir(data_dir, workspace_id) / name
    if final.exists():
        raise TrainingRefused(
            f"An adapter called {name!r} already exists in this workspace.", hint="Choose another name."
        )
    for job in workspace_jobs(data_dir, workspace_id):
        if job.active:
            raise TrainingRefused(f"This workspace already has a training {job.state} ({job.name}).")
    _sweep(data_dir)
    job_id = new_job_id()
    job_dir = jobs_root(data_dir) / job_id
    job_dir.mkdir(parents=True)
    (job_dir / "examples.jsonl").write_text(to_jsonl(examples), encoding="utf-8")
    write_json(
        job_dir / "request.json",
        {
            "workspace": workspace_id,
            "name": name,
            "config": cfg.to_dict(),
            "preset": preset,
            "check": check,
            "heldout": list(heldout),
            "data_dir": str(Path(data_dir).resolve()),
            "limits": {"max_steps": limits.max_steps, "max_seconds": limits.max_seconds},
        },
    )
    write_status(
        job_dir,
        state="queued",
        message="Waiting for its turn.",
        job_id=job_id,
        name=name,
        workspace=workspace_id,
        step=0,
        steps=cfg.steps,
        submitted=time.time(),
        pid=None,
    )
    return job_dir


def _hold_cpu_while_running(proc: subprocess.Popen, data_dir: Path) -> None:
    """The app's CPU policy counts the training process as a background job until it exits (answers make room);
    then the next queued job starts."""
    with cpu.policy().job(cpu.TRAINING):
        proc.wait()
    try:
        dispatch(data_dir)
    except OSError:
        logger.exception("could not start the next training")


def _start_worker(data_dir: Path, job_dir: Path) -> int:
    log = open(job_dir / "worker.log", "ab")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ragft.training.worker", str(job_dir)],
        cwd=str(ROOT),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    log.close()
    write_status(job_dir, pid=proc.pid)
    threading.Thread(
        target=_hold_cpu_while_running, args=(proc, data_dir), name=f"reap-{job_dir.name}", daemon=True
    ).start()  # no zombie left behind
    logger.info("training job %s started (pid %s)", job_dir.name, proc.pid)
    return proc.pid


def dispatch(data_dir: Path) -> str | None:
    """Start the worker of the first queued job when no training of the queue has a process; returns its id.

    Cheap when there is nothing to do (a directory listing): pages that show trainings call it on every poll.
    """
    root = jobs_root(data_dir)
    if not root.is_dir():
        return None
    with _dispatching(data_dir):
        waiting = []
        for job_id in queue(data_dir):
            st = _raw_state(root / job_id)
            if st.get("pid") and pid_alive(st["pid"]):
                return None  # one training at a time: it has its process
            if st.get("pid"):
                continue  # its process is gone (reported as failed once its status is old enough)
            if not (root / job_id / "stop_requested").exists():
                waiting.append(job_id)
        if not waiting:
            return None
        _start_worker(data_dir, root / waiting[0])
        return waiting[0]


def submit(
    data_dir: Path, workspace_id: str, name: str, examples: Sequence[Example], cfg: TrainConfig, **kwargs: Any
) -> str:
    """Queue a training (its worker starts now if nothing else trains, else in its turn); returns the job id."""
    job_dir = prepare(data_dir, workspace_id, name, examples, cfg, **kwargs)
    dispatch(data_dir)
    return job_dir.name


def stop(data_dir: Path, job_id: str) -> None:
    """Terminate the job's process group (training or the converter); nothing half-done is published. A job
    still waiting for its turn is dropped from the queue."""
    job_dir = jobs_root(data_dir) / job_id
    st = read_json(job_dir / "status.json") or {}
    if st.get("state") in FINAL:
        return
    (job_dir / "stop_requested").touch()
    with _dispatching(data_dir):
        st = read_json(job_dir / "status.json") or {}
        pid = st.get("pid")
        if not pid:
            write_status(job_dir, state="stopped", message="Stopped before it started; nothing was saved.")
            return
    if pid_alive(pid):
        try:
            os.killpg(int(pid), signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            os.kill(int(pid), signal.SIGTERM)


def _sweep(data_dir: Path) -> None:
    root = jobs_root(data_dir)
    if not root.is_dir():
        return
    now = time.time()
    for d in root.iterdir():
        st = read_json(d / "status.json") or {}
        if st.get("state") in FINAL and now - float(st.get("updated", now)) > KEEP_FINISHED_S:
            shutil.rmtree(d, ignore_errors=True)
