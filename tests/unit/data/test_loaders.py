"""Reading table files: finding them, CSV / Parquet / Excel, malformed files, schema errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _snapshot_builders import DEPOSIT, LOAN, write_csv

from openalm.data import POSITIONS, find_table_file, read_table
from openalm.data.validation import validate_tables
from openalm.errors import DataError, SchemaError

AS_OF = dt.date(2026, 6, 30)

GBK_CSV = (",".join(LOAN) + "\n" + ",".join({**LOAN, "source_system": "\u4e2d\u56fd"}.values())).encode("gbk")


def test_find_table_file_by_stem(tmp_path: Path) -> None:
    assert find_table_file(tmp_path, "positions") is None
    path = write_csv(tmp_path / "positions.csv", [LOAN])
    (tmp_path / "positions_old.csv").write_text("x")
    assert find_table_file(tmp_path, POSITIONS) == path


def test_two_files_for_one_table(tmp_path: Path) -> None:
    write_csv(tmp_path / "positions.csv", [LOAN])
    (tmp_path / "positions.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataError, match="two files") as info:
        find_table_file(tmp_path, "positions")
    assert "positions.csv" in str(info.value) and "positions.parquet" in str(info.value)


def test_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "positions.xls").write_bytes(b"old excel")
    with pytest.raises(DataError, match=r"unsupported format.*\.xlsx"):
        find_table_file(tmp_path, "positions")


def test_csv_with_bom(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "positions.csv", [LOAN])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    parsed = read_table(path, "positions")
    assert parsed.num_rows == 1
    assert parsed.problems == []
    assert "as_of_date" in parsed.present


def test_missing_required_column_is_a_schema_error(tmp_path: Path) -> None:
    row = {k: v for k, v in LOAN.items() if k != "book"}
    path = write_csv(tmp_path / "positions.csv", [row])
    with pytest.raises(SchemaError) as info:
        read_table(path, "positions")
    err = info.value
    assert err.column == "book"
    assert err.file == str(path)
    assert "required columns: as_of_date, position_id" in str(err)


def test_missing_column_hints_at_case(tmp_path: Path) -> None:
    row = {("Position_ID" if k == "position_id" else k): v for k, v in LOAN.items()}
    with pytest.raises(SchemaError, match="names are exact and lower-case"):
        read_table(write_csv(tmp_path / "positions.csv", [row]), "positions")


def test_semicolon_separated_file_hint(tmp_path: Path) -> None:
    path = tmp_path / "positions.csv"
    path.write_text(";".join(LOAN) + "\n" + ";".join(LOAN.values()) + "\n")
    with pytest.raises(SchemaError, match="separator must be a comma"):
        read_table(path, "positions")


def test_ragged_rows_are_set_aside_with_their_row_and_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "positions.csv", [LOAN, DEPOSIT, {**LOAN, "position_id": "LN-2"}])
    lines = path.read_text().splitlines()
    lines[2] += ",extra"  # data row 2: one field too many
    path.write_text("\n".join(lines) + "\n")
    parsed = read_table(path, "positions")
    assert parsed.num_rows == 2
    assert parsed.source_row.tolist() == [1, 3]  # the rows keep their own numbers
    assert [(r.row, r.fields, r.expected) for r in parsed.ragged] == [(2, len(LOAN) + 1, len(LOAN))]
    assert parsed.ragged[0].text.endswith(",extra")
    result = validate_tables({"positions": parsed}, AS_OF)
    assert result.counts["positions"] == {"read": 3, "rejected": 1, "used": 2}
    assert [(r.row, r.reason) for r in result.rejects] == [(2, "ragged_row")]


def test_truncated_csv_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "positions.csv", [LOAN, DEPOSIT, LOAN])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])  # cut inside the last record
    with pytest.raises(DataError, match="truncated") as info:
        read_table(path, "positions")
    assert info.value.row == 3
    assert info.value.file == str(path)


def test_quoted_line_break_is_one_record(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "positions.csv", [{**LOAN, "source_system": "core\nsystem"}, DEPOSIT])
    parsed = read_table(path, "positions")
    assert parsed.num_rows == 2
    assert parsed.data.column("source_system").to_pylist() == ["core\nsystem", "core"]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("positions.csv", b"", "empty"),
        # GBK files now load (encoding="auto", see test_encodings.py); UTF-16 is neither UTF-8 nor GB18030
        ("positions.csv", GBK_CSV.decode("gbk").encode("utf-16"), "UTF-8"),
        ("positions.parquet", b"not a parquet file at all", "Parquet"),
        ("positions.xlsx", b"not a zip", "Excel"),
    ],
)
def test_malformed_files_are_data_errors(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        read_table(path, "positions")
    assert info.value.file == str(path)
    assert not isinstance(info.value, SchemaError)


def test_duplicate_header(tmp_path: Path) -> None:
    path = tmp_path / "positions.csv"
    path.write_text(",".join([*LOAN, "book"]) + "\n" + ",".join([*LOAN.values(), "banking"]) + "\n")
    with pytest.raises(DataError, match="twice"):
        read_table(path, "positions")


def test_extra_columns_are_listed_not_typed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "positions.csv", [{**LOAN, "my_flag": "x", "": ""}])
    parsed = read_table(path, "positions")
    assert parsed.extra_columns == ("my_flag",)
    assert "my_flag" not in parsed.data.column_names


def test_cell_problems_are_recorded_not_raised(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "positions.csv", [LOAN, {**LOAN, "position_id": "L2", "maturity_date": "2034-02-30"}])
    parsed = read_table(path, "positions")
    ((column, problem),) = parsed.problems
    assert column == "maturity_date"
    assert problem.reason == "impossible_date"
    assert problem.mask.tolist() == [False, True]
    assert parsed.source_row.tolist() == [1, 2]


def test_excel_typed_cells_and_row_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    cols = list(LOAN)
    sheet.append(cols)
    typed: dict[str, object] = {
        **LOAN,
        "as_of_date": dt.datetime(2026, 6, 30),
        "origination_date": dt.date(2024, 3, 15),
        "maturity_date": dt.datetime(2034, 3, 15, 0, 0),
        "principal_balance": 1000000.0,
        "current_rate": 0.0385,
        "on_balance_sheet": True,
        "gl_account": 1301,
    }
    sheet.append([typed[c] for c in cols])
    sheet.append([None] * len(cols))  # an empty sheet row is skipped but keeps the numbering
    sheet.append([typed[c] if c != "position_id" else "L3" for c in cols])
    path = tmp_path / "positions.xlsx"
    book.save(path)
    parsed = read_table(path, "positions")
    assert parsed.problems == []
    assert parsed.source_row.tolist() == [1, 3]
    data = parsed.data
    assert data.column("maturity_date").to_pylist() == [dt.date(2034, 3, 15)] * 2
    assert data.column("principal_balance").to_pylist() == [1000000.0] * 2
    assert data.column("on_balance_sheet").to_pylist() == [True] * 2
    assert data.column("gl_account").to_pylist() == ["1301"] * 2


def test_parquet_with_incompatible_column(tmp_path: Path) -> None:
    table = pa.table({k: pa.array([v]) for k, v in LOAN.items()}).set_column(
        list(LOAN).index("maturity_date"), "maturity_date", pa.array([True])
    )
    path = tmp_path / "positions.parquet"
    pq.write_table(table, path)
    with pytest.raises(SchemaError, match="maturity_date") as info:
        read_table(path, "positions")
    assert info.value.column == "maturity_date"
