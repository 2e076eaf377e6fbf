"""The liquidity module of a run: engine outputs + rules -> the liquidity result tables.

:func:`prepare_liquidity` runs before the kernel (daily-ladder groups, liquidity bands);
:func:`run_liquidity` after it (frame, gaps, LCR, NSFR, ratios, stress tests, returns). The
standalone ``openalm run`` and the workspace run call the same two functions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from openalm.engine import kernel as K
from openalm.engine.buckets import BucketSets
from openalm.engine.contracts import ContractArrays
from openalm.engine.kernel import I_LGRP
from openalm.engine.run import KernelParams
from openalm.measures.liquidity.assumptions import Assumption, assumptions_frame
from openalm.measures.liquidity.build import LiquidityGroups, build_frame, daily_ladder, liquidity_groups
from openalm.measures.liquidity.frame import band_ends
from openalm.measures.liquidity.gap import BEHAVIOURAL_NOTE, liquidity_gap_table

#: Per-contract drill-down tables (a row per contract and line it feeds): written as Parquet only.
DRILL_DOWN_TABLES = ("lcr_detail", "nsfr_detail", "hqla_adequacy_detail", "liquidity_ratio_g22_detail")

__all__ = [
    "DRILL_DOWN_TABLES",
    "LiquidityResult",
    "apply_liquidity_groups",
    "liquidity_groups",
    "prepare_liquidity",
    "run_liquidity",
    "write_returns",
]


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
    values: dict[str, float | None] = field(default_factory=dict)


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
    lgrp = np.asarray(codes, np.int64)[arrays.row]
    # the daily ladder holds dated contracts' flows; non-maturity balances enter the stress tests
    # through their run-off rates, not through a contractual profile
    cat = arrays.ci[:, K.I_CAT]
    lgrp[(cat == K.CAT_NON_MATURITY) | (cat == K.CAT_UNDATED)] = -1
    arrays.ci[:, I_LGRP] = lgrp
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


def _lines(table: pl.DataFrame, rule_set: str) -> pl.DataFrame:
    """Interface column order first (``rule_set, component, category, amount, factor,
    weighted_amount``), then the rest."""
    first = ["rule_set", "currency", "component", "category", "line", "label_zh", "label_en"]
    lead = [c for c in first if c in table.columns]
    return table.select(*lead, *[c for c in table.columns if c not in lead])


def _timed(name: str, fn: Callable[[], Any]) -> tuple[str, Any, float]:
    t0 = time.perf_counter()
    value = fn()
    return name, value, time.perf_counter() - t0


def _measures(out: LiquidityResult, frame: pl.DataFrame, daily: pl.DataFrame, config: Any, as_of: dt.date) -> None:
    """LCR, NSFR, the Chinese ratios, concentration, limits and stress tests on the frame.

    The measures are independent functions of the frame: they run on a small thread pool (polars
    releases the GIL) and their results are assembled in a fixed order, so the tables, the
    per-contract columns and the order of the recorded assumptions do not depend on timing.
    """
    from openalm.measures.liquidity.cn_ratios import compute_cn_ratios
    from openalm.measures.liquidity.concentration import compute_concentration
    from openalm.measures.liquidity.g21 import g21_lines
    from openalm.measures.liquidity.hqla import classify_hqla
    from openalm.measures.liquidity.hqla_adequacy import compute_hqla_adequacy
    from openalm.measures.liquidity.indicators import compute_indicators
    from openalm.measures.liquidity.lcr import compute_lcr
    from openalm.measures.liquidity.limits import evaluate
    from openalm.measures.liquidity.nsfr import compute_nsfr
    from openalm.measures.liquidity.rules import load_rule_set
    from openalm.measures.liquidity.stress import run_stress_suite

    settings = config.liquidity
    rc = config.reporting_currency
    china = config.rule_set == "china"
    rules = load_rule_set(config.rule_set, settings.rule_overrides)
    out.warnings.extend(rules.overrides_applied())
    contract_parts: list[pl.DataFrame] = []
    values: dict[str, float | None] = {}

    t0 = time.perf_counter()
    hqla, hqla_assumptions = classify_hqla(frame, rules)
    out.assumptions.extend(hqla_assumptions)
    out.timings["hqla"] = time.perf_counter() - t0
    level = hqla["hqla_level"]
    jobs: list[tuple[str, Callable[[], Any]]] = [
        ("lcr", lambda: compute_lcr(frame, rules, reporting_currency=rc, hqla=hqla, settings=settings.lcr)),
        (
            "nsfr",
            lambda: compute_nsfr(
                frame, rules, reporting_currency=rc, hqla_level=level, settings=settings.nsfr, as_of=as_of
            ),
        ),
        ("stress", lambda: run_stress_suite(frame, daily, settings.stress, hqla_level=level, reporting_currency=rc)),
        ("indicators", lambda: compute_indicators(frame, rules, settings=settings.cn_ratios)),
        ("concentration", lambda: compute_concentration(frame, settings=settings.concentration)),
    ]
    if china:
        jobs += [
            ("hqla_adequacy", lambda: compute_hqla_adequacy(frame, rules, hqla=hqla, reporting_currency=rc)),
            ("cn_ratios", lambda: compute_cn_ratios(frame, rules, settings=settings.cn_ratios)),
            ("g21", lambda: g21_lines(frame, rules, hqla_level=level, as_of=as_of)),
        ]
    with ThreadPoolExecutor(max_workers=min(len(jobs), 3)) as pool:
        futures = [pool.submit(_timed, name, fn) for name, fn in jobs]
        results: dict[str, Any] = {}
        for fut in futures:
            name, value, seconds = fut.result()
            results[name] = value
            out.timings[name] = seconds
    ids = frame.select("row", "position_id")

    lcr = results["lcr"]
    out.assumptions.extend(lcr.assumptions)
    out.tables["lcr"] = _lines(lcr.lines, config.rule_set)
    out.tables["lcr_detail"] = lcr.detail.join(ids, on="row", how="left")
    contract_parts.append(lcr.contracts)
    values["lcr"] = lcr.ratio.get("ALL")

    nsfr = results["nsfr"]
    out.assumptions.extend(nsfr.assumptions)
    out.tables["nsfr"] = _lines(nsfr.lines, config.rule_set)
    out.tables["nsfr_detail"] = nsfr.detail.join(ids, on="row", how="left")
    contract_parts.append(nsfr.contracts)
    values["nsfr"] = nsfr.ratio.get("ALL")

    suite = results["stress"]
    out.tables.update(suite.tables)
    out.assumptions.extend(suite.assumptions)

    if china:
        g26 = results["hqla_adequacy"]
        out.assumptions.extend(g26.assumptions)
        out.tables["hqla_adequacy"] = g26.lines
        out.tables["hqla_adequacy_detail"] = g26.detail.join(ids, on="row", how="left")
        contract_parts.append(g26.contracts)
        values["hqla_adequacy"] = g26.ratio.get("ALL")

        cn = results["cn_ratios"]
        out.assumptions.extend(cn.assumptions)
        out.tables["liquidity_ratio_g22"] = cn.g22_lines
        out.tables["liquidity_matching_ratio"] = cn.lmr_lines
        out.tables["core_liabilities"] = cn.core_lines
        out.tables["liquidity_gap_horizons"] = cn.gap
        out.tables["cn_ratios"] = cn.ratios
        out.tables["liquidity_ratio_g22_detail"] = cn.g22_contracts
        contract_parts.append(cn.g22_contracts)
        contract_parts.append(
            cn.lmr_contracts.select("row", "lmr_item", pl.col("weighted_amount").alias("lmr_weighted_amount"))
        )
        values.update(cn.values)
    else:
        out.warnings.append(
            "rule set basel: the Chinese liquidity ratios (G22 liquidity ratio, LMR, core liability ratio, "
            "gap ratio, LDR, HQLA adequacy) and the G21 return are not computed"
        )
    ind = results["indicators"]
    out.assumptions.extend(ind.assumptions)
    out.tables["liquidity_indicators"] = ind.table
    values.update(ind.values)
    conc = results["concentration"]
    out.assumptions.extend(conc.assumptions)
    out.tables["g23_top_depositors"] = conc.g23
    out.tables["g23_detail"] = conc.g23_detail
    out.tables["g24_top_fi_funding"] = conc.g24
    out.tables["g24_detail"] = conc.g24_detail
    values.update(conc.values)

    limits_table = rules["limits"]
    known = {c for c in limits_table.rows if not c.startswith("param.")}
    unknown = sorted(k for k in values if k not in known)
    if unknown:
        out.warnings.append(f"indicators without a row in {config.rule_set}/limits (not in ratios): {unknown}")
    total_assets = (
        frame.filter((pl.col("side") == "asset") & pl.col("on_balance_sheet").fill_null(True))
        .select((pl.col("balance").fill_null(0.0) * pl.col("fx_rc")).sum())
        .item()
    )
    out.tables["ratios"] = evaluate(
        {k: v for k, v in values.items() if k in known},
        settings.limits,
        rule_set=config.rule_set,
        table=limits_table,
        total_assets_rc=float(total_assets or 0.0),
    )

    if china:
        g21_ladder, g21_contracts, g21_assumptions = results["g21"]
        out.assumptions.extend(g21_assumptions)
        out.tables["g21_lines"] = g21_ladder
        contract_parts.append(g21_contracts.select("row", "g21_line", "g21_hqla_line"))

    cols = frame.select("row")
    for part in contract_parts:
        cols = cols.join(_one_row_per_contract(part), on="row", how="left", maintain_order="left")
    out.contract_columns = cols
    out.values = values


def _one_row_per_contract(part: pl.DataFrame) -> pl.DataFrame:
    """A per-contract part for ``contract_results``: contracts feeding several lines keep the line
    of their largest amount and the sum of the amounts (the detail tables keep every line)."""
    part = part.drop([c for c in ("position_id", "currency") if c in part.columns])
    if part["row"].is_unique().all():
        return part
    amounts = [c for c, t in part.schema.items() if c != "row" and t.is_numeric()]
    others = [c for c in part.columns if c != "row" and c not in amounts]
    key = amounts[0] if amounts else None
    order = ["row", *([key] if key else []), *others]  # ties break the same way in every run
    ordered = part.sort(order, descending=[False, *([True] if key else []), *[False] * len(others)])
    return ordered.group_by("row", maintain_order=True).agg(
        *[pl.col(c).first() for c in others], *[pl.col(c).sum() for c in amounts]
    )


def _stable_demand(balances: Mapping[str, float], cn: Any) -> dict[str, float]:
    """Stable part of the non-maturity deposits per currency (G21 memo row 7): the configured
    12-month minimum balance (capped at today's balance), else the configured stable share."""
    out = {}
    for ccy, bal in balances.items():
        given = cn.demand_deposit_stable_balance.get(ccy)
        out[ccy] = min(float(given), bal) if given is not None else bal * cn.demand_deposit_stable_share
    return out


def _demand_balances(frame: pl.DataFrame) -> dict[str, float]:
    """Non-maturity deposit balances the contractual ladder holds in "next day", per currency."""
    nmd = frame.filter(
        (pl.col("side") == "liability")
        & pl.col("instrument_type").is_in(["deposit_demand", "interbank_deposit"])
        & pl.col("maturity_days").is_null()
        & (pl.col("principal_d1") > 0)
    )
    # rows in order, one group at a time: the same sum bit for bit in every run
    agg = nmd.sort("currency", "row").group_by("currency", maintain_order=True).agg(pl.col("principal_d1").sum())
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
        demand_stable=_stable_demand(_demand_balances(frame), settings.cn_ratios),
    )
    out.warnings.append(BEHAVIOURAL_NOTE)
    out.timings["gap"] = time.perf_counter() - t0
    daily_table = daily_ladder(groups, daily)
    out.tables["liquidity_daily_ladder"] = daily_table
    _measures(out, frame, daily_table, config, as_of)
    if out.assumptions:
        out.tables["liquidity_assumptions"] = assumptions_frame(out.assumptions)
    return out


