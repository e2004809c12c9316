"""Configuration: one immutable object built from env vars and ``st.secrets`` (passed in as plain mappings).

The UI layer reads ``os.environ`` and ``st.secrets`` and calls :func:`load_settings`; the core never
reads Streamlit. Environment variables win over secrets. API keys are kept out of ``repr`` so they never
reach logs or the page.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ragft.errors import ConfigError
from ragft.net.egress import Egress, HostRule, parse_allowed_hosts
from ragft.net.forwarded import Network, parse_trusted_proxies

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant for a shop. Answer the customer's question."

# Provider presets: default base URL per kind of endpoint. "embedded" runs llama.cpp in-process.
PROVIDERS: dict[str, dict[str, Any]] = {
    "embedded": {"label": "Embedded offline (llama.cpp + SmolLM2-135M)", "base_url": None, "needs_key": False},
    "openai": {"label": "OpenAI", "base_url": "https://api.openai.com/v1", "needs_key": True},
    "azure": {"label": "Azure OpenAI", "base_url": "https://YOUR-RESOURCE.openai.azure.com", "needs_key": True},
    "ollama": {"label": "Ollama", "base_url": "http://127.0.0.1:11434/v1", "needs_key": False},
    "vllm": {"label": "vLLM", "base_url": "http://127.0.0.1:8000/v1", "needs_key": False},
    "lmstudio": {"label": "LM Studio", "base_url": "http://127.0.0.1:1234/v1", "needs_key": False},
    "llamacpp": {"label": "llama.cpp server", "base_url": "http://127.0.0.1:8000/v1", "needs_key": False},
    "custom": {"label": "Any OpenAI-compatible URL", "base_url": "http://127.0.0.1:8000/v1", "needs_key": False},
}

EMBEDDED_BASE_MODEL = "smollm2-135m-instruct"
EMBEDDED_FT_MODEL = "smollm2-135m-brandvoice-lora"
LOCAL_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_PROVIDERS = ("local", "openai", "azure", "custom")
AZURE_API_VERSION = "2024-10-21"  # the Azure OpenAI API version used when none is configured
OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"  # the embedding model of a non-local provider by default


@dataclass(frozen=True)
class EndpointConfig:
    """A chat model: an OpenAI-compatible endpoint + a model name (or the embedded engine)."""

    provider: str = "embedded"
    model: str = EMBEDDED_BASE_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None  # Azure only
    lora_path: str | None = None  # embedded only: GGUF LoRA adapter of the fine-tuned slot
    timeout_s: float = 60.0
    max_retries: int = 2
    key_source: str = "none"  # "server" (the facilitator's key, attached only at call time), "own", "none"
    # Set by ragft.access at call time for a URL typed in a session: every connection is checked and pinned.
    egress: Egress | None = field(default=None, repr=False)

    @property
    def is_embedded(self) -> bool:
        return self.provider == "embedded"

    @property
    def label(self) -> str:
        if self.is_embedded:
            return f"{self.model} (embedded, offline)"
        return f"{self.model} @ {self.base_url or PROVIDERS.get(self.provider, {}).get('base_url')}"


@dataclass(frozen=True)
class EmbeddingConfig:
    provider: str = "local"
    model: str = LOCAL_EMBEDDING_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    key_source: str = "none"
    egress: Egress | None = field(default=None, repr=False)  # as on EndpointConfig


@dataclass(frozen=True)
class Settings:
    base: EndpointConfig = field(default_factory=EndpointConfig)
    finetuned: EndpointConfig = field(
        default_factory=lambda: EndpointConfig(model=EMBEDDED_FT_MODEL, lora_path="default")
    )
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    data_dir: Path = Path("data")
    chroma_host: str | None = None
    chroma_port: int = 8000
    chunk_tokens: int = 200
    chunk_overlap: int = 30
    top_k: int = 1  # load_settings picks 1 for the embedded pair, 3 for endpoints (see default_top_k)
    score_threshold: float = 0.0
    temperature: float = 0.0
    max_tokens: int = 96
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    participant_budget_usd: Decimal | None = None  # RAGFT_PARTICIPANT_BUDGET_USD (alias RAGFT_SESSION_BUDGET_USD)
    app_budget_usd: Decimal | None = None
    workspace_ttl_days: float = 7.0  # RAGFT_WORKSPACE_TTL_DAYS: workspaces unused this long are deleted; 0 = never
    max_upload_mb: int = 20
    max_pages: int = 500
    max_chunks_per_file: int = 2000  # RAGFT_MAX_CHUNKS_PER_FILE: a bigger file is refused before any embedding
    max_chunks_per_workspace: int = 10000  # RAGFT_MAX_CHUNKS_PER_WORKSPACE: chunks one workspace may hold
    ocr_max_pages: int = 50  # PDF pages without a text layer read by OCR per file; 0 turns OCR off
    ocr_seconds_per_file: float = 120.0
    price_overrides: Mapping[str, Any] = field(
        default_factory=dict
    )  # model id or glob -> (in, out[, cached]) or a Price
    participant_endpoints: str = "own-key"  # "own-key" | "server-only" (see ragft.access)
    allowed_models: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slot -> models on the server key
    # RAGFT_ALLOWED_HOSTS: non-public hosts a URL typed in a session may reach (see ragft.net.egress)
    allowed_hosts: tuple[HostRule, ...] = ()
    # RAGFT_TRUSTED_PROXIES: reverse proxies whose X-Forwarded-For names the client (see ragft.net.forwarded)
    trusted_proxies: tuple[Network, ...] = ()
    join: str = "open"  # RAGFT_JOIN: "open" | "codes" (a new workspace needs a join code; see ragft.store.join_codes)
    n_threads: int | None = None  # RAGFT_N_THREADS: fixed llama.cpp threads; None = the CPU policy chooses
    embed_threads: int | None = None  # RAGFT_EMBED_THREADS: fixed onnxruntime threads; None = the policy chooses
    train_max_steps: int = 300  # RAGFT_TRAIN_MAX_STEPS: steps one training job may ask for
    train_max_seconds: float = 1200.0  # RAGFT_TRAIN_MAX_SECONDS: wall time of one job, from loading to saving
    max_system_prompt_chars: int = 4000  # RAGFT_MAX_SYSTEM_PROMPT_CHARS: a system prompt sent on the server's key

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


DEFAULTS = Settings()  # every default (load_settings, the core's keyword defaults) comes from the dataclasses
_ENDPOINT = EndpointConfig()


# ---- bounds: one table for env loading, the Settings form and the core ----------------------------
# name -> (lowest, highest, what a person calls it)
BOUNDS: dict[str, tuple[float, float, str]] = {
    "chunk_tokens": (20, 8000, "Chunk size (tokens)"),
    "chunk_overlap": (0, 7999, "Chunk overlap (tokens)"),
    "top_k": (1, 50, "Top-k"),
    "score_threshold": (0.0, 1.0, "The score threshold"),
    "temperature": (0.0, 2.0, "Temperature"),
    "max_tokens": (1, 32000, "Max tokens"),
    "timeout_s": (1.0, 3600.0, "The timeout (seconds)"),
    "max_retries": (0, 10, "Retries"),
    "chroma_port": (1, 65535, "The Chroma port"),
    "max_upload_mb": (1, 2000, "The upload limit (MB)"),
    "max_pages": (1, 100000, "The page limit"),
    "max_chunks_per_file": (1, 1000000, "The chunk limit per file"),
    "max_chunks_per_workspace": (1, 10000000, "The chunk limit per workspace"),
    "ocr_max_pages": (0, 100000, "The OCR page limit"),
    "ocr_seconds_per_file": (1.0, 86400.0, "The OCR time limit per file (seconds)"),
    "workspace_ttl_days": (0, 3650, "Workspace retention (days)"),
    "threads": (1, 256, "The thread count"),
    "train_max_steps": (1, 2000, "The training step limit"),
    "train_max_seconds": (10.0, 86400.0, "The training time limit (seconds)"),
    "max_system_prompt_chars": (100, 1000000, "The system prompt limit (characters)"),
}


def bound(name: str) -> tuple[float, float]:
    lo, hi, _ = BOUNDS[name]
    return lo, hi


# What a slider offers where the whole range would not fit a hand (the Settings page types any value in BOUNDS).
SLIDER_MAX: dict[str, float] = {"chunk_tokens": 1000, "top_k": 10}


def slider_range(name: str) -> tuple[int, int]:
    """``(lowest, highest)`` a slider for ``name`` offers: BOUNDS, cut at ``SLIDER_MAX``."""
    lo, hi = bound(name)
    return int(lo), int(min(hi, SLIDER_MAX.get(name, hi)))


def check_bound(name: str, value: float, what: str | None = None) -> float:
    """``value`` if it is within ``BOUNDS[name]``, else ConfigError naming ``what`` (or the field) and the range."""
    lo, hi, label = BOUNDS[name]
    if not lo <= value <= hi:
        raise ConfigError(f"{what or label} must be between {lo:g} and {hi:g}, got {value:g}.")
    return value


# ---- parsing ----------------------------------------------------------------------------------
def int_bound(name: str) -> tuple[int, int]:
    """``BOUNDS[name]`` as integers (a count: tokens, retries, pages)."""
    lo, hi = bound(name)
    return int(lo), int(hi)


def _get(src: Mapping[str, Any], name: str, default: Any = None) -> Any:
    value = src.get(name)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return default
    return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class Number:
    """One numeric setting: the env var / secrets key ``env`` read into the field ``name``, within ``BOUNDS``."""

    env: str
    name: str  # the Settings (or EndpointConfig) field
    kind: type[int] | type[float]  # int: a whole number within int_bound; float: any number within bound
    bound: str = ""  # the BOUNDS row; the field's name when empty
    below: str | None = None  # the value must also stay below this field's (read earlier in the same table)

    @property
    def bounds_name(self) -> str:
        return self.bound or self.name


# Every numeric setting of load_settings, read in this order (see _numbers).
NUMBERS: tuple[Number, ...] = (
    Number("CHROMA_PORT", "chroma_port", int),
    Number("RAGFT_CHUNK_TOKENS", "chunk_tokens", int),
    Number("RAGFT_CHUNK_OVERLAP", "chunk_overlap", int, below="chunk_tokens"),
    Number("RAGFT_TOP_K", "top_k", int),
    Number("RAGFT_SCORE_THRESHOLD", "score_threshold", float),
    Number("RAGFT_TEMPERATURE", "temperature", float),
    Number("RAGFT_MAX_TOKENS", "max_tokens", int),
    Number("RAGFT_WORKSPACE_TTL_DAYS", "workspace_ttl_days", float),
    Number("RAGFT_MAX_UPLOAD_MB", "max_upload_mb", int),
    Number("RAGFT_MAX_PAGES", "max_pages", int),
    Number("RAGFT_MAX_CHUNKS_PER_FILE", "max_chunks_per_file", int),
    Number("RAGFT_MAX_CHUNKS_PER_WORKSPACE", "max_chunks_per_workspace", int),
    Number("RAGFT_OCR_MAX_PAGES", "ocr_max_pages", int),
    Number("RAGFT_OCR_SECONDS_PER_FILE", "ocr_seconds_per_file", float),
    Number("RAGFT_N_THREADS", "n_threads", int, bound="threads"),  # default None: unset leaves it to the policy
    Number("RAGFT_EMBED_THREADS", "embed_threads", int, bound="threads"),
    Number("RAGFT_TRAIN_MAX_STEPS", "train_max_steps", int),
    Number("RAGFT_TRAIN_MAX_SECONDS", "train_max_seconds", float),
    Number("RAGFT_MAX_SYSTEM_PROMPT_CHARS", "max_system_prompt_chars", int),
)
# The numeric settings of an endpoint slot: ``env`` follows the slot's prefix (RAGFT_BASE_TIMEOUT, RAGFT_FT_RETRIES).
ENDPOINT_NUMBERS: tuple[Number, ...] = (
    Number("_TIMEOUT", "timeout_s", float),
    Number("_RETRIES", "max_retries", int),
)
_NUMBER = {row.name: row for row in NUMBERS}


def _number(src: Mapping[str, Any], row: Number, default: Any, prefix: str = "", cap: int | None = None) -> Any:
    """``row``'s value from ``src`` (``default`` when unset; a ``None`` default stays ``None``), ConfigError if bad."""
    env = prefix + row.env
    raw = _get(src, env, default)
    if raw is None:
        return None
    lo, hi = int_bound(row.bounds_name) if row.kind is int else bound(row.bounds_name)
    if cap is not None:
        hi = min(hi, cap)
    try:
        value = row.kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{env} must be {'a whole number' if row.kind is int else 'a number'}, got {raw!r}."
        ) from None
    if not lo <= value <= hi:
        raise ConfigError(f"{env} must be between {lo} and {hi}, got {value}.")
    return value


