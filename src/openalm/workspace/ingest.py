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
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from openalm.data.loaders import SOURCE_ROW, ParsedTable, find_table_file, read_table
from openalm.data.rejects import Reject
from openalm.data.schema import TABLES
from openalm.data.snapshot import FileInfo, file_info, snapshot_files
from openalm.data.validation import ValidationResult, clean_table, validate_tables
from openalm.errors import DataError

if TYPE_CHECKING:
    from openalm.workspace._chunked_validation import StreamedValidation

__all__ = [
    "QUARANTINE_META",
    "Ingested",
    "WrittenTable",
    "ingest_folder",
    "ingest_parsed",
    "is_fire",
    "quarantine_table",
    "ragged_table",
]

#: Lineage columns of a quarantine table, before the source columns (all text).
QUARANTINE_META = ("_table", "_source_file", "_source_row", "_position_id", "_reasons")


@dataclass(frozen=True)
class WrittenTable:
    """A table already written as datasets in a staging folder (a streamed positions file).

    ``folder`` / ``quarantine_folder`` hold ``part-NNNNN.parquet`` files (the layout of
    :func:`~openalm.workspace._files.write_dataset`); the commit moves them into place.
    """

    folder: Path
    sha256: str
    rows: int
    quarantine_folder: Path | None
    quarantine_sha256: str
    quarantine_rows: int


@dataclass
class Ingested:
    """What a source yielded: clean tables, quarantined rows and the facts about them.

    A streamed positions file is not in ``clean`` / ``quarantine`` but in ``written``, and
    ``validation`` is then the merged outcome of its chunks
    (:class:`~openalm.workspace._chunked_validation.StreamedValidation`).
    """

    as_of: dt.date
    clean: dict[str, pa.Table]
    quarantine: dict[str, pa.Table]
    rejects: list[Reject]
    counts: dict[str, dict[str, int]]
    files: dict[str, FileInfo]
    warnings: list[str]
    validation: ValidationResult | StreamedValidation | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    written: dict[str, WrittenTable] = field(default_factory=dict)


