"""Maturity ladders and liquidity gaps (``liquidity_gap``, interfaces.md).

Built from the cash-flow ladder of the base scenario, for every bucket set of the run (G21, the
19 IRRBB buckets, the monthly grid, user sets):

* inflows: asset principal and interest (on-balance, and receive legs of derivatives), plus
  drawdowns of liability-side forward funding; outflows: liability principal and interest (and pay
  legs), plus drawdowns of asset-side commitments and forward loans; equity is not a flow;
* ``net_gap = inflow - outflow``; ``cumulative_gap`` is the running sum over the set's buckets in
  order (dated buckets, then ``overdue`` and ``undated``, as the G21 columns A-H, J, I; the last
  row's cumulative gap is the net position of the whole book);
* per currency (contract currency), ``FX`` (all foreign currencies converted to the reporting
  currency: G21/G22 column B) and ``ALL`` (everything in the reporting currency);
* two bases: ``contractual`` (the ladder as projected) and ``behavioural``.

The behavioural basis (until the behavioural models of the IRRBB issue replace it) re-slots
non-maturity deposits the way G21 memo rows 7 and 17 do: the stable part (the lowest balance of
the past 12 months, from ``liquidity.cn_ratios.demand_deposit_stable_balance``, else the
placeholder share ``demand_deposit_stable_share`` of today's balance -- the snapshot holds no
history) moves from "next day" to the first bucket after one year, and the rest is spread over the
first 360 days in proportion to each bucket's length.
Prepayment, early withdrawal and commitment drawdowns stay contractual on this basis until those
models exist; the manifest says so.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
import pyarrow as pa

from openalm.engine.buckets import BucketSets

__all__ = ["BEHAVIOURAL_NOTE", "liquidity_gap_table"]

BEHAVIOURAL_NOTE = (
    "behavioural liquidity gap: non-maturity deposits re-slotted with the G21 memo-row-7 rule "
    "(stable share placeholder); prepayment, early withdrawal and commitment drawdown are contractual "
    "until the behavioural models exist"
)

_GAP_SCHEMA = {
    "basis": pl.String,
    "bucket_set": pl.String,
    "currency": pl.String,
    "bucket": pl.String,
    "bucket_label_zh": pl.String,
    "bucket_label_en": pl.String,
    "bucket_start_day": pl.Int32,
    "bucket_end_day": pl.Int32,
    "inflow": pl.Float64,
    "outflow": pl.Float64,
    "net_gap": pl.Float64,
    "cumulative_gap": pl.Float64,
}


def _grid(buckets: BucketSets) -> pl.DataFrame:
    meta = buckets.all_buckets()
    return pl.DataFrame(
        {
            "bucket_set": [s.name for s, _ in meta],
            "bucket": [b.code for _, b in meta],
            "bucket_label_zh": [b.label_zh for _, b in meta],
            "bucket_label_en": [b.label_en for _, b in meta],
            "bucket_start_day": [b.start_day for _, b in meta],
            "bucket_end_day": [b.end_day for _, b in meta],
            "order": list(range(len(meta))),
        },
        schema_overrides={"bucket_start_day": pl.Int32, "bucket_end_day": pl.Int32, "order": pl.Int32},
    )


def _spread_weights(buckets: BucketSets, spread_days: int = 360) -> pl.DataFrame:
    """Per dated bucket: the share of the non-stable demand balance it receives (days
    ``1..spread_days`` spread by overlap length) and whether it receives the stable part (the
    bucket holding day ``spread_days + 6``, i.e. just after one year)."""
    rows: list[tuple[str, str, float, bool]] = []
    for s in buckets.sets:
        stable_seen = False
        for b in s.dated:
            lo = (b.start_day or 0) + 1
            hi = b.end_day if b.end_day is not None else 10**9
            overlap = max(0, min(hi, spread_days) - lo + 1)
            stable = not stable_seen and lo <= spread_days + 6 <= hi
            stable_seen = stable_seen or stable
            rows.append((s.name, b.code, overlap / spread_days, stable))
    return pl.DataFrame(
        rows,
        schema={"bucket_set": pl.String, "bucket": pl.String, "spread": pl.Float64, "stable": pl.Boolean},
        orient="row",
    )


def liquidity_gap_table(
    ladder: pa.Table,
    buckets: BucketSets,
    *,
    fx_rc: Mapping[str, float],
    reporting_currency: str,
    demand_balances: Mapping[str, float] | None = None,
    demand_stable: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """``liquidity_gap`` rows from the base-scenario ``cashflow_ladder``.

    ``demand_balances`` are the non-maturity deposit balances per currency that the contractual
    ladder holds in its first ("next day") bucket and ``demand_stable`` their stable parts; the
    behavioural basis moves them as described in the module docstring.
    """
    lad = pl.from_arrow(ladder)
    assert isinstance(lad, pl.DataFrame)
    lad = lad.filter((pl.col("scenario") == "base") & (pl.col("currency") != "ALL") & (pl.col("side") != "equity"))
    is_in = ((pl.col("side") == "asset") & (pl.col("flow_kind") != "drawdown")) | (
        (pl.col("side") == "liability") & (pl.col("flow_kind") == "drawdown")
    )
    # sorted input + maintain_order: polars sums each group in row order, so the figures are the
    # same bit for bit in every run (an unsorted parallel group_by may add in another order)
    flows = (
        lad.sort("bucket_set", "bucket", "currency", "side", "instrument_type", "flow_kind")
        .group_by("bucket_set", "bucket", "currency", maintain_order=True)
        .agg(
            pl.col("amount").filter(is_in).sum().alias("inflow"),
            pl.col("amount").filter(~is_in).sum().alias("outflow"),
        )
    )
    grid = _grid(buckets)
    currencies = sorted(set(flows["currency"].to_list()) | set((demand_balances or {}).keys()))
    full = grid.join(pl.DataFrame({"currency": currencies}, schema={"currency": pl.String}), how="cross")
    contractual = full.join(flows, on=["bucket_set", "bucket", "currency"], how="left").with_columns(
        pl.col("inflow").fill_null(0.0), pl.col("outflow").fill_null(0.0)
    )
    # behavioural: move demand balances out of each set's first dated bucket
    weights = _spread_weights(buckets)
    balances = dict(demand_balances or {})
    stable_of = dict(demand_stable or {})
    dem = pl.DataFrame(
        {
            "currency": list(balances),
            "demand": [balances[c] for c in balances],
            "stable_amount": [min(stable_of.get(c, 0.0), balances[c]) for c in balances],
        },
        schema={"currency": pl.String, "demand": pl.Float64, "stable_amount": pl.Float64},
    )
    first = (
        grid.filter(pl.col("bucket_start_day") == 0)
        .select("bucket_set", "bucket")
        .with_columns(pl.lit(True).alias("first"))
    )
    behavioural = (
        contractual.join(weights, on=["bucket_set", "bucket"], how="left")
        .join(first, on=["bucket_set", "bucket"], how="left")
        .join(dem, on="currency", how="left")
        .with_columns(
            pl.col("demand").fill_null(0.0),
            pl.col("stable_amount").fill_null(0.0),
            pl.col("spread").fill_null(0.0),
            pl.col("stable").fill_null(False),
        )
        .with_columns(
            (
                pl.col("outflow")
                - pl.when(pl.col("first").fill_null(False)).then(pl.col("demand")).otherwise(0.0)
                + (pl.col("demand") - pl.col("stable_amount")) * pl.col("spread")
                + pl.when(pl.col("stable")).then(pl.col("stable_amount")).otherwise(0.0)
            ).alias("outflow")
        )
        .drop("spread", "stable", "first", "demand", "stable_amount")
    )
    parts = []
    for basis, frame in (("contractual", contractual), ("behavioural", behavioural)):
        rate = pl.col("currency").replace_strict(
            {k: float(v) for k, v in fx_rc.items()}, default=float("nan"), return_dtype=pl.Float64
        )
        conv = frame.with_columns((pl.col("inflow") * rate).alias("in_rc"), (pl.col("outflow") * rate).alias("out_rc"))
        conv = conv.filter(pl.col("in_rc").is_not_nan() & pl.col("out_rc").is_not_nan())
        keys = [
            "bucket_set",
            "bucket",
            "bucket_label_zh",
            "bucket_label_en",
            "bucket_start_day",
            "bucket_end_day",
            "order",
        ]
        conv = conv.sort("order", "currency")
        total = conv.group_by(keys, maintain_order=True).agg(
            pl.col("in_rc").sum().alias("inflow"), pl.col("out_rc").sum().alias("outflow")
        )
        fx_part = (
            conv.filter(pl.col("currency") != reporting_currency)
            .group_by(keys, maintain_order=True)
            .agg(pl.col("in_rc").sum().alias("inflow"), pl.col("out_rc").sum().alias("outflow"))
        )
        cols = [*keys, "inflow", "outflow"]
        stacked = pl.concat(
            [
                frame.select("currency", *cols),
                fx_part.select(pl.lit("FX").alias("currency"), *cols),
                total.select(pl.lit("ALL").alias("currency"), *cols),
            ]
        )
        stacked = stacked.sort("currency", "order").with_columns(
            pl.lit(basis).alias("basis"), (pl.col("inflow") - pl.col("outflow")).alias("net_gap")
        )
        stacked = stacked.with_columns(
            pl.col("net_gap").cum_sum().over("currency", "bucket_set", order_by="order").alias("cumulative_gap")
        )
        parts.append(stacked)
    out = pl.concat(parts).sort("basis", "bucket_set", "currency", "order", descending=[True, False, False, False])
    return out.select([pl.col(c).cast(t) for c, t in _GAP_SCHEMA.items()])
