"""A synthetic Chinese mid-size bank (合成的中型商业银行), generated as a snapshot folder.

:func:`generate_bank` builds every table of positions.md for a bank whose balance sheet looks like
a Chinese city / joint-stock commercial bank of about CNY 1.5 trillion of assets when
``n_contracts = 1,000,000`` (totals scale linearly with ``n_contracts``); :func:`write_snapshot`
writes the tables into a snapshot folder (atomically); :func:`demo_config` is the run
configuration of the demo.

Timing (measured)
-----------------
1,000,000 contracts on a 2-core Linux VM (Python 3.11, numpy / pyarrow, one process):
:func:`generate_bank` 2.0-2.6 s (median 2.1 s, CPU 2.1 s) before the ledger tables, whose exact
decimal sums (:func:`openalm.data.reconciliation.expected_balances`) add about 0.3 s; :func:`write_snapshot` to Parquet
1.4-2.0 s (median 1.5 s; positions.parquet 24 MB, zstd). 20,000 contracts: 0.13 s. Everything is
vectorised numpy per product segment (about 30 segments); string columns are built from small
code lists with integer indices (``pyarrow.compute.take``) and ids with ``utf8_lpad`` +
``binary_join_element_wise``. No Python loop runs per contract.

Result at 1,000,000 contracts (seed 20260630, as-of 2026-06-30)
-------------------------------------------------------------
Assets CNY 1,474 bn (517,504 rows), liabilities CNY 1,368 bn (462,159 rows), equity CNY 106 bn
(7.2 % of assets, 5 rows), off-balance 20,332 rows (commitments, guarantees, acceptances, 1,466
derivative legs). 94 % of assets in CNY. Rows with a retail counterparty (mortgages, consumer
loans, cards, retail deposits) are 84 % of the rows; corporate loans, securities and corporate
deposits carry most of the balances. 478,533 counterparties.

Balance-sheet mix (CNY equivalent, share of the asset target ``T = 1.5e12 x n / 1e6``)
---------------------------------------------------------------------------------
Assets: corporate loans 37 % (working capital / fixed asset / project finance; bullet, linear,
annuity; 75 % ``CNY_LPR_1Y`` floaters, long loans partly ``CNY_LPR_5Y``), SME loans 7 %,
residential mortgages 12 % (annuity / linear monthly, 20-30 years, ``CNY_LPR_5Y`` floaters
resetting every 1 January), consumer loans 0.8 % (annuity, fixed), credit cards 0.1 %
(non-maturity, 18.25 %), bill discounts 3 % (interest in advance), bonds held 27 % (government,
policy bank, local government, financial, NCD, corporate; coupons 1Y / 6M ``act_act_icma``;
some ``CNY_SHIBOR_3M`` floaters; NCDs are discount paper), interbank placements 4 %, reverse
repos 2 %, central-bank reserves (required: 5.5 % of CNY deposits at 1.62 %, FX required 4 % of FX
deposits without interest; excess: 2 % of T at 0.35 %), cash 0.4 %. Liabilities (a city
commercial bank's funding: about two fifths of deposits from households): retail demand 6 % (plus
a few pooled dormant-account rows with ``pool_count``), corporate demand 22 %, retail term 19.5 %
(3 months to 5 years, mostly 1-3 years), corporate term 16.5 % (3 months to 5 years), notice 2 %,
acceptance margin deposits, interbank deposits 4.5 %, interbank borrowing 2 %, repos (sized by the
bonds they pledge), NCDs / financial bonds / tier-2 bonds issued 8 %, MLF 2.5 %. Equity is the
residual. CNY deposit rates stay within 0.05-1.9 %; USD / HKD / EUR term deposits pay 0.8-2.6 %.

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
* Non-maturity interest-bearing rows (demand and notice deposits, reserves, nostro, cards)
  accrue since the last quarterly settlement day (the 20th of March / June / September /
  December) and carry no next payment dates.
* Repos and MLF borrowings pledge bonds the bank holds: the holding carries
  ``encumbered_amount``, ``encumbrance_type`` (``repo`` / ``central_bank``) and
  ``encumbrance_end_date``. A repo names its single pledged bond in ``collateral_security_id``;
  an MLF borrowing is secured by a basket of holdings (whose ``encumbrance_end_date`` is its
  maturity) and leaves the collateral columns empty.
* Loan commitments: ``principal_balance = undrawn_amount`` (the committed undrawn amount),
  ``limit_amount`` = undrawn + the drawn balance of the loan sharing its ``facility_id``.
  Guarantees, acceptances and commitments are ``non_interest_bearing`` bullets to their expiry.
* Derivatives (off-balance, one row per leg, legs tied by ``deal_id``): CNY IRS (fixed leg
  ``act_365f`` quarterly; floating leg ``CNY_FR007`` reset every ``7D``, paid quarterly;
  ``notional_exchange = none``; 60 % cleared through Shanghai Clearing House) and USD/CNY
  outright forwards (``notional_exchange = final``). The deal's mark-to-market sits in
  ``fair_value`` of one leg (fixed leg / CNY leg), the other leg has 0.

General ledger
--------------
``gl_account_map`` maps every account the positions use, with a ``balance_sheet_line`` in the
manner of G01: principal accounts (``principal_balance``), one accrued-interest account per
interest-bearing line (``1132xx`` receivable on asset lines, ``2231xx`` payable on liability
lines), the memo account ``700101`` of loan commitments (``undrawn_amount``) and ``700102`` for
the undrawn card limits of the loans line, memo accounts of guarantees and acceptances
(``principal_balance``) and the derivative notional memo accounts ``730101`` / ``730201`` mapped
to ``none`` (not reconciled). Tolerances are left to the run settings. ``gl_balances`` holds one
balance per account x branch x currency: exactly what
:func:`openalm.data.reconciliation.expected_balances` derives from the positions (decimal sums of
the cent amounts; stored as float64 whose shortest representation is that decimal), so the
synthetic bank reconciles with zero breaks.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openalm.data.reconciliation import expected_balances
from openalm.data.schema import (
    COUNTERPARTIES,
    CURVES,
    FX_RATES,
    GL_ACCOUNT_MAP,
    GL_BALANCES,
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
FloatArray = npt.NDArray[np.floating[Any]]
BoolArray = npt.NDArray[np.bool_]

#: Tables :func:`generate_bank` returns, in writing order.
SYNTHETIC_TABLES: Final = (
    "positions",
    "counterparties",
    "curves",
    "fx_rates",
    "rate_indices",
    "index_fixings",
    "gl_balances",
    "gl_account_map",
)
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


def generate_bank(n_contracts: int, as_of: dt.date = dt.date(2026, 6, 30), seed: int = 20260630) -> dict[str, pa.Table]:
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
        ``positions``, ``counterparties``, ``curves``, ``fx_rates``, ``rate_indices``,
        ``index_fixings``, ``gl_balances`` and ``gl_account_map`` with the column names, codes and
        Arrow types of positions.md (dates ``date32``, amounts / rates ``float64``, ints ``int64``,
        bools ``bool``, codes ``string``). The ledger reconciles exactly to the positions (module
        docstring, "General ledger").
    """
    n = int(n_contracts)
    if n < _MIN_CONTRACTS:
        raise ValueError(f"n_contracts must be at least {_MIN_CONTRACTS}, got {n_contracts}")
    ctx = _Context(as_of, seed, n)
    blocks = _generate_blocks(ctx)
    positions = _assemble(blocks, POSITIONS)
    counterparties = _counterparties(ctx, blocks)
    account_map = _gl_account_map(positions)
    return {
        "positions": positions,
        "counterparties": counterparties,
        "curves": _curves(as_of),
        "fx_rates": _fx_rates(as_of),
        "rate_indices": _rate_indices(),
        "index_fixings": ctx.market.fixings_table(),
        "gl_balances": _gl_balances(positions, account_map, as_of),
        "gl_account_map": account_map,
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
                # statistics on the numeric and date columns only: string statistics double the time
                stats = [f.name for f in table.schema if not pa.types.is_string(f.type)]
                pq.write_table(table, path, compression="zstd", compression_level=1, write_statistics=stats)
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


_MONTH_DAYS: Final = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _civil(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month (1-12) and 0-based day of month of day numbers (proleptic Gregorian)."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dom0 = doy - (153 * mp + 2) // 5
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, dom0


def _from_civil(year: IntArray, month: IntArray, dom0: IntArray) -> IntArray:
    """Day numbers of (year, month 1-12, 0-based day of month)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + dom0
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _months_of(days: IntArray) -> tuple[IntArray, IntArray]:
    """Month index (12 x year + month - 1) and 0-based day of month."""
    year, month, dom0 = _civil(days)
    return year * 12 + month - 1, dom0


def _add_months(days: IntArray, k: IntArray | int) -> IntArray:
    """``days + k`` calendar months, the day clipped to the target month's end."""
    year, month, dom0 = _civil(days)
    t = year * 12 + (month - 1) + np.asarray(k, dtype=np.int64)
    ny = t // 12
    nm = t - ny * 12 + 1
    leap = (ny % 4 == 0) & ((ny % 100 != 0) | (ny % 400 == 0))
    length = _MONTH_DAYS[nm - 1] + ((nm == 2) & leap)
    return _from_civil(ny, nm, np.minimum(dom0, length - 1))


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
    rng: np.random.Generator, a: int, term_months: IntArray, *, forward: int = 0
) -> tuple[IntArray, IntArray]:
    """Origination in the past (age uniform over the term) and maturity = origination + term.

    ``forward`` rows (chosen at random) start 1 to 60 days after the as-of instead.
    """
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
    if forward > 0:
        fwd = rng.choice(n, size=min(forward, n), replace=False)
        orig[fwd] = a + rng.integers(1, 61, len(fwd))
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
# zero rates (continuous, ACT/365F) in basis points, one value per pillar
_CURVE_POINTS: Final[Mapping[str, tuple[str, tuple[int, ...]]]] = {
    "CNY_RFR": ("CNY", (135, 137, 140, 143, 146, 148, 150, 158, 166, 179, 190, 198, 208, 214, 220)),
    "USD_RFR": ("USD", (370, 370, 368, 364, 360, 358, 357, 360, 368, 382, 395, 408, 420, 426, 430)),
    "HKD_RFR": ("HKD", (305, 308, 312, 318, 322, 324, 325, 328, 333, 342, 350, 358, 366, 370, 374)),
    "EUR_RFR": ("EUR", (195, 195, 196, 197, 198, 200, 202, 210, 220, 235, 248, 260, 270, 276, 280)),
    "CNY_LPR_1Y_PROJ": ("CNY", (300, 300, 300, 300, 300, 300, 300, 300, 301, 302, 303, 304, 305, 305, 305)),
    "CNY_LPR_5Y_PROJ": ("CNY", (350, 350, 350, 350, 350, 350, 350, 350, 351, 352, 353, 354, 355, 355, 355)),
    "CNY_SHIBOR_3M_PROJ": (
        "CNY", (158, 158, 159, 160, 161, 162, 163, 170, 178, 191, 202, 210, 220, 226, 232),
    ),
    "CNY_FR007_PROJ": ("CNY", (148, 150, 150, 151, 152, 153, 154, 161, 169, 182, 193, 201, 211, 217, 223)),
    "USD_SOFR_PROJ": ("USD", (365, 365, 363, 360, 356, 354, 353, 356, 364, 378, 391, 404, 416, 422, 426)),
    "HKD_HIBOR_3M_PROJ": (
        "HKD", (310, 312, 316, 322, 326, 328, 329, 332, 337, 346, 354, 362, 370, 374, 378),
    ),
    "EUR_EURIBOR_3M_PROJ": (
        "EUR", (198, 198, 199, 200, 202, 204, 206, 214, 224, 239, 252, 264, 274, 280, 284),
    ),
}  # fmt: skip


def _zero(curve: str, years: FloatArray | float) -> FloatArray:
    """Zero rate (decimal) of a curve at ``years``, linear between pillars, flat beyond."""
    values = np.array(_CURVE_POINTS[curve][1]) / 10_000.0
    return np.asarray(np.interp(years, _PILLAR_YEARS, values), dtype=np.float64)


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
        return _typed_table(
            {"index_code": codes, "fixing_date": days, "value": values, "source": ["synthetic"] * len(codes)},
            INDEX_FIXINGS,
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
            rows["value"].append(value / 10_000.0)
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


def _typed_table(rows: Mapping[str, Any], schema: TableSchema) -> pa.Table:
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

    def code(self, col: str, value: str | _Codes | None) -> None:
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
        return v


def _pick(rng: np.random.Generator, n: int, labels: Sequence[str], p: Sequence[float]) -> _Codes:
    probs = np.asarray(p, dtype=np.float64)
    return tuple(labels), rng.choice(len(labels), size=n, p=probs / probs.sum()).astype(np.int64)


def _where(mask: BoolArray, labels: Sequence[str], yes: int, no: int = -1) -> _Codes:
    return tuple(labels), np.where(mask, yes, no).astype(np.int64)


# --------------------------------------------------------------------------------------------
# Assembly into Arrow
# --------------------------------------------------------------------------------------------


def _arrow_column(blocks: Sequence[_Block], name: str, logical: LogicalType) -> pa.Array:
    """One positions column: each block's values written into a preallocated array, then Arrow."""
    n_total = sum(b.n for b in blocks)
    spans = []
    start = 0
    for b in blocks:
        spans.append((b, start, start + b.n, b.cols.get(name)))
        start += b.n
    if name in _ID_COLUMNS:
        vocab: dict[str, int] = {}
        p = np.full(n_total, -1, dtype=np.int32)
        num = np.full(n_total, -1, dtype=np.int64)
        for _, lo, hi, v in spans:
            if v is not None:
                _, labels, idx, numbers = v
                lut = np.array([vocab.setdefault(lab, len(vocab)) for lab in labels] + [-1], dtype=np.int32)
                p[lo:hi] = lut[idx]
                num[lo:hi] = numbers
        valid = np.flatnonzero(p >= 0)
        if len(valid) == n_total:
            return _format_ids(list(vocab), p, num, _ID_COLUMNS[name])
        # sparse column: format the given ids only, then spread them with nulls elsewhere
        ids = _format_ids(list(vocab), p[valid], num[valid], _ID_COLUMNS[name])
        where = np.full(n_total, -1, dtype=np.int32)
        where[valid] = np.arange(len(valid), dtype=np.int32)
        return pc.take(ids, pa.array(where, pa.int32(), mask=where < 0))
    if logical in (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL, LogicalType.INT):
        arr = np.full(n_total, np.nan)
        for _, lo, hi, v in spans:
            if v is not None:
                arr[lo:hi] = v
        nan = np.isnan(arr)
        if logical is LogicalType.INT:
            return pa.array(np.where(nan, 0, arr).astype(np.int64), pa.int64(), mask=nan)
        return pa.array(arr, pa.float64(), mask=nan)
    if logical is LogicalType.DATE:
        days = np.zeros(n_total, dtype=np.int32)
        null = np.ones(n_total, dtype=bool)
        for _, lo, hi, v in spans:
            if v is not None:
                null[lo:hi] = v == _NO_DAY
                days[lo:hi] = np.where(null[lo:hi], 0, v)
        return pa.array(days, pa.date32(), mask=null)
    if logical is LogicalType.BOOL:
        flags = np.full(n_total, -1, dtype=np.int8)
        for _, lo, hi, v in spans:
            if v is not None:
                flags[lo:hi] = v
        return pa.array(flags == 1, pa.bool_(), mask=flags < 0)
    # code-like columns: dictionary indices over a small vocabulary, then decoded to string
    vocab = {}
    codes = np.full(n_total, -1, dtype=np.int32)
    for _, lo, hi, v in spans:
        if v is None:
            continue
        if isinstance(v, str):
            codes[lo:hi] = vocab.setdefault(v, len(vocab))
        else:
            labels, idx = v
            lut = np.array([vocab.setdefault(lab, len(vocab)) for lab in labels] + [-1], dtype=np.int32)
            codes[lo:hi] = lut[idx]
    return pc.take(pa.array(list(vocab), pa.string()), pa.array(codes, pa.int32(), mask=codes < 0))


def _format_ids(prefixes: Sequence[str], code: npt.NDArray[np.integer[Any]], number: IntArray, width: int) -> pa.Array:
    """``prefix + zero-padded number`` per row (just the prefix where the number is negative)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.maximum(number, 0)), pa.string()), width, "0")
    if (number < 0).any():
        digits = pc.if_else(pa.array(number >= 0), digits, pa.scalar("", pa.string()))
    prefix = pc.take(pa.array(prefixes, pa.string()), pa.array(code, pa.int32()))
    return pc.binary_join_element_wise(prefix, digits, "")


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


# --------------------------------------------------------------------------------------------
# Code lists used by the generator
# --------------------------------------------------------------------------------------------

_RT: Final = ("fixed", "floating", "administered", "hybrid", "non_interest_bearing")
_FIXED, _FLOATING, _ADMIN, _NIB = 0, 1, 2, 4
_AM: Final = ("bullet", "annuity", "annuity_fixed_payment", "linear", "schedule", "non_maturity")
_BULLET, _ANNUITY, _LINEAR, _NONMAT = 0, 1, 3, 5
_DC: Final = ("act_360", "act_365f", "act_act_icma", "30_360_us")
_A360, _A365, _ICMA, _US30 = 0, 1, 2, 3
_DC_BASIS: Final = np.array([360.0, 365.0, 365.0, 360.0])
_QUALITY: Final = ("normal", "special_mention", "substandard", "doubtful", "loss")
_LPR1, _LPR5, _SHIBOR3M, _FR007, _SOFR, _HIBOR3M, _EURIBOR3M = range(7)
#: floating index by currency for loans / placements (CNY is decided per product)
_CCY_INDEX: Final = np.array([_LPR1, _SOFR, _HIBOR3M, _EURIBOR3M])
_INDEX_LABELS: Final = tuple(ix.code for ix in _INDICES)


def _fx_of(ccy: IntArray) -> FloatArray:
    return _FX[ccy]


def _amounts(
    rng: np.random.Generator, n: int, mean: float, sigma: float, total_cny: float, ccy: IntArray, *, lot: float = 0.01
) -> FloatArray:
    """Lognormal CNY-equivalent amounts scaled to ``total_cny``, in contract currency, rounded to ``lot``."""
    mu = math.log(mean) - sigma * sigma / 2.0
    x = rng.lognormal(mu, sigma, n)
    x *= total_cny / x.sum()
    out = np.round(x / _fx_of(ccy) / lot) * lot
    return np.asarray(np.round(np.maximum(out, max(lot, 100.0)), 2), dtype=np.float64)


def _rates(rng: np.random.Generator, lo: FloatArray | float, hi: FloatArray | float, n: int) -> FloatArray:
    """Uniform rates in [lo, hi], rounded to 0.5 bp."""
    return np.round((lo + (np.asarray(hi) - lo) * rng.random(n)) * 20000.0) / 20000.0


def _freq_codes(months: IntArray, mask: BoolArray | None = None) -> _Codes:
    labels = ("T", "1M", "3M", "6M", "1Y")
    lut = np.full(13, -1, dtype=np.int64)
    for m, lab in _FREQ_LABELS.items():
        lut[m] = labels.index(lab)
    idx = lut[np.clip(months, 0, 12)]
    if mask is not None:
        idx = np.where(mask, idx, -1)
    return labels, idx


def _quarter_settlement(a: int) -> int:
    """Last interest settlement day (the 20th of Mar / Jun / Sep / Dec) on or before the as-of."""
    d = _EPOCH + dt.timedelta(days=a)
    y, m = d.year, d.month
    while True:
        if m % 3 == 0 and dt.date(y, m, 20) <= d:
            return _day(dt.date(y, m, 20))
        m -= 1
        if m == 0:
            y, m = y - 1, 12


# --------------------------------------------------------------------------------------------
# Generation context and row allocation
# --------------------------------------------------------------------------------------------

#: Segment -> (weight in rows, rows per unit). Units of two rows are deals / linked pairs.
_ROW_MIX: Final[Mapping[str, tuple[float, int]]] = {
    "corp_loan": (0.025, 1),
    "sme_loan": (0.035, 1),
    "mortgage": (0.18, 1),
    "consumer": (0.10, 1),
    "card": (0.14, 1),
    "bill": (0.008, 1),
    "bond": (0.004, 1),
    "ib_asset": (0.0012, 1),
    "rev_repo": (0.0005, 1),
    "ret_demand": (0.26, 1),
    "ret_pool": (0.002, 1),
    "corp_demand": (0.035, 1),
    "ret_term": (0.12, 1),
    "corp_term": (0.012, 1),
    "notice": (0.006, 1),
    "ib_liab": (0.0008, 1),
    "ib_borrow": (0.0004, 1),
    "repo": (0.0004, 1),
    "issued": (0.0003, 1),
    "mlf": (0.00001, 1),
    "commitment": (0.012, 1),
    "guarantee": (0.002, 1),
    "acceptance": (0.008, 2),  # acceptance + its margin deposit
    "irs": (0.001, 2),
    "fx_fwd": (0.0004, 2),
}
#: Segment -> CNY-equivalent balance as a share of the asset target T.
_BALANCE_MIX: Final[Mapping[str, float]] = {
    "corp_loan": 0.37,
    "sme_loan": 0.07,
    "mortgage": 0.12,
    "consumer": 0.008,
    "card": 0.001,
    "bill": 0.03,
    "bond": 0.27,
    "ib_asset": 0.04,
    "rev_repo": 0.02,
    "excess_reserve": 0.02,
    "cash": 0.004,
    "ret_demand": 0.06,
    "ret_pool": 0.001,
    "corp_demand": 0.22,
    "ret_term": 0.195,
    "corp_term": 0.165,
    "notice": 0.02,
    "ib_liab": 0.045,
    "ib_borrow": 0.02,
    "repo": 0.03,
    "issued": 0.08,
    "mlf": 0.025,
}
_REQUIRED_RESERVE_RATIO: Final = 0.055  # of CNY customer deposits (weighted average RRR, 2026)
_FX_RESERVE_RATIO: Final = 0.04
_EQUITY_SPLIT: Final = (
    ("EQ_PAID_IN", "400101", 0.20),
    ("EQ_CAP_RESERVE", "400201", 0.25),
    ("EQ_SURPLUS_RESERVE", "410101", 0.10),
    ("EQ_GENERAL_RISK_RESERVE", "410201", 0.15),
    ("EQ_RETAINED_EARNINGS", "410401", 0.30),
)
_N_FIXED_ROWS: Final = 3 + len(_BRANCHES) + 3 + len(_EQUITY_SPLIT)  # reserves, cash, FX cash, equity


def _allocate(n: int) -> dict[str, int]:
    """Rows per segment, summing with the fixed rows to exactly ``n``."""
    m = n - _N_FIXED_ROWS
    weight = sum(w for w, _ in _ROW_MIX.values())
    counts = {k: max(1, int(w / weight * m / size)) * size for k, (w, size) in _ROW_MIX.items()}
    counts["mlf"] = max(2, n // 100_000)
    need = 2 * (counts["repo"] + counts["mlf"]) + 2  # pledgeable bonds for repos and MLF
    counts["bond"] = max(counts["bond"], need)
    counts["ret_demand"] += m - sum(counts.values())
    if counts["ret_demand"] < 1:
        raise ValueError(f"n_contracts={n} is too small for the product mix")
    return counts


class _Context:
    """Everything the segment generators share."""

    def __init__(self, as_of: dt.date, seed: int, n: int) -> None:
        self.as_of = as_of
        self.a = _day(as_of)
        self.seed = int(seed)
        self.n = n
        self.total = _ASSET_SCALE * n
        self.market = _Market(as_of, self.seed)
        self.counts = _allocate(n)
        c = self.counts
        retail_rows = c["mortgage"] + c["consumer"] + c["card"] + c["ret_demand"] + c["ret_term"] + c["notice"]
        self.retail_pool = max(20, int(0.6 * retail_rows))
        self.corp_pool = max(20, int(0.045 * n))
        self.sme_pool = max(20, int(0.05 * n))
        self.pse_pool = max(5, n // 2000)
        self.nm_last = _quarter_settlement(self.a)

    def rng(self, key: int) -> np.random.Generator:
        """Independent generator per segment: one segment's changes leave the others alone."""
        return np.random.default_rng([self.seed, key])

    def bal(self, segment: str) -> float:
        return _BALANCE_MIX[segment] * self.total


# counterparty pools: prefix -> (counterparty_type, number range); named counterparties have no number
_NAMED: Final[Mapping[str, tuple[str, str | None, str, str]]] = {
    # id: (counterparty_type, fi_subtype, country, name)
    "PBOC": ("central_bank", None, "CN", "People's Bank of China 中国人民银行"),
    "MOF": ("sovereign", None, "CN", "Ministry of Finance of the PRC 财政部"),
    "CDB": ("bank", "policy_bank", "CN", "China Development Bank 国家开发银行"),
    "ADBC": ("bank", "policy_bank", "CN", "Agricultural Development Bank of China 中国农业发展银行"),
    "EXIM": ("bank", "policy_bank", "CN", "Export-Import Bank of China 中国进出口银行"),
    "CSRG": ("pse", None, "CN", "China State Railway Group 中国国家铁路集团"),
    "UST": ("sovereign", None, "US", "United States Treasury"),
    "DEFIN": ("sovereign", None, "DE", "Federal Republic of Germany (Finanzagentur)"),
    "SHCH": ("fmu", "ccp", "CN", "Shanghai Clearing House 银行间市场清算所"),
}


def _cp_mix(
    rng: np.random.Generator, n: int, options: Sequence[tuple[str, int, int, float]]
) -> tuple[_Codes, IntArray]:
    """Counterparty ids: per row one option ``(prefix, lo, hi, probability)``, number in [lo, hi]."""
    labels = tuple(o[0] for o in options)
    p = np.array([o[3] for o in options], dtype=np.float64)
    which = rng.choice(len(options), size=n, p=p / p.sum()).astype(np.int64)
    nums = np.full(n, -1, dtype=np.int64)
    for j, (_, lo, hi, _) in enumerate(options):
        m = which == j
        if lo >= 0 and m.any():
            nums[m] = rng.integers(lo, hi + 1, int(m.sum()))
    return (labels, which), nums


def _set_cp(b: _Block, cp: tuple[_Codes, IntArray]) -> None:
    b.ident("counterparty_id", cp[0], cp[1])


_RETAIL_BRANCH_P: Final = np.array([0.0] + [1.0 / (1 + 0.15 * i) for i in range(len(_BRANCHES) - 1)])


def _branch(rng: np.random.Generator, n: int, *, head_office_share: float = 0.0) -> _Codes:
    p = _RETAIL_BRANCH_P / _RETAIL_BRANCH_P.sum() * (1 - head_office_share)
    p[0] = head_office_share
    return _pick(rng, n, _BRANCHES, p)


def _common(
    b: _Block,
    *,
    source: str,
    product: str | _Codes,
    gl: str | _Codes | None,
    instrument: str | _Codes,
    subtype: str | _Codes | None,
    side: str | _Codes,
    on_bs: bool,
    ccy: IntArray,
    branch: str | _Codes,
    line: str | _Codes,
    book: str | _Codes = "banking",
) -> None:
    b.code("source_system", source)
    b.code("reporting_entity_id", _ENTITY)
    b.code("branch_id", branch)
    b.code("business_line", line)
    b.code("product_code", product)
    b.code("gl_account", gl)
    b.code("instrument_type", instrument)
    b.code("product_subtype", subtype)
    b.code("side", side)
    b.flag("on_balance_sheet", on_bs)
    b.code("currency", (CURRENCIES, ccy))
    b.code("book", book)


# --------------------------------------------------------------------------------------------
# Terms: schedules, rates and accrued interest (shared by every dated / interest-bearing row)
# --------------------------------------------------------------------------------------------


@dataclass
class _Terms:
    next_interest: IntArray
    next_principal: IntArray
    rate: FloatArray


def _terms(
    ctx: _Context,
    b: _Block,
    *,
    orig: IntArray | None,
    mat: IntArray | None,
    balance: FloatArray,
    rtype: IntArray,
    rate: FloatArray,
    ifreq: IntArray | int,
    pfreq: IntArray | int,
    amort: IntArray | int,
    day_count: IntArray | int,
    index: IntArray | None = None,
    spread: FloatArray | float = 0.0,
    reset: IntArray | int = 0,
    accrual: BoolArray | None = None,
    advance: BoolArray | bool = False,
    overdue: FloatArray | None = None,
    next_reset: IntArray | None = None,
    last_reset: IntArray | None = None,
) -> _Terms:
    """Set dates, frequencies, rate terms, next dates and accrued interest of a block.

    ``ifreq`` / ``pfreq`` are months (0 = ``T``); ``reset`` months, or minus days (-7 = 7D);
    ``index`` is -1 where the row is not floating. ``mat`` null (``_NO_DAY``) = non-maturity.
    """
    a = ctx.a
    n = b.n
    full = np.full(n, _NO_DAY, dtype=np.int64)
    orig = full.copy() if orig is None else np.asarray(orig, dtype=np.int64)
    mat = full.copy() if mat is None else np.asarray(mat, dtype=np.int64)
    ifreq = np.broadcast_to(np.asarray(ifreq, dtype=np.int64), (n,))
    pfreq = np.broadcast_to(np.asarray(pfreq, dtype=np.int64), (n,))
    amort = np.broadcast_to(np.asarray(amort, dtype=np.int64), (n,))
    day_count = np.broadcast_to(np.asarray(day_count, dtype=np.int64), (n,))
    rtype = np.broadcast_to(np.asarray(rtype, dtype=np.int64), (n,))
    index = np.full(n, -1, dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)
    spread = np.broadcast_to(np.asarray(spread, dtype=np.float64), (n,))
    reset = np.broadcast_to(np.asarray(reset, dtype=np.int64), (n,))
    accrual = np.ones(n, dtype=bool) if accrual is None else accrual
    advance = np.broadcast_to(np.asarray(advance, dtype=bool), (n,))
    rate = np.array(rate, dtype=np.float64, copy=True)

    has_orig = orig != _NO_DAY
    dated = mat != _NO_DAY
    bearing = rtype != _NIB
    anchor = np.where(has_orig, np.maximum(orig, a), a)
    b.day("origination_date", orig)
    b.day("maturity_date", mat)
    b.code("amortisation_type", (_AM, amort))

    # interest schedule
    next_i = full.copy()
    prev_i = np.where(has_orig, orig, a)
    per = dated & bearing & (ifreq > 0)
    if per.any():
        nd, pd = _roll_after(anchor[per], mat[per], ifreq[per])
        next_i[per] = nd
        prev_i[per] = np.maximum(pd, orig[per])
    once = dated & bearing & (ifreq == 0)
    next_i[once] = mat[once]
    nm = ~dated & bearing
    prev_i[nm] = np.where(has_orig[nm], np.maximum(orig[nm], ctx.nm_last), ctx.nm_last)
    b.day("next_interest_payment_date", next_i)
    b.code("interest_payment_frequency", _freq_codes(ifreq, bearing))

    # principal schedule
    next_p = full.copy()
    perp = dated & (pfreq > 0) & (amort != _BULLET)
    if perp.any():
        next_p[perp], _ = _roll_after(anchor[perp], mat[perp], pfreq[perp])
    bullet = dated & ~perp
    next_p[bullet] = mat[bullet]
    b.day("next_principal_payment_date", next_p)
    b.code("principal_payment_frequency", _freq_codes(np.where(perp, pfreq, 0), dated))

    # floating terms
    fl = index >= 0
    nr = full.copy()
    if fl.any():
        if next_reset is not None:
            nr[fl] = next_reset[fl]
            lr = last_reset[fl] if last_reset is not None else nr[fl] - 365
        else:
            lr = np.empty(int(fl.sum()), dtype=np.int64)
            months = fl & (reset > 0)
            days = fl & (reset < 0)
            sel_m, sel_d = months[fl], days[fl]
            if months.any():
                nr[months], lr[sel_m] = _roll_after(anchor[months], mat[months], reset[months])
            if days.any():
                step = int(-reset[days][0])
                nr[days], lr[sel_d] = _roll_after_days(anchor[days], mat[days], step)
        nr[fl] = np.minimum(nr[fl], mat[fl])
        last = np.where(has_orig[fl], np.maximum(lr, orig[fl]), lr)
        fix = ctx.market.fixing(index[fl], np.minimum(last - _INDEX_LAG[index[fl]], a))
        rate[fl] = np.round(fix + spread[fl], 6)
        reset_labels = ("1M", "3M", "6M", "1Y", "7D")
        ridx = np.select([reset == 1, reset == 3, reset == 6, reset == 12, reset == -7], [0, 1, 2, 3, 4], -1).astype(
            np.int64
        )
        b.code("rate_index", (_INDEX_LABELS, index))
        b.num("spread", np.where(fl, spread, np.nan))
        b.num("rate_multiplier", np.where(fl, 1.0, np.nan))
        b.code("reset_frequency", (reset_labels, np.where(fl, ridx, -1)))
        b.day("next_reset_date", nr)
        b.num("reset_lag_days", np.where(fl, _INDEX_LAG[np.maximum(index, 0)], np.nan))
    rtype_out = np.where(fl, _FLOATING, rtype)
    b.code("rate_type", (_RT, rtype_out))
    rate = np.where(bearing, rate, np.nan)
    b.num("current_rate", rate)
    b.code("day_count", (_DC, np.where(bearing, day_count, -1)))
    b.code("interest_timing", (("arrears", "advance"), np.where(bearing, advance.astype(np.int64), -1)))

    # accrued interest since the start of the current period, on the balance net of overdue
    net = balance - (0.0 if overdue is None else overdue)
    elapsed = np.maximum(a - prev_i, 0)
    accrued = net * np.nan_to_num(rate) * elapsed / _DC_BASIS[day_count]
    accrued = np.where(accrual & (anchor == a), np.round(accrued, 2), 0.0)
    accrued = np.where(bearing & ~advance, accrued, np.nan)
    b.num("accrued_interest", accrued)
    return _Terms(next_i, next_p, rate)


def _remaining_fraction(
    amort: IntArray, rate: FloatArray, pfreq: IntArray, orig: IntArray, mat: IntArray, next_p: IntArray, a: int
) -> FloatArray:
    """Outstanding / original principal after the instalments already paid."""
    step = np.maximum(pfreq, 1)
    total_m, _ = _months_of(mat)
    start_m, _ = _months_of(orig)
    next_m, _ = _months_of(next_p)
    n_total = np.maximum(np.round((total_m - start_m) / step), 1)
    remaining = np.clip((total_m - next_m) // step + 1, 1, n_total)
    paid = n_total - remaining
    i = np.maximum(rate, 1e-9) * step / 12.0
    annuity = ((1 + i) ** n_total - (1 + i) ** paid) / ((1 + i) ** n_total - 1)
    linear = remaining / n_total
    frac = np.where(amort == _ANNUITY, annuity, np.where(amort == _LINEAR, linear, 1.0))
    return np.where(orig > a, 1.0, np.clip(frac, 0.01, 1.0))


def _amortised_amounts(
    ctx: _Context,
    rng: np.random.Generator,
    *,
    mean: float,
    sigma: float,
    total_cny: float,
    ccy: IntArray,
    amort: IntArray,
    rate: FloatArray,
    pfreq: IntArray,
    orig: IntArray,
    mat: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """(balance, original amount): lognormal original amounts times the share still outstanding.

    The balances are scaled so that their CNY equivalent sums to ``total_cny``; ``rate`` is the
    rate used to size annuity instalments (an estimate for floaters is enough).
    """
    n = len(ccy)
    a = ctx.a
    periodic = (amort != _BULLET) & (pfreq > 0)
    next_p = mat.copy()
    if periodic.any():
        next_p[periodic], _ = _roll_after(np.maximum(orig[periodic], a), mat[periodic], pfreq[periodic])
    frac = _remaining_fraction(amort, rate, pfreq, orig, mat, next_p, a)
    original = rng.lognormal(math.log(mean) - sigma * sigma / 2.0, sigma, n)
    scale = total_cny / float((original * frac).sum())
    original_ccy = np.round(original * scale / _fx_of(ccy), 2)
    balance = np.maximum(np.round(original_ccy * frac, 2), 100.0)
    return balance, np.maximum(original_ccy, balance)


def _estimated_rate(index: IntArray, spread: FloatArray, fixed: FloatArray) -> FloatArray:
    levels = np.array([ix.level for ix in _INDICES])
    return np.where(index >= 0, levels[np.maximum(index, 0)] + spread, fixed)


def _quality(
    rng: np.random.Generator,
    b: _Block,
    balance: FloatArray,
    npl: float,
    watch: float,
    *,
    performing: BoolArray | None = None,
) -> tuple[FloatArray, BoolArray]:
    """Five-category class, overdue principal, days past due and accrual status.

    ``performing`` rows (e.g. not yet drawn) are always ``normal``.
    """
    n = b.n
    u = rng.random(n)
    if performing is not None:
        u = np.where(performing, 1.0, u)
    cls = np.where(u < npl + watch, 1, 0)
    npl_rows = u < npl
    cls = np.where(npl_rows, rng.choice([2, 3, 4], n, p=[0.55, 0.30, 0.15]), cls)
    v = rng.random(n)
    lo = np.array([0.0, 0.01, 0.05, 0.30, 0.60])[cls]
    hi = np.array([0.0, 0.10, 0.40, 1.00, 1.00])[cls]
    frac = lo + (hi - lo) * rng.random(n)
    has_overdue = (cls >= 2) | ((cls == 1) & (v < 0.5))
    overdue = np.where(has_overdue, np.minimum(np.round(balance * frac, 2), balance), 0.0)
    dpd_lo = np.array([0, 1, 91, 181, 361])[cls]
    dpd_hi = np.array([0, 89, 180, 360, 1000])[cls]
    dpd = np.where(has_overdue, rng.integers(dpd_lo, dpd_hi + 1), 0)
    non_accrual = (cls >= 3) | ((cls == 2) & (v < 0.5))
    b.code("asset_quality_class", (_QUALITY, cls))
    b.num("overdue_principal", overdue)
    b.num("days_past_due", dpd.astype(np.float64))
    b.flag("is_defaulted", cls >= 2)
    b.code("accrual_status", (("accrual", "non_accrual"), non_accrual.astype(np.int64)))
    return overdue, ~non_accrual


def _performing(b: _Block, *, overdue_known: bool = True) -> None:
    """Credit exposure in good standing (interbank, securities, reverse repos)."""
    b.code("asset_quality_class", "normal")
    b.code("accrual_status", "accrual")
    if overdue_known:
        b.num("overdue_principal", 0.0)


def _loan_rates(
    rng: np.random.Generator, ccy: IntArray, floating: BoolArray, cny_index: IntArray, n: int
) -> tuple[IntArray, FloatArray, FloatArray, IntArray, IntArray]:
    """(index, spread, fixed rate, reset months, day count) of loans by currency."""
    index = np.where(ccy == 0, cny_index, _CCY_INDEX[ccy])
    index = np.where(floating, index, -1)
    spread = np.select(
        [index == _LPR1, index == _LPR5, index == _SOFR, index == _HIBOR3M, index == _EURIBOR3M],
        [_rates(rng, -0.0045, 0.0120, n), _rates(rng, -0.0060, 0.0080, n), _rates(rng, 0.0090, 0.0220, n),
         _rates(rng, 0.0100, 0.0200, n), _rates(rng, 0.0080, 0.0180, n)],
        0.0,
    )  # fmt: skip
    fixed = np.select(
        [ccy == 0, ccy == 1, ccy == 2],
        [_rates(rng, 0.0260, 0.0450, n), _rates(rng, 0.0480, 0.0650, n), _rates(rng, 0.0420, 0.0580, n)],
        _rates(rng, 0.0280, 0.0420, n),
    )
    reset = np.where((index == _LPR1) | (index == _LPR5), rng.choice([12, 3], n, p=[0.6, 0.4]), 3)
    day_count = np.select([ccy == 1, ccy == 2], [np.where(floating, _A360, _US30), _A365], _A360)
    return index, spread, fixed, reset, day_count


# --------------------------------------------------------------------------------------------
# Asset segments
# --------------------------------------------------------------------------------------------

_CORP_SUBTYPES: Final = ("working_capital", "fixed_asset", "project_finance")
_CREDIT_SUPPORT: Final = ("unsecured", "guaranteed", "mortgage", "pledge", "mixed")


def _corporate_loans(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["corp_loan"], ctx.a, ctx.rng(1)
    b = _Block("LNCORP", n)
    sub = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    ccy = rng.choice(4, n, p=[0.90, 0.06, 0.025, 0.015])
    term = np.select(
        [sub == 0, sub == 1],
        [rng.choice([6, 12, 12, 12, 24, 36], n), rng.choice([36, 48, 60, 72, 84, 96, 120], n)],
        rng.choice([60, 84, 120, 180, 240], n),
    )
    u = rng.random(n)
    amort = np.select(
        [sub == 0, sub == 1],
        [np.where(u < 0.85, _BULLET, _LINEAR), np.where(u < 0.2, _BULLET, np.where(u < 0.4, _ANNUITY, _LINEAR))],
        np.where(u < 0.8, _LINEAR, _ANNUITY),
    )
    pfreq = np.where(amort == _BULLET, 0, np.where(sub == 2, 6, rng.choice([3, 6], n)))
    ifreq = np.where(ccy == 0, rng.choice([1, 3], n, p=[0.4, 0.6]), 3)
    ifreq = np.where(amort == _ANNUITY, pfreq, np.where(amort == _LINEAR, np.minimum(ifreq, pfreq), ifreq))
    orig, mat = _term_dates(rng, a, term, forward=max(2, round(0.003 * n)))
    floating = rng.random(n) < np.where(ccy == 0, 0.75, 0.8)
    cny_index = np.where((sub > 0) & (term >= 60) & (rng.random(n) < 0.3), _LPR5, _LPR1)
    index, spread, fixed, reset, day_count = _loan_rates(rng, ccy, floating, cny_index, n)
    balance, original = _amortised_amounts(
        ctx, rng, mean=25e6, sigma=1.3, total_cny=ctx.bal("corp_loan"), ccy=ccy, amort=amort,
        rate=_estimated_rate(index, spread, fixed), pfreq=pfreq, orig=orig, mat=mat,
    )  # fmt: skip
    overdue, accrual = _quality(rng, b, balance, npl=0.018, watch=0.03, performing=orig > a)
    _common(
        b, source="core_banking", product=(("LN_CORP_WC", "LN_CORP_FA", "LN_CORP_PF"), sub), gl="130301",
        instrument="loan", subtype=(_CORP_SUBTYPES, sub), side="asset", on_bs=True, ccy=ccy,
        branch=_branch(rng, n, head_office_share=0.2), line="corporate_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    b.num("overdue_principal", overdue)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=fixed, ifreq=ifreq,
        pfreq=pfreq, amort=amort, day_count=day_count, index=index, spread=spread, reset=reset,
        accrual=accrual, overdue=overdue,
    )  # fmt: skip
    b.num("original_amount", original)
    b.num("rate_floor", np.where((index == _SOFR) | (index == _EURIBOR3M), 0.0, np.nan))
    b.num("rate_cap", np.where((index == _SOFR) & (rng.random(n) < 0.3), 0.08, np.nan))
    cal = rng.random(n) < 0.3
    b.code("business_day_convention", (("none", "modified_following"), cal.astype(np.int64)))
    b.code("holiday_calendar", (("cn", "cn+us_ny", "cn+hk", "cn+eu_target"), np.where(cal, ccy, -1)))
    _eom_rule(b, mat, np.maximum(ifreq, pfreq) > 0)
    support = rng.choice(5, n, p=[0.30, 0.30, 0.25, 0.10, 0.05])
    b.code("credit_support_type", (_CREDIT_SUPPORT, support))
    re_secured = support == 2
    b.num("ltv", np.where(re_secured, np.round(0.3 + 0.4 * rng.random(n), 3), np.nan))
    b.code("property_type", _where(re_secured, ("commercial", "land"), 0))
    b.flag("prepayment_allowed", True)
    b.code("behavioural_class", "corporate_prepay")
    b.ident("counterparty_id", "C", rng.integers(1, int(0.6 * ctx.corp_pool) + 2, n))
    return b


def _eom_rule(b: _Block, mat: IntArray, periodic: BoolArray) -> None:
    _, dom0 = _months_of(mat)
    b.flag("end_of_month_rule", np.where(periodic, dom0 == 30, False))


def _sme_loans(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["sme_loan"], ctx.a, ctx.rng(2)
    b = _Block("LNSME", n)
    sub = rng.choice(2, n, p=[0.7, 0.3])  # working_capital (小微企业流动资金), individual_business (个体工商户)
    ccy = np.zeros(n, dtype=np.int64)
    term = rng.choice([6, 12, 12, 24, 36], n)
    amort = np.where(rng.random(n) < 0.6, _BULLET, _ANNUITY)
    pfreq = np.where(amort == _BULLET, 0, 1)
    ifreq = np.where(amort == _BULLET, rng.choice([1, 3], n), 1)
    orig, mat = _term_dates(rng, a, term)
    floating = rng.random(n) < 0.35
    index, spread, fixed, reset, day_count = _loan_rates(rng, ccy, floating, np.full(n, _LPR1), n)
    fixed = _rates(rng, 0.0300, 0.0480, n)
    spread = np.where(floating, _rates(rng, 0.0020, 0.0150, n), 0.0)
    balance, original = _amortised_amounts(
        ctx, rng, mean=3.3e6, sigma=1.1, total_cny=ctx.bal("sme_loan"), ccy=ccy, amort=amort,
        rate=_estimated_rate(index, spread, fixed), pfreq=pfreq, orig=orig, mat=mat,
    )  # fmt: skip
    overdue, accrual = _quality(rng, b, balance, npl=0.025, watch=0.03)
    _common(
        b, source="core_banking", product=(("LN_SME_WC", "LN_SME_IB"), sub), gl="130302", instrument="loan",
        subtype=(("working_capital", "individual_business"), sub), side="asset", on_bs=True, ccy=ccy,
        branch=_branch(rng, n), line="inclusive_finance",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=fixed, ifreq=ifreq,
        pfreq=pfreq, amort=amort, day_count=day_count, index=index, spread=spread, reset=reset,
        accrual=accrual, overdue=overdue,
    )  # fmt: skip
    b.num("original_amount", original)
    _eom_rule(b, mat, ifreq > 0)
    b.code("credit_support_type", _pick(rng, n, _CREDIT_SUPPORT, [0.25, 0.45, 0.2, 0.1, 0.0]))
    support = b.get_code("credit_support_type")[1]
    b.num("ltv", np.where(support == 2, np.round(0.3 + 0.4 * rng.random(n), 3), np.nan))
    b.code("property_type", _where(support == 2, ("commercial", "residential"), 0))
    b.flag("prepayment_allowed", True)
    b.code("behavioural_class", "corporate_prepay")
    b.ident("counterparty_id", "S", rng.integers(1, int(0.7 * ctx.sme_pool) + 2, n))
    return b


def _mortgages(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["mortgage"], ctx.a, ctx.rng(3)
    b = _Block("LNMTG", n)
    ccy = np.zeros(n, dtype=np.int64)
    term = rng.choice([240, 300, 360], n, p=[0.35, 0.25, 0.40])
    age_m = np.floor(rng.random(n) ** 1.3 * 120).astype(np.int64)  # seasoning up to 10 years
    orig = _add_months(np.full(n, a), -age_m) - rng.integers(0, 28, n)
    mat = _add_months(orig, term)
    amort = np.where(rng.random(n) < 0.85, _ANNUITY, _LINEAR)
    floating = rng.random(n) < 0.95
    index = np.where(floating, _LPR5, -1)
    spread = np.where(floating, _rates(rng, -0.0040, 0.0070, n), 0.0)
    fixed = _rates(rng, 0.0350, 0.0420, n)
    year = ctx.as_of.year
    next_jan = np.full(n, _day(dt.date(year + 1, 1, 1)), dtype=np.int64)
    last_jan = np.full(n, _day(dt.date(year, 1, 1)), dtype=np.int64)
    # balance = original amount x the share still outstanding after the instalments paid
    next_p, _ = _roll_after(np.full(n, a), mat, np.ones(n, dtype=np.int64))
    rate_estimate = np.where(floating, _INDICES[_LPR5].level + spread, fixed)
    frac = _remaining_fraction(amort, rate_estimate, np.ones(n, dtype=np.int64), orig, mat, next_p, a)
    original = rng.lognormal(math.log(1.3e6) - 0.18, 0.6, n)
    scale = ctx.bal("mortgage") / (original * frac).sum()
    original = np.round(original * scale, 2)
    balance = np.maximum(np.round(original * frac, 2), 100.0)
    overdue, accrual = _quality(rng, b, balance, npl=0.006, watch=0.01)
    _common(
        b, source="core_banking", product="LN_MORTGAGE", gl="130311", instrument="loan",
        subtype="mortgage_residential", side="asset", on_bs=True, ccy=ccy, branch=_branch(rng, n),
        line="retail_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    b.num("original_amount", np.maximum(original, balance))
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=fixed, ifreq=1, pfreq=1,
        amort=amort, day_count=_A360, index=index, spread=spread, reset=12, next_reset=next_jan,
        last_reset=last_jan, accrual=accrual, overdue=overdue,
    )  # fmt: skip
    _eom_rule(b, mat, np.ones(n, dtype=bool))
    b.code("credit_support_type", "mortgage")
    b.num("ltv", np.round(np.clip(0.2 + 0.5 * rng.random(n) * frac, 0.05, 0.8), 3))
    b.code("property_type", "residential")
    b.flag("prepayment_allowed", True)
    b.code("prepayment_penalty_type", "none")
    b.code("behavioural_class", "mortgage_prepay")
    b.code("business_day_convention", "none")
    b.ident("counterparty_id", "R", rng.integers(1, ctx.retail_pool + 1, n))
    return b


def _consumer_loans(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["consumer"], ctx.a, ctx.rng(4)
    b = _Block("LNCONS", n)
    ccy = np.zeros(n, dtype=np.int64)
    term = rng.choice([12, 24, 36, 60], n, p=[0.3, 0.3, 0.3, 0.1])
    orig, mat = _term_dates(rng, a, term)
    rate = _rates(rng, 0.0320, 0.0720, n)
    monthly = np.ones(n, dtype=np.int64)
    balance, original = _amortised_amounts(
        ctx, rng, mean=150e3, sigma=0.9, total_cny=ctx.bal("consumer"), ccy=ccy, amort=np.full(n, _ANNUITY),
        rate=rate, pfreq=monthly, orig=orig, mat=mat,
    )  # fmt: skip
    overdue, accrual = _quality(rng, b, balance, npl=0.015, watch=0.02)
    _common(
        b, source="consumer_finance", product="LN_CONSUMER", gl="130312", instrument="loan", subtype="consumer",
        side="asset", on_bs=True, ccy=ccy, branch=_branch(rng, n), line="retail_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=rate, ifreq=1, pfreq=1,
        amort=_ANNUITY, day_count=_A360, accrual=accrual, overdue=overdue,
    )  # fmt: skip
    b.num("original_amount", original)
    _eom_rule(b, mat, np.ones(n, dtype=bool))
    b.code("credit_support_type", _pick(rng, n, ("unsecured", "guaranteed"), [0.8, 0.2]))
    b.flag("prepayment_allowed", True)
    b.code("behavioural_class", "consumer_prepay")
    b.ident("counterparty_id", "R", rng.integers(1, ctx.retail_pool + 1, n))
    return b


def _cards(ctx: _Context) -> _Block:
    n, rng = ctx.counts["card"], ctx.rng(5)
    b = _Block("CARD", n)
    ccy = np.zeros(n, dtype=np.int64)
    limit = np.round(
        rng.choice([10e3, 20e3, 30e3, 50e3, 80e3, 100e3, 200e3], n, p=[0.2, 0.25, 0.2, 0.15, 0.1, 0.07, 0.03])
    )
    use = rng.beta(1.2, 3.0, n)
    raw = limit * use
    balance = np.round(np.minimum(raw * ctx.bal("card") / raw.sum(), limit), 2)
    balance = np.maximum(balance, 1.0)
    overdue, accrual = _quality(rng, b, balance, npl=0.02, watch=0.02)
    transactor = rng.random(n) < 0.55
    _common(
        b, source="cards", product="CARD_STANDARD", gl="130321", instrument="revolving_credit",
        subtype="credit_card", side="asset", on_bs=True, ccy=ccy, branch=_branch(rng, n), line="credit_card",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=None, mat=None, balance=balance, rtype=np.full(n, _FIXED), rate=np.full(n, 0.1825),
        ifreq=1, pfreq=0, amort=_NONMAT, day_count=_A360, accrual=accrual & ~transactor, overdue=overdue,
    )  # fmt: skip
    b.num("limit_amount", limit)
    b.num("undrawn_amount", np.round(limit - balance, 2))
    b.flag("unconditionally_cancellable", True)
    b.flag("is_transactor", transactor)
    b.code("behavioural_class", "card_revolving")
    b.code("credit_support_type", "unsecured")
    b.ident("counterparty_id", "R", rng.integers(1, ctx.retail_pool + 1, n))
    return b


def _bills(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["bill"], ctx.a, ctx.rng(6)
    b = _Block("BILL", n)
    ccy = np.zeros(n, dtype=np.int64)
    term_days = rng.choice([90, 180, 180, 270, 360], n)
    orig, mat = _day_term_dates(rng, a, term_days)
    rate = _rates(rng, 0.0095, 0.0165, n)
    balance = _amounts(rng, n, 5.6e6, 1.0, ctx.bal("bill"), ccy)
    _common(
        b, source="bills", product=_pick(rng, n, ("BILL_DISC_BA", "BILL_REDISC_BA"), [0.8, 0.2]), gl="130101",
        instrument="bill_discount", subtype=None, side="asset", on_bs=True, ccy=ccy,
        branch=_branch(rng, n, head_office_share=0.3), line="corporate_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=rate, ifreq=0, pfreq=0,
        amort=_BULLET, day_count=_A360, advance=True,
    )  # fmt: skip
    _performing(b)
    b.code("credit_support_type", "pledge")
    _set_cp(b, _cp_mix(rng, n, [("C", 1, ctx.corp_pool, 0.6), ("S", 1, ctx.sme_pool, 0.4)]))
    return b


_BOND_SUBTYPES: Final = (
    "government_bond",
    "policy_bank_bond",
    "local_government_bond",
    "financial_bond",
    "ncd",
    "corporate_bond",
)
_GOV, _POLICY, _LOCAL, _FINBOND, _NCD, _CORPBOND = range(6)
_BOND_SPREAD: Final = np.array([0.0005, 0.0015, 0.0025, 0.0035, 0.0020, 0.0080])


@dataclass
class _Holdings:
    """What repos and MLF need to know about the bonds held."""

    block: _Block
    face: FloatArray
    price: FloatArray
    eligible: BoolArray
    subtype: IntArray
    number: IntArray
    prefix: IntArray


_BOND_PREFIX: Final = ("CGB", "PBB", "LGB", "FIN", "NCD", "CRP", "UST", "BUND", "HKB")


def _bonds(ctx: _Context) -> _Holdings:
    n, a, rng = ctx.counts["bond"], ctx.a, ctx.rng(7)
    b = _Block("BOND", n)
    sub = rng.choice(6, n, p=[0.30, 0.25, 0.20, 0.08, 0.10, 0.07])
    ccy = np.where(rng.random(n) < 0.05, rng.choice([1, 2, 3], n, p=[0.6, 0.2, 0.2]), 0)
    ccy = np.where(sub == _NCD, 0, ccy)
    sub = np.where(
        ccy == 2, _FINBOND, np.where((ccy == 1) | (ccy == 3), np.where(sub == _CORPBOND, _FINBOND, _GOV), sub)
    )
    need = 2 * (ctx.counts["repo"] + ctx.counts["mlf"]) + 1
    eligible = (ccy == 0) & (sub <= _LOCAL)
    if eligible.sum() < need:
        force = rng.choice(np.flatnonzero(~eligible), need - int(eligible.sum()), replace=False)
        sub[force], ccy[force] = _GOV, 0
        eligible = (ccy == 0) & (sub <= _LOCAL)
    term_y = np.select(
        [sub == _GOV, sub == _POLICY, sub == _LOCAL, sub == _FINBOND, sub == _CORPBOND],
        [rng.choice([1, 2, 3, 5, 7, 10, 30], n), rng.choice([1, 2, 3, 5, 7, 10], n),
         rng.choice([5, 7, 10, 15, 20, 30], n), rng.choice([3, 5], n), rng.choice([3, 5, 7], n)],
        1,
    )  # fmt: skip
    term_m = np.where(sub == _NCD, rng.choice([1, 3, 6, 9, 12], n), term_y * 12)
    orig, mat = _term_dates(rng, a, term_m)
    age_y = (a - orig) / 365.0
    rem_y = (mat - a) / 365.0
    curve = np.select([ccy == 1, ccy == 2, ccy == 3], [0, 1, 2], 3)
    base = np.select(
        [curve == 0, curve == 1, curve == 2],
        [_zero("USD_RFR", term_m / 12), _zero("HKD_RFR", term_m / 12), _zero("EUR_RFR", term_m / 12)],
        _zero("CNY_RFR", term_m / 12),
    )
    vintage = np.where(ccy == 0, np.minimum(age_y * 0.0020, 0.0130), 0.0)
    coupon = np.round((base + _BOND_SPREAD[sub] + vintage) * 10000) / 10000
    market = (
        np.select(
            [curve == 0, curve == 1, curve == 2],
            [_zero("USD_RFR", rem_y), _zero("HKD_RFR", rem_y), _zero("EUR_RFR", rem_y)],
            _zero("CNY_RFR", rem_y),
        )
        + _BOND_SPREAD[sub]
    )
    ifreq = np.where(sub == _NCD, 0, np.where((term_y >= 10) | (ccy == 1), 6, 12))
    floating = ((sub == _FINBOND) | (sub == _CORPBOND)) & (ccy == 0) & (rng.random(n) < 0.2)
    index = np.where(floating, _SHIBOR3M, -1)
    spread = np.where(floating, _rates(rng, 0.0030, 0.0100, n), 0.0)
    ifreq = np.where(floating, 3, ifreq)
    day_count = np.where(sub == _NCD, _A360, _ICMA)
    face = _amounts(rng, n, 100e6, 1.0, ctx.bal("bond"), ccy, lot=10_000.0)
    acct = rng.choice(3, n, p=[0.55, 0.35, 0.10])  # amortised_cost, fvoci, fvtpl
    acct = np.where(eligible[:] & (acct == 2) & (rng.random(n) < 0.5), 0, acct)
    _common(
        b, source="treasury", product=(tuple(f"INV_{s.upper()}" for s in _BOND_SUBTYPES), sub),
        gl=(("150101", "150301", "110101"), acct), instrument="debt_security", subtype=(_BOND_SUBTYPES, sub),
        side="asset", on_bs=True, ccy=ccy, branch="BR000", line="financial_markets",
        book=(("banking", "trading"), (acct == 2).astype(np.int64)),
    )  # fmt: skip
    b.code("accounting_classification", (("amortised_cost", "fvoci", "fvtpl"), acct))
    b.num("principal_balance", face)
    t = _terms(
        ctx, b, orig=orig, mat=mat, balance=face, rtype=np.full(n, _FIXED), rate=coupon, ifreq=ifreq, pfreq=0,
        amort=_BULLET, day_count=day_count, index=index, spread=spread, reset=3, advance=sub == _NCD,
    )  # fmt: skip
    dur = rem_y / (1.0 + market * rem_y / 2.0)
    price = np.where(
        floating, 100.0 + (spread - 0.006) * 100 * np.minimum(rem_y, 1), 100.0 * (1 + (t.rate - market) * dur)
    )
    price = np.where(sub == _NCD, 100.0 * (1 - market * rem_y), price)
    price = np.round(np.clip(price, 80.0, 125.0), 4)
    accrued = np.nan_to_num(b.get_num("accrued_interest"))
    b.num("clean_price", price)
    b.num("fair_value", np.where(acct > 0, np.round(face * price / 100.0 + accrued, 2), np.nan))
    b.num("carrying_amount", np.where(acct == 0, face, np.round(face * price / 100.0, 2)))
    _performing(b)
    prefix = np.select([ccy == 1, ccy == 3, ccy == 2], [6, 7, 8], sub)
    number = 1 + np.arange(n, dtype=np.int64)
    b.ident("security_id", (_BOND_PREFIX, prefix), number)
    b.code("listing_market", _where(ccy > 0, ("cn_interbank", "foreign_listed", "cn_exchange"), 1, 0))
    lm = b.get_code("listing_market")[1]
    lm = np.where((ccy == 0) & (rng.random(n) < 0.1), 2, lm)
    b.code("listing_market", (("cn_interbank", "foreign_listed", "cn_exchange"), lm))
    b.flag("is_central_bank_eligible", (sub <= _LOCAL) & (ccy == 0))
    b.code("seniority", "senior_unsecured")
    _eom_rule(b, mat, ifreq > 0)
    # issuers
    issuer_prefix = ("MOF", "CDB", "ADBC", "EXIM", "LG", "B", "C", "CSRG", "UST", "DEFIN")
    which = np.select(
        [
            (sub == _GOV) & (ccy == 1), (sub == _GOV) & (ccy == 3), sub == _GOV, sub == _POLICY, sub == _LOCAL,
            (sub == _FINBOND) | (sub == _NCD),
        ],
        [8, 9, 0, rng.choice([1, 2, 3], n, p=[0.6, 0.2, 0.2]), 4, 5],
        np.where(rng.random(n) < 0.2, 7, 6),
    )  # fmt: skip
    nums = np.select(
        [which == 4, which == 5, which == 6],
        [rng.integers(1, 32, n), np.where(ccy == 2, rng.integers(101, 121, n), rng.integers(1, 101, n)),
         rng.integers(1, int(0.3 * ctx.corp_pool) + 2, n)],
        -1,
    )  # fmt: skip
    b.ident("counterparty_id", (issuer_prefix, which), nums)
    return _Holdings(b, face, price, eligible, sub, number, prefix)


def _interbank_assets(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["ib_asset"], ctx.a, ctx.rng(8)
    b = _Block("IBA", n)
    kind = rng.choice(4, n, p=[0.25, 0.25, 0.15, 0.35])  # call, term lending, nostro, term deposit placed
    ccy = np.where(rng.random(n) < 0.25, rng.choice([1, 2, 3], n, p=[0.7, 0.15, 0.15]), 0)
    ccy = np.where(kind == 2, np.where(rng.random(n) < 0.6, rng.choice([1, 2, 3], n), 0), ccy)
    term_days = np.select(
        [kind == 0, kind == 1],
        [rng.choice([1, 7, 14], n), rng.choice([30, 91, 182, 365], n)],
        rng.choice([91, 182, 365], n),
    )
    orig, mat = _day_term_dates(rng, a, term_days)
    fwd = (kind == 1) & (rng.random(n) < 0.03)
    orig = np.where(fwd, a + rng.integers(1, 15, n), orig)
    mat = np.where(fwd, orig + term_days, mat)
    nonmat = kind == 2
    mat = np.where(nonmat, _NO_DAY, mat)
    orig = np.where(nonmat, _NO_DAY, orig)
    short = _zero("CNY_RFR", term_days / 365.0) + 0.0010
    rate = np.select(
        [ccy == 1, ccy == 2, ccy == 3],
        [_zero("USD_RFR", term_days / 365.0) + 0.001, _zero("HKD_RFR", 0.25), _zero("EUR_RFR", 0.25)],
        short,
    ) + _rates(rng, 0.0, 0.0040, n)
    rate = np.where(nonmat, np.where(ccy == 0, 0.0035, 0.0050), np.round(rate, 5))
    balance = _amounts(rng, n, 50e6, 1.0, ctx.bal("ib_asset"), ccy)
    inst = np.where(kind <= 1, 0, 1)
    day_count = np.where(ccy == 2, _A365, _A360)
    _common(
        b, source="treasury", product=(("IB_CALL_OUT", "IB_TERM_OUT", "IB_NOSTRO", "IB_DEP_PLACED"), kind),
        gl=(("130201", "101101"), inst), instrument=(("interbank_lending", "interbank_deposit"), inst),
        subtype=(("call", "term", "nostro"), np.select([kind == 0, kind == 2], [0, 2], 1)), side="asset",
        on_bs=True, ccy=ccy, branch="BR000", line="financial_markets",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.where(nonmat, _ADMIN, _FIXED), rate=rate,
        ifreq=np.where(nonmat, 3, 0), pfreq=0, amort=np.where(nonmat, _NONMAT, _BULLET), day_count=day_count,
    )  # fmt: skip
    _performing(b)
    foreign = (ccy > 0) & (rng.random(n) < 0.7)
    _set_cp(b, _cp_mix(rng, n, [("B", 1, 100, 0.85), ("FIN", 1, 20, 0.15)]))
    pre, nums = b.cols["counterparty_id"][1:3], b.cols["counterparty_id"][3]
    nums = np.where(foreign, rng.integers(101, 121, n), nums)
    b.ident("counterparty_id", (pre[0], np.where(foreign, 0, pre[1])), nums)
    return b


_HQLA: Final = ("level_1", "level_2a", "level_2b", "non_hqla")


def _reverse_repos(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["rev_repo"], ctx.a, ctx.rng(9)
    b = _Block("RREPO", n)
    ccy = np.zeros(n, dtype=np.int64)
    term_days = rng.choice([1, 7, 7, 14, 28], n)
    orig, mat = _day_term_dates(rng, a, term_days)
    rate = np.round(_zero("CNY_FR007_PROJ", term_days / 365.0) + _rates(rng, -0.0010, 0.0015, n), 5)
    balance = _amounts(rng, n, 60e6, 0.9, ctx.bal("rev_repo"), ccy)
    _common(
        b, source="treasury", product="REVERSE_REPO_PLEDGED", gl="111101", instrument="reverse_repo",
        subtype=None, side="asset", on_bs=True, ccy=ccy, branch="BR000", line="financial_markets",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=rate, ifreq=0, pfreq=0,
        amort=_BULLET, day_count=_A365,
    )  # fmt: skip
    _performing(b)
    level = rng.choice(2, n, p=[0.7, 0.3])
    b.ident("collateral_security_id", (("CGB", "LGB"), level), 50_000_000 + rng.integers(1, 5000, n))
    b.num("collateral_market_value", np.round(balance * (1.02 + 0.12 * rng.random(n)), 2))
    b.code("collateral_hqla_level", (_HQLA, level))
    b.code("repo_type", "pledged")
    b.flag("collateral_rehypothecable", False)
    _set_cp(b, _cp_mix(rng, n, [("B", 1, 100, 0.3), ("SEC", 1, 40, 0.4), ("FND", 1, 200, 0.3)]))
    return b


def _reserves(ctx: _Context, cny_deposits: float, fx_deposits_usd: float) -> _Block:
    b = _Block("CBRES", 3)
    ccy = np.array([0, 0, 1])
    balance = np.round(
        np.array(
            [cny_deposits * _REQUIRED_RESERVE_RATIO, ctx.bal("excess_reserve"), fx_deposits_usd * _FX_RESERVE_RATIO]
        ),
        2,
    )
    _common(
        b, source="core_banking", product=(("CB_REQ_RESERVE", "CB_EXCESS_RESERVE"), np.array([0, 1, 0])),
        gl="100301", instrument="central_bank_reserve",
        subtype=(("required_reserve", "excess_reserve"), np.array([0, 1, 0])), side="asset", on_bs=True, ccy=ccy,
        branch="BR000", line="treasury",
    )  # fmt: skip
    b.num("principal_balance", np.maximum(balance, 0.01))
    _terms(
        ctx, b, orig=None, mat=None, balance=balance, rtype=np.array([_ADMIN, _ADMIN, _NIB]),
        rate=np.array([0.0162, 0.0035, np.nan]), ifreq=3, pfreq=0, amort=_NONMAT, day_count=_A360,
    )  # fmt: skip
    b.ident("counterparty_id", "PBOC")
    return b


def _cash(ctx: _Context) -> _Block:
    rng = ctx.rng(10)
    nb = len(_BRANCHES)
    b = _Block("CASH", nb + 3)
    ccy = np.array([0] * nb + [1, 2, 3])
    w = rng.random(nb + 3) + 0.5
    w[nb:] *= 0.05
    cny_eq = w / w.sum() * ctx.bal("cash")
    balance = np.round(cny_eq / _fx_of(ccy), 2)
    branch = np.r_[np.arange(nb), np.zeros(3, dtype=np.int64)]
    _common(
        b, source="core_banking", product="CASH_VAULT", gl="100101", instrument="cash", subtype=None,
        side="asset", on_bs=True, ccy=ccy, branch=(_BRANCHES, branch), line="treasury",
    )  # fmt: skip
    b.num("principal_balance", balance)
    b.code("rate_type", "non_interest_bearing")
    b.code("amortisation_type", "non_maturity")
    return b


# --------------------------------------------------------------------------------------------
# Liability segments
# --------------------------------------------------------------------------------------------

#: CNY posted term-deposit rates of 2026 by term in months (new business)
_TD_RATE: Final = {3: 0.0065, 6: 0.0085, 12: 0.0095, 24: 0.0105, 36: 0.0125, 60: 0.0130}
_TD_CAP: Final = 0.019


def _td_rates(rng: np.random.Generator, term: IntArray, orig: IntArray, a: int, ccy: IntArray) -> FloatArray:
    """Term-deposit rates: posted rate of the term plus the premium of older (higher-rate) vintages."""
    n = len(term)
    base = np.zeros(n)
    for m, r in _TD_RATE.items():
        base[term == m] = r
    age_y = np.maximum(a - orig, 0) / 365.0
    cny = np.minimum(base + np.minimum(age_y * 0.0040, 0.0080) + _rates(rng, 0.0, 0.0010, n), _TD_CAP)
    fx = np.select([ccy == 1, ccy == 2], [_rates(rng, 0.0160, 0.0260, n), _rates(rng, 0.0150, 0.0250, n)],
                   _rates(rng, 0.0080, 0.0150, n))  # fmt: skip
    return np.round(np.where(ccy == 0, cny, fx), 5)


def _opening_dates(rng: np.random.Generator, a: int, n: int) -> IntArray:
    return a - rng.integers(30, 5000, n)


def _retail_demand(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["ret_demand"], ctx.a, ctx.rng(11)
    b = _Block("DDRET", n)
    ccy = rng.choice(4, n, p=[0.97, 0.02, 0.005, 0.005])
    balance = _amounts(rng, n, 150e3, 1.6, ctx.bal("ret_demand"), ccy)
    promo = rng.random(n) < 0.1
    rate = np.where(ccy == 0, np.where(promo, _rates(rng, 0.0010, 0.0035, n), 0.0005), 0.0001)
    transactional = rng.random(n) < 0.55
    _common(
        b, source="core_banking", product="DEP_RET_SAVINGS", gl="201101", instrument="deposit_demand",
        subtype="savings", side="liability", on_bs=True, ccy=ccy, branch=_branch(rng, n), line="retail_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=_opening_dates(rng, a, n), mat=None, balance=balance, rtype=np.full(n, _ADMIN), rate=rate,
        ifreq=3, pfreq=0, amort=_NONMAT, day_count=_A360,
    )  # fmt: skip
    b.flag("is_transactional", transactional)
    bclass = transactional.astype(np.int64)
    b.code("behavioural_class", (("nmd_retail_non_transactional", "nmd_retail_transactional"), bclass))
    b.ident("counterparty_id", "R", rng.integers(1, ctx.retail_pool + 1, n))
    return b


def _retail_pool(ctx: _Context) -> _Block:
    """Pooled small dormant savings accounts (one row per branch pool, ``pool_count`` accounts)."""
    n, a, rng = ctx.counts["ret_pool"], ctx.a, ctx.rng(12)
    b = _Block("DDPOOL", n)
    ccy = np.zeros(n, dtype=np.int64)
    count = rng.integers(50, 501, n)
    raw = count * rng.lognormal(np.log(1500.0), 0.5, n)
    balance = np.round(raw * ctx.bal("ret_pool") / raw.sum(), 2)
    _common(
        b, source="core_banking", product="DEP_RET_DORMANT_POOL", gl="201101", instrument="deposit_demand",
        subtype="savings", side="liability", on_bs=True, ccy=ccy, branch=_branch(rng, n), line="retail_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=_opening_dates(rng, a, n), mat=None, balance=balance, rtype=np.full(n, _ADMIN),
        rate=np.full(n, 0.0005), ifreq=3, pfreq=0, amort=_NONMAT, day_count=_A360,
    )  # fmt: skip
    b.num("pool_count", count.astype(np.float64))
    b.num("insured_amount", balance)  # every pooled account is far below the CNY 500,000 cover
    b.flag("is_transactional", False)
    b.code("behavioural_class", "nmd_retail_non_transactional")
    b.ident("counterparty_id", "R", 900_000_000 + np.arange(1, n + 1))
    return b


def _wholesale_cp(ctx: _Context, rng: np.random.Generator, n: int, p: Sequence[float]) -> tuple[_Codes, IntArray]:
    return _cp_mix(
        rng, n, [("C", 1, ctx.corp_pool, p[0]), ("S", 1, ctx.sme_pool, p[1]), ("PSE", 1, ctx.pse_pool, p[2]),
                 ("LG", 1, 31, p[3])],
    )  # fmt: skip


def _corporate_demand(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["corp_demand"], ctx.a, ctx.rng(13)
    b = _Block("DDCORP", n)
    cp = _wholesale_cp(ctx, rng, n, [0.60, 0.25, 0.10, 0.05])
    kind = cp[0][1]
    ccy = rng.choice(4, n, p=[0.92, 0.06, 0.01, 0.01])
    ccy = np.where(kind == 3, 0, ccy)
    sub = np.where(kind == 3, 2, np.where((ccy == 0) & (rng.random(n) < 0.22), 1, 0))  # settlement, agreement, fiscal
    rate = np.select(
        [sub == 1, ccy > 0], [_rates(rng, 0.0025, 0.0035, n), _rates(rng, 0.0001, 0.0010, n)],
        np.where(rng.random(n) < 0.7, 0.0005, _rates(rng, 0.0005, 0.0025, n)),
    )  # fmt: skip
    balance = _amounts(rng, n, 11.6e6, 1.8, ctx.bal("corp_demand"), ccy)
    operational = (sub == 0) & (rng.random(n) < 0.5)
    _common(
        b, source="core_banking", product=(("DEP_CORP_SETTLE", "DEP_CORP_AGREEMENT", "DEP_FISCAL"), sub),
        gl="201102", instrument="deposit_demand",
        subtype=(("corporate_settlement", "agreement_deposit", "fiscal"), sub), side="liability", on_bs=True,
        ccy=ccy, branch=_branch(rng, n, head_office_share=0.15), line="corporate_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=_opening_dates(rng, a, n), mat=None, balance=balance, rtype=np.full(n, _ADMIN), rate=rate,
        ifreq=3, pfreq=0, amort=_NONMAT, day_count=_A360,
    )  # fmt: skip
    small = kind == 1
    b.flag("is_transactional", np.where(small, (rng.random(n) < 0.7).astype(np.int8), -1))
    b.flag("is_operational", operational)
    bclass = np.where(small, np.where(b.cols["is_transactional"] == 1, 0, 1), np.where(operational, 2, 3))
    b.code(
        "behavioural_class",
        (("nmd_retail_transactional", "nmd_retail_non_transactional", "nmd_wholesale_operational",
          "nmd_wholesale_non_operational"), bclass),
    )  # fmt: skip
    _set_cp(b, cp)
    return b


def _term_deposits(ctx: _Context, *, retail: bool) -> _Block:
    seg = "ret_term" if retail else "corp_term"
    n, a, rng = ctx.counts[seg], ctx.a, ctx.rng(14 if retail else 15)
    b = _Block("TDRET" if retail else "TDCORP", n)
    if retail:
        term = rng.choice([3, 6, 12, 24, 36, 60], n, p=[0.08, 0.12, 0.30, 0.15, 0.25, 0.10])
        ccy = rng.choice(4, n, p=[0.97, 0.02, 0.005, 0.005])
        balance = _amounts(rng, n, 600e3, 1.2, ctx.bal(seg), ccy)
        cp: tuple[_Codes, IntArray] = (("R",), np.zeros(n, dtype=np.int64)), rng.integers(1, ctx.retail_pool + 1, n)
        large = (balance * _fx_of(ccy) >= 200e3) & (rng.random(n) < 0.35) & (ccy == 0)
    else:
        term = rng.choice([3, 6, 12, 24, 36, 60], n, p=[0.10, 0.15, 0.30, 0.20, 0.20, 0.05])
        ccy = rng.choice(4, n, p=[0.90, 0.07, 0.015, 0.015])
        balance = _amounts(rng, n, 26e6, 1.3, ctx.bal(seg), ccy)
        cp = _wholesale_cp(ctx, rng, n, [0.75, 0.15, 0.10, 0.0])
        large = (balance * _fx_of(ccy) >= 10e6) & (rng.random(n) < 0.25) & (ccy == 0)
    orig, mat = _term_dates(rng, a, term)
    rate = _td_rates(rng, term, orig, a, ccy)
    rate = np.where(large, np.minimum(rate + 0.0010, _TD_CAP), rate)
    product = ("DEP_RET_TERM", "DEP_RET_LARGE_CD") if retail else ("DEP_CORP_TERM", "DEP_CORP_LARGE_CD")
    _common(
        b, source="core_banking", product=(product, large.astype(np.int64)), gl="201201" if retail else "201202",
        instrument="deposit_term", subtype=_where(large, ("large_cd",), 0), side="liability", on_bs=True, ccy=ccy,
        branch=_branch(rng, n, head_office_share=0.0 if retail else 0.15),
        line="retail_banking" if retail else "corporate_banking",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=rate, ifreq=0, pfreq=0,
        amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    b.flag("early_withdrawal_allowed", True)
    b.num("early_withdrawal_rate", np.where(ccy == 0, 0.0005, 0.0001))
    b.flag("auto_rollover", rng.random(n) < (0.6 if retail else 0.2))
    b.code("behavioural_class", "td_retail" if retail else "td_wholesale")
    if retail:
        b.flag("is_transactional", False)
    else:
        b.flag("is_transactional", np.where(cp[0][1] == 1, 0, -1).astype(np.int8))
    _set_cp(b, cp)
    return b


def _notice_deposits(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["notice"], ctx.a, ctx.rng(16)
    b = _Block("NOTICE", n)
    cp = _cp_mix(rng, n, [("R", 1, ctx.retail_pool, 0.40), ("C", 1, ctx.corp_pool, 0.45), ("S", 1, ctx.sme_pool, 0.15)])
    kind = cp[0][1]
    ccy = np.zeros(n, dtype=np.int64)
    days = np.where(rng.random(n) < 0.3, 1, 7)
    rate = np.where(days == 1, 0.0010, 0.0045)
    balance = _amounts(rng, n, 5e6, 1.2, ctx.bal("notice"), ccy)
    balance = np.where(kind == 0, np.maximum(balance, 50_000.0), balance)
    _common(
        b, source="core_banking", product=(("DEP_NOTICE_1D", "DEP_NOTICE_7D"), (days == 7).astype(np.int64)),
        gl="201301", instrument="deposit_notice", subtype=None, side="liability", on_bs=True, ccy=ccy,
        branch=_branch(rng, n), line=(("retail_banking", "corporate_banking"), (kind > 0).astype(np.int64)),
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=_opening_dates(rng, a, n), mat=None, balance=balance, rtype=np.full(n, _ADMIN), rate=rate,
        ifreq=3, pfreq=0, amort=_NONMAT, day_count=_A360,
    )  # fmt: skip
    b.num("notice_period_days", days.astype(np.float64))
    b.flag("is_transactional", np.where(kind == 1, -1, 0).astype(np.int8))
    b.code(
        "behavioural_class",
        (("nmd_retail_non_transactional", "nmd_wholesale_non_operational"), (kind == 1).astype(np.int64)),
    )
    _set_cp(b, cp)
    return b


def _interbank_liabilities(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["ib_liab"], ctx.a, ctx.rng(17)
    b = _Block("IBL", n)
    term_kind = rng.random(n) < 0.4
    ccy = np.where(rng.random(n) < 0.05, 1, 0)
    term = rng.choice([3, 6, 12], n)
    orig, mat = _term_dates(rng, a, term)
    opening = _opening_dates(rng, a, n)
    orig = np.where(term_kind, orig, opening)
    mat = np.where(term_kind, mat, _NO_DAY)
    rate = np.where(
        term_kind,
        np.round(_zero("CNY_RFR", term / 12.0) + _rates(rng, 0.0015, 0.0040, n), 5),
        _rates(rng, 0.0035, 0.0120, n),
    )
    rate = np.where(ccy == 1, np.round(_zero("USD_RFR", term / 12.0) + 0.001, 5), rate)
    balance = _amounts(rng, n, 80e6, 1.2, ctx.bal("ib_liab"), ccy)
    cp = _cp_mix(
        rng, n, [("B", 1, 120, 0.45), ("SEC", 1, 40, 0.25), ("INS", 1, 30, 0.15), ("FND", 1, 200, 0.05),
                 ("FIN", 1, 20, 0.10)],
    )  # fmt: skip
    operational = ~term_kind & (rng.random(n) < 0.5)
    _common(
        b, source="treasury", product=(("IB_DEP_SETTLE", "IB_DEP_TERM"), term_kind.astype(np.int64)), gl="201201",
        instrument="interbank_deposit", subtype=(("settlement", "term"), term_kind.astype(np.int64)),
        side="liability", on_bs=True, ccy=ccy, branch="BR000", line="financial_markets",
    )  # fmt: skip
    b.code("gl_account", "201501")
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.where(term_kind, _FIXED, _ADMIN), rate=rate,
        ifreq=np.where(term_kind, 0, 3), pfreq=0, amort=np.where(term_kind, _BULLET, _NONMAT), day_count=_A360,
    )  # fmt: skip
    b.flag("is_operational", operational)
    bc = np.where(term_kind, -1, operational.astype(np.int64))
    b.code("behavioural_class", (("nmd_wholesale_non_operational", "nmd_wholesale_operational"), bc))
    _set_cp(b, cp)
    return b


def _interbank_borrowing(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["ib_borrow"], ctx.a, ctx.rng(18)
    b = _Block("IBB", n)
    call = rng.random(n) < 0.6
    ccy = np.where(rng.random(n) < 0.1, 1, 0)
    term_days = np.where(call, rng.choice([1, 7, 14], n), rng.choice([30, 91, 182, 365], n))
    orig, mat = _day_term_dates(rng, a, term_days)
    rate = np.where(
        ccy == 0,
        _zero("CNY_RFR", term_days / 365.0) + _rates(rng, 0.0005, 0.0035, n),
        _zero("USD_RFR", term_days / 365.0) + _rates(rng, 0.0005, 0.0025, n),
    )
    balance = _amounts(rng, n, 75e6, 1.0, ctx.bal("ib_borrow"), ccy)
    _common(
        b, source="treasury", product=(("IB_CALL_IN", "IB_LOAN_IN"), (~call).astype(np.int64)), gl="200301",
        instrument="interbank_lending", subtype=(("call", "interbank_loan"), (~call).astype(np.int64)),
        side="liability", on_bs=True, ccy=ccy, branch="BR000", line="financial_markets",
    )  # fmt: skip
    b.num("principal_balance", balance)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=balance, rtype=np.full(n, _FIXED), rate=np.round(rate, 5), ifreq=0,
        pfreq=0, amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    _set_cp(b, _cp_mix(rng, n, [("B", 1, 120, 0.9), ("FIN", 1, 20, 0.1)]))
    return b


def _secured_funding(ctx: _Context, hold: _Holdings) -> tuple[_Block, _Block]:
    """Repos (one pledged holding each) and MLF borrowings (a basket of pledged holdings)."""
    a, rng = ctx.a, ctx.rng(19)
    n_repo, n_mlf = ctx.counts["repo"], ctx.counts["mlf"]
    hb = hold.block
    n_hold = hb.n
    value = hold.face * hold.price / 100.0
    eligible = np.flatnonzero(hold.eligible)
    eligible = eligible[np.argsort(-value[eligible], kind="stable")]
    enc_amount = np.zeros(n_hold)
    enc_type = np.full(n_hold, -1, dtype=np.int64)
    enc_end = np.full(n_hold, _NO_DAY, dtype=np.int64)

    # repos: the largest eligible holdings, one each
    rb = _Block("REPO", n_repo)
    pledged = eligible[:n_repo]
    rest = eligible[n_repo:]
    term_days = rng.choice([1, 7, 7, 14, 28], n_repo)
    orig, mat = _day_term_dates(rng, a, term_days)
    wanted = _amounts(rng, n_repo, 110e6, 0.8, ctx.bal("repo"), np.zeros(n_repo, dtype=np.int64))
    balance = np.round(np.minimum(wanted, 0.95 * value[pledged]), 2)
    price = hold.price[pledged] / 100.0
    enc = np.minimum(np.ceil(balance * 1.02 / price / 10_000.0) * 10_000.0, hold.face[pledged])
    enc_amount[pledged] = enc
    enc_type[pledged] = 0
    enc_end[pledged] = mat
    rate = np.round(_zero("CNY_FR007_PROJ", term_days / 365.0) + _rates(rng, -0.0005, 0.0015, n_repo), 5)
    _common(
        rb, source="treasury", product="REPO_PLEDGED", gl="211101", instrument="repo", subtype=None,
        side="liability", on_bs=True, ccy=np.zeros(n_repo, dtype=np.int64), branch="BR000",
        line="financial_markets",
    )  # fmt: skip
    rb.num("principal_balance", balance)
    _terms(
        ctx, rb, orig=orig, mat=mat, balance=balance, rtype=np.full(n_repo, _FIXED), rate=rate, ifreq=0, pfreq=0,
        amort=_BULLET, day_count=_A365,
    )  # fmt: skip
    rb.ident("collateral_security_id", (_BOND_PREFIX, hold.prefix[pledged]), hold.number[pledged])
    rb.num("collateral_market_value", np.round(enc * price, 2))
    rb.code("collateral_hqla_level", (_HQLA, np.where(hold.subtype[pledged] == _LOCAL, 1, 0)))
    rb.code("repo_type", "pledged")
    _set_cp(rb, _cp_mix(rng, n_repo, [("B", 1, 120, 0.7), ("FND", 1, 200, 0.3)]))

    # MLF: 1-year bullet, each borrowing covered by a basket of the remaining eligible holdings
    mb = _Block("MLF", n_mlf)
    available = value[rest].sum()
    target = min(ctx.bal("mlf"), 0.9 * available)
    w = 0.5 + rng.random(n_mlf)
    amount = np.round(w / w.sum() * target / 1e6) * 1e6
    amount = np.maximum(amount, 1e6)
    if amount.sum() > 0.9 * available:  # tiny banks: fewer pledgeable bonds than the minimum lot
        amount = np.round(w / w.sum() * 0.9 * available, 2)
    age = rng.integers(0, 365, n_mlf)
    m_orig = a - age
    m_mat = _add_months(m_orig, np.full(n_mlf, 12))
    m_mat = np.maximum(m_mat, a + 1)
    cover = np.cumsum(amount * 1.05)
    cum = np.cumsum(value[rest])
    owner = np.searchsorted(cover, cum - value[rest], side="right")  # MLF row whose basket a holding joins
    used = owner < n_mlf
    enc_amount[rest[used]] = hold.face[rest[used]]
    enc_type[rest[used]] = 1
    enc_end[rest[used]] = m_mat[owner[used]]
    _common(
        mb, source="treasury", product="CB_MLF", gl="200401", instrument="central_bank_borrowing", subtype=None,
        side="liability", on_bs=True, ccy=np.zeros(n_mlf, dtype=np.int64), branch="BR000", line="treasury",
    )  # fmt: skip
    mb.num("principal_balance", amount)
    _terms(
        ctx, mb, orig=m_orig, mat=m_mat, balance=amount, rtype=np.full(n_mlf, _FIXED), rate=np.full(n_mlf, 0.0200),
        ifreq=0, pfreq=0, amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    mb.ident("counterparty_id", "PBOC")

    hb.num("encumbered_amount", np.where(enc_type >= 0, enc_amount, np.nan))
    hb.code("encumbrance_type", (("repo", "central_bank"), enc_type))
    hb.day("encumbrance_end_date", enc_end)
    return rb, mb


def _issued(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["issued"], ctx.a, ctx.rng(20)
    b = _Block("ISSUED", n)
    kind = rng.choice(3, n, p=[0.75, 0.18, 0.07])  # ncd, financial bond, tier-2
    if n >= 3:
        kind[:3] = [0, 1, 2]
    ccy = np.zeros(n, dtype=np.int64)
    term_m = np.select([kind == 0, kind == 1], [rng.choice([1, 3, 6, 9, 12], n), rng.choice([36, 60], n)], 120)
    orig, mat = _term_dates(rng, a, term_m)
    t2 = kind == 2
    # tier-2: issued within the last five years so the first call (year 5) is still ahead
    orig = np.where(t2, a - rng.integers(30, 5 * 365 - 30, n), orig)
    mat = np.where(t2, _add_months(orig, term_m), mat)
    age_y = (a - orig) / 365.0
    coupon = _zero("CNY_RFR", term_m / 12.0) + np.minimum(age_y * 0.0020, 0.0130)
    coupon += np.select([kind == 0, kind == 1], [_rates(rng, 0.0020, 0.0040, n), _rates(rng, 0.0020, 0.0040, n)],
                        _rates(rng, 0.0050, 0.0090, n))  # fmt: skip
    coupon = np.round(coupon, 4)
    w = rng.lognormal(0.0, 0.7, n) * np.select([kind == 0, kind == 1], [1.0, 2.5], 2.0)
    face = np.maximum(np.round(w / w.sum() * ctx.bal("issued") / 1e6) * 1e6, 1e6)
    _common(
        b, source="treasury", product=(("ISS_NCD", "ISS_FIN_BOND", "ISS_TIER2"), kind),
        gl=(("250201", "250202", "250203"), kind), instrument="debt_security",
        subtype=(("ncd", "financial_bond", "subordinated_bond"), kind), side="liability", on_bs=True, ccy=ccy,
        branch="BR000", line="treasury",
    )  # fmt: skip
    b.code("accounting_classification", "amortised_cost")
    b.num("principal_balance", face)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=face, rtype=np.full(n, _FIXED), rate=coupon,
        ifreq=np.where(kind == 0, 0, 12), pfreq=0, amort=_BULLET, day_count=np.where(kind == 0, _A360, _ICMA),
        advance=kind == 0,
    )  # fmt: skip
    b.ident("security_id", (("OWNNCD", "OWNFB", "OWNTT"), kind), 1 + np.arange(n))
    b.code("listing_market", "cn_interbank")
    b.code("call_type", (("none", "issuer"), t2.astype(np.int64)))
    b.day("next_call_date", np.where(t2, _add_months(orig, np.full(n, 60)), _NO_DAY))
    b.code("capital_tier", (("none", "t2"), t2.astype(np.int64)))
    b.code("seniority", (("senior_unsecured", "subordinated"), t2.astype(np.int64)))
    _eom_rule(b, mat, kind > 0)
    return b


# --------------------------------------------------------------------------------------------
# Off-balance segments and derivatives
# --------------------------------------------------------------------------------------------

_OFF_BALANCE_MIX: Final = {"commitment": 0.08, "guarantee": 0.03, "acceptance": 0.05}


def _off_balance_dates(rng: np.random.Generator, a: int, n: int, terms: Sequence[int]) -> tuple[IntArray, IntArray]:
    return _term_dates(rng, a, rng.choice(np.asarray(terms), n))


def _commitments(ctx: _Context, corp: _Block) -> _Block:
    n, a, rng = ctx.counts["commitment"], ctx.a, ctx.rng(21)
    b = _Block("COMMIT", n)
    n_corp = corp.n
    linked = min(n - 1, n_corp)  # the last row is a standby facility the bank received
    rows = np.sort(rng.choice(n_corp, size=linked, replace=False))
    loan_ccy = corp.get_code("currency")[1]
    ccy = np.zeros(n, dtype=np.int64)
    ccy[:linked] = loan_ccy[rows]
    undrawn = _amounts(rng, n, 20e6, 1.2, _OFF_BALANCE_MIX["commitment"] * ctx.total, ccy, lot=10_000.0)
    drawn = np.zeros(n)
    drawn[:linked] = corp.get_num("principal_balance")[rows]
    orig, mat = _off_balance_dates(rng, a, n, [12, 24, 36])
    side = np.zeros(n, dtype=np.int64)
    side[-1] = 1
    # facility ids shared by the commitment and its drawn loan
    facility = np.full(corp.n, -1, dtype=np.int64)
    facility[rows] = 1 + np.arange(linked)
    corp.ident("facility_id", "FAC", facility)
    fac = np.full(n, -1, dtype=np.int64)
    fac[:linked] = 1 + np.arange(linked)
    b.ident("facility_id", "FAC", fac)
    _common(
        b, source="core_banking", product=(("OBS_CREDIT_LINE", "OBS_STANDBY_RECEIVED"), side), gl="700101",
        instrument="loan_commitment", subtype=(("credit_facility", "liquidity_facility"), side),
        side=(("asset", "liability"), side), on_bs=False, ccy=ccy, branch=_branch(rng, n, head_office_share=0.2),
        line="corporate_banking",
    )  # fmt: skip
    b.num("principal_balance", undrawn)
    b.num("undrawn_amount", undrawn)
    b.num("limit_amount", np.round(undrawn + drawn, 2))
    _terms(
        ctx, b, orig=orig, mat=mat, balance=undrawn, rtype=np.full(n, _NIB), rate=np.full(n, np.nan), ifreq=0,
        pfreq=0, amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    b.flag("unconditionally_cancellable", (rng.random(n) < 0.25) & (side == 0))
    b.code("behavioural_class", (("commitment_corporate",), np.where(side == 0, 0, -1)))
    b.code("asset_quality_class", (("normal",), np.where(side == 0, 0, -1)))
    cp_num = np.empty(n, dtype=np.int64)
    cp_num[:linked] = corp.cols["counterparty_id"][3][rows]
    cp_num[linked:] = rng.integers(1, 7, n - linked)  # a large commercial bank
    b.ident("counterparty_id", (("C", "B"), side), cp_num)
    return b


def _guarantees(ctx: _Context) -> _Block:
    n, a, rng = ctx.counts["guarantee"], ctx.a, ctx.rng(22)
    b = _Block("GUAR", n)
    ccy = np.where(rng.random(n) < 0.1, 1, 0)
    amount = _amounts(rng, n, 10e6, 1.1, _OFF_BALANCE_MIX["guarantee"] * ctx.total, ccy)
    orig, mat = _off_balance_dates(rng, a, n, [6, 12, 24, 36])
    sub = rng.choice(3, n, p=[0.35, 0.50, 0.15])
    _common(
        b, source="trade_finance", product=(("OBS_FIN_GUAR", "OBS_PERF_GUAR", "OBS_SBLC"), sub), gl="700201",
        instrument="guarantee", subtype=(("financial_guarantee", "performance_guarantee", "standby_lc"), sub),
        side="asset", on_bs=False, ccy=ccy, branch=_branch(rng, n, head_office_share=0.2),
        line="corporate_banking",
    )  # fmt: skip
    b.num("principal_balance", amount)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=amount, rtype=np.full(n, _NIB), rate=np.full(n, np.nan), ifreq=0,
        pfreq=0, amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    b.code("asset_quality_class", "normal")
    _set_cp(b, _cp_mix(rng, n, [("C", 1, ctx.corp_pool, 0.8), ("S", 1, ctx.sme_pool, 0.2)]))
    return b


def _acceptances(ctx: _Context) -> tuple[_Block, _Block]:
    """Bank acceptances issued (off-balance) and the margin deposit securing each."""
    n, a, rng = ctx.counts["acceptance"] // 2, ctx.a, ctx.rng(23)
    acc = _Block("ACCEPT", n)
    ccy = np.zeros(n, dtype=np.int64)
    term_days = rng.choice([90, 180, 180, 270, 360], n)
    orig, mat = _day_term_dates(rng, a, term_days)
    amount = _amounts(rng, n, 5e6, 1.0, _OFF_BALANCE_MIX["acceptance"] * ctx.total, ccy, lot=1_000.0)
    cp = _cp_mix(rng, n, [("C", 1, ctx.corp_pool, 0.65), ("S", 1, ctx.sme_pool, 0.35)])
    _common(
        acc, source="bills", product="OBS_BANK_ACCEPTANCE", gl="700301", instrument="acceptance", subtype=None,
        side="asset", on_bs=False, ccy=ccy, branch=_branch(rng, n, head_office_share=0.1), line="corporate_banking",
    )  # fmt: skip
    acc.num("principal_balance", amount)
    _terms(
        ctx, acc, orig=orig, mat=mat, balance=amount, rtype=np.full(n, _NIB), rate=np.full(n, np.nan), ifreq=0,
        pfreq=0, amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    acc.code("asset_quality_class", "normal")
    acc.code("behavioural_class", "acceptance_payout")
    _set_cp(acc, cp)

    mar = _Block("MARGIN", n)
    ratio = rng.choice([0.3, 0.5, 1.0], n, p=[0.5, 0.35, 0.15])
    margin = np.round(amount * ratio, 2)
    term_m = np.select([term_days <= 90, term_days <= 180], [3, 6], 12)
    rate = np.array([_TD_RATE[m] for m in (3, 6, 12)])[np.select([term_m == 3, term_m == 6], [0, 1], 2)]
    _common(
        mar, source="bills", product="DEP_ACCEPT_MARGIN", gl="201401", instrument="deposit_term",
        subtype="margin_deposit", side="liability", on_bs=True, ccy=ccy, branch=acc.cols["branch_id"],
        line="corporate_banking",
    )  # fmt: skip
    mar.num("principal_balance", margin)
    _terms(
        ctx, mar, orig=orig, mat=mat, balance=margin, rtype=np.full(n, _FIXED), rate=rate, ifreq=0, pfreq=0,
        amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    mar.ident("linked_position_id", "ACCEPT", np.arange(1, n + 1))
    mar.flag("is_transactional", np.where(cp[0][1] == 1, 0, -1).astype(np.int8))
    mar.flag("early_withdrawal_allowed", False)
    _set_cp(mar, cp)
    return acc, mar


def _irs(ctx: _Context) -> _Block:
    """CNY FR007 interest-rate swaps: a fixed leg and a floating leg per deal."""
    n, a, rng = ctx.counts["irs"], ctx.a, ctx.rng(24)
    d = n // 2
    b = _Block("IRS", n)
    deal = np.arange(n) // 2
    floating_leg = (np.arange(n) % 2).astype(bool)
    term = rng.choice([12, 24, 36, 60], d, p=[0.3, 0.25, 0.3, 0.15])
    d_orig, d_mat = _term_dates(rng, a, term)
    notional = np.maximum(np.round(rng.lognormal(np.log(150e6), 0.8, d) / 10e6) * 10e6, 10e6)
    age_y = (a - d_orig) / 365.0
    fixed = _zero("CNY_FR007_PROJ", term / 12.0) + np.minimum(age_y * 0.0025, 0.01) + _rates(rng, -0.0005, 0.001, d)
    fixed = np.round(fixed, 4)
    pay_fixed = rng.random(d) < 0.7
    cleared = rng.random(d) < 0.6
    trading = rng.random(d) < 0.3
    orig, mat, bal = d_orig[deal], d_mat[deal], notional[deal]
    side = np.where(floating_leg, pay_fixed[deal], ~pay_fixed[deal])  # 1 = asset (receive)
    _common(
        b, source="treasury", product="IRS_FR007", gl="730101", instrument="derivative_leg", subtype=None,
        side=(("liability", "asset"), side.astype(np.int64)), on_bs=False, ccy=np.zeros(n, dtype=np.int64),
        branch="BR000", line="financial_markets", book=(("banking", "trading"), trading[deal].astype(np.int64)),
    )  # fmt: skip
    b.num("principal_balance", bal)
    _terms(
        ctx, b, orig=orig, mat=mat, balance=bal, rtype=np.full(n, _FIXED), rate=fixed[deal], ifreq=3, pfreq=0,
        amort=_BULLET, day_count=_A365, index=np.where(floating_leg, _FR007, -1), spread=0.0, reset=-7,
    )  # fmt: skip
    rem = np.maximum(d_mat - a, 1) / 365.0
    par = _zero("CNY_FR007_PROJ", rem)
    mtm = notional * (fixed - par) * rem * np.exp(-_zero("CNY_RFR", rem) * rem / 2)  # receive-fixed value
    mtm = np.where(pay_fixed, -mtm, mtm)
    b.num("fair_value", np.where(floating_leg, 0.0, np.round(mtm[deal], 2)))
    b.ident("deal_id", "IRS", deal + 1)
    b.code("derivative_type", "irs")
    b.code("notional_exchange", "none")
    b.flag("is_centrally_cleared", cleared[deal])
    b.code("hedge_designation", (("economic", "none"), trading[deal].astype(np.int64)))
    b.ident("counterparty_id", (("SHCH", "B"), (~cleared[deal]).astype(np.int64)),
            np.where(cleared[deal], -1, 1 + deal % 70))  # fmt: skip
    return b


def _fx_forwards(ctx: _Context) -> _Block:
    """USD/CNY outright forwards: a USD leg and a CNY leg per deal, notionals exchanged at maturity."""
    n, a, rng = ctx.counts["fx_fwd"], ctx.a, ctx.rng(25)
    d = n // 2
    b = _Block("FXF", n)
    deal = np.arange(n) // 2
    cny_leg = (np.arange(n) % 2).astype(bool)
    term = rng.choice([1, 3, 6, 12], d, p=[0.3, 0.3, 0.25, 0.15])
    d_orig, d_mat = _term_dates(rng, a, term)
    usd = np.maximum(np.round(rng.lognormal(np.log(8e6), 0.9, d) / 10_000) * 10_000, 100_000.0)
    t_all = (d_mat - d_orig) / 365.0
    strike = np.round(
        FX_TO_CNY["USD"] * np.exp((_zero("CNY_RFR", t_all) - _zero("USD_RFR", t_all)) * t_all)
        + rng.normal(0.0, 0.04, d), 4
    )  # fmt: skip
    buy_usd = rng.random(d) < 0.5
    rem = np.maximum(d_mat - a, 1) / 365.0
    fwd = FX_TO_CNY["USD"] * np.exp((_zero("CNY_RFR", rem) - _zero("USD_RFR", rem)) * rem)
    mtm = (fwd - strike) * usd * np.exp(-_zero("CNY_RFR", rem) * rem)
    mtm = np.where(buy_usd, mtm, -mtm)
    ccy = np.where(cny_leg, 0, 1)
    side = np.where(cny_leg, ~buy_usd[deal], buy_usd[deal])  # 1 = asset (receive)
    bal = np.where(cny_leg, np.round(usd[deal] * strike[deal], 2), usd[deal])
    _common(
        b, source="treasury", product="FX_FORWARD_USDCNY", gl="730201", instrument="derivative_leg", subtype=None,
        side=(("liability", "asset"), side.astype(np.int64)), on_bs=False, ccy=ccy, branch="BR000",
        line="financial_markets", book=_pick(rng, n, ("banking", "trading"), [0.4, 0.6]),
    )  # fmt: skip
    book = b.get_code("book")[1]
    b.code("book", (("banking", "trading"), book[deal * 2]))
    b.num("principal_balance", bal)
    _terms(
        ctx, b, orig=d_orig[deal], mat=d_mat[deal], balance=bal, rtype=np.full(n, _NIB), rate=np.full(n, np.nan),
        ifreq=0, pfreq=0, amort=_BULLET, day_count=_A360,
    )  # fmt: skip
    b.num("fair_value", np.where(cny_leg, np.round(mtm[deal], 2), 0.0))
    b.ident("deal_id", "FXF", deal + 1)
    b.code("derivative_type", "fx_forward")
    b.code("notional_exchange", "final")
    b.flag("is_centrally_cleared", False)
    b.ident("counterparty_id", "B", 1 + (deal * 7) % 120)
    return b


# --------------------------------------------------------------------------------------------
# Equity, orchestration, counterparties
# --------------------------------------------------------------------------------------------


def _cny_totals(blocks: Sequence[_Block]) -> dict[str, float]:
    """On-balance principal per side in CNY (fx closing rates)."""
    out = {"asset": 0.0, "liability": 0.0, "equity": 0.0}
    for b in blocks:
        if not np.all(np.asarray(b.cols["on_balance_sheet"]) == 1):
            continue
        labels, side = b.get_code("side")
        _, ccy = b.get_code("currency")
        cny = b.get_num("principal_balance") * _FX[ccy]
        for j, lab in enumerate(labels):
            out[lab] += float(cny[side == j].sum())
    return out


def _equity(ctx: _Context, blocks: Sequence[_Block]) -> _Block:
    totals = _cny_totals(blocks)
    gap = round(totals["asset"] - totals["liability"], 2)
    if gap <= 0:
        raise AssertionError(f"synthetic balance sheet has no equity: assets - liabilities = {gap:,.2f}")
    k = len(_EQUITY_SPLIT)
    b = _Block("EQUITY", k)
    parts = np.array([round(gap * s, 2) for _, _, s in _EQUITY_SPLIT[:-1]])
    amounts = np.r_[parts, round(gap - parts.sum(), 2)]
    _common(
        b, source="general_ledger", product=(tuple(p for p, _, _ in _EQUITY_SPLIT), np.arange(k)),
        gl=(tuple(g for _, g, _ in _EQUITY_SPLIT), np.arange(k)), instrument="equity_capital", subtype=None,
        side="equity", on_bs=True, ccy=np.zeros(k, dtype=np.int64), branch="BR000", line="treasury",
    )  # fmt: skip
    b.num("principal_balance", amounts)
    b.code("rate_type", "non_interest_bearing")
    b.code("amortisation_type", "non_maturity")
    b.code("capital_tier", "cet1")
    return b


def _deposit_totals(blocks: Sequence[_Block]) -> tuple[float, float]:
    """CNY customer deposits (CNY) and foreign-currency customer deposits (in USD)."""
    cny, fx_usd = 0.0, 0.0
    for b in blocks:
        _, ccy = b.get_code("currency")
        bal = b.get_num("principal_balance")
        cny += float(bal[ccy == 0].sum())
        fx_usd += float((bal[ccy > 0] * _FX[ccy[ccy > 0]]).sum()) / FX_TO_CNY["USD"]
    return cny, fx_usd


def _generate_blocks(ctx: _Context) -> list[_Block]:
    corp = _corporate_loans(ctx)
    sme = _sme_loans(ctx)
    mortgages = _mortgages(ctx)
    consumer = _consumer_loans(ctx)
    cards = _cards(ctx)
    bills = _bills(ctx)
    hold = _bonds(ctx)
    ib_assets = _interbank_assets(ctx)
    rev_repos = _reverse_repos(ctx)
    deposits = [
        _retail_demand(ctx),
        _retail_pool(ctx),
        _corporate_demand(ctx),
        _term_deposits(ctx, retail=True),
        _term_deposits(ctx, retail=False),
        _notice_deposits(ctx),
    ]
    acceptances, margins = _acceptances(ctx)
    ib_liab = _interbank_liabilities(ctx)
    ib_borrow = _interbank_borrowing(ctx)
    repos, mlf = _secured_funding(ctx, hold)
    issued = _issued(ctx)
    commitments = _commitments(ctx, corp)
    guarantees = _guarantees(ctx)
    irs = _irs(ctx)
    fx = _fx_forwards(ctx)
    cny_dep, fx_dep = _deposit_totals([*deposits, margins])
    reserves = _reserves(ctx, cny_dep, fx_dep)
    cash = _cash(ctx)
    on_balance = [
        cash, reserves, ib_assets, rev_repos, bills, corp, sme, mortgages, consumer, cards, hold.block,
        *deposits, margins, ib_liab, ib_borrow, repos, mlf, issued,
    ]  # fmt: skip
    equity = _equity(ctx, on_balance)
    blocks = [*on_balance, equity, commitments, guarantees, acceptances, irs, fx]
    for b in blocks:
        b.day("as_of_date", ctx.a)
    total = sum(b.n for b in blocks)
    if total != ctx.n:
        raise AssertionError(f"generated {total} rows, expected {ctx.n}")
    return blocks


_PREFIX_TYPE: Final = {
    "R": "retail_individual",
    "S": "small_business",
    "C": "non_financial_corporate",
    "B": "bank",
    "SEC": "securities_firm",
    "FND": "investment_fund",
    "INS": "insurance",
    "FIN": "other_financial",
    "PSE": "pse",
    "LG": "sub_sovereign",
}
_PREFIX_FI: Final = {"SEC": "securities", "FND": "fund_manager", "INS": "insurance", "FIN": "finance_company"}
_FOREIGN_COUNTRIES: Final = ("HK", "SG", "GB", "US", "DE", "JP", "FR")


def _bank_subtype(num: IntArray) -> tuple[IntArray, Sequence[str]]:
    labels = ("large_commercial_bank", "joint_stock_bank", "city_commercial_bank", "rural_bank", "foreign_bank")
    idx = np.select([num <= 6, num <= 18, num <= 70, num <= 100], [0, 1, 2, 3], 4)
    return idx, labels


def _used_numbers(parts: Sequence[IntArray]) -> IntArray:
    """Sorted distinct numbers of one id prefix (a presence mask for the dense range)."""
    nums = np.concatenate(parts)
    dense = nums[(nums >= 0) & (nums < (1 << 24))]
    present = np.zeros(int(dense.max()) + 1 if len(dense) else 0, dtype=bool)
    present[dense] = True
    rest = np.unique(nums[(nums < 0) | (nums >= (1 << 24))])
    return np.concatenate([rest[rest < 0], np.flatnonzero(present), rest[rest >= 0]]).astype(np.int64)


def _counterparties(ctx: _Context, blocks: Sequence[_Block]) -> pa.Table:
    """One row per counterparty id used in positions, attributes derived from the id."""
    by_prefix: dict[str, list[IntArray]] = {}
    for b in blocks:
        v = b.cols.get("counterparty_id")
        if v is None:
            continue
        _, labels, idx, numbers = v
        for j, lab in enumerate(labels):  # a loop over the few id prefixes of a block
            m = idx == j
            if m.any():
                by_prefix.setdefault(lab, []).append(np.asarray(numbers)[m])
    prefixes = sorted(by_prefix)
    columns: dict[str, list[IntArray]] = {k: [] for k in ("code", "num", "type", "fi", "size", "country", "name")}
    vocab: dict[str, dict[str | None, int]] = {k: {None: -1} for k in ("type", "fi", "size", "country", "name")}

    def put(column: str, value: str | None, n: int) -> None:
        code = vocab[column].setdefault(value, len(vocab[column]) - 1)
        columns[column].append(np.full(n, code, dtype=np.int64))

    def put_codes(column: str, labels: Sequence[str], idx: IntArray) -> None:
        lut = np.array([vocab[column].setdefault(lab, len(vocab[column]) - 1) for lab in labels], dtype=np.int64)
        columns[column].append(lut[idx])

    for j, lab in enumerate(prefixes):
        num = _used_numbers(by_prefix[lab])
        n = len(num)
        columns["code"].append(np.full(n, j, dtype=np.int64))
        columns["num"].append(num)
        h = (num * 2654435761 + 12345) % 1000  # stable pseudo-random attributes from the id
        if lab in _NAMED:
            t, f, c, nm = _NAMED[lab]
            for attr, value in (("type", t), ("fi", f), ("size", None), ("country", c), ("name", nm)):
                put(attr, value, n)
            continue
        put("type", _PREFIX_TYPE[lab], n)
        put("name", None, n)
        if lab == "B":
            sub_idx, sub_labels = _bank_subtype(num)
            put_codes("fi", sub_labels, sub_idx)
            foreign = np.where(sub_idx == 4, 1 + num % len(_FOREIGN_COUNTRIES), 0)
            put_codes("country", ("CN", *_FOREIGN_COUNTRIES), foreign)
        else:
            put("fi", _PREFIX_FI.get(lab), n)
            put("country", "CN", n)
        if lab == "C":
            put_codes("size", ("large", "medium", "small"), np.select([h < 300, h < 750], [0, 1], 2))
        elif lab == "S":
            put_codes("size", ("small", "micro"), (h >= 400).astype(np.int64))
        else:
            put("size", None, n)

    def column(name: str) -> pa.Array:
        idx = np.concatenate(columns[name])
        labels = [k for k in vocab[name] if k is not None]
        return pc.take(pa.array(labels, pa.string()), pa.array(idx.astype(np.int32), mask=idx < 0))

    code = np.concatenate(columns["code"])
    num = np.concatenate(columns["num"])
    ids = _format_ids(prefixes, code, num, _ID_COLUMNS["counterparty_id"])
    fields = {
        "as_of_date": pa.array(np.full(len(code), ctx.a, dtype=np.int32), pa.date32()),
        "counterparty_id": ids,
        "name": column("name"),
        "counterparty_type": column("type"),
        "fi_subtype": column("fi"),
        "enterprise_size": column("size"),
        "country_of_residence": column("country"),
    }
    schema = pa.schema([pa.field(k, COUNTERPARTIES.column(k).arrow_type) for k in fields])
    return pa.table(fields, schema=schema)


# --------------------------------------------------------------------------------------------
# General ledger (gl_account_map, gl_balances)
# --------------------------------------------------------------------------------------------

# (gl_account, measure, sign, balance_sheet_line, description)
_GL_ACCOUNTS: Final = (
    ("100101", "principal_balance", 1, "cash_and_central_bank", "Cash in vault"),
    ("100301", "principal_balance", 1, "cash_and_central_bank", "Deposits with the central bank"),
    ("113201", "accrued_interest", 1, "cash_and_central_bank", "Accrued interest: central bank deposits"),
    ("101101", "principal_balance", 1, "due_from_banks", "Deposits with banks"),
    ("113202", "accrued_interest", 1, "due_from_banks", "Accrued interest: deposits with banks"),
    ("130201", "principal_balance", 1, "placements_with_banks", "Placements with banks"),
    ("113203", "accrued_interest", 1, "placements_with_banks", "Accrued interest: placements with banks"),
    ("111101", "principal_balance", 1, "reverse_repos", "Reverse repurchase agreements"),
    ("113204", "accrued_interest", 1, "reverse_repos", "Accrued interest: reverse repos"),
    ("130101", "principal_balance", 1, "loans_and_advances", "Discounted bills"),
    ("130301", "principal_balance", 1, "loans_and_advances", "Corporate loans"),
    ("130302", "principal_balance", 1, "loans_and_advances", "SME loans"),
    ("130311", "principal_balance", 1, "loans_and_advances", "Residential mortgages"),
    ("130312", "principal_balance", 1, "loans_and_advances", "Consumer loans"),
    ("130321", "principal_balance", 1, "loans_and_advances", "Credit card receivables"),
    ("113205", "accrued_interest", 1, "loans_and_advances", "Accrued interest: loans and advances"),
    ("700102", "undrawn_amount", 1, "loans_and_advances", "Memo: undrawn credit card limits"),
    ("110101", "principal_balance", 1, "trading_financial_assets", "Bonds at FVTPL (face)"),
    ("113206", "accrued_interest", 1, "trading_financial_assets", "Accrued interest: bonds at FVTPL"),
    ("150101", "principal_balance", 1, "debt_investments", "Bonds at amortised cost (face)"),
    ("113207", "accrued_interest", 1, "debt_investments", "Accrued interest: bonds at amortised cost"),
    ("150301", "principal_balance", 1, "other_debt_investments", "Bonds at FVOCI (face)"),
    ("113208", "accrued_interest", 1, "other_debt_investments", "Accrued interest: bonds at FVOCI"),
    ("200401", "principal_balance", -1, "borrowings_from_central_bank", "Borrowings from the central bank"),
    ("223101", "accrued_interest", -1, "borrowings_from_central_bank", "Accrued interest: central bank borrowings"),
    ("201501", "principal_balance", -1, "due_to_banks", "Deposits from banks"),
    ("223102", "accrued_interest", -1, "due_to_banks", "Accrued interest: deposits from banks"),
    ("200301", "principal_balance", -1, "placements_from_banks", "Placements from banks"),
    ("223103", "accrued_interest", -1, "placements_from_banks", "Accrued interest: placements from banks"),
    ("211101", "principal_balance", -1, "repos", "Repurchase agreements"),
    ("223104", "accrued_interest", -1, "repos", "Accrued interest: repos"),
    ("201101", "principal_balance", -1, "customer_deposits", "Retail demand deposits"),
    ("201102", "principal_balance", -1, "customer_deposits", "Corporate demand deposits"),
    ("201201", "principal_balance", -1, "customer_deposits", "Retail term deposits"),
    ("201202", "principal_balance", -1, "customer_deposits", "Corporate term deposits"),
    ("201301", "principal_balance", -1, "customer_deposits", "Notice deposits"),
    ("201401", "principal_balance", -1, "customer_deposits", "Margin deposits"),
    ("223105", "accrued_interest", -1, "customer_deposits", "Accrued interest: customer deposits"),
    ("250201", "principal_balance", -1, "bonds_issued", "NCDs issued"),
    ("250202", "principal_balance", -1, "bonds_issued", "Financial bonds issued"),
    ("250203", "principal_balance", -1, "bonds_issued", "Tier-2 bonds issued"),
    ("223106", "accrued_interest", -1, "bonds_issued", "Accrued interest: bonds issued"),
    *((gl, "principal_balance", -1, "equity", name) for name, gl, _ in _EQUITY_SPLIT),
    ("700101", "undrawn_amount", 1, "off_balance_commitments", "Memo: undrawn loan commitments"),
    ("700201", "principal_balance", 1, "off_balance_guarantees", "Memo: guarantees issued"),
    ("700301", "principal_balance", 1, "off_balance_acceptances", "Memo: bank acceptances"),
    ("730101", "none", 1, "derivatives", "Memo: interest rate swap notionals"),
    ("730201", "none", 1, "derivatives", "Memo: FX forward notionals"),
)
_GL_DESCRIPTION: Final = {a[0]: a[4] for a in _GL_ACCOUNTS}


def _gl_account_map(positions: pa.Table) -> pa.Table:
    """The map of every account of :data:`_GL_ACCOUNTS`; each account the positions use is in it."""
    used = set(pc.unique(positions.column("gl_account")).to_pylist()) - {None}
    missing = used - set(_GL_DESCRIPTION)
    if missing:
        raise AssertionError(f"positions use gl_account(s) {sorted(missing)} that the synthetic ledger does not map")
    rows: dict[str, list[Any]] = {
        "gl_account": [a[0] for a in _GL_ACCOUNTS],
        "measure": [a[1] for a in _GL_ACCOUNTS],
        "sign": [a[2] for a in _GL_ACCOUNTS],
        "balance_sheet_line": [a[3] for a in _GL_ACCOUNTS],
        "in_scope": [True] * len(_GL_ACCOUNTS),
        "tolerance_abs": [None] * len(_GL_ACCOUNTS),
        "tolerance_rel": [None] * len(_GL_ACCOUNTS),
    }
    return _typed_table(rows, GL_ACCOUNT_MAP)


def _gl_balances(positions: pa.Table, account_map: pa.Table, as_of: dt.date) -> pa.Table:
    """Branch-level ledger balances equal to the exact decimal sums the positions imply."""
    ledger = expected_balances(positions, account_map, level="branch")
    exact = ledger.column("balance").to_pylist()
    balance = [float(d) for d in exact]  # correctly rounded: repr gives back the decimal (<= 15 digits)
    for d, f in zip(exact, balance, strict=True):
        if Decimal(repr(f)) != d:
            raise AssertionError(f"ledger balance {d} does not survive float64; keep balances below 1e13")
    rows: dict[str, Any] = {
        "as_of_date": [as_of] * ledger.num_rows,
        "reporting_entity_id": ledger.column("reporting_entity_id"),
        "branch_id": ledger.column("branch_id"),
        "gl_account": ledger.column("gl_account"),
        "currency": ledger.column("currency"),
        "balance": balance,
        "description": [_GL_DESCRIPTION[a] for a in ledger.column("gl_account").to_pylist()],
    }
    return _typed_table(rows, GL_BALANCES)
