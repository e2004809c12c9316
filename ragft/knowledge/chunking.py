"""Token-aware recursive chunking: paragraph → line → sentence → word → token, with overlap in tokens.

Tokens are OpenAI's cl100k_base (offline, see :mod:`ragft.models.tokens`), the unit the sliders show. Rules:

- a chunk never crosses a page boundary (one product per page in the sample catalogue → one product per chunk);
- a chunk holds at most ``chunk_tokens`` tokens;
- text is cut at the coarsest boundary that fits: paragraphs first, then lines, sentences, words, and only a
  single "word" longer than a chunk (a URL, a table row without spaces) is cut between tokens;
- each chunk after the first of a page starts with the last ``<= overlap`` tokens of the previous chunk, cut at
  a word boundary (so the overlap is at most ``overlap`` tokens, never a broken word);
- a chunk's text is an exact slice of its page's text (``char_start:char_end``), stripped of outer whitespace;
- a chunk carries its page's location for citations (``location``: "slide 3", "§ Returns", "Prices rows 2-9"
  with the row range of the rows it holds) and whether its text was read by OCR (``ocr``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ragft.errors import ConfigError
from ragft.knowledge.documents import Page
from ragft.models.tokens import get_encoding
from ragft.settings import DEFAULTS, int_bound

ENCODING = "cl100k_base"
MIN_CHUNK_TOKENS, MAX_CHUNK_TOKENS = int_bound("chunk_tokens")  # settings.BOUNDS

# separators, coarsest first; a separator stays attached to the text before it
_LEVELS: list[re.Pattern[str]] = [
    re.compile(r"\n[ \t]*\n\s*"),  # paragraphs
    re.compile(r"\n\s*"),  # lines
    re.compile(r"(?<=[.!?;。！？])[\"'”’)\]]*\s+|(?<=[。！？])"),  # sentences
    re.compile(r"\s+"),  # words
]
_WORD_START = re.compile(r"\s+")
_MAX_CHARS_PER_TOKEN = 16  # overlap tails are looked for in the last overlap*16 characters of a chunk


class ChunkSettingsError(ConfigError):
    """Chunk size or overlap out of range."""


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # "<doc_id>:<position>"
    doc_id: str
    source: str  # file name
    page: int | None  # 1-based page (PDF) or None
    position: int  # 0-based order of the chunk in its document
    text: str
    tokens: int  # cl100k tokens of ``text``
    content_hash: str  # sha256 of ``text`` (first 16 hex digits)
    char_start: int  # slice of the page's text
    char_end: int
    location: str = ""  # where it is when not a PDF page: "slide 3", "Prices rows 2-9", "§ Returns"
    ocr: bool = False  # text read from an image by OCR

    @property
    def where(self) -> str:
        """``p.2``, ``slide 3``, ``Prices rows 2-9`` or "" (the citation after the file name)."""
        return self.location or (f"p.{self.page}" if self.page else "")


def validate(chunk_tokens: int, overlap: int) -> None:
    if not MIN_CHUNK_TOKENS <= int(chunk_tokens) <= MAX_CHUNK_TOKENS:
        raise ChunkSettingsError(
            f"Chunk size must be between {MIN_CHUNK_TOKENS} and {MAX_CHUNK_TOKENS} tokens, got {chunk_tokens}."
        )
    if not 0 <= int(overlap) < int(chunk_tokens):
        raise ChunkSettingsError(
            f"Overlap must be at least 0 and smaller than the chunk size ({chunk_tokens}), got {overlap}."
        )


def count(text: str) -> int:
    return len(get_encoding(ENCODING).encode(text, disallowed_special=()))


class _Splitter:
    def __init__(self, text: str, size: int, overlap: int) -> None:
        self.text = text
        self.size = size
        self.overlap = overlap
        self.enc = get_encoding(ENCODING)

    def n(self, a: int, b: int) -> int:
        return len(self.enc.encode(self.text[a:b], disallowed_special=()))

    # -- splitting into pieces that each fit ----------------------------------------------------
    def pieces(self, a: int, b: int, level: int = 0) -> list[tuple[int, int, int]]:
        """Contiguous spans ``(start, end, tokens)`` covering ``[a, b)``, each at most ``size`` tokens."""
        if level >= len(_LEVELS):
            return self._hard_split(a, b)
        out: list[tuple[int, int, int]] = []
        cut = a
        bounds = [m.end() for m in _LEVELS[level].finditer(self.text, a, b) if a < m.end() < b] + [b]
        for end in bounds:
            if end <= cut:
                continue
            t = self.n(cut, end)
            if t <= self.size:
                out.append((cut, end, t))
            else:
                out.extend(self.pieces(cut, end, level + 1))
            cut = end
        return out

    def _hard_split(self, a: int, b: int) -> list[tuple[int, int, int]]:
        toks = self.enc.encode(self.text[a:b], disallowed_special=())
        decoded, offsets = self.enc.decode_with_offsets(toks)
        out = []
        if decoded == self.text[a:b]:
            starts = [offsets[i] for i in range(0, len(toks), self.size)] + [b - a]
        else:  # pragma: no cover - tokens that split a character: cut proportionally
            step = max(1, (b - a) * self.size // max(len(toks), 1))
            starts = list(range(0, b - a, step)) + [b - a]
        for s, e in zip(starts, starts[1:]):
            if e > s:
                out.append((a + s, a + e, self.n(a + s, a + e)))
        return out

    # -- merging pieces into chunks, with overlap ------------------------------------------------
    def tail_start(self, a: int, b: int) -> int | None:
        """Start of the longest word-aligned tail of ``[a, b)`` with at most ``overlap`` tokens (not ``a``)."""
        if self.overlap <= 0:
            return None
        lo_char = max(a, b - self.overlap * _MAX_CHARS_PER_TOKEN)  # no tail of `overlap` tokens starts earlier
        toks = self.enc.encode(self.text[lo_char:b], disallowed_special=())
        if len(toks) <= self.overlap:
            guess = lo_char
        else:  # where the last `overlap` tokens begin, then the next word start at or after it
            _, offsets = self.enc.decode_with_offsets(toks)
            guess = lo_char + offsets[len(toks) - self.overlap]
        starts = [m.end() for m in _WORD_START.finditer(self.text, max(guess - 1, a), b) if a < m.end() < b]
        if guess > a and (guess == lo_char or self.text[guess - 1].isspace()) and guess not in starts:
            starts.insert(0, guess)
        for s in starts[:8]:  # the estimate is off by a token at most, rarely: verify exactly
            if self.n(s, b) <= self.overlap:
                return s
        return None

    def chunks(self) -> list[tuple[int, int]]:
        text = self.text
        pieces = [p for p in self.pieces(0, len(text)) if text[p[0] : p[1]].strip()]
        spans: list[tuple[int, int]] = []
        i, carry = 0, None
        while i < len(pieces):
            start = carry if carry is not None else pieces[i][0]
            total = self.n(start, pieces[i][0]) if carry is not None else 0
            j = i
            while j < len(pieces) and total + pieces[j][2] <= self.size:
                total += pieces[j][2]
                j += 1
            if j == i:  # the overlap leaves no room for the next piece: drop the overlap
                start, j = pieces[i][0], i + 1
            end = pieces[j - 1][1]
            exact = self.n(start, end)
            while exact > self.size and j - 1 > i:  # token counts are not quite additive
                j -= 1
                end = pieces[j - 1][1]
                exact = self.n(start, end)
            if exact > self.size:
                start = pieces[i][0]
            spans.append((start, end))
            carry = self.tail_start(start, end)
            i = j
        return spans


def chunk_text(
    text: str, chunk_tokens: int = DEFAULTS.chunk_tokens, overlap: int = DEFAULTS.chunk_overlap
) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the chunks of one text (before stripping)."""
    validate(chunk_tokens, overlap)
    if not text.strip():
        return []
    return _Splitter(text, int(chunk_tokens), int(overlap)).chunks()


