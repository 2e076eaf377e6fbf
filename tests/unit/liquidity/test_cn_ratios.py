"""Chinese liquidity ratios: worked examples of regulatory.md 4.7 and 6.3, and filling rules."""

from __future__ import annotations

import math

import polars as pl
import pytest

from openalm.errors import ConfigError
from openalm.measures.liquidity.cn_ratios import (
    CnRatioSettings,
    compute_cn_ratios,
    core_liability_ratio,
    liquidity_gap,
    liquidity_matching_ratio,
    liquidity_ratio,
)
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.rules import RuleSet, load_rule_table

MY_TABLES = ("liquidity_ratio", "lmr_weights", "core_liabilities", "limits")


def _rules(overrides: dict[str, dict[str, float]] | None = None) -> RuleSet:
    overrides = overrides or {}
    return RuleSet("china", {n: load_rule_table("china", n, overrides.get(n)) for n in MY_TABLES})


def _line(lines: pl.DataFrame, code: str, cc: str = "C") -> float:
    return lines.filter((pl.col("code") == code) & (pl.col("currency_column") == cc))["amount"].item()


# ---------------------------------------------------------------- CN-LR-1 (regulatory.md 4.7)


def _cn_lr_1_frame() -> pl.DataFrame:
    bank = {"counterparty_type": "bank"}
    return frame_from_records(
        [
            {"instrument_type": "cash", "side": "asset", "balance": 10.0},
            {
                "instrument_type": "central_bank_reserve",
                "product_subtype": "excess_reserve",
                "side": "asset",
                "balance": 50.0,
            },
            {
                "instrument_type": "central_bank_reserve",
                "product_subtype": "required_reserve",
                "side": "asset",
                "balance": 100.0,
            },
            {
                "instrument_type": "interbank_lending",
                "side": "asset",
                "balance": 30.0,
                "principal_due": {5: 30.0},
                **bank,
            },
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 40.0,
                "principal_due": {20: 40.0},
                "interest_due": {20: 5.0},
            },
            # non-performing: excluded from 1.6 (and its interest from 1.5)
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 99.0,
                "principal_due": {10: 99.0},
                "interest_due": {10: 3.0},
                "asset_quality_class": "substandard",
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "government_bond",
                "side": "asset",
                "balance": 20.0,
                "principal_due": {25: 20.0},
                "listing_market": "cn_interbank",
            },
            # 100 at market, 40 pledged in repo -> 60 in row 1.8
            {
                "instrument_type": "debt_security",
                "product_subtype": "policy_bank_bond",
                "side": "asset",
                "balance": 100.0,
                "principal_due": {700: 100.0},
                "listing_market": "cn_interbank",
                "encumbered_amount": 40.0,
                "encumbrance_type": "repo",
            },
            {
                "instrument_type": "deposit_demand",
                "side": "liability",
                "balance": 500.0,
                "counterparty_type": "retail_individual",
            },
            {"instrument_type": "deposit_term", "side": "liability", "balance": 150.0, "principal_due": {15: 150.0}},
            {"instrument_type": "deposit_term", "side": "liability", "balance": 300.0, "principal_due": {200: 300.0}},
            {"instrument_type": "other_liability", "side": "liability", "balance": 10.0, "principal_due": {10: 10.0}},
            {
                "instrument_type": "debt_security",
                "product_subtype": "ncd",
                "side": "liability",
                "balance": 40.0,
                "principal_due": {20: 40.0},
            },
        ]
    )


def test_cn_lr_1_liquidity_ratio_30_71() -> None:
    # CN-LR-1 lists 1.4 = 30 and 2.3 = 20 together, which the G22 netting rule forbids (only one side
    # of the netted interbank position can be positive); the 20 is carried in 2.7 (issued NCD due
    # within a month: 40 = 20 "other" + 20), which keeps the example's totals 215 / 700.
    lines, contracts = liquidity_ratio(_cn_lr_1_frame(), _rules())
    expected = {
        "cash": 10,
        "excess_reserve": 50,
        "interbank_net_asset": 30,
        "receivable": 5,
        "performing_loan": 40,
        "bond_due": 20,
        "marketable_bond": 60,
        "liquid_assets": 215,
        "demand_deposit": 500,
        "term_deposit_due": 150,
        "interbank_net_liability": 0,
        "payable": 10,
        "other_liability_due": 40,
        "liquid_liabilities": 700,
    }
    for code, amount in expected.items():
        assert _line(lines, code) == pytest.approx(amount), code
    assert _line(lines, "ratio") == pytest.approx(215 / 700)
    assert round(_line(lines, "ratio") * 100, 2) == 30.71
    # drill-down identity: per-contract amounts sum to the (non-netted) lines
    by = contracts.group_by("g22_code").agg(pl.col("g22_amount").sum())
    for code, amount in by.iter_rows():
        assert _line(lines, code) == pytest.approx(amount), code
    # the substandard loan (row index 5) is in no line
    assert 5 not in contracts["row"].to_list()


