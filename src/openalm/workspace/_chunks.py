"""Reading one large table file in row chunks (CSV or Parquet), with exact ``source_row`` numbers.

The streaming load (:mod:`openalm.workspace.streaming`) reads the positions file twice: once for
the key columns only, once whole; both passes cut the rows the same way. A chunk is an Arrow table
of the file's columns as read (text for CSV, typed for Parquet) plus the 1-based data row number
of each row, numbered exactly as :func:`openalm.data.loaders.read_table` numbers them:

* CSV: records after the header (a quoted value holding a line break stays one record); ragged
  records (more or fewer fields than the header) are left out of the chunks and reported as
  :class:`~openalm.data.loaders.RaggedRow`, the other rows keep their own numbers;
* Parquet: row index + 1.

Text encodings follow the ``auto`` rule of the loader: UTF-8 when every byte decodes as UTF-8,
else GB18030 when every byte decodes as GB18030 (the file is then transcoded, piece by piece,
into a UTF-8 file in the staging folder and that file is read); anything else is refused with the
loader's own error.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from openalm.data.loaders import RaggedRow, _header_from_stream, _header_names, check_ragged, read_table, scan_ragged
from openalm.data.snapshot import FileInfo
from openalm.errors import DataError

__all__ = ["ChunkedFile", "Progress", "estimate_rows", "open_chunked"]

#: ``progress(stage, done, total)``: rows or bytes done out of total.
Progress = Callable[[str, int, int], None]

_BLOCK: Final = 1 << 24
_CSV_BLOCK: Final = 1 << 22
_SAMPLE: Final = 1 << 20


def estimate_rows(path: Path) -> int:
    """Data rows of a table file: exact for Parquet, from the first MiB's line length for CSV."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowException, OSError):
            return 0
    if suffix != ".csv":
        return 0
    size = path.stat().st_size
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE)
    lines = sample.count(b"\n")
    if lines <= 1 or len(sample) >= size:
        return max(lines - 1, 0) if len(sample) >= size else 0
    return int(size / (len(sample) / lines)) - 1


