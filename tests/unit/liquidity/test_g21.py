"""G21 line classification and the by-line maturity ladder (hand-computed figures).

As-of 2026-06-30; band ends (days): d1 1, d7 7, d30 30, d90 90, m6 183, y1 365, y5 1826, y10 3652.
Columns: A d1, B d7, C d30, D d90, E m6 + y1, F y5, G y10, H beyond, I undated, J overdue, K total.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import polars as pl
import pytest

from openalm.errors import ConfigError, DataError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.g21 import G21_AMOUNT_COLUMNS, G21_COLUMNS, g21_layout, g21_lines
from openalm.measures.liquidity.rules import load_rule_set, load_rule_table

AS_OF = dt.date(2026, 6, 30)
A = {"side": "asset"}
L = {"side": "liability"}
OFF = {"on_balance_sheet": False}

# (record, expected line, expected non-zero columns) -- one contract per kind of G21 row
BOOK: list[tuple[dict, str, dict[str, float]]] = [
    ({"instrument_type": "cash", **A, "balance": 10.0}, "1.1", {"A": 10.0}),
    (
        {"instrument_type": "central_bank_reserve", "product_subtype": "required_reserve", **A, "balance": 100.0},
        "1.2",
        {"I": 100.0},
    ),
    (
        {"instrument_type": "central_bank_reserve", "product_subtype": "excess_reserve", **A, "balance": 30.0},
        "1.2",
        {"A": 30.0},
    ),
    ({"instrument_type": "interbank_deposit", **A, "balance": 40.0}, "1.3", {"A": 40.0}),  # demand: next day
    ({"instrument_type": "interbank_lending", **A, "balance": 25.0, "principal_due": {20: 25.0}}, "1.4", {"C": 25.0}),
    (
        {
            "instrument_type": "reverse_repo",
            **A,
            "counterparty_type": "central_bank",
            "balance": 15.0,
            "principal_due": {5: 15.0},
        },
        "1.5.2",
        {"B": 15.0},
    ),
    (
        {
            "instrument_type": "reverse_repo",
            **A,
            "counterparty_type": "bank",
            "balance": 12.0,
            "principal_due": {60: 12.0},
        },
        "1.5.1",
        {"D": 12.0},
    ),
    (  # reverse repo with a non-financial counterparty: not 1.5, other dated assets
        {
            "instrument_type": "reverse_repo",
            **A,
            "counterparty_type": "non_financial_corporate",
            "balance": 7.0,
            "principal_due": {10: 7.0},
        },
        "1.9",
        {"C": 7.0},
    ),
    (  # loan: flows by band, overdue principal in J (255 = 5 + 50 + 100 + 50 + 40 + 10)
        {
            "instrument_type": "loan",
            **A,
            "balance": 255.0,
            "overdue_principal": 10.0,
            "provision_amount": 6.0,
            "principal_due": {1: 5.0, 100: 20.0, 300: 30.0, 1000: 100.0, 2000: 50.0, 4000: 40.0},
        },
        "1.6",
        {"A": 5.0, "E": 50.0, "F": 100.0, "G": 50.0, "H": 40.0, "J": 10.0},
    ),
    (
        {
            "instrument_type": "debt_security",
            "product_subtype": "government_bond",
            **A,
            "balance": 80.0,
            "principal_due": {400: 80.0},
        },
        "1.7.1",
        {"F": 80.0},
    ),
    (  # trading book: market value in 2-7 days whatever the maturity
        {
            "instrument_type": "debt_security",
            "product_subtype": "corporate_bond",
            **A,
            "book": "trading",
            "balance": 50.0,
            "market_value": 52.0,
            "principal_due": {800: 50.0},
        },
        "1.7.1",
        {"B": 52.0},
    ),
    (
        {
            "instrument_type": "debt_security",
            "product_subtype": "ncd",
            **A,
            "balance": 20.0,
            "principal_due": {45: 20.0},
        },
        "1.8",
        {"D": 20.0},
    ),
    ({"instrument_type": "equity_investment", **A, "balance": 9.0}, "1.7.2", {"I": 9.0}),
    (
        {"instrument_type": "fund_investment", **A, "book": "trading", "balance": 10.0, "market_value": 11.0},
        "1.7.3",
        {"B": 11.0},
    ),
    ({"instrument_type": "other_asset", **A, "balance": 5.0}, "1.10", {"I": 5.0}),
    ({"instrument_type": "other_asset", **A, "balance": 3.0, "principal_due": {15: 3.0}}, "1.9", {"C": 3.0}),
    (
        {"instrument_type": "central_bank_borrowing", **L, "balance": 60.0, "principal_due": {200: 60.0}},
        "3.1",
        {"E": 60.0},
    ),
    ({"instrument_type": "interbank_deposit", **L, "balance": 35.0}, "3.2.2", {"A": 35.0}),
    ({"instrument_type": "interbank_deposit", **L, "balance": 45.0, "principal_due": {25: 45.0}}, "3.2.1", {"C": 45.0}),
    ({"instrument_type": "interbank_lending", **L, "balance": 22.0, "principal_due": {3: 22.0}}, "3.3", {"B": 22.0}),
    (
        {
            "instrument_type": "repo",
            **L,
            "counterparty_type": "central_bank",
            "balance": 18.0,
            "principal_due": {7: 18.0},
        },
        "3.4.2",
        {"B": 18.0},
    ),
    (
        {
            "instrument_type": "repo",
            **L,
            "counterparty_type": "securities_firm",
            "balance": 16.0,
            "principal_due": {14: 16.0},
        },
        "3.4.1",
        {"C": 16.0},
    ),
    (
        {"instrument_type": "deposit_term", **L, "balance": 100.0, "principal_due": {100: 70.0, 500: 30.0}},
        "3.5.1",
        {"E": 70.0, "F": 30.0},
    ),
    ({"instrument_type": "deposit_notice", **L, "balance": 14.0}, "3.5.1", {"B": 14.0}),
    ({"instrument_type": "deposit_demand", **L, "balance": 200.0}, "3.5.2", {"A": 200.0}),
    (
        {
            "instrument_type": "debt_security",
            "product_subtype": "financial_bond",
            **L,
            "balance": 90.0,
            "principal_due": {1500: 90.0},
        },
        "3.6",
        {"F": 90.0},
    ),
    (
        {
            "instrument_type": "debt_security",
            "product_subtype": "ncd",
            **L,
            "balance": 40.0,
            "principal_due": {80: 40.0},
        },
        "3.7",
        {"D": 40.0},
    ),
    ({"instrument_type": "other_liability", **L, "balance": 8.0}, "3.9", {"I": 8.0}),
    (
        {"instrument_type": "derivative_leg", **A, **OFF, "balance": 65.0, "principal_due": {30: 65.0}},
        "2.1",
        {"C": 65.0},
    ),
    (
        {"instrument_type": "derivative_leg", **L, **OFF, "balance": 64.0, "principal_due": {30: 64.0}},
        "4.1",
        {"C": 64.0},
    ),
    ({"instrument_type": "acceptance", **A, **OFF, "balance": 25.0, "maturity_days": 120}, "4.1", {"E": 25.0}),
    ({"instrument_type": "loan_commitment", **A, **OFF, "balance": 0.0, "undrawn_amount": 33.0}, "4.2", {"I": 33.0}),
    (
        {"instrument_type": "loan_commitment", **L, **OFF, "balance": 0.0, "undrawn_amount": 12.0, "maturity_days": 10},
        "2.1",
        {"C": 12.0},
    ),
]
EQUITY = {"instrument_type": "equity_capital", "side": "equity", "balance": 100.0}


@pytest.fixture(scope="module")
def result() -> tuple[pl.DataFrame, pl.DataFrame, list]:
    frame = frame_from_records([rec for rec, _, _ in BOOK] + [EQUITY])
    return g21_lines(frame, as_of=AS_OF)


def _row(ladder: pl.DataFrame, line: str, view: str = "ALL") -> dict:
    rows = ladder.filter((pl.col("currency") == view) & (pl.col("line") == line)).to_dicts()
    assert len(rows) == 1, (line, view)
    return rows[0]


def test_g21_every_contract_on_its_line_and_columns(result):
    _ladder, contracts, assumptions = result
    main = contracts.filter(pl.col("g21_rule") != "map.provisions").sort("row")
    assert main["row"].to_list() == list(range(len(BOOK)))  # the equity row (last) is not in G21
    for k, (_rec, line, cols) in enumerate(BOOK):
        got = main.row(k, named=True)
        assert got["g21_line"] == line, (k, got["g21_rule"])
        for c in G21_AMOUNT_COLUMNS:
            assert got[c] == pytest.approx(cols.get(c, 0.0)), (k, line, c)
        assert got["K"] == pytest.approx(sum(cols.values()))
    assert assumptions == []


def test_g21_provision_negative_on_1_10(result):
    _ladder, contracts, _ = result
    prov = contracts.filter(pl.col("g21_rule") == "map.provisions")
    assert prov.height == 1
    rec = prov.row(0, named=True)
    assert rec["position_id"] == "P9" and rec["g21_line"] == "1.10"
    assert rec["I"] == -6.0 and rec["J"] == 0.0 and rec["K"] == -6.0  # the loan's overdue stays on 1.6


def test_g21_section_totals_and_gap_rows(result):
    ladder, _contracts, _ = result
    # Hand sums of BOOK per column A..J (assets include the provision -6 in I):
    expected = {
        "1": [85, 78, 35, 32, 50, 180, 50, 40, 108, 10],  # A: 10+30+40+5; B: 15+52+11; C: 25+7+3; I: 100+9+5-6
        "2": [0, 0, 77, 0, 0, 0, 0, 0, 0, 0],  # 65 + 12
        "3": [235, 54, 61, 40, 130, 120, 0, 0, 8, 0],  # A: 35+200; B: 22+18+14; E: 60+70; F: 30+90
        "4": [0, 0, 64, 0, 25, 0, 0, 0, 33, 0],
    }
    for line, vals in expected.items():
        row = _row(ladder, line)
        assert [row[c] for c in G21_AMOUNT_COLUMNS] == pytest.approx(vals), line
        assert row["K"] == pytest.approx(sum(vals))
    gap = _row(ladder, "5")
    cum = _row(ladder, "6")
    # row 5 = (1 + 2) - (3 + 4) per column A-H
    assert [gap[c] for c in "ABCDEFGH"] == pytest.approx([-150, 24, -13, -8, -105, 60, 50, 40])
    assert [cum[c] for c in "ABCDEFGH"] == pytest.approx([-150, -126, -139, -147, -252, -192, -142, -102])
    assert gap["I"] is None and gap["J"] is None and gap["K"] is None


def test_g21_parent_rows_sum_children(result):
    ladder, _contracts, _ = result
    for view in ("CNY", "ALL"):
        for parent, kids in {
            "1.5": ["1.5.1", "1.5.2"],
            "1.7": ["1.7.1", "1.7.2", "1.7.3"],
            "3.2": ["3.2.1", "3.2.2"],
            "3.5": ["3.5.1", "3.5.2"],
        }.items():
            p = _row(ladder, parent, view)
            for c in G21_COLUMNS:
                assert p[c] == pytest.approx(sum(_row(ladder, k, view)[c] for k in kids))
    assert _row(ladder, "1.7")["K"] == pytest.approx(80 + 52 + 9 + 11)
    assert _row(ladder, "3.5.1")["contracts"] == 2
    # no foreign contracts: FX view all zero, CNY view = ALL view
    assert _row(ladder, "1", "FX")["K"] == 0.0
    assert _row(ladder, "3", "CNY")["K"] == _row(ladder, "3")["K"]
    # of-which rows are empty without an hqla_level series
    assert _row(ladder, "1.7.1.1")["A"] is None


def test_g21_ladder_rows_follow_the_form_order(result):
    ladder, _contracts, _ = result
    lines = ladder.filter(pl.col("currency") == "ALL")["line"].to_list()
    assert lines[:3] == ["1", "1.1", "1.2"] and lines[-2:] == ["5", "6"]
    assert lines.index("1.10") == lines.index("1.9") + 1
    assert ladder["currency"].unique(maintain_order=True).to_list() == ["CNY", "FX", "ALL"]
    assert [ln.line for ln in g21_layout() if ln.kind == "of_which"] == ["1.7.1.1", "1.7.1.2", "1.7.1.3"]


def test_g21_currency_views_fx_and_missing_rate():
    frame = frame_from_records(
        [
            {"instrument_type": "loan", **A, "balance": 100.0, "principal_due": {5: 100.0}},
            {
                "instrument_type": "loan",
                **A,
                "currency": "USD",
                "fx_rc": 7.0,
                "balance": 10.0,
                "principal_due": {5: 10.0},
            },
            {"instrument_type": "deposit_demand", **L, "currency": "EUR", "fx_rc": 8.0, "balance": 5.0},
            {
                "instrument_type": "loan",
                **A,
                "currency": "JPY",
                "fx_rc": float("nan"),
                "balance": 1000.0,
                "principal_due": {5: 1000.0},
            },
        ]
    )
    ladder, contracts, assumptions = g21_lines(frame, as_of=AS_OF)
    assert _row(ladder, "1.6", "CNY")["B"] == 100.0
    assert _row(ladder, "1.6", "FX")["B"] == pytest.approx(70.0)  # 10 USD x 7; JPY without rate left out
    assert _row(ladder, "1.6", "ALL")["B"] == pytest.approx(170.0)
    assert _row(ladder, "3.5.2", "FX")["A"] == pytest.approx(40.0)  # 5 EUR x 8
    assert _row(ladder, "5", "ALL")["A"] == pytest.approx(-40.0)
    assert contracts.filter(pl.col("currency") == "JPY")["B"].to_list() == [1000.0]  # contract currency
    codes = {a.code: a for a in assumptions}
    assert set(codes) == {"g21.missing_fx_rate"}
    assert codes["g21.missing_fx_rate"].contracts == 1 and codes["g21.missing_fx_rate"].sample == ("P4",)


def test_g21_hqla_of_which_rows():
    frame = frame_from_records(
        [
            {
                "instrument_type": "debt_security",
                "product_subtype": "government_bond",
                **A,
                "balance": 80.0,
                "principal_due": {400: 80.0},
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "corporate_bond",
                **A,
                "balance": 30.0,
                "principal_due": {20: 30.0},
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "financial_bond",
                **A,
                "balance": 5.0,
                "principal_due": {20: 5.0},
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "ncd",
                **A,
                "balance": 7.0,
                "principal_due": {20: 7.0},
            },
        ]
    )
    levels = pl.Series("hqla_level", ["level_1", "level_2a", "non_hqla", "level_1"])
    ladder, contracts, _ = g21_lines(frame, hqla_level=levels, as_of=AS_OF)
    assert contracts["g21_hqla_line"].to_list() == ["1.7.1.1", "1.7.1.2", None, None]  # NCDs (1.8) have no of-which
    assert _row(ladder, "1.7.1.1")["F"] == 80.0 and _row(ladder, "1.7.1.1")["K"] == 80.0
    assert _row(ladder, "1.7.1.2")["C"] == 30.0
    assert _row(ladder, "1.7.1.3")["K"] == 0.0
    assert _row(ladder, "1.7.1")["K"] == 115.0  # of-which rows are not added again
    assert _row(ladder, "1")["K"] == 122.0
    with pytest.raises(DataError, match="hqla_level has 2 values"):
        g21_lines(frame, hqla_level=levels.head(2))


def test_g21_assumptions_for_items_the_frame_cannot_place():
    frame = frame_from_records(
        [
            {"instrument_type": "central_bank_reserve", **A, "balance": 50.0},  # no subtype
            {"instrument_type": "repo", **L, "balance": 20.0, "principal_due": {3: 20.0}},  # no counterparty
            {"instrument_type": "reverse_repo", **A, "balance": 9.0, "principal_due": {3: 9.0}},
            {"instrument_type": "loan", "balance": 4.0},  # no side
            {"instrument_type": "guarantee", **A, **OFF, "balance": 6.0, "maturity_days": 40},  # needs as_of
            {"instrument_type": "loan_commitment", **A, **OFF, "balance": 3.0},  # no undrawn_amount
        ]
    )
    ladder, contracts, assumptions = g21_lines(frame)  # no as_of
    codes = {a.code: a for a in assumptions}
    assert set(codes) == {
        "g21.reserve_without_subtype",
        "g21.repo_without_counterparty_type",
        "g21.reverse_repo_without_counterparty_type",
        "g21.not_placed",
        "g21.maturity_without_as_of",
        "g21.undrawn_amount_missing",
    }
    assert codes["g21.not_placed"].sample == ("P4",) and codes["g21.not_placed"].amount_rc == 4.0
    assert codes["g21.maturity_without_as_of"].sample == ("P5",)
    by_id = {r["position_id"]: r for r in contracts.to_dicts()}
    assert "P4" not in by_id
    assert by_id["P1"]["g21_line"] == "1.2" and by_id["P1"]["I"] == 50.0
    assert by_id["P2"]["g21_line"] == "3.4.1" and by_id["P3"]["g21_line"] == "1.5.1"
    assert by_id["P5"]["g21_line"] == "4.1" and by_id["P5"]["I"] == 6.0  # undated column without as_of
    assert by_id["P6"]["g21_line"] == "4.2" and by_id["P6"]["I"] == 3.0  # balance used as undrawn
    # with the as-of date the guarantee goes by its maturity (40 days: 31-90日)
    _l2, c2, a2 = g21_lines(frame, as_of=AS_OF)
    assert c2.filter(pl.col("position_id") == "P5")["D"].to_list() == [6.0]
    assert "g21.maturity_without_as_of" not in {a.code for a in a2}
    assert math.isclose(_row(ladder, "4", "ALL")["K"], 9.0)


def test_g21_only_for_the_china_rule_set():
    frame = frame_from_records([{"instrument_type": "cash", **A, "balance": 1.0}])
    with pytest.raises(ConfigError, match="Chinese 1104 return"):
        g21_lines(frame, load_rule_set("basel"))
    ladder, _c, _a = g21_lines(frame, load_rule_set("china"))
    assert _row(ladder, "1.1")["A"] == 1.0


def test_g21_rule_table_errors_are_config_errors():
    table = load_rule_table("china", "g21_lines")
    rule = table.rule("map.cash")
    bad_key = dataclasses.replace(rule, extra={**rule.extra, "match": {"colour": "red"}})
    bad_line = dataclasses.replace(rule, line="1.7")  # a parent line cannot receive contracts
    frame = frame_from_records([{"instrument_type": "cash", **A, "balance": 1.0}])
    for bad, msg in ((bad_key, "unknown match key 'colour'"), (bad_line, "not a detail line")):
        broken = dataclasses.replace(table, rows={**table.rows, "map.cash": bad})
        with pytest.raises(ConfigError, match=msg):
            g21_lines(frame, broken)
