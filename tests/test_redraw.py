"""The redraw coalescer (``ragft.redraw``): a 200-token stream costs a bounded number of panel redraws, a first token
and a new phase are drawn at once, nothing stays held back past the interval, and nothing unchanged is redrawn.

A page following a run is simulated on a fake clock: it asks the gate on every token (an event) and on a tick after
``poll_s`` without one, as ``components.compare.view.stream_run`` does with ``run.events(poll_s=0.25)``."""

from __future__ import annotations

import pytest

from ragft.redraw import PANEL_EVERY_S, Coalescer


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def follow(token_times: list[float], *, every_s: float = PANEL_EVERY_S, poll_s: float = 0.25, end_after_s: float = 1.0):
    """Follow one panel that waits from t=0, then streams a token at each time; returns (gate, drawn states)."""
    clock = Clock()
    gate = Coalescer(every_s, clock=clock)
    drawn: list[tuple[str, int]] = []
    text = 0

    def ask() -> None:
        phase = "streaming" if text else "waiting"
        if gate.due("base", phase=phase, state=text):
            drawn.append((phase, text))

    ask()
    events = sorted(token_times)
    i, last = 0, 0.0
    end = (events[-1] if events else 0.0) + end_after_s
    while clock.t < end:
        nxt = events[i] if i < len(events) else None
        if nxt is not None and nxt - last <= poll_s:
            clock.t, last = nxt, nxt
            text += 1  # the event: one more token
            i += 1
        else:
            clock.t = last = last + poll_s  # no event for poll_s: a tick
        ask()
    clock.t = end
    if gate.due("base", phase="finished"):
        drawn.append(("finished", text))
    return gate, drawn


def test_a_200_token_stream_is_drawn_a_few_times_a_second_not_per_token():
    times = [0.5 + 0.01 * k for k in range(200)]  # 100 tokens/s for 2 s after half a second of waiting
    gate, drawn = follow(times)
    streaming = [n for phase, n in drawn if phase == "streaming"]
    # 2 s of streaming at one redraw per 0.25 s, the first text at once, the last held-back text, the waiting note
    # and the finish: bounded by the stream's duration, not its 200 tokens
    assert gate.draws == len(drawn) <= 2 / PANEL_EVERY_S + 4, drawn
    assert gate.held >= 200 - len(streaming)
    assert streaming[0] == 1  # the first token is not held back
    assert streaming[-1] == 200  # the whole answer is drawn before the panel finishes
    assert drawn[0] == ("waiting", 0) and drawn[-1] == ("finished", 200)


def test_redraws_scale_with_time_not_tokens():
    slow = [0.01 * k for k in range(1, 51)]  # 50 tokens in 0.5 s
    fast = [0.0025 * k for k in range(1, 201)]  # 200 tokens in the same 0.5 s
    assert abs(follow(fast)[0].draws - follow(slow)[0].draws) <= 1


def test_a_held_change_is_drawn_by_the_next_tick_and_nothing_unchanged_is_redrawn():
    clock = Clock()
    gate = Coalescer(0.25, clock=clock)
    assert gate.due("p", "streaming", 1)
    clock.t = 0.05
    assert not gate.due("p", "streaming", 2)  # within the interval: held
    clock.t = 0.26
    assert gate.due("p", "streaming", 2)  # the tick after the interval draws it without a new token
    for t in (0.6, 1.0, 5.0):
        clock.t = t
        assert not gate.due("p", "streaming", 2)  # unchanged: never again
    assert not gate.due("p", "streaming", 2) and gate.draws == 2


def test_a_new_phase_is_drawn_at_once_and_keys_are_independent():
    clock = Clock()
    gate = Coalescer(10.0, clock=clock)
    assert gate.due("a", "waiting", (2, 0))
    assert gate.due("b", "waiting", (2, 0))  # another panel has its own interval
    clock.t = 0.01
    assert gate.due("a", "streaming", 1)  # first token: a new phase, whatever the interval
    assert gate.due("a", "finished")
    assert not gate.due("a", "finished")
    gate.forget("a")
    assert gate.due("a", "finished")  # its slot was drawn by someone else: draw again


def test_zero_interval_draws_every_change_and_negative_is_refused():
    clock = Clock()
    gate = Coalescer(0.0, clock=clock)
    assert all(gate.due("p", "streaming", n) for n in range(1, 50))
    with pytest.raises(ValueError):
        Coalescer(-1)
