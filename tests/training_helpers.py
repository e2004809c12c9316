"""Set-up shared by the training-job tests: tiny examples and a tiny config to submit, and waiting on a job."""

from __future__ import annotations

import time
from pathlib import Path

from ragft.training import jobs
from ragft.training.config import TrainConfig
from ragft.training.examples import Example

EXAMPLES = [
    Example(
        f"What does item {i} cost?", f"Howdy from Fernhollow!\n- Item {i} costs ${i}9.\nStay wild, the Fernhollow crew"
    )
    for i in range(5)
]
TINY = TrainConfig(steps=2, batch_size=2, warmup_steps=1, max_len=128)


def wait_for(pred, timeout=60.0, every=0.1):
    """``pred()``'s first true value, polled every ``every`` seconds; AssertionError after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def wait_final(data_dir: Path, job: str, timeout: float = 60.0, every: float = 0.1) -> jobs.JobStatus:
    """The status of ``job`` once it has ended (done, failed or stopped)."""
    return wait_for(lambda: (s := jobs.status(data_dir, job)).state in jobs.FINAL and s, timeout, every)
