"""The committed brand-voice LoRA adapter, and the training script's 2-step smoke mode."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys

import pytest

from ragft.answering.prompts import build_messages
from ragft.evaluation.style import check_style
from ragft.knowledge.scenario import load_questions
from ragft.paths import DEFAULT_ADAPTER, ROOT, smollm2_gguf
from ragft.settings import DEFAULT_SYSTEM_PROMPT

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or smollm2_gguf() is None,
    reason="llama-cpp-python or the bundled SmolLM2 GGUF is not installed",
)

TRAIN_MODULES = ("torch", "transformers", "peft", "gguf", "accelerate")
MISSING_TRAIN = [m for m in TRAIN_MODULES if importlib.util.find_spec(m) is None]


@pytest.fixture(scope="module")
def ft_model():
    from llama_cpp import Llama

    if not DEFAULT_ADAPTER.is_file():  # llama.cpp segfaults on a missing lora_path: fail this test, not the run
        pytest.fail(f"the adapter {DEFAULT_ADAPTER} is missing")
    return Llama(model_path=str(smollm2_gguf()), lora_path=str(DEFAULT_ADAPTER), n_threads=2, n_ctx=2048, verbose=False)


def test_adapter_is_committed_and_small():
    assert DEFAULT_ADAPTER.is_file()
    assert DEFAULT_ADAPTER.read_bytes()[:4] == b"GGUF"
    assert DEFAULT_ADAPTER.stat().st_size < 10 * 1024 * 1024
    for name in ("README.md", "loss.csv", "loss.png", "training_log.json"):
        assert (DEFAULT_ADAPTER.parent / name).is_file(), name


@needs_llama
def test_adapter_answers_in_brand_voice(ft_model):
    questions = {q.id: q for q in load_questions()}
    picked = [questions["price-fh-tn-102"], questions["spec-fh-pk-038-volume"], questions["policy-return-window"]]
    for q in picked:
        out = ft_model.create_chat_completion(
            build_messages(q.question, None, DEFAULT_SYSTEM_PROMPT), temperature=0, max_tokens=96
        )
        answer = out["choices"][0]["message"]["content"]
        result = check_style(answer)
        assert result.ok, (q.question, answer, result.reasons)


@needs_llama
def test_adapter_loads_in_the_embedded_engine():
    from ragft.models.chat import EmbeddedChatModel, EmbeddedEngine

    model = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), DEFAULT_ADAPTER, n_threads=2), "brandvoice")
    stream = model.stream(build_messages("How much is the Cinder Bivy?"), max_tokens=48, temperature=0.0)
    text = "".join(stream)
    assert check_style(text).ok, text  # the trained voice (the style scorer), not exact words
    assert stream.usage.completion_tokens > 0


@pytest.mark.skipif(
    bool(MISSING_TRAIN),
    reason=f"training requirements not installed ({', '.join(MISSING_TRAIN)}): "
    "pip install torch==2.13.0 && pip install -r requirements-train.txt",
)
def test_training_smoke(tmp_path):
    from ragft.training.converter import find_converter

    converter = find_converter()  # installed by scripts/setup.sh --train / --dev
    cmd = [sys.executable, str(ROOT / "scripts" / "train_adapter.py"), "--smoke", "--out", str(tmp_path)]
    cmd += [] if converter else ["--no-convert"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "loss.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert all(0.0 < float(r["loss"]) < 20.0 for r in rows)
    if converter:
        adapter = tmp_path / "brandvoice-lora.gguf"
        assert adapter.read_bytes()[:4] == b"GGUF"
        if importlib.util.find_spec("llama_cpp") is not None:
            from llama_cpp import Llama

            Llama(model_path=str(smollm2_gguf()), lora_path=str(adapter), n_ctx=256, verbose=False)