def write_returns(
    out_dir: Path, tables: Mapping[str, pl.DataFrame | pa.Table], *, as_of: dt.date, lang: str
) -> dict[str, str]:
    """The liquidity regulatory returns (G21, G22, G23, G24, G25) as Excel workbooks and CSVs in
    ``out_dir`` from a run's result tables; returns ``{form or form:sheet: file name}``."""
    from openalm.reports.liquidity_returns import write_liquidity_returns

    def frame(name: str) -> pl.DataFrame | None:
        t = tables.get(name)
        if t is None:
            return None
        f = t if isinstance(t, pl.DataFrame) else pl.from_arrow(t)
        assert isinstance(f, pl.DataFrame)
        return f

    ratios = frame("ratios")
    inputs = {
        "g21_ladder": frame("g21_lines"),
        "ratios": ratios,
        "g22_lines": frame("liquidity_ratio_g22"),
        "g22_ratios": ratios,
        "lcr_lines": frame("lcr"),
        "nsfr_lines": frame("nsfr"),
        "top_depositors": frame("g23_top_depositors"),
        "top_fi_funding": frame("g24_top_fi_funding"),
    }
    written = write_liquidity_returns(out_dir, {k: v for k, v in inputs.items() if v is not None}, lang, as_of=as_of)
    return {k: Path(v).name for k, v in written.items()}
