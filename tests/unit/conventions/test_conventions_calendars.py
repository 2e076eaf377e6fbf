"""Holiday calendars and business-day adjustment."""

from __future__ import annotations

import datetime as dt

import holidays
import numba
import numpy as np
import pytest

from openalm.conventions import (
    NO_DATE,
    BusinessDayConvention,
    Calendar,
    adjust,
    adjust_day,
    advance_day,
    days_from_civil,
    from_day,
    from_days,
    is_business_day_at,
    parse_business_day_conventions,
    to_day,
    to_days,
)
from openalm.errors import ConfigError, DataError

MF = BusinessDayConvention.MODIFIED_FOLLOWING


@pytest.fixture(scope="module")
def cn() -> Calendar:
    return Calendar.from_code("cn")


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2026-02-14", True),  # Saturday, adjusted working day (调休上班)
        ("2026-02-28", True),  # Saturday, adjusted working day
        ("2026-02-16", False),  # Spring Festival eve (除夕)
        ("2026-02-17", False),  # Spring Festival
        ("2026-02-23", False),  # Monday, substituted day off
        ("2026-10-01", False),  # National Day
        ("2026-10-07", False),  # Golden Week substituted day off
        ("2026-10-10", True),  # Saturday, adjusted working day
        ("2026-03-07", False),  # ordinary Saturday
        ("2026-03-08", False),  # ordinary Sunday
        ("2026-03-09", True),  # ordinary Monday
    ],
)
def test_china_2026(cn: Calendar, date: str, expected: bool) -> None:
    assert cn.is_business_day(date) is expected


def test_china_table_matches_library(cn: Calendar) -> None:
    lib = holidays.China(years=range(2001, 2031))
    first, last = days_from_civil(2001, 1, 1), days_from_civil(2030, 12, 31)
    days = np.arange(first, last + 1)
    expected = [lib.is_working_day(from_day(int(d))) for d in days]
    assert cn.is_business_day(days).tolist() == expected


def test_interbank_is_china(cn: Calendar) -> None:
    ib = Calendar.from_code("cn_ib")
    assert np.array_equal(ib.is_bd, cn.is_bd)


def test_modified_following_across_month_end(cn: Calendar) -> None:
    # 2026-01-31 is a Saturday: following goes to Mon 2 Feb, modified following back to Fri 30 Jan.
    day = to_day("2026-01-31")
    assert from_day(cn.adjust(day, "following")) == dt.date(2026, 2, 2)
    assert from_day(cn.adjust(day, MF)) == dt.date(2026, 1, 30)
    assert from_day(cn.adjust(day, "preceding")) == dt.date(2026, 1, 30)
    # 2026-10-01..07 holidays: Oct 1 modified preceding crosses into September -> following.
    assert from_day(cn.adjust(to_day("2026-10-01"), "mp")) == dt.date(2026, 10, 8)
    assert from_day(cn.adjust(to_day("2026-10-01"), "p")) == dt.date(2026, 9, 30)
    # Adjusted working Saturday stays put.
    assert from_day(cn.adjust(to_day("2026-02-14"), "f")) == dt.date(2026, 2, 14)
    assert cn.adjust(day, "none") == day
    assert cn.adjust(NO_DATE, MF) == NO_DATE


def test_adjust_arrays_and_module_function(cn: Calendar) -> None:
    days = to_days(["2026-02-16", "2026-10-01", "2026-01-31", None])
    got = cn.adjust(days, "modified_following")
    assert got.dtype == np.int32
    assert from_days(got).astype(str).tolist() == ["2026-02-24", "2026-10-08", "2026-01-30", "NaT"]
    conventions = np.array([1, 3, 2, 0])
    got = cn.adjust(days, conventions)
    assert from_days(got).astype(str).tolist() == ["2026-02-24", "2026-09-30", "2026-01-30", "NaT"]
    assert np.array_equal(adjust(days, "mf", "cn"), cn.adjust(days, MF))
    assert from_day(adjust(to_day("2026-01-31"), "mf")) == dt.date(2026, 1, 30)  # weekends default


def test_joint_calendar() -> None:
    joint = Calendar.from_code("cn+hk")
    assert joint is Calendar.from_code("HK + CN")
    assert joint.code == "cn+hk"
    # 2026-04-07: HK holiday (day following Easter Monday), mainland working day.
    assert not joint.is_business_day("2026-04-07")
    assert Calendar.from_code("cn").is_business_day("2026-04-07")
    # 2026-02-14: mainland working Saturday, but Saturday in HK.
    assert not joint.is_business_day("2026-02-14")
    # 2026-02-20: mainland substituted day off, HK business day.
    assert Calendar.from_code("hk").is_business_day("2026-02-20")
    assert not joint.is_business_day("2026-02-20")