def location(page: Page, start: int, end: int) -> str:
    """The citation location of ``page.text[start:end]``: the page's label, plus the row range for tables."""
    if not page.line_rows:
        return page.label
    first = page.line_rows[min(page.text.count("\n", 0, start), len(page.line_rows) - 1)]
    last = page.line_rows[min(page.text.count("\n", 0, max(start, end - 1)), len(page.line_rows) - 1)]
    rows = f"row {first}" if first == last else f"rows {first}-{last}"
    return f"{page.label} {rows}".strip()


def chunk_pages(
    pages: Iterable[Page],
    *,
    doc_id: str,
    source: str,
    chunk_tokens: int = DEFAULTS.chunk_tokens,
    overlap: int = DEFAULTS.chunk_overlap,
) -> list[Chunk]:
    """All chunks of a document, page by page; ``position`` runs across pages."""
    validate(chunk_tokens, overlap)
    out: list[Chunk] = []
    for page in pages:
        for start, end in chunk_text(page.text, chunk_tokens, overlap):
            raw = page.text[start:end]
            lead = len(raw) - len(raw.lstrip())
            body = raw.strip()
            if not body:
                continue
            pos = len(out)
            out.append(
                Chunk(
                    chunk_id=f"{doc_id}:{pos:05d}",
                    doc_id=doc_id,
                    source=source,
                    page=page.number,
                    position=pos,
                    text=body,
                    tokens=count(body),
                    content_hash=hashlib.sha256(body.encode()).hexdigest()[:16],
                    char_start=start + lead,
                    char_end=start + lead + len(body),
                    location=location(page, start + lead, start + lead + len(body)),
                    ocr=page.ocr,
                )
            )
    return out


def total_tokens(chunks: Sequence[Chunk]) -> int:
    return sum(c.tokens for c in chunks)
