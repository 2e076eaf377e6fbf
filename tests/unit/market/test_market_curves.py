"""ZeroCurve and Shock: interpolation, discounting, forwards, scenarios, immutability.

QuantLib is the independent check: ``ql.ZeroCurve`` with linear interpolation on the zero rate,
Actual365Fixed and continuous compounding is the convention of interfaces.md.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import QuantLib as ql  # noqa: N813 -- the conventional alias

from openalm.errors import ConfigError, MarketDataError, ModelError
from openalm.market import Shock, ZeroCurve

AS_OF = dt.date(2024, 1, 31)


def make_curve() -> ZeroCurve:
    return ZeroCurve("CNY_TEST", "CNY", AS_OF, np.array([0.5, 1.0, 2.0, 5.0]), np.array([0.01, 0.015, 0.02, 0.03]))


def test_linear_interpolation_on_zero_rate_by_hand() -> None:
    c = make_curve()
    # between 1y (1.5%) and 2y (2.0%): 1.25y is a quarter of the way
    assert c.zero(1.25) == pytest.approx(0.015 + 0.25 * 0.005, abs=1e-15)
    # between 2y (2%) and 5y (3%): 3y is a third of the way
    assert c.zero(3.0) == pytest.approx(0.02 + 0.01 / 3.0, abs=1e-15)
    # on a pillar
    assert c.zero(2.0) == 0.02


def test_flat_extrapolation_beyond_both_ends() -> None:
    c = make_curve()
    assert c.zero(0.0) == 0.01
    assert c.zero(0.1) == 0.01
    assert c.zero(50.0) == 0.03
    assert c.discount(0.0) == 1.0
    assert c.discount(50.0) == pytest.approx(math.exp(-0.03 * 50.0), rel=1e-15)


def test_vectorised_and_scalar_agree() -> None:
    c = make_curve()
    ts = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 3.3, 5.0, 7.0])
    zs = c.zero(ts)
    dfs = c.discount(ts)
    assert isinstance(zs, np.ndarray) and zs.shape == ts.shape
    for t, z, df in zip(ts, zs, dfs, strict=True):
        assert c.zero(float(t)) == z
        assert c.discount(float(t)) == df
        assert df == pytest.approx(math.exp(-z * t), rel=1e-15)
    assert isinstance(c.zero(1.0), float)
    assert np.isnan(c.zero(np.nan))


def test_single_pillar_is_flat() -> None:
    c = ZeroCurve("F", "USD", AS_OF, [3.0], [0.04])
    assert c.zero(np.array([0.0, 1.0, 3.0, 30.0])).tolist() == [0.04] * 4
    flat = ZeroCurve.flat(0.02, AS_OF)
    assert flat.discount(5.5) == pytest.approx(math.exp(-0.11), rel=1e-15)


def test_forward_rates() -> None:
    c = make_curve()
    t1, t2 = 1.0, 2.0
    df1, df2 = math.exp(-0.015), math.exp(-0.04)
    assert c.forward(t1, t2) == pytest.approx((df1 / df2 - 1.0) / 1.0, rel=1e-14)
    tau = 366 / 360
    assert c.forward_rate(t1, t2, tau) == pytest.approx((df1 / df2 - 1.0) / tau, rel=1e-14)
    fw = c.forward(np.array([0.5, 1.0]), np.array([1.0, 2.0]))
    assert fw.shape == (2,)
    with pytest.raises(ModelError, match="t2 > t1"):
        c.forward(2.0, 1.0)
    with pytest.raises(ModelError):
        c.forward_rate(1.0, 2.0, 0.0)


def test_time_and_discount_date_accept_dates_and_day_numbers() -> None:
    c = make_curve()
    d = dt.date(2025, 1, 31)  # 366 days (2024 is a leap year)
    assert c.time(d) == pytest.approx(366 / 365, abs=0)
    day = (d - dt.date(1970, 1, 1)).days
    assert c.time(day) == c.time(d)
    assert c.time(np.datetime64("2025-01-31")) == c.time(d)
    assert c.time("2025-01-31") == c.time(d)
    arr = c.time(np.array([day, day + 365], dtype=np.int32))
    assert arr.tolist() == pytest.approx([366 / 365, 731 / 365], abs=1e-15)
    assert np.isnan(c.time(np.array([-(2**31)], dtype=np.int64))[0])
    assert c.discount_date(d) == c.discount(366 / 365)
    assert c.discount_date([d, AS_OF]).tolist() == [c.discount(366 / 365), 1.0]


def test_matches_quantlib_zero_curve_on_random_dates() -> None:
    rng = np.random.default_rng(20240131)
    ql_ref = ql.Date(AS_OF.day, AS_OF.month, AS_OF.year)
    tenors_days = np.array([1, 7, 30, 91, 182, 365, 730, 1095, 1826, 2557, 3652, 5479, 7305, 10957])
    rates = rng.uniform(-0.005, 0.05, tenors_days.size)
    times = tenors_days / 365.0
    curve = ZeroCurve("R", "CNY", AS_OF, times, rates)
    # QuantLib's ZeroCurve needs a node at the reference date; flat to the first pillar is our rule
    ql_dates = [ql_ref] + [ql_ref + int(d) for d in tenors_days]
    ql_rates = [float(rates[0])] + [float(r) for r in rates]
    ql_curve = ql.ZeroCurve(ql_dates, ql_rates, ql.Actual365Fixed(), ql.NullCalendar(), ql.Linear(), ql.Continuous)
    offsets = rng.integers(0, int(tenors_days[-1]) + 1, 400)
    for off in offsets:
        d = AS_OF + dt.timedelta(days=int(off))
        expected = ql_curve.discount(ql_ref + int(off))
        assert curve.discount_date(d) == pytest.approx(expected, abs=1e-12, rel=0)
        zq = ql_curve.zeroRate(ql_ref + int(off), ql.Actual365Fixed(), ql.Continuous).rate() if off else rates[0]
        assert curve.zero(off / 365.0) == pytest.approx(zq, abs=1e-12, rel=0)


def test_shock_formula() -> None:
    s = Shock(parallel=0.001, short=0.02, long=-0.01, x=4.0)
    t = 3.0
    e = math.exp(-t / 4.0)
    assert s.delta(t) == pytest.approx(0.001 + 0.02 * e - 0.01 * (1 - e), abs=1e-16)
    assert Shock.parallel_bp(25).parallel == 0.0025
    assert Shock.from_bp(100, 200, 300).as_row()[:4] == (0.01, 0.02, 0.03, 4.0)
    assert math.isnan(Shock.none().as_row()[4])
    assert Shock.none().is_none


def test_shocked_curve_and_floor() -> None:
    c = make_curve()
    up = c.parallel_shift(100)
    assert up.zero(1.0) == pytest.approx(0.025, abs=1e-15)
    floored = c.shocked(Shock(parallel=-0.02, floor=0.0))
    assert floored.zero(np.array([0.5, 1.0, 5.0])).tolist() == pytest.approx([0.0, 0.0, 0.01], abs=1e-15)
    assert floored.discount(0.5) == 1.0
    # floor binds on the shocked rate only where it is below
    neg = c.shocked(Shock(parallel=-0.012, floor=-0.001))
    assert neg.zero(0.5) == -0.001


def test_shocked_returns_new_curve_and_leaves_original() -> None:
    c = make_curve()
    before = c.discount(np.array([0.5, 2.0, 10.0])).copy()
    s = c.shocked(Shock.parallel_bp(50))
    assert s is not c and c.shock is None and s.shock == Shock.parallel_bp(50)
    assert np.array_equal(c.discount(np.array([0.5, 2.0, 10.0])), before)
    assert s.times is not c.times or not s.times.flags.writeable
    with pytest.raises(AttributeError):
        c.rates = np.zeros(4)  # type: ignore[misc]
    with pytest.raises(ValueError):
        c.rates[0] = 1.0
    assert s.unshocked().shock is None


def test_input_arrays_are_copied() -> None:
    times = np.array([1.0, 2.0])
    rates = np.array([0.01, 0.02])
    c = ZeroCurve("C", "CNY", AS_OF, times, rates)
    rates[0] = 0.5
    assert c.zero(1.0) == 0.01


def test_double_shock_composes() -> None:
    c = make_curve()
    twice = c.parallel_shift(100).shocked(Shock(short=0.01, long=0.005))
    once = c.shocked(Shock(parallel=0.01, short=0.01, long=0.005))
    ts = np.linspace(0, 30, 61)
    assert np.array_equal(twice.zero(ts), once.zero(ts))
    # +1bp duration bump on a Basel steepener with a floor on the second shock only
    s = c.shocked(Shock(short=-0.0195, long=0.0135)).shocked(Shock(parallel=0.0001, floor=0.0))
    assert s.shock == Shock(parallel=0.0001, short=-0.0195, long=0.0135, floor=0.0)


def test_double_shock_that_cannot_compose_is_refused() -> None:
    c = make_curve().shocked(Shock(parallel=-0.02, floor=0.0))
    with pytest.raises(ConfigError, match="floored"):
        c.parallel_shift(1)
    c2 = make_curve().shocked(Shock(short=0.01, x=4.0))
    with pytest.raises(ConfigError, match="decay"):
        c2.shocked(Shock(short=0.01, x=2.0))


@pytest.mark.parametrize(
    ("times", "rates", "match"),
    [
        ([], [], "no pillars"),
        ([1.0, 2.0], [0.01], "rates"),
        ([2.0, 1.0], [0.01, 0.02], "strictly increasing"),
        ([1.0, 1.0], [0.01, 0.02], "strictly increasing"),
        ([1.0, np.nan], [0.01, 0.02], "finite"),
    ],
)
def test_invalid_curves(times: list[float], rates: list[float], match: str) -> None:
    with pytest.raises(MarketDataError, match=match):
        ZeroCurve("BAD", "CNY", AS_OF, np.array(times), np.array(rates))


@pytest.mark.parametrize(
    "kwargs",
    [{"parallel": math.nan}, {"x": 0.0}, {"x": -1.0}, {"floor": math.inf}, {"short": True}],
)
def test_invalid_shocks(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        Shock(**kwargs)
