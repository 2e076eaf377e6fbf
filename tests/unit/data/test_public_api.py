"""The public surface of openalm.data is pinned."""

from __future__ import annotations

import openalm.data


def test_public_names() -> None:
    assert sorted(openalm.data.__all__) == sorted(
        [
            "POSITIONS", "REASONS", "REJECT_COLUMNS", "SOURCE_ROW", "SUPPORTED_EXTENSIONS", "TABLES",
            "Column", "Level", "LogicalType", "ParsedTable", "Reject", "Snapshot", "TableSchema",
            "ValidationReport", "ValidationResult", "arrow_type", "clean_table", "file_info",
            "find_table_file", "parse_arrow_table", "read_snapshot", "read_table", "rejected_rows",
            "rejects_to_table", "validate", "validate_tables", "write_rejects_csv",
            "DataQualityReport", "FireResult", "FireSettings", "ReconciliationResult", "SourceMapping", "SqlSource",
            "TableMapping", "apply_mapping", "load_mapping", "mapping_hash", "quality_report", "read_fire",
            "read_sql_source", "read_sql_table", "reconcile", "write_quality_report", "write_reconciliation",
        ]
    )  # fmt: skip
    for name in openalm.data.__all__:
        assert hasattr(openalm.data, name)
