"""Reading a snapshot folder: typed clean tables, rejects, counts, file hashes and warnings.

A snapshot folder holds ``positions.*`` (required) and any companion tables of positions.md 5,
each as one CSV, Parquet or Excel file named after the table. :func:`read_snapshot` reads every
table present, applies the row rules (:mod:`openalm.data.validation`) and returns a
:class:`Snapshot` with the usable rows only; :func:`validate` does the same work for
``openalm validate`` and returns only the report.

Examples
--------
>>> snap = read_snapshot("snapshot/", dt.date(2026, 6, 30))  # doctest: +SKIP
>>> snap.counts["positions"]  # doctest: +SKIP
{'read': 9, 'rejected': 0, 'used': 9}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pyarrow as pa

from openalm.data.flags import empty_flags
from openalm.data.loaders import ParsedTable, find_table_file, read_table
from openalm.data.quality_rules import DataQualityConfig
from openalm.data.rejects import Reject, rejected_rows
from openalm.data.schema import TABLE_ORDER, TABLES
from openalm.data.validation import RULE_RESULT_SCHEMA, ValidationResult, clean_table, validate_tables
from openalm.errors import DataError

__all__ = [
    "FileInfo",
    "Snapshot",
    "ValidationReport",
    "file_info",
    "read_snapshot",
    "snapshot_files",
    "validate",
]

FileInfo = dict[str, str | int]
"""``{"path": str, "sha256": hex str, "bytes": int}`` of one input file."""

_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class ValidationReport:
    """What validation found in a snapshot folder (no tables).

    Attributes
    ----------
    as_of:
        The run's as-of date.
    folder:
        The snapshot folder.
    rejects:
        Every problem, sorted by table (contract order), row, then rule order.
    counts:
        ``{table: {"read": n, "rejected": n, "used": n}}`` with ``read = used + rejected``.
    files:
        ``{table: {"path", "sha256", "bytes"}}`` of every file read.
    warnings:
        Non-blocking observations (ignored columns, skipped checks, counted gaps).
    flags:
        Every warning of a row (:data:`openalm.data.flags.FLAG_SCHEMA`); the rows are used.
    flagged:
        ``{table: n}`` distinct used rows with at least one warning.
    rule_results:
        One row per data-quality rule evaluated on a table
        (:data:`openalm.data.validation.RULE_RESULT_SCHEMA`), for the data-quality report.
    """

    as_of: dt.date
    folder: Path
    rejects: list[Reject]
    counts: dict[str, dict[str, int]]
    files: dict[str, FileInfo]
    warnings: list[str]
    flags: pa.Table = field(default_factory=empty_flags)
    flagged: dict[str, int] = field(default_factory=dict)
    rule_results: pa.Table = field(default_factory=RULE_RESULT_SCHEMA.empty_table)

    @property
    def rejected_rows(self) -> int:
        """Distinct rejected rows over all tables."""
        return sum(c["rejected"] for c in self.counts.values())

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejects


@dataclass(frozen=True)
class Snapshot:
    """The usable content of a snapshot folder at an as-of date.

    Every table holds clean rows only, with every contract column of its schema in its loaded
    Arrow type (absent optional columns are all-null columns) plus ``source_row`` (int64, the
    1-based data row of the file). Companion tables are None when their file is absent.
    """

    as_of: dt.date
    folder: Path
    positions: pa.Table
    counterparties: pa.Table | None
    curves: pa.Table | None
    fx_rates: pa.Table | None
    rate_indices: pa.Table | None
    index_fixings: pa.Table | None
    cash_flow_schedule: pa.Table | None
    rate_schedule: pa.Table | None
    gl_balances: pa.Table | None
    gl_account_map: pa.Table | None
    rejects: list[Reject]
    counts: dict[str, dict[str, int]]
    files: dict[str, FileInfo]
    warnings: list[str]
    flags: pa.Table = field(default_factory=empty_flags)
    flagged: dict[str, int] = field(default_factory=dict)
    rule_results: pa.Table = field(default_factory=RULE_RESULT_SCHEMA.empty_table)

    def table(self, name: str) -> pa.Table | None:
        """The clean table called ``name`` (None when its file is absent)."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; expected one of {', '.join(TABLE_ORDER)}")
        value: pa.Table | None = getattr(self, name)
        return value

    @property
    def report(self) -> ValidationReport:
        """The validation report of this snapshot."""
        return ValidationReport(
            self.as_of, self.folder, self.rejects, self.counts, self.files, self.warnings,
            self.flags, self.flagged, self.rule_results,
        )  # fmt: skip

    @property
    def rejected_rows(self) -> int:
        """Distinct rejected rows over all tables."""
        return rejected_rows(self.rejects)


