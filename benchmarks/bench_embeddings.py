"""Local embeddings: the app's embedder vs a bare onnxruntime session on the same texts, same run.

Both use the same int8 MiniLM model and tokenizer and pad each batch to its longest text; the ratio shows what the
app's wrapper costs. For reference it also times chromadb's default ONNXMiniLM_L6_V2 way (every text padded to
256 tokens) on the same texts. Usage: python benchmarks/bench_embeddings.py [--n 256] [--words 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from ragft.models.embeddings import LocalMiniLM  # noqa: E402
from ragft.paths import MINILM_TOKENIZER_DIR, minilm_onnx  # noqa: E402

WORDS = (
    "lamp price warranty shipping return backpack trail jacket waterproof kettle steel days order refund "
    "customer store product size weight battery charge colour fabric"
).split()


def texts(n: int, words: int) -> list[str]:
    rnd = random.Random(7)
    return [" ".join(rnd.choice(WORDS) for _ in range(words)) + f" item {i}." for i in range(n)]


def bare(session, tok, batch: list[str], pad_to: int | None) -> np.ndarray:
    enc = tok.encode_batch(batch)
    width = pad_to or max(len(e.ids) for e in enc)
    ids = np.zeros((len(enc), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, e in enumerate(enc):
        ids[r, : len(e.ids)] = e.ids[:width]
        mask[r, : len(e.ids)] = 1
    h = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    m = mask[:, :, None].astype(np.float32)
    v = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--words", type=int, default=200)
    a = ap.parse_args()
    data = texts(a.n, a.words)
    app = LocalMiniLM()
    tok = Tokenizer.from_file(str(MINILM_TOKENIZER_DIR / "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.no_padding()  # tokenizer.json pads to 128 by default; padding is done explicitly below
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(minilm_onnx()), sess_options=so, providers=["CPUExecutionProvider"])
    app.embed(data[:8]), bare(sess, tok, data[:8], None)  # warm-up

    def timed(fn) -> tuple[float, np.ndarray]:
        t = time.perf_counter()
        out = fn()
        return time.perf_counter() - t, out

    t_app, v_app = timed(lambda: app.embed(data))
    t_bare, v_bare = timed(
        lambda: np.concatenate([bare(sess, tok, data[i : i + 32], None) for i in range(0, len(data), 32)])
    )
    t_256, v_256 = timed(
        lambda: np.concatenate([bare(sess, tok, data[i : i + 32], 256) for i in range(0, len(data), 32)])
    )
    cos = float(np.mean(np.sum(v_app * v_256, axis=1)))
    print(f"{a.n} texts of {a.words} words (~{app.count_tokens(data[:1])} wordpiece tokens each), batch 32")
    print(f"app embedder       : {a.n / t_app:7.1f} chunks/s")
    print(f"bare onnxruntime   : {a.n / t_bare:7.1f} chunks/s")
    print(f"ratio app/bare     : {t_bare / t_app:.3f}")
    print(f"chroma-style pad256: {a.n / t_256:7.1f} chunks/s (same vectors: mean cosine {cos:.5f})")


if __name__ == "__main__":
    main()
