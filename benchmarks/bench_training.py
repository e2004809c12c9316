"""Fine-tune studio figures (results in benchmarks/README.md, "Fine-tune studio").

    python benchmarks/bench_training.py speed     # steps/s: the training core vs a bare peft loop, same data, same run
    python benchmarks/bench_training.py voice     # 20-example voice preset: Train → selectable adapter, style held out
    python benchmarks/bench_training.py json      # JSON tickets: validity/schema for base, base+RAG, ft, ft+RAG
    python benchmarks/bench_training.py ttft      # a Compare question's first token, idle vs while a training runs

Prints JSON lines. ``voice`` and ``ttft`` go through ``ragft.training.jobs`` (the page's path: a separate process);
``json`` uses the shipped ``assets/adapter/tickets-lora.gguf`` (``scripts/train_adapter.py --preset tickets``).
"""

from __future__ import annotations

import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine  # noqa: E402
from ragft.paths import ADAPTER_DIR, SCENARIO_DIR, smollm2_gguf  # noqa: E402
from ragft.training import jobs  # noqa: E402
from ragft.training.checks import score  # noqa: E402
from ragft.training.config import TrainConfig, default_config  # noqa: E402
from ragft.training.presets import PRESETS  # noqa: E402
from ragft.training.quickcheck import run_check  # noqa: E402


def emit(**kw) -> None:
    print(json.dumps(kw), flush=True)


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def speed(steps: int = 8, rounds: int = 3) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    from ragft.training.trainer import batches, encode, load_base, lr_at, train

    examples = PRESETS["brandvoice"].examples(20)
    cfg = TrainConfig(steps=steps, batch_size=4, warmup_steps=2, max_len=256, threads=1)
    tok, pristine = load_base(cfg.threads)
    results: dict[str, list[float]] = {}
    for rnd in range(rounds + 1):  # round 0 warms up (discarded); the order alternates, so load drifts hit both
        for kind in ("core", "bare") if rnd % 2 else ("bare", "core"):
            model = copy.deepcopy(pristine)
            if kind == "core":
                with tempfile.TemporaryDirectory() as tmp:
                    res = train(
                        examples,
                        cfg,
                        Path(tmp) / "peft",
                        Path(tmp) / "base",
                        loaded=(tok, model),
                        on_step=lambda r: None,
                    )
                t = res.train_s
            else:
                data = encode(tok, examples, cfg.max_len)
                pm = get_peft_model(
                    model,
                    LoraConfig(
                        r=cfg.rank, lora_alpha=cfg.alpha, target_modules=list(cfg.targets), task_type="CAUSAL_LM"
                    ),
                )
                params = [p for p in pm.parameters() if p.requires_grad]
                opt = torch.optim.AdamW(params, lr=cfg.lr)
                rng = random.Random(cfg.seed)
                order = batches(data, cfg.batch_size, rng)
                pad = tok.eos_token_id
                t0 = time.perf_counter()
                for step in range(steps):
                    if not order:
                        order = batches(data, cfg.batch_size, rng)
                    b = [data[i] for i in order.pop()]
                    w = max(len(i) for i, _ in b)
                    ids = torch.tensor([i + [pad] * (w - len(i)) for i, _ in b])
                    lab = torch.tensor([la + [-100] * (w - len(la)) for _, la in b])
                    att = torch.tensor([[1] * len(i) + [0] * (w - len(i)) for i, _ in b])
                    for g in opt.param_groups:
                        g["lr"] = lr_at(step, cfg)
                    loss = pm(input_ids=ids, attention_mask=att, labels=lab).loss
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                t = time.perf_counter() - t0
            if rnd > 0:
                results.setdefault(kind, []).append(steps / t)
            del model
    core, bare = statistics.mean(results["core"]), statistics.mean(results["bare"])
    emit(
        bench="speed",
        steps=steps,
        core_steps_per_s=round(core, 3),
        bare_steps_per_s=round(bare, 3),
        ratio=round(core / bare, 3),
        runs=results,
        load_avg=load_avg(),
    )


def wait(data_dir: Path, job: str, states, every=0.2, timeout=3600):
    end = time.time() + timeout
    while time.time() < end:
        st = jobs.status(data_dir, job)
        if st.state in states:
            return st
        time.sleep(every)
    raise TimeoutError(job)


