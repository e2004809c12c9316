"""Loading files into pages of text: PDF (pypdf, page numbers kept), TXT / Markdown, DOCX (python-docx).

Every bad input ends in a typed :class:`~ragft.errors.DocumentError` whose one-line message names the file
and what to do: empty file, unsupported type, an extension that lies about the content, a file over the size
or page limit, a damaged or truncated PDF, an encrypted PDF (:class:`PasswordRequired`, then
:class:`WrongPassword`), a PDF without extractable text (scanned), a decompression bomb (PDF streams and the
DOCX zip are inflated under a limit), binary data posing as text. Text that is not UTF-8 is decoded with the
detected encoding and a warning. A page that cannot be read fails the whole file: a document is either
loaded whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Callable

from ragft.errors import DocumentError, short_message

# ---- errors -------------------------------------------------------------------------------------


class EmptyDocument(DocumentError):
    """The file has no bytes, or no text at all."""


class UnsupportedFileType(DocumentError):
    """The extension is not one we read."""


class FileTypeMismatch(DocumentError):
    """The extension says one thing, the content another (a lying extension)."""


class FileTooLarge(DocumentError):
    """Over the configured upload size."""


class TooManyPages(DocumentError):
    """Over the configured page limit."""


class CorruptDocument(DocumentError):
    """Damaged, truncated or unreadable (including one bad page)."""


class PasswordRequired(DocumentError):
    """An encrypted PDF and no password given: the page offers a password field."""


class WrongPassword(PasswordRequired):
    """An encrypted PDF and the password given does not open it."""


class NoExtractableText(DocumentError):
    """A PDF whose pages carry no text layer (a scan): nothing to index."""


class DecompressionBomb(DocumentError):
    """A compressed stream inflates past the safety limit."""


# ---- values -------------------------------------------------------------------------------------
SUPPORTED_EXTENSIONS: dict[str, str] = {".pdf": "pdf", ".txt": "txt", ".text": "txt", ".md": "md",
                                        ".markdown": "md", ".docx": "docx"}
UPLOAD_TYPES = ["pdf", "txt", "md", "markdown", "docx"]  # for st.file_uploader(type=...)
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Safety limits for one file. ``from_settings`` takes the configurable ones from :class:`Settings`."""

    max_bytes: int = 20 * MB
    max_pages: int = 500
    max_stream_bytes: int = 16 * MB  # one PDF stream, decompressed
    max_text_chars: int = 20_000_000  # all text of one file
    max_zip_bytes: int = 200 * MB  # DOCX: all members, uncompressed
    max_zip_ratio: int = 200  # DOCX: a member inflating more than this (and over 1 MB) is a bomb

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(max_bytes=int(settings.max_upload_mb) * MB, max_pages=int(settings.max_pages))


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based page of a PDF; None for formats without pages (TXT, MD, DOCX)
    text: str


@dataclass
class LoadedDocument:
    doc_id: str  # content hash of the file's bytes: the same bytes under any name are the same document
    name: str
    kind: str  # pdf | txt | md | docx
    pages: list[Page]  # pages that have text, in order
    page_count: int  # pages in the file (PDF), 1 otherwise
    size_bytes: int
    warnings: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pages)


def document_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _fmt_mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n / 1024:.0f} kB"


# ---- sniffing -----------------------------------------------------------------------------------
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"), (b"\x1f\x8b", "gzip"), (b"\x7fELF", "elf"),
    (b"MZ", "exe"), (b"Rar!", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"%!PS", "postscript"),
    (b"{\\rtf", "rtf"),
]
_DESCRIBE = {
    "pdf": "a PDF", "docx": "a Word document (.docx)", "zip": "a ZIP archive (or an Office file other than Word)",
    "png": "a PNG image", "jpeg": "a JPEG image", "gif": "a GIF image", "ole": "an old Word/Office file (.doc/.xls)",
    "gzip": "a gzip archive", "elf": "a program", "exe": "a program", "rar": "a RAR archive", "7z": "a 7-Zip archive",
    "postscript": "a PostScript file", "rtf": "an RTF document", "binary": "binary data", "text": "plain text",
}
_RENAME_TO = {"pdf": ".pdf", "docx": ".docx", "text": ".txt"}


