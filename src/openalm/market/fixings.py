"""Published fixings of rate indices, from the ``index_fixings`` table (positions.md 5.4).

Used for resets whose fixing date is on or before the as-of date, in-arrears compounding and
moving-average FTP methods. Dates inside are integer day numbers (days since 1970-01-01, the
engine's date type); the Python API also accepts ``datetime.date``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from openalm.errors import MarketDataError
from openalm.market import _table

__all__ = ["NO_DATE", "Fixings"]

#: Missing date (same value as ``openalm.conventions.dates.NO_DATE``).
NO_DATE = -(2**31)
_TABLE = "index_fixings"


@dataclass(frozen=True, eq=False, slots=True)
class Fixings:
    """Immutable fixings per index, sorted by date (packed layout, see :meth:`packed`).

    Attributes
    ----------
    index_codes:
        Index codes in packed order (sorted).
    offsets:
        ``int64[n+1]``: index ``i`` owns ``days[offsets[i]:offsets[i+1]]``.
    days:
        ``int32`` fixing day numbers, ascending within each index.
    values:
        ``float64`` fixing values (decimal rates).

    Examples
    --------
    >>> fx = Fixings.from_table({"index_code": ["LPR1Y", "LPR1Y"],
    ...                          "fixing_date": ["2024-01-22", "2024-02-20"], "value": [0.0345, 0.0345]})
    >>> fx.latest("LPR1Y", dt.date(2024, 2, 19))
    (datetime.date(2024, 1, 22), 0.0345)
    """

    index_codes: tuple[str, ...]
    offsets: npt.NDArray[np.int64]
    days: npt.NDArray[np.int32]
    values: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        offsets = np.array(self.offsets, dtype=np.int64, copy=True)
        days = np.array(self.days, dtype=np.int32, copy=True)
        values = np.array(self.values, dtype=np.float64, copy=True)
        if offsets.shape != (len(self.index_codes) + 1,) or offsets[0] != 0 or offsets[-1] != days.size:
            raise MarketDataError("Fixings: offsets do not match index_codes and days")
        if days.shape != values.shape:
            raise MarketDataError("Fixings: days and values differ in length")
        for i in range(len(self.index_codes)):
            seg = days[offsets[i] : offsets[i + 1]]
            if seg.size > 1 and not np.all(np.diff(seg) > 0):
                raise MarketDataError(f"Fixings: dates of {self.index_codes[i]!r} are not strictly increasing")
        for arr in (offsets, days, values):
            arr.flags.writeable = False
        object.__setattr__(self, "index_codes", tuple(self.index_codes))
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "values", values)

    @classmethod
    def empty(cls) -> Fixings:
        """No fixings at all."""
        return cls((), np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64))

    @classmethod
    def from_table(cls, table: Any) -> Fixings:
        """Read ``index_fixings`` (``index_code, fixing_date, value``) from a pyarrow Table, a polars
        DataFrame or a mapping of columns. Every bad row (empty code, bad date, non-numeric value,
        two fixings of one index on one date) is reported in one :class:`MarketDataError`."""
        cols = _table.columns(table, name=_TABLE)
        _table.require(cols, ("index_code", "fixing_date", "value"), name=_TABLE)
        problems: list[tuple[str, int, str, object]] = []
        seen: dict[tuple[str, int], int] = {}
        by_index: dict[str, list[tuple[int, float]]] = {}
        for i in range(_table.n_rows(cols)):
            row = i + 1
            raw_code, raw_date, raw_value = cols["index_code"][i], cols["fixing_date"][i], cols["value"][i]
            ok = True
            if _table.is_missing(raw_code):
                problems.append(("index_code is empty", row, "index_code", raw_code))
                ok = False
            day = 0
            try:
                day = _table.day_number(_table.to_date(raw_date))
            except (ValueError, TypeError):
                problems.append(("fixing_date is not a date (expected YYYY-MM-DD)", row, "fixing_date", raw_date))
                ok = False
            value = 0.0
            try:
                value = _table.to_float(raw_value)
            except (ValueError, TypeError):
                problems.append(("value is not a number (decimal rate)", row, "value", raw_value))
                ok = False
            if not ok:
                continue
            code = str(raw_code).strip()
            if (code, day) in seen:
                problems.append(
                    (
                        f"second fixing of {code} on {_table.from_day_number(day).isoformat()} "
                        f"(first on row {seen[(code, day)]}); keep one fixing per index and date",
                        row,
                        "fixing_date",
                        raw_date,
                    )
                )
                continue
            seen[(code, day)] = row
            by_index.setdefault(code, []).append((day, value))
        if problems:
            msg, row, column, val = problems[0]
            if len(problems) > 1:
                listing = "\n".join(f"  - row {r}, column {c!r}, value {v!r}: {m}" for m, r, c, v in problems)
                msg = f"{len(problems)} problems in the index_fixings table:\n{listing}"
            raise MarketDataError(msg, file=_TABLE, row=row, column=column, value=val)
        codes = tuple(sorted(by_index))
        offsets = np.zeros(len(codes) + 1, dtype=np.int64)
        days_list: list[int] = []
        values_list: list[float] = []
        for k, code in enumerate(codes):
            pts = sorted(by_index[code])
            days_list.extend(d for d, _ in pts)
            values_list.extend(v for _, v in pts)
            offsets[k + 1] = offsets[k] + len(pts)
        return cls(codes, offsets, np.asarray(days_list, np.int32), np.asarray(values_list, np.float64))

    # -- queries --------------------------------------------------------------------------------

    def index_position(self, index_code: str) -> int:
        """Position of ``index_code`` in the packed layout, -1 when it has no fixings."""
        try:
            return self.index_codes.index(index_code)
        except ValueError:
            return -1

    def latest(self, index_code: str, on_or_before: dt.date | int | np.integer[Any]) -> tuple[dt.date, float] | None:
        """The latest fixing of ``index_code`` dated on or before ``on_or_before`` (date or day
        number), as ``(fixing_date, value)``; None when there is none (or the index is unknown)."""
        if isinstance(on_or_before, dt.date):
            day = _table.day_number(_table.to_date(on_or_before))
        else:
            day = int(on_or_before)
        pos = self.index_position(index_code)
        if pos < 0:
            return None
        lo, hi = int(self.offsets[pos]), int(self.offsets[pos + 1])
        k = lo + int(np.searchsorted(self.days[lo:hi], day, side="right")) - 1
        if k < lo:
            return None
        return _table.from_day_number(int(self.days[k])), float(self.values[k])

    def lookup(
        self, index_codes: Sequence[str] | npt.NDArray[Any], days: Sequence[int] | npt.NDArray[Any]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        """Vectorised :meth:`latest`: for each ``(index_code, day)`` the latest fixing on or before
        ``day`` (day numbers). Returns ``(fixing_days int32, values float64)``; ``NO_DATE`` and NaN
        where there is none."""
        codes = np.asarray(index_codes, dtype=object)
        query = np.asarray(days, dtype=np.int64)
        if codes.shape != query.shape:
            raise MarketDataError(f"lookup: {codes.size} index codes for {query.size} days")
        out_days = np.full(query.shape, NO_DATE, dtype=np.int32)
        out_values = np.full(query.shape, np.nan, dtype=np.float64)
        for code in set(codes.reshape(-1).tolist()):
            pos = self.index_position(str(code))
            if pos < 0:
                continue
            lo, hi = int(self.offsets[pos]), int(self.offsets[pos + 1])
            mask = codes == code
            k = np.searchsorted(self.days[lo:hi], query[mask], side="right") - 1
            found = k >= 0
            sel_days = np.full(k.shape, NO_DATE, dtype=np.int32)
            sel_values = np.full(k.shape, np.nan, dtype=np.float64)
            sel_days[found] = self.days[lo:hi][k[found]]
            sel_values[found] = self.values[lo:hi][k[found]]
            out_days[mask] = sel_days
            out_values[mask] = sel_values
        return out_days, out_values

    def packed(
        self,
    ) -> tuple[tuple[str, ...], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        """``(index_codes, offsets, days, values)`` for
        :func:`openalm.market._kernel.latest_fixing_packed` (read-only arrays)."""
        return self.index_codes, self.offsets, self.days, self.values
