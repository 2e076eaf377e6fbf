"""The numba kernel and the plain reference implementation agree on random contracts.

Style guide practice 4: two implementations of the kernel, written independently from the
semantics in docs/design.md, checked against each other flow by flow (date, kind, amount) and on
PV under the base curve and under every scenario.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from openalm.config import load_config
from openalm.conventions import Calendar, from_day
from openalm.engine.audit import kernel_flows
from openalm.engine.book import prepare_book
from openalm.engine.reference import project_contract
from openalm.market import Shock, curves_from_table

AS_OF = dt.date(2026, 6, 30)
DAY_COUNTS = ["act_360", "act_365f", "act_act_isda", "act_act_icma", "30_360_us", "30e_360", "30e_360_isda", "30_365"]
FREQS = ["1M", "3M", "6M", "1Y"]
PILLARS = ["1M", "3M", "6M", "1Y", "2Y", "5Y", "10Y", "30Y"]


def _curves() -> pa.Table:
    rows = []
    for cid, ccy, base, slope in (
        ("CNY_RFR", "CNY", 0.014, 0.0009),
        ("USD_RFR", "USD", 0.037, 0.0004),
        ("CNY_SHIBOR_3M_PROJ", "CNY", 0.016, 0.0007),
        ("CNY_LPR_5Y_PROJ", "CNY", 0.035, 0.0002),
    ):
        for k, t in enumerate(PILLARS):
            rows.append({"curve_id": cid, "currency": ccy, "curve_type": "zero", "tenor": t, "value": base + slope * k})
    return pa.Table.from_pylist(rows)


INDICES = pa.Table.from_pylist(
    [
        {"index_code": "CNY_SHIBOR_3M", "currency": "CNY", "tenor": "3M", "projection_curve_id": "CNY_SHIBOR_3M_PROJ"},
        {"index_code": "CNY_LPR_5Y", "currency": "CNY", "tenor": "5Y", "projection_curve_id": "CNY_LPR_5Y_PROJ"},
    ]
)
INDEX_TENOR = {"CNY_SHIBOR_3M": "3M", "CNY_LPR_5Y": "5Y"}
PROJ = {"CNY_SHIBOR_3M": "CNY_SHIBOR_3M_PROJ", "CNY_LPR_5Y": "CNY_LPR_5Y_PROJ"}


def _d(rng: np.random.Generator, lo: int, hi: int) -> dt.date:
    return AS_OF + dt.timedelta(days=int(rng.integers(lo, hi)))


def random_row(rng: np.random.Generator, k: int) -> dict[str, object]:
    """One random dated or non-maturity contract exercising the engine's features."""
    kind = rng.choice(
        ["loan", "loan", "loan", "deposit_term", "debt_security", "bill_discount", "deposit_demand", "derivative_leg"]
    )
    side = "liability" if kind in ("deposit_term", "deposit_demand") else str(rng.choice(["asset", "liability"]))
    if kind in ("loan", "bill_discount"):
        side = "asset"
    row: dict[str, object] = {
        "position_id": f"P{k}",
        "instrument_type": kind,
        "side": side,
        "currency": "CNY" if rng.random() < 0.8 else "USD",
        "principal_balance": float(round(rng.uniform(1e3, 5e6), 2)),
        "day_count": str(rng.choice(DAY_COUNTS)),
        "rate_type": "fixed",
        "current_rate": float(round(rng.uniform(0.0, 0.08), 6)),
    }
    if kind == "deposit_demand":
        row.update(amortisation_type="non_maturity", rate_type="administered")
        return row
    orig = _d(rng, -3650, 30) if rng.random() < 0.9 else None
    mat = _d(rng, 1, 30 * 365)
    if orig is not None and orig >= mat:
        orig = mat - dt.timedelta(days=400)
    row.update(origination_date=orig, maturity_date=mat)
    amort = str(rng.choice(["bullet", "annuity", "linear", "annuity_fixed_payment"]))
    if kind in ("deposit_term", "bill_discount", "derivative_leg", "debt_security"):
        amort = "bullet"
    row["amortisation_type"] = amort
    f = str(rng.choice(FREQS))
    row["interest_payment_frequency"] = "T" if kind in ("deposit_term", "bill_discount") else f
    if amort != "bullet":
        row["principal_payment_frequency"] = f
        if rng.random() < 0.2:
            row["interest_only_end_date"] = _d(rng, 1, 720)
        if rng.random() < 0.2:
            row["amortisation_term_months"] = int(rng.integers(12, 480))
    if rng.random() < 0.3 and row["interest_payment_frequency"] != "T":
        months = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12}[f]
        row["next_interest_payment_date"] = AS_OF + dt.timedelta(days=int(rng.integers(1, 28 * months)))
        if row["next_interest_payment_date"] >= mat:  # type: ignore[operator]
            row.pop("next_interest_payment_date")
    if rng.random() < 0.2:
        row["end_of_month_rule"] = True
    if kind == "bill_discount":
        row["interest_timing"] = "advance"
        row["maturity_date"] = _d(rng, 1, 360)
    if kind == "derivative_leg":
        row["derivative_type"] = "irs"
        row["notional_exchange"] = str(rng.choice(["none", "final"]))
    if rng.random() < 0.35 and kind in ("loan", "debt_security", "derivative_leg"):
        index = str(rng.choice(list(INDEX_TENOR)))
        row.update(
            rate_type="floating",
            rate_index=index,
            spread=float(round(rng.uniform(-0.005, 0.02), 5)),
            reset_frequency=str(rng.choice(["3M", "6M", "1Y"])),
            next_reset_date=_d(rng, 1, 366) if rng.random() < 0.8 else None,
        )
        if row["currency"] == "USD":
            row["currency"] = "CNY"
        if rng.random() < 0.3:
            row["rate_cap"] = float(row["current_rate"]) + 0.01  # type: ignore[arg-type]
            row["rate_floor"] = 0.02
        if rng.random() < 0.3:
            row["periodic_cap"] = 0.005
            row["periodic_floor"] = 0.005
        if rng.random() < 0.3:
            row["rate_multiplier"] = 1.1
        if rng.random() < 0.2:
            row["reset_lag_days"] = 2
    if rng.random() < 0.1 and kind == "loan" and (orig is None or orig <= AS_OF):
        row["overdue_principal"] = float(round(float(row["principal_balance"]) * 0.1, 2))  # type: ignore[arg-type]
    if rng.random() < 0.05 and kind == "loan":
        row["accrual_status"] = "non_accrual"
    if rng.random() < 0.15:
        row["business_day_convention"] = str(rng.choice(["following", "modified_following", "preceding"]))
        row["holiday_calendar"] = str(rng.choice(["cn", "weekends"]))
    return row


