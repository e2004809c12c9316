"""Who may use what: the facilitator's server configuration versus a participant's browser session.

The server's configuration (environment, ``secrets.toml``) belongs to the facilitator; a session belongs to a
participant. This module turns the server's settings into what a participant's session may hold (no key values,
adapters by name, never a server path) and, when a call is about to be made, decides:

- whether the server's key may be attached: only to the provider and URL the server configured for that slot, and
  only for the models the facilitator allows there (``RAGFT_PARTICIPANT_ENDPOINTS``: ``own-key`` lets participants
  point a slot anywhere with their own key; ``server-only`` lets them pick only among the server's models);
- which LoRA adapter file a name stands for (installed adapters only; a missing and a forbidden name give the same
  message, so names cannot be used to probe the server's files);
- how the call is billed: free only where the call goes costs nothing (the embedded engine, or a loopback/private
  URL the server configured), never because of a provider label; session price overrides only for endpoints the
  participant pays for;
- where a URL typed in a session may lead: any URL other than the ones the server configured is checked by
  :class:`ragft.net.egress.Egress` (public addresses, plus the facilitator's ``RAGFT_ALLOWED_HOSTS``), and the
  resolved configuration carries that check, so its client re-checks and pins every connection
  (:mod:`ragft.net.transport`) and never follows a redirect.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from ragft import errors as E
from ragft.costs.billing import Billing
from ragft.net.addresses import classify, parse_host
from ragft.net.egress import Egress, is_localhost_name
from ragft.paths import ADAPTER_DIR, DEFAULT_ADAPTER
from ragft.settings import EmbeddingConfig, EndpointConfig, Settings

logger = logging.getLogger(__name__)

OWN_KEY = "own-key"
SERVER_ONLY = "server-only"
MODES = (OWN_KEY, SERVER_ONLY)

KEY_NONE = "none"
KEY_SERVER = "server"
KEY_OWN = "own"

SLOTS = ("base", "finetuned")
SLOT_NAMES = {"base": "Base slot", "finetuned": "Fine-tuned slot"}
DEFAULT_ADAPTER_NAME = "default"
SERVER_ADAPTER_NAME = "server"


_Cfg = TypeVar("_Cfg", EndpointConfig, EmbeddingConfig)


class AccessDenied(E.ConfigError):
    """The session asked for something the facilitator's configuration does not allow."""

    hint = "Enter your own API key for that endpoint in Settings, or pick one of the server's models."


class AdapterUnavailable(E.AdapterMissing):
    hint = "Pick one of the installed adapters in Settings."


class ServerKeyLimit(AccessDenied):
    """A setting beyond what the facilitator allows for calls on the server's key."""

    hint = "Keep the server's value, or enter your own API key for this slot in Settings."


# ---- URLs -------------------------------------------------------------------------------------------------
def normalise_url(url: str | None) -> str:
    """Scheme and host lower-cased, default ports dropped, no trailing slash: two spellings of one URL compare equal."""
    raw = (url or "").strip()
    p = urlparse(raw)
    if not p.scheme or not p.netloc:
        return raw.rstrip("/")
    host = (p.hostname or "").lower()
    port = p.port
    if (p.scheme == "http" and port == 80) or (p.scheme == "https" and port == 443):
        port = None
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    path = p.path.rstrip("/")
    return f"{p.scheme.lower()}://{netloc}{path}"


def is_private_url(url: str | None) -> bool:
    """True for a URL whose host spells a non-public address (any spelling, see :mod:`ragft.net.addresses`) or is a
    ``localhost`` name; names are never resolved."""
    host = (urlparse((url or "").strip()).hostname or "").lower()
    if is_localhost_name(host):
        return True
    ip = parse_host(host)
    return ip is not None and classify(ip) is not None


def same_endpoint(a: EndpointConfig | EmbeddingConfig, b: EndpointConfig | EmbeddingConfig) -> bool:
    return a.provider == b.provider and normalise_url(a.base_url) == normalise_url(b.base_url)


