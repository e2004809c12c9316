"""Generation and ingest under mixed load: the app's CPU policy against every fixed thread setting, one run.

    python benchmarks/bench_mixed.py [--rounds 2] [--pages 100] [--max-tokens 64]

Cases, each measured with the policy (``ragft.models.cpu``) and with every fixed setting (generation threads g,
embedding threads e, from 1 to the number of cores):
  (a) generation alone;
  (b) generation while the app ingests a 100-page PDF in the same process (read → chunk → embed → store);
  (c) generation while an external process keeps one core busy;
  ingest alone, and ingest while generation runs (the same runs as (b)).
Generation speed = decode tokens/s over whole 64-token answers (cold prompt each time; prompt processing is in the
time to first token, reported apart; at most 3 answers or 20 s per setting alone). Ingest = chunks/s end to end. Settings alternate within a round so background
load hits them alike; each figure is the median over rounds.
Goals: generation in each mixed case >= 0.8 x the best fixed setting; >= 0.5 x its idle speed in case (b);
ingest while generating >= 0.5 x ingest alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.knowledge.base import KnowledgeBase  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.knowledge.store import make_client  # noqa: E402
from ragft.knowledge.workspaces import new_workspace_id  # noqa: E402
from ragft.models import cpu  # noqa: E402
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine  # noqa: E402
from ragft.models.embeddings import LocalMiniLM  # noqa: E402
from ragft.paths import smollm2_gguf  # noqa: E402
from ragft.settings import Settings  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

WORDS = (
    "tent stove kettle lamp pillow trail river summit valley ridge pack strap buckle zipper fabric "
    "waterproof breathable lightweight sturdy warranty shipping returns canister filter bottle "
    "insulated sleeping mat synthetic down jacket boots laces sole grip weather season"
).split()
CHUNKS = [
    RetrievedChunk(
        text=f"Product {i}. Price: ${20 + 7 * i}. Weight {300 + i} g. Ships in {i % 3 + 1} days.",
        source="catalogue.pdf",
        page=i + 1,
    )
    for i in range(4)
]
MESSAGES = build_messages("Describe product 2 and its price in detail.", CHUNKS)


def make_catalogue(pages: int, words: int = 260, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    texts = []
    for i in range(pages):
        body, left = [], words
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


class Rig:
    """One engine and one embedder; a setting is (generation threads, embedding threads), None = the policy."""

    def __init__(self, pdf: bytes, max_tokens: int) -> None:
        self.policy = cpu.CpuPolicy(env={})  # the real load sampler; env overrides ignored
        self.fixed = cpu.CpuPolicy(env={}, external_load=lambda: 0.0)  # fixed runs: jobs, never turn-taking
        self.engine = EmbeddedEngine(smollm2_gguf(), policy=self.policy)
        self.model = EmbeddedChatModel(self.engine, "smollm2")
        self.embedder = LocalMiniLM(policy=self.policy)
        self.pdf, self.max_tokens = pdf, max_tokens
        self.client = make_client(Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-mixed-"))))
        for n in range(1, self.policy.cores + 1):  # sessions and the prompt path warm
            self.embedder.session(n).run(
                None,
                {
                    k: __import__("numpy").ones((1, 4), dtype="int64")
                    for k in ("input_ids", "attention_mask", "token_type_ids")
                },
            )
        self.set((None, None))
        self.model.stream(MESSAGES, max_tokens=4, temperature=0.0).consume()

    def set(self, setting: tuple[int | None, int | None]) -> None:
        g, e = setting
        pol = self.policy if g is None else self.fixed
        self.engine.policy = self.embedder.policy = pol
        self.engine.fixed_threads, self.embedder.fixed_threads = g, e

    def answer(self) -> tuple[int, float, float]:
        self.engine.llm.reset()  # cold prompt every time
        s = self.model.stream(MESSAGES, max_tokens=self.max_tokens, temperature=0.0).consume()
        return s.tokens_so_far, s.ttft_s or 0.0, s.total_s or 0.0

    def generate(
        self, stop: threading.Event | None = None, answers: int = 3, seconds: float = 20.0
    ) -> dict[str, float]:
        """Answers until ``stop`` is set, or else ``answers`` of them (fewer when they take over ``seconds``)."""
        rows: list[tuple[int, float, float]] = []
        t = time.perf_counter()
        while True:
            if stop is not None and stop.is_set() and rows:
                break
            if stop is None and rows and (len(rows) >= answers or time.perf_counter() - t > seconds):
                break
            rows.append(self.answer())
        return summarise(rows)

    def ingest(self) -> float:
        kb = KnowledgeBase(self.client, self.embedder, new_workspace_id(), include_sample=False)
        t = time.perf_counter()
        (report,) = kb.ingest_files([("catalogue.pdf", self.pdf)])
        if not report.ok:
            raise SystemExit(f"ingest failed: {report.message}")
        return report.chunks / (time.perf_counter() - t)

    def mixed(self) -> tuple[dict[str, float], float]:
        stop, out = threading.Event(), {}

        def run() -> None:
            out["ingest"] = self.ingest()
            stop.set()

        t = threading.Thread(target=run)
        t.start()
        g = self.generate(stop)
        t.join()
        return g, out["ingest"]


def summarise(rows: list[tuple[int, float, float]]) -> dict[str, float]:
    decode = [(n - 1) / (total - ttft) for n, ttft, total in rows if n > 1 and total > ttft]
    tokens = sum(n - 1 for n, _, _ in rows if n > 1)
    time_ = sum(total - ttft for n, ttft, total in rows if n > 1)
    return {
        "tps": tokens / time_ if time_ else 0.0,
        "ttft": statistics.median(r[1] for r in rows),
        "answers": len(rows),
        "median_tps": statistics.median(decode) if decode else 0.0,
    }


def name(setting: tuple[int | None, int | None]) -> str:
    g, e = setting
    return "policy" if g is None else f"fixed g={g} e={e}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=64)
    a = ap.parse_args()
    cores = cpu.cores_available()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    rig = Rig(make_catalogue(a.pages), a.max_tokens)
    n = list(range(1, cores + 1))
    gen_settings = [(None, None)] + [(g, cores) for g in n]
    mixed_settings = [(None, None)] + [(g, e) for g in n for e in n]
    ingest_settings = [(None, None)] + [(cores, e) for e in n]
    res: dict[str, dict] = {k: {} for k in ("a", "b_gen", "b_ingest", "c", "ingest")}
    t0 = time.perf_counter()
    for r in range(a.rounds):
        for s in gen_settings:
            rig.set(s)
            res["a"].setdefault(name(s), []).append(rig.generate(answers=3))
        for s in ingest_settings:
            rig.set(s)
            res["ingest"].setdefault(name(s), []).append(rig.ingest())
        for s in mixed_settings:
            rig.set(s)
            g, i = rig.mixed()
            res["b_gen"].setdefault(name(s), []).append(g)
            res["b_ingest"].setdefault(name(s), []).append(i)
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(1.5)  # the policy's load sampler sees it within about a second
            for s in gen_settings:
                rig.set(s)
                res["c"].setdefault(name(s), []).append(rig.generate(answers=3))
        finally:
            spinner.kill()
            spinner.wait()
        print(f"round {r + 1}/{a.rounds} done ({time.perf_counter() - t0:.0f} s)", flush=True)

    def tps(case: str, key: str) -> float:
        return statistics.median(x["tps"] for x in res[case][key])

    def ips(case: str, key: str) -> float:
        return statistics.median(res[case][key])

    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    print(
        f"cores={cores} rounds={a.rounds} pages={a.pages} max_tokens={a.max_tokens} "
        f"loadavg before {' '.join(load_before)} after {' '.join(load_after)} (includes this benchmark)"
    )
    idle_policy = tps("a", "policy")
    print("\ngeneration decode tokens/s (median over rounds; TTFT in ms)")
    for case, label in (("a", "(a) alone"), ("b_gen", "(b) app ingesting"), ("c", "(c) external core busy")):
        print(f"  {label}")
        for key in res[case]:
            ttft = statistics.median(x["ttft"] for x in res[case][key]) * 1000
            print(f"    {key:18s} {tps(case, key):7.1f}   TTFT {ttft:6.0f}")
        fixed = {k: tps(case, k) for k in res[case] if k != "policy"}
        best = max(fixed, key=fixed.get)
        ratio = tps(case, "policy") / fixed[best]
        goal = "" if case == "a" else "  (goal >= 0.8)"
        print(f"    policy / best fixed ({best}): {ratio:.3f}{goal}")
    print(f"  (b) policy / (a) policy idle: {tps('b_gen', 'policy') / idle_policy:.3f}  (goal >= 0.5)")
    print("\ningest chunks/s (median over rounds)")
    for key in res["ingest"]:
        print(f"    alone      {key:18s} {ips('ingest', key):7.1f}")
    for key in res["b_ingest"]:
        print(f"    generating {key:18s} {ips('b_ingest', key):7.1f}")
    alone = ips("ingest", "policy")
    print(f"  ingest while generating / alone (policy): {ips('b_ingest', 'policy') / alone:.3f}  (goal >= 0.5)")
    best_alone = max(ips("ingest", k) for k in res["ingest"] if k != "policy")
    print(f"  policy alone / best fixed alone: {alone / best_alone:.3f}")
    print(f"wall time {time.perf_counter() - t0:.0f} s; pid {os.getpid()}")


if __name__ == "__main__":
    main()
