"""Day-count codes and hand-computed year fractions (QuantLib comparisons: tests/reference)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from openalm.conventions import (
    NO_DATE,
    Calendar,
    DayCount,
    parse_day_counts,
    to_day,
    to_days,
    year_fraction,
    year_fractions,
)
from openalm.errors import DataError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("act_360", DayCount.ACT_360),
        ("A360", DayCount.ACT_360),
        ("Actual/360", DayCount.ACT_360),
        ("act_365", DayCount.ACT_365F),  # FIRE
        ("A365", DayCount.ACT_365F),
        ("Actual/365", DayCount.ACT_365F),  # OFSAA
        ("act_act", DayCount.ACT_ACT_ISDA),  # FIRE, ambiguous: ISDA by default
        ("AA", DayCount.ACT_ACT_ISDA),
        ("act_act_icma", DayCount.ACT_ACT_ICMA),
        ("ISMA", DayCount.ACT_ACT_ICMA),
        ("std_30_360", DayCount.THIRTY_360_US),  # FIRE, ambiguous: US by default
        ("30/360", DayCount.THIRTY_360_US),
        ("30E360", DayCount.THIRTY_E_360),
        ("30e_360", DayCount.THIRTY_E_360),
        ("30E360ISDA", DayCount.THIRTY_E_360_ISDA),
        ("30E/360 ISDA", DayCount.THIRTY_E_360_ISDA),
        ("std_30_365", DayCount.THIRTY_365),
        ("30_365", DayCount.THIRTY_365),
        ("Business/252", DayCount.BUS_252),
        (DayCount.ACT_360, DayCount.ACT_360),
    ],
)
def test_parse_aliases(text: str, expected: DayCount) -> None:
    assert DayCount.parse(text) is expected


def test_codes_round_trip_and_unknown() -> None:
    for dc in DayCount:
        assert DayCount.parse(dc.code) is dc
    with pytest.raises(DataError, match="act_360, act_365f") as info:
        DayCount.parse("act_364")
    assert info.value.value == "act_364"
    assert parse_day_counts(["act_360", None, "AA"]).tolist() == [0, -1, 2]
    with pytest.raises(DataError, match="index 1"):
        parse_day_counts(["act_360", "nope"])


def _yf(dc: DayCount, a: str, b: str, termination: str | None = None) -> float:
    d1, d2 = to_day(a), to_day(b)
    term = to_day(termination) if termination else NO_DATE
    return float(year_fraction(int(dc), d1, d2, d1, d2, 0, term))


def test_thirty_360_family_hand_cases() -> None:
    # 28 Feb 2007 -> 31 Aug 2007 (the standard 30/360 illustration, ISDA 2006 section 4.16).
    assert _yf(DayCount.THIRTY_360_US, "2007-02-28", "2007-08-31") == pytest.approx(180 / 360, rel=1e-15)
    assert _yf(DayCount.THIRTY_E_360, "2007-02-28", "2007-08-31") == pytest.approx(182 / 360, rel=1e-15)
    assert _yf(DayCount.THIRTY_E_360_ISDA, "2007-02-28", "2007-08-31") == pytest.approx(180 / 360, rel=1e-15)
    # 31 Aug 2007 -> 28 Feb 2008: 30E/360 ISDA moves a Feb-end d2 to 30 unless it is maturity.
    assert _yf(DayCount.THIRTY_E_360_ISDA, "2007-08-31", "2008-02-28") == pytest.approx(178 / 360, rel=1e-15)
    assert _yf(DayCount.THIRTY_E_360_ISDA, "2007-08-31", "2008-02-29") == pytest.approx(180 / 360, rel=1e-15)
    assert _yf(DayCount.THIRTY_E_360_ISDA, "2007-08-31", "2008-02-29", "2008-02-29") == pytest.approx(
        179 / 360, rel=1e-15
    )


def test_thirty_365_is_us_day_count_over_365() -> None:
    # 30/360 US day arithmetic, divided by 365 (OFSAA 30/365).
    assert _yf(DayCount.THIRTY_365, "2024-01-15", "2024-07-15") == pytest.approx(180 / 365, rel=1e-15)
    assert _yf(DayCount.THIRTY_365, "2024-01-31", "2024-03-31") == pytest.approx(60 / 365, rel=1e-15)
    assert _yf(DayCount.THIRTY_365, "2023-02-28", "2024-02-29") == pytest.approx(360 / 365, rel=1e-15)
    assert _yf(DayCount.THIRTY_365, "2024-01-30", "2024-02-01") == pytest.approx(1 / 365, rel=1e-15)
    assert _yf(DayCount.THIRTY_365, "2024-07-15", "2024-01-15") == pytest.approx(-180 / 365, rel=1e-15)


def test_actual_hand_cases() -> None:
    assert _yf(DayCount.ACT_360, "2024-01-01", "2024-07-01") == pytest.approx(182 / 360, rel=1e-15)
    assert _yf(DayCount.ACT_365F, "2024-01-01", "2025-01-01") == pytest.approx(366 / 365, rel=1e-15)
    assert _yf(DayCount.ACT_ACT_ISDA, "2024-01-01", "2025-01-01") == pytest.approx(1.0, rel=1e-15)
    assert _yf(DayCount.ACT_ACT_ISDA, "2024-07-01", "2024-01-01") == pytest.approx(-182 / 366, rel=1e-15)


def test_icma_unknown_reference_period_uses_frequency() -> None:
    # Short first coupon 2024-02-15 -> 2024-06-30, semi-annual: notional period 2023-12-30 -> 2024-06-30.
    d1, d2 = to_day("2024-02-15"), to_day("2024-06-30")
    rs = to_day("2023-12-30")
    got = year_fraction(int(DayCount.ACT_ACT_ICMA), d1, d2, NO_DATE, NO_DATE, 2, NO_DATE)
    assert got == pytest.approx(0.5 * (d2 - d1) / (d2 - rs), rel=1e-15)
    # Reference dates given: frequency is not used (QuantLib rule).
    assert year_fraction(int(DayCount.ACT_ACT_ICMA), d1, d2, d1, d2, 2, NO_DATE) == pytest.approx(4 / 12, rel=1e-15)


def test_missing_and_unsupported_give_nan() -> None:
    d = to_day("2024-01-01")
    assert math.isnan(year_fraction(int(DayCount.ACT_360), NO_DATE, d, d, d, 0, NO_DATE))
    assert math.isnan(year_fraction(int(DayCount.BUS_252), d, d + 10, d, d + 10, 0, NO_DATE))
    assert math.isnan(year_fraction(99, d, d + 10, d, d + 10, 0, NO_DATE))
    # Invalid ICMA reference period (ends before d1).
    assert math.isnan(year_fraction(int(DayCount.ACT_ACT_ICMA), d, d + 10, d - 100, d - 50, 0, NO_DATE))


def test_year_fractions_broadcasts_and_bus_252_with_calendar() -> None:
    d1 = to_days(["2026-02-13", "2026-01-01"])
    d2 = to_days(["2026-02-27", "2027-01-01"])
    got = year_fractions([int(DayCount.ACT_365F), int(DayCount.BUS_252)], d1, d2)
    assert got[0] == pytest.approx(14 / 365, rel=1e-15)
    assert math.isnan(got[1])
    cn = Calendar.from_code("cn")
    got = year_fractions(int(DayCount.BUS_252), d1, d2, calendar=cn)
    # 13 Feb 2026 -> 27 Feb 2026 in China: 13, 14 (Saturday working day), 24, 25, 26.
    assert got.tolist() == pytest.approx([5 / 252, cn.business_days_between(d1[1], d2[1]) / 252], rel=1e-15)
    matrix = year_fractions(int(DayCount.ACT_360), d1[:, None], d2[None, :])
    assert matrix.shape == (2, 2)


def test_year_fraction_is_callable_from_numba() -> None:
    @numba.njit
    def accrued(dc: int, d1: int, d2: int) -> float:
        return 1000.0 * 0.03 * year_fraction(dc, d1, d2, d1, d2, 0, NO_DATE)

    assert accrued(int(DayCount.ACT_360), 0, 90) == pytest.approx(7.5, rel=1e-15)
    assert np.isfinite(accrued(int(DayCount.ACT_ACT_ICMA), 0, 90))
