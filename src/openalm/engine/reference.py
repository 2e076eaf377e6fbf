"""Plain per-contract reference implementation of the cash-flow engine.

This module projects **one contract at a time** with Python ``datetime.date`` objects and plain
loops. It follows the "Cash-flow semantics" section of ``docs/design.md`` line by line and is the
yardstick the fast numba kernel is compared with (style guide, practice 4). Readability wins
over speed everywhere; every formula is stated in the docstring of the function that applies it.

Notation (as in the design notes): ``A`` as-of date, ``O`` origination, ``M`` maturity, ``B``
principal balance net of overdue principal, ``r`` the rate in force, ``tau(a, b)`` the contract
day count's year fraction (:func:`openalm.conventions.year_fraction`).

Choices where the specification leaves room (the numba kernel must make the same ones):

* **Unknown / missing terms.** ``day_count`` missing -> ``act_365f``; ``current_rate`` missing ->
  0; ``rate_multiplier`` -> 1; ``spread`` -> 0; ``reset_lag_days`` -> 0; ``rate_type`` missing ->
  ``fixed``; ``amortisation_type`` missing -> ``non_maturity`` without maturity, else ``bullet``;
  ``interest_timing`` missing -> ``advance`` for ``bill_discount``, else ``arrears``
  (``set_in_arrears`` is paid in arrears like ``arrears``).
* **Which rows are non-maturity.** ``amortisation_type = non_maturity``, or no maturity date on
  any row that is not undated (item 1) -- deposits, reserves, revolving lines and, as a fallback,
  any other row that lacks a maturity. Non-maturity slices earn ``current_rate`` (no resets and no
  rate steps), are paid on the unadjusted date ``A + tenor``, and a ``deposit_notice`` slice is
  never paid before ``A + notice_period_days`` (the contractual notice).
  A profile ``"undated"`` puts ``B`` in the undated bucket (PV null).
* **Matured rows.** A dated row with ``M <= A`` has no future flows; its remaining balance ``B``
  is added to the overdue bucket (balances are end-of-day, so a row maturing on ``A`` and still
  outstanding is past due).
* **Schedules.** Interest dates fall back to the principal schedule when
  ``interest_payment_frequency`` is missing (and vice versa; both missing -> ``T``). Rolls are
  bounded below by ``S = max(A, O)`` so a forward-starting row's schedule starts at ``O``.
  Payment dates are adjusted with the row's convention only when a calendar is known (the
  ``calendar`` argument or ``holiday_calendar``); an adjusted date is never before ``A + 1``.
  Origination (drawdown) dates, non-maturity dates and ``cash_flow_schedule`` dates are used as
  given (not adjusted).
* **ICMA reference period.** "The regular period that ends at the period's end date" is read on
  the roll grid: for an end date on the grid, ``[previous grid date, end]`` (so every regular
  coupon is exactly ``1 / frequency``, as in QuantLib, even when month ends are clipped, e.g. a
  31 Aug maturity without EOM rule); for an end date off the grid (the maturity after an
  anchored roll), ``[end - tenor, end]``. Day, week and ``T`` tenors, non-maturity slices and
  schedule rows without a tenor use ``[end - 1Y, end]``. The EOM rule tests the calendar month
  end (QuantLib tests the business month end).
* **Interest-only periods.** A principal date ``d`` pays no principal when ``d <=
  interest_only_end_date``; the maturity date always pays what remains.
* **Balloons.** ``amortisation_term_months`` (with a known ``O`` and ``O + term > M``) extends the
  instalment count for ``annuity``, ``annuity_fixed_payment`` and ``linear`` alike.
* **Annuity instalment.** ``1 - (1 + i)^-n`` is evaluated as ``-expm1(-n log1p(i))`` (same value,
  no cancellation for tiny rates). Annuity principal dates after the balance is repaid pay 0.
* **Annuity rate.** The instalment at principal date ``d`` uses the rate in force over the last
  day before ``d`` (the rate of the period the instalment closes), so a reset on ``d`` changes
  the next instalment, not this one.
* **Rates.** A ``rate_schedule`` step with ``effective_date <= A`` is already in ``current_rate``
  and is ignored; later steps set ``new_rate`` and/or ``new_spread`` (used by later resets) from
  ``effective_date``; ``new_rate_type`` is not modelled. On a date with both a step and a reset,
  the step is applied first. Floating rows without ``next_reset_date`` reset on the dates rolled
  backward from ``M`` by the reset frequency; a missing reset frequency falls back to the interest
  frequency (no reset tenor at all, or ``T``: only the anchor). A floating row without
  ``rate_index`` is projected on the projection / discount curve. The forward's accrual fraction
  is the contract's day count over ``[f, f + index tenor]``; the index tenor is the
  ``index_tenor`` argument, else the index code suffix (``CNY_SHIBOR_3M`` -> 3M; ``CNY_FR007``
  has none), else the reset frequency, else the interest frequency, else 3M.
  A fixing day ``f <= A`` without a fixing uses the projection curve's forward over
  ``[A, A + index tenor]``. Without a projection curve the discount curve projects; without any
  curve a reset keeps the previous rate. Hybrid rows whose ``initial_rate_end_date`` (IRE) is
  after ``A`` reset first at IRE, then on ``next_reset_date + k x reset tenor`` (anchor IRE when
  ``next_reset_date`` is missing) from IRE on; without an index they switch to ``reversion_rate``
  at IRE (unchanged if it is missing), with no caps or floors.
* **Derivative legs.** ``notional_exchange`` missing -> ``final`` for FX forwards/spots,
  ``initial_and_final`` for FX swaps and cross-currency swaps, else ``none``. The notional follows
  the leg's ``amortisation_type`` (so an amortising swap accrues on the declining notional); with
  ``none`` the principal flows are suppressed, with ``final`` / ``initial_and_final`` they are
  paid per the amortisation (bullet: the notional at ``M``).
* **Schedule rows.** ``cash_flow_schedule`` rows dated ``<= A`` and ``fee`` rows are ignored;
  ``notional_exchange`` rows count as principal; ``drawdown`` rows replace the generated drawdown
  of a forward-starting row; interest rows are used with their amounts as given. Without interest
  rows, interest is computed (item 4) on the scheduled principal dates (as given, unadjusted),
  the first period starting at ``last_interest_payment_date``, else one interest (or principal)
  tenor before the first date, floored at O. Principal never exceeds the balance and the last
  schedule date pays what remains; without a future principal row the row is a bullet.
* **PV.** Overdue principal counts at DF = 1; PV is None when part of the principal is undated or
  no discount curve is given; off-balance commitments have PV 0.
* **Reporting fields.** An interest row's ``rate`` is ``sum(B_k r_k tau_k) / sum(B_k tau_k)`` over
  its sub-periods, its ``balance`` the balance at the period start; periods with nothing
  outstanding produce no row.
* **Not modelled:** ``interest_capitalised``, ``rate_averaging`` other than a single fixing,
  forward-starting non-maturity rows (treated as starting at A), behavioural prepayment /
  withdrawal.
"""

from __future__ import annotations

import calendar as _calendar
import dataclasses
import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openalm.conventions import BusinessDayConvention, Calendar, DayCount, year_fraction
from openalm.errors import ModelError
from openalm.market import Shock, ZeroCurve

__all__ = [
    "ReferenceFlow",
    "ReferenceResult",
    "effective_duration",
    "explain_rows",
    "explain_terms",
    "format_explain",
    "project_contract",
]

_EPOCH = dt.date(1970, 1, 1)
_ONE_DAY = dt.timedelta(days=1)
_BUMP = 1e-4  # one basis point, for effective duration

OFF_BALANCE_TYPES = frozenset({"loan_commitment", "guarantee", "letter_of_credit", "acceptance"})
"""Instrument types that produce no dated flows until drawn (PV = 0)."""

UNDATED_TYPES = frozenset({"equity_investment", "fund_investment", "other_asset", "other_liability", "cash"})
"""Instrument types whose rows without a maturity date go to the undated bucket."""

_KIND_ORDER = {"drawdown": 0, "interest": 1, "principal": 2}


