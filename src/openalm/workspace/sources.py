"""Sources a workspace loads from: snapshot folders (CSV / Parquet / Excel), FIRE JSON, SQL databases.

``read_source`` turns a source into an :class:`~openalm.workspace.ingest.Ingested` (clean rows,
quarantine, counts, file hashes) plus a label for the catalogue and the hash of the mapping used:

* a folder holding ``positions.csv`` / ``.parquet`` / ``.xlsx`` and companion tables
  (interfaces.md), optionally read through a source mapping (``--mapping``);
* a folder (or one file) of FIRE JSON records (positions.md section 6);
* a YAML file describing a SQL source (:class:`openalm.data.sql.SqlSource`: ``url`` with the
  password as ``${ENV_VAR}``, ``tables: {contract table: table name or SELECT}``, ``params``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from openalm.data.snapshot import FileInfo
from openalm.errors import ConfigError, DataError
from openalm.workspace._chunks import Progress
from openalm.workspace.ingest import Ingested, ingest_folder, ingest_parsed

__all__ = ["read_source"]


def _read_sql(path: Path, as_of: dt.date, dq: Any) -> tuple[Ingested, str, str | None]:
    from openalm.data.sql import SqlSource, read_sql_source, redact_url

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = SqlSource.model_validate(raw.get("sql", raw) if isinstance(raw, dict) else raw)
    except (OSError, yaml.YAMLError, ValueError) as err:
        raise ConfigError(f"SQL source {path}: {err}") from err
    parsed = read_sql_source(source)
    label = redact_url(source.url)
    files: dict[str, FileInfo] = {name: {"path": f"{label}#{name}", "sha256": "", "bytes": 0} for name in parsed}
    text = path.read_bytes()
    notes = [n for p in parsed.values() for n in p.notes]
    ingested = ingest_parsed(parsed, as_of, files, warnings=notes, dq=dq)
    return ingested, f"sql:{label}", hashlib.sha256(text).hexdigest()


def read_source(
    source: str | os.PathLike[str],
    as_of: dt.date,
    *,
    config: Any = None,
    mapping: Any = None,
    stage: Path | None = None,
    chunk_rows: int | None = None,
    stream_threshold: int | None = None,
    progress: Progress | None = None,
) -> tuple[Ingested, str, str | None]:
    """Read and validate a source; returns (ingested, source label, mapping / source hash or None).

    With a staging folder ``stage``, a snapshot folder whose positions file is large (more than
    ``stream_threshold`` rows, estimated) or any positions file when ``chunk_rows`` is given is
    streamed (:mod:`.streaming`): its positions are written into ``stage`` as they are read.
    """
    dq = getattr(config, "data_quality", None) if config is not None else None
    path = Path(source)
    if stage is not None:
        from openalm.workspace.streaming import ingest_streaming, stream_plan

        rows = stream_plan(path, chunk_rows=chunk_rows, threshold=stream_threshold, mapping=mapping)
        if rows is not None:
            ingested = ingest_streaming(path, as_of, stage, chunk_rows=rows, dq=dq, progress=progress)
            return ingested, str(path.resolve()), None
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        return _read_sql(path, as_of, dq)
    if path.is_dir() or (path.is_file() and path.suffix.lower() == ".json"):
        spec = None
        digest = None
        if mapping is not None:
            from openalm.data.mapping import SourceMapping, load_mapping, mapping_hash

            spec = mapping if isinstance(mapping, SourceMapping) else load_mapping(mapping)
            digest = mapping_hash(spec)
        if progress is not None:
            progress("load", 0, 1)
        ingested = ingest_folder(path, as_of, dq=dq, mapping=spec)
        if progress is not None:
            progress("load", 1, 1)
        if spec is not None:
            from openalm.data.mapping import dump_mapping

            ingested.extra["mapping"] = {
                "name": spec.name,
                "version": spec.version,
                "sha256": digest,
                "content": dump_mapping(spec),
            }
        return ingested, str(path.resolve()), digest
    raise DataError(
        "is not a source OpenALM reads; expected a snapshot folder (positions.csv/.parquet/.xlsx), "
        "a folder or file of FIRE JSON records, or a SQL source .yaml",
        file=str(path),
    )
