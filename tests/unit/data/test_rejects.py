"""Reject records and the atomic rejects.csv writer."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from openalm.data import REJECT_COLUMNS, Reject, rejected_rows, rejects_to_table, write_rejects_csv

REJECTS = [
    Reject("positions.csv", 2, "current_rate", "3.85", "implausible_rate", "looks like percent", "L2", "positions"),
    Reject("positions.csv", 2, "currency", "rmb", "bad_currency", 'not ISO, "quoted", 中文', "L2", "positions"),
    Reject("curves.csv", 2, "tenor", "T", "bad_tenor", "bad", "", "curves"),
]


def test_write_rejects_csv(tmp_path: Path) -> None:
    target = write_rejects_csv(REJECTS, tmp_path / "out" / "rejects.csv")
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == REJECT_COLUMNS == ("file", "row", "column", "value", "reason", "message", "position_id")
    assert rows[1] == ["positions.csv", "2", "current_rate", "3.85", "implausible_rate", "looks like percent", "L2"]
    assert rows[2][5] == 'not ISO, "quoted", 中文'
    assert len(rows) == 4
    assert [p.name for p in target.parent.iterdir()] == ["rejects.csv"]  # no temporary file left


def test_write_empty_rejects_has_a_header(tmp_path: Path) -> None:
    target = write_rejects_csv([], tmp_path / "rejects.csv")
    assert target.read_text(encoding="utf-8").strip() == ",".join(REJECT_COLUMNS)


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "rejects.csv"
    write_rejects_csv(REJECTS, target)
    write_rejects_csv(REJECTS[:1], target)
    assert len(target.read_text(encoding="utf-8").splitlines()) == 2


def test_rejected_rows_counts_distinct_rows() -> None:
    assert rejected_rows(REJECTS) == 2
    assert rejected_rows(REJECTS, "positions") == 1


def test_rejects_to_table() -> None:
    table = rejects_to_table(REJECTS)
    assert table.column_names == list(REJECT_COLUMNS)
    assert table.schema.field("row").type == pa.int64()
    assert table.num_rows == 3
