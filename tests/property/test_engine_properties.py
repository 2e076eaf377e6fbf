"""Accounting invariants of the cash-flow engine (Hypothesis, bounded examples).

* Principal flows plus overdue principal add up to the principal balance of every dated contract
  (bullet, annuity, linear, annuity_fixed_payment; fixed and floating; with and without overdue;
  seasoned and forward-starting), in the kernel and in the reference implementation.
* At zero rates the PV is the undiscounted sum of the signed flows, per contract and for the book
  as a whole (PV total = the signed base ladder of one bucket set, overdue included).
* The results do not depend on the partitioning (partition sizes 1, 7, 1000: ladders equal to
  1e-12 relative, PVs exactly) nor on the executor: ``local``, ``processes`` and ``dask`` give
  identical ladders and PVs (the reduce sums partials in partition order).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openalm.config import load_config
from openalm.conventions import add_months, from_day, to_day
from openalm.engine.audit import kernel_flows
from openalm.engine.book import PreparedBook, prepare_book
from openalm.engine.contracts import decode_group
from openalm.engine.reference import project_contract
from openalm.market import curves_from_table

AS_OF = dt.date(2026, 6, 30)
CONFIG = load_config(None)
DAY_COUNTS = ("act_360", "act_365f", "act_act_isda", "act_act_icma", "30_360_us", "30e_360", "30e_360_isda", "30_365")
FREQS = ("1M", "3M", "6M", "1Y")
AMORTISATIONS = ("bullet", "annuity", "linear", "annuity_fixed_payment")
DATE_COLUMNS = {"origination_date", "maturity_date", "next_reset_date"}
FLOAT_COLUMNS = {"principal_balance", "current_rate", "spread", "overdue_principal"}
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def positions_table(rows: list[dict[str, Any]]) -> pa.Table:
    columns = sorted({k for r in rows for k in r})
    data = {}
    for c in columns:
        typ = pa.date32() if c in DATE_COLUMNS else pa.float64() if c in FLOAT_COLUMNS else pa.string()
        data[c] = pa.array([r.get(c) for r in rows], typ)
    return pa.table(data)


def curves_table(level: float | None) -> pa.Table:
    """CNY discount and projection curves; ``level`` None: upward sloping, else flat at ``level``."""
    tenors = ("1M", "6M", "1Y", "2Y", "5Y", "10Y", "30Y")
    rows = [
        (cid, t, (base + 0.001 * i) if level is None else level)
        for cid, base in (("CNY_RFR", 0.015), ("CNY_SHIBOR", 0.02))
        for i, t in enumerate(tenors)
    ]
    return pa.table(
        {
            "curve_id": [r[0] for r in rows],
            "currency": ["CNY"] * len(rows),
            "curve_type": ["zero"] * len(rows),
            "tenor": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        }
    )


RATE_INDICES = pa.table(
    {
        "index_code": ["CNY_SHIBOR_3M"],
        "currency": ["CNY"],
        "tenor": ["3M"],
        "projection_curve_id": ["CNY_SHIBOR"],
    }
)


def make_book(rows: list[dict[str, Any]], level: float | None = None) -> PreparedBook:
    return prepare_book(
        positions_table(rows),
        as_of=AS_OF,
        config=CONFIG,
        curves=curves_from_table(curves_table(level), AS_OF),
        rate_indices=RATE_INDICES,
    )


# ----------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------


@st.composite
def dated_rows(draw: st.DrawFn, with_overdue: bool = True) -> dict[str, Any]:
    """A dated contract: any amortisation, fixed or floating, seasoned or forward-starting."""
    amort = draw(st.sampled_from(AMORTISATIONS))
    freq = draw(st.sampled_from(FREQS))
    start = draw(st.integers(-15 * 365, 200))
    orig = AS_OF + dt.timedelta(days=start)
    term_months = draw(st.integers(1, 360))
    mat = from_day(int(add_months(to_day(orig), term_months, False)) + draw(st.integers(-15, 15)))
    if mat <= AS_OF:
        mat = AS_OF + dt.timedelta(days=draw(st.integers(1, 3650)))
    if mat <= orig:
        mat = orig + dt.timedelta(days=draw(st.integers(1, 3650)))
    balance = draw(st.floats(1.0, 1e8, allow_nan=False))
    floating = draw(st.booleans())
    row: dict[str, Any] = {
        "position_id": "",
        "instrument_type": draw(st.sampled_from(("loan", "deposit_term", "debt_security"))),
        "side": draw(st.sampled_from(("asset", "liability"))),
        "currency": "CNY",
        "principal_balance": balance,
        "origination_date": orig,
        "maturity_date": mat,
        "rate_type": "floating" if floating else "fixed",
        "current_rate": draw(st.floats(-0.005, 0.2, allow_nan=False)),
        "day_count": draw(st.sampled_from(DAY_COUNTS)),
        "amortisation_type": amort,
        "interest_payment_frequency": draw(st.sampled_from((freq, "T"))) if amort == "bullet" else freq,
        "principal_payment_frequency": "T" if amort == "bullet" else freq,
    }
    if floating:
        row.update(
            rate_index="CNY_SHIBOR_3M",
            spread=draw(st.floats(-0.01, 0.03, allow_nan=False)),
            reset_frequency=draw(st.sampled_from(FREQS)),
            next_reset_date=AS_OF + dt.timedelta(days=draw(st.integers(1, 400))),
        )
    if with_overdue and orig <= AS_OF and draw(st.booleans()):
        row["overdue_principal"] = balance * draw(st.floats(0.0, 1.0, allow_nan=False))
    return row


@st.composite
def other_rows(draw: st.DrawFn) -> dict[str, Any]:
    """Non-maturity deposits, undated cash / equity and off-balance commitments."""
    kind = draw(st.sampled_from(("deposit_demand", "cash", "equity_capital", "loan_commitment")))
    row: dict[str, Any] = {
        "position_id": "",
        "instrument_type": kind,
        "side": {"deposit_demand": "liability", "equity_capital": "equity"}.get(kind, "asset"),
        "currency": "CNY",
        "principal_balance": draw(st.floats(1.0, 1e8, allow_nan=False)),
        "rate_type": "fixed" if kind == "deposit_demand" else "non_interest_bearing",
        "amortisation_type": "non_maturity",
    }
    if kind == "deposit_demand":
        row.update(current_rate=draw(st.floats(0.0, 0.02, allow_nan=False)), day_count="act_360")
    return row


def numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "position_id": f"P{i}"} for i, r in enumerate(rows)]


def random_book_rows(seed: int, n: int) -> list[dict[str, Any]]:
    """``n`` rows of every kind (dated of every amortisation, fixed and floating, non-maturity,
    undated, off-balance) from a seeded numpy generator, for the partition and executor tests."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        u = rng.random()
        if u < 0.15:
            kind = ("deposit_demand", "cash", "equity_capital", "loan_commitment")[int(rng.integers(4))]
            rows.append(
                {
                    "position_id": f"P{i}",
                    "instrument_type": kind,
                    "side": {"deposit_demand": "liability", "equity_capital": "equity"}.get(kind, "asset"),
                    "currency": "CNY",
                    "principal_balance": float(rng.uniform(1, 1e8)),
                    "rate_type": "fixed" if kind == "deposit_demand" else "non_interest_bearing",
                    "current_rate": 0.01 if kind == "deposit_demand" else None,
                    "amortisation_type": "non_maturity",
                }
            )
            continue
        amort = AMORTISATIONS[int(rng.integers(len(AMORTISATIONS)))]
        freq = FREQS[int(rng.integers(len(FREQS)))]
        orig = AS_OF + dt.timedelta(days=int(rng.integers(-15 * 365, 200)))
        mat = from_day(int(add_months(to_day(orig), int(rng.integers(1, 361)), False)) + int(rng.integers(-15, 16)))
        if mat <= max(AS_OF, orig):
            mat = max(AS_OF, orig) + dt.timedelta(days=int(rng.integers(1, 3650)))
        floating = bool(rng.random() < 0.4)
        row: dict[str, Any] = {
            "position_id": f"P{i}",
            "instrument_type": ("loan", "deposit_term", "debt_security")[int(rng.integers(3))],
            "side": ("asset", "liability")[int(rng.integers(2))],
            "currency": "CNY",
            "principal_balance": float(rng.uniform(1, 1e8)),
            "origination_date": orig,
            "maturity_date": mat,
            "rate_type": "floating" if floating else "fixed",
            "current_rate": float(rng.uniform(-0.005, 0.2)),
            "day_count": DAY_COUNTS[int(rng.integers(len(DAY_COUNTS)))],
            "amortisation_type": amort,
            "interest_payment_frequency": freq,
            "principal_payment_frequency": "T" if amort == "bullet" else freq,
        }
        if floating:
            row.update(
                rate_index="CNY_SHIBOR_3M",
                spread=float(rng.uniform(-0.01, 0.03)),
                reset_frequency=FREQS[int(rng.integers(len(FREQS)))],
                next_reset_date=AS_OF + dt.timedelta(days=int(rng.integers(1, 400))),
            )
        if orig <= AS_OF and rng.random() < 0.2:
            row["overdue_principal"] = row["principal_balance"] * float(rng.random())
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------
# Principal
# ----------------------------------------------------------------------------------------------


