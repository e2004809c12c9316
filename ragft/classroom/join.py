"""Join codes on paper: the facilitator's CSV and printable sheet of the codes issued (see
:mod:`ragft.store.join_codes`), each with its own link (``<join link>?code=ABCDE-FGHJK``) that claims it in one go.

The CSV's cells go through :func:`ragft.text.csv_cell` (a note the facilitator typed could start with ``=``); the
sheet is a standalone HTML page with every value escaped and nothing loaded from anywhere.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from ragft.store.join_codes import JoinCode, display
from ragft.text import csv_cell


def code_link(join_url: str, code: str) -> str:
    """The join link that carries one code (any query the link had is replaced)."""
    if not join_url:
        return ""
    parts = urlsplit(join_url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode({"code": display(code)}), ""))


def codes_csv(codes: Sequence[JoinCode], labels: Mapping[str, str], join_url: str) -> str:
    """``code, link, status, participant, note, issued`` for every code (``labels``: workspace id → label)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["code", "link", "status", "participant", "note", "issued"])
    for c in codes:
        who = labels.get(c.workspace_id or "", "(workspace gone)" if c.workspace_id else "")
        issued = datetime.fromtimestamp(c.created).strftime("%Y-%m-%d %H:%M")
        row = [display(c.code), code_link(join_url, c.code), c.status, who, c.note, issued]
        out.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def codes_sheet_html(codes: Sequence[JoinCode], join_url: str, *, title: str = "Join codes") -> str:
    """A page to print and cut: one card per unused code, with the address and the code to type."""
    cards = []
    for c in codes:
        if c.status != "unused":
            continue
        link = code_link(join_url, c.code)
        cards.append(
            '<div class="card"><p class="code">'
            + html.escape(display(c.code))
            + "</p><p>Open "
            + html.escape(join_url or "the app's address")
            + ' and type this code, or open:</p><p class="link">'
            + html.escape(link)
            + "</p>"
            + (f'<p class="note">{html.escape(c.note)}</p>' if c.note else "")
            + "<p>One code per participant; it works in one browser.</p></div>"
        )
    style = (
        "body{font-family:sans-serif}.card{display:inline-block;width:45%;margin:1%;padding:1em;border:1px dashed #555;"
        "vertical-align:top;page-break-inside:avoid}.code{font:bold 1.6em monospace}.link{font:0.8em monospace;"
        "word-break:break-all}.note{color:#333}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(cards)}</body></html>"
    )
