"""G23 top depositors and G24 top FI funders (hand-computed cases, amounts in CNY)."""

from __future__ import annotations

import polars as pl
import pytest

from openalm.measures.liquidity.concentration import ConcentrationSettings, compute_concentration
from openalm.measures.liquidity.frame import frame_from_records


def _dep(cp: str, amount: float, kind: str = "deposit_demand", **kw: object) -> dict[str, object]:
    return {
        "instrument_type": kind,
        "side": "liability",
        "balance": amount,
        "counterparty_id": cp,
        "counterparty_name": f"name-{cp}",
        "counterparty_type": "non_financial_corporate",
        **kw,
    }


def _frame() -> pl.DataFrame:
    return frame_from_records(
        [
            # group G1 = C1 (60 demand + 40 term) and C2 (USD 10 at 7.0 = 70 term): 170, term 110
            _dep("C1", 60.0, group_id="G1"),
            _dep("C1", 40.0, "deposit_term", group_id="G1", principal_due={200: 40.0}),
            _dep("C2", 10.0, "deposit_term", group_id="G1", currency="USD", fx_rc=7.0, principal_due={200: 10.0}),
            _dep("C3", 150.0),
            _dep("C4", 150.0),  # tie with C3: code order decides
            _dep("C5", 30.0),
            {"instrument_type": "deposit_demand", "side": "liability", "balance": 100.0},  # no counterparty
            # interbank funding
            {
                "instrument_type": "interbank_lending",
                "side": "liability",
                "balance": 200.0,
                "counterparty_id": "B1",
                "counterparty_name": "Bank 1",
                "counterparty_type": "bank",
                "country_of_residence": "CN",
            },
            {
                "instrument_type": "interbank_deposit",
                "side": "liability",
                "balance": 120.0,
                "counterparty_id": "B1",
                "counterparty_type": "bank",
                "country_of_residence": "CN",
                "product_subtype": "settlement",
            },
            {
                "instrument_type": "interbank_deposit",
                "side": "liability",
                "balance": 150.0,
                "counterparty_id": "B2",
                "counterparty_name": "Bank 2",
                "counterparty_type": "bank",
                "country_of_residence": "CN",
            },
            {
                "instrument_type": "repo",
                "side": "liability",
                "balance": 100.0,
                "counterparty_id": "B2",
                "counterparty_type": "securities_firm",
                "country_of_residence": "CN",
            },
            {
                "instrument_type": "debt_security",
                "product_subtype": "ncd",
                "side": "liability",
                "balance": 50.0,
                "counterparty_id": "B2",
                "counterparty_type": "bank",
                "country_of_residence": "CN",
            },
            {
                "instrument_type": "interbank_lending",
                "side": "liability",
                "balance": 500.0,
                "counterparty_id": "F1",
                "counterparty_type": "bank",
                "country_of_residence": "US",
            },  # foreign: not in G24
            {
                "instrument_type": "interbank_deposit",
                "side": "liability",
                "balance": 80.0,
                "counterparty_id": "B3",
                "counterparty_type": "bank",
            },  # no country: assumed domestic, recorded
        ]
    )


def test_g23_group_of_two_counterparties_counts_as_one() -> None:
    res = compute_concentration(_frame())
    g23 = res.g23
    assert g23["code"].to_list() == ["G1", "C3", "C4", "C5"]
    g1 = g23.row(0, named=True)
    assert g1["deposits_rc"] == pytest.approx(170.0)
    assert g1["term_deposits_rc"] == pytest.approx(110.0)
    assert g1["members"] == 2 and g1["is_group"] is True
    assert g1["name"] == "name-C2"  # the largest member (70 > 60 > 40)
    total = 170 + 150 + 150 + 30 + 100  # 600 incl. the deposit without counterparty
    assert g1["share"] == pytest.approx(170 / total)
    assert res.values["top10_depositor_share"] == pytest.approx(500 / total)
    assert any(a.code == "concentration.deposit_without_counterparty" for a in res.assumptions)


def test_g23_top_n_and_drill_down_identity() -> None:
    res = compute_concentration(_frame(), settings=ConcentrationSettings(top_depositors=2))
    assert res.g23["code"].to_list() == ["G1", "C3"]
    sums = res.g23_detail.group_by("code").agg(pl.col("amount_rc").sum())
    for code, amount in sums.iter_rows():
        assert res.g23.filter(pl.col("code") == code)["deposits_rc"].item() == pytest.approx(amount)
    assert sorted(res.g23_detail.filter(pl.col("code") == "G1")["row"].to_list()) == [0, 1, 2]


def test_g24_ranked_net_of_settlement_deposits() -> None:
    res = compute_concentration(_frame())
    g24 = res.g24
    # B1: 200 + 120 = 320, net of settlement 120 -> 200; B2: 150 + 100 = 250 net 250; B3: 80
    assert g24["counterparty_id"].to_list() == ["B2", "B1", "B3"]
    b1 = g24.filter(pl.col("counterparty_id") == "B1").row(0, named=True)
    assert (b1["interbank_borrowing"], b1["interbank_deposits"], b1["repo"]) == (200.0, 120.0, 0.0)
    assert (b1["total"], b1["settlement_deposits"], b1["total_net"]) == (320.0, 120.0, 200.0)
    b2 = g24.filter(pl.col("counterparty_id") == "B2").row(0, named=True)
    assert b2["ncd_issued_held"] == 50.0 and b2["total"] == 250.0
    liabilities = 600 + 200 + 120 + 150 + 100 + 50 + 500 + 80  # every on-balance liability, CNY
    assert b2["share_of_liabilities"] == pytest.approx(250 / liabilities)
    assert res.values["top_fi_funding_share"] == pytest.approx((320 + 250 + 80) / liabilities)
    assert any(a.code == "concentration.fi_without_country" and a.contracts == 1 for a in res.assumptions)
    # drill-down identity (funding components; the NCD memo separately)
    det = (
        res.g24_detail.filter(pl.col("component") != "ncd_issued_held")
        .group_by("counterparty_id")
        .agg(pl.col("amount_rc").sum())
    )
    for cp, amount in det.iter_rows():
        assert g24.filter(pl.col("counterparty_id") == cp)["total"].item() == pytest.approx(amount)
    assert compute_concentration(_frame(), settings=ConcentrationSettings(top_fi=1)).g24.height == 1
