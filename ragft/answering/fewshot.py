"""The prompting baseline: instructions plus k examples taken from the fine-tune's own training set.

Shape::

    shots = FewShot(instructions="Reply with one JSON object ...", examples=(Shot(prompt, answer), ...), k=6)
    messages = build_prompted_messages(question, chunks, system_prompt, shots, mode="first")  # or "nearest"

- ``first``: the first k examples of the set (the same k for every question): a fixed few-shot prompt.
- ``nearest``: the k examples whose prompt shares the most words with the question (a lexical retrieval over
  the labelled examples, no index needed), most similar last, so the closest example sits next to the question.
- The examples go in as earlier chat turns (user, assistant), the instructions after the system prompt; the
  question is the last user turn, with retrieved context in the app's format (:func:`build_user_prompt`).
- Every call sends the instructions and the examples again: that is what a prompted configuration costs per
  call, against a fine-tune's one-time training (:func:`ragft.costs.projection.break_even_calls`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ragft import errors as E
from ragft.answering.prompts import build_user_prompt
from ragft.knowledge.retrieved import RetrievedChunk

DEFAULT_K = 6
MAX_K = 32
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be but by can do for from has have how i if in is it its me my no not of on or our "
    "please so that the this to was we what when which with you your".split()
)


class FewShotError(E.RagftError):
    """A prompted configuration cannot be built (no examples, a bad k or mode)."""

    hint = "Pick a training set with examples (a preset on the Fine-tune page, or your own examples)."


@dataclass(frozen=True)
class Shot:
    prompt: str
    answer: str


@dataclass(frozen=True)
class FewShot:
    """Instructions and labelled examples for the prompted configurations; ``source`` says where they come from."""

    instructions: str
    examples: tuple[Shot, ...]
    k: int = DEFAULT_K
    source: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_K:
            raise FewShotError(f"k must be between 1 and {MAX_K}, got {self.k}.")
        if not self.examples:
            raise FewShotError("The prompted configurations need at least one example.")

    def pick(self, question: str, mode: str) -> tuple[Shot, ...]:
        """The k examples of ``mode`` ("first" or "nearest") for ``question``."""
        if mode == "first":
            return self.examples[: self.k]
        if mode == "nearest":
            return nearest(question, self.examples, self.k)
        raise FewShotError(f"Unknown example mode {mode!r}: use 'first' or 'nearest'.")


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def nearest(question: str, examples: Sequence[Shot], k: int) -> tuple[Shot, ...]:
    """The ``k`` examples most similar to ``question`` (cosine of word counts weighted by inverse document
    frequency); ties keep the training order; the most similar comes last (next to the question)."""
    docs = [Counter(_words(s.prompt)) for s in examples]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n = len(docs)

    def vec(c: Counter[str]) -> dict[str, float]:
        return {w: f * math.log((n + 1) / (df.get(w, 0) + 1)) + f * 1e-6 for w, f in c.items()}

    q = vec(Counter(_words(question)))
    qn = math.sqrt(sum(v * v for v in q.values())) or 1.0
    scored = []
    for i, d in enumerate(docs):
        v = vec(d)
        dn = math.sqrt(sum(x * x for x in v.values())) or 1.0
        scored.append((sum(q[w] * v.get(w, 0.0) for w in q) / (qn * dn), -i))
    best = sorted(range(n), key=lambda i: scored[i], reverse=True)[:k]
    return tuple(examples[i] for i in reversed(best))


def build_prompted_messages(
    question: str,
    chunks: Sequence[RetrievedChunk] | None,
    system_prompt: str | None,
    fewshot: FewShot,
    mode: str = "first",
) -> list[dict[str, str]]:
    """System prompt + instructions, then the k examples as chat turns, then the question (with its context)."""
    system = "\n\n".join(p for p in ((system_prompt or "").strip(), fewshot.instructions.strip()) if p)
    messages: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    for shot in fewshot.pick(question, mode):
        messages.append({"role": "user", "content": shot.prompt})
        messages.append({"role": "assistant", "content": shot.answer})
    messages.append({"role": "user", "content": build_user_prompt(question, chunks)})
    return messages


def examples_text(fewshot: FewShot, mode: str = "first", question: str = "") -> str:
    """What the prompted configuration adds to every call (instructions + examples), for counting its tokens."""
    parts = [fewshot.instructions]
    for s in fewshot.pick(question, mode):
        parts += [s.prompt, s.answer]
    return "\n".join(parts)
