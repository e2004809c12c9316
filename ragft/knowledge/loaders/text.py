"""Text formats: plain text and Markdown (encoding detected), CSV (the csv module, one line per row) and HTML
(BeautifulSoup on lxml: scripts, styles and other non-text elements dropped, one page per h1-h3 section).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings as _warnings

from ragft.knowledge.loaders.base import (
    CorruptDocument,
    EmptyDocument,
    FileTooLarge,
    FileTypeMismatch,
    Limits,
    Page,
    check_text_size,
    clean,
    one_line,
    short,
)
from ragft.knowledge.loaders.office import table_page

logger = logging.getLogger(__name__)

_PREFERRED = ("utf_8", "cp1252", "iso8859_15", "latin_1")
_BOMS = [
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]


def looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    if not head:
        return False
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control / len(head) > 0.05


def decode_text(data: bytes, name: str = "file") -> tuple[str, list[str]]:
    """Bytes → text. UTF-8 (or a BOM) silently; otherwise the detected encoding, with a warning."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), []
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    if looks_binary(data[:8192]):
        raise FileTypeMismatch(f"{name}: looks like binary data, not text; upload a text, PDF or Office file.")
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is not None and best.encoding:
        # short texts often tie between several code pages: prefer the common Western one on a tie
        ties = {m.encoding for m in matches if m.chaos == best.chaos and abs(m.coherence - best.coherence) < 1e-6}
        enc = next((e for e in _PREFERRED if e in ties), best.encoding)
        return data.decode(enc, errors="replace"), [
            f"{name} is not UTF-8: read it as {enc}; check that accented characters look right."
        ]
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    return text, [
        f"{name} is not valid UTF-8 and its encoding could not be detected: "
        f"{bad} unreadable characters were replaced by �."
    ]


def load_plain(name: str, data: bytes, limits: Limits) -> tuple[list[Page], list[str]]:
    text, warnings = decode_text(data, name)
    text = clean(text)
    check_text_size(name, len(text), limits)
    return ([Page(None, text)] if text else []), warnings


# ---- CSV ----------------------------------------------------------------------------------------
def load_csv(name: str, data: bytes, limits: Limits) -> tuple[list[Page], list[str]]:
    """One page; each line is one record (``header: value; ...``), ``line_rows`` = the record's row number."""
    text, warnings = decode_text(data, name)
    check_text_size(name, len(text), limits)
    sample = text[:16384]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = []
    try:
        for number, cells in enumerate(reader, 1):
            rows.append((number, [one_line(c) for c in cells]))
            if len(rows) > limits.max_rows + 1:
                raise FileTooLarge(f"{name}: more than {limits.max_rows:,} rows, over the limit; split it.")
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileTooLarge(
                f"{name}: row {reader.line_num} has a cell over {csv.field_size_limit():,} "
                "characters; is it really a table?"
            ) from exc
        raise CorruptDocument(f"{name}: the CSV is malformed near line {reader.line_num} ({short(exc)}).") from exc
    page, _ = table_page(rows, "", name, limits)
    if page is None and any(cells for _, cells in rows):
        raise EmptyDocument(f"{name}: the table has a header but no rows; nothing to index.")
    return ([page] if page else []), warnings


# ---- HTML ---------------------------------------------------------------------------------------
_DROP = [
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "head",
    "nav",
    "form",
    "button",
    "select",
    "input",
    "textarea",
    "math",
    "audio",
    "video",
    "picture",
    "map",
]
_BLOCK = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "hr",
]
_MARK = "\x00H"


def load_html(name: str, data: bytes, limits: Limits) -> tuple[list[Page], list[str]]:
    """Visible text, split into pages at h1-h3 headings (label ``§ heading``); h4-h6 stay inside as lines."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    text, warnings = decode_text(data, name)
    check_text_size(name, len(text), limits)
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            _warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(text, "lxml")
        title = one_line(soup.title.get_text()) if soup.title else ""
        for tag in soup(_DROP):
            tag.decompose()
        for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
            level = int(tag.name[1])
            head = one_line(tag.get_text(" "))
            mark = f"\n{_MARK}{head}\n" if level <= 3 else f"\n{'#' * level} {head}\n"
            tag.replace_with(mark)
        for tag in soup.find_all(["td", "th"]):
            tag.append(" | ")
        for tag in soup.find_all("br"):
            tag.replace_with("\n")
        for tag in soup.find_all(_BLOCK):
            tag.insert_before("\n")
            tag.append("\n")
        raw = soup.get_text()
    except RecursionError as exc:
        raise CorruptDocument(f"{name}: the HTML is nested too deeply to read; save it as text or PDF.") from exc
    pages = []
    for i, section in enumerate(raw.split(_MARK)):
        head, _, body = section.partition("\n") if i else ("", "", section)
        lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip().removesuffix(" |").strip() for line in body.split("\n")]
        body = clean("\n".join(lines))
        if head and body:
            body = f"# {head}\n\n{body}"
        elif head:
            continue  # a heading with nothing under it
        if body:
            label = f"§ {head[:80]}" if head else (f"§ {title[:80]}" if title else "")
            pages.append(Page(None, body, label=label))
    return pages, warnings
