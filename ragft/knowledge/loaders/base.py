"""What every loader shares: the typed errors, the safety limits, the Page value and small text helpers."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from ragft.errors import DocumentError

MB = 1024 * 1024


# ---- errors -------------------------------------------------------------------------------------
class EmptyDocument(DocumentError):
    """The file has no bytes, or no text at all."""


class UnsupportedFileType(DocumentError):
    """The extension is not one we read."""


class FileTypeMismatch(DocumentError):
    """The extension says one thing, the content another (a lying extension)."""


class FileTooLarge(DocumentError):
    """Over the configured upload size, page, slide or row limit."""


class TooManyPages(FileTooLarge):
    """Over the configured page (or slide) limit."""


class CorruptDocument(DocumentError):
    """Damaged, truncated or unreadable (including one bad page)."""


class PasswordRequired(DocumentError):
    """An encrypted PDF and no password given: the page offers a password field."""


class WrongPassword(PasswordRequired):
    """An encrypted PDF and the password given does not open it."""


class NoExtractableText(DocumentError):
    """A PDF whose pages carry no text layer and where OCR found none either: nothing to index."""


class DecompressionBomb(DocumentError):
    """A compressed stream inflates past the safety limit."""


# ---- values -------------------------------------------------------------------------------------
ZIP_INFLATE = 5  # an Office archive may inflate to this many times the upload limit in all
ZIP_SMALL_MEMBER = 4096  # a member this small cannot hurt whatever its ratio (deflate's floor makes tiny ones "high")


@dataclass(frozen=True)
class Limits:
    """Safety limits for one file. ``from_settings`` takes the configurable ones from :class:`Settings`."""

    max_bytes: int = 20 * MB
    max_pages: int = 500  # PDF pages, PPTX slides
    max_stream_bytes: int = 16 * MB  # one PDF stream, decompressed
    max_text_chars: int = 20_000_000  # all text of one file
    max_zip_bytes: int | None = None  # DOCX/PPTX/XLSX: all members, uncompressed (None: ZIP_INFLATE × max_bytes)
    max_zip_ratio: int = 200  # any zip member inflating more than this is a bomb
    max_zip_members: int = 2000  # DOCX/PPTX/XLSX: members of one archive
    max_zip_member_bytes: int = 32 * MB  # one member, uncompressed: the most XML one parse builds a tree of
    max_rows: int = 100_000  # CSV/XLSX: data rows of one file
    ocr_max_pages: int = 50  # PDF pages without text read by OCR, per file (0 = no OCR)
    ocr_seconds: float = 120.0  # OCR time per file; the pages left after it are skipped with a warning
    ocr_dpi: int = 300
    max_chunks_per_file: int = 2000  # checked after chunking, before any embedding
    max_chunks_per_workspace: int = 10000  # all documents of one workspace, this file included

    @property
    def zip_total_bytes(self) -> int:
        """All members of one Office archive, uncompressed: tied to the upload limit unless set."""
        return self.max_zip_bytes if self.max_zip_bytes is not None else ZIP_INFLATE * self.max_bytes

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(
            max_bytes=int(settings.max_upload_mb) * MB,
            max_pages=int(settings.max_pages),
            ocr_max_pages=int(getattr(settings, "ocr_max_pages", cls.ocr_max_pages)),
            ocr_seconds=float(getattr(settings, "ocr_seconds_per_file", cls.ocr_seconds)),
            max_chunks_per_file=int(settings.max_chunks_per_file),
            max_chunks_per_workspace=int(settings.max_chunks_per_workspace),
        )


@dataclass(frozen=True)
class Page:
    """One unit of text that chunks never cross, and where it sits in its file.

    ``number`` is the 1-based PDF page or PPTX slide (None for formats without pages). ``label`` is the location
    citations show when it is not a PDF page ("slide 3", "Prices", "§ Returns"). For tables ``line_rows`` holds
    the row number of each line of the text (one line per row), so a chunk can name its row range.
    ``ocr`` marks text read from an image by OCR.
    """

    number: int | None
    text: str
    label: str = ""
    line_rows: tuple[int, ...] = ()
    ocr: bool = False


# ---- helpers ------------------------------------------------------------------------------------
def fmt_mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n / 1024:.0f} kB"


def short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def page_list(pages: list[int], prefix: str = "p. ") -> str:
    shown = ", ".join(str(p) for p in pages[:10])
    return f"{prefix}{shown}{' ...' if len(pages) > 10 else ''}"


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def one_line(text: str) -> str:
    """A cell or title on one line: inner newlines and runs of spaces become one space."""
    return re.sub(r"\s+", " ", str(text)).strip()


def check_zip(name: str, data: bytes, limits: Limits, what: str) -> None:
    """Refuse an Office zip that is damaged or inflates past the limits, before any XML is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocument(
            f"{name}: the {what} file is damaged ({short(exc)}); re-save it and upload again."
        ) from exc
    if len(infos) > limits.max_zip_members:
        raise DecompressionBomb(
            f"{name}: the {what} file holds {len(infos):,} parts, over the limit of {limits.max_zip_members:,} "
            "(a zip bomb?); nothing indexed."
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if (
            total > limits.zip_total_bytes
            or info.file_size > limits.max_zip_member_bytes
            or (info.file_size > ZIP_SMALL_MEMBER and ratio > limits.max_zip_ratio)
        ):
            raise DecompressionBomb(
                f"{name}: '{info.filename}' inflates to {fmt_mb(info.file_size)} "
                f"({ratio:.0f}x; {fmt_mb(total)} of parts so far, at most {fmt_mb(limits.zip_total_bytes)} in all "
                f"and {fmt_mb(limits.max_zip_member_bytes)} each: a decompression bomb?); nothing indexed."
            )


def check_text_size(name: str, chars: int, limits: Limits) -> None:
    if chars > limits.max_text_chars:
        raise FileTooLarge(f"{name}: over {limits.max_text_chars:,} characters of text; split it.")
