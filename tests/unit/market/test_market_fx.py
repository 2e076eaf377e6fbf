"""FX rates: direct, inverse and cross rates; conversion; errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from openalm.errors import MarketDataError, SchemaError
from openalm.market import FxRates

AS_OF = dt.date(2024, 1, 31)


def fx_table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "as_of_date": [AS_OF, AS_OF, AS_OF, AS_OF, AS_OF, dt.date(2024, 1, 30)],
            "base_currency": ["USD", "EUR", "HKD", "USD", "JPY", "USD"],
            "quote_currency": ["CNY", "USD", "CNY", "CNY", "USD", "CNY"],
            "rate": [7.1, 1.08, 0.91, 7.12, 0.0068, 9.99],
            "rate_type": ["closing", "closing", "closing", "official_fixing", "closing", "closing"],
        }
    )


def test_direct_inverse_same_currency() -> None:
    fx = FxRates.from_table(fx_table(), as_of=AS_OF, reporting_currency="CNY")
    assert fx.rows_ignored == 1
    assert fx.rate("USD", "CNY") == 7.1
    assert fx.rate("CNY", "USD") == pytest.approx(1 / 7.1, rel=1e-15)
    assert fx.rate("USD", "CNY", "official_fixing") == 7.12
    assert fx.rate("GBP", "GBP") == 1.0


def test_triangulation_through_reporting_currency_then_usd() -> None:
    fx = FxRates.from_table(fx_table(), as_of=AS_OF, reporting_currency="CNY")
    # HKD -> USD: no direct quote; via CNY: 0.91 CNY per HKD, 1/7.1 USD per CNY
    assert fx.rate("HKD", "USD") == pytest.approx(0.91 / 7.1, rel=1e-15)
    # EUR -> CNY: via CNY impossible (CNY is an end), via USD: 1.08 * 7.1
    assert fx.rate("EUR", "CNY") == pytest.approx(1.08 * 7.1, rel=1e-15)
    # JPY -> EUR: via CNY no (no JPY/CNY), via USD: 0.0068 / 1.08
    assert fx.rate("JPY", "EUR") == pytest.approx(0.0068 / 1.08, rel=1e-15)
    assert fx.pivots == ("CNY", "USD")


def test_reporting_currency_pivot_has_priority() -> None:
    quotes = {
        ("closing", "HKD", "CNY"): 0.9,
        ("closing", "EUR", "CNY"): 7.8,
        ("closing", "HKD", "USD"): 0.128,
        ("closing", "EUR", "USD"): 1.1,
    }
    assert FxRates(quotes, reporting_currency="CNY").rate("HKD", "EUR") == pytest.approx(0.9 / 7.8)
    assert FxRates(quotes).rate("HKD", "EUR") == pytest.approx(0.128 / 1.1)


def test_convert_scalar_and_vector() -> None:
    fx = FxRates.from_table(fx_table(), as_of=AS_OF, reporting_currency="CNY")
    assert fx.convert(100.0, "USD", "CNY") == pytest.approx(710.0)
    out = fx.convert(np.array([1.0, 2.0, 3.0]), ["USD", "CNY", "HKD"], "CNY")
    assert out.tolist() == pytest.approx([7.1, 2.0, 2.73])
    assert fx.convert([1.0, 2.0], "CNY", "CNY").tolist() == [1.0, 2.0]


def test_missing_rate_names_pair_and_quotes() -> None:
    fx = FxRates.from_table(fx_table(), as_of=AS_OF, reporting_currency="CNY")
    with pytest.raises(MarketDataError, match=r"GBP->CNY.*USD/CNY") as info:
        fx.rate("GBP", "CNY")
    assert "HKD/CNY" in str(info.value)
    with pytest.raises(MarketDataError, match="average"):
        fx.rate("USD", "CNY", "average")


def test_table_errors_reported_together() -> None:
    bad = {
        "base_currency": ["USD", "US", "EUR", "USD"],
        "quote_currency": ["CNY", "CNY", "CNY", "CNY"],
        "rate": [7.1, 7.0, -1.0, 7.2],
        "rate_type": ["closing", "closing", "spot", "closing"],
    }
    with pytest.raises(MarketDataError) as info:
        FxRates.from_table(bad)
    text = str(info.value)
    assert "4 problems" in text
    assert "row 2, column 'base_currency', value 'US'" in text
    assert "row 3, column 'rate_type', value 'spot'" in text
    assert "row 3, column 'rate', value -1.0" in text
    assert "row 4" in text and "differs from row 1" in text
    assert info.value.row == 2


def test_missing_column_and_immutability() -> None:
    with pytest.raises(SchemaError, match="rate_type"):
        FxRates.from_table({"base_currency": ["USD"], "quote_currency": ["CNY"], "rate": [7.1]})
    fx = FxRates({("closing", "USD", "CNY"): 7.1})
    with pytest.raises(TypeError):
        fx.quotes[("closing", "EUR", "CNY")] = 7.7  # type: ignore[index]
    with pytest.raises(AttributeError):
        fx.reporting_currency = "USD"  # type: ignore[misc]
    assert fx.with_reporting_currency("CNY").pivots == ("CNY", "USD")
