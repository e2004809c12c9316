"""Settings page widgets: one endpoint editor per slot, embeddings, generation; plus pure validation.

The form values live in page-local session keys (``set_<slot>_<field>``), are turned into a new
:class:`ragft.settings.Settings` by :func:`build_settings` (which raises ``ConfigError`` naming the field to
fix), and only replace the session's settings when the person presses Apply. API keys typed here stay in
this browser session's state: never written to disk, never shown again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from components.shared.safe_text import inline
from ragft.access import KEY_NONE, KEY_OWN, KEY_SERVER, SERVER_ONLY, Policy, describe_key, normalise_url, same_endpoint
from ragft.errors import ConfigError
from ragft.net.egress import check_url_shape
from ragft.settings import (
    AZURE_API_VERSION,
    EMBEDDED_BASE_MODEL,
    EMBEDDED_FT_MODEL,
    EMBEDDING_PROVIDERS,
    LOCAL_EMBEDDING_MODEL,
    PROVIDERS,
    EmbeddingConfig,
    EndpointConfig,
    Settings,
    bound,
    check_bound,
    int_bound,
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


# ---- pure: form values → settings ------------------------------------------------------------------------
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


def describe_endpoint(cfg: EndpointConfig) -> str:
    """A one-line description safe to show (never the key itself)."""
    if cfg.is_embedded:
        lora = f" + LoRA {inline(cfg.lora_path)}" if cfg.lora_path else ""
        return f"embedded {inline(cfg.model)}{lora}"
    return (
        f"{PROVIDERS.get(cfg.provider, {}).get('label', cfg.provider)} · {inline(cfg.model)} at "
        f"{inline(cfg.base_url)} · {describe_key(cfg)}"
    )


# ---- widgets -------------------------------------------------------------------------------------------------
def _k(slot: str, name: str) -> str:
    return f"set_{slot}_{name}"


def init_endpoint_state(slot: str, cfg: EndpointConfig) -> None:
    for name, value in values_from_endpoint(cfg).items():
        st.session_state.setdefault(_k(slot, name), value)


def _on_provider_change(slot: str) -> None:
    """Switching the preset fills its default URL (and the embedded model names)."""
    provider = st.session_state[_k(slot, "provider")]
    preset = PROVIDERS.get(provider, {})
    st.session_state[_k(slot, "base_url")] = preset.get("base_url") or ""
    if provider == "embedded":
        st.session_state[_k(slot, "model")] = EMBEDDED_FT_MODEL if slot == "finetuned" else EMBEDDED_BASE_MODEL
        st.session_state[_k(slot, "lora_path")] = "default" if slot == "finetuned" else ""
    elif st.session_state[_k(slot, "model")] in (EMBEDDED_BASE_MODEL, EMBEDDED_FT_MODEL):
        st.session_state[_k(slot, "model")] = ""
    if provider == "azure" and not st.session_state.get(_k(slot, "api_version")):
        st.session_state[_k(slot, "api_version")] = "2024-10-21"


def _server_only_editor(slot: str, policy: Policy) -> None:
    """``server-only`` events: the slot stays on the server's endpoint; the participant picks a model or adapter."""
    server = policy.server_slot(slot)
    st.session_state[_k(slot, "provider")] = server.provider
    st.session_state[_k(slot, "base_url")] = server.base_url or ""
    if server.is_embedded:
        st.caption(f"The server's embedded model `{server.model}` (offline, $0 per token).")
        _adapter_picker(slot, policy)
        return
    st.selectbox("Model", list(policy.models_for(slot)), key=_k(slot, "model"))
    st.caption(
        f"{PROVIDERS.get(server.provider, {}).get('label', server.provider)} at the server's endpoint · "
        f"{describe_key(policy.participant_endpoint(slot))}. This event does not let participants change "
        "the endpoint."
    )


def _adapter_picker(slot: str, policy: Policy) -> None:
    names = [""] + list(policy.adapters())
    if st.session_state.get(_k(slot, "lora_path")) not in names:
        st.session_state[_k(slot, "lora_path")] = ""
    st.selectbox(
        "LoRA adapter",
        names,
        key=_k(slot, "lora_path"),
        format_func=lambda n: n or "(none: the base model)",
        help="Adapters installed on this server (`default` = the shipped brand-voice adapter).",
    )