def test_cn_lr_1_compute_values_and_currency_columns() -> None:
    res = compute_cn_ratios(_cn_lr_1_frame(), _rules())
    assert res.values["liquidity_ratio"] == pytest.approx(215 / 700)
    # all rows are CNY: column B is empty, the ratio there is undefined
    b = res.g22_lines.filter((pl.col("currency_column") == "B") & (pl.col("code") == "ratio"))["amount"].item()
    assert math.isnan(b)


def test_g22_interbank_netting_only_one_side_positive() -> None:
    # gross interbank assets 50 (lending 30 + reverse repo with a bank 20) vs liabilities 20 -> 1.4 = 30, 2.3 = 0
    frame = frame_from_records(
        [
            {"instrument_type": "interbank_lending", "side": "asset", "balance": 30.0, "principal_due": {3: 30.0}},
            {
                "instrument_type": "reverse_repo",
                "side": "asset",
                "balance": 20.0,
                "principal_due": {3: 20.0},
                "counterparty_type": "bank",
            },
            {"instrument_type": "interbank_deposit", "side": "liability", "balance": 20.0, "counterparty_type": "bank"},
            {
                "instrument_type": "repo",
                "side": "liability",
                "balance": 70.0,
                "principal_due": {60: 70.0},
                "counterparty_type": "bank",
            },  # due after a month: not in 2.3
        ]
    )
    lines, _ = liquidity_ratio(frame, _rules())
    assert _line(lines, "interbank_net_asset") == pytest.approx(30.0)
    assert _line(lines, "interbank_net_liability") == 0.0


def test_g22_equities_funds_at_half_and_overdue_rule() -> None:
    frame = frame_from_records(
        [
            {
                "instrument_type": "equity_investment",
                "side": "asset",
                "balance": 80.0,
                "fair_value": 100.0,
                "listing_market": "cn_exchange",
            },
            {"instrument_type": "fund_investment", "side": "asset", "balance": 50.0, "listing_market": "unlisted"},
            # overdue 10 days past due -> counted; 45 days -> not counted (G22: overdue <= 1 month counts)
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 20.0,
                "overdue_principal": 7.0,
                "days_past_due": 10,
                "maturity_days": -10,
            },
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 20.0,
                "overdue_principal": 9.0,
                "days_past_due": 45,
                "maturity_days": -45,
            },
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 20.0,
                "overdue_principal": 5.0,
                "maturity_days": -5,
            },
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 100.0},
        ]
    )
    out: list = []
    lines, _ = liquidity_ratio(frame, _rules(), assumptions=out)
    assert _line(lines, "marketable_equity_fund") == pytest.approx(50.0)  # 50% of market value 100
    assert _line(lines, "performing_loan") == pytest.approx(7.0)
    codes = {a.code for a in out}
    assert "ratios.g22_overdue_asset_without_days_past_due" in codes


def test_g22_currency_columns_and_missing_fx() -> None:
    frame = frame_from_records(
        [
            {"instrument_type": "cash", "side": "asset", "balance": 10.0},
            {"instrument_type": "cash", "side": "asset", "balance": 10.0, "currency": "USD", "fx_rc": 7.0},
            {"instrument_type": "cash", "side": "asset", "balance": 5.0, "currency": "EUR", "fx_rc": float("nan")},
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 100.0},
        ]
    )
    res = compute_cn_ratios(frame, _rules())
    assert _line(res.g22_lines, "cash", "A") == 10.0
    assert _line(res.g22_lines, "cash", "B") == 70.0
    assert _line(res.g22_lines, "cash", "C") == 80.0
    assert any(a.code == "ratios.fx_rate_missing" and a.contracts == 1 for a in res.assumptions)


# ---------------------------------------------------------------- CN-LMR-1 (regulatory.md 4.7)


