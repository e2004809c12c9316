"""Groundedness, offline: does every figure and named entity a RAG answer states appear in what it retrieved?

A *claim* here is something checkable without a model:

- a **figure**: a number as :func:`ragft.evaluation.scoring.fact_tokens` normalises it (``$1,299.00`` → ``$1299``,
  ``2,000 litres`` → ``2000``), so the context's spelling does not matter;
- a **named entity**: a run of capitalised words (``Kestrel 2 Tent``, ``Granite Mid Boot``), not counting a lone
  capitalised word that merely starts a sentence or line.

A claim is *supported* when its normalised tokens appear, in order, in the retrieved context. Words the question
itself names and fixed boilerplate (the brand voice's greeting and sign-off) are not claims about the documents.
The score is claims supported / claims stated; an answer stating nothing checkable scores ``None``.
This is a floor, not a verdict: a true statement phrased without figures or names is not checked at all, which is
what the optional LLM judge (:mod:`ragft.evaluation.judge`) adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ragft.evaluation.scoring import fact_tokens
from ragft.evaluation.style import GREETING, SIGNOFF

BOILERPLATE = (GREETING, SIGNOFF)

# capitalised words (letters, maybe digits/hyphens) possibly joined by numbers ("Kestrel 2 Tent", "Lumen 400")
_WORD = r"[A-Z][\w'\-]*"
_ENTITY_RE = re.compile(rf"{_WORD}(?:\s+(?:{_WORD}|\d+(?:\.\d+)?))*")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:]\s+|\n\s*(?:[-*•]\s*)?)$")
_STOP = frozenset(
    """a an the i i'm i've it it's this that these those we you your our my yes no hi hello hey dear
thanks thank please sure here there what when where which who how why and but or so if for with at on in of to by
is are was were be do does did can could would should will may might also just only all any each every some most
note however overall price prices cost costs""".split()
)


@dataclass(frozen=True)
class Claim:
    text: str  # as the answer states it
    kind: str  # "figure" or "entity"
    supported: bool


@dataclass(frozen=True)
class Groundedness:
    claims: tuple[Claim, ...]

    @property
    def stated(self) -> int:
        return len(self.claims)

    @property
    def supported(self) -> int:
        return sum(1 for c in self.claims if c.supported)

    @property
    def score(self) -> float | None:
        return self.supported / self.stated if self.stated else None

    @property
    def unsupported(self) -> tuple[str, ...]:
        return tuple(c.text for c in self.claims if not c.supported)

    def to_dict(self) -> dict[str, object]:
        return {
            "claims_stated": self.stated,
            "claims_supported": self.supported,
            "unsupported": list(self.unsupported),
            "score": None if self.score is None else round(self.score, 4),
        }


def _contains(hay: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if not n or n > len(hay):
        return False
    first = needle[0]
    return any(hay[i] == first and list(hay[i : i + n]) == list(needle) for i in range(len(hay) - n + 1))


def _is_figure(token: str) -> bool:
    t = token.lstrip("$-")
    return bool(t) and (t[0].isdigit())


def extract_claims(
    answer: str, question: str = "", boilerplate: Iterable[str] = BOILERPLATE
) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(text, kind, normalised tokens)`` for every figure and named entity ``answer`` states, each once."""
    text = answer or ""
    for b in boilerplate:
        if b:
            text = text.replace(b, " ")
    asked = fact_tokens(question)
    out: list[tuple[str, str, tuple[str, ...]]] = []
    seen: set[tuple[str, ...]] = set()
    rest = list(text)  # the text with entity names blanked, where figures are then looked for
    for m in _ENTITY_RE.finditer(text):
        words = m.group(0).split()
        at_start = bool(_SENTENCE_START_RE.search(text[: m.start()]))
        while words and words[0].lower() in _STOP:
            words = words[1:]
            at_start = False
        while words and (words[-1].lower() in _STOP or words[-1][0].isdigit()):
            words = words[:-1]
        if not words or (len(words) == 1 and (at_start or len(words[0]) < 3)):
            continue
        name = " ".join(words)
        start = m.start() + m.group(0).find(words[0])
        rest[start : start + len(name)] = " " * len(name)
        toks = tuple(fact_tokens(name))
        if not toks or toks in seen or _contains(asked, toks):
            continue
        seen.add(toks)
        out.append((name, "entity", toks))
    figures = []
    for tok in fact_tokens("".join(rest)):
        if _is_figure(tok) and (tok,) not in seen:
            seen.add((tok,))
            figures.append((tok, "figure", (tok,)))
    return figures + out


def check_groundedness(
    answer: str, context: str | Sequence[str], question: str = "", boilerplate: Iterable[str] = BOILERPLATE
) -> Groundedness:
    """Claims supported by ``context`` (the retrieved chunks' text) / claims ``answer`` states."""
    ctx = context if isinstance(context, str) else "\n".join(context)
    hay = fact_tokens(ctx)
    claims = tuple(
        Claim(t, kind, _contains(hay, toks)) for t, kind, toks in extract_claims(answer, question, boilerplate)
    )
    return Groundedness(claims)
