"""Dates as integer day numbers.

Inside the engine a date is an integer **day number**: days since 1970-01-01, the same integer
numpy gives for ``datetime64[D]``. Arrays of dates are ``int32``; a missing date is
:data:`NO_DATE` (``-2**31``).

The scalar functions are compiled with ``numba.njit(cache=True)`` so the cash-flow kernel can
call them inside its loops; they also work from Python (with call overhead). The Python helpers
(:func:`to_day`, :func:`to_days`, :func:`from_days`, :func:`add_months_array`) convert at the edge
and work on whole arrays.

Calendar arithmetic is proleptic Gregorian (the calendar numpy and :mod:`datetime` use).

Examples
--------
>>> to_day("2024-02-29")
19782
>>> from_day(add_months(to_day("2024-01-31"), 1, False))
datetime.date(2024, 2, 29)
>>> from_day(add_months(to_day("2024-02-29"), 1, True))  # end-of-month rule
datetime.date(2024, 3, 31)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any, Final

import numba
import numpy as np
import numpy.typing as npt
from numba import types as nt

from openalm.conventions._arrays import broadcast_flat
from openalm.errors import DataError

__all__ = [
    "NO_DATE",
    "add_days",
    "add_months",
    "add_months_array",
    "add_tenor",
    "civil_from_days",
    "days_from_civil",
    "days_in_month",
    "from_day",
    "from_days",
    "is_leap",
    "is_month_end",
    "to_day",
    "to_days",
    "weekday",
]

#: Missing date (int32 minimum). Every function here passes it through unchanged.
NO_DATE: Final[int] = -(2**31)

# Proleptic Gregorian era constants: 400 years = 146097 days; 0000-03-01 is day -719468.
_DAYS_PER_ERA: Final = 146097
_EPOCH_SHIFT: Final = 719468
# 1970-01-01 as a proleptic ordinal of datetime.date (0001-01-01 = 1).
_ORDINAL_OF_EPOCH: Final = 719163
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1

# Tenor unit codes (the same numbers as ``openalm.conventions.tenor.TenorUnit``).
_UNIT_D: Final = 0
_UNIT_W: Final = 1
_UNIT_M: Final = 2
_UNIT_Y: Final = 3


# --------------------------------------------------------------------------------------------
# numba scalar core
# --------------------------------------------------------------------------------------------


@numba.njit(nt.boolean(nt.int64), cache=True)
def is_leap(y: int) -> bool:
    """True when ``y`` is a Gregorian leap year."""
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


@numba.njit(nt.int64(nt.int64, nt.int64), cache=True)
def days_in_month(y: int, m: int) -> int:
    """Number of days of month ``m`` (1-12) of year ``y``."""
    if m == 2:
        return 29 if is_leap(y) else 28
    if m == 4 or m == 6 or m == 9 or m == 11:
        return 30
    return 31


@numba.njit(nt.int64(nt.int64, nt.int64, nt.int64), cache=True)
def days_from_civil(y: int, m: int, d: int) -> int:
    """Day number (days since 1970-01-01) of the date ``y-m-d``.

    Counts years from 1 March so that the leap day is the last day of the counted year, splits
    the year into 400-year eras (146097 days each), then adds the days of the year; month lengths
    from March are reproduced by ``(153 * month_index + 2) // 5``.
    """
    yy = y - 1 if m <= 2 else y
    era = yy // 400  # floor division: correct for years before 0 as well
    yoe = yy - era * 400  # year of era, 0..399
    mp = m - 3 if m > 2 else m + 9  # month counted from March, 0..11
    doy = (153 * mp + 2) // 5 + d - 1  # day of (March-based) year, 0..365
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy  # day of era, 0..146096
    return era * _DAYS_PER_ERA + doe - _EPOCH_SHIFT


@numba.njit(nt.UniTuple(nt.int64, 3)(nt.int64), cache=True)
def civil_from_days(n: int) -> tuple[int, int, int]:
    """Calendar date ``(year, month, day)`` of day number ``n`` (inverse of days_from_civil)."""
    z = n + _EPOCH_SHIFT
    era = z // _DAYS_PER_ERA
    doe = z - era * _DAYS_PER_ERA  # 0..146096
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365  # 0..399
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # 0..365
    mp = (5 * doy + 2) // 153  # 0..11, March-based
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return y, m, d


@numba.njit(nt.int64(nt.int64), cache=True)
def weekday(n: int) -> int:
    """Day of the week of day number ``n``: Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (n + 3) % 7