# ---------------------------------------------------------------------------------------------
# Result records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceFlow:
    """One projected cash flow: one row of the explain table.

    Attributes
    ----------
    pay_date:
        Adjusted payment date.
    accrual_start, accrual_end:
        Unadjusted accrual period of an interest row (``None`` for principal and drawdown rows).
    kind:
        ``"principal"``, ``"interest"`` or ``"drawdown"``.
    amount:
        Amount in contract currency, >= 0 (an interest amount is negative only for a negative
        rate); the direction is in ``direction``.
    direction:
        +1 the bank receives, -1 the bank pays (asset / receive leg +1, liability / pay leg -1;
        a drawdown or initial notional exchange runs opposite to the side).
    balance:
        Interest rows: balance outstanding at the start of the accrual period; principal rows:
        balance before the payment; drawdown rows: 0 (nothing outstanding before it).
    rate:
        Interest rows: the rate in force, averaged over sub-periods weighted by balance x tau
        (``amount = sum(B_k r_k tau_k)``; see ``detail`` for the sub-periods).
    year_fraction:
        Interest rows: ``sum(tau_k)`` over the sub-periods of the accrual period.
    discount_factor:
        ``DF(t)``, ``t = (pay_date - A) / 365``; NaN without a discount curve.
    pv:
        ``direction x amount x discount_factor``.
    detail:
        Human-readable audit note (sub-periods, resets with index, fixing day, forward, clamp).
    """

    pay_date: dt.date
    accrual_start: dt.date | None
    accrual_end: dt.date | None
    kind: str
    amount: float
    direction: int
    balance: float
    rate: float | None
    year_fraction: float | None
    discount_factor: float
    pv: float
    detail: str

    @property
    def signed_amount(self) -> float:
        """``direction x amount`` (bank's point of view)."""
        return self.direction * self.amount


@dataclass(frozen=True)
class ReferenceResult:
    """The projection of one contract.

    Attributes
    ----------
    flows:
        Future dated flows sorted by pay date, then kind (drawdown, interest, principal).
    overdue_principal:
        Amount for the ``overdue`` bucket (>= 0; direction from the side).
    undated_principal:
        Amount for the ``undated`` bucket (>= 0).
    pv:
        ``sum(direction x amount x DF) + direction x overdue`` (overdue at DF = 1); ``None`` when
        part of the principal is undated or no discount curve was given.
    next_repricing_date:
        Date the rate can next change (see :func:`project_contract`).
    """

    flows: list[ReferenceFlow]
    overdue_principal: float
    undated_principal: float
    pv: float | None
    next_repricing_date: dt.date | None

    def total(self, kind: str | None = None) -> float:
        """Sum of the signed dated flows (of one ``kind`` if given), undiscounted."""
        return sum(f.signed_amount for f in self.flows if kind is None or f.kind == kind)


# ---------------------------------------------------------------------------------------------
# Small plain-Python date and tenor helpers (independent of the numba conventions code)
# ---------------------------------------------------------------------------------------------


def _day(d: dt.date) -> int:
    """Engine day number: days since 1970-01-01."""
    return (d - _EPOCH).days


def _from_day(n: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(n))


def _month_length(year: int, month: int) -> int:
    return _calendar.monthrange(year, month)[1]


def _is_month_end(d: dt.date) -> bool:
    return d.day == _month_length(d.year, d.month)


def _add_months(d: dt.date, k: int, eom: bool = False) -> dt.date:
    """``d + k`` calendar months, the day clipped to the month's end (31 Jan + 1M = 28/29 Feb).

    With ``eom`` and ``d`` a month end the result is the month end of the target month.
    """
    y, m0 = divmod(d.year * 12 + (d.month - 1) + k, 12)
    last = _month_length(y, m0 + 1)
    day = last if eom and _is_month_end(d) else min(d.day, last)
    return dt.date(y, m0 + 1, day)


@dataclass(frozen=True)
class _Tenor:
    """A tenor ``<count><unit>``: unit D, W, M, Y, or T (once, at maturity)."""

    count: int
    unit: str

    @property
    def is_once(self) -> bool:
        return self.unit == "T"

    @property
    def months(self) -> int | None:
        """Length in months for M / Y tenors, else ``None``."""
        if self.unit == "M":
            return self.count
        if self.unit == "Y":
            return 12 * self.count
        return None

    @property
    def days(self) -> int | None:
        """Length in days for D / W tenors, else ``None``."""
        if self.unit == "D":
            return self.count
        if self.unit == "W":
            return 7 * self.count
        return None

    def add(self, d: dt.date, k: int = 1, eom: bool = False) -> dt.date:
        """``d + k x tenor``: days/weeks in calendar days, months/years by month arithmetic."""
        if self.months is not None:
            return _add_months(d, k * self.months, eom)
        if self.days is not None:
            return d + dt.timedelta(days=k * self.days)
        raise ModelError(f"cannot roll a date by tenor {self}")

    def __str__(self) -> str:
        return "T" if self.is_once else f"{self.count}{self.unit}"


_TENOR_RE = re.compile(r"^(\d+)([DWMY])$")
_TENOR_ALIASES = {"ON": _Tenor(1, "D"), "TN": _Tenor(2, "D"), "SN": _Tenor(3, "D"), "T": _Tenor(0, "T")}
_ONE_YEAR = _Tenor(1, "Y")


def _parse_tenor(text: object, *, column: str = "tenor") -> _Tenor | None:
    """Parse a tenor code (positions.md 2.7); ``None`` for a missing value."""
    if _missing(text):
        return None
    s = str(text).strip().upper()
    if s in _TENOR_ALIASES:
        return _TENOR_ALIASES[s]
    m = _TENOR_RE.match(s)
    if m is None or int(m.group(1)) < 1:
        raise ModelError(f"{column}: {text!r} is not a tenor (expected e.g. 1D, 2W, 3M, 1Y or T)")
    return _Tenor(int(m.group(1)), m.group(2))


def _tenor_from_index_code(code: str | None) -> _Tenor | None:
    """Tenor suffix of an index code ``<CCY>_<FAMILY>[_<TENOR>]`` (``CNY_SHIBOR_3M`` -> 3M)."""
    if not code:
        return None
    parts = str(code).strip().upper().split("_")
    if len(parts) < 3:
        return None
    last = parts[-1]
    if last in ("ON", "TN", "SN") or _TENOR_RE.match(last):
        return _parse_tenor(last)
    return None


