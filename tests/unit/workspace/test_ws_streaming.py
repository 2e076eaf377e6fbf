"""Streaming load of a large positions file: the same outcome as the in-memory load, chunk by chunk.

The books are small (3,000 rows) and the chunks forced small (700 rows), so that duplicate keys,
derivative deals and schedule links straddle chunk boundaries; both paths load the same files
and every observable result is compared.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from openalm.config import load_config
from openalm.data.faults import damage_snapshot, reencode
from openalm.data.synthetic import generate_bank, write_snapshot
from openalm.errors import DataError
from openalm.workspace import Workspace, read_run_table, run_in_workspace
from openalm.workspace.streaming import CHUNK_ROWS, stream_plan

AS_OF = dt.date(2026, 6, 30)
N = 3000
CHUNK = 700
REPORT_FILES = ("rejects.csv", "data_quality.csv", "flags.csv", "reconciliation.csv", "data_quality.html")


def _read_text(path: Path) -> pa.Table:
    with open(path, encoding="utf-8", newline="") as handle:
        names = next(csv.reader(handle))
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False),
    )


def _write_text(table: pa.Table, path: Path) -> None:
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _set(cols: dict[str, list[Any]], row: int, column: str, value: str) -> None:
    """Set a cell by 1-based data row."""
    cols[column][row - 1] = value


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A damaged bank whose cross-row faults straddle 700-row chunks, as CSV and Parquet."""
    root = tmp_path_factory.mktemp("stream")
    write_snapshot(generate_bank(N), root / "clean", "csv")
    faults = damage_snapshot(root / "clean", root / "csv", seed=11)
    path = root / "csv" / "positions.csv"
    table = _read_text(path)
    cols = {n: table.column(n).to_pylist() for n in table.column_names}
    ids = cols["position_id"]
    # duplicate keys across chunks: rows 10 (chunk 1) and 2900 (chunk 5); a triple over 3 chunks
    _set(cols, 2900, "position_id", ids[9])
    _set(cols, 1500, "position_id", ids[99])
    _set(cols, 2950, "position_id", ids[99])
    # derivative deals: rows 2997-3000 are IRS (2 legs) and FX forward (2 legs); move the first IRS
    # leg to the top (legs in chunks 1 and 5: complete, must stay clean) and split the FX deal
    order = [2996, *range(0, 2996), 2997, 2998, 2999]
    cols = {n: [v[i] for i in order] for n, v in cols.items()}
    assert cols["deal_id"][0] == cols["deal_id"][2997] and cols["instrument_type"][0] == "derivative_leg"
    _set(cols, 3000, "deal_id", "FXF_LONELY")
    # warnings in several chunks: missing gl_account (counted summary), unlisted product_subtype
    # codes (summary quoting the first five), a bank rule (generic count)
    for row in (3, 650, 701, 1402, 2801):
        _set(cols, row, "gl_account", "")
    for row, code in ((5, "zz_a"), (6, "zz_a"), (720, "zz_b"), (1410, "zz_c"), (1411, "zz_a"), (2105, "zz_d"),
                      (2106, "zz_e"), (2107, "zz_f"), (2808, "zz_g")):  # fmt: skip
        _set(cols, row, "product_subtype", code)
    # counterparties: a positions row names an unknown one, two name one whose id is duplicated
    # in counterparties (both its rows rejected), in different chunks
    cps = _read_text(root / "csv" / "counterparties.csv")
    cp_ids = cps.column("counterparty_id").to_pylist()
    twice = cols["counterparty_id"][1700]
    assert twice and twice in cp_ids
    _write_text(pa.concat_tables([cps, cps.take([cp_ids.index(twice)])]), root / "csv" / "counterparties.csv")
    _set(cols, 40, "counterparty_id", "CP_UNKNOWN")
    _set(cols, 2400, "counterparty_id", twice)
    moved = {"irs_first": cols["position_id"][0], "irs_second": cols["position_id"][2997],
             "dup_a": ids[9], "dup_b": ids[99], "lonely": cols["position_id"][2999],
             "fx_other": cols["position_id"][2998]}  # fmt: skip
    _write_text(pa.table({n: pa.array(v, pa.string()) for n, v in cols.items()}), path)
    # a ragged record in chunk 2 (an extra field): quarantined as text, later rows keep their numbers
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(801, lines[801] + ",stray")
    path.write_text("\n".join(lines), encoding="utf-8")
    # schedules: rows for a clean position (chunk 4), a duplicated one (rejected) and an unknown id
    clean_pid = cols["position_id"][2500]
    sched = pa.table(
        {
            "as_of_date": ["2026-06-30"] * 4,
            "position_id": [clean_pid, ids[9], "NO_SUCH_POSITION", clean_pid],
            "flow_date": ["2026-12-31", "2026-12-31", "2026-12-31", "2027-06-30"],
            "flow_type": ["interest", "interest", "interest", "interest"],
            "amount": ["10.5", "3", "4", "10.5"],
        }
    )
    _write_text(sched, root / "csv" / "cash_flow_schedule.csv")
    # the same files as Parquet (text columns, parsed like CSV; no ragged record in Parquet)
    (root / "parquet").mkdir()
    for f in sorted((root / "csv").glob("*.csv")):
        if f.name == "positions.csv":
            good = [ln for k, ln in enumerate(lines) if k != 801]
            (root / "tmp.csv").write_text("\n".join(good), encoding="utf-8")
            pq.write_table(_read_text(root / "tmp.csv"), root / "parquet" / "positions.parquet")
        else:
            pq.write_table(_read_text(f), root / "parquet" / f"{f.stem}.parquet")
    config = load_config(
        None,
        {
            "data_quality": {
                "severity": {"implausible_rate": "warning"},
                "rules": [
                    {"id": "BANK-BIG-001", "table": "positions", "condition": "principal_balance > 5e8",
                     "severity": "warning", "message_zh": "大额", "message_en": "large balance",
                     "column": "principal_balance"},
                ],
            }
        },
    )  # fmt: skip
    return {"root": root, "faults": faults, "config": config, "ids": moved}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The undamaged bank as CSV and Parquet snapshots (copy before changing)."""
    root = tmp_path_factory.mktemp("plain")
    tables = generate_bank(N)
    write_snapshot(tables, root / "csv", "csv")
    write_snapshot(tables, root / "parquet", "parquet")
    return {"csv": root / "csv", "parquet": root / "parquet"}


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _load_both(root: Path, source: Path, config: Any, **stream: Any) -> tuple[Any, Any, Workspace, Workspace]:
    mem_ws = Workspace.init(root / "ws_mem")
    str_ws = Workspace.init(root / "ws_stream")
    mem = mem_ws.load(source, AS_OF, config=config)
    streamed = str_ws.load(source, AS_OF, config=config, chunk_rows=CHUNK, **stream)
    return mem, streamed, mem_ws, str_ws


def _assert_same(mem: Any, streamed: Any, mem_ws: Workspace, str_ws: Workspace) -> None:
    a, b = mem.snapshot, streamed.snapshot
    assert b.counts == a.counts
    assert streamed.rejects == mem.rejects
    assert streamed.warnings == mem.warnings
    for name in a.tables:
        assert str_ws.read_table(b, name).equals(mem_ws.read_table(a, name)), name
    assert set(b.quarantine) == set(a.quarantine)
    for name in a.quarantine:
        assert str_ws.read_quarantine(b, name).equals(mem_ws.read_quarantine(a, name)), name
    assert b.reconciliation_status == a.reconciliation_status
    files = sorted(p.name for p in mem.report_dir.iterdir())
    assert set(REPORT_FILES) <= set(files)
    assert sorted(p.name for p in streamed.report_dir.iterdir()) == files
    for f in files:
        if f.endswith(".parquet"):
            assert pq.read_table(streamed.report_dir / f).equals(pq.read_table(mem.report_dir / f)), f
        else:
            assert (streamed.report_dir / f).read_bytes() == (mem.report_dir / f).read_bytes(), f
    for table in ("quality_results", "reconciliations"):
        sql = f"SELECT * EXCLUDE (snapshot_id) FROM {table} WHERE snapshot_id = ? ORDER BY ALL"
        assert str_ws.catalog.query(sql, [b.snapshot_id]) == mem_ws.catalog.query(sql, [a.snapshot_id]), table
    # the streamed version was written chunk by chunk: one part per 700-row chunk with clean rows
    parts = sorted((str_ws.root / b.tables["positions"]).glob("part-*.parquet"))
    assert len(parts) == 5


def test_streamed_csv_load_equals_the_in_memory_load(books: dict[str, Any], tmp_path: Path) -> None:
    mem, streamed, mem_ws, str_ws = _load_both(tmp_path, books["root"] / "csv", books["config"])
    _assert_same(mem, streamed, mem_ws, str_ws)
    counts = streamed.snapshot.counts["positions"]
    assert counts["read"] == N + 1  # + the ragged record
    by_id: dict[str, set[str]] = {}
    for r in streamed.rejects:
        by_id.setdefault(r.position_id, set()).add(r.reason)
    ids = books["ids"]
    # duplicates across chunks: both rows of the pair, all three of the triple
    dup_rows = sorted(r.row for r in streamed.rejects if r.reason == "duplicate_key")
    assert [r.position_id for r in streamed.rejects if r.reason == "duplicate_key"].count(ids["dup_a"]) == 2
    assert [r.position_id for r in streamed.rejects if r.reason == "duplicate_key"].count(ids["dup_b"]) == 3
    # rows shift by one for the moved IRS leg, and again after the ragged record (row 801)
    assert {11, 101, 1502, 2902, 2952} <= set(dup_rows)
    # the IRS deal split over chunks 1 and 5 is complete; the split FX forward deal is not
    assert ids["irs_first"] not in by_id and ids["irs_second"] not in by_id
    assert by_id[ids["lonely"]] == {"incomplete_deal"}
    assert by_id[ids["fx_other"]] == {"incomplete_deal"}
    fk = {r.row: r for r in streamed.rejects if r.rule_id == "POS-FK-001"}
    assert fk[40].value == "CP_UNKNOWN" and "is not in the counterparties table" in fk[40].message
    assert {1702, 2401} <= set(fk) and fk[1702].value == fk[2401].value  # the two rows naming the duplicate
    assert all("its counterparties row was rejected" in fk[row].message for row in (1702, 2401))
    ragged = [r for r in streamed.rejects if r.reason == "ragged_row"]
    assert [r.row for r in ragged] == [801]
    # the schedule links over every chunk: a rejected position's rows and an unknown id
    sched = [r for r in streamed.rejects if r.table == "cash_flow_schedule"]
    assert sorted((r.row, r.reason) for r in sched) == [(2, "position_rejected"), (3, "unknown_position")]
    # counted warnings add up over chunks; the examples are the first five codes of the file
    assert "positions: 5 row(s) lack gl_account (expected for on-balance rows; used by GL reconciliation)" in (
        streamed.warnings
    )
    unlisted = [w for w in streamed.warnings if "product_subtype codes outside" in w]
    assert (
        unlisted
        and unlisted[0].startswith("positions: 9 row(s)")
        and "(e.g. zz_a, zz_b, zz_c, zz_d, zz_e)" in (unlisted[0])
    )


def test_streamed_parquet_load_equals_the_in_memory_load(books: dict[str, Any], tmp_path: Path) -> None:
    mem, streamed, mem_ws, str_ws = _load_both(tmp_path, books["root"] / "parquet", books["config"])
    _assert_same(mem, streamed, mem_ws, str_ws)
    assert streamed.snapshot.counts["positions"]["read"] == N
    dups = [r for r in streamed.rejects if r.reason == "duplicate_key" and r.table == "positions"]
    assert len(dups) == 5 + 2 * 3  # + damage_snapshot's three pairs


def test_streamed_gb18030_file_is_transcoded_and_loads_the_same(plain: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(plain["csv"], tmp_path / "gbk")
    path = src / "positions.csv"
    table = _read_text(path)
    lines = table.column("business_line").to_pylist()
    lines[1] = "公司金融部"
    lines[2500] = "零售银行部"
    _write_text(table.set_column(table.column_names.index("business_line"), "business_line", pa.array(lines)), path)
    reencode(path, "gb18030")
    mem, streamed, mem_ws, str_ws = _load_both(tmp_path, src, None)
    assert "positions.csv: decoded as GB18030 (not valid UTF-8)" in streamed.warnings
    assert streamed.warnings == mem.warnings
    got = str_ws.read_table(streamed.snapshot, "positions").column("business_line").to_pylist()
    assert got[1] == "公司金融部" and got[2500] == "零售银行部"
    assert got == mem_ws.read_table(mem.snapshot, "positions").column("business_line").to_pylist()


def test_undecodable_file_gets_the_loaders_error(plain: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(plain["csv"], tmp_path / "bad")
    path = src / "positions.csv"
    data = path.read_bytes()
    at = data.rindex(b"CNMB01")  # a cell of the last row: 0xFF is neither UTF-8 nor GB18030
    path.write_bytes(data[:at] + b"CN\xffB01" + data[at + 6 :])
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(DataError, match="is neither UTF-8"):
        ws.load(src, AS_OF, chunk_rows=CHUNK)
    assert ws.snapshots() == [] and not any((ws.root / ".staging").iterdir())


def test_truncated_csv_is_refused_as_a_whole(plain: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(plain["csv"], tmp_path / "cut")
    path = src / "positions.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",", 0, len(data) - 200)])
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(DataError, match="appears truncated") as err:
        ws.load(src, AS_OF, chunk_rows=CHUNK)
    assert err.value.row == N


def test_reloading_the_same_file_streamed_creates_nothing_and_runs_work(plain: dict[str, Path], tmp_path: Path) -> None:
    src = plain["parquet"]
    config = load_config(None, {"engine": {"partition_size": 400, "workers": 1}})
    mem_ws = Workspace.init(tmp_path / "mem")
    str_ws = Workspace.init(tmp_path / "str")
    mem_ws.load(src, AS_OF, config=config)
    first = str_ws.load(src, AS_OF, config=config, chunk_rows=1000)
    again = str_ws.load(src, AS_OF, config=config, chunk_rows=1000)
    assert first.created and not again.created and again.snapshot.snapshot_id == first.snapshot.snapshot_id
    a = run_in_workspace(mem_ws, AS_OF, config)
    b = run_in_workspace(str_ws, AS_OF, config)
    assert b.kind == "full" and b.partitions == a.partitions
    for table in ("cashflow_ladder", "contract_results"):
        assert read_run_table(str_ws, b.run_id, table).equals(read_run_table(mem_ws, a.run_id, table)), table


def test_progress_is_reported_per_stage(plain: dict[str, Path], tmp_path: Path) -> None:
    src = plain["csv"]
    seen: list[tuple[str, int, int]] = []
    Workspace.init(tmp_path / "ws").load(src, AS_OF, chunk_rows=CHUNK, progress=lambda *a: seen.append(a))
    stages = list(dict.fromkeys(s for s, _, _ in seen))
    assert stages == ["stream_scan", "stream_keys", "stream_rows", "reports"]
    rows = [(d, t) for s, d, t in seen if s == "stream_rows"]
    assert rows == [(700, N), (1400, N), (2100, N), (2800, N), (N, N)]
    size = (src / "positions.csv").stat().st_size
    assert [(d, t) for s, d, t in seen if s == "stream_scan"][-1] == (size, size)
    assert [(d, t) for s, d, t in seen if s == "stream_keys"][-1] == (N, N)
    in_memory: list[tuple[str, int, int]] = []
    Workspace.init(tmp_path / "ws2").load(src, AS_OF, progress=lambda *a: in_memory.append(a))
    assert in_memory == [("load", 0, 1), ("load", 1, 1), ("reports", 0, 2), ("reports", 1, 2), ("reports", 2, 2)]


def test_stream_plan_threshold_and_exclusions(
    plain: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = plain["csv"]
    assert stream_plan(src) is None  # 3,000 rows: below the 2,000,000 default
    assert stream_plan(src, threshold=2000) == CHUNK_ROWS  # about 3,000 estimated from the size
    assert stream_plan(src, threshold=5000) is None
    assert stream_plan(src, chunk_rows=123) == 123
    assert stream_plan(src, chunk_rows=123, mapping=object()) is None  # mappings read whole
    monkeypatch.setenv("OPENALM_STREAM_THRESHOLD_ROWS", "2000")
    monkeypatch.setenv("OPENALM_STREAM_CHUNK_ROWS", "900")
    assert stream_plan(src) == 900
    xlsx = tmp_path / "x"
    xlsx.mkdir()
    shutil.copy(src / "curves.csv", xlsx / "curves.csv")
    (xlsx / "positions.xlsx").write_bytes(b"")
    assert stream_plan(xlsx, chunk_rows=10) is None


def test_cli_load_streams_quietly_when_not_a_terminal(plain: dict[str, Path], tmp_path: Path) -> None:
    from openalm.cli import app

    src = plain["csv"]
    ws = Workspace.init(tmp_path / "ws")
    result = CliRunner().invoke(app, ["load", str(src), "--as-of", "2026-06-30", "-w", str(ws.root),
                                      "--chunk-rows", "1000"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Validating" not in result.output and "校验" not in result.output  # no progress bar off a terminal
    snap = ws.snapshot(AS_OF)
    assert snap.counts["positions"]["used"] == N
    assert len(list((ws.root / snap.tables["positions"]).glob("part-*.parquet"))) == 3
    audit = json.loads(ws.audit_log()[-1]["details"])
    assert audit["counts"]["positions"]["read"] == N
