"""The app's one money formatter (ragft.costs.money): every option, table-driven, plus its typed errors."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from ragft.costs.money import MoneyFormatError, format_rate, format_usd, to_decimal
from ragft.costs.prices import format_usd as format_usd_from_prices
from ragft.errors import RagftError


@pytest.mark.parametrize(
    "amount,options,text",
    [
        # unknown prices are never $0
        (None, {}, "price unknown"),
        (None, {"unknown": "–"}, "–"),
        (None, {"unknown": "none", "signed": True}, "none"),
        # zero
        (D("0"), {}, "$0"),
        (0, {}, "$0"),
        (D("0"), {"signed": True}, "±$0"),
        # from $1 up: cents, thousands separators, half up
        (D("1"), {}, "$1.00"),
        (D("12.345"), {}, "$12.35"),
        (D("12.344"), {}, "$12.34"),
        (D("1234.5"), {}, "$1,234.50"),
        (D("1234567.891"), {}, "$1,234,567.89"),
        # below $1: 4 decimals from a cent, 4 significant digits below a cent, cents always shown
        (D("0.5"), {}, "$0.50"),
        (D("0.0100"), {}, "$0.01"),
        (D("0.0456"), {}, "$0.0456"),
        (D("0.04567"), {}, "$0.0457"),
        (D("0.000435"), {}, "$0.000435"),
        (D("0.00012345"), {}, "$0.0001235"),
        (D("0.99996"), {}, "$1.00"),
        (D("0.0099996"), {}, "$0.01"),
        # precision for sub-cent amounts
        (D("0.04567"), {"precision": 2}, "$0.05"),
        (D("0.000435"), {"precision": 2}, "$0.00044"),
        (D("0.00012345"), {"precision": 6}, "$0.00012345"),
        (D("0.123456"), {"precision": 6}, "$0.123456"),
        (D("12.345"), {"precision": 6}, "$12.35"),
        # signed differences
        (D("0.0004"), {"signed": True}, "+$0.0004"),
        (D("-0.0004"), {"signed": True}, "-$0.0004"),
        (D("-1.25"), {}, "-$1.25"),
        (D("-1234.5"), {"signed": True}, "-$1,234.50"),
        (D("2"), {"signed": True}, "+$2.00"),
        # other number types the callers pass
        (0.1, {}, "$0.10"),
        (3, {}, "$3.00"),
        ("0.000012", {}, "$0.000012"),
    ],
)
def test_format_usd(amount, options, text):
    assert format_usd(amount, **options) == text


def test_prices_module_exports_the_same_formatter():
    assert format_usd_from_prices is format_usd


@pytest.mark.parametrize("bad", ["abc", "", float("nan"), float("inf"), D("NaN"), True, object()])
def test_not_an_amount_is_a_typed_error(bad):
    with pytest.raises(MoneyFormatError) as err:
        format_usd(bad)
    assert isinstance(err.value, RagftError) and err.value.hint and "\n" not in err.value.message


def test_precision_below_cents_is_refused():
    with pytest.raises(MoneyFormatError):
        format_usd(D("0.5"), precision=1)


@pytest.mark.parametrize(
    "rate,text",
    [(D("0.15"), "0.15"), (D("25.00"), "25"), (D("0.0750"), "0.075"), (D("0"), "0"), (3, "3"), ("1.50", "1.5")],
)
def test_format_rate(rate, text):
    assert format_rate(rate) == text


def test_to_decimal_keeps_float_text():
    assert to_decimal(0.1) == D("0.1") and to_decimal(" 2.5 ") == D("2.5")
