"""PPTX, XLSX, CSV, HTML and OCR'd PDF pages: text, locations that citations show, caps, and the index round trip."""

from __future__ import annotations

import difflib
import importlib.util
import logging
from pathlib import Path

import pytest

from ragft.knowledge import documents as D
from ragft.knowledge import ocr
from ragft.knowledge.chunking import chunk_pages
from ragft.knowledge.loaders.pdf import damage_summary
from ragft.knowledge.retrieved import RetrievedChunk

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "bad_corpus"
_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
needs_tesseract = pytest.mark.skipif(ocr.tesseract_version() is None, reason="tesseract-ocr is not installed")


def read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def chunks_of(doc, size=200):
    return chunk_pages(doc.pages, doc_id=doc.doc_id, source=doc.name, chunk_tokens=size, overlap=0)


def test_pptx_is_a_page_per_slide_with_title_table_and_notes():
    doc = D.load_document("good.pptx", read("good.pptx"))
    assert doc.kind == "pptx" and doc.page_count == 3
    assert [(p.number, p.label) for p in doc.pages] == [(1, "slide 1"), (2, "slide 2")]
    first = doc.pages[0].text
    assert first.startswith("# Spring prices") and "Free shipping over EUR 50." in first
    assert "Aurora Desk Lamp | EUR 49.90" in first and "Notes: Mention the kettle offer." in first
    assert any("slide 3" in w for w in doc.warnings)
    assert [c.location for c in chunks_of(doc)] == ["slide 1", "slide 2"]


def test_pptx_slide_limit():
    with pytest.raises(D.TooManyPages) as info:
        D.load_document("good.pptx", read("good.pptx"), limits=D.Limits(max_pages=2))
    assert "3 slides" in info.value.message and "RAGFT_MAX_PAGES" in info.value.message


def test_xlsx_sheets_rows_and_row_ranges():
    doc = D.load_document("good.xlsx", read("good.xlsx"))
    assert doc.kind == "xlsx" and doc.page_count == 3  # Prices, Notes (empty), Stock
    assert [p.label for p in doc.pages] == ["Prices", "Stock"]
    lines = doc.pages[0].text.splitlines()
    assert lines[0] == "Product: Aurora Desk Lamp; SKU: AL-100; Price (EUR): 49.9"
    assert doc.pages[0].line_rows == (2, 3, 4)
    assert [c.location for c in chunks_of(doc)] == ["Prices rows 2-4", "Stock row 2"]
    small = [c.location for c in chunks_of(doc, size=20) if c.location.startswith("Prices")]  # a row or two each
    assert small[0] == "Prices row 2" and small[-1].endswith("4") and len(small) >= 3


def test_row_limit_counts_rows_while_reading():
    rows = [["n", "v"]] + [[i, i * 2] for i in range(30)]
    data = gen.make_xlsx({"Big": rows})
    assert D.load_document("big.xlsx", data, limits=D.Limits(max_rows=30)).pages
    with pytest.raises(D.FileTooLarge) as info:
        D.load_document("big.xlsx", data, limits=D.Limits(max_rows=29))
    assert "rows" in info.value.message and "big.xlsx" in info.value.message


def test_csv_rows_keep_their_numbers_and_header():
    doc = D.load_document("good.csv", read("good.csv"))
    assert doc.kind == "csv" and doc.pages[0].label == ""
    assert doc.pages[0].text.splitlines()[1] == "Product: Boreal Kettle; SKU: BK-220; Price (EUR): 34.50"
    assert [c.location for c in chunks_of(doc)] == ["rows 2-4"]
    semi = D.load_document("semi.csv", b"name;price\nLamp;49,90\n\nKettle;34,50\n")
    assert semi.pages[0].text == "name: Lamp; price: 49,90\nname: Kettle; price: 34,50"
    assert semi.pages[0].line_rows == (2, 4)  # the blank row 3 keeps its number out


def test_html_drops_scripts_and_styles_and_splits_at_headings():
    doc = D.load_document("good.html", read("good.html"))
    text = "\n".join(p.text for p in doc.pages)
    for hidden in ("tracking", "nor this", "color: red", "Enable JavaScript", "Home | Shop"):
        assert hidden not in text
    assert [p.label for p in doc.pages] == ["§ Returns policy", "§ Damaged goods", "§ Prices"]
    assert "within 30 days of delivery" in doc.pages[0].text
    assert "Send a photo within 7 days\nand we ship a replacement." in doc.pages[1].text
    assert "Aurora Desk Lamp | EUR 49.90" in doc.pages[2].text
    assert [c.location for c in chunks_of(doc)] == ["§ Returns policy", "§ Damaged goods", "§ Prices"]


def test_html_text_limit():
    with pytest.raises(D.FileTooLarge):
        D.load_document("good.html", read("good.html"), limits=D.Limits(max_text_chars=100))


def test_citation_shows_the_location_like_a_pdf_page():
    assert RetrievedChunk("t", "deck.pptx", 3, metadata={"location": "slide 3"}).citation == "deck.pptx slide 3"
    assert (
        RetrievedChunk("t", "p.xlsx", None, metadata={"location": "Prices rows 2-4"}).citation
        == "p.xlsx Prices rows 2-4"
    )
    assert RetrievedChunk("t", "a.pdf", 2, metadata={"location": ""}).citation == "a.pdf p.2"