@SETTINGS
@given(st.lists(dated_rows(), min_size=1, max_size=12))
def test_principal_flows_add_up_to_the_balance(rows: list[dict[str, Any]]) -> None:
    rows = numbered(rows)
    book = make_book(rows)
    curve = curves_from_table(curves_table(None), AS_OF)
    for i, row in enumerate(rows):
        balance = row["principal_balance"]
        overdue = row.get("overdue_principal", 0.0)
        kf = kernel_flows(book.arrays, book.params, i)
        principal = sum(a for k, a in zip(kf.kinds, kf.amounts, strict=True) if k == "principal")
        assert principal + overdue == pytest.approx(balance, rel=1e-9), row
        assert all(a >= 0.0 for k, a in zip(kf.kinds, kf.amounts, strict=True) if k == "principal")
        drawdown = sum(a for k, a in zip(kf.kinds, kf.amounts, strict=True) if k == "drawdown")
        assert drawdown == pytest.approx(balance if row["origination_date"] > AS_OF else 0.0, rel=1e-12)
        res = project_contract(
            row,
            as_of=AS_OF,
            discount_curve=curve["CNY_RFR"],
            projection_curve=curve["CNY_SHIBOR"],
            index_tenor="3M",
        )
        assert res.total("principal") * (1 if row["side"] == "asset" else -1) + res.overdue_principal == (
            pytest.approx(balance, rel=1e-9)
        )


