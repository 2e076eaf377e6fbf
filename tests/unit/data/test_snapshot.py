"""Reading a snapshot folder: clean typed tables, counts, hashes, formats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _snapshot_builders import AS_OF, CASH, COUNTERPARTY, DEPOSIT, LOAN, row, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openalm.data import POSITIONS, SOURCE_ROW, TABLES, Snapshot, read_snapshot, validate, write_rejects_csv
from openalm.errors import DataError, SchemaError

Load = Callable[..., Snapshot]


def test_positions_table_has_every_contract_column_typed(load: Load) -> None:
    snap = load([LOAN, DEPOSIT, CASH])
    table = snap.positions
    assert table.column_names == [*POSITIONS.names, SOURCE_ROW]
    for column in POSITIONS.columns:
        assert table.schema.field(column.name).type == column.arrow_type, column.name
    assert table.schema.field(SOURCE_ROW).type == pa.int64()
    assert table.column(SOURCE_ROW).to_pylist() == [1, 2, 3]
    assert table.column("rate_cap").null_count == 3  # absent optional column
    assert table.column("maturity_date").to_pylist() == [dt.date(2034, 3, 15), dt.date(2027, 1, 5), None]
    assert table.column("principal_balance").to_pylist() == [1000000.0, 800000.0, 50000.0]


def test_clean_rows_only_and_source_row_kept(load: Load) -> None:
    snap = load([LOAN, row(LOAN, position_id="L2", side="equity"), DEPOSIT])
    assert snap.positions.column("position_id").to_pylist() == ["L1", "D1"]
    assert snap.positions.column(SOURCE_ROW).to_pylist() == [1, 3]
    assert snap.rejected_rows == 1


def test_companion_tables(load: Load) -> None:
    snap = load([LOAN])
    assert snap.counterparties is not None
    assert snap.counterparties.column_names == [*TABLES["counterparties"].names, SOURCE_ROW]
    assert snap.table("counterparties") is snap.counterparties
    assert snap.curves is None and snap.fx_rates is None and snap.gl_balances is None
    assert set(snap.counts) == {"positions", "counterparties"}
    with pytest.raises(KeyError):
        snap.table("nope")


def test_files_are_hashed(load: Load) -> None:
    snap = load([LOAN])
    info = snap.files["positions"]
    data = Path(str(info["path"])).read_bytes()
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["bytes"] == len(data)
    assert set(snap.files) == {"positions", "counterparties"}


def test_snapshot_is_frozen(load: Load) -> None:
    snap = load([LOAN])
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.positions = snap.positions  # type: ignore[misc]


def test_folder_without_positions(tmp_path: Path) -> None:
    write_csv(tmp_path / "counterparties.csv", [COUNTERPARTY])
    with pytest.raises(DataError, match="no positions"):
        read_snapshot(tmp_path, AS_OF)
    with pytest.raises(DataError, match="not a folder"):
        read_snapshot(tmp_path / "missing", AS_OF)


def test_missing_required_column_stops_the_read(snapshot_dir: Callable[..., Path]) -> None:
    folder = snapshot_dir([{k: v for k, v in LOAN.items() if k != "currency"}])
    with pytest.raises(SchemaError, match="currency"):
        read_snapshot(folder, AS_OF)


def test_unknown_columns_are_a_warning(load: Load) -> None:
    snap = load([{**LOAN, "legacy_code": "x"}])
    assert snap.rejects == []
    assert any("legacy_code" in w for w in snap.warnings)
    assert "legacy_code" not in snap.positions.column_names


def test_validate_reports_without_tables(snapshot_dir: Callable[..., Path], tmp_path: Path) -> None:
    folder = snapshot_dir([LOAN, row(LOAN, position_id="L2", current_rate="4.2")])
    report = validate(folder, "2026-06-30")
    assert report.as_of == AS_OF
    assert not report.ok
    assert report.rejected_rows == 1
    assert report.counts["positions"] == {"read": 2, "rejected": 1, "used": 1}
    out = write_rejects_csv(report.rejects, tmp_path / "rejects.csv")
    assert "implausible_rate" in out.read_text(encoding="utf-8")
    assert read_snapshot(folder, AS_OF).report == report


# ---------------------------------------------------------------------------- formats


def typed_rows() -> list[dict[str, Any]]:
    """LOAN, DEPOSIT and CASH with typed values (None for empty)."""
    out = []
    for base in (LOAN, row(DEPOSIT, pool_count="3"), CASH):
        typed: dict[str, Any] = {}
        for name, text in base.items():
            column = POSITIONS.column(name)
            if text == "":
                typed[name] = None
            elif column.type.value == "date":
                typed[name] = dt.date.fromisoformat(text)
            elif column.type.value in ("amount", "rate", "decimal"):
                typed[name] = float(text)
            elif column.type.value == "int":
                typed[name] = int(text)
            elif column.type.value == "bool":
                typed[name] = text == "true"
            else:
                typed[name] = text
        typed.setdefault("pool_count", None)
        out.append(typed)
    return out


def write_format(folder: Path, fmt: str) -> None:
    folder.mkdir()
    rows = typed_rows()
    cols = list(rows[0])
    if fmt == "csv":
        text_rows = [{c: ("" if r[c] is None else ("true" if r[c] is True else "false" if r[c] is False else r[c]))
                      for c in cols} for r in rows]  # fmt: skip
        write_csv(folder / "positions.csv", text_rows, cols)
    elif fmt == "parquet":
        types = {c.name: c.arrow_type for c in POSITIONS.columns}
        table = pa.table({c: pa.array([r[c] for r in rows], types[c]) for c in cols})
        pq.write_table(table, folder / "positions.parquet")
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(cols)
        for r in rows:
            sheet.append([r[c] for c in cols])
        book.save(folder / "positions.xlsx")


def test_csv_parquet_and_excel_load_to_equal_tables(tmp_path: Path) -> None:
    tables = {}
    for fmt in ("csv", "parquet", "xlsx"):
        write_format(tmp_path / fmt, fmt)
        snap = read_snapshot(tmp_path / fmt, AS_OF)
        assert snap.rejects == [], fmt
        tables[fmt] = snap.positions
    assert tables["csv"].equals(tables["parquet"])
    assert tables["csv"].equals(tables["xlsx"])
    assert tables["csv"].column("pool_count").to_pylist() == [None, 3, None]


def test_parquet_decimal_amounts_and_dictionary_codes(tmp_path: Path) -> None:
    import decimal

    table = pa.table({k: pa.array([v]) for k, v in LOAN.items()})
    table = table.set_column(
        table.column_names.index("principal_balance"),
        "principal_balance",
        pa.array([decimal.Decimal("1000000.000000")], pa.decimal128(38, 6)),
    )
    table = table.set_column(
        table.column_names.index("instrument_type"), "instrument_type", pa.array(["loan"]).dictionary_encode()
    )
    pq.write_table(table, tmp_path / "positions.parquet")
    snap = read_snapshot(tmp_path, AS_OF)
    assert snap.rejects == []
    assert snap.positions.column("principal_balance").to_pylist() == [1000000.0]
    assert snap.positions.schema.field("instrument_type").type == pa.string()


# ---------------------------------------------------------------------------- invariants


CELL_CHOICES = {
    "principal_balance": ["100", "-1", "1,0", ""],
    "current_rate": ["0.03", "3", "x", ""],
    "maturity_date": ["2030-01-01", "2026-06-01", "2030-02-30", ""],
    "side": ["asset", "liability", "Asset"],
    "position_id": ["A", "B", "C", "D"],
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in CELL_CHOICES.items()}), min_size=1, max_size=8)
)
def test_read_equals_used_plus_rejected(load: Load, changes: list[dict[str, str]]) -> None:
    snap = load([row(LOAN, **c) for c in changes])
    counts = snap.counts["positions"]
    assert counts["read"] == len(changes)
    assert counts["read"] == counts["used"] + counts["rejected"]
    assert counts["used"] == snap.positions.num_rows
    assert counts["rejected"] == len({r.row for r in snap.rejects if r.table == "positions"})
    kept = set(snap.positions.column(SOURCE_ROW).to_pylist())
    assert kept.isdisjoint({r.row for r in snap.rejects if r.table == "positions"})


def test_header_only_positions(tmp_path: Path) -> None:
    write_csv(tmp_path / "positions.csv", [], list(LOAN))
    snap = read_snapshot(tmp_path, AS_OF)
    assert snap.counts["positions"] == {"read": 0, "rejected": 0, "used": 0}
    assert snap.positions.column_names == [*POSITIONS.names, SOURCE_ROW]


def test_200k_rows_from_parquet(tmp_path: Path) -> None:
    n = 200_000
    rng = np.random.default_rng(7)
    base = {k: pa.array(np.full(n, v)) for k, v in LOAN.items()}
    base["position_id"] = pa.array([f"P{i}" for i in range(n)])
    base["principal_balance"] = pa.array(np.round(rng.random(n) * 1e6, 2))
    base["as_of_date"] = pa.array(np.full(n, np.datetime64("2026-06-30"))).cast(pa.date32())
    base["on_balance_sheet"] = pa.array(np.ones(n, dtype=bool))
    pq.write_table(pa.table(base), tmp_path / "positions.parquet")
    snap = read_snapshot(tmp_path, AS_OF)
    assert snap.counts["positions"] == {"read": n, "rejected": 0, "used": n}
    assert snap.positions.num_rows == n