def _scan(path: Path, progress: Progress | None, check_utf8: bool) -> tuple[FileInfo, bool]:
    """One pass over the bytes: SHA-256, size and whether every byte decodes as UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = check_utf8
    size = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            if utf8:
                try:
                    decoder.decode(block, final=False)
                except UnicodeDecodeError:
                    utf8 = False
            done += len(block)
            if progress is not None:
                progress("stream_scan", done, size)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if progress is not None:
        progress("stream_scan", size, max(size, 1))
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": done}, utf8


def _transcode(path: Path, target: Path, codec: str) -> bool:
    """Decode ``path`` with ``codec`` block by block into UTF-8 ``target``; False at undecodable bytes."""
    decoder = codecs.getincrementaldecoder(codec)()
    first = True
    with path.open("rb") as src, target.open("wb") as dst:
        while True:
            block = src.read(_BLOCK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return False
            if first and text:
                text = text.removeprefix("\ufeff")
                first = False
            dst.write(text.encode("utf-8"))
            if not block:
                return True


@dataclass
class ChunkedFile:
    """A table file opened for chunked reading (see the module docstring).

    Attributes
    ----------
    path:
        The file as given (named in rejects and errors).
    names:
        The header (column names as written).
    kind:
        ``csv`` or ``parquet``.
    info:
        Path, SHA-256 and size of the file (for the catalogue).
    encoding:
        ``utf-8`` or ``gb18030`` for CSV, None for Parquet.
    notes:
        Notes about the decoding, as :func:`~openalm.data.loaders.read_table` words them.
    ragged:
        Ragged CSV records (known after :meth:`find_ragged`).
    """

    path: Path
    names: list[str]
    kind: str
    info: FileInfo
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    ragged: list[RaggedRow] = field(default_factory=list)
    _read_path: Path | None = None
    _bad_rows: int = 0
    _first_bad: Any = None
    _ragged_shift: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    # ------------------------------------------------------------------ batches

    def _csv_batches(self, columns: Sequence[str] | None) -> Iterator[pa.RecordBatch]:
        bad: list[Any] = []

        def skip(row: Any) -> str:
            bad.append(row)
            return "skip"

        self._bad_rows = 0
        self._first_bad = None

        source = self._read_path or self.path
        reader = pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(
                column_names=self.names, skip_rows=1, use_threads=True, block_size=_CSV_BLOCK
            ),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(self.names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
                include_columns=list(columns) if columns is not None else None,
            ),
        )
        try:
            yield from reader
        except pa.ArrowInvalid as err:
            if "utf8" in str(err).lower():
                raise DataError("cannot be read as UTF-8 CSV text", file=str(self.path)) from err
            raise DataError(f"cannot be read as CSV: {err}", file=str(self.path)) from err
        self._bad_rows = len(bad)
        self._first_bad = bad[0] if bad else None

    def _parquet_batches(self, columns: Sequence[str] | None, size: int) -> Iterator[pa.RecordBatch]:
        try:
            handle = pq.ParquetFile(self.path)
            yield from handle.iter_batches(batch_size=size, columns=list(columns) if columns is not None else None)
        except (pa.ArrowException, OSError) as err:
            raise DataError(f"cannot be read as Parquet: {err}", file=str(self.path)) from err

    def chunks(
        self, chunk_rows: int, columns: Sequence[str] | None = None
    ) -> Iterator[tuple[pa.Table, npt.NDArray[np.int64]]]:
        """``(table, source_row)`` of consecutive chunks of ``chunk_rows`` usable rows (the last may be shorter).

        ``columns`` limits the columns read (all when None). Source rows are exact once
        :meth:`find_ragged` has run (before, ragged records are not counted).
        """
        batches = (
            self._csv_batches(columns) if self.kind == "csv" else self._parquet_batches(columns, min(chunk_rows, 65536))
        )
        pending: list[pa.RecordBatch] = []
        held = 0
        start = 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            pending.append(batch)
            held += batch.num_rows
            while held >= chunk_rows:
                table = pa.Table.from_batches(pending)
                chunk = table.slice(0, chunk_rows)
                rest = table.slice(chunk_rows)
                pending = rest.to_batches() if rest.num_rows else []
                held -= chunk_rows
                yield chunk, self._rows(start, chunk_rows)
                start += chunk_rows
        if held or start == 0:
            table = pa.Table.from_batches(pending) if pending else self._empty(columns)
            yield table, self._rows(start, table.num_rows)

    def _empty(self, columns: Sequence[str] | None) -> pa.Table:
        names = list(columns) if columns is not None else self.names
        if self.kind == "parquet":
            schema = pq.ParquetFile(self.path).schema_arrow
            return schema.empty_table().select(names)
        return pa.table({n: pa.array([], pa.string()) for n in names})

    def _rows(self, start: int, n: int) -> npt.NDArray[np.int64]:
        """Source rows of usable rows ``start .. start + n - 1`` (0-based), skipping ragged records."""
        index = np.arange(start, start + n, dtype=np.int64)
        if len(self._ragged_shift) == 0:
            return index + 1
        return index + 1 + np.searchsorted(self._ragged_shift, index, side="right")

    def empty_table(self) -> pa.Table:
        """A table with the file's columns and no rows (for the companion tables' validation)."""
        return self._empty(None)

    # ------------------------------------------------------------------ ragged records

    @property
    def bad_rows(self) -> int:
        """Records the last full CSV pass skipped as ragged."""
        return self._bad_rows

    def find_ragged(self, rows_read: int) -> None:
        """Locate the ragged records the last pass skipped (a slow scan, only when there are some).

        Raises :class:`DataError` as the loader does: a ragged *last* record in a file without a
        final line break means the file was cut off.
        """
        if self._bad_rows == 0:
            return
        source = self._read_path or self.path
        expected = len(self.names)
        with source.open("r", encoding="utf-8-sig", newline="") as handle:
            found = scan_ragged(handle, ",", expected)
        check_ragged(found, self._first_bad, self._bad_rows, rows_read + self._bad_rows, source, str(self.path))
        self.ragged = found
        rows = np.array([r.row for r in found], np.int64)
        # usable rows before the j-th ragged record: its row number minus the j earlier ragged ones, minus one
        self._ragged_shift = rows - np.arange(1, len(rows) + 1, dtype=np.int64)


def open_chunked(path: Path, stage: Path, progress: Progress | None = None) -> ChunkedFile:
    """Open a CSV or Parquet table file for chunked reading (hashing it and settling its encoding).

    A CSV file that is not UTF-8 but decodes as GB18030 is transcoded into ``stage``; a file that
    decodes as neither is handed to :func:`~openalm.data.loaders.read_table`, which raises the
    loader's error naming the first undecodable bytes.
    """
    file = str(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError("does not exist or is not a file", file=file)
    if suffix == ".parquet":
        info, _ = _scan(path, progress, check_utf8=False)
        try:
            names = _header_names(pq.ParquetFile(path).schema_arrow.names, file)
        except (pa.ArrowException, OSError) as err:
            raise DataError(f"cannot be read as Parquet: {err}", file=file) from err
        return ChunkedFile(path, names, "parquet", info)
    if suffix != ".csv":
        raise DataError("only CSV and Parquet files are read in chunks", file=file)
    info, utf8 = _scan(path, progress, check_utf8=True)
    if utf8:
        with path.open("rb") as handle:
            names = _header_from_stream(handle, file, ",")
        return ChunkedFile(path, names, "csv", info, "utf-8")
    target = stage / f"{path.stem}.utf8.csv"
    if not _transcode(path, target, "gb18030"):
        target.unlink(missing_ok=True)
        read_table(path, "positions")  # raises the loader's error (neither UTF-8 nor GB18030)
        raise DataError("cannot be decoded as UTF-8 or GB18030", file=file)  # pragma: no cover - read_table raised
    with target.open("rb") as handle:
        names = _header_from_stream(handle, file, ",")
    chunked = ChunkedFile(path, names, "csv", info, "gb18030", ["decoded as GB18030 (not valid UTF-8)"])
    chunked._read_path = target
    return chunked
