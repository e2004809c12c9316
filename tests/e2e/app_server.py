"""Start the real app under ``streamlit run`` with a chosen environment, as the server a facilitator runs.

Like the ``app_url`` fixture in ``conftest.py`` (free port, ``/_stcore/health`` polled), with the server-side
settings a test needs (``RAGFT_*`` from the outer environment dropped) and ``--server.maxUploadSize`` from
``RAGFT_MAX_UPLOAD_MB``, as ``scripts/run.sh`` passes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from ragft.settings import upload_limit_mb
from tests.conftest import ROOT, free_port, stop, wait_http


@contextmanager
def running_app(data_dir: Path, *extra_args: str, **env_vars: str) -> Iterator[str]:
    """Yield the app's base URL; the server's output goes to ``data_dir / "streamlit.log"``.

    ``extra_args`` go to ``streamlit run`` (e.g. ``"--logger.level", "debug"``).
    """
    with app_process(data_dir, *extra_args, **env_vars) as (url, _proc):
        yield url


@contextmanager
def app_process(
    data_dir: Path, *extra_args: str, cpus: Collection[int] | None = None, **env_vars: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like :func:`running_app`, yielding ``(base URL, the server's process)`` (a benchmark reads its CPU time).

    ``cpus``: run the server pinned to these CPUs (``os.sched_setaffinity`` before it starts; its threads inherit
    them, and the app's CPU policy sizes its threads from them); default: the CPUs of this process.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGFT_", "OPENAI_", "AZURE_"))}
    env.update({"RAGFT_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
    env.setdefault("FORWARDED_ALLOW_IPS", "none")  # as scripts/run.sh: the app's RAGFT_TRUSTED_PROXIES decides
    env.update(env_vars)
    port = free_port()
    pinned = frozenset(cpus) if cpus else None

    def pin() -> None:  # in the child, between fork and exec
        if pinned:
            os.sched_setaffinity(0, pinned)

    with open(data_dir / "streamlit.log", "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "streamlit_app.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
                "--server.maxUploadSize",
                str(upload_limit_mb(env)),
                *extra_args,
            ],
            cwd=str(ROOT),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=pin if pinned else None,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, timeout=90, expect=b"ok")
            yield f"http://127.0.0.1:{port}", proc
        finally:
            stop(proc)
