"""Blind mode: seeded order, one vote per round, reveal, win counts."""

from __future__ import annotations

import pytest

from ragft.answering.blind import BlindError, BlindSession, shuffled_order

ALL = ["base", "base_rag", "ft", "ft_rag"]


def test_order_is_seeded_and_a_permutation():
    a = shuffled_order(ALL, "s1:cmp1")
    assert sorted(a) == sorted(ALL)
    assert shuffled_order(ALL, "s1:cmp1") == a
    orders = {shuffled_order(ALL, f"s1:cmp{i}") for i in range(30)}
    assert len(orders) > 5  # different questions get different orders


def test_round_is_stable_across_reruns_and_sessions_differ():
    s = BlindSession(seed="abc")
    r1 = s.round_for("cmp1", ALL)
    assert s.round_for("cmp1", ALL) is r1
    assert [letter for letter, _ in r1.labelled()] == ["A", "B", "C", "D"]
    other = BlindSession(seed="abc")
    assert other.round_for("cmp1", ALL).order == r1.order  # same seed, same order
    assert len({BlindSession(seed=str(i)).round_for("cmp1", ALL).order for i in range(30)}) > 5


def test_vote_reveals_and_counts_once():
    s = BlindSession(seed="x")
    r = s.round_for("cmp1", ALL)
    assert not r.revealed
    picked = s.vote("cmp1", "b")
    assert picked == r.order[1] and r.revealed and r.letter_for(picked) == "B"
    with pytest.raises(BlindError, match="already voted"):
        s.vote("cmp1", "A")
    with pytest.raises(BlindError, match="no answer E"):
        s.round_for("cmp2", ALL) and s.vote("cmp2", "E")
    with pytest.raises(BlindError, match="not shown blind"):
        s.vote("nope", "A")


def test_tally_counts_wins_and_times_shown():
    s = BlindSession(seed="t")
    for i in range(3):
        r = s.round_for(f"c{i}", ALL)
        s.vote(f"c{i}", r.letter_for("ft_rag"))
    r = s.round_for("c3", ["base", "ft"])
    s.vote("c3", r.letter_for("base"))
    s.round_for("c4", ALL)  # shown, no vote yet: not counted
    rows = {row.configuration: row for row in s.tally()}
    assert rows["ft_rag"].wins == 3 and rows["ft_rag"].shown == 3
    assert rows["base"].wins == 1 and rows["base"].shown == 4
    assert rows["ft"].wins == 0 and rows["ft"].shown == 4
    assert s.votes == 4
    s.reset()
    assert s.tally() == [] and s.votes == 0


def test_bad_rounds_are_typed_errors():
    with pytest.raises(BlindError):
        shuffled_order([], "s")
    with pytest.raises(BlindError):
        shuffled_order(ALL + ["base"], "s")
    with pytest.raises(BlindError, match="Unknown configuration"):
        shuffled_order(["base", "gpt"], "s")
