"""A participant's Settings form values → the session's :class:`ragft.settings.Settings`, under the server's policy.

The rules of the Settings page live here (under mypy), not in its widgets: which key a slot gets (a typed key is
the participant's own; the server's only at the endpoint and models it was configured for), ``server-only`` mode,
the bounds, the URL shape (:mod:`ragft.net.egress`). :func:`build_settings` raises ``ConfigError`` naming the field
to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ragft.access import KEY_NONE, KEY_OWN, KEY_SERVER, SERVER_ONLY, Policy, normalise_url, same_endpoint
from ragft.errors import ConfigError
from ragft.net.egress import check_url_shape
from ragft.settings import (
    AZURE_API_VERSION,
    EMBEDDED_BASE_MODEL,
    EMBEDDED_FT_MODEL,
    EMBEDDING_PROVIDERS,
    PROVIDERS,
    EmbeddingConfig,
    EndpointConfig,
    Settings,
    check_bound,
)

SLOTS = {"base": "Base model", "finetuned": "Fine-tuned model"}
EMBED_LABELS = {
    "local": "Local all-MiniLM-L6-v2 (offline)",
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "custom": "Any OpenAI-compatible URL",
}
EMBED_URLS = {name: PROVIDERS[name]["base_url"] for name in EMBEDDING_PROVIDERS if name in PROVIDERS}
MODEL_HINTS = {
    "openai": "gpt-4o-mini, or a fine-tuned id such as ft:gpt-4o-mini-2024-07-18:org::abc123",
    "azure": "the deployment name",
    "ollama": "e.g. llama3.2:1b",
    "vllm": "the model the server was started with",
    "lmstudio": "the model identifier shown in LM Studio",
    "llamacpp": "a model alias from the server's config",
    "custom": "the model name the server expects",
}


def check_url(url: str | None, what: str, policy: Policy | None = None) -> str:
    """The typed base URL without a trailing slash; UnsafeURL (a ConfigError) for a shape the core refuses
    (see :func:`ragft.net.egress.check_url_shape`). A URL the server configured is taken as it is."""
    url = (url or "").strip()
    if policy is not None and url and normalise_url(url) in policy.server_urls():
        return url.rstrip("/")
    return check_url_shape(url, what).url.rstrip("/")


def _key_choice(
    typed: str | None,
    cfg: EndpointConfig | EmbeddingConfig,
    current: EndpointConfig | EmbeddingConfig | None,
    server: EndpointConfig | EmbeddingConfig | None,
    model_ok: bool,
) -> tuple[str | None, str]:
    """(key, key_source) for a form: a typed key is the participant's own; else the key already in the session
    for the same endpoint; else the server's, only at the endpoint the server configured it for."""
    if typed:
        return typed, KEY_OWN
    if current is not None and current.key_source == KEY_OWN and current.api_key and same_endpoint(cfg, current):
        return current.api_key, KEY_OWN
    if server is not None and server.api_key and same_endpoint(cfg, server) and model_ok:
        return None, KEY_SERVER
    return None, KEY_NONE


