"""Tenor grammar (positions.md 2.7) and FIRE frequency names."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openalm.conventions import NO_DATE, Tenor, TenorUnit, frequency_from_fire, from_day, parse_tenors, to_day
from openalm.errors import DataError


@pytest.mark.parametrize(
    ("text", "count", "unit", "canonical"),
    [
        ("1D", 1, TenorUnit.D, "1D"),
        ("7d", 7, TenorUnit.D, "7D"),
        ("2W", 2, TenorUnit.W, "2W"),
        ("3m", 3, TenorUnit.M, "3M"),
        (" 18M ", 18, TenorUnit.M, "18M"),
        ("1Y", 1, TenorUnit.Y, "1Y"),
        ("T", 1, TenorUnit.T, "T"),
        ("t", 1, TenorUnit.T, "T"),
        ("ON", 1, TenorUnit.D, "1D"),
        ("TN", 2, TenorUnit.D, "2D"),
        ("sn", 3, TenorUnit.D, "3D"),
    ],
)
def test_parse(text: str, count: int, unit: TenorUnit, canonical: str) -> None:
    tenor = Tenor.parse(text)
    assert (tenor.count, tenor.unit) == (count, unit)
    assert str(tenor) == canonical
    assert Tenor.parse(str(tenor)) == tenor


@pytest.mark.parametrize("bad", ["", "0M", "M", "3", "3Q", "-1Y", "1.5Y", "3M3", "TT", None, 3])
def test_parse_rejects(bad: object) -> None:
    with pytest.raises(DataError, match=r"expected <n><D\|W\|M\|Y>") as info:
        Tenor.parse(bad)  # type: ignore[arg-type]
    assert info.value.value == bad


def test_properties_and_add_to() -> None:
    assert Tenor.parse("3M").months == 3
    assert Tenor.parse("2Y").months == 24
    assert Tenor.parse("1W").months is None
    assert Tenor.parse("1W").approx_days == 7.0
    assert Tenor.parse("1Y").approx_days == 365.25
    assert math.isinf(Tenor.parse("T").approx_days)
    assert Tenor.parse("6M").per_year == 2.0
    assert Tenor.parse("T").per_year == 0.0
    start = to_day("2024-01-31")
    assert from_day(Tenor.parse("1M").add_to(start)).isoformat() == "2024-02-29"
    assert from_day(Tenor.parse("1M").add_to(to_day("2024-02-29"), eom=True)).isoformat() == "2024-03-31"
    assert Tenor.parse("T").add_to(start) == NO_DATE
    with pytest.raises(DataError):
        Tenor(0, TenorUnit.M)


def test_parse_tenors_vectorised() -> None:
    counts, units = parse_tenors(["3M", None, "1y", "T", "ON", "", float("nan"), "3M"])
    assert counts.dtype == np.int16 and units.dtype == np.int8
    assert counts.tolist() == [3, 0, 1, 1, 1, 0, 0, 3]
    assert units.tolist() == [2, -1, 3, 4, 0, -1, -1, 2]
    counts, units = parse_tenors(np.array(["6M", "1W"]))
    assert counts.tolist() == [6, 1] and units.tolist() == [2, 1]


def test_parse_tenors_names_first_bad_value() -> None:
    with pytest.raises(DataError, match="index 2") as info:
        parse_tenors(["3M", None, "3Q", "0D"])
    assert info.value.value == "3Q"
    with pytest.raises(DataError, match="index 1"):
        parse_tenors(["3M", 5])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("daily", "1D"),
        ("weekly", "1W"),
        ("bi_weekly", "2W"),
        ("monthly", "1M"),
        ("bi_monthly", "2M"),
        ("quarterly", "3M"),
        ("semi_annually", "6M"),
        ("annually", "1Y"),
        ("sesquiennially", "18M"),
        ("biennially", "2Y"),
        ("at_maturity", "T"),
        ("Quarterly", "3M"),
    ],
)
def test_frequency_from_fire(name: str, expected: str) -> None:
    assert str(frequency_from_fire(name)) == expected


def test_frequency_from_fire_unknown() -> None:
    with pytest.raises(DataError, match="quarterly"):
        frequency_from_fire("fortnightly")
