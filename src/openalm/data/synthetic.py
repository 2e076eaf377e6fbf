"""A synthetic Chinese mid-size bank (合成的中型商业银行), generated as a snapshot folder.

:func:`generate_bank` builds every table of positions.md for a bank whose balance sheet looks like
a Chinese city / joint-stock commercial bank of about CNY 1.5 trillion of assets when
``n_contracts = 1,000,000`` (totals scale linearly with ``n_contracts``); :func:`write_snapshot`
writes the tables into a snapshot folder (atomically); :func:`demo_config` is the run
configuration of the demo.

Timing (measured)
-----------------
PLACEHOLDER

Balance-sheet mix (share of the asset target ``T = 1.5e12 x n / 1e6`` CNY)
------------------------------------------------------------------------
Assets: corporate loans 37 % (working capital / fixed asset / project finance, 75 % LPR-1Y
floaters), SME loans 7 %, residential mortgages 12 % (LPR-5Y floaters resetting every 1 January),
consumer loans 0.8 %, credit cards 0.1 %, bill discounts 3 %, bonds held 27 % (government, policy
bank, local government, financial, NCD, corporate; some SHIBOR-3M floaters), interbank
placements 4 %, reverse repos 2 %, central-bank reserves (required 5.5 % of deposits at 1.62 %,
excess 1.5 % of T at 0.35 %), cash 0.4 %. Liabilities: retail demand 2.6 %, corporate demand
30 %, retail term 4.8 %, corporate term 25 %, notice 2 %, acceptance margins, interbank deposits
7 %, interbank borrowing 2 %, repos (limited by pledgeable bonds), NCDs / financial bonds / tier-2
bonds issued 12 %, MLF 2.5 %. Equity (about 6-7 % of assets) is the residual.

Row counts are dominated by retail (demand and term deposits, cards, consumer loans, mortgages);
balances by corporate loans, securities and corporate deposits. About 5-8 % of assets are in USD,
HKD and EUR (floaters on ``USD_SOFR``, ``HKD_HIBOR_3M``, ``EUR_EURIBOR_3M``).

How the balance sheet balances
------------------------------
Every on-balance asset and liability row is generated first (amounts rounded to cents in the
contract currency). The total of each side is converted to CNY with the ``fx_rates`` closing
rates (units of CNY per unit of currency), and the equity gap ``E = assets_cny - liabilities_cny``
(rounded to cents) is split into five CNY ``equity_capital`` rows (paid-in capital, capital
reserve, surplus reserve, general risk reserve, retained earnings); the last row takes whatever
the rounding of the first four left, so assets = liabilities + equity exactly (to the cent, up to
float64 summation error). Off-balance rows (commitments, guarantees, acceptances, derivative legs)
are not part of the sums.

Conventions of the generated rows
---------------------------------
* Dates: origination in the past (a few forward-starting corporate loans and interbank
  placements), maturity after the as-of. ``next_interest_payment_date`` /
  ``next_principal_payment_date`` are the first date after ``max(as_of, origination)`` of the
  schedule rolled backward from maturity by the frequency (month arithmetic clipped to month
  end, no end-of-month rule); ``T`` and bullet principal give the maturity date; non-maturity
  rows leave them null. ``end_of_month_rule`` is true only on loans maturing on the 31st (their
  backward roll is all month ends, so a forward roll with the rule gives the same dates).
* Floaters: ``current_rate = rate_multiplier x fixing + spread`` with the fixing of
  ``index_fixings`` on or before the last reset (roll date before ``next_reset_date``, or the
  origination if later) minus ``reset_lag_days``. Mortgages reset every 1 January.
* Interest accrued since the last roll date (or origination) on the balance net of overdue
  principal with the row's rate and day-count basis (360 or 365); zero for non-accrual rows,
  null for discount (``interest_timing = advance``) and non-interest-bearing rows.
* Repos and MLF borrowings pledge bonds the bank holds: the holding carries
  ``encumbered_amount``, ``encumbrance_type`` (``repo`` / ``central_bank``) and
  ``encumbrance_end_date``; the borrowing names it in ``collateral_security_id``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openalm.data.schema import (
    COUNTERPARTIES,
    CURVES,
    FX_RATES,
    INDEX_FIXINGS,
    POSITIONS,
    RATE_INDICES,
    LogicalType,
    TableSchema,
)

__all__ = [
    "CURRENCIES",
    "FX_TO_CNY",
    "SYNTHETIC_TABLES",
    "demo_config",
    "generate_bank",
    "write_snapshot",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Tables :func:`generate_bank` returns, in writing order.
SYNTHETIC_TABLES: Final = ("positions", "counterparties", "curves", "fx_rates", "rate_indices", "index_fixings")
#: Currencies of the synthetic bank (index order used internally).
CURRENCIES: Final = ("CNY", "USD", "HKD", "EUR")
#: Closing rates: CNY per one unit of the currency.
FX_TO_CNY: Final[Mapping[str, float]] = {"CNY": 1.0, "USD": 7.10, "HKD": 0.9100, "EUR": 7.75}
_FX: Final = np.array([FX_TO_CNY[c] for c in CURRENCIES])

_EPOCH: Final = dt.date(1970, 1, 1)
_NO_DAY: Final = np.int64(-(2**62))
_ASSET_SCALE: Final = 1.5e12 / 1_000_000  # CNY of assets per contract
_ENTITY: Final = "CNMB01"
_BRANCHES: Final = tuple(f"BR{i:03d}" for i in range(16))  # BR000 = head office
_MIN_CONTRACTS: Final = 300

_ID_COLUMNS: Final = {
    "position_id": 9,
    "counterparty_id": 9,
    "security_id": 8,
    "deal_id": 7,
    "facility_id": 8,
    "linked_position_id": 9,
    "collateral_security_id": 8,
}
_FREQ_LABELS: Final = {0: "T", 1: "1M", 3: "3M", 6: "6M", 12: "1Y"}


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def demo_config() -> dict[str, Any]:
    """The run configuration the demo uses with the synthetic bank."""
    return {
        "reporting_currency": "CNY",
        "rule_set": "china",
        "discount_curves": {"CNY": "CNY_RFR", "USD": "USD_RFR", "HKD": "HKD_RFR", "EUR": "EUR_RFR"},
    }


def generate_bank(
    n_contracts: int, as_of: dt.date = dt.date(2026, 6, 30), seed: int = 20260630
) -> dict[str, pa.Table]:
    """Generate the snapshot tables of a synthetic Chinese mid-size bank.

    Parameters
    ----------
    n_contracts:
        Number of ``positions`` rows (exactly); at least 300. Assets are about
        CNY 1.5 million per contract (CNY 1.5 trillion for one million contracts).
    as_of:
        Snapshot date; every date is relative to it.
    seed:
        Seed of the random generator: the same ``(n_contracts, as_of, seed)`` gives identical
        tables.

    Returns
    -------
    dict[str, pyarrow.Table]
        ``positions``, ``counterparties``, ``curves``, ``fx_rates``, ``rate_indices`` and
        ``index_fixings`` with the column names, codes and Arrow types of positions.md
        (dates ``date32``, amounts / rates ``float64``, ints ``int64``, bools ``bool``, codes
        ``string``).
    """
    n = int(n_contracts)
    if n < _MIN_CONTRACTS:
        raise ValueError(f"n_contracts must be at least {_MIN_CONTRACTS}, got {n_contracts}")
    ctx = _Context(as_of, seed, n)
    blocks = _generate_blocks(ctx)
    positions = _assemble(blocks, POSITIONS)
    counterparties = _counterparties(ctx, blocks)
    return {
        "positions": positions,
        "counterparties": counterparties,
        "curves": _curves(as_of),
        "fx_rates": _fx_rates(as_of),
        "rate_indices": _rate_indices(),
        "index_fixings": ctx.market.fixings_table(),
    }


def write_snapshot(
    tables: Mapping[str, pa.Table], folder: str | os.PathLike[str], fmt: str = "parquet"
) -> dict[str, Path]:
    """Write snapshot tables into ``folder``, one file per table, atomically.

    The files are written into a temporary folder beside ``folder``; when all are written the
    temporary folder replaces ``folder`` (an existing folder is moved aside first and deleted
    afterwards), so a reader never sees a half-written snapshot.

    Parameters
    ----------
    tables:
        Tables by name (the file stem), e.g. the output of :func:`generate_bank`.
    folder:
        Target snapshot folder (created or replaced).
    fmt:
        ``"parquet"`` (default; zstd-compressed) or ``"csv"`` (UTF-8, ISO dates, empty cells for
        nulls; meant for small examples).

    Returns
    -------
    dict[str, Path]
        The path of each table's file inside ``folder``.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    target = Path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        names: list[str] = []
        for name, table in tables.items():
            path = tmp / f"{name}.{fmt}"
            if fmt == "parquet":
                pq.write_table(table, path, compression="zstd", compression_level=1)
            else:
                pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
            names.append(name)
        old: Path | None = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {name: target / f"{name}.{fmt}" for name in names}


