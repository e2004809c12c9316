"""The room as participants see it: N participants in headless Chromium on the Compare page, asking at once.

The real app (``streamlit run streamlit_app.py``, a fresh data dir, the embedded default) and one headless Chromium
(``/usr/bin/chromium`` through Playwright); every participant is its own browser context (its own session and
workspace), on the Compare page with its four configurations (base, base + RAG, fine-tuned, fine-tuned + RAG). A
warm-up participant asks first (the engines load, the sample scenario is indexed); then, for each N, N participants
open the page, type their question and press Enter at the same moment. What each page shows is timed in the page
itself (a MutationObserver, ``Date.now()``):

- **completion**: from the participant's Enter to the last of its four panels showing its metrics line (or an error);
  p50 / p95 and max/min across the participants;
- **first token**: the first visible answer text of each panel (the streaming cursor, or the finished answer);
  p50 / p95 over all panels, and the first panel of each participant;
- **errors**: exceptions on the page (``stException``), uncaught page errors, panels that finished with an error;
- **CPU-seconds** from ``/proc/<pid>/stat`` (utime + stime of every process of the tree, children already reaped
  included): the app server's process tree, and Chromium's (every process of this script's tree whose command line
  is Chromium's), counted apart; the Playwright driver is this harness's own;
- **aggregate tokens/s**: the generated tokens every panel reports (its metrics line) over the room's wall time (the
  first Enter to the last panel done), against raw llama.cpp on the same machine in the same run
  (``benchmarks/raw_llama.py``: one sequence, and 4 and 8 sequences batched in one context, best of a few rounds;
  generation only, its own ~130-token prompts, 64 tokens each);
- **raw at the room's sizes**: after the rooms, raw llama.cpp once more on prompts and answers of the sizes the room's
  panels reported (their metrics lines: the RAG panels' prompts carry their retrieved chunk, the plain ones only the
  question; each answer as long as the panel's), as many sequences as the raw batched figure of that room, end to
  end (prompt evaluation included, as the room's own wall time includes it): the fairer yardstick;
- **against a fair share**: raw llama.cpp end to end on each participant's own four panels alone (their sizes,
  batched in one context) gives what it needs of the engine; an ideal fair share of participants asking at once
  (each of the k still waiting gets 1/k of the engine) then says when each would finish. Completion over that, max/min
  across the participants, is 1.0 for a fair share whatever the lengths of their answers: completion max/min mixes
  fairness with how much each one asked for;
- **deltas**: the websocket messages the server sent the participants' pages during the round, per generated token.

``--same-question``: every participant of a round asks the same question (each round its own), the facilitator's
"everybody ask this"; by default each participant asks another.

Goals (printed with pass/fail): aggregate ≥ 0.8 × raw batched (at as many sequences as the room streams at once, 4
or 8); max/min completion ≤ 1.3; 0 errors.

``--server-cpus 0 --browser-cpus 1`` partitions the machine: the app server's process tree (``streamlit run``) and the
raw llama.cpp yardstick (its own process, as many threads as the server has CPUs) pinned to the server's CPUs,
Chromium, the Playwright driver and this harness to the browsers' (``os.sched_setaffinity``; the app's CPU policy
sizes its threads from its affinity, so 1 CPU = 1 generation thread). In a workshop the browsers are the
participants' laptops: with the partition, the server's figures no longer depend on how much the browsers take.
The report and ``--json`` state the partition and the affinities seen in the processes. Unset: everything shares
every CPU.

``--idle-tabs 0,10,20`` also measures the server's share of idle participants: that many tabs open on Compare, no
question asked, the server's CPU over a window (``--idle-window``), and the messages each tab receives (the sidebar
meter's fragment reruns every ``IDLE_EVERY_S``, as the session's heartbeat).

The app only drives the UI: it measures whatever engine the app runs (one sequence per context today, or batched).
Run it on a quiet machine (nothing else running); the figures of a loaded machine say little:

    python benchmarks/bench_room.py                        # N = 1, 4, 8, idle tabs 0, 10, 20
    python benchmarks/bench_room.py --quick                # N = 1, short answers, a few idle tabs: a smoke run
    python benchmarks/bench_room.py --n 4 --idle-tabs ''   # one room size, no idle part
    python benchmarks/bench_room.py --json room.json       # the figures as JSON too
    python benchmarks/bench_room.py --server-cpus 0 --browser-cpus 1   # the server on CPU 0, the browsers on CPU 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import raw_llama  # noqa: E402

from ragft.configs import THESIS  # noqa: E402
from ragft.models import cpu  # noqa: E402
from tests.e2e.app_server import app_process  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

KEYS = [c.key for c in THESIS]  # the Compare page's four panels, on by default
QUESTIONS = (
    "How much does the Kestrel 2 Tent cost?",
    "What is the return policy for opened items?",
    "How heavy is the Summit 30 backpack?",
    "How long does standard shipping take?",
    "Which sleeping bag is rated to -5 C?",
    "Is the Cirrus rain jacket waterproof?",
    "What warranty comes with the trekking poles?",
    "Can I exchange a stove for a different model?",
)
# The warm-up asks none of the rounds' questions: the batch engine's prompt cache would otherwise hand the first
# round's first participant its whole prompt already evaluated (only the shared system prompt is fair game).
WARMUP_QUESTION = "What colours does the Kestrel 2 Tent come in?"
ROUND_WORDING = ("", "briefly", "in one or two sentences", "in plain words", "for a customer", "with the figure")
GOAL_AGGREGATE = 0.8
GOAL_MAX_MIN = 1.3
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Timed in the page: the participant's Enter, each panel's first visible answer text and its end (metrics line or
# an error), the tokens its metrics line reports. Panels are `st.container(key="cmp_panel_<key>")`.
OBSERVER_JS = """
(keys) => {
  const room = {asked: null, first: {}, done: {}, inp: {}, out: {}, ttft: {}, failed: {}};
  window.__room = room;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && room.asked === null) room.asked = Date.now();
  }, true);
  const tokens = /tokens\\s*≈?\\s*([\\d,]+)\\s*in\\s*\\/\\s*≈?\\s*([\\d,]+)\\s*out/;
  const ttft = /first token\\s*([\\d.]+)\\s*s/;
  const check = () => {
    if (room.asked === null) return;
    const now = Date.now();
    for (const k of keys) {
      if (k in room.done) continue;
      const el = document.querySelector('.st-key-cmp_panel_' + k);
      if (!el) continue;
      const text = el.textContent || '';
      const metrics = text.match(tokens);
      const failed = el.querySelector('[data-testid="stAlertContentError"]') !== null;
      if (!(k in room.first) && (text.includes('▌') || metrics)) room.first[k] = now;
      if (metrics || failed) {
        room.done[k] = now;
        if (!(k in room.first)) room.first[k] = now;
        room.inp[k] = metrics ? parseInt(metrics[1].replace(/,/g, ''), 10) : 0;
        room.out[k] = metrics ? parseInt(metrics[2].replace(/,/g, ''), 10) : 0;
        const t = text.match(ttft);
        if (t) room.ttft[k] = parseFloat(t[1]);
        room.failed[k] = failed;
      }
    }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
  setInterval(check, 250);
}
"""


# ---- CPU time of process trees --------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime + cutime + cstime in ticks) of ``pid``, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _all_stats() -> dict[int, tuple[int, int]]:
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _stat(int(d.name))
            if st is not None:
                out[int(d.name)] = st
    return out


def _descendants(root: int, stats: dict[int, tuple[int, int]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = {root}, [root]
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU-seconds so far of the server's tree, of Chromium's processes under this script, and of the rest of this
    script's tree (the harness: this process and the Playwright driver). Differences of two calls are what a window
    cost (a process reaped meanwhile is in its parent's children's time)."""
    stats = _all_stats()
    server = _descendants(server_pid, stats) & stats.keys()
    mine = (_descendants(os.getpid(), stats) - server) & stats.keys()
    browser = {p for p in mine if "chrom" in _cmdline(p).split(" ")[0].lower()}
    harness = mine - browser

    def total(pids: Iterable[int]) -> float:
        return sum(stats[p][1] for p in pids) / CLK_TCK

    return {"server": total(server), "browser": total(browser), "harness": total(harness)}


