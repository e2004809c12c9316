"""The CPU policy: thread counts under given loads (pure logic), overrides, the turn, and the load sampler."""

from __future__ import annotations

import threading
import time

import pytest

from ragft import errors as E
from ragft.models import cpu
from ragft.settings import load_settings, thread_overrides

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


@pytest.mark.parametrize(
    "cores, external, generating, background, expected",
    [
        (2, 0.0, True, 0, (2, 2, False)),  # generation alone: every core
        (2, 0.0, True, 1, (1, 1, False)),  # an ingest embeds: one core each
        (2, 1.0, True, 0, (1, 1, False)),  # another process spins one core: one thread
        (2, 0.2, True, 0, (2, 2, False)),  # a little background noise does not take a core
        (2, 0.5, True, 0, (1, 1, False)),  # half a core busy counts as taken
        (2, 1.0, True, 1, (1, 1, False)),  # one free core: one thread each, no multi-threaded step on a taken core
        (2, 0.0, True, 3, (1, 1, True)),  # four jobs on two cores: background batches take turns
        (2, 3.0, True, 0, (1, 1, False)),  # overloaded: still one thread, never zero
        (2, 0.0, False, 1, (1, 2, False)),  # an ingest alone embeds on every core
        (8, 0.0, True, 1, (4, 4, False)),
        (8, 2.0, True, 2, (3, 1, False)),  # 6 free: 3 for generation, the rest split by two jobs
        (16, 0.0, True, 0, (8, 16, False)),  # generation capped at 8 threads
        (1, 0.0, True, 1, (1, 1, True)),
    ],
)
def test_plan_threads_under_given_loads(cores, external, generating, background, expected):
    plan = cpu.plan_threads(cores, external, generating, background)
    assert (plan.generation, plan.background, plan.shared) == expected
    busy = plan.generation * generating + (0 if plan.shared else plan.background * background)
    assert busy <= cores  # never more of our busy threads than cores


def test_plan_rejects_nonsense():
    with pytest.raises(E.RagftError):
        cpu.plan_threads(0, 0.0, True, 0)


def test_policy_follows_jobs_and_external_load():
    load = {"value": 0.0}
    pol = cpu.CpuPolicy(cores=2, external_load=lambda: load["value"], env={})
    assert pol.threads_for(cpu.GENERATION) == 2
    with pol.job(cpu.GENERATION):
        assert pol.threads_for(cpu.GENERATION) == 2
        with pol.job(cpu.EMBEDDING):
            assert pol.threads_for(cpu.GENERATION) == 1
            assert pol.threads_for(cpu.EMBEDDING) == 1
        assert pol.threads_for(cpu.GENERATION) == 2
        load["value"] = 1.0
        assert pol.threads_for(cpu.GENERATION) == 1
    load["value"] = 0.0
    with pol.job(cpu.TRAINING):
        assert pol.threads_for(cpu.TRAINING) == 2
        assert pol.threads_for(cpu.GENERATION) == 1  # what a generation starting now would get
    assert pol.active(cpu.TRAINING) == 0
    with pytest.raises(E.ConfigError):
        with pol.job("mining"):
            pass


def test_overrides_fix_the_counts_and_bad_values_are_ignored_by_the_policy():
    pol = cpu.CpuPolicy(cores=2, external_load=lambda: 1.0, env={"RAGFT_N_THREADS": "3", "RAGFT_EMBED_THREADS": "2"})
    assert pol.threads_for(cpu.GENERATION) == 3
    assert pol.threads_for(cpu.EMBEDDING) == 2
    bad = cpu.CpuPolicy(cores=2, external_load=lambda: 0.0, env={"RAGFT_N_THREADS": "many"})
    assert bad.threads_for(cpu.GENERATION) == 2
    with pytest.raises(E.ConfigError) as info:
        thread_overrides({"RAGFT_EMBED_THREADS": "0"})
    assert "RAGFT_EMBED_THREADS" in info.value.message
    assert thread_overrides({}) == (None, None)
    s = load_settings(env={"RAGFT_N_THREADS": "1", "RAGFT_EMBED_THREADS": "2"})
    assert (s.n_threads, s.embed_threads) == (1, 2)
    with pytest.raises(E.ConfigError):
        load_settings(env={"RAGFT_N_THREADS": "two"})


def test_a_failing_load_reading_counts_as_idle():
    def broken() -> float:
        raise OSError("no /proc")

    assert cpu.CpuPolicy(cores=2, external_load=broken, env={}).threads_for(cpu.GENERATION) == 2


def test_background_batches_yield_to_generation_when_cores_are_shared():
    """One core for two jobs: an embedding batch waits while a generation holds the turn, then runs."""
    pol = cpu.CpuPolicy(cores=1, external_load=lambda: 0.0, env={}, max_yield_s=5.0)
    order: list[str] = []
    started = threading.Event()

    def generate() -> None:
        with pol.job(cpu.GENERATION) as lease:
            for i in range(3):
                with lease.step() as threads:
                    assert threads == 1
                    started.set()
                    order.append(f"token{i}")
                    time.sleep(0.05)

    def embed() -> None:
        started.wait(5)
        with pol.job(cpu.EMBEDDING) as lease:
            with lease.step() as threads:
                order.append(f"batch{threads}")

    gen, emb = threading.Thread(target=generate), threading.Thread(target=embed)
    gen.start()
    emb.start()
    gen.join(10)
    emb.join(10)
    assert order == ["token0", "token1", "token2", "batch1"]


def test_unshared_background_does_not_wait():
    pol = cpu.CpuPolicy(cores=2, external_load=lambda: 0.0, env={}, max_yield_s=5.0)
    with pol.job(cpu.GENERATION) as gen_lease, gen_lease.step():
        with pol.job(cpu.EMBEDDING) as lease, lease.step() as threads:  # would block if it needed the turn
            assert threads == 1


def test_sampler_subtracts_our_own_cpu_time():
    """Replayed readings: the machine busy on 2 cores, we use 1 of them → 1 core external; we use both → 0."""
    now = {"t": 0.0, "busy": 0.0, "own": 0.0}
    sampler = cpu.LoadSampler(
        interval_s=0.1, busy_seconds=lambda: now["busy"], own_seconds=lambda: now["own"], clock=lambda: now["t"]
    )
    for _ in range(8):
        now["t"] += 1.0
        now["busy"] += 2.0
        now["own"] += 1.0
        value = sampler.external_busy()
    assert 0.95 <= value <= 1.0
    for _ in range(8):
        now["t"] += 1.0
        now["busy"] += 2.0
        now["own"] += 2.0
        value = sampler.external_busy()
    assert value < 0.01
    now["t"] += 0.05  # within the interval: the cached value, no new reading
    now["busy"] += 100.0
    assert sampler.external_busy() == value


def test_sampler_sees_another_process_spinning():
    """A real process spinning outside ours shows up as external load (at least most of one core)."""
    import subprocess
    import sys

    sampler = cpu.LoadSampler(interval_s=0.2)
    if sampler.proc_stat_busy_seconds() is None:
        pytest.skip("no /proc/stat on this system")
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        sampler.external_busy()
        values = []
        for _ in range(6):
            time.sleep(0.25)
            values.append(sampler.external_busy())
    finally:
        proc.kill()
        proc.wait()
    assert max(values) >= 0.6


def test_cores_available_is_positive():
    assert cpu.cores_available() >= 1
    assert cpu.policy() is cpu.policy()
