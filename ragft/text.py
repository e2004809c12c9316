"""Untrusted text shown as text (model answers, questions, file names, chunk text, error messages, imported
runs, uploads), and untrusted cells in CSV files. No Streamlit here: the widgets' ``show_answer`` is in
:mod:`components.shared.safe_text`; the class report (core) uses ``inline`` for its Markdown tables.

Two tools, one for each kind of place such text lands in:

- ``answer_html(text)`` / ``show_answer(text)`` for long, Markdown-shaped text (answers). markdown-it-py turns
  it into HTML with raw HTML off and the image, link, autolink and link-reference rules off, so
  ``![x](http://host/beacon.png)`` and ``[x](http://...)`` stay visible as their literal text, full URL
  included. nh3 (ammonia) then keeps only a small allowlist of tags with no attributes at all (no ``src``,
  ``href``, ``style``, ``class``), and ``st.html`` shows the result in the page (not an iframe; Streamlit runs
  DOMPurify on it too and never runs scripts from it). Bullets, numbered lists, bold, italics, code, quotes,
  tables and line breaks stay readable; headings are shown no larger than ``h4``.

- ``inline(text)`` for short strings that Streamlit renders as its own Markdown (``st.markdown``,
  ``st.caption``, ``st.error``/``warning``/``info``/``success``, ``st.toast``, expander, tab, metric and
  progress labels). CommonMark lets a backslash precede any ASCII punctuation character and then shows that
  character literally, so escaping all of them (rather than guessing which ones matter) turns off emphasis,
  links, images, raw HTML, entities, tables, ``$...$`` LaTeX and ``:red[...]`` directives in one rule.
  Streamlit also rewrites *text* after parsing, when the backslashes are already gone: ``:material/x:`` icons,
  ``:smile:`` emoji shortcodes and GFM's bare ``http://``, ``www.`` and e-mail links. An invisible WORD JOINER
  (U+2060) after every ``:`` and ``@`` that something follows (``: `` needs none) and inside ``www.`` breaks those
  patterns. Line breaks become spaces:
  these places hold one line.

- ``csv_cell(value)`` / ``csv_row(values)`` / ``csv_dict(row)`` for every CSV export: a text cell starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so a spreadsheet shows it as text
  instead of running it as a formula (OWASP "CSV injection"). Numbers (int, float, Decimal, and text that is
  exactly a decimal number such as ``-0.5``) stay as they are.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable, Mapping

import nh3
from markdown_it import MarkdownIt

logger = logging.getLogger(__name__)

WORD_JOINER = "\u2060"
_PUNCT = frozenset(string.punctuation)  # CommonMark's "ASCII punctuation character"
_WWW = re.compile(r"(?i)(www)(\\\.)")

ANSWER_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "hr",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "div",
    }
)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable(["image", "link", "autolink", "reference", "html_inline", "html_block"])
    return md


_MD = _markdown()


def inline(text: object) -> str:
    """One line of untrusted text, safe inside any Streamlit Markdown: every character shows as typed."""
    flat = " ".join(str(text if text is not None else "").split())
    out = []
    for i, ch in enumerate(flat):
        if ch in _PUNCT:
            out.append("\\" + ch)
            if ch in ":@" and i + 1 < len(flat) and not flat[i + 1].isspace():
                out.append(WORD_JOINER)
        else:
            out.append(ch)
    return _WWW.sub(lambda m: m.group(1) + WORD_JOINER + m.group(2), "".join(out))


def as_plain(inline_markdown: str) -> str:
    """What a reader sees of ``inline(...)`` output: backslashes before punctuation and word joiners removed."""
    text = inline_markdown.replace(WORD_JOINER, "")
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def answer_html(text: str) -> str:
    """Untrusted Markdown as sanitised HTML: readable formatting, no element that loads or links anything."""
    tokens = _MD.parse(text or "")
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close") and tok.tag[1:].isdigit():
            tok.tag = f"h{max(4, int(tok.tag[1:]))}"
    rendered = _MD.renderer.render(tokens, _MD.options, {})
    return nh3.clean(
        rendered, tags=set(ANSWER_TAGS), attributes={}, url_schemes=set(), link_rel=None, strip_comments=True
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    """One CSV cell: text a spreadsheet would run as a formula gets a leading ``'``; everything else as is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(v) for v in values]


def csv_dict(row: Mapping[str, object]) -> dict[str, object]:
    return {k: csv_cell(v) for k, v in row.items()}
