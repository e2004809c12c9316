"""What a chat call returns: a :class:`ChatStream` to iterate for text, or a whole :class:`Completion`.

Shared by every engine (OpenAI-compatible endpoints, the embedded llama.cpp engine) and by
:mod:`ragft.models.chat`, which defines the ``ChatModel`` protocol over them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ragft.models.usage import Usage

Messages = Sequence[dict[str, str]]


class ChatStream:
    """Iterate for text; afterwards ``text``, ``usage``, ``ttft_s``, ``total_s`` are set.

    ``source`` yields ``str`` pieces and, optionally, one final :class:`Usage` (what the server reported).
    When no usage arrives, ``count_usage(text)`` counts it with the model's own tokenizer.
    """

    def __init__(self, source: Iterator[str | Usage], count_usage: Callable[[str], Usage]) -> None:
        self._source = source
        self._count_usage = count_usage
        self._pieces: list[str] = []
        self.usage: Usage | None = None
        self.tokens_so_far = 0  # content chunks received: ~1 token each on every server we target
        self.ttft_s: float | None = None
        self.total_s: float | None = None
        self.started = time.perf_counter()
        self.done = False

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def __iter__(self) -> Iterator[str]:
        if self.done:
            return
        reported: Usage | None = None
        self.started = time.perf_counter()
        try:
            for item in self._source:
                if isinstance(item, Usage):
                    reported = item
                    continue
                if not item:
                    continue
                if self.ttft_s is None:
                    self.ttft_s = time.perf_counter() - self.started
                self._pieces.append(item)
                self.tokens_so_far += 1
                yield item
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        self.total_s = time.perf_counter() - self.started
        self.usage = reported if reported is not None else self._count_usage(self.text)
        self.done = True

    def consume(self) -> ChatStream:
        for _ in self:
            pass
        return self


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    total_s: float
