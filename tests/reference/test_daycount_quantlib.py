"""Day counts against QuantLib (the reference implementation) and published ISDA examples.

QuantLib day counters used: Actual360, Actual365Fixed, ActualActual(ISDA),
ActualActual(ISMA) with reference dates, Thirty360(USA), Thirty360(European),
Thirty360(ISDA, terminationDate). 30/365 has no QuantLib counterpart and is checked by hand in
``tests/unit/conventions/test_conventions_daycount.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from openalm.conventions import (
    NO_DATE,
    DayCount,
    add_months,
    days_from_civil,
    to_day,
    year_fraction,
    year_fractions,
)

ql = pytest.importorskip("QuantLib")

# QuantLib serial numbers are Excel serials: 1970-01-01 is 25569.
_QL_EPOCH = 25569
_N = 3000
_LO = int(days_from_civil(1905, 1, 1))
_HI = int(days_from_civil(2150, 12, 31))


def qd(day: int) -> Any:
    return ql.Date(int(day) + _QL_EPOCH)


def _special_days(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """Month ends, 28/29 February, 1 March, 30th and 31st of random years."""
    years = rng.integers(1905, 2150, n)
    kind = rng.integers(0, 7, n)
    out = np.empty(n, dtype=np.int64)
    for i, (y, k) in enumerate(zip(years.tolist(), kind.tolist(), strict=True)):
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        m = int(rng.integers(1, 13))
        if k == 0:
            out[i] = days_from_civil(y, 2, 29 if leap else 28)
        elif k == 1:
            out[i] = days_from_civil(y, 2, 28)
        elif k == 2:
            out[i] = days_from_civil(y, 3, 1)
        elif k == 3:
            out[i] = add_months(int(days_from_civil(y, m, 1)), 1, False) - 1  # month end
        elif k == 4:
            out[i] = days_from_civil(y, m, 30 if m != 2 else 28)
        elif k == 5:
            out[i] = days_from_civil(y, m, 31 if m in (1, 3, 5, 7, 8, 10, 12) else 30)
        else:
            out[i] = days_from_civil(y, m, 1)
    return out


@pytest.fixture(scope="module")
def pairs() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(20260214)
    d1 = rng.integers(_LO, _HI, _N)
    special = _special_days(rng, _N)
    use_special_1 = rng.random(_N) < 0.5
    d1 = np.where(use_special_1, special, d1)
    span = np.where(rng.random(_N) < 0.2, rng.integers(-40 * 365, 45 * 365, _N), rng.integers(-400, 3 * 365, _N))
    d2 = np.clip(d1 + span, _LO, _HI)
    # Half of the end dates snapped to special days of the same year (month ends, February).
    special_2 = _special_days(rng, _N)
    snap = rng.random(_N) < 0.5
    d2 = np.where(snap, special_2, d2)
    return d1.astype(np.int64), d2.astype(np.int64)


_SIMPLE: list[tuple[DayCount, Callable[[], Any]]] = [
    (DayCount.ACT_360, lambda: ql.Actual360()),
    (DayCount.ACT_365F, lambda: ql.Actual365Fixed()),
    (DayCount.ACT_ACT_ISDA, lambda: ql.ActualActual(ql.ActualActual.ISDA)),
    (DayCount.THIRTY_360_US, lambda: ql.Thirty360(ql.Thirty360.USA)),
    (DayCount.THIRTY_E_360, lambda: ql.Thirty360(ql.Thirty360.European)),
]


@pytest.mark.parametrize(("dc", "make"), _SIMPLE, ids=[dc.code for dc, _ in _SIMPLE])
def test_matches_quantlib_on_random_pairs(
    dc: DayCount, make: Callable[[], Any], pairs: tuple[npt.NDArray[np.int64], ...]
) -> None:
    d1, d2 = pairs
    counter = make()
    expected = [counter.yearFraction(qd(a), qd(b)) for a, b in zip(d1.tolist(), d2.tolist(), strict=True)]
    got = year_fractions(int(dc), d1.astype(np.int32), d2.astype(np.int32))
    assert got.tolist() == pytest.approx(expected, rel=1e-14, abs=1e-14)


def test_thirty_e_360_isda_matches_quantlib_with_termination(
    pairs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> None:
    d1, d2 = pairs
    rng = np.random.default_rng(7)
    # Half the rows end on their termination date (the February exception applies).
    termination = np.where(rng.random(d2.shape[0]) < 0.5, d2, d2 + rng.integers(1, 400, d2.shape[0]))
    expected = [
        ql.Thirty360(ql.Thirty360.ISDA, qd(t)).yearFraction(qd(a), qd(b))
        for a, b, t in zip(d1.tolist(), d2.tolist(), termination.tolist(), strict=True)
    ]
    got = year_fractions(int(DayCount.THIRTY_E_360_ISDA), d1, d2, termination=termination)
    assert got.tolist() == pytest.approx(expected, rel=1e-14, abs=1e-14)


def _icma_cases(rng: np.random.Generator, n: int) -> list[tuple[int, int, int, int]]:
    """(d1, d2, ref_start, ref_end): regular, long first, long last, short, reversed."""
    cases: list[tuple[int, int, int, int]] = []
    specials = _special_days(rng, n)
    for i in range(n):
        months = int(rng.choice([1, 2, 3, 4, 6, 12]))
        eom = bool(rng.random() < 0.3)
        rs = int(specials[i]) if rng.random() < 0.5 else int(rng.integers(_LO + 2000, _HI - 5000))
        re = int(add_months(rs, months, eom))
        kind = i % 5
        if kind == 0:  # inside the reference period
            a, b = sorted(rng.integers(rs, re + 1, 2).tolist())
        elif kind == 1:  # long first period
            a = int(rng.integers(add_months(rs, -2 * months, False), rs))
            b = int(rng.integers(a + 1, re + 1))
        elif kind == 2:  # long last period
            a = int(rng.integers(rs, re))
            b = int(rng.integers(re + 1, add_months(re, 3 * months, False) + 1))
        elif kind == 3:  # no reference period: QuantLib's default (d1, d2), incl. < 15 days
            a = rs
            b = rs + int(rng.choice([int(rng.integers(1, 20)), int(rng.integers(20, 3000))]))
            cases.append((a, b, a, b))
            continue
        else:  # reversed dates inside the period give the negative fraction
            b, a = sorted(rng.integers(rs, re + 1, 2).tolist())
        cases.append((a, b, rs, re))
    return cases


def test_act_act_icma_matches_quantlib_with_reference_dates() -> None:
    rng = np.random.default_rng(11)
    cases = _icma_cases(rng, _N)
    counter = ql.ActualActual(ql.ActualActual.ISMA)
    expected = [counter.yearFraction(qd(a), qd(b), qd(c), qd(d)) for a, b, c, d in cases]
    arr = np.array(cases, dtype=np.int64)
    got = year_fractions(int(DayCount.ACT_ACT_ICMA), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], freq=0)
    assert got.tolist() == pytest.approx(expected, rel=1e-14, abs=1e-14)


_SCHEDULES = [
    # (effective, termination, months, rule, end_of_month, first_date, next_to_last)
    ("2002-08-15", "2005-07-15", 6, "backward", False, None, None),  # short first
    ("2002-08-15", "2005-07-15", 6, "forward", False, None, None),  # short last
    ("2002-08-15", "2005-07-15", 6, "backward", False, "2003-07-15", None),  # long first
    ("2002-07-15", "2005-03-15", 6, "forward", False, None, "2004-07-15"),  # long last
    ("1999-11-30", "2003-04-30", 3, "forward", True, None, None),  # month ends, short last
    ("2000-02-29", "2010-02-28", 12, "backward", True, None, None),  # annual, leap-day anchor
    ("2019-01-31", "2021-06-15", 1, "backward", True, None, None),  # monthly, month ends
    ("2023-05-10", "2030-01-20", 3, "backward", False, "2024-01-20", "2029-07-20"),  # both stubs
]


def _ql_schedule(
    effective: str, termination: str, months: int, rule: str, eom: bool, first: str | None, ntl: str | None
) -> Any:
    rules = {"backward": ql.DateGeneration.Backward, "forward": ql.DateGeneration.Forward}
    return ql.Schedule(
        qd(to_day(effective)),
        qd(to_day(termination)),
        ql.Period(months, ql.Months),
        ql.NullCalendar(),
        ql.Unadjusted,
        ql.Unadjusted,
        rules[rule],
        eom,
        qd(to_day(first)) if first else ql.Date(),
        qd(to_day(ntl)) if ntl else ql.Date(),
    )


def _day(d: Any) -> int:
    return int(d.serialNumber()) - _QL_EPOCH


@pytest.mark.parametrize("spec", _SCHEDULES, ids=[f"{s[0]}_{s[2]}M_{s[3]}" for s in _SCHEDULES])
def test_act_act_icma_matches_quantlib_fixed_rate_coupons(spec: tuple) -> None:
    """Full and partial accruals of every coupon of a QuantLib fixed-rate leg.

    QuantLib's coupons carry the reference period it uses for stubs (the notional regular period
    next to the stub); the kernel passes the same dates.
    """
    schedule = _ql_schedule(*spec)
    counter = ql.ActualActual(ql.ActualActual.ISMA)
    leg = ql.FixedRateLeg(schedule, counter, [100.0], [0.05])
    freq = 12 // spec[2]
    rows: list[tuple[int, int, int, int]] = []
    expected: list[float] = []
    for cf in leg:
        c = ql.as_fixed_rate_coupon(cf)
        start, end = c.accrualStartDate(), c.accrualEndDate()
        ref = (_day(c.referencePeriodStart()), _day(c.referencePeriodEnd()))
        rows.append((_day(start), _day(end), *ref))
        expected.append(c.accrualPeriod())
        for k in (1, 17, 45, 100):  # accrued to a date inside the period
            mid = start + k
            if mid < end:
                rows.append((_day(start), _day(mid), *ref))
                expected.append(counter.yearFraction(start, mid, c.referencePeriodStart(), c.referencePeriodEnd()))
    arr = np.array(rows, dtype=np.int64)
    got = year_fractions(int(DayCount.ACT_ACT_ICMA), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], freq=freq)
    assert got.tolist() == pytest.approx(expected, rel=1e-14, abs=1e-14)


# ISDA, "EMU and market conventions: recent developments" (1998 memo on Actual/Actual), examples
# 1-5; the same cases are in QuantLib's test-suite/daycounters.cpp. Values to 12 decimals.
_ISDA_MEMO = [
    # (start, end, ref_start, ref_end, act/act ISDA, act/act ICMA)
    ("2003-11-01", "2004-05-01", "2003-11-01", "2004-05-01", 0.497724380567, 0.500000000000),  # regular
    ("1999-02-01", "1999-07-01", "1998-07-01", "1999-07-01", 0.410958904110, 0.410958904110),  # short 1st
    ("2002-08-15", "2003-07-15", "2003-01-15", "2003-07-15", 0.915068493151, 0.915760869565),  # long 1st
    ("2000-01-30", "2000-06-30", "2000-01-30", "2000-07-30", 0.415300546448, 0.417582417582),  # short last
]


@pytest.mark.parametrize("case", _ISDA_MEMO, ids=["regular", "short_first", "long_first", "short_last"])
def test_isda_memo_examples(case: tuple[str, str, str, str, float, float]) -> None:
    d1, d2, rs, re = (to_day(x) for x in case[:4])
    assert year_fraction(int(DayCount.ACT_ACT_ISDA), d1, d2, rs, re, 0, NO_DATE) == pytest.approx(case[4], abs=5e-13)
    freq = 2 if case[0] != "1999-02-01" else 1
    assert year_fraction(int(DayCount.ACT_ACT_ICMA), d1, d2, rs, re, freq, NO_DATE) == pytest.approx(case[5], abs=5e-13)


def test_isda_memo_long_final_quarterly() -> None:
    """ISDA memo example 5: 1999-11-30 to 2000-04-30, quarterly.

    Act/Act ISDA = 32/365 + 120/366 = 0.415540085336. For Act/Act ICMA the memo rolls the notional
    period on month ends (2000-02-29 -> 2000-05-31: 0.415760869565); QuantLib, and therefore
    OpenALM, rolls notional periods without the end-of-month rule (2000-02-29 -> 2000-05-29),
    giving 0.25 + 0.25 * 61 / 90.
    """
    d1, d2 = to_day("1999-11-30"), to_day("2000-04-30")
    rs, re = to_day("1999-11-30"), to_day("2000-02-29")
    assert year_fraction(int(DayCount.ACT_ACT_ISDA), d1, d2, d1, d2, 0, NO_DATE) == pytest.approx(
        0.415540085336, abs=5e-13
    )
    expected_ql = ql.ActualActual(ql.ActualActual.ISMA).yearFraction(qd(d1), qd(d2), qd(rs), qd(re))
    got = year_fraction(int(DayCount.ACT_ACT_ICMA), d1, d2, rs, re, 4, NO_DATE)
    assert got == pytest.approx(expected_ql, rel=1e-14)
    assert got == pytest.approx(0.25 + 0.25 * 61 / 90, rel=1e-14)
    # With the memo's month-end notional period passed explicitly, the memo's figure follows.
    split = year_fraction(int(DayCount.ACT_ACT_ICMA), d1, re, rs, re, 4, NO_DATE) + year_fraction(
        int(DayCount.ACT_ACT_ICMA), re, d2, re, to_day("2000-05-31"), 4, NO_DATE
    )
    assert split == pytest.approx(0.415760869565, abs=5e-13)


def test_quantlib_epoch_mapping() -> None:
    assert qd(to_day(dt.date(2026, 2, 14))) == ql.Date(14, 2, 2026)