# --------------------------------------------------------------------------------------------
# Dates (int64 day numbers since 1970-01-01)
# --------------------------------------------------------------------------------------------


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _months_of(days: IntArray) -> tuple[IntArray, IntArray]:
    """Month index since 1970-01 and 0-based day of month."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom0 = (d - m.astype("datetime64[D]")).astype(np.int64)
    return m.astype(np.int64), dom0


def _month_start(month_index: IntArray) -> IntArray:
    return np.asarray(month_index, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _add_months(days: IntArray, k: IntArray | int) -> IntArray:
    """``days + k`` calendar months, the day clipped to the target month's end."""
    month, dom0 = _months_of(days)
    target = month + k
    start = _month_start(target)
    length = _month_start(target + 1) - start
    return start + np.minimum(dom0, length - 1)


def _roll_after(anchor: IntArray, maturity: IntArray, step: IntArray) -> tuple[IntArray, IntArray]:
    """First date after ``anchor`` of ``maturity - k x step`` months (k >= 0), and the roll before it.

    ``maturity > anchor`` is required; every roll date is computed from the maturity.
    """
    step = np.maximum(np.asarray(step, dtype=np.int64), 1)
    am, _ = _months_of(anchor)
    mm, _ = _months_of(maturity)
    k = np.maximum((mm - am) // step, 0)
    d = _add_months(maturity, -k * step)
    back = d <= anchor
    k = np.where(back, k - 1, k)
    d = np.where(back, _add_months(maturity, -k * step), d)
    prev = _add_months(maturity, -(k + 1) * step)
    return d, prev


def _roll_after_days(anchor: IntArray, maturity: IntArray, step_days: int) -> tuple[IntArray, IntArray]:
    """First date after ``anchor`` of ``maturity - k x step_days``, and the one before it."""
    q = (maturity - anchor - 1) // step_days
    nxt = maturity - q * step_days
    return nxt, nxt - step_days


def _term_dates(
    rng: np.random.Generator, a: int, term_months: IntArray, *, forward_share: float = 0.0
) -> tuple[IntArray, IntArray]:
    """Origination in the past (age uniform over the term) and maturity = origination + term."""
    n = len(term_months)
    term_days = np.maximum(term_months * 30.44, 2.0)
    age = np.floor(rng.random(n) * (term_days - 1.0)).astype(np.int64)
    orig = a - age
    mat = _add_months(orig, term_months)
    late = mat <= a  # month-end clipping can pull maturity onto / before the as-of
    if late.any():
        shift = a - mat[late] + 1 + rng.integers(0, 20, late.sum())
        orig[late] = np.minimum(orig[late] + shift, a)
        mat[late] = np.maximum(_add_months(orig[late], term_months[late]), a + 1)
    if forward_share > 0:
        fwd = rng.random(n) < forward_share
        orig[fwd] = a + rng.integers(1, 61, fwd.sum())
        mat[fwd] = _add_months(orig[fwd], term_months[fwd])
    return orig, mat


def _day_term_dates(rng: np.random.Generator, a: int, term_days: IntArray) -> tuple[IntArray, IntArray]:
    """Origination within the term before the as-of, maturity = origination + term (> as-of)."""
    age = np.floor(rng.random(len(term_days)) * term_days).astype(np.int64)
    orig = a - age
    return orig, orig + term_days


# --------------------------------------------------------------------------------------------
# Market data: fixings, curves, fx
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    code: str
    currency: str
    family: str
    tenor: str
    day_count: str
    lag: int
    calendar: str
    overnight: bool
    administered: bool
    curve: str
    rule: str
    description: str
    level: float
    vol: float


_INDICES: Final = (
    _Index(
        "CNY_LPR_1Y", "CNY", "lpr", "1Y", "act_360", 0, "cn_ib", False, True, "CNY_LPR_1Y_PROJ",
        "published monthly on the 20th (next business day) at 09:15 Beijing time",
        "Loan Prime Rate, 1 year (贷款市场报价利率 1年期)", 0.0300, 0.0,
    ),
    _Index(
        "CNY_LPR_5Y", "CNY", "lpr", "5Y", "act_360", 0, "cn_ib", False, True, "CNY_LPR_5Y_PROJ",
        "published monthly on the 20th (next business day) at 09:15 Beijing time",
        "Loan Prime Rate, over 5 years (贷款市场报价利率 5年期以上)", 0.0350, 0.0,
    ),
    _Index(
        "CNY_SHIBOR_3M", "CNY", "shibor", "3M", "act_360", 1, "cn_ib", False, False, "CNY_SHIBOR_3M_PROJ",
        "daily at 11:00 Beijing time on interbank business days",
        "Shanghai Interbank Offered Rate, 3 months (上海银行间同业拆放利率 3个月)", 0.0160, 0.00004,
    ),
    _Index(
        "CNY_FR007", "CNY", "fr", "7D", "act_365f", 1, "cn_ib", False, False, "CNY_FR007_PROJ",
        "daily fixing of the 7-day interbank pledged repo rate (CFETS)",
        "Interbank pledged repo fixing rate, 7 days (银行间回购定盘利率 FR007)", 0.0150, 0.00012,
    ),
    _Index(
        "USD_SOFR", "USD", "sofr", "ON", "act_360", 2, "us_ny", True, False, "USD_SOFR_PROJ",
        "published by the New York Fed at 08:00 New York time for the previous business day",
        "Secured Overnight Financing Rate", 0.0365, 0.00005,
    ),
    _Index(
        "HKD_HIBOR_3M", "HKD", "hibor", "3M", "act_365f", 0, "hk", False, False, "HKD_HIBOR_3M_PROJ",
        "daily at 11:15 Hong Kong time (HKAB)", "Hong Kong Interbank Offered Rate, 3 months",
        0.0320, 0.00025,
    ),
    _Index(
        "EUR_EURIBOR_3M", "EUR", "euribor", "3M", "act_360", 2, "eu_target", False, False,
        "EUR_EURIBOR_3M_PROJ", "daily at 11:00 CET on TARGET days (EMMI)", "Euro Interbank Offered Rate, 3 months",
        0.0200, 0.00005,
    ),
)  # fmt: skip
_INDEX_POS: Final = {ix.code: i for i, ix in enumerate(_INDICES)}
_INDEX_LAG: Final = np.array([ix.lag for ix in _INDICES], dtype=np.int64)
_HISTORY_DAYS: Final = 366 + 45  # a year of fixings plus room for reset lags and 1Y resets

_PILLARS: Final = ("1D", "1W", "1M", "3M", "6M", "9M", "1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "15Y", "20Y", "30Y")
_PILLAR_YEARS: Final = np.array([1 / 365, 7 / 365, 1 / 12, 0.25, 0.5, 0.75, 1, 2, 3, 5, 7, 10, 15, 20, 30])
# zero rates (continuous, ACT/365F) in percent, one value per pillar
_CURVE_POINTS: Final[Mapping[str, tuple[str, tuple[float, ...]]]] = {
    "CNY_RFR": ("CNY", (1.35, 1.37, 1.40, 1.43, 1.46, 1.48, 1.50, 1.58, 1.66, 1.79, 1.90, 1.98, 2.08, 2.14, 2.20)),
    "USD_RFR": ("USD", (3.70, 3.70, 3.68, 3.64, 3.60, 3.58, 3.57, 3.60, 3.68, 3.82, 3.95, 4.08, 4.20, 4.26, 4.30)),
    "HKD_RFR": ("HKD", (3.05, 3.08, 3.12, 3.18, 3.22, 3.24, 3.25, 3.28, 3.33, 3.42, 3.50, 3.58, 3.66, 3.70, 3.74)),
    "EUR_RFR": ("EUR", (1.95, 1.95, 1.96, 1.97, 1.98, 2.00, 2.02, 2.10, 2.20, 2.35, 2.48, 2.60, 2.70, 2.76, 2.80)),
    "CNY_LPR_1Y_PROJ": ("CNY", (3.00, 3.00, 3.00, 3.00, 3.00, 3.00, 3.00, 3.00, 3.01, 3.02, 3.03, 3.04, 3.05, 3.05, 3.05)),
    "CNY_LPR_5Y_PROJ": ("CNY", (3.50, 3.50, 3.50, 3.50, 3.50, 3.50, 3.50, 3.50, 3.51, 3.52, 3.53, 3.54, 3.55, 3.55, 3.55)),
    "CNY_SHIBOR_3M_PROJ": (
        "CNY", (1.58, 1.58, 1.59, 1.60, 1.61, 1.62, 1.63, 1.70, 1.78, 1.91, 2.02, 2.10, 2.20, 2.26, 2.32),
    ),
    "CNY_FR007_PROJ": ("CNY", (1.48, 1.50, 1.50, 1.51, 1.52, 1.53, 1.54, 1.61, 1.69, 1.82, 1.93, 2.01, 2.11, 2.17, 2.23)),
    "USD_SOFR_PROJ": ("USD", (3.65, 3.65, 3.63, 3.60, 3.56, 3.54, 3.53, 3.56, 3.64, 3.78, 3.91, 4.04, 4.16, 4.22, 4.26)),
    "HKD_HIBOR_3M_PROJ": (
        "HKD", (3.10, 3.12, 3.16, 3.22, 3.26, 3.28, 3.29, 3.32, 3.37, 3.46, 3.54, 3.62, 3.70, 3.74, 3.78),
    ),
    "EUR_EURIBOR_3M_PROJ": (
        "EUR", (1.98, 1.98, 1.99, 2.00, 2.02, 2.04, 2.06, 2.14, 2.24, 2.39, 2.52, 2.64, 2.74, 2.80, 2.84),
    ),
}  # fmt: skip


def _zero(curve: str, years: FloatArray | float) -> FloatArray:
    """Zero rate (decimal) of a curve at ``years``, linear between pillars, flat beyond."""
    values = np.array(_CURVE_POINTS[curve][1]) / 100.0
    return np.interp(years, _PILLAR_YEARS, values)


class _Market:
    """Daily fixing history of every index and the fixing in force on a given day."""

    def __init__(self, as_of: dt.date, seed: int) -> None:
        self.as_of = as_of
        a = _day(as_of)
        self.start = a - _HISTORY_DAYS
        days = np.arange(self.start, a + 1, dtype=np.int64)
        weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        rng = np.random.default_rng([seed, 9001])
        self.grid = np.empty((len(_INDICES), len(days)))
        self.fixing_days: list[IntArray] = []
        self.fixing_values: list[FloatArray] = []
        for i, ix in enumerate(_INDICES):
            if ix.family == "lpr":
                month, dom0 = _months_of(days)
                pub = (dom0 == 19) & (weekday < 5)
                # a 20th on a weekend publishes the next Monday
                pub |= ((dom0 == 20) & (weekday == 0)) | ((dom0 == 21) & (weekday == 0))
                values = np.full(len(days), ix.level)
            else:
                pub = weekday < 5
                shocks = rng.normal(0.0, ix.vol, len(days))
                values = np.empty(len(days))
                x = 0.0
                for t in range(len(days)):  # AR(1) around the level: a loop over days, not contracts
                    x = 0.97 * x + shocks[t]
                    values[t] = ix.level + x
                if ix.code == "CNY_FR007":  # quarter-end funding squeeze
                    month, dom0 = _months_of(days)
                    qe = ((month % 12) % 3 == 2) & (dom0 >= 24)
                    values[qe] += 0.0015
            values = np.round(values, 6)
            fix_days = days[pub]
            fix_values = values[pub]
            self.fixing_days.append(fix_days)
            self.fixing_values.append(fix_values)
            # in force: the latest fixing on or before each day (forward fill)
            pos = np.searchsorted(fix_days, days, side="right") - 1
            self.grid[i] = np.where(pos >= 0, fix_values[np.maximum(pos, 0)], fix_values[0])

    def fixing(self, index: IntArray, day: IntArray) -> FloatArray:
        """Index value in force on ``day`` (clipped to the history window and the as-of)."""
        off = np.clip(np.asarray(day, dtype=np.int64) - self.start, 0, self.grid.shape[1] - 1)
        return self.grid[np.maximum(index, 0), off]

    def fixings_table(self) -> pa.Table:
        codes: list[str] = []
        for ix, d in zip(_INDICES, self.fixing_days, strict=True):
            codes.extend([ix.code] * len(d))
        days = np.concatenate(self.fixing_days).astype(np.int32)
        values = np.concatenate(self.fixing_values)
        return pa.table(
            {
                "index_code": pa.array(codes, pa.string()),
                "fixing_date": pa.array(days, pa.date32()),
                "value": pa.array(values, pa.float64()),
                "source": pa.array(["synthetic"] * len(codes), pa.string()),
            }
        )


def _curves(as_of: dt.date) -> pa.Table:
    rows: dict[str, list[Any]] = {k: [] for k in CURVES.names if k != "tenor_date"}
    for curve, (ccy, values) in _CURVE_POINTS.items():
        for tenor, value in zip(_PILLARS, values, strict=True):
            rows["as_of_date"].append(as_of)
            rows["curve_id"].append(curve)
            rows["currency"].append(ccy)
            rows["curve_type"].append("zero")
            rows["tenor"].append(tenor)
            rows["value"].append(round(value / 100.0, 6))
            rows["compounding"].append("continuous")
            rows["day_count"].append("act_365f")
            rows["interpolation"].append("linear_zero")
            rows["source"].append("synthetic")
    return _typed_table(rows, CURVES)


def _fx_rates(as_of: dt.date) -> pa.Table:
    rows: dict[str, list[Any]] = {k: [] for k in FX_RATES.names}
    for ccy in CURRENCIES[1:]:
        rows["as_of_date"].append(as_of)
        rows["base_currency"].append(ccy)
        rows["quote_currency"].append("CNY")
        rows["rate"].append(FX_TO_CNY[ccy])
        rows["rate_type"].append("closing")
        rows["source"].append("synthetic")
    return _typed_table(rows, FX_RATES)


def _rate_indices() -> pa.Table:
    rows: dict[str, list[Any]] = {
        "index_code": [ix.code for ix in _INDICES],
        "currency": [ix.currency for ix in _INDICES],
        "family": [ix.family for ix in _INDICES],
        "tenor": [ix.tenor for ix in _INDICES],
        "day_count": [ix.day_count for ix in _INDICES],
        "fixing_lag_days": [ix.lag for ix in _INDICES],
        "fixing_calendar": [ix.calendar for ix in _INDICES],
        "is_overnight_rfr": [ix.overnight for ix in _INDICES],
        "is_administered": [ix.administered for ix in _INDICES],
        "projection_curve_id": [ix.curve for ix in _INDICES],
        "publication_rule": [ix.rule for ix in _INDICES],
        "description": [ix.description for ix in _INDICES],
    }
    return _typed_table(rows, RATE_INDICES)


def _typed_table(rows: Mapping[str, Sequence[Any]], schema: TableSchema) -> pa.Table:
    fields = [pa.field(name, schema.column(name).arrow_type) for name in schema.names if name in rows]
    return pa.table({f.name: pa.array(rows[f.name], f.type) for f in fields}, schema=pa.schema(fields))


# --------------------------------------------------------------------------------------------
# Row blocks: the columns of one product segment as numpy arrays
# --------------------------------------------------------------------------------------------

_Codes = tuple[Sequence[str], IntArray]  # (labels, indices; -1 = null)


class _Block:
    """Columns of one segment of positions, kept as numpy arrays until assembly.

    * code columns: a scalar label (or None) or ``(labels, indices)`` with -1 for null;
    * id columns: ``(prefix labels, prefix indices, numbers)``, the id being the prefix followed
      by the number zero-padded to the column's width (no number when it is negative);
    * numbers: float64 with NaN for null; dates: int64 day numbers with ``_NO_DAY`` for null;
      bools: int8 with -1 for null.
    """

    def __init__(self, prefix: str, n: int) -> None:
        self.prefix = prefix
        self.n = n
        self.cols: dict[str, Any] = {}
        self.ident("position_id", prefix, np.arange(1, n + 1, dtype=np.int64))

    def code(self, col: str, value: str | None | _Codes) -> None:
        self.cols[col] = value

    def ident(self, col: str, prefix: str | _Codes, numbers: IntArray | int = -1) -> None:
        if isinstance(prefix, str):
            prefix = ((prefix,), np.zeros(self.n, dtype=np.int64))
        nums = np.broadcast_to(np.asarray(numbers, dtype=np.int64), (self.n,))
        self.cols[col] = ("__id__", prefix[0], np.asarray(prefix[1], dtype=np.int64), nums)

    def num(self, col: str, value: FloatArray | float | None) -> None:
        v = np.nan if value is None else value
        self.cols[col] = np.broadcast_to(np.asarray(v, dtype=np.float64), (self.n,))

    def day(self, col: str, value: IntArray | int | None) -> None:
        v = _NO_DAY if value is None else value
        self.cols[col] = np.broadcast_to(np.asarray(v, dtype=np.int64), (self.n,))

    def flag(self, col: str, value: BoolArray | bool | None) -> None:
        if value is None:
            arr = np.full(self.n, -1, dtype=np.int8)
        else:
            arr = np.broadcast_to(np.asarray(value, dtype=np.int8), (self.n,))
        self.cols[col] = arr

    def get_num(self, col: str) -> FloatArray:
        return np.asarray(self.cols[col], dtype=np.float64)

    def get_code(self, col: str) -> tuple[Sequence[str], IntArray]:
        """A code column as ``(labels, indices)`` whatever form it was set in."""
        v = self.cols.get(col)
        if v is None:
            return (), np.full(self.n, -1, dtype=np.int64)
        if isinstance(v, str):
            return (v,), np.zeros(self.n, dtype=np.int64)
        return v  # type: ignore[no-any-return]


def _pick(rng: np.random.Generator, n: int, labels: Sequence[str], p: Sequence[float]) -> _Codes:
    probs = np.asarray(p, dtype=np.float64)
    return tuple(labels), rng.choice(len(labels), size=n, p=probs / probs.sum()).astype(np.int64)


def _where(mask: BoolArray, labels: Sequence[str], yes: int, no: int = -1) -> _Codes:
    return tuple(labels), np.where(mask, yes, no).astype(np.int64)


def _label_index(labels: Sequence[str], values: IntArray, mapping: Mapping[int, str]) -> _Codes:
    """Codes from integer values through ``mapping`` (value -> label); unmapped -> null."""
    idx = np.full(len(values), -1, dtype=np.int64)
    for v, lab in mapping.items():
        idx[values == v] = labels.index(lab)
    return tuple(labels), idx


# --------------------------------------------------------------------------------------------
# Assembly into Arrow
# --------------------------------------------------------------------------------------------


def _arrow_column(blocks: Sequence[_Block], name: str, logical: LogicalType) -> pa.Array:
    n_total = sum(b.n for b in blocks)
    if name in _ID_COLUMNS:
        vocab: dict[str, int] = {}
        pidx: list[IntArray] = []
        nums: list[IntArray] = []
        for b in blocks:
            v = b.cols.get(name)
            if v is None:
                pidx.append(np.full(b.n, -1, dtype=np.int64))
                nums.append(np.full(b.n, -1, dtype=np.int64))
                continue
            _, labels, idx, numbers = v
            lut = np.array([vocab.setdefault(lab, len(vocab)) for lab in labels] + [-1], dtype=np.int64)
            pidx.append(lut[idx])
            nums.append(numbers)
        p = np.concatenate(pidx)
        num = np.concatenate(nums)
        prefix = pc.take(pa.array(list(vocab), pa.string()), pa.array(p, mask=p < 0))
        digits = pc.utf8_lpad(pc.cast(pa.array(np.maximum(num, 0)), pa.string()), _ID_COLUMNS[name], "0")
        digits = pc.if_else(pa.array(num >= 0), digits, pa.scalar("", pa.string()))
        return pc.binary_join_element_wise(prefix, digits, "")
    if logical in (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL, LogicalType.INT):
        arr = np.concatenate([np.asarray(b.cols.get(name, np.full(b.n, np.nan)), dtype=np.float64) for b in blocks])
        nan = np.isnan(arr)
        if logical is LogicalType.INT:
            return pa.array(np.where(nan, 0, arr).astype(np.int64), pa.int64(), mask=nan)
        return pa.array(arr, pa.float64(), mask=nan)
    if logical is LogicalType.DATE:
        arr = np.concatenate([np.asarray(b.cols.get(name, np.full(b.n, _NO_DAY)), dtype=np.int64) for b in blocks])
        null = arr == _NO_DAY
        return pa.array(np.where(null, 0, arr).astype(np.int32), pa.date32(), mask=null)
    if logical is LogicalType.BOOL:
        arr = np.concatenate([np.asarray(b.cols.get(name, np.full(b.n, -1)), dtype=np.int8) for b in blocks])
        return pa.array(arr == 1, pa.bool_(), mask=arr < 0)
    # code-like columns: dictionary indices over a small vocabulary, then decoded to string
    vocab = {}
    parts: list[IntArray] = []
    for b in blocks:
        v = b.cols.get(name)
        if v is None:
            parts.append(np.full(b.n, -1, dtype=np.int64))
        elif isinstance(v, str):
            parts.append(np.full(b.n, vocab.setdefault(v, len(vocab)), dtype=np.int64))
        else:
            labels, idx = v
            lut = np.array([vocab.setdefault(lab, len(vocab)) for lab in labels] + [-1], dtype=np.int64)
            parts.append(lut[idx])
    idx_all = np.concatenate(parts) if parts else np.full(n_total, -1, dtype=np.int64)
    return pc.take(pa.array(list(vocab), pa.string()), pa.array(idx_all, pa.int32(), mask=idx_all < 0))


def _assemble(blocks: Sequence[_Block], schema: TableSchema) -> pa.Table:
    present = set().union(*(b.cols for b in blocks))
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for column in schema.columns:
        if column.name not in present:
            continue
        fields.append(pa.field(column.name, column.arrow_type))
        arrays.append(_arrow_column(blocks, column.name, column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