def _delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: round(b[k] - a[k], 2) for k in a}


# ---- CPU partition ------------------------------------------------------------------------------------------------
def parse_cpus(text: str | None) -> tuple[int, ...] | None:
    """A CPU list as taskset takes it ("0", "1", "0-1", "0,2-3") as sorted CPU ids; None for unset or empty."""
    if not text or not text.strip():
        return None
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    allowed = os.sched_getaffinity(0)
    if not out <= allowed:
        raise SystemExit(f"CPUs {sorted(out - allowed)} are not among this process's CPUs {sorted(allowed)}")
    return tuple(sorted(out))


def cpu_list(cpus: Iterable[int] | None) -> str:
    return ",".join(str(c) for c in sorted(cpus)) if cpus is not None else "all"


def pin_process(cpus: Sequence[int]) -> None:
    """Pin every thread of this process (numpy's and llama.cpp's included) to ``cpus``; children inherit it."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:  # a thread that ended meanwhile
            pass


def affinities(server_pid: int) -> dict[str, str]:
    """The CPUs the processes of each group may run on now (the union over the group), as the kernel has them."""
    stats = _all_stats()
    server = _descendants(server_pid, stats) & stats.keys()
    mine = (_descendants(os.getpid(), stats) - server) & stats.keys()
    browser = {p for p in mine if "chrom" in _cmdline(p).split(" ")[0].lower()}
    out = {}
    for name, pids in (("server", server), ("browser", browser), ("harness", mine - browser)):
        cpus: set[int] = set()
        for pid in pids:
            try:
                cpus |= os.sched_getaffinity(pid)
            except OSError:
                pass
        out[name] = cpu_list(cpus) if cpus else "-"
    return out


# ---- participants ---------------------------------------------------------------------------------------------
class Participant:
    """One browser context on the Compare page: its own session, its own workspace."""

    def __init__(self, ctx: Any, page: Any, question: str) -> None:
        self.ctx, self.page, self.question = ctx, page, question
        self.page_errors: list[str] = []
        self.frames = 0  # websocket messages from the server
        self.frame_bytes = 0

    @classmethod
    async def open(cls, browser: Any, url: str, question: str, timeout_s: float) -> Participant:
        ctx = await browser.new_context(viewport={"width": 1600, "height": 1000})
        page = await ctx.new_page()
        page.set_default_timeout(timeout_s * 1000)
        me = cls(ctx, page, question)
        page.on("pageerror", lambda exc: me.page_errors.append(str(exc)))
        page.on("websocket", me._watch)
        await page.goto(f"{url}/compare")
        await page.get_by_label("Your question").wait_for()
        await me.wait_idle(timeout_s)
        return me

    def _watch(self, ws: Any) -> None:
        def received(payload: Any) -> None:
            self.frames += 1
            self.frame_bytes += len(payload)

        ws.on("framereceived", received)

    async def wait_idle(self, timeout_s: float) -> None:
        await self.page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_s * 1000
        )

    async def ready(self) -> None:
        """Question typed, the observer installed: pressing Enter is all that is left."""
        await self.page.get_by_label("Your question").fill(self.question)
        await self.page.evaluate(OBSERVER_JS, KEYS)

    async def ask(self) -> None:
        await self.page.get_by_label("Your question").press("Enter", no_wait_after=True)

    async def wait_done(self, timeout_s: float) -> None:
        await self.page.wait_for_function(
            "n => window.__room && Object.keys(window.__room.done).length >= n", arg=len(KEYS), timeout=timeout_s * 1000
        )

    async def result(self) -> dict[str, Any]:
        room = await self.page.evaluate("() => window.__room")
        room["exceptions"] = await self.page.locator("[data-testid='stException']").count()
        room["page_errors"] = list(self.page_errors)
        return room

    async def close(self) -> None:
        await self.ctx.close()


# ---- one room round -------------------------------------------------------------------------------------------
@dataclass
class RoundResult:
    n: int
    load_before: float
    load_after: float
    completion_s: list[float] = field(default_factory=list)  # per participant
    first_token_s: list[float] = field(default_factory=list)  # per panel
    first_panel_s: list[float] = field(default_factory=list)  # per participant: its first panel's first token
    server_ttft_s: list[float] = field(default_factory=list)  # the panels' own "first token" figures
    wall_s: float = 0.0
    tokens: int = 0
    errors: int = 0
    error_notes: list[str] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)
    frames: int = 0
    frame_bytes: int = 0
    panel_sizes: list[tuple[int, int]] = field(default_factory=list)  # (prompt tokens, answer tokens) per panel
    # per participant (in completion_s's order): its own panels' sizes, and raw llama.cpp's end-to-end time for those
    # panels alone, batched in one context (filled in after the rooms, see alone_times)
    participant_sizes: list[list[tuple[int, int]]] = field(default_factory=list)
    alone_s: list[float] = field(default_factory=list)

    @property
    def aggregate_tps(self) -> float:
        return self.tokens / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def max_min(self) -> float:
        done = [c for c in self.completion_s if c > 0]
        return max(done) / min(done) if done else float("nan")

    @property
    def fair_share_s(self) -> list[float]:
        """Per participant: when an ideal fair share would finish it (see :func:`fair_share`), from ``alone_s``."""
        return fair_share(self.alone_s) if self.alone_s and all(a > 0 for a in self.alone_s) else []

    @property
    def vs_fair_share(self) -> list[float]:
        """Per participant: its completion over its ideal fair-share completion."""
        return [c / f for c, f in zip(self.completion_s, self.fair_share_s, strict=False) if c > 0 and f > 0]

    @property
    def fair_max_min(self) -> float:
        """max/min of :attr:`vs_fair_share`: 1.0 when every participant got the same share of the engine, whatever
        the length of its answers (completion max/min is also 1.0 only when their work is the same)."""
        v = self.vs_fair_share
        return max(v) / min(v) if v else float("nan")


def fair_share(alone: Sequence[float]) -> list[float]:
    """Completion times under an ideal fair share (processor sharing) of participants who all ask at time 0, each
    needing ``alone[i]`` seconds of the engine to itself: while k are left each gets 1/k of it, so the one needing
    least finishes first at N × its need, and so on (the room's own speed-up from batching is left out: it scales
    every participant alike while they all stream, which is most of a round)."""
    order = sorted(range(len(alone)), key=lambda i: alone[i])
    out = [0.0] * len(alone)
    t, served = 0.0, 0.0
    for rank, i in enumerate(order):
        left = len(alone) - rank
        t += (alone[i] - served) * left
        served = alone[i]
        out[i] = t
    return out


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))]


async def room_round(
    browser: Any,
    url: str,
    server_pid: int,
    n: int,
    timeout_s: float,
    seen: dict[str, Any] | None = None,
    questions: Sequence[str] = QUESTIONS,
) -> RoundResult:
    """One round of ``n`` participants; ``seen``: a dict to record the groups' CPU affinities in (``"seen"``)."""
    parts = [await Participant.open(browser, url, questions[i % len(questions)], timeout_s) for i in range(n)]
    if seen is not None:
        seen["seen"] = affinities(server_pid)
    try:
        for p in parts:
            await p.ready()
        await asyncio.sleep(1.0)  # the pages' own first runs settle
        r = RoundResult(n=n, load_before=os.getloadavg()[0], load_after=0.0)
        frames0 = [(p.frames, p.frame_bytes) for p in parts]
        cpu0 = cpu_seconds(server_pid)
        await asyncio.gather(*(p.ask() for p in parts))  # Enter in every page at once
        await asyncio.gather(*(p.wait_done(timeout_s) for p in parts))
        cpu1 = cpu_seconds(server_pid)
        r.load_after = os.getloadavg()[0]
        r.cpu_s = _delta(cpu0, cpu1)
        for p, (f0, b0) in zip(parts, frames0):
            r.frames += p.frames - f0
            r.frame_bytes += p.frame_bytes - b0
        rooms = [await p.result() for p in parts]
    finally:
        for p in parts:
            await p.close()
    starts, ends = [], []
    for i, room in enumerate(rooms):
        asked = room["asked"]
        if asked is None:
            r.errors += 1
            r.error_notes.append(f"participant {i}: Enter was not seen")
            continue
        starts.append(asked)
        ends.append(max(room["done"].values()))
        r.completion_s.append((max(room["done"].values()) - asked) / 1000)
        firsts = [(room["first"][k] - asked) / 1000 for k in KEYS if k in room["first"]]
        r.first_token_s.extend(firsts)
        if firsts:
            r.first_panel_s.append(min(firsts))
        r.server_ttft_s.extend(room["ttft"].values())
        r.tokens += sum(room["out"].values())
        own = [(room["inp"][k], room["out"][k]) for k in KEYS if room["out"].get(k)]
        r.panel_sizes.extend(own)
        r.participant_sizes.append(own)
        failed = [k for k, f in room["failed"].items() if f]
        r.errors += room["exceptions"] + len(room["page_errors"]) + len(failed)
        if room["exceptions"]:
            r.error_notes.append(f"participant {i}: {room['exceptions']} exception(s) on the page")
        r.error_notes.extend(f"participant {i}: {e[:120]}" for e in room["page_errors"])
        r.error_notes.extend(f"participant {i}: the {k} panel failed" for k in failed)
    if starts:
        r.wall_s = (max(ends) - min(starts)) / 1000
    return r