def _rows(n: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [random_row(rng, k) for k in range(n)]


def _table(rows: list[dict[str, object]]) -> pa.Table:
    cols = sorted({c for r in rows for c in r})
    return pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])


@pytest.fixture(scope="module")
def book_and_rows() -> tuple[object, list[dict[str, object]], object]:
    rows = _rows(400, 7)
    config = load_config()
    curves = curves_from_table(_curves(), AS_OF)
    book = prepare_book(
        _table(rows),
        as_of=AS_OF,
        config=config.model_copy(update={"discount_curves": {"CNY": "CNY_RFR", "USD": "USD_RFR"}}),
        curves=curves,
        rate_indices=INDICES,
    )
    return book, rows, curves


def _reference(row: dict[str, object], curves: object, shock: Shock | None = None) -> object:
    disc = curves[f"{row['currency']}_RFR"]  # type: ignore[index]
    index = row.get("rate_index")
    proj = curves[PROJ[index]] if index else None  # type: ignore[index]
    cal = Calendar.from_code(str(row["holiday_calendar"])) if row.get("holiday_calendar") else None
    return project_contract(
        row,
        as_of=AS_OF,
        discount_curve=disc,
        projection_curve=proj,
        index_tenor=INDEX_TENOR.get(index) if index else None,  # type: ignore[arg-type]
        calendar=cal,
        shock=shock,
    )


