"""Holiday calendars (positions.md 2.8).

Holiday data comes from the maintained `holidays <https://pypi.org/project/holidays/>`_ package;
nothing is typed by hand. Calendar codes:

=============  ========================================================================
``cn``         Mainland China public holidays (``holidays.China``, ``public`` category
               only, no half days), **including the adjusted weekend working days**
               (调休上班日, ``China.weekend_workdays``), which are business days.
``cn_ib``      China interbank market (CFETS). The library has no interbank calendar
               (its ``XSHG``/``XSHE`` exchange calendars close on every weekend), so
               ``cn_ib`` is the ``cn`` calendar: holidays and adjusted weekend working days
               of the State Council notice [verify the interbank weekend-workday practice
               for the years you run].
``hk``         Hong Kong general holidays (Cap. 149, the days banks close): the library's
               ``public`` + ``optional`` categories. Weather closures are not calendar data.
``us_ny``      Federal Reserve Bank of New York / Fedwire holidays (``holidays`` financial
               code ``USNY``, i.e. ``FederalReserve``), the usual USD payment calendar;
               the NYSE exchange calendar is not used.
``gb_lon``     England and Wales bank holidays (``UnitedKingdom(subdiv="ENG")``), the
               London banking days; identical to the library's LSE calendar since 2000.
``eu_target``  TARGET / T2 closing days (``EuropeanCentralBank``, code ``XECB``).
``weekends``   Saturday and Sunday only.
``none``       Every day is a business day.
=============  ========================================================================

Joint calendars join codes with ``+`` (``cn+hk``): a day is a business day when it is one in
every component. ISDA business-centre codes are accepted as aliases (``CNBE``, ``HKHK``,
``USNY``, ``GBLO``, ``EUTA``, also ``TARGET``).

Limitations of the source data (not of the code):

* Mainland China moves working days to weekends by a yearly State Council notice. Years beyond
  the library's published substitution schedule (and before 2001) get **rule-based holidays
  only**: statutory days, with the library's rule moving a holiday that falls on a weekend to the
  next working day, and **no weekend working days**. Update the ``holidays`` package each
  December when the next year's notice is out.
* Years before a library calendar starts (Federal Reserve and TARGET: 1999) have weekend-only
  rules. Lunar-calendar holidays far in the future are the library's estimates.
* Days outside a calendar's table (``start_year``..``end_year``) use the weekend-only rule.

Examples
--------
>>> from openalm.conventions.dates import to_day
>>> cn = Calendar.from_code("cn")
>>> bool(cn.is_business_day(to_day("2026-02-14")))  # Saturday, adjusted working day
True
>>> bool(cn.is_business_day(to_day("2026-02-17")))  # Spring Festival
False
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from openalm.conventions._arrays import broadcast_flat
from openalm.conventions._codes import normalise
from openalm.conventions.business_day import (
    BusinessDayConvention,
    _adjust_loop,
    _advance_loop,
    _count_loop,
    _is_bd_loop,
)
from openalm.conventions.dates import NO_DATE, days_from_civil, to_day, to_days
from openalm.errors import ConfigError, DataError

__all__ = [
    "CALENDAR_CODES",
    "Calendar",
    "adjust",
]

#: Canonical codes of the single calendars.
CALENDAR_CODES: Final = ("cn", "cn_ib", "hk", "us_ny", "gb_lon", "eu_target", "weekends", "none")

_ALIASES: Final[dict[str, str]] = {
    "cnbe": "cn",
    "china": "cn",
    "hkhk": "hk",
    "hongkong": "hk",
    "usny": "us_ny",
    "gblo": "gb_lon",
    "euta": "eu_target",
    "target": "eu_target",
    "target2": "eu_target",
    "t2": "eu_target",
    "weekend": "weekends",
}
_LOOKUP: Final[dict[str, str]] = {normalise(c): c for c in CALENDAR_CODES} | {
    normalise(a): c for a, c in _ALIASES.items()
}
_MIN_YEAR: Final = 1901
_MAX_YEAR: Final = 2199


def _canonical_code(code: str) -> str:
    if not isinstance(code, str) or not code.strip():
        raise DataError(f"empty calendar code; expected codes from {', '.join(CALENDAR_CODES)}", value=code)
    parts = []
    for raw in code.split("+"):
        canonical = _LOOKUP.get(normalise(raw))
        if canonical is None:
            raise DataError(
                f"unknown calendar code {raw.strip()!r}; expected {', '.join(CALENDAR_CODES)} "
                "(joint calendars: codes joined by '+', e.g. cn+hk)",
                value=code,
            )
        parts.append(canonical)
    unique = sorted(set(parts))
    if len(unique) > 1 and "none" in unique:
        unique.remove("none")  # 'none' is the identity of the joint (every day a business day)
    return "+".join(unique)


# --------------------------------------------------------------------------------------------
# Library sources: (holidays, weekend working days) as sets of dates for a range of years.
# --------------------------------------------------------------------------------------------

_Source = Callable[[range], tuple[Iterable[date], Iterable[date]]]


def _china(years: range) -> tuple[Iterable[date], Iterable[date]]:
    import holidays

    cal = holidays.China(years=years, categories=(holidays.PUBLIC,))
    return cal.keys(), cal.weekend_workdays


def _hong_kong(years: range) -> tuple[Iterable[date], Iterable[date]]:
    import holidays

    return holidays.HongKong(years=years, categories=(holidays.PUBLIC, holidays.OPTIONAL)).keys(), ()


def _us_new_york(years: range) -> tuple[Iterable[date], Iterable[date]]:
    import holidays

    return holidays.FederalReserve(years=years).keys(), ()


def _london(years: range) -> tuple[Iterable[date], Iterable[date]]:
    import holidays

    return holidays.UnitedKingdom(subdiv="ENG", years=years).keys(), ()


def _target(years: range) -> tuple[Iterable[date], Iterable[date]]:
    import holidays

    return holidays.EuropeanCentralBank(years=years).keys(), ()


_SOURCES: Final[dict[str, _Source]] = {
    "cn": _china,
    "cn_ib": _china,
    "hk": _hong_kong,
    "us_ny": _us_new_york,
    "gb_lon": _london,
    "eu_target": _target,
}


def _component_table(code: str, start_year: int, end_year: int, first_day: int, n: int) -> npt.NDArray[np.bool_]:
    days = np.arange(first_day, first_day + n, dtype=np.int64)
    weekend = (days + 3) % 7 >= 5
    if code == "none":
        return np.ones(n, dtype=np.bool_)
    is_bd = ~weekend
    source = _SOURCES.get(code)
    if source is None:  # "weekends"
        return is_bd
    holidays_, workdays = source(range(start_year, end_year + 1))
    # Same rule as holidays.HolidayBase.is_working_day: a weekend day works only when it is a
    # listed weekend working day; a weekday works unless it is a holiday.
    for d in workdays:
        i = to_day(d) - first_day
        if 0 <= i < n and weekend[i]:
            is_bd[i] = True
    for d in holidays_:
        i = to_day(d) - first_day
        if 0 <= i < n and not weekend[i]:
            is_bd[i] = False
    return is_bd


def _weekend_next(d: int) -> int:
    wd = (d + 3) % 7
    return d + (2 if wd == 5 else 1 if wd == 6 else 0)


def _weekend_prev(d: int) -> int:
    wd = (d + 3) % 7
    return d - (1 if wd == 5 else 2 if wd == 6 else 0)


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Calendar:
    """An immutable business-day calendar over ``start_year``..``end_year``.

    Build with :meth:`from_code` (cached: the same code and years give the same object). Days
    are day numbers (``int32``); methods also accept dates / ISO strings and arrays of them.
    Outside the year range the weekend-only rule applies.
    """

    code: str
    start_year: int
    end_year: int
    first_day: int
    is_bd: npt.NDArray[np.uint8] = field(repr=False)
    next_bd: npt.NDArray[np.int32] = field(repr=False)
    prev_bd: npt.NDArray[np.int32] = field(repr=False)
    cum_bd: npt.NDArray[np.int32] = field(repr=False)

    @classmethod
    def from_code(cls, code: str, start_year: int = 1990, end_year: int = 2100) -> Calendar:
        """Calendar for a code (``cn``, ``hk``, ``cn+hk``...; see the module docstring).

        Raises
        ------
        DataError
            For an unknown calendar code.
        ConfigError
            For a year range outside 1901..2199 or with ``start_year > end_year``.
        """
        canonical = _canonical_code(code)
        if not _MIN_YEAR <= int(start_year) <= int(end_year) <= _MAX_YEAR:
            raise ConfigError(
                f"calendar years must satisfy {_MIN_YEAR} <= start_year <= end_year <= {_MAX_YEAR}; "
                f"got {start_year}..{end_year}"
            )
        return _build(canonical, int(start_year), int(end_year))

    @property
    def last_day(self) -> int:
        """Day number of the last day in the table (31 December of ``end_year``)."""
        return self.first_day + int(self.is_bd.shape[0]) - 1

    def lookup_table(self) -> tuple[int, npt.NDArray[np.uint8], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """``(first_day, is_bd, next_bd, prev_bd)`` for numba code (read-only arrays).

        ``is_bd[i]`` is 1 when day ``first_day + i`` is a business day; ``next_bd[i]`` /
        ``prev_bd[i]`` are the first business day on or after / on or before it. Use with
        :func:`~openalm.conventions.business_day.adjust_day` and friends.
        """
        return self.first_day, self.is_bd, self.next_bd, self.prev_bd

    def is_business_day(self, days: Any) -> Any:
        """Business-day flags of day numbers or dates (a bool for a scalar; ``NO_DATE`` -> False)."""
        flat, shape, scalar = _as_days(days)
        out = _is_bd_loop(flat, self.first_day, self.is_bd)
        return bool(out[0]) if scalar else out.reshape(shape)

    def adjust(self, days: Any, convention: Any = BusinessDayConvention.FOLLOWING) -> Any:
        """Days adjusted by a business-day convention (codes, names or arrays of them).

        Returns ``int32`` day numbers (an int for a scalar); ``NO_DATE`` passes through.
        """
        flat, shape, scalar = _as_days(days)
        conv = _as_conventions(convention, flat.shape[0])
        out = _adjust_loop(flat, conv, self.first_day, self.next_bd, self.prev_bd)
        return int(out[0]) if scalar else out.reshape(shape)

    def advance(self, days: Any, n_business_days: Any) -> Any:
        """Days moved by ``n`` business days (``0`` -> following business day).

        ``n_business_days`` is an int or an array broadcast against ``days``. Returns ``int32``
        day numbers (an int for a scalar).
        """
        flat, shape, scalar = _as_days(days)
        n = np.asarray(n_business_days)
        scalar = scalar and n.ndim == 0
        shape, (flat, n) = broadcast_flat((flat.reshape(shape), n), (np.int64, np.int64))
        out = _advance_loop(flat, n, self.first_day, self.next_bd, self.prev_bd)
        return int(out[0]) if scalar else out.reshape(shape)

    def business_days_between(self, d1: Any, d2: Any) -> Any:
        """Business days in ``[d1, d2)`` (negative when ``d1 > d2``), as for Business/252.

        Arrays broadcast; returns ``int64`` (an int for scalars); ``-1`` is never a sentinel:
        rows with a ``NO_DATE`` give 0.
        """
        f1, s1, sc1 = _as_days(d1)
        f2, s2, sc2 = _as_days(d2)
        shape, (a, b) = broadcast_flat((f1.reshape(s1), f2.reshape(s2)), (np.int64, np.int64))
        out = _count_loop(a, b, self.first_day, self.cum_bd)
        out[(a == NO_DATE) | (b == NO_DATE)] = 0
        return int(out[0]) if sc1 and sc2 else out.reshape(shape)

    def __repr__(self) -> str:
        return f"Calendar({self.code!r}, {self.start_year}..{self.end_year})"


def _as_days(x: Any) -> tuple[npt.NDArray[np.int64], tuple[int, ...], bool]:
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return np.array([to_day(x)], dtype=np.int64), (), True
    arr = np.asarray(x)
    if arr.dtype.kind in "iu":
        flat = np.ascontiguousarray(arr, dtype=np.int64).ravel()
    else:
        flat = to_days(arr.ravel()).astype(np.int64)
    return flat, arr.shape, arr.ndim == 0


def _as_conventions(convention: Any, n: int) -> npt.NDArray[np.int64]:
    if isinstance(convention, (str, BusinessDayConvention)):
        return np.full(n, int(BusinessDayConvention.parse(convention)), dtype=np.int64)
    arr = np.asarray(convention)
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.int64)
    if arr.dtype.kind in "iu":
        return np.broadcast_to(arr.astype(np.int64).ravel(), (n,)).copy()
    return np.array([int(BusinessDayConvention.parse(c)) for c in arr.ravel().tolist()], dtype=np.int64)


@functools.lru_cache(maxsize=64)
def _build(code: str, start_year: int, end_year: int) -> Calendar:
    first_day = int(days_from_civil(start_year, 1, 1))
    n = int(days_from_civil(end_year + 1, 1, 1)) - first_day
    is_bd = np.ones(n, dtype=np.bool_)
    for part in code.split("+"):
        is_bd &= _component_table(part, start_year, end_year, first_day, n)
    days = np.arange(first_day, first_day + n, dtype=np.int64)
    bd_days = days[is_bd]
    m = bd_days.shape[0]
    if m == 0:
        nxt = np.full(n, _weekend_next(first_day + n), dtype=np.int64)
        prv = np.full(n, _weekend_prev(first_day - 1), dtype=np.int64)
    else:
        pos = np.searchsorted(bd_days, days, side="left")
        nxt = bd_days[np.minimum(pos, m - 1)]
        nxt[pos >= m] = _weekend_next(first_day + n)  # no business day left in the table
        pos_p = np.searchsorted(bd_days, days, side="right") - 1
        prv = bd_days[np.maximum(pos_p, 0)]
        prv[pos_p < 0] = _weekend_prev(first_day - 1)
    cum = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(is_bd, out=cum[1:])
    return Calendar(
        code=code,
        start_year=start_year,
        end_year=end_year,
        first_day=first_day,
        is_bd=_readonly(is_bd.astype(np.uint8)),
        next_bd=_readonly(nxt.astype(np.int32)),
        prev_bd=_readonly(prv.astype(np.int32)),
        cum_bd=_readonly(cum),
    )


def adjust(days: Any, convention: Any, calendar: Calendar | str = "weekends") -> Any:
    """Days adjusted by ``convention`` on ``calendar`` (a :class:`Calendar` or a code).

    Equivalent to ``Calendar.from_code(calendar).adjust(days, convention)``.
    """
    cal = calendar if isinstance(calendar, Calendar) else Calendar.from_code(calendar)
    return cal.adjust(days, convention)