def file_info(path: str | os.PathLike[str]) -> FileInfo:
    """Path, SHA-256 and size in bytes of a file (for the run manifest)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": size}


def snapshot_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The file of each table present in ``folder`` (contract order).

    Raises
    ------
    DataError
        The folder does not exist, holds no positions file, or holds two files for one table.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataError(
            "is not a folder; expected a snapshot folder holding positions.csv/.parquet/.xlsx", file=str(root)
        )
    found: dict[str, Path] = {}
    for name in TABLE_ORDER:
        path = find_table_file(root, name)
        if path is not None:
            found[name] = path
    if "positions" not in found:
        raise DataError(
            "holds no positions table; expected positions.csv, positions.parquet or positions.xlsx",
            file=str(root),
        )
    return found


def _as_date(as_of: dt.date | str) -> dt.date:
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(as_of)
    except (TypeError, ValueError) as err:
        raise DataError(f"as-of {as_of!r} is not a date; expected YYYY-MM-DD") from err


def is_fire_source(path: Path) -> bool:
    """True for a FIRE JSON file, or a folder of FIRE JSON records without a ``positions.*`` table."""
    if path.is_file():
        return path.suffix.lower() == ".json"
    return path.is_dir() and not any(path.glob("positions.*")) and any(path.glob("*.json"))


def _load_fire(
    root: Path, day: dt.date, strict: bool, dq: DataQualityConfig | None
) -> tuple[dt.date, Path, ValidationResult, dict[str, FileInfo]]:
    """A FIRE JSON source (interfaces.md: "a folder of FIRE JSON records is accepted too").

    Records the FIRE mapping cannot use come first in the rejects (file = JSON file, row = record
    number); records that are not positions (P&L, indices ...) are counted in the warnings.
    """
    from openalm.data.fire import read_fire

    fire = read_fire(root, as_of=day)
    parsed = fire.parsed(file=root.name)
    result = validate_tables(parsed, day, strict=strict, dq=dq)
    result.rejects[:0] = fire.rejects
    skipped = [f"FIRE {r.file} record {r.row} skipped: {r.message}" for r in fire.skipped]
    result.warnings[:0] = [*fire.warnings, *skipped]
    counts = fire.counts
    result.warnings.append(
        f"FIRE records: {counts['read']} read, {counts['mapped']} mapped, {counts['rejected']} rejected, "
        f"{counts['skipped']} skipped"
    )
    paths = [root] if root.is_file() else sorted(root.glob("*.json"))
    files = {p.name: file_info(p) for p in paths}
    return day, root, result, files


def _load(
    folder: str | os.PathLike[str], as_of: dt.date | str, strict: bool, dq: DataQualityConfig | None = None
) -> tuple[dt.date, Path, ValidationResult, dict[str, FileInfo]]:
    day = _as_date(as_of)
    root = Path(folder)
    if is_fire_source(root):
        return _load_fire(root, day, strict, dq)
    paths = snapshot_files(root)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="openalm-hash") as pool:
        hashes: dict[str, Future[FileInfo]] = {name: pool.submit(file_info, p) for name, p in paths.items()}
        parsed: dict[str, ParsedTable] = {name: read_table(path, TABLES[name]) for name, path in paths.items()}
        result = validate_tables(parsed, day, strict=strict, dq=dq)
        files = {name: future.result() for name, future in hashes.items()}
    return day, root, result, files


def read_snapshot(
    folder: str | os.PathLike[str],
    as_of: dt.date | str,
    *,
    strict: bool = False,
    dq: DataQualityConfig | None = None,
) -> Snapshot:
    """Read, parse and validate a snapshot folder.

    Parameters
    ----------
    folder:
        The snapshot folder (``positions.*`` required, companion tables optional).
    as_of:
        The run's as-of date; rows whose ``as_of_date`` differs are rejected.
    strict:
        Raise :class:`~openalm.errors.DataError` on the first rejected row instead of
        quarantining it (the config may say to stop).
    dq:
        The ``data_quality`` settings (severity overrides, bank-defined rules); None for the
        catalogue defaults.

    Returns
    -------
    Snapshot
        Clean typed tables (flagged rows included), rejects, flags, counts
        (``read = used + rejected``), file hashes, warnings.

    Raises
    ------
    SchemaError
        A required column is missing (or a Parquet column has an incompatible type).
    DataError
        No positions file, two files for one table, an unreadable or malformed file, or (strict)
        a rejected row.
    """
    day, root, result, files = _load(folder, as_of, strict, dq)
    tables = {name: clean_table(tr) for name, tr in result.tables.items()}
    return Snapshot(
        as_of=day,
        folder=root,
        positions=tables["positions"],
        counterparties=tables.get("counterparties"),
        curves=tables.get("curves"),
        fx_rates=tables.get("fx_rates"),
        rate_indices=tables.get("rate_indices"),
        index_fixings=tables.get("index_fixings"),
        cash_flow_schedule=tables.get("cash_flow_schedule"),
        rate_schedule=tables.get("rate_schedule"),
        gl_balances=tables.get("gl_balances"),
        gl_account_map=tables.get("gl_account_map"),
        rejects=result.rejects,
        counts=result.counts,
        files=files,
        warnings=result.warnings,
        flags=result.flags,
        flagged=result.flagged,
        rule_results=result.rule_results,
    )


def validate(
    folder: str | os.PathLike[str],
    as_of: dt.date | str,
    *,
    strict: bool = False,
    dq: DataQualityConfig | None = None,
) -> ValidationReport:
    """Validate a snapshot folder without building the clean tables (``openalm validate``).

    Same reading and rules as :func:`read_snapshot`; returns rejects, counts, file hashes and
    warnings. Write the rejects with :func:`openalm.data.write_rejects_csv`.
    """
    day, root, result, files = _load(folder, as_of, strict, dq)
    return ValidationReport(
        day, root, result.rejects, result.counts, files, result.warnings,
        result.flags, result.flagged, result.rule_results,
    )  # fmt: skip