def endpoint_editor(slot: str, policy: Policy) -> dict[str, Any]:
    """Widgets for one slot; returns the current form values. Never shows a key value."""
    if policy.mode == SERVER_ONLY:
        _server_only_editor(slot, policy)
        return {name: st.session_state.get(_k(slot, name)) for name in values_from_endpoint(EndpointConfig())}
    provider = st.selectbox(
        "Provider",
        list(PROVIDERS),
        key=_k(slot, "provider"),
        format_func=lambda p: PROVIDERS[p]["label"],
        on_change=_on_provider_change,
        args=(slot,),
    )
    if provider == "embedded":
        st.text_input("Model name (for the ledger and prices)", key=_k(slot, "model"))
        _adapter_picker(slot, policy)
        st.caption("Runs in-process on the CPU, offline, $0 per token.")
    else:
        server = policy.server_slot(slot)
        server_key = bool(server.api_key) and not server.is_embedded
        st.text_input(
            "Model",
            key=_k(slot, "model"),
            placeholder=MODEL_HINTS.get(provider, ""),
            help="Fine-tuned ids such as `ft:gpt-4o-mini-2024-07-18:org::abc123` are accepted.",
        )
        st.text_input("Base URL", key=_k(slot, "base_url"))
        st.text_input(
            "API key",
            key=_k(slot, "api_key"),
            type="password",
            help="Your own key: kept in this browser session only, never saved, never logged.",
            placeholder=(
                "provided by the server"
                if server_key
                else "not needed"
                if not PROVIDERS[provider]["needs_key"]
                else "sk-…"
            ),
        )
        if server_key:
            st.caption(
                f"The server provides a key for this slot, used only with {normalise_url(server.base_url)} "
                f"and {', '.join(f'`{m}`' for m in policy.models_for(slot))}. Anywhere else, enter your own. "
                f"On it the timeout ({server.timeout_s:g} s) and retries ({server.max_retries}) are the server's."
            )
        if provider == "azure":
            st.text_input("API version", key=_k(slot, "api_version"))
        if provider == "llamacpp":
            st.caption(
                "Start llama-cpp-python's server with `interrupt_requests: false` in its config: otherwise "
                "it cuts one panel's answer off when the next panel's request arrives."
            )
        c1, c2 = st.columns(2)
        c1.number_input("Timeout (s)", *bound("timeout_s"), step=5.0, key=_k(slot, "timeout_s"))
        c2.number_input("Retries", *int_bound("max_retries"), step=1, key=_k(slot, "max_retries"))
    return {name: st.session_state.get(_k(slot, name)) for name in values_from_endpoint(EndpointConfig())}


def init_embedding_state(cfg: EmbeddingConfig) -> None:
    for name, value in {
        "provider": cfg.provider,
        "model": cfg.model,
        "base_url": cfg.base_url or "",
        "api_key": "",
        "api_version": cfg.api_version or "",
    }.items():
        st.session_state.setdefault(f"set_emb_{name}", value)


def _on_embed_provider_change() -> None:
    p = st.session_state["set_emb_provider"]
    st.session_state["set_emb_base_url"] = EMBED_URLS.get(p, "")
    st.session_state["set_emb_model"] = LOCAL_EMBEDDING_MODEL if p == "local" else "text-embedding-3-small"


def embedding_editor(policy: Policy) -> dict[str, Any]:
    names = ("provider", "model", "base_url", "api_key", "api_version")
    if policy.mode == SERVER_ONLY:
        server = policy.server.embedding
        st.caption(
            f"The server's embedding model `{server.model}` ({EMBED_LABELS.get(server.provider, server.provider)}"
            "). This event does not let participants change it."
        )
        return {n: st.session_state.get(f"set_emb_{n}") for n in names}
    provider = st.selectbox(
        "Provider",
        list(EMBEDDING_PROVIDERS),
        key="set_emb_provider",
        format_func=lambda p: EMBED_LABELS.get(p, p),
        on_change=_on_embed_provider_change,
    )
    if provider == "local":
        st.caption("all-MiniLM-L6-v2 (ONNX, int8) from local files: offline, $0.")
    else:
        server_key = bool(policy.server.embedding.api_key)
        st.text_input("Model", key="set_emb_model")
        st.text_input("Base URL", key="set_emb_base_url")
        st.text_input(
            "API key",
            key="set_emb_api_key",
            type="password",
            help="Your own key: this session only.",
            placeholder="provided by the server" if server_key else "",
        )
        if provider == "azure":
            st.text_input("API version", key="set_emb_api_version")
        st.caption(
            "Changing the embedding model needs a new index: collections remember the model they were "
            "built with and refuse queries from another one."
        )
    return {n: st.session_state.get(f"set_emb_{n}") for n in names}