def voice(n_heldout: int = 20) -> None:
    p = PRESETS["brandvoice"]
    examples = p.examples(p.page_examples)
    cfg = default_config(len(examples))
    data_dir = Path(tempfile.mkdtemp(prefix="ragft-bench-"))
    t0 = time.perf_counter()
    job = jobs.submit(data_dir, "benchworkspace", "voice", examples, cfg, preset=p.key)
    st = wait(data_dir, job, ("checking", "done", "failed", "stopped"))
    wall = time.perf_counter() - t0
    if st.state in ("failed", "stopped"):
        emit(bench="voice", error=st.message)
        return
    settings = json.loads((Path(st.adapter) / "settings.json").read_text())
    emit(
        bench="voice",
        examples=len(examples),
        steps=cfg.steps,
        train_to_selectable_s=round(wall, 1),
        load_s=settings["load_seconds"],
        train_s=settings["train_seconds"],
        convert_s=settings["convert_seconds"],
        peak_rss_mb=settings["peak_rss_mb"],
        steps_per_s=settings["steps_per_second"],
        load_avg=load_avg(),
    )
    wait(data_dir, job, ("done", "failed"))
    from ragft.training.checks import check_to_dict

    chk = run_check(
        p.heldout_prompts()[:n_heldout],
        check_to_dict(p.check),
        Path(st.adapter) / "adapter.gguf",
        max_prompts=n_heldout,
    )
    emit(bench="voice-style", n=chk["n"], base=chk["base"], adapter=chk["adapter"], load_avg=load_avg())


def _scenario_pages() -> list[RetrievedChunk]:
    pages = []
    for md in sorted(SCENARIO_DIR.glob("*.md")):
        for i, part in enumerate(md.read_text(encoding="utf-8").split("\n## "), 1):
            if part.strip():
                pages.append(RetrievedChunk(text=part.strip()[:900], source=md.with_suffix(".pdf").name, page=i))
    return pages


def json_bench() -> None:
    import numpy as np

    from ragft.models.embeddings import make_embedding_function
    from ragft.settings import EmbeddingConfig

    p = PRESETS["tickets"]
    items = p.heldout_prompts()
    pages = _scenario_pages()
    emb = make_embedding_function(EmbeddingConfig())
    pv = np.array(emb([c.text for c in pages]))
    qv = np.array(emb([it["prompt"] for it in items]))
    top = (qv @ pv.T).argmax(axis=1)
    gguf = smollm2_gguf()
    out = {}
    for slot, lora in (("base", None), ("ft", ADAPTER_DIR / "tickets-lora.gguf")):
        model = EmbeddedChatModel(EmbeddedEngine(gguf, lora), slot)
        for rag in (False, True):
            texts = []
            for it, k in zip(items, top):
                msgs = build_messages(it["prompt"], [pages[k]] if rag else None, it["system"])
                texts.append(model.complete(msgs, max_tokens=64, temperature=0.0).text)
            s = score(texts, p.check)
            key = slot + ("+rag" if rag else "")
            out[key] = s
            emit(
                bench="json",
                configuration=key,
                n=s["n"],
                valid_json=s.get("valid_json"),
                schema_ok=s["ok"],
                example=texts[0][:120],
                load_avg=load_avg(),
            )


def ttft(n: int = 6) -> None:
    """First token of a Compare-like question (a new question each time: llama.cpp reuses a repeated prompt)."""
    from ragft.knowledge.scenario import load_questions
    from ragft.settings import DEFAULT_SYSTEM_PROMPT

    questions = [q.question for q in load_questions()][: 2 * n]
    model = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), None), "base")

    def measure(qs) -> list[float]:
        vals = []
        for q in qs:
            msgs = [{"role": "system", "content": DEFAULT_SYSTEM_PROMPT}, {"role": "user", "content": q}]
            s = model.stream(msgs, max_tokens=8, temperature=0.0)
            for _ in s:
                pass
            vals.append(round(s.ttft_s, 3))
        return vals

    idle = measure(questions[:n])
    emit(bench="ttft", training=False, median_s=statistics.median(idle), runs=idle, load_avg=load_avg())
    p = PRESETS["brandvoice"]
    data_dir = Path(tempfile.mkdtemp(prefix="ragft-bench-"))
    job = jobs.submit(data_dir, "benchworkspace", "busy", p.examples(20), TrainConfig(steps=400))
    while jobs.status(data_dir, job).step < 2:  # past loading: optimizer steps running
        time.sleep(0.5)
    busy = measure(questions[n : 2 * n])
    threads = jobs.status(data_dir, job).data
    jobs.stop(data_dir, job)
    emit(
        bench="ttft",
        training=True,
        median_s=statistics.median(busy),
        runs=busy,
        load_avg=load_avg(),
        training_step=threads.get("step"),
    )


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "speed"
    {"speed": speed, "voice": voice, "json": json_bench, "ttft": ttft}[what]()
