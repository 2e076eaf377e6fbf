"""`openalm run`, `validate` and `explain` end to end on a small snapshot (interfaces.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from openalm.cli import app

AS_OF = "2026-06-30"
COLS = [
    "as_of_date", "position_id", "source_system", "reporting_entity_id", "branch_id", "product_code",
    "instrument_type", "side", "on_balance_sheet", "currency", "book", "principal_balance", "origination_date",
    "maturity_date", "rate_type", "current_rate", "day_count", "amortisation_type", "interest_payment_frequency",
    "principal_payment_frequency", "counterparty_id", "overdue_principal",
]  # fmt: skip
POS = [
    ("L1", "loan", "asset", "CNY", "1000000.00", "2024-03-15", "2034-03-15", "fixed", "0.0385", "30_360_us", "annuity", "1M", "1M", "C1", ""),
    ("L2", "loan", "asset", "CNY", "500000.00", "2025-01-10", "2028-01-10", "fixed", "0.042", "act_360", "linear", "3M", "3M", "C1", "20000.00"),
    ("L3", "loan", "asset", "USD", "200000.00", "2025-06-01", "2027-06-01", "fixed", "0.055", "act_360", "bullet", "6M", "T", "C2", ""),
    ("D1", "deposit_term", "liability", "CNY", "800000.00", "2026-01-05", "2027-01-05", "fixed", "0.015", "act_360", "bullet", "T", "T", "C4", ""),
    ("DD", "deposit_demand", "liability", "CNY", "300000.00", "", "", "administered", "0.0025", "act_360", "non_maturity", "", "", "C4", ""),
    ("BAD", "loan", "asset", "CNY", "1,000.00", "2025-01-01", "2027-01-01", "fixed", "0.03", "act_360", "bullet", "1Y", "T", "C1", ""),
    ("BAD2", "lone", "asset", "CNY", "1000.00", "2025-01-01", "2027-01-01", "fixed", "0.03", "act_360", "bullet", "1Y", "T", "C1", ""),
]  # fmt: skip


def write_snapshot(folder: Path, drop: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cols = [c for c in COLS if c != drop]
    with open(folder / "positions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for p in POS:
            pid, it, side, ccy, bal, orig, mat, rt, rate, dc, am, fi, fp, cp, od = p
            full = dict(zip(COLS, [AS_OF, pid, "core", "E1", "B001", it.upper(), it, side, "true", ccy, "banking", bal,
                                   orig, mat, rt, rate, dc, am, fi, fp, cp, od], strict=True))  # fmt: skip
            w.writerow([full[c] for c in cols])
    with open(folder / "counterparties.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["as_of_date", "counterparty_id", "counterparty_type", "country_of_residence"])
        for cid, t in (
            ("C1", "non_financial_corporate"),
            ("C2", "non_financial_corporate"),
            ("C4", "retail_individual"),
        ):
            w.writerow([AS_OF, cid, t, "CN"])
    with open(folder / "curves.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["as_of_date", "curve_id", "currency", "curve_type", "tenor", "value", "compounding", "day_count"])
        for ccy, base in (("CNY", 0.014), ("USD", 0.037)):
            for i, t in enumerate(["1M", "3M", "1Y", "5Y", "10Y", "30Y"]):
                w.writerow([AS_OF, f"{ccy}_RFR", ccy, "zero", t, round(base + 0.001 * i, 6), "continuous", "act_365f"])
    with open(folder / "fx_rates.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["as_of_date", "base_currency", "quote_currency", "rate", "rate_type"])
        w.writerow([AS_OF, "USD", "CNY", "7.10", "closing"])
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("run")
    snap = write_snapshot(base / "snap")
    result = CliRunner().invoke(app, ["run", str(snap), "--as-of", AS_OF, "--out", str(base / "out")])
    assert result.exit_code == 0, result.output
    return base / "out"


def test_run_writes_tables_manifest_and_rejects(run_out: Path) -> None:
    for name in ("cashflow_ladder", "contract_results"):
        assert pq.read_metadata(run_out / f"{name}.parquet").num_rows == len(rows(run_out / f"{name}.csv"))
    manifest = json.loads((run_out / "manifest.json").read_text())
    counts = manifest["rows"]["positions"]
    assert counts == {"read": 7, "rejected": 2, "used": 5}
    assert manifest["as_of_date"] == AS_OF
    assert len(manifest["inputs"]["positions"]["sha256"]) == 64
    rejects = rows(run_out / "rejects.csv")
    by_id = {r["position_id"]: r for r in rejects}
    assert by_id["BAD"]["column"] == "principal_balance" and by_id["BAD"]["value"] == "1,000.00"
    assert by_id["BAD"]["row"] == "6" and by_id["BAD"]["file"].endswith("positions.csv")
    assert by_id["BAD2"]["column"] == "instrument_type" and by_id["BAD2"]["value"] == "lone"


def test_ladder_principal_adds_up_to_balances(run_out: Path) -> None:
    ladder = [
        r for r in rows(run_out / "cashflow_ladder.csv") if r["bucket_set"] == "g21" and r["flow_kind"] == "principal"
    ]
    cny = sum(float(r["amount"]) for r in ladder if r["currency"] == "CNY" and r["side"] == "asset")
    assert cny == pytest.approx(1_500_000.0, rel=1e-12)
    overdue = sum(float(r["amount"]) for r in ladder if r["bucket"] == "overdue" and r["currency"] == "CNY")
    assert overdue == pytest.approx(20_000.0)
    total_all = sum(float(r["amount"]) for r in ladder if r["currency"] == "ALL" and r["side"] == "asset")
    assert total_all == pytest.approx(1_500_000.0 + 200_000.0 * 7.10, rel=1e-12)
    assert {r["bucket"] for r in ladder if r["instrument_type"] == "deposit_demand"} == {"next_day"}


def test_contract_results(run_out: Path) -> None:
    res = {r["position_id"]: r for r in rows(run_out / "contract_results.csv")}
    assert set(res) == {"L1", "L2", "L3", "D1", "DD"}
    assert float(res["D1"]["pv"]) < 0 < float(res["L1"]["pv"])
    assert res["L1"]["next_repricing_date"] == "2034-03-15"
    assert res["DD"]["next_repricing_date"] == "2026-07-01"
    assert float(res["L3"]["pv_rc"]) == pytest.approx(float(res["L3"]["pv"]) * 7.10)
    assert 0 < float(res["L3"]["effective_duration"]) < 1.0


def test_missing_required_column_exits_2(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "snap", drop="currency")
    result = CliRunner().invoke(app, ["run", str(snap), "--as-of", AS_OF, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "currency" in result.output and "positions.csv" in result.output
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_malformed_file_exits_2(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "snap")
    (snap / "positions.csv").unlink()
    (snap / "positions.parquet").write_bytes(b"this is not parquet")
    result = CliRunner().invoke(app, ["run", str(snap), "--as-of", AS_OF, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "positions.parquet" in result.output


def test_validate_and_explain(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "snap")
    result = CliRunner().invoke(app, ["validate", str(snap), "--as-of", AS_OF])
    assert result.exit_code == 1  # two rows rejected
    assert "lone" in result.output
    result = CliRunner().invoke(app, ["explain", str(snap), "--as-of", AS_OF, "--position-id", "L2"])
    assert result.exit_code == 0, result.output
    assert "kernel PV" in result.output and "2028-01-10" in result.output
    result = CliRunner().invoke(app, ["explain", str(snap), "--as-of", AS_OF, "--position-id", "BAD2"])
    assert result.exit_code == 2
