"""Tenors and payment frequencies (positions.md 2.7).

Grammar: ``<n><unit>`` with ``n >= 1`` and unit ``D`` (calendar days), ``W``, ``M``, ``Y``
(case-insensitive), e.g. ``1D``, ``3M``, ``18M``, ``1Y``. Special values: ``T`` = once, at
maturity (bullet, 利随本清); ``ON``, ``TN``, ``SN`` = 1D, 2D, 3D (curve and index tenors).

The engine stores tenors as two small-integer columns, a count (``int16``) and a unit code
(``int8``, :class:`TenorUnit`); a missing tenor is count 0, unit -1. ``T`` is count 1, unit 4.

Examples
--------
>>> Tenor.parse("3m")
Tenor(count=3, unit=<TenorUnit.M: 2>)
>>> str(Tenor.parse("12M")), Tenor.parse("1Y").months
('12M', 12)
>>> frequency_from_fire("semi_annually")
Tenor(count=6, unit=<TenorUnit.M: 2>)
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from openalm.conventions.dates import add_tenor
from openalm.errors import DataError

__all__ = [
    "MISSING_UNIT",
    "Tenor",
    "TenorUnit",
    "frequency_from_fire",
    "parse_tenors",
]

#: Unit code of a missing tenor (its count is 0).
MISSING_UNIT: Final = -1


class TenorUnit(enum.IntEnum):
    """Unit of a tenor: calendar days, weeks, months, years, or T (once, at maturity)."""

    D = 0
    W = 1
    M = 2
    Y = 3
    T = 4


_TENOR_RE: Final = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)
_SPECIAL: Final[dict[str, tuple[int, TenorUnit]]] = {
    "T": (1, TenorUnit.T),
    "ON": (1, TenorUnit.D),
    "TN": (2, TenorUnit.D),
    "SN": (3, TenorUnit.D),
}
_EXPECTED: Final = "expected <n><D|W|M|Y> with n >= 1 (e.g. 1D, 3M, 1Y), T, ON, TN or SN"
_INT16_MAX: Final = 32767


@dataclass(frozen=True, slots=True)
class Tenor:
    """A tenor: ``count`` units of :class:`TenorUnit` (``T`` has count 1).

    Parameters
    ----------
    count:
        Number of units, ``>= 1``.
    unit:
        The unit.
    """

    count: int
    unit: TenorUnit

    def __post_init__(self) -> None:
        unit = TenorUnit(self.unit)
        object.__setattr__(self, "unit", unit)
        if unit is TenorUnit.T:
            if self.count != 1:
                raise DataError("tenor T (at maturity) has count 1", value=self.count)
        elif not 1 <= int(self.count) <= _INT16_MAX:
            raise DataError(f"tenor count must be between 1 and {_INT16_MAX}", value=self.count)
        object.__setattr__(self, "count", int(self.count))

    @classmethod
    def parse(cls, text: str | Tenor) -> Tenor:
        """Parse ``<n><D|W|M|Y>``, ``T``, ``ON``, ``TN`` or ``SN`` (case-insensitive).

        Raises
        ------
        DataError
            With the value and the expected grammar.
        """
        if isinstance(text, Tenor):
            return text
        if not isinstance(text, str):
            raise DataError(_EXPECTED, value=text)
        key = text.strip().upper()
        special = _SPECIAL.get(key)
        if special is not None:
            return cls(special[0], special[1])
        match = _TENOR_RE.match(key)
        if match is None or int(match.group(1)) < 1 or int(match.group(1)) > _INT16_MAX:
            raise DataError(_EXPECTED, value=text)
        return cls(int(match.group(1)), TenorUnit[match.group(2).upper()])

    @property
    def months(self) -> int | None:
        """Length in calendar months for M and Y tenors; ``None`` otherwise."""
        if self.unit is TenorUnit.M:
            return self.count
        if self.unit is TenorUnit.Y:
            return 12 * self.count
        return None

    @property
    def approx_days(self) -> float:
        """Approximate length in days (month = 365.25 / 12 days, year = 365.25); ``inf`` for T."""
        if self.unit is TenorUnit.D:
            return float(self.count)
        if self.unit is TenorUnit.W:
            return 7.0 * self.count
        if self.unit is TenorUnit.M:
            return self.count * 365.25 / 12.0
        if self.unit is TenorUnit.Y:
            return self.count * 365.25
        return math.inf

    @property
    def per_year(self) -> float:
        """Periods per year: 12 / months for M and Y, 52 / weeks, 365 / days; 0 for T."""
        months = self.months
        if months is not None:
            return 12.0 / months
        if self.unit is TenorUnit.W:
            return 52.0 / self.count
        if self.unit is TenorUnit.D:
            return 365.0 / self.count
        return 0.0

    def add_to(self, day: int, eom: bool = False) -> int:
        """Day number of ``day`` plus this tenor (see ``dates.add_tenor``; T gives ``NO_DATE``)."""
        return int(add_tenor(int(day), self.count, int(self.unit), bool(eom)))

    def __str__(self) -> str:
        if self.unit is TenorUnit.T:
            return "T"
        return f"{self.count}{self.unit.name}"


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def parse_tenors(
    values: Iterable[Any] | npt.NDArray[Any],
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int8]]:
    """Vectorised :meth:`Tenor.parse`.

    Returns ``(counts int16, units int8)``. ``None``, NaN and empty strings are missing
    tenors: count 0, unit ``MISSING_UNIT`` (-1). Each distinct value is parsed once, so large
    columns with few distinct codes are fast.

    Raises
    ------
    DataError
        Naming the first bad value and its index.
    """
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()
    arr = np.asarray(values if isinstance(values, np.ndarray) else list(values)).ravel()
    if arr.dtype.kind == "U":
        text = arr
    else:
        obj = arr.astype(object)
        missing = np.fromiter((_is_missing(v) for v in obj), dtype=np.bool_, count=obj.shape[0])
        bad_type = np.fromiter(
            (not (m or isinstance(v, str)) for v, m in zip(obj, missing, strict=True)),
            dtype=np.bool_,
            count=obj.shape[0],
        )
        if bad_type.any():
            i = int(np.flatnonzero(bad_type)[0])
            raise DataError(f"bad tenor at index {i}: {_EXPECTED}", value=obj[i])
        obj[missing] = ""
        text = obj.astype(str)
    uniques, inverse = np.unique(text, return_inverse=True)
    inverse = inverse.reshape(-1)
    u_counts = np.zeros(uniques.shape[0], dtype=np.int16)
    u_units = np.full(uniques.shape[0], MISSING_UNIT, dtype=np.int8)
    first_bad: int | None = None
    for j, u in enumerate(uniques.tolist()):
        if _is_missing(u):
            continue
        try:
            t = Tenor.parse(u)
        except DataError:
            i = int(np.flatnonzero(inverse == j)[0])
            first_bad = i if first_bad is None else min(first_bad, i)
            continue
        u_counts[j] = t.count
        u_units[j] = int(t.unit)
    if first_bad is not None:
        bad = arr[first_bad]
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise DataError(f"bad tenor at index {first_bad}: {_EXPECTED}", value=bad)
    return u_counts[inverse], u_units[inverse]


_FIRE_FREQUENCIES: Final[dict[str, Tenor]] = {
    "daily": Tenor(1, TenorUnit.D),
    "weekly": Tenor(1, TenorUnit.W),
    "bi_weekly": Tenor(2, TenorUnit.W),
    "monthly": Tenor(1, TenorUnit.M),
    "bi_monthly": Tenor(2, TenorUnit.M),
    "quarterly": Tenor(3, TenorUnit.M),
    "semi_annually": Tenor(6, TenorUnit.M),
    "annually": Tenor(1, TenorUnit.Y),
    "sesquiennially": Tenor(18, TenorUnit.M),
    "biennially": Tenor(2, TenorUnit.Y),
    "at_maturity": Tenor(1, TenorUnit.T),
}


def frequency_from_fire(name: str) -> Tenor:
    """Tenor of a FIRE frequency name (positions.md 2.7), e.g. ``quarterly`` -> 3M.

    ``bi_monthly`` is every two months (2M), ``bi_weekly`` every two weeks (2W),
    ``sesquiennially`` every 18 months, ``at_maturity`` is T.

    Raises
    ------
    DataError
        For an unknown name, listing the known ones.
    """
    key = name.strip().lower() if isinstance(name, str) else None
    tenor = _FIRE_FREQUENCIES.get(key) if key is not None else None
    if tenor is None:
        raise DataError(
            "unknown FIRE frequency; expected one of " + ", ".join(sorted(_FIRE_FREQUENCIES)),
            value=name,
        )
    return tenor
