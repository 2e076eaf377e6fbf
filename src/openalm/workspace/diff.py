"""What changed between two snapshot versions: rows added, removed, and every changed cell."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from openalm.data.loaders import SOURCE_ROW
from openalm.errors import OpenALMError
from openalm.workspace.store import SnapshotVersion, Workspace, table_key

__all__ = ["SnapshotDiff", "diff_versions"]

_SEP = "|"


@dataclass(frozen=True)
class SnapshotDiff:
    """Differences of one table between two versions.

    ``changes`` has one row per added row, removed row and changed cell:
    ``change`` (added, removed, changed), ``key``, ``column`` (changed cells), ``old``, ``new``
    (values as text).
    """

    table: str
    old: SnapshotVersion
    new: SnapshotVersion
    added: int
    removed: int
    changed_rows: int
    changed_cells: int
    changes: pa.Table


def _frame(ws: Workspace, snap: SnapshotVersion, table: str, key: tuple[str, ...]) -> pl.DataFrame:
    data = ws.read_table(snap, table)
    if data is None:
        raise OpenALMError(f"version {snap.label} has no {table} table")
    if SOURCE_ROW in data.column_names:
        data = data.drop_columns([SOURCE_ROW])
    frame = pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    parts = [frame.get_column(k).cast(pl.Utf8).fill_null("") for k in key]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + _SEP + p
    return frame.with_columns(joined.alias("_key"))


def _text(series: pl.Series) -> pl.Series:
    if series.dtype in (pl.Float64, pl.Float32):
        return pl.Series(series.name, [None if v is None else repr(v) for v in series.to_list()], dtype=pl.Utf8)
    return series.cast(pl.Utf8)


def diff_versions(ws: Workspace, old: SnapshotVersion, new: SnapshotVersion, table: str = "positions") -> SnapshotDiff:
    """Compare ``table`` of two versions by key (vectorised; a million rows in about a second)."""
    key = table_key(table)
    a = _frame(ws, old, table, key)
    b = _frame(ws, new, table, key)
    added = b.join(a.select("_key"), on="_key", how="anti")
    removed = a.join(b.select("_key"), on="_key", how="anti")
    both = a.join(b, on="_key", how="inner", suffix="__new")
    pieces: list[pl.DataFrame] = []
    if added.height:
        pieces.append(
            pl.DataFrame(
                {
                    "change": ["added"] * added.height,
                    "key": added.get_column("_key"),
                    "column": [None] * added.height,
                    "old": [None] * added.height,
                    "new": ["row added"] * added.height,
                },
                schema={"change": pl.Utf8, "key": pl.Utf8, "column": pl.Utf8, "old": pl.Utf8, "new": pl.Utf8},
            )
        )
    if removed.height:
        pieces.append(
            pl.DataFrame(
                {
                    "change": ["removed"] * removed.height,
                    "key": removed.get_column("_key"),
                    "column": [None] * removed.height,
                    "old": ["row removed"] * removed.height,
                    "new": [None] * removed.height,
                },
                schema={"change": pl.Utf8, "key": pl.Utf8, "column": pl.Utf8, "old": pl.Utf8, "new": pl.Utf8},
            )
        )
    changed_keys: set[str] = set()
    cells = 0
    for col in a.columns:
        if col == "_key" or col in key or f"{col}__new" not in both.columns:
            continue
        x = both.get_column(col)
        y = both.get_column(f"{col}__new")
        if x.dtype != y.dtype:
            y = y.cast(x.dtype, strict=False)
        mask = x.ne_missing(y)
        if not mask.any():
            continue
        sel = both.filter(mask)
        n = sel.height
        cells += n
        keys = sel.get_column("_key")
        changed_keys.update(keys.to_list())
        pieces.append(
            pl.DataFrame(
                {
                    "change": ["changed"] * n,
                    "key": keys,
                    "column": [col] * n,
                    "old": _text(sel.get_column(col)),
                    "new": _text(sel.get_column(f"{col}__new")),
                },
                schema={"change": pl.Utf8, "key": pl.Utf8, "column": pl.Utf8, "old": pl.Utf8, "new": pl.Utf8},
            )
        )
    if pieces:
        changes = pl.concat(pieces).sort(["change", "key", "column"], nulls_last=True).to_arrow()
    else:
        changes = pa.table({c: pa.array([], pa.string()) for c in ("change", "key", "column", "old", "new")})
    return SnapshotDiff(table, old, new, added.height, removed.height, len(changed_keys), cells, changes)
