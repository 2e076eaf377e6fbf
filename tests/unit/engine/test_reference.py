"""Hand-computed checks of the plain per-contract reference cash-flow engine.

Every expected number is worked out in the comment beside it from the formulas of
docs/design.md, "Cash-flow semantics" (the reference implementation's specification).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openalm.engine.reference import (
    ReferenceResult,
    effective_duration,
    explain_rows,
    format_explain,
    project_contract,
)
from openalm.errors import ModelError
from openalm.market import Shock, ZeroCurve

D = dt.date
AS_OF = D(2024, 2, 1)
ZERO = ZeroCurve.flat(0.0, AS_OF)  # DF = 1 everywhere
FLAT2 = ZeroCurve.flat(0.02, AS_OF)  # continuous 2%: DF(t) = exp(-0.02 t)


def loan(**overrides: Any) -> dict[str, Any]:
    """A 1,000,000 fixed 3% ACT/360 quarterly bullet loan, 2024-01-15 .. 2025-01-15."""
    row: dict[str, Any] = {
        "position_id": "L1",
        "instrument_type": "loan",
        "side": "asset",
        "currency": "CNY",
        "principal_balance": 1_000_000.0,
        "origination_date": D(2024, 1, 15),
        "maturity_date": D(2025, 1, 15),
        "rate_type": "fixed",
        "current_rate": 0.03,
        "day_count": "act_360",
        "amortisation_type": "bullet",
        "interest_payment_frequency": "3M",
    }
    row.update(overrides)
    return row


def project(row: dict[str, Any], curve: ZeroCurve | None = ZERO, **kw: Any) -> ReferenceResult:
    return project_contract(row, as_of=kw.pop("as_of", AS_OF), discount_curve=curve, **kw)


def of_kind(res: ReferenceResult, kind: str) -> list[tuple[dt.date, float]]:
    return [(f.pay_date, f.direction * f.amount) for f in res.flows if f.kind == kind]


# ----------------------------------------------------------------------------------------------
# Fixed-rate schedules
# ----------------------------------------------------------------------------------------------


def test_bullet_quarterly_act_360() -> None:
    res = project(loan())
    # Backward roll from M by 3M: Apr 15, Jul 15, Oct 15, Jan 15; current period starts Jan 15 (> A
    # is Feb 1: the period containing A is paid in full).
    # 1,000,000 x 3% x 91/360 = 7,583.33 (Jan15-Apr15 and Apr15-Jul15: 91 days)
    # 1,000,000 x 3% x 92/360 = 7,666.67 (Jul15-Oct15 and Oct15-Jan15: 92 days)
    assert of_kind(res, "interest") == [
        (D(2024, 4, 15), pytest.approx(7_583.3333, abs=1e-4)),
        (D(2024, 7, 15), pytest.approx(7_583.3333, abs=1e-4)),
        (D(2024, 10, 15), pytest.approx(7_666.6667, abs=1e-4)),
        (D(2025, 1, 15), pytest.approx(7_666.6667, abs=1e-4)),
    ]
    assert of_kind(res, "principal") == [(D(2025, 1, 15), 1_000_000.0)]
    first = res.flows[0]
    assert (first.accrual_start, first.accrual_end) == (D(2024, 1, 15), D(2024, 4, 15))
    assert first.year_fraction == pytest.approx(91 / 360)
    assert first.rate == pytest.approx(0.03)
    # Sum of flows 1,000,000 + 30,500 = 1,030,500 = PV at a 0% curve.
    assert res.pv == pytest.approx(1_030_500.0)
    assert res.next_repricing_date == D(2025, 1, 15)  # fixed: maturity
    assert res.overdue_principal == 0.0 and res.undated_principal == 0.0
    # Kind order on the maturity date: interest before principal.
    assert [f.kind for f in res.flows[-2:]] == ["interest", "principal"]


def test_bullet_pv_on_flat_curve() -> None:
    res = project(loan(), FLAT2)
    # Days from A = 2024-02-01: 74, 165, 257, 349; DF = exp(-0.02 x days / 365).
    expected = (
        7_583.333333 * math.exp(-0.02 * 74 / 365)
        + 7_583.333333 * math.exp(-0.02 * 165 / 365)
        + 7_666.666667 * math.exp(-0.02 * 257 / 365)
        + 1_007_666.666667 * math.exp(-0.02 * 349 / 365)
    )
    assert res.pv == pytest.approx(expected, rel=1e-9)
    assert res.flows[0].discount_factor == pytest.approx(math.exp(-0.02 * 74 / 365))


def test_liability_direction_and_interest_frequency_t() -> None:
    row = loan(instrument_type="deposit_term", side="liability", interest_payment_frequency="T")
    res = project(row)
    # T: one period from origination (2024-01-15) to maturity: 1,000,000 x 3% x 366/360 = 30,500.
    assert of_kind(res, "interest") == [(D(2025, 1, 15), pytest.approx(-30_500.0))]
    assert of_kind(res, "principal") == [(D(2025, 1, 15), -1_000_000.0)]
    assert res.pv == pytest.approx(-1_030_500.0)


def test_annuity_30_360_monthly_textbook_payment() -> None:
    row = loan(
        principal_balance=100_000.0,
        current_rate=0.06,
        day_count="30_360_us",
        amortisation_type="annuity",
        interest_payment_frequency="1M",
        principal_payment_frequency="1M",
    )
    res = project(row, as_of=D(2024, 1, 15))
    # P = 100,000 x 0.005 / (1 - 1.005^-12) = 8,606.64; every 15th-to-15th month is 30/360, so
    # interest + principal equals P on each of the 12 dates.
    payments: dict[dt.date, float] = {}
    for f in res.flows:
        payments[f.pay_date] = payments.get(f.pay_date, 0.0) + f.amount
    assert len(payments) == 12
    for total in payments.values():
        assert total == pytest.approx(8_606.642970708, abs=1e-6)
    principal = of_kind(res, "principal")
    assert principal[0][1] == pytest.approx(8_606.642970708 - 500.0)  # 100,000 x 0.5% = 500 interest
    assert sum(p for _, p in principal) == pytest.approx(100_000.0)


def test_linear_loan() -> None:
    row = loan(
        principal_balance=120_000.0,
        current_rate=0.02,
        day_count="act_365f",
        amortisation_type="linear",
        interest_payment_frequency="1M",
        principal_payment_frequency="1M",
    )
    res = project(row, as_of=D(2024, 1, 15))
    # 12 equal principal instalments of 120,000 / 12 = 10,000.
    assert [p for _, p in of_kind(res, "principal")] == pytest.approx([10_000.0] * 12)
    interest = of_kind(res, "interest")
    # Feb 15: 120,000 x 2% x 31/365 = 203.84; Mar 15: 110,000 x 2% x 29/365 = 174.79.
    assert interest[0] == (D(2024, 2, 15), pytest.approx(203.835616, abs=1e-6))
    assert interest[1] == (D(2024, 3, 15), pytest.approx(174.794521, abs=1e-6))
    assert res.flows[2].balance == pytest.approx(110_000.0)  # Mar 15 interest row: balance after Feb 15


def test_annuity_balloon_and_interest_only() -> None:
    base = {
        "principal_balance": 100_000.0,
        "current_rate": 0.06,
        "day_count": "30_360_us",
        "amortisation_type": "annuity",
        "interest_payment_frequency": "1M",
        "principal_payment_frequency": "1M",
    }
    balloon = project(loan(**base, amortisation_term_months=60), as_of=D(2024, 1, 15))
    principal = of_kind(balloon, "principal")
    # Sized over 60 months: P = 100,000 x 0.005 / (1 - 1.005^-60) = 1,933.28; principal 1,433.28.
    assert principal[0][1] == pytest.approx(1_433.280153, abs=1e-6)
    # The balloon: what remains at maturity; all principal still sums to the balance.
    assert principal[-1][0] == D(2025, 1, 15)
    assert principal[-1][1] > 80_000.0
    assert sum(p for _, p in principal) == pytest.approx(100_000.0)

    io_row = loan(**base, interest_only_end_date=D(2024, 6, 15))
    io_res = project(io_row, as_of=D(2024, 1, 15))
    principal = of_kind(io_res, "principal")
    # No principal on Feb 15 .. Jun 15; 7 instalments Jul 15 .. Jan 15 of
    # P = 100,000 x 0.005 / (1 - 1.005^-7) = 14,572.85 (interest 500 on the first).
    assert principal[0][0] == D(2024, 7, 15)
    assert len(principal) == 7
    assert principal[0][1] == pytest.approx(14_572.853554 - 500.0, abs=1e-6)


def test_annuity_fixed_payment_uses_installment() -> None:
    row = loan(
        principal_balance=100_000.0,
        current_rate=0.06,
        day_count="30_360_us",
        amortisation_type="annuity_fixed_payment",
        interest_payment_frequency="1M",
        principal_payment_frequency="1M",
        installment_amount=10_000.0,
    )
    res = project(row, as_of=D(2024, 1, 15))
    principal = of_kind(res, "principal")
    # First: 10,000 - 100,000 x 0.5% = 9,500; second: 10,000 - 90,500 x 0.5% = 9,547.50.
    assert principal[0][1] == pytest.approx(9_500.0)
    assert principal[1][1] == pytest.approx(9_547.5)
    # Balance after 10 payments: 100,000 x 1.005^10 - 10,000 x (1.005^10 - 1)/0.005 = 2,833.75, so
    # the 11th payment (Dec 15) clears it and Jan 15 pays no principal.
    assert principal[-1] == (D(2024, 12, 15), pytest.approx(2_833.749122, abs=1e-6))
    assert sum(p for _, p in principal) == pytest.approx(100_000.0)


def test_icma_bond_regular_coupons() -> None:
    row = loan(
        instrument_type="debt_security",
        day_count="act_act_icma",
        interest_payment_frequency="6M",
        origination_date=D(2021, 6, 15),
        maturity_date=D(2026, 6, 15),
    )
    res = project(row)
    # Regular semi-annual ICMA periods are exactly 0.5: coupons 1,000,000 x 3% x 0.5 = 15,000.
    interest = of_kind(res, "interest")
    assert [d for d, _ in interest] == [
        D(2024, 6, 15),
        D(2024, 12, 15),
        D(2025, 6, 15),
        D(2025, 12, 15),
        D(2026, 6, 15),
    ]
    assert [a for _, a in interest] == pytest.approx([15_000.0] * 5)


def test_icma_reference_period_follows_the_roll_grid() -> None:
    # Maturity 31 Aug, no EOM rule: the grid is ... 31 Aug 2023, 29 Feb 2024, 31 Aug 2024 ...
    # The period 31 Aug 2023 .. 29 Feb 2024 is a regular period of the grid, so its ICMA fraction
    # is exactly 0.5 (not 182/184 x 0.5 from the clipped [29 Feb - 6M, 29 Feb] = [29 Aug, 29 Feb]).
    row = loan(
        instrument_type="debt_security",
        day_count="act_act_icma",
        interest_payment_frequency="6M",
        origination_date=D(2021, 8, 31),
        maturity_date=D(2026, 8, 31),
    )
    interest = of_kind(project(row), "interest")
    assert interest[0][0] == D(2024, 2, 29)
    assert [a for _, a in interest] == pytest.approx([15_000.0] * 6)


def test_business_day_adjustment_keeps_unadjusted_accrual() -> None:
    # 2024-06-15 is a Saturday: paid Monday 2024-06-17 (following), accrual ends on the 15th.
    row = loan(
        maturity_date=D(2024, 6, 15),
        interest_payment_frequency="T",
        business_day_convention="following",
        holiday_calendar="weekends",
    )
    res = project(row)
    assert [f.pay_date for f in res.flows] == [D(2024, 6, 17), D(2024, 6, 17)]
    interest = res.flows[0]
    assert interest.accrual_end == D(2024, 6, 15)
    # 1,000,000 x 3% x 152/360 (Jan 15 - Jun 15 2024 = 152 days) = 12,666.67
    assert interest.amount == pytest.approx(12_666.666667, abs=1e-6)


def test_next_interest_date_anchors_the_roll() -> None:
    row = loan(next_interest_payment_date=D(2024, 3, 20), last_interest_payment_date=D(2023, 12, 20))
    res = project(row)
    # N = Mar 20, then Jun 20, Sep 20, Dec 20 (< M), then M = Jan 15.
    assert [d for d, _ in of_kind(res, "interest")] == [
        D(2024, 3, 20),
        D(2024, 6, 20),
        D(2024, 9, 20),
        D(2024, 12, 20),
        D(2025, 1, 15),
    ]
    # First period Dec 20 2023 .. Mar 20 2024 (91 days) floored at O = Jan 15 2024: 65 days.
    # 1,000,000 x 3% x 65/360 = 5,416.67; last stub Dec 20 .. Jan 15 = 26 days: 2,166.67.
    assert res.flows[0].amount == pytest.approx(5_416.666667, abs=1e-6)
    assert of_kind(res, "interest")[-1][1] == pytest.approx(2_166.666667, abs=1e-6)


def test_accrued_interest_when_period_start_unknown() -> None:
    row = loan(origination_date=None, interest_payment_frequency="T", accrued_interest=1_234.0)
    res = project(row)
    # Period A .. M (Feb 1 2024 .. Jan 15 2025 = 349 days): 1,000,000 x 3% x 349/360 = 29,083.33,
    # plus the accrued 1,234.00 = 30,317.33.
    assert of_kind(res, "interest") == [(D(2025, 1, 15), pytest.approx(30_317.333333, abs=1e-6))]


def test_rate_step_splits_the_period() -> None:
    res = project(loan(), rate_steps=[{"effective_date": D(2024, 6, 1), "new_rate": 0.04}])
    interest = of_kind(res, "interest")
    # Apr15..Jun1 (47 days) at 3% + Jun1..Jul15 (44 days) at 4%:
    # 1,000,000 x (0.03 x 47 + 0.04 x 44) / 360 = 8,805.56
    assert interest[1][1] == pytest.approx(8_805.555556, abs=1e-6)
    assert interest[2][1] == pytest.approx(1_000_000 * 0.04 * 92 / 360)
    assert "2 sub-period(s)" in res.flows[1].detail


# ----------------------------------------------------------------------------------------------
# Floating, hybrid, administered
# ----------------------------------------------------------------------------------------------


def floater(**overrides: Any) -> dict[str, Any]:
    """The loan() terms on CNY_SHIBOR_3M + 0.5%, quarterly resets from 2024-04-15, 2-day lag."""
    terms: dict[str, Any] = {
        "rate_type": "floating",
        "rate_index": "CNY_SHIBOR_3M",
        "spread": 0.005,
        "reset_frequency": "3M",
        "next_reset_date": D(2024, 4, 15),
        "reset_lag_days": 2,
    }
    terms.update(overrides)
    return loan(**terms)


def simple_forward(f: dt.date, days: int) -> float:
    """Simple ACT/360 forward of the flat 2% continuous curve over [f, f + days]."""
    return (math.exp(0.02 * days / 365) - 1) / (days / 360)


def test_floating_forward_equals_curve_simple_forward() -> None:
    res = project(floater(), ZERO, projection_curve=FLAT2)
    interest = of_kind(res, "interest")
    # Period 1 (Jan 15 .. Apr 15, 91 days) at the current 3%: 7,583.33.
    assert interest[0][1] == pytest.approx(7_583.333333, abs=1e-6)
    # Reset Apr 15: fixing day Apr 13, index period Apr 13 .. Jul 13 (91 days):
    # F = (exp(0.02 x 91/365) - 1) / (91/360) = 1.977529%; rate = F + 0.5% = 2.477529%.
    f1 = simple_forward(D(2024, 4, 13), 91)
    assert f1 == pytest.approx(0.0197752892, abs=1e-10)
    t1, t2 = (D(2024, 4, 13) - AS_OF).days / 365, (D(2024, 7, 13) - AS_OF).days / 365
    assert f1 == pytest.approx(FLAT2.forward_rate(t1, t2, 91 / 360), rel=1e-12)
    assert res.flows[1].rate == pytest.approx(f1 + 0.005)
    assert interest[1][1] == pytest.approx(1_000_000 * (f1 + 0.005) * 91 / 360)
    # Resets Jul 15 and Oct 15: index periods of 92 days.
    f2 = simple_forward(D(2024, 7, 13), 92)
    assert interest[2][1] == pytest.approx(1_000_000 * (f2 + 0.005) * 92 / 360)
    assert interest[3][1] == pytest.approx(1_000_000 * (f2 + 0.005) * 92 / 360)
    assert res.next_repricing_date == D(2024, 4, 15)
    assert "fixing day 2024-04-13" in res.flows[1].detail


def test_floating_cap_and_floor_bind() -> None:
    capped = project(floater(rate_cap=0.022), ZERO, projection_curve=FLAT2)
    # raw 2.4775% > cap 2.2%: every reset gives 2.2%; Apr15..Jul15: 1,000,000 x 2.2% x 91/360 = 5,561.11
    assert [f.rate for f in capped.flows if f.kind == "interest"][1:] == pytest.approx([0.022] * 3)
    assert of_kind(capped, "interest")[1][1] == pytest.approx(5_561.111111, abs=1e-6)
    floored = project(floater(rate_floor=0.035), ZERO, projection_curve=FLAT2)
    # raw 2.4775% < floor 3.5%: 1,000,000 x 3.5% x 91/360 = 8,847.22
    assert [f.rate for f in floored.flows if f.kind == "interest"][1:] == pytest.approx([0.035] * 3)
    assert of_kind(floored, "interest")[1][1] == pytest.approx(8_847.222222, abs=1e-6)
    assert "floor" in floored.flows[1].detail


def test_floating_periodic_floor_and_multiplier() -> None:
    res = project(floater(periodic_floor=0.002), ZERO, projection_curve=FLAT2)
    rates = [f.rate for f in res.flows if f.kind == "interest"]
    # From 3%: at most 0.2% down per reset: 2.8%, 2.6%, then max(2.4775%, 2.4%) = 2.4775%.
    f2 = simple_forward(D(2024, 7, 13), 92)
    assert rates == pytest.approx([0.03, 0.028, 0.026, f2 + 0.005])
    mult = project(floater(rate_multiplier=1.1, spread=0.0), ZERO, projection_curve=FLAT2)
    # 1.1 x 1.977529% = 2.175282%
    assert mult.flows[1].rate == pytest.approx(1.1 * simple_forward(D(2024, 4, 13), 91))


def test_floating_past_fixing_used() -> None:
    calls: list[tuple[str, dt.date]] = []

    def fixings(index: str, day: dt.date) -> float | None:
        calls.append((index, day))
        return 0.021

    row = floater(next_reset_date=D(2024, 2, 2), reset_frequency="1Y")
    res = project(row, ZERO, projection_curve=FLAT2, fixings=fixings)
    # Reset Feb 2 with fixing day Jan 31 <= A: the fixing 2.1% + 0.5% = 2.6% from Feb 2.
    assert calls == [("CNY_SHIBOR_3M", D(2024, 1, 31))]
    first = res.flows[0]
    # Jan15..Feb2 (18 days) at 3% + Feb2..Apr15 (73 days) at 2.6%:
    # 1,000,000 x (0.03 x 18 + 0.026 x 73) / 360 = 6,772.22
    assert first.amount == pytest.approx(6_772.222222, abs=1e-6)
    assert res.next_repricing_date == D(2024, 2, 2)


def test_floating_pv_reprojects_under_shock() -> None:
    up = Shock(parallel=0.01)
    res = project(floater(), FLAT2, projection_curve=FLAT2, shock=up)
    # Under +100bp the projection curve is 3% flat: F = (exp(0.03 x 91/365) - 1)/(91/360).
    f1 = (math.exp(0.03 * 91 / 365) - 1) / (91 / 360)
    assert res.flows[1].rate == pytest.approx(f1 + 0.005)
    assert res.flows[0].discount_factor == pytest.approx(math.exp(-0.03 * 74 / 365))


def test_hybrid_reverts_to_reversion_rate() -> None:
    row = loan(rate_type="hybrid", initial_rate_end_date=D(2024, 7, 15), reversion_rate=0.045)
    res = project(row)
    rates = [f.rate for f in res.flows if f.kind == "interest"]
    assert rates == pytest.approx([0.03, 0.03, 0.045, 0.045])
    assert res.next_repricing_date == D(2024, 7, 15)


def test_hybrid_with_index_resets_from_initial_rate_end() -> None:
    row = loan(
        rate_type="hybrid",
        initial_rate_end_date=D(2024, 7, 15),
        rate_index="CNY_SHIBOR_3M",
        spread=0.005,
        reset_frequency="3M",
    )
    res = project(row, ZERO, projection_curve=FLAT2)
    rates = [f.rate for f in res.flows if f.kind == "interest"]
    # Fixed 3% to Jul 15, then resets on Jul 15 and Oct 15 (fixing day = reset date, no lag):
    # Jul 15 .. Oct 15 = 92 days.
    f = simple_forward(D(2024, 7, 15), 92)
    assert rates == pytest.approx([0.03, 0.03, f + 0.005, f + 0.005])
    assert res.next_repricing_date == D(2024, 7, 15)


def test_administered_and_non_interest_bearing_repricing() -> None:
    assert project(loan(rate_type="administered")).next_repricing_date == D(2024, 2, 2)
    nib = project(loan(rate_type="non_interest_bearing"))
    assert nib.next_repricing_date is None
    assert of_kind(nib, "interest") == []


# ----------------------------------------------------------------------------------------------
# Special instruments and states
# ----------------------------------------------------------------------------------------------


def test_bill_discount_pays_only_face() -> None:
    row = loan(
        instrument_type="bill_discount",
        origination_date=D(2024, 1, 10),
        maturity_date=D(2024, 7, 10),
        current_rate=0.025,
        interest_payment_frequency="T",
    )
    res = project(row)
    # Interest in advance (default for bill_discount): the only period started before A and was
    # paid at discounting, so the only future flow is the face value at maturity.
    assert [(f.pay_date, f.kind, f.amount) for f in res.flows] == [(D(2024, 7, 10), "principal", 1_000_000.0)]


def test_forward_starting_drawdown() -> None:
    row = loan(
        principal_balance=500_000.0,
        origination_date=D(2024, 3, 1),
        maturity_date=D(2024, 9, 1),
        current_rate=0.04,
        day_count="act_365f",
    )
    res = project(row)
    # Drawdown 500,000 paid by the bank at O; interest 500,000 x 4% x 92/365 = 5,041.10 on Jun 1
    # (Mar 1 .. Jun 1) and Sep 1 (Jun 1 .. Sep 1); 500,000 back at M.
    assert [(f.pay_date, f.kind, f.direction * f.amount) for f in res.flows] == [
        (D(2024, 3, 1), "drawdown", -500_000.0),
        (D(2024, 6, 1), "interest", pytest.approx(5_041.09589, abs=1e-5)),
        (D(2024, 9, 1), "interest", pytest.approx(5_041.09589, abs=1e-5)),
        (D(2024, 9, 1), "principal", 500_000.0),
    ]
    assert res.pv == pytest.approx(10_082.19178, abs=1e-5)
    # Principal flows alone still equal the balance.
    assert sum(a for _, a in of_kind(res, "principal")) == pytest.approx(500_000.0)


def test_forward_starting_bill_discount_pays_discount_at_start() -> None:
    row = loan(
        instrument_type="bill_discount",
        origination_date=D(2024, 3, 1),
        maturity_date=D(2024, 9, 1),
        interest_payment_frequency="T",
    )
    res = project(row)
    # Bank pays face at O and receives the discount 1,000,000 x 3% x 184/360 = 15,333.33 at O (in
    # advance): net outlay 984,666.67; face back at M.
    assert [(f.pay_date, f.kind, f.direction * f.amount) for f in res.flows] == [
        (D(2024, 3, 1), "drawdown", -1_000_000.0),
        (D(2024, 3, 1), "interest", pytest.approx(15_333.333333, abs=1e-6)),
        (D(2024, 9, 1), "principal", 1_000_000.0),
    ]


def test_overdue_non_accrual_and_matured() -> None:
    row = loan(overdue_principal=100_000.0, accrual_status="non_accrual")
    res = project(row)
    # 100,000 overdue; 900,000 at maturity; no interest (non-accrual).
    assert res.overdue_principal == 100_000.0
    assert of_kind(res, "principal") == [(D(2025, 1, 15), 900_000.0)]
    assert of_kind(res, "interest") == []
    assert res.pv == pytest.approx(1_000_000.0)  # overdue counted at DF = 1
    matured = project(loan(maturity_date=D(2024, 1, 31), overdue_principal=400_000.0))
    # Past maturity: everything outstanding is overdue.
    assert matured.flows == [] and matured.overdue_principal == 1_000_000.0
    assert matured.next_repricing_date is None


def test_off_balance_and_undated_rows() -> None:
    commitment = project({"instrument_type": "loan_commitment", "side": "asset", "principal_balance": 5e6})
    assert (commitment.flows, commitment.pv, commitment.next_repricing_date) == ([], 0.0, None)
    equity = project({"instrument_type": "equity_capital", "side": "equity", "principal_balance": 8e6})
    assert (equity.undated_principal, equity.pv, equity.flows) == (8e6, None, [])
    fund = project({"instrument_type": "fund_investment", "side": "asset", "principal_balance": 2e6})
    assert (fund.undated_principal, fund.pv) == (2e6, None)


def test_schedule_amortisation() -> None:
    row = loan(amortisation_type="schedule", interest_payment_frequency=None, day_count="act_365f")
    schedule = [
        {"flow_date": D(2024, 3, 15), "flow_type": "principal", "amount": 300_000.0},
        {"flow_date": D(2024, 9, 15), "flow_type": "principal", "amount": 300_000.0},
        {"flow_date": D(2025, 1, 15), "flow_type": "principal", "amount": 400_000.0},
        {"flow_date": D(2023, 12, 15), "flow_type": "principal", "amount": 50_000.0},  # past: ignored
    ]
    res = project(row, schedule=schedule)
    assert [a for _, a in of_kind(res, "principal")] == pytest.approx([300_000.0, 300_000.0, 400_000.0])
    interest = of_kind(res, "interest")
    # Interest on the principal dates: Jan15..Mar15 (60 days) 1,000,000 x 3% x 60/365 = 4,931.51;
    # Mar15..Sep15 (184 days) 700,000 x 3% x 184/365 = 10,586.30;
    # Sep15..Jan15 (122 days) 400,000 x 3% x 122/365 = 4,010.96.
    assert [a for _, a in interest] == pytest.approx([4_931.506849, 10_586.301370, 4_010.958904], abs=1e-6)


# ----------------------------------------------------------------------------------------------
# Derivative legs
# ----------------------------------------------------------------------------------------------


def leg(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "position_id": "S1-PAY",
        "instrument_type": "derivative_leg",
        "derivative_type": "irs",
        "side": "liability",
        "currency": "CNY",
        "principal_balance": 10_000_000.0,
        "origination_date": D(2024, 1, 15),
        "maturity_date": D(2026, 1, 15),
        "rate_type": "fixed",
        "current_rate": 0.025,
        "day_count": "act_365f",
        "amortisation_type": "bullet",
        "interest_payment_frequency": "6M",
        "notional_exchange": "none",
    }
    row.update(overrides)
    return row


def test_irs_fixed_leg_interest_only() -> None:
    res = project(leg())
    # Pay leg: 4 coupons, no notional. Jan15..Jul15 2024 = 182 days: 10m x 2.5% x 182/365 = 124,657.53.
    assert of_kind(res, "principal") == []
    interest = of_kind(res, "interest")
    assert len(interest) == 4
    assert interest[0] == (D(2024, 7, 15), pytest.approx(-124_657.534247, abs=1e-6))


def test_irs_floating_receive_leg() -> None:
    row = leg(
        side="asset",
        rate_type="floating",
        current_rate=0.02,
        rate_index="CNY_SHIBOR_6M",
        spread=0.0,
        reset_frequency="6M",
        next_reset_date=D(2024, 7, 15),
    )
    res = project(row, ZERO, projection_curve=FLAT2)
    interest = of_kind(res, "interest")
    # Reset Jul 15 2024 on the 6M index: Jul15 .. Jan15 = 184 days, ACT/365F:
    # F = (exp(0.02 x 184/365) - 1) / (184/365); coupon 10m x F x 184/365.
    f = (math.exp(0.02 * 184 / 365) - 1) / (184 / 365)
    assert interest[1][1] == pytest.approx(10_000_000 * f * 184 / 365)
    assert all(a > 0 for _, a in interest)


def test_fx_forward_and_fx_swap_notional_exchange() -> None:
    usd = leg(
        derivative_type="fx_forward",
        side="asset",
        currency="USD",
        principal_balance=1_000_000.0,
        rate_type="non_interest_bearing",
        notional_exchange=None,  # default for fx_forward: final
        maturity_date=D(2024, 6, 17),
    )
    res = project(usd)
    assert [(f.pay_date, f.kind, f.direction * f.amount) for f in res.flows] == [
        (D(2024, 6, 17), "principal", 1_000_000.0)
    ]
    swap = leg(
        derivative_type="fx_swap",
        side="liability",
        currency="USD",
        principal_balance=1_000_000.0,
        initial_exchange_amount=998_000.0,
        rate_type="non_interest_bearing",
        notional_exchange="initial_and_final",
        origination_date=D(2024, 2, 5),
        maturity_date=D(2024, 8, 5),
    )
    res = project(swap)
    # Near leg (O > A) received: +998,000 at O (opposite to the liability side); far leg paid.
    assert [(f.pay_date, f.kind, f.direction * f.amount) for f in res.flows] == [
        (D(2024, 2, 5), "drawdown", 998_000.0),
        (D(2024, 8, 5), "principal", -1_000_000.0),
    ]


# ----------------------------------------------------------------------------------------------
# Non-maturity rows
# ----------------------------------------------------------------------------------------------


def deposit(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "position_id": "D1",
        "instrument_type": "deposit_demand",
        "side": "liability",
        "currency": "CNY",
        "principal_balance": 1_000_000.0,
        "rate_type": "administered",
        "current_rate": 0.0035,
        "day_count": "act_360",
        "amortisation_type": "non_maturity",
    }
    row.update(overrides)
    return row


def test_non_maturity_profile() -> None:
    res = project(deposit(), non_maturity_profile=[("1M", 0.3), ("1Y", 0.7)])
    # 300,000 on 2024-03-01 with 300,000 x 0.35% x 29/360 = 84.58;
    # 700,000 on 2025-02-01 with 700,000 x 0.35% x 366/360 = 2,490.83.
    assert [(f.pay_date, f.kind, f.direction * f.amount) for f in res.flows] == [
        (D(2024, 3, 1), "interest", pytest.approx(-84.583333, abs=1e-6)),
        (D(2024, 3, 1), "principal", pytest.approx(-300_000.0)),
        (D(2025, 2, 1), "interest", pytest.approx(-2_490.833333, abs=1e-6)),
        (D(2025, 2, 1), "principal", pytest.approx(-700_000.0)),
    ]
    assert res.next_repricing_date == D(2024, 2, 2)


def test_non_maturity_default_undated_and_notice() -> None:
    res = project(deposit())
    # Default profile: everything at A + 1 day, interest 1,000,000 x 0.35% / 360 = 9.72.
    assert [(f.pay_date, f.kind, f.amount) for f in res.flows] == [
        (D(2024, 2, 2), "interest", pytest.approx(9.722222, abs=1e-6)),
        (D(2024, 2, 2), "principal", 1_000_000.0),
    ]
    undated = project(deposit(), non_maturity_profile="undated")
    assert (undated.flows, undated.undated_principal, undated.pv) == ([], 1_000_000.0, None)
    notice = project(deposit(instrument_type="deposit_notice", notice_period_days=7, amortisation_type=None))
    # Not before the 7-day notice: 2024-02-08.
    assert {f.pay_date for f in notice.flows} == {D(2024, 2, 8)}
    with pytest.raises(ModelError):
        project(deposit(), non_maturity_profile=[("1M", 0.5)])


# ----------------------------------------------------------------------------------------------
# Duration, explain
# ----------------------------------------------------------------------------------------------


def test_effective_duration_of_zero_coupon() -> None:
    row = loan(rate_type="non_interest_bearing", maturity_date=D(2026, 2, 1))
    # Continuous compounding: PV = exp(-z t), t = 731/365; (PV(-1bp) - PV(+1bp)) / (2bp PV) = t
    # (up to t^3 x 1e-8 / 6).
    assert effective_duration(row, as_of=AS_OF, discount_curve=FLAT2) == pytest.approx(731 / 365, rel=1e-7)
    assert effective_duration(row, as_of=AS_OF, discount_curve=None) is None


def test_format_explain_renders_every_row() -> None:
    from rich.console import Console

    row = loan(overdue_principal=50_000.0)
    res = project(row, FLAT2)
    rows = explain_rows(res)
    assert [r["date"] for r in rows][-2:] == ["overdue", "total"]
    assert rows[-1]["interest"] + rows[-1]["principal"] == pytest.approx(res.total())
    assert rows[-1]["pv"] == res.pv
    console = Console(file=io.StringIO(), width=300)
    console.print(format_explain(res, row, AS_OF))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Position L1 as of 2024-02-01" in text
    assert "total" in text and "overdue" in text and "2025-01-15" in text


# ----------------------------------------------------------------------------------------------
# Properties on random fixed contracts
# ----------------------------------------------------------------------------------------------


@st.composite
def fixed_contracts(draw: st.DrawFn) -> dict[str, Any]:
    orig = AS_OF - dt.timedelta(days=draw(st.integers(-60, 2000)))
    mat = orig + dt.timedelta(days=draw(st.integers(1, 3650)))
    balance = draw(st.floats(1.0, 1e8))
    amort = draw(st.sampled_from(["bullet", "linear", "annuity", "annuity_fixed_payment"]))
    freq = draw(st.sampled_from(["1M", "3M", "6M", "1Y", "T", "2W", None]))
    row = loan(
        side=draw(st.sampled_from(["asset", "liability"])),
        principal_balance=balance,
        overdue_principal=draw(st.sampled_from([0.0, 0.0, balance * 0.1, balance])),
        origination_date=orig,
        maturity_date=mat,
        current_rate=draw(st.floats(-0.01, 0.2)),
        day_count=draw(
            st.sampled_from(["act_360", "act_365f", "30_360_us", "30e_360", "act_act_isda", "act_act_icma"])
        ),
        amortisation_type=amort,
        interest_payment_frequency=freq,
        principal_payment_frequency=draw(st.sampled_from(["1M", "3M", "1Y", None])),
        end_of_month_rule=draw(st.booleans()),
        interest_timing=draw(st.sampled_from(["arrears", "advance"])),
    )
    if draw(st.booleans()):
        row["interest_only_end_date"] = orig + dt.timedelta(days=draw(st.integers(0, 800)))
    if draw(st.booleans()):
        row["amortisation_term_months"] = draw(st.integers(1, 360))
    if amort == "annuity_fixed_payment" and draw(st.booleans()):
        row["installment_amount"] = balance * draw(st.floats(0.001, 0.5))
    return row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixed_contracts())
def test_principal_plus_overdue_equals_balance(row: dict[str, Any]) -> None:
    res = project(row)
    principal = sum(f.amount for f in res.flows if f.kind == "principal")
    assert principal + res.overdue_principal == pytest.approx(row["principal_balance"], rel=1e-9)
    assert all(f.amount >= 0 for f in res.flows if f.kind == "principal")
    dates = [(f.pay_date, f.kind) for f in res.flows]
    assert all(d > AS_OF for d, _ in dates)
    order = {"drawdown": 0, "interest": 1, "principal": 2}
    assert dates == sorted(dates, key=lambda x: (x[0], order[x[1]]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixed_contracts())
def test_pv_at_zero_rates_is_sum_of_signed_flows(row: dict[str, Any]) -> None:
    res = project(row, ZERO)
    direction = 1 if row["side"] == "asset" else -1
    assert res.pv == pytest.approx(res.total() + direction * res.overdue_principal, rel=1e-12, abs=1e-6)


# ----------------------------------------------------------------------------------------------
# QuantLib cross-checks (fixed coupons on unadjusted accrual dates; mortgage-style annuity)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day_count", ["act_act_icma", "30_360_us", "30e_360", "act_360", "act_act_isda"])
@pytest.mark.parametrize("maturity", [D(2026, 6, 15), D(2026, 8, 31), D(2027, 2, 28)])
def test_fixed_coupons_match_quantlib(day_count: str, maturity: dt.date) -> None:
    ql = pytest.importorskip("QuantLib")
    counters = {
        "act_act_icma": ql.ActualActual(ql.ActualActual.ISMA),
        "30_360_us": ql.Thirty360(ql.Thirty360.USA),
        "30e_360": ql.Thirty360(ql.Thirty360.European),
        "act_360": ql.Actual360(),
        "act_act_isda": ql.ActualActual(ql.ActualActual.ISDA),
    }

    def qd(d: dt.date) -> Any:
        return ql.Date(d.day, d.month, d.year)

    issue = D(2021, 3, 10)
    schedule = ql.Schedule(
        qd(issue),
        qd(maturity),
        ql.Period(6, ql.Months),
        ql.TARGET(),
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        False,
    )
    leg = ql.FixedRateLeg(
        schedule=schedule,
        dayCount=counters[day_count],
        nominals=[1e6],
        couponRates=[0.03],
        paymentAdjustment=ql.ModifiedFollowing,
        paymentCalendar=ql.TARGET(),
    )
    expected = [(c.date().ISO(), c.amount()) for c in leg if c.date() > qd(AS_OF)]
    row = loan(
        instrument_type="debt_security",
        origination_date=issue,
        maturity_date=maturity,
        day_count=day_count,
        interest_payment_frequency="6M",
        business_day_convention="modified_following",
        holiday_calendar="eu_target",
    )
    got = [(d.isoformat(), a) for d, a in of_kind(project(row), "interest")]
    assert [d for d, _ in got] == [d for d, _ in expected]
    assert [a for _, a in got] == pytest.approx([a for _, a in expected], abs=1e-6)


def test_annuity_balances_match_quantlib_sinking_notionals() -> None:
    ql = pytest.importorskip("QuantLib")
    # 30-year monthly mortgage, 6% 30/360: QuantLib's mortgage-style outstanding notionals.
    expected = list(ql.sinkingNotionals(ql.Period(30, ql.Years), ql.Monthly, 0.06, 100_000.0))
    row = loan(
        principal_balance=100_000.0,
        current_rate=0.06,
        day_count="30_360_us",
        amortisation_type="annuity",
        interest_payment_frequency="1M",
        principal_payment_frequency="1M",
        maturity_date=D(2054, 1, 15),
    )
    res = project(row, as_of=D(2024, 1, 15))
    before = [f.balance for f in res.flows if f.kind == "principal"]
    assert len(before) == 360
    assert before == pytest.approx(expected[:360], abs=1e-6)
