"""The embedded llama.cpp engine: the bundled SmolLM2-135M GGUF in-process (optionally + a LoRA adapter).

One :class:`EmbeddedEngine` per loaded model; :class:`EmbeddedChatModel` makes it a ``ChatModel``. Every token
step (and the prompt processing before the first) runs under the process-wide CPU turn of
:mod:`ragft.models.cpu` with the thread count the CPU policy gives at that moment: all free cores when the engine
generates alone, fewer while an ingest embeds or another process keeps cores busy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

from ragft import errors as E
from ragft.models import cpu, fair
from ragft.models.stream import ChatStream, Completion, Messages
from ragft.models.usage import Usage
from ragft.paths import DEFAULT_ADAPTER

logger = logging.getLogger(__name__)


def default_threads() -> int:
    """llama.cpp threads for a generation starting now: ``RAGFT_N_THREADS``, else the CPU policy's choice."""
    return cpu.threads_for(cpu.GENERATION)


def check_files(model_path: Path, lora_path: Path | None) -> tuple[Path, Path | None]:
    """``(model, adapter)`` as paths, once both files are there: else EmbeddedModelUnavailable / AdapterMissing."""
    if not Path(model_path).is_file():
        raise E.EmbeddedModelUnavailable(f"The model file {model_path} is missing.")
    if lora_path is not None and not Path(lora_path).is_file():
        raise E.AdapterMissing(f"The LoRA adapter {lora_path} is missing.")
    return Path(model_path), Path(lora_path) if lora_path else None


