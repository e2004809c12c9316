"""Office files: Word (python-docx), PowerPoint (python-pptx, one page per slide) and Excel (openpyxl in
read-only mode, one page per sheet, one line per row). Each zip is checked for bombs before any XML is parsed.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from ragft.errors import DocumentError
from ragft.knowledge.loaders.base import (
    CorruptDocument,
    FileTooLarge,
    Limits,
    Page,
    TooManyPages,
    check_text_size,
    check_zip,
    clean,
    one_line,
    short,
)

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


# ---- Word ---------------------------------------------------------------------------------------
def load_docx(name: str, data: bytes, limits: Limits) -> list[Page]:
    check_zip(name, data, limits, "Word")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                text = item.text.strip()
                if not text:
                    continue
                style = (item.style.name if item.style is not None else "") or ""
                m = re.match(r"Heading (\d)", style)
                blocks.append(("#" * int(m.group(1)) + " " + text) if m else text)
            elif isinstance(item, Table):
                rows = []
                for row in item.rows:
                    cells = [c.text.strip() for c in row.cells]
                    if any(cells):
                        rows.append(" | ".join(cells))
                if rows:
                    blocks.append("\n".join(rows))
    except DocumentError:
        raise
    except Exception as exc:  # python-docx / lxml raise many types on malformed files
        logger.exception("%s: python-docx failed", name)
        raise CorruptDocument(f"{name}: the Word file is damaged ({short(exc)}); re-save it and upload again.") from exc
    text = clean("\n\n".join(blocks))
    check_text_size(name, len(text), limits)
    return [Page(None, text)] if text else []


# ---- PowerPoint ---------------------------------------------------------------------------------
def _shape_texts(shapes: Iterable[Any]) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out: list[str] = []
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            out += _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [one_line(c.text) for c in row.cells]
                if any(cells):
                    out.append(" | ".join(cells))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            text = "\n".join(one_line(p.text) for p in shape.text_frame.paragraphs)
            if text.strip():
                out.append(text)
    return out


def load_pptx(name: str, data: bytes, limits: Limits, on_page: Progress | None) -> tuple[list[Page], int, list[str]]:
    """One page per slide (number = slide number, label "slide n"): title, text boxes, tables, speaker notes."""
    check_zip(name, data, limits, "PowerPoint")
    import pptx

    try:
        prs = pptx.Presentation(io.BytesIO(data))
        slides = list(prs.slides)
        total = len(slides)
        if total > limits.max_pages:
            raise TooManyPages(
                f"{name} has {total} slides, over the limit of {limits.max_pages}; split it or raise RAGFT_MAX_PAGES."
            )
        pages: list[Page] = []
        empty: list[int] = []
        chars = 0
        for n, slide in enumerate(slides, 1):
            title = slide.shapes.title
            head = one_line(title.text) if title is not None and title.has_text_frame else ""
            body = _shape_texts(s for s in slide.shapes if title is None or s.shape_id != title.shape_id)
            parts = ([f"# {head}"] if head else []) + body
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = slide.notes_slide.notes_text_frame.text.strip()
                if notes:
                    parts.append(f"Notes: {notes}")
            text = clean("\n\n".join(parts))
            chars += len(text)
            check_text_size(name, chars, limits)
            if text:
                pages.append(Page(n, text, label=f"slide {n}"))
            else:
                empty.append(n)
            if on_page:
                on_page(n, total)
    except DocumentError:
        raise
    except Exception as exc:  # python-pptx / lxml raise many types on malformed files
        logger.exception("%s: python-pptx failed", name)
        raise CorruptDocument(
            f"{name}: the PowerPoint file is damaged ({short(exc)}); re-save it and upload again."
        ) from exc
    warnings = []
    if pages and empty:
        shown = ", ".join(str(n) for n in empty[:10]) + (" ..." if len(empty) > 10 else "")
        warnings.append(
            f"{name}: {len(empty)} slide(s) without text were skipped (slide {shown}); "
            "text inside pictures is not read."
        )
    return pages, total, warnings


# ---- tables (shared with CSV) -------------------------------------------------------------------
def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return one_line(value)


def _is_header(cells: list[str]) -> bool:
    return sum(1 for c in cells if c) >= 1 and all(not re.fullmatch(r"[-+]?[\d.,%$€£ ]+", c) for c in cells if c)


def table_page(
    rows: Iterable[tuple[int, list[str]]], label: str, name: str, limits: Limits, seen_rows: int = 0
) -> tuple[Page | None, int]:
    """Rows ``(row number, cells)`` → one page, one line per non-empty row as ``header: value; ...``.

    The first non-empty row is the header when no cell of it is a number and more rows follow.
    Returns the page (None when there is no row) and the running count of data rows for the row limit.
    """
    header: list[str] | None = None
    first: tuple[int, list[str]] | None = None
    lines: list[str] = []
    numbers: list[int] = []

    def add(number: int, cells: list[str]) -> None:
        nonlocal seen_rows
        seen_rows += 1
        if seen_rows > limits.max_rows:
            raise FileTooLarge(f"{name}: more than {limits.max_rows:,} rows, over the limit; split it.")
        if header:
            pairs = [(h or f"column {i + 1}", c) for i, (h, c) in enumerate(zip(header + [""] * len(cells), cells))]
            line = "; ".join(f"{h}: {c}" for h, c in pairs if c)
        else:
            line = " | ".join(cells)
        lines.append(line)
        numbers.append(number)

    for number, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if first is None:
            first = (number, cells)
            continue
        if header is None and not lines:
            if _is_header(first[1]):
                header = first[1]
            else:
                add(*first)
        add(number, cells)
    if first is not None and not lines and header is None and not _is_header(first[1]):
        add(*first)  # a single row is data, unless it is only a header
    if not lines:
        return None, seen_rows
    text = "\n".join(lines)
    return Page(None, text, label=label, line_rows=tuple(numbers)), seen_rows


# ---- Excel --------------------------------------------------------------------------------------
def load_xlsx(name: str, data: bytes, limits: Limits, on_page: Progress | None) -> tuple[list[Page], int, list[str]]:
    """One page per sheet with data (label = sheet name), values as last saved by Excel (formulas' results)."""
    check_zip(name, data, limits, "Excel")
    import openpyxl

    pages: list[Page] = []
    warnings: list[str] = []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = list(wb.worksheets)
            seen = 0
            chars = 0
            for i, ws in enumerate(sheets, 1):
                declared = ws.max_row if isinstance(ws.max_row, int) else 0
                if declared - 1 > limits.max_rows:
                    raise FileTooLarge(
                        f"{name}: sheet '{ws.title}' has {declared:,} rows, over the limit of "
                        f"{limits.max_rows:,}; split it."
                    )
                rows = ((n, [cell_text(v) for v in row]) for n, row in enumerate(ws.iter_rows(values_only=True), 1))
                page, seen = table_page(rows, ws.title, name, limits, seen)
                if page is not None:
                    chars += len(page.text)
                    check_text_size(name, chars, limits)
                    pages.append(page)
                if on_page:
                    on_page(i, len(sheets))
        finally:
            wb.close()
    except DocumentError:
        raise
    except Exception as exc:  # openpyxl / lxml / zipfile raise many types on malformed files
        logger.exception("%s: openpyxl failed", name)
        raise CorruptDocument(
            f"{name}: the Excel file is damaged ({short(exc)}); re-save it and upload again."
        ) from exc
    if wb.chartsheets:
        warnings.append(f"{name}: {len(wb.chartsheets)} chart sheet(s) were skipped (charts hold no text).")
    return pages, len(sheets), warnings
