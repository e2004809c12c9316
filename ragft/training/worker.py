"""The training process: ``python -m ragft.training.worker <job folder>``.

Waits its turn (first in the queue, then the server's lock file), loads the base model, trains (a line per
step in ``loss.jsonl``), converts to GGUF, writes everything into a staging folder and publishes it as a named
adapter in one rename, then runs the quick held-out check (base vs adapter) and writes ``check.json``.
SIGTERM (Stop) ends it wherever it is; the staging folder is removed and nothing is published. So does the
facilitator's wall-time budget (the request's ``limits.max_seconds``, counted from the lock on: SIGALRM).
"""

from __future__ import annotations

import csv
import fcntl
import gc
import json
import logging
import os
import resource
import shutil
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from ragft import errors as E
from ragft.store.db import TRAINING_LOCK, Held, open_store
from ragft.training import jobs
from ragft.training.adapters import publish, save_error, staging_dir, write_json
from ragft.training.config import TrainConfig, TrainLimits
from ragft.training.converter import convert
from ragft.training.examples import read_jsonl_file
from ragft.training.trainer import TrainingStopped, train

logger = logging.getLogger(__name__)
POLL_S = 0.5
NICENESS = 10  # the app's own answers (Compare, Evaluate) go first on a shared CPU


class _Stop:
    requested = False
    shielded = False
    limit_s = 0.0
    deadline = float("inf")  # time.monotonic() at which the facilitator's wall-time budget ends


class TrainingTimeLimit(TrainingStopped):
    hint = "Lower the steps or the examples' length: the facilitator sets the time a training may take."


def _on_term(signum, frame) -> None:  # the signal handler signature
    _Stop.requested = True
    if not _Stop.shielded:
        raise TrainingStopped("Training was stopped.")


def _time_limit() -> TrainingTimeLimit:
    return TrainingTimeLimit(f"Training reached the server's time limit of {_Stop.limit_s:g} s and was stopped.")


def _on_alarm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    _Stop.requested = True
    if not _Stop.shielded:
        raise _time_limit()


def _should_stop() -> bool:
    """Polled between training steps: also catches the budget's end if a library swallowed the alarm's error."""
    if not _Stop.shielded and time.monotonic() >= _Stop.deadline:
        raise _time_limit()
    return _Stop.requested


def _start_clock(seconds: float) -> None:
    """Arm the wall-time budget (the facilitator's, written into the request by the server)."""
    _Stop.limit_s = seconds
    _Stop.deadline = time.monotonic() + seconds
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


EVERY_HOST_ENV = "RAGFT_TRAIN_EVERY_HOST"  # "1": each host trains its own queue, whatever the others do


def wait_turn(data_dir: Path, job_id: str, job_dir: Path) -> tuple[IO[str], Held]:
    """Block until this job is first in the queue and holds the host's lock file and the class-wide turn (the
    class database's: across replicas on a shared PostgreSQL, one training at a time unless the facilitator sets
    ``RAGFT_TRAIN_EVERY_HOST=1``). Returns the open lock file and the turn."""
    lock = jobs.lock_path(data_dir)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fh = open(lock, "a+")
    store = open_store(data_dir)
    every_host = os.environ.get(EVERY_HOST_ENV, "").strip() == "1"
    last = None
    while True:
        q = jobs.queue(data_dir)
        ahead = q.index(job_id) if job_id in q else 0
        message = f"Queued: {ahead} training(s) ahead."
        if ahead == 0:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                ahead = 1  # a job outside the queue's view (e.g. the training script) holds the lock
                message = "Queued: 1 training(s) ahead."
            else:
                turn = _HostOnly() if every_host else store.try_exclusive(TRAINING_LOCK)
                if turn is not None:
                    return fh, turn
                fcntl.flock(fh, fcntl.LOCK_UN)
                ahead, message = 1, "Queued: a training on another host of this class is running."
        if (ahead, message) != last:
            jobs.write_status(job_dir, state="queued", message=message, position=ahead)
            last = (ahead, message)
        time.sleep(POLL_S)


class _HostOnly:
    def release(self) -> None:
        return None


def training_threads(requested: int) -> int:
    """At most ``requested``, and no more than the cores other processes leave free (``ragft.models.cpu``): on a
    busy machine one thread trains several times faster than two that wait for each other."""
    from ragft.models import cpu

    rules = cpu.policy()
    rules.external_busy()
    time.sleep(1.0)
    return max(1, min(requested, rules.threads_for(cpu.TRAINING)))


def _train(job_dir: Path, examples: list[Any], cfg: TrainConfig, staging: Path) -> Any:
    """Train, writing a loss line and the status after every step."""
    with open(job_dir / "loss.jsonl", "a", encoding="utf-8") as loss_fh:

        def on_step(row: dict[str, Any]) -> None:
            loss_fh.write(json.dumps(row) + "\n")
            loss_fh.flush()
            jobs.write_status(
                job_dir,
                state="training",
                step=row["step"],
                steps=row["steps"],
                message=f"Step {row['step']} of {row['steps']}, loss {row['loss']:.3f}",
            )

        return train(examples, cfg, staging / "peft", job_dir / "base", on_step=on_step, should_stop=_should_stop)