class EmbeddedEngine:
    """One loaded llama.cpp model (+ optional LoRA). Not thread-safe itself: ``lock`` serialises its use.

    ``n_threads`` fixes the thread count; without it the CPU policy sets it before every step.
    Create it once per process and share it (the app holds engines in ``st.cache_resource``).
    """

    def __init__(
        self,
        model_path: Path,
        lora_path: Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        policy: cpu.CpuPolicy | None = None,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise E.EmbeddedModelUnavailable("llama-cpp-python is not installed.") from exc
        self.model_path, self.lora_path = check_files(model_path, lora_path)
        self.policy = policy or cpu.policy()
        self.fixed_threads = n_threads
        self.n_threads = n_threads or self.policy.threads_for(cpu.GENERATION)
        self.lock = threading.Lock()
        try:
            self.llm = Llama(
                model_path=str(model_path),
                lora_path=str(lora_path) if lora_path else None,
                n_ctx=n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp raises ValueError for unreadable GGUF files
            what = "LoRA adapter" if lora_path else "model file"
            raise E.EmbeddedModelUnavailable(f"The {what} could not be loaded ({exc}).") from exc
        self.n_ctx = n_ctx

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def set_threads(self, n: int) -> None:
        """Threads for the next token steps and prompt batches (llama.cpp reads them at every decode)."""
        n = max(1, int(n))
        if n != self.n_threads:
            self.llm._ctx.set_n_threads(n, n)
            self.n_threads = n

    def context_threads(self) -> tuple[int, int]:
        """``(generation, batch)`` threads as the llama.cpp context holds them now."""
        import llama_cpp

        ctx = self.llm._ctx.ctx
        return int(llama_cpp.llama_n_threads(ctx)), int(llama_cpp.llama_n_threads_batch(ctx))

    def step_threads(self, granted: int) -> None:
        """Apply the policy's count for one step, unless this engine has a fixed count."""
        self.set_threads(self.fixed_threads or granted)

    @contextmanager
    def sequence(self) -> Iterator[EmbeddedEngine]:
        """This context for one generation, in turn (its KV cache holds one sequence; a pool holds several)."""
        with fair.engine_turn(self), self.lock:
            yield self

    def pieces(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return context_pieces(self.sequence, messages, max_tokens=max_tokens, temperature=temperature)

    def completion(self, messages: Messages, *, max_tokens: int, temperature: float) -> tuple[str, Usage]:
        return context_completion(self.sequence, messages, max_tokens=max_tokens, temperature=temperature)


class ChatEngine(Protocol):
    """What :class:`EmbeddedChatModel` needs of an engine: one context (:class:`EmbeddedEngine`), a pool of
    contexts (:class:`ragft.models.pool.EnginePool`) or one batched context (:class:`ragft.models.batch.BatchEngine`)."""

    model_path: Path
    lora_path: Path | None
    n_ctx: int

    def tokenize(self, text: str, special: bool = False) -> list[int]: ...

    def pieces(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]: ...

    def completion(self, messages: Messages, *, max_tokens: int, temperature: float) -> tuple[str, Usage]: ...


SequenceTurn = Callable[[], AbstractContextManager[EmbeddedEngine]]


def context_pieces(sequence: SequenceTurn, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
    """A generation on a context of its own (``sequence()``: its KV cache for the whole generation), one token
    step at a time across all sequences of the process, both turns round-robin over participants
    (ragft.models.fair)."""
    with sequence() as engine, engine.policy.job(cpu.GENERATION) as lease:
        it: Iterator[Any] = iter(
            cast(
                Any,
                engine.llm.create_chat_completion(
                    messages=cast(Any, list(messages)), max_tokens=max_tokens, temperature=temperature, stream=True
                ),
            )
        )
        while True:
            with fair.token_turn(), lease.step() as threads:
                engine.step_threads(threads)
                chunk = next(it, None)
            if chunk is None:
                return
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece


def context_completion(
    sequence: SequenceTurn, messages: Messages, *, max_tokens: int, temperature: float
) -> tuple[str, Usage]:
    """A whole generation on a context of its own, in one token turn; usage as llama.cpp reports it."""
    with (
        sequence() as engine,
        engine.policy.job(cpu.GENERATION) as lease,
        fair.token_turn(),
        lease.step() as threads,
    ):
        engine.step_threads(threads)
        resp: Any = engine.llm.create_chat_completion(
            messages=cast(Any, list(messages)), max_tokens=max_tokens, temperature=temperature
        )
    u = resp["usage"]
    return resp["choices"][0]["message"].get("content") or "", Usage(
        u["prompt_tokens"], u["completion_tokens"], exact=True
    )


def render_chatml(messages: Messages) -> str:
    """The prompt the bundled SmolLM2 chat template renders (ChatML), for exact prompt token counts."""
    out = []
    if not messages or messages[0].get("role") != "system":
        out.append(
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        )
    for m in messages:
        out.append(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n")
    out.append("<|im_start|>assistant\n")
    return "".join(out)


class EmbeddedChatModel:
    """The embedded llama.cpp engine as a ChatModel. Costs $0: the meter shows tokens and compute seconds.

    ``engine`` is any :class:`ChatEngine`: one :class:`EmbeddedEngine`, an :class:`ragft.models.pool.EnginePool`
    of contexts (each generation holds one for its whole length), or a :class:`ragft.models.batch.BatchEngine`
    (every generation of the pair decoded together, one token each per batch).
    """

    provider = "embedded"

    def __init__(self, engine: ChatEngine, model_id: str) -> None:
        self.engine = engine
        self.model_id = model_id
        suffix = f" + LoRA {engine.lora_path.name}" if engine.lora_path else ""
        self.label = f"{model_id} (embedded llama.cpp{suffix})"

    def count_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text))

    def count_prompt_tokens(self, messages: Messages) -> int:
        return len(self.engine.tokenize(render_chatml(messages), special=True))

    def check(self) -> str:
        s = self.stream([{"role": "user", "content": "Say OK."}], max_tokens=1, temperature=0.0).consume()
        return f"Embedded model ready: {self.label}, answered in {s.total_s:.2f} s."

    def _check_fits(self, msgs: list, max_tokens: int) -> int:
        prompt_tokens = self.count_prompt_tokens(msgs)
        if prompt_tokens + max_tokens > self.engine.n_ctx:
            raise E.BadRequest(
                f"The prompt has {prompt_tokens} tokens; with {max_tokens} to generate it exceeds the embedded "
                f"model's context of {self.engine.n_ctx}.",
                hint="Use fewer or smaller chunks (top-k, chunk size).",
            )
        return prompt_tokens

    def complete(self, messages: Messages, *, max_tokens: int, temperature: float) -> Completion:
        msgs = list(messages)
        self._check_fits(msgs, max_tokens)
        started = time.perf_counter()
        text, usage = self.engine.completion(msgs, max_tokens=max_tokens, temperature=temperature)
        return Completion(text, usage, time.perf_counter() - started)

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float) -> ChatStream:
        msgs = list(messages)
        prompt_tokens = self._check_fits(msgs, max_tokens)

        def counted(text: str) -> Usage:
            # Counted with the model's own tokenizer and chat template: what llama.cpp itself reports.
            return Usage(prompt_tokens, self.count_tokens(text) if text else 0, exact=True)

        return ChatStream(self.engine.pieces(msgs, max_tokens=max_tokens, temperature=temperature), counted)


def resolve_adapter(lora: str | None) -> Path | None:
    """``None``/"" → no adapter; "default" → the adapter committed in assets/; else a path."""
    if not lora:
        return None
    return DEFAULT_ADAPTER if lora == "default" else Path(lora)
