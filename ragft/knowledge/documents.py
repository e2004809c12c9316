"""Loading files into pages of text: what the uploader accepts, what the bytes really are, and one entry point.

Formats (loaders in :mod:`ragft.knowledge.loaders`): PDF (pypdf, page numbers kept; OCR for pages without a
text layer), TXT / Markdown, DOCX (python-docx), PPTX (python-pptx, a page per slide), XLSX (openpyxl, a page
per sheet, a line per row), CSV (the csv module), HTML (BeautifulSoup: visible text, a page per section).

Every bad input ends in a typed :class:`~ragft.errors.DocumentError` whose one-line message names the file
and what to do: empty file, unsupported type, an extension that lies about the content, a file over the size,
page or row limit, a damaged or truncated file, an encrypted PDF (:class:`PasswordRequired`, then
:class:`WrongPassword`), a PDF without text that OCR cannot read either, a decompression bomb (PDF streams and
Office zips are inflated under a limit), binary data posing as text. A file is loaded whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from ragft.knowledge.loaders.base import (
    MB,
    CorruptDocument,
    DecompressionBomb,
    EmptyDocument,
    FileTooLarge,
    FileTypeMismatch,
    Limits,
    NoExtractableText,
    Page,
    PasswordRequired,
    TooManyPages,
    UnsupportedFileType,
    WrongPassword,
    fmt_mb,
)
from ragft.knowledge.loaders.office import load_docx, load_pptx, load_xlsx
from ragft.knowledge.loaders.pdf import load_pdf
from ragft.knowledge.loaders.text import decode_text, load_csv, load_html, load_plain, looks_binary

__all__ = [
    "MB",
    "CorruptDocument",
    "DecompressionBomb",
    "EmptyDocument",
    "FileTooLarge",
    "FileTypeMismatch",
    "Limits",
    "LoadedDocument",
    "NoExtractableText",
    "Page",
    "PasswordRequired",
    "TooManyPages",
    "UnsupportedFileType",
    "WrongPassword",
    "SUPPORTED_EXTENSIONS",
    "UPLOAD_TYPES",
    "FORMATS_TEXT",
    "check_type",
    "decode_text",
    "document_id",
    "file_kind",
    "load_document",
    "sniff",
]

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}
UPLOAD_TYPES = ["pdf", "txt", "md", "markdown", "docx", "pptx", "xlsx", "csv", "html", "htm"]  # st.file_uploader
FORMATS_TEXT = "PDF, TXT, Markdown, DOCX, PPTX, XLSX, CSV or HTML"
_TEXT_KINDS = ("txt", "md", "csv", "html")
_OFFICE = {"word/document.xml": "docx", "ppt/presentation.xml": "pptx", "xl/workbook.xml": "xlsx"}


@dataclass
class LoadedDocument:
    doc_id: str  # content hash of the file's bytes: the same bytes under any name are the same document
    name: str
    kind: str  # pdf | txt | md | docx | pptx | xlsx | csv | html
    pages: list[Page]  # pages (slides, sheets, sections) that have text, in order
    page_count: int  # pages (PDF), slides (PPTX), sheets (XLSX), 1 otherwise
    size_bytes: int
    warnings: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pages)

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.ocr)


def document_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


# ---- sniffing -----------------------------------------------------------------------------------
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "elf"),
    (b"MZ", "exe"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"%!PS", "postscript"),
    (b"{\\rtf", "rtf"),
]
_DESCRIBE = {
    "pdf": "a PDF",
    "docx": "a Word document (.docx)",
    "pptx": "a PowerPoint file (.pptx)",
    "xlsx": "an Excel workbook (.xlsx)",
    "zip": "a ZIP archive (not a Word, PowerPoint or Excel file)",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "ole": "an old Office file (.doc/.xls/.ppt)",
    "gzip": "a gzip archive",
    "elf": "a program",
    "exe": "a program",
    "rar": "a RAR archive",
    "7z": "a 7-Zip archive",
    "postscript": "a PostScript file",
    "rtf": "an RTF document",
    "binary": "binary data",
    "text": "plain text",
}
_RENAME_TO = {"pdf": ".pdf", "docx": ".docx", "pptx": ".pptx", "xlsx": ".xlsx", "text": ".txt"}
_OLD_OFFICE = {
    "docx": ("Word .doc", "Word"),
    "pptx": ("PowerPoint .ppt", "PowerPoint"),
    "xlsx": ("Excel .xls", "Excel"),
}
_NAMES = {"docx": "a Word document", "pptx": "a PowerPoint file", "xlsx": "an Excel workbook"}


def sniff(data: bytes) -> str:
    """What the bytes are, whatever the name says."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "zip"
        return next((kind for member, kind in _OFFICE.items() if member in names), "zip")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return "text"
    return "binary" if looks_binary(head) else "text"


