"""The CPU policy: how every compute-heavy job of the process shares the machine's cores.

Jobs are llama.cpp generation (token steps and prompt processing), onnxruntime embedding, OCR and training.
One process-wide :class:`CpuPolicy` (``policy()``) decides, at every call, how many threads each may use:

- ``cores``: the CPUs this process may run on (scheduler affinity, cgroup quota).
- ``external``: cores kept busy by *other* processes, measured from ``/proc/stat`` minus this process's own CPU
  time (falls back to the 1-minute load average minus our own threads); a core counts as taken when at least
  0.4 of it is busy. ``free = max(1, cores - taken)``.
- Generation alone uses every free core (up to 8). While a background job runs (an ingest embedding, OCR,
  training), generation gets half the free cores (at least 1) and the background jobs split the rest.
- When the process's own jobs outnumber the cores (one thread each would not fit), background jobs take turns
  with generation on the process-wide :attr:`CpuPolicy.turn`: before each batch they wait while a generation holds
  or wants it (at most ``max_yield_s``), so never more of our threads are busy than cores.

Generation steps always run under ``turn`` (one token step at a time across all loaded engines), so several
panels and sessions interleave token by token instead of fighting over the cores.

``RAGFT_N_THREADS`` and ``RAGFT_EMBED_THREADS`` fix the generation and embedding counts (see
:func:`ragft.settings.thread_overrides`). OCR and training ask :meth:`CpuPolicy.threads_for` (a count for now)
or hold :meth:`CpuPolicy.job` while they run, so that generation makes room for them.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ragft import errors as E
from ragft.settings import thread_overrides

logger = logging.getLogger(__name__)

GENERATION = "generation"
EMBEDDING = "embedding"
OCR = "ocr"
TRAINING = "training"
KINDS = (GENERATION, EMBEDDING, OCR, TRAINING)
MAX_GENERATION_THREADS = 8  # llama.cpp on a 135M model gains nothing beyond this
TAKEN_THRESHOLD = 0.4  # a core is "taken" by another process when this much of it is busy


@dataclass(frozen=True)
class Plan:
    """Thread counts for one moment: ``generation`` per token step, ``background`` per background job.

    ``shared``: our jobs outnumber the cores, so background batches take turns with generation on the CPU turn.
    """

    free: int
    generation: int
    background: int
    shared: bool


def cores_available() -> int:
    """CPUs this process may use: scheduler affinity, capped by a cgroup v2 CPU quota when one is set."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def taken_cores(external_busy: float, cores: int) -> int:
    """Whole cores another process holds, from its busy fraction (0.4 of a core or more counts as one)."""
    return max(0, min(cores, int(external_busy + (1 - TAKEN_THRESHOLD))))


