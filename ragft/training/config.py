"""Training settings (one dataclass with bounds) and the defaults for ~20-100 short examples."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ragft.errors import ConfigError
from ragft.settings import Settings

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
# (min, max) per numeric field: the page's widgets and from_dict use the same bounds.
BOUNDS: dict[str, tuple[float, float]] = {
    "rank": (1, 64),
    "alpha": (1, 256),
    "dropout": (0.0, 0.5),
    "lr": (1e-6, 1e-2),
    "steps": (1, 2000),
    "batch_size": (1, 16),
    "warmup_steps": (0, 200),
    "max_len": (32, 2048),
    "seed": (0, 2**31 - 1),
    "threads": (1, 64),
}


@dataclass(frozen=True)
class TrainConfig:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    targets: tuple[str, ...] = TARGETS
    lr: float = 1e-3
    steps: int = 30
    batch_size: int = 4
    warmup_steps: int = 3
    max_len: int = 512  # tokens per example (prompt + answer); longer examples are refused by validation
    seed: int = 1234
    threads: int = 2

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["targets"] = list(self.targets)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key not in known:
                continue
            if key == "targets":
                items = raw.split(",") if isinstance(raw, str) else list(raw)
                bad = [t for t in items if t not in TARGETS]
                if bad or not items:
                    raise ConfigError(f"LoRA targets must be among {', '.join(TARGETS)}, got {items!r}.")
                values[key] = tuple(items)
                continue
            lo, hi = BOUNDS[key]
            kind = float if isinstance(getattr(cls, key), float) else int
            try:
                value = kind(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"Training setting {key} must be a number, got {raw!r}.") from None
            if not lo <= value <= hi:
                raise ConfigError(f"Training setting {key} must be between {lo:g} and {hi:g}, got {value:g}.")
            values[key] = value
        return replace(cls(), **values)

    def epochs(self, n_examples: int) -> float:
        return self.steps * self.batch_size / max(1, n_examples)


class TrainingOverLimit(ConfigError):
    """A training asks for more than the facilitator's budget for one job."""

    hint = "Lower the steps: the facilitator sets the limit for this server."


@dataclass(frozen=True)
class TrainLimits:
    """The facilitator's budget for one training job: steps it may ask for, and wall time from loading to
    saving (``RAGFT_TRAIN_MAX_STEPS``, ``RAGFT_TRAIN_MAX_SECONDS``; the worker stops a job at its time)."""

    max_steps: int = 300
    max_seconds: float = 1200.0

    @classmethod
    def from_settings(cls, s: Settings) -> TrainLimits:
        return cls(max_steps=int(s.train_max_steps), max_seconds=float(s.train_max_seconds))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainLimits:
        d = data or {}
        return cls(
            max_steps=int(d.get("max_steps") or cls.max_steps),
            max_seconds=float(d.get("max_seconds") or cls.max_seconds),
        )

    def check(self, cfg: TrainConfig) -> None:
        """Raise TrainingOverLimit when ``cfg`` asks for more steps than a job may take here."""
        if cfg.steps > self.max_steps:
            raise TrainingOverLimit(
                f"This server allows at most {self.max_steps:,} training steps per job; you asked for {cfg.steps:,}."
            )

    def describe(self) -> str:
        minutes = self.max_seconds / 60
        return f"at most {self.max_steps:,} steps and {minutes:g} minutes per training"


def default_config(n_examples: int, **overrides: Any) -> TrainConfig:
    """Sensible settings for a small set: about 8 epochs (40 to 120 steps), batch 4, lr 1e-3.

    Measured on the 20-example voice preset: 20 steps (4 epochs) left the voice half-learned (loss ~0.5-0.9,
    the greeting and sign-off garbled), so short sets get at least 40 steps.
    """
    steps = max(40, min(120, n_examples * 2))
    return TrainConfig.from_dict({"steps": steps, **overrides})
