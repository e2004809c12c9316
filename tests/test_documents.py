"""Loading files: every case of the generated bad-input corpus, limits, encodings, page numbers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ragft.errors import DocumentError
from ragft.knowledge import documents as D

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "bad_corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
PASSWORD = EXPECTED["password"]


def _corpus_script():
    spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _corpus_script()


def read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_every_corpus_file_gives_its_outcome_and_message(name):
    want = EXPECTED["files"][name]
    if want["outcome"] == "ok":
        doc = D.load_document(name, read(name))
        assert doc.pages and all(p.text.strip() for p in doc.pages)
        if want["message_contains"]:
            assert any(want["message_contains"] in w for w in doc.warnings), doc.warnings
        return
    with pytest.raises(DocumentError) as info:
        D.load_document(name, read(name))
    err = info.value
    if want["outcome"] == "needs_password":
        assert isinstance(err, D.PasswordRequired)
    else:
        assert not isinstance(err, D.PasswordRequired)
    assert want["message_contains"].lower() in err.message.lower(), err.message
    assert name in err.message  # the message names the file
    assert "\n" not in err.message  # one line


def test_committed_corpus_is_exactly_what_the_script_generates(tmp_path):
    files = gen.build(tmp_path)
    for name, data in files.items():
        assert read(name) == data, f"{name} differs: run python scripts/make_bad_corpus.py"
    assert json.loads((tmp_path / "expected.json").read_text()) == EXPECTED


def test_pdf_keeps_page_numbers_and_text():
    doc = D.load_document("good.pdf", read("good.pdf"))
    assert doc.kind == "pdf" and doc.page_count == 3
    assert [p.number for p in doc.pages] == [1, 2, 3]
    for page, (name, sku, price, _) in zip(doc.pages, gen.PRODUCTS):
        assert name in page.text and sku in page.text and price in page.text


def test_encrypted_pdf_opens_with_the_password_and_refuses_a_wrong_one():
    doc = D.load_document("encrypted.pdf", read("encrypted.pdf"), password=PASSWORD)
    assert "EUR 44.00" in doc.pages[0].text
    with pytest.raises(D.WrongPassword) as info:
        D.load_document("encrypted.pdf", read("encrypted.pdf"), password="not-it")
    assert "wrong password" in info.value.message


def test_size_and_page_limits_are_configurable():
    with pytest.raises(D.FileTooLarge) as info:
        D.load_document("good.docx", read("good.docx"), limits=D.Limits(max_bytes=10_000))
    assert "limit" in info.value.message
    with pytest.raises(D.TooManyPages) as info:
        D.load_document("good.pdf", read("good.pdf"), limits=D.Limits(max_pages=2))
    assert "3 pages" in info.value.message
    assert D.load_document("good.pdf", read("good.pdf"), limits=D.Limits(max_pages=3)).page_count == 3


def test_limits_follow_settings():
    from ragft.settings import Settings

    lim = D.Limits.from_settings(Settings(max_upload_mb=3, max_pages=7))
    assert lim.max_bytes == 3 * D.MB and lim.max_pages == 7


def test_stream_limit_catches_a_smaller_bomb():
    import zlib

    data = gen.make_pdf(["cover", "x"], raw_streams={1: zlib.compress(b" " * 3_000_000, 9)})
    assert D.load_document("ok.pdf", data).page_count == 2  # 3 MB is fine under the default limit
    with pytest.raises(D.DecompressionBomb):
        D.load_document("ok.pdf", data, limits=D.Limits(max_stream_bytes=1_000_000))


def test_partly_scanned_pdf_indexes_text_pages_and_warns():
    data = gen.make_pdf(["Page one has text about the Aurora Desk Lamp.", None, "Page three too."], image_pages=True)
    doc = D.load_document("mixed.pdf", data)
    assert [p.number for p in doc.pages] == [1, 3]
    assert doc.page_count == 3
    assert any("p. 2" in w and "without text" in w for w in doc.warnings)


def test_non_utf8_text_is_decoded_with_a_warning():
    doc = D.load_document("latin1.txt", read("latin1.txt"))
    assert "Café Crème" in doc.pages[0].text and "€" in doc.pages[0].text
    assert doc.warnings and "cp1252" in doc.warnings[0]
    doc = D.load_document("utf16.txt", read("utf16.txt"))
    assert "Größe" in doc.pages[0].text and not doc.warnings


def test_undetectable_bytes_are_replaced_not_fatal():
    text, warnings = D.decode_text(b"ok \xff\xfe\xfd caf\xe9 " * 3 + b"plain", "x.txt")
    assert "plain" in text
    assert warnings  # either a detected code page or a count of replaced characters


def test_docx_text_keeps_headings_paragraphs_and_tables():
    doc = D.load_document("good.docx", read("good.docx"))
    text = doc.pages[0].text
    assert doc.kind == "docx" and doc.pages[0].number is None
    assert text.startswith("# Warranty terms")
    assert "two year warranty" in text
    assert "Boreal Kettle | 3 years" in text


def test_markdown_and_text_are_one_page_without_number():
    doc = D.load_document("good.md", read("good.md"))
    assert doc.kind == "md" and len(doc.pages) == 1 and doc.pages[0].number is None
    assert "30 days" in doc.pages[0].text


def test_document_id_is_the_content_hash():
    a = D.load_document("a.md", b"# Same\n\nbytes")
    b = D.load_document("b.md", b"# Same\n\nbytes")
    c = D.load_document("c.md", b"# Other\n\nbytes")
    assert a.doc_id == b.doc_id != c.doc_id
    assert len(a.doc_id) == 32


@pytest.mark.parametrize(
    "name,data,cls",
    [
        ("x.pdf", b"hello, I am text", D.FileTypeMismatch),
        ("x.md", b"%PDF-1.4\n...", D.FileTypeMismatch),
        ("x.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), D.FileTypeMismatch),
        ("x", b"text", D.UnsupportedFileType),
        ("x.xls", b"a,b\n1,2", D.UnsupportedFileType),
        ("x.pptx", b"just text", D.FileTypeMismatch),
        ("x.xlsx", b"%PDF-1.4\n...", D.FileTypeMismatch),
    ],
)
def test_lying_or_missing_extensions(name, data, cls):
    with pytest.raises(cls):
        D.load_document(name, data)


def test_pages_reported_through_the_callback():
    seen = []
    D.load_document("good.pdf", read("good.pdf"), on_page=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_loading_in_threads_keeps_warnings_apart():
    """pypdf's log capture is per thread: a damaged file in one thread does not taint another."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [("good.pdf", read("good.pdf")), ("badpage.pdf", read("badpage.pdf"))] * 4

    def load(job):
        try:
            return D.load_document(*job).warnings
        except DocumentError as exc:
            return exc.message

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(load, jobs))
    for (name, _), res in zip(jobs, results):
        if name == "good.pdf":
            assert res == []
        else:
            assert "page 2" in res