def file_kind(name: str) -> str:
    ext = PurePath(name).suffix.lower()
    kind = SUPPORTED_EXTENSIONS.get(ext)
    if kind is None:
        old = {".doc": "Word .doc", ".ppt": "PowerPoint .ppt", ".xls": "Excel .xls"}.get(ext)
        if old:
            raise UnsupportedFileType(f"{name}: the old {old} format is not supported; save it as {ext}x or PDF.")
        shown = f"'{ext}'" if ext else "without an extension"
        raise UnsupportedFileType(f"{name}: unsupported file type {shown}; upload {FORMATS_TEXT} files.")
    return kind


def check_type(name: str, data: bytes) -> str:
    """The file's kind from its extension, checked against its content (raises on a lying extension)."""
    kind = file_kind(name)
    if not data:
        raise EmptyDocument(f"{name}: the file is empty (0 bytes); nothing to index.")
    actual = sniff(data)
    expected = "text" if kind in _TEXT_KINDS else kind
    if actual == expected:
        return kind
    if kind in _OLD_OFFICE and actual == "ole":
        old, app = _OLD_OFFICE[kind]
        raise FileTypeMismatch(
            f"{name}: this is an old {old} file renamed {PurePath(name).suffix.lower()}; "
            f"save it as {PurePath(name).suffix.lower()} from {app}."
        )
    if kind in _NAMES and actual == "zip":
        raise CorruptDocument(
            f"{name}: the {_OLD_OFFICE[kind][1]} file is damaged or incomplete (not a readable "
            f"{PurePath(name).suffix.lower()} zip); re-save it and upload again."
        )
    if kind in _NAMES:
        hint = f"; rename it to {_RENAME_TO[actual]}" if actual in _RENAME_TO else ""
        raise FileTypeMismatch(f"{name}: not {_NAMES[kind]} (its content is {_DESCRIBE[actual]}){hint}.")
    if expected == "text" and actual == "binary":
        raise FileTypeMismatch(f"{name}: looks like binary data, not text; upload a text, PDF or Office file.")
    hint = f" rename it to {_RENAME_TO[actual]}." if actual in _RENAME_TO else f" upload {FORMATS_TEXT} files."
    raise FileTypeMismatch(
        f"{name}: named {PurePath(name).suffix.lower()} but its content is {_DESCRIBE[actual]};{hint}"
    )


# ---- entry point --------------------------------------------------------------------------------
def load_document(
    name: str,
    data: bytes,
    *,
    limits: Limits = Limits(),
    password: str | None = None,
    on_page: Callable[[int, int], None] | None = None,
    on_ocr: Callable[[int, int], None] | None = None,
) -> LoadedDocument:
    """Read one file. Raises a :class:`DocumentError` subclass with a human message on any bad input.

    ``on_page(done, total)`` follows pages, slides or sheets; ``on_ocr(page, total)`` is called before each PDF
    page that is sent to OCR.
    """
    name = PurePath(name or "unnamed").name or "unnamed"
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            f"{name} is {fmt_mb(len(data))}, over the {fmt_mb(limits.max_bytes)} limit; "
            "split it or raise RAGFT_MAX_UPLOAD_MB."
        )
    kind = check_type(name, data)
    warnings: list[str] = []
    total = 1
    if kind == "pdf":
        pages, total, warnings = load_pdf(name, data, limits, password, on_page, on_ocr)
    elif kind == "docx":
        pages = load_docx(name, data, limits)
    elif kind == "pptx":
        pages, total, warnings = load_pptx(name, data, limits, on_page)
    elif kind == "xlsx":
        pages, total, warnings = load_xlsx(name, data, limits, on_page)
    elif kind == "csv":
        pages, warnings = load_csv(name, data, limits)
    elif kind == "html":
        pages, warnings = load_html(name, data, limits)
    else:
        pages, warnings = load_plain(name, data, limits)
    if on_page and kind not in ("pdf", "pptx", "xlsx"):
        on_page(1, 1)
    if not pages:
        raise EmptyDocument(f"{name}: the file is empty (no text in it); nothing to index.")
    return LoadedDocument(
        doc_id=document_id(data),
        name=name,
        kind=kind,
        pages=pages,
        page_count=total,
        size_bytes=len(data),
        warnings=warnings,
    )
