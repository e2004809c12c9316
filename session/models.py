"""The session's models and embedder: built from its settings under the facilitator's policy, billed for it.

Loaded engines and endpoint clients live in ``st.cache_resource`` and are shared by all sessions; they are never
mutated after creation. The server's key is attached here, at the last moment, and only where the policy allows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ragft import errors as E
from ragft.access import Policy
from ragft.classroom import pause
from ragft.costs.billing import BilledChatModel, BilledEmbedder, Billing, price_for_billing
from ragft.knowledge.ingest import pricing_name
from ragft.models.batch import BatchEngine, shared_engine
from ragft.models.chat import ChatModel, make_chat_model
from ragft.models.embeddings import Embedder, make_embedding_function
from ragft.models.pool import EnginePool
from ragft.models.stream import Messages
from ragft.settings import EmbeddingConfig, EndpointConfig, Settings
from session import config
from session.prices import session_overrides


@st.cache_resource(show_spinner="Loading the embedded model…", max_entries=8)
def _engine(model_path: str, lora_path: str | None) -> BatchEngine | EnginePool:
    # One engine per (model, adapter), shared by every session: a batch engine decoding every answer of the pair
    # together (RAGFT_EMBEDDED_BATCH=0: a pool of one-sequence contexts), admitted round-robin over participants.
    return shared_engine(Path(model_path), Path(lora_path) if lora_path else None)


def _engine_loader(path: Path, lora: Path | None) -> BatchEngine | EnginePool:
    return _engine(str(path), str(lora) if lora else None)


def slot_config(slot: str, s: Settings | None = None) -> EndpointConfig:
    s = s or config.settings()
    return s.base if slot == "base" else s.finetuned


@st.cache_resource(show_spinner=False, max_entries=32)
def _endpoint_model(cfg: EndpointConfig) -> ChatModel:
    # One client per endpoint configuration (keys stay in memory only), so the model-name check against /models
    # that it memoises runs once, not on every question.
    return make_chat_model(cfg)


def _server_key_checks(rules: Policy, billing: Billing) -> Callable[[Messages | None], None] | None:
    """On the server's key, before every call: the facilitator's pause, then the system prompt's bound."""
    if not billing.server_key:
        return None

    def before(messages: Messages | None) -> None:
        pause.check()
        rules.check_messages(messages)

    return before


def _server_key_pause(billing: Billing) -> Callable[[], None] | None:
    return pause.check if billing.server_key else None


def chat_model(slot: str, s: Settings | None = None) -> BilledChatModel:
    """The ChatModel of a slot ("base" or "finetuned"), billed for this session.

    Raises typed errors (AccessDenied, AdapterMissing, ...).
    """
    cfg = slot_config(slot, s)
    rules = config.policy()
    resolved = rules.resolve_endpoint(slot, cfg)
    model = (
        _endpoint_model(resolved)
        if not resolved.is_embedded
        else make_chat_model(resolved, engine_loader=_engine_loader)
    )
    billing = rules.billing(slot, cfg)
    price = price_for_billing(
        model.model_id, model.provider, billing, rules.server.price_overrides, session_overrides()
    )
    return BilledChatModel(model, billing, price, before_call=_server_key_checks(rules, billing))


def model_status(slot: str, s: Settings | None = None) -> tuple[bool, str]:
    """(ok, one-line description) without raising: for the sidebar and the Home page.

    Embedded slots are loaded (that is what can fail: model file, adapter). Endpoint slots are only described:
    building a client checks nothing, and this runs on every page; the Settings page's "test connection" calls them.
    """
    cfg = slot_config(slot, s)
    if not cfg.is_embedded:
        return True, cfg.label
    try:
        return True, chat_model(slot, s=s).label
    except E.RagftError as exc:
        return False, exc.message


@st.cache_resource(show_spinner="Loading the embedding model…", max_entries=4)
def _embedder(cfg: EmbeddingConfig) -> Embedder:
    return make_embedding_function(cfg)


def embedder(s: Settings | None = None) -> BilledEmbedder:
    """This session's embedder, billed like chat models (the server key only where the policy allows)."""
    cfg = (s or config.settings()).embedding
    rules = config.policy()
    emb = _embedder(rules.resolve_embedding(cfg))
    billing = rules.billing(None, cfg)
    # Priced by the model's name as price tables and overrides know it (``text-embedding-3-small``), not by the
    # collection's ``provider:model`` id, which no table or RAGFT_PRICE_OVERRIDES entry names.
    price = price_for_billing(
        pricing_name(emb), emb.provider, billing, rules.server.price_overrides, session_overrides()
    )
    return BilledEmbedder(emb, billing, price, before_call=_server_key_pause(billing))
