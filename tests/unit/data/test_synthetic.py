"""Tests of the synthetic Chinese mid-size bank (openalm.data.synthetic)."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from openalm.data.schema import INSTRUMENT_SIDES, OFF_BALANCE_INSTRUMENTS, TABLES
from openalm.data.snapshot import read_snapshot
from openalm.data.synthetic import SYNTHETIC_TABLES, demo_config, generate_bank, write_snapshot

AS_OF = dt.date(2026, 6, 30)
N = 20_000

MINIMAL_COLUMNS = (
    "as_of_date", "position_id", "source_system", "reporting_entity_id", "branch_id", "product_code", "gl_account",
    "counterparty_id", "instrument_type", "product_subtype", "side", "on_balance_sheet", "currency", "book",
    "principal_balance", "accrued_interest", "origination_date", "maturity_date", "rate_type", "current_rate",
    "day_count", "amortisation_type", "interest_payment_frequency", "principal_payment_frequency",
    "next_interest_payment_date", "next_principal_payment_date", "rate_index", "spread", "reset_frequency",
    "next_reset_date", "overdue_principal", "asset_quality_class", "undrawn_amount",
)  # fmt: skip
AMOUNTS = (
    "principal_balance", "original_amount", "accrued_interest", "carrying_amount", "overdue_principal",
    "undrawn_amount", "limit_amount", "insured_amount", "encumbered_amount", "collateral_market_value",
)  # fmt: skip
NO_COUNTERPARTY = ("cash", "other_asset", "other_liability", "equity_capital")
MONTHS = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12}


@pytest.fixture(scope="module")
def bank() -> dict[str, pa.Table]:
    return generate_bank(N, as_of=AS_OF, seed=7)


@pytest.fixture(scope="module")
def pos(bank: dict[str, pa.Table]) -> pl.DataFrame:
    frame = pl.from_arrow(bank["positions"])
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.fixture(scope="module")
def fx(bank: dict[str, pa.Table]) -> dict[str, float]:
    rates = bank["fx_rates"].to_pylist()
    assert all(r["quote_currency"] == "CNY" and r["rate_type"] == "closing" for r in rates)
    return {"CNY": 1.0} | {r["base_currency"]: r["rate"] for r in rates}


def _cny(pos: pl.DataFrame, fx: dict[str, float]) -> pl.DataFrame:
    return pos.with_columns((pl.col("principal_balance") * pl.col("currency").replace_strict(fx)).alias("cny"))


def _add_months(d: dt.date, k: int) -> dt.date:
    t = d.year * 12 + d.month - 1 + k
    y, m = divmod(t, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _first_roll_after(anchor: dt.date, maturity: dt.date, months: int) -> dt.date:
    """Reference: the first date after ``anchor`` of maturity - k x months (k >= 0)."""
    k, best = 0, maturity
    while (d := _add_months(maturity, -k * months)) > anchor:
        best, k = d, k + 1
    return best


# --------------------------------------------------------------------------------------------
# shape, types, reproducibility
# --------------------------------------------------------------------------------------------


def test_tables_and_row_count(bank: dict[str, pa.Table]) -> None:
    assert tuple(bank) == SYNTHETIC_TABLES
    assert bank["positions"].num_rows == N
    for n in (300, 1_234):
        assert generate_bank(n, as_of=AS_OF)["positions"].num_rows == n


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_bank(10)


def test_reproducible_and_seed_dependent(bank: dict[str, pa.Table]) -> None:
    again = generate_bank(N, as_of=AS_OF, seed=7)
    for name in SYNTHETIC_TABLES:
        assert again[name].equals(bank[name]), name
    other = generate_bank(N, as_of=AS_OF, seed=8)
    assert not other["positions"].equals(bank["positions"])


def test_column_types_follow_the_contract(bank: dict[str, pa.Table]) -> None:
    for name, table in bank.items():
        schema = TABLES[name]
        for field in table.schema:
            assert field.type == schema.column(field.name).arrow_type, (name, field.name)
    assert set(MINIMAL_COLUMNS) <= set(bank["positions"].column_names)


def test_ids_unique(pos: pl.DataFrame, bank: dict[str, pa.Table]) -> None:
    assert pos["position_id"].n_unique() == N
    cp = bank["counterparties"].column("counterparty_id")
    assert len(cp.unique()) == len(cp)
    held = pos.filter(pl.col("instrument_type") == "debt_security")["security_id"]
    assert held.null_count() == 0 and held.n_unique() == len(held)


def test_demo_config() -> None:
    cfg = demo_config()
    assert cfg["reporting_currency"] == "CNY" and cfg["rule_set"] == "china"
    assert cfg["discount_curves"] == {"CNY": "CNY_RFR", "USD": "USD_RFR", "HKD": "HKD_RFR", "EUR": "EUR_RFR"}


# --------------------------------------------------------------------------------------------
# balance sheet
# --------------------------------------------------------------------------------------------


def test_assets_equal_liabilities_plus_equity(pos: pl.DataFrame, fx: dict[str, float]) -> None:
    on = _cny(pos, fx).filter(pl.col("on_balance_sheet"))
    sums = {side: float(total) for side, total in on.group_by("side").agg(pl.col("cny").sum()).iter_rows()}
    assert sums["equity"] > 0
    assert abs(sums["asset"] - sums["liability"] - sums["equity"]) < 1.0
    assert 0.03 < sums["equity"] / sums["asset"] < 0.12
    # about CNY 1.5 million of assets per contract
    assert 1.2e6 * N < sums["asset"] < 1.8e6 * N


def test_currency_mix(pos: pl.DataFrame, fx: dict[str, float]) -> None:
    assets = _cny(pos, fx).filter(pl.col("on_balance_sheet") & (pl.col("side") == "asset"))
    cny_share = float(assets.filter(pl.col("currency") == "CNY")["cny"].sum()) / float(assets["cny"].sum())
    assert 0.85 < cny_share < 0.97
    assert set(pos["currency"].unique()) == {"CNY", "USD", "HKD", "EUR"}


def test_retail_dominates_counts_wholesale_dominates_balances(pos: pl.DataFrame, fx: dict[str, float]) -> None:
    frame = _cny(pos, fx)
    retail_products = pl.col("product_subtype").is_in(["mortgage_residential", "consumer", "credit_card", "savings"])
    retail_rows = frame.filter(retail_products | pl.col("product_code").str.starts_with("DEP_RET")).height
    assert retail_rows > 0.6 * N
    assets = frame.filter(pl.col("on_balance_sheet") & (pl.col("side") == "asset"))
    wholesale = assets.filter(
        pl.col("product_subtype").is_in(["working_capital", "fixed_asset", "project_finance"])
        | (pl.col("instrument_type") == "debt_security")
    )["cny"].sum()
    assert float(wholesale) > 0.6 * float(assets["cny"].sum())


# --------------------------------------------------------------------------------------------
# row rules
# --------------------------------------------------------------------------------------------


def test_no_negative_amounts(pos: pl.DataFrame) -> None:
    for name in AMOUNTS:
        if name in pos.columns:
            assert (pos[name].drop_nulls() >= 0).all(), name
    assert (pos["principal_balance"].null_count()) == 0
    overdue = pos.filter(pl.col("overdue_principal").is_not_null())
    assert (overdue["overdue_principal"] <= overdue["principal_balance"]).all()
    enc = pos.filter(pl.col("encumbered_amount").is_not_null())
    assert enc.height > 0 and (enc["encumbered_amount"] <= enc["principal_balance"]).all()
    assert enc["encumbrance_type"].null_count() == 0 and enc["encumbrance_end_date"].null_count() == 0


def test_side_and_balance_sheet_status_per_instrument(pos: pl.DataFrame) -> None:
    pairs = pos.select("instrument_type", "side", "on_balance_sheet").unique().rows()
    for inst, side, on_bs in pairs:
        assert side in INSTRUMENT_SIDES[inst], (inst, side)
        assert on_bs == (inst not in OFF_BALANCE_INSTRUMENTS), inst


def test_interest_bearing_and_floating_rows_complete(pos: pl.DataFrame, bank: dict[str, pa.Table]) -> None:
    bearing = pos.filter(pl.col("rate_type") != "non_interest_bearing")
    for name in ("current_rate", "day_count", "interest_payment_frequency"):
        assert bearing[name].null_count() == 0, name
    assert bearing["current_rate"].is_between(-0.05, 0.5).all()
    floating = pos.filter(pl.col("rate_type") == "floating")
    assert floating.height > 0
    for name in ("rate_index", "spread", "reset_frequency", "next_reset_date"):
        assert floating[name].null_count() == 0, name
    amortising = pos.filter(pl.col("amortisation_type").is_in(["annuity", "linear"]))
    assert amortising["principal_payment_frequency"].null_count() == 0
    assert amortising["next_principal_payment_date"].null_count() == 0
    # the rate in force is index fixing + spread (the multiplier is 1)
    fixings = pl.from_arrow(bank["index_fixings"])
    assert isinstance(fixings, pl.DataFrame)
    base = floating.with_columns((pl.col("current_rate") - pl.col("spread")).round(6).alias("fix"))
    known = fixings.select(pl.col("index_code").alias("rate_index"), pl.col("value").round(6).alias("fix"))
    matched = base.join(known.unique(), on=["rate_index", "fix"], how="semi")
    assert matched.height == floating.height
    assert (floating["rate_multiplier"] == 1.0).all()
    mortgages = floating.filter(pl.col("product_subtype") == "mortgage_residential")
    assert (mortgages["next_reset_date"] == dt.date(2027, 1, 1)).all()
    assert (mortgages["rate_index"] == "CNY_LPR_5Y").all()


def test_next_dates_after_as_of_and_not_after_maturity(pos: pl.DataFrame) -> None:
    for name in ("next_interest_payment_date", "next_principal_payment_date", "next_reset_date"):
        rows = pos.filter(pl.col(name).is_not_null())
        assert (rows[name] > AS_OF).all(), name
        assert (rows.filter(pl.col("maturity_date").is_not_null()).select(pl.col(name) <= pl.col("maturity_date")))[
            name
        ].all(), name
    dated = pos.filter(pl.col("maturity_date").is_not_null())
    assert (dated["maturity_date"] > AS_OF).all()
    assert (dated["origination_date"] <= dated["maturity_date"]).all()
    forward = dated.filter(pl.col("origination_date") > AS_OF)
    assert 0 < forward.height < 0.01 * N


def test_next_dates_roll_backward_from_maturity(pos: pl.DataFrame) -> None:
    cols = [
        "position_id", "origination_date", "maturity_date", "interest_payment_frequency", "next_interest_payment_date",
        "principal_payment_frequency", "next_principal_payment_date", "amortisation_type",
    ]  # fmt: skip
    checked = 0
    sample = pos.select(cols).gather_every(5)  # every 5th row keeps the scalar reference fast
    assert set(sample["amortisation_type"]) >= {"annuity", "linear", "bullet", "non_maturity"}
    for pid, orig, mat, ifreq, nxt_i, pfreq, nxt_p, amort in sample.iter_rows():
        if mat is None:
            assert nxt_i is None and nxt_p is None, pid
            continue
        anchor = max(AS_OF, orig)
        if ifreq in MONTHS:
            assert nxt_i == _first_roll_after(anchor, mat, MONTHS[ifreq]), pid
            checked += 1
        elif ifreq == "T":
            assert nxt_i == mat, pid
        if amort in ("annuity", "linear"):
            assert nxt_p == _first_roll_after(anchor, mat, MONTHS[pfreq]), pid
            checked += 1
        elif amort == "bullet":
            assert nxt_p == mat and pfreq == "T", pid
    assert checked > 0.3 * N / 5


def test_credit_quality(pos: pl.DataFrame) -> None:
    loans = pos.filter(pl.col("instrument_type") == "loan")
    assert loans["asset_quality_class"].null_count() == 0
    npl = loans.filter(pl.col("asset_quality_class").is_in(["substandard", "doubtful", "loss"]))
    assert 0 < npl.height < 0.05 * loans.height
    assert (npl["overdue_principal"] > 0).all()
    assert npl.filter(pl.col("accrual_status") == "non_accrual").height > 0
    assert (loans.filter(pl.col("accrual_status") == "non_accrual")["accrued_interest"] == 0).all()


def test_counterparties_resolve(pos: pl.DataFrame, bank: dict[str, pa.Table]) -> None:
    issued = (pl.col("instrument_type") == "debt_security") & (pl.col("side") == "liability")
    needs = pos.filter(~pl.col("instrument_type").is_in(NO_COUNTERPARTY) & ~issued)
    assert needs["counterparty_id"].null_count() == 0
    used = set(pos["counterparty_id"].drop_nulls().unique())
    cps = pl.from_arrow(bank["counterparties"])
    assert isinstance(cps, pl.DataFrame)
    assert set(cps["counterparty_id"]) == used
    types = set(cps["counterparty_type"])
    assert {
        "retail_individual", "small_business", "non_financial_corporate", "sovereign", "central_bank",
        "sub_sovereign", "pse", "bank", "securities_firm", "investment_fund",
    } <= types  # fmt: skip
    financial = cps.filter(pl.col("counterparty_type").is_in(["bank", "securities_firm", "investment_fund"]))
    assert financial["fi_subtype"].null_count() == 0
    corporates = cps.filter(pl.col("counterparty_type").is_in(["non_financial_corporate", "small_business"]))
    assert corporates["enterprise_size"].null_count() == 0


def test_secured_funding_pledges_held_bonds(pos: pl.DataFrame) -> None:
    held = set(pos.filter(pl.col("instrument_type") == "debt_security")["security_id"])
    repos = pos.filter(pl.col("instrument_type") == "repo")
    assert repos.height > 0 and set(repos["collateral_security_id"]) <= held
    assert (repos["collateral_market_value"] >= repos["principal_balance"]).all()
    assert set(pos.filter(pl.col("encumbered_amount") > 0)["encumbrance_type"]) == {"repo", "central_bank"}


def test_derivative_deals_have_two_opposite_legs(pos: pl.DataFrame) -> None:
    legs = pos.filter(pl.col("instrument_type") == "derivative_leg")
    deals = legs.group_by("deal_id").agg(pl.len(), pl.col("side").n_unique().alias("sides"))
    assert (deals["len"] == 2).all() and (deals["sides"] == 2).all()
    irs = legs.filter(pl.col("derivative_type") == "irs")
    assert set(irs["notional_exchange"]) == {"none"}
    assert set(irs.filter(pl.col("rate_type") == "floating")["rate_index"]) == {"CNY_FR007"}
    fwd = legs.filter(pl.col("derivative_type") == "fx_forward")
    assert set(fwd["notional_exchange"]) == {"final"} and set(fwd["rate_type"]) == {"non_interest_bearing"}
    assert set(fwd["currency"]) == {"USD", "CNY"}


def test_market_data(bank: dict[str, pa.Table]) -> None:
    curves = pl.from_arrow(bank["curves"])
    indices = pl.from_arrow(bank["rate_indices"])
    fixings = pl.from_arrow(bank["index_fixings"])
    assert isinstance(curves, pl.DataFrame) and isinstance(indices, pl.DataFrame) and isinstance(fixings, pl.DataFrame)
    assert {"CNY_RFR", "USD_RFR", "HKD_RFR", "EUR_RFR"} <= set(curves["curve_id"])
    assert set(indices["projection_curve_id"]) <= set(curves["curve_id"])
    assert (curves.group_by("curve_id").len()["len"] == 15).all()
    cny = curves.filter(pl.col("curve_id") == "CNY_RFR").sort("value")
    assert 0.012 < cny["value"][0] < 0.015 and 0.02 < cny["value"][-1] < 0.024
    span = fixings.group_by("index_code").agg(pl.col("fixing_date").min(), pl.col("fixing_date").max().alias("last"))
    assert set(span["index_code"]) == set(indices["index_code"])
    assert (span["fixing_date"] <= AS_OF - dt.timedelta(days=365)).all()
    assert (span["last"] <= AS_OF).all() and (span["last"] > AS_OF - dt.timedelta(days=40)).all()
    fx = {r["base_currency"]: r["rate"] for r in bank["fx_rates"].to_pylist()}
    assert fx == pytest.approx({"USD": 7.10, "HKD": 0.91, "EUR": 7.75}, abs=0.01)


# --------------------------------------------------------------------------------------------
# writing and reading back
# --------------------------------------------------------------------------------------------


def test_written_snapshot_reads_with_zero_rejects(bank: dict[str, pa.Table], tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    paths = write_snapshot(bank, folder)
    assert {p.name for p in paths.values()} == {f"{t}.parquet" for t in SYNTHETIC_TABLES}
    snap = read_snapshot(folder, AS_OF)
    assert snap.rejects == []
    assert snap.counts["positions"] == {"read": N, "rejected": 0, "used": N}
    assert snap.counterparties is not None and snap.counterparties.num_rows == bank["counterparties"].num_rows


def test_csv_snapshot_reads_with_zero_rejects(tmp_path: Path) -> None:
    tables = generate_bank(1_000, as_of=AS_OF)
    folder = tmp_path / "csv"
    paths = write_snapshot(tables, folder, fmt="csv")
    assert all(p.suffix == ".csv" and p.exists() for p in paths.values())
    snap = read_snapshot(folder, AS_OF)
    assert snap.rejects == [] and snap.positions.num_rows == 1_000
    amounts = np.asarray(snap.positions.column("principal_balance").to_numpy(zero_copy_only=False))
    expected = np.asarray(tables["positions"].column("principal_balance").to_numpy(zero_copy_only=False))
    np.testing.assert_allclose(amounts, expected, rtol=0, atol=0.005)


def test_write_snapshot_replaces_the_folder_atomically(tmp_path: Path) -> None:
    tables = generate_bank(400, as_of=AS_OF)
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "stale.csv").write_text("old", encoding="utf-8")
    write_snapshot(tables, folder, fmt="csv")
    write_snapshot(tables, folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in SYNTHETIC_TABLES)
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]  # no temporary folder left behind
    with pytest.raises(ValueError, match="fmt"):
        write_snapshot(tables, folder, fmt="xlsx")