def sniff(data: bytes) -> str:
    """What the bytes are, whatever the name says."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return "zip"
        return "docx" if "word/document.xml" in names else "zip"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return "text"
    return "binary" if _looks_binary(head) else "text"


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    if not head:
        return False
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control / len(head) > 0.05


def file_kind(name: str) -> str:
    ext = PurePath(name).suffix.lower()
    kind = SUPPORTED_EXTENSIONS.get(ext)
    if kind is None:
        if ext == ".doc":
            raise UnsupportedFileType(f"{name}: the old Word .doc format is not supported; save it as .docx or PDF.")
        shown = f"'{ext}'" if ext else "without an extension"
        raise UnsupportedFileType(f"{name}: unsupported file type {shown}; upload PDF, TXT, MD or DOCX files.")
    return kind


def check_type(name: str, data: bytes) -> str:
    """The file's kind from its extension, checked against its content (raises on a lying extension)."""
    kind = file_kind(name)
    if not data:
        raise EmptyDocument(f"{name}: the file is empty (0 bytes); nothing to index.")
    actual = sniff(data)
    expected = "text" if kind in ("txt", "md") else kind
    if actual == expected:
        return kind
    if kind == "docx" and actual == "ole":
        raise FileTypeMismatch(f"{name}: this is an old Word .doc file renamed .docx; save it as .docx from Word.")
    if kind == "docx":
        raise FileTypeMismatch(f"{name}: not a Word document (its content is {_DESCRIBE[actual]}).")
    if expected == "text" and actual == "binary":
        raise FileTypeMismatch(f"{name}: looks like binary data, not text; upload a text, PDF or DOCX file.")
    hint = f" rename it to {_RENAME_TO[actual]}." if actual in _RENAME_TO else " upload PDF, TXT, MD or DOCX files."
    raise FileTypeMismatch(f"{name}: named {PurePath(name).suffix.lower()} but its content is "
                           f"{_DESCRIBE[actual]};{hint}")


