"""Corrections: a file of changed, added and removed rows applied to a version as a new version.

A correction file (CSV, Parquet or Excel) holds one row per change to one table (``positions``
unless told otherwise):

``action``
    ``update`` (change the given cells of an existing row), ``insert`` (add a row, e.g. a
    quarantined row after its fix) or ``delete`` (remove a row).
key columns
    The table's key (positions: ``reporting_entity_id``, ``position_id``); always required.
any contract column
    For ``update``, every non-empty cell replaces the current value and an empty cell leaves it
    alone; write ``<null>`` to clear a value. For ``insert``, the full row.
``reason`` (optional)
    Why this row changes; the command's ``--reason`` applies to rows without one.

The corrected table is validated as a whole with the same rules as a load. A correction is
applied completely or not at all: if any corrected row would be rejected, or a key to update or
delete does not exist, or a key to insert exists already, nothing is written and the error lists
every problem. Every changed cell is logged (old and new value, reason, user) in the catalogue.
Inserting a row whose key is in the parent's quarantine releases it from quarantine.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openalm.data.loaders import SOURCE_ROW, parse_arrow_table
from openalm.data.schema import TABLE_ORDER, TABLES
from openalm.data.snapshot import FileInfo
from openalm.data.validation import ValidationResult
from openalm.errors import DataError
from openalm.workspace._files import file_sha256
from openalm.workspace.ingest import Ingested, ingest_parsed

if TYPE_CHECKING:
    from openalm.workspace.store import SnapshotVersion, Workspace

__all__ = ["ACTIONS", "NULL_TOKEN", "AppliedCorrection", "apply_correction"]

ACTIONS: Final = ("update", "insert", "delete")
NULL_TOKEN: Final = "<null>"
_MAX_LISTED: Final = 50


@dataclass
class AppliedCorrection:
    """A correction applied in memory, ready to commit as a new version."""

    ingested: Ingested
    reuse: dict[str, tuple[str, str]]
    log: list[tuple[Any, ...]] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    file_sha256: str = ""


def _read_text_table(path: Path) -> pa.Table:
    """Every column of the correction file as text (CSV cells are never inferred)."""
    if not path.is_file():
        raise DataError("does not exist or is not a file", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            names = next(csv.reader(handle), [])
        if not names:
            raise DataError("is empty; expected a header row", file=str(path))
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    if suffix == ".parquet":
        table = pq.read_table(path)
        return pa.table({n: pc.cast(table.column(n), pa.string()) for n in table.column_names})
    if suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        if not rows:
            raise DataError("is empty; expected a header row", file=str(path))
        names = [str(c) for c in rows[0]]
        cols = {n: [None if r[k] is None else str(r[k]) for r in rows[1:]] for k, n in enumerate(names)}
        return pa.table({n: pa.array(v, pa.string()) for n, v in cols.items()})
    raise DataError("unsupported format; expected .csv, .parquet or .xlsx", file=str(path))


def _text_of_rows(table: pa.Table, columns: list[str]) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for name in columns:
        values = table.column(name)
        if pa.types.is_floating(values.type):
            out[name] = [None if v is None else repr(float(v)) for v in values.to_pylist()]
        else:
            out[name] = pc.cast(values, pa.string()).to_pylist()
    return out


def _key_strings(table: pa.Table | pl.DataFrame, key: tuple[str, ...]) -> list[str]:
    frame = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table.select(list(key)))
    assert isinstance(frame, pl.DataFrame)
    parts = [frame.get_column(k).cast(pl.Utf8).fill_null("") for k in key]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + "|" + p
    return joined.to_list()


def apply_correction(
    ws: Workspace, base: SnapshotVersion, path: Path, *, table: str, reason: str, user: str, config: Any = None
) -> AppliedCorrection:
    """Apply a correction file to ``base`` in memory and validate the result (nothing is written).

    Raises
    ------
    DataError
        Malformed file, unknown column or action, missing key, a key to update / delete that does not
        exist, a key to insert that exists, or corrected rows the validation rules reject (every
        problem is listed).
    """
    from openalm.workspace.store import table_key

    if table not in TABLES:
        raise DataError(f"unknown table {table!r}; expected one of {', '.join(TABLE_ORDER)}", file=str(path))
    if table not in base.tables:
        raise DataError(f"version {base.label} has no {table} table to correct", file=str(path))
    schema = TABLES[table]
    key = table_key(table)
    corr = _read_text_table(path)
    file = path.name
    names = corr.column_names
    if "action" not in names:
        raise DataError("has no 'action' column; expected update, insert or delete per row", file=file)
    missing_key = [k for k in key if k not in names]
    if missing_key:
        raise DataError(f"lacks key column(s) {missing_key}; every correction row names its {list(key)}", file=file)
    unknown = [n for n in names if n not in schema and n not in ("action", "reason")]
    if unknown:
        raise DataError(f"has column(s) {unknown} that are not {table} columns", file=file, column=unknown[0])
    actions = corr.column("action").to_pylist()
    problems: list[str] = []
    for row, act in enumerate(actions, start=1):
        if act not in ACTIONS:
            problems.append(f"{file} row {row}, column action: {act!r} is not one of {', '.join(ACTIONS)}")
    row_reasons = corr.column("reason").to_pylist() if "reason" in names else [None] * corr.num_rows
    corr_keys = _key_strings(corr.select(list(key)), key)
    seen: dict[str, int] = {}
    for row, k in enumerate(corr_keys, start=1):
        if k in seen:
            problems.append(f"{file} row {row}: key {k} is already corrected in row {seen[k]}; one row per key")
        seen[k] = row

    base_table = ws.read_table(base, table)
    assert base_table is not None
    base_keys = _key_strings(base_table, key)
    index_of = {k: i for i, k in enumerate(base_keys)}
    quarantine = ws.read_quarantine(base, table)
    q_keys = (
        set(_key_strings(quarantine, key))
        if quarantine is not None and all(k in quarantine.column_names for k in key)
        else set()
    )

    upd_rows: list[int] = []
    upd_base: list[int] = []
    ins_rows: list[int] = []
    del_base: list[int] = []
    for row, (act, k) in enumerate(zip(actions, corr_keys, strict=True)):
        exists = k in index_of
        if act in ("update", "delete") and not exists:
            problems.append(f"{file} row {row + 1}: {act} of key {k}, which is not in {base.label}")
        elif act == "insert" and exists:
            problems.append(f"{file} row {row + 1}: insert of key {k}, which is already in {base.label}; use update")
        elif act == "update":
            upd_rows.append(row)
            upd_base.append(index_of[k])
        elif act == "insert":
            ins_rows.append(row)
        elif act == "delete":
            del_base.append(index_of[k])
    if problems:
        raise DataError(_listing("the correction cannot be applied", problems), file=str(path))

    all_names = schema.names
    value_cols = [n for n in all_names if n in names]
    # full text rows of the changed and inserted rows
    base_text = _text_of_rows(base_table.take(pa.array(upd_base, pa.int64())), list(schema.names)) if upd_base else {}
    corr_text = {n: corr.column(n).to_pylist() for n in value_cols}
    new_rows: dict[str, list[str | None]] = {n: [] for n in schema.names}
    log: list[tuple[Any, ...]] = []
    seq = 0
    now_reason = reason.strip()
    for j, row in enumerate(upd_rows):
        r_reason = row_reasons[row] or now_reason
        for n in schema.names:
            old = base_text[n][j]
            cell = corr_text[n][row] if n in corr_text else None
            if cell is None or cell == "" or n in key:
                new = old
            else:
                new = None if cell == NULL_TOKEN else cell
                if new != old:
                    seq += 1
                    log.append((seq, table, "update", corr_keys[row], n, old, new, r_reason, user))
            new_rows[n].append(new)
    for row in ins_rows:
        r_reason = row_reasons[row] or now_reason
        for n in schema.names:
            cell = corr_text[n][row] if n in corr_text else None
            new_rows[n].append(None if cell in (None, "", NULL_TOKEN) else cell)
        seq += 1
        released = " (released from quarantine)" if corr_keys[row] in q_keys else ""
        log.append((seq, table, "insert", corr_keys[row], None, None, "row inserted" + released, r_reason, user))
    for i in del_base:
        seq += 1
        log.append((seq, table, "delete", base_keys[i], None, "row deleted", None, now_reason, user))

    changed_text = pa.table({n: pa.array(v, pa.string()) for n, v in new_rows.items()})
    # corrected rows keep their original source row; inserted rows are numbered after the last one
    base_rows = np.asarray(base_table.column(SOURCE_ROW).to_numpy(), np.int64)
    next_row = int(base_rows.max()) + 1 if base_rows.size else 1
    rows_changed = np.concatenate(
        [base_rows[upd_base], np.arange(next_row, next_row + len(ins_rows), dtype=np.int64)]
    ).astype(np.int64)
    parsed_changed = parse_arrow_table(changed_text, schema, file=file, source_row=rows_changed)
    if parsed_changed.problems:
        cells: list[str] = []
        for column, problem in parsed_changed.problems:
            texts = changed_text.column(column).to_pylist()
            for i in np.flatnonzero(problem.mask)[:_MAX_LISTED]:
                value = texts[int(i)]
                cells.append(
                    f"key {_key_of(changed_text, key, int(i))}, column {column} = {value!r}: "
                    f"{problem.reason}: {problem.message.format(value=value)}"
                )
        raise DataError(_listing("corrected cells cannot be read; nothing was written", cells), file=str(path))

    drop = np.zeros(base_table.num_rows, bool)
    drop[upd_base] = True
    drop[del_base] = True
    kept = base_table.filter(pa.array(~drop))
    changed_typed = parsed_changed.data.select(
        [*[n for n in schema.names if n in parsed_changed.data.column_names], SOURCE_ROW]
    )
    changed_typed = pa.table(
        {
            n: (
                changed_typed.column(n)
                if n in changed_typed.column_names
                else pa.nulls(changed_typed.num_rows, kept.schema.field(n).type)
            ).cast(kept.schema.field(n).type)
            for n in kept.column_names
        }
    )
    # updated rows go back to their original place: order by source row
    merged = pa.concat_tables([kept, changed_typed]).sort_by([(SOURCE_ROW, "ascending")])
    del kept, base_table  # keep one copy of the table in memory, not three

    # validate the corrected snapshot as a whole: cross-row rules (keys, references) see every table
    parsed_all = {}
    for name in TABLE_ORDER:
        if name not in base.tables:
            continue
        t = merged if name == table else ws.read_table(base, name)
        assert t is not None
        rows_t = np.asarray(t.column(SOURCE_ROW).to_numpy(), np.int64)
        parsed_all[name] = parse_arrow_table(
            t.drop_columns([SOURCE_ROW]), TABLES[name], file=f"{name}.parquet", source_row=rows_t
        )
    files: dict[str, FileInfo] = {}
    dq = getattr(config, "data_quality", None) if config is not None else None
    ingested = ingest_parsed(parsed_all, base.as_of, files, dq=dq)
    touched = set(corr_keys)
    bad = [r for r in ingested.rejects if r.table == table and _reject_key(r, key, ingested) in touched]
    new_rejects = [r for r in ingested.rejects if r.table != table or _reject_key(r, key, ingested) in touched]
    if bad or any(c["rejected"] for n, c in ingested.counts.items() if n != table):
        lines = [
            f"key {_reject_key(r, key, ingested)}, column {r.column} = {r.value!r}: {r.reason}: {r.message}"
            for r in new_rejects
        ]
        raise DataError(_listing("corrected rows would be rejected; nothing was written", lines), file=str(path))
    if ingested.counts.get(table, {}).get("rejected", 0):
        lines = [f"row {r.row}, column {r.column}: {r.reason}: {r.message}" for r in ingested.rejects]
        raise DataError(_listing("the correction makes other rows invalid; nothing was written", lines), file=str(path))

    # quarantine of the corrected table: the parent's minus the rows released by inserts
    if quarantine is not None:
        freed = (
            np.array([k in touched for k in _key_strings(quarantine, key)], bool)
            if q_keys
            else np.zeros(quarantine.num_rows, bool)
        )
        remaining = quarantine.filter(pa.array(~freed))
        if remaining.num_rows:
            ingested.quarantine[table] = remaining
    ingested.counts = _carry_counts(base, table, ingested)
    reuse = {name: (rel, _sha_of(ws, base, name)) for name, rel in base.tables.items() if name != table}
    summary = {
        "updated_rows": len(upd_rows),
        "updated_cells": sum(1 for e in log if e[2] == "update"),
        "inserted_rows": len(ins_rows),
        "deleted_rows": len(del_base),
        "released_from_quarantine": sum(1 for r in ins_rows if corr_keys[r] in q_keys),
    }
    return AppliedCorrection(ingested, reuse, log, summary, file_sha256(path))


def _key_of(table: pa.Table, key: tuple[str, ...], i: int) -> str:
    return "|".join(str(table.column(k)[int(i)].as_py() or "") for k in key)


def _reject_key(r: Any, key: tuple[str, ...], ingested: Ingested) -> str:
    if key == ("reporting_entity_id", "position_id"):
        # position rejects carry position_id; the entity comes from the clean or raw row
        return _lookup_entity(ingested, r) + "|" + (r.position_id or "")
    return f"row {r.row}"


def _lookup_entity(ingested: Ingested, r: Any) -> str:
    v = ingested.validation
    if not isinstance(v, ValidationResult) or r.table not in v.tables:
        return ""
    parsed = v.tables[r.table].parsed
    rows = parsed.source_row
    hit = np.flatnonzero(rows == r.row)
    if not hit.size or "reporting_entity_id" not in parsed.data.column_names:
        return ""
    return str(parsed.data.column("reporting_entity_id")[int(hit[0])].as_py() or "")


def _sha_of(ws: Workspace, base: SnapshotVersion, name: str) -> str:
    rows = ws.catalog.query(
        "SELECT content_sha256 FROM snapshot_tables WHERE snapshot_id = ? AND table_name = ?", [base.snapshot_id, name]
    )
    return str(rows[0]["content_sha256"])


def _carry_counts(base: SnapshotVersion, table: str, ingested: Ingested) -> dict[str, dict[str, int]]:
    """Counts of the new version: the corrected table's from validation, plus its quarantine."""
    counts = {k: dict(v) for k, v in base.counts.items()}
    used = ingested.counts[table]["used"]
    q = ingested.quarantine.get(table)
    rejected = 0 if q is None else q.num_rows
    counts[table] = {"read": used + rejected, "rejected": rejected, "used": used}
    return counts


def _listing(title: str, lines: list[str]) -> str:
    shown = lines[:_MAX_LISTED]
    more = f"\n  ... and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return title + ":\n  " + "\n  ".join(shown) + more


def correction_log_json(log: list[tuple[Any, ...]]) -> str:
    return json.dumps(log, ensure_ascii=False, default=str)
