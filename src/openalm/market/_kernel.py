"""Numba-compiled scalar curve and fixing look-ups for the cash-flow kernel.

The curves of a run are packed into flat arrays by :func:`openalm.market.curves.pack_curves`
(``offsets``, ``times``, ``rates``: curve ``i`` owns ``times[offsets[i]:offsets[i+1]]``) and the
scenario shocks into a ``float64[n, 5]`` array by :func:`openalm.market.curves.pack_shocks`
(columns ``parallel, short, long, x, floor``; ``floor`` NaN = no floor). The functions below use
exactly the formulas of :class:`openalm.market.curves.ZeroCurve` and :class:`~openalm.market.curves.Shock`
(tests compare them):

* zero rate: linear in ``t`` between pillars, flat beyond the first and last pillar;
* ``dz(t) = parallel + short * exp(-t/x) + long * (1 - exp(-t/x))``;
* shocked zero ``= max(floor, z(t) + dz(t))`` when a floor is set;
* ``DF(t) = exp(-z_shocked(t) * t)``.

Every function is ``@njit(cache=True)`` and can be called from other numba code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "SHOCK_FLOOR",
    "SHOCK_LONG",
    "SHOCK_PARALLEL",
    "SHOCK_SHORT",
    "SHOCK_X",
    "discount_packed",
    "latest_fixing_packed",
    "shock_delta_packed",
    "shocked_zero_packed",
    "zero_rate_packed",
]

# Column positions of a packed shock row.
SHOCK_PARALLEL = 0
SHOCK_SHORT = 1
SHOCK_LONG = 2
SHOCK_X = 3
SHOCK_FLOOR = 4


@njit(cache=True, inline="always")
def zero_rate_packed(offsets: np.ndarray, times: np.ndarray, rates: np.ndarray, curve_idx: int, t: float) -> float:
    """Unshocked continuous zero rate of packed curve ``curve_idx`` at time ``t`` (years)."""
    lo = offsets[curve_idx]
    hi = offsets[curve_idx + 1] - 1  # index of the last pillar
    if t <= times[lo]:
        return rates[lo]
    if t >= times[hi]:
        return rates[hi]
    if t != t:  # NaN
        return t
    # binary search for j with times[j] <= t < times[j + 1]
    a = lo
    b = hi
    while b - a > 1:
        m = (a + b) // 2
        if times[m] <= t:
            a = m
        else:
            b = m
    w = (t - times[a]) / (times[a + 1] - times[a])
    return rates[a] + (rates[a + 1] - rates[a]) * w


@njit(cache=True)
def shock_delta_packed(shock_row: np.ndarray, t: float) -> float:
    """Shock add-on ``dz(t) = parallel + short * exp(-t/x) + long * (1 - exp(-t/x))``."""
    e = math.exp(-t / shock_row[SHOCK_X])
    return shock_row[SHOCK_PARALLEL] + shock_row[SHOCK_SHORT] * e + shock_row[SHOCK_LONG] * (1.0 - e)


@njit(cache=True)
def shocked_zero_packed(
    offsets: np.ndarray,
    times: np.ndarray,
    rates: np.ndarray,
    curve_idx: int,
    shock_row: np.ndarray,
    t: float,
) -> float:
    """Shocked zero rate ``max(floor, z(t) + dz(t))`` (no floor when ``shock_row[4]`` is NaN)."""
    z = zero_rate_packed(offsets, times, rates, curve_idx, t) + shock_delta_packed(shock_row, t)
    floor = shock_row[SHOCK_FLOOR]
    if floor == floor and z < floor:  # floor is not NaN
        return floor
    return z


@njit(cache=True)
def discount_packed(
    offsets: np.ndarray,
    times: np.ndarray,
    rates: np.ndarray,
    curve_idx: int,
    shock_row: np.ndarray,
    t: float,
) -> float:
    """Discount factor ``exp(-z_shocked(t) * t)`` of packed curve ``curve_idx`` under ``shock_row``."""
    z = shocked_zero_packed(offsets, times, rates, curve_idx, shock_row, t)
    return math.exp(-z * t)


@njit(cache=True)
def latest_fixing_packed(
    offsets: np.ndarray, days: np.ndarray, values: np.ndarray, index_idx: int, day: int
) -> tuple[int, float]:
    """Latest fixing of packed index ``index_idx`` on or before ``day``.

    ``days`` are sorted within each index (see :meth:`openalm.market.fixings.Fixings.packed`).
    Returns ``(fixing_day, value)``, or ``(NO_DATE, NaN)`` when the index has no fixing on or
    before ``day`` (``NO_DATE = -2**31``).
    """
    lo = offsets[index_idx]
    hi = offsets[index_idx + 1]
    if hi == lo or days[lo] > day:
        return -2147483648, np.nan
    # first position in [lo, hi) with days[pos] > day
    a = lo
    b = hi
    while a < b:
        m = (a + b) // 2
        if days[m] <= day:
            a = m + 1
        else:
            b = m
    return int(days[a - 1]), values[a - 1]