# ----------------------------------------------------------------------------------------------
# PV at zero rates
# ----------------------------------------------------------------------------------------------


def _signed_ladder_total(book: PreparedBook, ladder: np.ndarray, set_index: int = 0) -> float:
    """Signed (bank's view) sum of the base ladder over one bucket set, overdue in, undated out."""
    lo, hi = int(book.buckets.offsets[set_index]), int(book.buckets.offsets[set_index + 1])
    undated = int(book.buckets.undated_index[set_index])
    total = 0.0
    for g in range(ladder.shape[1]):
        _ccy, side, _it = decode_group(g, book.ctx.currencies)
        sign = {"asset": 1.0, "liability": -1.0}.get(side, 0.0)
        block = ladder[0, g, lo:hi].copy()
        block[undated - lo] = 0.0
        # kinds: principal, interest, drawdown (a drawdown runs opposite to the side)
        total += sign * (block[:, 0].sum() + block[:, 1].sum() - block[:, 2].sum())
    return total


@SETTINGS
@given(st.lists(st.one_of(dated_rows(), dated_rows(), other_rows()), min_size=1, max_size=12))
def test_pv_at_zero_rates_is_the_sum_of_the_flows(rows: list[dict[str, Any]]) -> None:
    rows = numbered(rows)
    book = make_book(rows, level=0.0)
    result = book.run(CONFIG)
    pv = result.pv[:, 0]
    for i, row in enumerate(rows):
        kf = kernel_flows(book.arrays, book.params, i)
        if row["instrument_type"] in ("cash", "equity_capital"):
            assert math.isnan(pv[i])
            continue
        sign = 1.0 if row["side"] == "asset" else -1.0
        flows = float(np.sum(kf.signed)) + sign * row.get("overdue_principal", 0.0)
        assert pv[i] == pytest.approx(flows, rel=1e-12, abs=1e-6)
    ladder_total = _signed_ladder_total(book, result.ladder)
    assert float(np.nansum(pv)) == pytest.approx(ladder_total, rel=1e-12, abs=1e-4)


# ----------------------------------------------------------------------------------------------
# Partitions and executors
# ----------------------------------------------------------------------------------------------


@settings(max_examples=4, deadline=None, derandomize=True)
@given(st.integers(0, 2**31 - 1))
def test_results_do_not_depend_on_the_partitioning(seed: int) -> None:
    book = make_book(random_book_rows(seed, 120))
    runs = [book.run(CONFIG, executor="local", partition_size=size, workers=2) for size in (1, 7, 1000)]
    # at most ceil(n / size) partitions, cut at equal estimated work (a costly contract may fill one alone)
    parts = [r.partitions for r in runs]
    assert parts[2] == 1 and 18 <= parts[0] <= 120 and 1 < parts[1] <= 18
    for r in runs[1:]:
        np.testing.assert_allclose(r.ladder, runs[0].ladder, rtol=1e-12, atol=1e-6)
        np.testing.assert_array_equal(r.pv, runs[0].pv)
        assert r.n_flows == runs[0].n_flows


def test_executors_give_identical_results() -> None:
    """local (threads), processes (spawned pool) and dask (LocalCluster, 2 workers): bit-identical."""
    book = make_book(random_book_rows(7, 400))
    runs = {exe: book.run(CONFIG, executor=exe, partition_size=37, workers=2) for exe in ("local", "processes", "dask")}
    base = runs["local"]
    assert base.partitions > 2  # several partitions (balanced by estimated work), the same for every executor
    for exe, r in runs.items():
        assert r.executor == exe
        assert r.partitions == base.partitions
        assert r.n_flows == base.n_flows
        np.testing.assert_array_equal(r.ladder, base.ladder, err_msg=exe)
        np.testing.assert_array_equal(r.pv, base.pv, err_msg=exe)


def test_dask_executor_connects_to_an_existing_scheduler() -> None:
    """``--scheduler ADDRESS``: the run goes to a cluster that is already up, and gives the same result."""
    from dask.distributed import LocalCluster

    book = make_book(random_book_rows(11, 150))
    local = book.run(CONFIG, executor="local", partition_size=40, workers=2)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = book.run(CONFIG, executor="dask", scheduler=cluster.scheduler_address, partition_size=40)
        assert cluster.status.name == "running"  # still up: the run did not close it
    np.testing.assert_array_equal(remote.ladder, local.ladder)
    np.testing.assert_array_equal(remote.pv, local.pv)
