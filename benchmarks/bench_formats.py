"""Per-format ingest and OCR accuracy.

    python benchmarks/bench_formats.py [--items 200] [--ocr-pages 3]

1. OCR: known text rendered with Pillow to 1-bit page images at 300 dpi, wrapped in a PDF without a text layer
   (``make_scanned_pdf``), read back by the loader (PDFium render → Tesseract). Prints character accuracy
   (1 - Levenshtein distance / reference length, whitespace runs collapsed) and pages/s.
2. Formats: the same ``--items`` product records as PDF (a page each), PPTX (a slide each), XLSX and CSV (a row
   each), HTML (a section each), DOCX and Markdown. Prints load items/s, then end-to-end ingest (load → chunk →
   embed → store in embedded Chroma) against the bare embedding of the very same chunk texts.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.knowledge.base import KnowledgeBase  # noqa: E402
from ragft.knowledge.chunking import chunk_pages  # noqa: E402
from ragft.knowledge.documents import Limits, load_document  # noqa: E402
from ragft.knowledge.ocr import tesseract_version  # noqa: E402
from ragft.knowledge.store import make_client  # noqa: E402
from ragft.knowledge.workspaces import new_workspace_id  # noqa: E402
from ragft.models.embeddings import LocalMiniLM  # noqa: E402
from ragft.settings import Settings  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

OCR_TEXT = [
    "Fernhollow Outfitters price list for the spring season, valid from March 1.",
    "The Kestrel 2 Tent costs $149 and weighs 2.1 kg; the Ember Stove costs $59.",
    "Returns are free within 30 days; damaged goods are replaced within 7 days.",
    "Call 0800 555 0199 or write to help@fernhollow.example for a repair.",
    "Sleeping mats: Drift (R-value 4.2, $89), Hollow (R-value 2.8, $64).",
    "Boots: Ridgeline GTX sizes 38-47, waterproof membrane, 2 year warranty.",
    "Orders over $75 ship free; express delivery costs $12.50 per parcel.",
    "Lanterns take three AA batteries and run for 40 hours on the low setting.",
]


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def bench_ocr(pages: int) -> None:
    print(f"tesseract {tesseract_version()}")
    lines = [OCR_TEXT[(i + k) % len(OCR_TEXT)] for k in range(pages) for i in range(len(OCR_TEXT))]
    per_page = [lines[k * len(OCR_TEXT) : (k + 1) * len(OCR_TEXT)] for k in range(pages)]
    data = gen.make_scanned_pdf(per_page, dpi=300)
    t0 = time.perf_counter()
    doc = load_document("scan.pdf", data, limits=Limits(ocr_seconds=3600))
    secs = time.perf_counter() - t0
    got = " ".join(" ".join(p.text.split()) for p in doc.pages)
    want = " ".join(" ".join(lines).split())
    acc = 1 - levenshtein(got, want) / len(want)
    print(
        f"OCR 300 dpi, {pages} page(s), {len(want)} chars: accuracy {acc:.2%}, {pages / secs:.2f} pages/s "
        f"({secs / pages:.2f} s/page), {sum(p.ocr for p in doc.pages)} pages marked OCR"
    )


def records(n: int) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"Product {i:04d} {w}",
            f"SKU-{i:04d}",
            f"{10 + i * 1.5:.2f}",
            f"A sturdy {w} made for long trails, item {i}, ships in two days with a two year warranty.",
        )
        for i, w in zip(range(n), ["tent", "stove", "kettle", "lamp", "pillow", "pack", "boots"] * n)
    ]


def build(n: int) -> dict[str, bytes]:
    recs = records(n)
    pages = [gen.product_page(*r) for r in recs]
    html = (
        "<html><body><script>x()</script>"
        + "".join(f"<h2>{r[0]}</h2><p>SKU {r[1]}, price EUR {r[2]}. {r[3]}</p>" for r in recs)
        + "</body></html>"
    )
    csv = "Product,SKU,Price,Description\n" + "".join(f'"{a}",{b},{c},"{d}"\n' for a, b, c, d in recs)
    return {
        "items.pdf": gen.make_pdf(pages),
        "items.pptx": gen.make_pptx([(r[0], [f"SKU {r[1]}", f"EUR {r[2]}", r[3]]) for r in recs]),
        "items.xlsx": gen.make_xlsx({"Items": [["Product", "SKU", "Price", "Description"]] + [list(r) for r in recs]}),
        "items.csv": csv.encode(),
        "items.html": html.encode(),
        "items.docx": gen.make_docx(["Items"] + [" ".join(r) for r in recs]),
        "items.md": "\n\n".join(f"## {p}" for p in pages).encode(),
    }


def bench_formats(n: int) -> None:
    emb = LocalMiniLM()
    emb.embed(["warm up"])
    print(f"\n{n} items per file; chunks of 200 tokens, overlap 30; local MiniLM; embedded Chroma")
    print(
        f"{'format':7} {'load items/s':>12} {'chunks':>6} {'e2e s':>7} {'bare embed s':>12} {'e2e items/s':>11} "
        f"{'bare/e2e':>8}"
    )
    for name, data in build(n).items():
        lim = Limits(max_pages=10_000)
        t0 = time.perf_counter()
        doc = load_document(name, data, limits=lim)
        load_s = time.perf_counter() - t0
        chunks = chunk_pages(doc.pages, doc_id=doc.doc_id, source=name, chunk_tokens=200, overlap=30)
        t0 = time.perf_counter()
        emb.embed([c.text for c in chunks])
        bare = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            kb = KnowledgeBase(
                make_client(Settings(data_dir=Path(tmp))), emb, new_workspace_id(), include_sample=False, limits=lim
            )
            t0 = time.perf_counter()
            (rep,) = kb.ingest_files([(name, data)])
            e2e = time.perf_counter() - t0
        assert rep.ok, rep.message
        print(
            f"{name.split('.')[1]:7} {n / load_s:12.0f} {len(chunks):6d} {e2e:7.2f} {bare:12.2f} {n / e2e:11.1f} "
            f"{bare / e2e:8.2f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--ocr-pages", type=int, default=3)
    args = ap.parse_args()
    bench_ocr(args.ocr_pages)
    bench_formats(args.items)


if __name__ == "__main__":
    main()
