"""App start: seconds from `streamlit run` to a rendered Home page, and the server's RSS with the models loaded.

Starts the real app on a free port (fresh data dir, so the sample collection is built as on a first start unless
--warm), opens it in headless Debian Chromium and waits for the Home title and the "Active models" block to render.
Prints the phases and the RSS of the Streamlit process (read from /proc) once Home has loaded both embedded engines.
Usage: python benchmarks/bench_startup.py [--warm]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port, stop, wait_http  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def once(data_dir: str) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "RAGFT_DATA_DIR": data_dir, "ANONYMIZED_TELEMETRY": "False"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc, timeout=120, expect=b"ok")
        t_health = time.perf_counter() - t0
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = b.new_page()
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.get_by_text("Active models").wait_for(timeout=300_000)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=300_000)
            t_home = time.perf_counter() - t0
            b.close()
        return {"health_s": t_health, "home_s": t_home, "rss_mb": rss_mb(proc.pid)}
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm", action="store_true", help="reuse one data dir: second start (sample already indexed)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        first = once(d)
        print(
            f"first start : server healthy {first['health_s']:.1f} s, Home rendered {first['home_s']:.1f} s, "
            f"RSS {first['rss_mb']:.0f} MB (Home loads the engine of every embedded slot it can)"
        )
        if a.warm:
            second = once(d)
            print(
                f"second start: server healthy {second['health_s']:.1f} s, Home rendered {second['home_s']:.1f} s, "
                f"RSS {second['rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
