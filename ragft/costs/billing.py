"""How a session's call is priced: by where it goes and who pays, never by a provider label.

:class:`Billed` wraps a chat model or an embedder for one session with its :class:`ragft.access.Billing` and the
price that follows from it:

- free (the embedded engine, the local embedder, or a loopback/private URL the server configured): $0, marked local,
  unless the server's or the session's overrides price it (to see what a hosted model would cost);
- paid with the server's key: the catalogue price with the server's overrides only (``RAGFT_PRICE_OVERRIDES``),
  so a participant cannot price the facilitator's calls at $0; an unknown price is refused while a cap is set;
- paid by the participant (their own key, or no key at an endpoint of their choosing): the catalogue price with
  the server's and then the session's overrides.

:class:`ragft.costs.metering.MeteredCall` and the embedding meters read ``price`` and ``billing`` from the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragft.access import Billing
from ragft.costs.budget import PriceUnknownForBudget
from ragft.costs.prices import LOCAL_PROVIDERS, Price, price_for


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


class Billed:
    """A chat model or embedder with this session's billing; every other attribute is the wrapped object's."""

    def __init__(self, inner: Any, billing: Billing, price: Price | None) -> None:
        self._inner = inner
        self.billing = billing
        self.price = price

    @property
    def inner(self) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Billed({self._inner!r}, {self.billing})"


def billed_price(model: Any, fallback: Price | None) -> tuple[bool, Price | None]:
    """(the model carries its billing, the price to use)."""
    if isinstance(model, Billed):
        return True, model.price
    return False, fallback
