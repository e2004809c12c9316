"""How a session's call is priced: by where it goes and who pays, never by a provider label.

:class:`BilledChatModel` and :class:`BilledEmbedder` wrap a chat model or an embedder for one session with its :class:`Billing` and the
price that follows from it:

- free (the embedded engine, the local embedder, or a loopback/private URL the server configured): $0, marked local,
  unless the server's or the session's overrides price it (to see what a hosted model would cost);
- paid with the server's key: the catalogue price with the server's overrides only (``RAGFT_PRICE_OVERRIDES``),
  so a participant cannot price the facilitator's calls at $0; an unknown price is refused while a cap is set;
- paid by the participant (their own key, or no key at an endpoint of their choosing): the catalogue price with
  the server's and then the session's overrides.

Who pays (:attr:`Billing.payer`) decides which budget cap counts a call (:mod:`ragft.costs.budget`): the server's
key → the facilitator's caps; the participant → their own cap; a free call → none (a price on it is hypothetical).

:class:`ragft.costs.metering.MeteredCall` and the embedding meters read ``price`` and ``billing`` from the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragft.costs.budget import HYPOTHETICAL, OWN, SERVER, PriceUnknownForBudget
from ragft.costs.prices import LOCAL_PROVIDERS, Price, price_for
from ragft.models.chat import ChatModel
from ragft.models.embeddings import Embedder
from ragft.models.stream import ChatStream, Completion, Messages


@dataclass(frozen=True)
class Billing:
    """How a call is paid: ``free`` (nothing to pay), ``server_key`` (the facilitator pays)."""

    free: bool
    server_key: bool

    @property
    def payer(self) -> str:
        """Whose money: the server's key (priced by the facilitator alone, even on a free endpoint), else nobody's
        on a free call (a price on it is hypothetical), else the participant's."""
        if self.server_key:
            return SERVER
        return HYPOTHETICAL if self.free else OWN


class ServerPriceUnknown(PriceUnknownForBudget):
    """A call on the facilitator's key whose price is unknown, while a budget cap is set."""

    hint = "Ask the facilitator to set its price with RAGFT_PRICE_OVERRIDES (model=in/out per 1M tokens)."


def price_for_billing(
    model_id: str,
    provider: str,
    billing: Billing,
    server_overrides: Mapping[str, Any] | None,
    session_overrides: Mapping[str, Any] | None,
) -> Price | None:
    overrides: dict[str, Any] = dict(server_overrides or {})
    if not billing.server_key:
        overrides.update(session_overrides or {})
    if billing.free:
        # Nothing is paid, so anyone may price it to see what a hosted model would cost (an override wins).
        return price_for(model_id, "local", overrides)
    # The label never makes a call free: a "local" label on a paid endpoint is priced like any other model.
    label = "custom" if (provider or "").lower() in LOCAL_PROVIDERS else provider
    return price_for(model_id, label, overrides)


class BilledChatModel:
    """A chat model with this session's billing: a :class:`ragft.models.chat.ChatModel` itself, every call
    passed to the wrapped model. ``before_call`` (the facilitator's checks on the server's key: the pause, the
    system prompt's length) runs before every call with its messages (``None`` for a connection check) and
    raises to refuse it."""

    def __init__(
        self,
        inner: ChatModel,
        billing: Billing,
        price: Price | None,
        before_call: Callable[[Messages | None], None] | None = None,
    ) -> None:
        self.inner = inner
        self.billing = billing
        self.price = price
        self.before_call = before_call
        self.model_id = inner.model_id
        self.provider = inner.provider
        self.label = inner.label

    def _before(self, messages: Messages | None) -> None:
        if self.before_call is not None:
            self.before_call(messages)

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float) -> ChatStream:
        self._before(messages)
        return self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature)

    def complete(self, messages: Messages, *, max_tokens: int, temperature: float) -> Completion:
        self._before(messages)
        return self.inner.complete(messages, max_tokens=max_tokens, temperature=temperature)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def count_prompt_tokens(self, messages: Messages) -> int:
        return self.inner.count_prompt_tokens(messages)

    def check(self) -> str:
        self._before(None)
        return self.inner.check()

    def __repr__(self) -> str:
        return f"BilledChatModel({self.inner!r}, {self.billing})"


class BilledEmbedder:
    """An embedder with this session's billing: a :class:`ragft.models.embeddings.Embedder` itself;
    ``before_call`` runs before every embedding call (see :class:`BilledChatModel`)."""

    def __init__(
        self,
        inner: Embedder,
        billing: Billing,
        price: Price | None,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        self.inner = inner
        self.billing = billing
        self.price = price
        self.before_call = before_call
        self.model_id = inner.model_id
        self.provider = inner.provider
        self.model = inner.model
        self.dimensions = inner.dimensions
        self.max_tokens = inner.max_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.before_call is not None:
            self.before_call()
        return self.inner.embed(texts)

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        if self.before_call is not None:
            self.before_call()
        return self.inner(input)

    def count_tokens(self, texts: Sequence[str]) -> int:
        return self.inner.count_tokens(texts)

    def __repr__(self) -> str:
        return f"BilledEmbedder({self.inner!r}, {self.billing})"


Billed = BilledChatModel | BilledEmbedder


def payer_of(model: object) -> str:
    """Who pays a call of ``model``: its billing's payer; a model without billing counts as the server's key (every
    cap applies, the safe side)."""
    if isinstance(model, BilledChatModel | BilledEmbedder):
        return model.billing.payer
    return SERVER


def billed_price(model: object, fallback: Price | None) -> tuple[bool, Price | None]:
    """(the model carries its billing, the price to use)."""
    if isinstance(model, BilledChatModel | BilledEmbedder):
        return True, model.price
    return False, fallback
