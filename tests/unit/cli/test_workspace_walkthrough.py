"""The README's workspace walk-through, command by command, through the real CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from openalm.cli import app

runner = CliRunner()
AS_OF = "2026-06-30"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"OPENALM_LANG": "en", "OPENALM_USER": "analyst1", "COLUMNS": "250"})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_readme_walkthrough(tmp_path: Path) -> None:
    bank, damaged, ws = tmp_path / "bank", tmp_path / "bank-damaged", tmp_path / "ws"
    _ok("generate", str(bank), "--contracts", "2000", "--damaged", str(damaged))
    faults = _rows(damaged / "faults_injected.csv")
    assert {f["kind"] for f in faults} >= {"duplicate_key", "percent_rate", "impossible_date", "ledger_break"}
    _ok("workspace", "init", str(ws))

    # 1. load the damaged extract: bad rows quarantined, report written, ledger breaks found
    out = _ok("load", str(damaged), "--as-of", AS_OF, "-w", str(ws))
    assert "2026-06-30 v1" in out
    out = _ok("quality", "--as-of", AS_OF, "-w", str(ws))
    assert "POS" in out and "data_quality.html" in out
    out = _ok("reconcile", "--as-of", AS_OF, "-w", str(ws), "--out", str(tmp_path / "recon.csv"))
    assert "breaks" in out and (tmp_path / "recon.csv").is_file()

    # 2. export the quarantine, fix the rates sent in percent, load the fixed rows back
    _ok("quarantine", "--as-of", AS_OF, "-w", str(ws), "--out", str(tmp_path / "quarantine.csv"))
    rows = _rows(tmp_path / "quarantine.csv")
    percent = {f["position_id"]: f for f in faults if f["kind"] == "percent_rate"}
    fixed = [r for r in rows if r["position_id"] in percent]
    assert len(fixed) == len(percent) and all(r["action"] == "insert" for r in fixed)
    for r in fixed:
        r["current_rate"] = percent[r["position_id"]]["original"]
    names = [n for n in rows[0] if not n.startswith("_")]
    with (tmp_path / "fix.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(fixed)
    out = _ok("correct", str(tmp_path / "fix.csv"), "--as-of", AS_OF, "-w", str(ws), "--reason",
              "rates sent in percent by the loan system")  # fmt: skip
    assert "v2" in out and f"Rows released from quarantine: {len(fixed)}" in out

    # 3. run, correct a few rates, run again: only the partitions touched are recomputed
    config = tmp_path / "config.yaml"
    config.write_text("engine:\n  partition_size: 300\n", encoding="utf-8")
    _ok("run", "-w", str(ws), "--as-of", AS_OF, "--config", str(config))
    with (tmp_path / "rates.csv").open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["action", "reporting_entity_id", "position_id", "current_rate"])
        w.writerow(["update", fixed[0]["reporting_entity_id"], fixed[0]["position_id"], "0.0399"])
    _ok("correct", str(tmp_path / "rates.csv"), "--as-of", AS_OF, "-w", str(ws), "--reason", "repriced")
    out = _ok("run", "-w", str(ws), "--as-of", AS_OF, "--config", str(config), "--out", str(tmp_path / "results"))
    assert "incremental run" in out
    manifest = json.loads((tmp_path / "results" / "manifest.json").read_text())
    assert (
        manifest["kind"] == "incremental"
        and 0 < len(manifest["recomputed_partitions"]) < manifest["plan"]["partitions"]
    )
    assert manifest["snapshot"]["version"] == 3

    # 4. what changed, and which contracts are behind a figure
    out = _ok("diff", "--as-of", AS_OF, "-w", str(ws), "--from", "2", "--to", "3")
    assert "current_rate" in out and "0.0399" in out
    ladder = pq.read_table(tmp_path / "results" / "cashflow_ladder.parquet").to_pylist()
    row = next(i for i, r in enumerate(ladder, start=1) if r["bucket_set"] == "g21" and r["instrument_type"] == "loan")
    out = _ok("trace", manifest["run_id"], "cashflow_ladder", str(row), "-w", str(ws), "--out", str(tmp_path / "t.csv"))
    assert "contracts" in out
    traced = _rows(tmp_path / "t.csv")
    assert abs(sum(float(t["amount"]) for t in traced) - ladder[row - 1]["amount"]) <= 1e-9 * abs(
        ladder[row - 1]["amount"]
    )

    # 5. who did what
    out = _ok("log", "-w", str(ws), "--verify")
    assert "analyst1" in out and "ok" in out
    _ok("snapshots", "-w", str(ws))
    from openalm.workspace import Workspace

    assert [(s.version, s.kind) for s in Workspace.open(ws).snapshots()] == [
        (1, "load"),
        (2, "correct"),
        (3, "correct"),
    ]


def test_workspace_errors_exit_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["load", str(tmp_path), "--as-of", AS_OF, "-w", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "not an OpenALM workspace" in result.output
    _ok("workspace", "init", str(tmp_path / "ws"))
    result = runner.invoke(app, ["load", str(tmp_path / "missing"), "--as-of", AS_OF, "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["load", str(tmp_path), "--as-of", "2026-13-01", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    from openalm.config import load_config

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration (`--config FILE`, YAML)") :]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "c.yaml").write_text(block, encoding="utf-8")
    config = load_config(tmp_path / "c.yaml")
    assert config.data_quality.rules[0].id == "BANK-001"
    assert config.reconciliation.policy == "warn"
    assert config.engine.partition_key == ["source_system", "product_code", "branch_id"]