def _numbers(
    src: Mapping[str, Any], rows: tuple[Number, ...], defaults: Any, prefix: str = "", **chosen: Any
) -> dict[str, Any]:
    """``{field: value}`` for every row, in order; a default is the field's on ``defaults`` unless ``chosen``."""
    values: dict[str, Any] = {}
    for row in rows:
        default = chosen[row.name] if row.name in chosen else getattr(defaults, row.name)
        cap = values[row.below] - 1 if row.below else None
        values[row.name] = _number(src, row, default, prefix, cap)
    return values


def _money(src: Mapping[str, Any], name: str) -> Decimal | None:
    raw = _get(src, name)
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ConfigError(f"{name} must be an amount in dollars, got {raw!r}.") from None
    if value < 0:
        raise ConfigError(f"{name} cannot be negative.")
    return value


def _participant_budget(src: Mapping[str, Any]) -> Decimal | None:
    """``RAGFT_PARTICIPANT_BUDGET_USD``, or its older name ``RAGFT_SESSION_BUDGET_USD`` when it is unset."""
    if _get(src, "RAGFT_PARTICIPANT_BUDGET_USD") is not None:
        return _money(src, "RAGFT_PARTICIPANT_BUDGET_USD")
    return _money(src, "RAGFT_SESSION_BUDGET_USD")