# ---- idle tabs ------------------------------------------------------------------------------------------------
@dataclass
class IdleResult:
    tabs: int
    window_s: float
    load: float
    server_cpu_s: float
    frames_per_tab_min: float

    @property
    def server_cores(self) -> float:
        return self.server_cpu_s / self.window_s


async def idle_round(
    browser: Any, url: str, server_pid: int, tabs: int, window_s: float, timeout_s: float
) -> IdleResult:
    parts = [await Participant.open(browser, url, "", timeout_s) for _ in range(tabs)]
    try:
        await asyncio.sleep(3.0)  # first runs done, fragments on their idle interval
        frames0 = sum(p.frames for p in parts)
        cpu0 = cpu_seconds(server_pid)
        await asyncio.sleep(window_s)
        cpu1 = cpu_seconds(server_pid)
        frames = sum(p.frames for p in parts) - frames0
    finally:
        for p in parts:
            await p.close()
    return IdleResult(
        tabs=tabs,
        window_s=window_s,
        load=os.getloadavg()[0],
        server_cpu_s=round(cpu1["server"] - cpu0["server"], 2),
        frames_per_tab_min=round(frames / tabs / (window_s / 60), 1) if tabs else 0.0,
    )


# ---- raw llama.cpp --------------------------------------------------------------------------------------------
def measure_raw(n_seqs: Sequence[int], rounds: int, max_tokens: int, threads: int) -> dict[int, raw_llama.DecodeResult]:
    out = {}
    with raw_llama.RawModel() as m:
        raw_llama.decode(m, raw_llama.room_prompts(m, 1), 4, n_threads=threads)  # warm-up
        for n in n_seqs:
            out[n] = raw_llama.best_of(m, n, rounds=rounds, max_tokens=max_tokens, n_threads=threads)
    return out


