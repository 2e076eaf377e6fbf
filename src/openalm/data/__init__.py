"""OpenALM data layer (数据整合层): the input contract, loaders, validation, rejects, snapshots.

Read a snapshot folder with :func:`read_snapshot`; validate one with :func:`validate`; write the
rejected rows with :func:`write_rejects_csv`. The contract itself (every column of positions.md
with its type and required level) is :data:`TABLES` / :data:`POSITIONS`.
"""

from __future__ import annotations

from openalm.data.loaders import (
    SOURCE_ROW,
    SUPPORTED_EXTENSIONS,
    ParsedTable,
    find_table_file,
    parse_arrow_table,
    read_table,
)
from openalm.data.rejects import REJECT_COLUMNS, Reject, rejected_rows, rejects_to_table, write_rejects_csv
from openalm.data.schema import (
    POSITIONS,
    TABLES,
    Column,
    Level,
    LogicalType,
    TableSchema,
    arrow_type,
)
from openalm.data.snapshot import Snapshot, ValidationReport, file_info, read_snapshot, validate
from openalm.data.validation import REASONS, ValidationResult, clean_table, validate_tables

__all__ = [
    "POSITIONS",
    "REASONS",
    "REJECT_COLUMNS",
    "SOURCE_ROW",
    "SUPPORTED_EXTENSIONS",
    "TABLES",
    "Column",
    "Level",
    "LogicalType",
    "ParsedTable",
    "Reject",
    "Snapshot",
    "TableSchema",
    "ValidationReport",
    "ValidationResult",
    "arrow_type",
    "clean_table",
    "file_info",
    "find_table_file",
    "parse_arrow_table",
    "read_snapshot",
    "read_table",
    "rejected_rows",
    "rejects_to_table",
    "validate",
    "validate_tables",
    "write_rejects_csv",
]
