"""Generate the knowledge-base test corpus: good files and every kind of bad input, without any download.

    python scripts/make_bad_corpus.py            # writes tests/fixtures/bad_corpus/
    python scripts/make_bad_corpus.py --out DIR

The corpus is deterministic (same bytes on every run) so it can be committed and compared. ``EXPECTED``
says what the loader must do with each file; the tests read it from ``expected.json``.

It also exposes :func:`make_pdf`, a tiny dependency-free PDF writer (Helvetica, WinAnsi text, one string per
page), used by the tests and the ingest benchmark to make PDFs of any size; :func:`make_scanned_pdf`, a PDF
of page images rendered from known text with Pillow (a scan without a text layer, for OCR); and small
PPTX / XLSX / CSV / HTML writers.
"""

from __future__ import annotations

import argparse
import io
import json
import textwrap
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "bad_corpus"


# ---- a minimal PDF writer ------------------------------------------------------------------------
def _pdf_string(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page_stream(text: str, width: int = 95) -> bytes:
    out = [b"BT /F1 10 Tf 50 800 Td 13 TL"]
    for para in text.split("\n"):
        lines = textwrap.wrap(para, width) or [""]
        for line in lines:
            out.append(_pdf_string(line) + b" Tj T*")
    out.append(b"ET")
    return b"\n".join(out)


def make_pdf(
    pages: list[str | None],
    *,
    compress: bool = True,
    raw_streams: dict[int, bytes] | None = None,
    image_pages: bool = False,
) -> bytes:
    """A valid PDF with one text page per entry.

    ``None`` makes a page without text (a grey image when ``image_pages``, as a scanner would leave);
    ``raw_streams[i]`` replaces page i's content stream by the given (already encoded) bytes, declared
    FlateDecode: a way to write broken or oversized pages.
    """
    raw_streams = raw_streams or {}
    objects: list[bytes] = []  # objects[k] is object number k+1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: bytes = b"", flate: bool = compress) -> int:
        if flate:
            data = zlib.compress(data, 9)
            extra += b" /Filter /FlateDecode"
        return add(b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    catalog = add(b"")  # placeholders filled below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = (
        stream(
            bytes([128]) * (64 * 64),
            b" /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8",
        )
        if image_pages
        else 0
    )
    kids = []
    for i, text in enumerate(pages):
        if i in raw_streams:
            data = raw_streams[i]
            content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        elif text is None:
            body = b"q 500 0 0 700 50 70 cm /Im1 Do Q" if image_pages else b""
            content = stream(body)
        else:
            content = stream(_page_stream(text))
        res = b"<< /Font << /F1 %d 0 R >>" % font
        if image_pages:
            res += b" /XObject << /Im1 %d 0 R >>" % image
        res += b" >>"
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %d 0 R >>"
                % (pages_obj, res, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )

    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(buf.tell())
        buf.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = buf.tell()
    buf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        buf.write(b"%010d 00000 n \n" % off)
    buf.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return buf.getvalue()


def render_text_image(
    lines: list[str], *, dpi: int = 300, font_pt: float = 12.0, width_in: float = 8.27, margin_in: float = 0.8
):
    """A white 1-bit page image with ``lines`` in black, as a 300 dpi scanner would see 12 pt text."""
    from PIL import Image, ImageDraw, ImageFont

    size = round(font_pt * dpi / 72)
    font = ImageFont.load_default(size=size)  # Pillow's bundled font: the same pixels on every machine
    step = round(size * 1.5)
    margin = round(margin_in * dpi)
    img = Image.new("L", (round(width_in * dpi), 2 * margin + step * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * step), line, fill=0, font=font)
    return img.point(lambda v: 255 if v > 128 else 0).convert("1")


def make_scanned_pdf(pages: list[list[str]], *, dpi: int = 300, font_pt: float = 12.0) -> bytes:
    """A PDF whose pages are only images of the given lines (no text layer), like a scanned document."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog, pages_obj = add(b""), add(b"")
    kids = []
    for lines in pages:
        img = render_text_image(lines, dpi=dpi, font_pt=font_pt)
        w, h = img.size
        pixels = zlib.compress(img.tobytes(), 9)
        im = add(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n"
            % (w, h, len(pixels))
            + pixels
            + b"\nendstream"
        )
        pw, ph = w * 72 / dpi, h * 72 / dpi
        body = b"q %.2f 0 0 %.2f 0 0 cm /Im1 Do Q" % (pw, ph)
        content = add(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject "
                b"<< /Im1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_obj, pw, ph, im, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(buf.tell())
        buf.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = buf.tell()
    buf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        buf.write(b"%010d 00000 n \n" % off)
    buf.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return buf.getvalue()


def make_pptx(
    slides: list[tuple[str, list[str]]], table: list[list[str]] | None = None, notes: str | None = None
) -> bytes:
    """Slides of (title, bullets); ``table`` goes on the first slide, ``notes`` into its speaker notes.

    A slide with an empty title and no bullets is left blank.
    """
    import pptx
    from pptx.util import Inches

    prs = pptx.Presentation()
    for i, (title, bullets) in enumerate(slides):
        if not title and not bullets:
            prs.slides.add_slide(prs.slide_layouts[6])  # blank layout
            continue
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        for j, b in enumerate(bullets):
            (body.paragraphs[0] if j == 0 else body.add_paragraph()).text = b
        if i == 0 and table:
            shape = slide.shapes.add_table(len(table), len(table[0]), Inches(1), Inches(5), Inches(8), Inches(1.5))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    shape.table.cell(r, c).text = cell
        if i == 0 and notes:
            slide.notes_slide.notes_text_frame.text = notes
    buf = io.BytesIO()
    prs.save(buf)
    return _normalise_zip(buf.getvalue())


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue())


def _declare_rows(xlsx: bytes, rows: int) -> bytes:
    """The workbook with its first sheet declaring ``rows`` rows, as Excel writes for a sheet that long."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    members = {i.filename: src.read(i.filename) for i in src.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet.replace(b"</sheetPr>", b'</sheetPr><dimension ref="A1:A%d"/>' % rows, 1)
    return _zip(members)


def encrypt_pdf(data: bytes, password: str) -> bytes:
    """RC4-128 encryption (pypdf decrypts it without the optional `cryptography` package)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    fixed_id = ByteStringObject(b"ragft-bad-corpus")  # pypdf draws a random file id: fix it for stable bytes
    writer.generate_file_identifiers = lambda: setattr(writer, "_ID", ArrayObject((fixed_id, fixed_id)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    d = docx.Document()
    for i, p in enumerate(paragraphs):
        if i == 0:
            d.add_heading(p, level=1)
        else:
            d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                t.cell(r, c).text = cell
    buf = io.BytesIO()
    d.save(buf)
    return _normalise_zip(buf.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Re-zip with fixed timestamps so the bytes (and so the content hash) are the same on every run."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # the Office writers stamp the current time here
                import re

                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            zi = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, body)
    return out.getvalue()


# ---- the corpus ---------------------------------------------------------------------------------
PRODUCTS = [
    ("Aurora Desk Lamp", "AL-100", "49.90", "A warm LED desk lamp with three brightness levels and a brass stem."),
    ("Boreal Kettle", "BK-220", "34.50", "A 1.7 litre stainless steel kettle that boils in ninety seconds."),
    ("Cirrus Pillow", "CP-310", "27.00", "A washable memory foam pillow with a bamboo cover."),
]


def product_page(name: str, sku: str, price: str, blurb: str) -> str:
    return (
        f"{name}\nSKU: {sku}\nPrice: EUR {price}\n{blurb} "
        f"The {name} ships within two working days and comes with a two year warranty."
    )


def good_pages() -> list[str]:
    return [product_page(*p) for p in PRODUCTS]


# name -> (expected outcome, a word the message must contain). Outcomes: ok, error, needs_password.
EXPECTED: dict[str, tuple[str, str]] = {
    "good.pdf": ("ok", ""),
    "good.md": ("ok", ""),
    "good.docx": ("ok", ""),
    "latin1.txt": ("ok", "not UTF-8"),
    "utf16.txt": ("ok", ""),
    "truncated.pdf": ("error", "damaged"),
    "corrupt.pdf": ("error", "damaged"),
    "encrypted.pdf": ("needs_password", "password"),
    "scanned.pdf": ("error", "no extractable text"),
    "empty.txt": ("error", "empty"),
    "blank.md": ("error", "empty"),
    "empty.pdf": ("error", "empty"),
    "photo.pdf": ("error", "PNG image"),
    "notes.txt": ("error", "PDF"),
    "fake.docx": ("error", "not a Word document"),
    "old_word.doc": ("error", "old Word"),
    "binary.txt": ("error", "binary"),
    "picture.png": ("error", "unsupported"),
    "slides.pptx": ("error", "damaged"),
    "bomb.pdf": ("error", "decompression bomb"),
    "bomb.docx": ("error", "decompression bomb"),
    "badpage.pdf": ("error", "page 2"),
    "scan.pdf": ("ok", "read by OCR"),
    "good.pptx": ("ok", "slide 3"),
    "corrupt.pptx": ("error", "damaged"),
    "empty.pptx": ("error", "empty"),
    "bomb.pptx": ("error", "decompression bomb"),
    "old_slides.pptx": ("error", "old PowerPoint"),
    "good.xlsx": ("ok", ""),
    "corrupt.xlsx": ("error", "damaged"),
    "empty.xlsx": ("error", "empty"),
    "bomb.xlsx": ("error", "decompression bomb"),
    "huge.xlsx": ("error", "rows"),
    "good.csv": ("ok", ""),
    "empty.csv": ("error", "no rows"),
    "huge.csv": ("error", "rows"),
    "binary.csv": ("error", "binary"),
    "good.html": ("ok", ""),
    "empty.html": ("error", "empty"),
    "binary.html": ("error", "binary"),
}
SCAN_LINES = [
    "Scanned price list, spring season.",
    "The Aurora Desk Lamp costs EUR 49.90 and ships in two days.",
    "The Boreal Kettle costs EUR 34.50; returns within 30 days.",
    "Questions? Write to service@example.com or call 0800 123 456.",
]
GOOD_HTML = b"""<!doctype html>
<html><head><title>Fernhollow help</title><style>body { color: red }</style>
<script>var tracking = "do not index this";</script></head>
<body><nav>Home | Shop | Help</nav>
<h1>Returns policy</h1><p>You may return any product within <b>30 days</b> of delivery.</p>
<noscript>Enable JavaScript</noscript>
<h2>Damaged goods</h2><p>Send a photo within 7 days<br>and we ship a replacement.</p>
<h2>Prices</h2><table><tr><th>Product</th><th>Price</th></tr><tr><td>Aurora Desk Lamp</td><td>EUR 49.90</td></tr>
</table><script>console.log("nor this")</script></body></html>
"""
PASSWORD = "open-sesame"


def build(out: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    good = make_pdf(good_pages())
    files["good.pdf"] = good
    files["good.md"] = (
        b"# Returns policy\n\nYou may return any product within 30 days of delivery for a full refund.\n\n"
        b"## Damaged goods\n\nIf a product arrives damaged, send a photo within 7 days and we ship a replacement.\n"
    )
    files["good.docx"] = make_docx(
        [
            "Warranty terms",
            "Every product has a two year warranty covering manufacturing defects.",
            "The warranty does not cover misuse or normal wear.",
        ],
        table=[["Product", "Warranty"], ["Aurora Desk Lamp", "2 years"], ["Boreal Kettle", "3 years"]],
    )
    files["latin1.txt"] = (
        "Café Crème costs 4,50 € and the Crêpe Suzette costs 7,20 €. "
        "Délicieux, naïve and façade are words with accents.\n"
    ).encode("cp1252")
    files["utf16.txt"] = "UTF-16 text with a byte order mark: Größe, Straße.\n".encode("utf-16")
    files["truncated.pdf"] = good[: int(len(good) * 0.45)]
    files["corrupt.pdf"] = b"%PDF-1.4\n" + bytes((i * 37 + 11) % 256 for i in range(3000))
    files["encrypted.pdf"] = encrypt_pdf(
        make_pdf(["Secret price list. The Aurora Desk Lamp costs EUR 44.00 for staff."]), PASSWORD
    )
    files["scanned.pdf"] = make_pdf([None, None], image_pages=True)
    files["empty.txt"] = b""
    files["blank.md"] = b"  \n\n\t \n"
    files["empty.pdf"] = b""
    files["photo.pdf"] = b"\x89PNG\r\n\x1a\n" + bytes(200)
    files["notes.txt"] = good
    files["fake.docx"] = b"This is plain text pretending to be a Word document.\n"
    files["old_word.doc"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    files["binary.txt"] = bytes((i * 131 + 7) % 256 for i in range(2048))
    files["picture.png"] = b"\x89PNG\r\n\x1a\n" + bytes(100)
    files["slides.pptx"] = _zip({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})
    # a 40 MB page content stream in ~40 kB: over the loader's per-stream limit
    files["bomb.pdf"] = make_pdf(["Cover page"] * 2, raw_streams={1: zlib.compress(b" " * 40_000_000, 9)})
    files["bomb.docx"] = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document>" + b" " * 30_000_000 + b"</w:document>",
        }
    )
    # page 2's content stream is not valid Flate data: the file must fail as a whole
    files["badpage.pdf"] = make_pdf(good_pages(), raw_streams={1: b"this is not zlib data at all" * 4})
    files["scan.pdf"] = make_scanned_pdf([SCAN_LINES])
    table = [["Product", "Price"], ["Aurora Desk Lamp", "EUR 49.90"], ["Boreal Kettle", "EUR 34.50"]]
    files["good.pptx"] = make_pptx(
        [
            ("Spring prices", ["All prices include VAT.", "Free shipping over EUR 50."]),
            ("Returns", ["Return any product within 30 days."]),
            ("", []),
        ],
        table=table,
        notes="Mention the kettle offer.",
    )
    files["corrupt.pptx"] = files["good.pptx"][: len(files["good.pptx"]) // 2]
    files["empty.pptx"] = make_pptx([("", [])])
    files["bomb.pptx"] = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "ppt/presentation.xml": b"<p/>",
            "ppt/slides/slide1.xml": b"<p:sld>" + b" " * 30_000_000 + b"</p:sld>",
        }
    )
    files["old_slides.pptx"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    rows: list[list[object]] = [["Product", "SKU", "Price (EUR)"]] + [[n, sku, float(p)] for n, sku, p, _ in PRODUCTS]
    files["good.xlsx"] = make_xlsx({"Prices": rows, "Notes": [], "Stock": [["SKU", "Units"], ["AL-100", 12]]})
    files["corrupt.xlsx"] = files["good.xlsx"][: len(files["good.xlsx"]) // 2]
    files["empty.xlsx"] = make_xlsx({"Sheet1": []})
    files["bomb.xlsx"] = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<worksheet>" + b" " * 30_000_000 + b"</worksheet>",
        }
    )
    files["huge.xlsx"] = _declare_rows(make_xlsx({"Log": [["n"], [1], [2]]}), 1_000_001)
    files["good.csv"] = (
        "Product,SKU,Price (EUR)\n" + "".join(f'"{n}",{sku},{p}\n' for n, sku, p, _ in PRODUCTS)
    ).encode()
    files["empty.csv"] = b"Product,SKU,Price\n"
    files["huge.csv"] = b"n\n" + b"".join(b"%d\n" % i for i in range(100_001))
    files["binary.csv"] = bytes((i * 97 + 3) % 256 for i in range(2048))
    files["good.html"] = GOOD_HTML
    files["empty.html"] = b"<html><head><style>p {}</style></head><body><script>x()</script>\n</body></html>"
    files["binary.html"] = bytes((i * 61 + 5) % 256 for i in range(2048))
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    (out / "expected.json").write_text(
        json.dumps(
            {
                "password": PASSWORD,
                "files": {k: {"outcome": v[0], "message_contains": v[1]} for k, v in EXPECTED.items()},
            },
            indent=2,
        )
        + "\n"
    )
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    files = build(args.out)
    total = sum(len(b) for b in files.values())
    print(f"wrote {len(files)} files ({total / 1024:.0f} kB) to {args.out}")


if __name__ == "__main__":
    main()
