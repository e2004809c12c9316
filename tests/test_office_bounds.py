"""Office archives are bounded (issue 20, item 6): member count, one member's size, the total tied to the upload
limit, and the deflate ratio of every member; each refused before any XML is parsed, with a clear message."""

from __future__ import annotations

import io
import zipfile

import pytest

from ragft.knowledge.loaders.base import MB, DecompressionBomb, Limits, check_zip


def _zip(members: dict[str, bytes], level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def test_too_many_members_is_refused():
    data = _zip({f"word/m{i}.xml": b"<a/>" for i in range(2001)})
    with pytest.raises(DecompressionBomb, match="2,001 parts, over the limit of 2,000"):
        check_zip("many.docx", data, Limits(), "Word")
    check_zip("ok.docx", _zip({f"word/m{i}.xml": b"<a/>" for i in range(50)}), Limits(), "Word")


def test_the_total_is_tied_to_the_upload_limit():
    lim = Limits(max_bytes=1 * MB)  # 5 MB in all
    parts = {f"word/p{i}.xml": bytes(range(256)) * 4096 for i in range(6)}  # 1 MB each, ratio small
    with pytest.raises(DecompressionBomb, match="at most 5.0 MB in all"):
        check_zip("big.docx", _zip(parts, level=0), lim, "Word")
    assert Limits(max_bytes=20 * MB).zip_total_bytes == 100 * MB


def test_a_small_member_with_a_huge_ratio_is_refused():
    # under the old 1 MB floor this passed: 900 KB of zeros, ~1000x
    data = _zip({"word/document.xml": b"<w:t>" + b" " * (900 * 1024) + b"</w:t>"})
    with pytest.raises(DecompressionBomb, match="decompression bomb"):
        check_zip("small.docx", data, Limits(), "Word")


def test_one_member_over_its_own_limit_is_refused():
    lim = Limits(max_zip_member_bytes=1 * MB, max_zip_ratio=10**6)
    with pytest.raises(DecompressionBomb, match="1.0 MB each"):
        check_zip("one.docx", _zip({"word/document.xml": b"x" * (MB + 10)}), lim, "Word")