def _provider(src: Mapping[str, Any], name: str, default: str, allowed) -> str:
    value = str(_get(src, name, default)).lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}.")
    return value


def _endpoint(src: Mapping[str, Any], prefix: str, default_model: str, default_lora: str | None) -> EndpointConfig:
    provider = _provider(src, f"{prefix}_PROVIDER", "embedded", tuple(PROVIDERS))
    if provider == "embedded":
        return EndpointConfig(
            provider="embedded",
            model=_get(src, f"{prefix}_MODEL", default_model),
            lora_path=_get(src, f"{prefix}_LORA", default_lora),
        )
    key = _get(src, f"{prefix}_API_KEY") or _get(src, "OPENAI_API_KEY")
    if provider == "azure":
        key = _get(src, f"{prefix}_API_KEY") or _get(src, "AZURE_OPENAI_API_KEY") or key
    model = _get(src, f"{prefix}_MODEL")
    if not model:
        raise ConfigError(f"{prefix}_MODEL is required when {prefix}_PROVIDER is {provider}.")
    return EndpointConfig(
        provider=provider,
        model=model,
        base_url=_get(src, f"{prefix}_URL", PROVIDERS[provider]["base_url"]),
        api_key=key,
        api_version=_get(src, f"{prefix}_API_VERSION", AZURE_API_VERSION if provider == "azure" else None),
        **_numbers(src, ENDPOINT_NUMBERS, _ENDPOINT, prefix),
    )


