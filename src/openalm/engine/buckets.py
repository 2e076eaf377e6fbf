"""Time-bucket sets: the G21 liquidity ladder, the 19 IRRBB buckets, the monthly grid, user sets.

A bucket set is a list of upper bounds (tenors from the as-of date); bucket ``k`` holds the flows
on days ``d`` from the as-of date with ``start_k < d <= end_k`` and the last bucket is open-ended.
Every set also has the two undated buckets ``overdue`` and ``undated``.

Bounds in months and years are calendar arithmetic from the as-of date (month ends clipped:
31 Jan + 1M = 28/29 Feb), so the monthly bucket ``M001`` covers the days after the as-of date up to
and including as-of + 1 calendar month (interfaces.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from openalm.conventions import Tenor, TenorUnit, add_months, to_day
from openalm.errors import ConfigError
from openalm.i18n import label

__all__ = ["BUILTIN_SETS", "Bucket", "BucketSet", "BucketSets", "build_bucket_sets"]

MONTHLY_BUCKETS = 600

# (code, catalogue key, upper bound tenor or None for open-ended)
_G21 = (
    ("next_day", "bucket.g21.next_day", "1D"),
    ("2d_7d", "bucket.g21.2d_7d", "7D"),
    ("8d_30d", "bucket.g21.8d_30d", "30D"),
    ("31d_90d", "bucket.g21.31d_90d", "90D"),
    ("91d_1y", "bucket.g21.91d_1y", "1Y"),
    ("1y_5y", "bucket.g21.1y_5y", "5Y"),
    ("5y_10y", "bucket.g21.5y_10y", "10Y"),
    ("over_10y", "bucket.g21.over_10y", None),
)
# BCBS d368 Table 2 / 1104 G33 columns B-T (regulatory.md 3.3), midpoints in years
_IRRBB = (
    ("on", "1D", 0.0028),
    ("on_1m", "1M", 0.0417),
    ("1m_3m", "3M", 0.1667),
    ("3m_6m", "6M", 0.375),
    ("6m_9m", "9M", 0.625),
    ("9m_1y", "1Y", 0.875),
    ("1y_1.5y", "18M", 1.25),
    ("1.5y_2y", "2Y", 1.75),
    ("2y_3y", "3Y", 2.5),
    ("3y_4y", "4Y", 3.5),
    ("4y_5y", "5Y", 4.5),
    ("5y_6y", "6Y", 5.5),
    ("6y_7y", "7Y", 6.5),
    ("7y_8y", "8Y", 7.5),
    ("8y_9y", "9Y", 8.5),
    ("9y_10y", "10Y", 9.5),
    ("10y_15y", "15Y", 12.5),
    ("15y_20y", "20Y", 17.5),
    ("over_20y", None, 25.0),
)
BUILTIN_SETS = ("monthly", "g21", "irrbb")


@dataclass(frozen=True)
class Bucket:
    """One bucket: its code, labels and bounds in days from the as-of date ``(start, end]``."""

    code: str
    label_zh: str
    label_en: str
    start_day: int | None
    end_day: int | None  # None: open-ended (last bucket) or undated
    midpoint_years: float | None = None


@dataclass(frozen=True)
class BucketSet:
    """A named list of buckets; the dated ones first, then ``overdue`` and ``undated``."""

    name: str
    buckets: tuple[Bucket, ...]

    @property
    def dated(self) -> tuple[Bucket, ...]:
        return self.buckets[:-2]

    @property
    def upper_bounds(self) -> np.ndarray:
        """Upper bounds of the dated buckets except the open last one (days, ascending)."""
        return np.array([b.end_day for b in self.dated[:-1]], dtype=np.int64)

    def index_of_day(self, day_offset: np.ndarray) -> np.ndarray:
        """Bucket index of flows ``day_offset`` days after the as-of date (``>= 1``)."""
        return np.searchsorted(self.upper_bounds, day_offset, side="left")


@dataclass(frozen=True)
class BucketSets:
    """All bucket sets of a run plus the day -> bucket lookup table the kernel uses.

    ``lookup[s, d]`` is the global bucket index (into :attr:`all_buckets`) of a flow ``d`` days after
    the as-of date in set ``s``, for ``0 <= d <= max_day``; later days use the open bucket.
    ``overdue_index[s]`` and ``undated_index[s]`` are the global indices of the two undated buckets.
    """

    as_of: dt.date
    sets: tuple[BucketSet, ...]
    lookup: np.ndarray
    overdue_index: np.ndarray
    undated_index: np.ndarray
    offsets: np.ndarray  # global index of each set's first bucket

    @property
    def n_buckets(self) -> int:
        return int(self.offsets[-1])

    def all_buckets(self) -> list[tuple[BucketSet, Bucket]]:
        return [(s, b) for s in self.sets for b in s.buckets]


def _tenor_days(as_of: dt.date, text: str) -> int:
    tenor = Tenor.parse(text)
    a = to_day(as_of)
    if tenor.unit == TenorUnit.D:
        return int(tenor.count)
    if tenor.unit == TenorUnit.W:
        return 7 * int(tenor.count)
    if tenor.unit == TenorUnit.M:
        return int(add_months(a, int(tenor.count), False)) - a
    if tenor.unit == TenorUnit.Y:
        return int(add_months(a, 12 * int(tenor.count), False)) - a
    raise ConfigError(f"bucket bound {text!r}: expected a tenor like 1D, 3M, 1Y (not {tenor})")


def _tail(start: int | None) -> tuple[Bucket, Bucket]:
    return (
        Bucket("overdue", label("bucket.overdue", "zh"), label("bucket.overdue", "en"), None, None),
        Bucket("undated", label("bucket.undated", "zh"), label("bucket.undated", "en"), None, None),
    )


def _g21(as_of: dt.date) -> BucketSet:
    out: list[Bucket] = []
    start = 0
    for code, key, bound in _G21:
        end = _tenor_days(as_of, bound) if bound else None
        out.append(Bucket(code, label(key, "zh"), label(key, "en"), start, end))
        start = end if end is not None else start
    return BucketSet("g21", (*out, *_tail(start)))


def _irrbb(as_of: dt.date) -> BucketSet:
    out: list[Bucket] = []
    start = 0
    for code, bound, mid in _IRRBB:
        end = _tenor_days(as_of, bound) if bound else None
        key = f"bucket.irrbb.{code}"
        out.append(Bucket(code, label(key, "zh"), label(key, "en"), start, end, mid))
        start = end if end is not None else start
    return BucketSet("irrbb", (*out, *_tail(start)))


def _monthly(as_of: dt.date) -> BucketSet:
    a = to_day(as_of)
    out: list[Bucket] = []
    start = 0
    for k in range(1, MONTHLY_BUCKETS + 1):
        end = int(add_months(a, k, False)) - a
        out.append(
            Bucket(
                f"M{k:03d}",
                label("bucket.monthly", "zh", n=k),
                label("bucket.monthly", "en", n=k),
                start,
                end,
            )
        )
        start = end
    n = MONTHLY_BUCKETS
    out.append(
        Bucket(
            f"M{n}+",
            label("bucket.monthly.after", "zh", n=n),
            label("bucket.monthly.after", "en", n=n),
            start,
            None,
        )
    )
    return BucketSet("monthly", (*out, *_tail(start)))


def _user(name: str, bounds: Sequence[str], as_of: dt.date) -> BucketSet:
    if not bounds:
        raise ConfigError(f"bucket_sets.{name}: give at least one upper bound, e.g. [1D, 30D, 1Y]")
    days = [_tenor_days(as_of, str(b)) for b in bounds]
    if any(b <= a for a, b in itertools.pairwise(days)) or days[0] < 1:
        raise ConfigError(f"bucket_sets.{name}: upper bounds must increase strictly, got {list(bounds)}")
    out: list[Bucket] = []
    start = 0
    prev = None
    for text, end in zip(bounds, days, strict=True):
        if prev is None:
            zh, en = label("bucket.up_to", "zh", hi=text), label("bucket.up_to", "en", hi=text)
            code = f"<={text}"
        else:
            zh = label("bucket.range", "zh", lo=prev, hi=text)
            en = label("bucket.range", "en", lo=prev, hi=text)
            code = f"{prev}-{text}"
        out.append(Bucket(code, zh, en, start, end))
        start, prev = end, text
    out.append(
        Bucket(f">{prev}", label("bucket.over", "zh", lo=prev), label("bucket.over", "en", lo=prev), start, None)
    )
    return BucketSet(name, (*out, *_tail(start)))


def build_bucket_sets(as_of: dt.date, user_sets: Mapping[str, Sequence[str]] | None = None) -> BucketSets:
    """The built-in sets (``monthly``, ``g21``, ``irrbb``) plus the config's ``bucket_sets``."""
    sets = [_monthly(as_of), _g21(as_of), _irrbb(as_of)]
    for name, bounds in (user_sets or {}).items():
        sets.append(_user(name, bounds, as_of))
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    for i, s in enumerate(sets):
        offsets[i + 1] = offsets[i] + len(s.buckets)
    max_day = max(int(s.dated[-2].end_day or 1) for s in sets) + 1
    lookup = np.empty((len(sets), max_day + 1), dtype=np.int32)
    days = np.arange(max_day + 1)
    for i, s in enumerate(sets):
        lookup[i] = offsets[i] + s.index_of_day(np.maximum(days, 1))
    overdue = np.array([offsets[i] + len(s.buckets) - 2 for i, s in enumerate(sets)], dtype=np.int32)
    undated = overdue + 1
    return BucketSets(as_of, tuple(sets), lookup, overdue, undated, offsets)
