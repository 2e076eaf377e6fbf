"""The liquidity module inside ``openalm run`` on the synthetic bank: every table is written, every
LCR / NSFR line drills down to its contracts, the ratios and the returns tie back to the tables."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from openalm.config import RunConfig
from openalm.data.synthetic import generate_bank, write_snapshot
from openalm.runner import execute_run

AS_OF = dt.date(2026, 6, 30)
SUMMARY = {
    "hqla_total", "adj15", "adj40", "outflows_total", "inflows_total", "inflows_capped", "net_outflows", "lcr",
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("liqrun")
    write_snapshot(generate_bank(3000, AS_OF), root / "bank", "parquet")
    out = {}
    for rule_set in ("china", "basel"):
        config = RunConfig.model_validate({"rule_set": rule_set})
        execute_run(root / "bank", AS_OF, root / rule_set, config)
        out[rule_set] = root / rule_set
    return out


def _t(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{name}.parquet")


def test_every_liquidity_table_and_return_is_written(runs: dict[str, Path]) -> None:
    china = runs["china"]
    for name in ("liquidity_gap", "lcr", "nsfr", "ratios", "liquidity_stress", "liquidity_survival", "g21_lines"):
        assert (china / f"{name}.csv").is_file() and (china / f"{name}.parquet").is_file(), name
    assert (china / "lcr_detail.parquet").is_file() and not (china / "lcr_detail.csv").exists()
    for form in ("G21", "G22", "G23", "G24", "G25"):
        assert (china / "returns" / f"{form}.xlsx").is_file(), form
    manifest = json.loads((china / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["returns"]["G25"] == "G25.xlsx"
    assert "liquidity" in manifest["timings_seconds"]
    basel = runs["basel"]
    assert _t(basel, "lcr")["rule_set"].unique().to_list() == ["basel"]
    assert not (basel / "liquidity_ratio_g22.parquet").exists()  # China-only ratios
    assert {"lcr", "nsfr"} <= set(_t(basel, "ratios")["indicator"].to_list())


@pytest.mark.parametrize("rule_set", ["china", "basel"])
def test_every_lcr_line_drills_down_to_its_contracts(runs: dict[str, Path], rule_set: str) -> None:
    lines = _t(runs[rule_set], "lcr").filter((pl.col("currency") != "ALL") & ~pl.col("category").is_in(SUMMARY))
    detail = _t(runs[rule_set], "lcr_detail")
    sums = detail.group_by("currency", "component", "category").agg(
        pl.col("weighted_amount").sum().alias("d_weighted"), pl.col("row").n_unique().alias("d_contracts")
    )
    joined = lines.join(sums, on=["currency", "component", "category"], how="left")
    assert joined.height > 10
    for rec in joined.iter_rows(named=True):
        assert rec["d_weighted"] == pytest.approx(rec["weighted_amount"], rel=1e-9, abs=1e-6), rec["category"]
    # the per-contract columns of contract_results name each contract's main line
    results = _t(runs[rule_set], "contract_results")
    assert results.filter(pl.col("lcr_category").is_not_null()).height > 100


def test_every_nsfr_line_drills_down_to_its_contracts(runs: dict[str, Path]) -> None:
    lines = _t(runs["china"], "nsfr").filter(
        (pl.col("currency") == "CNY") & pl.col("component").is_in(["asf", "rsf"]) & (pl.col("category") != "total")
    )
    frame = _t(runs["china"], "contract_results").select("position_id", "currency")
    detail = _t(runs["china"], "nsfr_detail").join(frame, on="position_id").filter(pl.col("currency") == "CNY")
    sums = detail.group_by("component", "category", "maturity").agg(pl.col("weighted_amount").sum().alias("d"))
    joined = lines.join(sums, on=["component", "category", "maturity"], how="left")
    assert joined.height > 10
    for rec in joined.iter_rows(named=True):
        assert rec["d"] == pytest.approx(rec["weighted_amount"], rel=1e-9, abs=1e-6), rec["category"]


def test_ratios_tie_back_to_the_lcr_and_nsfr_tables_and_the_g25_return(runs: dict[str, Path]) -> None:
    china = runs["china"]
    ratios = dict(_t(china, "ratios").select("indicator", "value").iter_rows())
    lcr = _t(china, "lcr").filter((pl.col("currency") == "ALL") & (pl.col("component") == "ratio"))
    nsfr = _t(china, "nsfr").filter((pl.col("currency") == "ALL") & (pl.col("component") == "ratio"))
    assert ratios["lcr"] == pytest.approx(lcr["weighted_amount"].item(), rel=1e-12)
    assert ratios["nsfr"] == pytest.approx(nsfr["weighted_amount"].item(), rel=1e-12)
    hqla = _t(china, "lcr").filter((pl.col("currency") == "ALL") & (pl.col("category") == "hqla_total"))
    net = _t(china, "lcr").filter((pl.col("currency") == "ALL") & (pl.col("category") == "net_outflows"))
    assert ratios["lcr"] == pytest.approx(hqla["weighted_amount"].item() / net["weighted_amount"].item(), rel=1e-12)
    with (china / "returns" / "G25_I.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ratio_row = next(r for r in rows if r["item"] == "流动性覆盖率")
    assert float(ratio_row["weighted_amount"]) == pytest.approx(ratios["lcr"], rel=1e-12)
    status = dict(_t(china, "ratios").select("indicator", "status").iter_rows())
    assert set(status.values()) <= {"ok", "warning", "breach", "n/a"}


def test_g21_return_ties_back_to_the_g21_lines_table_in_10k_cny(runs: dict[str, Path]) -> None:
    china = runs["china"]
    lines = _t(china, "g21_lines").filter(pl.col("currency") == "ALL")
    with (china / "returns" / "G21_ALL.csv").open(encoding="utf-8") as fh:
        rows = {r["line"]: r for r in csv.DictReader(fh)}
    for rec in lines.filter(pl.col("line").is_in(["1", "1.6", "3", "3.5"])).iter_rows(named=True):
        for col in ("A", "E", "K"):
            assert float(rows[rec["line"]][col]) == pytest.approx(rec[col] / 10_000, rel=1e-9, abs=1e-9)


def test_undetermined_categories_are_reported_not_defaulted(runs: dict[str, Path]) -> None:
    table = _t(runs["china"], "liquidity_assumptions")
    assert table.height >= 1
    assert (table["contracts"] > 0).all() and table["sample"].str.len_chars().min() > 0
    assert table["assumption"].str.len_chars().min() > 10


def test_same_inputs_give_the_same_liquidity_tables_bit_for_bit(runs: dict[str, Path], tmp_path: Path) -> None:
    """Architecture: a run is a pure function of its inputs. Group sums are taken in row order
    (``frame.ordered_group_by``), so a second run writes identical tables, not just close ones."""
    import pyarrow.parquet as pq

    config = RunConfig.model_validate({"rule_set": "china"})
    execute_run(runs["china"].parent / "bank", AS_OF, tmp_path / "again", config)
    names = sorted(p.name for p in runs["china"].glob("*.parquet"))
    assert "lcr.parquet" in names and "liquidity_stress.parquet" in names
    for name in names:
        a = pq.read_table(runs["china"] / name)
        b = pq.read_table(tmp_path / "again" / name)
        assert a.equals(b), name
