"""Flagged rows: problems of ``warning`` severity, kept with the rows that are still used.

A data-quality rule of severity ``warning`` (:mod:`openalm.data.quality_rules`) does not
quarantine a row: the row is used and each problem becomes a *flag*, kept with the validation
result as an Arrow table of :data:`FLAG_SCHEMA` (built vectorised, since a warning rule may fire
on many rows). :func:`flag_list` turns it into :class:`Flag` records;
:func:`openalm.data.quality.write_quality_report` writes it as ``flags.csv``.

``row`` is the 1-based data row of the file, header excluded (as in ``rejects.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pyarrow as pa

__all__ = ["FLAG_COLUMNS", "FLAG_SCHEMA", "Flag", "empty_flags", "flag_list"]

#: Columns of the flags table and of ``flags.csv``, in order.
FLAG_SCHEMA: Final = pa.schema(
    [
        pa.field("table", pa.string()),
        pa.field("file", pa.string()),
        pa.field("row", pa.int64()),
        pa.field("position_id", pa.string()),
        pa.field("rule_id", pa.string()),
        pa.field("severity", pa.string()),
        pa.field("column", pa.string()),
        pa.field("value", pa.string()),
        pa.field("message", pa.string()),
    ]
)
FLAG_COLUMNS: Final = tuple(FLAG_SCHEMA.names)


@dataclass(frozen=True, slots=True)
class Flag:
    """One warning found in one row that is still used.

    Parameters
    ----------
    table:
        Contract table name.
    file:
        File name (e.g. ``positions.csv``).
    row:
        1-based data row, header excluded.
    position_id:
        The row's ``position_id`` when the table has one, else empty.
    rule_id:
        The data-quality rule (``POS-RATE-001`` or a bank rule id).
    severity:
        ``warning``.
    column:
        The column the problem is about.
    value:
        The cell as text, as read (empty for a missing value).
    message:
        What looks wrong and what was expected.
    """

    table: str
    file: str
    row: int
    position_id: str
    rule_id: str
    severity: str
    column: str
    value: str
    message: str


def empty_flags() -> pa.Table:
    """A flags table without rows."""
    return FLAG_SCHEMA.empty_table()


def flag_list(flags: pa.Table) -> list[Flag]:
    """The rows of a flags table as :class:`Flag` records (in table order)."""
    columns = [flags.column(name).to_pylist() for name in FLAG_COLUMNS]
    return [Flag(*values) for values in zip(*columns, strict=True)]
