"""Writers of result tables: CSV (UTF-8, ``.`` decimals, no thousands separator) and Parquet, atomic.

Every file is written to a temporary name in the target folder and moved into place with
:func:`os.replace`, so a crash never leaves a half-written table where the last good one was.
The manifest is written last: a folder whose manifest is older than its tables was interrupted.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = ["atomic_write", "write_json", "write_result_table", "write_result_tables"]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_result_table(table: pa.Table, out_dir: Path, name: str) -> dict[str, Any]:
    """Write ``name.csv`` and ``name.parquet``; returns what the manifest records of them."""
    return write_result_tables({name: table}, out_dir)[name]


def write_result_tables(
    tables: Mapping[str, pa.Table], out_dir: Path, *, parquet_only: Collection[str] = ()
) -> dict[str, dict[str, Any]]:
    """Write every table as CSV and Parquet, the files in parallel (pyarrow releases the GIL).

    Tables named in ``parquet_only`` (per-contract drill-down tables of a million rows and more)
    are written as Parquet only."""
    out_dir = Path(out_dir)

    def csv(table: pa.Table) -> Callable[[Path], None]:
        options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
        return lambda tmp: pacsv.write_csv(table, tmp, write_options=options)

    def parquet(table: pa.Table) -> Callable[[Path], None]:
        return lambda tmp: pq.write_table(table, tmp, compression="zstd")

    jobs = [(out_dir / f"{name}.csv", csv(t)) for name, t in tables.items() if name not in parquet_only]
    jobs += [(out_dir / f"{name}.parquet", parquet(t)) for name, t in tables.items()]
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1, 4)) as pool:
        for fut in [pool.submit(atomic_write, path, write) for path, write in jobs]:
            fut.result()
    return {
        name: {
            "rows": t.num_rows,
            "columns": t.column_names,
            "files": [f"{name}.parquet"] if name in parquet_only else [f"{name}.csv", f"{name}.parquet"],
        }
        for name, t in tables.items()
    }


def write_json(data: Any, path: Path) -> None:
    """Write JSON (UTF-8, indented) atomically."""

    def dump(tmp: Path) -> None:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")

    atomic_write(Path(path), dump)