# ---- the policy -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """The facilitator's rules, built once from the server settings (which hold the keys; never sent anywhere)."""

    server: Settings
    mode: str = OWN_KEY
    allowed_models: Mapping[str, tuple[str, ...]] | None = None  # slot -> models participants may pick
    extra_adapters: Mapping[str, Path] | None = None  # name -> file, besides the ones in assets/adapter

    # -- what a participant's session may hold --
    def server_slot(self, slot: str) -> EndpointConfig:
        return self.server.base if slot == "base" else self.server.finetuned

    def models_for(self, slot: str) -> tuple[str, ...]:
        """The models a participant may use with the server's endpoint of this slot (the configured one first)."""
        configured = self.server_slot(slot).model
        extra = tuple((self.allowed_models or {}).get(slot, ()))
        return (configured,) + tuple(m for m in extra if m != configured)

    def adapters(self) -> dict[str, Path]:
        """Installed LoRA adapters by name: the shipped ones, the server's own (``RAGFT_FT_LORA``), extras."""
        found: dict[str, Path] = {}
        if DEFAULT_ADAPTER.is_file():
            found[DEFAULT_ADAPTER_NAME] = DEFAULT_ADAPTER
        if ADAPTER_DIR.is_dir():
            for p in sorted(ADAPTER_DIR.glob("*.gguf")):
                if p != DEFAULT_ADAPTER:
                    found.setdefault(p.stem, p)
        server_lora = self.server.finetuned.lora_path if self.server.finetuned.is_embedded else None
        if server_lora and server_lora != DEFAULT_ADAPTER_NAME and server_lora not in found:
            found[SERVER_ADAPTER_NAME] = Path(server_lora)
        for name, path in (self.extra_adapters or {}).items():
            found.setdefault(name, Path(path))
        return found

    def adapter_name(self, lora: str | None) -> str | None:
        """The name a participant sees for a server-side adapter setting (never the path)."""
        if not lora:
            return None
        if lora in self.adapters():
            return lora
        for name, path in self.adapters().items():
            if str(path) == lora:
                return name
        return SERVER_ADAPTER_NAME

    def participant_endpoint(self, slot: str) -> EndpointConfig:
        cfg = self.server_slot(slot)
        if cfg.is_embedded:
            return replace(cfg, lora_path=self.adapter_name(cfg.lora_path), api_key=None, key_source=KEY_NONE)
        return replace(cfg, api_key=None, key_source=KEY_SERVER if cfg.api_key else KEY_NONE)

    def participant_embedding(self) -> EmbeddingConfig:
        cfg = self.server.embedding
        return replace(cfg, api_key=None, key_source=KEY_SERVER if cfg.api_key else KEY_NONE)

    def participant_settings(self) -> Settings:
        """The server settings as a session may hold them: no key values, adapters by name."""
        return replace(
            self.server,
            base=self.participant_endpoint("base"),
            finetuned=self.participant_endpoint("finetuned"),
            embedding=self.participant_embedding(),
            allowed_hosts=(),  # the facilitator's network is not a participant's business
        )

    # -- where a URL typed in a session may lead --
    def server_urls(self) -> frozenset[str]:
        """The URLs the server configured (any slot or the embeddings), normalised: these are never checked."""
        s = self.server
        urls = (s.base.base_url, s.finetuned.base_url, s.embedding.base_url)
        return frozenset(normalise_url(u) for u in urls if u)

    def egress_for(self, url: str | None) -> Egress | None:
        """The connection check for ``url``: None for a URL the server configured, else the session rule."""
        if not url or normalise_url(url) in self.server_urls():
            return None
        return Egress(self.server.allowed_hosts)

    def check_url(self, url: str | None, what: str = "The base URL", *, lookup: bool = True) -> None:
        """Refuse a typed URL by its shape or its addresses (UnsafeURL, AddressNotAllowed) before any connection;
        without ``lookup``, names other than ``localhost`` are left to the connection's own check."""
        egress = self.egress_for(url)
        if egress is not None:
            egress.check(url, what, lookup=lookup)

    def _guarded(self, cfg: _Cfg, what: str) -> _Cfg:
        egress = self.egress_for(cfg.base_url)
        if egress is None:
            return replace(cfg, egress=None)
        egress.check(cfg.base_url, what)
        return replace(cfg, egress=egress)

    # -- checks at the moment of a call --
    def resolve_endpoint(self, slot: str, cfg: EndpointConfig) -> EndpointConfig:
        """The configuration to call with: the server key attached only where allowed, adapters as paths, the
        connection check attached to a URL typed in the session.

        Raises :class:`AccessDenied` (or :class:`AdapterUnavailable`) with a message naming what to change, and
        UnsafeURL / AddressNotAllowed / EndpointUnreachable for a typed URL that may not or cannot be reached.
        """
        resolved = self._resolve_endpoint(slot, cfg)
        if resolved.is_embedded:
            return resolved
        return self._guarded(resolved, SLOT_NAMES.get(slot, slot))

    def _resolve_endpoint(self, slot: str, cfg: EndpointConfig) -> EndpointConfig:
        server_cfg = self.server_slot(slot)
        if cfg.is_embedded:
            return replace(cfg, lora_path=self._adapter_path(cfg.lora_path), api_key=None)
        at_server = same_endpoint(cfg, server_cfg) and not server_cfg.is_embedded
        if cfg.key_source == KEY_OWN and cfg.api_key:
            if self.mode == SERVER_ONLY:
                raise AccessDenied(
                    "This event only lets participants use the server's models.",
                    hint="Pick one of the server's models in Settings.",
                )
            return cfg
        if self.mode == SERVER_ONLY and not (at_server and cfg.model in self.models_for(slot)):
            raise AccessDenied(
                f"This event only lets participants use the server's models for this slot "
                f"({', '.join(self.models_for(slot))}).",
                hint="Pick one of them in Settings.",
            )
        if cfg.key_source == KEY_SERVER:
            if not server_cfg.api_key:
                return replace(cfg, api_key=None)
            if not at_server:
                raise AccessDenied(
                    f"The server's API key is only sent to the endpoint the server configured for "
                    f"this slot; to use {normalise_url(cfg.base_url)} enter your own key."
                )
            if cfg.model not in self.models_for(slot):
                raise AccessDenied(
                    f"With the server's key this slot may use {', '.join(self.models_for(slot))}; "
                    f"to use {cfg.model!r} enter your own key."
                )
            # The facilitator's key, the facilitator's timeout and retries (a session's own values never count here).
            return replace(
                cfg, api_key=server_cfg.api_key, timeout_s=server_cfg.timeout_s, max_retries=server_cfg.max_retries
            )
        return replace(cfg, api_key=None)

    # -- what a participant may ask of the server's key --
    def check_server_key_settings(self, slot: str, cfg: EndpointConfig) -> None:
        """The Settings form on the server's key: timeout and retries are the server's (ServerKeyLimit)."""
        server_cfg = self.server_slot(slot)
        if (float(cfg.timeout_s), int(cfg.max_retries)) != (float(server_cfg.timeout_s), int(server_cfg.max_retries)):
            raise ServerKeyLimit(
                f"On the server's key the facilitator sets the timeout ({server_cfg.timeout_s:g} s) and the "
                f"retries ({server_cfg.max_retries}); you asked for {cfg.timeout_s:g} s and {cfg.max_retries}."
            )

    def check_system_prompt(self, text: str) -> None:
        """A system prompt sent on the server's key is at most ``max_system_prompt_chars`` long (ServerKeyLimit)."""
        limit = self.server.max_system_prompt_chars
        if len(text or "") > limit:
            raise ServerKeyLimit(
                f"A system prompt sent on the server's key may have at most {limit:,} characters; "
                f"this one has {len(text):,}.",
                hint="Shorten the system prompt in Settings, or enter your own API key.",
            )

    def check_messages(self, messages: Sequence[Mapping[str, Any]] | None) -> None:
        """Before every call on the server's key: each system message within the bound."""
        for m in messages or ():
            if m.get("role") == "system":
                self.check_system_prompt(str(m.get("content") or ""))

    def resolve_embedding(self, cfg: EmbeddingConfig) -> EmbeddingConfig:
        """As :meth:`resolve_endpoint`, for the embeddings."""
        resolved = self._resolve_embedding(cfg)
        if resolved.provider == "local":
            return resolved
        return self._guarded(resolved, "Embeddings")

    def _resolve_embedding(self, cfg: EmbeddingConfig) -> EmbeddingConfig:
        server_cfg = self.server.embedding
        if cfg.provider == "local":
            return cfg
        at_server = same_endpoint(cfg, server_cfg) and cfg.model == server_cfg.model
        if cfg.key_source == KEY_OWN and cfg.api_key:
            if self.mode == SERVER_ONLY:
                raise AccessDenied(
                    "This event only lets participants use the server's embedding model.",
                    hint="Reset the embeddings to the server default in Settings.",
                )
            return cfg
        if self.mode == SERVER_ONLY and not at_server:
            raise AccessDenied(
                "This event only lets participants use the server's embedding model.",
                hint="Reset the embeddings to the server default in Settings.",
            )
        if cfg.key_source == KEY_SERVER and server_cfg.api_key:
            if not at_server:
                raise AccessDenied(
                    f"The server's API key is only sent to the embedding endpoint the server "
                    f"configured; to use {normalise_url(cfg.base_url)} enter your own key."
                )
            return replace(cfg, api_key=server_cfg.api_key)
        return replace(cfg, api_key=None)

    def _adapter_path(self, name: str | None) -> str | None:
        if not name:
            return None
        path = self.adapters().get(name)
        if path is None or not path.is_file():
            if path is not None:
                logger.warning("LoRA adapter %r points to a missing file %s", name, path)
            raise AdapterUnavailable(f"The LoRA adapter {name!r} is not available on this server.")
        return str(path)

    def billing(self, slot: str | None, cfg: EndpointConfig | EmbeddingConfig) -> Billing:
        """Free only by where the call goes; ``server_key`` when the facilitator's key pays for it."""
        if isinstance(cfg, EndpointConfig) and cfg.is_embedded:
            return Billing(free=True, server_key=False)
        if isinstance(cfg, EmbeddingConfig) and cfg.provider == "local":
            return Billing(free=True, server_key=False)
        server_cfg = self.server.embedding if slot is None else self.server_slot(slot)
        configured = same_endpoint(cfg, server_cfg)
        server_key = cfg.key_source == KEY_SERVER and bool(server_cfg.api_key) and configured
        return Billing(free=configured and is_private_url(cfg.base_url), server_key=server_key)


def policy_from(server: Settings, extra_adapters: Mapping[str, Path] | None = None) -> Policy:
    return Policy(
        server=server,
        mode=server.participant_endpoints,
        allowed_models=server.allowed_models,
        extra_adapters=extra_adapters,
    )


def describe_key(cfg: EndpointConfig | EmbeddingConfig) -> str:
    """What a participant may know about a slot's key: who provides it, never its value."""
    source: Any = getattr(cfg, "key_source", KEY_NONE)
    if source == KEY_SERVER:
        return "key provided by the server"
    if source == KEY_OWN:
        return "your own key (this session only)"
    return "no key"
