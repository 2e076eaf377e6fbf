"""Bucket sets: monthly grid (interfaces.md), G21 columns and the 19 IRRBB buckets (regulatory.md)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from openalm.engine.buckets import build_bucket_sets
from openalm.errors import ConfigError


def test_monthly_bounds_are_calendar_months_with_month_end_clipping() -> None:
    # interfaces.md: M001 covers the days after as-of up to as-of + 1 calendar month; 31 Jan + 1M = 28/29 Feb
    sets = build_bucket_sets(dt.date(2024, 1, 31))
    monthly = sets.sets[0]
    assert monthly.name == "monthly"
    m1, m2 = monthly.buckets[0], monthly.buckets[1]
    assert (m1.code, m1.start_day, m1.end_day) == ("M001", 0, 29)  # 2024-02-29
    assert (m2.code, m2.start_day, m2.end_day) == ("M002", 29, 60)  # 2024-03-31
    assert monthly.buckets[599].code == "M600"
    assert monthly.buckets[600].code == "M600+" and monthly.buckets[600].end_day is None
    assert [b.code for b in monthly.buckets[-2:]] == ["overdue", "undated"]


def test_g21_buckets_and_labels() -> None:
    g21 = build_bucket_sets(dt.date(2026, 6, 30)).sets[1]
    codes = [b.code for b in g21.buckets]
    assert codes == [
        "next_day",
        "2d_7d",
        "8d_30d",
        "31d_90d",
        "91d_1y",
        "1y_5y",
        "5y_10y",
        "over_10y",
        "overdue",
        "undated",
    ]
    assert g21.buckets[0].label_zh == "次日" and g21.buckets[-2].label_zh == "逾期"
    assert g21.buckets[4].end_day == 365  # 2027-06-30
    assert g21.buckets[5].end_day == (dt.date(2031, 6, 30) - dt.date(2026, 6, 30)).days


def test_irrbb_has_19_buckets_with_d368_midpoints() -> None:
    irrbb = build_bucket_sets(dt.date(2026, 6, 30)).sets[2]
    dated = irrbb.dated
    assert len(dated) == 19
    assert [b.midpoint_years for b in dated][:3] == [0.0028, 0.0417, 0.1667]
    assert dated[-1].midpoint_years == 25.0 and dated[-1].end_day is None


def test_lookup_puts_flows_in_half_open_buckets() -> None:
    sets = build_bucket_sets(dt.date(2026, 6, 30), {"mine": ["1D", "30D", "1Y"]})
    mine = sets.sets[3]
    off = int(sets.offsets[3])
    for day, code in ((1, "<=1D"), (2, "1D-30D"), (30, "1D-30D"), (31, "30D-1Y"), (365, "30D-1Y"), (366, ">1Y")):
        assert mine.buckets[int(sets.lookup[3, day]) - off].code == code
    assert sets.lookup.shape[0] == 4
    assert np.all(np.diff(sets.lookup[0]) >= 0)


@pytest.mark.parametrize("bounds", [[], ["30D", "1D"], ["1D", "1D"], ["T"]])
def test_bad_user_bucket_set_is_a_config_error(bounds: list[str]) -> None:
    with pytest.raises(ConfigError):
        build_bucket_sets(dt.date(2026, 6, 30), {"bad": bounds})
