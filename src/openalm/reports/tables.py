"""Result tables of a run (interfaces.md "Result tables") built from the engine's accumulators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from openalm.conventions import NO_DATE, to_day
from openalm.engine.buckets import BucketSets
from openalm.engine.codes import INSTRUMENT_TYPES, RATE_TYPES, SIDES
from openalm.engine.contracts import DURATION_BUMP, FIXED_SCENARIOS, ContractArrays, MarketContext
from openalm.engine.kernel import CAT_DATED, CAT_NON_MATURITY, I_CAT, I_INIT_END, I_MAT, I_NEXT_RESET, I_RT
from openalm.engine.run import EngineResult
from openalm.errors import MarketDataError

__all__ = ["FLOW_KINDS", "cashflow_ladder_table", "contract_results_table", "fx_to_rc", "next_repricing_days"]

FLOW_KINDS = ("principal", "interest", "drawdown")


def fx_to_rc(ctx: MarketContext, warnings: list[str]) -> npt.NDArray[np.float64]:
    """Rate to the reporting currency per currency of the run (NaN when it cannot be found)."""
    out = np.full(len(ctx.currencies), np.nan)
    for k, ccy in enumerate(ctx.currencies):
        if ccy == ctx.reporting_currency:
            out[k] = 1.0
            continue
        if ctx.fx is None:
            warnings.append(f"no fx_rates table: {ccy} amounts are left out of the reporting-currency totals")
            continue
        try:
            out[k] = ctx.fx.rate(ccy, ctx.reporting_currency)
        except MarketDataError as err:
            warnings.append(f"{err}; {ccy} amounts are left out of the reporting-currency totals")
    return out


def cashflow_ladder_table(
    result: EngineResult,
    buckets: BucketSets,
    ctx: MarketContext,
    ladder_scenarios: Sequence[str],
    warnings: list[str],
) -> pa.Table:
    """``cashflow_ladder``: one row per bucket set, bucket, currency, side, instrument type, flow kind
    and scenario with a non-zero amount, plus ``currency = ALL`` rows in the reporting currency."""
    lad = result.ladder[: len(ladder_scenarios)]
    slot, grp, bkt, kind = np.nonzero(lad)
    amount = lad[slot, grp, bkt, kind]
    n_types = len(INSTRUMENT_TYPES)
    n_sides = len(SIDES)
    itype = grp % n_types
    side = (grp // n_types) % n_sides
    ccy = grp // (n_types * n_sides)
    meta = buckets.all_buckets()
    set_name = np.array([s.name for s, _ in meta], dtype=object)
    code = np.array([b.code for _, b in meta], dtype=object)
    zh = np.array([b.label_zh for _, b in meta], dtype=object)
    en = np.array([b.label_en for _, b in meta], dtype=object)
    start = pa.array([b.start_day for _, b in meta], pa.int32())
    end = pa.array([b.end_day for _, b in meta], pa.int32())
    order = np.lexsort((kind, itype, side, ccy, bkt, slot))
    slot, grp, bkt, kind, amount, itype, side, ccy = (
        a[order] for a in (slot, grp, bkt, kind, amount, itype, side, ccy)
    )
    bkt_idx = pa.array(bkt)
    cur = np.array(ctx.currencies, dtype=object)[ccy]
    base = {
        "bucket_set": pa.array(set_name[bkt], pa.string()),
        "bucket": pa.array(code[bkt], pa.string()),
        "bucket_label_zh": pa.array(zh[bkt], pa.string()),
        "bucket_label_en": pa.array(en[bkt], pa.string()),
        "bucket_start_day": pc.take(start, bkt_idx),
        "bucket_end_day": pc.take(end, bkt_idx),
        "side": pa.array(np.array(SIDES, dtype=object)[side], pa.string()),
        "instrument_type": pa.array(np.array(INSTRUMENT_TYPES, dtype=object)[itype], pa.string()),
        "flow_kind": pa.array(np.array(FLOW_KINDS, dtype=object)[kind], pa.string()),
        "scenario": pa.array(np.array(list(ladder_scenarios), dtype=object)[slot], pa.string()),
    }
    per_ccy = pa.table({**base, "currency": pa.array(cur, pa.string()), "amount": pa.array(amount)})
    fx = fx_to_rc(ctx, warnings)
    rc_amount = amount * fx[ccy]
    keep = ~np.isnan(rc_amount)
    totals = pa.table({k: v.filter(pa.array(keep)) for k, v in base.items()} | {"amount": pa.array(rc_amount[keep])})
    keys = [k for k in base]
    totals = totals.group_by(keys, use_threads=False).aggregate([("amount", "sum")]).rename_columns([*keys, "amount"])
    totals = totals.append_column("currency", pa.array(["ALL"] * totals.num_rows, pa.string()))
    columns = [
        "bucket_set", "bucket", "bucket_label_zh", "bucket_label_en", "bucket_start_day", "bucket_end_day",
        "currency", "side", "instrument_type", "flow_kind", "scenario", "amount",
    ]  # fmt: skip
    out = pa.concat_tables([per_ccy.select(columns), totals.select(columns)])
    sort_keys = [("scenario", "ascending"), ("bucket_set", "ascending"), ("currency", "ascending"),
                 ("side", "ascending"), ("instrument_type", "ascending"), ("flow_kind", "ascending")]  # fmt: skip
    # stable order: by bucket position within its set (the table's natural order), then keys
    pos = {(s.name, b.code): k for k, (s, b) in enumerate(meta)}
    rank = pa.array(
        [
            pos[(s, b)]
            for s, b in zip(out.column("bucket_set").to_pylist(), out.column("bucket").to_pylist(), strict=True)
        ]
    )
    out = out.append_column("_rank", rank)
    out = out.sort_by([sort_keys[0], sort_keys[1], ("_rank", "ascending"), *sort_keys[2:]])
    return out.drop_columns(["_rank"])


def next_repricing_days(arrays: ContractArrays, as_of: dt.date) -> npt.NDArray[np.int64]:
    """Next repricing date per contract (day numbers, NO_DATE when it does not reprice).

    Fixed dated rows reprice at maturity; floating and hybrid at the next reset (hybrid: the end of
    the initial period when it is later), capped at maturity; administered and interest-bearing
    non-maturity rows the next day (G33: repricing date undeterminable -> next business day);
    non-interest-bearing and undated rows never.
    """
    a = to_day(as_of)
    ci = arrays.ci
    cat = ci[:, I_CAT]
    rt = ci[:, I_RT]
    mat = ci[:, I_MAT]
    reset = ci[:, I_NEXT_RESET]
    init_end = ci[:, I_INIT_END]
    out = np.full(arrays.n, NO_DATE, np.int64)
    dated = cat == CAT_DATED
    fixed = dated & (rt == RATE_TYPES.index("fixed"))
    out[fixed] = mat[fixed]
    floating = dated & ((rt == RATE_TYPES.index("floating")) | (rt == RATE_TYPES.index("hybrid")))
    nxt = np.where(reset != NO_DATE, reset, mat)
    hybrid_first = (rt == RATE_TYPES.index("hybrid")) & (init_end != NO_DATE) & (init_end > a)
    nxt = np.where(hybrid_first, init_end, nxt)
    out[floating] = np.minimum(nxt[floating], mat[floating])
    administered = (dated & (rt == RATE_TYPES.index("administered"))) | (
        (cat == CAT_NON_MATURITY) & (rt != RATE_TYPES.index("non_interest_bearing"))
    )
    out[administered] = a + 1
    out[(out != NO_DATE) & (out <= a)] = a + 1  # past-due maturities reprice at once
    return out


def contract_results_table(
    positions: pa.Table,
    arrays: ContractArrays,
    result: EngineResult,
    ctx: MarketContext,
    warnings: list[str],
) -> pa.Table:
    """``contract_results``: one row per position with PV, effective duration, next repricing date
    and the PV under every scenario of the run (``pv_<scenario>``)."""
    pv = result.pv
    base = pv[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        dur = (pv[:, 1] - pv[:, 2]) / (2.0 * DURATION_BUMP * base)
    dur = np.where(np.isfinite(dur) & (base != 0.0), dur, np.nan)
    fx = fx_to_rc(ctx, [])
    ccy_idx = arrays.ci[:, 3]
    nr = next_repricing_days(arrays, ctx.as_of)

    def nullable(x: npt.NDArray[np.float64]) -> pa.Array:
        return pa.array(x, pa.float64(), mask=np.isnan(x))

    nr_arr = pa.array(nr.astype(np.int32), pa.int32(), mask=nr == NO_DATE).cast(pa.date32())
    cols: dict[str, pa.Array | pa.ChunkedArray] = {
        "position_id": positions.column("position_id"),
        "currency": positions.column("currency"),
        "side": positions.column("side"),
        "instrument_type": positions.column("instrument_type"),
        "principal_balance": positions.column("principal_balance"),
        "principal_balance_rc": nullable(
            np.asarray(pc.cast(positions.column("principal_balance"), pa.float64()).to_numpy(zero_copy_only=False))
            * fx[ccy_idx]
        ),
        "pv": nullable(base),
        "pv_rc": nullable(base * fx[ccy_idx]),
        "effective_duration": nullable(dur),
        "next_repricing_date": nr_arr,
    }
    for k, name in enumerate(ctx.scenarios):
        if name in FIXED_SCENARIOS:
            continue
        cols[f"pv_{name}"] = nullable(pv[:, k])
    return pa.table(cols)
