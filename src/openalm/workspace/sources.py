"""Sources a workspace loads from: snapshot folders (CSV / Parquet / Excel), FIRE JSON, SQL.

``read_source`` turns a source into an :class:`~openalm.workspace.ingest.Ingested` (clean rows,
quarantine, counts, file hashes) plus a label for the catalogue and the hash of the mapping used.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from openalm.errors import DataError
from openalm.workspace.ingest import Ingested, ingest_folder

__all__ = ["read_source"]


def read_source(
    source: str | os.PathLike[str], as_of: dt.date, *, config: Any = None, mapping: Any = None
) -> tuple[Ingested, str, str | None]:
    """Read and validate a source; returns (ingested, source label, mapping hash or None)."""
    dq = getattr(config, "data_quality", None) if config is not None else None
    path = Path(source)
    if path.is_dir():
        return ingest_folder(path, as_of, dq=dq), str(path.resolve()), None
    raise DataError("is not a snapshot folder; expected a folder holding positions.csv/.parquet/.xlsx", file=str(path))
