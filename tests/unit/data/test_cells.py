"""Cell parsing rules: text (CSV, Excel) and typed Parquet columns."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pyarrow as pa
import pytest

from openalm.data import POSITIONS, TABLES
from openalm.data._cells import coerce_typed, parse_text
from openalm.errors import SchemaError


def parse(values: list[str | None], column: str, table: str = "positions") -> tuple[list[object], dict[str, list[int]]]:
    result = parse_text(pa.array(values, pa.string()), TABLES[table].column(column))
    problems = {p.reason: np.flatnonzero(p.mask).tolist() for p in result.problems}
    return result.values.to_pylist(), problems


def test_dates_iso_compact_and_sentinels() -> None:
    values, problems = parse(
        ["2026-06-30", "20260630", "99991231", "20991231", "19000101", "00000000", "9999-12-31", "", None],
        "maturity_date",
    )
    assert values == [dt.date(2026, 6, 30), dt.date(2026, 6, 30)] + [None] * 7
    assert problems == {}


def test_sentinel_dates_in_an_all_iso_column_are_null() -> None:
    values, problems = parse(["2026-06-30", "9999-12-31", "1900-01-01"], "maturity_date")
    assert values == [dt.date(2026, 6, 30), None, None]
    assert problems == {}


def test_bad_and_impossible_dates() -> None:
    values, problems = parse(
        ["2026-02-30", "2026-13-01", "30/06/2026", "2026-6-30", "2026-06-30T00:00", "20260230", "2024-02-29"],
        "maturity_date",
    )
    assert problems == {"impossible_date": [0, 1, 5], "bad_date": [2, 3, 4]}
    assert values[-1] == dt.date(2024, 2, 29)
    assert values[:6] == [None] * 6


def test_dates_tolerate_surrounding_spaces() -> None:
    values, problems = parse([" 2026-06-30 ", "  "], "maturity_date")
    assert values == [dt.date(2026, 6, 30), None]
    assert problems == {}


def test_numbers() -> None:
    values, problems = parse(
        ["1000000.00", "-0.5", "1e-05", ".5", " 12 ", "1,000.00", "3.45%", "abc", "nan", "inf", "1e400", ""],
        "accrued_interest",
    )
    assert values[:5] == [1000000.0, -0.5, 1e-05, 0.5, 12.0]
    assert values[5:] == [None] * 7
    assert problems == {"bad_number": [5, 6, 7, 8, 9, 10]}


def test_integers_accept_a_zero_fraction() -> None:
    values, problems = parse(["7", "7.0", "7.5", "x", None], "notice_period_days")
    assert values == [7, 7, None, None, None]
    assert problems == {"bad_integer": [2, 3]}


def test_booleans() -> None:
    cells = ["true", "false", "TRUE", "FALSE", "True", "False", "1", "0", "Y", "N", "yes", "t", None]
    values, problems = parse(cells, "on_balance_sheet")
    assert values == [True, False] * 5 + [None, None, None]
    assert problems == {"bad_bool": [10, 11]}


def test_enums_are_exact_lower_case_codes() -> None:
    result = parse_text(
        pa.array(["loan", "Loan", "LOAN", "lending", " loan", None]), POSITIONS.column("instrument_type")
    )
    assert result.values.to_pylist() == ["loan", None, None, None, None, None]
    (problem,) = result.problems
    assert problem.reason == "unknown_code"
    assert np.flatnonzero(problem.mask).tolist() == [1, 2, 3, 4]
    assert problem.hint is not None
    assert "did you mean 'loan'" in problem.hint("Loan")
    assert problem.hint("lending") == ""


def test_product_subtype_accepts_any_snake_case_code() -> None:
    values, problems = parse(["mortgage_residential", "green_loan", "Green Loan", "x-y"], "product_subtype")
    assert values == ["mortgage_residential", "green_loan", None, None]
    assert problems == {"bad_code": [2, 3]}


def test_currency_country_and_tenors() -> None:
    assert parse(["CNY", "CNH", "cny", "RMB1"], "currency")[1] == {"bad_currency": [2, 3]}
    assert parse(["CN", "CHN", "cn"], "country_of_residence", "counterparties")[1] == {"bad_country": [1, 2]}
    values, problems = parse(["1M", "3M", "18M", "1Y", "7D", "2W", "T", "0M", "1m", "ON", "M"], "reset_frequency")
    assert problems == {"bad_tenor": [7, 8, 9, 10]}
    assert values[:7] == ["1M", "3M", "18M", "1Y", "7D", "2W", "T"]
    assert parse(["ON", "TN", "SN", "1W", "T"], "tenor", "curves")[1] == {"bad_tenor": [4]}


def test_attributes_must_be_json_objects() -> None:
    values, problems = parse(['{"raw": "01"}', "[1]", "{bad", None], "attributes")
    assert values == ['{"raw": "01"}', None, None, None]
    assert problems == {"bad_json": [1, 2]}


def test_blank_ids_are_null_but_ids_are_not_trimmed() -> None:
    values, problems = parse([" 007 ", "   ", ""], "position_id")
    assert values == [" 007 ", None, None]
    assert problems == {}


# ---------------------------------------------------------------------------- typed (Parquet)


def coerce(values: pa.Array, column: str, table: str = "positions") -> tuple[list[object], dict[str, list[int]]]:
    result = coerce_typed(values, TABLES[table].column(column), "x.parquet")
    problems = {p.reason: np.flatnonzero(p.mask).tolist() for p in result.problems}
    return result.values.to_pylist(), problems


def test_typed_dates() -> None:
    assert coerce(pa.array([dt.date(2026, 6, 30), dt.date(9999, 12, 31)]), "maturity_date")[0] == [
        dt.date(2026, 6, 30),
        None,
    ]
    shanghai = pa.array([1622476800], pa.timestamp("s", tz="Asia/Shanghai"))  # 2021-06-01 00:00 +08:00
    assert coerce(shanghai, "maturity_date")[0] == [dt.date(2021, 6, 1)]
    assert coerce(pa.array([20260630, 99991231, 20260230]), "maturity_date") == (
        [dt.date(2026, 6, 30), None, None],
        {"impossible_date": [2]},
    )


def test_typed_numbers() -> None:
    decimals = pa.array([decimal.Decimal("1000000.123456"), None], pa.decimal128(38, 6))
    assert coerce(decimals, "principal_balance")[0] == [1000000.123456, None]
    assert coerce(pa.array([1.5, float("nan"), float("inf")]), "principal_balance") == (
        [1.5, None, None],
        {"bad_number": [2]},
    )
    assert coerce(pa.array([3, 4], pa.int32()), "principal_balance")[0] == [3.0, 4.0]
    assert coerce(pa.array([1.0, 2.5]), "pool_count") == ([1, None], {"bad_integer": [1]})


def test_typed_bools_ids_and_dictionary_strings() -> None:
    assert coerce(pa.array([1, 0]), "on_balance_sheet")[0] == [True, False]
    result = coerce_typed(pa.array([12345, None]), POSITIONS.column("position_id"), "x.parquet")
    assert result.values.to_pylist() == ["12345", None]
    assert result.notes
    codes = pa.array(["loan", "Loan"]).dictionary_encode()
    assert coerce(codes, "instrument_type") == (["loan", None], {"unknown_code": [1]})
    assert coerce(pa.array(["2026-06-30"], pa.large_string()), "maturity_date")[0] == [dt.date(2026, 6, 30)]


def test_typed_map_becomes_json_text() -> None:
    values = pa.array([[("raw", "01")], None], pa.map_(pa.string(), pa.string()))
    assert coerce(values, "attributes")[0] == ['{"raw": "01"}', None]


@pytest.mark.parametrize(
    ("values", "column"),
    [
        (pa.array([True]), "maturity_date"),
        (pa.array([dt.date(2026, 1, 1)]), "principal_balance"),
        (pa.array([1.5]), "instrument_type"),
        (pa.array([1.5]), "on_balance_sheet"),
    ],
)
def test_incompatible_physical_type_is_a_schema_error(values: pa.Array, column: str) -> None:
    with pytest.raises(SchemaError, match=column):
        coerce_typed(values, POSITIONS.column(column), "positions.parquet")


def test_decimal_amounts_load_exactly_as_their_text() -> None:
    # Arrow's direct decimal128 -> float64 cast can be 1 ulp off; the loader goes through the
    # decimal text, so a Parquet decimal loads to the same float as the CSV cell does
    import decimal

    import pyarrow as pa

    from openalm.data._cells import coerce_typed
    from openalm.data.schema import POSITIONS

    rng = __import__("random").Random(5)
    values = [decimal.Decimal(rng.randint(0, 10**14)) / decimal.Decimal(10**6) for _ in range(20_000)]
    loaded = coerce_typed(pa.array(values, pa.decimal128(38, 6)), POSITIONS.column("principal_balance"), "x")
    assert loaded.values.to_pylist() == [float(str(v)) for v in values]