# ---- text ---------------------------------------------------------------------------------------
_PREFERRED = ("utf_8", "cp1252", "iso8859_15", "latin_1")
_BOMS = [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")]


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
    if _looks_binary(data[:8192]):
        raise FileTypeMismatch(f"{name}: looks like binary data, not text; upload a text, PDF or DOCX file.")
    try:
        from charset_normalizer import from_bytes

        matches = from_bytes(data)
        best = matches.best()
    except ImportError:  # pragma: no cover - charset_normalizer comes with requests
        best = None
    if best is not None and best.encoding:
        # short texts often tie between several code pages: prefer the common Western one on a tie
        ties = {m.encoding for m in matches if m.chaos == best.chaos and abs(m.coherence - best.coherence) < 1e-6}
        enc = next((e for e in _PREFERRED if e in ties), best.encoding)
        return data.decode(enc, errors="replace"), [
            f"{name} is not UTF-8: read it as {enc}; check that accented characters look right."]
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    return text, [f"{name} is not valid UTF-8 and its encoding could not be detected: "
                  f"{bad} unreadable characters were replaced by �."]


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---- PDF ----------------------------------------------------------------------------------------
class _ThreadCapture(logging.Handler):
    """Collects pypdf's log records for the calling thread only (several sessions load at once)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        records = getattr(self._local, "records", None)
        if records is not None:
            records.append(record)

    def start(self) -> list[logging.LogRecord]:
        self._local.records = []
        return self._local.records

    def stop(self) -> None:
        self._local.records = None


_pypdf_log = _ThreadCapture()
logging.getLogger("pypdf").addHandler(_pypdf_log)


def _load_pdf(name: str, data: bytes, limits: Limits, password: str | None,
              on_page: Callable[[int, int], None] | None) -> tuple[list[Page], int, list[str]]:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    cap = limits.max_stream_bytes
    warnings: list[str] = []
    records = _pypdf_log.start()
    try:
        with pypdf.apply_configuration(
            zlib_maximum_output_length=cap, lzw_maximum_output_length=cap, run_length_maximum_output_length=cap,
            array_based_stream_maximum_output_length=cap, maximum_declared_stream_length=cap,
            jbig2_maximum_output_length=cap, brotli_maximum_output_length=cap,
        ):
            try:
                reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
                if reader.is_encrypted:
                    if reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:  # owner-only passwords open with ""
                        if not password:
                            raise PasswordRequired(f"{name} is encrypted: enter its password to index it.")
                        if reader.decrypt(password) == pypdf.PasswordType.NOT_DECRYPTED:
                            raise WrongPassword(f"{name}: wrong password; the PDF stays locked.")
                total = len(reader.pages)
                if total > limits.max_pages:
                    raise TooManyPages(f"{name} has {total} pages, over the limit of {limits.max_pages}; "
                                       "split it or raise RAGFT_MAX_PAGES.")
                if total == 0:
                    raise EmptyDocument(f"{name}: the PDF has no pages; nothing to index.")
                pages: list[Page] = []
                empty: list[int] = []
                chars = 0
                for i, page in enumerate(reader.pages):
                    before = len(records)
                    try:
                        text = page.extract_text() or ""
                    except (LimitReachedError, DocumentError):
                        raise
                    except Exception as exc:  # pypdf raises many types on a broken page
                        raise CorruptDocument(f"{name}: page {i + 1} could not be read ({short_message(exc, 120)}); "
                                              "nothing from this file was indexed.") from exc
                    broken = [r for r in records[before:] if r.name.startswith("pypdf.filters")]
                    if broken:
                        raise CorruptDocument(f"{name}: page {i + 1} could not be read ({broken[0].getMessage()}); "
                                              "nothing from this file was indexed.")
                    text = _clean(text)
                    chars += len(text)
                    if chars > limits.max_text_chars:
                        raise DecompressionBomb(f"{name}: the text inflates past {limits.max_text_chars:,} "
                                                "characters (a decompression bomb?); nothing indexed.")
                    if text:
                        pages.append(Page(i + 1, text))
                    else:
                        empty.append(i + 1)
                    if on_page:
                        on_page(i + 1, total)
            except DocumentError:
                raise
            except LimitReachedError as exc:
                raise DecompressionBomb(f"{name}: a compressed stream inflates past {_fmt_mb(cap)} "
                                        "(a decompression bomb?); nothing indexed.") from exc
            except DependencyError as exc:
                raise DocumentError(f"{name} is encrypted with AES, which needs the 'cryptography' package; "
                                    "install it or save the PDF without encryption.") from exc
            except FileNotDecryptedError as exc:
                raise PasswordRequired(f"{name} is encrypted: enter its password to index it.") from exc
            except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError,
                    RecursionError) as exc:
                raise CorruptDocument(f"{name}: the PDF is damaged or truncated ({short_message(exc, 120)}); "
                                      "re-export it and upload again.") from exc
    finally:
        _pypdf_log.stop()
    if not pages:
        raise NoExtractableText(f"{name}: no extractable text on its {total} page(s) (a scan? run OCR first); "
                                "nothing indexed.")
    if empty:
        warnings.append(f"{name}: {len(empty)} page(s) without text were skipped ({_page_list(empty)}); "
                        "scanned pages need OCR.")
    damaged = [r.getMessage() for r in records if not r.name.startswith("pypdf.filters")]
    if damaged:
        warnings.append(f"{name}: the PDF is slightly damaged ({damaged[0]}); check the text in the chunk inspector.")
    return pages, total, warnings


def _page_list(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:10])
    return f"p. {shown}{' ...' if len(pages) > 10 else ''}"


# ---- DOCX ---------------------------------------------------------------------------------------
def _check_zip(name: str, data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as exc:
        raise CorruptDocument(f"{name}: the Word file is damaged ({short_message(exc, 120)}).") from exc
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > limits.max_zip_bytes or (info.file_size > MB and ratio > limits.max_zip_ratio):
            raise DecompressionBomb(f"{name}: '{info.filename}' inflates to {_fmt_mb(info.file_size)} "
                                    f"({ratio:.0f}x, a decompression bomb?); nothing indexed.")


def _load_docx(name: str, data: bytes, limits: Limits) -> list[Page]:
    _check_zip(name, data, limits)
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover
        raise DocumentError(f"{name}: reading DOCX needs the 'python-docx' package.") from exc
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
        raise CorruptDocument(f"{name}: the Word file is damaged ({short_message(exc, 120)}); re-save it and upload again.") from exc
    text = _clean("\n\n".join(blocks))
    if len(text) > limits.max_text_chars:
        raise DecompressionBomb(f"{name}: the text is over {limits.max_text_chars:,} characters; nothing indexed.")
    return [Page(None, text)] if text else []


# ---- entry point --------------------------------------------------------------------------------
def load_document(name: str, data: bytes, *, limits: Limits = Limits(), password: str | None = None,
                  on_page: Callable[[int, int], None] | None = None) -> LoadedDocument:
    """Read one file. Raises a :class:`DocumentError` subclass with a human message on any bad input."""
    name = PurePath(name or "unnamed").name or "unnamed"
    if len(data) > limits.max_bytes:
        raise FileTooLarge(f"{name} is {_fmt_mb(len(data))}, over the {_fmt_mb(limits.max_bytes)} limit; "
                           "split it or raise RAGFT_MAX_UPLOAD_MB.")
    kind = check_type(name, data)
    warnings: list[str] = []
    if kind == "pdf":
        pages, total, warnings = _load_pdf(name, data, limits, password, on_page)
    elif kind == "docx":
        pages, total = _load_docx(name, data, limits), 1
    else:
        text, warnings = decode_text(data, name)
        text = _clean(text)
        if len(text) > limits.max_text_chars:
            raise FileTooLarge(f"{name}: over {limits.max_text_chars:,} characters of text; split it.")
        pages, total = ([Page(None, text)] if text else []), 1
        if on_page:
            on_page(1, 1)
    if not pages:
        raise EmptyDocument(f"{name}: the file is empty (no text in it); nothing to index.")
    return LoadedDocument(doc_id=document_id(data), name=name, kind=kind, pages=pages, page_count=total,
                          size_bytes=len(data), warnings=warnings)
