"""Blind mode for workshops: answers labelled A-D in a seeded random order, one vote, then the reveal.

Votes are kept per session and summarised as win counts per configuration (how often each was picked
and how often it was shown): a tally, deliberately not a ranking; with a handful of questions the
differences are anecdotes, and the page says so.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from ragft.configs import BY_KEY
from ragft.errors import RagftError

LETTERS = "ABCD"


class BlindError(RagftError):
    """A vote that cannot be counted (unknown letter, already voted, unknown round)."""


@dataclass
class BlindRound:
    """One comparison seen blind. ``order[i]`` is the configuration behind letter ``LETTERS[i]``."""

    comparison_id: str
    order: tuple[str, ...]
    vote: str | None = None  # the configuration key picked

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(LETTERS[: len(self.order)])

    @property
    def revealed(self) -> bool:
        return self.vote is not None

    def key_for(self, letter: str) -> str:
        letter = (letter or "").strip().upper()
        if letter not in self.letters:
            raise BlindError(f"There is no answer {letter or '(none)'}: choose one of {', '.join(self.letters)}.")
        return self.order[LETTERS.index(letter)]

    def letter_for(self, key: str) -> str:
        try:
            return LETTERS[self.order.index(key)]
        except ValueError:
            raise BlindError(f"{key!r} is not part of this round.") from None

    def labelled(self) -> list[tuple[str, str]]:
        """(letter, configuration key) in display order."""
        return list(zip(self.letters, self.order))


def shuffled_order(configurations: Sequence[str], seed: str | int) -> tuple[str, ...]:
    keys = list(configurations)
    if not 1 <= len(keys) <= len(LETTERS):
        raise BlindError(f"Blind mode needs 1 to {len(LETTERS)} configurations, got {len(keys)}.")
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise BlindError(f"Unknown configuration {unknown[0]!r}.")
    random.Random(str(seed)).shuffle(keys)
    return tuple(keys)


@dataclass(frozen=True)
class TallyRow:
    configuration: str
    label: str
    wins: int
    shown: int


@dataclass
class BlindSession:
    """Every blind round of one browser session and its votes."""

    seed: str = field(default_factory=lambda: f"{random.SystemRandom().getrandbits(64):x}")
    rounds: dict[str, BlindRound] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def round_for(self, comparison_id: str, configurations: Sequence[str]) -> BlindRound:
        """The round of a comparison (created on first sight; the same order on every rerun)."""
        with self._lock:
            r = self.rounds.get(comparison_id)
            if r is None:
                r = BlindRound(comparison_id, shuffled_order(configurations, f"{self.seed}:{comparison_id}"))
                self.rounds[comparison_id] = r
            return r

    def vote(self, comparison_id: str, letter: str) -> str:
        """Count a vote for the answer behind ``letter``; returns its configuration. One vote per round."""
        with self._lock:
            r = self.rounds.get(comparison_id)
            if r is None:
                raise BlindError("This comparison was not shown blind.")
            if r.vote is not None:
                raise BlindError(f"You already voted on this question (answer {r.letter_for(r.vote)}).")
            key = r.key_for(letter)
            r.vote = key
            return key

    def tally(self) -> list[TallyRow]:
        """Wins and times shown per configuration, over the rounds that got a vote."""
        with self._lock:
            voted = [r for r in self.rounds.values() if r.vote is not None]
        rows = []
        for key, cfg in BY_KEY.items():
            shown = sum(1 for r in voted if key in r.order)
            if shown:
                rows.append(TallyRow(key, cfg.label, sum(1 for r in voted if r.vote == key), shown))
        return rows

    @property
    def votes(self) -> int:
        return sum(1 for r in self.rounds.values() if r.vote is not None)

    def reset(self) -> None:
        with self._lock:
            self.rounds.clear()
