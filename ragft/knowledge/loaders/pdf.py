"""PDF pages: pypdf's text layer page by page, OCR (see :mod:`ragft.knowledge.ocr`) for pages without one.

pypdf runs with every optional helper it recommends for reading (fontTools for embedded font encodings,
brotli, cryptography for AES). Its log warnings are caught per thread and turned into one short sentence per
file naming the affected pages; the full messages go to the server log only. A page that cannot be read
fails the whole file. OCR runs only on pages without text, under a per-file page cap and time cap; what it
skips is said in a warning, and OCR'd pages are marked (``Page.ocr``).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ragft.errors import DocumentError
from ragft.knowledge import ocr
from ragft.knowledge.loaders.base import (
    CorruptDocument,
    DecompressionBomb,
    EmptyDocument,
    Limits,
    NoExtractableText,
    Page,
    PasswordRequired,
    TooManyPages,
    WrongPassword,
    clean,
    fmt_mb,
    page_list,
    short,
)

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


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

_FONT_WORDS = ("font", "cff", "cmap", "glyph", "encoding", "unicode", "widths", "/tounicode")


def damage_summary(name: str, issues: list[tuple[int | None, str]]) -> str | None:
    """One sentence for pypdf's warnings on a file: what is affected and on which pages; details to the log."""
    if not issues:
        return None
    for page, msg in issues[:20]:
        logger.warning("%s%s: pypdf: %s", name, f" p.{page}" if page else "", msg)
    if len(issues) > 20:
        logger.warning("%s: %d more pypdf warnings", name, len(issues) - 20)
    font_pages = sorted({p for p, m in issues if p and any(w in m.lower() for w in _FONT_WORDS)})
    other_pages = sorted({p for p, m in issues if p} - set(font_pages))
    parts = []
    if font_pages:
        parts.append(f"font encoding on {page_list(font_pages)}")
    if other_pages:
        parts.append(f"content on {page_list(other_pages)}")
    if any(p is None for p, _ in issues):
        parts.append("file structure, repaired")
    return (
        f"{name}: the PDF is slightly damaged ({'; '.join(parts)}); the text there may be incomplete, "
        "check it in the chunk inspector."
    )


class _Ocr:
    """The OCR pass of one file: lazy PDFium document, page and time caps, and what was skipped and why."""

    def __init__(self, name: str, data: bytes, password: str | None, limits: Limits, on_ocr: Progress | None) -> None:
        self.name, self.data, self.password, self.limits, self.on_ocr = name, data, password, limits, on_ocr
        self.pdf: Any = None
        self.deadline: float | None = None
        self.read: list[int] = []  # pages with OCR text
        self.blank: list[int] = []  # OCR found nothing
        self.skipped: dict[str, list[int]] = {}  # reason -> pages
        self.seconds = 0.0

    def _skip(self, reason: str, number: int) -> None:
        self.skipped.setdefault(reason, []).append(number)

    def page(self, index: int, total: int) -> str:
        """OCR text of page ``index`` (0-based), or "" when skipped or blank."""
        number = index + 1
        if self.limits.ocr_max_pages <= 0:
            self._skip("off", number)
            return ""
        if "unavailable" in self.skipped:
            self._skip("unavailable", number)
            return ""
        if len(self.read) + len(self.blank) >= self.limits.ocr_max_pages:
            self._skip("pages", number)
            return ""
        now = time.perf_counter()
        if self.deadline is None:
            self.deadline = now + self.limits.ocr_seconds
        if now >= self.deadline or "time" in self.skipped:
            self._skip("time", number)
            return ""
        if self.on_ocr:
            self.on_ocr(number, total)
        try:
            ocr.check_available()
            if self.pdf is None:
                self.pdf = ocr.open_pdf(self.data, self.password)
            text = clean(ocr.ocr_pdf_page(self.pdf, index, dpi=self.limits.ocr_dpi, timeout=self.deadline - now))
        except ocr.OcrUnavailable as exc:
            logger.warning("%s: %s", self.name, exc.message)
            self._skip("unavailable", number)
            return ""
        except ocr.OcrTimeout:
            self._skip("time", number)
            return ""
        except Exception:  # noqa: BLE001 - PDFium or Tesseract failing on one page skips that page
            logger.exception("%s: OCR failed on page %d", self.name, number)
            self._skip("failed", number)
            return ""
        finally:
            self.seconds += time.perf_counter() - now
        (self.read if text else self.blank).append(number)
        return text

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()

    def why_nothing(self) -> str:
        if "unavailable" in self.skipped:
            return "and OCR is not available (install tesseract-ocr)"
        if "off" in self.skipped:
            return "and OCR is turned off (RAGFT_OCR_MAX_PAGES=0)"
        if "time" in self.skipped or "pages" in self.skipped:
            return "and OCR stopped at its limit before finding any"
        return "and OCR found none either (blank or unreadable scans)"

    def warnings(self) -> list[str]:
        name, out = self.name, []
        if self.read:
            out.append(
                f"{name}: {len(self.read)} page(s) without a text layer were read by OCR "
                f"({page_list(self.read)}, {self.seconds:.0f} s); OCR text can hold misread characters."
            )
        if self.blank:
            out.append(
                f"{name}: {len(self.blank)} page(s) without text were skipped ({page_list(self.blank)}); "
                "OCR found no text on them either."
            )
        reasons = {
            "pages": f"the OCR limit of {self.limits.ocr_max_pages} page(s) per file was reached (RAGFT_OCR_MAX_PAGES)",
            "time": f"OCR stopped after {self.limits.ocr_seconds:.0f} s (RAGFT_OCR_SECONDS_PER_FILE)",
            "unavailable": "OCR is not available (install tesseract-ocr)",
            "off": "OCR is turned off (RAGFT_OCR_MAX_PAGES=0)",
            "failed": "OCR failed on them (details in the server log)",
        }
        for reason, pages in self.skipped.items():
            out.append(
                f"{name}: {len(pages)} page(s) without text were skipped ({page_list(pages)}): {reasons[reason]}."
            )
        return out