def thread_overrides(env: Mapping[str, Any] | None = None) -> tuple[int | None, int | None]:
    """``(generation, embedding)`` thread counts fixed by ``RAGFT_N_THREADS`` / ``RAGFT_EMBED_THREADS``.

    ``None`` leaves the count to :mod:`ragft.models.cpu`, which picks it per call from the machine and its load.
    Read from the process environment: the CPU is shared by every session of the process.
    """
    src = os.environ if env is None else env
    return _number(src, _NUMBER["n_threads"], None), _number(src, _NUMBER["embed_threads"], None)


def _names(src: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A comma-separated list of model names."""
    raw = _get(src, name)
    if raw is None:
        return ()
    names = tuple(n.strip() for n in str(raw).split(",") if n.strip())
    if any(any(ch.isspace() for ch in n) for n in names):
        raise ConfigError(f"{name} must be a comma-separated list of model names, got {raw!r}.")
    return names


def default_top_k(base: EndpointConfig, finetuned: EndpointConfig) -> int:
    """1 when both slots are the embedded 135M model, 3 otherwise.

    Measured on the sample question set: retrieval puts the right product page first every time, but with a second
    chunk in the prompt the 135M model often copies the other product's price (base + RAG fact accuracy 38% at
    top-k 2 vs 76% at top-k 1, all 34 questions). Larger models handle a few distractors, and more context helps them.
    """
    return 1 if base.is_embedded and finetuned.is_embedded else 3


def load_settings(env: Mapping[str, Any] | None = None, secrets: Mapping[str, Any] | None = None) -> Settings:
    """Build settings from secrets (``.streamlit/secrets.toml``, flat keys) overridden by env vars.

    Recognised names are listed in the README (``RAGFT_*``, ``OPENAI_API_KEY``, ``CHROMA_HOST``...).
    """
    src: dict[str, Any] = {}
    for mapping in (secrets or {}, os.environ if env is None else env):
        for k, v in mapping.items():
            if isinstance(v, (str, int, float, bool)):
                src[str(k)] = v
    embed_provider = _provider(src, "RAGFT_EMBED_PROVIDER", "local", EMBEDDING_PROVIDERS)
    if embed_provider == "local":
        embedding = EmbeddingConfig()
    else:
        embedding = EmbeddingConfig(
            provider=embed_provider,
            model=_get(src, "RAGFT_EMBED_MODEL", OPENAI_EMBEDDING_MODEL),
            base_url=_get(src, "RAGFT_EMBED_URL", PROVIDERS.get(embed_provider, PROVIDERS["openai"])["base_url"]),
            api_key=_get(src, "RAGFT_EMBED_API_KEY") or _get(src, "OPENAI_API_KEY"),
            api_version=_get(src, "RAGFT_EMBED_API_VERSION"),
        )
    base = _endpoint(src, "RAGFT_BASE", EMBEDDED_BASE_MODEL, None)
    finetuned = _endpoint(src, "RAGFT_FT", EMBEDDED_FT_MODEL, "default")
    numbers = _numbers(src, NUMBERS, DEFAULTS, top_k=default_top_k(base, finetuned))
    return Settings(
        base=base,
        finetuned=finetuned,
        embedding=embedding,
        data_dir=Path(_get(src, "RAGFT_DATA_DIR", DEFAULTS.data_dir)),
        chroma_host=_get(src, "CHROMA_HOST"),
        system_prompt=_get(src, "RAGFT_SYSTEM_PROMPT", DEFAULTS.system_prompt),
        participant_budget_usd=_participant_budget(src),
        app_budget_usd=_money(src, "RAGFT_APP_BUDGET_USD"),
        price_overrides=parse_price_text(_get(src, "RAGFT_PRICE_OVERRIDES")),
        participant_endpoints=_provider(
            src, "RAGFT_PARTICIPANT_ENDPOINTS", DEFAULTS.participant_endpoints, ("own-key", "server-only")
        ),
        allowed_models={
            slot: names
            for slot, names in (
                ("base", _names(src, "RAGFT_BASE_ALLOWED_MODELS")),
                ("finetuned", _names(src, "RAGFT_FT_ALLOWED_MODELS")),
            )
            if names
        },
        allowed_hosts=parse_allowed_hosts(_get(src, "RAGFT_ALLOWED_HOSTS")),
        trusted_proxies=parse_trusted_proxies(_get(src, "RAGFT_TRUSTED_PROXIES")),
        join=_provider(src, "RAGFT_JOIN", DEFAULTS.join, ("open", "codes")),
        **numbers,
    )


def upload_limit_mb(env: Mapping[str, Any] | None = None, secrets_file: Path | None = None) -> int:
    """``RAGFT_MAX_UPLOAD_MB`` from the environment, else the flat key in ``secrets_file`` (``.streamlit/secrets.toml``).

    Read before the Streamlit server starts, so it can be passed as ``--server.maxUploadSize``: the server then
    refuses a larger upload before any of it reaches the app.
    """
    secrets: dict[str, Any] = {}
    if secrets_file is not None and secrets_file.is_file():
        try:
            with secrets_file.open("rb") as fh:
                secrets = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{secrets_file} cannot be read: {exc}") from None
    src = {k: v for k, v in secrets.items() if isinstance(v, (str, int, float))}
    src.update(os.environ if env is None else env)
    return int(_number(src, _NUMBER["max_upload_mb"], DEFAULTS.max_upload_mb))


def per_million(value: Any, what: str) -> Decimal:
    """A configured price in dollars per 1M tokens: a finite amount, not negative (ConfigError otherwise)."""
    try:
        out = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ConfigError(f"{what} must be an amount in dollars per 1M tokens, got {value!r}.") from None
    if not out.is_finite() or out < 0:
        raise ConfigError(f"{what} must be a positive amount in dollars per 1M tokens, got {value!r}.")
    return out


def parse_price_text(text: str | None) -> dict[str, tuple[Decimal, ...]]:
    """``"model=in/out[/cached]; other=in/out"`` (the env var / secrets form) as ``{model: (in, out[, cached])}``
    in dollars per 1M tokens; ``ragft.costs.prices.coerce_price`` turns each into a Price."""
    out: dict[str, tuple[Decimal, ...]] = {}
    for part in (text or "").replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        model, sep, figures = part.partition("=")
        model = model.strip()
        numbers = [x.strip() for x in figures.split("/")]
        if not sep or not model or len(numbers) not in (2, 3):
            raise ConfigError(f"Price override {part!r} must look like model=input/output[/cached] in $ per 1M tokens.")
        out[model] = tuple(per_million(n, f"price override for {model}") for n in numbers)
    return out
