"""Coalesce a live page's redraws: a few per second per part, a new phase at once, the latest state always drawn.

A page that follows a run (the Compare page's panels as their tokens stream, the sidebar meter beside them) redraws a
part when its state changes. Redrawing on every streamed token costs the server a script step and an element delta
(the whole answer so far) per token per panel, and the browser a render, at a rate nobody reads. :class:`Coalescer`
decides, per part (a key), whether a redraw is due now::

    gate = Coalescer(every_s=0.25)
    for event in run.events(poll_s=0.25):             # every event and every tick
        for p in panels:
            if gate.due(p.key, phase=p.phase, state=p.tokens_so_far):
                draw(p)

- A new ``phase`` (queued → waiting → streaming, the first text, finished) is drawn at once: a first token is never
  held back.
- Within a phase, a changed ``state`` is drawn at most once every ``every_s``. A change held back is drawn by the
  first call after the interval, so a page that asks on every event and every tick is never staler than
  ``every_s`` plus its tick.
- An unchanged (phase, state) is never drawn again.

No Streamlit here: the page glue owns the drawing; ``draws`` and ``held`` count what was drawn and what was saved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

PANEL_EVERY_S = 0.25  # a streaming panel: four redraws a second at most
METER_EVERY_S = 2.0  # the sidebar meter while a page streams: a redraw is its seven elements, each a delta


@dataclass
class _Drawn:
    phase: Hashable
    state: Hashable
    at: float


class Coalescer:
    """Per key: is a redraw due now? (see the module docstring). Not thread-safe: one page run owns one."""

    def __init__(self, every_s: float = PANEL_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        if every_s < 0:
            raise ValueError("every_s cannot be negative")
        self.every_s = every_s
        self._clock = clock
        self._drawn: dict[str, _Drawn] = {}
        self.draws = 0  # redraws granted
        self.held = 0  # changes asked about while their interval ran (drawn later, merged with the next ones)

    def due(self, key: str, phase: Hashable = None, state: Hashable = None) -> bool:
        """True when ``key`` should be redrawn now (and records it as drawn with this phase and state)."""
        now = self._clock()
        last = self._drawn.get(key)
        if last is not None:
            if last.phase == phase and last.state == state:
                return False
            if last.phase == phase and now - last.at < self.every_s:
                self.held += 1
                return False
        self._drawn[key] = _Drawn(phase, state, now)
        self.draws += 1
        return True

    def forget(self, key: str) -> None:
        """Draw ``key`` at its next call, whatever it shows (its slot was redrawn by someone else)."""
        self._drawn.pop(key, None)
