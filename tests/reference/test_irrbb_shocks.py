"""IRRBB standardised shocks and ΔEVE against the published reference values.

Sources:
* shared/spec/regulatory.md 3.7 -- CNY shock vectors (250/300/150 bp, x = 4) at the 19 d368 bucket
  midpoints, and the G33_II template value of the steepener at t = 0.0028 (-0.0194769, decimal),
  1104-2024 G33_II rows 8.1-8.6;
* shared/spec/regulatory.md 3.8 -- worked example IRRBB-1 (flat 2% continuous curve, slotted cash
  flows, ΔEVE per currency and scenario, loss-only aggregation, outlier test).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from openalm.market import SCENARIOS, ShockSet, ZeroCurve, basel_shock, pack_curves, pack_shocks
from openalm.market._kernel import discount_packed

AS_OF = dt.date(2024, 12, 31)

# regulatory.md 3.7: t_k | S_short | short up | long (1-S)*150 | steepener | flattener   (bp)
TABLE_3_7 = [
    (0.0028, 0.999300, 299.79, 0.10, -194.77, 239.77),
    (0.0417, 0.989629, 296.89, 1.56, -191.58, 236.58),
    (0.1667, 0.959181, 287.75, 6.12, -181.53, 226.53),
    (0.375, 0.910510, 273.15, 13.42, -165.47, 210.47),
    (0.625, 0.855345, 256.60, 21.70, -147.26, 192.26),
    (0.875, 0.803523, 241.06, 29.47, -130.16, 175.16),
    (1.25, 0.731616, 219.48, 40.26, -106.43, 151.43),
    (1.75, 0.645649, 193.69, 53.15, -78.06, 123.06),
    (2.5, 0.535261, 160.58, 69.71, -41.64, 86.64),
    (3.5, 0.416862, 125.06, 87.47, -2.56, 47.56),
    (4.5, 0.324652, 97.40, 101.30, 27.86, 17.14),
    (5.5, 0.252840, 75.85, 112.07, 51.56, -6.56),
    (6.5, 0.196912, 59.07, 120.46, 70.02, -25.02),
    (7.5, 0.153355, 46.01, 127.00, 84.39, -39.39),
    (8.5, 0.119433, 35.83, 132.09, 95.59, -50.59),
    (9.5, 0.093014, 27.90, 136.05, 104.31, -59.31),
    (12.5, 0.043937, 13.18, 143.41, 120.50, -75.50),
    (17.5, 0.012588, 3.78, 148.11, 130.85, -85.85),
    (25.0, 0.001930, 0.58, 149.71, 134.36, -89.36),
]
BP = 10_000.0


@pytest.mark.parametrize("set_name", ["bcbs_d368_2016", "cn_g33_2024"])
@pytest.mark.parametrize(("t", "s_short", "short_up", "long_", "steep", "flat"), TABLE_3_7)
def test_cny_shock_vectors_table_3_7(
    set_name: str, t: float, s_short: float, short_up: float, long_: float, steep: float, flat: float
) -> None:
    shocks = {name: basel_shock(ShockSet.load(set_name), "CNY", name) for name in SCENARIOS}
    tol = 0.006  # the table prints 2 decimals (bp)
    assert math.exp(-t / 4.0) == pytest.approx(s_short, abs=6e-7)
    assert shocks["base"].delta(t) == 0.0
    assert shocks["parallel_up"].delta(t) * BP == pytest.approx(250.0, abs=tol)
    assert shocks["parallel_down"].delta(t) * BP == pytest.approx(-250.0, abs=tol)
    assert shocks["short_up"].delta(t) * BP == pytest.approx(short_up, abs=tol)
    assert shocks["short_down"].delta(t) * BP == pytest.approx(-short_up, abs=tol)
    assert shocks["steepener"].delta(t) * BP == pytest.approx(steep, abs=tol)
    assert shocks["flattener"].delta(t) * BP == pytest.approx(flat, abs=tol)
    assert (1.0 - math.exp(-t / 4.0)) * 150.0 == pytest.approx(long_, abs=tol)
    # the shocked curve carries exactly these add-ons (base 5%: no floor binds)
    base = ZeroCurve.flat(0.05, AS_OF, currency="CNY")
    for name, shock in shocks.items():
        assert base.shocked(shock).zero(t) - base.zero(t) == pytest.approx(shock.delta(t), abs=1e-15), name


def test_usd_differs_from_cny_only_in_parallel() -> None:
    s = ShockSet.load("bcbs_d368_2016")
    ts = np.array([row[0] for row in TABLE_3_7])
    for name in ("steepener", "flattener", "short_up", "short_down"):
        assert np.array_equal(basel_shock(s, "USD", name).delta(ts), basel_shock(s, "CNY", name).delta(ts))
    assert basel_shock(s, "USD", "parallel_up").delta(1.0) * BP == pytest.approx(200.0)


def test_g33_ii_template_steepener_value() -> None:
    # 1104-2024 G33_II row 8.3 (steepener), first bucket (t = 0.0028), currency with 250/300/150
    shock = basel_shock(ShockSet.load("cn_g33_2024"), "CNY", "steepener")
    assert shock.delta(0.0028) == pytest.approx(-0.0194769, abs=1e-8)


# regulatory.md 3.8, worked example IRRBB-1
CASH_FLOWS = {
    "CNY": [(5.5, 1000.0), (1.25, 300.0), (0.0417, -1100.0)],
    "USD": [(0.0417, 200.0), (2.5, -210.0)],
}
EVE_0 = {"CNY": 89.3441, "USD": 0.0751}
DELTA_EVE = {  # scenario: (CNY, USD, sum of losses)
    "parallel_up": (122.9409, -9.5757, 122.9409),
    "parallel_down": (-140.1890, 10.0751, 10.0751),
    "steepener": (22.0083, 1.9304, 23.9388),
    "flattener": (1.1632, -4.0830, 1.1632),
    "short_up": (43.1625, -7.6131, 43.1625),
    "short_down": (-44.9405, 7.9348, 7.9348),
}


def eve(curve: ZeroCurve, flows: list[tuple[float, float]]) -> float:
    t = np.array([f[0] for f in flows])
    amounts = np.array([f[1] for f in flows])
    return float(np.sum(amounts * curve.discount(t)))


def delta_eve_table(shock_set: ShockSet) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for ccy, flows in CASH_FLOWS.items():
        base = ZeroCurve.flat(0.02, AS_OF, curve_id=f"{ccy}_FLAT", currency=ccy)
        eve0 = eve(base, flows)
        out[ccy] = {"eve_0": eve0}
        for name in SCENARIOS[1:]:
            out[ccy][name] = eve0 - eve(base.shocked(basel_shock(shock_set, ccy, name)), flows)
    return out


def test_worked_example_irrbb_1() -> None:
    table = delta_eve_table(ShockSet.load("bcbs_d368_2016"))
    for ccy, value in EVE_0.items():
        assert table[ccy]["eve_0"] == pytest.approx(value, abs=1e-4)
    aggregated = {}
    for name, (cny, usd, total) in DELTA_EVE.items():
        assert table["CNY"][name] == pytest.approx(cny, abs=1e-4), name
        assert table["USD"][name] == pytest.approx(usd, abs=1e-4), name
        # only losses count across currencies (d368; regulatory.md 3.4 step 6)
        aggregated[name] = sum(max(0.0, table[ccy][name]) for ccy in CASH_FLOWS)
        assert aggregated[name] == pytest.approx(total, abs=1e-4), name
    # the USD gain under parallel up does not offset the CNY loss
    assert aggregated["parallel_up"] == pytest.approx(table["CNY"]["parallel_up"], abs=1e-12)
    assert aggregated["parallel_up"] > table["CNY"]["parallel_up"] + table["USD"]["parallel_up"] + 9.0
    risk = max(aggregated.values())
    assert max(aggregated, key=aggregated.__getitem__) == "parallel_up"
    assert risk == pytest.approx(122.9409, abs=1e-4)
    # outlier test: max ΔEVE > 15% of Tier 1
    assert risk / 800.0 == pytest.approx(0.1537, abs=5e-5) and risk / 800.0 > 0.15
    assert risk / 1000.0 == pytest.approx(0.1229, abs=5e-5) and risk / 1000.0 <= 0.15


def test_worked_example_irrbb_1_with_packed_kernel() -> None:
    s = ShockSet.load("bcbs_d368_2016")
    curves = [ZeroCurve.flat(0.02, AS_OF, currency=ccy) for ccy in CASH_FLOWS]
    offsets, times, rates = pack_curves(curves)
    for idx, (ccy, flows) in enumerate(CASH_FLOWS.items()):
        rows = pack_shocks([basel_shock(s, ccy, name) for name in SCENARIOS])
        eves = [sum(a * discount_packed(offsets, times, rates, idx, rows[k], t) for t, a in flows) for k in range(7)]
        assert eves[0] == pytest.approx(EVE_0[ccy], abs=1e-4)
        for k, name in enumerate(SCENARIOS[1:], start=1):
            expected = DELTA_EVE[name][0 if ccy == "CNY" else 1]
            assert eves[0] - eves[k] == pytest.approx(expected, abs=1e-4)


def test_china_floor_changes_cny_parallel_down_only() -> None:
    # With the CN set the shocked CNY rate 2% - 2.5% is floored at 0: EVE = 1000 + 300 - 1100 = 200.
    table = delta_eve_table(ShockSet.load("cn_g33_2024"))
    eve0 = 1000 * math.exp(-0.11) + 300 * math.exp(-0.025) - 1100 * math.exp(-0.02 * 0.0417)
    assert table["CNY"]["parallel_down"] == pytest.approx(eve0 - 200.0, abs=1e-12)
    assert table["CNY"]["parallel_down"] == pytest.approx(89.3441 - 200.0, abs=1e-4)
    assert table["USD"]["parallel_down"] == pytest.approx(10.0751, abs=1e-4)  # no USD floor
    # steepener: short end 2% - 1.95% * S_short stays positive, so no floor binds
    assert table["CNY"]["steepener"] == pytest.approx(22.0083, abs=1e-4)
