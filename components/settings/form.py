"""Settings page widgets: one endpoint editor per slot, embeddings, generation.

The form values live in page-local session keys (``set_<slot>_<field>``), are turned into a new
:class:`ragft.settings.Settings` by :func:`ragft.settings_input.build_settings` (the rules, in the core: it raises
``ConfigError`` naming the field to fix), and only replace the session's settings when the person presses Apply. API keys typed here stay in
this browser session's state: never written to disk, never shown again.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.shared.safe_text import inline
from ragft.access import SERVER_ONLY, Policy, describe_key, normalise_url
from ragft.settings import (
    EMBEDDED_BASE_MODEL,
    EMBEDDED_FT_MODEL,
    EMBEDDING_PROVIDERS,
    LOCAL_EMBEDDING_MODEL,
    PROVIDERS,
    EmbeddingConfig,
    EndpointConfig,
    bound,
    int_bound,
)
from ragft.settings_input import (
    EMBED_LABELS,
    EMBED_URLS,
    MODEL_HINTS,
    values_from_endpoint,
)


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
