"""``benchmarks/bench_room.py``'s fairness yardstick: the ideal fair-share completion a room is held to, and the
max/min of completions against it (1.0 for a fair share whatever the participants' answer lengths)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_room  # noqa: E402


def test_fair_share_gives_each_an_equal_part_while_it_waits():
    # 3 participants needing 1, 2 and 4 s of the engine alone: all three share it until 3 s (1 s each), then two
    # share it until 5 s (2 s each), then the last has it alone until 7 s.
    assert bench_room.fair_share([2.0, 1.0, 4.0]) == pytest.approx([5.0, 3.0, 7.0])
    assert bench_room.fair_share([1.5] * 4) == pytest.approx([6.0] * 4)  # equal work: all finish together
    assert bench_room.fair_share([]) == []


def test_a_round_is_measured_against_its_fair_share_not_against_equal_completions():
    r = bench_room.RoundResult(n=3, load_before=0.0, load_after=0.0)
    r.completion_s, r.alone_s = [5.0, 3.0, 7.0], [2.0, 1.0, 4.0]
    assert r.max_min == pytest.approx(7 / 3)  # unequal work: the completions differ
    assert r.fair_max_min == pytest.approx(1.0)  # but each got its share
    r.completion_s = [7.0, 7.0, 7.0]  # the light ones held back until the heavy one is done: unfair
    assert r.max_min == pytest.approx(1.0)
    assert r.fair_max_min == pytest.approx((7 / 3) / 1.0)
    r.alone_s = []  # no yardstick measured: no figure
    assert r.vs_fair_share == [] and r.fair_max_min != r.fair_max_min  # NaN
