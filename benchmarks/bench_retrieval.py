"""Retrieval latency in the embedded store at 1k, 10k and 100k chunks: p50/p95, query embedding excluded/included.

    python benchmarks/bench_retrieval.py [--sizes 1000,10000,100000] [--queries 60] [--k 4]

The store is one embedded Chroma collection grown to each size in turn. Embedding 100k real chunks would take
hours on this machine, so the vectors are made from a few hundred real MiniLM embeddings of generated product
text: each stored vector mixes two real ones plus a little noise (unit length, 384 dimensions), so the
neighbourhood structure looks like real text rather than uniform noise. Stored texts are ~800 characters, as real
chunks are. Queries are real questions embedded by the real model through ``ragft.knowledge.retrieval.retrieve``, which
reports the query-embedding time and the search time apart: "excluded" is the search alone, "included" both.
Two more columns exclude two documents (what hiding a shadowed sample document needs): through ``retrieve``
(over-fetch and drop, filtering in the store only when needed) and, for reference, with Chroma's ``$nin``
filter applied in the store.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.knowledge.retrieval import retrieve  # noqa: E402
from ragft.knowledge.store import Index, make_client  # noqa: E402
from ragft.models.embeddings import LocalMiniLM  # noqa: E402
from ragft.settings import Settings  # noqa: E402

NOUNS = [
    "tent",
    "stove",
    "kettle",
    "lamp",
    "pillow",
    "backpack",
    "jacket",
    "boots",
    "sleeping bag",
    "water filter",
    "canister",
    "trekking pole",
    "headlamp",
    "mug",
    "tarp",
    "hammock",
    "gaiters",
    "gloves",
    "map case",
    "bivy",
]
ADJ = [
    "ultralight",
    "rugged",
    "waterproof",
    "insulated",
    "compact",
    "family",
    "alpine",
    "breathable",
    "folding",
    "recycled",
]


def product(i: int, rnd: random.Random) -> str:
    noun, adj = rnd.choice(NOUNS), rnd.choice(ADJ)
    return (
        f"Product {i}: the {adj} {noun} model {rnd.randint(100, 999)}. Price ${rnd.randint(9, 600)}. "
        f"Weight {rnd.randint(80, 4000)} g. A {adj} {noun} for long trails, tested in wind and rain, "
        f"with a {rnd.choice(ADJ)} shell and a two year warranty. Ships in {rnd.randint(1, 9)} days."
    )


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--base", type=int, default=384, help="real embeddings the synthetic vectors are mixed from")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    rnd = random.Random(1)
    np_rnd = np.random.default_rng(1)
    embedder = LocalMiniLM()
    t = time.perf_counter()
    base_texts = [product(i, rnd) for i in range(args.base)]
    base = embedder.embed(base_texts)
    print(f"embedded {args.base} real chunks in {time.perf_counter() - t:.1f} s to seed the synthetic store")
    questions = [f"How much does the {rnd.choice(ADJ)} {rnd.choice(NOUNS)} cost?" for _ in range(args.queries)]

    client = make_client(Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-retrieval-"))))
    index = Index(client, "bench-ws", embedder, label="workspace")
    filler = " ".join(["Extra description of materials, care and repairs."] * 12)
    stored = 0
    batch = min(5000, client.get_max_batch_size())
    print(
        f"{'chunks':>8} | {'search only':>15} | {'incl. query embedding':>21} | {'excluding 2 docs':>16} | "
        f"{'store-side $nin':>15} | insert   (p50 / p95, ms)"
    )
    for size in sizes:
        t = time.perf_counter()
        while stored < size:
            n = min(batch, size - stored)
            a, b = np_rnd.integers(0, len(base), n), np_rnd.integers(0, len(base), n)
            w = np_rnd.uniform(0.3, 0.7, (n, 1)).astype(np.float32)
            v = w * base[a] + (1 - w) * base[b] + np_rnd.normal(0, 0.02, (n, base.shape[1])).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            ids = [f"doc{(stored + j) // 200:05d}:{(stored + j) % 200:05d}" for j in range(n)]
            metas = [
                {
                    "doc_id": f"doc{(stored + j) // 200:05d}",
                    "source": f"file{(stored + j) // 200}.pdf",
                    "page": ((stored + j) % 200) // 2 + 1,
                    "position": (stored + j) % 200,
                    "tokens": 180,
                    "content_hash": f"{stored + j:016x}",
                }
                for j in range(n)
            ]
            docs = [base_texts[a[j]] + " " + filler for j in range(n)]
            index._col.add(ids=ids, embeddings=v, documents=docs, metadatas=metas)
            stored += n
        insert_s = time.perf_counter() - t
        for q in questions[:5]:  # warm-up: load the HNSW segment
            retrieve(q, [index], k=args.k)
        search, total, excluded, nin = [], [], [], []
        gone = ["doc00000", "doc00001"]
        for q in questions:
            r = retrieve(q, [index], k=args.k)
            assert len(r.chunks) == args.k
            search.append(r.search_s * 1000)
            total.append(r.total_s * 1000)
            f = retrieve(q, [index], k=args.k, exclude_doc_ids=gone)
            assert len(f.chunks) == args.k and all(c.doc_id not in gone for c in f.chunks)
            excluded.append(f.search_s * 1000)
            vec = embedder.embed([q])[0]
            t = time.perf_counter()
            index.query(vec, args.k + 2, {"doc_id": {"$nin": gone}})
            nin.append((time.perf_counter() - t) * 1000)

        def cell(v: list[float], w: int) -> str:
            return f"{statistics.median(v):.1f} / {pct(v, 95):.1f}".rjust(w)

        print(
            f"{size:>8} | {cell(search, 15)} | {cell(total, 21)} | {cell(excluded, 16)} | {cell(nin, 15)} | "
            f"{insert_s:.1f} s"
        )
    print(f"k={args.k}, {args.queries} queries per size; query embedding = one real MiniLM call per question.")


if __name__ == "__main__":
    main()
