"""Reading a source into clean tables plus quarantine: the work behind ``openalm load``.

A source is a snapshot folder (one CSV / Parquet / Excel file per table, the layout of
interfaces.md). Every table read is parsed and validated with the same rules as ``openalm run``;
the result keeps, for each table, the usable rows (typed, with ``source_row``) and the rejected
rows exactly as read (every cell as text) with all their reasons, so that a rejected row can be
inspected, corrected and loaded again: nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openalm.data.loaders import SOURCE_ROW, ParsedTable, read_table
from openalm.data.rejects import Reject
from openalm.data.schema import TABLES
from openalm.data.snapshot import FileInfo, file_info, snapshot_files
from openalm.data.validation import ValidationResult, clean_table, validate_tables

__all__ = ["QUARANTINE_META", "Ingested", "ingest_folder", "ingest_parsed", "quarantine_table"]

#: Lineage columns of a quarantine table, before the source columns (all text).
QUARANTINE_META = ("_table", "_source_file", "_source_row", "_position_id", "_reasons")


@dataclass
class Ingested:
    """What a source yielded: clean tables, quarantined rows and the facts about them."""

    as_of: dt.date
    clean: dict[str, pa.Table]
    quarantine: dict[str, pa.Table]
    rejects: list[Reject]
    counts: dict[str, dict[str, int]]
    files: dict[str, FileInfo]
    warnings: list[str]
    validation: ValidationResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    if pa.types.is_dictionary(values.type):
        return pc.cast(values, pa.string())
    try:
        return pc.cast(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def quarantine_table(table: str, parsed: ParsedTable, rejected: np.ndarray, rejects: Sequence[Reject]) -> pa.Table:
    """The rejected rows of one table exactly as read (text), with their lineage and reasons.

    ``_reasons`` is a JSON list of ``{column, reason, message, value}``: every problem of the row.
    """
    idx = np.flatnonzero(rejected)
    rows = parsed.source_row[idx]
    by_row: dict[int, list[dict[str, str]]] = defaultdict(list)
    pid: dict[int, str] = {}
    for r in rejects:
        if r.table == table:
            by_row[r.row].append({"column": r.column, "reason": r.reason, "message": r.message, "value": r.value})
            if r.position_id:
                pid[r.row] = r.position_id
    take = pa.array(idx, pa.int64())
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "_table": pa.array([table] * len(idx), pa.string()),
        "_source_file": pa.array([Path(parsed.file).name] * len(idx), pa.string()),
        "_source_row": pa.array(rows, pa.int64()),
        "_position_id": pa.array([pid.get(int(r), "") for r in rows], pa.string()),
        "_reasons": pa.array([json.dumps(by_row.get(int(r), []), ensure_ascii=False) for r in rows], pa.string()),
    }
    for name in parsed.schema.names:
        if name in parsed.raw:
            columns[name] = _as_text(parsed.raw[name].take(take))
    return pa.table(columns)


def ingest_parsed(
    parsed: Mapping[str, ParsedTable],
    as_of: dt.date,
    files: Mapping[str, FileInfo],
    *,
    extra_rejects: Sequence[Reject] = (),
    warnings: Sequence[str] = (),
    dq: Any = None,
) -> Ingested:
    """Validate parsed tables and split every table into clean rows and quarantine."""
    kwargs: dict[str, Any] = {}
    if dq is not None:
        kwargs["dq"] = dq
    result = validate_tables(dict(parsed), as_of, **kwargs)
    rejects = [*extra_rejects, *result.rejects]
    clean: dict[str, pa.Table] = {}
    quarantine: dict[str, pa.Table] = {}
    for name, tr in result.tables.items():
        clean[name] = clean_table(tr)
        if tr.rejected.any():
            quarantine[name] = quarantine_table(name, tr.parsed, tr.rejected, result.rejects)
    return Ingested(
        as_of=as_of,
        clean=clean,
        quarantine=quarantine,
        rejects=rejects,
        counts=result.counts,
        files=dict(files),
        warnings=[*warnings, *result.warnings],
        validation=result,
    )


def ingest_folder(folder: Path, as_of: dt.date, *, dq: Any = None) -> Ingested:
    """Read, parse and validate every table file of a snapshot folder."""
    paths = snapshot_files(folder)
    parsed = {name: read_table(path, TABLES[name]) for name, path in paths.items()}
    files = {name: file_info(path) for name, path in paths.items()}
    notes = [n for p in parsed.values() for n in p.notes]
    return ingest_parsed(parsed, as_of, files, warnings=notes, dq=dq)


def source_rows(table: pa.Table) -> np.ndarray:
    """The ``source_row`` column as numpy (lineage of clean rows)."""
    return np.asarray(table.column(SOURCE_ROW).to_numpy(), np.int64)
