"""A room of N participants asking at once, on one app replica vs two, against a latency-bound model endpoint.

    python benchmarks/bench_replicas.py [--n 20] [--tokens 50] [--delay-ms 20] [--topologies 1,2]

What runs, all real and on 127.0.0.1: a throw-away PostgreSQL (``scripts/pg_cluster.py``) as the class database,
``chroma run`` as the vector store, ``tests/fake_latency_server.py`` in its own process as the server's model for
both slots (``--delay-ms`` per token, 50 ms to the first: a hosted model far away), and the app under
``streamlit run`` (``tests/e2e/app_server.py``): one replica, then two replicas with separate local data dirs on a
fresh database each time. The participants are headless Chromium contexts (one browser), each pinned to one replica
(as a load balancer's sticky sessions do: participant ``i`` on replica ``i mod R``). Each opens Compare, then all
ask at the same moment (a different question each); the four panels (base, base + RAG, fine-tuned, fine-tuned +
RAG) stream ``--tokens`` tokens each.

Why browsers and not a scripted WebSocket: Streamlit's protocol is protobuf over a WebSocket whose widget ids are
hashes the script computes at run time; a client that fakes it tests a copy of the protocol, not the app. A browser
context is what a participant is (its session, rerun and streaming redraws included). 20 contexts in one Chromium
fit on 2 cores (each holds one Streamlit page; the browser's CPU is outside the replicas' figures).

Printed per topology: completion per participant (Enter pressed to the fourth panel's metrics line shown: what the
participant waits), p50 / p95 / max; errors (a participant whose four panels did not all finish within
``--timeout``); CPU seconds of each replica's process while the room asked (user + system, from /proc) and its RSS;
the load average. Warm-up first (one question per replica, not counted: models, the sample index, imports).

Run it in a quiet window (nothing else on the machine) for figures that count; on a loaded machine it still shows
that the room works on both topologies.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.pg_cluster import create_database, throwaway_postgres  # noqa: E402
from tests.conftest import chroma_exe, free_port, stop, wait_http  # noqa: E402
from tests.e2e.app_server import app_process  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PANELS = 4
QUESTIONS = [
    "How much does the Kestrel 2 Tent cost?",
    "What is the return policy for opened items?",
    "How heavy is the Heron rain shell?",
    "Which sleeping bag is rated to -5 C?",
    "Do you ship to Canada, and how long does it take?",
]
DONE_JS = (
    "n => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
    ".filter(e => e.innerText.startsWith('first token')).length >= n"
)
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@dataclass(frozen=True)
class Asked:
    replica: int
    seconds: float
    ok: bool
    detail: str = ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its waited-for children), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def latency_server(delay_ms: float) -> Iterator[str]:
    """``tests/fake_latency_server.py`` in its own process (a provider is not in the app's process): its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_latency_server.py"),
            "--port",
            str(port),
            "--delay-ms",
            str(delay_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", proc, timeout=30)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)


@contextmanager
def chroma(path: Path) -> Iterator[tuple[str, int]]:
    exe = chroma_exe()
    if exe is None:
        raise SystemExit("the `chroma` command (package chromadb) is not installed")
    port = free_port()
    with open(path / "chroma.log", "wb") as log:
        proc = subprocess.Popen(
            [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "chroma")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, timeout=60)
            yield "127.0.0.1", port
        finally:
            stop(proc)


async def _open(browser, url: str):
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(180_000)
    await page.goto(f"{url}/compare")
    await page.get_by_label("Your question").wait_for()
    await page.wait_for_selector(IDLE)
    return ctx, page


async def _ask(page, question: str, replica: int, timeout_s: float, start: asyncio.Event) -> Asked:
    box = page.get_by_label("Your question")
    await box.fill(question)
    await start.wait()
    t0 = time.perf_counter()
    await box.press("Enter")
    try:
        await page.wait_for_function(DONE_JS, arg=PANELS, timeout=timeout_s * 1000, polling=50)
    except Exception as exc:  # noqa: BLE001 - a participant whose panels did not finish: counted as an error
        alerts = await page.locator("[data-testid='stAlert']").all_inner_texts()
        return Asked(replica, time.perf_counter() - t0, False, f"{type(exc).__name__}: {' | '.join(alerts)[:200]}")
    return Asked(replica, time.perf_counter() - t0, True)


async def room(urls: list[str], n: int, timeout_s: float, pids: list[int]) -> tuple[list[Asked], list[float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for i, url in enumerate(urls):  # warm-up, one question per replica (not counted)
                ctx, page = await _open(browser, url)
                warm = await _ask(page, QUESTIONS[i % len(QUESTIONS)], i, 600, _set(asyncio.Event()))
                print(f"  warm-up on replica {i + 1}: {warm.seconds:.1f} s{'' if warm.ok else ' ' + warm.detail}")
                await ctx.close()
            gate = asyncio.Semaphore(4)  # the room joins a few at a time (as people do), then asks at once

            async def join(i: int):
                async with gate:
                    return await _open(browser, urls[i % len(urls)])

            opened = await asyncio.gather(*(join(i) for i in range(n)))
            start = asyncio.Event()
            tasks = [
                asyncio.create_task(_ask(page, QUESTIONS[i % len(QUESTIONS)], i % len(urls), timeout_s, start))
                for i, (_ctx, page) in enumerate(opened)
            ]
            await asyncio.sleep(1.0)  # every question typed
            before = [cpu_seconds(pid) for pid in pids]
            start.set()
            asked = await asyncio.gather(*tasks)
            cpu = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
            for ctx, _page in opened:
                await ctx.close()
            return asked, cpu
        finally:
            await browser.close()


def _set(event: asyncio.Event) -> asyncio.Event:
    event.set()
    return event


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[max(0, int(round(0.95 * len(xs))) - 1)]


def run_topology(replicas: int, args, pg_url: str, chroma_at: tuple[str, int], model_url: str, work: Path) -> None:
    db = create_database(pg_url, f"bench_{replicas}_{uuid.uuid4().hex[:8]}")
    host, port = chroma_at
    env = {
        "RAGFT_DATABASE_URL": db,
        "CHROMA_HOST": host,
        "CHROMA_PORT": str(port),
        "RAGFT_MAX_TOKENS": str(args.tokens),
        "RAGFT_BASE_PROVIDER": "custom",
        "RAGFT_BASE_URL": model_url,
        "RAGFT_BASE_MODEL": "fake-base",
        "RAGFT_FT_PROVIDER": "custom",
        "RAGFT_FT_URL": model_url,
        "RAGFT_FT_MODEL": "fake-ft",
        "RAGFT_WORKSPACE_SECRET": "bench-" + "s" * 40,
    }
    with ExitStack() as stack:
        started = []
        for r in range(replicas):
            data = work / f"replicas-{replicas}-{r}"
            data.mkdir()
            started.append(stack.enter_context(app_process(data, **env)))
        urls, pids = [u for u, _ in started], [proc.pid for _, proc in started]
        load0 = os.getloadavg()[0]
        asked, cpu = asyncio.run(room(urls, args.n, args.timeout, pids))
        load1 = os.getloadavg()[0]
        rss = [rss_mb(pid) for pid in pids]
    ok = [a.seconds for a in asked if a.ok]
    errors = [a for a in asked if not a.ok]
    print(f"\n{replicas} replica(s), {args.n} participants ({args.tokens} tokens × {PANELS} panels each):")
    if ok:
        print(
            f"  completion p50 {statistics.median(ok):.2f} s · p95 {_p95(ok):.2f} s · max {max(ok):.2f} s "
            f"(over {len(ok)} who finished)"
        )
    print(f"  errors: {len(errors)}" + "".join(f"\n    replica {e.replica + 1}: {e.detail}" for e in errors[:5]))
    for r in range(replicas):
        mine = [a.seconds for a in asked if a.replica == r and a.ok]
        p95 = f", p95 {_p95(mine):.2f} s" if mine else ""
        print(
            f"  replica {r + 1}: {sum(a.replica == r for a in asked)} participants{p95}, "
            f"{cpu[r]:.1f} CPU-s while the room asked, RSS {rss[r]:.0f} MB"
        )
    print(f"  load average {load0:.1f} before, {load1:.1f} after")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="participants asking at once")
    ap.add_argument("--tokens", type=int, default=50, help="tokens per answer (RAGFT_MAX_TOKENS)")
    ap.add_argument("--delay-ms", type=float, default=20.0, help="the endpoint's delay per token")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds a participant waits before it is an error")
    ap.add_argument("--topologies", default="1,2", help="replica counts to measure, in order")
    args = ap.parse_args()
    print(
        f"bench_replicas: {args.n} participants, {args.tokens} tokens at {args.delay_ms:g} ms/token, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp,
        throwaway_postgres() as pg_url,
        latency_server(args.delay_ms) as model_url,
    ):
        work = Path(tmp)
        with chroma(work) as chroma_at:
            for replicas in (int(x) for x in args.topologies.split(",")):
                run_topology(replicas, args, pg_url, chroma_at, model_url, work)


if __name__ == "__main__":
    main()
