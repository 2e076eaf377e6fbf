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
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
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
from openalm.data.mapping import Correction, TableMapping, apply_mapping
from openalm.data.rejects import Reject
from openalm.data.schema import TABLES, TableSchema
from openalm.errors import ConfigError, DataError, SchemaError

__all__ = [
    "ENCODINGS",
    "SOURCE_ROW",
    "SUPPORTED_EXTENSIONS",
    "ParsedTable",
    "find_table_file",
    "parse_arrow_table",
    "read_raw_csv",
    "read_table",
]

#: File extensions a snapshot table may have.
SUPPORTED_EXTENSIONS: Final = (".csv", ".parquet", ".xlsx")
#: Name of the column holding the 1-based data row number of each loaded row.
SOURCE_ROW: Final = "source_row"
#: Text encodings a CSV file may be declared in (``auto``: UTF-8, else GB18030).
ENCODINGS: Final = ("auto", "utf-8", "gbk", "gb18030")


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
        Warnings raised while reading (e.g. integer ids turned into text, a CSV file decoded as
        GB18030).
    corrections:
        What a source mapping changed (:class:`~openalm.data.mapping.Correction`), when the
        file was read with one.
    mapping_rejects:
        Cells the mapping could not translate, named by *source* column. The same cells are
        also in ``problems`` under their contract column (so validation quarantines the rows):
        use one list or the other, not both.
    encoding:
        Encoding a CSV file was decoded with (``utf-8``, ``gbk``, ``gb18030``); None for other
        formats.
    """

    schema: TableSchema
    file: str
    data: pa.Table
    raw: dict[str, ArrowColumn]
    problems: list[tuple[str, Problem]] = field(default_factory=list)
    extra_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    mapping_rejects: list[Reject] = field(default_factory=list)
    encoding: str | None = None
    ragged: list[RaggedRow] = field(default_factory=list)

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


def _header_from_stream(stream: Any, file: str, delimiter: str) -> list[str]:
    """The header record of a UTF-8 byte stream (a BOM is skipped); the stream stays open."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        header = next(csv.reader(text, delimiter=delimiter), None)
    except csv.Error as err:
        raise DataError(f"cannot be read as CSV: {err}", file=file) from err
    finally:
        text.detach()  # the caller owns (and closes) the stream
    if not header:
        raise DataError("is empty; expected a header row naming the columns", file=file)
    return _header_names(header, file)


def _csv_options(
    names: list[str], *, delimiter: str, threads: bool, newlines: bool, handler: Any = None
) -> dict[str, Any]:
    return {
        "read_options": pcsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads, block_size=1 << 24),
        "parse_options": pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=newlines, invalid_row_handler=handler
        ),
        "convert_options": pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    }


class _NotUtf8Error(Exception):
    """Raised by :func:`_parse_csv_bytes` when Arrow finds bytes that are not UTF-8."""


def _csv_input(source: Path | pa.Buffer) -> Any:
    return source if isinstance(source, Path) else pa.BufferReader(source)


def _ends_with_newline(source: Path | pa.Buffer) -> bool:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return True
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) in (b"\n", b"\r")
    data = source.to_pybytes()[-1:]
    return not data or data in (b"\n", b"\r")


def check_ragged(
    found: Sequence[RaggedRow],
    first_bad: Any,
    n_bad: int,
    total: int | None,
    source: Path | pa.Buffer,
    file: str,
    *,
    usable: bool = True,
) -> None:
    """Raise when ragged records cannot simply be quarantined.

    A ragged *last* record in a file without a final line break means the file was cut off (the
    rows after the cut are missing): :class:`DataError` for the whole file. So is a count of ragged
    records the scan cannot account for (``first_bad`` is Arrow's first invalid row).
    """
    last = found[-1] if found else None
    if last is not None and total is not None and not _ends_with_newline(source) and last.row == total:
        raise DataError(
            f"appears truncated: the last record has {last.fields} of {last.expected} fields and the file "
            f"does not end with a line break; text: {last.text[:80]!r}. Rows after the cut are missing, so "
            "the file is refused as a whole; transfer it again",
            file=file,
            row=last.row,
        )
    if not usable or len(found) != n_bad:
        raise DataError(
            f"ragged CSV: a row has {first_bad.actual_columns} fields, the header has {first_bad.expected_columns} "
            f"({n_bad} such row(s)); text: {first_bad.text[:80]!r}",
            file=file,
            row=found[0].row if found else None,
        )