@pytest.mark.parametrize(
    ("code", "date", "expected"),
    [
        ("hk", "2026-04-03", False),  # Good Friday (general holiday)
        ("hk", "2026-10-01", False),
        ("hk", "2026-10-02", True),
        ("us_ny", "2026-11-26", False),  # Thanksgiving
        ("us_ny", "2026-10-12", False),  # Columbus Day: Fed closed (NYSE open)
        ("us_ny", "2026-07-03", True),  # Fed does not move a Saturday holiday to Friday
        ("gb_lon", "2026-12-28", False),  # Boxing Day substitute
        ("gb_lon", "2026-08-31", False),  # Summer bank holiday
        ("eu_target", "2026-04-03", False),  # Good Friday
        ("eu_target", "2026-05-01", False),
        ("eu_target", "2026-12-24", True),
        ("weekends", "2026-10-01", True),
        ("weekends", "2026-10-03", False),
        ("none", "2026-10-03", True),
        ("target", "2026-04-06", False),  # alias; Easter Monday
        ("USNY", "2026-01-19", False),  # ISDA business-centre alias; MLK day
    ],
)
def test_other_calendars(code: str, date: str, expected: bool) -> None:
    assert Calendar.from_code(code).is_business_day(date) is expected


def test_bad_codes_and_years() -> None:
    with pytest.raises(DataError, match="unknown calendar code 'xx'"):
        Calendar.from_code("cn+xx")
    with pytest.raises(DataError):
        Calendar.from_code("")
    with pytest.raises(ConfigError):
        Calendar.from_code("cn", 2030, 2020)


def test_tables_and_numba_kernels() -> None:
    cal = Calendar.from_code("cn", 2025, 2027)
    first_day, is_bd, next_bd, prev_bd = cal.lookup_table()
    assert first_day == days_from_civil(2025, 1, 1)
    assert is_bd.dtype == np.uint8 and next_bd.dtype == np.int32 and prev_bd.dtype == np.int32
    assert not is_bd.flags.writeable
    with pytest.raises(ValueError):
        is_bd[0] = 1

    @numba.njit
    def roll(days: np.ndarray, conv: int, first: int, nxt: np.ndarray, prv: np.ndarray) -> np.ndarray:
        out = np.empty_like(days)
        for i in range(days.shape[0]):
            out[i] = adjust_day(days[i], conv, first, nxt, prv)
        return out

    days = to_days(["2026-01-31", "2026-10-01", "2031-05-31", "2020-02-01"])
    got = roll(days, int(MF), first_day, next_bd, prev_bd)
    # The last two are outside 2025..2027: weekend-only fallback.
    assert from_days(got).astype(str).tolist() == ["2026-01-30", "2026-10-08", "2031-05-30", "2020-02-03"]
    assert is_business_day_at(to_day("2026-02-14"), first_day, is_bd)
    assert not is_business_day_at(to_day("2031-05-31"), first_day, is_bd)
    assert advance_day(to_day("2026-02-13"), 2, first_day, next_bd, prev_bd) == to_day("2026-02-24")
    assert advance_day(to_day("2026-02-24"), -2, first_day, next_bd, prev_bd) == to_day("2026-02-13")


def test_table_edges_use_weekend_rule() -> None:
    cal = Calendar.from_code("gb_lon", 2026, 2026)
    # 2026-12-31 is a Thursday; 2027-01-01 (holiday in reality) is outside the table.
    assert cal.adjust(to_day("2027-01-01"), "f") == to_day("2027-01-01")
    # 2026-12-26/27 weekend, 28 holiday: following from the 26th is the 29th.
    assert from_day(cal.adjust(to_day("2026-12-26"), "f")) == dt.date(2026, 12, 29)
    # 2026-01-01 is a holiday, the first day of the table: preceding falls back before the table.
    assert from_day(cal.adjust(to_day("2026-01-01"), "p")) == dt.date(2025, 12, 31)


def test_advance_and_business_days_between(cn: Calendar) -> None:
    start = to_day("2026-02-13")
    assert from_day(cn.advance(start, 1)) == dt.date(2026, 2, 14)
    assert from_days(cn.advance(start, np.array([0, 1, 2, -1]))).astype(str).tolist() == [
        "2026-02-13",
        "2026-02-14",
        "2026-02-24",
        "2026-02-12",
    ]
    d1 = np.array([to_day("2025-12-20"), to_day("1985-03-01"), to_day("2100-12-01")])
    d2 = np.array([to_day("2026-03-10"), to_day("1990-02-01"), to_day("2101-02-01")])
    got = cn.business_days_between(d1, d2)
    brute = [int(cn.is_business_day(np.arange(a, b)).sum()) for a, b in zip(d1, d2, strict=True)]
    assert got.tolist() == brute
    assert cn.business_days_between(d2[0], d1[0]) == -brute[0]
    assert cn.business_days_between(NO_DATE, d1[0]) == 0


def test_business_day_convention_parse() -> None:
    cases = {
        "none": 0,
        "unadjusted": 0,
        "following": 1,
        "F": 1,
        "modified_following": 2,
        "mod_following": 2,
        "MF": 2,
        "Modified Following": 2,
        "preceding": 3,
        "p": 3,
        "modified_preceding": 4,
        "mp": 4,
    }
    for text, code in cases.items():
        assert BusinessDayConvention.parse(text) == code
    assert BusinessDayConvention.MODIFIED_FOLLOWING.code == "modified_following"
    with pytest.raises(DataError, match="modified_following"):
        BusinessDayConvention.parse("nearest")
    assert parse_business_day_conventions(["mf", None, "p"]).tolist() == [2, -1, 3]


def test_calendar_is_immutable(cn: Calendar) -> None:
    with pytest.raises(AttributeError):
        cn.code = "hk"  # type: ignore[misc]
    assert repr(cn) == "Calendar('cn', 1990..2100)"