def endpoint_from_values(
    slot: str, v: Mapping[str, Any], current: EndpointConfig | None = None, policy: Policy | None = None
) -> EndpointConfig:
    """An EndpointConfig from form values; ConfigError names the slot and the field.

    With a ``policy``, the server's key is kept only for the endpoint and models the server configured for the
    slot (see :mod:`ragft.access`); a participant who points the slot elsewhere brings their own key.
    """
    what = SLOTS.get(slot, slot)
    provider = str(v.get("provider") or "embedded")
    if provider not in PROVIDERS:
        raise ConfigError(f"{what}: unknown provider {provider!r}.")
    model = str(v.get("model") or "").strip()
    if provider == "embedded":
        lora = str(v.get("lora_path") or "").strip() or None
        if lora is not None and policy is not None and lora not in policy.adapters():
            raise ConfigError(f"{what}: the LoRA adapter {lora!r} is not available on this server.")
        default_model = EMBEDDED_FT_MODEL if slot == "finetuned" else EMBEDDED_BASE_MODEL
        return EndpointConfig(provider="embedded", model=model or default_model, lora_path=lora)
    if not model:
        raise ConfigError(f"{what}: enter a model name ({MODEL_HINTS.get(provider, 'the model id')}).")
    if any(ch.isspace() for ch in model):
        raise ConfigError(f"{what}: the model name {model!r} contains spaces.")
    api_version = str(v.get("api_version") or "").strip() or None
    if provider == "azure" and not api_version:
        raise ConfigError(f"{what}: Azure OpenAI needs an API version (e.g. {AZURE_API_VERSION}).")
    try:
        raw = v.get("timeout_s")
        timeout = float(60.0 if raw in (None, "") else raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: the timeout must be a number of seconds.") from None
    check_bound("timeout_s", timeout, f"{what}: the timeout (seconds)")
    retries = int(v.get("max_retries") or 0)
    check_bound("max_retries", retries, f"{what}: retries")
    cfg = EndpointConfig(
        provider=provider,
        model=model,
        base_url=check_url(v.get("base_url"), what, policy),
        api_version=api_version if provider == "azure" else None,
        timeout_s=timeout,
        max_retries=retries,
    )
    server = policy.server_slot(slot) if policy is not None else None
    model_ok = policy is None or model in policy.models_for(slot)
    typed = str(v.get("api_key") or "").strip() or None
    key, source = _key_choice(typed, cfg, current, server, model_ok)
    if (
        policy is not None
        and policy.mode == SERVER_ONLY
        and source != KEY_SERVER
        and not (server is not None and same_endpoint(cfg, server) and model_ok)
    ):
        raise ConfigError(
            f"{what}: this event only lets participants use the server's models ({', '.join(policy.models_for(slot))})."
        )
    if policy is not None and source == KEY_SERVER:
        policy.check_server_key_settings(slot, cfg)  # the facilitator's timeout and retries on the server's key
    if PROVIDERS[provider]["needs_key"] and source == KEY_NONE:
        extra = ""
        if server is not None and server.api_key:
            extra = (
                f" (the server's key is only used with {normalise_url(server.base_url)} and "
                f"{', '.join(policy.models_for(slot)) if policy else server.model})"
            )
        raise ConfigError(f"{what}: {PROVIDERS[provider]['label']} needs an API key{extra}.")
    if policy is not None:  # addresses refused now; names are looked up and checked when a call connects
        policy.check_url(cfg.base_url, what, lookup=False)
    return replace(cfg, api_key=key, key_source=source)


def embedding_from_values(
    v: Mapping[str, Any], current: EmbeddingConfig | None = None, policy: Policy | None = None
) -> EmbeddingConfig:
    provider = str(v.get("provider") or "local")
    if provider not in EMBEDDING_PROVIDERS:
        raise ConfigError(f"Embeddings: unknown provider {provider!r}.")
    if provider == "local":
        return EmbeddingConfig()
    model = str(v.get("model") or "").strip()
    if not model:
        raise ConfigError("Embeddings: enter a model name (e.g. text-embedding-3-small).")
    cfg = EmbeddingConfig(
        provider=provider,
        model=model,
        base_url=check_url(v.get("base_url"), "Embeddings", policy),
        api_version=str(v.get("api_version") or "").strip() or None,
    )
    server = policy.server.embedding if policy is not None else None
    model_ok = server is None or model == server.model
    typed = str(v.get("api_key") or "").strip() or None
    key, source = _key_choice(typed, cfg, current, server, model_ok)
    if (
        policy is not None
        and policy.mode == SERVER_ONLY
        and not (server is not None and same_endpoint(cfg, server) and model_ok)
    ):
        raise ConfigError("Embeddings: this event only lets participants use the server's embedding model.")
    if provider in ("openai", "azure") and source == KEY_NONE:
        raise ConfigError(f"Embeddings: {EMBED_LABELS[provider]} needs an API key.")
    if policy is not None:
        policy.check_url(cfg.base_url, "Embeddings", lookup=False)
    return replace(cfg, api_key=key, key_source=source)


def build_settings(current: Settings, values: Mapping[str, Any], policy: Policy | None = None) -> Settings:
    """The session's new settings from the form (``values``: {"base": {...}, "finetuned": {...},
    "embedding": {...}, "generation": {...}}). Raises ConfigError for the first bad field."""
    g = values.get("generation", {})
    temperature = float(check_bound("temperature", float(g.get("temperature", current.temperature))))
    max_tokens = int(check_bound("max_tokens", int(g.get("max_tokens", current.max_tokens))))
    top_k = int(check_bound("top_k", int(g.get("top_k", current.top_k))))
    threshold = float(check_bound("score_threshold", float(g.get("score_threshold", current.score_threshold))))
    base = endpoint_from_values("base", values.get("base", {}), current.base, policy)
    finetuned = endpoint_from_values("finetuned", values.get("finetuned", {}), current.finetuned, policy)
    system_prompt = str(g.get("system_prompt", current.system_prompt)).strip()
    if policy is not None and KEY_SERVER in (base.key_source, finetuned.key_source):
        policy.check_system_prompt(system_prompt)
    return replace(
        current,
        base=base,
        finetuned=finetuned,
        embedding=embedding_from_values(values.get("embedding", {}), current.embedding, policy),
        temperature=temperature,
        max_tokens=max_tokens,
        top_k=top_k,
        score_threshold=threshold,
        system_prompt=system_prompt,
    )


def values_from_endpoint(cfg: EndpointConfig) -> dict[str, Any]:
    return {
        "provider": cfg.provider,
        "model": cfg.model,
        "base_url": cfg.base_url or "",
        "api_key": "",
        "api_version": cfg.api_version or "",
        "lora_path": cfg.lora_path or "",
        "timeout_s": cfg.timeout_s,
        "max_retries": cfg.max_retries,
    }