@numba.njit(nt.boolean(nt.int64), cache=True)
def is_month_end(n: int) -> bool:
    """True when day number ``n`` is the last day of its month."""
    if n == NO_DATE:
        return False
    y, m, d = civil_from_days(n)
    return d == days_in_month(y, m)


@numba.njit(nt.int64(nt.int64, nt.int64), cache=True)
def add_days(n: int, k: int) -> int:
    """``n + k`` calendar days (``NO_DATE`` stays ``NO_DATE``)."""
    if n == NO_DATE:
        return NO_DATE
    return n + k


@numba.njit(nt.int64(nt.int64, nt.int64, nt.boolean), cache=True)
def add_months(n: int, k: int, eom: bool) -> int:
    """Day number of ``n`` plus ``k`` calendar months.

    The day of month is kept and clipped to the target month's length (31 Jan + 1M = 28 or
    29 Feb). With ``eom`` true and ``n`` the last day of its month, the result is the last day
    of the target month (28 Feb + 1M = 31 Mar). ``k`` may be negative; ``NO_DATE`` stays
    ``NO_DATE``.
    """
    if n == NO_DATE:
        return NO_DATE
    y, m, d = civil_from_days(n)
    total = y * 12 + (m - 1) + k
    y2 = total // 12
    m2 = total - y2 * 12 + 1
    dim2 = days_in_month(y2, m2)
    d2 = dim2 if (eom and d == days_in_month(y, m)) or d > dim2 else d
    return days_from_civil(y2, m2, d2)


@numba.njit(nt.int64(nt.int64, nt.int64, nt.int64, nt.boolean), cache=True)
def add_tenor(n: int, count: int, unit: int, eom: bool) -> int:
    """Day number of ``n`` plus ``count`` tenor units.

    Units: D=0 (calendar days), W=1 (7 days), M=2 and Y=3 (calendar months, see
    :func:`add_months`; ``eom`` applies to them). Any other unit (T = at maturity, or -1 for a
    missing tenor) has no length and gives ``NO_DATE``; so does ``n == NO_DATE``.
    """
    if n == NO_DATE:
        return NO_DATE
    if unit == _UNIT_D:
        return n + count
    if unit == _UNIT_W:
        return n + 7 * count
    if unit == _UNIT_M:
        return add_months(n, count, eom)
    if unit == _UNIT_Y:
        return add_months(n, 12 * count, eom)
    return NO_DATE


@numba.njit(cache=True)
def _add_months_loop(
    days: npt.NDArray[np.int64], k: npt.NDArray[np.int64], eom: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int32]:
    out = np.empty(days.shape[0], dtype=np.int32)
    for i in range(days.shape[0]):
        out[i] = add_months(days[i], k[i], eom[i])
    return out


# --------------------------------------------------------------------------------------------
# Python helpers (the edge)
# --------------------------------------------------------------------------------------------


def _parse_date_text(text: str) -> int:
    s = text.strip()
    if len(s) > 10 and s[10] in "T ":
        # ISO date-time: keep the written date part, no time-zone conversion (positions.md 2.5).
        s = s[:10]
    try:
        if len(s) == 8 and s.isdigit():
            value = _dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
        else:
            value = _dt.date.fromisoformat(s)
    except ValueError as err:
        raise DataError("expected an ISO date YYYY-MM-DD (or YYYYMMDD)", value=text) from err
    return value.toordinal() - _ORDINAL_OF_EPOCH


def to_day(x: Any) -> int:
    """Day number of one date.

    Accepts :class:`datetime.date` (a :class:`datetime.datetime` keeps its date part), an ISO
    string ``YYYY-MM-DD`` (also ``YYYYMMDD`` and ISO date-times, truncated to their written date),
    :class:`numpy.datetime64`, or an int that already is a day number. ``None`` and ``NaT`` give
    :data:`NO_DATE`.

    Raises
    ------
    DataError
        When ``x`` is not a date.
    """
    if x is None:
        return NO_DATE
    if isinstance(x, _dt.datetime):
        x = x.date()
    if isinstance(x, _dt.date):
        return x.toordinal() - _ORDINAL_OF_EPOCH
    if isinstance(x, str):
        return _parse_date_text(x)
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            return NO_DATE
        return int(x.astype("datetime64[D]").astype(np.int64))
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)
    raise DataError(
        f"expected a date (datetime.date, ISO string, numpy datetime64 or day number), got {type(x).__name__}",
        value=x,
    )


