"""Seed-004 monitoring indicators on a hand-built balance sheet (every figure computed by hand)."""

from __future__ import annotations

import pytest

from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.indicators import INDICATORS, compute_indicators
from openalm.measures.liquidity.rules import load_rule_table


def _frame():  # type: ignore[no-untyped-def]
    a = {"side": "asset"}
    lb = {"side": "liability"}
    return frame_from_records(
        [
            {"instrument_type": "cash", "balance": 20.0, **a},
            {"instrument_type": "central_bank_reserve", "product_subtype": "excess_reserve", "balance": 30.0, **a},
            {"instrument_type": "central_bank_reserve", "product_subtype": "required_reserve", "balance": 50.0, **a},
            {"instrument_type": "interbank_deposit", "balance": 40.0, "counterparty_type": "bank", **a},  # nostro
            {
                "instrument_type": "interbank_lending",
                "balance": 60.0,
                "principal_due": {10: 60.0},
                "counterparty_type": "bank",
                **a,
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "government_bond",
                "balance": 100.0,
                "principal_due": {200: 100.0},
                "encumbered_amount": 25.0,
                "encumbrance_type": "repo",
                **a,
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "corporate_bond",
                "balance": 100.0,
                "principal_due": {800: 100.0},
                **a,
            },
            {"instrument_type": "loan", "balance": 600.0, "provision_amount": 20.0, "principal_due": {800: 600.0}, **a},
            {
                "instrument_type": "loan_commitment",
                "on_balance_sheet": False,
                "balance": 0.0,
                "undrawn_amount": 300.0,
                **a,
            },
            {"instrument_type": "deposit_demand", "balance": 400.0, **lb},
            {
                "instrument_type": "deposit_term",
                "balance": 300.0,
                "principal_due": {200: 300.0},
                "is_brokered": False,
                **lb,
            },
            {
                "instrument_type": "deposit_term",
                "product_subtype": "large_cd",
                "balance": 100.0,
                "principal_due": {200: 100.0},
                "is_brokered": False,
                **lb,
            },
            {
                "instrument_type": "deposit_term",
                "balance": 50.0,
                "principal_due": {200: 50.0},
                "is_brokered": True,
                **lb,
            },
            {
                "instrument_type": "interbank_lending",
                "balance": 10.0,
                "principal_due": {5: 10.0},
                "counterparty_type": "bank",
                **lb,
            },
            {"instrument_type": "repo", "balance": 40.0, "principal_due": {5: 40.0}, "counterparty_type": "bank", **lb},
        ]
    )


def test_seed_004_fed_indicators_hand_computed() -> None:
    res = compute_indicators(_frame())
    v = res.values
    total_assets = 20 + 30 + 50 + 40 + 60 + 100 + 100 + 600  # 1,000 (off-balance commitment excluded)
    assert v["cash_position"] == pytest.approx((20 + 30 + 50 + 40) / total_assets)
    assert v["liquid_securities"] == pytest.approx(100 / total_assets)
    assert v["net_fed_funds"] == pytest.approx((60 - 10) / total_assets)
    assert v["capacity_ratio"] == pytest.approx((600 - 20) / total_assets)
    assert v["pledged_securities_ratio"] == pytest.approx(25 / 200)
    volatile = 10 + 40 + 100 + 50  # borrowing, repo, large CD, brokered deposit
    # money-market assets: cash 20 + reserves 80 + nostro 40 + lending 60 + bond due <= 1 y 100
    assert v["hot_money_ratio"] == pytest.approx(300 / volatile)
    assert v["short_term_investment_ratio"] == pytest.approx((40 + 60 + 100) / volatile)
    deposits = 400 + 300 + 100 + 50
    assert v["brokered_deposits_ratio"] == pytest.approx(50 / deposits)
    core = 400 + 300
    assert v["core_deposit_ratio"] == pytest.approx(core / total_assets)
    assert v["deposit_composition_ratio"] == pytest.approx(400 / 450)
    assert v["loans_to_core_deposits"] == pytest.approx(600 / core)
    assert v["cash_ratio"] == pytest.approx((20 + 30 + 40) / total_assets)
    assert v["cash_ratio_deposits"] == pytest.approx((20 + 30 + 40) / deposits)
    # G22 liquid assets: cash 20 + excess 30 + net interbank (40 + 60 - 10 - 40 = 50) + marketable bonds: none
    # (no listing_market -> not in 1.8, recorded) = 100
    assert v["liquid_assets_to_total_assets"] == pytest.approx(100 / total_assets)
    assert v["liquid_assets_to_volatile_liabilities"] == pytest.approx(100 / volatile)
    assert v["liquid_assets_to_commitments"] == pytest.approx(100 / 300)
    codes = {a.code for a in res.assumptions}
    assert "indicators.deposit_brokered_unknown" in codes  # the demand deposit
    assert "ratios.g22_security_without_listing" in codes


def test_every_indicator_has_direction_mapping_and_labels() -> None:
    table = load_rule_table("china", "limits")
    for ind in INDICATORS:
        rule = table.rule(ind)
        assert rule.extra["direction"] in ("min", "max"), ind
        assert rule.extra.get("mapping"), ind
    res = compute_indicators(_frame())
    assert set(res.table["currency_column"].unique()) == {"A", "B", "C"}
    row = res.table.filter((res.table["indicator"] == "capacity_ratio") & (res.table["currency_column"] == "C"))
    assert row["direction"].item() == "max" and row["label_zh"].item() == "能力比率"
    # basel limits table carries the same monitoring rows
    basel = load_rule_table("basel", "limits")
    assert all(ind in basel for ind in INDICATORS)
