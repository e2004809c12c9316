"""Scorers for one answer: facts stated (normalised tokens), the brand voice, retrieval hit@k.

Plain functions, so they can be tested with hand-made answers: :func:`fact_found`, :func:`score_facts`,
:func:`score_style`, :func:`retrieval_hit`, :func:`page_hit`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from ragft.evaluation.formats import TICKET_SCHEMA, check_json
from ragft.evaluation.style import check_style

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_TOKEN_RE = re.compile(rf"(?P<num>(?<![\w.,])[-\u2212\u2013]?{_NUM}|{_NUM})|(?P<word>[^\W\d_]+)|(?P<cur>[$])")
_CURRENCY_WORDS = frozenset({"dollar", "dollars", "usd", "bucks"})
_DROP_WORDS = frozenset({"degree", "degrees", "deg"})
_SYNONYMS = {
    "kilogram": "kg",
    "kilograms": "kg",
    "kilo": "kg",
    "kilos": "kg",
    "kgs": "kg",
    "gram": "g",
    "grams": "g",
    "gr": "g",
    "liter": "l",
    "liters": "l",
    "litre": "l",
    "litres": "l",
    "ltr": "l",
    "minute": "min",
    "minutes": "min",
    "mins": "min",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "days": "day",
    "weeks": "week",
    "months": "month",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "celsius": "c",
    "centigrade": "c",
}


def fact_tokens(text: str) -> list[str]:
    """Canonical tokens for fact matching.

    - case and punctuation are ignored (``Kestrel-2 TENT`` == ``kestrel 2 tent``);
    - numbers lose thousands separators and trailing zeros (``1,299.00`` → ``1299``), keep a leading minus;
    - money becomes one token, whatever the spelling: ``$1,299.00``, ``$1299``, ``1299 dollars``, ``USD 1299``
      → ``$1299`` (a bare ``1299`` is not money and does not match ``$1299``);
    - unit spellings are unified (``litres``/``l``, ``kilograms``/``kg``, ``days``/``day``, ``°C``/``celsius``);
      ``p.m.`` → ``pm``; ``3 to 5`` == ``3-5``.
    """
    low = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", (text or "").lower())
    raw: list[tuple[str, str]] = []
    for m in _TOKEN_RE.finditer(low):
        if m.group("num"):
            s = m.group("num").replace(",", "").replace("\u2212", "-").replace("\u2013", "-")
            try:
                d = Decimal(s).normalize()
            except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
                continue
            raw.append(("num", format(d, "f") if d != 0 else "0"))
        elif m.group("cur"):
            raw.append(("cur", "$"))
        else:
            w = m.group("word")
            if w in _DROP_WORDS:
                continue
            raw.append(("cur", "$") if w in _CURRENCY_WORDS else ("word", _SYNONYMS.get(w, w)))
    out: list[str] = []
    i = 0
    while i < len(raw):
        kind, val = raw[i]
        nxt = raw[i + 1] if i + 1 < len(raw) else None
        if kind == "cur" and nxt and nxt[0] == "num":  # $149, USD 149
            out.append("$" + nxt[1])
            i += 2
            continue
        if kind == "num" and nxt and nxt[0] == "cur":  # 149 dollars
            out.append("$" + val)
            i += 2
            continue
        if kind == "cur":  # a currency word with no number next to it: plain word
            out.append("usd")
        elif kind == "word" and val == "to" and out and raw[i - 1][0] == "num" and nxt and nxt[0] == "num":
            pass  # "3 to 5" reads as the range "3-5"
        else:
            out.append(val)
        i += 1
    return out


def _contains(hay: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    return any(list(hay[i : i + n]) == list(needle) for i in range(len(hay) - n + 1))


def fact_found(fact: str, answer: str) -> bool:
    """Whether ``answer`` states ``fact`` (normalised, token-bounded: ``$149`` is not found in ``$1499``)."""
    return _contains(fact_tokens(answer), fact_tokens(fact))


@dataclass(frozen=True)
class FactScore:
    found: tuple[str, ...]
    missing: tuple[str, ...]
    stale_found: tuple[str, ...] = ()  # last season's values the answer states (a stale fine-tune)

    @property
    def score(self) -> float:
        total = len(self.found) + len(self.missing)
        return len(self.found) / total if total else 0.0


def score_facts(answer: str, expected: Sequence[str], stale: Sequence[str] = ()) -> FactScore:
    tokens = fact_tokens(answer)
    found = tuple(f for f in expected if _contains(tokens, fact_tokens(f)))
    missing = tuple(f for f in expected if f not in found)
    return FactScore(found, missing, tuple(f for f in stale if _contains(tokens, fact_tokens(f))))


@dataclass(frozen=True)
class StyleScore:
    applicable: bool
    ok: bool | None
    reasons: tuple[str, ...] = ()


def score_style(answer: str, expected_style: str) -> StyleScore:
    """``brand``: the trained Fernhollow voice (:func:`ragft.evaluation.style.check_style`); ``ticket-json``: one
    JSON object with exactly the ticket keys and allowed values (:data:`ragft.training.checks.TICKET_SCHEMA`, the
    format the tickets adapter learned); ``any``: not scored."""
    style = expected_style or "any"
    if style == "any":
        return StyleScore(False, None)
    if style == "ticket-json":
        checked = check_json(answer or "", TICKET_SCHEMA)
        return StyleScore(True, checked.ok, tuple(checked.reasons))
    result = check_style(answer or "")
    return StyleScore(True, result.ok, tuple(result.reasons))


def _doc_key(name: str) -> tuple[str, str]:
    p = PurePath((name or "").strip().lower())
    return p.name, p.stem


def retrieval_hit(expected_source: str, sources: Sequence[str]) -> bool | None:
    """Whether ``expected_source`` is among the retrieved chunks' sources (hit@k, k = len(sources)).

    File names compare case-insensitively, without folders; the same document in another format counts
    (``catalogue.md`` for ``catalogue.pdf``). ``None`` when the question names no expected source.
    """
    if not (expected_source or "").strip():
        return None
    name, stem = _doc_key(expected_source)
    for s in sources:
        n, st = _doc_key(s)
        if n == name or st == stem:
            return True
    return False


def page_hit(
    expected_source: str, expected_page: int | None, retrieved: Sequence[tuple[str, int | None]]
) -> bool | None:
    """Stricter hit@k: the expected source AND page among the retrieved ``(source, page)`` pairs.

    A whole catalogue is one source, so a source hit can still be the wrong product's page; this tells them
    apart. ``None`` when the question names no expected page or source.
    """
    if expected_page is None or not (expected_source or "").strip():
        return None
    return any(retrieval_hit(expected_source, [src]) and page == expected_page for src, page in retrieved)
