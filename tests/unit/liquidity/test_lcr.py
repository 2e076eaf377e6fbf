"""LCR (regulatory.md §1, §4.3): worked examples LCR-1 / LCR-2 and hand-computed China cases."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from openalm.errors import ConfigError, DataError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.hqla import apply_hqla_caps
from openalm.measures.liquidity.lcr import SUMMARY_CATEGORIES, LcrSettings, compute_lcr
from openalm.measures.liquidity.rules import load_rule_set


def line(result: Any, category: str, currency: str = "CNY", col: str = "weighted_amount") -> float:
    hit = result.lines.filter((pl.col("category") == category) & (pl.col("currency") == currency))
    assert hit.height == 1, (category, currency, hit)
    return float(hit[col][0])


def lcr_1_records(interbank: float = 250.0) -> list[dict[str, Any]]:
    """LCR-1 (regulatory.md §1.6) as contracts."""
    corp = {"counterparty_type": "non_financial_corporate"}
    return [
        # HQLA: Level 1 = 100, Level 2A = 100, Level 2B RMBS = 40, Level 2B corporate = 60 (market values)
        {"instrument_type": "cash", "side": "asset", "balance": 100.0},
        {
            "instrument_type": "debt_security",
            "side": "asset",
            "product_subtype": "corporate_bond",
            "balance": 100.0,
            "external_rating": "AA",
            **corp,
        },
        {
            "instrument_type": "debt_security",
            "side": "asset",
            "product_subtype": "abs",
            "balance": 40.0,
            "property_type": "residential",
            "external_rating": "AAA",
            "counterparty_type": "spv",
        },
        {
            "instrument_type": "debt_security",
            "side": "asset",
            "product_subtype": "corporate_bond",
            "balance": 60.0,
            "external_rating": "BBB",
            **corp,
        },
        # outflows
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 1000.0,
            "counterparty_id": "R1",
            "counterparty_type": "retail_individual",
            "insured_amount": 1000.0,
            "is_transactional": True,
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 500.0,
            "counterparty_id": "R2",
            "counterparty_type": "retail_individual",
            "insured_amount": 0.0,
            "is_transactional": False,
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 200.0,
            "counterparty_id": "C1",
            "insured_amount": 0.0,
            "is_operational": True,
            **corp,
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 300.0,
            "counterparty_id": "C2",
            "insured_amount": 0.0,
            **corp,
        },
        {
            "instrument_type": "interbank_deposit",
            "side": "liability",
            "balance": 100.0,
            "counterparty_id": "B1",
            "counterparty_type": "bank",
        },
        {
            "instrument_type": "loan_commitment",
            "side": "asset",
            "on_balance_sheet": False,
            "balance": 0.0,
            "product_subtype": "credit_facility",
            "undrawn_amount": 400.0,
            "unconditionally_cancellable": False,
            "counterparty_id": "C3",
            **corp,
        },
        # inflows
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 600.0,
            "counterparty_id": "R3",
            "counterparty_type": "retail_individual",
            "principal_due": {20: 60.0, 200: 540.0},
        },
        {
            "instrument_type": "interbank_lending",
            "side": "asset",
            "balance": interbank,
            "counterparty_id": "B2",
            "counterparty_type": "bank",
            "principal_due": {10: interbank},
        },
    ]


def test_lcr_1_caps_without_sfts() -> None:
    res = compute_lcr(frame_from_records(lcr_1_records()), load_rule_set("basel"))
    assert line(res, "l2b_rmbs_aa") == pytest.approx(30.0)
    assert line(res, "adj15") == pytest.approx(35.0)
    assert line(res, "adj40") == pytest.approx(43.333333, abs=1e-5)
    assert line(res, "hqla_total") == pytest.approx(166.666667, abs=1e-5)
    assert line(res, "outflows_total") == pytest.approx(410.0)
    assert line(res, "inflows_total") == pytest.approx(280.0)
    assert line(res, "inflows_capped") == pytest.approx(280.0)
    assert line(res, "net_outflows") == pytest.approx(130.0)
    assert res.ratio["CNY"] == pytest.approx(1.282051, abs=1e-6)  # 128.21%
    assert line(res, "lcr") == pytest.approx(1.282051, abs=1e-6)
    assert line(res, "commit_corp_credit") == pytest.approx(40.0)
    assert line(res, "corp_operational_uninsured") == pytest.approx(50.0)
    assert res.ratio["ALL"] == pytest.approx(res.ratio["CNY"])


def test_lcr_1_variant_inflow_cap() -> None:
    res = compute_lcr(frame_from_records(lcr_1_records(interbank=370.0)), load_rule_set("basel"))
    assert line(res, "inflows_total") == pytest.approx(400.0)
    assert line(res, "inflows_capped") == pytest.approx(307.5)
    assert line(res, "net_outflows") == pytest.approx(102.5)
    assert res.ratio["CNY"] == pytest.approx(1.626016, abs=1e-6)  # 162.60%


def lcr_2_records() -> list[dict[str, Any]]:
    """LCR-2: L1 150 (50 of it cash raised by a 10-day repo on Level 2A bonds of market value 59), L2A 40."""
    face = 59.0 + 40.0 / 0.85  # unencumbered market value 40 / 0.85 -> 40 after the 15% haircut
    return [
        {"instrument_type": "cash", "side": "asset", "balance": 150.0},
        {
            "instrument_type": "debt_security",
            "side": "asset",
            "product_subtype": "corporate_bond",
            "balance": face,
            "external_rating": "AAA",
            "counterparty_type": "non_financial_corporate",
            "encumbered_amount": 59.0,
            "encumbrance_type": "repo",
        },
        {
            "instrument_type": "repo",
            "side": "liability",
            "balance": 50.0,
            "counterparty_id": "B1",
            "counterparty_type": "bank",
            "collateral_hqla_level": "level_2a",
            "collateral_market_value": 59.0,
            "principal_due": {10: 50.0},
        },
    ]


@pytest.mark.parametrize("rule_set", ["china", "basel"])
def test_lcr_2_unwind(rule_set: str) -> None:
    rules = load_rule_set(rule_set)
    res = compute_lcr(frame_from_records(lcr_2_records()), rules)
    cap = res.caps["CNY"]
    assert cap.l1 == pytest.approx(150.0)
    assert cap.l2a == pytest.approx(40.0)
    assert cap.adj_l1 == pytest.approx(100.0)
    assert cap.adj_l2a == pytest.approx(90.15)
    assert cap.adj15 == pytest.approx(0.0)
    assert cap.adj40 == pytest.approx(23.483333, abs=1e-5)
    assert line(res, "hqla_total") == pytest.approx(166.516667, abs=1e-5)
    # the repo: Level 2A collateral, 15% run-off on the cash raised
    assert line(res, "secured_l2a") == pytest.approx(7.5)


def test_lcr_2_ignoring_the_unwind_gives_another_figure() -> None:
    table = load_rule_set("china")["hqla"]
    naive = apply_hqla_caps(150.0, 40.0, 0.0, table=table)  # no unwind: the 40% cap does not bind
    assert naive.hqla == pytest.approx(190.0)
    unwound = apply_hqla_caps(150.0, 40.0, 0.0, adj_l1=100.0, adj_l2a=90.15, adj_l2b=0.0, table=table)
    assert unwound.hqla == pytest.approx(166.516667, abs=1e-5)
    assert naive.hqla != pytest.approx(unwound.hqla)


def china_records() -> list[dict[str, Any]]:
    retail = {"counterparty_type": "retail_individual"}
    corp = {"counterparty_type": "non_financial_corporate"}
    return [
        {"instrument_type": "cash", "side": "asset", "balance": 100_000.0},
        {
            "instrument_type": "central_bank_reserve",
            "side": "asset",
            "product_subtype": "excess_reserve",
            "balance": 200_000.0,
            "counterparty_type": "central_bank",
            "counterparty_id": "PBOC",
        },
        {
            "instrument_type": "central_bank_reserve",
            "side": "asset",
            "product_subtype": "required_reserve",
            "balance": 500_000.0,
            "counterparty_type": "central_bank",
            "counterparty_id": "PBOC",
        },
        {
            "instrument_type": "debt_security",
            "side": "asset",
            "product_subtype": "government_bond",
            "balance": 300_000.0,
            "principal_due": {400: 300_000.0},
        },
        # one retail depositor, two demand accounts, insured_amount null: cap 500,000 spread pro rata (5/7)
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 400_000.0,
            "counterparty_id": "R1",
            "is_transactional": True,
            **retail,
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 300_000.0,
            "counterparty_id": "R1",
            "is_transactional": False,
            "has_established_relationship": False,
            **retail,
        },
        # corporate non-operational 400,000 <= cap: fully insured -> 20%
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 400_000.0,
            "counterparty_id": "C1",
            **corp,
        },
        # term deposit due in 90 days without early withdrawal: no principal outflow; interest due in 20 days
        {
            "instrument_type": "deposit_term",
            "side": "liability",
            "balance": 1_000_000.0,
            "counterparty_id": "R3",
            "is_transactional": False,
            "early_withdrawal_allowed": False,
            "maturity_days": 90,
            "principal_due": {90: 1_000_000.0},
            "interest_due": {20: 3_000.0},
            **retail,
        },
        # term deposit with penalty-free early withdrawal: the whole balance, insured 500,000 (less stable)
        {
            "instrument_type": "deposit_term",
            "side": "liability",
            "balance": 600_000.0,
            "counterparty_id": "R4",
            "is_transactional": False,
            "early_withdrawal_allowed": True,
            "maturity_days": 90,
            "principal_due": {90: 600_000.0},
            **retail,
        },
        {
            "instrument_type": "loan_commitment",
            "side": "asset",
            "on_balance_sheet": False,
            "product_subtype": "liquidity_facility",
            "undrawn_amount": 1_000_000.0,
            "unconditionally_cancellable": False,
            "counterparty_id": "C2",
            **corp,
        },
        {
            "instrument_type": "guarantee",
            "side": "asset",
            "on_balance_sheet": False,
            "balance": 1_000_000.0,
            "product_subtype": "financial_guarantee",
            "counterparty_id": "C3",
            **corp,
        },
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 1_000_000.0,
            "counterparty_id": "C4",
            "principal_due": {15: 200_000.0, 400: 800_000.0},
            "interest_due": {15: 2_000.0},
            **corp,
        },
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 100_000.0,
            "counterparty_id": "C5",
            "asset_quality_class": "substandard",
            "principal_due": {10: 100_000.0},
            **corp,
        },
    ]


# Hand computation (China rules):
#   HQLA = cash 100,000 + excess reserves 200,000 + government bond 300,000 = 600,000 (required reserves out)
#   R1: insured 500,000 x 400/700 = 285,714.2857 stable 5% = 14,285.7143; uninsured 114,285.7143 x 10% = 11,428.5714
#       insured 500,000 x 300/700 = 214,285.7143 less stable insured 10% = 21,428.5714; rest 85,714.2857 x 10% = 8,571.4286
#   C1: 400,000 x 20% = 80,000; R4: 500,000 x 10% + 100,000 x 10% = 60,000; R3 interest 3,000 x 100% = 3,000
#   liquidity facility to a corporate 1,000,000 x 30% = 300,000; guarantee 1,000,000 x 2.5% = 25,000
#   outflows = 523,714.2857; inflows = (200,000 + 2,000) x 50% = 101,000 (the substandard loan gives none)
#   net = 422,714.2857; LCR = 600,000 / 422,714.2857 = 1.419398
CN_OUT = 14_285.714286 + 11_428.571429 + 21_428.571429 + 8_571.428571 + 80_000 + 60_000 + 3_000 + 300_000 + 25_000


def test_lcr_china_hand_computed_insured_split_and_facility() -> None:
    res = compute_lcr(frame_from_records(china_records()), load_rule_set("china"))
    assert line(res, "retail_stable") == pytest.approx(14_285.714286)
    assert line(res, "retail_stable", col="amount") == pytest.approx(285_714.285714)
    assert line(res, "retail_less_stable_insured", col="amount") == pytest.approx(214_285.714286 + 500_000)
    assert line(res, "retail_less_stable_uninsured", col="amount") == pytest.approx(
        114_285.714286 + 85_714.285714 + 100_000
    )
    assert line(res, "corp_nonop_insured") == pytest.approx(80_000.0)
    assert line(res, "commit_corp_liquidity") == pytest.approx(300_000.0)
    assert line(res, "guarantees") == pytest.approx(25_000.0)
    assert line(res, "other_contractual") == pytest.approx(3_000.0)
    assert line(res, "outflows_total") == pytest.approx(CN_OUT)
    assert line(res, "inflows_total") == pytest.approx(101_000.0)
    assert line(res, "hqla_total") == pytest.approx(600_000.0)
    assert res.ratio["CNY"] == pytest.approx(600_000 / (CN_OUT - 101_000))
    assert res.ratio["CNY"] == pytest.approx(1.419398, abs=1e-6)
    contracts = res.contracts.sort("row")
    assert contracts["lcr_category"][2] is None  # required reserve: outside the LCR
    assert contracts["hqla_level"][2] == "non_hqla"
    assert contracts["lcr_category"][4] == "retail_stable"  # 285,714 stable > 114,286 uninsured


def test_lcr_undetermined_category_is_recorded() -> None:
    recs = [
        {"instrument_type": "cash", "side": "asset", "balance": 1_000.0},
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 100.0,
            "counterparty_id": "X1",
            "position_id": "DEP-A",
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 50.0,
            "counterparty_id": "X2",
            "position_id": "DEP-B",
        },
    ]
    res = compute_lcr(frame_from_records(recs), load_rule_set("china"))
    hit = [a for a in res.assumptions if a.code == "lcr.funding_without_counterparty_type"]
    assert len(hit) == 1
    assert hit[0].contracts == 2
    assert hit[0].amount_rc == pytest.approx(150.0)
    assert hit[0].sample == ("DEP-A", "DEP-B")
    assert line(res, "unsecured_other") == pytest.approx(150.0)  # conservative 100%


def test_lcr_detail_drills_down_to_lines() -> None:
    frame = frame_from_records(china_records() + lcr_1_records())
    res = compute_lcr(frame, load_rule_set("china"))
    per_cat = (
        res.lines.filter((pl.col("currency") == "CNY") & ~pl.col("category").is_in(SUMMARY_CATEGORIES))
        .select("component", "category", "weighted_amount", "amount", "contracts")
        .sort("component", "category")
    )
    drill = (
        res.detail.group_by("component", "category")
        .agg(
            pl.col("weighted_amount").sum(),
            pl.col("amount").sum(),
            pl.col("row").n_unique().cast(pl.Int64).alias("contracts"),
        )
        .sort("component", "category")
    )
    assert per_cat["category"].to_list() == drill["category"].to_list()
    assert per_cat["weighted_amount"].to_list() == pytest.approx(drill["weighted_amount"].to_list())
    assert per_cat["contracts"].to_list() == drill["contracts"].to_list()
    # totals are the sums of the drill-down
    out = res.detail.filter(pl.col("component") == "outflow")["weighted_amount"].sum()
    assert line(res, "outflows_total") == pytest.approx(out)
    assert len(per_cat) >= 15


def test_lcr_per_currency_and_all() -> None:
    recs = lcr_1_records()
    usd = [
        {"instrument_type": "cash", "side": "asset", "balance": 10.0, "currency": "USD", "fx_rc": 7.0},
        {
            "instrument_type": "interbank_deposit",
            "side": "liability",
            "balance": 20.0,
            "currency": "USD",
            "fx_rc": 7.0,
            "counterparty_id": "B9",
            "counterparty_type": "bank",
        },
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 8.0,
            "currency": "USD",
            "fx_rc": 7.0,
            "counterparty_id": "C9",
            "counterparty_type": "non_financial_corporate",
            "principal_due": {5: 8.0},
        },
    ]
    res = compute_lcr(frame_from_records(recs + usd), load_rule_set("basel"))
    assert line(res, "fi_nonop", "USD") == pytest.approx(20.0)
    assert line(res, "fi_nonop", "ALL") == pytest.approx(100.0 + 7 * 20.0)
    assert line(res, "outflows_total", "ALL") == pytest.approx(410.0 + 140.0)
    assert line(res, "inflows_total", "USD") == pytest.approx(4.0)
    assert line(res, "inflows_total", "ALL") == pytest.approx(280.0 + 28.0)
    assert res.ratio["USD"] == pytest.approx(10.0 / (20.0 - 4.0))
    # ALL: caps on the converted stock (L1 100 + 70 = 170, L2A 85, L2B 60)
    # Adj15 = max(60 - 15/85 x 255, 60 - 15/60 x 170, 0) = 17.5; Adj40 = max(145 - 17.5 - 2/3 x 170, 0) = 14.1667
    assert line(res, "adj15", "ALL") == pytest.approx(17.5)
    assert line(res, "adj40", "ALL") == pytest.approx(14.166667, abs=1e-5)
    assert res.ratio["ALL"] == pytest.approx((315.0 - 17.5 - 14.166667) / (550.0 - 308.0), abs=1e-6)
    # every non-summary ALL line = sum over currencies of amount x fx
    cat = res.lines.filter(~pl.col("category").is_in(SUMMARY_CATEGORIES))
    conv = (
        cat.filter(pl.col("currency") != "ALL")
        .with_columns(pl.when(pl.col("currency") == "USD").then(7.0).otherwise(1.0).alias("fx"))
        .group_by("component", "category")
        .agg((pl.col("weighted_amount") * pl.col("fx")).sum().alias("conv"))
    )
    joined = cat.filter(pl.col("currency") == "ALL").join(conv, on=["component", "category"])
    assert joined.height == cat.filter(pl.col("currency") == "ALL").height
    assert joined["weighted_amount"].to_list() == pytest.approx(joined["conv"].to_list())


def test_lcr_rule_override_changes_result_and_is_flagged() -> None:
    frame = frame_from_records(lcr_1_records())
    base = compute_lcr(frame, load_rule_set("basel"))
    rules = load_rule_set("basel", overrides={"lcr_outflows": {"retail_stable": 0.06}})
    res = compute_lcr(frame, rules)
    assert line(res, "retail_stable") == pytest.approx(60.0)
    assert line(res, "outflows_total") == pytest.approx(420.0)
    assert res.ratio["CNY"] == pytest.approx(166.666667 / 140.0, abs=1e-6)
    assert res.ratio["CNY"] != pytest.approx(base.ratio["CNY"])
    assert res.overrides == ["liquidity rule override: basel/lcr_outflows/retail_stable = 0.06 (shipped 0.05)"]
    assert base.overrides == []


def test_lcr_category_override_is_applied_and_recorded() -> None:
    recs = lcr_1_records()
    recs[5] = {**recs[5], "lcr_category_override": "fi_nonop"}  # less stable retail 500 forced to 100%
    res = compute_lcr(frame_from_records(recs), load_rule_set("basel"))
    assert line(res, "outflows_total") == pytest.approx(410.0 - 50.0 + 500.0)
    assert [a.contracts for a in res.assumptions if a.code == "lcr.category_override"] == [1]
    recs[5] = {**recs[5], "lcr_category_override": "no_such_row"}
    with pytest.raises(DataError, match="lcr_category_override"):
        compute_lcr(frame_from_records(recs), load_rule_set("basel"))


def test_lcr_derivatives_net_per_counterparty_and_cash_flow_rules() -> None:
    recs = [
        {"instrument_type": "cash", "side": "asset", "balance": 100.0},
        # counterparty D1: pay 30, receive 10 within 30 days -> net outflow 20
        {
            "instrument_type": "derivative_leg",
            "side": "liability",
            "on_balance_sheet": False,
            "balance": 300.0,
            "counterparty_id": "D1",
            "counterparty_type": "bank",
            "interest_due": {10: 30.0},
        },
        {
            "instrument_type": "derivative_leg",
            "side": "asset",
            "on_balance_sheet": False,
            "balance": 300.0,
            "counterparty_id": "D1",
            "counterparty_type": "bank",
            "interest_due": {10: 10.0},
        },
        # counterparty D2: receive 15 -> net inflow 15
        {
            "instrument_type": "derivative_leg",
            "side": "asset",
            "on_balance_sheet": False,
            "balance": 100.0,
            "counterparty_id": "D2",
            "counterparty_type": "bank",
            "principal_due": {20: 15.0},
        },
        # reverse repo, pledged (China 100%) and outright on Level 2A (15%)
        {
            "instrument_type": "reverse_repo",
            "side": "asset",
            "balance": 40.0,
            "counterparty_id": "B1",
            "counterparty_type": "bank",
            "repo_type": "pledged",
            "collateral_hqla_level": "level_1",
            "collateral_market_value": 42.0,
            "principal_due": {7: 40.0},
        },
        {
            "instrument_type": "reverse_repo",
            "side": "asset",
            "balance": 20.0,
            "counterparty_id": "B1",
            "counterparty_type": "bank",
            "repo_type": "outright",
            "collateral_hqla_level": "level_2a",
            "collateral_market_value": 25.0,
            "principal_due": {7: 20.0},
        },
        # nostro (operational, 0%) and issued NCD due in 10 days (100%)
        {
            "instrument_type": "interbank_deposit",
            "side": "asset",
            "balance": 5.0,
            "product_subtype": "nostro",
            "counterparty_id": "B2",
            "counterparty_type": "bank",
            "principal_due": {1: 5.0},
        },
        {
            "instrument_type": "debt_security",
            "side": "liability",
            "product_subtype": "ncd",
            "balance": 12.0,
            "principal_due": {10: 12.0},
        },
    ]
    res = compute_lcr(frame_from_records(recs), load_rule_set("china"))
    assert line(res, "derivatives_net_outflow") == pytest.approx(20.0)
    assert line(res, "derivatives_net_inflow") == pytest.approx(15.0)
    assert line(res, "reverse_repo_pledged") == pytest.approx(40.0)
    assert line(res, "reverse_repo_l2a") == pytest.approx(3.0)
    assert line(res, "inflow_fi_operational") == pytest.approx(0.0)
    assert line(res, "unsecured_other") == pytest.approx(12.0)
    # unwind: reverse repos due within 30 days return 60 of cash: AdjL1 = 100 + 60
    assert res.caps["CNY"].adj_l1 == pytest.approx(160.0)
    basel = compute_lcr(frame_from_records(recs), load_rule_set("basel"))
    assert line(basel, "reverse_repo_l1") == pytest.approx(0.0)  # Basel has no pledge-type row


def test_lcr_settings_and_errors() -> None:
    frame = frame_from_records(lcr_1_records())
    with pytest.raises(ConfigError, match="reporting currency"):
        compute_lcr(frame, load_rule_set("china"), reporting_currency="USD")
    with pytest.raises(ValueError):
        LcrSettings(horizon_days=60)  # type: ignore[arg-type]
    crit = compute_lcr(frame, load_rule_set("basel"), settings=LcrSettings(deposit_insurance_meets_criteria=True))
    assert line(crit, "retail_stable_criteria") == pytest.approx(30.0)  # 1,000 x 3%
    empty = compute_lcr(
        frame_from_records([{"instrument_type": "cash", "side": "asset", "balance": 1.0}]), load_rule_set("china")
    )
    assert math.isinf(empty.ratio["CNY"])


def test_lcr_contract_lines_ties_and_one_row_per_line() -> None:
    recs = [
        # insured 500 stable (5%) and uninsured 500 less stable (10%): equal amounts, the main line is the
        # first code (retail_less_stable_uninsured); amount 1,000, factor (25 + 50) / 1,000
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 1_000.0,
            "counterparty_id": "R1",
            "counterparty_type": "retail_individual",
            "insured_amount": 500.0,
            "is_transactional": True,
        },
        # principal 20 and interest 3 due within 30 days: one other_contractual row of 23
        {
            "instrument_type": "other_liability",
            "side": "liability",
            "balance": 50.0,
            "principal_due": {5: 20.0},
            "interest_due": {5: 3.0},
        },
    ]
    res = compute_lcr(frame_from_records(recs), load_rule_set("basel"))
    c = res.contracts.sort("row")
    assert c["lcr_category"][0] == "retail_less_stable_uninsured"
    assert c["lcr_amount"][0] == pytest.approx(1_000.0)
    assert c["lcr_factor"][0] == pytest.approx(0.075)
    other = res.detail.filter(pl.col("row") == 1)
    assert other.select("category", "amount").rows() == [("other_contractual", pytest.approx(23.0))]


def test_lcr_group_codes_is_exact_even_on_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    from openalm.measures.liquidity.lcr import group_codes

    ids = pl.Series(["a", "b", None, "a", "c", None, "b"])
    codes = group_codes(ids).tolist()
    assert codes[0] == codes[3] and codes[1] == codes[6] and codes[2] == codes[5]
    assert len({codes[0], codes[1], codes[2], codes[4]}) == 4
    # every value hashing alike: the collision is detected and the values are ranked instead
    monkeypatch.setattr(pl.Series, "hash", lambda self, *a, **k: pl.Series([7] * self.len(), dtype=pl.UInt64))
    assert group_codes(ids).tolist() == [1, 2, 0, 1, 3, 0, 2]
