"""Streaming load of a large positions file: bounded memory, the same outcome as the in-memory load.

``Workspace.load`` reads every table whole, which needs about 1.5 KB of memory per positions row
(15 GB for ten million). When the positions file is large -- more than
:data:`STREAM_THRESHOLD_ROWS` rows, estimated from the file size (CSV) or read from the footer
(Parquet), or whenever ``chunk_rows`` is given -- the load streams it instead:

1. the file is hashed and its encoding settled in one pass over the bytes (a GB18030 file is
   transcoded into the staging folder: :mod:`._chunks`);
2. pass 1 reads the key columns of every row and works out the rules that look across rows
   (duplicate keys, deals with one leg, schedule links: :mod:`._chunked_validation`);
3. pass 2 reads chunks of ``chunk_rows`` rows (:data:`CHUNK_ROWS`), parses and validates each with
   the companion tables (which are small and read whole) and the whole-table answers of pass 1,
   and writes its clean rows and its quarantine straight away as the next ``part-NNNNN.parquet``
   of the version's datasets (the layout and hash rule of
   :func:`~openalm.workspace._files.write_dataset`);
4. the companion tables are validated once, the per-chunk results are added up into the
   data-quality report's input (:class:`~._chunked_validation.StreamedValidation`), and the
   reconciliation reads back only the positions columns it needs.

Clean rows, quarantine rows, rejects (reasons, messages, order), counts, flags, warnings and the
data-quality report are those of the in-memory load of the same files. The parts differ (one per
chunk), so the content hash of a streamed version differs from the in-memory one's; loading the
same file the same way again gives the same hash.

Not streamed (read whole as before): Excel files, sources read through a mapping, FIRE JSON and
SQL sources.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from openalm.data.loaders import ParsedTable, parse_arrow_table, read_table
from openalm.data.schema import TABLES
from openalm.data.snapshot import file_info, snapshot_files
from openalm.data.validation import clean_table
from openalm.errors import ConfigError, DataError
from openalm.workspace._chunked_validation import (
    KEY_COLUMNS,
    POSITION_COMPANIONS,
    KeyScan,
    ValidationMerger,
    validate_chunk,
)
from openalm.workspace._chunks import Progress, estimate_rows, open_chunked
from openalm.workspace._files import write_parquet
from openalm.workspace.ingest import Ingested, WrittenTable, is_fire, quarantine_table, ragged_table

__all__ = ["CHUNK_ROWS", "STREAM_THRESHOLD_ROWS", "ingest_streaming", "stream_plan"]

#: Positions rows above which a load streams (estimated from the file size); ``OPENALM_STREAM_THRESHOLD_ROWS``.
STREAM_THRESHOLD_ROWS: Final = 2_000_000
#: Rows per chunk of a streaming load; ``OPENALM_STREAM_CHUNK_ROWS``.
CHUNK_ROWS: Final = 500_000
_SCHEDULES: Final = ("cash_flow_schedule", "rate_schedule")


def _setting(name: str, given: int | None, default: int) -> int:
    if given is not None:
        value = given
    else:
        text = os.environ.get(name)
        if text is None or not text.strip():
            return default
        try:
            value = int(text.replace("_", ""))
        except ValueError as err:
            raise ConfigError(f"{name}={text!r} is not a whole number of rows") from err
    if value < 1:
        raise ConfigError(f"{name.lower().removeprefix('openalm_')} must be at least 1 row, got {value}")
    return value


def stream_plan(
    source: Path, *, chunk_rows: int | None = None, threshold: int | None = None, mapping: Any = None
) -> int | None:
    """Rows per chunk when ``source`` (a snapshot folder) is to be streamed, else None.

    Streams when the positions file is CSV or Parquet, no mapping is used, and ``chunk_rows`` is
    given or the estimated row count exceeds ``threshold`` (default :data:`STREAM_THRESHOLD_ROWS`,
    or ``OPENALM_STREAM_THRESHOLD_ROWS``).
    """
    if mapping is not None or not source.is_dir() or is_fire(source):
        return None
    found = snapshot_files(source)
    path = found["positions"]
    if path.suffix.lower() not in (".csv", ".parquet"):
        return None
    rows = _setting("OPENALM_STREAM_CHUNK_ROWS", chunk_rows, CHUNK_ROWS)
    if chunk_rows is not None:
        return rows
    limit = _setting("OPENALM_STREAM_THRESHOLD_ROWS", threshold, STREAM_THRESHOLD_ROWS)
    return rows if estimate_rows(path) > limit else None


@dataclass
class _PartWriter:
    """Writes a dataset folder one ``part-NNNNN.parquet`` at a time (the :func:`write_dataset` layout)."""

    folder: Path
    digests: list[str] = field(default_factory=list)
    rows: int = 0
    schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if self.schema is None:
            self.schema = table.schema
        if table.num_rows == 0:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"part-{len(self.digests):05d}.parquet"
        self.digests.append(write_parquet(table, path))
        self.rows += table.num_rows

    def close(self, *, keep_empty: bool) -> str:
        """The content hash; an empty dataset gets one empty part when ``keep_empty`` (as write_dataset)."""
        if not self.digests and keep_empty and self.schema is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.digests.append(write_parquet(self.schema.empty_table(), self.folder / "part-00000.parquet"))
        return hashlib.sha256("".join(self.digests).encode()).hexdigest()


def _write_chunk(data: _PartWriter, clean: pa.Table, quarantine: _PartWriter, rejected: pa.Table | None) -> None:
    data.write(clean)
    if rejected is not None:
        quarantine.write(rejected)


def _schedule_ids(companions: dict[str, ParsedTable]) -> pa.Array | None:
    parts: list[pa.Array] = []
    for name in _SCHEDULES:
        parsed = companions.get(name)
        if parsed is None:
            continue
        if "position_id" in parsed.data.column_names:
            values = parsed.data.column("position_id")
            parts.extend(c.cast(pa.string()) for c in values.chunks)
    if not any(name in companions for name in _SCHEDULES):
        return None
    if not parts:
        return pa.array([], pa.string())
    return pc.unique(pc.drop_null(pa.chunked_array(parts, pa.string()).combine_chunks()))


def ingest_streaming(
    folder: Path,
    as_of: dt.date,
    stage: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    dq: Any = None,
    progress: Progress | None = None,
) -> Ingested:
    """Read, validate and write a snapshot folder whose positions file is streamed (module docstring).

    Parameters
    ----------
    folder:
        The snapshot folder (positions as CSV or Parquet).
    as_of:
        The as-of date.
    stage:
        A staging folder of the workspace; the positions datasets are written into it (see
        :attr:`Ingested.written`) and moved into place by the commit.
    chunk_rows:
        Positions rows per chunk.
    dq:
        The ``data_quality`` settings.
    progress:
        ``progress(stage, done, total)``: ``stream_scan`` (bytes), ``stream_keys`` and
        ``stream_rows`` (rows).

    Returns
    -------
    Ingested
        Companion tables in memory (``clean`` / ``quarantine``), positions as written datasets
        (``written``), rejects, counts, warnings and the merged validation outcome.
    """
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be at least 1, got {chunk_rows}")
    paths = snapshot_files(folder)
    path = paths["positions"]
    file = str(path)
    companions = {name: read_table(p, TABLES[name]) for name, p in paths.items() if name != "positions"}
    chunked = open_chunked(path, stage, progress)

    # pass 1: key columns -> whole-table answers
    scan = KeyScan(_schedule_ids(companions))
    estimate = max(estimate_rows(path), 1)
    keys = [c for c in KEY_COLUMNS if c in chunked.names]
    read = 0
    for raw, _ in chunked.chunks(chunk_rows, keys):
        scan.add(raw, file)
        read += raw.num_rows
        if progress is not None:
            progress("stream_keys", read, max(estimate, read))
    chunked.find_ragged(read)
    facts = scan.finish()
    if progress is not None:
        progress("stream_keys", read, max(read, 1))

    # pass 2: validate and write chunk by chunk
    merger = ValidationMerger(as_of, dq)
    needed: dict[str, ParsedTable] = {name: companions[name] for name in POSITION_COMPANIONS if name in companions}
    data = _PartWriter(stage / "data" / "positions")
    quarantine = _PartWriter(stage / "quarantine" / "positions")
    used = None if facts.schedule_ids is None else pa.array([False] * len(facts.schedule_ids))
    start = 0
    # Parquet encoding releases the GIL: chunk k is written while chunk k + 1 is read and validated
    # (one write in flight at a time, so at most two chunks are held)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="openalm-stream-write") as pool:
        pending: Future[None] | None = None
        for k, (raw, rows) in enumerate(chunked.chunks(chunk_rows)):
            parsed = parse_arrow_table(raw, TABLES["positions"], file=file, source_row=rows)
            del raw
            parsed.encoding = chunked.encoding
            if k == 0:
                parsed.ragged = list(chunked.ragged)
            outcome = validate_chunk(parsed, needed, as_of, facts, start, dq=dq)
            result = outcome.result
            clean = clean_table(result)
            rejected = (
                quarantine_table("positions", parsed, result.rejected, outcome.rejects, include_ragged=False)
                if result.rejected.any()
                else None
            )
            if used is not None and facts.schedule_ids is not None:
                hit = pc.is_in(facts.schedule_ids, value_set=pc.drop_null(clean.column("position_id")))
                used = pc.or_(used, pc.fill_null(hit, False))
            merger.add(outcome)
            start += parsed.num_rows
            del outcome, result, parsed
            if pending is not None:
                pending.result()
            pending = pool.submit(_write_chunk, data, clean, quarantine, rejected)
            del clean, rejected
            if progress is not None:
                progress("stream_rows", start, max(facts.rows, 1))
        if pending is not None:
            pending.result()
    if chunked.ragged:
        # ragged records follow the other quarantined rows, as in the in-memory load
        shape = parse_arrow_table(chunked.empty_table(), TABLES["positions"], file=file)
        quarantine.write(ragged_table("positions", shape, chunked.ragged))
    if start != facts.rows:
        raise DataError(
            f"changed while it was read: {facts.rows} rows in the first pass, {start} in the second; load it again",
            file=file,
        )

    # companions once, with the schedule links over every chunk; the merged outcome
    empty = parse_arrow_table(chunked.empty_table(), TABLES["positions"], file=file)
    empty.notes = [*(f"{path.name}: {n}" for n in chunked.notes), *merger.notes]
    empty.extra_columns = merger.extra_columns(chunked.names)
    used_ids = None
    if used is not None and facts.schedule_ids is not None:
        used_ids = facts.schedule_ids.filter(used)
    validation, tables = merger.finish(empty, companions, facts, used_ids)

    clean_tables: dict[str, pa.Table] = {}
    quarantined: dict[str, pa.Table] = {}
    for name, result in tables.items():
        clean_tables[name] = clean_table(result)
        if result.rejected.any():
            quarantined[name] = quarantine_table(name, result.parsed, result.rejected, validation.rejects)
    counts = {name: dict(c) for name, c in validation.counts.items()}
    for name, n in validation.flagged.items():
        counts[name]["flagged"] = n
    notes = [*empty.notes, *(n for p in companions.values() for n in p.notes)]
    files = {name: chunked.info if name == "positions" else file_info(p) for name, p in paths.items()}
    data_hash = data.close(keep_empty=True)
    q_hash = quarantine.close(keep_empty=False)
    written = WrittenTable(
        data.folder,
        data_hash,
        data.rows,
        quarantine.folder if quarantine.rows else None,
        q_hash if quarantine.rows else "",
        quarantine.rows,
    )
    return Ingested(
        as_of=as_of,
        clean=clean_tables,
        quarantine=quarantined,
        rejects=validation.rejects,
        counts=counts,
        files=files,
        warnings=[*notes, *validation.warnings],
        validation=validation,
        written={"positions": written},
    )
