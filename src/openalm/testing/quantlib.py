"""QuantLib counterparts of OpenALM contracts: the yardstick of the reference tests and the benchmark.

QuantLib is a **test dependency only**: it is imported inside the functions that use it, so this
module imports without it (:func:`quantlib_available` says whether it is installed).

For one ``positions`` row (positions.md column names, Python values) :meth:`QuantLibPricer.build`
assembles the QuantLib equivalent of the engine's contractual projection (docs/design.md,
"Cash-flow semantics"):

* **Schedule.** ``ql.Schedule`` from the accrual start ``S`` to the maturity ``M``, unadjusted.
  Without ``next_interest_payment_date`` the rule is ``Backward`` (QuantLib's date k is
  ``M - k x tenor``, computed from ``M`` as the engine does); with the anchor ``N`` the rule is
  ``Forward`` with ``firstDate = N`` (``N + k x tenor`` from ``N``, then ``M``). ``S`` is
  ``last_interest_payment_date`` if given, else the roll date one tenor before the first future
  date floored at the origination ``O`` (``O`` itself for a forward-starting row): the engine's
  rule, and QuantLib builds no coupon that is already paid. Interest frequency ``T``: one period
  ``[S, M]`` (a ``ql.FixedRateCoupon`` whose ICMA reference period is ``[M - 1Y, M]``, the
  engine's choice; QuantLib counts a longer period in yearly notional periods backward from ``M``).
  Principal dates: the coupon ends (``principal_payment_frequency`` = interest frequency), else
  their own ``ql.Schedule`` (anchored on ``next_principal_payment_date``); bullet: ``M``.
* **Fixed rows:** ``ql.FixedRateLeg(schedule, day counter, notionals, [rate], payment convention)``;
  the leg hands QuantLib's ICMA day counter the reference period of every coupon (the coupon
  itself when regular, ``[end - tenor, end]`` for a short first stub, ``[start, start + tenor]``
  for a short final stub).
* **Floating rows:** ``ql.IborLeg`` on a ``ql.IborIndex`` (tenor = the index tenor, fixing days 0,
  ``NullCalendar``, unadjusted, the contract's day counter) whose forecasting handle is the index's
  projection curve. The coupons are QuantLib's *indexed* coupons (``withIndexedCoupons=True``): the
  rate of a coupon is the index forward over ``[fixing date, fixing date + index tenor]``,
  ``(DF(f) / DF(f + T) - 1) / tau(f, f + T)``, which is the engine's definition (design.md item 6).
  When the reset frequency and the index tenor equal the interest period the indexed and the par
  coupons coincide on regular periods. The current period (fixing date on or before the as-of
  date) is paid at ``current_rate``: its fixing is stored as a past fixing
  ``(current_rate - spread) / rate_multiplier``.
* **Sub-period coupons** (``QlPricing.path == "coupons"``) when a leg cannot express the row:
  resets off the coupon starts (yearly LPR resets with monthly payments, mortgages resetting on 1
  January), reset lags, rate caps / floors, floating annuities, principal dates inside interest
  periods, non-accruing rows. Every interest period is cut at the principal and reset dates; a
  sub-period ``[a, b]`` is one coupon on the balance over it with the period's reference period
  and payment date: a ``ql.FixedRateCoupon`` at ``current_rate`` before the first reset, else a
  ``ql.IborCoupon`` fixing at the latest reset ``r <= a`` less the lag (``fixingDays = a - (r -
  lag)``; a fixing day on or before the as-of date takes the stored fixing, or, with none, the
  forecast from the as-of date, as the engine), a ``ql.CappedFlooredIborCoupon`` priced at zero
  (normal) volatility when there is a rate cap or floor -- exactly the deterministic clamp.
  The coupons of one interest period are summed into one flow, as the engine pays them.
* **Notionals** (the balance outstanding over each coupon): bullet, the balance ``B =
  principal_balance - overdue_principal``; linear, ``B`` less the principal paid before; annuity,
  the instalment of interfaces.md computed here independently of the engine, ``P = b i / (1 - (1 +
  i)^-n)`` re-derived at every principal date from the balance ``b``, the ``n`` remaining payments
  and the periodic rate ``i = rate x tau_reg`` (:func:`regular_period_fraction`; for a floater the
  rate QuantLib projects for the coupon ending at that date, so its leg is rebuilt under every
  scenario); annuity_fixed_payment, interest-only periods and balloons as design.md item 5.
  QuantLib checks dates, interest and PV *given those notionals*; the annuity formula itself is
  checked against hand-computed cases (``tests/unit/engine``).
* **Principal** flows are ``ql.Redemption`` cash flows; a forward-starting row (``O > A``) draws
  ``B`` at ``O`` (``ql.SimpleCashFlow``, kind ``drawdown``, opposite direction, not adjusted).
* **Payment dates** are adjusted with the row's ``business_day_convention`` on a
  ``ql.BespokeCalendar`` holding exactly the engine's holidays and working weekends of
  ``holiday_calendar`` (only when a calendar is given, as the engine).
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

Not covered (:class:`UnsupportedContractError`): ``30_365`` (no QuantLib counterpart; tested by
hand), ``bus_252``, non-maturity, schedule, hybrid and derivative rows, interest in advance other
than a started discounted bill, periodic caps / floors, rate steps (``rate_schedule``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import importlib
import importlib.util
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
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


_QL_MODULE: Any = None


def _ql() -> Any:
    """The QuantLib module, imported on first use."""
    global _QL_MODULE
    if _QL_MODULE is None:
        _QL_MODULE = importlib.import_module("QuantLib")
    return _QL_MODULE


_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()


def ql_date(d: dt.date | int) -> Any:
    """QuantLib date of a :class:`datetime.date` or an engine day number."""
    day = d if isinstance(d, int) else d.toordinal() - _ORDINAL_1970
    return _ql().Date(int(day) + _QL_EPOCH)


_DAILY_DATES: dict[tuple[int, int], Any] = {}


def _daily_dates(first: int, n: int) -> Any:
    """``ql.DateVector`` of the days ``first .. first + n - 1`` (shared by every daily-node curve)."""
    key = (first, n)
    if key not in _DAILY_DATES:
        ql = _ql()
        _DAILY_DATES.clear()
        _DAILY_DATES[key] = ql.DateVector([ql.Date(first + k + _QL_EPOCH) for k in range(n)])
    return _DAILY_DATES[key]


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
    dates = _daily_dates(a, len(days))
    return ql.ZeroCurve(dates, z.tolist(), ql.Actual365Fixed(), ql.NullCalendar(), ql.Linear(), ql.Continuous)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QlFlow:
    """One QuantLib cash flow of a contract: pay date, kind, amount (>= 0 as the engine's) and direction.

    Coupons of the sub-periods of one interest period (split at resets or principal dates) are
    summed into one interest flow, as the engine pays them.
    """

    pay_date: dt.date
    kind: str
    amount: float
    direction: int

    @property
    def signed(self) -> float:
        return self.direction * self.amount


@dataclass
class QlContract:
    """A row built in QuantLib: its leg (future flows only are valued) and bookkeeping."""

    position_id: str
    currency: str
    direction: int
    leg: Any  # ql.Leg of every flow in the contract's direction (a drawdown is negative)
    cashflows: list[Any]  # the same flows as Python references (cheaper to walk than the Leg)
    kinds: list[str]
    overdue: float
    index: Any | None = None  # the floating leg's ql.IborIndex (its fixings are cleared after pricing)
    forecast_curve: str | None = None  # curve id behind the index's forecasting handle
    path: str = "leg"  # "leg": FixedRateLeg / IborLeg; "coupons": one coupon per sub-period
    rebuild: bool = False  # notionals depend on projected rates: rebuilt under every scenario


@dataclass(frozen=True)
class QlPricing:
    """QuantLib's view of one contract: future flows and PV per scenario (signed, bank's view)."""

    position_id: str
    flows: tuple[QlFlow, ...]
    overdue: float
    npv: dict[str, float] = field(default_factory=dict)
    path: str = "leg"

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


def _opt_float(row: Mapping[str, Any], key: str) -> float | None:
    v = _get(row, key)
    return None if v is None else float(v)


def _shift(d: dt.date, tenor: Tenor, k: int, eom: bool) -> dt.date:
    """``d + k x tenor`` (months clipped to month end; ``eom`` keeps month ends)."""
    return from_day(int(add_tenor(to_day(d), k * int(tenor.count), int(tenor.unit), eom)))


def _periodic(tenor: Tenor | None) -> bool:
    return tenor is not None and tenor.unit != TenorUnit.T


_BDC = {
    "following": "Following",
    "modified_following": "ModifiedFollowing",
    "preceding": "Preceding",
    "modified_preceding": "ModifiedPreceding",
}


@dataclass
class _Terms:
    """The contract terms the mapping uses, read once from the row."""

    pid: str
    direction: int
    ccy: str
    amort: str
    floating: bool
    orig: dt.date
    mat: dt.date
    dc_code: str
    eom: bool
    itenor: Tenor | None
    ptenor: Tenor | None
    anchor: dt.date | None
    panchor: dt.date | None
    last_int: dt.date | None
    b0: float
    overdue: float
    fwd: bool
    rate: float
    accrues: bool
    io_end: dt.date | None
    term_months: int | None
    installment: float | None
    calendar: str | None
    bdc: str
    code: str | None = None
    rtenor: Tenor | None = None
    next_reset: dt.date | None = None
    lag: int = 0
    mult: float = 1.0
    spread: float = 0.0
    cap: float | None = None
    floor: float | None = None


def _read_terms(row: Mapping[str, Any], as_of: dt.date) -> _Terms:
    """Parse and check a row (raises :class:`UnsupportedContractError` for unmapped features)."""
    pid = str(row.get("position_id"))

    def unsupported(what: str) -> UnsupportedContractError:
        return UnsupportedContractError(f"{pid}: {what}")

    side = _get(row, "side")
    if side not in ("asset", "liability"):
        raise unsupported(f"side {side!r}")
    itype = _get(row, "instrument_type")
    if itype in ("derivative_leg", "loan_commitment", "guarantee", "letter_of_credit", "acceptance"):
        raise unsupported(f"instrument type {itype}")
    amort = _get(row, "amortisation_type") or "bullet"
    if amort not in ("bullet", "linear", "annuity", "annuity_fixed_payment"):
        raise unsupported(f"amortisation_type {amort!r}")
    rate_type = _get(row, "rate_type") or "fixed"
    if rate_type not in ("fixed", "floating", "administered", "non_interest_bearing"):
        raise unsupported(f"rate_type {rate_type!r}")
    mat = _date(row, "maturity_date")
    orig = _date(row, "origination_date")
    if mat is None or orig is None:
        raise unsupported("needs origination and maturity dates")
    if mat <= as_of:
        raise unsupported("matured")
    for col in ("periodic_cap", "periodic_floor", "initial_rate_end_date"):
        if _get(row, col) is not None:
            raise unsupported(f"{col} is not mapped")
    dc_code = _get(row, "day_count") or "act_365f"
    if dc_code not in QL_DAY_COUNTS:
        raise unsupported(f"day count {dc_code!r} has no QuantLib counterpart here")
    itenor = _tenor(row, "interest_payment_frequency")
    ptenor = _tenor(row, "principal_payment_frequency")
    if itenor is None:
        itenor = ptenor
    if ptenor is None:
        ptenor = itenor
    bdc = _get(row, "business_day_convention") or "none"
    calendar = _get(row, "holiday_calendar")
    if bdc != "none" and calendar is not None and bdc not in _BDC:
        raise unsupported(f"business_day_convention {bdc!r}")
    fwd = orig > as_of
    accrues = rate_type != "non_interest_bearing" and (_get(row, "accrual_status") or "") != "non_accrual"
    if accrues and (_get(row, "interest_timing") or "arrears") == "advance":
        # a discounted bill (one period, started): no future interest; anything else is not mapped
        if _periodic(itenor) or fwd:
            raise unsupported("interest in advance")
        accrues = False
    balance = float(row["principal_balance"])
    overdue = _float(row, "overdue_principal", 0.0)
    term = _get(row, "amortisation_term_months")
    t = _Terms(
        pid=pid,
        direction=1 if side == "asset" else -1,
        ccy=str(row["currency"]),
        amort=amort,
        floating=rate_type == "floating",
        orig=orig,
        mat=mat,
        dc_code=dc_code,
        eom=bool(_get(row, "end_of_month_rule") or False),
        itenor=itenor,
        ptenor=ptenor if amort != "bullet" else None,
        anchor=_date(row, "next_interest_payment_date"),
        panchor=_date(row, "next_principal_payment_date"),
        last_int=_date(row, "last_interest_payment_date"),
        b0=balance if fwd else balance - overdue,
        overdue=0.0 if fwd else overdue,
        fwd=fwd,
        rate=_float(row, "current_rate", 0.0),
        accrues=accrues,
        io_end=_date(row, "interest_only_end_date"),
        term_months=int(term) if term is not None else None,
        installment=_opt_float(row, "installment_amount") if amort == "annuity_fixed_payment" else None,
        calendar=str(calendar) if calendar is not None and bdc != "none" else None,
        bdc=bdc,
    )
    if amort != "bullet" and not _periodic(t.ptenor):
        raise unsupported("amortising row without a principal frequency")
    if t.floating:  # (a non-accruing floater still resets: its annuity instalment follows the rate)
        averaging = _get(row, "rate_averaging") or "single_fixing"
        if averaging != "single_fixing":
            raise unsupported(f"rate_averaging {averaging!r}")
        t.code = _get(row, "rate_index")
        if t.code is None:
            raise unsupported("floating row without rate_index")
        t.rtenor = _tenor(row, "reset_frequency") or itenor
        t.next_reset = _date(row, "next_reset_date")
        t.lag = int(_float(row, "reset_lag_days", 0.0))
        t.mult = _float(row, "rate_multiplier", 1.0)
        t.spread = _float(row, "spread", 0.0)
        t.cap = _opt_float(row, "rate_cap")
        t.floor = _opt_float(row, "rate_floor")
    return t


class _Amortiser:
    """The principal of amortising rows (design.md item 5), computed here independently.

    ``pay(d, r)`` is the principal at principal date ``d`` given ``r``, the rate in force over the
    day before ``d``: linear ``b / n``; annuity ``P - b i`` with ``P = b i / (1 - (1 + i)^-n)``,
    ``i = r x tau_reg``; annuity_fixed_payment ``max(0, P - b i)`` with ``P`` the given or first
    instalment; the last date pays what remains, a date on or before the interest-only end pays
    nothing; ``n`` counts the remaining principal dates (plus, for a balloon, the payments up to
    origination + the amortisation term).
    """

    def __init__(self, t: _Terms, dates: Sequence[dt.date]) -> None:
        self.t = t
        self.balance = t.b0
        self.last = dates[-1] if dates else None
        self.n_total = sum(1 for d in dates if t.io_end is None or d > t.io_end)
        self.extra = 0
        if t.term_months and t.ptenor is not None and t.amort != "bullet":
            end = _shift(t.orig, Tenor(1, TenorUnit.M), t.term_months, False)
            while _shift(t.mat, t.ptenor, self.extra + 1, t.eom) <= end:
                self.extra += 1
        self.n_seen = 0
        self.installment = t.installment
        self.tau_reg = regular_period_fraction(t.dc_code, t.ptenor) if t.ptenor is not None else 0.0

    def pay(self, d: dt.date, r: float) -> float:
        t, b = self.t, self.balance
        if d == self.last:
            amt = b
        elif t.io_end is not None and d <= t.io_end:
            amt = 0.0
        else:
            n = self.n_total - self.n_seen + self.extra
            i = r * self.tau_reg
            if t.amort == "linear":
                amt = b / n
            elif t.amort == "annuity_fixed_payment":
                if self.installment is None:
                    self.installment = b / n if abs(i) < 1e-15 else b * i / (1.0 - (1.0 + i) ** (-n))
                amt = max(0.0, self.installment - b * i)
            else:
                amt = b / n if abs(i) < 1e-15 else b * i / (1.0 - (1.0 + i) ** (-n)) - b * i
        if t.io_end is None or d > t.io_end:
            self.n_seen += 1
        amt = min(amt, b)
        self.balance = b - amt
        return amt


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
    fixings:
        ``fixings(index_code, date)`` -> the latest fixing on or before ``date`` or None (for resets
        whose fixing day is on or before the as-of date).
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
        fixings: Callable[[str, dt.date], float | None] | None = None,
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
        self.fixings = fixings
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
        self._calendars: dict[str, Any] = {}
        # capped / floored coupons: a zero normal volatility prices the deterministic clamp
        vol = ql.ConstantOptionletVolatility(
            self._ql_as_of, ql.NullCalendar(), ql.Unadjusted, 0.0, ql.Actual365Fixed(), ql.Normal
        )
        self._coupon_pricer = ql.BlackIborCouponPricer(
            ql.OptionletVolatilityStructureHandle(vol), ql.BlackIborCouponPricer.Black76,
            ql.QuoteHandle(ql.SimpleQuote(1.0)), True,
        )  # fmt: skip

    # -- calendars ---------------------------------------------------------------------------

    def calendar(self, code: str) -> Any:
        """A ``ql.BespokeCalendar`` with exactly the business days of the engine's calendar ``code``.

        Weekends are Saturday and Sunday; every weekday holiday is added and every weekend working
        day (China's adjusted working days) removed, from the as-of year - 1 to the horizon.
        """
        if code in self._calendars:
            return self._calendars[code]
        from openalm.conventions import Calendar

        ql = _ql()
        engine_cal = Calendar.from_code(code)
        cal = ql.BespokeCalendar(f"openalm:{code}")
        cal.addWeekend(ql.Saturday)
        cal.addWeekend(ql.Sunday)
        lo = to_day(dt.date(self.as_of.year - 1, 1, 1))
        hi = min(to_day(self.as_of) + self.horizon_days, int(engine_cal.last_day))
        days = np.arange(lo, hi + 1)
        business = np.asarray(engine_cal.is_business_day(days), dtype=bool)
        weekend = (days + 3) % 7 >= 5
        for d in days[weekend & business]:
            cal.removeHoliday(ql_date(int(d)))
        for d in days[~weekend & ~business]:
            cal.addHoliday(ql_date(int(d)))
        self._calendars[code] = cal
        return cal

    def _payment(self, t: _Terms) -> tuple[Any, Any]:
        """(calendar, convention) of the payment dates: adjusted only when a calendar is known."""
        ql = _ql()
        if t.calendar is None:
            return ql.NullCalendar(), ql.Unadjusted
        return self.calendar(t.calendar), getattr(ql, _BDC[t.bdc])

    # -- schedules -----------------------------------------------------------------------------

    def _roll(self, t: _Terms, tenor: Tenor | None, anchor: dt.date | None, start: dt.date | None) -> Any:
        """``ql.Schedule`` to M (unadjusted): backward from M, or forward from the anchor N."""
        ql = _ql()
        cal, _ = self._payment(t)
        if start is None:  # the first roll date on or before the lower bound (A, or O when forward)
            start = t.orig
            if not t.fwd and _periodic(tenor):
                assert tenor is not None
                if anchor is not None and anchor < t.mat:
                    start = max(t.orig, _shift(anchor, tenor, -1, t.eom))
                else:
                    k = 1
                    if tenor.unit in (TenorUnit.M, TenorUnit.Y):
                        step = tenor.count * (12 if tenor.unit == TenorUnit.Y else 1)
                        months = (t.mat.year - self.as_of.year) * 12 + t.mat.month - self.as_of.month
                        k = max(1, months // step - 1)
                    while (roll := _shift(t.mat, tenor, -k, t.eom)) > self.as_of:
                        k += 1
                    start = max(t.orig, roll)
        if not _periodic(tenor):
            return ql.Schedule(ql.DateVector([ql_date(start), ql_date(t.mat)]))
        assert tenor is not None
        if anchor is not None and anchor < t.mat:
            first = ql_date(anchor) if anchor > start else ql.Date()
            return ql.Schedule(
                ql_date(start), ql_date(t.mat), _period(tenor), cal, ql.Unadjusted, ql.Unadjusted,
                ql.DateGeneration.Forward, t.eom, first,
            )  # fmt: skip
        return ql.Schedule(
            ql_date(start), ql_date(t.mat), _period(tenor), cal, ql.Unadjusted, ql.Unadjusted,
            ql.DateGeneration.Backward, t.eom,
        )  # fmt: skip

    def _resets(self, t: _Terms) -> list[dt.date]:
        """The engine's reset dates: ``next_reset_date + k x reset_frequency`` while < M, after A."""
        if t.next_reset is None:
            return []
        if not _periodic(t.rtenor):
            return [t.next_reset] if self.as_of < t.next_reset < t.mat else []
        assert t.rtenor is not None
        out = []
        k = 0
        while (d := _shift(t.next_reset, t.rtenor, k, False)) < t.mat:
            if d > self.as_of:
                out.append(d)
            k += 1
        return out

    def _index(self, t: _Terms) -> tuple[Any, str]:
        ql = _ql()
        assert t.code is not None
        tenor = Tenor.parse(self.index_tenors.get(t.code) or str(t.rtenor or t.itenor))
        if tenor.unit == TenorUnit.T:
            tenor = Tenor(1, TenorUnit.M)
        curve_id = self._index_curve.get(t.code) or self._ccy_curve[t.ccy]
        # a unique index name per contract: QuantLib keeps fixings per name, process-wide (the
        # currency object is a placeholder, it plays no part in the forecast)
        index = ql.IborIndex(
            f"OALM{next(_index_ids)}", _period(tenor), 0, ql.USDCurrency(), ql.NullCalendar(), ql.Unadjusted,
            False, day_counter(t.dc_code, t.mat), self._handles[curve_id],
        )  # fmt: skip
        return index, curve_id

    # -- legs ----------------------------------------------------------------------------------

    def build(self, row: Mapping[str, Any], *, indexed_coupons: bool = True) -> QlContract:
        """The QuantLib leg of one row (see the module docstring for the mapping).

        ``indexed_coupons=False`` builds floating coupons as QuantLib's par coupons (forward over
        the accrual period) instead of the indexed ones the engine's definition corresponds to.

        Raises
        ------
        UnsupportedContractError
            The row uses a feature the mapping does not cover.
        """
        t = _read_terms(row, self.as_of)
        return self._build(t, indexed_coupons)

    def _build(self, t: _Terms, indexed_coupons: bool = True) -> QlContract:
        ql = _ql()
        A = self.as_of
        lower = t.orig if t.fwd else A
        dc = day_counter(t.dc_code, t.mat)
        cal, bdc = self._payment(t)
        start = t.last_int if t.last_int is not None and not t.fwd else None
        schedule = self._roll(t, t.itenor, t.anchor, start)
        dates = [py_date(d) for d in schedule.dates()]
        if t.amort == "bullet":
            prin_dates = [t.mat]
        elif t.ptenor == t.itenor and t.panchor == t.anchor and start is None:
            prin_dates = [d for d in dates if d > lower]
        else:
            roll = self._roll(t, t.ptenor, t.panchor, None)
            prin_dates = [d for d in (py_date(x) for x in roll.dates()) if d > lower]
        resets = self._resets(t) if t.floating else []
        coupon_starts = [d for d in dates[:-1] if d > A]
        simple = (
            t.accrues
            and set(prin_dates) <= set(dates[1:])
            and (
                not t.floating
                or (
                    resets == coupon_starts
                    and t.lag == 0
                    and t.cap is None
                    and t.floor is None
                    and t.amort in ("bullet", "linear")
                    and _periodic(t.itenor)
                )
            )
            and (_periodic(t.itenor) or not t.floating)
        )
        index = None
        curve_id = None
        rate_dependent = t.floating and t.amort in ("annuity", "annuity_fixed_payment")
        if t.floating and (t.accrues or rate_dependent):
            index, curve_id = self._index(t)
        amortiser = _Amortiser(t, prin_dates)
        principal: list[tuple[dt.date, float]] = []
        interest: list[Any] = []
        n_cpn = len(dates) - 1
        prin_set = set(prin_dates)
        if simple:
            # FixedRateLeg / IborLeg with one notional per coupon (principal only at coupon ends)
            notionals = [t.b0] * n_cpn
            for k in range(n_cpn):
                if dates[k + 1] > lower:
                    notionals[k] = amortiser.balance
                    if dates[k + 1] in prin_set:
                        principal.append((dates[k + 1], amortiser.pay(dates[k + 1], t.rate)))
            if not _periodic(t.itenor):
                # one period [S, M]; its ICMA reference period is [M - 1Y, M] (the engine's choice for
                # T; QuantLib splits a longer period into yearly notional periods backward from M)
                ref_start = _shift(t.mat, Tenor(1, TenorUnit.Y), -1, False)
                interest = [
                    ql.FixedRateCoupon(cal.adjust(ql_date(t.mat), bdc), t.b0, t.rate, dc, ql_date(dates[0]),
                                       ql_date(t.mat), ql_date(ref_start), ql_date(t.mat))
                ]  # fmt: skip
            elif not t.floating:
                interest = list(ql.FixedRateLeg(schedule, dc, notionals, [t.rate], bdc))
            else:
                assert index is not None
                # the current period's fixing (on or before A) is the contract's current rate
                for k in range(n_cpn):
                    if dates[k] <= A < dates[k + 1]:
                        index.addFixing(ql_date(dates[k]), (t.rate - t.spread) / t.mult, True)
                interest = list(
                    ql.IborLeg(
                        notionals, schedule, index, dc, bdc, [0], [t.mult], [t.spread],
                        withIndexedCoupons=indexed_coupons,
                    )
                )  # fmt: skip
            path = "leg"
        else:
            interest, principal = self._coupons(t, schedule, dates, prin_dates, resets, index, amortiser)
            path = "coupons"
        flows: list[Any] = []
        kinds: list[str] = []
        # amounts in the contract's own direction: the drawdown runs the other way (negative)
        if t.fwd:
            flows.append(ql.SimpleCashFlow(-t.b0, ql_date(t.orig)))  # as given (not adjusted), as the engine
            kinds.append("drawdown")
        for cf in interest:
            flows.append(cf)
            kinds.append("interest")
        for d, amt in principal:
            if amt != 0.0:
                flows.append(ql.Redemption(amt, cal.adjust(ql_date(d), bdc)))
                kinds.append("principal")
        rebuild = rate_dependent
        return QlContract(
            t.pid, t.ccy, t.direction, ql.Leg(flows), flows, kinds, t.overdue, index, curve_id, path, rebuild
        )

    def _coupons(
        self,
        t: _Terms,
        schedule: Any,
        dates: list[dt.date],
        prin_dates: list[dt.date],
        resets: list[dt.date],
        index: Any,
        amortiser: _Amortiser,
    ) -> tuple[list[Any], list[tuple[dt.date, float]]]:
        """One coupon per sub-period: interest periods split at principal dates and resets.

        A sub-period ``[a, b]`` of the interest period ``[s, e]`` accrues ``balance(a) x rate(a) x
        tau(a, b)`` with the reference period QuantLib's ``FixedRateLeg`` gives ``[s, e]``, paid at
        ``e`` (adjusted). The rate is ``current_rate`` before the first reset, else an IborCoupon
        fixing at the latest reset ``r <= a`` less the lag (fixing days ``a - (r - lag)``), on the
        stored fixing when that day is on or before A, else forecast; with a rate cap / floor a
        ``CappedFlooredIborCoupon`` priced at zero volatility (the deterministic clamp).
        """
        ql = _ql()
        A = self.as_of
        lower = t.orig if t.fwd else A
        dc = day_counter(t.dc_code, t.mat)
        cal, bdc = self._payment(t)
        principal: list[tuple[dt.date, float]] = []
        interest: list[Any] = []
        rate_dependent = t.floating and t.amort in ("annuity", "annuity_fixed_payment")
        if not t.accrues and not rate_dependent:
            # no interest is paid, but an annuity's instalment keeps the contractual rate (engine)
            for d in prin_dates:
                principal.append((d, amortiser.pay(d, t.rate)))
            return interest, principal
        if t.dc_code != "act_act_icma":  # only ICMA reads the reference period
            refs = list(itertools.pairwise(dates))
        elif _periodic(t.itenor):
            refs = [
                (py_date(c.referencePeriodStart()), py_date(c.referencePeriodEnd()))
                for c in map(ql.as_coupon, ql.FixedRateLeg(schedule, dc, [1.0], [0.0], ql.Unadjusted))
            ]
        else:
            refs = [(_shift(t.mat, Tenor(1, TenorUnit.Y), -1, False), t.mat)]
        prin_set = set(prin_dates)
        cuts_all = sorted(prin_set | set(resets))
        resets = sorted(resets)
        memo: dict[dt.date, Any] = {}

        def qd(d: dt.date) -> Any:  # each date converted once
            got = memo.get(d)
            if got is None:
                got = memo[d] = ql_date(d)
            return got

        rate_before = t.rate
        for k in range(len(dates) - 1):
            s, e = dates[k], dates[k + 1]
            if e <= lower:
                continue
            pay = cal.adjust(qd(e), bdc)
            inside = cuts_all[bisect.bisect_right(cuts_all, s) : bisect.bisect_left(cuts_all, e)]
            for a, b in itertools.pairwise([s, *inside, e]):
                j = bisect.bisect_right(resets, a)  # the latest reset on or before a
                r_reset = resets[j - 1] if j else None
                ref_s, ref_e = qd(refs[k][0]), qd(refs[k][1])
                if r_reset is None:
                    cpn = ql.FixedRateCoupon(pay, amortiser.balance, t.rate, dc, qd(a), qd(b), ref_s, ref_e)
                else:
                    f = r_reset - dt.timedelta(days=t.lag)
                    if f <= A:
                        known = self.fixings(t.code, f) if self.fixings is not None and t.code else None
                        if known is None:
                            f = A  # engine: no fixing -> forward over [A, A + index tenor]
                        else:
                            index.addFixing(qd(f), known, True)
                    args = (pay, amortiser.balance, qd(a), qd(b), (a - f).days, index, t.mult, t.spread)
                    ref = {"refPeriodStart": ref_s, "refPeriodEnd": ref_e, "dayCounter": dc}
                    if t.cap is None and t.floor is None:
                        cpn = ql.IborCoupon(*args, **ref)
                    else:
                        limits = {name: v for name, v in (("cap", t.cap), ("floor", t.floor)) if v is not None}
                        cpn = ql.CappedFlooredIborCoupon(*args, **limits, **ref)
                    cpn.setPricer(self._coupon_pricer)
                if t.accrues:  # a non-accruing floater's coupons only give the rates of its instalments
                    interest.append(cpn)
                if rate_dependent:
                    rate_before = ql.as_coupon(cpn).rate()
                if b in prin_set:
                    principal.append((b, amortiser.pay(b, rate_before)))
        # principal dates outside the interest periods (none when the periods cover (A, M])
        done = {d for d, _ in principal}
        for d in prin_dates:
            if d not in done:
                principal.append((d, amortiser.pay(d, rate_before)))
        return interest, sorted(principal)

    # -- valuation -----------------------------------------------------------------------------

    def _relink(self, contract: QlContract, scenario: str) -> None:
        """Point the contract's forecasting handle at the scenario's projection curve."""
        if contract.forecast_curve is not None:
            self._handles[contract.forecast_curve].linkTo(self._curves[contract.forecast_curve][scenario])

    def flows(self, contract: QlContract) -> tuple[QlFlow, ...]:
        """Future flows (paid after the as-of date) by pay date and kind, amounts summed, >= 0."""
        order = {"drawdown": 0, "interest": 1, "principal": 2}
        a = int(self._ql_as_of.serialNumber())
        sums: dict[tuple[int, str], float] = {}
        for cf, kind in zip(contract.cashflows, contract.kinds, strict=True):
            serial = int(cf.date().serialNumber())
            if serial > a:
                sums[(serial, kind)] = sums.get((serial, kind), 0.0) + float(cf.amount())
        out = []
        for (serial, kind), amt in sums.items():
            if amt == 0.0:
                continue
            sign = -contract.direction if kind == "drawdown" else contract.direction
            out.append(QlFlow(from_day(serial - _QL_EPOCH), kind, abs(amt) if kind == "drawdown" else amt, sign))
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
        """Build the row's leg, list its future flows and value it under every scenario (or ``scenarios``).

        A floating annuity's instalments follow the projected rates, so its leg is rebuilt under
        every scenario (the engine re-walks it per scenario too).
        """
        t = _read_terms(row, self.as_of)
        contract = self._build(t, indexed_coupons)
        names: Sequence[str] = tuple(scenarios) if scenarios is not None else self.scenario_names
        npv: dict[str, float] = {}
        try:
            flows = self.flows(contract)
            for name in names:
                if contract.rebuild and name != "base":
                    self._relink(contract, name)
                    other = self._build(t, indexed_coupons)
                    try:
                        npv[name] = self.npv(other, name)
                    finally:
                        if other.index is not None:
                            other.index.clearFixings()
                else:
                    npv[name] = self.npv(contract, name)
        finally:
            self._relink(contract, "base")
            if contract.index is not None:
                contract.index.clearFixings()
        return QlPricing(contract.position_id, flows, contract.overdue, npv, contract.path)