def test_pypdf_warnings_become_one_sentence_with_pages(caplog):
    issues = [
        (None, "incorrect startxref pointer(1)"),
        (
            3,
            "fontTools is required to fully parse the encoding of a CFF Type1 font in font dictionary "
            "{'/Type': '/Font', IndirectObject(3607, 0, 1)}",
        ),
        (7, "Advanced encoding /Foo not implemented yet"),
        (5, "Unexpected end of stream"),
    ]
    with caplog.at_level(logging.WARNING, logger="ragft.knowledge.loaders.pdf"):
        msg = damage_summary("x.pdf", issues)
    assert msg == (
        "x.pdf: the PDF is slightly damaged (font encoding on p. 3, 7; content on p. 5; file structure, "
        "repaired); the text there may be incomplete, check it in the chunk inspector."
    )
    assert "IndirectObject" not in msg
    assert "IndirectObject(3607" in caplog.text  # details only in the server log
    assert damage_summary("ok.pdf", []) is None


@needs_tesseract
def test_scanned_page_is_read_by_ocr_and_marked():
    seen = []
    doc = D.load_document("scan.pdf", read("scan.pdf"), on_ocr=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 1)]
    assert [(p.number, p.ocr) for p in doc.pages] == [(1, True)] and doc.ocr_pages == 1
    got = " ".join(doc.pages[0].text.split())
    want = " ".join(gen.SCAN_LINES)
    assert difflib.SequenceMatcher(None, got, want).ratio() > 0.9, got
    assert any("read by OCR" in w and "p. 1" in w for w in doc.warnings)
    chunks = chunks_of(doc)
    assert all(c.ocr for c in chunks) and chunks[0].page == 1 and chunks[0].where == "p.1"


@needs_tesseract
def test_ocr_caps_skip_pages_with_a_warning():
    text_page = "A page with a real text layer about the Cirrus Pillow."
    scan = gen.make_scanned_pdf([gen.SCAN_LINES[:2], gen.SCAN_LINES[2:]])
    with pytest.raises(D.NoExtractableText) as info:
        D.load_document("scan2.pdf", scan, limits=D.Limits(ocr_max_pages=0))
    assert "turned off" in info.value.message
    doc = D.load_document("scan2.pdf", scan, limits=D.Limits(ocr_max_pages=1))
    assert [p.number for p in doc.pages] == [1]
    assert any("p. 2" in w and "RAGFT_OCR_MAX_PAGES" in w for w in doc.warnings)
    with pytest.raises(D.NoExtractableText) as info:
        D.load_document("scan2.pdf", scan, limits=D.Limits(ocr_seconds=0.001))
    assert "limit" in info.value.message
    mixed = gen.make_pdf([text_page, None], image_pages=True)
    doc = D.load_document("mixed.pdf", mixed, limits=D.Limits(ocr_seconds=0.001))
    assert [p.number for p in doc.pages] == [1] and not doc.pages[0].ocr


def test_missing_tesseract_is_a_warning_not_a_crash(monkeypatch):
    monkeypatch.setattr(ocr, "TESSERACT", "no-such-tesseract-binary")
    ocr.tesseract_version.cache_clear()
    try:
        doc = D.load_document("mixed.pdf", gen.make_pdf(["Text page.", None], image_pages=True))
        assert any("OCR is not available" in w and "p. 2" in w for w in doc.warnings)
        with pytest.raises(D.NoExtractableText) as info:
            D.load_document("scan.pdf", read("scan.pdf"))
        assert "tesseract-ocr" in info.value.message
    finally:
        ocr.tesseract_version.cache_clear()


def test_office_zip_bombs_are_refused_before_parsing():
    for name in ("bomb.pptx", "bomb.xlsx"):
        with pytest.raises(D.DecompressionBomb):
            D.load_document(name, read(name))


def test_locations_survive_the_index(tmp_path):
    from ragft.knowledge.base import KnowledgeBase
    from ragft.knowledge.store import make_client
    from ragft.knowledge.workspaces import new_workspace_id
    from ragft.models.embeddings import LocalMiniLM
    from ragft.settings import Settings

    kb = KnowledgeBase(
        make_client(Settings(data_dir=tmp_path)), LocalMiniLM(), new_workspace_id(), include_sample=False
    )
    reports = kb.ingest_files([("good.xlsx", read("good.xlsx")), ("good.pptx", read("good.pptx"))])
    assert all(r.ok for r in reports), [r.message for r in reports]
    by_name = {d.name: d.doc_id for d in kb.documents()}
    assert [c.where for c in kb.chunks(by_name["good.xlsx"])] == ["Prices rows 2-4", "Stock row 2"]
    hits = kb.retrieve("What does the Boreal Kettle cost?", k=10).chunks
    assert {h.citation for h in hits} == {
        "good.xlsx Prices rows 2-4",
        "good.xlsx Stock row 2",
        "good.pptx slide 1",
        "good.pptx slide 2",
    }