def _cn_lmr_1_frame() -> pl.DataFrame:
    bank = {"counterparty_type": "bank"}
    return frame_from_records(
        [
            {
                "instrument_type": "central_bank_borrowing",
                "side": "liability",
                "balance": 30.0,
                "principal_due": {30: 10.0, 200: 20.0},
                "counterparty_type": "central_bank",
            },
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 500.0},
            {
                "instrument_type": "deposit_term",
                "side": "liability",
                "balance": 300.0,
                "principal_due": {60: 150.0, 200: 100.0, 500: 50.0},
            },
            {
                "instrument_type": "interbank_deposit",
                "side": "liability",
                "balance": 130.0,
                "principal_due": {60: 100.0, 200: 30.0},
                **bank,
            },
            {
                "instrument_type": "interbank_lending",
                "side": "liability",
                "balance": 40.0,
                "principal_due": {60: 30.0, 200: 10.0},
                **bank,
            },
            {
                "instrument_type": "repo",
                "side": "liability",
                "balance": 30.0,
                "principal_due": {60: 20.0, 200: 10.0},
                **bank,
            },
            {
                "instrument_type": "debt_security",
                "side": "liability",
                "balance": 190.0,
                "principal_due": {60: 50.0, 200: 80.0, 500: 60.0},
            },
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 750.0,
                "principal_due": {60: 100.0, 200: 250.0, 500: 400.0},
            },
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 100.0,
                "overdue_principal": 100.0,
                "days_past_due": 120,
                "maturity_days": -120,
            },
            {
                "instrument_type": "interbank_deposit",
                "side": "asset",
                "balance": 80.0,
                "principal_due": {5: 30.0, 60: 40.0, 200: 10.0},
                **bank,
            },
            {
                "instrument_type": "interbank_lending",
                "side": "asset",
                "balance": 40.0,
                "principal_due": {5: 10.0, 60: 20.0, 200: 10.0},
                **bank,
            },
            {
                "instrument_type": "reverse_repo",
                "side": "asset",
                "balance": 30.0,
                "principal_due": {5: 15.0, 60: 5.0, 200: 10.0},
                **bank,
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "ncd",
                "side": "asset",
                "balance": 60.0,
                "principal_due": {5: 20.0, 200: 40.0},
                **bank,
            },
            {"instrument_type": "fund_investment", "side": "asset", "balance": 100.0},
            # not in the ratio: cash, reserves, bonds held
            {"instrument_type": "cash", "side": "asset", "balance": 999.0},
            {
                "instrument_type": "debt_security",
                "product_subtype": "government_bond",
                "side": "asset",
                "balance": 77.0,
                "principal_due": {60: 77.0},
            },
        ]
    )


_LMR_SETTINGS = CnRatioSettings(demand_deposit_stable_balance={"CNY": 300.0})


def test_cn_lmr_1_liquidity_matching_ratio_104_01() -> None:
    out: list = []
    lines, contracts, values = liquidity_matching_ratio(
        _cn_lmr_1_frame(), _rules(), settings=_LMR_SETTINGS, assumptions=out
    )
    c = lines.filter(pl.col("currency_column") == "C")
    src = c.filter(pl.col("kind") == "source")["weighted_amount"].sum()
    use = c.filter(pl.col("kind") == "use")["weighted_amount"].sum()
    assert src == pytest.approx(765.0)
    assert use == pytest.approx(735.5)
    assert values["lmr"] == pytest.approx(765.0 / 735.5)
    assert round(values["lmr"] * 100, 2) == 104.01
    deposits = c.filter(pl.col("item") == "deposits")["weighted_amount"].sum()
    assert deposits == pytest.approx(625.0)
    # demand slotting: stable 300 > 1 y; the other 200 spread 50 (<= 3 m) and 150 (3-12 m)
    demand = contracts.filter(pl.col("row") == 1)
    assert demand["amount_gt1y"].item() == pytest.approx(300.0)
    assert demand["amount_le7d"].item() + demand["amount_d8_90"].item() == pytest.approx(50.0)
    assert demand["amount_m3_12"].item() == pytest.approx(150.0)
    # drill-down identity: per-contract weighted amounts sum to the lines' total
    assert contracts["weighted_amount"].sum() == pytest.approx(765.0 + 735.5)
    assert any(a.code == "ratios.demand_deposit_stable_from_settings" for a in out)


