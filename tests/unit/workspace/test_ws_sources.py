"""Workspace loads from every source, with their reports: data quality, reconciliation, mapping, FIRE, SQL."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from importlib import resources
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from openalm.config import load_config
from openalm.data.faults import damage_snapshot, reencode, truncate
from openalm.data.synthetic import generate_bank, write_snapshot
from openalm.errors import DataError, ReconciliationError
from openalm.workspace import Workspace, run_in_workspace

AS_OF = dt.date(2026, 6, 30)
N = 2000
FIRE = Path(__file__).resolve().parents[4] / "shared" / "data" / "fire-examples"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bank")
    write_snapshot(generate_bank(N), root / "csv", "csv")
    return root / "csv"


def _report(ws: Workspace, snap) -> Path:  # type: ignore[no-untyped-def]
    return ws.root / "reports" / f"as_of={snap.as_of.isoformat()}" / f"snapshot={snap.snapshot_id}"


def test_clean_bank_reconciles_and_gets_a_quality_report(tmp_path: Path, bank: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    snap = ws.load(bank, AS_OF).snapshot
    assert snap.reconciliation_status == "ok"
    folder = _report(ws, snap)
    for name in ("rejects.csv", "data_quality.csv", "data_quality.html", "flags.csv", "reconciliation.csv"):
        assert (folder / name).is_file(), name
    rules = ws.catalog.query("SELECT * FROM quality_results WHERE snapshot_id = ?", [snap.snapshot_id])
    assert rules and all(r["rows_failed"] == 0 for r in rules if r["severity"] == "error")
    recon = ws.catalog.query("SELECT status, count(*) AS n FROM reconciliations WHERE snapshot_id = ? GROUP BY status",
                             [snap.snapshot_id])  # fmt: skip
    assert {r["status"] for r in recon} <= {"matched", "out_of_scope"}


def test_damaged_copy_breaks_the_ledger_and_the_block_policy_stops_runs(tmp_path: Path, bank: Path) -> None:
    faults = damage_snapshot(bank, tmp_path / "damaged")
    ws = Workspace.init(tmp_path / "ws")
    snap = ws.load(tmp_path / "damaged", AS_OF).snapshot
    assert snap.reconciliation_status == "breaks"
    breaks = ws.catalog.query(
        "SELECT gl_account, difference FROM reconciliations WHERE snapshot_id = ? AND status = 'break'",
        [snap.snapshot_id],
    )
    ledger = next(f for f in faults if f.kind == "ledger_break")
    gl = pacsv.read_csv(tmp_path / "damaged" / "gl_balances.csv",
                        convert_options=pacsv.ConvertOptions(column_types={"gl_account": "string"}))  # fmt: skip
    account = gl.column("gl_account")[ledger.row - 1].as_py()
    assert account in {b["gl_account"] for b in breaks}
    html = (_report(ws, snap) / "data_quality.html").read_text(encoding="utf-8")
    assert "impossible_date" in html or "POS" in html
    block = load_config(None, {"reconciliation": {"policy": "block"}, "engine": {"partition_size": 500}})
    with pytest.raises(ReconciliationError, match="blocked"):
        run_in_workspace(ws, AS_OF, block)
    warn = load_config(None, {"engine": {"partition_size": 500}})
    run = run_in_workspace(ws, AS_OF, warn)
    assert any("does not reconcile" in w for w in run.manifest["warnings"])


def test_encoding_and_truncation_faults(tmp_path: Path, bank: Path) -> None:
    gbk = tmp_path / "gbk"
    shutil.copytree(bank, gbk)
    text = (gbk / "positions.csv").read_text(encoding="utf-8")
    assert "core_banking" in text
    (gbk / "positions.csv").write_text(text.replace("core_banking", "核心系统"), encoding="utf-8")
    reencode(gbk / "positions.csv", "gb18030")
    ws = Workspace.init(tmp_path / "ws")
    out = ws.load(gbk, AS_OF)
    assert out.snapshot.counts["positions"]["used"] == N  # auto-detected, every row kept
    assert any("GB18030" in w for w in out.warnings)
    clean = ws.read_table(out.snapshot, "positions")
    assert clean is not None and "核心系统" in clean.column("source_system").to_pylist()
    cut = tmp_path / "cut"
    shutil.copytree(bank, cut)
    truncate(cut / "positions.csv", 0.5)
    with pytest.raises(DataError, match="truncated"):
        ws.load(cut, AS_OF)
    assert [s.version for s in ws.snapshots(AS_OF)] == [1]


def test_mapped_gbk_core_banking_extract(tmp_path: Path) -> None:
    from openalm.data.mapping import load_mapping, mapping_hash

    example = Path(str(resources.files("openalm.rules") / "mappings" / "cn_core_banking_example.yaml"))
    header = (
        "数据日期,法人行号,机构号,业务编号,产品代码,科目号,客户号,客户名称,业务类别,借贷方向,币种,余额,应计利息,逾期本金,"
        "起息日,到期日,利率类型,执行利率,浮动点差,定价基准,利率调整周期,下次重定价日,计息基础,还款方式,结息周期,还本周期,"
        "下次结息日,五级分类,担保方式,自动转存标志,提前支取标志,经办柜员"
    )
    rows = [
        "20260630,E001,B0101,JJ2024001,DK0101,1301,C001,张三,01,借,156,1000000.00,1250.00,0.00,20240315,20340315,"
        "RF01,3.75,,99,,,A360,01,M,M,20260715,01,抵押,,,G007",
        "20260630,E001,B0101,JJ2024009,DK0101,1301,C001,张三,01,借,156,300000.00,,,20240601,20290601,"
        "RF01,3.5,,,,,A360,02,M,M,20260701,06,信用,,,",
    ]
    src = tmp_path / "extract"
    src.mkdir()
    (src / "ZHHX_DKCK_MX_20260630.csv").write_bytes(("\n".join([header, *rows]) + "\n").encode("gbk"))
    (src / "ZHHX_KHXX_20260630.csv").write_bytes(
        "数据日期,客户号,客户名称,客户类型,企业规模,国别,统一社会信用代码\n20260630,C001,张三,01,,CHN,\n".encode("gbk")
    )
    ws = Workspace.init(tmp_path / "ws")
    snap = ws.load(src, AS_OF, mapping=example).snapshot
    assert snap.counts["positions"]["read"] == 2 and snap.counts["positions"]["rejected"] == 1
    row = ws.catalog.query("SELECT mapping_sha256 FROM snapshots WHERE snapshot_id = ?", [snap.snapshot_id])[0]
    assert row["mapping_sha256"] == mapping_hash(load_mapping(example))
    clean = ws.read_table(snap, "positions")
    assert clean is not None and clean.column("current_rate").to_pylist() == [0.045]
    log = (_report(ws, snap) / "mapping_corrections.csv").read_text(encoding="utf-8")
    assert "monthly_permille" in log
    q = ws.read_quarantine(snap, "positions")
    assert q is not None and q.column("_source_row").to_pylist() == [2]
    assert "unknown_code" in q.column("_reasons")[0].as_py()
    # the exact mapping of the version can be exported from the catalogue, and checked
    from typer.testing import CliRunner

    from openalm.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["mapping", "export", "--as-of", "2026-06-30", "-w", str(ws.root),
                              "--out", str(tmp_path / "used.yaml")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert mapping_hash(load_mapping(tmp_path / "used.yaml")) == row["mapping_sha256"]
    res = runner.invoke(app, ["mapping", "check", str(tmp_path / "used.yaml")])
    assert res.exit_code == 0 and "cn_core_banking_example" in res.output


@pytest.mark.skipif(not FIRE.is_dir(), reason="FIRE examples (../shared/data/fire-examples) not present")
def test_fire_records_load_into_the_workspace(tmp_path: Path) -> None:
    src = tmp_path / "fire"
    src.mkdir()
    shutil.copy(FIRE / "time_deposit_1year.json", src / "time_deposit_1year.json")
    ws = Workspace.init(tmp_path / "ws")
    snap = ws.load(src, dt.date(2017, 6, 30)).snapshot
    fire = snap.counts["fire_records"]
    assert fire["read"] == fire["used"] + fire["rejected"] + fire["skipped"] and fire["read"] >= 1
    pos = snap.counts["positions"]
    assert pos["read"] == pos["used"] + pos["rejected"] == 1
    quarantined = ws.read_quarantine(snap, "positions")
    clean = ws.read_table(snap, "positions")
    assert clean is not None
    if pos["used"]:
        row = clean.to_pylist()[0]
        assert row["instrument_type"] == "deposit_term" and row["principal_balance"] == 300.0  # 30000 pence
    else:  # the example lacks a field OpenALM requires: the row is quarantined with its reason
        assert quarantined is not None and quarantined.num_rows == 1
    # a record whose date is another as-of is rejected, never silently used
    other = ws.load(src, AS_OF).snapshot
    q = ws.read_quarantine(other, "fire_records")
    assert q is not None and "fire_as_of_mismatch" in q.column("_reasons")[0].as_py()


def test_sql_source_loads_from_a_real_postgresql(tmp_path: Path, bank: Path) -> None:
    from openalm.testing.postgres import postgres_unavailable_reason, running_postgres

    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    import psycopg

    tables = generate_bank(300)
    with running_postgres(tmp_path) as url:
        with psycopg.connect(url) as con:
            pos = tables["positions"]
            cols = ["as_of_date", "position_id", "source_system", "reporting_entity_id", "branch_id", "product_code",
                    "instrument_type", "side", "on_balance_sheet", "currency", "book", "principal_balance",
                    "rate_type", "amortisation_type", "maturity_date", "origination_date", "counterparty_id",
                    "current_rate", "day_count", "interest_payment_frequency", "principal_payment_frequency"]  # fmt: skip
            keep = pc.is_in(pos.column("instrument_type"), pc.cast(pc.unique(pos.column("instrument_type")), "string"))
            pos = pos.filter(keep).select(cols)
            ddl = ", ".join(f"{c} TEXT" for c in cols)
            con.execute(f"CREATE TABLE alm_positions ({ddl})")
            with con.cursor().copy(f"COPY alm_positions ({', '.join(cols)}) FROM STDIN") as copy:
                for rec in pos.to_pylist():
                    copy.write_row([None if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                                    for v in rec.values()])  # fmt: skip
        source = tmp_path / "mart.yaml"
        source.write_text(
            json.dumps(
                {"sql": {"url": url, "tables": {"positions": "SELECT * FROM alm_positions ORDER BY position_id"}}}
            ),
            encoding="utf-8",
        )
        ws = Workspace.init(tmp_path / "ws")
        out = ws.load(source, AS_OF)
    snap = out.snapshot
    assert snap.counts["positions"]["read"] == pos.num_rows
    assert snap.counts["positions"]["read"] == snap.counts["positions"]["used"] + snap.counts["positions"]["rejected"]
    assert (
        snap.source is not None
        and snap.source.startswith("sql:")
        and url.split("@")[0].split(":")[-1] not in snap.source
    )


def test_ragged_records_are_quarantined_as_text_in_memory_and_streamed(tmp_path: Path, bank: Path) -> None:
    src = tmp_path / "ragged"
    shutil.copytree(bank, src)
    lines = (src / "positions.csv").read_text(encoding="utf-8").splitlines()
    lines[7] += ",stray"  # data row 7 gets one field too many
    (src / "positions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = Workspace.init(tmp_path / "ws")
    tables = []
    for chunk_rows in (None, 500):
        snap = ws.load(src, AS_OF, chunk_rows=chunk_rows).snapshot
        assert snap.counts["positions"]["read"] == N and snap.counts["positions"]["rejected"] == 1
        q = ws.read_quarantine(snap, "positions")
        assert q is not None and q.column("_source_row").to_pylist() == [7]
        assert q.column("_raw_record")[0].as_py() == lines[7]
        assert json.loads(q.column("_reasons")[0].as_py())[0]["reason"] == "ragged_row"
        clean = ws.read_table(snap, "positions")
        assert clean is not None and 7 not in clean.column("source_row").to_pylist()
        tables.append(q)
    assert tables[0].equals(tables[1])
