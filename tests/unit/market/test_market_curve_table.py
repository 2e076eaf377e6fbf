"""Building curves from the ``curves`` table (positions.md 5.2) and choosing the base curve."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
import QuantLib as ql  # noqa: N813 -- the conventional alias

from openalm.errors import MarketDataError, SchemaError
from openalm.market import CurveSet, ZeroCurve, curves_from_table

AS_OF = dt.date(2024, 1, 31)


def table(rows: list[dict[str, object]]) -> pa.Table:
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    return pa.table({k: [r.get(k) for r in rows] for k in keys})


def zero_rows(curve_id: str, ccy: str, points: dict[str, float], **extra: object) -> list[dict[str, object]]:
    return [
        {"curve_id": curve_id, "currency": ccy, "curve_type": "zero", "tenor": t, "value": v, **extra}
        for t, v in points.items()
    ]


def test_pillar_dates_from_tenors() -> None:
    rows = zero_rows("C", "CNY", {"ON": 0.01, "TN": 0.01, "SN": 0.01, "1W": 0.011, "1M": 0.012, "1Y": 0.02})
    cs = curves_from_table(table(rows), AS_OF)
    pts = cs.points("C")
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in pts.days]
    assert dates == [
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 2),
        dt.date(2024, 2, 3),
        dt.date(2024, 2, 7),
        dt.date(2024, 2, 29),  # 31 Jan + 1M clipped to the month end (leap year)
        dt.date(2025, 1, 31),
    ]
    c = cs["C"]
    assert c.times.tolist() == [1 / 365, 2 / 365, 3 / 365, 7 / 365, 29 / 365, 366 / 365]
    assert c.rates.tolist() == [0.01, 0.01, 0.01, 0.011, 0.012, 0.02]  # continuous ACT/365F kept exactly


def test_tenor_date_overrides_tenor_and_rows_are_sorted() -> None:
    rows = [
        {"curve_id": "C", "currency": "USD", "curve_type": "zero", "tenor": "2Y", "value": 0.03},
        {
            "curve_id": "C",
            "currency": "USD",
            "curve_type": "zero",
            "tenor": "1Y",
            "tenor_date": dt.date(2025, 2, 3),
            "value": 0.025,
        },
    ]
    c = curves_from_table(table(rows), AS_OF)["C"]
    assert c.times.tolist() == [(dt.date(2025, 2, 3) - AS_OF).days / 365, 731 / 365]
    assert c.rates.tolist() == [0.025, 0.03]


@pytest.mark.parametrize(
    ("compounding", "day_count", "ql_comp", "ql_freq", "ql_dc"),
    [
        ("annual", "act_365f", ql.Compounded, ql.Annual, ql.Actual365Fixed()),
        ("semi_annual", "act_365f", ql.Compounded, ql.Semiannual, ql.Actual365Fixed()),
        ("quarterly", "act_360", ql.Compounded, ql.Quarterly, ql.Actual360()),
        ("simple", "act_360", ql.Simple, ql.Annual, ql.Actual360()),
        ("simple", "act_365f", ql.Simple, ql.Annual, ql.Actual365Fixed()),
        ("continuous", "act_360", ql.Continuous, ql.Annual, ql.Actual360()),
        ("annual", "act_act_isda", ql.Compounded, ql.Annual, ql.ActualActual(ql.ActualActual.ISDA)),
        ("annual", "30_360_us", ql.Compounded, ql.Annual, ql.Thirty360(ql.Thirty360.BondBasis)),
        ("annual", "30e_360", ql.Compounded, ql.Annual, ql.Thirty360(ql.Thirty360.EurobondBasis)),
    ],
)
def test_compounding_conversion_matches_quantlib_discount_factor(
    compounding: str, day_count: str, ql_comp: int, ql_freq: int, ql_dc: ql.DayCounter
) -> None:
    points = {"3M": 0.021, "1Y": 0.025, "5Y": 0.031, "30Y": 0.04}
    rows = zero_rows("C", "CNY", points, compounding=compounding, day_count=day_count)
    cs = curves_from_table(table(rows), AS_OF)
    c = cs["C"]
    ql_as_of = ql.Date(AS_OF.day, AS_OF.month, AS_OF.year)
    for k, (_tenor, r) in enumerate(points.items()):
        day = int(cs.points("C").days[k])
        pillar = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        ql_pillar = ql.Date(pillar.day, pillar.month, pillar.year)
        ir = ql.InterestRate(r, ql_dc, ql_comp, ql_freq)
        expected_df = ir.discountFactor(ql_as_of, ql_pillar)
        assert c.discount(float(c.times[k])) == pytest.approx(expected_df, rel=1e-13, abs=0)


def test_compounding_conversion_by_hand() -> None:
    rows = zero_rows("A", "CNY", {"2Y": 0.03}, compounding="annual") + zero_rows(
        "S", "CNY", {"6M": 0.02}, compounding="simple"
    )
    cs = curves_from_table(table(rows), AS_OF)
    # annual, ACT/365F default: z = ln(1.03) whatever the tenor
    assert cs["A"].rates[0] == pytest.approx(math.log(1.03), abs=1e-16)
    t = (dt.date(2024, 7, 31) - AS_OF).days / 365
    assert cs["S"].rates[0] == pytest.approx(math.log(1 + 0.02 * t) / t, abs=1e-16)


def test_discount_factor_curve() -> None:
    rows = [
        {"curve_id": "D", "currency": "EUR", "curve_type": "discount_factor", "tenor": "1Y", "value": 0.97},
        {"curve_id": "D", "currency": "EUR", "curve_type": "discount_factor", "tenor": "2Y", "value": 0.93},
    ]
    c = curves_from_table(table(rows), AS_OF)["D"]
    assert c.discount(366 / 365) == pytest.approx(0.97, rel=1e-15)
    assert c.discount(731 / 365) == pytest.approx(0.93, rel=1e-15)


def test_single_point_is_flat_and_polars_input_works() -> None:
    df = pl.DataFrame(
        {"curve_id": ["C"], "currency": ["CNY"], "curve_type": ["zero"], "tenor": ["1Y"], "value": [0.02]}
    )
    c = curves_from_table(df, "2024-01-31")["C"]
    assert c.zero(np.array([0.01, 1.0, 40.0])).tolist() == [0.02, 0.02, 0.02]


def test_other_as_of_dates_are_ignored_and_counted() -> None:
    rows = zero_rows("C", "CNY", {"1Y": 0.02, "2Y": 0.025}, as_of_date=AS_OF)
    rows += zero_rows("C", "CNY", {"1Y": 0.5, "2Y": 0.5}, as_of_date=dt.date(2024, 1, 30))
    cs = curves_from_table(table(rows), AS_OF)
    assert cs.rows_ignored == 2
    assert cs["C"].rates.tolist() == [0.02, 0.025]
    assert curves_from_table(table(zero_rows("C", "CNY", {"1Y": 0.02})), AS_OF).rows_ignored == 0


def test_par_and_other_curves_are_kept_but_not_discount_curves() -> None:
    rows = zero_rows("CNY_CGB", "CNY", {"1Y": 0.02})
    rows += [
        {"curve_id": "CNY_PAR", "currency": "CNY", "curve_type": "par", "tenor": "1Y", "value": 0.021},
        {"curve_id": "CNY_FTP", "currency": "CNY", "curve_type": "ftp_base", "tenor": "1Y", "value": 0.022},
    ]
    cs = curves_from_table(table(rows), AS_OF)
    assert list(cs) == ["CNY_CGB"] and len(cs) == 1
    assert "CNY_PAR" not in cs
    assert cs.points("CNY_PAR").values.tolist() == [0.021]
    assert cs.points("CNY_FTP").curve_type == "ftp_base"
    assert cs.curve_ids(include_other=True) == ["CNY_CGB", "CNY_FTP", "CNY_PAR"]
    with pytest.raises(MarketDataError, match="bootstrapping par curves"):
        cs["CNY_PAR"]
    with pytest.raises(MarketDataError, match="not a discount curve"):
        cs["CNY_FTP"]
    with pytest.raises(KeyError):
        cs["NOPE"]
    with pytest.raises(MarketDataError, match="NOPE"):
        cs["NOPE"]
    assert cs.get("NOPE") is None
    # the base discount curve ignores par curves
    assert cs.base_discount_curve("CNY").curve_id == "CNY_CGB"
    with pytest.raises(MarketDataError, match="bootstrapping"):
        cs.base_discount_curve("CNY", {"CNY": "CNY_PAR"})


def test_base_discount_curve_rules() -> None:
    rows = zero_rows("CNY_CGB", "CNY", {"1Y": 0.02}) + zero_rows("CNY_FR007", "CNY", {"1Y": 0.021})
    rows += zero_rows("USD_SOFR", "USD", {"1Y": 0.05})
    cs = curves_from_table(table(rows), AS_OF)
    assert cs.base_discount_curve("USD").curve_id == "USD_SOFR"
    assert cs.base_discount_curve("CNY", {"CNY": "CNY_FR007"}).curve_id == "CNY_FR007"
    with pytest.raises(MarketDataError, match=r"2 zero curves for currency CNY.*CNY_CGB.*CNY_FR007"):
        cs.base_discount_curve("CNY")
    with pytest.raises(MarketDataError, match="no zero curve for currency EUR"):
        cs.base_discount_curve("EUR")
    with pytest.raises(MarketDataError, match="no such curve"):
        cs.base_discount_curve("CNY", {"CNY": "CNY_MISSING"})
    with pytest.raises(MarketDataError, match="in USD"):
        cs.base_discount_curve("CNY", {"CNY": "USD_SOFR"})


def test_curve_set_shocked_by_currency() -> None:
    from openalm.market import Shock

    cs = CurveSet(
        [
            ZeroCurve.flat(0.02, AS_OF, curve_id="A", currency="CNY"),
            ZeroCurve.flat(0.03, AS_OF, curve_id="B", currency="USD"),
        ]
    )
    up = cs.shocked({"CNY": Shock.parallel_bp(100)})
    assert up["A"].zero(1.0) == pytest.approx(0.03) and up["B"].zero(1.0) == 0.03
    assert cs["A"].zero(1.0) == 0.02


def error_of(rows: list[dict[str, object]]) -> MarketDataError:
    with pytest.raises(MarketDataError) as info:
        curves_from_table(table(rows), AS_OF)
    return info.value


def test_error_duplicate_tenor_names_curve_row_column() -> None:
    rows = zero_rows("C", "CNY", {"1Y": 0.02, "2Y": 0.025}) + zero_rows("C", "CNY", {"12M": 0.021})
    err = error_of(rows)
    assert "'C'" in str(err) and "duplicate pillar" in str(err)
    assert err.row == 3 and err.column == "tenor" and err.value == "12M"


def test_error_non_numeric_value() -> None:
    err = error_of(zero_rows("C", "CNY", {"1Y": "abc"}))  # type: ignore[dict-item]
    assert err.row == 1 and err.column == "value" and err.value == "abc"
    assert "curve 'C'" in str(err) and "not a number" in str(err)


def test_error_unknown_compounding_and_bad_tenor_all_reported() -> None:
    rows = zero_rows("C", "CNY", {"1Y": 0.02}, compounding="monthly") + zero_rows("D", "CNY", {"1X": 0.02})
    err = error_of(rows)
    text = str(err)
    assert "2 problems" in text
    assert "curve 'C', row 1, column 'compounding', value 'monthly'" in text
    assert "curve 'D', row 2, column 'tenor', value '1X'" in text
    assert err.row == 1 and err.column == "compounding"
    assert len(err.problems) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("rows", "column"),
    [
        (zero_rows("C", "CNY", {"1Y": 0.02}, interpolation="monotone_cubic"), "interpolation"),
        (zero_rows("C", "CNY", {"1Y": 0.02}, day_count="bus_252"), "day_count"),
        (
            [{"curve_id": "C", "currency": "CNY", "curve_type": "yield", "tenor": "1Y", "value": 0.02}],
            "curve_type",
        ),
        (zero_rows("C", "CNY", {"1Y": 0.02}, tenor_date=dt.date(2024, 1, 31)), "tenor_date"),
        (zero_rows("C", "CNY", {"1Y": 0.02}, tenor_date="31/12/2024"), "tenor_date"),
        (
            [
                {
                    "curve_id": "C",
                    "currency": "CNY",
                    "curve_type": "discount_factor",
                    "tenor": "1Y",
                    "value": -1.0,
                }
            ],
            "value",
        ),
        (zero_rows("C", "CNY", {"1Y": -2.0}, compounding="simple"), "value"),
        (zero_rows("C", "CNY", {"1Y": 0.02}) + zero_rows("C", "USD", {"2Y": 0.02}), "currency"),
        (
            [{"curve_id": None, "currency": "CNY", "curve_type": "zero", "tenor": "1Y", "value": 0.02}],
            "curve_id",
        ),
    ],
)
def test_errors_name_the_column(rows: list[dict[str, object]], column: str) -> None:
    err = error_of(rows)
    assert err.column == column, str(err)
    assert err.file == "curves"


def test_missing_required_column() -> None:
    with pytest.raises(SchemaError, match="value"):
        curves_from_table(
            pa.table({"curve_id": ["C"], "currency": ["CNY"], "curve_type": ["zero"], "tenor": ["1Y"]}), AS_OF
        )
