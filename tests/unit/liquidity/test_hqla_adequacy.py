"""The G26 HQLA adequacy ratio (regulatory.md 4.5), hand-computed cases.

Book (CNY): cash 100; government bond 200 (Level 1); local-government bond AA 300 (Level 2,
85% -> 255); personal deposits 1,000 (8% of the whole balance: 80); corporate deposits 500
(35%: 175); interbank settlement deposits 100 (25%: 25); interbank borrowing due in 10 days 50
(100%: 50); an irrevocable commitment with 200 undrawn (10%: 20); a retail loan paying 40 within
30 days (50%: 20), interbank lending due in 5 days 60 (100%: 60).

  L1 = 300, L2 = 255 -> capped at 2/3 x 300 = 200, adjustment 55, HQLA = 500
  outflows = 80 + 175 + 25 + 50 + 20 = 350; inflows = 20 + 60 = 80 (cap 262.5 not binding)
  net = 270; ratio = 500 / 270 = 185.185...%
"""

from __future__ import annotations

import polars as pl
import pytest

from openalm.errors import ConfigError
from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.hqla import classify_hqla
from openalm.measures.liquidity.hqla_adequacy import compute_hqla_adequacy
from openalm.measures.liquidity.rules import load_rule_set

RULES = load_rule_set("china")


def _book(extra: list[dict[str, object]] | None = None) -> pl.DataFrame:
    recs: list[dict[str, object]] = [
        {"instrument_type": "cash", "side": "asset", "balance": 100.0},
        {
            "instrument_type": "debt_security", "product_subtype": "government_bond", "side": "asset",
            "balance": 200.0, "counterparty_type": "sovereign", "country_of_residence": "CN",
            "maturity_days": 2000, "principal_due": {2000: 200.0},
        },
        {
            "instrument_type": "debt_security", "product_subtype": "local_government_bond", "side": "asset",
            "balance": 300.0, "counterparty_type": "sub_sovereign", "country_of_residence": "CN",
            "external_rating": "AA", "maturity_days": 2000, "principal_due": {2000: 300.0},
        },
        {"instrument_type": "deposit_demand", "side": "liability", "balance": 1000.0,
         "counterparty_id": "R1", "counterparty_type": "retail_individual"},
        {"instrument_type": "deposit_term", "side": "liability", "balance": 500.0, "counterparty_id": "K1",
         "counterparty_type": "non_financial_corporate", "maturity_days": 200, "principal_due": {200: 500.0}},
        {"instrument_type": "interbank_deposit", "product_subtype": "settlement", "side": "liability",
         "balance": 100.0, "counterparty_type": "bank"},
        {"instrument_type": "interbank_lending", "side": "liability", "balance": 50.0, "counterparty_type": "bank",
         "maturity_days": 10, "principal_due": {10: 50.0}},
        {"instrument_type": "loan_commitment", "side": "asset", "on_balance_sheet": False, "balance": 0.0,
         "undrawn_amount": 200.0, "counterparty_type": "non_financial_corporate", "unconditionally_cancellable": False},
        {"instrument_type": "loan", "side": "asset", "balance": 400.0, "counterparty_type": "retail_individual",
         "maturity_days": 3000, "principal_due": {20: 30.0, 400: 370.0}, "interest_due": {20: 10.0}},
        {"instrument_type": "interbank_lending", "side": "asset", "balance": 60.0, "counterparty_type": "bank",
         "maturity_days": 5, "principal_due": {5: 60.0}},
    ]  # fmt: skip
    return frame_from_records(recs + (extra or []))


def _run(frame: pl.DataFrame):  # type: ignore[no-untyped-def]
    hqla, _ = classify_hqla(frame, RULES)
    return compute_hqla_adequacy(frame, RULES, hqla=hqla)


def _line(res, category: str, ccy: str = "ALL") -> float:  # type: ignore[no-untyped-def]
    row = res.lines.filter((pl.col("currency") == ccy) & (pl.col("category") == category))
    return float(row["weighted_amount"].item())


def test_hqla_adequacy_hand_computed_with_the_level2_cap_binding() -> None:
    res = _run(_book())
    assert _line(res, "adj_level2") == pytest.approx(55.0)
    assert _line(res, "hqla_total") == pytest.approx(500.0)
    assert _line(res, "outflows_total") == pytest.approx(350.0)
    assert _line(res, "inflows_capped") == pytest.approx(80.0)
    assert _line(res, "net_outflows") == pytest.approx(270.0)
    assert res.ratio["ALL"] == pytest.approx(500.0 / 270.0)
    assert res.ratio["CNY"] == pytest.approx(500.0 / 270.0)
    assert _line(res, "out_savings") == pytest.approx(80.0)  # the whole demand balance at 8%


def test_the_75_percent_inflow_cap_binds() -> None:
    big = {"instrument_type": "interbank_lending", "side": "asset", "balance": 1000.0, "counterparty_type": "bank",
           "maturity_days": 3, "principal_due": {3: 1000.0}}  # fmt: skip
    res = _run(_book([big]))
    assert _line(res, "inflows_total") == pytest.approx(1080.0)
    assert _line(res, "inflows_capped") == pytest.approx(0.75 * 350.0)
    assert _line(res, "net_outflows") == pytest.approx(0.25 * 350.0)


def test_every_line_drills_down_to_its_contracts() -> None:
    res = _run(_book())
    sums = res.detail.group_by("category").agg(pl.col("weighted_amount").sum().alias("d"))
    lines = res.lines.filter((pl.col("currency") == "CNY") & pl.col("line").is_not_null()).join(sums, on="category")
    assert lines.height >= 10
    for rec in lines.iter_rows(named=True):
        assert rec["d"] == pytest.approx(rec["weighted_amount"])


def test_unknown_depositor_type_is_recorded_and_treated_as_corporate() -> None:
    unknown = {"instrument_type": "deposit_demand", "side": "liability", "balance": 100.0, "counterparty_id": "X"}
    res = _run(_book([unknown]))
    assert _line(res, "out_corporate") == pytest.approx(175.0 + 35.0)
    [a] = [a for a in res.assumptions if a.code == "hqla_adequacy.deposit_without_depositor_type"]
    assert a.contracts == 1 and a.sample == ("P11",)


def test_basel_has_no_hqla_adequacy_ratio() -> None:
    frame = _book()
    basel = load_rule_set("basel")
    hqla, _ = classify_hqla(frame, basel)
    with pytest.raises(ConfigError, match="China-only"):
        compute_hqla_adequacy(frame, basel, hqla=hqla)
