"""OCR for PDF pages without a text layer: PDFium renders the page, Tesseract reads it, offline on the CPU.

Tesseract is Debian's ``tesseract-ocr`` (+ ``tesseract-ocr-eng``), run as a subprocess that reads a PNG from
stdin and writes text to stdout (no temporary files), with one OpenMP thread per page (the cores are shared
with the app's models) and a timeout, so the loader can hold a per-file time cap. PDFium comes inside the
``pypdfium2`` wheel. A missing Tesseract is :class:`OcrUnavailable` (one line, says what to install).
"""

from __future__ import annotations

import functools
import io
import logging
import math
import os
import shutil
import subprocess
from typing import Any

from ragft.errors import DocumentError
from ragft.models import cpu

logger = logging.getLogger(__name__)

LANG = "eng"
MAX_PIXELS = 40_000_000  # a page is rendered at the wanted dpi unless that would pass ~40 MP (oversized pages)
TESSERACT = os.environ.get("TESSERACT_CMD", "tesseract")


class OcrError(DocumentError):
    """OCR could not read a page."""


class OcrUnavailable(OcrError):
    """Tesseract is not installed (or has no language data)."""

    hint = "Install it with: apt-get install tesseract-ocr tesseract-ocr-eng (scripts/setup.sh does)."


class OcrTimeout(OcrError):
    """One page took longer than the time left for its file."""


@functools.lru_cache(maxsize=1)
def tesseract_version() -> str | None:
    """Tesseract's version (``5.3.0``), or None when it is missing or lacks English data."""
    exe = shutil.which(TESSERACT)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20, check=False)
        ver = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        logger.exception("tesseract is on the PATH but does not answer")
        return None
    if LANG not in out.stdout.split():
        logger.warning("tesseract has no '%s' language data: %s", LANG, out.stdout.strip()[:200])
        return None
    first = (ver.stdout or ver.stderr).strip().splitlines()
    return first[0].split()[-1] if first else "unknown"


def check_available() -> str:
    version = tesseract_version()
    if version is None:
        raise OcrUnavailable("OCR is not available: the Tesseract program (with English data) was not found.")
    return version


def render_page(pdf: Any, index: int, dpi: int = 300) -> Any:
    """Page ``index`` (0-based) of an open ``pypdfium2.PdfDocument`` as a greyscale PIL image."""
    page = pdf[index]
    try:
        w, h = page.get_size()  # points (1/72 inch)
        scale = dpi / 72
        if w * h * scale * scale > MAX_PIXELS:
            scale = math.sqrt(MAX_PIXELS / max(w * h, 1.0))
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()


def ocr_image(image: Any, *, timeout: float | None = None, lang: str = LANG, dpi: int = 300) -> str:
    """Text of one PIL image. ``timeout`` (seconds) stops Tesseract and raises :class:`OcrTimeout`."""
    check_available()
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(dpi, dpi), compress_level=1)
    cmd = [
        shutil.which(TESSERACT) or TESSERACT,
        "stdin",
        "stdout",
        "-l",
        lang,
        "--oem",
        "1",
        "--psm",
        "3",
        "--dpi",
        str(dpi),
    ]
    try:
        # The CPU policy counts OCR as a background job while it runs (generation makes room) and gives it the
        # threads left over; Tesseract's own OpenMP pool is held to that.
        with cpu.policy().job(cpu.OCR) as lease:
            env = {**os.environ, "OMP_THREAD_LIMIT": str(max(1, lease.threads()))}
            done = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrTimeout(f"OCR of one page took longer than {timeout:.0f} s.") from exc
    except OSError as exc:
        raise OcrUnavailable(f"OCR is not available: Tesseract could not start ({exc.strerror}).") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        logger.warning("tesseract exited %s: %s", done.returncode, " | ".join(detail[-5:]))
        raise OcrError(f"OCR failed (Tesseract exit code {done.returncode}).")
    return done.stdout.decode("utf-8", "replace")


def open_pdf(data: bytes, password: str | None = None) -> Any:
    """An open ``pypdfium2.PdfDocument`` (the caller closes it)."""
    import pypdfium2

    return pypdfium2.PdfDocument(data, password=password or None)


def ocr_pdf_page(pdf: Any, index: int, *, dpi: int = 300, timeout: float | None = None) -> str:
    """Render page ``index`` of an open PDF and read it."""
    return ocr_image(render_page(pdf, index, dpi), timeout=timeout, dpi=dpi)
