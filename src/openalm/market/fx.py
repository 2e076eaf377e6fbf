"""FX rates of a run, from the ``fx_rates`` table (positions.md 5.3).

A quote ``(base_currency, quote_currency, rate)`` means ``rate`` units of the quote currency per
1 unit of the base currency (USD/CNY 7.10: 1 USD = 7.10 CNY). :meth:`FxRates.rate` gives the factor
that turns an amount in ``from_ccy`` into ``to_ccy``: the direct quote, else the inverse of the
opposite quote, else a cross rate through one pivot currency (the reporting currency first, then
USD).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from openalm.errors import MarketDataError
from openalm.market import _table

__all__ = ["FX_RATE_TYPES", "FxRates"]

#: ``rate_type`` values of the fx_rates table.
FX_RATE_TYPES = ("closing", "official_fixing", "average")

_TABLE = "fx_rates"
_PIVOT = "USD"

QuoteKey = tuple[str, str, str]  # (rate_type, base_currency, quote_currency)


@dataclass(frozen=True, slots=True)
class FxRates:
    """Immutable FX quotes with inverse and one-pivot cross rates.

    Parameters
    ----------
    quotes:
        ``{(rate_type, base_currency, quote_currency): rate}``, rate = quote units per 1 base.
    reporting_currency:
        First pivot for cross rates (then USD).
    rows_ignored:
        Rows of the table dropped because their ``as_of_date`` differs from the run's as-of.

    Examples
    --------
    >>> fx = FxRates({("closing", "USD", "CNY"): 7.2, ("closing", "EUR", "USD"): 1.1})
    >>> round(fx.rate("EUR", "CNY"), 6)
    7.92
    """

    quotes: Mapping[QuoteKey, float]
    reporting_currency: str | None = None
    rows_ignored: int = field(default=0)

    def __post_init__(self) -> None:
        clean: dict[QuoteKey, float] = {}
        for key, rate in dict(self.quotes).items():
            rate_type, base, quote = key
            if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0.0):
                raise MarketDataError(f"FX rate {base}/{quote} ({rate_type}) must be a positive number")
            clean[(str(rate_type), str(base), str(quote))] = float(rate)
        object.__setattr__(self, "quotes", MappingProxyType(clean))

    @classmethod
    def from_table(
        cls,
        table: Any,
        *,
        as_of: dt.date | str | None = None,
        reporting_currency: str | None = None,
    ) -> FxRates:
        """Read the ``fx_rates`` table (pyarrow Table or polars DataFrame).

        Columns ``base_currency, quote_currency, rate, rate_type`` (required) and ``as_of_date``
        (when present and ``as_of`` is given, rows of other dates are ignored and counted). All bad
        rows are reported together in one :class:`MarketDataError` naming row, column and value.
        """
        as_of_date = None if as_of is None else _table.to_date(as_of)
        cols = _table.columns(table, name=_TABLE)
        _table.require(cols, ("base_currency", "quote_currency", "rate", "rate_type"), name=_TABLE)
        keep, ignored = _table.as_of_filter(cols, as_of_date, name=_TABLE)
        problems: list[tuple[str, int, str, object]] = []
        quotes: dict[QuoteKey, float] = {}
        first_row: dict[QuoteKey, int] = {}
        for i in keep:
            row = i + 1
            ok = True
            codes = []
            for name in ("base_currency", "quote_currency"):
                raw = cols[name][i]
                code = "" if _table.is_missing(raw) else str(raw).strip().upper()
                if len(code) != 3 or not code.isalpha():
                    problems.append(("not an ISO currency code (e.g. CNY)", row, name, raw))
                    ok = False
                codes.append(code)
            raw_type = cols["rate_type"][i]
            rate_type = "" if _table.is_missing(raw_type) else str(raw_type).strip().lower()
            if rate_type not in FX_RATE_TYPES:
                problems.append(
                    (f"unknown rate_type (expected one of {list(FX_RATE_TYPES)})", row, "rate_type", raw_type)
                )
                ok = False
            raw_rate = cols["rate"][i]
            try:
                rate = _table.to_float(raw_rate)
                if rate <= 0.0:
                    raise ValueError(raw_rate)
            except (ValueError, TypeError):
                problems.append(("rate must be a positive number (quote units per 1 base)", row, "rate", raw_rate))
                ok = False
            if not ok:
                continue
            base, quote = codes
            if base == quote:
                if rate != 1.0:
                    problems.append((f"rate of {base} against itself must be 1", row, "rate", raw_rate))
                continue
            key = (rate_type, base, quote)
            if key in quotes and quotes[key] != rate:
                problems.append(
                    (
                        f"second {rate_type} quote for {base}/{quote} differs from row {first_row[key]} "
                        f"({quotes[key]!r}); keep one quote per pair and rate type",
                        row,
                        "rate",
                        raw_rate,
                    )
                )
                continue
            quotes[key] = rate
            first_row.setdefault(key, row)
        if problems:
            msg, row, column, value = problems[0]
            if len(problems) > 1:
                listing = "\n".join(f"  - row {r}, column {c!r}, value {v!r}: {m}" for m, r, c, v in problems)
                msg = f"{len(problems)} problems in the fx_rates table:\n{listing}"
            err = MarketDataError(msg, file=_TABLE, row=row, column=column, value=value)
            raise err
        return cls(quotes, reporting_currency=reporting_currency, rows_ignored=ignored)

    # -- queries --------------------------------------------------------------------------------

    def _direct(self, rate_type: str, a: str, b: str) -> float | None:
        rate = self.quotes.get((rate_type, a, b))
        if rate is not None:
            return rate
        inverse = self.quotes.get((rate_type, b, a))
        if inverse is not None:
            return 1.0 / inverse
        return None

    def rate(self, from_ccy: str, to_ccy: str, rate_type: str = "closing") -> float:
        """Units of ``to_ccy`` per 1 unit of ``from_ccy``.

        Direct quote, else the inverse of the opposite quote, else the cross rate
        ``rate(from, P) * rate(P, to)`` through the pivot ``P`` = reporting currency, then USD.
        The same currency gives 1.0. Raises :class:`MarketDataError` naming the pair and the quotes
        that exist when none of these works.
        """
        if from_ccy == to_ccy:
            return 1.0
        direct = self._direct(rate_type, from_ccy, to_ccy)
        if direct is not None:
            return direct
        for pivot in self.pivots:
            if pivot in (from_ccy, to_ccy):
                continue
            leg1 = self._direct(rate_type, from_ccy, pivot)
            leg2 = self._direct(rate_type, pivot, to_ccy)
            if leg1 is not None and leg2 is not None:
                return leg1 * leg2
        related = sorted(f"{b}/{q}" for (rt, b, q) in self.quotes if rt == rate_type and {b, q} & {from_ccy, to_ccy})
        types = sorted({rt for (rt, _, _) in self.quotes})
        raise MarketDataError(
            f"no {rate_type} FX rate for {from_ccy}->{to_ccy}: no direct or inverse quote and no cross "
            f"rate through {list(self.pivots)}; {rate_type} quotes involving {from_ccy} or {to_ccy}: "
            f"{related or 'none'}; rate types in the table: {types or 'none'}. "
            f"Add a {from_ccy}/{to_ccy} quote (or quotes against {self.pivots[0]}) to fx_rates",
            file=_TABLE,
        )

    @property
    def pivots(self) -> tuple[str, ...]:
        """Pivot currencies for cross rates: the reporting currency (if set), then USD."""
        if self.reporting_currency and self.reporting_currency != _PIVOT:
            return (self.reporting_currency, _PIVOT)
        return (_PIVOT,)

    def convert(
        self,
        amounts: float | Sequence[float] | npt.NDArray[Any],
        from_ccy: str | Sequence[str] | npt.NDArray[Any],
        to_ccy: str,
        rate_type: str = "closing",
    ) -> Any:
        """Convert ``amounts`` from ``from_ccy`` (one code, or one code per amount) into ``to_ccy``.

        Returns a float for a scalar amount with a single currency, else a float64 array.
        """
        values = np.asarray(amounts, dtype=np.float64)
        if isinstance(from_ccy, str):
            out = values * self.rate(from_ccy, to_ccy, rate_type)
        else:
            codes = np.asarray(from_ccy, dtype=object)
            if codes.shape != values.shape:
                raise MarketDataError(
                    f"convert: {codes.size} currency codes for {values.size} amounts; give one code or one per amount"
                )
            factors = np.empty(codes.shape, dtype=np.float64)
            for code in set(codes.reshape(-1).tolist()):
                factors[codes == code] = self.rate(str(code), to_ccy, rate_type)
            out = values * factors
        return float(out) if out.ndim == 0 else out

    def currencies(self, rate_type: str | None = None) -> tuple[str, ...]:
        """Currencies appearing in the quotes (of ``rate_type`` if given), sorted."""
        codes: set[str] = set()
        for rt, b, q in self.quotes:
            if rate_type is None or rt == rate_type:
                codes.update((b, q))
        return tuple(sorted(codes))

    def with_reporting_currency(self, currency: str | None) -> FxRates:
        """The same quotes with another reporting currency (first cross-rate pivot)."""
        return FxRates(self.quotes, reporting_currency=currency, rows_ignored=self.rows_ignored)