def test_cn_lmr_1_variant_no_demand_slotting_79_54() -> None:
    # regression variant: all 500 demand deposits in <= 3 m at 50% (next-day bucket takes the whole
    # year, no stable part) -> deposits 445, sources 585, LMR 79.54%
    rules = _rules(
        {
            "lmr_weights": {
                "demand_slot.A": 360,
                "demand_slot.B": 0,
                "demand_slot.C": 0,
                "demand_slot.D": 0,
                "demand_slot.E": 0,
            }
        }
    )
    settings = CnRatioSettings(demand_deposit_stable_balance={"CNY": 0.0})
    _, _, values = liquidity_matching_ratio(_cn_lmr_1_frame(), rules, settings=settings)
    assert round(values["lmr"] * 100, 2) == 79.54
    _, _, shipped = liquidity_matching_ratio(_cn_lmr_1_frame(), _rules(), settings=_LMR_SETTINGS)
    assert round(shipped["lmr"] * 100, 2) != 79.54


def test_cn_lmr_1_variant_short_placements_weighted_100_66() -> None:
    # regression variant: <= 7-day placements / lending / reverse repo at the <= 3 m weight -> uses 760
    rules = _rules(
        {"lmr_weights": {"placements.le7d": 0.4, "interbank_lending.le7d": 0.5, "reverse_repo_fi.le7d": 0.5}}
    )
    _, _, values = liquidity_matching_ratio(_cn_lmr_1_frame(), rules, settings=_LMR_SETTINGS)
    assert round(values["lmr"] * 100, 2) == 100.66
    shipped = load_rule_table("china", "lmr_weights")
    assert shipped.factor("placements.le7d") == 0.0
    assert shipped.factor("interbank_lending.le7d") == 0.0
    assert shipped.factor("reverse_repo_fi.le7d") == 0.0


def test_lmr_default_stable_share_is_recorded_and_slot_days_checked() -> None:
    frame = frame_from_records([{"instrument_type": "deposit_demand", "side": "liability", "balance": 100.0}])
    out: list = []
    _, contracts, _ = liquidity_matching_ratio(frame, _rules(), assumptions=out)
    assert contracts["amount_gt1y"].item() == pytest.approx(60.0)  # placeholder share 0.6
    assert [a.code for a in out] == ["ratios.demand_deposit_stable_share"]
    with pytest.raises(ConfigError, match="demand_slot"):
        liquidity_matching_ratio(frame, _rules({"lmr_weights": {"demand_slot.A": 2}}))


# ---------------------------------------------------------------- core liabilities, gap, LDR (6.3)


def test_core_liability_ratio_62_5() -> None:
    frame = frame_from_records(
        [
            {"instrument_type": "deposit_term", "side": "liability", "balance": 400.0, "principal_due": {200: 400.0}},
            {"instrument_type": "deposit_term", "side": "liability", "balance": 200.0, "principal_due": {30: 200.0}},
            {"instrument_type": "debt_security", "side": "liability", "balance": 100.0, "principal_due": {400: 100.0}},
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 500.0},
        ]
    )
    core = core_liability_ratio(frame, _rules(), settings=CnRatioSettings(demand_deposit_stable_balance={"CNY": 100.0}))
    c = core.filter(pl.col("currency_column") == "C")
    cn = c.filter((pl.col("definition") == "cn_core") & (pl.col("component") == "ratio"))["amount"].item()
    assert cn == pytest.approx(750 / 1200)
    # G21 row 8: stable 100 + term 400 + bonds 100 = 600 / 1200 (hand-computed)
    g21 = c.filter((pl.col("definition") == "g21") & (pl.col("component") == "ratio"))["amount"].item()
    assert g21 == pytest.approx(600 / 1200)
    res = compute_cn_ratios(frame, _rules(), settings=CnRatioSettings(demand_deposit_stable_balance={"CNY": 100.0}))
    assert res.values["core_liability_ratio"] == pytest.approx(0.625)
    assert res.values["core_liability_ratio_g21"] == pytest.approx(0.5)


