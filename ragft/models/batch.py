"""Batched decoding of one (model, adapter): llama.cpp contexts of 8 sequences each, one driver thread decodes them.

A :class:`BatchEngine` stands where :class:`ragft.models.pool.EnginePool` stands for
:class:`~ragft.models.embedded.EmbeddedChatModel` (``tokenize``, ``n_ctx``, ``lora_path``, ``pieces``,
``completion``), but where the pool gives every answer a context of its own and computes one token of one answer
per forward pass, the batch engine keeps every answer generating on the pair in a **bank**: a context of
:data:`BANK` sequences (``n_seq_max``, a KV cache stream of ``n_ctx`` tokens per sequence), and its driver thread
computes **one token for every active sequence of a bank in one** ``llama_decode`` per step: llama.cpp's batched
decoding, inside the app's own scheduler. The first answer opens the first bank; an answer that finds every open
place taken opens the next (up to K places in all), so memory follows the room rather than K.

- **Admission**: a generation takes one of the K places through :func:`ragft.models.fair.engine_turn` with the
  engine's capacity (round-robin over participants, first come first served within one), so queue places and
  wait hints work as for the pool. K is ``RAGFT_EMBEDDED_CONTEXTS`` (default :data:`DEFAULT_SEQUENCES`, 16: a
  Compare question puts two answers on each pair, so 8 participants asking at once all generate together).
- **Every step**: the facilitator's pause (:func:`ragft.models.fair.check_pause`; while paused, every sequence
  of the engine ends with the pause's error), the process-wide token turn and the CPU turn with the thread count
  the CPU policy gives now (:mod:`ragft.models.cpu`): the batch is one step of the process, like one token was.
- **First tokens that don't wait**: a newly admitted prompt's last (up to) :data:`CHUNK_IDLE` tokens are
  evaluated in one step that carries only that prompt, so its first token comes about as soon as alone, one step
  after the one running; a longer prompt's start goes in chunks inside the steps that also carry the other
  sequences' next tokens (they keep streaming). Never two prompt-only steps in a row: after one, the generating
  sequences get their token, with a :data:`CHUNK_BUSY` chunk of the prompt beside them, so a burst of prompts
  leaves them a token every other step. Prompts are evaluated one at a time across engines (a comparison's base
  and fine-tuned panels are on two), **round-robin over participants, oldest first within one** (the participant
  served longest ago goes next): in a burst every participant's first panel comes before anybody's second, so the
  room's participants finish close together, and a newcomer in a busy room gets a first token about as soon as
  alone, while the sequences already generating go on.
- **Stop**: closing a stream (a stopped comparison, a cancelled run) frees its sequence at the next step
  (``llama_memory_seq_rm``), and its place at once.
- **Banks**: a new answer takes a free place of the lowest open bank (after the prompt cache's choice); a bank that
  held no answer for ``idle_close_s`` is freed, the first like the others, while the rest go on. A bank that cannot
  be allocated (memory) leaves the open ones serving: the answers wait for a place there.
- **Prompt cache**: a finished sequence's prompt stays in its slot's KV stream (its answer is removed), and a new
  prompt takes the free slot whose cached prompt starts the same way and evaluates only the rest (the system prompt
  every answer shares), as ``llama_cpp.Llama`` reuses its context's prefix.
- **Shared starts in flight**: before a prompt's next chunk is evaluated, the sequence of the same pair (in any bank
  of the same size) whose KV holds the longest start of it, if that is at least :data:`MIN_SHARED` tokens more than
  the prompt has, gives it that start: its KV state is copied (``llama_state_seq_get_data_ext`` /
  ``set_data_ext``, about 23 KB per token: milliseconds) and cut where the prompts part. A burst's answers share the
  system prompt and the context's header, and a room asked the same question shares whole prompts.
- **The answers alone**: a prompt's last step evaluates at least :data:`MIN_TAIL` of its tokens, a prompt's chunk
  goes to llama.cpp in a ``llama_decode`` of its own (:meth:`_Driver.decode`), and a step's tokens go in stream
  order; so greedy answers are token for token the answers alone, with the cache and shared starts too.
- **One run of streams per bank**: llama.cpp computes only consecutive streams in one ubatch, so when an answer ends
  between others of its bank, the one in the bank's highest slot **swaps** places with the freed slot: its KV state
  goes there and the freed slot's cached prompt comes to the old one (two state copies), so a step stays one ubatch
  per bank and the prompt cache loses nothing.
- **Sampling** per sequence from its own logits row: greedy (argmax, what llama.cpp's greedy sampler picks) at
  temperature 0; above it top-k 40, top-p 0.95, min-p 0.05, then the temperature, as ``llama_cpp.Llama`` does.
- **Errors**: a failed step ends the sequences in it with :class:`ragft.errors.ServerError` (the others go on); a
  driver that stops for any reason fails every waiting caller, so no caller hangs. :meth:`BatchEngine.close` (or
  the engine being dropped) stops the driver thread and frees the context.

The weights are mmapped once per engine; each sequence costs its KV cache stream (figures in the README, *Class
mode*), allocated a bank of 8 at a time as answers come and freed after ``idle_close_s`` (10 minutes) without an
answer in the bank, as the pool closes its idle contexts; the next answer allocates them again (a fraction of a
second). ``RAGFT_EMBEDDED_BATCH=0`` gives back the pool of one-sequence contexts (:func:`shared_engine`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp as L
import numpy as np

from ragft import errors as E
from ragft.models import cpu, fair
from ragft.models.embedded import check_files, render_chatml
from ragft.models.pool import IDLE_CLOSE_S, MAX_CONTEXTS, EnginePool, contexts_from_env
from ragft.models.stream import Messages
from ragft.models.usage import Usage

logger = logging.getLogger(__name__)

BATCH_ENV = "RAGFT_EMBEDDED_BATCH"
BANK = 8  # sequences per llama.cpp context: the engine opens another bank of 8 when all open places are taken
DEFAULT_SEQUENCES = 16  # places per (model, adapter) with RAGFT_EMBEDDED_CONTEXTS unset: 2 banks at most
CHUNK_BUSY = 128  # prompt tokens beside the generating sequences' tokens in a step that must carry them
CHUNK_IDLE = 512  # prompt tokens per step at most (llama.cpp's usual batch); a prompt's last step carries its rest
N_UBATCH = 512
TOP_K, TOP_P, MIN_P = 40, 0.95, 0.05  # llama_cpp.Llama's defaults for temperature > 0
POLL_S = 0.25  # a waiting caller checks that the driver still runs this often
PREFILL_WAIT_S = 0.05  # a driver whose prompts are not next (another engine's is) re-checks this often
MIN_SHARED = 8  # prompt tokens a sequence in flight must give beyond what a prompt has, for a copy of its KV
# A prompt's last step evaluates at least this many of its tokens (all of a shorter prompt): on some CPUs (this AMD
# EPYC's AVX2 build) llama.cpp computes one token per KV stream through other kernels than several, and a prompt's
# last token evaluated on its own gave first logits up to 0.44 off those of the prompt evaluated whole (any tail of 2
# or more: bit for bit the same), enough to change a greedy answer. llama.cpp's server documents the same of its
# prompt cache ("logits are not guaranteed to be bit-for-bit identical for different batch sizes").
MIN_TAIL = 2


def batch_from_env(env: dict[str, str] | None = None) -> bool:
    """``RAGFT_EMBEDDED_BATCH``: on unless ``0`` (``1`` or unset: batched decoding); else a ConfigError."""
    raw = (os.environ if env is None else env).get(BATCH_ENV, "").strip().lower()
    if raw in ("", "1", "true", "on", "yes"):
        return True
    if raw in ("0", "false", "off", "no"):
        return False
    raise E.ConfigError(f"{BATCH_ENV} must be 1 (batched decoding, the default) or 0 (the pool), not {raw!r}.")


def shared_engine(model_path: Path, lora_path: Path | None = None) -> BatchEngine | EnginePool:
    """The engine the app shares for one (model, adapter): a :class:`BatchEngine`, or with
    ``RAGFT_EMBEDDED_BATCH=0`` the :class:`~ragft.models.pool.EnginePool` of one-sequence contexts."""
    if batch_from_env():
        return BatchEngine(model_path, lora_path)
    return EnginePool(model_path, lora_path)


_END = object()  # a sequence finished


class _Seq:
    """One generation inside the context: its prompt, where it stands, what it emitted."""

    __slots__ = (
        "prompt",
        "max_tokens",
        "temperature",
        "rng",
        "arrived",
        "slot",
        "evaluated",
        "pending",
        "generated",
        "buf",
        "out",
        "cancelled",
        "finished",
        "owner",
        "key",
    )

    def __init__(self, prompt: list[int], max_tokens: int, temperature: float) -> None:
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.rng = np.random.default_rng() if temperature > 0 else None
        self.arrived = time.monotonic()
        self.slot: int | None = None
        self.evaluated = 0  # prompt tokens in the KV cache
        self.pending: int | None = None  # the last sampled token, fed to the next step
        self.generated = 0
        self.buf = b""  # bytes of a UTF-8 character split across tokens
        self.out: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.cancelled = False
        self.finished = False
        self.owner, self.key = fair.caller()

    @property
    def prefilling(self) -> bool:
        return self.pending is None and self.evaluated < len(self.prompt)


class _Prompts:
    """The process's prompts waiting for evaluation (every batch engine), and how many sequences generate.

    One prompt is evaluated at a time, whichever engine holds it: the next is the oldest waiting prompt of the
    participant whose last prompt was evaluated longest ago (round-robin over participants, first come first served
    within one), so in a burst every participant's first panel gets its first token before anybody's second, and a
    newcomer's prompt goes ahead of the panels of those already served, while every generating sequence keeps
    stepping.
    """

    KEEP_SERVED = 4096  # participants remembered; beyond, those served longest ago are forgotten (they rank first)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting: dict[int, tuple[str, float]] = {}  # id(seq) -> (participant, admitted at)
        self._served: dict[str, float] = {}  # participant -> when a prompt of theirs was last evaluated
        self._generating = 0

    def add(self, seq: _Seq) -> None:
        with self._lock:
            self._waiting[id(seq)] = (seq.owner, seq.arrived)

    def discard(self, seq: _Seq, *, evaluated: bool = False) -> None:
        """``seq`` no longer waits (``evaluated``: its prompt is in, its participant was served now)."""
        with self._lock:
            if self._waiting.pop(id(seq), None) is not None:
                if evaluated:
                    self._served.pop(seq.owner, None)
                    self._served[seq.owner] = time.monotonic()
                    if len(self._served) > self.KEEP_SERVED:
                        del self._served[next(iter(self._served))]
                self._changed.notify_all()

    def _first(self) -> int | None:
        if not self._waiting:
            return None
        return min(self._waiting, key=lambda i: (self._served.get(self._waiting[i][0], 0.0), self._waiting[i][1]))

    def _next_of(self, seqs: list[_Seq]) -> _Seq | None:
        """The one of ``seqs`` whose prompt is next of the process, if any is (under the lock)."""
        first = self._first()
        return next((s for s in seqs if id(s) == first), None)

    def first_of(self, seqs: list[_Seq]) -> _Seq | None:
        """The one of ``seqs`` whose prompt is next of the process, if any is."""
        with self._lock:
            return self._next_of(seqs)

    def wait_for_turn(self, seqs: list[_Seq], timeout_s: float) -> None:
        """Unless one of ``seqs`` is next already, wait until a prompt was evaluated or dropped, at most
        ``timeout_s`` (checked and waited under one lock: no notification is missed in between)."""
        with self._changed:
            if self._next_of(seqs) is None:
                self._changed.wait(timeout_s)

    def generating(self, delta: int = 0) -> int:
        with self._lock:
            self._generating += delta
            return self._generating


PROMPTS = _Prompts()


class _Driver:
    """The native context and the thread that steps it. Holds no reference to its :class:`BatchEngine`, so an
    engine dropped by its cache is collected, and its finalizer stops this driver."""

    def __init__(
        self,
        model_path: Path,
        lora_path: Path | None,
        capacity: int,
        n_ctx: int,
        n_threads: int | None,
        policy: cpu.CpuPolicy,
        idle_close_s: float,
        prompt_cache: bool,
    ) -> None:
        self.capacity = capacity
        self.idle_close_s = idle_close_s
        self.prompt_cache = prompt_cache
        self.n_ctx = n_ctx
        self.policy = policy
        self.fixed_threads = n_threads
        self.model: Any = None
        self.lora_name = ""
        self.adapter: Any = None
        self.vocab: Any = None
        self.n_vocab = 0
        self.threads = 1
        self.batch: Any = None
        n_banks = -(-capacity // BANK)
        self.sizes = [min(BANK, capacity - b * BANK) for b in range(n_banks)]  # sequences of each bank
        self.ctxs: list[Any] = [None] * n_banks  # a bank's context, None while closed
        self.mems: list[Any] = [None] * n_banks
        self.bank_threads = [0] * n_banks
        self.bank_idle = [time.monotonic()] * n_banks  # since when a bank holds no sequence
        self._cond = threading.Condition()
        self._pending: list[_Seq] = []  # admitted, waiting for a slot in the context
        self._active: list[_Seq] = []  # holding a slot
        self._free_slots: list[int] = []  # the places of the open banks that no sequence holds
        self._bank_failed = False  # a bank could not open (memory) while others ran: no retry until one closes
        self._cached: list[list[int]] = [[] for _ in range(capacity)]  # prompt tokens a free slot's KV still holds
        self._closed = False
        self.failure: BaseException | None = None
        self.steps = 0
        self._skipped_generation = False  # the last step left the generating sequences out (for a first token)
        self.reused = 0  # prompt tokens taken from a slot's cache or a sequence in flight instead of evaluated
        self.shared = 0  # of which from a sequence in flight
        self.moved = 0  # sequences that swapped places down their bank to close a gap (one ubatch per step)
        try:
            self._load(model_path, lora_path, n_threads)
        except BaseException:
            self._free_native()
            raise
        self.thread = threading.Thread(target=self._run, name=f"ragft-batch-{model_path.stem}", daemon=True)
        self.thread.start()

    # ---- native ------------------------------------------------------------------------------------------------
    def _load(self, model_path: Path, lora_path: Path | None, n_threads: int | None) -> None:
        quiet_llama()
        params = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(str(model_path).encode(), params)
        if not self.model:
            raise E.EmbeddedModelUnavailable(f"The model file {model_path.name} could not be loaded.")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = int(L.llama_vocab_n_tokens(self.vocab))
        self.threads = n_threads or self.policy.threads_for(cpu.GENERATION)
        if lora_path is not None:
            self.adapter = L.llama_adapter_lora_init(self.model, str(lora_path).encode())
            if not self.adapter:
                raise E.EmbeddedModelUnavailable(f"The LoRA adapter {lora_path.name} could not be loaded.")
        self.lora_name = lora_path.name if lora_path else ""
        self.batch = L.llama_batch_init(CHUNK_IDLE + BANK, 0, 1)
        # The banks (their KV streams) open as answers come: a loaded app that nobody asks yet holds the weights only.

    def _open_bank(self, bank: int) -> None:
        """A bank's context with its KV streams (allocated here: about 47 MB per sequence at 2048 tokens)."""
        size = self.sizes[bank]
        cp = L.llama_context_default_params()
        cp.n_ctx = self.n_ctx * size
        cp.n_seq_max = size
        cp.kv_unified = False  # a KV stream per sequence: each attends over its own tokens only
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as llama_cpp.Llama: the same greedy answers
        cp.n_batch = CHUNK_IDLE + size
        cp.n_ubatch = N_UBATCH
        cp.n_threads = cp.n_threads_batch = self.threads
        ctx = L.llama_init_from_model(self.model, cp)
        if not ctx:
            raise E.EmbeddedModelUnavailable(
                f"llama.cpp could not make a context for {size} more sequences of {self.n_ctx} tokens."
            )
        if self.adapter:
            adapters = (L.llama_adapter_lora_p_ctypes * 1)(self.adapter)
            scales = (ctypes.c_float * 1)(1.0)
            if L.llama_set_adapters_lora(ctx, adapters, 1, scales) != 0:
                L.llama_free(ctx)
                raise E.EmbeddedModelUnavailable(f"The LoRA adapter {self.lora_name} does not fit this model.")
        self.ctxs[bank], self.mems[bank] = ctx, L.llama_get_memory(ctx)
        self.bank_threads[bank] = self.threads
        self.bank_idle[bank] = time.monotonic()
        self._free_slots.extend(range(bank * BANK, bank * BANK + size))
        logger.info("opened bank %d of %s (%d sequences)", bank, self.lora_name or "the base model", size)

    def _close_bank(self, bank: int) -> None:
        """Free an idle bank's KV streams (the model stays loaded); the next answers open it again."""
        if self.ctxs[bank]:
            self._bank_failed = False  # memory given back: another bank may open again
            L.llama_free(self.ctxs[bank])
            self.ctxs[bank] = self.mems[bank] = None
            slots = range(bank * BANK, bank * BANK + self.sizes[bank])
            self._free_slots = [s for s in self._free_slots if s not in slots]
            for s in slots:
                self._cached[s] = []

    def _close_idle_banks(self) -> float | None:
        """Close the banks that held no sequence for ``idle_close_s`` (under the lock); seconds to the next one."""
        now, busy = time.monotonic(), {s.slot // BANK for s in self._active if s.slot is not None}
        soonest: float | None = None
        for bank, ctx in enumerate(self.ctxs):
            if not ctx or bank in busy:
                continue
            idle = now - self.bank_idle[bank]
            if idle >= self.idle_close_s:
                logger.info("closing bank %d, unused for %.0f s", bank, idle)
                self._close_bank(bank)
            else:
                soonest = min(soonest or self.idle_close_s, self.idle_close_s - idle)
        return soonest

    @property
    def context_open(self) -> bool:
        return any(self.ctxs)

    @property
    def banks_open(self) -> int:
        return sum(1 for c in self.ctxs if c)

    def _free_native(self) -> None:
        if self.batch is not None:
            L.llama_batch_free(self.batch)
            self.batch = None
        for bank in range(len(self.ctxs)):
            self._close_bank(bank)
        if self.adapter:
            L.llama_adapter_lora_free(self.adapter)
            self.adapter = None
        if self.model:
            L.llama_model_free(self.model)
            self.model = None

    def tokenize(self, text: str, special: bool) -> list[int]:
        raw = text.encode("utf-8")
        buf = (L.llama_token * (len(raw) + 16))()
        n = L.llama_tokenize(self.vocab, raw, len(raw), buf, len(buf), False, special)
        if n < 0:  # cannot happen with a buffer longer than the bytes; kept as the library's contract
            buf = (L.llama_token * -n)()
            n = L.llama_tokenize(self.vocab, raw, len(raw), buf, len(buf), False, special)
        return list(buf[:n])

    def _piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = L.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = L.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def decode(self, items: list[tuple[int, int, int, bool]]) -> list[tuple[Any, int]]:
        """``(token, position, slot, wants logits)`` items in one ``llama_decode`` per bank they are in, and a prompt's
        chunk in one of its own before the others' tokens; for each item, the context and the row where its logits
        are, or a copy of them and -1 (the tests replace it).

        The chunk goes alone because llama.cpp splits a batch over several KV streams into ubatches of as many tokens
        per stream: beside the generating sequences' one token each, the chunk's first token would be computed as one
        token of its stream, and a chunk of two as two ubatches of one, whose logits can differ from those of the
        prompt evaluated whole (:data:`MIN_TAIL`). llama.cpp computes such a step as two ubatches anyway. The tokens go
        in stream order: llama.cpp puts consecutive streams only in one ubatch, and a step of 8 in another order took
        107-115 ms instead of 84 (one thread, this CPU)."""
        where: list[tuple[Any, int]] = [(None, -1)] * len(items)
        banks: dict[int, list[int]] = {}
        for i, item in enumerate(items):
            banks.setdefault(item[2] // BANK, []).append(i)
        for bank, rows in banks.items():
            ctx = self.ctxs[bank]
            rows.sort(key=lambda i: items[i][2])  # stream order: llama.cpp starts a ubatch at each stream not next
            per_slot = Counter(items[i][2] for i in rows)
            chunk = [i for i in rows if per_slot[items[i][2]] > 1]
            rest = [i for i in rows if per_slot[items[i][2]] == 1]
            if chunk and rest:
                self._decode_rows(ctx, items, chunk, where)
                for i in chunk:  # the next llama_decode on this context replaces its logits
                    if where[i][1] >= 0:
                        row = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, where[i][1]), shape=(self.n_vocab,))
                        where[i] = (row.copy(), -1)
                self._decode_rows(ctx, items, rest, where)
            else:
                self._decode_rows(ctx, items, rows, where)
        return where

    def _decode_rows(
        self, ctx: Any, items: list[tuple[int, int, int, bool]], rows: list[int], where: list[tuple[Any, int]]
    ) -> None:
        b = self.batch
        seq_ids: Any = b.seq_id
        for j, i in enumerate(rows):
            token, pos, slot, logits = items[i]
            b.token[j] = token
            b.pos[j] = pos
            b.n_seq_id[j] = 1
            seq_ids[j][0] = slot % BANK
            b.logits[j] = 1 if logits else 0
            where[i] = (ctx, j if logits else -1)
        b.n_tokens = len(rows)
        rc = L.llama_decode(ctx, b)
        if rc != 0:
            raise E.ServerError(
                f"The embedded engine could not decode a batch of {len(rows)} tokens (code {rc}).",
                hint="Ask again; the server log has the cause.",
            )

    def _set_threads(self, granted: int) -> None:
        n = max(1, int(self.fixed_threads or granted))
        self.threads = n
        for bank, ctx in enumerate(self.ctxs):
            if ctx and self.bank_threads[bank] != n:
                L.llama_set_n_threads(ctx, n, n)
                self.bank_threads[bank] = n

    # ---- callers ---------------------------------------------------------------------------------------------
    def submit(self, seq: _Seq) -> None:
        with self._cond:
            if self._closed or self.failure is not None:
                raise E.ServerError("The embedded engine has stopped.", hint="Reload the page to start it again.")
            self._pending.append(seq)
            PROMPTS.add(seq)
            self._cond.notify_all()

    def cancel(self, seq: _Seq) -> None:
        with self._cond:
            seq.cancelled = True
            if seq in self._pending:
                self._pending.remove(seq)
                PROMPTS.discard(seq)
            self._cond.notify_all()

    def alive(self) -> bool:
        return self.thread.is_alive() and self.failure is None

    def active(self) -> int:
        with self._cond:
            return len(self._active) + len(self._pending)

    def close(self, timeout_s: float = 30.0) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout_s)
        if self.thread.is_alive():  # a step still running: the thread frees the context when it ends
            logger.warning("the batch driver did not stop within %.0f s", timeout_s)
            return
        self._free_native()

    # ---- the driver --------------------------------------------------------------------------------------------
    def _finish(self, seq: _Seq, item: object = _END) -> None:
        """End ``seq``: free its slot (``llama_memory_seq_rm``), give its caller the end or an error."""
        if seq.finished:
            return
        seq.finished = True
        PROMPTS.discard(seq)
        if seq.pending is not None or seq.generated:
            PROMPTS.generating(-1)
        if seq.buf and item is _END:
            seq.out.put(seq.buf.decode("utf-8", errors="ignore"))
        seq.out.put(item)
        with self._cond:
            if seq in self._active:
                self._active.remove(seq)
            if seq in self._pending:
                self._pending.remove(seq)
            slot = seq.slot
        if slot is not None:
            # The answer's tokens leave the cache at once; its prompt stays for the next prompt that starts the
            # same way (the system prompt), unless the step failed.
            keep = seq.prompt[: seq.evaluated] if item is _END else []
            bank = slot // BANK
            if self.mems[bank]:
                L.llama_memory_seq_rm(self.mems[bank], slot % BANK, len(keep) if keep else -1, -1)
            with self._cond:
                if self.ctxs[bank]:
                    self._cached[slot] = keep
                    self._free_slots.append(slot)
                self.bank_idle[bank] = time.monotonic()

    def _close_gaps(self, work: list[_Seq]) -> None:
        """Keep each bank's sequences in one run of streams: llama.cpp puts only consecutive streams in one ubatch, so
        while a bank's sequences have a free slot between them, the one in the highest slot swaps places with the
        lowest such slot (:meth:`_swap`)."""
        banks: dict[int, list[_Seq]] = {}
        for s in work:
            if s.slot is not None and not s.finished:
                banks.setdefault(s.slot // BANK, []).append(s)
        for seqs in banks.values():
            seqs.sort(key=lambda s: s.slot or 0)
            while len(seqs) > 1:
                lo, hi = seqs[0].slot, seqs[-1].slot
                assert lo is not None and hi is not None
                if hi - lo + 1 == len(seqs):
                    break
                with self._cond:
                    gaps = [f for f in self._free_slots if lo < f < hi]
                if not gaps or not self._swap(seqs[-1], min(gaps)):
                    break
                seqs.sort(key=lambda s: s.slot or 0)

    def _state(self, ctx: Any, stream: int) -> Any:
        """A copy of one KV stream's state, or None when llama.cpp gives less than it said."""
        n_bytes = L.llama_state_seq_get_size_ext(ctx, stream, 0)
        state = (ctypes.c_uint8 * n_bytes)()
        return state if L.llama_state_seq_get_data_ext(ctx, state, n_bytes, stream, 0) == n_bytes else None

    def _put(self, ctx: Any, state: Any, stream: int) -> bool:
        """Load a copy from :meth:`_state` (None: nothing to load) into one KV stream; False when it was not whole."""
        return state is not None and L.llama_state_seq_set_data_ext(ctx, state, len(state), stream, 0) == len(state)

    def _swap(self, seq: _Seq, dst: int) -> bool:
        """``seq`` to the free slot ``dst`` of its bank, and ``dst``'s cached prompt to ``seq``'s old slot (both KV
        states copied). False, with ``seq`` where it was, when its state could not be copied; a cached prompt that
        could not be is dropped (the cache is only a saving)."""
        assert seq.slot is not None
        src, bank = seq.slot, seq.slot // BANK
        ctx, mem = self.ctxs[bank], self.mems[bank]
        cached = self._cached[dst]
        moving = self._state(ctx, src % BANK)
        kept = self._state(ctx, dst % BANK) if cached else None
        if not self._put(ctx, moving, dst % BANK):
            logger.warning("could not move a sequence's KV state; it stays where it is")
            L.llama_memory_seq_rm(mem, dst % BANK, -1, -1)
            with self._cond:
                self._cached[dst] = []
            return False
        L.llama_memory_seq_rm(mem, src % BANK, -1, -1)
        if not self._put(ctx, kept, src % BANK):
            L.llama_memory_seq_rm(mem, src % BANK, -1, -1)
            cached = []
        with self._cond:
            self._free_slots.remove(dst)
            self._free_slots.append(src)
            self._cached[dst], self._cached[src] = [], cached
            seq.slot = dst
        self.moved += 1
        return True

    def _share_start(self, seq: _Seq, work: list[_Seq]) -> None:
        """Give ``seq`` the longest start of its prompt that a sequence in flight of a bank of the same size holds, if
        it is :data:`MIN_SHARED` tokens or more beyond what ``seq`` has (its KV copied, then cut where they part)."""
        assert seq.slot is not None
        size = self.sizes[seq.slot // BANK]
        best, donor = seq.evaluated + MIN_SHARED - 1, None
        for s in work:
            if s is seq or s.slot is None or self.sizes[s.slot // BANK] != size:
                continue
            n = _common_start(seq.prompt, s.prompt, min(s.evaluated, _reusable(seq.prompt)))
            if n > best:
                best, donor = n, s
        if donor is None:
            return
        assert donor.slot is not None
        src, dst = self.ctxs[donor.slot // BANK], self.ctxs[seq.slot // BANK]
        mem = self.mems[seq.slot // BANK]
        if not self._put(dst, self._state(src, donor.slot % BANK), seq.slot % BANK):
            # the stream may hold part of a copy: the prompt is evaluated from its start
            logger.warning("could not copy a sequence's KV state; evaluating the prompt whole")
            L.llama_memory_seq_rm(mem, seq.slot % BANK, -1, -1)
            seq.evaluated = 0
            return
        L.llama_memory_seq_rm(mem, seq.slot % BANK, best, -1)
        self.reused += best - seq.evaluated
        self.shared += best - seq.evaluated
        seq.evaluated = best

    def _place(self, seq: _Seq) -> None:
        """Give ``seq`` the free slot whose cached prompt shares the longest start with its prompt, of the lowest
        bank among the best (under the lock; the caller opened a bank if none had a free slot)."""

        def shared(slot: int) -> int:  # the last MIN_TAIL prompt tokens are always evaluated: they give the logits
            return _common_start(self._cached[slot], seq.prompt, _reusable(seq.prompt))

        slot = max(self._free_slots, key=lambda s: (shared(s), -s))
        self._free_slots.remove(slot)
        reuse = shared(slot) if self.prompt_cache else 0
        if reuse < len(self._cached[slot]):
            L.llama_memory_seq_rm(self.mems[slot // BANK], slot % BANK, reuse if reuse else -1, -1)
        self._cached[slot] = []
        seq.slot, seq.evaluated = slot, reuse
        self.reused += reuse

    def _fail_all(self, exc: BaseException) -> None:
        with self._cond:
            seqs = self._active + self._pending
        for seq in seqs:
            self._finish(seq, exc)

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._closed and not self._active and not self._pending:
                        soonest = self._close_idle_banks()
                        self._cond.wait(timeout=max(0.05, soonest) if soonest is not None else None)
                    if self._closed:
                        break
                    if self._active:
                        self._close_idle_banks()  # a room that shrank gives back its extra banks' memory
                    closed = [b for b, ctx in enumerate(self.ctxs) if not ctx]
                    if self._pending and not self._free_slots and closed and not self._bank_failed:
                        try:
                            self._open_bank(closed[0])
                        except E.RagftError as exc:
                            if self.context_open:  # the open banks go on: the waiting answers wait for a place
                                logger.warning(
                                    "could not open another bank, going on with %d: %s",
                                    len(self.ctxs) - len(closed),
                                    exc,
                                )
                                self._bank_failed = True
                                continue
                            for seq in list(self._pending):
                                self._pending.remove(seq)
                                seq.out.put(exc)
                                PROMPTS.discard(seq)
                            continue
                    gone = [s for s in self._active if s.cancelled]
                    while self._pending and self._free_slots:
                        seq = self._pending.pop(0)
                        self._place(seq)
                        self._active.append(seq)
                    work = [s for s in self._active if not s.cancelled]
                for seq in gone:
                    self._finish(seq)
                if work:
                    self._step(work)
        except BaseException as exc:  # noqa: BLE001 - the driver must hand every failure to its callers
            logger.exception("the batch driver stopped")
            self.failure = exc
        finally:
            err = E.ServerError("The embedded engine stopped.", hint="Reload the page to start it again.")
            if self.failure is not None:
                err = E.ServerError(f"The embedded engine stopped: {E.short_message(self.failure)}.")
            with self._cond:
                self._closed = self._closed or self.failure is not None
            self._fail_all(err)
            if self.failure is None:
                self._free_native()

    def _step(self, work: list[_Seq]) -> None:
        try:
            fair.check_pause()
        except E.RagftError as exc:  # paused: every sequence of the engine ends with the pause's message
            for seq in work:
                self._finish(seq, exc)
            return
        self._close_gaps(work)
        gen = gen_all = [s for s in work if s.pending is not None]
        prefill = [s for s in work if s.prefilling]
        chunk_of = PROMPTS.first_of(prefill) if prefill else None
        if not gen and chunk_of is None:
            PROMPTS.wait_for_turn(prefill, PREFILL_WAIT_S)  # another engine evaluates the next prompt first
            return
        if chunk_of is not None and self.prompt_cache:
            self._share_start(chunk_of, work)
        end = 0
        if chunk_of is not None:
            left = len(chunk_of.prompt) - chunk_of.evaluated
            if not gen and PROMPTS.generating() == 0:
                size = CHUNK_IDLE  # nothing generates: llama.cpp's usual batches
            elif left <= CHUNK_IDLE and not (gen and self._skipped_generation):
                size = left  # the rest in one step, its first token now (the others skip this one step)
            elif left <= CHUNK_IDLE:
                size = CHUNK_BUSY  # the others had no token last step: they get one, with a chunk
            else:
                size = max(CHUNK_BUSY, min(CHUNK_IDLE, left - CHUNK_IDLE))  # leave the last 512 for one step
            size = min(size, left)
            if 0 < left - size < MIN_TAIL:
                size = left - MIN_TAIL  # the last step evaluates MIN_TAIL tokens at least
            end = chunk_of.evaluated + size
            if end == len(chunk_of.prompt) and not self._skipped_generation:
                gen = []  # the step that gives a prompt its first token carries only it (never twice in a row)
        self._skipped_generation = bool(gen_all) and not gen
        items: list[tuple[int, int, int, bool]] = []
        outputs: list[tuple[_Seq, int]] = []  # (sequence, batch index of its logits row)
        for s in gen:
            assert s.slot is not None and s.pending is not None
            outputs.append((s, len(items)))
            items.append((s.pending, len(s.prompt) + s.generated - 1, s.slot, True))
        if chunk_of is not None:
            assert chunk_of.slot is not None
            for pos in range(chunk_of.evaluated, end):
                last = pos == len(chunk_of.prompt) - 1
                if last:
                    outputs.append((chunk_of, len(items)))
                items.append((chunk_of.prompt[pos], pos, chunk_of.slot, last))
        try:
            with fair.TOKEN_STEP.turn("", ""), cpu.Lease(self.policy, cpu.GENERATION).step() as threads:
                self._set_threads(threads)
                where = self.decode(items)
                self.steps += 1
        except Exception as exc:  # noqa: BLE001 - the step's sequences end with a typed error, the others go on
            logger.exception("a batch step of %d tokens failed", len(items))
            err = (
                exc
                if isinstance(exc, E.RagftError)
                else E.ServerError(
                    f"The embedded engine failed: {E.short_message(exc)}.",
                    hint="Ask again; the server log has the cause.",
                )
            )
            for seq, _ in outputs:
                self._finish(seq, err)
            if chunk_of is not None:
                self._finish(chunk_of, err)
            return
        if chunk_of is not None:
            chunk_of.evaluated = end
            if end == len(chunk_of.prompt):
                PROMPTS.discard(chunk_of, evaluated=True)
        for seq, i in outputs:
            if seq.cancelled:
                self._finish(seq)
                continue
            token = self._sample(seq, *where[i])
            first = seq.pending is None
            if L.llama_vocab_is_eog(self.vocab, token):
                self._finish(seq)
                continue
            if first:
                PROMPTS.generating(1)
            seq.generated += 1
            seq.pending = token
            seq.buf += self._piece(token)
            text, seq.buf = _utf8_prefix(seq.buf)
            if text:
                seq.out.put(text)
            if seq.generated >= seq.max_tokens:
                self._finish(seq)

    def _sample(self, seq: _Seq, ctx: Any, row: int) -> int:
        """``seq``'s next token from the logits at ``row`` of ``ctx`` (``row`` -1: ``ctx`` is a copy of them)."""
        logits = ctx if row < 0 else np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, row), shape=(self.n_vocab,))
        if seq.rng is None:
            return int(logits.argmax())
        return sample_token(logits, seq.temperature, seq.rng)


def sample_token(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """``llama_cpp.Llama``'s sampler chain above temperature 0: top-k 40, top-p 0.95 and min-p 0.05 on the
    untempered probabilities, then the temperature, then a draw."""
    k = min(TOP_K, logits.shape[0])
    top = np.argpartition(logits, -k)[-k:]
    top = top[np.argsort(-logits[top], kind="stable")]
    values = logits[top].astype(np.float64)
    p = np.exp(values - values[0])
    p /= p.sum()
    keep = int(np.searchsorted(np.cumsum(p), TOP_P) + 1)
    keep = max(1, min(keep, int((p >= MIN_P * p[0]).sum())))
    values = values[:keep] / temperature
    q = np.exp(values - values.max())
    q /= q.sum()
    return int(top[int(rng.choice(keep, p=q))])


def _reusable(prompt: list[int]) -> int:
    """How many first tokens of ``prompt`` may come from a cache or a sequence in flight: all but :data:`MIN_TAIL`."""
    return max(0, len(prompt) - MIN_TAIL)


def _common_start(a: list[int], b: list[int], limit: int) -> int:
    """How many first tokens ``a`` and ``b`` share, at most ``limit``."""
    n = 0
    for x, y in zip(a[:limit], b[:limit], strict=False):
        if x != y:
            break
        n += 1
    return n


def _utf8_prefix(buf: bytes) -> tuple[str, bytes]:
    """The text of ``buf`` up to a UTF-8 character still incomplete at its end, and those bytes."""
    for cut in range(min(4, len(buf)) + 1):
        head = buf[: len(buf) - cut] if cut else buf
        try:
            return head.decode("utf-8"), buf[len(head) :]
        except UnicodeDecodeError:
            continue
    return buf.decode("utf-8", errors="ignore"), b""


_QUIET: list[object] = []


def quiet_llama() -> None:
    """llama.cpp logs every load to stderr; the app's log is enough (once per process)."""
    if not _QUIET:
        cb = L.llama_log_callback(lambda _level, _text, _data: None)
        _QUIET.append(cb)
        L.llama_log_set(cb, ctypes.c_void_p(0))
        L.llama_backend_init()


class BatchEngine:
    """One (model, adapter) decoding up to ``max_sequences`` answers together (see the module docstring).

    The model and the adapter are loaded at once (a missing or unreadable file fails here, as for one engine), the
    context with the first answer; the driver thread starts with the engine and stops at :meth:`close`. ``prompt_cache=False`` evaluates every
    prompt whole (measurements that must not depend on what was asked before).
    """

    def __init__(
        self,
        model_path: Path,
        lora_path: Path | None = None,
        *,
        max_sequences: int | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        policy: cpu.CpuPolicy | None = None,
        idle_close_s: float = IDLE_CLOSE_S,
        prompt_cache: bool = True,
    ) -> None:
        self.capacity = max_sequences or contexts_from_env(default=DEFAULT_SEQUENCES)
        if not 1 <= self.capacity <= MAX_CONTEXTS:
            raise E.ConfigError(f"A batch engine holds 1 to {MAX_CONTEXTS} sequences, not {self.capacity}.")
        self.model_path, self.lora_path = check_files(model_path, lora_path)
        self.n_ctx = n_ctx
        self.policy = policy or cpu.policy()
        self._driver = _Driver(
            self.model_path, self.lora_path, self.capacity, n_ctx, n_threads, self.policy, idle_close_s, prompt_cache
        )
        self._finalizer = weakref.finalize(self, self._driver.close)  # dropped by its cache: the driver stops
        self._finalizer.atexit = False  # at exit the process ends with it: no join on a step still running

    def __repr__(self) -> str:
        return f"<BatchEngine {self.model_path.name} lora={self.lora_path} sequences={self.capacity}>"

    @property
    def thread(self) -> threading.Thread:
        """The driver thread (alive until :meth:`close`)."""
        return self._driver.thread

    @property
    def steps(self) -> int:
        """Batches decoded so far."""
        return self._driver.steps

    @property
    def reused(self) -> int:
        """Prompt tokens not evaluated so far: taken from a freed slot's cached prompt or a sequence in flight that
        started the same way."""
        return self._driver.reused

    @property
    def shared(self) -> int:
        """Of :attr:`reused`, the prompt tokens copied from sequences in flight."""
        return self._driver.shared

    @property
    def moved(self) -> int:
        """Sequences that swapped places down their bank to keep its streams one run (one ubatch per step)."""
        return self._driver.moved

    def active(self) -> int:
        """Sequences admitted and not finished."""
        return self._driver.active()

    @property
    def context_open(self) -> bool:
        """Whether any bank's KV streams are allocated (each closes after ``idle_close_s`` without an answer)."""
        return self._driver.context_open

    @property
    def banks_open(self) -> int:
        """Contexts of :data:`BANK` sequences allocated now (more open as more answers generate at once)."""
        return self._driver.banks_open

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self._driver.tokenize(text, special)

    def close(self) -> None:
        """Stop the driver (waiting callers get a ServerError) and free the context."""
        self._finalizer()

    def tokens(self, prompt: list[int], *, max_tokens: int, temperature: float) -> Iterator[str]:
        """Text pieces of one generation from ``prompt`` (token ids), admitted in fair turn; lazy: nothing happens
        before the first ``next``; closing it frees the sequence."""
        if len(prompt) + max_tokens > self.n_ctx or not prompt:
            raise E.BadRequest(f"A prompt of {len(prompt)} tokens and {max_tokens} more do not fit {self.n_ctx}.")
        with fair.engine_turn(self, self.capacity), self.policy.job(cpu.GENERATION):
            seq = _Seq(prompt, max_tokens, temperature)
            self._driver.submit(seq)
            try:
                while True:
                    try:
                        item = seq.out.get(timeout=POLL_S)
                    except queue.Empty:
                        if not self._driver.alive():
                            raise E.ServerError("The embedded engine stopped.") from self._driver.failure
                        continue
                    if item is _END:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    assert isinstance(item, str)
                    yield item
            finally:
                self._driver.cancel(seq)

    def pieces(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        """Text pieces of the answer to ``messages`` (rendered with the model's ChatML template)."""
        prompt = self.tokenize(render_chatml(messages), special=True)
        yield from self.tokens(prompt, max_tokens=max_tokens, temperature=temperature)

    def completion(self, messages: Messages, *, max_tokens: int, temperature: float) -> tuple[str, Usage]:
        """The whole answer and its exact usage (prompt tokens, generated tokens)."""
        prompt = self.tokenize(render_chatml(messages), special=True)
        text = "".join(self.tokens(prompt, max_tokens=max_tokens, temperature=temperature))
        return text, Usage(len(prompt), len(self.tokenize(text)) if text else 0, exact=True)
