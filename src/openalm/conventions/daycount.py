"""Day-count conventions (positions.md 2.6) and year fractions.

:class:`DayCount` holds the codes the kernel uses; :func:`year_fraction` is the numba scalar the
cash-flow kernel calls; :func:`year_fractions` is its vectorised form.

Every supported convention reproduces QuantLib (1.3x-1.4x) exactly, as checked by
``tests/reference/test_daycount_quantlib.py``:

=====================  ==================================================================
``act_360``            ``days / 360`` (QuantLib ``Actual360``)
``act_365f``           ``days / 365`` (``Actual365Fixed``)
``act_act_isda``       days in each calendar year / that year's length, summed
                       (``ActualActual(ISDA)``)
``act_act_icma``       ``ActualActual(ISMA)`` given reference dates (the rule QuantLib's
                       fixed-rate coupons use), see below
``30_360_us``          ``Thirty360(USA)``: if d1 is the last day of February, d1 = 30 and, if
                       d2 is also the last day of February, d2 = 30; then d2 = 31 -> 30 when
                       d1 >= 30; then d1 = 31 -> 30
``30e_360``            ``Thirty360(European)``: day 31 -> 30 on both dates
``30e_360_isda``       ``Thirty360(ISDA, termination)``: day 31 -> 30; last day of February
                       -> 30, except for d2 when d2 is the termination (maturity) date
``30_365``             30/360 US day arithmetic divided by 365 (OFSAA "30/365"); QuantLib has
                       no 30/365, so this is tested against hand-computed cases
``bus_252``            business days / 252 (Brazil). Needs a calendar, so :func:`year_fraction`
                       (and the kernel) return NaN; :func:`year_fractions` computes it when given
                       a :class:`~openalm.conventions.calendars.Calendar`
=====================  ==================================================================

Actual/Actual ICMA
------------------
Arguments: the accrual period ``[d1, d2]`` and the regular reference coupon period
``[ref_start, ref_end]`` that contains it (for a stub: the notional regular period). The rule
(ICMA Rule 251; QuantLib's ``ActualActual::ISMA`` with reference dates):

* ``months = round(12 * (ref_end - ref_start) / 365)``; if that is 0 the reference period
  becomes one year from d1. ``period = months / 12``.
* ``ref_start <= d1 <= d2 <= ref_end``: ``period * (d2 - d1) / (ref_end - ref_start)``.
* Long first period (``d1 < ref_start``): the part before ``ref_start`` is counted in the
  notional period ``[ref_start - months, ref_start]`` (recursively further back if needed), the
  rest in ``[ref_start, ref_end]``.
* Long last period (``d2 > ref_end``, requires ``ref_start <= d1``): the part up to ``ref_end``
  in the reference period, then ``period`` for each whole notional period
  ``[ref_end + i*months, ref_end + (i+1)*months]`` (months added from ``ref_end`` each time, day
  clipped, no end-of-month rule) and the remainder in the notional period that contains d2.
* ``d1 > d2`` gives the negative of ``(d2, d1)``; invalid reference dates give NaN.

Pass ``ref_start = d1, ref_end = d2`` when the reference period is unknown (QuantLib's default:
the fraction is then ``round(12 * days / 365) / 12``, or ``days / days in the year from d1`` for
periods under about 15 days). OpenALM extension: if either reference date is ``NO_DATE`` and
``12 / freq_per_year`` is a whole number of months, the reference period is the regular period
of that many months ending at the later date (the usual short first coupon); otherwise
``(d1, d2)``. ``freq_per_year`` is used for nothing else: with reference dates given, the period
length is inferred from them exactly as QuantLib does.

Examples
--------
>>> from openalm.conventions.dates import to_day
>>> d1, d2 = to_day("2003-11-01"), to_day("2004-05-01")
>>> round(year_fraction(DayCount.ACT_ACT_ISDA, d1, d2, d1, d2, 0, d2), 12)
0.497724380567
>>> DayCount.parse("Actual/365").code
'act_365f'
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import numba
import numpy as np
import numpy.typing as npt
from numba import types as nt

from openalm.conventions._arrays import broadcast_flat
from openalm.conventions._codes import alias_table, parse_code, parse_code_array
from openalm.conventions.dates import NO_DATE, add_months, civil_from_days, days_from_civil, is_leap

if TYPE_CHECKING:
    from openalm.conventions.calendars import Calendar

__all__ = [
    "DayCount",
    "parse_day_counts",
    "year_fraction",
    "year_fractions",
]


class DayCount(enum.IntEnum):
    """Day-count convention codes used by the kernel (canonical text codes: :attr:`code`)."""

    ACT_360 = 0
    ACT_365F = 1
    ACT_ACT_ISDA = 2
    ACT_ACT_ICMA = 3
    THIRTY_360_US = 4
    THIRTY_E_360 = 5
    THIRTY_E_360_ISDA = 6
    THIRTY_365 = 7
    BUS_252 = 8

    @property
    def code(self) -> str:
        """Canonical positions.md code, e.g. ``act_365f``."""
        return _CODES[self]

    @classmethod
    def parse(cls, text: str | DayCount) -> DayCount:
        """Day count named by a canonical code or an alias (case, spaces, ``_-/.()`` ignored).

        Aliases include FIRE (``act_365`` -> act_365f, ``act_act`` -> act_act_isda,
        ``std_30_360`` -> 30_360_us, ``std_30_365`` -> 30_365), ACTUS (``A360``, ``A365``,
        ``AA``, ``30E360``, ``30E360ISDA``) and OFSAA / market names (``Actual/360``,
        ``Actual/365``, ``Actual/Actual``, ``30/360``, ``Business/252``, ``Eurobond basis``,
        ``German``, ``ISMA``...). The FIRE codes ``act_act`` and ``std_30_360`` are ambiguous;
        callers that know better (a per-product default) should map them before parsing.

        Raises
        ------
        DataError
            For an unknown code, listing the canonical codes.
        """
        return parse_code(cls, _TABLE, text, "day count", _EXPECTED)


_CODES: Final[dict[DayCount, str]] = {
    DayCount.ACT_360: "act_360",
    DayCount.ACT_365F: "act_365f",
    DayCount.ACT_ACT_ISDA: "act_act_isda",
    DayCount.ACT_ACT_ICMA: "act_act_icma",
    DayCount.THIRTY_360_US: "30_360_us",
    DayCount.THIRTY_E_360: "30e_360",
    DayCount.THIRTY_E_360_ISDA: "30e_360_isda",
    DayCount.THIRTY_365: "30_365",
    DayCount.BUS_252: "bus_252",
}
_ALIASES: Final[dict[str, DayCount]] = {
    # ACT/360
    "A360": DayCount.ACT_360,
    "actual/360": DayCount.ACT_360,
    "act/360": DayCount.ACT_360,
    # ACT/365 Fixed (FIRE act_365, OFSAA Actual/365)
    "act_365": DayCount.ACT_365F,
    "A365": DayCount.ACT_365F,
    "A365F": DayCount.ACT_365F,
    "actual/365": DayCount.ACT_365F,
    "actual/365 fixed": DayCount.ACT_365F,
    "actual/365 (fixed)": DayCount.ACT_365F,
    "act/365 fixed": DayCount.ACT_365F,
    # ACT/ACT ISDA (default reading of FIRE act_act)
    "act_act": DayCount.ACT_ACT_ISDA,
    "AA": DayCount.ACT_ACT_ISDA,
    "actual/actual": DayCount.ACT_ACT_ISDA,
    "actual/actual isda": DayCount.ACT_ACT_ISDA,
    "act/act isda": DayCount.ACT_ACT_ISDA,
    "actual/actual historical": DayCount.ACT_ACT_ISDA,
    # ACT/ACT ICMA
    "act_act_isma": DayCount.ACT_ACT_ICMA,
    "actual/actual icma": DayCount.ACT_ACT_ICMA,
    "actual/actual isma": DayCount.ACT_ACT_ICMA,
    "actual/actual bond": DayCount.ACT_ACT_ICMA,
    "act/act bond": DayCount.ACT_ACT_ICMA,
    "icma": DayCount.ACT_ACT_ICMA,
    "isma": DayCount.ACT_ACT_ICMA,
    # 30/360 US (FIRE std_30_360 default, OFSAA 30/360)
    "std_30_360": DayCount.THIRTY_360_US,
    "30/360": DayCount.THIRTY_360_US,
    "30/360 us": DayCount.THIRTY_360_US,
    "30/360 usa": DayCount.THIRTY_360_US,
    "30u/360": DayCount.THIRTY_360_US,
    "bond basis": DayCount.THIRTY_360_US,
    "30/360 bond basis": DayCount.THIRTY_360_US,
    # 30E/360
    "30E360": DayCount.THIRTY_E_360,
    "30e/360 icma": DayCount.THIRTY_E_360,
    "30/360 european": DayCount.THIRTY_E_360,
    "eurobond basis": DayCount.THIRTY_E_360,
    # 30E/360 ISDA
    "30E360ISDA": DayCount.THIRTY_E_360_ISDA,
    "30/360 german": DayCount.THIRTY_E_360_ISDA,
    "german": DayCount.THIRTY_E_360_ISDA,
    # 30/365 (FIRE std_30_365, OFSAA 30/365)
    "std_30_365": DayCount.THIRTY_365,
    # Business/252
    "business/252": DayCount.BUS_252,
    "bus/252": DayCount.BUS_252,
    "bd/252": DayCount.BUS_252,
}
_TABLE: Final = alias_table(DayCount, _CODES, _ALIASES)
_EXPECTED: Final = ", ".join(_CODES.values())


def parse_day_counts(values: Iterable[Any] | npt.NDArray[Any]) -> npt.NDArray[np.int8]:
    """Vectorised :meth:`DayCount.parse`: ``int8`` codes, -1 where the value is missing.

    Raises
    ------
    DataError
        Naming the first unknown code and its index.
    """
    return parse_code_array(DayCount, _TABLE, values, "day count", _EXPECTED)


# --------------------------------------------------------------------------------------------
# numba scalar core. Integer codes are repeated here as module constants so that numba freezes
# them (IntEnum members are not needed inside compiled code).
# --------------------------------------------------------------------------------------------

_ACT_360: Final = 0
_ACT_365F: Final = 1
_ACT_ACT_ISDA: Final = 2
_ACT_ACT_ICMA: Final = 3
_THIRTY_360_US: Final = 4
_THIRTY_E_360: Final = 5
_THIRTY_E_360_ISDA: Final = 6
_THIRTY_365: Final = 7


@numba.njit(nt.boolean(nt.int64, nt.int64, nt.int64), cache=True)
def _is_last_of_february(d: int, m: int, y: int) -> bool:
    return m == 2 and d == (29 if is_leap(y) else 28)


@numba.njit(nt.int64(nt.int64, nt.int64), cache=True)
def _thirty_360_us_days(d1: int, d2: int) -> int:
    y1, m1, dd1 = civil_from_days(d1)
    y2, m2, dd2 = civil_from_days(d2)
    # The order of the adjustments matters (QuantLib Thirty360::USA).
    if _is_last_of_february(dd1, m1, y1):
        if _is_last_of_february(dd2, m2, y2):
            dd2 = 30
        dd1 = 30
    if dd2 == 31 and dd1 >= 30:
        dd2 = 30
    if dd1 == 31:
        dd1 = 30
    return 360 * (y2 - y1) + 30 * (m2 - m1) + (dd2 - dd1)


@numba.njit(nt.int64(nt.int64, nt.int64), cache=True)
def _thirty_e_360_days(d1: int, d2: int) -> int:
    y1, m1, dd1 = civil_from_days(d1)
    y2, m2, dd2 = civil_from_days(d2)
    if dd1 == 31:
        dd1 = 30
    if dd2 == 31:
        dd2 = 30
    return 360 * (y2 - y1) + 30 * (m2 - m1) + (dd2 - dd1)


@numba.njit(nt.int64(nt.int64, nt.int64, nt.int64), cache=True)
def _thirty_e_360_isda_days(d1: int, d2: int, termination: int) -> int:
    y1, m1, dd1 = civil_from_days(d1)
    y2, m2, dd2 = civil_from_days(d2)
    if dd1 == 31:
        dd1 = 30
    if dd2 == 31:
        dd2 = 30
    if _is_last_of_february(dd1, m1, y1):
        dd1 = 30
    if d2 != termination and _is_last_of_february(dd2, m2, y2):
        dd2 = 30
    return 360 * (y2 - y1) + 30 * (m2 - m1) + (dd2 - dd1)


@numba.njit(nt.float64(nt.int64, nt.int64), cache=True)
def _act_act_isda(d1: int, d2: int) -> float:
    if d1 == d2:
        return 0.0
    if d1 > d2:
        return -_act_act_isda(d2, d1)
    y1 = civil_from_days(d1)[0]
    y2 = civil_from_days(d2)[0]
    dib1 = 366.0 if is_leap(y1) else 365.0
    dib2 = 366.0 if is_leap(y2) else 365.0
    total = float(y2 - y1 - 1)
    total += (days_from_civil(y1 + 1, 1, 1) - d1) / dib1
    total += (d2 - days_from_civil(y2, 1, 1)) / dib2
    return total


@numba.njit(nt.float64(nt.int64, nt.int64, nt.int64, nt.int64), cache=True)
def _act_act_icma(d1: int, d2: int, ref_start: int, ref_end: int) -> float:
    """Actual/Actual ICMA with explicit reference period (rules in the module docstring)."""
    if d1 == d2:
        return 0.0
    if d1 > d2:
        return -_act_act_icma(d2, d1, ref_start, ref_end)
    rs = ref_start
    re = ref_end
    if not (re > rs and re > d1):
        return math.nan
    months = math.floor(12.0 * (re - rs) / 365.0 + 0.5)  # C's lround for positive values
    if months == 0:
        rs = d1
        re = add_months(d1, 12, False)
        months = 12
    period = months / 12.0
    if d2 <= re:
        if d1 >= rs:
            return period * (d2 - d1) / (re - rs)
        # Long first period: count the part before rs in the previous notional period.
        previous = add_months(rs, -months, False)
        if d2 > rs:
            return _act_act_icma(d1, rs, previous, rs) + _act_act_icma(rs, d2, rs, re)
        return _act_act_icma(d1, d2, previous, rs)
    # Long last period: d1 inside the reference period, d2 after it.
    if rs > d1:
        return math.nan
    total = _act_act_icma(d1, re, rs, re)
    i = 0
    while True:
        new_start = add_months(re, months * i, False)
        new_end = add_months(re, months * (i + 1), False)
        if d2 < new_end:
            break
        total += period
        i += 1
    total += _act_act_icma(new_start, d2, new_start, new_end)
    return total


@numba.njit(nt.float64(nt.int64, nt.int64, nt.int64, nt.int64, nt.int64, nt.float64, nt.int64), cache=True)
def year_fraction(
    dc_code: int,
    d1: int,
    d2: int,
    ref_start: int,
    ref_end: int,
    freq_per_year: float,
    termination: int,
) -> float:
    """Year fraction from day ``d1`` to day ``d2`` under day count ``dc_code``.

    Parameters
    ----------
    dc_code:
        A :class:`DayCount` value (pass ``int(DayCount.X)`` from compiled code).
    d1, d2:
        Start and end day numbers; ``d1 > d2`` gives a negative fraction. ``NO_DATE`` -> NaN.
    ref_start, ref_end:
        Regular reference coupon period (Act/Act ICMA only; pass ``d1, d2`` if unknown).
    freq_per_year:
        Coupons per year, int or float (2 = semi-annual, 0.5 = every two years); Act/Act ICMA
        only, used when a reference date is ``NO_DATE``.
    termination:
        Maturity day number (30E/360 ISDA only: the last day of February is not moved to the
        30th when it is the termination date); ``NO_DATE`` if unknown.

    Returns
    -------
    float
        The fraction; NaN for ``bus_252`` (needs a calendar: not supported by the kernel), an
        unknown code, a missing date or an invalid ICMA reference period.
    """
    if d1 == NO_DATE or d2 == NO_DATE:
        return math.nan
    if dc_code == _ACT_360:
        return (d2 - d1) / 360.0
    if dc_code == _ACT_365F:
        return (d2 - d1) / 365.0
    if dc_code == _ACT_ACT_ISDA:
        return _act_act_isda(d1, d2)
    if dc_code == _ACT_ACT_ICMA:
        rs = ref_start
        re = ref_end
        if rs == NO_DATE or re == NO_DATE:
            lo = d1 if d1 < d2 else d2
            hi = d2 if d1 < d2 else d1
            rs = lo
            re = hi
            if freq_per_year > 0:
                months_f = 12.0 / freq_per_year
                months = math.floor(months_f + 0.5)
                if months >= 1 and abs(months - months_f) < 1e-9:
                    rs = add_months(hi, -months, False)
        return _act_act_icma(d1, d2, rs, re)
    if dc_code == _THIRTY_360_US:
        return _thirty_360_us_days(d1, d2) / 360.0
    if dc_code == _THIRTY_E_360:
        return _thirty_e_360_days(d1, d2) / 360.0
    if dc_code == _THIRTY_E_360_ISDA:
        return _thirty_e_360_isda_days(d1, d2, termination) / 360.0
    if dc_code == _THIRTY_365:
        return _thirty_360_us_days(d1, d2) / 365.0
    return math.nan


@numba.njit(cache=True)
def _year_fraction_loop(
    dc: npt.NDArray[np.int64],
    d1: npt.NDArray[np.int64],
    d2: npt.NDArray[np.int64],
    rs: npt.NDArray[np.int64],
    re: npt.NDArray[np.int64],
    freq: npt.NDArray[np.float64],
    term: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    out = np.empty(d1.shape[0], dtype=np.float64)
    for i in range(d1.shape[0]):
        out[i] = year_fraction(dc[i], d1[i], d2[i], rs[i], re[i], freq[i], term[i])
    return out


def year_fractions(
    dc_codes: Any,
    d1: Any,
    d2: Any,
    ref_start: Any = None,
    ref_end: Any = None,
    freq: Any = None,
    termination: Any = None,
    *,
    calendar: Calendar | None = None,
) -> npt.NDArray[np.float64]:
    """Vectorised :func:`year_fraction`; all arguments broadcast against each other.

    Parameters
    ----------
    dc_codes:
        Day-count codes (ints or :class:`DayCount`), scalar or array.
    d1, d2:
        Day numbers (``int32`` arrays or scalars).
    ref_start, ref_end:
        Act/Act ICMA reference period; default ``d1``, ``d2`` (QuantLib's default).
    freq:
        Coupons per year for Act/Act ICMA; default 0.
    termination:
        Maturity for 30E/360 ISDA; default ``NO_DATE``.
    calendar:
        Needed only for ``bus_252`` rows: business days in ``[d1, d2)`` / 252. Without it those
        rows are NaN.

    Returns
    -------
    numpy.ndarray
        ``float64`` fractions with the broadcast shape.
    """
    d1_a = np.asarray(d1)
    d2_a = np.asarray(d2)
    shape, flat = broadcast_flat(
        (
            dc_codes,
            d1_a,
            d2_a,
            d1_a if ref_start is None else ref_start,
            d2_a if ref_end is None else ref_end,
            0.0 if freq is None else freq,
            NO_DATE if termination is None else termination,
        ),
        (np.int64, np.int64, np.int64, np.int64, np.int64, np.float64, np.int64),
    )
    out = _year_fraction_loop(*flat)
    if calendar is not None:
        bus = flat[0] == int(DayCount.BUS_252)
        if bus.any():
            ok = bus & (flat[1] != NO_DATE) & (flat[2] != NO_DATE)
            out[ok] = calendar.business_days_between(flat[1][ok], flat[2][ok]) / 252.0
    return out.reshape(shape)
