"""Which term deposits count whole in the LCR: penalty-free early withdrawal only (BCBS 238 paras
82-84). Hand-computed: a non-operational corporate deposit of 1,000,000 CNY (uninsured above the
CNY 500,000 cap) maturing in 200 days; outflow factor 40% (china lcr_outflows corp_nonop_*)."""

from __future__ import annotations

import polars as pl
import pytest

from openalm.measures.liquidity.frame import frame_from_records
from openalm.measures.liquidity.lcr import LcrSettings, compute_lcr
from openalm.measures.liquidity.rules import load_rule_set


def _deposit(**extra: object) -> pl.DataFrame:
    base = {
        "instrument_type": "deposit_term",
        "side": "liability",
        "balance": 1_000_000.0,
        "counterparty_id": "C1",
        "counterparty_type": "non_financial_corporate",
        "maturity_days": 200,
        "principal_due": {200: 1_000_000.0},
        "current_rate": 0.02,
    }
    base.update(extra)
    return frame_from_records([base])


def _outflow(frame: pl.DataFrame, settings: LcrSettings | None = None) -> float:
    res = compute_lcr(frame, load_rule_set("china"), settings=settings)
    lines = res.lines.filter((pl.col("currency") == "ALL") & (pl.col("category") == "outflows_total"))
    return float(lines["weighted_amount"].item())


def test_breakable_at_the_demand_rate_is_a_penalty_and_counts_by_maturity() -> None:
    frame = _deposit(early_withdrawal_allowed=True, early_withdrawal_rate=0.0035)
    assert _outflow(frame) == pytest.approx(0.0)


def test_unknown_early_withdrawal_rate_counts_whole() -> None:
    # 500,000 insured at 20% (non-operational, but not fully insured -> whole amount uninsured row
    # at 40%): the China rule puts a non-operational deposit in the insured row only when fully
    # insured, so all 1,000,000 x 40% = 400,000
    frame = _deposit(early_withdrawal_allowed=True)
    assert _outflow(frame) == pytest.approx(400_000.0)


def test_penalty_free_withdrawal_date_within_30_days_counts_whole() -> None:
    frame = _deposit(next_withdrawal_days=10)
    assert _outflow(frame) == pytest.approx(400_000.0)


def test_setting_all_counts_every_breakable_deposit() -> None:
    frame = _deposit(early_withdrawal_allowed=True, early_withdrawal_rate=0.0035)
    assert _outflow(frame, LcrSettings(early_withdrawal="all")) == pytest.approx(400_000.0)