def from_day(n: int) -> _dt.date:
    """:class:`datetime.date` of day number ``n``.

    Raises
    ------
    ValueError
        When ``n`` is :data:`NO_DATE` (use :func:`from_days` for arrays with missing dates).
    """
    n = int(n)
    if n == NO_DATE:
        raise ValueError("NO_DATE has no calendar date; use from_days() for arrays with missing dates")
    return _dt.date.fromordinal(n + _ORDINAL_OF_EPOCH)


def _is_missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:  # NaN
        return True
    if isinstance(v, np.datetime64) and np.isnat(v):
        return True
    return isinstance(v, str) and not v.strip()


def _checked_int32(values: npt.NDArray[np.int64], missing: npt.NDArray[np.bool_]) -> npt.NDArray[np.int32]:
    bad = ~missing & ((values <= _INT32_MIN) | (values > _INT32_MAX))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"date at index {i} is outside the int32 day-number range", value=int(values[i]))
    out = values.astype(np.int32)
    out[missing] = NO_DATE
    return out


def to_days(values: Any) -> npt.NDArray[np.int32]:
    """Day numbers (``int32``) of an array-like of dates.

    Accepts numpy ``datetime64`` arrays, integer arrays (taken as day numbers), sequences or
    object arrays of :class:`datetime.date` / ISO strings / ``datetime64``, and objects with a
    ``to_numpy()`` method (polars / pandas series). ``None``, ``NaT``, ``NaN`` and empty strings
    give :data:`NO_DATE`.

    Raises
    ------
    DataError
        Naming the index and value of the first entry that is not a date.
    """
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()
    if isinstance(values, np.ndarray):
        arr = values
    elif isinstance(values, Iterable) and not isinstance(values, (str, bytes)):
        arr = np.asarray(list(values), dtype=object)
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 0 else arr.ravel()
    kind = arr.dtype.kind
    if kind == "M":
        as_day = arr.astype("datetime64[D]")
        missing = np.isnat(as_day)
        return _checked_int32(as_day.view(np.int64), missing)
    if kind in "iu":
        ints = arr.astype(np.int64)
        return _checked_int32(ints, ints == NO_DATE)
    if kind == "U":
        # Few distinct strings in a large column: parse each once (numpy's own string parsing
        # is too lenient, e.g. it reads "20200101" as a year).
        uniques, inverse = np.unique(arr, return_inverse=True)
        parsed = _parse_each(uniques.tolist(), inverse)
        return parsed[inverse.reshape(-1)]
    return _parse_each(arr.tolist(), None)


def _parse_each(items: list[Any], inverse: npt.NDArray[np.intp] | None) -> npt.NDArray[np.int32]:
    out = np.empty(len(items), dtype=np.int32)
    cache: dict[Any, int] = {}
    for j, v in enumerate(items):
        if _is_missing(v):
            out[j] = NO_DATE
            continue
        key = (type(v), v) if isinstance(v, (str, _dt.date, int)) else None
        if key is not None and key in cache:
            out[j] = cache[key]
            continue
        try:
            day = to_day(v)
        except DataError as err:
            i = j if inverse is None else int(np.flatnonzero(inverse.reshape(-1) == j)[0])
            raise DataError(
                f"entry at index {i} is not a date (expected YYYY-MM-DD, datetime.date or datetime64)",
                value=v,
            ) from err
        if not _INT32_MIN < day <= _INT32_MAX:
            i = j if inverse is None else int(np.flatnonzero(inverse.reshape(-1) == j)[0])
            raise DataError(f"date at index {i} is outside the int32 day-number range", value=v)
        out[j] = day
        if key is not None:
            cache[key] = day
    return out


def from_days(days: Any) -> npt.NDArray[np.datetime64]:
    """``datetime64[D]`` array of day numbers (:data:`NO_DATE` becomes ``NaT``)."""
    arr = np.asarray(days)
    ints = arr.astype(np.int64)
    ints[arr == NO_DATE] = np.iinfo(np.int64).min  # NaT
    return ints.view("datetime64[D]")


def add_months_array(days: Any, k: Any, eom: Any = False) -> npt.NDArray[np.int32]:
    """Vectorised :func:`add_months` (``days``, ``k`` and ``eom`` broadcast against each other).

    Returns ``int32`` day numbers with the broadcast shape; :data:`NO_DATE` stays missing.
    """
    shape, (d_flat, k_flat, e_flat) = broadcast_flat((days, k, eom), (np.int64, np.int64, np.bool_))
    out = _add_months_loop(d_flat, k_flat, e_flat)
    return out.reshape(shape)
