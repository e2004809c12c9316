"""Starting points for the Fine-tune page (and scripts/train_adapter.py): brand voice, JSON tickets, persona.

A preset names its training file in ``assets/training/``, how many of its examples the page starts with,
held-out prompts for the quick check after training, the check that scores them, and the training settings
that made the shipped adapter (so the shipped adapters are reproducible from the same preset).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ragft import errors as E
from ragft.answering.fewshot import DEFAULT_K, FewShot, Shot
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
    instructions: str = ""  # what the prompted configurations tell the base model instead of training it

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
        instructions=(
            "Answer in the Fernhollow house style, exactly like the examples: first line 'Howdy from Fernhollow!', "
            "then one or two short lines starting with '- ', last line 'Stay wild, the Fernhollow crew'. "
            "Nothing else."
        ),
    ),
    "tickets": Preset(
        key="tickets",
        label="JSON shape: support tickets",
        description='Ticket text in, exactly {"category", "priority", "summary"} out. Teaches a format and 20 intents.',
        data=TRAINING_DIR / "tickets.jsonl",
        check=Check("json", TICKET_SCHEMA),
        heldout=TRAINING_DIR / "tickets-heldout.jsonl",
        page_examples=40,
        shipped=dict(
            rank=8, alpha=16, lr=1.5e-3, steps=100, batch_size=4, warmup_steps=5, max_len=256, seed=1234, threads=1
        ),
        adapter_file="tickets-lora.gguf",
        instructions=(
            'Reply with one JSON object and nothing else: {"category": ..., "priority": ..., "summary": ...}. '
            "category is one of billing, shipping, returns, product, account; priority is one of low, medium, "
            "high; summary is a few words. Label the ticket the way the examples are labelled."
        ),
    ),
    "persona": Preset(
        key="persona",
        label="Persona: Ranger Rowan",
        description="Opens with 'Ranger Rowan here.' and closes with 'Happy trails!'.",
        data=TRAINING_DIR / "persona.jsonl",
        check=Check("lines", first="Ranger Rowan here.", last="Happy trails!"),
        heldout=TRAINING_DIR / "persona-heldout.jsonl",
        page_examples=20,
        instructions="Open with 'Ranger Rowan here.' and close with 'Happy trails!', like the examples.",
    ),
}


def heldout_system(preset: Preset) -> str:
    """The system prompt the held-out check uses (the app's default for the brand voice)."""
    return DEFAULT_SYSTEM_PROMPT if preset.key == "brandvoice" else preset.default_system


GENERIC_INSTRUCTIONS = "Answer in the same format and style as the examples."


def fewshot_from_examples(
    examples: Sequence[Example], instructions: str, *, k: int = DEFAULT_K, source: str = ""
) -> FewShot:
    """The prompted configurations' examples: the training examples without retrieved context, in file order."""
    plain = [e for e in examples if not e.prompt.startswith("Context:")] or list(examples)
    shots = tuple(Shot(e.prompt, e.response) for e in plain)
    return FewShot(instructions or GENERIC_INSTRUCTIONS, shots, k=k, source=source)


def preset_fewshot(key: str, *, k: int = DEFAULT_K) -> FewShot:
    """Instructions and examples from a preset's shipped training set (what its shipped adapter learned from)."""
    p = PRESETS[key]
    name = (p.shipped_data or p.data).name
    return fewshot_from_examples(p.shipped_examples(), p.instructions, k=k, source=f"{p.label}: {name}")


def preset_for_adapter(lora_path: str | Path | None) -> str:
    """Which preset a fine-tuned slot's adapter was trained from: a shipped ``<preset>-lora.gguf``, the preset
    named in a workspace adapter's ``settings.json``, else the brand voice (the default adapter)."""
    if lora_path in (None, "", "default"):
        return "brandvoice"
    path = Path(str(lora_path))
    name = path.name.removesuffix("-lora.gguf")
    if name in PRESETS:
        return name
    try:
        settings = json.loads((path.parent / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "brandvoice"
    preset = settings.get("preset") if isinstance(settings, dict) else None
    return preset if isinstance(preset, str) and preset in PRESETS else "brandvoice"


def adapter_fewshot(lora_path: str | Path | None, *, k: int = DEFAULT_K) -> FewShot:
    """The fine-tuned slot's own training set as examples: a workspace adapter's ``examples.jsonl`` (the
    person's examples) when there is one, else its preset's shipped set."""
    key = preset_for_adapter(lora_path)
    if lora_path not in (None, "", "default"):
        own = Path(str(lora_path)).parent / "examples.jsonl"
        if own.is_file() and Path(str(lora_path)).name == "adapter.gguf":
            try:
                examples = read_jsonl_file(own)
            except E.RagftError:
                examples = []
            if examples:
                instructions = PRESETS[key].instructions if key != "brandvoice" else GENERIC_INSTRUCTIONS
                return fewshot_from_examples(examples, instructions, k=k, source=f"your examples ({own.parent.name})")
    return preset_fewshot(key, k=k)