def measure_sized(
    sizes: dict[int, list[tuple[int, int]]], rounds: int, threads: int
) -> dict[int, raw_llama.DecodeResult]:
    """Raw llama.cpp on the room's sizes: per room size N, one batch of its panels' (prompt, answer) token counts."""
    out = {}
    with raw_llama.RawModel() as m:
        raw_llama.decode(m, raw_llama.room_prompts(m, 1), 4, n_threads=threads)  # warm-up
        for n, batch in sizes.items():
            out[n] = raw_llama.sized_run(m, batch, rounds=rounds, n_threads=threads)
    return out


def measure_alone(batches: list[list[tuple[int, int]]], rounds: int, threads: int) -> dict[int, raw_llama.DecodeResult]:
    """Raw llama.cpp on each participant's own panels alone (keyed by its index in ``batches``)."""
    out = {}
    with raw_llama.RawModel() as m:
        raw_llama.decode(m, raw_llama.room_prompts(m, 1), 4, n_threads=threads)  # warm-up
        for i, batch in enumerate(batches):
            if batch:
                out[i] = raw_llama.sized_run(m, batch, rounds=rounds, n_threads=threads)
    return out


def _raw_job(spec: dict[str, Any]) -> dict[int, raw_llama.DecodeResult]:
    if spec["kind"] == "alone":
        batches = [[(int(p), int(a)) for p, a in b] for b in spec["batches"]]
        return measure_alone(batches, spec["rounds"], spec["threads"])
    if spec["kind"] == "sized":
        sizes = {int(n): [(int(p), int(a)) for p, a in b] for n, b in spec["sizes"].items()}
        return measure_sized(sizes, spec["rounds"], spec["threads"])
    return measure_raw(spec["n_seqs"], spec["rounds"], spec["max_tokens"], spec["threads"])