def scan_ragged(lines: Iterable[str], delimiter: str, expected: int) -> list[RaggedRow]:
    """Records (after the header) of CSV text whose field count differs from ``expected``.

    ``lines`` are the file's lines with their line breaks (a text file opened with ``newline=""``);
    each ragged record keeps its text exactly as written (quotes included, several lines when a
    quoted value holds a line break), without the final line break.
    """
    import csv

    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)
    next(reader, None)
    consumed.clear()
    out: list[RaggedRow] = []
    for number, fields in enumerate(reader, start=1):
        text = "".join(consumed).rstrip("\r\n")
        consumed.clear()
        if fields and len(fields) != expected:
            out.append(RaggedRow(number, len(fields), expected, text))
    return out


def _ragged_records(source: Path | pa.Buffer, delimiter: str, expected: int) -> list[RaggedRow]:
    """Ragged records of a UTF-8 CSV file or buffer (slow path, only when Arrow found some)."""
    import io

    data = source.read_bytes() if isinstance(source, Path) else source.to_pybytes()
    return scan_ragged(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter, expected)


@dataclass(frozen=True, slots=True)
class RaggedRow:
    """A CSV record whose number of fields differs from the header's (quarantined, not parsed)."""

    row: int  # 1-based data row
    fields: int
    expected: int
    text: str

    @property
    def message(self) -> str:
        """The reject message of the record."""
        return (
            f"record has {self.fields} fields, the header has {self.expected} (a stray or missing delimiter "
            "upstream); the record is quarantined as text"
        )


def _parse_csv_bytes(
    source: Path | pa.Buffer, names: list[str], file: str, delimiter: str, ragged: list[RaggedRow] | None = None
) -> pa.Table:
    """Parse UTF-8 CSV bytes (a file or a transcoded buffer) into all-string columns.

    Records with the wrong number of fields (a stray or missing delimiter upstream) are left out
    and appended to ``ragged`` with their row number and text, so the caller can quarantine them;
    the other rows keep their own row numbers (see :func:`read_table`). A ragged *last* record in a
    file that does not end with a line break means the file was cut off: that is a
    :class:`DataError`, not a row problem, because the rows after the cut are missing.
    """
    first_error: pa.ArrowInvalid | None = None
    for newlines in (False, True):
        try:
            options = _csv_options(names, delimiter=delimiter, threads=True, newlines=newlines)
            return pcsv.read_csv(_csv_input(source), **options)
        except pa.ArrowInvalid as err:
            first_error = first_error or err
            if "columns" not in str(err):
                break  # not a ragged row: retrying with quoted line breaks will not help
    message = str(first_error)
    if "utf8" in message.lower():
        raise _NotUtf8Error(message)
    bad: list[Any] = []

    def record(row: Any) -> str:
        bad.append(row)
        return "skip"

    table = None
    with contextlib.suppress(pa.ArrowInvalid):
        options = _csv_options(names, delimiter=delimiter, threads=False, newlines=True, handler=record)
        table = pcsv.read_csv(_csv_input(source), **options)
    if bad:
        found = _ragged_records(source, delimiter, len(names))
        total = None if table is None else table.num_rows + len(bad)
        check_ragged(found, bad[0], len(bad), total, source, file, usable=ragged is not None and table is not None)
        assert ragged is not None and table is not None
        ragged.extend(found)
        return table
    raise DataError(f"cannot be read as CSV: {message}", file=file)


# --------------------------------------------------------------------------------------------
# Text encodings of CSV files
# --------------------------------------------------------------------------------------------