# ---------------------------------------------------------------------------------------------
# Reading the row
# ---------------------------------------------------------------------------------------------


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _get(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    return None if _missing(value) else value


def _date(row: Mapping[str, Any], key: str) -> dt.date | None:
    value = _get(row, key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError as err:
        raise ModelError(f"{key}: {value!r} is not a date (expected YYYY-MM-DD)") from err


def _float(row: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    value = _get(row, key)
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ModelError(f"{key}: {value!r} is not a number") from err


def _num(row: Mapping[str, Any], key: str, default: float) -> float:
    value = _float(row, key)
    return default if value is None else value


def _code(row: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = _get(row, key)
    return default if value is None else str(value).strip().lower()


def _flow_date(r: Mapping[str, Any]) -> dt.date:
    """``flow_date`` of a ``cash_flow_schedule`` row (required)."""
    day = _date(r, "flow_date")
    if day is None:
        raise ModelError(f"cash_flow_schedule row without flow_date: {dict(r)}")
    return day


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = _get(row, key)
    return None if value is None else str(value).strip()


def _bool(row: Mapping[str, Any], key: str) -> bool:
    value = _get(row, key)
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t", "1", "yes", "y")
    return bool(value)


@dataclass(frozen=True)
class _Terms:
    """The contract terms the projection reads, with defaults applied."""

    position_id: str
    instrument_type: str
    side: str
    currency: str
    direction: int
    principal_balance: float
    overdue_principal: float
    accrued_interest: float | None
    origination: dt.date | None
    maturity: dt.date | None
    next_interest: dt.date | None
    last_interest: dt.date | None
    next_principal: dt.date | None
    interest_only_end: dt.date | None
    amortisation_term_months: int | None
    rate_type: str
    current_rate: float
    day_count: DayCount
    interest_timing: str
    rate_index: str | None
    spread: float
    multiplier: float
    reset_tenor: _Tenor | None
    next_reset: dt.date | None
    reset_lag_days: int
    rate_cap: float | None
    rate_floor: float | None
    periodic_cap: float | None
    periodic_floor: float | None
    initial_rate_end: dt.date | None
    reversion_rate: float | None
    amortisation_type: str
    interest_tenor: _Tenor | None
    principal_tenor: _Tenor | None
    business_day_convention: str | None
    holiday_calendar: str | None
    end_of_month: bool
    installment_amount: float | None
    non_accrual: bool
    notional_exchange: str
    initial_exchange_amount: float | None
    notice_period_days: int | None

    @property
    def is_derivative(self) -> bool:
        return self.instrument_type == "derivative_leg"

    @property
    def pays_interest(self) -> bool:
        """False for ``non_interest_bearing`` and ``non_accrual`` rows (no interest flows)."""
        return self.rate_type != "non_interest_bearing" and not self.non_accrual


def _read_terms(row: Mapping[str, Any]) -> _Terms:
    """Read and default the row's columns (positions.md names, Python values)."""
    instrument_type = _code(row, "instrument_type", "loan") or "loan"
    side = _code(row, "side", "asset") or "asset"
    maturity = _date(row, "maturity_date")
    balance = max(0.0, _num(row, "principal_balance", 0.0))
    overdue = min(balance, max(0.0, _num(row, "overdue_principal", 0.0)))
    amort = _code(row, "amortisation_type") or ("non_maturity" if maturity is None else "bullet")
    timing = _code(row, "interest_timing") or ("advance" if instrument_type == "bill_discount" else "arrears")
    dc_text = _code(row, "day_count", "act_365f") or "act_365f"
    day_count = DayCount.parse(dc_text)
    if day_count == DayCount.BUS_252:
        raise ModelError("day_count bus_252 is not supported by the cash-flow engine yet")
    exchange = _code(row, "notional_exchange")
    if exchange is None:
        dtype = _code(row, "derivative_type", "") or ""
        exchange = {
            "fx_forward": "final",
            "fx_spot": "final",
            "fx_swap": "initial_and_final",
            "ccs": "initial_and_final",
        }.get(dtype, "none")
    reset_tenor = _parse_tenor(_get(row, "reset_frequency"), column="reset_frequency")
    interest_tenor = _parse_tenor(_get(row, "interest_payment_frequency"), column="interest_payment_frequency")
    term = _float(row, "amortisation_term_months")
    lag = _num(row, "reset_lag_days", 0.0)
    notice = _float(row, "notice_period_days")
    return _Terms(
        position_id=str(_get(row, "position_id") or ""),
        instrument_type=instrument_type,
        side=side,
        currency=str(_get(row, "currency") or ""),
        direction=1 if side == "asset" else -1,
        principal_balance=balance,
        overdue_principal=overdue,
        accrued_interest=_float(row, "accrued_interest"),
        origination=_date(row, "origination_date"),
        maturity=maturity,
        next_interest=_date(row, "next_interest_payment_date"),
        last_interest=_date(row, "last_interest_payment_date"),
        next_principal=_date(row, "next_principal_payment_date"),
        interest_only_end=_date(row, "interest_only_end_date"),
        amortisation_term_months=None if term is None else int(term),
        rate_type=_code(row, "rate_type", "fixed") or "fixed",
        current_rate=_num(row, "current_rate", 0.0),
        day_count=day_count,
        interest_timing=timing,
        rate_index=_text(row, "rate_index"),
        spread=_num(row, "spread", 0.0),
        multiplier=_num(row, "rate_multiplier", 1.0),
        reset_tenor=reset_tenor,
        next_reset=_date(row, "next_reset_date"),
        reset_lag_days=int(lag),
        rate_cap=_float(row, "rate_cap"),
        rate_floor=_float(row, "rate_floor"),
        periodic_cap=_float(row, "periodic_cap"),
        periodic_floor=_float(row, "periodic_floor"),
        initial_rate_end=_date(row, "initial_rate_end_date"),
        reversion_rate=_float(row, "reversion_rate"),
        amortisation_type=amort,
        interest_tenor=interest_tenor,
        principal_tenor=_parse_tenor(_get(row, "principal_payment_frequency"), column="principal_payment_frequency"),
        business_day_convention=_code(row, "business_day_convention"),
        holiday_calendar=_text(row, "holiday_calendar"),
        end_of_month=_bool(row, "end_of_month_rule"),
        installment_amount=_float(row, "installment_amount"),
        non_accrual=_code(row, "accrual_status") == "non_accrual",
        notional_exchange=exchange,
        initial_exchange_amount=_float(row, "initial_exchange_amount"),
        notice_period_days=None if notice is None else int(notice),
    )


# ---------------------------------------------------------------------------------------------
# Schedules (design notes, item 3)
# ---------------------------------------------------------------------------------------------

_MAX_ROLLS = 100_000  # guards the roll loops against nonsense terms (e.g. a 1D tenor over 300 years)


def _roll_schedule(
    anchor: dt.date | None, tenor: _Tenor | None, maturity: dt.date, lower: dt.date, eom: bool
) -> tuple[list[dt.date], dt.date | None, dict[dt.date, dt.date]]:
    """Unadjusted payment dates in ``(lower, maturity]``, the roll date before the first one, and
    the grid predecessor of every date that lies on the roll grid.

    * ``tenor`` missing or ``T``: the single date ``M``; no roll date.
    * ``anchor`` N given: ``N + k x tenor`` (k = 0, 1, ...; each computed from N, month ends
      clipped, EOM rule when ``eom`` and N is a month end) while ``< M``, then ``M``. The roll date
      before the first kept date is ``N + (k_first - 1) x tenor``; the predecessor of
      ``N + k x tenor`` is ``N + (k - 1) x tenor`` (M has one only when it is on the grid).
    * otherwise roll backward from M: ``M - k x tenor`` (k = 0, 1, ...) while ``> lower``
      (EOM rule when ``eom`` and M is a month end); the roll date before the first date is
      ``M - K x tenor`` with K the first k whose date is ``<= lower``; the predecessor of
      ``M - k x tenor`` is ``M - (k + 1) x tenor``.

    The predecessors are the ICMA reference-period starts ("the regular period that ends at the
    period's end date").
    """
    grid: dict[dt.date, dt.date] = {}
    if tenor is None or tenor.is_once:
        return [maturity], None, grid
    if anchor is not None:
        dates: list[dt.date] = []
        k_first: int | None = None
        k = 0
        while k < _MAX_ROLLS:
            d = tenor.add(anchor, k, eom)
            if d >= maturity:
                if d == maturity:
                    grid[maturity] = tenor.add(anchor, k - 1, eom)
                break
            if d > lower:
                if k_first is None:
                    k_first = k
                dates.append(d)
                grid[d] = tenor.add(anchor, k - 1, eom)
            k += 1
        if k_first is None:
            k_first = k
        dates.append(maturity)
        return dates, tenor.add(anchor, k_first - 1, eom), grid
    back: list[dt.date] = []
    k = 0
    while k < _MAX_ROLLS:
        d = tenor.add(maturity, -k, eom)
        if d <= lower:
            return sorted(back), d, grid
        back.append(d)
        grid[d] = tenor.add(maturity, -(k + 1), eom)
        k += 1
    raise ModelError(f"schedule rolling from {maturity} by {tenor} did not reach {lower}")


def _extend_schedule(
    anchor: dt.date | None, tenor: _Tenor | None, maturity: dt.date, end: dt.date, eom: bool
) -> list[dt.date]:
    """Regular roll dates after ``maturity`` up to and including ``end`` (balloon sizing).

    The same grid as :func:`_roll_schedule`: ``N + k x tenor`` with an anchor, else
    ``M + k x tenor`` (k >= 1).
    """
    if tenor is None or tenor.is_once:
        return []
    base = anchor if anchor is not None else maturity
    out: list[dt.date] = []
    k = 0 if anchor is not None else 1
    while k < _MAX_ROLLS:
        d = tenor.add(base, k, eom)
        if d > end:
            break
        if d > maturity:
            out.append(d)
        k += 1
    return out


def _annuity_payment(balance: float, i: float, n: int) -> float:
    """Level instalment ``P = B i / (1 - (1 + i)^-n)``; ``P = B / n`` when ``i = 0``.

    ``1 - (1 + i)^-n`` is evaluated as ``-expm1(-n log1p(i))`` so that tiny rates stay accurate.
    """
    denominator = -math.expm1(-n * math.log1p(i)) if i != 0.0 else 0.0
    if denominator == 0.0:
        return balance / n
    return balance * i / denominator


@dataclass
class _Flow:
    """Working record of a flow before discounting."""

    pay_date: dt.date
    kind: str
    amount: float
    direction: int
    balance: float
    accrual_start: dt.date | None = None
    accrual_end: dt.date | None = None
    rate: float | None = None
    year_fraction: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class _RateEvent:
    """A date from which a new rate is in force (reset, rate step or hybrid reversion)."""

    date: dt.date
    rate: float
    note: str


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.4f}%"


def _money(x: float) -> str:
    return f"{x:,.2f}"


# ---------------------------------------------------------------------------------------------
# The projection of one contract
# ---------------------------------------------------------------------------------------------


class _Projection:
    """Projects one contract; one instance per call of :func:`project_contract`."""

    def __init__(
        self,
        terms: _Terms,
        *,
        as_of: dt.date,
        discount_curve: ZeroCurve | None,
        projection_curve: ZeroCurve | None,
        index_tenor: str | None,
        fixings: Callable[[str, dt.date], float | None] | None,
        schedule: Sequence[Mapping[str, Any]],
        rate_steps: Sequence[Mapping[str, Any]],
        calendar: Calendar | None,
        shock: Shock | None,
    ) -> None:
        self.t = terms
        self.as_of = as_of
        proj = projection_curve if projection_curve is not None else discount_curve
        if shock is not None:
            discount_curve = discount_curve.shocked(shock) if discount_curve is not None else None
            proj = proj.shocked(shock) if proj is not None else None
        self.disc = discount_curve
        self.proj = proj
        self.fixings = fixings
        self.schedule = list(schedule)
        self.rate_steps = list(rate_steps)
        if calendar is None and terms.holiday_calendar:
            calendar = Calendar.from_code(terms.holiday_calendar)
        self.calendar = calendar
        conv = terms.business_day_convention
        self.convention = None if conv in (None, "none") else BusinessDayConvention.parse(conv)
        self.index_tenor = self._resolve_index_tenor(index_tenor)
        self.maturity: dt.date | None = terms.maturity

    # -- conventions -------------------------------------------------------------------------

    def _resolve_index_tenor(self, index_tenor: str | None) -> _Tenor:
        """Index tenor: argument, else index code suffix, else reset / interest frequency, else 3M."""
        if index_tenor is not None:
            parsed = _parse_tenor(index_tenor, column="index_tenor")
            if parsed is not None and not parsed.is_once:
                return parsed
        from_code = _tenor_from_index_code(self.t.rate_index)
        if from_code is not None:
            return from_code
        for tenor in (self.t.reset_tenor, self.t.interest_tenor):
            if tenor is not None and not tenor.is_once:
                return tenor
        return _Tenor(3, "M")

    def tau(
        self,
        a: dt.date,
        b: dt.date,
        period_end: dt.date,
        tenor: _Tenor | None,
        ref_start: dt.date | None = None,
        period_start: dt.date | None = None,
    ) -> float:
        """Year fraction ``tau(a, b)`` in the contract's day count.

        A period ending off the roll grid (the maturity after an anchored roll) takes, as QuantLib's
        ICMA coupons do (ICMA Rule 251), the notional period ``[period_start, period_start + tenor]``.

        For ``act_act_icma`` the reference period is the regular period ending at
        ``period_end``: ``[ref_start, period_end]`` where ``ref_start`` is the previous date of the
        roll grid when ``period_end`` is on it, else ``period_end - tenor`` (month tenors); a day,
        week or ``T`` tenor uses ``[period_end - 1Y, period_end]``. The termination date
        (30E/360 ISDA) is the maturity date.
        """
        dc = self.t.day_count
        freq = 0
        if dc == DayCount.ACT_ACT_ICMA:
            months = tenor.months if tenor is not None else None
            if months is None:
                months = 12
                ref_start = None
            ref_end = period_end
            if ref_start is None and period_start is not None and tenor is not None and tenor.months is not None:
                ref_start = period_start
                ref_end = _add_months(period_start, months, self.t.end_of_month)
            elif ref_start is None:
                ref_start = _add_months(period_end, -months, self.t.end_of_month)
        else:
            ref_start, ref_end = a, b
        termination = self.maturity if self.maturity is not None else b
        return float(year_fraction(int(dc), _day(a), _day(b), _day(ref_start), _day(ref_end), freq, _day(termination)))

    def regular_fraction(self, tenor: _Tenor | None) -> float:
        """``tau_reg``: the day count's fraction of one regular period of ``tenor`` (annuity).

        30/360 family: ``30 x months / 360``; ACT/360: ``months / 12 x 365 / 360``; 30/365:
        ``30 x months / 365``; ACT/365F and ACT/ACT: ``months / 12``; day and week tenors:
        ``days / basis`` (360 for ACT/360 and 30/360, else 365); ``T``: 0 (a single payment).
        """
        if tenor is None or tenor.is_once:
            return 0.0
        dc = self.t.day_count
        thirty_360 = dc in (DayCount.THIRTY_360_US, DayCount.THIRTY_E_360, DayCount.THIRTY_E_360_ISDA)
        months = tenor.months
        if months is not None:
            if thirty_360:
                return 30.0 * months / 360.0
            if dc == DayCount.ACT_360:
                return months / 12.0 * 365.0 / 360.0
            if dc == DayCount.THIRTY_365:
                return 30.0 * months / 365.0
            return months / 12.0
        days = tenor.days or 0
        basis = 360.0 if (thirty_360 or dc == DayCount.ACT_360) else 365.0
        return days / basis

    def adjust(self, d: dt.date) -> dt.date:
        """Business-day adjusted payment date (unchanged without a calendar), never before A + 1."""
        if self.calendar is None or self.convention is None:
            return d
        out = _from_day(int(self.calendar.adjust(_day(d), self.convention)))
        return max(out, self.as_of + _ONE_DAY)

    def discount(self, pay_date: dt.date) -> float:
        """``DF(t)``, ``t = (pay_date - A) / 365`` on the (shocked) discount curve; NaN without one."""
        if self.disc is None:
            return math.nan
        return float(self.disc.discount((pay_date - self.as_of).days / 365.0))

    # -- rates (item 6) ------------------------------------------------------------------------

    def forward(self, start: dt.date) -> tuple[float, str] | None:
        """Simple forward of the index over ``[start, start + index tenor]``.

        ``F = (DF(t1) / DF(t2) - 1) / tau(start, end)``, DF on the (shocked) projection curve,
        ``t = (date - A) / 365``, tau in the contract's day count. ``None`` without a curve.
        """
        if self.proj is None:
            return None
        end = self.index_tenor.add(start)
        df1 = float(self.proj.discount((start - self.as_of).days / 365.0))
        df2 = float(self.proj.discount((end - self.as_of).days / 365.0))
        tau = self.tau(start, end, end, self.index_tenor, ref_start=start)  # the forward is its own period
        fwd = (df1 / df2 - 1.0) / tau
        note = f"forward {start}..{end} = ({df1:.8f}/{df2:.8f} - 1)/{tau:.6f} = {_pct(fwd)}"
        return fwd, note

    def reset_dates(self) -> list[dt.date]:
        """Reset dates after A and before M of a floating (or indexed hybrid) row.

        Floating: ``next_reset_date + k x reset tenor`` (k >= 0) while ``< M``; without
        ``next_reset_date``, ``M - k x reset tenor`` (k >= 1) while ``> A``. Reset tenor:
        ``reset_frequency``, else ``interest_payment_frequency``; ``T`` or missing: only the anchor.
        Hybrid with ``initial_rate_end_date`` (IRE) after A: IRE, then the grid above (anchor
        ``next_reset_date``, else IRE) from IRE on.
        """
        t = self.t
        M = self.maturity
        A = self.as_of
        if M is None or t.rate_type not in ("floating", "hybrid"):
            return []
        if t.rate_type == "hybrid" and t.rate_index is None:
            return []  # reverts to a fixed rate at IRE (see rate_events)
        tenor = t.reset_tenor if t.reset_tenor is not None else t.interest_tenor
        if tenor is not None and tenor.is_once:
            tenor = None
        from_date = A
        anchor = t.next_reset
        ire = t.initial_rate_end if t.rate_type == "hybrid" else None
        if ire is not None and ire > A:
            from_date = ire
            if anchor is None:
                anchor = ire
        dates: set[dt.date] = set()
        if ire is not None and A < ire < M:
            dates.add(ire)
        if anchor is not None:
            k = 0
            while k < _MAX_ROLLS:
                d = tenor.add(anchor, k, t.end_of_month) if tenor is not None else anchor
                if d >= M:
                    break
                if d > A and d >= from_date:
                    dates.add(d)
                if tenor is None:
                    break
                k += 1
        elif tenor is not None:
            k = 1
            while k < _MAX_ROLLS:
                d = tenor.add(M, -k, t.end_of_month)
                if d <= A:
                    break
                if d >= from_date:
                    dates.add(d)
                k += 1
        return sorted(dates)

    def reset_rate(self, reset: dt.date, previous: float, spread: float) -> tuple[float, str]:
        """Rate from a reset on ``reset`` (item 6).

        Fixing day ``f = reset - reset_lag_days``. Index value ``I`` = the latest fixing on or
        before f when ``f <= A`` (no fixing: the forward over ``[A, A + index tenor]``), else the
        projection curve's simple forward over ``[f, f + index tenor]``.
        ``r = clamp(multiplier x I + spread, rate_floor, rate_cap)``, then
        ``r = clamp(r, previous - periodic_floor, previous + periodic_cap)``.
        Without any curve or fixing the previous rate is kept.
        """
        t = self.t
        f = reset - dt.timedelta(days=t.reset_lag_days)
        index = t.rate_index or "?"
        value: float | None = None
        source = ""
        if f <= self.as_of:
            fixing = self.fixings(index, f) if (self.fixings is not None and t.rate_index) else None
            if fixing is not None and not _missing(fixing):
                value = float(fixing)
                source = f"fixing {index} on/before {f} = {_pct(value)}"
            else:
                fwd = self.forward(self.as_of)
                if fwd is not None:
                    value = fwd[0]
                    source = f"no fixing of {index} on/before {f}; spot {fwd[1]}"
        else:
            fwd = self.forward(f)
            if fwd is not None:
                value = fwd[0]
                source = f"{index} fixing day {f}: {fwd[1]}"
        if value is None:
            return previous, f"reset {reset}: no fixing or curve for {index}; rate kept at {_pct(previous)}"
        raw = t.multiplier * value + spread
        rate = raw
        clamps: list[str] = []
        if t.rate_floor is not None and rate < t.rate_floor:
            rate = t.rate_floor
            clamps.append(f"floor {_pct(t.rate_floor)}")
        if t.rate_cap is not None and rate > t.rate_cap:
            rate = t.rate_cap
            clamps.append(f"cap {_pct(t.rate_cap)}")
        if t.periodic_cap is not None and rate > previous + t.periodic_cap:
            rate = previous + t.periodic_cap
            clamps.append(f"periodic cap {_pct(previous)} + {_pct(t.periodic_cap)}")
        if t.periodic_floor is not None and rate < previous - t.periodic_floor:
            rate = previous - t.periodic_floor
            clamps.append(f"periodic floor {_pct(previous)} - {_pct(t.periodic_floor)}")
        note = f"reset {reset}: {source}; {t.multiplier:g} x {_pct(value)} + {_pct(spread)} = {_pct(raw)}" + (
            f" -> {', '.join(clamps)} -> {_pct(rate)}" if clamps else ""
        )
        return rate, note

    def rate_events(self) -> list[_RateEvent]:
        """Rate changes after A, in date order; before the first one ``current_rate`` is in force.

        On each date: first the ``rate_schedule`` steps (``new_spread`` replaces the spread of
        later resets, ``new_rate`` the rate), then a reset (:meth:`reset_rate`), or for a hybrid
        row without index the switch to ``reversion_rate`` at ``initial_rate_end_date``.
        Non-interest-bearing rows have no events.
        """
        t = self.t
        M = self.maturity
        A = self.as_of
        if t.rate_type == "non_interest_bearing" or M is None:
            return []
        steps: dict[dt.date, list[Mapping[str, Any]]] = {}
        for step in self.rate_steps:
            eff = _date(step, "effective_date")
            if eff is None or eff <= A or eff >= M:
                continue
            steps.setdefault(eff, []).append(step)
        resets = set(self.reset_dates())
        reversion: dt.date | None = None
        if (
            t.rate_type == "hybrid"
            and t.rate_index is None
            and t.initial_rate_end is not None
            and A < t.initial_rate_end < M
        ):
            reversion = t.initial_rate_end
        dates = sorted(set(steps) | resets | ({reversion} if reversion else set()))
        rate = t.current_rate
        spread = t.spread
        events: list[_RateEvent] = []
        for d in dates:
            notes: list[str] = []
            for step in steps.get(d, []):
                new_spread = _float(step, "new_spread")
                new_rate = _float(step, "new_rate")
                if new_spread is not None:
                    spread = new_spread
                    notes.append(f"step {d}: spread -> {_pct(spread)}")
                if new_rate is not None:
                    rate = new_rate
                    notes.append(f"step {d}: rate -> {_pct(rate)}")
            if d in resets:
                rate, note = self.reset_rate(d, rate, spread)
                notes.append(note)
            if d == reversion and t.reversion_rate is not None:
                rate = t.reversion_rate
                notes.append(f"initial rate ends {d}: reversion rate {_pct(rate)}")
            events.append(_RateEvent(d, rate, "; ".join(notes) or f"{d}: rate {_pct(rate)}"))
        return events

    @staticmethod
    def rate_at(events: Sequence[_RateEvent], initial: float, day: dt.date) -> float:
        """Rate in force on ``day``: the last event dated ``<= day``, else ``initial``."""
        rate = initial
        for ev in events:
            if ev.date <= day:
                rate = ev.rate
            else:
                break
        return rate

    def next_repricing(self, events: Sequence[_RateEvent]) -> dt.date | None:
        """Next repricing date of a dated row.

        Non-interest-bearing: None; administered: A + 1; matured (M <= A): None; fixed: M;
        floating / hybrid: the first reset after A (hybrid: ``initial_rate_end_date`` if after
        A), capped at M (M when there is none).
        """
        t = self.t
        A = self.as_of
        M = self.maturity
        if t.rate_type == "non_interest_bearing":
            return None
        if t.rate_type == "administered":
            return A + _ONE_DAY
        if M is None or M <= A:
            return None
        if t.rate_type in ("floating", "hybrid"):
            candidates = [d for d in self.reset_dates() if d > A]
            if t.rate_type == "hybrid" and t.initial_rate_end is not None and t.initial_rate_end > A:
                candidates.append(t.initial_rate_end)
            return min([*candidates, M])
        return M

    # -- cash_flow_schedule rows (amortisation_type = schedule) ------------------------------------

    def schedule_rows(self, kind: str) -> list[Mapping[str, Any]]:
        """Schedule rows of one kind dated after A (``notional_exchange`` counts as principal)."""
        wanted = {"principal": ("principal", "notional_exchange")}.get(kind, (kind,))
        out = []
        for r in self.schedule:
            flow_type = _code(r, "flow_type")
            day = _date(r, "flow_date")
            if flow_type in wanted and day is not None and day > self.as_of:
                out.append(r)
        return sorted(out, key=_flow_date)

    # -- dated rows (items 3-7) -------------------------------------------------------------------

    def dated(self) -> tuple[list[_Flow], float, list[_RateEvent]]:
        """Flows of a dated row, the overdue principal and the rate events.

        See :func:`project_contract` for the formulas.
        """
        t = self.t
        A = self.as_of
        B = t.principal_balance - t.overdue_principal
        overdue = t.overdue_principal
        amort = t.amortisation_type
        sched_principal = self.schedule_rows("principal") if amort == "schedule" else []
        if amort == "schedule" and not sched_principal:
            amort = "bullet"  # nothing scheduled after A: the balance is repaid at maturity
        if self.maturity is None:
            self.maturity = max(_flow_date(r) for r in sched_principal)
        M = self.maturity
        assert M is not None
        if M <= A:
            return [], overdue + B, []
        orig = t.origination
        forward_start = orig is not None and orig > A
        lower = orig if (forward_start and orig is not None) else A
        eom = t.end_of_month
        events = self.rate_events()
        flows: list[_Flow] = []

        # principal and interest dates (item 3)
        if amort == "schedule":
            pdates = sorted({_flow_date(r) for r in sched_principal})
            itenor = t.interest_tenor or t.principal_tenor
            idates = list(pdates)
            iprev = itenor.add(idates[0], -1, eom) if itenor is not None and not itenor.is_once else None
            igrid: dict[dt.date, dt.date] = {}
            panchor, ptenor = None, None
        else:
            if amort == "bullet":
                ptenor, panchor = None, None
            else:
                ptenor = t.principal_tenor or t.interest_tenor
                panchor = t.next_principal or (t.next_interest if t.principal_tenor is None else None)
            pdates, _, _ = _roll_schedule(panchor, ptenor, M, lower, eom)
            if amort == "bullet":
                itenor = t.interest_tenor
                ianchor = t.next_interest
            else:
                itenor = t.interest_tenor or ptenor
                ianchor = t.next_interest or (t.next_principal if t.interest_tenor is None else None)
            idates, iprev, igrid = _roll_schedule(ianchor, itenor, M, lower, eom)

        # drawdown / initial exchange (item 7)
        if forward_start and orig is not None:
            if t.is_derivative:
                if t.notional_exchange == "initial_and_final":
                    amount = t.initial_exchange_amount if t.initial_exchange_amount is not None else B
                    flows.append(_Flow(orig, "drawdown", amount, -t.direction, 0.0, detail="initial notional exchange"))
            else:
                sched_draw = self.schedule_rows("drawdown") if t.amortisation_type == "schedule" else []
                if sched_draw:
                    for r in sched_draw:
                        day = _flow_date(r)
                        amount = _num(r, "amount", 0.0)
                        flows.append(_Flow(day, "drawdown", amount, -t.direction, 0.0, detail="scheduled drawdown"))
                else:
                    flows.append(
                        _Flow(
                            orig,
                            "drawdown",
                            B,
                            -t.direction,
                            0.0,
                            detail=f"forward start: drawdown at {orig}",
                        )
                    )

        # principal (item 5)
        paid = self.principal_path(amort, B, pdates, sched_principal, panchor, ptenor, events)
        exchange_principal = not t.is_derivative or t.notional_exchange in ("final", "initial_and_final")
        if exchange_principal:
            for day, amount, before, note in paid:
                if amount != 0.0:
                    flows.append(
                        _Flow(
                            self.adjust(day) if amort != "schedule" else day,
                            "principal",
                            amount,
                            t.direction,
                            before,
                            detail=note,
                        )
                    )

        def balance_at(day: dt.date) -> float:
            """Balance outstanding from ``day`` on (after principal paid on dates <= day)."""
            bal = B - sum(p for d, p, _, _ in paid if d <= day)
            # a fully repaid balance: the float residue of the sum is not an outstanding amount
            return 0.0 if abs(bal) <= 1e-9 * max(1.0, abs(B)) else bal

        # interest (item 4)
        if t.pays_interest:
            sched_interest = self.schedule_rows("interest") if t.amortisation_type == "schedule" else []
            if sched_interest:
                for r in sched_interest:
                    day = _flow_date(r)
                    a = _date(r, "accrual_start_date")
                    b = _date(r, "accrual_end_date")
                    yf = self.tau(a, b, b, itenor) if (a is not None and b is not None) else None
                    flows.append(
                        _Flow(
                            day,
                            "interest",
                            _num(r, "amount", 0.0),
                            t.direction,
                            balance_at(a or day),
                            a,
                            b,
                            _float(r, "period_rate"),
                            yf,
                            "interest from cash_flow_schedule",
                        )
                    )
            else:
                flows.extend(
                    self.interest_flows(
                        B,
                        iprev,
                        idates,
                        itenor,
                        pdates,
                        events,
                        balance_at,
                        grid=igrid,
                        adjust=amort != "schedule",
                    )
                )
        return flows, overdue, events

    def principal_path(
        self,
        amort: str,
        B: float,
        pdates: list[dt.date],
        sched_principal: list[Mapping[str, Any]],
        anchor: dt.date | None,
        tenor: _Tenor | None,
        events: Sequence[_RateEvent],
    ) -> list[tuple[dt.date, float, float, str]]:
        """Principal paid on each unadjusted principal date: ``(date, amount, balance before, note)``.

        * bullet: ``B`` at M.
        * linear: ``balance / n`` with n the remaining amortising dates (dates after
          ``interest_only_end_date``; balloon: counted up to ``O + amortisation_term_months``).
        * annuity: ``P = B i / (1 - (1 + i)^-n)`` re-derived at each date from the balance before
          the payment, the rate in force over the day before the date and n as for linear;
          ``i = r x tau_reg``; principal ``= P - B i`` (``P = B / n`` when ``i = 0``).
        * annuity_fixed_payment: P = ``installment_amount``, else derived as for annuity at the
          first amortising date and kept; principal ``= max(0, P - B i)``.
        * schedule: the scheduled principal amounts.
        Every amount is limited to ``[0, balance]`` and the last date pays what remains.
        """
        t = self.t
        M = self.maturity
        assert M is not None
        out: list[tuple[dt.date, float, float, str]] = []
        bal = B
        if amort == "schedule":
            by_date: dict[dt.date, float] = {}
            for r in sched_principal:
                day = _flow_date(r)
                by_date[day] = by_date.get(day, 0.0) + (_num(r, "amount", 0.0))
            days = sorted(by_date)
            for j, day in enumerate(days):
                amount = bal if j == len(days) - 1 else min(max(by_date[day], 0.0), bal)
                out.append((day, amount, bal, "scheduled principal"))
                bal -= amount
            return out
        ioe = t.interest_only_end
        amortising = [d for d in pdates if ioe is None or d > ioe]
        counted = list(amortising)
        term = t.amortisation_term_months
        if term is not None and t.origination is not None:
            end = _add_months(t.origination, term)
            if end > M:
                counted += _extend_schedule(anchor, tenor, M, end, t.end_of_month)
        tau_reg = self.regular_fraction(tenor)
        fixed_payment = t.installment_amount if amort == "annuity_fixed_payment" else None
        for j, day in enumerate(pdates):
            last = j == len(pdates) - 1
            note = ""
            if last:
                amount = bal
                note = "remaining balance at maturity"
            elif amort == "bullet" or day not in amortising:
                amount = 0.0
            else:
                n = sum(1 for h in counted if h >= day)
                if amort == "linear":
                    amount = bal / n
                    note = f"linear: {_money(bal)} / {n}"
                else:
                    rate = self.rate_at(events, t.current_rate, day - _ONE_DAY)
                    i = rate * tau_reg
                    if amort == "annuity" or fixed_payment is None:
                        payment = _annuity_payment(bal, i, n)
                        if amort == "annuity_fixed_payment":
                            fixed_payment = payment
                    else:
                        payment = fixed_payment
                    amount = payment - bal * i
                    note = (
                        f"{amort}: P = {_money(payment)} (n={n}, i = {_pct(rate)} x {tau_reg:.6f}); "
                        f"principal = P - {_money(bal)} x i"
                    )
                amount = min(max(amount, 0.0), bal)
            out.append((day, amount, bal, note))
            bal -= amount
        return out

    def interest_flows(
        self,
        B: float,
        iprev: dt.date | None,
        idates: list[dt.date],
        itenor: _Tenor | None,
        pdates: list[dt.date],
        events: Sequence[_RateEvent],
        balance_at: Callable[[dt.date], float],
        *,
        grid: Mapping[dt.date, dt.date],
        adjust: bool = True,
    ) -> list[_Flow]:
        """Interest flows (item 4).

        Periods ``[s_0, d_1], [d_1, d_2], ...`` over the unadjusted interest dates; ``s_0`` is
        ``last_interest_payment_date``, else the roll date one tenor before ``d_1`` (``T``:
        ``origination_date``), floored at O; else A, and ``accrued_interest`` is added to the
        first payment. Each period is cut at principal dates and rate events; a sub-period
        ``[a, b]`` accrues ``balance(a) x rate(a) x tau(a, b)`` (ICMA reference period: the regular
        period of the roll ``grid`` ending at the period's end). Arrears: paid at the adjusted
        period end; advance: at the adjusted period start, only for periods starting after A
        (``adjust=False``: dates as given, for ``cash_flow_schedule`` dates).
        """
        t = self.t
        A = self.as_of
        orig = t.origination
        add_accrued = False
        if t.last_interest is not None:
            s0 = t.last_interest
        elif iprev is not None:
            s0 = iprev
        elif orig is not None:
            s0 = orig
        else:
            s0 = A
            add_accrued = True
        if orig is not None and s0 < orig:
            s0 = orig
        cut_dates = set(pdates) | {ev.date for ev in events}
        out: list[_Flow] = []
        starts = [s0, *idates[:-1]]
        first = True
        for s, e in zip(starts, idates, strict=True):
            if e <= s:
                continue
            advance = t.interest_timing == "advance"
            if advance and s <= A:
                first = False
                continue
            cuts = sorted({s, e} | {c for c in cut_dates if s < c < e})
            amount = 0.0
            weighted = 0.0  # sum of balance x tau, for the average rate
            yf = 0.0
            parts: list[str] = []
            for a, b in itertools.pairwise(cuts):
                bal = balance_at(a)
                r = self.rate_at(events, t.current_rate, a)
                tau = self.tau(a, b, e, itenor, grid.get(e), period_start=s)
                amount += bal * r * tau
                weighted += bal * tau
                yf += tau
                parts.append(f"{a}..{b}: {_money(bal)} x {_pct(r)} x {tau:.6f} = {_money(bal * r * tau)}")
            if weighted == 0.0 and not (first and add_accrued):
                first = False
                continue  # nothing outstanding over the period (e.g. after the last scheduled principal)
            rate = (amount / weighted) if weighted != 0.0 else self.rate_at(events, t.current_rate, s)
            detail = f"{len(parts)} sub-period(s): " + "; ".join(parts)
            notes = [ev.note for ev in events if s <= ev.date < e]
            if notes:
                detail += " | " + " | ".join(notes)
            if first and add_accrued and t.accrued_interest is not None and not advance:
                amount += t.accrued_interest
                detail += f"; + accrued interest {_money(t.accrued_interest)} (period start unknown)"
            first = False
            pay = s if advance else e
            if adjust:
                pay = self.adjust(pay)
            if advance:
                detail = "paid in advance; " + detail
            out.append(_Flow(pay, "interest", amount, t.direction, balance_at(s), s, e, rate, yf, detail))
        return out

    # -- non-maturity rows (item 2) ----------------------------------------------------------------

    def non_maturity(self, profile: Sequence[tuple[str, float]]) -> list[_Flow]:
        """Run-off of ``B`` by the profile.

        Each slice ``share x B`` is paid at ``A + tenor`` (a ``deposit_notice`` slice not before
        ``A + notice_period_days``) with simple interest ``slice x r x tau(A, date)`` there,
        ``r = current_rate`` (none when non-interest-bearing or non-accrual). Slices on the same
        date are added up.
        """
        t = self.t
        A = self.as_of
        B = t.principal_balance - t.overdue_principal
        total = sum(float(share) for _, share in profile)
        if abs(total - 1.0) > 1e-6:
            raise ModelError(f"non-maturity profile shares sum to {total}, expected 1: {list(profile)}")
        shares: dict[dt.date, float] = {}
        for tenor_text, share in profile:
            tenor = _parse_tenor(tenor_text, column="non_maturity profile")
            if tenor is None or tenor.is_once:
                raise ModelError(f"non-maturity profile tenor {tenor_text!r} must be a D/W/M/Y tenor")
            day = tenor.add(A)
            if t.instrument_type == "deposit_notice" and t.notice_period_days:
                day = max(day, A + dt.timedelta(days=t.notice_period_days))
            shares[day] = shares.get(day, 0.0) + float(share)
        out: list[_Flow] = []
        r = t.current_rate
        for day in sorted(shares):
            amount = shares[day] * B
            note = f"non-maturity slice {shares[day]:.4%} of {_money(B)}"
            if t.pays_interest:
                tau = self.tau(A, day, day, None)
                out.append(
                    _Flow(
                        day,
                        "interest",
                        amount * r * tau,
                        t.direction,
                        amount,
                        A,
                        day,
                        r,
                        tau,
                        f"simple interest {_money(amount)} x {_pct(r)} x {tau:.6f}",
                    )
                )
            out.append(_Flow(day, "principal", amount, t.direction, amount, detail=note))
        return out


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def project_contract(
    row: Mapping[str, Any],
    *,
    as_of: dt.date,
    discount_curve: ZeroCurve | None,
    projection_curve: ZeroCurve | None = None,
    index_tenor: str | None = None,
    fixings: Callable[[str, dt.date], float | None] | None = None,
    schedule: Sequence[Mapping[str, Any]] = (),
    rate_steps: Sequence[Mapping[str, Any]] = (),
    non_maturity_profile: Sequence[tuple[str, float]] | str = (("1D", 1.0),),
    calendar: Calendar | None = None,
    shock: Shock | None = None,
) -> ReferenceResult:
    """Project the contractual cash flows of one position and value them.

    Parameters
    ----------
    row:
        One ``positions`` row: positions.md column names, Python values (``datetime.date`` for
        dates, float for amounts and rates, str codes, None for null).
    as_of:
        The as-of date A (balances are end-of-day).
    discount_curve:
        Base discount curve of the row's currency; ``None``: no PV (``pv`` None, DF NaN).
    projection_curve:
        Projection curve of the row's index (default: the discount curve).
    index_tenor:
        Tenor of the index (``rate_indices.tenor``); default: the index code suffix, else the
        reset frequency, else the interest frequency, else 3M.
    fixings:
        ``fixings(index_code, day)`` -> the latest fixing on or before ``day`` or None.
    schedule, rate_steps:
        The position's ``cash_flow_schedule`` and ``rate_schedule`` rows.
    non_maturity_profile:
        ``[(tenor, share), ...]`` with shares summing to 1, or ``"undated"``.
    calendar:
        Holiday calendar for payment-date adjustment (default: ``holiday_calendar`` of the row,
        else no adjustment).
    shock:
        Scenario applied to the discount and projection curves (floating coupons re-projected).

    Returns
    -------
    ReferenceResult
        Dated flows, overdue and undated principal, PV and next repricing date.

    Notes
    -----
    Case by case (design notes, "Cash-flow semantics"; ``B = principal_balance -
    overdue_principal``, ``dir`` = +1 asset / -1 liability):

    * ``loan_commitment``, ``guarantee``, ``letter_of_credit``, ``acceptance``: no flows, PV 0.
    * ``equity_capital``, and undated ``equity_investment``, ``fund_investment``, ``other_asset``,
      ``other_liability``, ``cash``: ``B`` undated, PV None.
    * Non-maturity rows (``amortisation_type = non_maturity`` or no maturity): see
      :meth:`_Projection.non_maturity`.
    * Dated rows: schedules by :func:`_roll_schedule`, principal by
      :meth:`_Projection.principal_path`, interest by :meth:`_Projection.interest_flows`, rates by
      :meth:`_Projection.rate_events`; a forward-starting row (``O > A``) first draws ``B`` at O
      (direction ``-dir``); a derivative leg exchanges principal per ``notional_exchange``.
    * ``pv = sum(dir x amount x DF(t)) + dir x overdue``, ``t = (pay date - A) / 365``.
    * ``next_repricing_date``: fixed -> M; floating / hybrid -> next reset (hybrid: IRE if after
      A), capped at M; administered and interest-bearing non-maturity rows -> A + 1;
      non-interest-bearing, off-balance and undated rows -> None.
    """
    terms = _read_terms(row)
    A = as_of
    if terms.instrument_type in OFF_BALANCE_TYPES:
        return ReferenceResult([], 0.0, 0.0, 0.0, None)
    B = terms.principal_balance - terms.overdue_principal
    if terms.instrument_type == "equity_capital" or (terms.instrument_type in UNDATED_TYPES and terms.maturity is None):
        return ReferenceResult([], terms.overdue_principal, B, None, None)

    proj = _Projection(
        terms,
        as_of=A,
        discount_curve=discount_curve,
        projection_curve=projection_curve,
        index_tenor=index_tenor,
        fixings=fixings,
        schedule=schedule,
        rate_steps=rate_steps,
        calendar=calendar,
        shock=shock,
    )
    has_schedule = terms.amortisation_type == "schedule" and bool(proj.schedule_rows("principal"))
    undated = 0.0
    overdue = terms.overdue_principal
    if terms.amortisation_type == "non_maturity" or (terms.maturity is None and not has_schedule):
        if isinstance(non_maturity_profile, str):
            if non_maturity_profile.strip().lower() != "undated":
                raise ModelError(f"non-maturity profile {non_maturity_profile!r}: expected a list or 'undated'")
            work: list[_Flow] = []
            undated = B
        else:
            work = proj.non_maturity(non_maturity_profile)
        next_repricing = None if terms.rate_type == "non_interest_bearing" else A + _ONE_DAY
    else:
        work, overdue, events = proj.dated()
        next_repricing = proj.next_repricing(events)

    flows: list[ReferenceFlow] = []
    for f in sorted(work, key=lambda f: (f.pay_date, _KIND_ORDER[f.kind], f.accrual_start or f.pay_date)):
        df = proj.discount(f.pay_date)
        flows.append(
            ReferenceFlow(
                pay_date=f.pay_date,
                accrual_start=f.accrual_start,
                accrual_end=f.accrual_end,
                kind=f.kind,
                amount=f.amount,
                direction=f.direction,
                balance=f.balance,
                rate=f.rate,
                year_fraction=f.year_fraction,
                discount_factor=df,
                pv=f.direction * f.amount * df,
                detail=f.detail,
            )
        )
    pv: float | None = None
    if undated == 0.0 and proj.disc is not None:
        pv = sum(f.pv for f in flows) + terms.direction * overdue
    return ReferenceResult(flows, overdue, undated, pv, next_repricing)


def _bumped(shock: Shock | None, dz: float) -> Shock:
    """``shock`` with ``dz`` added to its parallel component (a pure parallel shift if None)."""
    if shock is None:
        return Shock(parallel=dz, short=0.0, long=0.0)
    return dataclasses.replace(shock, parallel=shock.parallel + dz)


def effective_duration(row: Mapping[str, Any], **kwargs: Any) -> float | None:
    """Effective duration ``(PV(-1bp) - PV(+1bp)) / (2 x 0.0001 x PV)``.

    Takes the keyword arguments of :func:`project_contract`; the +-1bp parallel shifts are added
    to ``shock`` (if any) and move the discount and projection curves together. None when the PV
    is None or 0.
    """
    base = project_contract(row, **kwargs).pv
    if base is None or base == 0.0:
        return None
    shock = kwargs.pop("shock", None)
    down = project_contract(row, shock=_bumped(shock, -_BUMP), **kwargs).pv
    up = project_contract(row, shock=_bumped(shock, _BUMP), **kwargs).pv
    if down is None or up is None:
        return None
    return (down - up) / (2.0 * _BUMP * base)


# ---------------------------------------------------------------------------------------------
# Explain (``openalm explain``)
# ---------------------------------------------------------------------------------------------

_EXPLAIN_TERMS = (
    "instrument_type",
    "product_subtype",
    "side",
    "currency",
    "principal_balance",
    "overdue_principal",
    "accrued_interest",
    "origination_date",
    "maturity_date",
    "rate_type",
    "current_rate",
    "rate_index",
    "rate_multiplier",
    "spread",
    "rate_cap",
    "rate_floor",
    "periodic_cap",
    "periodic_floor",
    "reset_frequency",
    "next_reset_date",
    "reset_lag_days",
    "initial_rate_end_date",
    "reversion_rate",
    "day_count",
    "interest_timing",
    "amortisation_type",
    "interest_payment_frequency",
    "principal_payment_frequency",
    "next_interest_payment_date",
    "last_interest_payment_date",
    "next_principal_payment_date",
    "interest_only_end_date",
    "amortisation_term_months",
    "installment_amount",
    "business_day_convention",
    "holiday_calendar",
    "accrual_status",
    "notional_exchange",
    "initial_exchange_amount",
)


def explain_terms(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The non-null contract terms of ``row`` that drive the projection, as ``(column, text)``."""
    out = []
    for key in _EXPLAIN_TERMS:
        value = _get(row, key)
        if value is not None:
            out.append((key, str(value)))
    return out


def explain_rows(result: ReferenceResult, direction: int = 1) -> list[dict[str, Any]]:
    """Printable rows of the explain table.

    One row per dated flow (``interest`` and ``principal`` columns signed from the bank's point
    of view, a drawdown shown in ``principal``), then ``overdue`` and ``undated`` rows when
    non-zero (signed with ``direction``, +1 asset / -1 liability), then a ``total`` row: the sums
    of the signed dated flows and the PV (overdue included at DF = 1).
    """
    rows: list[dict[str, Any]] = []
    for f in result.flows:
        signed = f.signed_amount
        rows.append(
            {
                "date": f.pay_date.isoformat(),
                "kind": f.kind,
                "accrual_start": f.accrual_start.isoformat() if f.accrual_start else "",
                "accrual_end": f.accrual_end.isoformat() if f.accrual_end else "",
                "balance": f.balance,
                "year_fraction": f.year_fraction,
                "rate": f.rate,
                "interest": signed if f.kind == "interest" else None,
                "principal": signed if f.kind != "interest" else None,
                "discount_factor": f.discount_factor,
                "pv": f.pv,
                "detail": f.detail,
            }
        )
    extra = (("overdue", result.overdue_principal), ("undated", result.undated_principal))
    for label, amount in extra:
        if amount:
            rows.append(
                {
                    "date": label,
                    "kind": "principal",
                    "accrual_start": "",
                    "accrual_end": "",
                    "balance": amount,
                    "year_fraction": None,
                    "rate": None,
                    "interest": None,
                    "principal": direction * amount,
                    "discount_factor": 1.0 if label == "overdue" else None,
                    "pv": direction * amount if label == "overdue" else None,
                    "detail": f"{label} bucket",
                }
            )
    interest = sum(f.signed_amount for f in result.flows if f.kind == "interest")
    principal = sum(f.signed_amount for f in result.flows if f.kind != "interest")
    rows.append(
        {
            "date": "total",
            "kind": "",
            "accrual_start": "",
            "accrual_end": "",
            "balance": None,
            "year_fraction": None,
            "rate": None,
            "interest": interest,
            "principal": principal,
            "discount_factor": None,
            "pv": result.pv,
            "detail": f"sum of dated flows {_money(interest + principal)}",
        }
    )
    return rows


def format_explain(result: ReferenceResult, row: Mapping[str, Any], as_of: dt.date) -> Any:
    """A ``rich.table.Table`` of the projection, for ``openalm explain``.

    The title gives the position, the as-of date and every contract term used; the columns are
    pay date, kind, accrual period, balance, day-count fraction, rate, interest, principal,
    discount factor, PV and the audit note; the last line totals the flows and the PV.
    """
    from rich.table import Table

    terms = ", ".join(f"{k}={v}" for k, v in explain_terms(row))
    repricing = result.next_repricing_date.isoformat() if result.next_repricing_date else "-"
    title = f"Position {_get(row, 'position_id') or '?'} as of {as_of.isoformat()}\n{terms}\nnext repricing {repricing}"
    table = Table(title=title, show_lines=False)
    for name, justify in (
        ("date", "left"),
        ("kind", "left"),
        ("accrual", "left"),
        ("balance", "right"),
        ("year fraction", "right"),
        ("rate", "right"),
        ("interest", "right"),
        ("principal", "right"),
        ("DF", "right"),
        ("PV", "right"),
        ("detail", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]

    def num(x: float | None, fmt: str = "{:,.2f}") -> str:
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)

    rows = explain_rows(result, 1 if _code(row, "side", "asset") == "asset" else -1)
    for i, r in enumerate(rows):
        accrual = f"{r['accrual_start']}..{r['accrual_end']}" if r["accrual_start"] else ""
        table.add_row(
            r["date"],
            r["kind"],
            accrual,
            num(r["balance"]),
            num(r["year_fraction"], "{:.6f}"),
            "" if r["rate"] is None else _pct(r["rate"]),
            num(r["interest"]),
            num(r["principal"]),
            num(r["discount_factor"], "{:.8f}"),
            num(r["pv"]) if r["pv"] is not None else ("n/a" if r["date"] == "total" else ""),
            r["detail"],
            end_section=i == len(rows) - 2,
        )
    return table
