"""The fast cash-flow kernel (numba): walks every contract's schedule and emits into accumulators.

This is the hot path of a run. It implements, contract by contract, exactly the semantics of
``docs/design.md`` ("Cash-flow semantics"), which :mod:`openalm.engine.reference` implements
too in plain Python; the tests compare the two on random contracts and QuantLib checks both.

Inputs are one partition of contracts as two matrices (``ci`` int64 and ``cf`` float64, one row
per contract, columns named by the ``I_*`` and ``F_*`` constants below) plus CSR arrays for the
explicit schedules, rate steps and run-off profiles, the packed curves and the scenario shocks.
Outputs are additive:

* ``ladder[ladder_slot, group, bucket, kind]``: sums of flow amounts (>= 0, direction from the
  group's side) by group key (currency x side x instrument type), global bucket (every bucket set
  at once) and flow kind (principal, interest, drawdown), for the scenarios that write a ladder;
* ``pv[contract, scenario]``: present value of the contract's future flows under each scenario,
  signed from the bank's point of view (scenario 0 is the base curve).

Fixed-rate flows do not depend on the curves, so their schedule is walked once and discounted
under every scenario; floating-rate flows are re-projected under each scenario.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from openalm.conventions.business_day import adjust_day
from openalm.conventions.dates import NO_DATE, add_months, add_tenor, civil_from_days, days_from_civil, days_in_month
from openalm.conventions.daycount import year_fraction
from openalm.market._kernel import zero_rate_packed

__all__ = ["CF_COLUMNS", "CI_COLUMNS", "run_partition_kernel"]

# ---- contract categories -------------------------------------------------------------------
CAT_DATED = 0
CAT_NON_MATURITY = 1
CAT_UNDATED = 2
CAT_NO_FLOWS = 3

# ---- codes (same order as openalm.engine.codes) ------------------------------------------
RT_FIXED = 0
RT_FLOATING = 1
RT_ADMINISTERED = 2
RT_HYBRID = 3
RT_NIB = 4

AM_BULLET = 0
AM_ANNUITY = 1
AM_AFP = 2
AM_LINEAR = 3
AM_SCHEDULE = 4
AM_NON_MATURITY = 5

UNIT_D = 0
UNIT_W = 1
UNIT_M = 2
UNIT_Y = 3
UNIT_T = 4

DC_ACT_360 = 0
DC_ACT_365F = 1
DC_ACT_ACT_ISDA = 2
DC_ACT_ACT_ICMA = 3
DC_30_360_US = 4
DC_30E_360 = 5
DC_30E_360_ISDA = 6
DC_30_365 = 7

KIND_PRINCIPAL = 0
KIND_INTEREST = 1
KIND_DRAWDOWN = 2
N_KINDS = 3

EV_INT = 1
EV_PRIN = 2
EV_RESET = 4
EV_STEP = 8
EV_REVERT = 16

# ---- int matrix columns ----------------------------------------------------------------------
CI_COLUMNS = (
    "category", "side_sign", "group", "ccy", "orig", "mat", "rate_type", "day_count", "amort",
    "if_n", "if_u", "pf_n", "pf_u", "next_int", "next_prin", "last_int",
    "rf_n", "rf_u", "next_reset", "reset_lag", "init_end", "advance", "io_end", "amort_term",
    "non_accrual", "notional_exchange", "eom", "bdc", "calendar", "disc_curve", "proj_curve",
    "idx_n", "idx_u", "profile", "floating", "notice", "liq_group",
)  # fmt: skip
I_CAT, I_SIDE, I_GROUP, I_CCY, I_ORIG, I_MAT, I_RT, I_DC, I_AMORT = range(9)
I_IF_N, I_IF_U, I_PF_N, I_PF_U, I_NEXT_INT, I_NEXT_PRIN, I_LAST_INT = range(9, 16)
I_RF_N, I_RF_U, I_NEXT_RESET, I_LAG, I_INIT_END, I_ADVANCE, I_IO_END, I_AMORT_TERM = range(16, 24)
I_NON_ACCRUAL, I_NX, I_EOM, I_BDC, I_CAL, I_DISC, I_PROJ = range(24, 31)
I_IDX_N, I_IDX_U, I_PROFILE, I_FLOATING, I_NOTICE, I_LGRP = range(31, 37)

CF_COLUMNS = (
    "balance", "overdue", "accrued", "rate", "multiplier", "spread", "cap", "floor",
    "periodic_cap", "periodic_floor", "reversion_rate", "installment", "initial_exchange",
    "known_fixing",
)  # fmt: skip
F_BAL, F_OVERDUE, F_ACCRUED, F_RATE, F_MULT, F_SPREAD, F_CAP, F_FLOOR = range(8)
F_PCAP, F_PFLOOR, F_REV, F_INSTALLMENT, F_INIT_EXCH, F_FIXING = range(8, 14)


@njit(cache=True, inline="always")
def _freq_per_year(n: int, u: int) -> float:
    if u == UNIT_M:
        return 12.0 / n
    if u == UNIT_Y:
        return 1.0 / n
    if u == UNIT_W:
        return 365.0 / (7.0 * n)
    if u == UNIT_D:
        return 365.0 / n
    return 1.0


@njit(cache=True, inline="always")
def regular_period_fraction(dc: int, n: int, u: int) -> float:
    """Day-count fraction of one regular period of tenor (n, u): the annuity's periodic-rate factor.

    30/360 family: 30 x months / 360; ACT/360: months / 12 x 365 / 360; 30/365: 30 x months / 365;
    ACT/365F and ACT/ACT: months / 12. Day and week tenors: days / 360 or days / 365 by basis.
    """
    if u == UNIT_M or u == UNIT_Y:
        months = n if u == UNIT_M else 12 * n
        if dc == DC_ACT_360:
            return months / 12.0 * 365.0 / 360.0
        if dc == DC_30_365:
            return 30.0 * months / 365.0
        if dc == DC_30_360_US or dc == DC_30E_360 or dc == DC_30E_360_ISDA:
            return 30.0 * months / 360.0
        return months / 12.0
    days = n if u == UNIT_D else 7 * n
    if dc == DC_ACT_360 or dc == DC_30_360_US or dc == DC_30E_360 or dc == DC_30E_360_ISDA:
        return days / 360.0
    return days / 365.0


def _month_starts(first_year: int, last_year: int) -> np.ndarray:
    """Day numbers of the first day of every month from ``first_year`` to ``last_year`` + 1."""
    years = np.arange(first_year, last_year + 2)
    months = np.array([f"{y:04d}-{m:02d}-01" for y in years for m in range(1, 13)], dtype="datetime64[D]").astype(
        np.int64
    )
    return months


_MS_FIRST_YEAR = 1900
_MONTH_STARTS = _month_starts(_MS_FIRST_YEAR, 2300)  # frozen into the compiled kernel


@njit(cache=True, inline="always")
def _shift(y: int, m: int, d: int, me: bool, k: int) -> int:
    """Day number of the date (y, m, d) plus ``k`` months: day clipped to the month's length, or the
    month end when ``me`` (end-of-month rule on a month-end anchor). Same as ``add_months``; a
    table of month starts replaces the calendar arithmetic inside the years it covers."""
    total = y * 12 + (m - 1) + k
    j = total - _MS_FIRST_YEAR * 12
    if 0 <= j < _MONTH_STARTS.shape[0] - 1:
        start = _MONTH_STARTS[j]
        dim = _MONTH_STARTS[j + 1] - start
        dd = dim if (me or d > dim) else d
        return start + dd - 1
    y2 = total // 12
    m2 = total - y2 * 12 + 1
    dim = days_in_month(y2, m2)
    dd = dim if (me or d > dim) else d
    return days_from_civil(y2, m2, dd)


@njit(cache=True)
def _roll(
    out: np.ndarray, grid: np.ndarray, anchor: int, mat: int, lower: int, n: int, u: int, eom: bool
) -> tuple[int, int]:
    """Unadjusted schedule dates after ``lower`` up to ``mat`` (ascending) into ``out``.

    With an anchor: anchor + k x tenor (each from the anchor) while < mat, then mat. Without:
    backward from mat by k x tenor while > lower. ``grid[j]`` is the previous date on the roll grid
    of ``out[j]`` (its regular period's start; ``NO_DATE`` for a maturity off the grid). Returns
    (count, roll date before the first). Tenor ``T`` (or missing): just ``mat`` and ``NO_DATE``.
    Month arithmetic is done on (year, month, day) once per roll (the hot path of the kernel).
    """
    if u == UNIT_T or u < 0 or n <= 0:
        out[0] = mat
        grid[0] = NO_DATE
        return 1, NO_DATE
    months = u == UNIT_M or u == UNIT_Y
    step = n * 12 if u == UNIT_Y else (n * 7 if u == UNIT_W else n)
    base = anchor if anchor != NO_DATE else mat
    y = 0
    m = 0
    d = 0
    me = False
    if months:
        y, m, d = civil_from_days(base)
        me = eom and d == days_in_month(y, m)
    sign = 1 if anchor != NO_DATE else -1
    if sign < 0 and mat <= lower:
        return 0, mat
    # k0: a first guess of the index of the first date after `lower`, refined below
    if months:
        ly, lm, _ld = civil_from_days(lower)
        diff = (ly * 12 + lm) - (y * 12 + m)
    else:
        diff = lower - base
    k0 = (sign * diff) // step
    if sign < 0:
        # dates mat - k x step (k >= 0) while > lower: largest k with date > lower
        k = max(k0 - 1, 0)
        while True:
            dd = _shift(y, m, d, me, -(k + 1) * step) if months else base - (k + 1) * step
            if dd <= lower:
                break
            k += 1
        while k > 0:
            dd = _shift(y, m, d, me, -k * step) if months else base - k * step
            if dd > lower:
                break
            k -= 1
        cnt = k + 1
        for j in range(cnt):
            kk = cnt - 1 - j
            out[j] = _shift(y, m, d, me, -kk * step) if months else base - kk * step
        prev = _shift(y, m, d, me, -cnt * step) if months else base - cnt * step
        grid[0] = prev
        for j in range(1, cnt):
            grid[j] = out[j - 1]
        return cnt, prev
    # anchored: anchor + k x step (k >= 0) while < mat, keeping those > lower
    k = max(k0 - 1, 0)
    while k > 0:
        dd = _shift(y, m, d, me, (k - 1) * step) if months else base + (k - 1) * step
        if dd <= lower:
            break
        k -= 1
    while True:
        dd = _shift(y, m, d, me, k * step) if months else base + k * step
        if dd > lower:
            break
        k += 1
    first = k
    cnt = 0
    last = NO_DATE
    while True:
        dd = _shift(y, m, d, me, k * step) if months else base + k * step
        if dd >= mat:
            break
        out[cnt] = dd
        cnt += 1
        last = dd
        k += 1
    prev = _shift(y, m, d, me, (first - 1) * step) if months else base + (first - 1) * step
    out[cnt] = mat
    grid[0] = prev
    for j in range(1, cnt):
        grid[j] = out[j - 1]
    if cnt > 0:
        grid[cnt] = last if dd == mat else NO_DATE
    else:
        grid[cnt] = prev if dd == mat else NO_DATE
    cnt += 1
    return cnt, prev


@njit(cache=True, inline="always")
def _adjust(d: int, bdc: int, cal: int, cal_first: int, cal_next: np.ndarray, cal_prev: np.ndarray) -> int:
    if bdc == 0 or cal < 0:
        return d
    return adjust_day(d, bdc, cal_first, cal_next[cal], cal_prev[cal])


@njit(cache=True, inline="always")
def _shocked_df(z: float, t: float, shock: np.ndarray) -> float:
    """``exp(-max(floor, z + dz(t)) t)`` with ``dz = parallel + short e + long (1 - e)``, ``e = exp(-t/x)``."""
    dz = shock[0]
    if shock[1] != 0.0 or shock[2] != 0.0:
        e = math.exp(-t / shock[3])
        dz += shock[1] * e + shock[2] * (1.0 - e)
    zz = z + dz
    if shock[4] == shock[4] and zz < shock[4]:
        zz = shock[4]
    return math.exp(-zz * t)


@njit(cache=True, inline="always")
def _curve_df(c_off, c_t, c_z, curve: int, shock: np.ndarray, t: float) -> float:
    return _shocked_df(zero_rate_packed(c_off, c_t, c_z, curve, t), t, shock)


@njit(cache=True, nogil=True)
def build_df_table(c_off, c_t, c_z, curve_ccy, shocks, n_days):
    """Discount factors of every curve under every scenario for the days 0..n_days-1 after as-of.

    ``tab[c, d, s] = DF`` of curve ``c`` under the shock of scenario ``s`` for the curve's currency
    at ``t = d / 365``: the kernel looks discount factors up instead of evaluating an exponential
    per flow and scenario (identical values: the same function computes both). The scenarios of
    a day are adjacent in memory, so the per-scenario walks of a contract hit the same cache lines.
    """
    n_curves = c_off.shape[0] - 1
    n_scen = shocks.shape[0]
    tab = np.empty((n_curves, n_days, n_scen), np.float64)
    none = np.zeros(5, np.float64)
    none[3] = 4.0
    none[4] = np.nan
    for c in range(n_curves):
        cc = curve_ccy[c]
        for d in range(n_days):
            t = d / 365.0
            z = zero_rate_packed(c_off, c_t, c_z, c, t)
            for s in range(n_scen):
                tab[c, d, s] = _shocked_df(z, t, shocks[s, cc] if cc >= 0 else none)
    return tab


@njit(cache=True, inline="always")
def _yf(dc: int, a: int, b: int, ref_s: int, ref_e: int, freq: float, mat: int) -> float:
    return year_fraction(dc, a, b, ref_s, ref_e, freq, mat)


@njit(cache=True, inline="always")
def _annuity_payment(b: float, ip: float, n_rem: int) -> float:
    """Level instalment ``b i / (1 - (1 + i)^-n)`` (``b / n`` at i = 0), cancellation-free."""
    if abs(ip) < 1e-15:
        return b / n_rem
    return b * ip / (-math.expm1(-n_rem * math.log1p(ip)))


@njit(cache=True, inline="always")
def _icma_ref_start(end: int, grid_prev: int, n: int, u: int, eom: bool) -> int:
    """Start of the ICMA reference period ending at ``end``: the roll-grid predecessor when ``end``
    is on the grid, else ``end - tenor`` (month tenors) or ``end - 1Y`` (day/week/T tenors)."""
    if grid_prev != NO_DATE:
        return grid_prev
    if u == UNIT_M or u == UNIT_Y:
        return add_tenor(end, -n, u, eom)
    return add_months(end, -12, eom)


@njit(cache=True)
def build_events(
    i, ci, cf, as_of,
    cal_first, cal_next, cal_prev,
    sched_off, sched_date, sched_prin, sched_int,
    step_off, step_date, step_rate, step_spread,
    prof_off, prof_n, prof_u, prof_share,
    buf_i, buf_ig, buf_p, buf_pg, buf_r, buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa,
    ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
    fl_day, fl_amt, fl_kind, fl_dir,
):  # fmt: skip
    """The scenario-independent part of a contract's projection: its event schedule.

    Writes the merged events (interest, principal, reset, step dates) with, per event, the accrual
    fraction of the sub-interval ending there (``ev_tau``), the adjusted pay day (``ev_pay``) and
    the fraction of the coming period for interest in advance (``ev_tadv``); flows that never depend
    on rates (non-maturity run-off, drawdowns) go straight into the ``fl_*`` buffers.
    Returns ``(ne, nfl, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched)``.
    """
    sgn = ci[i, I_SIDE]
    cat = ci[i, I_CAT]
    bdc = ci[i, I_BDC]
    cal = ci[i, I_CAL]
    rt = ci[i, I_RT]
    dc = ci[i, I_DC]
    eom = ci[i, I_EOM] != 0
    nfl = 0
    bal = cf[i, F_BAL]
    od = cf[i, F_OVERDUE]
    if od != od:
        od = 0.0
    b = bal - od
    rate = cf[i, F_RATE]
    if rate != rate:
        rate = 0.0
    accrues = rt != RT_NIB and ci[i, I_NON_ACCRUAL] == 0

    if cat == CAT_NON_MATURITY:
        # run-off slices at as-of + tenor (unadjusted), simple interest from the as-of date
        p = ci[i, I_PROFILE]
        notice = ci[i, I_NOTICE]
        for k in range(prof_off[p], prof_off[p + 1]):
            d = add_tenor(as_of, prof_n[k], prof_u[k], False)
            if notice > 0 and d < as_of + notice:
                d = as_of + notice
            amt = b * prof_share[k]
            fl_day[nfl] = d
            fl_amt[nfl] = amt
            fl_kind[nfl] = KIND_PRINCIPAL
            fl_dir[nfl] = sgn
            nfl += 1
            if accrues:
                fl_day[nfl] = d
                fl_amt[nfl] = amt * rate * _yf(dc, as_of, d, add_months(d, -12, eom), d, 1.0, d)
                fl_kind[nfl] = KIND_INTEREST
                fl_dir[nfl] = sgn
                nfl += 1
        return 0, nfl, 0, -1, 0, 0.0, 0.0, 0, False

    orig = ci[i, I_ORIG]
    mat = ci[i, I_MAT]
    nx = ci[i, I_NX]
    fwd = orig != NO_DATE and orig > as_of
    lower = orig if fwd else as_of
    if fwd:
        b = bal
        if nx == -1 or nx == 2:  # loans/deposits drawn at O; derivative initial exchange
            amt = bal
            if nx == 2 and cf[i, F_INIT_EXCH] == cf[i, F_INIT_EXCH]:
                amt = cf[i, F_INIT_EXCH]
            fl_day[nfl] = orig
            fl_amt[nfl] = amt
            fl_kind[nfl] = KIND_DRAWDOWN
            fl_dir[nfl] = -sgn
            nfl += 1

    amort = ci[i, I_AMORT]
    is_sched = amort == AM_SCHEDULE
    # ---- principal dates -----------------------------------------------------------------
    npr = 0
    same_roll = False
    p_prev = NO_DATE
    if is_sched:
        for k in range(sched_off[i], sched_off[i + 1]):
            if sched_date[k] > as_of and sched_prin[k] != 0.0:
                buf_p[npr] = sched_date[k]
                buf_pg[npr] = sched_prin[k]  # amounts ride in the grid buffer for schedules
                npr += 1
        if npr == 0:  # no future principal row: a bullet
            is_sched = False
    if is_sched:
        pass
    elif amort == AM_ANNUITY or amort == AM_AFP or amort == AM_LINEAR:
        npr, p_prev = _roll(buf_p, buf_pg, ci[i, I_NEXT_PRIN], mat, lower, ci[i, I_PF_N], ci[i, I_PF_U], eom)
        same_roll = ci[i, I_PF_N] == ci[i, I_IF_N] and ci[i, I_PF_U] == ci[i, I_IF_U]
        same_roll = same_roll and ci[i, I_NEXT_PRIN] == ci[i, I_NEXT_INT]
    else:
        buf_p[0] = mat
        npr = 1

    # ---- interest dates ------------------------------------------------------------------
    if_n = ci[i, I_IF_N]
    if_u = ci[i, I_IF_U]
    ni = 0
    ps = NO_DATE
    acc = 0.0
    sched_interest = False
    if is_sched:
        for k in range(sched_off[i], sched_off[i + 1]):
            if sched_int[k] == sched_int[k] and sched_date[k] > as_of:
                sched_interest = True
    if accrues and not sched_interest:
        if is_sched:
            # interest on the scheduled principal dates
            for k in range(npr):
                buf_i[k] = buf_p[k]
                buf_ig[k] = NO_DATE
            ni = npr
            roll_prev = NO_DATE
            if if_u >= 0 and if_u != UNIT_T and if_n > 0:
                roll_prev = add_tenor(buf_i[0], -if_n, if_u, eom)
            else:
                pf_n = ci[i, I_PF_N]
                pf_u = ci[i, I_PF_U]
                if pf_u >= 0 and pf_u != UNIT_T and pf_n > 0:
                    roll_prev = add_tenor(buf_i[0], -pf_n, pf_u, eom)
        elif same_roll:  # interest on the principal dates (the usual instalment loan): roll once
            for k in range(npr):
                buf_i[k] = buf_p[k]
                buf_ig[k] = int(buf_pg[k])
            ni = npr
            roll_prev = p_prev
        else:
            ni, roll_prev = _roll(buf_i, buf_ig, ci[i, I_NEXT_INT], mat, lower, if_n, if_u, eom)
        if fwd:
            ps = orig
        elif ci[i, I_LAST_INT] != NO_DATE:
            ps = ci[i, I_LAST_INT]
        elif roll_prev != NO_DATE:
            ps = roll_prev
            if orig != NO_DATE and ps < orig:
                ps = orig
        elif orig != NO_DATE:
            ps = orig
        if ps == NO_DATE:
            ps = as_of
            a0 = cf[i, F_ACCRUED]
            if a0 == a0:
                acc = a0
    freq = _freq_per_year(if_n, if_u) if (if_u >= 0 and if_u != UNIT_T and if_n > 0) else 1.0

    # ---- resets, steps ---------------------------------------------------------------------
    has_index = ci[i, I_PROJ] >= 0
    nr = 0
    # the rate path is followed even on non-accrual rows: it sizes annuity instalments
    if rt != RT_NIB and (rt == RT_FLOATING or (rt == RT_HYBRID and has_index)):
        rf_n = ci[i, I_RF_N]
        rf_u = ci[i, I_RF_U]
        if rf_u == UNIT_T or rf_u < 0 or rf_n <= 0:
            rf_n = if_n
            rf_u = if_u
        no_tenor = rf_u == UNIT_T or rf_u < 0 or rf_n <= 0
        from_day = as_of
        anchor = ci[i, I_NEXT_RESET]
        init_end = ci[i, I_INIT_END]
        hybrid_later = rt == RT_HYBRID and init_end != NO_DATE and init_end > as_of
        if hybrid_later:
            from_day = init_end
            if anchor == NO_DATE:
                anchor = init_end
            if init_end < mat:
                buf_r[0] = init_end
                nr = 1
        if anchor != NO_DATE:
            k = 0
            while True:
                d = anchor if no_tenor else add_tenor(anchor, k * rf_n, rf_u, eom)
                if d >= mat:
                    break
                if d > as_of and d >= from_day and not (nr > 0 and d == buf_r[0] and hybrid_later):
                    buf_r[nr] = d
                    nr += 1
                if no_tenor:
                    break
                k += 1
        elif not no_tenor:
            k = 1
            while True:
                d = add_tenor(mat, -k * rf_n, rf_u, eom)
                if d <= as_of:
                    break
                k += 1
            for j in range(k - 1, 0, -1):
                buf_r[nr] = add_tenor(mat, -j * rf_n, rf_u, eom)
                nr += 1
    ns = 0
    if rt != RT_NIB:
        if rt == RT_HYBRID and not has_index:
            d = ci[i, I_INIT_END]
            if d != NO_DATE and d > as_of and d < mat:
                buf_s[0] = d
                buf_sk[0] = -1
                ns = 1
        for k in range(step_off[i], step_off[i + 1]):
            d = step_date[k]
            if d > as_of and d < mat:
                j = ns  # insertion keeps buf_s sorted (steps sorted; the reversion merged in)
                while j > 0 and buf_s[j - 1] > d:
                    buf_s[j] = buf_s[j - 1]
                    buf_sk[j] = buf_sk[j - 1]
                    j -= 1
                buf_s[j] = d
                buf_sk[j] = k
                ns += 1

    # ---- merge the event streams -------------------------------------------------------------
    ne = 0
    a1 = 0
    a2 = 0
    a3 = 0
    a4 = 0
    while True:
        d = 2147483647
        if a1 < ni and buf_i[a1] < d:
            d = buf_i[a1]
        if a2 < npr and buf_p[a2] < d:
            d = buf_p[a2]
        if a3 < nr and buf_r[a3] < d:
            d = buf_r[a3]
        if a4 < ns and buf_s[a4] < d:
            d = buf_s[a4]
        if d == 2147483647:
            break
        flag = 0
        aux = -1
        if a1 < ni and buf_i[a1] == d:
            flag |= EV_INT
            a1 += 1
        pamt = 0.0
        while a2 < npr and buf_p[a2] == d:
            flag |= EV_PRIN
            if is_sched:
                pamt += buf_pg[a2]
            a2 += 1
        while a3 < nr and buf_r[a3] == d:
            flag |= EV_RESET
            a3 += 1
        first_step = -1
        while a4 < ns and buf_s[a4] == d:
            if buf_sk[a4] < 0:
                flag |= EV_REVERT
            else:
                flag |= EV_STEP
                if first_step < 0:
                    first_step = a4
            a4 += 1
        if first_step >= 0:
            aux = first_step
        ev_day[ne] = d
        ev_flag[ne] = flag
        ev_aux[ne] = aux
        ev_pa[ne] = pamt
        ne += 1

    # principal dates remaining (for annuity / linear), after the interest-only end
    io_end = ci[i, I_IO_END]
    n_prin_total = 0
    last_prin = -1
    for e in range(ne):
        if (ev_flag[e] & EV_PRIN) != 0:
            last_prin = e
            if io_end == NO_DATE or ev_day[e] > io_end:
                n_prin_total += 1
    extra = 0
    balloon = amort == AM_ANNUITY or amort == AM_LINEAR or amort == AM_AFP
    if balloon and ci[i, I_AMORT_TERM] > 0 and orig != NO_DATE:
        end_amort = add_months(orig, ci[i, I_AMORT_TERM], False)
        pf_n = ci[i, I_PF_N]
        pf_u = ci[i, I_PF_U]
        if pf_u != UNIT_T and pf_u >= 0 and pf_n > 0:
            k = 1
            while add_tenor(mat, k * pf_n, pf_u, eom) <= end_amort:
                extra += 1
                k += 1
    tau_reg = 0.0
    if amort == AM_ANNUITY or amort == AM_AFP:
        tau_reg = regular_period_fraction(dc, ci[i, I_PF_N], ci[i, I_PF_U])

    # ---- accrual fractions and pay days per event (independent of the rates) ---------------
    adjusting = not is_sched and bdc != 0 and cal >= 0
    icma = dc == DC_ACT_ACT_ICMA
    advance = ci[i, I_ADVANCE] != 0
    prev = ps
    inext = 0
    for e in range(ne):
        d = ev_day[e]
        flag = ev_flag[e]
        tau = 0.0
        if accrues and not sched_interest and inext < ni and d > prev:
            pend = buf_i[inext]
            ref_s = prev
            ref_e = pend
            if icma:
                if is_sched:
                    ref_s = add_months(pend, -12, eom)
                elif buf_ig[inext] == NO_DATE and (if_u == UNIT_M or if_u == UNIT_Y):
                    # a period ending off the roll grid (maturity after an anchored roll): the
                    # notional period [start, start + tenor] (ICMA Rule 251, as QuantLib)
                    ref_s = buf_i[inext - 1] if inext > 0 else ps
                    ref_e = add_tenor(ref_s, if_n, if_u, eom)
                else:
                    ref_s = _icma_ref_start(pend, buf_ig[inext], if_n, if_u, eom)
            if not advance:
                tau = _yf(dc, prev, d, ref_s, ref_e, freq, mat)
            prev = d
        ev_tau[e] = tau
        pay = d
        if adjusting:  # (a call with array arguments costs refcounting: only when needed)
            pay = _adjust(d, bdc, cal, cal_first, cal_next, cal_prev)
        if pay <= as_of:
            pay = as_of + 1
        ev_pay[e] = pay
        tadv = 0.0
        if (flag & EV_INT) != 0 and accrues and not sched_interest:
            inext += 1
            if advance and inext < ni and d > as_of:
                nxt = buf_i[inext]
                ref_s = d
                if icma:
                    ref_s = _icma_ref_start(nxt, buf_ig[inext], if_n, if_u, eom)
                tadv = _yf(dc, d, nxt, ref_s, nxt, freq, mat)
        ev_tadv[e] = tadv
        if (flag & EV_RESET) != 0:
            # the index forward's period [f, f + index tenor] and its fraction: scenario-independent
            f = d - ci[i, I_LAG]
            if f < as_of:
                f = as_of
            fe = add_tenor(f, ci[i, I_IDX_N], ci[i, I_IDX_U], False)
            if fe <= f:
                fe = f + 1
            ev_f[e] = f
            ev_fe[e] = fe
            ev_ftau[e] = year_fraction(dc, f, fe, f, fe, _freq_per_year(ci[i, I_IDX_N], ci[i, I_IDX_U]), mat)
    if advance and accrues and fwd and ni > 0:
        # forward-starting in-advance product: first period's interest at its start (rate known)
        d0 = buf_i[0]
        ref_s = orig
        if icma:
            ref_s = _icma_ref_start(d0, buf_ig[0], if_n, if_u, eom)
        fl_day[nfl] = orig
        fl_amt[nfl] = bal * rate * _yf(dc, orig, d0, ref_s, d0, freq, mat)
        fl_kind[nfl] = KIND_INTEREST
        fl_dir[nfl] = sgn
        nfl += 1
    if sched_interest:
        for k in range(sched_off[i], sched_off[i + 1]):
            if sched_int[k] == sched_int[k] and sched_date[k] > as_of:
                fl_day[nfl] = sched_date[k]
                fl_amt[nfl] = sched_int[k]
                fl_kind[nfl] = KIND_INTEREST
                fl_dir[nfl] = sgn
                nfl += 1
    return ne, nfl, n_prin_total, last_prin, extra, tau_reg, acc, ns, is_sched


@njit(cache=True)
def walk_events(
    i, ci, cf, as_of, shock, c_off, c_t, c_z, df_tab, curve_ccy, scen, step_date, step_rate, step_spread,
    buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa, ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
    ne, nfl0, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched,
    fl_day, fl_amt, fl_kind, fl_dir, fl_ev, pv_only, disc,
):  # fmt: skip
    """Walk the events of contract ``i`` under one curve shock and append its rate-dependent flows.

    The ``fl_*`` buffers already hold ``nfl0`` flows from :func:`build_events`; returns the new
    count and the PV of the walked flows. ``fl_ev[k]`` is the event of flow ``k`` (-1 for flows not
    tied to an event). With ``pv_only`` nothing is written: the flows are discounted on the fly on
    curve ``disc`` (the scenario walks of a floating contract, which feed no ladder).
    """
    for k in range(nfl0):
        fl_ev[k] = -1
    nfl = nfl0
    pv = 0.0
    ccy = ci[i, I_CCY]
    n_tab = df_tab.shape[1]
    proj = ci[i, I_PROJ]
    disc_ok = curve_ccy[disc] == ccy
    proj_ok = proj >= 0 and curve_ccy[proj] == ccy
    sgn = ci[i, I_SIDE]
    rt = ci[i, I_RT]
    amort = ci[i, I_AMORT]
    accrues = rt != RT_NIB and ci[i, I_NON_ACCRUAL] == 0
    emit_principal = ci[i, I_NX] != 0
    io_end = ci[i, I_IO_END]
    od = cf[i, F_OVERDUE]
    if od != od:
        od = 0.0
    orig = ci[i, I_ORIG]
    fwd = orig != NO_DATE and orig > as_of
    b = cf[i, F_BAL] if fwd else cf[i, F_BAL] - od
    rate = cf[i, F_RATE]
    if rate != rate:
        rate = 0.0
    acc = acc0
    r = rate
    spread = cf[i, F_SPREAD]
    if spread != spread:
        spread = 0.0
    mult = cf[i, F_MULT]
    if mult != mult:
        mult = 1.0
    cap = cf[i, F_CAP]
    floor = cf[i, F_FLOOR]
    pcap = cf[i, F_PCAP]
    pfloor = cf[i, F_PFLOOR]
    installment = cf[i, F_INSTALLMENT]
    n_seen = 0
    pmt = math.nan  # current annuity instalment (NaN: to be derived)
    for e in range(ne):
        d = ev_day[e]
        flag = ev_flag[e]
        acc += b * r * ev_tau[e]
        pay = ev_pay[e]
        if (flag & EV_INT) != 0 and accrues:
            if acc != 0.0:
                if pv_only:
                    off = pay - as_of
                    if off < n_tab and disc_ok:
                        pv += sgn * acc * df_tab[disc, off, scen]
                    else:
                        pv += sgn * acc * _curve_df(c_off, c_t, c_z, disc, shock, off / 365.0)
                else:
                    fl_day[nfl] = pay
                    fl_amt[nfl] = acc
                    fl_kind[nfl] = KIND_INTEREST
                    fl_dir[nfl] = sgn
                    fl_ev[nfl] = e
                    nfl += 1
            acc = 0.0
        if (flag & EV_PRIN) != 0:
            amt = 0.0
            if e == last_prin:
                amt = b
            elif is_sched:
                amt = ev_pa[e]
            elif io_end != NO_DATE and d <= io_end:
                amt = 0.0
            else:
                n_rem = n_prin_total - n_seen + extra
                if amort == AM_LINEAR:
                    amt = b / n_rem
                elif amort == AM_AFP:
                    ip = r * tau_reg
                    if installment != installment:
                        installment = _annuity_payment(b, ip, n_rem)
                    amt = installment - b * ip
                    if amt < 0.0:
                        amt = 0.0
                elif amort == AM_ANNUITY:
                    # the instalment re-derived from (B, r, n) is the same until the rate changes:
                    # compute it when the rate has changed (or first), keep it otherwise
                    ip = r * tau_reg
                    if pmt != pmt:
                        pmt = _annuity_payment(b, ip, n_rem)
                    amt = pmt - b * ip
                else:
                    amt = b
            if io_end == NO_DATE or d > io_end:
                n_seen += 1
            if amt > b:
                amt = b
            if amt < 0.0:
                amt = 0.0
            if amt != 0.0 and emit_principal:
                if pv_only:
                    off = pay - as_of
                    if off < n_tab and disc_ok:
                        pv += sgn * amt * df_tab[disc, off, scen]
                    else:
                        pv += sgn * amt * _curve_df(c_off, c_t, c_z, disc, shock, off / 365.0)
                else:
                    fl_day[nfl] = pay
                    fl_amt[nfl] = amt
                    fl_kind[nfl] = KIND_PRINCIPAL
                    fl_dir[nfl] = sgn
                    fl_ev[nfl] = e
                    nfl += 1
            b -= amt
        # rate changes from this date: steps first, then a reset or the hybrid reversion
        if (flag & (EV_STEP | EV_RESET | EV_REVERT)) != 0:
            pmt = math.nan
        if (flag & EV_STEP) != 0:
            k0 = ev_aux[e]
            for kk in range(k0, ns):
                if buf_s[kk] != d:
                    break
                k = buf_sk[kk]
                if k < 0:
                    continue
                if step_spread[k] == step_spread[k]:
                    spread = step_spread[k]
                if step_rate[k] == step_rate[k]:
                    r = step_rate[k]
        if (flag & EV_RESET) != 0:
            f = d - ci[i, I_LAG]
            if f <= as_of and cf[i, F_FIXING] == cf[i, F_FIXING]:
                idx = cf[i, F_FIXING]
            else:
                o1 = ev_f[e] - as_of
                o2 = ev_fe[e] - as_of
                if o2 < n_tab and proj_ok:
                    df1 = df_tab[proj, o1, scen]
                    df2 = df_tab[proj, o2, scen]
                else:
                    df1 = _curve_df(c_off, c_t, c_z, proj, shock, o1 / 365.0)
                    df2 = _curve_df(c_off, c_t, c_z, proj, shock, o2 / 365.0)
                idx = (df1 / df2 - 1.0) / ev_ftau[e]
            new = mult * idx + spread
            if floor == floor and new < floor:
                new = floor
            if cap == cap and new > cap:
                new = cap
            if pcap == pcap and new > r + pcap:
                new = r + pcap
            if pfloor == pfloor and new < r - pfloor:
                new = r - pfloor
            r = new
        if (flag & EV_REVERT) != 0:
            rv = cf[i, F_REV]
            if rv == rv:
                r = rv
        # interest in advance: the coming period's interest is paid at its start
        if ev_tadv[e] != 0.0:
            if pv_only:
                off = pay - as_of
                if off < n_tab and disc_ok:
                    pv += sgn * (b * r * ev_tadv[e]) * df_tab[disc, off, scen]
                else:
                    pv += sgn * (b * r * ev_tadv[e]) * _curve_df(c_off, c_t, c_z, disc, shock, off / 365.0)
            else:
                fl_day[nfl] = pay
                fl_amt[nfl] = b * r * ev_tadv[e]
                fl_kind[nfl] = KIND_INTEREST
                fl_dir[nfl] = sgn
                fl_ev[nfl] = e
                nfl += 1
    return nfl, pv


@njit(cache=True)
def _stream_buffers(m: int):
    """Scratch for the date streams of one contract (interest, principal, resets, steps)."""
    return (
        np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.float64),
        np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64),
    )  # fmt: skip


@njit(cache=True)
def _event_buffers(m: int):
    """Scratch for the merged events of one contract (at most 4 x the stream bound)."""
    k = 4 * m
    return (
        np.empty(k, np.int64), np.empty(k, np.int64), np.empty(k, np.int64), np.zeros(k, np.float64),
        np.zeros(k, np.float64), np.zeros(k, np.int64), np.zeros(k, np.float64), np.zeros(k, np.int64),
        np.zeros(k, np.int64), np.ones(k, np.float64),
    )  # fmt: skip


@njit(cache=True, nogil=True)
def run_partition_kernel(
    ci, cf, as_of, shocks, ladder_slot, c_off, c_t, c_z, df_tab, curve_ccy,
    cal_first, cal_next, cal_prev,
    sched_off, sched_date, sched_prin, sched_int,
    step_off, step_date, step_rate, step_spread,
    prof_off, prof_n, prof_u, prof_share,
    lookup, overdue_idx, undated_idx, max_events,
    band_end, ladder, pv, cband, daily, stats,
):  # fmt: skip
    """Project every contract of a partition and accumulate the ladder and the PVs.

    Liquidity outputs (base scenario, contractual flows): ``cband[i, b, kind]`` sums contract
    ``i``'s flows due in ``(band_end[b - 1], band_end[b]]`` days after as-of, and
    ``daily[g, d, kind]`` sums the flows due on day ``d`` (``1 <= d < daily.shape[1]``) of the
    contracts whose ``ci[i, I_LGRP]`` is ``g`` (``-1``: not accumulated).

    ``shocks[s, ccy]`` is the shock row (parallel, short, long, x, floor) of scenario ``s`` for a
    currency; scenario 0 must be the unshocked base. ``ladder_slot[s]`` is the ladder slot of
    scenario ``s`` or -1. ``stats[0]`` counts emitted flows.
    """
    n = ci.shape[0]
    n_scen = shocks.shape[0]
    n_sets = lookup.shape[0]
    max_day = lookup.shape[1] - 1
    m = max_events + 8
    buf_i, buf_ig, buf_p, buf_pg, buf_r, buf_s, buf_sk = _stream_buffers(m)
    ev_day, ev_flag, ev_aux, ev_pa, ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau = _event_buffers(m)
    fl_day = np.empty(8 * m, np.int64)
    fl_amt = np.empty(8 * m, np.float64)
    fl_kind = np.empty(8 * m, np.int64)
    fl_dir = np.empty(8 * m, np.int64)
    fl_ev = np.empty(8 * m, np.int64)
    pt_day = np.empty(8 * m, np.int64)
    pt_amt = np.empty(8 * m, np.float64)
    npt = 0
    n_tab = df_tab.shape[1]
    for i in range(n):
        cat = ci[i, I_CAT]
        g = ci[i, I_GROUP]
        ccy = ci[i, I_CCY]
        sgn = ci[i, I_SIDE]
        if cat == CAT_NO_FLOWS:
            for s in range(n_scen):
                pv[i, s] = 0.0
            continue
        od = cf[i, F_OVERDUE]
        if od != od:
            od = 0.0
        if cat == CAT_UNDATED or (cat == CAT_NON_MATURITY and ci[i, I_PROFILE] < 0):
            amt = cf[i, F_BAL]
            for s in range(n_scen):
                slot = ladder_slot[s]
                if slot >= 0:
                    for q in range(n_sets):
                        ladder[slot, g, undated_idx[q], KIND_PRINCIPAL] += amt - od
                        if od > 0.0:
                            ladder[slot, g, overdue_idx[q], KIND_PRINCIPAL] += od
                pv[i, s] = np.nan
            continue
        if od > 0.0:
            for s in range(n_scen):
                slot = ladder_slot[s]
                if slot >= 0:
                    for q in range(n_sets):
                        ladder[slot, g, overdue_idx[q], KIND_PRINCIPAL] += od
        floating = ci[i, I_FLOATING] != 0
        disc = ci[i, I_DISC]
        ne, nfl0, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched = build_events(
            i, ci, cf, as_of,
            cal_first, cal_next, cal_prev,
            sched_off, sched_date, sched_prin, sched_int,
            step_off, step_date, step_rate, step_spread,
            prof_off, prof_n, prof_u, prof_share,
            buf_i, buf_ig, buf_p, buf_pg, buf_r, buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa,
            ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
            fl_day, fl_amt, fl_kind, fl_dir,
        )  # fmt: skip
        disc_in_tab = curve_ccy[disc] == ccy
        nfl = 0
        npt = 0
        for s in range(n_scen):
            if floating and s > 0 and ladder_slot[s] < 0:
                # a scenario walk that feeds no ladder: discount on the fly, no flow buffers
                total = sgn * od
                for k in range(nfl0):
                    off = fl_day[k] - as_of
                    if off < n_tab and disc_in_tab:
                        total += fl_dir[k] * fl_amt[k] * df_tab[disc, off, s]
                    else:
                        total += fl_dir[k] * fl_amt[k] * _curve_df(c_off, c_t, c_z, disc, shocks[s, ccy], off / 365.0)
                _n, pv_walk = walk_events(
                    i, ci, cf, as_of, shocks[s, ccy], c_off, c_t, c_z, df_tab, curve_ccy, s,
                    step_date, step_rate, step_spread,
                    buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa, ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
                    ne, nfl0, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched,
                    fl_day, fl_amt, fl_kind, fl_dir, fl_ev, True, disc,
                )  # fmt: skip
                pv[i, s] = total + pv_walk
                continue
            if s == 0 or floating:
                nfl, _pv = walk_events(
                    i, ci, cf, as_of, shocks[s, ccy], c_off, c_t, c_z, df_tab, curve_ccy, s,
                    step_date, step_rate, step_spread,
                    buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa, ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
                    ne, nfl0, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched,
                    fl_day, fl_amt, fl_kind, fl_dir, fl_ev, False, disc,
                )  # fmt: skip
                # discount points: the signed net amount per pay day (same-day flows are adjacent)
                npt = 0
                for k in range(nfl):
                    amt = fl_dir[k] * fl_amt[k]
                    if npt > 0 and pt_day[npt - 1] == fl_day[k]:
                        pt_amt[npt - 1] += amt
                        continue
                    pt_day[npt] = fl_day[k]
                    pt_amt[npt] = amt
                    npt += 1
                if s == 0:
                    stats[0] += nfl
                    lg = ci[i, I_LGRP]
                    n_band = band_end.shape[0]
                    n_daily = daily.shape[1]
                    for k in range(nfl):
                        off = fl_day[k] - as_of
                        b = 0
                        while b < n_band - 1 and off > band_end[b]:
                            b += 1
                        cband[i, b, fl_kind[k]] += fl_amt[k]
                        if lg >= 0 and 0 < off < n_daily:
                            daily[lg, off, fl_kind[k]] += fl_amt[k]
            shock = shocks[s, ccy]
            total = sgn * od
            for k in range(npt):
                off = pt_day[k] - as_of
                if off < n_tab and disc_in_tab:
                    total += pt_amt[k] * df_tab[disc, off, s]
                else:
                    total += pt_amt[k] * _curve_df(c_off, c_t, c_z, disc, shock, off / 365.0)
            pv[i, s] = total
            slot = ladder_slot[s]
            if slot >= 0:
                for k in range(nfl):
                    off = fl_day[k] - as_of
                    if off > max_day:
                        off = max_day
                    for q in range(n_sets):
                        ladder[slot, g, lookup[q, off], fl_kind[k]] += fl_amt[k]


@njit(cache=True)
def walk_contract(
    i, ci, cf, as_of, shock, c_off, c_t, c_z, df_tab, curve_ccy, scen,
    cal_first, cal_next, cal_prev,
    sched_off, sched_date, sched_prin, sched_int,
    step_off, step_date, step_rate, step_spread,
    prof_off, prof_n, prof_u, prof_share,
    fl_day, fl_amt, fl_kind, fl_dir, m,
):  # fmt: skip
    """Project contract ``i`` under one curve shock (build + walk); its flows in the ``fl_*`` buffers.

    Returns the number of flows; ``m`` is the contract's event bound. Used for audit and tests.
    """
    buf_i, buf_ig, buf_p, buf_pg, buf_r, buf_s, buf_sk = _stream_buffers(m)
    ev_day, ev_flag, ev_aux, ev_pa, ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau = _event_buffers(m)
    fl_ev = np.empty(fl_day.shape[0], np.int64)
    ne, nfl0, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched = build_events(
        i, ci, cf, as_of,
        cal_first, cal_next, cal_prev,
        sched_off, sched_date, sched_prin, sched_int,
        step_off, step_date, step_rate, step_spread,
        prof_off, prof_n, prof_u, prof_share,
        buf_i, buf_ig, buf_p, buf_pg, buf_r, buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa,
        ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
        fl_day, fl_amt, fl_kind, fl_dir,
    )  # fmt: skip
    nfl, _pv = walk_events(
        i, ci, cf, as_of, shock, c_off, c_t, c_z, df_tab, curve_ccy, scen, step_date, step_rate, step_spread,
        buf_s, buf_sk, ev_day, ev_flag, ev_aux, ev_pa, ev_tau, ev_pay, ev_tadv, ev_f, ev_fe, ev_ftau,
        ne, nfl0, n_prin_total, last_prin, extra, tau_reg, acc0, ns, is_sched,
        fl_day, fl_amt, fl_kind, fl_dir, fl_ev, False, ci[i, I_DISC],
    )  # fmt: skip
    return nfl
