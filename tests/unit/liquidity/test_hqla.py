"""HQLA classification (regulatory.md §1.2) and the composition caps (§1.3)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from openalm.errors import DataError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.hqla import apply_hqla_caps, classify_hqla, rating_notch
from openalm.measures.liquidity.rules import load_rule_set

CORP = {"counterparty_type": "non_financial_corporate"}
SEC = {"instrument_type": "debt_security", "side": "asset"}


def classify(recs: list[dict[str, Any]], rule_set: str = "china") -> tuple[pl.DataFrame, list[Any]]:
    return classify_hqla(frame_from_records(recs), load_rule_set(rule_set))


def test_hqla_categories_china() -> None:
    recs = [
        {"instrument_type": "cash", "side": "asset", "balance": 10.0},
        {
            "instrument_type": "central_bank_reserve",
            "side": "asset",
            "product_subtype": "excess_reserve",
            "balance": 20.0,
        },
        {
            "instrument_type": "central_bank_reserve",
            "side": "asset",
            "product_subtype": "required_reserve",
            "balance": 30.0,
        },
        {
            **SEC,
            "product_subtype": "policy_bank_bond",
            "balance": 40.0,
            "counterparty_type": "bank",
            "country_of_residence": "CN",
        },
        {
            **SEC,
            "product_subtype": "government_bond",
            "balance": 50.0,
            "counterparty_type": "sovereign",
            "country_of_residence": "US",
            "external_rating": "A",
        },
        {**SEC, "product_subtype": "local_government_bond", "balance": 60.0, "counterparty_type": "sub_sovereign"},
        {**SEC, "product_subtype": "mtn", "balance": 70.0, "external_rating": "Aa3", **CORP},
        {**SEC, "product_subtype": "commercial_paper", "balance": 80.0, "external_rating": "BBB-", **CORP},
        {**SEC, "product_subtype": "corporate_bond", "balance": 90.0, "external_rating": "BB+", **CORP},
        {
            **SEC,
            "product_subtype": "financial_bond",
            "balance": 100.0,
            "external_rating": "AAA",
            "counterparty_type": "bank",
        },
        {**SEC, "product_subtype": "abs", "balance": 110.0, "external_rating": "AAA", "property_type": "residential"},
        {"instrument_type": "loan", "side": "asset", "balance": 120.0},
        {"instrument_type": "deposit_demand", "side": "liability", "balance": 130.0},
        {"instrument_type": "guarantee", "side": "asset", "on_balance_sheet": False, "balance": 140.0},
    ]
    res, _ = classify(recs)
    assert res["hqla_category"].to_list() == [
        "l1_cash",
        "l1_cb_reserves_drawable",
        "non_hqla_required_reserve",
        "l1_sovereign_0rw",
        "l2a_sovereign_20rw",
        "l2a_pse_20rw",
        "l2a_corporate_aa",
        "l2b_corporate_a_bbb",
        "non_hqla",
        "non_hqla",
        "non_hqla",
        "non_hqla",
        None,
        None,
    ]  # China has no RMBS row: the ABS is not HQLA
    assert res["hqla_level"].to_list()[:8] == [
        "level_1",
        "level_1",
        "non_hqla",
        "level_1",
        "level_2a",
        "level_2a",
        "level_2a",
        "level_2b",
    ]
    assert res["hqla_value"].to_list() == pytest.approx(
        [10.0, 20.0, 0.0, 40.0, 42.5, 51.0, 59.5, 40.0, 0.0, 0.0, 0.0, 0.0, None, None], nan_ok=True
    )
    assert res["hqla_haircut"][7] == pytest.approx(0.5)


def test_hqla_basel_rmbs_and_sovereign_bbb() -> None:
    recs = [
        {**SEC, "product_subtype": "abs", "balance": 100.0, "external_rating": "AA", "property_type": "residential"},
        {**SEC, "product_subtype": "abs", "balance": 100.0, "external_rating": "AA-", "property_type": "residential"},
        {
            **SEC,
            "product_subtype": "government_bond",
            "balance": 100.0,
            "country_of_residence": "BR",
            "external_rating": "BBB",
        },
    ]
    basel, _ = classify(recs, "basel")
    assert basel["hqla_category"].to_list() == ["l2b_rmbs_aa", "non_hqla", "non_hqla"]
    assert basel["hqla_value"][0] == pytest.approx(75.0)
    china, _ = classify(recs, "china")
    assert china["hqla_category"].to_list() == ["non_hqla", "non_hqla", "l2b_sovereign_bbb"]


def test_hqla_encumbrance_operational_listing_and_override() -> None:
    recs = [
        {
            **SEC,
            "product_subtype": "corporate_bond",
            "balance": 100.0,
            "fair_value": 102.0,
            "external_rating": "AAA",
            "encumbered_amount": 25.0,
            **CORP,
        },
        {
            **SEC,
            "product_subtype": "corporate_bond",
            "balance": 100.0,
            "external_rating": "AAA",
            "hqla_operational_ok": False,
            **CORP,
        },
        {
            **SEC,
            "product_subtype": "corporate_bond",
            "balance": 100.0,
            "external_rating": "AAA",
            "listing_market": "unlisted",
            **CORP,
        },
        {
            "instrument_type": "equity_investment",
            "side": "asset",
            "balance": 100.0,
            "hqla_level_override": "level_2b",
            "position_id": "EQ1",
        },
        {**SEC, "product_subtype": "government_bond", "balance": 100.0, "hqla_level_override": "non_hqla"},
    ]
    res, found = classify(recs)
    # 102 market value x 75% unencumbered x 85%
    assert res["hqla_value"][0] == pytest.approx(102.0 * 0.75 * 0.85)
    assert res["hqla_market_value"][0] == pytest.approx(76.5)
    assert res["hqla_category"].to_list() == [
        "l2a_corporate_aa",
        "non_hqla_operational",
        "non_hqla_unlisted",
        "generic_level_2b",
        "non_hqla_override",
    ]
    assert res["hqla_value"][3] == pytest.approx(50.0)
    over = [a for a in found if a.code == "hqla.level_override"]
    assert over[0].contracts == 2 and over[0].sample == ("EQ1", "P5")


def test_hqla_unrated_bond_is_non_hqla_with_assumption() -> None:
    recs = [
        {**SEC, "product_subtype": "corporate_bond", "balance": 100.0, "position_id": "B1", **CORP},
        {**SEC, "product_subtype": "corporate_bond", "balance": 50.0, "position_id": "B2", **CORP},
        {**SEC, "product_subtype": "corporate_bond", "balance": 10.0, "external_rating": "good", **CORP},
    ]
    res, found = classify(recs)
    assert res["hqla_level"].to_list() == ["non_hqla"] * 3
    codes = {a.code: a for a in found}
    assert codes["hqla.security_without_rating"].contracts == 2
    assert codes["hqla.security_without_rating"].amount_rc == pytest.approx(150.0)
    assert codes["hqla.security_without_rating"].sample == ("B1", "B2")
    assert codes["hqla.unknown_rating"].contracts == 1


def test_hqla_bad_override_is_a_data_error() -> None:
    with pytest.raises(DataError, match="hqla_level_override"):
        classify([{"instrument_type": "cash", "side": "asset", "balance": 1.0, "hqla_level_override": "gold"}])


def test_rating_notch_scales() -> None:
    assert rating_notch("AA-") == rating_notch("aa3") == 4
    assert rating_notch("Baa3") == rating_notch("BBB-") == 10
    assert rating_notch("A-1") is None


def test_caps_binding_level2b_only() -> None:
    table = load_rule_set("basel")["hqla"]
    # L1 100, L2A 0, L2B 30: Adj15 = max(30 - 15/85 x 100, 30 - 15/60 x 100, 0) = 12.352941; Adj40 = 0
    res = apply_hqla_caps(100.0, 0.0, 30.0, table=table)
    assert res.adj15 == pytest.approx(30 - 15 / 85 * 100)
    assert res.adj40 == pytest.approx(0.0)
    assert res.hqla == pytest.approx(100 + 15 / 85 * 100)