def test_flows_agree_flow_by_flow(book_and_rows) -> None:  # type: ignore[no-untyped-def]
    book, rows, curves = book_and_rows
    for i, row in enumerate(rows):
        ref = _reference(row, curves)
        kf = kernel_flows(book.arrays, book.params, i)
        mine = sorted((from_day(int(d)), k, s) for d, k, s in zip(kf.days, kf.kinds, kf.signed, strict=True))
        # flows below a thousandth of a cent are float residues of a repaid balance
        theirs = sorted((f.pay_date, f.kind, f.signed_amount) for f in ref.flows if abs(f.amount) > 1e-5)
        mine = [m for m in mine if abs(m[2]) > 1e-5]
        assert [(d, k) for d, k, _ in mine] == [(d, k) for d, k, _ in theirs], row
        for (_, _, a), (_, _, b) in zip(mine, theirs, strict=True):
            assert a == pytest.approx(b, rel=1e-11, abs=1e-9), row


def test_pv_agrees_under_every_scenario(book_and_rows) -> None:  # type: ignore[no-untyped-def]
    book, rows, curves = book_and_rows
    config = load_config()
    result = book.run(config, partition_size=64)
    from openalm.market import ShockSet, basel_shock

    shock_set = ShockSet.load(config.shock_set_name)
    for i, row in enumerate(rows):
        ref = _reference(row, curves)
        assert result.pv[i, 0] == pytest.approx(ref.pv, rel=1e-11, abs=1e-8), row  # type: ignore[attr-defined]
        for s, name in enumerate(book.ctx.scenarios[3:], start=3):
            shocked = _reference(row, curves, basel_shock(shock_set, str(row["currency"]), name))
            assert result.pv[i, s] == pytest.approx(shocked.pv, rel=1e-11, abs=1e-8), (name, row)  # type: ignore[attr-defined]


def test_liquidity_bands_and_daily_ladder_hold_every_kernel_flow(book_and_rows) -> None:  # type: ignore[no-untyped-def]
    """Per-contract liquidity bands and the daily ladder are the kernel's own flows, bucketed: each
    contract's flows (from the audit walk) summed by band equal its ``cband`` row, and summed by
    (group, day) for days 1..90 equal the daily ladder; partition size changes nothing."""
    import dataclasses

    from openalm.engine import kernel as K
    from openalm.engine.run import run_engine
    from openalm.measures.liquidity.frame import band_ends

    book = book_and_rows[0]
    ends = np.asarray(band_ends(AS_OF), np.int64)
    n = book.arrays.n
    groups = np.arange(n) % 5 - 1  # -1 (not accumulated) and groups 0..3
    book.arrays.ci[:, K.I_LGRP] = groups
    params = dataclasses.replace(book.params, band_end=ends, n_liq_groups=4, daily_days=90)
    res = run_engine(book.arrays, params, partition_size=37)
    res_one = run_engine(book.arrays, params, partition_size=10_000)
    assert res.cband is not None and res.daily is not None and res_one.daily is not None
    assert res.cband.shape == (n, len(ends), K.N_KINDS)
    np.testing.assert_allclose(res.cband, res_one.cband, rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(res.daily, res_one.daily, rtol=1e-12, atol=1e-6)
    a = params.as_of_day
    want_daily = np.zeros_like(res.daily)
    for i in range(n):
        kf = kernel_flows(book.arrays, params, i)
        want = np.zeros((len(ends), K.N_KINDS))
        for d, kind, amt in zip(kf.days, kf.kinds, kf.amounts, strict=True):
            off = int(d) - a
            k = ("principal", "interest", "drawdown").index(kind)
            want[int(np.searchsorted(ends, off, side="left")), k] += amt
            if groups[i] >= 0 and 0 < off <= 90:
                want_daily[groups[i], off, k] += amt
        np.testing.assert_allclose(res.cband[i], want, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res.daily, want_daily, rtol=1e-12, atol=1e-6)
    assert res.cband[:, :, K.KIND_PRINCIPAL].sum() > 0 and res.daily.sum() > 0
    book.arrays.ci[:, K.I_LGRP] = -1
