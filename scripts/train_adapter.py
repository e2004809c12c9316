"""Train a shipped LoRA adapter from a Fine-tune page preset, with the page's training core (ragft.training).

    bash scripts/setup.sh --train                      # torch (CPU), transformers, peft, the GGUF converter
    python scripts/train_adapter.py                    # brand voice: 247 examples, 80 steps -> assets/adapter/
    python scripts/train_adapter.py --preset tickets   # JSON tickets: 80 examples, 60 steps -> assets/adapter/
    python scripts/train_adapter.py --smoke            # 2 steps on 5 examples into a temporary folder

The preset (``ragft.training.presets``) gives the data and the settings of the shipped run; any setting can
be overridden (``--steps 40 --lr 5e-4 ...``). The loop is ``ragft.training.trainer.train`` and the conversion
``ragft.training.converter.convert`` (llama.cpp's ``convert_lora_to_gguf.py``), exactly what the page runs.
Writes the adapter, the loss per step (CSV and PNG) and a training log next to it.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.errors import RagftError  # noqa: E402
from ragft.paths import ADAPTER_DIR  # noqa: E402
from ragft.training.config import TrainConfig  # noqa: E402
from ragft.training.converter import convert  # noqa: E402
from ragft.training.examples import read_jsonl_file  # noqa: E402
from ragft.training.presets import PRESETS  # noqa: E402
from ragft.training.trainer import train  # noqa: E402


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
    smooth = [
        sum(loss[max(0, i - window + 1) : i + 1]) / len(loss[max(0, i - window + 1) : i + 1]) for i in range(len(loss))
    ]
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="brandvoice", choices=sorted(PRESETS))
    ap.add_argument("--data", default=None, help="training JSONL (default: the preset's file, all examples)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N examples (as the page does)")
    for key, default in TrainConfig().to_dict().items():
        if key != "targets":
            ap.add_argument(f"--{key.replace('_', '-')}", type=type(default), default=None)
    ap.add_argument("--out", default=None, help="output folder (default assets/adapter, or a temp dir with --smoke)")
    ap.add_argument("--smoke", action="store_true", help="2 steps on 5 examples into a temp dir")
    ap.add_argument("--no-convert", action="store_true", help="stop after the PEFT adapter (no GGUF)")
    args = ap.parse_args(argv)
    preset = PRESETS[args.preset]
    settings = dict(preset.shipped) or TrainConfig().to_dict()
    settings.update({k: v for k, v in vars(args).items() if k in TrainConfig().to_dict() and v is not None})
    if args.smoke:
        settings.update(steps=2, batch_size=2, warmup_steps=1)
        args.limit = args.limit or 5
    cfg = TrainConfig.from_dict(settings)
    out = Path(args.out) if args.out else (Path(tempfile.mkdtemp(prefix="ragft-smoke-")) if args.smoke else ADAPTER_DIR)
    out.mkdir(parents=True, exist_ok=True)
    if args.data:
        examples = read_jsonl_file(args.data)
    elif args.limit:
        examples = preset.examples(args.limit)
    else:
        examples = preset.shipped_examples()
    if args.data and args.limit:
        examples = examples[: args.limit]
    adapter_file = preset.adapter_file or f"{preset.key}-lora.gguf"
    prefix = "" if preset.key == "brandvoice" else f"{preset.key}-"

    work = Path(tempfile.mkdtemp(prefix="ragft-lora-"))
    t0 = time.time()
    try:
        result = train(
            examples,
            cfg,
            work / "peft",
            work / "base",
            on_step=lambda r: (
                print(f"step {r['step']}/{r['steps']} loss {r['loss']:.4f} ({r['elapsed']:.0f} s)", flush=True)
                if r["step"] % 10 == 0 or r["step"] in (1, r["steps"])
                else None
            ),
        )
        gguf_out = None
        convert_s = 0.0
        if not args.no_convert:
            tc = time.time()
            gguf_out = convert(work / "peft", work / "base", out / adapter_file)
            convert_s = time.time() - tc
    except RagftError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = result.rows
    with open(out / f"{prefix}loss.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["step", "loss", "lr", "seconds", "tokens"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    plotted = plot_loss(rows, out / f"{prefix}loss.png", f"{preset.label} LoRA on SmolLM2-135M: {cfg.steps} steps")
    data_name = args.data or str((preset.shipped_data or preset.data).relative_to(ROOT))
    log = dict(
        preset=preset.key,
        base_model="SmolLM2-135M-Instruct.Q4_1.gguf",
        data=data_name,
        examples=len(examples),
        tokens=result.tokens,
        supervised_tokens=result.supervised_tokens,
        hyperparameters=cfg.to_dict(),
        steps=cfg.steps,
        epochs=round(cfg.epochs(len(examples)), 2),
        trainable_parameters=result.trainable_parameters,
        load_seconds=round(result.load_s, 1),
        train_seconds=round(result.train_s, 1),
        seconds_per_step=round(result.train_s / cfg.steps, 2),
        convert_seconds=round(convert_s, 1),
        wall_seconds=round(time.time() - t0, 1),
        first_loss=rows[0]["loss"],
        last10_mean_loss=round(sum(r["loss"] for r in rows[-10:]) / len(rows[-10:]), 4),
        adapter=gguf_out.name if gguf_out else None,
        adapter_bytes=gguf_out.stat().st_size if gguf_out else None,
        loss_plot=plotted,
        versions=result.versions,
        trained_by="scripts/train_adapter.py (ragft.training)",
    )
    (out / f"{prefix}training_log.json").write_text(json.dumps(log, indent=2) + "\n")
    print(json.dumps(log, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
