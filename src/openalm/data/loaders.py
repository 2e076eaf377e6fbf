"""Reading snapshot table files (CSV, Parquet, Excel) into typed Arrow columns.

A table file is found by its stem (``positions.csv`` / ``positions.parquet`` /
``positions.xlsx``). Reading never guesses types: CSV cells are read as text and parsed by the
rules of :mod:`openalm.data._cells`; Parquet columns must have a compatible physical type (text
columns are parsed like CSV); Excel cells arrive typed from openpyxl and are turned into the same
text form first, so one parser decides for all three formats.

Row numbers: ``source_row`` is the 1-based data row, header excluded. For CSV it counts records
(empty lines are skipped; a quoted value holding a line break stays one record); for Excel it is
the sheet row minus one (so sheet row = ``source_row + 1``, empty sheet rows are skipped but do
not shift the numbering); for Parquet it is the row index plus one.

Failures are of two kinds:

* the file cannot be used at all (unreadable, not the format its extension says, ragged CSV rows,
  duplicate headers, a missing required column): :class:`~openalm.errors.DataError` /
  :class:`~openalm.errors.SchemaError`, naming the file (and line or column when known);
* a cell cannot be parsed: recorded as a :class:`~openalm.data._cells.Problem` (a boolean mask
  per column and reason); the row is later rejected, the run goes on.

Columns not in the contract are kept out of the typed table and listed in ``extra_columns``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from openalm.data._cells import ArrowColumn, Problem, coerce_typed
from openalm.data.schema import TABLES, TableSchema
from openalm.errors import DataError, SchemaError

__all__ = [
    "SOURCE_ROW",
    "SUPPORTED_EXTENSIONS",
    "ParsedTable",
    "find_table_file",
    "parse_arrow_table",
    "read_table",
]

#: File extensions a snapshot table may have.
SUPPORTED_EXTENSIONS: Final = (".csv", ".parquet", ".xlsx")
#: Name of the column holding the 1-based data row number of each loaded row.
SOURCE_ROW: Final = "source_row"


@dataclass(slots=True)
class ParsedTable:
    """One table file read and parsed, before the row rules.

    Attributes
    ----------
    schema:
        The contract table.
    file:
        Path of the file read (``"<memory>"`` for an in-memory table).
    data:
        Every row read: the contract columns present in the file, in their loaded Arrow types
        (cells that failed to parse are null), plus ``source_row`` (int64, 1-based data row).
    raw:
        The present contract columns as read (text for CSV/Excel, typed for Parquet), used to
        quote the offending value in rejects.
    problems:
        ``(column, problem)`` for every cell-level failure.
    extra_columns:
        Header names that are not contract columns (ignored).
    notes:
        Warnings raised while reading (e.g. integer ids turned into text).
    """

    schema: TableSchema
    file: str
    data: pa.Table
    raw: dict[str, ArrowColumn]
    problems: list[tuple[str, Problem]] = field(default_factory=list)
    extra_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        """Number of data rows read."""
        return int(self.data.num_rows)

    @property
    def present(self) -> tuple[str, ...]:
        """Contract columns present in the file, in contract order."""
        return tuple(c for c in self.schema.names if c in self.raw)

    @property
    def source_row(self) -> npt.NDArray[np.int64]:
        """1-based data row numbers as a numpy array."""
        col = self.data.column(SOURCE_ROW)
        return np.asarray(col.to_numpy(), dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------------------------


def find_table_file(folder: str | os.PathLike[str], table: str | TableSchema) -> Path | None:
    """The file holding ``table`` in the snapshot ``folder``, or None when there is none.

    The file is ``<table>.csv``, ``<table>.parquet`` or ``<table>.xlsx`` (extension case is
    ignored).

    Raises
    ------
    DataError
        When two files hold the same table (both are named), or when the only file for the table
        has an unsupported extension (e.g. ``positions.xls``).
    """
    name = table.name if isinstance(table, TableSchema) else table
    root = Path(folder)
    if not root.is_dir():
        raise DataError(
            "is not a folder; expected a snapshot folder holding positions.csv/.parquet/.xlsx", file=str(root)
        )
    found: list[Path] = []
    unsupported: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.stem != name or not entry.is_file():
            continue
        (found if entry.suffix.lower() in SUPPORTED_EXTENSIONS else unsupported).append(entry)
    if len(found) > 1:
        listed = " and ".join(str(p) for p in found)
        raise DataError(f"two files hold table {name!r}: {listed}; keep exactly one", file=str(found[0]))
    if found:
        return found[0]
    if unsupported:
        raise DataError(
            f"unsupported format for table {name!r}; expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
            file=str(unsupported[0]),
        )
    return None


# --------------------------------------------------------------------------------------------
# Reading raw columns
# --------------------------------------------------------------------------------------------


def _header_names(raw_names: Sequence[Any], file: str) -> list[str]:
    """Clean header names: stripped; blank ones get a placeholder; duplicates are an error."""
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_names, start=1):
        text = "" if raw is None else str(raw).strip()
        if not text:
            text = f"<unnamed column {i}>"
        if text in seen:
            raise DataError(f"header names column {text!r} twice; each column must appear once", file=file, column=text)
        seen.add(text)
        names.append(text)
    return names


def _read_csv_header(path: Path) -> list[str]:
    file = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as err:
        raise DataError("is not UTF-8 text (a GBK/GB18030 export?); save the file as UTF-8", file=file) from err
    except (OSError, csv.Error) as err:
        raise DataError(f"cannot be read as CSV: {err}", file=file) from err
    if not header:
        raise DataError("is empty; expected a header row naming the columns", file=file)
    return _header_names(header, file)


def _csv_options(names: list[str], *, threads: bool, newlines: bool, handler: Any = None) -> dict[str, Any]:
    return {
        "read_options": pcsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads, block_size=1 << 24),
        "parse_options": pcsv.ParseOptions(newlines_in_values=newlines, invalid_row_handler=handler),
        "convert_options": pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    }


def _read_csv(path: Path) -> pa.Table:
    file = str(path)
    names = _read_csv_header(path)
    first_error: pa.ArrowInvalid | None = None
    for newlines in (False, True):
        try:
            return pcsv.read_csv(path, **_csv_options(names, threads=True, newlines=newlines))
        except pa.ArrowInvalid as err:
            first_error = first_error or err
            if "columns" not in str(err):
                break  # not a ragged row: retrying with quoted line breaks will not help
    message = str(first_error)
    if "UTF8" in message or "utf8" in message.lower():
        raise DataError("is not UTF-8 text (a GBK/GB18030 export?); save the file as UTF-8", file=file)
    bad: list[Any] = []

    def record(row: Any) -> str:
        bad.append(row)
        return "skip"

    with contextlib.suppress(pa.ArrowInvalid):
        pcsv.read_csv(path, **_csv_options(names, threads=False, newlines=True, handler=record))
    if bad:
        row = bad[0]
        data_row = None if row.number is None else int(row.number) - 1
        raise DataError(
            f"ragged CSV: a row has {row.actual_columns} fields, the header has {row.expected_columns} "
            f"({len(bad)} such row(s)); text: {row.text[:80]!r}",
            file=file,
            row=data_row,
        )
    raise DataError(f"cannot be read as CSV: {message}", file=file)


def _read_parquet(path: Path) -> pa.Table:
    file = str(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise DataError(f"cannot be read as Parquet: {err}", file=file) from err
    _header_names(table.column_names, file)
    return table


def _cell_text(value: Any) -> str | None:
    """An Excel cell as CSV-style text (numbers, dates and booleans in their canonical form)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path) -> tuple[pa.Table, npt.NDArray[np.int64]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    file = str(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise DataError(f"cannot be read as an Excel .xlsx workbook: {err}", file=file) from err
    try:
        if not book.worksheets:
            raise DataError("has no worksheet", file=file)
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(v is None for v in header):
            raise DataError("first sheet is empty; expected a header row in row 1", file=file)
        width = len(header)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        source_rows: list[int] = []
        for sheet_row, values in enumerate(rows, start=2):
            if all(v is None for v in values):
                continue
            if len(values) > width and any(v is not None for v in values[width:]):
                raise DataError(
                    f"has values beyond the last header column ({width} columns)",
                    file=file,
                    row=sheet_row - 1,
                )
            for j in range(width):
                columns[j].append(_cell_text(values[j]) if j < len(values) else None)
            source_rows.append(sheet_row - 1)
    finally:
        book.close()
    names = _header_names(header, file)
    table = pa.table({name: pa.array(col, pa.string()) for name, col in zip(names, columns, strict=True)})
    return table, np.asarray(source_rows, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def _missing_required(schema: TableSchema, names: Sequence[str], file: str) -> SchemaError | None:
    missing = [c for c in schema.required_names if c not in names]
    if not missing:
        return None
    hints = []
    lowered = {n.lower(): n for n in names}
    for col in missing:
        if col in lowered and lowered[col] != col:
            hints.append(f"the file has {lowered[col]!r}: names are exact and lower-case")
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        hints.append("the header is one column: the separator must be a comma")
    hint = f" ({'; '.join(hints)})" if hints else ""
    listed = ", ".join(repr(c) for c in missing)
    return SchemaError(
        f"missing required column(s) {listed} of table {schema.name!r}{hint}; "
        f"required columns: {', '.join(schema.required_names)}",
        file=file,
        column=missing[0],
    )


def parse_arrow_table(
    table: pa.Table,
    schema: TableSchema | str,
    *,
    file: str = "<memory>",
    source_row: npt.NDArray[np.int64] | None = None,
) -> ParsedTable:
    """Parse an Arrow table (text or typed columns) against a contract table.

    Parameters
    ----------
    table:
        Columns named as in the contract; text columns are parsed like CSV cells, typed columns
        must be compatible (see :func:`openalm.data._cells.coerce_typed`).
    schema:
        The contract table or its name.
    file:
        Name used in errors and rejects.
    source_row:
        1-based data row numbers (default ``1..n``).

    Raises
    ------
    SchemaError
        A required column is missing or a column's type cannot hold its logical type.
    """
    schema = TABLES[schema] if isinstance(schema, str) else schema
    names = list(table.column_names)
    _header_names(names, file)
    error = _missing_required(schema, names, file)
    if error is not None:
        raise error
    n = table.num_rows
    rows = np.arange(1, n + 1, dtype=np.int64) if source_row is None else np.asarray(source_row, np.int64)
    raw: dict[str, ArrowColumn] = {}
    typed: dict[str, ArrowColumn] = {}
    problems: list[tuple[str, Problem]] = []
    notes: list[str] = []
    for column in schema.columns:
        if column.name not in names:
            continue
        values = table.column(column.name)
        result = coerce_typed(values, column, file)
        raw[column.name] = values
        typed[column.name] = result.values
        problems.extend((column.name, p) for p in result.problems)
        notes.extend(f"{Path(file).name}: {note}" for note in result.notes)
    typed[SOURCE_ROW] = pa.array(rows, pa.int64())
    extra = tuple(n for n in names if n not in schema)
    data = pa.table(typed) if typed else pa.table({SOURCE_ROW: pa.array(rows, pa.int64())})
    parsed = ParsedTable(schema, file, data, raw, problems, (), notes)
    parsed.extra_columns = tuple(_non_empty_extras(table, extra))
    return parsed


def _non_empty_extras(table: pa.Table, extra: Sequence[str]) -> list[str]:
    """Extra columns worth a warning: named ones, and unnamed ones that hold values."""
    out = []
    for name in extra:
        if name.startswith("<unnamed column") and table.column(name).null_count == table.num_rows:
            continue
        out.append(name)
    return out


def read_table(path: str | os.PathLike[str], schema: TableSchema | str) -> ParsedTable:
    """Read and parse one table file (CSV, Parquet or Excel, by extension).

    Parameters
    ----------
    path:
        The file.
    schema:
        The contract table (or its name) the file holds.

    Returns
    -------
    ParsedTable
        Every row read, typed, with cell-level problems recorded (not raised).

    Raises
    ------
    SchemaError
        A required column is missing, or a Parquet column has an incompatible type.
    DataError
        The file is unreadable or malformed (naming the file, and the row when known).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    file = str(path)
    if not path.is_file():
        raise DataError("does not exist or is not a file", file=file)
    source_row = None
    if suffix == ".csv":
        table = _read_csv(path)
    elif suffix == ".parquet":
        table = _read_parquet(path)
    elif suffix == ".xlsx":
        table, source_row = _read_xlsx(path)
    else:
        raise DataError(f"unsupported format; expected one of {', '.join(SUPPORTED_EXTENSIONS)}", file=file)
    return parse_arrow_table(table, schema, file=file, source_row=source_row)


def text_of(values: ArrowColumn, index: npt.NDArray[np.int64]) -> list[str]:
    """Cells ``values[index]`` as text (``""`` for null), for quoting values in rejects."""
    if len(index) == 0:
        return []
    taken = values.take(pa.array(index, pa.int64()))
    if isinstance(taken, pa.ChunkedArray):
        taken = taken.combine_chunks()
    if pa.types.is_dictionary(taken.type):
        taken = taken.dictionary_decode()
    t = taken.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        try:
            taken = pc.cast(taken, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return ["" if v is None else str(v) for v in taken.to_pylist()]
    return ["" if v is None else str(v) for v in taken.to_pylist()]


def column_or_nulls(parsed: ParsedTable, name: str) -> ArrowColumn:
    """The typed column ``name`` of ``parsed``, or an all-null column of its type when absent."""
    if name in parsed.data.column_names:
        return parsed.data.column(name)
    return pa.nulls(parsed.num_rows, parsed.schema.column(name).arrow_type)
