"""Day numbers, calendar arithmetic and date conversion."""

from __future__ import annotations

import datetime as dt

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openalm.conventions import (
    NO_DATE,
    add_days,
    add_months,
    add_months_array,
    add_tenor,
    civil_from_days,
    days_from_civil,
    days_in_month,
    from_day,
    from_days,
    is_leap,
    is_month_end,
    to_day,
    to_days,
    weekday,
)
from openalm.errors import DataError

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@settings(deadline=None)  # the first call loads compiled numba code
@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_civil_days_round_trip_matches_datetime(date: dt.date) -> None:
    n = days_from_civil(date.year, date.month, date.day)
    assert n == date.toordinal() - _EPOCH_ORDINAL
    assert civil_from_days(n) == (date.year, date.month, date.day)
    assert weekday(n) == date.weekday()
    assert to_day(date) == n
    assert from_day(n) == date


@settings(deadline=None)  # the first call loads compiled numba code
@given(st.integers(min_value=-5_000_000, max_value=5_000_000))
def test_days_civil_round_trip_far_range(n: int) -> None:
    y, m, d = civil_from_days(n)
    assert 1 <= m <= 12
    assert 1 <= d <= days_in_month(y, m)
    assert days_from_civil(y, m, d) == n


def test_epoch_and_numpy_agree() -> None:
    assert days_from_civil(1970, 1, 1) == 0
    assert to_day(np.datetime64("2026-02-14")) == int(np.datetime64("2026-02-14", "D").astype(np.int64))
    assert is_leap(2000) and is_leap(2024) and not is_leap(1900) and not is_leap(2023)
    assert days_in_month(2024, 2) == 29 and days_in_month(2023, 2) == 28 and days_in_month(2023, 4) == 30


@pytest.mark.parametrize(
    ("start", "k", "eom", "expected"),
    [
        ("2023-01-31", 1, False, "2023-02-28"),  # clipped to February
        ("2024-01-31", 1, False, "2024-02-29"),  # leap year
        ("2024-01-31", 2, False, "2024-03-31"),
        ("2024-02-29", 12, False, "2025-02-28"),
        ("2024-02-29", 1, False, "2024-03-29"),  # no end-of-month rule: day kept
        ("2024-02-29", 1, True, "2024-03-31"),  # end-of-month rule
        ("2023-02-28", 1, True, "2023-03-31"),
        ("2024-02-28", 1, True, "2024-03-28"),  # 28 Feb 2024 is not a month end
        ("2024-04-30", 1, True, "2024-05-31"),
        ("2024-04-30", 1, False, "2024-05-30"),
        ("2024-03-31", -1, False, "2024-02-29"),
        ("2024-12-15", 1, False, "2025-01-15"),
        ("2024-01-15", -13, False, "2022-12-15"),
        ("2024-05-31", 0, True, "2024-05-31"),
    ],
)
def test_add_months_hand_cases(start: str, k: int, eom: bool, expected: str) -> None:
    assert from_day(add_months(to_day(start), k, eom)) == dt.date.fromisoformat(expected)


@settings(deadline=None)  # the first call loads compiled numba code
@given(
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2300, 12, 31)),
    st.integers(min_value=-1200, max_value=1200),
    st.booleans(),
)
def test_add_months_property(date: dt.date, k: int, eom: bool) -> None:
    got = from_day(add_months(to_day(date), k, eom))
    total = date.year * 12 + date.month - 1 + k
    assert (got.year, got.month) == (total // 12, total % 12 + 1)
    last = days_in_month(got.year, got.month)
    if eom and date.day == days_in_month(date.year, date.month):
        assert got.day == last
    else:
        assert got.day == min(date.day, last)


def test_add_days_tenor_and_missing() -> None:
    n = to_day("2024-01-31")
    assert add_days(n, 30) == n + 30
    assert add_tenor(n, 3, 0, False) == n + 3
    assert add_tenor(n, 2, 1, False) == n + 14
    assert from_day(add_tenor(n, 1, 2, False)) == dt.date(2024, 2, 29)
    assert from_day(add_tenor(n, 1, 3, True)) == dt.date(2025, 1, 31)
    assert add_tenor(n, 1, 4, False) == NO_DATE  # T has no length
    assert add_months(NO_DATE, 1, False) == NO_DATE
    assert add_days(NO_DATE, 1) == NO_DATE
    assert not is_month_end(NO_DATE)
    assert is_month_end(to_day("2024-02-29")) and not is_month_end(to_day("2023-02-27"))


def test_to_day_inputs() -> None:
    expected = days_from_civil(2021, 6, 1)
    assert to_day("2021-06-01") == expected
    assert to_day("20210601") == expected
    assert to_day("2021-06-01T00:00:00+08:00") == expected  # written date part, no tz shift
    assert to_day(dt.datetime(2021, 6, 1, 23, 59)) == expected
    assert to_day(np.datetime64("2021-06-01T12:00")) == expected
    assert to_day(expected) == expected
    assert to_day(None) == NO_DATE
    assert to_day(np.datetime64("NaT")) == NO_DATE
    with pytest.raises(DataError, match="2021-13-01"):
        to_day("2021-13-01")
    with pytest.raises(DataError):
        to_day(3.5)
    with pytest.raises(ValueError, match="NO_DATE"):
        from_day(NO_DATE)


def test_to_days_and_from_days() -> None:
    values = ["2020-01-01", None, "", "20200102", dt.date(2020, 1, 3), np.datetime64("NaT"), float("nan")]
    got = to_days(values)
    assert got.dtype == np.int32
    first = days_from_civil(2020, 1, 1)
    assert got.tolist() == [first, NO_DATE, NO_DATE, first + 1, first + 2, NO_DATE, NO_DATE]
    text = np.array(["2020-01-01", "2020-01-01", "", "2021-06-01T00:00:00+08:00"])
    assert to_days(text).tolist() == [first, first, NO_DATE, days_from_civil(2021, 6, 1)]
    dt64 = np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")
    assert to_days(dt64).tolist() == [first, NO_DATE]
    assert to_days(np.array([first, NO_DATE], dtype=np.int64)).tolist() == [first, NO_DATE]
    back = from_days(to_days(["2020-01-01", None]))
    assert back.dtype == np.dtype("datetime64[D]")
    assert back[0] == np.datetime64("2020-01-01") and np.isnat(back[1])
    with pytest.raises(DataError, match="index 1"):
        to_days(["2020-01-01", "2020-02-30"])
    with pytest.raises(DataError, match="index 2"):
        to_days(np.array(["2020-01-01", "2020-01-02", "20200230"]))


def test_add_months_array_broadcasts() -> None:
    days = to_days(["2020-01-31", "2020-02-29", None])
    got = add_months_array(days, 1, True)
    assert got.dtype == np.int32
    assert from_days(got).astype(str).tolist() == ["2020-02-29", "2020-03-31", "NaT"]
    got = add_months_array(days[:2], np.array([1, 12]), np.array([False, False]))
    assert from_days(got).astype(str).tolist() == ["2020-02-29", "2021-02-28"]


def test_scalar_core_is_callable_from_numba() -> None:
    @numba.njit
    def kernel(start: int, n: int) -> int:
        d = start
        for _ in range(n):
            d = add_months(d, 1, True)
        y, m, _day = civil_from_days(d)
        return days_from_civil(y, m, 1)

    assert from_day(kernel(to_day("2024-01-31"), 13)) == dt.date(2025, 2, 1)
