"""Ingest benchmark: a generated 100-page PDF through the whole pipeline vs the bare embedding of its chunks.

    python benchmarks/bench_ingest.py [--pages 100] [--runs 3] [--words 260]

Prints pages/s and chunks/s end to end (read → chunk → embed → store in embedded Chroma), the bare embedding
throughput on the very same chunk texts measured in the same run, their ratio (goal >= 0.9: parsing, chunking
and storage must cost little beside embedding), and where the end-to-end time went, stage by stage.
Runs alternate (bare, end to end, bare, ...) so background load hits both alike; medians are reported.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.knowledge.base import KnowledgeBase  # noqa: E402
from ragft.knowledge.chunking import chunk_pages  # noqa: E402
from ragft.knowledge.documents import load_document  # noqa: E402
from ragft.knowledge.store import EMBED_BATCH, make_client  # noqa: E402
from ragft.knowledge.workspaces import new_workspace_id  # noqa: E402
from ragft.models.embeddings import LocalMiniLM  # noqa: E402
from ragft.settings import Settings  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

WORDS = (
    "tent stove kettle lamp pillow trail river summit valley ridge pack strap buckle zipper fabric "
    "waterproof breathable lightweight sturdy warranty shipping returns canister filter bottle "
    "insulated sleeping mat synthetic down jacket boots laces sole grip weather season"
).split()


def make_catalogue(pages: int, words: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    texts = []
    for i in range(pages):
        body = []
        left = words
        while left > 0:
            n = min(left, rnd.randint(8, 20))
            body.append(" ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + ".")
            left -= n
        paras = [" ".join(body[j : j + 4]) for j in range(0, len(body), 4)]
        texts.append(
            f"Product {i + 1}: Model {rnd.randint(100, 999)}\nSKU: FH-{i + 1:04d}\n"
            f"Price: ${rnd.randint(10, 500)}\n" + "\n\n".join(paras)
        )
    return gen.make_pdf(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--words", type=int, default=260, help="words per page (260 → about 2 chunks of 200 tokens)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    pdf = make_catalogue(args.pages, args.words)
    embedder = LocalMiniLM()
    doc = load_document("catalogue.pdf", pdf)
    texts = [c.text for c in chunk_pages(doc.pages, doc_id=doc.doc_id, source=doc.name)]
    embedder.embed(texts[:EMBED_BATCH])  # warm up onnxruntime

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    client = make_client(Settings(data_dir=tmp))
    bare, e2e, stages_all, bare_cpu, e2e_cpu = [], [], [], [], []
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), EMBED_BATCH):  # the same batches the ingest uses
            embedder.embed(texts[i : i + EMBED_BATCH])
        bare.append(time.perf_counter() - t)
        bare_cpu.append(time.process_time() - c)

        kb = KnowledgeBase(client, embedder, new_workspace_id(), include_sample=False)
        marks: dict[str, float] = {}

        def progress(name, stage, done, total, marks=marks):
            marks.setdefault(stage, time.perf_counter())

        t, c = time.perf_counter(), time.process_time()
        (report,) = kb.ingest_files([("catalogue.pdf", pdf)], progress=progress)
        end = time.perf_counter()
        e2e_cpu.append(time.process_time() - c)
        assert report.ok and report.chunks == len(texts), report.message
        e2e.append(end - t)
        order = ["checking", "reading", "chunking", "embedding", "storing", "done"]
        stamps = [t] + [marks[s] for s in order[1:]]
        stages_all.append({f"{a}": b2 - b1 for a, b1, b2 in zip(order[:-1], stamps, stamps[1:])})

    n_chunks = len(texts)
    b, e = statistics.median(bare), statistics.median(e2e)
    print(
        f"document: {args.pages} pages, {n_chunks} chunks of <= 200 tokens, {len(pdf) / 1024:.0f} kB PDF, "
        f"{args.runs} runs, medians"
    )
    print(f"bare embedding     : {n_chunks / b:8.1f} chunks/s  ({b:.3f} s)")
    print(f"end to end         : {n_chunks / e:8.1f} chunks/s  {args.pages / e:7.1f} pages/s  ({e:.3f} s)")
    print(f"ratio e2e / bare   : {b / e:8.3f}   (goal >= 0.9)")
    bc, ec = statistics.median(bare_cpu), statistics.median(e2e_cpu)
    print(
        f"same ratio in CPU time: {bc / ec:.3f}  (bare {bc:.2f} s, end to end {ec:.2f} s of CPU; "
        "steadier than wall time when other work shares the machine)"
    )
    med = {k: statistics.median(s[k] for s in stages_all) for k in stages_all[0]}
    labels = {
        "checking": "hash + dedupe",
        "reading": "PDF parse",
        "chunking": "chunking",
        "embedding": "embedding",
        "storing": "Chroma write + manifest",
    }
    for k, v in med.items():
        print(f"  {labels.get(k, k):24s} {v * 1000:8.1f} ms  {v / e * 100:5.1f} %")
    print(f"runs (s): bare {', '.join(f'{x:.3f}' for x in bare)} | e2e {', '.join(f'{x:.3f}' for x in e2e)}")


if __name__ == "__main__":
    main()