def raw_pinned(spec: dict[str, Any], cpus: Sequence[int] | None) -> dict[int, raw_llama.DecodeResult]:
    """:func:`_raw_job` here (no partition: today's way), or in a process of its own pinned to ``cpus``."""
    if cpus is None:
        return _raw_job(spec)
    pinned = frozenset(cpus)
    done = subprocess.run(
        [sys.executable, __file__, "--raw-worker", json.dumps(spec)],
        check=True,
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, pinned),
    )
    rows = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return {
        int(n): raw_llama.DecodeResult(**(d | {"tokens": tuple(tuple(t) for t in d["tokens"])}))
        for n, d in rows.items()
    }


def alone_times(rounds: list[RoundResult], raw_rounds: int, threads: int, cpus: Sequence[int] | None) -> None:
    """Fill each round's ``alone_s``: raw llama.cpp end to end on each participant's own panels alone."""
    batches = [sizes for r in rounds for sizes in r.participant_sizes]
    alone = raw_pinned({"kind": "alone", "batches": batches, "rounds": raw_rounds, "threads": threads}, cpus)
    i = 0
    for r in rounds:
        r.alone_s = []
        for _ in r.participant_sizes:
            d = alone.get(i)
            r.alone_s.append(d.prompt_s + d.decode_s if d else 0.0)
            i += 1


def room_sizes(r: RoundResult, width: int) -> list[tuple[int, int]]:
    """``width`` of a round's panel sizes (in the pages' order: plain and RAG panels alternate), cycled if fewer."""
    if not r.panel_sizes:
        return []
    return [r.panel_sizes[i % len(r.panel_sizes)] for i in range(width)]


def raw_for(streams: int, raw: dict[int, raw_llama.DecodeResult]) -> tuple[int, float]:
    """The raw figure a room streaming ``streams`` answers at once is held to: the widest measured batch that fits."""
    fit = [n for n in raw if n <= streams] or [min(raw)]
    n = max(fit)
    return n, raw[n].tokens_per_s


# ---- report ---------------------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def describe_partition(partition: dict[str, Any]) -> str:
    if partition["server_cpus"] is None:
        return (
            f"CPU partition: none (the app server, the browsers and raw llama.cpp share CPUs {partition['all_cpus']})"
        )
    seen = partition.get("seen") or {}
    return (
        f"CPU partition: app server (streamlit's process tree) and raw llama.cpp ({partition['raw_threads']} "
        f"thread(s)) on CPUs {partition['server_cpus']}; Chromium, the Playwright driver and the harness on CPUs "
        f"{partition['browser_cpus']}; affinities seen in the processes: server {seen.get('server', '?')}, "
        f"browsers {seen.get('browser', '?')}, harness {seen.get('harness', '?')}"
    )


