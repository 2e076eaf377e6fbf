"""Reading the companion market tables (curves, fx_rates, index_fixings) into plain columns.

The loaders of ``openalm.data`` hand over a pyarrow Table or a polars DataFrame; the market layer
only needs a few columns of a small table, so it turns them into Python lists once, here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from openalm.errors import MarketDataError, SchemaError

_EPOCH = dt.date(1970, 1, 1)


def columns(table: Any, *, name: str) -> dict[str, list[Any]]:
    """Return the columns of ``table`` as ``{column: list}``.

    Accepts a pyarrow Table, a polars DataFrame or a mapping of column name to sequence (handy in
    tests). Column names are lower-cased and stripped.
    """
    if hasattr(table, "to_pydict"):  # pyarrow.Table
        raw: Mapping[str, Sequence[Any]] = table.to_pydict()
    elif hasattr(table, "to_dict") and hasattr(table, "schema") and hasattr(table, "height"):
        raw = table.to_dict(as_series=False)  # polars.DataFrame
    elif isinstance(table, Mapping):
        raw = table
    else:
        raise SchemaError(
            f"the {name} table must be a pyarrow Table, a polars DataFrame or a mapping of columns; "
            f"got {type(table).__name__}",
            file=name,
        )
    out: dict[str, list[Any]] = {}
    lengths = set()
    for key, values in raw.items():
        col = list(values)
        out[str(key).strip().lower()] = col
        lengths.add(len(col))
    if len(lengths) > 1:
        raise SchemaError(f"the columns of the {name} table have different lengths {sorted(lengths)}")
    return out


def require(cols: Mapping[str, list[Any]], required: Sequence[str], *, name: str) -> None:
    """Raise :class:`SchemaError` naming every required column the table lacks."""
    missing = [c for c in required if c not in cols]
    if missing:
        raise SchemaError(
            f"the {name} table lacks required column(s) {missing}; it has {sorted(cols)}",
            file=name,
        )


def n_rows(cols: Mapping[str, list[Any]]) -> int:
    """Number of rows of a column dictionary (0 for no columns)."""
    for values in cols.values():
        return len(values)
    return 0


def is_missing(value: object) -> bool:
    """True for None, NaN and blank strings."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def to_date(value: object) -> dt.date:
    """Convert a date cell (``datetime.date``, ``datetime``, ISO string, ``YYYYMMDD``) to a date.

    Raises ``ValueError`` when the value is not a date; callers turn that into a data error naming
    the row and column.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 8 and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return dt.date.fromisoformat(text[:10])
    raise ValueError(f"not a date: {value!r}")


def to_float(value: object) -> float:
    """Convert a numeric cell to float; ``ValueError`` for text, booleans, missing or non-finite."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    out = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    if not math.isfinite(out):
        raise ValueError(f"not a finite number: {value!r}")
    return out


def day_number(value: dt.date) -> int:
    """Days since 1970-01-01 (the engine's integer date, same as numpy ``datetime64[D]``)."""
    return (value - _EPOCH).days


def from_day_number(day: int) -> dt.date:
    """Inverse of :func:`day_number`."""
    return _EPOCH + dt.timedelta(days=int(day))


def as_of_filter(cols: Mapping[str, list[Any]], as_of: dt.date | None, *, name: str) -> tuple[list[int], int]:
    """Indices of the rows to keep and the number of rows dropped for another ``as_of_date``.

    Rows are dropped only when the table has an ``as_of_date`` column, ``as_of`` is given and the
    row's date is present and differs; a row whose date cannot be read is a data error.
    """
    n = n_rows(cols)
    if as_of is None or "as_of_date" not in cols:
        return list(range(n)), 0
    keep: list[int] = []
    for i, raw in enumerate(cols["as_of_date"]):
        if is_missing(raw):
            keep.append(i)
            continue
        try:
            day = to_date(raw)
        except (ValueError, TypeError) as err:
            raise MarketDataError(
                "as_of_date is not a date (expected YYYY-MM-DD)",
                file=name,
                row=i + 1,
                column="as_of_date",
                value=raw,
            ) from err
        if day == as_of:
            keep.append(i)
    return keep, n - len(keep)