def _as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    if pa.types.is_dictionary(values.type):
        return pc.cast(values, pa.string())
    try:
        return pc.cast(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def quarantine_table(
    table: str,
    parsed: ParsedTable,
    rejected: np.ndarray,
    rejects: Sequence[Reject],
    *,
    include_ragged: bool = True,
) -> pa.Table:
    """The rejected rows of one table exactly as read (text), with their lineage and reasons.

    ``_reasons`` is a JSON list of ``{column, reason, message, value}``: every problem of the row.
    Ragged CSV records (wrong number of fields, so no columns) follow the other rows with their
    whole text in ``_raw_record`` (null for the other rows) and their cells null.
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
        "_raw_record": pa.nulls(len(idx), pa.string()),
    }
    for name in parsed.schema.names:
        if name in parsed.raw:
            columns[name] = pc.cast(_as_text(parsed.raw[name].take(take)), pa.string())
    out = pa.table(columns)
    ragged = list(getattr(parsed, "ragged", ())) if include_ragged else []
    if ragged:
        out = pa.concat_tables([out, ragged_table(table, parsed, ragged, out.schema)])
    return out


def ragged_table(table: str, parsed: ParsedTable, ragged: Sequence[Any], schema: pa.Schema | None = None) -> pa.Table:
    """Quarantine rows of ragged CSV records, in the layout of :func:`quarantine_table`."""
    if schema is None:
        schema = quarantine_table(table, parsed, np.zeros(parsed.num_rows, bool), (), include_ragged=False).schema
    n = len(ragged)
    reasons = [
        json.dumps([{"column": "", "reason": "ragged_row", "message": r.message, "value": r.text}], ensure_ascii=False)
        for r in ragged
    ]
    values: dict[str, pa.Array] = {
        "_table": pa.array([table] * n, pa.string()),
        "_source_file": pa.array([Path(parsed.file).name] * n, pa.string()),
        "_source_row": pa.array([r.row for r in ragged], pa.int64()),
        "_position_id": pa.array([""] * n, pa.string()),
        "_reasons": pa.array(reasons, pa.string()),
        "_raw_record": pa.array([r.text for r in ragged], pa.string()),
    }
    return pa.table([values.get(f.name, pa.nulls(n, f.type)) for f in schema], schema=schema)


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
        if tr.rejected.any() or getattr(tr.parsed, "ragged", None):
            quarantine[name] = quarantine_table(name, tr.parsed, tr.rejected, result.rejects)
    counts = result.counts
    for name, n in result.flagged.items():
        counts[name]["flagged"] = n
    return Ingested(
        as_of=as_of,
        clean=clean,
        quarantine=quarantine,
        rejects=rejects,
        counts=counts,
        files=dict(files),
        warnings=[*warnings, *result.warnings],
        validation=result,
    )


def is_fire(path: Path) -> bool:
    """Whether ``path`` is FIRE JSON records (a ``.json`` file, or a folder of them without table files)."""
    if path.is_file():
        return path.suffix.lower() == ".json"
    has_table = any(path.glob("positions.*"))
    return not has_table and any(path.glob("*.json"))


def ingest_fire(path: Path, as_of: dt.date, *, dq: Any = None) -> Ingested:
    """Read FIRE JSON records (a file or a folder), map them (positions.md 6) and validate the rows.

    Records ``read_fire`` cannot map are quarantined in the ``fire_records`` quarantine table (file,
    record number, every reason); records that are not positions (P&L, indices ...) are counted
    as skipped with their reason in the warnings.
    """
    from openalm.data.fire import read_fire

    fire = read_fire(path, as_of=as_of)
    parsed = fire.parsed(file=path.name)
    files = {"fire": file_info(path)} if path.is_file() else {p.name: file_info(p) for p in sorted(path.glob("*.json"))}
    warnings = [*fire.warnings, *(f"FIRE {r.file} record {r.row} skipped: {r.message}" for r in fire.skipped)]
    ingested = ingest_parsed(parsed, as_of, files, extra_rejects=fire.rejects, warnings=warnings, dq=dq)
    if fire.rejects:
        by_record: dict[tuple[str, int], list[dict[str, str]]] = defaultdict(list)
        for r in fire.rejects:
            by_record[(r.file, r.row)].append({"column": r.column, "reason": r.reason, "message": r.message,
                                               "value": r.value})  # fmt: skip
        keys = sorted(by_record)
        ingested.quarantine["fire_records"] = pa.table(
            {
                "_table": pa.array(["fire_records"] * len(keys), pa.string()),
                "_source_file": pa.array([k[0] for k in keys], pa.string()),
                "_source_row": pa.array([k[1] for k in keys], pa.int64()),
                "_position_id": pa.array([""] * len(keys), pa.string()),
                "_reasons": pa.array([json.dumps(by_record[k], ensure_ascii=False) for k in keys], pa.string()),
            }
        )
    ingested.counts["fire_records"] = {
        "read": fire.counts["read"],
        "used": fire.counts["mapped"],
        "rejected": fire.counts["rejected"],
        "skipped": fire.counts["skipped"],
    }
    return ingested


def _mapped_files(folder: Path, mapping: Any) -> dict[str, Path]:
    """The file of each table: the mapping's ``file`` glob (exactly one match), else the contract name."""
    found: dict[str, Path] = {}
    for name, tm in mapping.tables.items():
        if tm.file:
            hits = sorted(p for p in folder.glob(tm.file) if p.is_file())
            if len(hits) != 1:
                raise DataError(
                    f"mapping {mapping.name} v{mapping.version}: table {name} expects one file matching "
                    f"{tm.file!r}, found {len(hits)}",
                    file=str(folder),
                )
            found[name] = hits[0]
    for name in TABLES:
        if name not in found:
            path = find_table_file(folder, name)
            if path is not None:
                found[name] = path
    if "positions" not in found:
        raise DataError("holds no positions table (by the mapping or by name)", file=str(folder))
    return found


def ingest_folder(folder: Path, as_of: dt.date, *, dq: Any = None, mapping: Any = None) -> Ingested:
    """Read, parse and validate every table file of a snapshot folder (or FIRE JSON records).

    With a :class:`~openalm.data.mapping.SourceMapping`, the tables it declares are read from
    their source files through it (renames, code tables, quote bases, sentinel dates, encodings);
    every value it changed is reported in ``extra["mapping_corrections"]``.
    """
    if is_fire(folder):
        return ingest_fire(folder, as_of, dq=dq)
    if mapping is None:
        paths = snapshot_files(folder)
        parsed = {name: read_table(path, TABLES[name]) for name, path in paths.items()}
    else:
        paths = _mapped_files(folder, mapping)
        parsed = {}
        for name, path in paths.items():
            tm = mapping.tables.get(name)
            if tm is None:
                parsed[name] = read_table(path, TABLES[name])
            else:
                parsed[name] = read_table(path, TABLES[name], mapping=tm, encoding=tm.encoding)
    files = {name: file_info(path) for name, path in paths.items()}
    notes = [n for p in parsed.values() for n in p.notes]
    ingested = ingest_parsed(parsed, as_of, files, warnings=notes, dq=dq)
    corrections = []
    for name, p in parsed.items():
        for c in getattr(p, "corrections", ()) or ():
            corrections.append({"table": name, "column": c.column, "rule": c.rule, "from_value": str(c.from_value),
                                "to_value": str(c.to_value), "rows": int(c.rows)})  # fmt: skip
    if corrections:
        ingested.extra["mapping_corrections"] = pa.Table.from_pylist(corrections)
    return ingested


def source_rows(table: pa.Table) -> np.ndarray:
    """The ``source_row`` column as numpy (lineage of clean rows)."""
    return np.asarray(table.column(SOURCE_ROW).to_numpy(), np.int64)
