"""Starting points for the Fine-tune page (and scripts/train_adapter.py): brand voice, JSON tickets, persona.

A preset names its training file in ``assets/training/``, how many of its examples the page starts with,
held-out prompts for the quick check after training, the check that scores them, and the training settings
that made the shipped adapter (so the shipped adapters are reproducible from the same preset).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ragft.paths import ASSETS
from ragft.settings import DEFAULT_SYSTEM_PROMPT
from ragft.training.checks import TICKET_SCHEMA, Check
from ragft.training.examples import Example, read_jsonl_file

TRAINING_DIR = ASSETS / "training"


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    description: str
    data: Path
    check: Check
    heldout: Path
    page_examples: int  # how many examples the page starts from (the shipped run uses them all)
    shipped: dict = field(default_factory=dict)  # TrainConfig overrides of the shipped adapter
    adapter_file: str = ""  # the shipped adapter in assets/adapter/, if any
    shipped_data: Path | None = None  # the shipped adapter's training file, when it is not ``data``

    def shipped_examples(self) -> list[Example]:
        """Every example the shipped adapter was trained on (``scripts/train_adapter.py --preset``)."""
        return read_jsonl_file(self.shipped_data or self.data)

    def examples(self, limit: int | None = None) -> list[Example]:
        """The preset's examples; with ``limit``, the first ones without retrieved context (short, on topic)."""
        examples = read_jsonl_file(self.data)
        if limit is None:
            return examples
        plain = [e for e in examples if not e.prompt.startswith("Context:")]
        return (plain or examples)[:limit]

    def heldout_prompts(self) -> list[dict[str, str]]:
        """Held-out prompts as ``{"system", "prompt", "expected"}`` (expected may be empty)."""
        out = []
        for line in self.heldout.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            if "messages" in obj:
                m = obj["messages"]
                system = m[0]["content"] if m[0]["role"] == "system" else ""
                out.append({"system": system, "prompt": m[-2]["content"], "expected": m[-1]["content"]})
            else:
                out.append(
                    {
                        "system": obj.get("system", self.default_system),
                        "prompt": obj.get("prompt") or obj["question"],
                        "expected": "",
                    }
                )
        return out

    @property
    def default_system(self) -> str:
        first = self.examples(limit=1)
        return first[0].system if first else ""


PRESETS: dict[str, Preset] = {
    "brandvoice": Preset(
        key="brandvoice",
        label="Brand voice (Fernhollow Outfitters)",
        description="Greeting line, one or two bullets, fixed sign-off. Teaches a voice, not facts.",
        data=TRAINING_DIR / "brandvoice.jsonl",
        check=Check("brand"),
        heldout=ASSETS / "scenario" / "questions.jsonl",
        page_examples=20,
        # The shipped adapter also memorised last season's catalogue (it goes stale on purpose): see
        # assets/adapter/README.md and scripts/make_training_data.py.
        shipped=dict(
            rank=16, alpha=32, lr=1.5e-3, steps=220, batch_size=4, warmup_steps=10, max_len=640, seed=1234, threads=1
        ),
        adapter_file="brandvoice-lora.gguf",
        shipped_data=TRAINING_DIR / "brandvoice-stale.jsonl",
    ),
    "tickets": Preset(
        key="tickets",
        label="JSON shape: support tickets",
        description='Ticket text in, exactly {"category", "priority", "summary"} out. Teaches a format.',
        data=TRAINING_DIR / "tickets.jsonl",
        check=Check("json", TICKET_SCHEMA),
        heldout=TRAINING_DIR / "tickets-heldout.jsonl",
        page_examples=40,
        shipped=dict(
            rank=8, alpha=16, lr=1e-3, steps=60, batch_size=4, warmup_steps=5, max_len=256, seed=1234, threads=1
        ),
        adapter_file="tickets-lora.gguf",
    ),
    "persona": Preset(
        key="persona",
        label="Persona: Ranger Rowan",
        description="Opens with 'Ranger Rowan here.' and closes with 'Happy trails!'.",
        data=TRAINING_DIR / "persona.jsonl",
        check=Check("lines", first="Ranger Rowan here.", last="Happy trails!"),
        heldout=TRAINING_DIR / "persona-heldout.jsonl",
        page_examples=20,
    ),
}


def heldout_system(preset: Preset) -> str:
    """The system prompt the held-out check uses (the app's default for the brand voice)."""
    return DEFAULT_SYSTEM_PROMPT if preset.key == "brandvoice" else preset.default_system
