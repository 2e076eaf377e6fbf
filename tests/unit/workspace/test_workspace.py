"""Workspace: versioned snapshots, quarantine, corrections, diff, incremental runs, trace, audit."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from openalm.config import load_config
from openalm.data.faults import FAULT_KINDS, damage_snapshot
from openalm.data.synthetic import generate_bank, write_snapshot
from openalm.errors import DataError, OpenALMError
from openalm.runner import execute_run
from openalm.workspace import Workspace, export_run, read_run_table, run_in_workspace
from openalm.workspace.diff import diff_versions
from openalm.workspace.trace import trace_figure

AS_OF = dt.date(2026, 6, 30)
N = 3000


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bank")
    tables = generate_bank(N)
    write_snapshot(tables, root / "parquet", "parquet")
    write_snapshot(tables, root / "csv", "csv")
    return {"parquet": root / "parquet", "csv": root / "csv", "root": root}


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    return load_config(None, {"engine": {"partition_size": 400, "workers": 1}})


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


def _correct_rates(ws: Workspace, path: Path, product: str, n: int, bump: float = 0.001) -> pl.DataFrame:
    pos = pl.from_arrow(ws.read_table(ws.snapshot(AS_OF), "positions"))
    assert isinstance(pos, pl.DataFrame)
    sel = pos.filter(pl.col("product_code") == product).head(n)
    corr = sel.select(["reporting_entity_id", "position_id"]).with_columns(
        pl.lit("update").alias("action"), (pl.col("position_id").cast(pl.Utf8).str.len_chars() * 0 + 0).alias("_x")
    )
    corr = corr.drop("_x").with_columns((sel.get_column("current_rate") + bump).alias("current_rate"))
    corr.write_csv(path)
    return sel


# ------------------------------------------------------------------------------------ layout


def test_init_creates_layout_and_refuses_foreign_folders(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    for sub in ("data", "quarantine", "reports", "results", ".staging"):
        assert (ws.root / sub).is_dir()
    assert (ws.root / "catalog.duckdb").is_file()
    assert Workspace.init(tmp_path / "w").root == ws.root  # idempotent
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    with pytest.raises(OpenALMError, match="not empty"):
        Workspace.init(tmp_path / "other")
    with pytest.raises(OpenALMError, match="not an OpenALM workspace"):
        Workspace.open(tmp_path / "other")


# ------------------------------------------------------------------------------------ load


def test_load_creates_immutable_content_hashed_versions(ws: Workspace, bank: dict[str, Path], config) -> None:  # type: ignore[no-untyped-def]
    first = ws.load(bank["parquet"], AS_OF, config=config, user="alice")
    assert first.created and first.snapshot.version == 1
    assert first.snapshot.counts["positions"] == {"read": N, "rejected": 0, "used": N, "flagged": 0}
    again = ws.load(bank["parquet"], AS_OF, config=config, user="alice")
    assert not again.created and again.snapshot.snapshot_id == first.snapshot.snapshot_id
    # the same bank as CSV parses to the same content: the version is identified by content
    from_csv = ws.load(bank["csv"], AS_OF, config=config, user="bob")
    assert not from_csv.created and from_csv.snapshot.snapshot_id == first.snapshot.snapshot_id
    actions = [(r["action"], r["user_name"]) for r in ws.audit_log()]
    assert actions[1:] == [("load", "alice"), ("load_unchanged", "alice"), ("load_unchanged", "bob")]
    assert ws.catalog.verify_audit() == []


def test_damaged_copy_quarantines_every_fault_and_loses_nothing(
    ws: Workspace, bank: dict[str, Path], tmp_path: Path
) -> None:
    faults = damage_snapshot(bank["csv"], tmp_path / "damaged")
    kinds = {f.kind for f in faults}
    assert set(FAULT_KINDS) <= kinds
    out = ws.load(tmp_path / "damaged", AS_OF)
    counts = out.snapshot.counts["positions"]
    assert counts["read"] == N and counts["read"] == counts["used"] + counts["rejected"]
    q = ws.read_quarantine(out.snapshot, "positions")
    assert q is not None and q.num_rows == counts["rejected"]
    expected_reason = {
        "duplicate_key": "duplicate_key",
        "unknown_code": "unknown_code",
        "bad_currency": "bad_currency",
        "percent_rate": "implausible_rate",
        "impossible_date": "impossible_date",
        "shifted_columns": "bad_number",
        "negative_amount": "negative_amount",
        "missing_required": "missing_required",
    }
    faulty_rows = {f.row for f in faults if f.file == "positions.csv"}
    assert set(q.column("_source_row").to_pylist()) == faulty_rows
    for f in faults:
        if f.file != "positions.csv":
            continue
        hit = q.filter(pc.equal(q.column("_source_row"), f.row))
        reasons = {r["reason"] for r in json.loads(hit.column("_reasons")[0].as_py())}
        assert expected_reason[f.kind] in reasons, (f, reasons)
        # the quarantined row keeps the cell exactly as it was in the file
        if f.kind not in ("shifted_columns", "missing_required"):
            assert hit.column(f.column)[0].as_py() == f.damaged
    clean = ws.read_table(out.snapshot, "positions")
    assert clean is not None and clean.num_rows == counts["used"]
    assert not set(clean.column("source_row").to_pylist()) & faulty_rows


# ------------------------------------------------------------------------------------ corrections


def test_correction_makes_a_new_version_and_logs_every_cell(
    ws: Workspace, bank: dict[str, Path], tmp_path: Path, config
) -> None:  # type: ignore[no-untyped-def]
    v1 = ws.load(bank["parquet"], AS_OF, config=config).snapshot
    v1_files = sorted((ws.root / v1.tables["positions"]).iterdir())
    v1_bytes = [p.read_bytes() for p in v1_files]
    sel = _correct_rates(ws, tmp_path / "c.csv", "LN_MORTGAGE", 25)
    out = ws.correct(tmp_path / "c.csv", AS_OF, reason="stale rates in the loan feed", user="carol", config=config)
    v2 = out.snapshot
    assert (v2.version, v2.parent_id, v2.kind) == (2, v1.snapshot_id, "correct")
    assert [p.read_bytes() for p in v1_files] == v1_bytes  # the old version is never edited
    assert v2.tables["counterparties"] == v1.tables["counterparties"]  # copy on write
    d = diff_versions(ws, v1, v2)
    assert (d.added, d.removed, d.changed_rows, d.changed_cells) == (0, 0, 25, 25)
    assert set(d.changes.column("column").to_pylist()) == {"current_rate"}
    first = d.changes.slice(0, 1).to_pylist()[0]
    old_rate = sel.filter(pl.col("position_id") == first["key"].split("|")[1]).get_column("current_rate")[0]
    assert float(first["old"]) == old_rate and float(first["new"]) == pytest.approx(old_rate + 0.001, abs=1e-15)
    log = ws.catalog.query("SELECT * FROM corrections WHERE snapshot_id = ?", [v2.snapshot_id])
    assert len(log) == 25 and {r["corrected_by"] for r in log} == {"carol"}
    assert {r["reason"] for r in log} == {"stale rates in the loan feed"}


def test_correction_is_all_or_nothing(ws: Workspace, bank: dict[str, Path], tmp_path: Path, config) -> None:  # type: ignore[no-untyped-def]
    ws.load(bank["parquet"], AS_OF, config=config)
    pos = ws.read_table(ws.snapshot(AS_OF), "positions")
    assert pos is not None
    pid = pos.column("position_id")[0].as_py()
    ent = pos.column("reporting_entity_id")[0].as_py()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"action,reporting_entity_id,position_id,current_rate\nupdate,{ent},NOPE,0.01\n", encoding="utf-8")
    with pytest.raises(DataError, match="NOPE"):
        ws.correct(bad, AS_OF, reason="x", config=config)
    bad.write_text(f"action,reporting_entity_id,position_id,currency\nupdate,{ent},{pid},RMB\n", encoding="utf-8")
    with pytest.raises(DataError, match="RMB"):
        ws.correct(bad, AS_OF, reason="x", config=config)
    bad.write_text(
        f"action,reporting_entity_id,position_id,maturity_date\nupdate,{ent},{pid},2027-02-30\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match="2027-02-30"):
        ws.correct(bad, AS_OF, reason="x", config=config)
    with pytest.raises(OpenALMError, match="reason"):
        ws.correct(bad, AS_OF, reason=" ", config=config)
    assert [s.version for s in ws.snapshots(AS_OF)] == [1]
    assert not list((ws.root / ".staging").iterdir())


def test_quarantined_rows_are_released_by_an_insert_correction(
    ws: Workspace, bank: dict[str, Path], tmp_path: Path
) -> None:
    faults = damage_snapshot(bank["csv"], tmp_path / "damaged")
    v1 = ws.load(tmp_path / "damaged", AS_OF).snapshot
    q = ws.read_quarantine(v1, "positions")
    assert q is not None
    fix = next(f for f in faults if f.kind == "percent_rate")
    row = q.filter(pc.equal(q.column("_source_row"), fix.row))
    body = row.select([c for c in row.column_names if not c.startswith("_")])
    body = body.set_column(
        body.column_names.index("current_rate"), "current_rate", pa.array([fix.original], pa.string())
    )
    body = body.add_column(0, "action", pa.array(["insert"], pa.string()))
    import pyarrow.csv as pacsv

    pacsv.write_csv(body, tmp_path / "fix.csv")
    v2 = ws.correct(tmp_path / "fix.csv", AS_OF, reason="rate was sent in percent").snapshot
    assert v2.counts["positions"]["used"] == v1.counts["positions"]["used"] + 1
    assert v2.counts["positions"]["rejected"] == v1.counts["positions"]["rejected"] - 1
    q2 = ws.read_quarantine(v2, "positions")
    assert q2 is not None and fix.row not in q2.column("_source_row").to_pylist()
    clean = ws.read_table(v2, "positions")
    assert clean is not None
    hit = clean.filter(pc.equal(clean.column("position_id"), fix.position_id))
    assert hit.column("current_rate")[0].as_py() == float(fix.original)


# ------------------------------------------------------------------------------------ runs


def test_incremental_run_recomputes_changed_partitions_only_and_equals_a_full_run(
    ws: Workspace,
    bank: dict[str, Path],
    tmp_path: Path,
    config,  # type: ignore[no-untyped-def]
) -> None:
    ws.load(bank["parquet"], AS_OF, config=config)
    first = run_in_workspace(ws, AS_OF, config)
    assert first.kind == "full" and first.recomputed == list(range(first.partitions)) and first.partitions > 4
    same = run_in_workspace(ws, AS_OF, config)
    assert same.kind == "incremental" and same.recomputed == []
    _correct_rates(ws, tmp_path / "c.csv", "LN_MORTGAGE", 30)
    ws.correct(tmp_path / "c.csv", AS_OF, reason="rates", config=config)
    inc = run_in_workspace(ws, AS_OF, config)
    assert inc.kind == "incremental" and 0 < len(inc.recomputed) < inc.partitions
    full = run_in_workspace(ws, AS_OF, config, full=True)
    for table in ("cashflow_ladder", "contract_results", "liquidity_gap", "liquidity_daily_ladder"):
        a = read_run_table(ws, inc.run_id, table)
        b = read_run_table(ws, full.run_id, table)
        assert a.equals(b), table  # bit for bit
    before = read_run_table(ws, first.run_id, "contract_results")
    after = read_run_table(ws, inc.run_id, "contract_results")
    assert not before.column("pv").equals(after.column("pv"))  # the correction did change figures


def test_workspace_run_agrees_with_the_stateless_run(
    ws: Workspace, bank: dict[str, Path], tmp_path: Path, config
) -> None:  # type: ignore[no-untyped-def]
    ws.load(bank["parquet"], AS_OF, config=config)
    run = run_in_workspace(ws, AS_OF, config)
    export_run(ws, run.run_id, tmp_path / "export")
    stateless = execute_run(bank["parquet"], AS_OF, tmp_path / "plain", config)
    assert stateless.manifest["rows"]["positions"]["used"] == N
    a = pq.read_table(tmp_path / "export" / "cashflow_ladder.parquet")
    b = pq.read_table(tmp_path / "plain" / "cashflow_ladder.parquet")
    keys = ["bucket_set", "bucket", "currency", "side", "instrument_type", "flow_kind", "scenario"]
    a = a.sort_by([(k, "ascending") for k in keys])
    b = b.sort_by([(k, "ascending") for k in keys])
    assert a.select(keys).equals(b.select(keys))
    np.testing.assert_allclose(a.column("amount").to_numpy(), b.column("amount").to_numpy(), rtol=1e-12, atol=1e-6)
    ca = pq.read_table(tmp_path / "export" / "contract_results.parquet").sort_by("position_id")
    cb = pq.read_table(tmp_path / "plain" / "contract_results.parquet").sort_by("position_id")
    assert ca.column("pv").equals(cb.column("pv"))  # per contract: the same arithmetic
    assert (tmp_path / "export" / "contract_results.csv").is_file()
    gap_keys = ["basis", "bucket_set", "currency", "bucket"]
    ga = pq.read_table(tmp_path / "export" / "liquidity_gap.parquet").sort_by([(k, "ascending") for k in gap_keys])
    gb = pq.read_table(tmp_path / "plain" / "liquidity_gap.parquet").sort_by([(k, "ascending") for k in gap_keys])
    assert ga.select(gap_keys).equals(gb.select(gap_keys)) and ga.num_rows > 100
    for form in ("G21", "G22", "G25"):  # the returns travel with the run
        assert (tmp_path / "export" / "returns" / f"{form}.xlsx").is_file(), form
    for column in ("inflow", "outflow", "cumulative_gap"):
        np.testing.assert_allclose(ga.column(column).to_numpy(), gb.column(column).to_numpy(), rtol=1e-12, atol=1e-4)
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["snapshot"]["version"] == 1 and manifest["run_id"] == run.run_id


def test_trace_lists_the_contracts_behind_a_ladder_figure(
    ws: Workspace, bank: dict[str, Path], tmp_path: Path, config
) -> None:  # type: ignore[no-untyped-def]
    ws.load(bank["parquet"], AS_OF, config=config)
    _correct_rates(ws, tmp_path / "c.csv", "LN_MORTGAGE", 10)
    ws.correct(tmp_path / "c.csv", AS_OF, reason="rates", config=config)
    run = run_in_workspace(ws, AS_OF, config)
    ladder = read_run_table(ws, run.run_id, "cashflow_ladder")
    rows = ladder.to_pylist()
    picks = [
        i
        for i, r in enumerate(rows)
        if r["bucket_set"] == "g21" and r["instrument_type"] == "loan" and r["flow_kind"] in ("principal", "interest")
    ]
    for i in picks[:4]:
        tr = trace_figure(ws, run.run_id, "cashflow_ladder", i + 1)
        assert tr.contracts.num_rows > 0
        assert tr.total == pytest.approx(rows[i]["amount"], rel=1e-12)
        assert set(
            tr.contracts.column("instrument_type").to_pylist()
            if "instrument_type" in tr.contracts.column_names
            else ["loan"]
        ) == {"loan"}
    # lineage: the corrected mortgages say so
    mort = next(i for i in picks if rows[i]["currency"] == "CNY")
    tr = trace_figure(ws, run.run_id, "cashflow_ladder", mort + 1)
    assert set(tr.contracts.column("snapshot_version").to_pylist()) == {2}
    cr = read_run_table(ws, run.run_id, "contract_results")
    one = trace_figure(ws, run.run_id, "contract_results", 1)
    assert one.contracts.column("position_id").to_pylist() == [cr.column("position_id")[0].as_py()]
    with pytest.raises(OpenALMError, match=r"rows 1\.\."):
        trace_figure(ws, run.run_id, "cashflow_ladder", ladder.num_rows + 1)


def test_audit_log_is_append_only_and_tamper_evident(ws: Workspace, bank: dict[str, Path], config) -> None:  # type: ignore[no-untyped-def]
    ws.load(bank["parquet"], AS_OF, config=config, user="dave")
    run_in_workspace(ws, AS_OF, config, user="erin")
    log = ws.audit_log()
    assert [(r["action"], r["user_name"]) for r in log[1:]] == [("load", "dave"), ("run", "erin")]
    details = json.loads(log[1]["details"])
    assert details["counts"]["positions"]["used"] == N and set(details["files"]) >= {"positions", "curves"}
    assert ws.catalog.verify_audit() == []
    with ws.catalog.connect() as con:
        con.execute("UPDATE audit_log SET user_name = 'mallory' WHERE seq = 2")
    assert ws.catalog.verify_audit() == ["audit entry 2 does not match its hash chain"]


def test_recover_removes_what_an_interrupted_write_left(ws: Workspace, bank: dict[str, Path], config) -> None:  # type: ignore[no-untyped-def]
    ws.load(bank["parquet"], AS_OF, config=config)
    orphan = ws.root / "data" / "positions" / "as_of=2026-06-30" / "snapshot=deadbeefdeadbeef"
    orphan.mkdir(parents=True)
    (orphan / "part-00000.parquet").write_bytes(b"half")
    stage = ws.root / ".staging" / "snapshot-x"
    stage.mkdir()
    removed = ws.recover()
    assert not orphan.exists() and not stage.exists() and len(removed) == 2
    assert ws.snapshot(AS_OF).version == 1


def test_shared_folder_is_left_unharmed(tmp_path: Path, bank: dict[str, Path]) -> None:
    # loading never moves or edits the source folder
    copy = tmp_path / "src"
    shutil.copytree(bank["csv"], copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    ws = Workspace.init(tmp_path / "ws")
    ws.load(copy, AS_OF)
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


def test_market_data_or_config_changes_force_a_full_run(
    ws: Workspace, bank: dict[str, Path], tmp_path: Path, config
) -> None:  # type: ignore[no-untyped-def]
    ws.load(bank["parquet"], AS_OF, config=config)
    first = run_in_workspace(ws, AS_OF, config)
    curves = ws.read_table(ws.snapshot(AS_OF), "curves")
    assert curves is not None
    point = curves.slice(0, 1).to_pylist()[0]
    (tmp_path / "curve.csv").write_text(
        f"action,curve_id,tenor,value\nupdate,{point['curve_id']},{point['tenor']},{point['value'] + 0.001}\n",
        encoding="utf-8",
    )
    ws.correct(tmp_path / "curve.csv", AS_OF, reason="curve point re-marked", table="curves", config=config)
    after_curve = run_in_workspace(ws, AS_OF, config)
    # a market change touches every contract: nothing of the previous run may be reused
    assert after_curve.kind == "full" and after_curve.recomputed == list(range(after_curve.partitions))
    assert (
        not read_run_table(ws, first.run_id, "contract_results")
        .column("pv")
        .equals(read_run_table(ws, after_curve.run_id, "contract_results").column("pv"))
    )
    other = load_config(None, {"engine": {"partition_size": 400, "workers": 1}, "scenarios": ["parallel_up"]})
    assert run_in_workspace(ws, AS_OF, other).kind == "full"
    # executor settings do not change results: the run stays incremental
    threads = load_config(None, {"engine": {"partition_size": 400, "workers": 2}})
    assert run_in_workspace(ws, AS_OF, threads).kind == "incremental"
