"""The liquidity module of a run: engine outputs + rules -> the liquidity result tables.

:func:`prepare_liquidity` runs before the kernel (daily-ladder groups, liquidity bands);
:func:`run_liquidity` after it (frame, gaps, LCR, NSFR, ratios, stress tests, returns). The
standalone ``openalm run`` and the workspace run call the same two functions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from openalm.engine.buckets import BucketSets
from openalm.engine.contracts import ContractArrays
from openalm.engine.kernel import I_LGRP
from openalm.engine.run import KernelParams
from openalm.measures.liquidity.assumptions import Assumption, assumptions_frame
from openalm.measures.liquidity.build import LiquidityGroups, build_frame, daily_ladder, liquidity_groups
from openalm.measures.liquidity.frame import band_ends
from openalm.measures.liquidity.gap import BEHAVIOURAL_NOTE, liquidity_gap_table

__all__ = ["LiquidityResult", "apply_liquidity_groups", "liquidity_groups", "prepare_liquidity", "run_liquidity"]


@dataclass
class LiquidityResult:
    """Result tables (polars) keyed by table name, per-contract columns for ``contract_results``,
    the per-contract frame, recorded assumptions and warnings."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    contract_columns: pl.DataFrame | None = None
    frame: pl.DataFrame | None = None
    assumptions: list[Assumption] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def apply_liquidity_groups(
    arrays: ContractArrays,
    params: KernelParams,
    codes: npt.NDArray[np.int64],
    *,
    n_groups: int,
    as_of: dt.date,
    daily_days: int,
) -> KernelParams:
    """Set the daily-ladder group of every contract (``codes`` per positions row of ``arrays``) and
    size the kernel's liquidity outputs; returns the kernel parameters to use."""
    arrays.ci[:, I_LGRP] = np.asarray(codes, np.int64)[arrays.row]
    return dataclasses.replace(
        params,
        band_end=np.asarray(band_ends(as_of), np.int64),
        n_liq_groups=int(n_groups),
        daily_days=int(daily_days),
    )


def prepare_liquidity(
    positions: pa.Table | pl.DataFrame,
    counterparties: pa.Table | pl.DataFrame | None,
    arrays: ContractArrays,
    params: KernelParams,
    *,
    as_of: dt.date,
    daily_days: int,
) -> tuple[KernelParams, LiquidityGroups]:
    """Assign every contract its daily-ladder group (in ``arrays.ci``) and size the kernel's
    liquidity outputs; returns the kernel parameters to use and the groups."""
    groups = liquidity_groups(positions, counterparties)
    params = apply_liquidity_groups(arrays, params, groups.codes, n_groups=groups.n, as_of=as_of, daily_days=daily_days)
    return params, groups


def _demand_balances(frame: pl.DataFrame) -> dict[str, float]:
    """Non-maturity deposit balances the contractual ladder holds in "next day", per currency."""
    nmd = frame.filter(
        (pl.col("side") == "liability")
        & pl.col("instrument_type").is_in(["deposit_demand", "interbank_deposit"])
        & pl.col("maturity_days").is_null()
        & (pl.col("principal_d1") > 0)
    )
    agg = nmd.group_by("currency").agg(pl.col("principal_d1").sum())
    return dict(zip(agg["currency"].to_list(), agg["principal_d1"].to_list(), strict=True))


def run_liquidity(
    *,
    positions: pa.Table | pl.DataFrame,
    counterparties: pa.Table | pl.DataFrame | None,
    as_of: dt.date,
    config: Any,
    fx_rc: Mapping[str, float],
    cband: npt.NDArray[np.float64] | None,
    rows: npt.NDArray[np.int64] | None,
    ladder: pa.Table,
    buckets: BucketSets,
    groups: LiquidityGroups,
    daily: npt.NDArray[np.float64] | None,
) -> LiquidityResult:
    """Every liquidity measure of a run."""
    import time

    settings = config.liquidity
    out = LiquidityResult()
    t0 = time.perf_counter()
    frame = build_frame(positions, counterparties, as_of=as_of, fx_rc=fx_rc, cband=cband, rows=rows)
    out.frame = frame
    out.timings["frame"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out.tables["liquidity_gap"] = liquidity_gap_table(
        ladder,
        buckets,
        fx_rc=fx_rc,
        reporting_currency=config.reporting_currency,
        demand_balances=_demand_balances(frame),
        demand_stable_share=settings.demand_stable_share,
    )
    out.warnings.append(BEHAVIOURAL_NOTE)
    out.timings["gap"] = time.perf_counter() - t0
    out.tables["liquidity_daily_ladder"] = daily_ladder(groups, daily)
    if out.assumptions:
        out.tables["liquidity_assumptions"] = assumptions_frame(out.assumptions)
    return out