def plan_threads(cores: int, external_busy: float, generating: bool, background_jobs: int) -> Plan:
    """The pure rule: thread counts for ``cores`` CPUs, ``external_busy`` cores used by other processes, whether a
    generation is running, and how many background jobs (embedding, OCR, training) run in this process.

    Threads are sized from the free cores (a multi-threaded llama.cpp step waits for its slowest thread, so it must
    not count on a core another process holds); separate single-threaded jobs may still share a core with another
    process. Only when this process's own jobs outnumber the cores do background batches take turns (``shared``).
    """
    if cores < 1 or background_jobs < 0 or external_busy < 0:
        raise E.ConfigError(
            f"Invalid CPU plan input: cores={cores}, background={background_jobs}, external={external_busy}."
        )
    free = max(1, cores - taken_cores(external_busy, cores))
    if not background_jobs:
        return Plan(free, min(free, MAX_GENERATION_THREADS), free, False)
    gen = min(max(1, free // 2), MAX_GENERATION_THREADS)
    left = free - gen if generating else free
    background = max(1, left // background_jobs)
    shared = (gen if generating else 0) + background_jobs > cores
    return Plan(free, gen, background, shared)


class LoadSampler:
    """Cores' worth of CPU used by other processes, smoothed; re-sampled at most every ``interval_s``.

    ``busy_seconds`` (CPU seconds the machine's cores have been busy, default ``/proc/stat``), ``own_seconds``
    (this process's CPU seconds) and ``clock`` can be given to replay a scenario.
    """

    def __init__(
        self,
        interval_s: float = 0.25,
        own_threads: Callable[[], int] = lambda: 0,
        busy_seconds: Callable[[], float | None] | None = None,
        own_seconds: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_s = interval_s
        self._own_threads = own_threads
        self._cpus = self._cpu_ids()
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._busy = busy_seconds or self.proc_stat_busy_seconds
        self._own = own_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last = self._read()
        self._value = 0.0

    @staticmethod
    def _cpu_ids() -> set[str]:
        try:
            return {f"cpu{i}" for i in os.sched_getaffinity(0)}
        except (AttributeError, OSError):
            return set()

    def proc_stat_busy_seconds(self) -> float | None:
        """Busy CPU seconds of our CPUs since boot from ``/proc/stat``; ``None`` where it cannot be read."""
        try:
            with open("/proc/stat") as f:
                total = 0
                seen = False
                for line in f:
                    if not line.startswith("cpu") or line.startswith("cpu "):
                        continue
                    name, *fields = line.split()
                    if self._cpus and name not in self._cpus:
                        continue
                    v = [int(x) for x in fields[:8]]
                    total += sum(v) - v[3] - v[4]  # all but idle and iowait (steal counts as busy)
                    seen = True
                return total / self._hz if seen else None
        except (OSError, ValueError, IndexError):
            return None

    def _read(self) -> tuple[float, float | None, float]:
        return self._clock(), self._busy(), self._own()

    def external_busy(self) -> float:
        """Busy cores that are not ours, e.g. 1.0 while another process spins one core."""
        with self._lock:
            if self._clock() - self._last[0] < self.interval_s:
                return self._value
            cur = self._read()
            (t0, b0, own0), (t1, b1, own1) = self._last, cur
            self._last = cur
            if b0 is None or b1 is None:  # no /proc/stat: the load average minus our own busy threads
                try:
                    sample = max(0.0, os.getloadavg()[0] - self._own_threads())
                except OSError:
                    sample = 0.0
            else:
                wall = t1 - t0
                sample = max(0.0, ((b1 - b0) - (own1 - own0)) / wall) if wall > 0 else self._value
            self._value = 0.5 * self._value + 0.5 * sample
            return self._value


class _Turn:
    """The CPU turn: a lock where generation (foreground) goes before background batches."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._fg_waiting = 0

    @contextmanager
    def foreground(self) -> Iterator[None]:
        with self._cond:
            self._fg_waiting += 1
            try:
                while self._held:
                    self._cond.wait()
            finally:
                self._fg_waiting -= 1
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()

    @contextmanager
    def background(self, yield_while: Callable[[], bool], max_yield_s: float) -> Iterator[None]:
        """Wait while a generation holds or wants the turn (or ``yield_while()``), at most ``max_yield_s``."""
        deadline = time.monotonic() + max_yield_s
        with self._cond:
            while self._held or ((self._fg_waiting or yield_while()) and time.monotonic() < deadline):
                self._cond.wait(timeout=max(0.005, min(0.05, deadline - time.monotonic())))
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()


class Lease:
    """A running job's claim on the CPU; ask ``threads()`` before each batch, run the batch in ``step()``."""

    def __init__(self, owner: CpuPolicy, kind: str) -> None:
        self.owner = owner
        self.kind = kind

    def threads(self) -> int:
        return self.owner.threads_for(self.kind)

    @contextmanager
    def step(self) -> Iterator[int]:
        """One batch: yields its thread count; when the cores are shared, first lets generation go."""
        if self.kind == GENERATION:
            with self.owner.turn.foreground():
                yield self.owner.threads_for(GENERATION)
            return
        plan = self.owner.plan()
        if not plan.shared:
            yield self.owner.threads_for(self.kind)
            return
        with self.owner.turn.background(lambda: self.owner.active(GENERATION) > 0, self.owner.max_yield_s):
            yield self.owner.threads_for(self.kind)


class CpuPolicy:
    """Thread counts per call for every compute-heavy job in the process (see the module docstring)."""

    def __init__(
        self,
        cores: int | None = None,
        external_load: Callable[[], float] | None = None,
        env: dict[str, str] | None = None,
        max_yield_s: float = 1.0,
    ) -> None:
        self.cores = cores or cores_available()
        self._env = env
        self.max_yield_s = max_yield_s
        self._jobs = {k: 0 for k in KINDS}
        self._lock = threading.Lock()
        self.turn = _Turn()
        if external_load is None:
            sampler = LoadSampler(own_threads=self._own_threads)
            external_load = sampler.external_busy
        self._external = external_load

    # -- overrides ------------------------------------------------------------------------------------------
    def overrides(self) -> tuple[int | None, int | None]:
        try:
            return thread_overrides(self._env)
        except E.ConfigError:  # the pages show the message (load_settings); here: the policy decides
            logger.exception("Ignoring a malformed thread override")
            return None, None

    # -- bookkeeping -------------------------------------------------------------------------------------------
    def active(self, kind: str) -> int:
        with self._lock:
            return self._jobs[kind]

    def _own_threads(self) -> int:
        with self._lock:
            jobs = dict(self._jobs)
        p = self._plan_for(0.0, jobs)
        return (p.generation if jobs[GENERATION] else 0) + p.background * sum(jobs[k] for k in KINDS if k != GENERATION)

    @contextmanager
    def job(self, kind: str) -> Iterator[Lease]:
        """Register a running job of ``kind`` for as long as the block runs (generation makes room for it)."""
        if kind not in KINDS:
            raise E.ConfigError(f"Unknown CPU job kind {kind!r}; use one of {', '.join(KINDS)}.")
        with self._lock:
            self._jobs[kind] += 1
        try:
            yield Lease(self, kind)
        finally:
            with self._lock:
                self._jobs[kind] -= 1

    # -- decisions -----------------------------------------------------------------------------------------------
    def _plan_for(self, external: float, jobs: dict[str, int]) -> Plan:
        background = sum(jobs[k] for k in KINDS if k != GENERATION)
        return plan_threads(self.cores, external, jobs[GENERATION] > 0, background)

    def external_busy(self) -> float:
        try:
            return max(0.0, float(self._external()))
        except Exception:  # noqa: BLE001 - a failed reading must not stop a generation
            logger.exception("Could not read the machine's load; assuming it idle")
            return 0.0

    def plan(self) -> Plan:
        with self._lock:
            jobs = dict(self._jobs)
        return self._plan_for(self.external_busy(), jobs)

    def threads_for(self, kind: str) -> int:
        """How many threads a job of ``kind`` may use now (OCR and training call this before they start)."""
        gen_fixed, embed_fixed = self.overrides()
        if kind == GENERATION and gen_fixed:
            return gen_fixed
        if kind == EMBEDDING and embed_fixed:
            return embed_fixed
        p = self.plan()
        return p.generation if kind == GENERATION else p.background


_POLICY: CpuPolicy | None = None
_POLICY_LOCK = threading.Lock()


def policy() -> CpuPolicy:
    """The process-wide policy (the CPU is one per process, whichever session asks)."""
    global _POLICY
    with _POLICY_LOCK:
        if _POLICY is None:
            _POLICY = CpuPolicy()
        return _POLICY


def threads_for(kind: str) -> int:
    """Shorthand for ``policy().threads_for(kind)``: the hook for OCR and training launched from the app."""
    return policy().threads_for(kind)
