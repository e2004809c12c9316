"""The class database, SQLite vs PostgreSQL on this machine: a budget reserve + settle, and the meter's read.

    python benchmarks/bench_store.py [--n 400] [--threads 8]

Starts a throw-away PostgreSQL cluster (scripts/pg_cluster.py; fsync off, as in the tests: a production server
with fsync on adds a disk flush per commit) and a fresh SQLite file, then per engine:
1. reserve + settle of one call, one after another (median and p95, ms);
2. the meter's read (``Budget.status()``: spend and reservations of the workspace and the app), median / p95;
3. ``--threads`` threads each reserving + settling ``--n / threads`` times at once: calls per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ragft.costs.budget import Budget  # noqa: E402
from ragft.store import db as store_db  # noqa: E402
from scripts.pg_cluster import create_database, throwaway_postgres  # noqa: E402


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.2f} ms, p95 {xs[int(len(xs) * 0.95) - 1] * 1000:.2f} ms"


def measure(label: str, data_dir: Path, n: int, threads: int) -> None:
    budget = Budget(data_dir, app_cap=Decimal("1000000"), workspace_id="ws-bench")
    budget.status()  # opens, migrates
    one: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        budget.reserve(Decimal("0.001")).settle(Decimal("0.0005"))
        one.append(time.perf_counter() - t0)
    reads: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        budget.status()
        reads.append(time.perf_counter() - t0)

    def worker(k: int) -> None:
        b = Budget(data_dir, app_cap=Decimal("1000000"), workspace_id=f"ws-{k}")
        for _ in range(n // threads):
            b.reserve(Decimal("0.001")).settle(Decimal("0.0005"))

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    rate = (n // threads) * threads / (time.perf_counter() - t0)
    print(f"{label:11s} reserve+settle: {_ms(one)} | meter read: {_ms(reads)} | {threads} threads: {rate:.0f} calls/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop(store_db.DATABASE_URL_ENV, None)
        measure("SQLite", Path(tmp) / "sqlite", args.n, args.threads)
        with throwaway_postgres() as server:
            os.environ[store_db.DATABASE_URL_ENV] = create_database(server, "bench")
            measure("PostgreSQL", Path(tmp) / "pg", args.n, args.threads)
            for store in store_db._stores.values():
                store.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