def report(
    rounds: list[RoundResult],
    raw: dict[int, raw_llama.DecodeResult],
    idle: list[IdleResult],
    sized: dict[int, raw_llama.DecodeResult] | None = None,
    partition: dict[str, Any] | None = None,
) -> dict:
    sized = sized or {}
    print()
    if partition:
        print(describe_partition(partition))
    print("raw llama.cpp (benchmarks/raw_llama.py, best of the rounds, its own prompts, generation only):")
    for n, r in sorted(raw.items()):
        print(
            f"  {n} sequence(s): {r.tokens_per_s:6.1f} tokens/s ({r.tokens_per_s / raw[min(raw)].tokens_per_s:.2f}x), "
            f"with prompt evaluation {r.end_to_end_tokens_per_s:6.1f} tokens/s, threads {r.n_threads}, "
            f"prompts {r.prompt_tokens / r.n_seq:.0f} tokens, answers {r.generated / r.n_seq:.0f} tokens"
        )
    if sized:
        print("raw llama.cpp at the room's sizes (the panels' own prompt and answer token counts, best end to end):")
        for n, r in sorted(sized.items()):
            lens = sorted(len(t) for t in r.tokens)
            print(
                f"  room N={n}: {r.n_seq} sequences, prompts {r.prompt_tokens / r.n_seq:.0f} tokens on average, "
                f"answers {lens[0]}-{lens[-1]} tokens: end to end {r.end_to_end_tokens_per_s:6.1f} tokens/s "
                f"(prompts {r.prompt_s:.2f} s), generation {r.tokens_per_s:6.1f} tokens/s, threads {r.n_threads}"
            )
    print()
    hdr = (
        "| N | completion p50 / p95 | max/min | first token p50 / p95 (first panel p50) | errors | server CPU-s | "
        "browser CPU-s | tokens | aggregate tokens/s | raw batched (seqs) | aggregate/raw | raw at room sizes, "
        "end to end | aggregate/raw at room sizes | deltas/token | load |"
    )
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    goals = []
    for r in rounds:
        seqs, raw_tps = raw_for(len(KEYS) * r.n, raw)
        ratio = r.aggregate_tps / raw_tps if raw_tps else float("nan")
        fair = sized[r.n].end_to_end_tokens_per_s if r.n in sized else float("nan")
        fair_ratio = r.aggregate_tps / fair if fair == fair and fair else float("nan")
        print(
            f"| {r.n} | {pct(r.completion_s, 50):.2f} / {pct(r.completion_s, 95):.2f} s | {r.max_min:.2f} | "
            f"{pct(r.first_token_s, 50):.2f} / {pct(r.first_token_s, 95):.2f} s ({pct(r.first_panel_s, 50):.2f} s) | "
            f"{r.errors} | {r.cpu_s.get('server', 0):.1f} | {r.cpu_s.get('browser', 0):.1f} | {r.tokens} | "
            f"{r.aggregate_tps:.1f} | {raw_tps:.1f} ({seqs}) | {ratio:.2f} | {fair:.1f} | {fair_ratio:.2f} | "
            f"{r.frames / r.tokens if r.tokens else float('nan'):.2f} | {r.load_before:.1f} → {r.load_after:.1f} |"
        )
        goals.append(
            (
                r.n,
                [
                    (f"aggregate ≥ {GOAL_AGGREGATE}× raw batched", ratio >= GOAL_AGGREGATE, f"{ratio:.2f}"),
                    (
                        f"aggregate ≥ {GOAL_AGGREGATE}× raw at the room's sizes (end to end)",
                        fair_ratio >= GOAL_AGGREGATE,
                        f"{fair_ratio:.2f}",
                    ),
                    (f"max/min ≤ {GOAL_MAX_MIN}", r.max_min <= GOAL_MAX_MIN, f"{r.max_min:.2f}"),
                    ("0 errors", r.errors == 0, str(r.errors)),
                ],
            )
        )
    for r in rounds:
        if r.vs_fair_share:
            work = [sum(a for _, a in sizes) for sizes in r.participant_sizes]
            print(
                f"N={r.n}: against a fair share (completion / ideal fair-share completion from raw llama.cpp's time "
                f"for each participant's own panels alone) {min(r.vs_fair_share):.2f}-{max(r.vs_fair_share):.2f}, "
                f"max/min {r.fair_max_min:.2f} (completion max/min {r.max_min:.2f}); raw alone "
                f"{min(r.alone_s):.2f}-{max(r.alone_s):.2f} s; answer tokens per participant {min(work)}-{max(work)}"
            )
    for r in rounds:
        if r.tokens:
            print(
                f"N={r.n}: server {1000 * r.cpu_s.get('server', 0) / r.tokens:.0f} ms CPU per generated token, "
                f"{r.cpu_s.get('server', 0) / r.wall_s if r.wall_s else 0:.2f} cores; browser "
                f"{r.cpu_s.get('browser', 0) / r.wall_s if r.wall_s else 0:.2f} cores; harness "
                f"{r.cpu_s.get('harness', 0):.1f} CPU-s; {r.frames} messages, {r.frame_bytes / 1e6:.1f} MB to the pages; "
                f"panels' own first token p50 {pct(r.server_ttft_s, 50):.2f} s"
            )
        for note in r.error_notes[:10]:
            print(f"  N={r.n} error: {note}")
    print()
    for n, checks in goals:
        print(f"N={n}: " + "; ".join(f"{name}: {value} {verdict(ok)}" for name, ok, value in checks))
    if idle:
        print()
        print("| idle tabs | server CPU-s | server cores | per tab (ms CPU / s) | messages per tab per minute | load |")
        print("|---|---|---|---|---|---|")
        base = next((i for i in idle if i.tabs == 0), None)
        for i in idle:
            extra = i.server_cores - (base.server_cores if base else 0.0)
            per_tab = f"{1000 * extra / i.tabs:.1f}" if i.tabs else "—"
            print(
                f"| {i.tabs} | {i.server_cpu_s:.2f} over {i.window_s:.0f} s | {i.server_cores:.3f} | {per_tab} | "
                f"{i.frames_per_tab_min} | {i.load:.1f} |"
            )

    def raw_row(r: raw_llama.DecodeResult) -> dict[str, Any]:
        return asdict(r) | {"tokens_per_s": r.tokens_per_s, "end_to_end_tokens_per_s": r.end_to_end_tokens_per_s}

    return {
        "partition": partition or {},
        "raw": {n: raw_row(r) for n, r in raw.items()},
        "raw_room_sizes": {n: raw_row(r) for n, r in sized.items()},
        "rounds": [
            asdict(r)
            | {"aggregate_tps": r.aggregate_tps, "max_min": r.max_min, "vs_fair_share": r.vs_fair_share}
            | {"fair_share_s": r.fair_share_s, "fair_max_min": r.fair_max_min}
            for r in rounds
        ],
        "idle": [asdict(i) | {"server_cores": i.server_cores} for i in idle],
        "goals": {n: {name: ok for name, ok, _ in checks} for n, checks in goals},
    }


