"""The G26 HQLA adequacy ratio (regulatory.md §4.5): hand-computed cases.

The book of :func:`book` (CNY), computed by hand with the G26 factors of §4.5:

  stock   L1 = cash 100 + excess reserves 50 + government bond 200 less 50 encumbered = 300
          (required reserves 200 are not HQLA); L2 = local-government bond AA 100 x 85% = 85
          (the A-rated corporate bond is Level 2B in the LCR: not G26 stock); cap 2/3 x 300 = 200
          does not bind -> HQLA = 385
  out     whole balances: personal demand 1,000 + personal term 500 (due in 200 days) at 8% = 120;
          small business 200 x 8% = 16; corporate term 400 x 35% = 140; sub-sovereign 100 x 35% = 35;
          interbank settlement 100 x 25% = 25; interbank term 80 (due in 60 days) x 100% = 80;
          due within 30 days: interbank borrowing 50 x 100% = 50 (the one due in 45 days: none);
          outright repo 60 x 5% = 3; MLF 100 x 0% = 0; issued NCD 40 x 100% = 40 (the bond due in
          400 days: none); irrevocable commitment 200 x 10% = 20, revocable 500 x 0%, acceptance
          100 x 10% = 10, guarantee 400 x 2.5% = 10 -> outflows = 549
  in      principal due within 30 days (interest is not a G26 row): retail loan 30 x 50% = 15;
          corporate loan 200 x 50% = 100; bill 40 x 50% = 20; nostro 30 x 0%; interbank lending 60;
          pledged reverse repo 80; held NCD 20; A-rated bond maturing 100 x 100% = 100; the
          substandard loan none -> inflows = 395 < 75% x 549 = 411.75
  net     549 - 395 = 154; ratio = 385 / 154 = 250%
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from openalm.errors import ConfigError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.hqla import classify_hqla
from openalm.measures.liquidity.hqla_adequacy import SUMMARY_CATEGORIES, compute_hqla_adequacy
from openalm.measures.liquidity.rules import load_rule_set

RULES = load_rule_set("china")


def book() -> list[dict[str, Any]]:
    retail = {"counterparty_type": "retail_individual"}
    corp = {"counterparty_type": "non_financial_corporate"}
    bank = {"counterparty_type": "bank"}
    return [
        # stock
        {"instrument_type": "cash", "side": "asset", "balance": 100.0},
        {
            "instrument_type": "central_bank_reserve",
            "product_subtype": "excess_reserve",
            "side": "asset",
            "balance": 50.0,
            "counterparty_type": "central_bank",
        },
        {
            "instrument_type": "central_bank_reserve",
            "product_subtype": "required_reserve",
            "side": "asset",
            "balance": 200.0,
            "counterparty_type": "central_bank",
        },
        {
            "instrument_type": "debt_security",
            "product_subtype": "government_bond",
            "side": "asset",
            "balance": 200.0,
            "encumbered_amount": 50.0,
            "counterparty_type": "sovereign",
            "country_of_residence": "CN",
            "maturity_days": 400,
            "principal_due": {400: 200.0},
        },
        {
            "instrument_type": "debt_security",
            "product_subtype": "local_government_bond",
            "side": "asset",
            "balance": 100.0,
            "counterparty_type": "sub_sovereign",
            "country_of_residence": "CN",
            "external_rating": "AA",
            "maturity_days": 2000,
            "principal_due": {2000: 100.0},
        },
        {
            "instrument_type": "debt_security",
            "product_subtype": "corporate_bond",
            "side": "asset",
            "balance": 100.0,
            "external_rating": "A",
            "maturity_days": 20,
            "principal_due": {20: 100.0},
            **corp,
        },
        # outflows
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 1000.0,
            "counterparty_id": "R1",
            **retail,
        },
        {
            "instrument_type": "deposit_term",
            "side": "liability",
            "balance": 500.0,
            "counterparty_id": "R2",
            "maturity_days": 200,
            "principal_due": {200: 500.0},
            "interest_due": {10: 5.0},
            **retail,
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 200.0,
            "counterparty_type": "small_business",
        },
        {
            "instrument_type": "deposit_term",
            "side": "liability",
            "balance": 400.0,
            "maturity_days": 90,
            "principal_due": {90: 400.0},
            **corp,
        },
        {
            "instrument_type": "deposit_demand",
            "side": "liability",
            "balance": 100.0,
            "counterparty_type": "sub_sovereign",
        },
        {
            "instrument_type": "interbank_deposit",
            "product_subtype": "settlement",
            "side": "liability",
            "balance": 100.0,
            **bank,
        },
        {
            "instrument_type": "interbank_deposit",
            "product_subtype": "term",
            "side": "liability",
            "balance": 80.0,
            "maturity_days": 60,
            "principal_due": {60: 80.0},
            **bank,
        },
        {
            "instrument_type": "interbank_lending",
            "side": "liability",
            "balance": 50.0,
            "maturity_days": 10,
            "principal_due": {10: 50.0},
            **bank,
        },
        {
            "instrument_type": "interbank_lending",
            "side": "liability",
            "balance": 70.0,
            "maturity_days": 45,
            "principal_due": {45: 70.0},
            **bank,
        },
        {
            "instrument_type": "repo",
            "side": "liability",
            "repo_type": "outright",
            "balance": 60.0,
            "maturity_days": 5,
            "principal_due": {5: 60.0},
            "collateral_hqla_level": "level_1",
            **bank,
        },
        {
            "instrument_type": "central_bank_borrowing",
            "product_subtype": "mlf",
            "side": "liability",
            "balance": 100.0,
            "maturity_days": 20,
            "principal_due": {20: 100.0},
            "counterparty_type": "central_bank",
        },
        {
            "instrument_type": "debt_security",
            "product_subtype": "ncd",
            "side": "liability",
            "balance": 40.0,
            "maturity_days": 15,
            "principal_due": {15: 40.0},
        },
        {
            "instrument_type": "debt_security",
            "product_subtype": "financial_bond",
            "side": "liability",
            "balance": 300.0,
            "maturity_days": 400,
            "principal_due": {400: 300.0},
        },
        {
            "instrument_type": "loan_commitment",
            "side": "asset",
            "on_balance_sheet": False,
            "undrawn_amount": 200.0,
            "unconditionally_cancellable": False,
            **corp,
        },
        {
            "instrument_type": "loan_commitment",
            "side": "asset",
            "on_balance_sheet": False,
            "undrawn_amount": 500.0,
            "unconditionally_cancellable": True,
            **corp,
        },
        {"instrument_type": "acceptance", "side": "asset", "on_balance_sheet": False, "balance": 100.0, **corp},
        {"instrument_type": "guarantee", "side": "asset", "on_balance_sheet": False, "balance": 400.0, **corp},
        # inflows
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 300.0,
            "maturity_days": 900,
            "principal_due": {20: 30.0, 400: 270.0},
            "interest_due": {20: 10.0},
            **retail,
        },
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 200.0,
            "maturity_days": 10,
            "principal_due": {10: 200.0},
            **corp,
        },
        {
            "instrument_type": "bill_discount",
            "side": "asset",
            "balance": 40.0,
            "maturity_days": 25,
            "principal_due": {25: 40.0},
            **corp,
        },
        {
            "instrument_type": "interbank_deposit",
            "product_subtype": "nostro",
            "side": "asset",
            "balance": 30.0,
            "principal_due": {1: 30.0},
            **bank,
        },
        {
            "instrument_type": "interbank_lending",
            "side": "asset",
            "balance": 60.0,
            "maturity_days": 5,
            "principal_due": {5: 60.0},
            **bank,
        },
        {
            "instrument_type": "reverse_repo",
            "side": "asset",
            "repo_type": "pledged",
            "balance": 80.0,
            "maturity_days": 7,
            "principal_due": {7: 80.0},
            "collateral_hqla_level": "level_1",
            **bank,
        },
        {
            "instrument_type": "debt_security",
            "product_subtype": "ncd",
            "side": "asset",
            "balance": 20.0,
            "maturity_days": 12,
            "principal_due": {12: 20.0},
            **bank,
        },
        {
            "instrument_type": "loan",
            "side": "asset",
            "balance": 100.0,
            "asset_quality_class": "substandard",
            "maturity_days": 10,
            "principal_due": {10: 100.0},
            **corp,
        },
    ]


def run(records: list[dict[str, Any]], rules: Any = RULES) -> Any:
    frame = frame_from_records(records)
    hqla, _ = classify_hqla(frame, rules)
    return compute_hqla_adequacy(frame, rules, hqla=hqla)


def line(res: Any, category: str, currency: str = "CNY", col: str = "weighted_amount") -> float:
    hit = res.lines.filter((pl.col("currency") == currency) & (pl.col("category") == category))
    assert hit.height == 1, (category, currency, hit)
    return float(hit[col][0])


def test_hqla_adequacy_hand_computed_book() -> None:
    res = run(book())
    assert line(res, "l1_cash") + line(res, "l1_excess_reserves") + line(res, "l1_sovereign") == pytest.approx(300.0)
    assert line(res, "l1_sovereign", col="amount") == pytest.approx(150.0)  # unencumbered part only
    assert line(res, "l2_local_government") == pytest.approx(85.0)
    assert line(res, "adj_level2") == pytest.approx(0.0)
    assert line(res, "hqla_total") == pytest.approx(385.0)
    assert line(res, "out_savings", col="amount") == pytest.approx(1_500.0)  # whole balances
    assert line(res, "out_savings") == pytest.approx(120.0)
    assert line(res, "out_corporate") == pytest.approx(140.0)
    assert line(res, "out_institutional") == pytest.approx(35.0)
    assert line(res, "out_interbank_financing") == pytest.approx(80.0)
    assert line(res, "out_interbank_borrowing", col="amount") == pytest.approx(50.0)
    assert line(res, "out_commitments_other") == pytest.approx(30.0)
    assert line(res, "outflows_total") == pytest.approx(549.0)
    assert line(res, "in_loans_retail") == pytest.approx(15.0)
    assert line(res, "in_bonds") == pytest.approx(100.0)
    assert line(res, "inflows_total") == pytest.approx(395.0)
    assert line(res, "inflows_capped") == pytest.approx(395.0)
    assert line(res, "net_outflows") == pytest.approx(154.0)
    assert res.ratio == {"CNY": pytest.approx(2.5), "ALL": pytest.approx(2.5)}
    assert line(res, "hqla_adequacy") == pytest.approx(2.5)
    assert res.assumptions == []
    c = res.contracts.sort("row")
    assert c["g26_category"][2] is None  # required reserve: no G26 line
    assert (c["g26_category"][7], c["g26_factor"][7], c["g26_amount"][7]) == ("out_savings", 0.08, 500.0)
    assert c["g26_category"][5] == "in_bonds"


def test_hqla_adequacy_level2_cap_binds() -> None:
    # + AA corporate bond 400 -> L2 = 85 + 340 = 425 > 2/3 x 300 = 200: adjustment 225, HQLA = 500
    bond = {
        "instrument_type": "debt_security", "product_subtype": "corporate_bond", "side": "asset", "balance": 400.0,
        "external_rating": "AA", "counterparty_type": "non_financial_corporate", "maturity_days": 900,
        "principal_due": {900: 400.0},
    }  # fmt: skip
    res = run([*book(), bond])
    assert line(res, "l2_credit_bonds") == pytest.approx(340.0)
    assert line(res, "adj_level2", col="amount") == pytest.approx(425.0)
    assert line(res, "adj_level2") == pytest.approx(225.0)
    assert line(res, "hqla_total") == pytest.approx(500.0)
    assert res.ratio["ALL"] == pytest.approx(500.0 / 154.0)


def test_hqla_adequacy_inflow_cap_binds() -> None:
    # + interbank lending 1,000 due in 3 days: inflows 1,395 > 75% x 549 = 411.75; net = 137.25
    lending = {
        "instrument_type": "interbank_lending", "side": "asset", "balance": 1_000.0, "counterparty_type": "bank",
        "maturity_days": 3, "principal_due": {3: 1_000.0},
    }  # fmt: skip
    res = run([*book(), lending])
    assert line(res, "inflows_total") == pytest.approx(1_395.0)
    assert line(res, "inflows_capped") == pytest.approx(411.75)
    assert line(res, "net_outflows") == pytest.approx(137.25)
    assert res.ratio["CNY"] == pytest.approx(385.0 / 137.25)


def test_hqla_adequacy_drills_down_to_contracts_per_currency_and_all() -> None:
    usd = [
        {"instrument_type": "deposit_demand", "side": "liability", "balance": 10.0, "currency": "USD", "fx_rc": 7.0,
         "counterparty_type": "non_financial_corporate"},
        {"instrument_type": "cash", "side": "asset", "balance": 2.0, "currency": "USD", "fx_rc": 7.0},
        {"instrument_type": "derivative_leg", "side": "liability", "on_balance_sheet": False, "balance": 100.0,
         "counterparty_id": "D1", "counterparty_type": "bank", "interest_due": {10: 30.0}},
        {"instrument_type": "derivative_leg", "side": "asset", "on_balance_sheet": False, "balance": 100.0,
         "counterparty_id": "D1", "counterparty_type": "bank", "interest_due": {10: 10.0}},
    ]  # fmt: skip
    res = run([*book(), *usd])
    assert line(res, "out_corporate", "USD") == pytest.approx(3.5)
    assert line(res, "out_corporate", "ALL") == pytest.approx(140.0 + 7 * 3.5)
    assert line(res, "out_derivatives_net") == pytest.approx(20.0)  # pay 30, receive 10 within 30 days
    assert res.ratio["USD"] == pytest.approx(2.0 / 3.5)
    # ALL: 385 + 14 of stock over 549 + 24.5 + 20 - 395
    assert res.ratio["ALL"] == pytest.approx((385.0 + 14.0) / (549.0 + 24.5 + 20.0 - 395.0))
    cats = res.lines.filter(~pl.col("category").is_in(SUMMARY_CATEGORIES))
    drill = res.detail.group_by("currency", "component", "category").agg(
        pl.col("amount").sum().alias("d_amount"),
        pl.col("weighted_amount").sum().alias("d_weighted"),
        pl.col("row").n_unique().cast(pl.Int64).alias("d_contracts"),
    )
    per = cats.filter(pl.col("currency") != "ALL").join(drill, on=["currency", "component", "category"], how="full")
    assert per.height == drill.height == cats.filter(pl.col("currency") != "ALL").height >= 25
    assert per["weighted_amount"].to_list() == pytest.approx(per["d_weighted"].to_list())
    assert per["amount"].to_list() == pytest.approx(per["d_amount"].to_list())
    assert per["contracts"].to_list() == per["d_contracts"].to_list()
    fx = res.detail.with_columns(pl.when(pl.col("currency") == "USD").then(7.0).otherwise(1.0).alias("fx"))
    conv = fx.group_by("component", "category").agg((pl.col("weighted_amount") * pl.col("fx")).sum().alias("conv"))
    every = cats.filter(pl.col("currency") == "ALL").join(conv, on=["component", "category"], how="full")
    assert every["weighted_amount"].to_list() == pytest.approx(every["conv"].to_list())
    out = res.detail.filter((pl.col("component") == "outflow") & (pl.col("currency") == "CNY"))
    assert line(res, "outflows_total") == pytest.approx(float(out["weighted_amount"].sum()))


def test_hqla_adequacy_undetermined_categories_are_recorded() -> None:
    extra = [
        {"instrument_type": "deposit_demand", "side": "liability", "balance": 100.0, "position_id": "DEP-X"},
        {"instrument_type": "repo", "side": "liability", "balance": 20.0, "counterparty_type": "bank",
         "maturity_days": 5, "principal_due": {5: 20.0}, "position_id": "REPO-X"},
        {"instrument_type": "debt_security", "product_subtype": "local_government_bond", "side": "asset",
         "balance": 50.0, "counterparty_type": "sub_sovereign", "maturity_days": 10, "principal_due": {10: 50.0},
         "position_id": "LGB-X"},
    ]  # fmt: skip
    res = run([*book(), *extra])
    found = {a.code: a for a in res.assumptions}
    dep = found["hqla_adequacy.deposit_without_depositor_type"]
    assert (dep.contracts, dep.amount_rc, dep.sample) == (1, 100.0, ("DEP-X",))
    assert line(res, "out_corporate") == pytest.approx(140.0 + 35.0)  # the conservative 35% row
    assert found["hqla_adequacy.repo_type_unknown"].sample == ("REPO-X",)
    assert line(res, "out_repo_pledged") == pytest.approx(1.0)
    # a local-government bond without rating is not G26 stock; its principal due in 10 days is a bond inflow
    assert found["hqla_adequacy.local_government_bond_without_rating"].sample == ("LGB-X",)
    assert line(res, "l2_local_government") == pytest.approx(85.0)
    assert line(res, "in_bonds") == pytest.approx(150.0)


def test_hqla_adequacy_classifies_itself_and_flags_overrides() -> None:
    frame = frame_from_records(book())
    rules = load_rule_set("china", overrides={"hqla_adequacy": {"out_savings": 0.10}})
    res = compute_hqla_adequacy(frame, rules)  # hqla=None: classify_hqla inside
    assert line(res, "out_savings") == pytest.approx(150.0)
    assert res.ratio["ALL"] == pytest.approx(385.0 / (549.0 + 30.0 - 395.0))
    assert res.overrides == ["liquidity rule override: china/hqla_adequacy/out_savings = 0.1 (shipped 0.08)"]


def test_hqla_adequacy_is_china_only_and_empty_books_work() -> None:
    frame = frame_from_records(book())
    with pytest.raises(ConfigError, match="China-only"):
        compute_hqla_adequacy(frame, load_rule_set("basel"))
    cash = compute_hqla_adequacy(
        frame_from_records([{"instrument_type": "cash", "side": "asset", "balance": 1.0}]), RULES
    )
    assert math.isinf(cash.ratio["CNY"])
