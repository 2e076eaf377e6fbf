"""QuantLib counterparts of OpenALM contracts: the yardstick of the reference tests and the benchmark.

QuantLib is a **test dependency only**: it is imported inside the functions that use it, so this
module imports without it (:func:`quantlib_available` says whether it is installed).

For one ``positions`` row (positions.md column names, Python values) :meth:`QuantLibPricer.build`
assembles the QuantLib equivalent of the engine's contractual projection (docs/design.md,
"Cash-flow semantics"):

* **Schedule.** ``ql.Schedule`` from the accrual start ``S`` to the maturity ``M``, unadjusted, on
  a ``NullCalendar``. Without ``next_interest_payment_date`` the rule is ``Backward`` (QuantLib's
  date k is ``M - k x tenor``, computed from ``M`` as the engine does); with the anchor ``N`` the
  rule is ``Forward`` with ``firstDate = N`` (``N + k x tenor`` from ``N``, then ``M``). ``S`` is
  ``last_interest_payment_date`` if given, else the origination ``O`` -- for an anchored row
  ``max(O, N - tenor)``, the engine's "roll date one tenor before the first future date, floored
  at O". Interest frequency ``T``: one period ``[S, M]`` (a ``ql.FixedRateCoupon`` whose ICMA
  reference period is ``[M - 1Y, M]``, the engine's choice; QuantLib then counts a longer period
  in yearly notional periods backward from ``M``).
* **Fixed rows:** ``ql.FixedRateLeg(schedule, day counter, notionals, [rate], Unadjusted)``; the
  leg hands QuantLib's ICMA day counter the reference period of every coupon (the coupon itself
  when regular, ``[end - tenor, end]`` for a short first stub, ``[start, start + tenor]`` for a
  final stub).
* **Floating rows:** ``ql.IborLeg`` on a ``ql.IborIndex`` (tenor = the index tenor, fixing days 0,
  ``NullCalendar``, unadjusted, the contract's day counter) whose forecasting handle is the index's
  projection curve. The coupons are QuantLib's *indexed* coupons (``withIndexedCoupons=True``): the
  rate of a coupon is the index forward over ``[fixing date, fixing date + index tenor]``,
  ``(DF(f) / DF(f + T) - 1) / tau(f, f + T)``, which is the engine's definition (design.md item 6).
  When the reset frequency and the index tenor equal the interest period the indexed and the par
  coupons coincide on regular periods. The current period (fixing date on or before the as-of
  date) is paid at ``current_rate``: its fixing is stored as a past fixing
  ``(current_rate - spread) / rate_multiplier``. Supported when the resets fall on the interest
  dates (reset frequency = interest frequency, ``next_reset_date`` the first future interest
  date), without lag, caps or floors.
* **Notionals** (one per coupon: the balance outstanding over its period): bullet, the balance
  ``B = principal_balance - overdue_principal``; linear, ``B`` less the principal paid before;
  annuity, the instalment of interfaces.md computed here independently of the engine,
  ``P = b i / (1 - (1 + i)^-n)`` re-derived at every principal date from the balance ``b`` and the
  ``n`` remaining payments with the periodic rate ``i = rate x tau_reg`` (:func:`regular_period_fraction`).
  QuantLib checks dates, interest and PV *given those notionals*; the annuity formula itself is
  checked against hand-computed cases (``tests/unit/engine``).
* **Principal** flows are ``ql.Redemption`` cash flows at the coupon end dates (bullet: at ``M``);
  a forward-starting row (``O > A``) draws ``B`` at ``O`` (``ql.SimpleCashFlow``, kind
  ``drawdown``, opposite direction).
* **Curves.** ``ql.ZeroCurve`` (``Linear`` on the zero rate, ``Actual365Fixed``, ``Continuous``)
  on the dates as-of + pillar days: exactly the engine's curve convention. A node at the as-of
  date with the first pillar's rate and one at the horizon with the last pillar's rate make it flat
  beyond the ends, as ours (QuantLib would otherwise extrapolate the last forward). The duration
  bumps are ``ql.ZeroSpreadedTermStructure`` with a continuous spread of -/+ 1bp on the same
  handle (the engine's ``z +- 0.0001``); a shaped or floored scenario (Basel) is a ``ZeroCurve``
  with one node per day, ``max(floor, z(t) + dz(t))``, exact at every whole-day date.
* **Valuation.** ``ql.CashFlows.npv(leg, curve, includeSettlementDateFlows=False, as-of, as-of)``:
  flows dated on or before the as-of date are excluded, as in the engine. Overdue principal is
  added at a discount factor of 1. Every scenario relinks the discount and forecasting handles
  (projection curves shocked too, so floating coupons are re-projected), as the engine does.

Not covered (:class:`UnsupportedContractError`): ``30_365`` (no QuantLib counterpart; tested by hand),
``bus_252``, business-day adjustment, non-maturity and schedule rows, interest in advance,
annuity_fixed_payment, floating annuities, principal frequencies different from the interest
frequency, rate caps/floors, rate steps, resets off the interest dates.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openalm.conventions import Tenor, TenorUnit, add_tenor, from_day, to_day
from openalm.market import Shock, ZeroCurve

__all__ = [
    "QL_DAY_COUNTS",
    "QlContract",
    "QlFlow",
    "QlPricing",
    "QuantLibPricer",
    "UnsupportedContractError",
    "quantlib_available",
    "regular_period_fraction",
]

#: Day counts with a QuantLib counterpart (``30_365`` and ``bus_252`` have none here).
QL_DAY_COUNTS: tuple[str, ...] = (
    "act_360",
    "act_365f",
    "act_act_isda",
    "act_act_icma",
    "30_360_us",
    "30e_360",
    "30e_360_isda",
)

_QL_EPOCH = 25569  # QuantLib (Excel) serial number of 1970-01-01
_BUMP = 1e-4
_FIXED_SCENARIOS = ("base", "bump_down_1bp", "bump_up_1bp")
_index_ids = itertools.count()


class UnsupportedContractError(ValueError):
    """The row uses a feature this QuantLib mapping does not cover (the message says which)."""


def quantlib_available() -> bool:
    """True when the ``QuantLib`` Python bindings can be imported."""
    return importlib.util.find_spec("QuantLib") is not None


def _ql() -> Any:
    return importlib.import_module("QuantLib")


def ql_date(d: dt.date | int) -> Any:
    """QuantLib date of a :class:`datetime.date` or an engine day number."""
    day = d if isinstance(d, int) else to_day(d)
    return _ql().Date(int(day) + _QL_EPOCH)


def py_date(d: Any) -> dt.date:
    """:class:`datetime.date` of a QuantLib date."""
    return from_day(int(d.serialNumber()) - _QL_EPOCH)


def regular_period_fraction(day_count: str, tenor: Tenor) -> float:
    """Day-count fraction of one regular period (the annuity's periodic-rate factor, interfaces.md).

    30/360 family: ``30 x months / 360``; ACT/360: ``months / 12 x 365 / 360``; 30/365:
    ``30 x months / 365``; ACT/365F and ACT/ACT: ``months / 12``. Day and week tenors:
    ``days / 360`` (ACT/360 and 30/360) or ``days / 365``.
    """
    thirty_360 = day_count in ("30_360_us", "30e_360", "30e_360_isda")
    if tenor.unit in (TenorUnit.M, TenorUnit.Y):
        months = tenor.count * (12 if tenor.unit == TenorUnit.Y else 1)
        if day_count == "act_360":
            return months / 12.0 * 365.0 / 360.0
        if day_count == "30_365":
            return 30.0 * months / 365.0
        if thirty_360:
            return 30.0 * months / 360.0
        return months / 12.0
    days = tenor.count * (7 if tenor.unit == TenorUnit.W else 1)
    return days / (360.0 if day_count == "act_360" or thirty_360 else 365.0)


def day_counter(code: str, maturity: dt.date | None = None) -> Any:
    """The QuantLib day counter of a positions.md day-count code.

    ``30e_360_isda`` needs the maturity (QuantLib's ``terminationDate``: February's last day is not
    moved to the 30th there).
    """
    ql = _ql()
    if code == "act_360":
        return ql.Actual360()
    if code == "act_365f":
        return ql.Actual365Fixed()
    if code == "act_act_isda":
        return ql.ActualActual(ql.ActualActual.ISDA)
    if code == "act_act_icma":
        return ql.ActualActual(ql.ActualActual.ISMA)
    if code == "30_360_us":
        return ql.Thirty360(ql.Thirty360.USA)
    if code == "30e_360":
        return ql.Thirty360(ql.Thirty360.European)
    if code == "30e_360_isda":
        if maturity is None:
            return ql.Thirty360(ql.Thirty360.ISDA)
        return ql.Thirty360(ql.Thirty360.ISDA, ql_date(maturity))
    raise UnsupportedContractError(f"day count {code!r} has no QuantLib counterpart here (supported: {QL_DAY_COUNTS})")


def _period(tenor: Tenor) -> Any:
    ql = _ql()
    unit = {TenorUnit.D: ql.Days, TenorUnit.W: ql.Weeks, TenorUnit.M: ql.Months, TenorUnit.Y: ql.Years}
    return ql.Period(int(tenor.count), unit[tenor.unit])


# ---------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------


def _pillar_days(curve: ZeroCurve) -> np.ndarray:
    return np.rint(np.asarray(curve.times) * 365.0).astype(np.int64)


def ql_zero_curve(curve: ZeroCurve, horizon_days: int) -> Any:
    """``ql.ZeroCurve`` of ``curve``'s pillars (unshocked), flat before the first and after the last.

    Nodes: the as-of date (first pillar's rate), the pillar dates as-of + round(t x 365) days, and
    as-of + ``horizon_days`` (last pillar's rate); linear zero, ACT/365F, continuous.
    """
    ql = _ql()
    a = to_day(curve.as_of)
    days = _pillar_days(curve)
    rates = np.asarray(curve.rates, dtype=np.float64)
    keep = days > 0
    days, rates = days[keep], rates[keep]
    node_days = [0, *days.tolist()]
    node_rates = [float(rates[0]), *rates.tolist()]
    if horizon_days > node_days[-1]:
        node_days.append(int(horizon_days))
        node_rates.append(float(rates[-1]))
    dates = [ql_date(a + d) for d in node_days]
    return ql.ZeroCurve(dates, node_rates, ql.Actual365Fixed(), ql.NullCalendar(), ql.Linear(), ql.Continuous)


def ql_daily_curve(curve: ZeroCurve, shock: Shock, horizon_days: int) -> Any:
    """``ql.ZeroCurve`` with a node every day: ``max(floor, z(t) + dz(t))``, ``t = days / 365``.

    ``z`` is the pillars' linear interpolation, flat beyond the ends (``numpy.interp``); ``dz(t) =
    parallel + short exp(-t/x) + long (1 - exp(-t/x))``. Linear interpolation between whole-day
    nodes is exact at every whole-day date, so shaped and floored scenarios are reproduced exactly.
    """
    ql = _ql()
    a = to_day(curve.as_of)
    days = np.arange(horizon_days + 1, dtype=np.int64)
    t = days / 365.0
    z = np.interp(t, np.asarray(curve.times), np.asarray(curve.rates))
    e = np.exp(-t / shock.x)
    z = z + shock.parallel + shock.short * e + shock.long * (1.0 - e)
    if shock.floor is not None:
        z = np.maximum(shock.floor, z)
    dates = [ql_date(a + int(d)) for d in days]
    return ql.ZeroCurve(dates, z.tolist(), ql.Actual365Fixed(), ql.NullCalendar(), ql.Linear(), ql.Continuous)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QlFlow:
    """One QuantLib cash flow of a contract: pay date, kind, amount (>= 0 as the engine's) and direction."""

    pay_date: dt.date
    kind: str
    amount: float
    direction: int

    @property
    def signed(self) -> float:
        return self.direction * self.amount


@dataclass
class QlContract:
    """A row built in QuantLib: its legs (future flows only are valued) and bookkeeping."""

    position_id: str
    currency: str
    direction: int
    leg: Any  # ql.Leg of every flow in the contract's direction (a drawdown is negative)
    kinds: list[str]
    overdue: float
    index: Any | None = None  # the floating leg's ql.IborIndex (its past fixing is cleared after pricing)
    forecast_curve: str | None = None  # curve id behind the index's forecasting handle


@dataclass(frozen=True)
class QlPricing:
    """QuantLib's view of one contract: future flows and PV per scenario (signed, bank's view)."""

    position_id: str
    flows: tuple[QlFlow, ...]
    overdue: float
    npv: dict[str, float] = field(default_factory=dict)

    @property
    def pv(self) -> float:
        return self.npv["base"]

    @property
    def effective_duration(self) -> float:
        """``(PV(-1bp) - PV(+1bp)) / (2 x 0.0001 x PV)``."""
        return (self.npv["bump_down_1bp"] - self.npv["bump_up_1bp"]) / (2.0 * _BUMP * self.npv["base"])


# ---------------------------------------------------------------------------------------------
# Row access
# ---------------------------------------------------------------------------------------------


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _get(row: Mapping[str, Any], key: str) -> Any:
    v = row.get(key)
    return None if _missing(v) else v


def _date(row: Mapping[str, Any], key: str) -> dt.date | None:
    v = _get(row, key)
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return from_day(to_day(v))


def _tenor(row: Mapping[str, Any], key: str) -> Tenor | None:
    v = _get(row, key)
    return None if v is None or str(v).strip() == "" else Tenor.parse(str(v))


def _float(row: Mapping[str, Any], key: str, default: float) -> float:
    v = _get(row, key)
    return default if v is None else float(v)


def _shift(d: dt.date, tenor: Tenor, k: int, eom: bool) -> dt.date:
    """``d + k x tenor`` (months clipped to month end; ``eom`` keeps month ends)."""
    return from_day(int(add_tenor(to_day(d), k * int(tenor.count), int(tenor.unit), eom)))


# ---------------------------------------------------------------------------------------------
# The pricer
# ---------------------------------------------------------------------------------------------


class QuantLibPricer:
    """QuantLib curves of one as-of date and the QuantLib leg of any supported positions row.

    Parameters
    ----------
    as_of:
        The as-of date (QuantLib's evaluation date is set to it on every call).
    discount_curves:
        Base discount curve per currency (engine :class:`ZeroCurve`; its pillars are used).
    projection_curves:
        Projection curve per rate index code (default: the currency's discount curve).
    index_tenors:
        Tenor per rate index code (``rate_indices.tenor``); default: the reset frequency.
    scenarios:
        Further scenarios, ``{name: {currency: Shock}}`` (e.g. the six Basel ones); ``base`` and the
        duration bumps ``bump_down_1bp`` / ``bump_up_1bp`` are always priced first.
    horizon_years:
        Curves are built out to as-of + this many years (flows must fall before).
    """

    def __init__(
        self,
        as_of: dt.date,
        *,
        discount_curves: Mapping[str, ZeroCurve],
        projection_curves: Mapping[str, ZeroCurve] | None = None,
        index_tenors: Mapping[str, str] | None = None,
        scenarios: Mapping[str, Mapping[str, Shock]] | None = None,
        horizon_years: int = 100,
    ) -> None:
        ql = _ql()
        self.as_of = as_of
        self._ql_as_of = ql_date(as_of)
        ql.Settings.instance().evaluationDate = self._ql_as_of
        self.horizon_days = int(horizon_years * 366)
        self.discount_curves = dict(discount_curves)
        self.projection_curves = dict(projection_curves or {})
        self.index_tenors = dict(index_tenors or {})
        extra = {k: v for k, v in (scenarios or {}).items() if k not in _FIXED_SCENARIOS}
        self.scenario_names: tuple[str, ...] = (*_FIXED_SCENARIOS, *extra)
        # per curve id: {scenario: term structure} and one handle relinked per scenario
        self._ccy_curve = {ccy: c.curve_id for ccy, c in self.discount_curves.items()}
        self._index_curve = {code: c.curve_id for code, c in self.projection_curves.items()}
        by_id = {c.curve_id: c for c in (*self.discount_curves.values(), *self.projection_curves.values())}
        self._curves: dict[str, dict[str, Any]] = {}
        self._handles: dict[str, Any] = {}
        for cid, curve in by_id.items():
            base = ql_zero_curve(curve, self.horizon_days)
            base_handle = ql.YieldTermStructureHandle(base)
            per: dict[str, Any] = {"base": base}
            for name, bump in (("bump_down_1bp", -_BUMP), ("bump_up_1bp", _BUMP)):
                per[name] = ql.ZeroSpreadedTermStructure(
                    base_handle, ql.QuoteHandle(ql.SimpleQuote(bump)), ql.Continuous, ql.NoFrequency,
                    ql.Actual365Fixed(),
                )  # fmt: skip
            for name, by_ccy in extra.items():
                shock = by_ccy.get(curve.currency)
                per[name] = base if shock is None or shock.is_none else ql_daily_curve(curve, shock, self.horizon_days)
            self._curves[cid] = per
            self._handles[cid] = ql.RelinkableYieldTermStructureHandle(base)

    # -- legs ----------------------------------------------------------------------------------

    def _schedule(self, start: dt.date, mat: dt.date, tenor: Tenor | None,
                  anchor: dt.date | None, eom: bool) -> Any:  # fmt: skip
        ql = _ql()
        if tenor is None or tenor.unit == TenorUnit.T:
            return ql.Schedule(ql.DateVector([ql_date(start), ql_date(mat)]))
        if anchor is not None and anchor < mat:
            first = ql_date(anchor) if anchor > start else ql.Date()
            return ql.Schedule(
                ql_date(start), ql_date(mat), _period(tenor), ql.NullCalendar(), ql.Unadjusted, ql.Unadjusted,
                ql.DateGeneration.Forward, eom, first,
            )  # fmt: skip
        return ql.Schedule(
            ql_date(start), ql_date(mat), _period(tenor), ql.NullCalendar(), ql.Unadjusted, ql.Unadjusted,
            ql.DateGeneration.Backward, eom,
        )  # fmt: skip

    def build(self, row: Mapping[str, Any], *, indexed_coupons: bool = True) -> QlContract:
        """The QuantLib leg of one row (see the module docstring for the mapping).

        ``indexed_coupons=False`` builds floating coupons as QuantLib's par coupons (forward over
        the accrual period) instead of the indexed ones the engine's definition corresponds to.

        Raises
        ------
        UnsupportedContractError
            The row uses a feature the mapping does not cover.
        """
        ql = _ql()
        A = self.as_of
        pid = str(row.get("position_id"))
        side = _get(row, "side")
        if side not in ("asset", "liability"):
            raise UnsupportedContractError(f"{pid}: side {side!r}")
        direction = 1 if side == "asset" else -1
        ccy = str(row["currency"])
        amort = _get(row, "amortisation_type") or "bullet"
        rate_type = _get(row, "rate_type") or "fixed"
        mat = _date(row, "maturity_date")
        orig = _date(row, "origination_date")
        if amort not in ("bullet", "linear", "annuity"):
            raise UnsupportedContractError(f"{pid}: amortisation_type {amort!r}")
        if rate_type not in ("fixed", "floating"):
            raise UnsupportedContractError(f"{pid}: rate_type {rate_type!r}")
        if mat is None or orig is None:
            raise UnsupportedContractError(f"{pid}: needs origination and maturity dates")
        if mat <= A:
            raise UnsupportedContractError(f"{pid}: matured")
        for col in ("interest_only_end_date", "amortisation_term_months", "rate_cap", "rate_floor",
                    "periodic_cap", "periodic_floor", "initial_rate_end_date"):  # fmt: skip
            if _get(row, col) is not None:
                raise UnsupportedContractError(f"{pid}: {col} is not mapped")
        if (_get(row, "interest_timing") or "arrears") == "advance":
            raise UnsupportedContractError(f"{pid}: interest in advance")
        if (_get(row, "accrual_status") or "") == "non_accrual":
            raise UnsupportedContractError(f"{pid}: non-accrual")
        if (_get(row, "business_day_convention") or "none") != "none" and _get(row, "holiday_calendar"):
            raise UnsupportedContractError(f"{pid}: business-day adjustment")
        if _get(row, "instrument_type") in ("derivative_leg",):
            raise UnsupportedContractError(f"{pid}: derivative legs")
        dc_code = _get(row, "day_count") or "act_365f"
        dc = day_counter(dc_code, mat)
        eom = bool(_get(row, "end_of_month_rule") or False)
        itenor = _tenor(row, "interest_payment_frequency")
        ptenor = _tenor(row, "principal_payment_frequency")
        anchor = _date(row, "next_interest_payment_date")
        if amort != "bullet":
            if itenor is None or itenor.unit == TenorUnit.T or ptenor != itenor:
                raise UnsupportedContractError(f"{pid}: amortising rows need principal frequency = interest frequency")
            if _date(row, "next_principal_payment_date") != anchor:
                raise UnsupportedContractError(f"{pid}: principal anchor differs from the interest anchor")
        balance = float(row["principal_balance"])
        overdue = _float(row, "overdue_principal", 0.0)
        b0 = balance - overdue
        fwd = orig > A
        rate = _float(row, "current_rate", 0.0)

        # accrual start of the first period (design.md item 3)
        start = _date(row, "last_interest_payment_date")
        if fwd or start is None:
            start = orig
            if anchor is not None and itenor is not None and itenor.unit != TenorUnit.T and not fwd:
                start = max(orig, _shift(anchor, itenor, -1, eom))
        schedule = self._schedule(start, mat, itenor, anchor, eom)
        dates = [py_date(d) for d in schedule.dates()]
        n_cpn = len(dates) - 1
        # principal paid at coupon ends after A (after O when forward-starting)
        lower = orig if fwd else A
        future = [k for k in range(n_cpn) if dates[k + 1] > lower]
        notionals = [b0] * n_cpn
        principal: list[tuple[dt.date, float]] = []
        if amort == "bullet":
            principal.append((mat, b0))
        else:
            assert itenor is not None
            i = rate * regular_period_fraction(dc_code, itenor)
            b = b0
            n = len(future)
            for j, k in enumerate(future):
                notionals[k] = b
                n_rem = n - j
                if j == n - 1:
                    amt = b
                elif amort == "linear" or abs(i) < 1e-15:
                    amt = b / n_rem
                else:
                    amt = b * i / (1.0 - (1.0 + i) ** (-n_rem)) - b * i
                amt = min(amt, b)
                principal.append((dates[k + 1], amt))
                b -= amt

        index = None
        curve_id = None
        once = itenor is None or itenor.unit == TenorUnit.T
        if rate_type == "fixed" and once:
            # one period [S, M]; its ICMA reference period is [M - 1Y, M] (the engine's choice for T;
            # QuantLib splits a longer period into yearly notional periods backward from M)
            ref_start = _shift(mat, Tenor(1, TenorUnit.Y), -1, False)
            interest = [
                ql.FixedRateCoupon(ql_date(mat), b0, rate, dc, ql_date(start), ql_date(mat), ql_date(ref_start),
                                   ql_date(mat))
            ]  # fmt: skip
        elif rate_type == "fixed":
            interest = ql.FixedRateLeg(schedule, dc, notionals, [rate], ql.Unadjusted)
        else:
            if amort == "annuity":
                raise UnsupportedContractError(f"{pid}: floating annuity (instalment depends on projected rates)")
            if once:
                raise UnsupportedContractError(f"{pid}: floating row paying interest once at maturity")
            code = _get(row, "rate_index")
            if code is None:
                raise UnsupportedContractError(f"{pid}: floating row without rate_index")
            rtenor = _tenor(row, "reset_frequency") or itenor
            if rtenor != itenor or int(_float(row, "reset_lag_days", 0.0)) != 0:
                raise UnsupportedContractError(f"{pid}: resets must fall on the interest dates without lag")
            # the engine resets at next_reset_date + k x reset tenor (while < M), QuantLib at every
            # coupon start: the mapping holds when the two date sets are the same
            next_reset = _date(row, "next_reset_date")
            starts = [d for d in dates[:-1] if d > A]
            resets: list[dt.date] = []
            if next_reset is not None:
                k = 0
                while (d := _shift(next_reset, rtenor, k, False)) < mat:
                    if d > A:
                        resets.append(d)
                    k += 1
            if resets != starts:
                raise UnsupportedContractError(
                    f"{pid}: the resets (next_reset_date + k x reset_frequency) are not the coupon starts"
                )
            idx_tenor = Tenor.parse(self.index_tenors.get(code) or str(rtenor))
            curve_id = self._index_curve.get(code) or self._ccy_curve[ccy]
            # a unique index name per contract: QuantLib keeps fixings per name, process-wide (the
            # currency object is a placeholder, it plays no part in the forecast)
            index = ql.IborIndex(
                f"OALM{next(_index_ids)}", _period(idx_tenor), 0, ql.USDCurrency(), ql.NullCalendar(), ql.Unadjusted,
                False, day_counter(dc_code, mat), self._handles[curve_id],
            )  # fmt: skip
            mult = _float(row, "rate_multiplier", 1.0)
            spread = _float(row, "spread", 0.0)
            # the current period's fixing (on or before A) is the contract's current rate
            for k in range(n_cpn):
                if dates[k] <= A < dates[k + 1]:
                    index.addFixing(ql_date(dates[k]), (rate - spread) / mult, True)
            interest = ql.IborLeg(
                notionals, schedule, index, dc, ql.Unadjusted, [0], [mult], [spread],
                withIndexedCoupons=indexed_coupons,
            )  # fmt: skip
        flows: list[Any] = []
        kinds: list[str] = []
        # amounts in the contract's own direction: the drawdown runs the other way (negative)
        if fwd:
            flows.append(ql.SimpleCashFlow(-b0, ql_date(orig)))
            kinds.append("drawdown")
        for cf in interest:
            flows.append(cf)
            kinds.append("interest")
        for d, amt in principal:
            if amt != 0.0:
                flows.append(ql.Redemption(amt, ql_date(d)))
                kinds.append("principal")
        return QlContract(pid, ccy, direction, ql.Leg(flows), kinds, overdue, index, curve_id)

    # -- valuation -----------------------------------------------------------------------------

    def _relink(self, contract: QlContract, scenario: str) -> None:
        """Point the contract's forecasting handle at the scenario's projection curve."""
        if contract.forecast_curve is not None:
            self._handles[contract.forecast_curve].linkTo(self._curves[contract.forecast_curve][scenario])

    def flows(self, contract: QlContract) -> tuple[QlFlow, ...]:
        """The contract's flows paid after the as-of date, sorted by date then kind, amounts >= 0."""
        order = {"drawdown": 0, "interest": 1, "principal": 2}
        out = []
        for cf, kind in zip(contract.leg, contract.kinds, strict=True):
            if cf.date() <= self._ql_as_of:
                continue
            amt = float(cf.amount())
            if amt == 0.0:
                continue
            sign = -contract.direction if kind == "drawdown" else contract.direction
            out.append(QlFlow(py_date(cf.date()), kind, abs(amt) if kind == "drawdown" else amt, sign))
        return tuple(sorted(out, key=lambda f: (f.pay_date, order[f.kind])))

    def npv(self, contract: QlContract, scenario: str = "base") -> float:
        """Signed PV (bank's view) of the contract under ``scenario`` (overdue at DF = 1)."""
        ql = _ql()
        ql.Settings.instance().evaluationDate = self._ql_as_of
        self._relink(contract, scenario)
        curve = self._curves[self._ccy_curve[contract.currency]][scenario]
        pv = ql.CashFlows.npv(contract.leg, curve, False, self._ql_as_of, self._ql_as_of)
        return contract.direction * (float(pv) + contract.overdue)

    def price(
        self, row: Mapping[str, Any], scenarios: Iterable[str] | None = None, *, indexed_coupons: bool = True
    ) -> QlPricing:
        """Build the row's leg, list its future flows and value it under every scenario (or ``scenarios``)."""
        contract = self.build(row, indexed_coupons=indexed_coupons)
        try:
            flows = self.flows(contract)
            names: Sequence[str] = tuple(scenarios) if scenarios is not None else self.scenario_names
            npv = {name: self.npv(contract, name) for name in names}
        finally:
            self._relink(contract, "base")
            if contract.index is not None:
                contract.index.clearFixings()
        return QlPricing(contract.position_id, flows, contract.overdue, npv)
