"""How dollars are written everywhere in the app: one formatter for amounts, one for per-1M-token rates.

Amounts: cents from $1 (``$1,234.50``), and below $1 enough digits that a sub-cent cost never shows as
``$0.00`` (``$0.50``, ``$0.0456``, ``$0.000435``); rounding is half up; ``None`` (a price nobody knows)
is written as a caller-chosen text, never as $0.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ragft.errors import RagftError

logger = logging.getLogger(__name__)

Amount = Decimal | int | float | str


class MoneyFormatError(RagftError, ValueError):
    """A value given as an amount of money is not a finite number."""

    hint = "Pass a number of dollars (Decimal, int, float or a numeric string)."


def to_decimal(amount: Amount) -> Decimal:
    """``amount`` as a finite ``Decimal`` (floats through their shortest text, so 0.1 stays 0.1)."""
    if isinstance(amount, bool):
        raise MoneyFormatError(f"{amount!r} is not an amount of money.")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise MoneyFormatError(f"{amount!r} is not an amount of money.") from None
    if not value.is_finite():
        raise MoneyFormatError(f"{amount!r} is not a finite amount of money.")
    return value


def format_usd(
    amount: Amount | None,
    *,
    signed: bool = False,
    unknown: str = "price unknown",
    precision: int = 4,
) -> str:
    """Dollars for people: ``$1,234.50``, ``$0.50``, ``$0.0456``, ``$0.000435``, ``$0``.

    * ``signed``: an explicit sign for differences (``+$0.0004``, ``-$1.25``, ``±$0``).
    * ``unknown``: the text for ``None`` (an unknown price), e.g. ``"–"`` in a table.
    * ``precision``: below $1, decimal places for amounts of a cent or more and significant digits for
      smaller ones (trailing zeros dropped, cents always shown). From $1 up, always cents.
    """
    if amount is None:
        return unknown
    if precision < 2:
        raise MoneyFormatError(f"precision {precision} is below cents.", hint="Use 2 or more.")
    value = to_decimal(amount)
    sign = "-" if value < 0 else ""
    if signed:
        sign = "+" if value > 0 else "-" if value < 0 else "±"
    value = abs(value)
    if value == 0:
        return f"{sign}$0"
    if value >= 1:
        return f"{sign}${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    places = precision if value >= Decimal("0.01") else max(precision, -value.adjusted() + precision - 1)
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}".rstrip("0")
    whole, _, frac = text.partition(".")
    if whole == "1":  # e.g. 0.99996 rounds up to a whole dollar
        return f"{sign}$1.00"
    return f"{sign}${whole}.{frac.ljust(2, '0')}"


def format_rate(rate: Amount) -> str:
    """A price per 1M tokens as given, without trailing zeros and without the $ (``0.15``, ``25``, ``0.075``)."""
    text = f"{to_decimal(rate):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