def _unlock(reader: Any, name: str, password: str | None) -> str | None:
    """Open an encrypted PDF (owner-only passwords open with ""); the password that was needed, if any."""
    import pypdf

    if not reader.is_encrypted or reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED:
        return None
    if not password:
        raise PasswordRequired(f"{name} is encrypted: enter its password to index it.")
    if reader.decrypt(password) == pypdf.PasswordType.NOT_DECRYPTED:
        raise WrongPassword(f"{name}: wrong password; the PDF stays locked.")
    return password


def _page_count(reader: Any, name: str, limits: Limits) -> int:
    total = len(reader.pages)
    if total > limits.max_pages:
        raise TooManyPages(
            f"{name} has {total} pages, over the limit of {limits.max_pages}; split it or raise RAGFT_MAX_PAGES."
        )
    if total == 0:
        raise EmptyDocument(f"{name}: the PDF has no pages; nothing to index.")
    return total


def _page_text(page: Any, number: int, name: str, records: list[logging.LogRecord]) -> str:
    """One page's cleaned text; CorruptDocument when pypdf fails on it or its filters report damage."""
    from pypdf.errors import LimitReachedError

    before = len(records)
    try:
        text = page.extract_text() or ""
    except (LimitReachedError, DocumentError):
        raise
    except Exception as exc:  # pypdf raises many types on a broken page
        raise CorruptDocument(
            f"{name}: page {number} could not be read ({short(exc)}); nothing from this file was indexed."
        ) from exc
    broken = [r for r in records[before:] if r.name.startswith("pypdf.filters")]
    if broken:
        raise CorruptDocument(
            f"{name}: page {number} could not be read ({broken[0].getMessage()}); nothing from this file was indexed."
        )
    return clean(text)


def load_pdf(
    name: str,
    data: bytes,
    limits: Limits,
    password: str | None,
    on_page: Progress | None,
    on_ocr: Progress | None = None,
) -> tuple[list[Page], int, list[str]]:
    """Pages with text (PDF page numbers kept), the page count, and warnings."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    cap = limits.max_stream_bytes
    records = _pypdf_log.start()
    issues: list[tuple[int | None, str]] = []
    reader_ocr: _Ocr | None = None
    try:
        with pypdf.apply_configuration(
            zlib_maximum_output_length=cap,
            lzw_maximum_output_length=cap,
            run_length_maximum_output_length=cap,
            array_based_stream_maximum_output_length=cap,
            maximum_declared_stream_length=cap,
            jbig2_maximum_output_length=cap,
            brotli_maximum_output_length=cap,
        ):
            try:
                reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
                used_password = _unlock(reader, name, password)
                total = _page_count(reader, name, limits)
                issues += [(None, r.getMessage()) for r in records]
                reader_ocr = _Ocr(name, data, used_password, limits, on_ocr)
                pages: list[Page] = []
                chars = 0
                for i, page in enumerate(reader.pages):
                    before = len(records)
                    text = _page_text(page, i + 1, name, records)
                    issues += [(i + 1, r.getMessage()) for r in records[before:]]
                    is_ocr = False
                    if not text:
                        text = reader_ocr.page(i, total)
                        is_ocr = bool(text)
                    chars += len(text)
                    if chars > limits.max_text_chars:
                        raise DecompressionBomb(
                            f"{name}: the text inflates past {limits.max_text_chars:,} "
                            "characters (a decompression bomb?); nothing indexed."
                        )
                    if text:
                        pages.append(Page(i + 1, text, ocr=is_ocr))
                    if on_page:
                        on_page(i + 1, total)
            except DocumentError:
                raise
            except LimitReachedError as exc:
                raise DecompressionBomb(
                    f"{name}: a compressed stream inflates past {fmt_mb(cap)} (a decompression bomb?); nothing indexed."
                ) from exc
            except DependencyError as exc:
                raise DocumentError(
                    f"{name} is encrypted with AES, which needs the 'cryptography' package; "
                    "install it or save the PDF without encryption."
                ) from exc
            except FileNotDecryptedError as exc:
                raise PasswordRequired(f"{name} is encrypted: enter its password to index it.") from exc
            except (
                PyPdfError,
                ValueError,
                KeyError,
                TypeError,
                AttributeError,
                IndexError,
                AssertionError,
                RecursionError,
            ) as exc:
                raise CorruptDocument(
                    f"{name}: the PDF is damaged or truncated ({short(exc)}); re-export it and upload again."
                ) from exc
    finally:
        _pypdf_log.stop()
        if reader_ocr is not None:
            reader_ocr.close()
    if not pages:
        raise NoExtractableText(
            f"{name}: no extractable text on its {total} page(s) {reader_ocr.why_nothing()}; nothing indexed."
        )
    warnings = reader_ocr.warnings()
    if summary := damage_summary(name, issues):
        warnings.append(summary)
    return pages, total, warnings
