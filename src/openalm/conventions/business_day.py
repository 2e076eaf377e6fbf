"""Business-day conventions (positions.md 2.8) and their numba kernels.

A calendar is handed to compiled code as lookup tables (see
:meth:`openalm.conventions.calendars.Calendar.lookup_table`): ``first_day`` (day number of the
first table entry), ``is_bd`` (``uint8``, 1 = business day), ``next_bd`` / ``prev_bd``
(``int32``: the first business day on or after / on or before each table day). Outside the table
the functions fall back to the weekend-only rule (Saturday and Sunday are holidays).

Conventions (ISDA 2006 section 4.12):

* ``following``: the first business day on or after the date;
* ``modified_following``: following, unless that falls in the next calendar month, then
  preceding;
* ``preceding``: the last business day on or before the date;
* ``modified_preceding``: preceding, unless that falls in the previous calendar month, then
  following;
* ``none``: no adjustment.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, Final

import numba
import numpy as np
import numpy.typing as npt
from numba import types as nt

from openalm.conventions._codes import alias_table, parse_code, parse_code_array
from openalm.conventions.dates import NO_DATE, civil_from_days, weekday

__all__ = [
    "BusinessDayConvention",
    "adjust_day",
    "advance_day",
    "business_day_count",
    "is_business_day_at",
    "next_business_day",
    "parse_business_day_conventions",
    "previous_business_day",
]


class BusinessDayConvention(enum.IntEnum):
    """Business-day adjustment rule (canonical text codes: :attr:`code`)."""

    NONE = 0
    FOLLOWING = 1
    MODIFIED_FOLLOWING = 2
    PRECEDING = 3
    MODIFIED_PRECEDING = 4

    @property
    def code(self) -> str:
        """Canonical positions.md code, e.g. ``modified_following``."""
        return _CODES[self]

    @classmethod
    def parse(cls, text: str | BusinessDayConvention) -> BusinessDayConvention:
        """Convention named by a canonical code or an alias (``f``, ``mf``, ``p``, ``mp``,
        ``mod_following``, ``unadjusted``...; case, spaces and ``_-/.()`` ignored).

        Raises
        ------
        DataError
            For an unknown code, listing the canonical codes.
        """
        return parse_code(cls, _TABLE, text, "business-day convention", _EXPECTED)


_CODES: Final[dict[BusinessDayConvention, str]] = {
    BusinessDayConvention.NONE: "none",
    BusinessDayConvention.FOLLOWING: "following",
    BusinessDayConvention.MODIFIED_FOLLOWING: "modified_following",
    BusinessDayConvention.PRECEDING: "preceding",
    BusinessDayConvention.MODIFIED_PRECEDING: "modified_preceding",
}
_ALIASES: Final[dict[str, BusinessDayConvention]] = {
    "unadjusted": BusinessDayConvention.NONE,
    "nobdc": BusinessDayConvention.NONE,
    "f": BusinessDayConvention.FOLLOWING,
    "fol": BusinessDayConvention.FOLLOWING,
    "mf": BusinessDayConvention.MODIFIED_FOLLOWING,
    "mod_following": BusinessDayConvention.MODIFIED_FOLLOWING,
    "modfollowing": BusinessDayConvention.MODIFIED_FOLLOWING,
    "modified": BusinessDayConvention.MODIFIED_FOLLOWING,
    "p": BusinessDayConvention.PRECEDING,
    "pre": BusinessDayConvention.PRECEDING,
    "mp": BusinessDayConvention.MODIFIED_PRECEDING,
    "mod_preceding": BusinessDayConvention.MODIFIED_PRECEDING,
}
_TABLE: Final = alias_table(BusinessDayConvention, _CODES, _ALIASES)
_EXPECTED: Final = ", ".join(_CODES.values())


def parse_business_day_conventions(values: Iterable[Any] | npt.NDArray[Any]) -> npt.NDArray[np.int8]:
    """Vectorised :meth:`BusinessDayConvention.parse`: ``int8`` codes, -1 where missing.

    Raises
    ------
    DataError
        Naming the first unknown code and its index.
    """
    return parse_code_array(BusinessDayConvention, _TABLE, values, "business-day convention", _EXPECTED)


# --------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------

_FOLLOWING: Final = 1
_MODIFIED_FOLLOWING: Final = 2
_PRECEDING: Final = 3
_MODIFIED_PRECEDING: Final = 4
# A Monday (1970-01-05) anchors the closed-form weekday count.
_MONDAY: Final = 4

# Explicit signatures: one compiled version shared by every caller (no per-literal
# specialisations). Tables are C-contiguous, read-only (as Calendar hands them out) or writable.
_I32_TABLES: Final = (nt.Array(nt.int32, 1, "C", readonly=True), nt.Array(nt.int32, 1, "C"))
_U8_TABLES: Final = (nt.Array(nt.uint8, 1, "C", readonly=True), nt.Array(nt.uint8, 1, "C"))


@numba.njit([nt.boolean(nt.int64, nt.int64, t) for t in _U8_TABLES], cache=True)
def is_business_day_at(d: int, first_day: int, is_bd: npt.NDArray[np.uint8]) -> bool:
    """True when day ``d`` is a business day (weekend-only rule outside the table)."""
    i = d - first_day
    if 0 <= i < is_bd.shape[0]:
        return is_bd[i] != 0
    return weekday(d) < 5


@numba.njit([nt.int64(nt.int64, nt.int64, t) for t in _I32_TABLES], cache=True)
def next_business_day(d: int, first_day: int, next_bd: npt.NDArray[np.int32]) -> int:
    """First business day on or after ``d``."""
    i = d - first_day
    if 0 <= i < next_bd.shape[0]:
        return int(next_bd[i])
    wd = weekday(d)
    if wd == 5:
        return d + 2
    if wd == 6:
        return d + 1
    return d


@numba.njit([nt.int64(nt.int64, nt.int64, t) for t in _I32_TABLES], cache=True)
def previous_business_day(d: int, first_day: int, prev_bd: npt.NDArray[np.int32]) -> int:
    """Last business day on or before ``d``."""
    i = d - first_day
    if 0 <= i < prev_bd.shape[0]:
        return int(prev_bd[i])
    wd = weekday(d)
    if wd == 5:
        return d - 1
    if wd == 6:
        return d - 2
    return d


@numba.njit([nt.int64(nt.int64, nt.int64, nt.int64, t, t) for t in _I32_TABLES], cache=True)
def adjust_day(
    d: int,
    convention: int,
    first_day: int,
    next_bd: npt.NDArray[np.int32],
    prev_bd: npt.NDArray[np.int32],
) -> int:
    """Day ``d`` adjusted by a :class:`BusinessDayConvention` code (``NO_DATE`` passes through).

    Unknown codes and ``NONE`` leave the day unchanged.
    """
    if d == NO_DATE:
        return NO_DATE
    if convention == _FOLLOWING:
        return next_business_day(d, first_day, next_bd)
    if convention == _PRECEDING:
        return previous_business_day(d, first_day, prev_bd)
    if convention == _MODIFIED_FOLLOWING:
        nxt = next_business_day(d, first_day, next_bd)
        if nxt != d and civil_from_days(nxt)[1] != civil_from_days(d)[1]:
            return previous_business_day(d, first_day, prev_bd)
        return nxt
    if convention == _MODIFIED_PRECEDING:
        prv = previous_business_day(d, first_day, prev_bd)
        if prv != d and civil_from_days(prv)[1] != civil_from_days(d)[1]:
            return next_business_day(d, first_day, next_bd)
        return prv
    return d


@numba.njit([nt.int64(nt.int64, nt.int64, nt.int64, t, t) for t in _I32_TABLES], cache=True)
def advance_day(
    d: int,
    n: int,
    first_day: int,
    next_bd: npt.NDArray[np.int32],
    prev_bd: npt.NDArray[np.int32],
) -> int:
    """Day ``d`` moved by ``n`` business days (QuantLib ``Calendar::advance`` in Days).

    ``n > 0`` steps forward over business days, ``n < 0`` backward; ``n == 0`` returns the
    following business day. ``NO_DATE`` passes through.
    """
    if d == NO_DATE:
        return NO_DATE
    if n == 0:
        return next_business_day(d, first_day, next_bd)
    out = d
    if n > 0:
        for _ in range(n):
            out = next_business_day(out + 1, first_day, next_bd)
    else:
        for _ in range(-n):
            out = previous_business_day(out - 1, first_day, prev_bd)
    return out


@numba.njit(nt.int64(nt.int64), cache=True)
def _weekdays_before(x: int) -> int:
    # Weekdays in [anchor Monday, x) (negative before the anchor); differences count weekdays.
    rel = x - _MONDAY
    weeks = rel // 7
    rest = rel - weeks * 7
    return 5 * weeks + (rest if rest < 5 else 5)


@numba.njit([nt.int64(nt.int64, nt.int64, t) for t in _I32_TABLES], cache=True)
def _business_days_before(x: int, first_day: int, cum_bd: npt.NDArray[np.int32]) -> int:
    # Business days in [first_day, x): from the table inside it, weekend rule outside.
    n = cum_bd.shape[0] - 1
    i = x - first_day
    if i < 0:
        return -(_weekdays_before(first_day) - _weekdays_before(x))
    if i > n:
        return int(cum_bd[n]) + _weekdays_before(x) - _weekdays_before(first_day + n)
    return int(cum_bd[i])


@numba.njit([nt.int64(nt.int64, nt.int64, nt.int64, t) for t in _I32_TABLES], cache=True)
def business_day_count(d1: int, d2: int, first_day: int, cum_bd: npt.NDArray[np.int32]) -> int:
    """Business days in ``[d1, d2)``; negative (days in ``[d2, d1)``) when ``d1 > d2``.

    ``cum_bd[i]`` is the number of business days in ``[first_day, first_day + i)`` (length =
    table length + 1).
    """
    return _business_days_before(d2, first_day, cum_bd) - _business_days_before(d1, first_day, cum_bd)


@numba.njit(cache=True)
def _is_bd_loop(days: npt.NDArray[np.int64], first_day: int, is_bd: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    out = np.empty(days.shape[0], dtype=np.bool_)
    for i in range(days.shape[0]):
        out[i] = days[i] != NO_DATE and is_business_day_at(days[i], first_day, is_bd)
    return out


@numba.njit(cache=True)
def _adjust_loop(
    days: npt.NDArray[np.int64],
    conventions: npt.NDArray[np.int64],
    first_day: int,
    next_bd: npt.NDArray[np.int32],
    prev_bd: npt.NDArray[np.int32],
) -> npt.NDArray[np.int32]:
    out = np.empty(days.shape[0], dtype=np.int32)
    for i in range(days.shape[0]):
        out[i] = adjust_day(days[i], conventions[i], first_day, next_bd, prev_bd)
    return out


@numba.njit(cache=True)
def _advance_loop(
    days: npt.NDArray[np.int64],
    n: npt.NDArray[np.int64],
    first_day: int,
    next_bd: npt.NDArray[np.int32],
    prev_bd: npt.NDArray[np.int32],
) -> npt.NDArray[np.int32]:
    out = np.empty(days.shape[0], dtype=np.int32)
    for i in range(days.shape[0]):
        out[i] = advance_day(days[i], n[i], first_day, next_bd, prev_bd)
    return out


@numba.njit(cache=True)
def _count_loop(
    d1: npt.NDArray[np.int64], d2: npt.NDArray[np.int64], first_day: int, cum_bd: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    out = np.empty(d1.shape[0], dtype=np.int64)
    for i in range(d1.shape[0]):
        out[i] = business_day_count(d1[i], d2[i], first_day, cum_bd)
    return out
