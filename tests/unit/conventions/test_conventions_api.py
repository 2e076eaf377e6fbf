"""The public surface of openalm.conventions (changing it is a deliberate act)."""

from __future__ import annotations

import openalm.conventions as conventions

EXPECTED = {
    "CALENDAR_CODES",
    "MISSING_UNIT",
    "NO_DATE",
    "BusinessDayConvention",
    "Calendar",
    "DayCount",
    "Tenor",
    "TenorUnit",
    "add_days",
    "add_months",
    "add_months_array",
    "add_tenor",
    "adjust",
    "adjust_day",
    "advance_day",
    "business_day_count",
    "civil_from_days",
    "days_from_civil",
    "days_in_month",
    "frequency_from_fire",
    "from_day",
    "from_days",
    "is_business_day_at",
    "is_leap",
    "is_month_end",
    "next_business_day",
    "parse_business_day_conventions",
    "parse_day_counts",
    "parse_tenors",
    "previous_business_day",
    "to_day",
    "to_days",
    "weekday",
    "year_fraction",
    "year_fractions",
}


def test_public_surface() -> None:
    assert set(conventions.__all__) == EXPECTED
    for name in conventions.__all__:
        assert getattr(conventions, name) is not None


def test_codes_match_design() -> None:
    assert conventions.NO_DATE == -(2**31)
    assert [int(u) for u in conventions.TenorUnit] == [0, 1, 2, 3, 4]
    assert [d.code for d in conventions.DayCount] == [
        "act_360",
        "act_365f",
        "act_act_isda",
        "act_act_icma",
        "30_360_us",
        "30e_360",
        "30e_360_isda",
        "30_365",
        "bus_252",
    ]
    assert [int(d) for d in conventions.DayCount] == list(range(9))
    assert [c.code for c in conventions.BusinessDayConvention] == [
        "none",
        "following",
        "modified_following",
        "preceding",
        "modified_preceding",
    ]
