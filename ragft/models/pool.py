"""A pool of llama.cpp contexts for one (model, adapter), so sequences of different participants progress together.

One :class:`~ragft.models.embedded.EmbeddedEngine` is one llama.cpp context: its KV cache holds one sequence. An
:class:`EnginePool` keeps up to ``max_contexts`` of them for the same GGUF (+ LoRA). The weights are mmapped from
the same file, so the page cache holds them once; each extra context costs its KV cache and compute buffers
(about 64 MB private memory for SmolLM2-135M at ``n_ctx`` 2048; RSS counts the mapped weights once per context).
Contexts are created on demand, when every existing one is busy, and the oldest unused ones beyond the first are
closed after ``idle_close_s``.

Who gets a context is decided by :func:`ragft.models.fair.engine_turn` with the pool's capacity (round-robin over
participants); every token step of every sequence then takes the process-wide fair token turn and the CPU turn
(:mod:`ragft.models.cpu`), so N participants asking at once advance token by token and finish together, while the
CPU still computes one step at a time with the thread count the CPU policy gives.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ragft import errors as E
from ragft.models import cpu, fair
from ragft.models.embedded import EmbeddedEngine, context_completion, context_pieces
from ragft.models.stream import Messages
from ragft.models.usage import Usage

logger = logging.getLogger(__name__)

DEFAULT_CONTEXTS = 8
CONTEXTS_ENV = "RAGFT_EMBEDDED_CONTEXTS"
MAX_CONTEXTS = 64
IDLE_CLOSE_S = 600.0

EngineFactory = Callable[[], EmbeddedEngine]


def contexts_from_env(env: dict[str, str] | None = None, *, default: int = DEFAULT_CONTEXTS) -> int:
    """``RAGFT_EMBEDDED_CONTEXTS`` (1-64), else ``default`` (the pool's :data:`DEFAULT_CONTEXTS`); a malformed value
    is a ConfigError."""
    raw = (os.environ if env is None else env).get(CONTEXTS_ENV, "").strip()
    if not raw:
        return default
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_CONTEXTS:
        raise E.ConfigError(f"{CONTEXTS_ENV} must be a whole number from 1 to {MAX_CONTEXTS}, not {raw!r}.")
    return n


class EnginePool:
    """Up to ``max_contexts`` engines of one model (+ adapter); it stands where an engine stands for
    :class:`~ragft.models.embedded.EmbeddedChatModel` (``tokenize``, ``n_ctx``, ``lora_path``, ``pieces``,
    ``completion``; ``sequence`` gives one context).

    The first context is loaded at once (so a missing or unreadable file fails here, as for one engine).
    """

    def __init__(
        self,
        model_path: Path,
        lora_path: Path | None = None,
        *,
        max_contexts: int | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        policy: cpu.CpuPolicy | None = None,
        idle_close_s: float = IDLE_CLOSE_S,
        factory: EngineFactory | None = None,
    ) -> None:
        self.max_contexts = max_contexts or contexts_from_env()
        if not 1 <= self.max_contexts <= MAX_CONTEXTS:
            raise E.ConfigError(f"An engine pool holds 1 to {MAX_CONTEXTS} contexts, not {self.max_contexts}.")
        self.idle_close_s = idle_close_s
        self._factory = factory or (
            lambda: EmbeddedEngine(model_path, lora_path, n_ctx=n_ctx, n_threads=n_threads, policy=policy)
        )
        self._lock = threading.Lock()
        first = self._factory()
        self._free: list[tuple[EmbeddedEngine, float]] = [(first, time.monotonic())]  # (engine, free since)
        self._count = 1
        self.primary = first
        self.model_path, self.lora_path, self.n_ctx = first.model_path, first.lora_path, first.n_ctx
        self.policy = first.policy

    def __repr__(self) -> str:
        return f"<EnginePool {self.model_path.name} lora={self.lora_path} contexts={self._count}/{self.max_contexts}>"

    @property
    def contexts(self) -> int:
        """Contexts loaded now."""
        with self._lock:
            return self._count

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self.primary.tokenize(text, special=special)

    @contextmanager
    def sequence(self) -> Iterator[EmbeddedEngine]:
        """A context of its own for one generation, given in turn (round-robin over participants)."""
        with fair.engine_turn(self, self.max_contexts):
            engine = self._take()
            try:
                with engine.lock:
                    yield engine
            finally:
                self._give_back(engine)

    def pieces(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return context_pieces(self.sequence, messages, max_tokens=max_tokens, temperature=temperature)

    def completion(self, messages: Messages, *, max_tokens: int, temperature: float) -> tuple[str, Usage]:
        return context_completion(self.sequence, messages, max_tokens=max_tokens, temperature=temperature)

    def warm(self, n: int) -> int:
        """Load contexts until ``n`` (at most ``max_contexts``) are loaded, so a room asking at once finds them
        ready; returns how many are loaded."""
        while True:
            with self._lock:
                if self._count >= min(n, self.max_contexts):
                    return self._count
                self._count += 1
            try:
                engine = self._factory()
            except BaseException:
                with self._lock:
                    self._count -= 1
                raise
            with self._lock:
                self._free.insert(0, (engine, time.monotonic()))

    def _take(self) -> EmbeddedEngine:
        with self._lock:
            if self._free:
                engine, _ = self._free.pop()  # the most recently used: its pages are warm
                return engine
            self._count += 1  # reserved before loading, so concurrent turns never exceed max_contexts
        try:
            engine = self._factory()
        except BaseException:
            with self._lock:
                self._count -= 1
            raise
        logger.info("%s: context %d of at most %d loaded", self.model_path.name, self.contexts, self.max_contexts)
        return engine

    def _give_back(self, engine: EmbeddedEngine) -> None:
        now = time.monotonic()
        closing: list[EmbeddedEngine] = []
        with self._lock:
            self._free.append((engine, now))
            keep = [(e, t) for e, t in self._free if e is self.primary or now - t < self.idle_close_s]
            closing = [e for e, _ in self._free if all(e is not k for k, _ in keep)]
            self._free = keep
            self._count -= len(closing)
        for e in closing:
            logger.info("%s: closing a context unused for %.0f s", self.model_path.name, self.idle_close_s)
            e.llm.close()