def test_liquidity_gap_ratio_minus_8_0() -> None:
    frame = frame_from_records(
        [
            {"instrument_type": "loan", "side": "asset", "balance": 500.0, "principal_due": {60: 500.0}},
            {"instrument_type": "deposit_term", "side": "liability", "balance": 540.0, "principal_due": {60: 540.0}},
        ]
    )
    gap = liquidity_gap(frame, _rules())
    row = gap.filter((pl.col("horizon") == "d90") & (pl.col("currency_column") == "C"))
    assert row["gap"].item() == pytest.approx(-40.0)
    assert row["gap_ratio"].item() == pytest.approx(-0.08)
    # 30 days: nothing due yet -> no inflows, ratio undefined
    assert math.isnan(gap.filter((pl.col("horizon") == "d30") & (pl.col("currency_column") == "C"))["gap_ratio"].item())
    assert compute_cn_ratios(frame, _rules()).values["liquidity_gap_ratio"] == pytest.approx(-0.08)


def test_liquidity_gap_demand_deposits_slotted_and_off_balance() -> None:
    # demand 360, stable share 0.5 -> non-stable 180 spread 1/360, 6/360, 23/360, 60/360, 270/360:
    # outflows by day 1 = 0.5, 7 d = 3.5, 30 d = 15, 90 d = 45, 1 y = 180; cash 100 next day;
    # an FX forward receive leg of 40 at 20 days is an inflow, its pay leg of 38 an outflow
    frame = frame_from_records(
        [
            {"instrument_type": "cash", "side": "asset", "balance": 100.0},
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 360.0},
            {
                "instrument_type": "derivative_leg",
                "side": "asset",
                "on_balance_sheet": False,
                "balance": 40.0,
                "principal_due": {20: 40.0},
            },
            {
                "instrument_type": "derivative_leg",
                "side": "liability",
                "on_balance_sheet": False,
                "balance": 38.0,
                "principal_due": {20: 38.0},
            },
        ]
    )
    gap = liquidity_gap(frame, _rules(), settings=CnRatioSettings(demand_deposit_stable_share=0.5)).filter(
        pl.col("currency_column") == "C"
    )
    got = {h: (i, o) for h, i, o in gap.select("horizon", "inflow", "outflow").iter_rows()}
    assert got["next_day"] == pytest.approx((100.0, 0.5))
    assert got["d7"] == pytest.approx((100.0, 3.5))
    assert got["d30"] == pytest.approx((140.0, 15.0 + 38.0))
    assert got["d90"] == pytest.approx((140.0, 45.0 + 38.0))
    assert got["y1"] == pytest.approx((140.0, 180.0 + 38.0))


def test_ldr_75_0_by_currency_and_other_ratios() -> None:
    frame = frame_from_records(
        [
            {"instrument_type": "loan", "side": "asset", "balance": 600.0, "principal_due": {400: 600.0}},
            {
                "instrument_type": "loan",
                "side": "asset",
                "balance": 150.0,
                "currency": "USD",
                "fx_rc": 1.0,
                "principal_due": {400: 150.0},
            },
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 800.0},
            {
                "instrument_type": "deposit_term",
                "side": "liability",
                "balance": 200.0,
                "currency": "USD",
                "fx_rc": 1.0,
                "principal_due": {400: 200.0},
            },
            {"instrument_type": "cash", "side": "asset", "balance": 20.0},
            {
                "instrument_type": "central_bank_reserve",
                "product_subtype": "excess_reserve",
                "side": "asset",
                "balance": 30.0,
            },
            {
                "instrument_type": "interbank_lending",
                "side": "liability",
                "balance": 100.0,
                "counterparty_type": "bank",
                "principal_due": {10: 100.0},
            },
            {
                "instrument_type": "repo",
                "side": "liability",
                "balance": 50.0,
                "counterparty_type": "central_bank",
                "principal_due": {10: 50.0},
            },
        ]
    )
    v = compute_cn_ratios(frame, _rules()).values
    assert v["ldr"] == pytest.approx(0.75)  # 750 / 1000
    assert v["ldr_cny"] == pytest.approx(600 / 800)
    assert v["ldr_fx"] == pytest.approx(150 / 200)
    assert v["excess_reserve_ratio"] == pytest.approx(50 / 1000)
    # interbank funding: 100 borrowing (repo with the central bank is not interbank) / 1,150 liabilities
    assert v["interbank_funding_share"] == pytest.approx(100 / 1150)


def test_basel_rule_set_raises() -> None:
    frame = frame_from_records([{"instrument_type": "cash", "side": "asset", "balance": 1.0}])
    basel = RuleSet("basel", {"limits": load_rule_table("basel", "limits")})
    with pytest.raises(ConfigError, match="only in rule set 'china'"):
        compute_cn_ratios(frame, basel)