# ---- main -----------------------------------------------------------------------------------------------------
def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


async def run(a: argparse.Namespace) -> dict:
    from playwright.async_api import async_playwright

    server_cpus, browser_cpus = a.server_cpus, a.browser_cpus
    partition: dict[str, Any] = {
        "server_cpus": cpu_list(server_cpus) if server_cpus else None,
        "browser_cpus": cpu_list(browser_cpus) if browser_cpus else None,
        "all_cpus": cpu_list(os.sched_getaffinity(0)),
        "raw_threads": a.threads,
    }
    if browser_cpus:
        pin_process(browser_cpus)  # the harness; the Playwright driver and Chromium inherit it
    print(
        f"bench_room: N={a.n} idle tabs={a.idle_tabs} max_tokens={a.max_tokens or 'app default'} "
        f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(describe_partition(partition), flush=True)
    raw_spec = {"kind": "widths", "n_seqs": _ints(a.raw_seqs), "rounds": a.raw_rounds, "max_tokens": a.raw_tokens}
    raw = raw_pinned(raw_spec | {"threads": a.threads}, server_cpus)
    print("raw llama.cpp: " + ", ".join(f"{n} seq {r.tokens_per_s:.1f} tokens/s" for n, r in raw.items()), flush=True)
    data = Path(a.data_dir) if a.data_dir else Path(tempfile.mkdtemp(prefix="bench-room-"))
    data.mkdir(parents=True, exist_ok=True)
    env = {"RAGFT_MAX_TOKENS": str(a.max_tokens)} if a.max_tokens else {}
    rounds: list[RoundResult] = []
    idle: list[IdleResult] = []
    with app_process(data, cpus=server_cpus, **env) as (url, proc):
        print(f"app server: pid {proc.pid}, log {data / 'streamlit.log'}", flush=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                t = time.perf_counter()
                warm = await room_round(
                    browser, url, proc.pid, 1, a.timeout, seen=partition, questions=[WARMUP_QUESTION]
                )
                print(f"warm-up: {time.perf_counter() - t:.1f} s, {warm.errors} error(s)", flush=True)
                print(describe_partition(partition), flush=True)
                for tabs in _ints(a.idle_tabs):
                    i = await idle_round(browser, url, proc.pid, tabs, a.idle_window, a.timeout)
                    idle.append(i)
                    print(f"idle tabs={tabs}: server {i.server_cores:.3f} cores", flush=True)
                for k, n in enumerate(_ints(a.n)):
                    # Every round asks its own wording: a prompt asked in an earlier round would come back whole
                    # from the engine's prompt cache (a room that asks again is measured, not a cached one).
                    qs = [q if k == 0 else f"{q} ({ROUND_WORDING[k % len(ROUND_WORDING)]})" for q in QUESTIONS]
                    if a.same_question:  # the facilitator's "everybody ask this": one question per round
                        qs = [qs[k % len(qs)]]
                    r = await room_round(browser, url, proc.pid, n, a.timeout, questions=qs)
                    rounds.append(r)
                    print(
                        f"N={n}: completion p50 {pct(r.completion_s, 50):.1f} s, max/min {r.max_min:.2f}, "
                        f"{r.aggregate_tps:.1f} tokens/s, {r.errors} error(s)",
                        flush=True,
                    )
            finally:
                await browser.close()
    if a.raw_after:
        after = raw_pinned(raw_spec | {"threads": a.threads}, server_cpus)
        raw = {n: max(raw[n], after[n], key=lambda r: r.tokens_per_s) for n in raw}
    sizes = {r.n: room_sizes(r, raw_for(len(KEYS) * r.n, raw)[0]) for r in rounds}
    sizes = {n: b for n, b in sizes.items() if b}
    sized = raw_pinned({"kind": "sized", "sizes": sizes, "rounds": a.raw_rounds, "threads": a.threads}, server_cpus)
    alone_times(rounds, a.raw_rounds, a.threads, server_cpus)
    return report(rounds, raw, idle, sized, partition)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default=None, help="room sizes, comma-separated (default 1,4,8; --quick: 1)")
    ap.add_argument("--idle-tabs", default=None, help="idle tab counts, comma-separated, '' for none (default 0,10,20)")
    ap.add_argument("--idle-window", type=float, default=None, help="seconds of idle CPU measured (default 60)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: N=1, answers of 24 tokens, short windows")
    ap.add_argument("--max-tokens", type=int, default=None, help="RAGFT_MAX_TOKENS for the app (default: its own)")
    ap.add_argument(
        "--same-question",
        action="store_true",
        help="every participant of a round asks the same question (each round its own), as when a facilitator says "
        "'everybody ask this'; by default each asks another",
    )
    ap.add_argument("--raw-seqs", default="1,4,8")
    ap.add_argument("--raw-rounds", type=int, default=None, help="raw rounds per width, best kept (default 3)")
    ap.add_argument("--raw-tokens", type=int, default=None, help="raw tokens per sequence (default 64)")
    ap.add_argument("--raw-after", action="store_true", help="measure raw llama.cpp after the rooms too (best kept)")
    ap.add_argument(
        "--threads", type=int, default=None, help="raw llama.cpp threads (default: the server's CPUs, else all cores)"
    )
    ap.add_argument("--server-cpus", default=None, help="pin the app server and raw llama.cpp to these CPUs, e.g. 0")
    ap.add_argument("--browser-cpus", default=None, help="pin Chromium, Playwright and the harness here, e.g. 1")
    ap.add_argument("--raw-worker", default=None, help=argparse.SUPPRESS)  # raw_pinned's child: a JSON job
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds a page may take for one step")
    ap.add_argument("--data-dir", default=None, help="the app's data dir (default: a fresh temporary one)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    a = ap.parse_args(argv)
    if a.raw_worker:  # the pinned raw llama.cpp process of raw_pinned: figures as one JSON line on stdout
        rows = _raw_job(json.loads(a.raw_worker))
        print(json.dumps({n: asdict(r) for n, r in rows.items()}))
        return
    a.server_cpus, a.browser_cpus = parse_cpus(a.server_cpus), parse_cpus(a.browser_cpus)
    if (a.server_cpus is None) != (a.browser_cpus is None):
        ap.error("--server-cpus and --browser-cpus go together (the partition of the machine)")
    if a.server_cpus and set(a.server_cpus) & set(a.browser_cpus):
        print(f"note: CPUs {sorted(set(a.server_cpus) & set(a.browser_cpus))} are in both parts", flush=True)
    a.threads = a.threads or (len(a.server_cpus) if a.server_cpus else cpu.cores_available())
    quick = a.quick
    a.n = a.n if a.n is not None else ("1" if quick else "1,4,8")
    a.idle_tabs = a.idle_tabs if a.idle_tabs is not None else ("0,4" if quick else "0,10,20")
    a.idle_window = a.idle_window or (15.0 if quick else 60.0)
    a.max_tokens = a.max_tokens or (24 if quick else None)
    a.raw_rounds = a.raw_rounds or (1 if quick else 3)
    a.raw_tokens = a.raw_tokens or (24 if quick else 64)
    figures = asyncio.run(run(a))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