def _write_record(
    staging: Path,
    job_dir: Path,
    req: dict[str, Any],
    cfg: TrainConfig,
    examples: list[Any],
    result: Any,
    convert_s: float,
    wall_s: float,
) -> None:
    """The adapter's record beside it: its examples, the loss curve and settings.json (what it was trained on)."""
    job_id = job_dir.name
    shutil.copy(job_dir / "examples.jsonl", staging / "examples.jsonl")
    with open(staging / "loss.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(result.rows[0]))
        w.writeheader()
        w.writerows(result.rows)
    write_json(
        staging / "settings.json",
        {
            "name": req["name"],
            "created": time.time(),
            "preset": req.get("preset"),
            "config": cfg.to_dict(),
            "examples": len(examples),
            "tokens": result.tokens,
            "supervised_tokens": result.supervised_tokens,
            "epochs": round(cfg.epochs(len(examples)), 2),
            "trainable_parameters": result.trainable_parameters,
            "load_seconds": round(result.load_s, 1),
            "train_seconds": round(result.train_s, 1),
            "convert_seconds": round(convert_s, 1),
            "wall_seconds": round(wall_s, 1),
            "steps_per_second": round(len(result.rows) / max(result.train_s, 1e-9), 3),
            "first_loss": result.rows[0]["loss"],
            "last_loss": round(sum(r["loss"] for r in result.rows[-5:]) / len(result.rows[-5:]), 4),
            "check": req.get("check"),
            "versions": result.versions,
            "job": job_id,
            "base_model": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    )


def run(job_dir: Path) -> int:
    """Run one job folder to its end; returns 0 on success. Every failure ends as a status with a message."""
    job_dir = Path(job_dir)
    req = json.loads((job_dir / "request.json").read_text(encoding="utf-8"))
    data_dir, job_id = Path(req["data_dir"]), job_dir.name
    jobs.write_status(job_dir, pid=os.getpid())
    signal.signal(signal.SIGTERM, _on_term)
    staging: Path | None = None
    lock_fh = None
    turn: Held | None = None
    try:
        lock_fh, turn = wait_turn(data_dir, job_id, job_dir)
        limits = TrainLimits.from_dict(req.get("limits"))
        _start_clock(limits.max_seconds)
        cfg = TrainConfig.from_dict(req["config"])
        limits.check(cfg)
        cfg = replace(cfg, threads=training_threads(cfg.threads))
        examples = read_jsonl_file(job_dir / "examples.jsonl")
        jobs.write_status(job_dir, state="loading", message="Loading the base model…", started=time.time(), position=0)
        staging = staging_dir(data_dir, req["workspace"], job_id)
        t0 = time.perf_counter()
        result = _train(job_dir, examples, cfg, staging)
        jobs.write_status(job_dir, state="converting", message="Converting to GGUF with llama.cpp's converter…")
        t_conv = time.perf_counter()
        convert(staging / "peft", job_dir / "base", staging / "adapter.gguf", log=job_dir / "worker.log")
        convert_s = time.perf_counter() - t_conv
        try:
            _write_record(staging, job_dir, req, cfg, examples, result, convert_s, time.perf_counter() - t0)
        except OSError as exc:
            raise save_error(exc) from exc
        _Stop.shielded = True  # from here the adapter is complete: publish it even if Stop arrives now
        signal.setitimer(signal.ITIMER_REAL, 0)
        final = publish(staging, req["name"])
        staging = None
        jobs.write_status(
            job_dir,
            state="checking",
            adapter=str(final),
            published=time.time(),
            wall_seconds=round(time.perf_counter() - t0, 1),
            message="Saved. Running the quick check on held-out prompts…",
        )
        fcntl.flock(lock_fh, fcntl.LOCK_UN)
        turn.release()
        turn = None
        del result
        gc.collect()
        check = _heldout_check(req, final / "adapter.gguf")
        if check is not None:
            write_json(final / "check.json", check)
        jobs.write_status(job_dir, state="done", message=f"Adapter {req['name']!r} is ready.", check=check)
        return 0
    except TrainingStopped as exc:
        jobs.write_status(job_dir, state="stopped", message=f"{exc.args[0]} Nothing was saved.")
        return 1
    except E.RagftError as exc:
        logger.exception("training job %s failed", job_id)
        jobs.write_status(job_dir, state="failed", message=exc.message)
        return 1
    except OSError as exc:
        logger.exception("training job %s failed writing files", job_id)
        jobs.write_status(job_dir, state="failed", message=save_error(exc).message)
        return 1
    except Exception as exc:  # noqa: BLE001 - any library failure becomes the job's message
        logger.exception("training job %s failed", job_id)
        jobs.write_status(job_dir, state="failed", message=f"Training failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if turn is not None:
            turn.release()
        if lock_fh is not None:
            lock_fh.close()


def _heldout_check(req: dict[str, Any], gguf: Path) -> dict[str, Any] | None:
    """Base vs the new adapter on the held-out prompts, scored by the preset's (or inferred) check."""
    from ragft.training.quickcheck import run_check

    if not req.get("heldout") or not req.get("check"):
        return None
    try:
        return run_check(req["heldout"], req["check"], gguf)
    except E.RagftError as exc:
        logger.exception("held-out check failed")
        return {"error": exc.message}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.nice(NICENESS)
    return run(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
