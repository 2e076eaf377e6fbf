"""Rejected rows: the record of each problem and the ``rejects.csv`` writer.

A row of an input table is quarantined (left out of the run, never silently fixed) when a cell
cannot be parsed or a row rule fails. Each problem is one :class:`Reject`; one row can have several
(validation lists every problem of a row, it never stops at the first), so the number of rejected
*rows* is the number of distinct ``(table, row)`` pairs (:func:`rejected_rows`).

``row`` is the 1-based data row of the file, header excluded (for Excel: the sheet row minus one).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa

__all__ = ["REJECT_COLUMNS", "Reject", "rejected_rows", "rejects_to_table", "write_rejects_csv"]

#: Columns of ``rejects.csv``, in order.
REJECT_COLUMNS: Final = ("file", "row", "column", "value", "reason", "message", "position_id")


@dataclass(frozen=True, slots=True)
class Reject:
    """One problem found in one row of an input file.

    Parameters
    ----------
    file:
        File name (e.g. ``positions.csv``).
    row:
        1-based data row, header excluded.
    column:
        The column at fault (for a rule over several columns, the one the rule is about).
    value:
        The cell as text, as read (empty for a missing value).
    reason:
        Reason code (see :data:`openalm.data.validation.REASONS`).
    message:
        What is wrong, what was expected and how to fix it.
    position_id:
        The row's ``position_id`` when the table has one (positions, schedules), else empty.
    table:
        Contract table name (``positions``, ``counterparties`` ...); not written to the CSV.
    rule_id:
        The data-quality rule that found the problem (``GEN-CELL-003``, a bank rule id; see
        :mod:`openalm.data.quality_rules`); not written to the CSV.
    """

    file: str
    row: int
    column: str
    value: str
    reason: str
    message: str
    position_id: str = ""
    table: str = ""
    rule_id: str = ""


def rejected_rows(rejects: Iterable[Reject], table: str | None = None) -> int:
    """Number of distinct rejected rows (of ``table``, or of every table)."""
    return len({(r.table, r.file, r.row) for r in rejects if table is None or r.table == table})


def write_rejects_csv(rejects: Sequence[Reject], path: str | os.PathLike[str]) -> Path:
    """Write ``rejects`` to a CSV file atomically and return its path.

    Columns ``file,row,column,value,reason,message,position_id`` (UTF-8, comma separated, header
    always written, even with no rejects). The file is written to a temporary file in the same
    folder and moved into place with :func:`os.replace`, so a reader never sees half a file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REJECT_COLUMNS)
            for r in rejects:
                writer.writerow([r.file, r.row, r.column, r.value, r.reason, r.message, r.position_id])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def rejects_to_table(rejects: Sequence[Reject]) -> pa.Table:
    """``rejects`` as an Arrow table with the columns of ``rejects.csv`` (``row`` is int64)."""
    return pa.table(
        {
            "file": pa.array([r.file for r in rejects], pa.string()),
            "row": pa.array([r.row for r in rejects], pa.int64()),
            "column": pa.array([r.column for r in rejects], pa.string()),
            "value": pa.array([r.value for r in rejects], pa.string()),
            "reason": pa.array([r.reason for r in rejects], pa.string()),
            "message": pa.array([r.message for r in rejects], pa.string()),
            "position_id": pa.array([r.position_id for r in rejects], pa.string()),
        }
    )
