"""Zero curves, scenario shocks and the set of curves of a run.

Conventions (``shared/spec/interfaces.md``, ``docs/design.md``):

* a :class:`ZeroCurve` holds **continuously compounded** zero rates at pillar times
  ``t = (pillar_date - as_of) / 365`` (ACT/365F, years);
* the zero rate is **linear in t** between pillars and **flat** beyond the first and last pillar;
* ``DF(t) = exp(-z(t) * t)``;
* a scenario is a :class:`Shock`: ``dz(t) = parallel + short * exp(-t/x) + long * (1 - exp(-t/x))``
  and the shocked zero rate is ``max(floor, z(t) + dz(t))`` when a floor is set. Every Basel
  scenario, the +-1bp duration bumps and user parallel shifts have this form, so a shocked curve is
  exact at any t (no re-gridding).

Curves are immutable: :meth:`ZeroCurve.shocked` returns a new curve and leaves the original as it
was. The numba kernel gets the same curves as flat arrays from :func:`pack_curves` and
:func:`pack_shocks` and evaluates them with :mod:`openalm.market._kernel` (same formulas).
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from openalm.errors import ConfigError, MarketDataError, ModelError
from openalm.market import _table

__all__ = [
    "CURVE_TYPES",
    "DISCOUNT_CURVE_TYPES",
    "CurvePoints",
    "CurveSet",
    "Shock",
    "ZeroCurve",
    "curves_from_table",
    "pack_curves",
    "pack_shocks",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | Sequence[float] | npt.NDArray[Any]

#: ``curve_type`` values of the curves table (positions.md 5.2).
CURVE_TYPES = (
    "zero",
    "par",
    "discount_factor",
    "forward",
    "spread",
    "ftp_base",
    "ftp_liquidity_premium",
)
#: Curve types that give a discount curve directly (no bootstrapping).
DISCOUNT_CURVE_TYPES = ("zero", "discount_factor")

_TABLE = "curves"
_NO_DATE = -(2**31)  # same as openalm.conventions.dates.NO_DATE
_DAYS_PER_YEAR = 365.0
_COMPOUNDING_PERIODS = {"annual": 1, "semi_annual": 2, "quarterly": 4}
_COMPOUNDINGS = ("continuous", "annual", "semi_annual", "quarterly", "simple")
_COMPOUNDING_ALIASES = {
    "cont": "continuous",
    "continuously": "continuous",
    "semiannual": "semi_annual",
    "semi": "semi_annual",
    "yearly": "annual",
}
_DAY_COUNTS = ("act_365f", "act_360", "act_act_isda", "30_360_us", "30e_360", "30_365")
_DAY_COUNT_ALIASES = {
    "act_365": "act_365f",
    "act/365f": "act_365f",
    "act/365": "act_365f",
    "a365": "act_365f",
    "actual365fixed": "act_365f",
    "act/360": "act_360",
    "a360": "act_360",
    "actual360": "act_360",
    "act_act": "act_act_isda",
    "30/360": "30_360_us",
    "30e/360": "30e_360",
}
_INTERPOLATIONS = ("linear_zero",)
_TENOR_RE = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)
_SPECIAL_TENORS = {"ON": (1, "D"), "TN": (2, "D"), "SN": (3, "D")}


# ---------------------------------------------------------------------------------------------
# Shock
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shock:
    """A zero-rate scenario: ``dz(t) = parallel + short * exp(-t/x) + long * (1 - exp(-t/x))``.

    Parameters
    ----------
    parallel, short, long:
        Shock sizes as decimals (0.025 = 250 bp).
    x:
        Decay parameter in years (Basel: 4).
    floor:
        Lower bound of the shocked zero rate (decimal), or None for no floor. China floors shocked
        CNY rates at 0 (1104-2024 G33 instructions, regulatory.md 3.1).

    Examples
    --------
    >>> Shock.parallel_bp(100).delta(5.0)
    0.01
    """

    parallel: float = 0.0
    short: float = 0.0
    long: float = 0.0
    x: float = 4.0
    floor: float | None = None

    def __post_init__(self) -> None:
        for name in ("parallel", "short", "long", "x"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"Shock.{name} must be a finite number (decimal); got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.x <= 0.0:
            raise ConfigError(f"Shock.x (decay, years) must be > 0; got {self.x!r}")
        if self.floor is not None:
            fl = self.floor
            if isinstance(fl, bool) or not isinstance(fl, int | float) or not math.isfinite(fl):
                raise ConfigError(f"Shock.floor must be None or a finite decimal rate; got {fl!r}")
            object.__setattr__(self, "floor", float(fl))

    @classmethod
    def none(cls) -> Shock:
        """The zero shock (base scenario): no change, no floor."""
        return cls()

    @classmethod
    def parallel_bp(cls, bp: float) -> Shock:
        """A parallel shift of ``bp`` basis points (``Shock.parallel_bp(-1)`` = -0.0001)."""
        return cls(parallel=bp / 10_000.0)

    @classmethod
    def from_bp(
        cls,
        parallel: float = 0.0,
        short: float = 0.0,
        long: float = 0.0,
        *,
        x: float = 4.0,
        floor: float | None = None,
    ) -> Shock:
        """A shock from sizes in basis points (``floor`` stays a decimal rate)."""
        return cls(parallel / 10_000.0, short / 10_000.0, long / 10_000.0, x=x, floor=floor)

    @property
    def is_none(self) -> bool:
        """True when the shock changes nothing (all sizes zero and no floor)."""
        return self.parallel == 0.0 and self.short == 0.0 and self.long == 0.0 and self.floor is None

    @property
    def has_shape(self) -> bool:
        """True when the short or long component is non-zero (then ``x`` matters)."""
        return self.short != 0.0 or self.long != 0.0

    @overload
    def delta(self, t: float) -> float: ...
    @overload
    def delta(self, t: Sequence[float] | npt.NDArray[Any]) -> FloatArray: ...
    def delta(self, t: ArrayLike) -> float | FloatArray:
        """Shock add-on ``dz(t)`` in decimals, vectorised over ``t`` (years)."""
        tt = np.asarray(t, dtype=np.float64)
        return _out(self._delta(tt))

    def _delta(self, tt: FloatArray) -> FloatArray:
        e = np.exp(-tt / self.x)
        return np.asarray(self.parallel + self.short * e + self.long * (1.0 - e), dtype=np.float64)

    def _apply(self, z: FloatArray, tt: FloatArray) -> FloatArray:
        shocked = z + self._delta(tt)
        if self.floor is not None:
            shocked = np.maximum(self.floor, shocked)
        return shocked

    def combine(self, other: Shock) -> Shock:
        """The shock equivalent to applying ``self`` first and then ``other``.

        Sizes add up and ``other``'s floor applies. Two cases cannot be expressed as one shock and
        raise :class:`ConfigError`: ``self`` has a floor (``max(f, z + d1) + d2`` is not of the
        form), or both have a short/long component with different ``x``.
        """
        if other.is_none:
            return self
        if self.is_none:
            return other
        if self.floor is not None:
            raise ConfigError(
                f"cannot shock a floored scenario curve again ({self} then {other}): apply the floor "
                "last, i.e. put the floor on the second shock only"
            )
        if self.has_shape and other.has_shape and self.x != other.x:
            raise ConfigError(
                f"cannot combine shocks with different decay x ({self.x} and {other.x}); use the same x for both"
            )
        x = self.x if self.has_shape else other.x
        return Shock(
            parallel=self.parallel + other.parallel,
            short=self.short + other.short,
            long=self.long + other.long,
            x=x,
            floor=other.floor,
        )

    def as_row(self) -> tuple[float, float, float, float, float]:
        """``(parallel, short, long, x, floor)`` with NaN for no floor (one row of :func:`pack_shocks`)."""
        floor = math.nan if self.floor is None else self.floor
        return (self.parallel, self.short, self.long, self.x, floor)


# ---------------------------------------------------------------------------------------------
# ZeroCurve
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, slots=True)
class ZeroCurve:
    """An immutable zero curve, continuously compounded, ACT/365F time from ``as_of``.

    Parameters
    ----------
    curve_id, currency:
        Identity (``currency`` is the ISO code the curve discounts).
    as_of:
        The as-of date; ``t = (date - as_of) / 365``.
    times:
        Pillar times in years, strictly increasing (copied, read-only).
    rates:
        Continuous zero rates (decimals) at ``times`` (copied, read-only).
    shock:
        Scenario applied to the rates, or None. ``zero``, ``discount`` and ``forward`` include it;
        the pillars stay the unshocked ones.

    Examples
    --------
    >>> import datetime as dt
    >>> c = ZeroCurve("C", "CNY", dt.date(2024, 1, 31), [1.0, 2.0], [0.01, 0.02])
    >>> round(c.zero(1.5), 6), round(c.zero(0.5), 6), round(c.zero(30.0), 6)
    (0.015, 0.01, 0.02)
    """

    curve_id: str
    currency: str
    as_of: dt.date
    times: FloatArray
    rates: FloatArray
    shock: Shock | None = field(default=None)

    def __post_init__(self) -> None:
        as_of = self.as_of
        if isinstance(as_of, dt.datetime):
            as_of = as_of.date()
        elif isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        if not isinstance(as_of, dt.date):
            raise MarketDataError(f"curve {self.curve_id!r}: as_of must be a date; got {as_of!r}")
        object.__setattr__(self, "as_of", as_of)
        times = np.array(self.times, dtype=np.float64, copy=True).reshape(-1)
        rates = np.array(self.rates, dtype=np.float64, copy=True).reshape(-1)
        if times.size == 0:
            raise MarketDataError(f"curve {self.curve_id!r} has no pillars; at least one is needed")
        if times.shape != rates.shape:
            raise MarketDataError(f"curve {self.curve_id!r}: {times.size} pillar times but {rates.size} rates")
        if not (np.all(np.isfinite(times)) and np.all(np.isfinite(rates))):
            raise MarketDataError(f"curve {self.curve_id!r}: pillar times and rates must be finite")
        if times.size > 1 and not np.all(np.diff(times) > 0.0):
            raise MarketDataError(
                f"curve {self.curve_id!r}: pillar times must be strictly increasing; got {times.tolist()}"
            )
        times.flags.writeable = False
        rates.flags.writeable = False
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "rates", rates)
        if self.shock is not None and not isinstance(self.shock, Shock):
            raise MarketDataError(f"curve {self.curve_id!r}: shock must be a Shock or None")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def flat(cls, rate: float, as_of: dt.date, *, curve_id: str = "FLAT", currency: str = "XXX") -> ZeroCurve:
        """A flat continuous zero curve (one pillar at t = 1; flat everywhere)."""
        return cls(curve_id, currency, as_of, np.array([1.0]), np.array([float(rate)]))

    @classmethod
    def from_dates(
        cls,
        curve_id: str,
        currency: str,
        as_of: dt.date,
        dates: Sequence[dt.date],
        rates: Sequence[float] | npt.NDArray[Any],
    ) -> ZeroCurve:
        """A curve from pillar dates and continuous zero rates (``t = days / 365``)."""
        base = _table.day_number(as_of)
        times = np.array([(_table.day_number(d) - base) / _DAYS_PER_YEAR for d in dates])
        return cls(curve_id, currency, as_of, times, np.asarray(rates, dtype=np.float64))

    # -- scenarios ------------------------------------------------------------------------------

    def shocked(self, shock: Shock) -> ZeroCurve:
        """A new curve with ``shock`` applied on top of this curve's own shock (if any).

        Two shocks compose through :meth:`Shock.combine` (sizes add, the second's floor applies);
        a curve whose shock has a floor cannot be shocked again (:class:`ConfigError`).
        """
        if not isinstance(shock, Shock):
            raise ConfigError(f"shocked() expects a Shock; got {type(shock).__name__}")
        combined = shock if self.shock is None else self.shock.combine(shock)
        return replace(self, shock=combined)

    def parallel_shift(self, bp: float) -> ZeroCurve:
        """A new curve shifted in parallel by ``bp`` basis points."""
        return self.shocked(Shock.parallel_bp(bp))

    def unshocked(self) -> ZeroCurve:
        """The same pillars without any shock."""
        return self if self.shock is None else replace(self, shock=None)

    # -- evaluation -----------------------------------------------------------------------------

    @overload
    def zero(self, t: float) -> float: ...
    @overload
    def zero(self, t: Sequence[float] | npt.NDArray[Any]) -> FloatArray: ...
    def zero(self, t: ArrayLike) -> float | FloatArray:
        """Continuous zero rate at ``t`` years (shock and floor included), vectorised."""
        tt = np.asarray(t, dtype=np.float64)
        return _out(self._zero(tt))

    def _zero(self, tt: FloatArray) -> FloatArray:
        z = _interp_linear_flat(self.times, self.rates, tt)
        if self.shock is not None:
            z = self.shock._apply(z, tt)
        return z

    @overload
    def discount(self, t: float) -> float: ...
    @overload
    def discount(self, t: Sequence[float] | npt.NDArray[Any]) -> FloatArray: ...
    def discount(self, t: ArrayLike) -> float | FloatArray:
        """Discount factor ``exp(-z(t) * t)``, vectorised over ``t`` (years)."""
        tt = np.asarray(t, dtype=np.float64)
        return _out(self._discount(tt))

    def _discount(self, tt: FloatArray) -> FloatArray:
        return np.asarray(np.exp(-self._zero(tt) * tt), dtype=np.float64)

    @overload
    def forward(self, t1: float, t2: float) -> float: ...
    @overload
    def forward(self, t1: ArrayLike, t2: Sequence[float] | npt.NDArray[Any]) -> FloatArray: ...
    @overload
    def forward(self, t1: Sequence[float] | npt.NDArray[Any], t2: ArrayLike) -> FloatArray: ...
    def forward(self, t1: ArrayLike, t2: ArrayLike) -> float | FloatArray:
        """Simple forward rate over ``[t1, t2]`` with ACT/365F accrual:
        ``(DF(t1) / DF(t2) - 1) / (t2 - t1)``."""
        a = np.asarray(t1, dtype=np.float64)
        b = np.asarray(t2, dtype=np.float64)
        return self.forward_rate(a, b, b - a)

    @overload
    def forward_rate(self, t1: float, t2: float, tau: float) -> float: ...
    @overload
    def forward_rate(self, t1: ArrayLike, t2: ArrayLike, tau: ArrayLike) -> float | FloatArray: ...
    def forward_rate(self, t1: ArrayLike, t2: ArrayLike, tau: ArrayLike) -> float | FloatArray:
        """Simple forward rate over ``[t1, t2]`` for an accrual fraction ``tau`` (e.g. ACT/360 of the
        period): ``(DF(t1) / DF(t2) - 1) / tau``. Requires ``t2 > t1`` and ``tau > 0``."""
        a = np.asarray(t1, dtype=np.float64)
        b = np.asarray(t2, dtype=np.float64)
        tau_ = np.asarray(tau, dtype=np.float64)
        if np.any(b <= a) or np.any(tau_ <= 0.0):
            raise ModelError(
                f"curve {self.curve_id!r}: a forward rate needs t2 > t1 and tau > 0 "
                f"(got t1={a.tolist()}, t2={b.tolist()}, tau={tau_.tolist()})"
            )
        fwd = (self._discount(a) / self._discount(b) - 1.0) / tau_
        return _out(np.asarray(fwd, dtype=np.float64))

    @overload
    def time(self, date: dt.date | np.datetime64 | int | str) -> float: ...
    @overload
    def time(self, date: Sequence[Any] | npt.NDArray[Any]) -> FloatArray: ...
    def time(self, date: Any) -> float | FloatArray:
        """Year fraction ACT/365F from ``as_of`` to ``date``.

        ``date`` may be a ``datetime.date``, an ISO string, ``numpy.datetime64``, an integer day
        number (days since 1970-01-01) or an array/sequence of those. ``NO_DATE`` gives NaN.
        """
        days = _to_day_numbers(date)
        base = _table.day_number(self.as_of)
        t = (days - base) / _DAYS_PER_YEAR
        t = np.where(days == _NO_DATE, np.nan, t)
        return _out(np.asarray(t, dtype=np.float64))

    @overload
    def discount_date(self, date: dt.date | np.datetime64 | int | str) -> float: ...
    @overload
    def discount_date(self, date: Sequence[Any] | npt.NDArray[Any]) -> FloatArray: ...
    def discount_date(self, date: Any) -> float | FloatArray:
        """Discount factor at a date (see :meth:`time` for the accepted forms)."""
        tt = np.asarray(self.time(date), dtype=np.float64)
        return _out(self._discount(tt))

    def __repr__(self) -> str:
        return (
            f"ZeroCurve(curve_id={self.curve_id!r}, currency={self.currency!r}, "
            f"as_of={self.as_of.isoformat()}, pillars={self.times.size}, "
            f"t=[{self.times[0]:.4g}..{self.times[-1]:.4g}], shock={self.shock!r})"
        )


def _interp_linear_flat(times: FloatArray, rates: FloatArray, tt: FloatArray) -> FloatArray:
    """Linear interpolation in t, flat beyond the ends (same arithmetic as the numba kernel)."""
    n = times.size
    if n == 1:
        return np.where(np.isnan(tt), np.nan, rates[0] + 0.0 * tt)
    j = np.clip(np.searchsorted(times, tt, side="right") - 1, 0, n - 2)
    w = (tt - times[j]) / (times[j + 1] - times[j])
    z = rates[j] + (rates[j + 1] - rates[j]) * w
    z = np.where(tt <= times[0], rates[0], z)
    z = np.where(tt >= times[-1], rates[-1], z)
    return np.asarray(z, dtype=np.float64)


def _out(values: FloatArray) -> Any:
    """Return a Python float for 0-d results, the array otherwise."""
    if values.ndim == 0:
        return float(values)
    return values


def _to_day_numbers(date: Any) -> npt.NDArray[np.int64]:
    if isinstance(date, dt.datetime):
        date = date.date()
    if isinstance(date, dt.date):
        return np.asarray(_table.day_number(date), dtype=np.int64)
    if isinstance(date, str):
        return np.asarray(_table.day_number(dt.date.fromisoformat(date)), dtype=np.int64)
    arr = np.asarray(date)
    if arr.dtype.kind == "M":
        return np.asarray(arr.astype("datetime64[D]").astype(np.int64))
    if arr.dtype.kind in "iu":
        return np.asarray(arr.astype(np.int64))
    if arr.dtype.kind in "OU":
        flat = [_table.day_number(_table.to_date(v)) for v in arr.reshape(-1).tolist()]
        return np.asarray(flat, dtype=np.int64).reshape(arr.shape)
    raise ModelError(f"cannot read {date!r} as a date or day number")


# ---------------------------------------------------------------------------------------------
# Packing for the numba kernel
# ---------------------------------------------------------------------------------------------


def pack_curves(
    curves: Sequence[ZeroCurve],
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Pack the pillars of ``curves`` into flat arrays for :mod:`openalm.market._kernel`.

    Returns ``(offsets int64[n+1], times float64[], rates float64[])``; curve ``i`` owns
    ``times[offsets[i]:offsets[i+1]]``. Only the **unshocked** pillars are packed: pass
    ``pack_shocks([c.shock for c in curves])`` alongside to keep each curve's scenario.
    """
    offsets = np.zeros(len(curves) + 1, dtype=np.int64)
    for i, curve in enumerate(curves):
        offsets[i + 1] = offsets[i] + curve.times.size
    times = np.empty(int(offsets[-1]), dtype=np.float64)
    rates = np.empty(int(offsets[-1]), dtype=np.float64)
    for i, curve in enumerate(curves):
        times[offsets[i] : offsets[i + 1]] = curve.times
        rates[offsets[i] : offsets[i + 1]] = curve.rates
    return offsets, times, rates


def pack_shocks(shocks: Sequence[Shock | None]) -> FloatArray:
    """Pack shocks into ``float64[n, 5]``: ``parallel, short, long, x, floor`` (NaN = no floor).

    ``None`` packs as the zero shock ``(0, 0, 0, 4, NaN)``.
    """
    out = np.empty((len(shocks), 5), dtype=np.float64)
    for i, shock in enumerate(shocks):
        out[i] = (shock if shock is not None else Shock.none()).as_row()
    return out


# ---------------------------------------------------------------------------------------------
# Curve table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, slots=True)
class CurvePoints:
    """The points of one curve as read from the curves table (any ``curve_type``).

    Points are sorted by date. ``values`` are the table's values unchanged (rates as decimals in
    their own compounding and day count, or discount factors, spreads, ...); ``compounding`` and
    ``day_count`` hold each point's code (None where the row left it empty); ``days`` are the pillar
    day numbers and ``times`` the ACT/365F times from ``as_of``. Kept so that par, forward, spread
    and FTP curves stay available to later modules even though they are not discount curves.
    """

    curve_id: str
    currency: str
    curve_type: str
    as_of: dt.date
    tenors: tuple[str, ...]
    days: npt.NDArray[np.int64]
    times: FloatArray
    values: FloatArray
    compounding: tuple[str | None, ...]
    day_count: tuple[str | None, ...]
    interpolation: str | None

    def __post_init__(self) -> None:
        for name in ("days", "times", "values"):
            arr = np.array(getattr(self, name), copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)


class _UnknownCurveError(MarketDataError, KeyError):
    """A curve id that the set does not hold (also a ``KeyError`` for mapping semantics)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CurveSet(Mapping[str, ZeroCurve]):
    """The curves of a run: a read-only mapping ``curve_id -> ZeroCurve`` of discount curves.

    Discount curves are those of type ``zero`` or ``discount_factor``. Curves of other types
    (``par``, ``forward``, ``spread``, ``ftp_*``) are kept as :class:`CurvePoints`
    (:meth:`points`); asking for them as a discount curve (``curve_set[id]``) raises
    :class:`MarketDataError` -- bootstrapping par curves is not implemented yet (a later issue).

    Parameters
    ----------
    curves:
        Zero curves (iterable or mapping by id).
    points:
        Raw points of every curve read from the table, by id (optional).
    rows_ignored:
        Rows of the table dropped because their ``as_of_date`` differs from the run's as-of.
    """

    __slots__ = ("_curves", "_points", "rows_ignored")

    def __init__(
        self,
        curves: Iterable[ZeroCurve] | Mapping[str, ZeroCurve] = (),
        *,
        points: Mapping[str, CurvePoints] | None = None,
        rows_ignored: int = 0,
    ) -> None:
        items = curves.values() if isinstance(curves, Mapping) else curves
        self._curves: dict[str, ZeroCurve] = {}
        for curve in items:
            if curve.curve_id in self._curves:
                raise MarketDataError(f"curve {curve.curve_id!r} is given twice")
            self._curves[curve.curve_id] = curve
        self._points: dict[str, CurvePoints] = dict(points or {})
        self.rows_ignored = int(rows_ignored)

    @classmethod
    def from_table(cls, table: Any, as_of: dt.date | str) -> CurveSet:
        """Same as :func:`curves_from_table`."""
        return curves_from_table(table, as_of)

    # -- mapping --------------------------------------------------------------------------------

    def __getitem__(self, curve_id: str) -> ZeroCurve:
        curve = self._curves.get(curve_id)
        if curve is not None:
            return curve
        pts = self._points.get(curve_id)
        if pts is not None:
            how = (
                "bootstrapping par curves into zero curves is not implemented yet (a later issue)"
                if pts.curve_type == "par"
                else f"a {pts.curve_type} curve is not a discount curve"
            )
            raise MarketDataError(
                f"curve {curve_id!r} ({pts.currency}) has curve_type {pts.curve_type!r} and cannot be "
                f"used as a discount curve: {how}; supply a 'zero' or 'discount_factor' curve instead"
            )
        raise _UnknownCurveError(
            f"no curve {curve_id!r} in the curves table; available discount curves: "
            f"{sorted(self._curves)}; other curves: {sorted(self._points.keys() - self._curves.keys())}"
        )

    def __contains__(self, curve_id: object) -> bool:
        return curve_id in self._curves

    def __iter__(self) -> Iterator[str]:
        return iter(self._curves)

    def __len__(self) -> int:
        return len(self._curves)

    def __repr__(self) -> str:
        others = sorted(self._points.keys() - self._curves.keys())
        return f"CurveSet(discount={sorted(self._curves)}, other={others}, rows_ignored={self.rows_ignored})"

    # -- queries --------------------------------------------------------------------------------

    def points(self, curve_id: str) -> CurvePoints:
        """The raw points of any curve read from the table (any curve_type)."""
        try:
            return self._points[curve_id]
        except KeyError:
            raise _UnknownCurveError(
                f"no curve {curve_id!r} in the curves table; curves: {sorted(self._points)}"
            ) from None

    def curve_ids(self, *, include_other: bool = False) -> list[str]:
        """Ids of the discount curves (and of the other curves when ``include_other``)."""
        ids = set(self._curves)
        if include_other:
            ids |= set(self._points)
        return sorted(ids)

    def base_discount_curve(self, currency: str, configured: Mapping[str, str] | None = None) -> ZeroCurve:
        """The base discount curve of ``currency`` (interfaces.md).

        The curve ``configured[currency]`` names (config key ``discount_curves``), else the only
        discount curve (type ``zero`` or ``discount_factor``) of that currency; otherwise a
        :class:`MarketDataError` listing the candidates.
        """
        if configured and currency in configured:
            curve_id = configured[currency]
            if curve_id not in self._curves and curve_id not in self._points:
                raise MarketDataError(
                    f"the config names curve {curve_id!r} as discount curve of {currency} "
                    f"(discount_curves) but the curves table has no such curve; "
                    f"{currency} curves: {self._ids_of(currency)}"
                )
            curve = self[curve_id]
            if curve.currency != currency:
                raise MarketDataError(
                    f"the config names curve {curve_id!r} as discount curve of {currency} "
                    f"(discount_curves) but that curve is in {curve.currency}"
                )
            return curve
        candidates = [c for c in self._curves.values() if c.currency == currency]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise MarketDataError(
                f"no zero curve for currency {currency}; {currency} curves in the table: "
                f"{self._ids_of(currency) or 'none'}; add a 'zero' curve for {currency} or name one "
                f"in the config key discount_curves: {{{currency}: CURVE_ID}}"
            )
        raise MarketDataError(
            f"{len(candidates)} zero curves for currency {currency}: "
            f"{sorted(c.curve_id for c in candidates)}; name the base discount curve in the config key "
            f"discount_curves: {{{currency}: CURVE_ID}}"
        )

    def _ids_of(self, currency: str) -> list[str]:
        """``"id (curve_type)"`` of every curve of ``currency`` (for error messages)."""
        labels = {cid: "zero" for cid, c in self._curves.items() if c.currency == currency}
        labels.update({cid: p.curve_type for cid, p in self._points.items() if p.currency == currency})
        return sorted(f"{cid} ({kind})" for cid, kind in labels.items())

    def shocked(self, shocks: Mapping[str, Shock]) -> CurveSet:
        """A new set with every discount curve shocked by the shock of its currency.

        Currencies absent from ``shocks`` keep their curves unchanged.
        """
        curves = [c.shocked(shocks[c.currency]) if c.currency in shocks else c for c in self._curves.values()]
        return CurveSet(curves, points=self._points, rows_ignored=self.rows_ignored)


def curves_from_table(table: Any, as_of: dt.date | str) -> CurveSet:
    """Build the curves of ``as_of`` from the ``curves`` table (positions.md 5.2).

    Parameters
    ----------
    table:
        pyarrow Table or polars DataFrame with columns ``curve_id, currency, curve_type, tenor,
        value`` and optional ``tenor_date, compounding, day_count, interpolation, as_of_date``.
    as_of:
        The run's as-of date. When the table has ``as_of_date``, rows of other dates are ignored
        and counted in :attr:`CurveSet.rows_ignored`.

    Returns
    -------
    CurveSet
        A mapping ``curve_id -> ZeroCurve`` of the discount curves (types ``zero`` and
        ``discount_factor``); the raw points of every curve via :meth:`CurveSet.points`.

    Notes
    -----
    * Pillar date: ``tenor_date`` when given, else as-of + ``tenor`` in calendar days, weeks,
      months (month ends clipped: 31 Jan + 1M = 28/29 Feb) or years; ON, TN, SN = 1, 2, 3 days.
      ``t = days / 365``.
    * ``zero`` values are converted to continuous ACT/365F: with ``tau`` the pillar's year fraction
      in the row's ``day_count`` (default ``act_365f``) and ``compounding`` (default continuous):
      continuous ``z = r tau / t``; annual / semi_annual / quarterly (m per year)
      ``z = m ln(1 + r/m) tau / t``; simple ``z = ln(1 + r tau) / t``.
    * ``discount_factor``: ``z = -ln(DF) / t``.
    * A single point is a flat curve. Interpolation: only ``linear_zero`` (or empty).

    Raises
    ------
    SchemaError
        A required column is missing.
    MarketDataError
        Any bad row (duplicate pillar, non-numeric value, unknown code, pillar not after as-of, ...);
        all problems are reported together, each naming the curve, row, column and value.
    """
    as_of_date = _table.to_date(as_of)
    cols = _table.columns(table, name=_TABLE)
    _table.require(cols, ("curve_id", "currency", "curve_type", "tenor", "value"), name=_TABLE)
    keep, ignored = _table.as_of_filter(cols, as_of_date, name=_TABLE)
    problems: list[_Problem] = []

    def col(name: str, i: int) -> Any:
        values = cols.get(name)
        return None if values is None else values[i]

    by_curve: dict[str, list[_Row]] = {}
    for i in keep:
        row_no = i + 1
        raw_id = col("curve_id", i)
        if _table.is_missing(raw_id):
            problems.append(_Problem("curve_id is empty", None, row_no, "curve_id", raw_id))
            continue
        curve_id = str(raw_id).strip()
        parsed = _parse_row(curve_id, row_no, col, i, as_of_date, problems)
        if parsed is not None:
            by_curve.setdefault(curve_id, []).append(parsed)

    zero_curves: list[ZeroCurve] = []
    points: dict[str, CurvePoints] = {}
    for curve_id, rows in by_curve.items():
        built = _build_curve(curve_id, rows, as_of_date, problems)
        if built is not None:
            pts, zero = built
            points[curve_id] = pts
            if zero is not None:
                zero_curves.append(zero)
    _raise_problems(problems)
    return CurveSet(zero_curves, points=points, rows_ignored=ignored)


@dataclass(slots=True)
class _Problem:
    message: str
    curve_id: str | None
    row: int | None
    column: str | None
    value: object

    def text(self) -> str:
        where = []
        if self.curve_id is not None:
            where.append(f"curve {self.curve_id!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        return ", ".join(where) + ": " + self.message


@dataclass(slots=True)
class _Row:
    row: int
    currency: str
    curve_type: str
    tenor: str
    day: int
    value: float
    compounding: str | None
    day_count: str | None
    interpolation: str | None


def _raise_problems(problems: list[_Problem]) -> None:
    if not problems:
        return
    first = problems[0]
    if len(problems) == 1:
        prefix = f"curve {first.curve_id!r}: " if first.curve_id is not None else ""
        err = MarketDataError(
            prefix + first.message, file=_TABLE, row=first.row, column=first.column, value=first.value
        )
    else:
        listing = "\n".join(f"  - {p.text()}" for p in problems)
        err = MarketDataError(
            f"{len(problems)} problems in the curves table:\n{listing}",
            file=_TABLE,
            row=first.row,
            column=first.column,
            value=first.value,
        )
    err.problems = [p.text() for p in problems]  # type: ignore[attr-defined]
    raise err


def _code(raw: object, allowed: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    """Canonical code or None when missing; ``ValueError`` when unknown."""
    if _table.is_missing(raw):
        return None
    text = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
    text = aliases.get(text, text)
    if text not in allowed:
        raise ValueError(text)
    return text


def _parse_row(
    curve_id: str,
    row_no: int,
    col: Any,
    i: int,
    as_of: dt.date,
    problems: list[_Problem],
) -> _Row | None:
    ok = True

    def bad(message: str, column: str, value: object) -> None:
        nonlocal ok
        ok = False
        problems.append(_Problem(message, curve_id, row_no, column, value))

    currency_raw = col("currency", i)
    currency = "" if _table.is_missing(currency_raw) else str(currency_raw).strip().upper()
    if not currency:
        bad("currency is empty (expected an ISO code such as CNY)", "currency", currency_raw)

    type_raw = col("curve_type", i)
    curve_type = "" if _table.is_missing(type_raw) else str(type_raw).strip().lower()
    if curve_type not in CURVE_TYPES:
        bad(f"unknown curve_type (expected one of {list(CURVE_TYPES)})", "curve_type", type_raw)

    value_raw = col("value", i)
    value = math.nan
    try:
        value = _table.to_float(value_raw)
    except (ValueError, TypeError):
        bad("value is not a number", "value", value_raw)

    compounding = day_count = interpolation = None
    try:
        compounding = _code(col("compounding", i), _COMPOUNDINGS, _COMPOUNDING_ALIASES)
    except ValueError:
        bad(
            f"unknown compounding (expected one of {list(_COMPOUNDINGS)})",
            "compounding",
            col("compounding", i),
        )
    try:
        day_count = _code(col("day_count", i), _DAY_COUNTS, _DAY_COUNT_ALIASES)
    except ValueError:
        bad(
            f"day_count not supported for curve rates (supported: {list(_DAY_COUNTS)})",
            "day_count",
            col("day_count", i),
        )
    try:
        interpolation = _code(col("interpolation", i), _INTERPOLATIONS, {})
    except ValueError:
        bad(
            "interpolation not supported yet (only linear_zero: linear on the continuous zero rate)",
            "interpolation",
            col("interpolation", i),
        )

    tenor_raw = col("tenor", i)
    tenor = "" if _table.is_missing(tenor_raw) else str(tenor_raw).strip().upper()
    date_raw = col("tenor_date", i)
    pillar: dt.date | None = None
    if not _table.is_missing(date_raw):
        try:
            pillar = _table.to_date(date_raw)
        except (ValueError, TypeError):
            bad("tenor_date is not a date (expected YYYY-MM-DD)", "tenor_date", date_raw)
    elif not tenor:
        bad("tenor is empty and no tenor_date is given", "tenor", tenor_raw)
    else:
        try:
            pillar = _tenor_date(as_of, tenor)
        except ValueError:
            bad("tenor is not a tenor code (expected ON, TN, SN or <n>D/W/M/Y, e.g. 3M)", "tenor", tenor_raw)
    if pillar is not None and pillar <= as_of:
        bad(
            f"pillar date {pillar.isoformat()} is not after the as-of date {as_of.isoformat()}",
            "tenor_date" if not _table.is_missing(date_raw) else "tenor",
            date_raw if not _table.is_missing(date_raw) else tenor_raw,
        )
    if not ok or pillar is None:
        return None
    return _Row(
        row=row_no,
        currency=currency,
        curve_type=curve_type,
        tenor=tenor or pillar.isoformat(),
        day=_table.day_number(pillar),
        value=value,
        compounding=compounding,
        day_count=day_count,
        interpolation=interpolation,
    )


def _build_curve(
    curve_id: str, rows: list[_Row], as_of: dt.date, problems: list[_Problem]
) -> tuple[CurvePoints, ZeroCurve | None] | None:
    n_before = len(problems)
    first = rows[0]
    for name in ("currency", "curve_type", "interpolation"):
        for r in rows[1:]:
            if getattr(r, name) != getattr(first, name):
                problems.append(
                    _Problem(
                        f"{name} differs within the curve ({getattr(first, name)!r} on row {first.row}); "
                        "every row of a curve must have the same value",
                        curve_id,
                        r.row,
                        name,
                        getattr(r, name),
                    )
                )
                break
    rows = sorted(rows, key=lambda r: r.day)
    for prev, cur in itertools.pairwise(rows):
        if cur.day == prev.day:
            problems.append(
                _Problem(
                    f"duplicate pillar: tenor {cur.tenor!r} falls on the same date as {prev.tenor!r} "
                    f"(row {prev.row}), {_table.from_day_number(cur.day).isoformat()}",
                    curve_id,
                    cur.row,
                    "tenor",
                    cur.tenor,
                )
            )
    if len(problems) > n_before:
        return None

    base = _table.day_number(as_of)
    days = np.array([r.day for r in rows], dtype=np.int64)
    times = (days - base) / _DAYS_PER_YEAR
    values = np.array([r.value for r in rows], dtype=np.float64)
    pts = CurvePoints(
        curve_id=curve_id,
        currency=first.currency,
        curve_type=first.curve_type,
        as_of=as_of,
        tenors=tuple(r.tenor for r in rows),
        days=days,
        times=times,
        values=values,
        compounding=tuple(r.compounding for r in rows),
        day_count=tuple(r.day_count for r in rows),
        interpolation=first.interpolation,
    )
    if first.curve_type not in DISCOUNT_CURVE_TYPES:
        return pts, None
    rates = np.empty(len(rows), dtype=np.float64)
    for k, r in enumerate(rows):
        t = float(times[k])
        try:
            if first.curve_type == "discount_factor":
                if not r.value > 0.0:
                    raise ValueError("a discount factor must be > 0")
                rates[k] = -math.log(r.value) / t
            else:
                tau = _year_fraction(r.day_count or "act_365f", as_of, _table.from_day_number(r.day))
                rates[k] = _to_continuous(r.value, r.compounding or "continuous", tau, t)
        except ValueError as err:
            problems.append(_Problem(str(err), curve_id, r.row, "value", r.value))
    if len(problems) > n_before:
        return None
    return pts, ZeroCurve(curve_id, first.currency, as_of, times, rates)


def _to_continuous(rate: float, compounding: str, tau: float, t: float) -> float:
    """Continuous ACT/365F zero rate equal to ``rate`` quoted with ``compounding`` over ``tau`` years."""
    if compounding == "continuous":
        return rate * (tau / t)
    if compounding == "simple":
        growth = rate * tau
        if not growth > -1.0:
            raise ValueError(f"simple rate {rate} over {tau:.6g} years gives a non-positive discount factor")
        return math.log1p(growth) / t
    m = _COMPOUNDING_PERIODS[compounding]
    if not rate / m > -1.0:
        raise ValueError(f"{compounding} rate {rate} gives a non-positive discount factor")
    return m * math.log1p(rate / m) * (tau / t)


def _tenor_date(as_of: dt.date, tenor: str) -> dt.date:
    """as_of + tenor in calendar units (ON/TN/SN = 1/2/3 days); ``ValueError`` when not a tenor."""
    code = tenor.strip().upper()
    if code in _SPECIAL_TENORS:
        n, unit = _SPECIAL_TENORS[code]
    else:
        match = _TENOR_RE.match(code)
        if match is None or int(match.group(1)) < 1:
            raise ValueError(tenor)
        n, unit = int(match.group(1)), match.group(2).upper()
    if unit == "D":
        return as_of + dt.timedelta(days=n)
    if unit == "W":
        return as_of + dt.timedelta(weeks=n)
    months = n if unit == "M" else 12 * n
    return _add_months(as_of, months)


def _add_months(d: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic with month-end clipping (31 Jan + 1M = 28/29 Feb)."""
    year, month0 = divmod(d.month - 1 + months, 12)
    year += d.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(d.day, last))


def _year_fraction(day_count: str, start: dt.date, end: dt.date) -> float:
    """Year fraction of the supported curve day counts (positions.md 2.6)."""
    days = (end - start).days
    if day_count == "act_365f":
        return days / 365.0
    if day_count == "act_360":
        return days / 360.0
    if day_count == "act_act_isda":
        total = 0.0
        cur = start
        while cur.year < end.year:
            nxt = dt.date(cur.year + 1, 1, 1)
            total += (nxt - cur).days / (366.0 if calendar.isleap(cur.year) else 365.0)
            cur = nxt
        return total + (end - cur).days / (366.0 if calendar.isleap(cur.year) else 365.0)
    d1, d2 = start.day, end.day
    if day_count == "30e_360":
        d1, d2 = min(d1, 30), min(d2, 30)
    else:  # 30_360_us (bond basis) and 30_365
        d1 = min(d1, 30)
        if d2 == 31 and d1 == 30:
            d2 = 30
    num = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    return num / (365.0 if day_count == "30_365" else 360.0)