#: Bytes read per step when decoding a non-UTF-8 file (each step is cut back to a line end).
_DECODE_BLOCK: Final = 1 << 24
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_PYTHON_CODEC: Final[dict[str, str]] = {"utf-8": "utf-8", "gbk": "gbk", "gb18030": "gb18030"}
_DISPLAY: Final[dict[str, str]] = {"utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}


@dataclass(frozen=True, slots=True)
class _BadBytes:
    """The first bytes of a file that a codec cannot decode."""

    offset: int  # 0-based byte offset in the file
    line: int  # 1-based physical line
    data: bytes
    reason: str

    def describe(self) -> str:
        shown = " ".join(f"0x{b:02X}" for b in self.data[:4])
        return f"byte(s) {shown} at line {self.line} (byte offset {self.offset}): {self.reason}"


def _line_pieces(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """``(byte offset, line number, bytes)`` of consecutive pieces of the file, each ending at a line end.

    Cutting at ``\\n`` is safe for UTF-8, GBK and GB18030: byte 0x0A is never part of a
    multi-byte character in these encodings, so every piece decodes on its own and a decoding
    error is located exactly.
    """
    offset, line, carry = 0, 1, b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(_DECODE_BLOCK)
            if not block:
                if carry:
                    yield offset, line, carry
                return
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            piece, carry = data[:cut], data[cut:]
            yield offset, line, piece
            offset += len(piece)
            line += piece.count(b"\n")


def _bad_bytes(offset: int, line: int, piece: bytes, err: UnicodeDecodeError) -> _BadBytes:
    return _BadBytes(
        offset + err.start, line + piece.count(b"\n", 0, err.start), piece[err.start : err.end], err.reason
    )


def _first_undecodable(path: Path, encoding: str) -> _BadBytes | None:
    """The first undecodable bytes of the file in ``encoding``, or None when all of it decodes."""
    codec = _PYTHON_CODEC[encoding]
    for offset, line, piece in _line_pieces(path):
        try:
            piece.decode(codec)
        except UnicodeDecodeError as err:
            return _bad_bytes(offset, line, piece, err)
    return None


def _transcode_to_utf8(path: Path, encoding: str) -> tuple[pa.Buffer | None, _BadBytes | None, bool]:
    """Decode the file piece by piece and re-encode it as UTF-8 in an Arrow buffer.

    Returns ``(buffer, None, non_ascii)`` on success, ``(None, bad, False)`` at the first
    undecodable bytes. Only one piece (about 16 MB) is held as Python text at a time. A leading
    U+FEFF (a byte-order mark written in the source encoding) is dropped.
    """
    codec = _PYTHON_CODEC[encoding]
    sink = pa.BufferOutputStream()
    non_ascii = False
    for offset, line, piece in _line_pieces(path):
        try:
            text = piece.decode(codec)
        except UnicodeDecodeError as err:
            return None, _bad_bytes(offset, line, piece, err), False
        if offset == 0 and text.startswith("\ufeff"):
            text = text[1:]
        non_ascii = non_ascii or not piece.isascii()
        sink.write(text.encode("utf-8"))
    return sink.getvalue(), None, non_ascii


def _utf16_hint(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(2)
    if head in (b"\xff\xfe", b"\xfe\xff"):
        return " The file starts with a UTF-16 byte-order mark: save it as UTF-8 (or GB18030) text."
    return ""


def _read_csv(
    path: Path, encoding: str = "auto", delimiter: str = ",", ragged: list[RaggedRow] | None = None
) -> tuple[pa.Table, str, list[str]]:
    """Read a CSV file as all-string columns.

    Returns the table, the encoding it was decoded with (``utf-8``, ``gbk`` or ``gb18030``) and
    notes about the decoding. ``auto``: UTF-8 (BOM or not) when every byte decodes as UTF-8,
    else GB18030 when every byte decodes as GB18030, else a :class:`DataError`.

    UTF-8 files are parsed by Arrow straight from the file (Arrow validates every cell). Other
    files are decoded with Python's codec in line-aligned pieces and re-encoded to UTF-8 into an
    Arrow buffer, which Arrow then parses: one decoding pass that also locates the first bad byte
    exactly (``pyarrow.csv.ReadOptions(encoding=...)`` transcodes in blocks and reports a
    codec error with a position relative to its block, which cannot name the line).
    """
    file = str(path)
    encoding = _check_encoding(encoding)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ConfigError(f"CSV delimiter must be one character other than a quote or line break, got {delimiter!r}")
    bad_utf8: _BadBytes | None = None
    if encoding in ("auto", "utf-8"):
        try:
            with path.open("rb") as handle:
                names = _header_from_stream(handle, file, delimiter)
            return _parse_csv_bytes(path, names, file, delimiter, ragged), "utf-8", []
        except (UnicodeDecodeError, _NotUtf8Error):
            pass
        bad_utf8 = _first_undecodable(path, "utf-8")
        if bad_utf8 is None:  # Arrow refused but Python decodes: do not guess further
            raise DataError("cannot be read as UTF-8 CSV text", file=file)
        if encoding == "utf-8":
            if _first_undecodable(path, "gb18030") is None:
                hint = "it decodes as GB18030 (a Chinese core-system export?): declare encoding 'gb18030' or 'auto'"
            else:
                hint = "it is not GB18030 either; re-export the file as UTF-8" + _utf16_hint(path)
            raise DataError(
                f"is not UTF-8 text as declared: {bad_utf8.describe()}; {hint}",
                file=file,
                value=bad_utf8.data.hex(" "),
            )
        chosen = "gb18030"
    else:
        chosen = encoding
        with path.open("rb") as handle:
            if handle.read(3) == _UTF8_BOM:
                raise DataError(
                    f"starts with a UTF-8 byte-order mark but encoding {encoding!r} was declared; "
                    "declare encoding 'utf-8' or 'auto'",
                    file=file,
                )
    buffer, bad, non_ascii = _transcode_to_utf8(path, chosen)
    if bad is not None or buffer is None:
        assert bad is not None
        if encoding == "auto":
            message = (
                f"is neither UTF-8 ({bad_utf8.describe() if bad_utf8 else 'invalid'}) "
                f"nor GB18030 text ({bad.describe()}); "
                "re-export the file as UTF-8" + _utf16_hint(path)
            )
        else:
            if _first_undecodable(path, "utf-8") is None:
                hint = "the file is valid UTF-8: declare encoding 'utf-8' or 'auto'"
            elif chosen == "gbk" and _first_undecodable(path, "gb18030") is None:
                hint = "it decodes as GB18030 (a superset of GBK): declare encoding 'gb18030' or 'auto'"
            else:
                hint = "check the export's encoding (a truncated file?)" + _utf16_hint(path)
            message = f"is not {_DISPLAY[chosen]} text as declared: {bad.describe()}; {hint}"
        raise DataError(message, file=file, value=bad.data.hex(" "))
    notes = [f"decoded as {_DISPLAY[chosen]}" + (" (not valid UTF-8)" if encoding == "auto" else " (declared)")]
    if encoding != "auto" and non_ascii and _first_undecodable(path, "utf-8") is None:
        notes.append(
            f"declared {_DISPLAY[chosen]} but the file is also valid UTF-8 with non-ASCII text, which a "
            f"{_DISPLAY[chosen]} export rarely is; if Chinese text looks garbled declare 'utf-8' or 'auto'"
        )
    names = _header_from_stream(pa.BufferReader(buffer), file, delimiter)
    return _parse_csv_bytes(buffer, names, file, delimiter, ragged), chosen, notes


def _check_encoding(encoding: str) -> str:
    normal = encoding.strip().lower().replace("_", "-")
    normal = {"utf8": "utf-8", "utf-8-sig": "utf-8", "cp936": "gbk"}.get(normal, normal)
    if normal not in ENCODINGS:
        raise ConfigError(f"unknown CSV encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    return normal


def read_raw_csv(
    path: str | os.PathLike[str], *, encoding: str = "auto", delimiter: str = ","
) -> tuple[pa.Table, npt.NDArray[np.int64]]:
    """Read a CSV file as text: every column a string column, named by the header as written.

    For source extracts that a :class:`~openalm.data.mapping.TableMapping` turns into contract
    columns (:func:`openalm.data.mapping.apply_mapping`).

    Parameters
    ----------
    path:
        The CSV file.
    encoding:
        ``auto`` (default: UTF-8 if every byte decodes as UTF-8, else GB18030 if every byte
        decodes as GB18030), ``utf-8`` (a BOM is allowed), ``gbk`` or ``gb18030``.
    delimiter:
        One character (``,`` by default; ``|`` and tab are common in core-system extracts).

    Returns
    -------
    tuple
        The table (empty cells null; its schema metadata ``encoding`` holds the encoding used)
        and the 1-based data row number of each row (``1..n``: empty lines are skipped).

    Raises
    ------
    DataError
        The file does not exist, is empty, ragged, has duplicate header names, or cannot be
        decoded (naming the line and byte offset of the first undecodable bytes and the likely
        encoding).
    ConfigError
        Unknown encoding or invalid delimiter.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("does not exist or is not a file", file=str(path))
    table, used, _ = _read_csv(path, encoding, delimiter)
    table = table.replace_schema_metadata({"encoding": used})
    return table, np.arange(1, table.num_rows + 1, dtype=np.int64)


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


def read_table(
    path: str | os.PathLike[str],
    schema: TableSchema | str,
    *,
    mapping: TableMapping | None = None,
    encoding: str = "auto",
) -> ParsedTable:
    """Read and parse one table file (CSV, Parquet or Excel, by extension).

    Parameters
    ----------
    path:
        The file.
    schema:
        The contract table (or its name) the file holds.
    mapping:
        A source mapping applied between the raw read and parsing (source column names, codes,
        quote bases, date formats ... -> contract); its corrections and rejects are returned in
        ``corrections`` and ``mapping_rejects``. CSV files are then read with its delimiter.
    encoding:
        CSV text encoding: ``auto`` (UTF-8 if every byte decodes as UTF-8, else GB18030),
        ``utf-8`` (BOM or not), ``gbk``, ``gb18030``. ``auto`` defers to the mapping's
        ``encoding``. A file decoded as anything but UTF-8 gets a note.

    Returns
    -------
    ParsedTable
        Every row read, typed, with cell-level problems recorded (not raised).

    Raises
    ------
    SchemaError
        A required column is missing, or a Parquet column has an incompatible type.
    DataError
        The file is unreadable or malformed (naming the file, and the row when known), or cannot
        be decoded in the declared encoding (naming line and byte offset).
    ConfigError
        Unknown encoding, or ``encoding`` contradicts the mapping's.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    file = str(path)
    schema = TABLES[schema] if isinstance(schema, str) else schema
    if not path.is_file():
        raise DataError("does not exist or is not a file", file=file)
    chosen = _check_encoding(encoding)
    if mapping is not None and mapping.encoding != "auto":
        if chosen not in ("auto", mapping.encoding):
            raise ConfigError(
                f"{file}: encoding {encoding!r} contradicts the mapping's encoding {mapping.encoding!r}; give one"
            )
        chosen = mapping.encoding
    source_row = None
    used: str | None = None
    notes: list[str] = []
    ragged: list[RaggedRow] = []
    if suffix == ".csv":
        delimiter = "," if mapping is None else mapping.delimiter
        table, used, notes = _read_csv(path, chosen, delimiter, ragged)
        if ragged:
            skip = np.array([r.row for r in ragged], np.int64)
            every = np.arange(1, table.num_rows + len(ragged) + 1, dtype=np.int64)
            source_row = every[~np.isin(every, skip)]
    elif suffix == ".parquet":
        table = _read_parquet(path)
    elif suffix == ".xlsx":
        table, source_row = _read_xlsx(path)
    else:
        raise DataError(f"unsupported format; expected one of {', '.join(SUPPORTED_EXTENSIONS)}", file=file)
    if mapping is None:
        parsed = parse_arrow_table(table, schema, file=file, source_row=source_row)
    else:
        parsed = _parse_mapped(table, schema, mapping, file, source_row)
    parsed.encoding = used
    parsed.ragged = ragged
    parsed.notes[:0] = [f"{path.name}: {note}" for note in notes]
    return parsed


def _parse_mapped(
    table: pa.Table,
    schema: TableSchema,
    mapping: TableMapping,
    file: str,
    source_row: npt.NDArray[np.int64] | None,
) -> ParsedTable:
    """Apply ``mapping`` to raw columns, parse the result and attach the mapping's record."""
    mapped = apply_mapping(table, mapping, file=file, schema=schema, source_row=source_row)
    parsed = parse_arrow_table(mapped.table, schema, file=file, source_row=mapped.source_row)
    parsed.problems.extend(mapped.problems)
    for column, quoted in mapped.rejected_text.items():
        parsed.raw[column] = quoted
    parsed.corrections = list(mapped.corrections)
    parsed.mapping_rejects = list(mapped.rejects)
    parsed.notes.extend(f"{Path(file).name}: {warning}" for warning in mapped.warnings)
    return parsed


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
