"""OpenALM data layer (数据整合层): the input contract, loaders, mappings, validation, quality, reconciliation.

Read a snapshot folder with :func:`read_snapshot`; validate one with :func:`validate`; write the
rejected rows with :func:`write_rejects_csv`. The contract itself (every column of positions.md
with its type and required level) is :data:`TABLES` / :data:`POSITIONS`.
"""

from __future__ import annotations

from openalm.data.fire import FireResult, FireSettings, read_fire
from openalm.data.loaders import (
    SOURCE_ROW,
    SUPPORTED_EXTENSIONS,
    ParsedTable,
    find_table_file,
    parse_arrow_table,
    read_table,
)
from openalm.data.mapping import SourceMapping, TableMapping, apply_mapping, load_mapping, mapping_hash
from openalm.data.quality import DataQualityReport, quality_report, write_quality_report
from openalm.data.reconciliation import ReconciliationResult, reconcile, write_reconciliation
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
from openalm.data.sql import SqlSource, read_sql_source, read_sql_table
from openalm.data.validation import REASONS, ValidationResult, clean_table, validate_tables

__all__ = [
    "POSITIONS",
    "REASONS",
    "REJECT_COLUMNS",
    "SOURCE_ROW",
    "SUPPORTED_EXTENSIONS",
    "TABLES",
    "Column",
    "DataQualityReport",
    "FireResult",
    "FireSettings",
    "Level",
    "LogicalType",
    "ParsedTable",
    "ReconciliationResult",
    "Reject",
    "Snapshot",
    "SourceMapping",
    "SqlSource",
    "TableMapping",
    "TableSchema",
    "ValidationReport",
    "ValidationResult",
    "apply_mapping",
    "arrow_type",
    "clean_table",
    "file_info",
    "find_table_file",
    "load_mapping",
    "mapping_hash",
    "parse_arrow_table",
    "quality_report",
    "read_fire",
    "read_snapshot",
    "read_sql_source",
    "read_sql_table",
    "read_table",
    "reconcile",
    "rejected_rows",
    "rejects_to_table",
    "validate",
    "validate_tables",
    "write_quality_report",
    "write_reconciliation",
    "write_rejects_csv",
]
