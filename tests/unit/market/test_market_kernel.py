"""The numba curve functions on packed arrays give the same numbers as ZeroCurve / Shock."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openalm.market import Shock, ZeroCurve, pack_curves, pack_shocks
from openalm.market._kernel import (
    discount_packed,
    shock_delta_packed,
    shocked_zero_packed,
    zero_rate_packed,
)

AS_OF = dt.date(2024, 6, 28)

CURVES = [
    ZeroCurve("A", "CNY", AS_OF, [0.5, 1.0, 2.0, 5.0, 30.0], [0.012, 0.015, 0.02, 0.028, 0.035]),
    ZeroCurve("B", "USD", AS_OF, [2.0], [0.045]),
    ZeroCurve("C", "EUR", AS_OF, [0.0027, 0.25, 10.0], [-0.004, -0.002, 0.01]),
]
SHOCKS = [
    None,
    Shock.parallel_bp(250),
    Shock(parallel=-0.025, floor=0.0),
    Shock(short=-0.65 * 0.03, long=0.9 * 0.015, x=4.0, floor=0.0),
    Shock(short=0.8 * 0.025, long=-0.6 * 0.01, x=4.0),
    Shock(short=0.03, x=2.5),
]
TIMES = np.array([0.0, 1e-4, 0.0027, 0.1, 0.5, 0.75, 1.0, 1.9999, 2.0, 3.7, 5.0, 12.5, 30.0, 45.0, -0.5])


def test_pack_layout() -> None:
    offsets, times, rates = pack_curves(CURVES)
    assert offsets.dtype == np.int64 and offsets.tolist() == [0, 5, 6, 9]
    assert times.dtype == np.float64 and rates.dtype == np.float64
    assert times[5] == 2.0 and rates[5] == 0.045
    packed = pack_shocks(SHOCKS)
    assert packed.shape == (len(SHOCKS), 5) and packed.dtype == np.float64
    assert packed[0, :4].tolist() == [0.0, 0.0, 0.0, 4.0] and math.isnan(packed[0, 4])
    assert packed[2].tolist() == [-0.025, 0.0, 0.0, 4.0, 0.0]


def test_packed_functions_equal_object_methods() -> None:
    offsets, times, rates = pack_curves(CURVES)
    shock_rows = pack_shocks(SHOCKS)
    for i, curve in enumerate(CURVES):
        for j, shock in enumerate(SHOCKS):
            shocked = curve if shock is None else curve.shocked(shock)
            zs = shocked.zero(TIMES)
            dfs = shocked.discount(TIMES)
            for k, t in enumerate(TIMES):
                assert zero_rate_packed(offsets, times, rates, i, t) == curve.zero(float(t))
                z = shocked_zero_packed(offsets, times, rates, i, shock_rows[j], t)
                assert z == pytest.approx(zs[k], rel=1e-15, abs=1e-17)
                df = discount_packed(offsets, times, rates, i, shock_rows[j], t)
                assert df == pytest.approx(dfs[k], rel=1e-14)
            if shock is not None:
                assert shock_delta_packed(shock_rows[j], 1.3) == pytest.approx(shock.delta(1.3), rel=1e-15, abs=1e-18)


def test_nan_time_propagates() -> None:
    offsets, times, rates = pack_curves(CURVES)
    assert math.isnan(zero_rate_packed(offsets, times, rates, 0, math.nan))


@settings(max_examples=60, deadline=None)
@given(
    pillars=st.lists(st.floats(0.001, 50.0), min_size=1, max_size=12, unique=True),
    seed=st.integers(0, 2**32 - 1),
    t=st.floats(0.0, 60.0),
    parallel=st.floats(-0.05, 0.05),
    short=st.floats(-0.05, 0.05),
    floor=st.one_of(st.none(), st.floats(-0.01, 0.01)),
)
def test_packed_matches_objects_property(
    pillars: list[float], seed: int, t: float, parallel: float, short: float, floor: float | None
) -> None:
    rng = np.random.default_rng(seed)
    times_ = np.sort(np.array(pillars))
    curve = ZeroCurve("P", "CNY", AS_OF, times_, rng.uniform(-0.01, 0.08, times_.size))
    shock = Shock(parallel=parallel, short=short, long=-short / 2, floor=floor)
    offsets, times, rates = pack_curves([CURVES[0], curve])
    row = pack_shocks([shock])[0]
    assert zero_rate_packed(offsets, times, rates, 1, t) == curve.zero(t)
    # interpolated zero lies between the neighbouring pillar rates
    assert curve.rates.min() - 1e-15 <= curve.zero(t) <= curve.rates.max() + 1e-15
    assert discount_packed(offsets, times, rates, 1, row, t) == pytest.approx(
        curve.shocked(shock).discount(t), rel=1e-14
    )
