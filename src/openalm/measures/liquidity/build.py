"""Build the per-contract liquidity frame and the daily-ladder groups from a run's inputs.

Two steps around the cash-flow kernel:

1. :func:`liquidity_groups` (before the kernel): every contract gets the code of its group of the
   daily liquidity ladder -- currency, side, instrument type, counterparty class, performing --
   so that the kernel can sum the flows of each group by day (the stress tests' input) without
   keeping contracts x days.
2. :func:`build_frame` (after the kernel): positions + counterparties + FX + the kernel's
   per-contract flows by liquidity band -> the frame of :mod:`.frame`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from openalm.measures.liquidity.frame import BANDS, FRAME_SCHEMA, band_columns, cp_class_expr

__all__ = [
    "CATEGORICAL_COLUMNS",
    "DAILY_GROUP_COLUMNS",
    "LiquidityGroups",
    "build_frame",
    "daily_ladder",
    "liquidity_groups",
]

DAILY_GROUP_COLUMNS = ("currency", "side", "instrument_type", "cp_class", "performing")

#: Low-cardinality code columns the frame holds as ``Categorical``: the measures compare them with
#: string literals, which on categorical columns compares small integer codes (about twice as fast
#: on a million rows); values, order of rows and results are those of the ``String`` columns.
CATEGORICAL_COLUMNS = (
    "instrument_type", "product_subtype", "side", "book", "accounting_classification", "counterparty_type",
    "fi_subtype", "enterprise_size", "cp_class", "listing_market", "encumbrance_type", "collateral_hqla_level",
    "repo_type", "asset_quality_class", "capital_tier", "seniority", "derivative_type", "call_type",
    "credit_support_type", "property_type", "behavioural_class",
)  # fmt: skip
_NON_PERFORMING = ("substandard", "doubtful", "loss")


def _positions_frame(positions: pa.Table | pl.DataFrame) -> pl.DataFrame:
    frame = positions if isinstance(positions, pl.DataFrame) else pl.from_arrow(positions)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _with_counterparty(pos: pl.DataFrame, counterparties: pa.Table | pl.DataFrame | None) -> pl.DataFrame:
    wanted = {
        "counterparty_type": pl.String,
        "fi_subtype": pl.String,
        "name": pl.String,
        "group_id": pl.String,
        "enterprise_size": pl.String,
        "is_intragroup": pl.Boolean,
        "external_rating": pl.String,
        "country_of_residence": pl.String,
        "has_established_relationship": pl.Boolean,
    }
    if counterparties is None:
        cp = pl.DataFrame(schema={"counterparty_id": pl.String, **wanted})
    else:
        raw = _positions_frame(counterparties)
        cp = raw.select(
            pl.col("counterparty_id").cast(pl.String),
            *[(pl.col(c).cast(t) if c in raw.columns else pl.lit(None, dtype=t)).alias(c) for c, t in wanted.items()],
        ).unique(subset="counterparty_id", keep="first", maintain_order=True)
    cp = cp.rename({c: f"cp__{c}" for c in wanted})
    return pos.join(cp, on="counterparty_id", how="left", maintain_order="left")


def _performing(frame: pl.DataFrame) -> pl.Expr:
    def col(name: str, dtype: type[pl.DataType] | pl.DataType) -> pl.Expr:
        return pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype)

    return (
        ~col("asset_quality_class", pl.String).is_in(_NON_PERFORMING).fill_null(False)
        & ~col("is_defaulted", pl.Boolean).fill_null(False)
        & (col("days_past_due", pl.Int64).fill_null(0) <= 90)
    )


class LiquidityGroups:
    """Daily-ladder group of every positions row and the attributes of each group."""

    def __init__(self, codes: npt.NDArray[np.int64], groups: pl.DataFrame) -> None:
        self.codes = codes  # per positions row, -1 = not in the daily ladder
        self.groups = groups  # one row per group code 0..n-1: DAILY_GROUP_COLUMNS

    @property
    def n(self) -> int:
        return self.groups.height


def liquidity_groups(
    positions: pa.Table | pl.DataFrame, counterparties: pa.Table | pl.DataFrame | None
) -> LiquidityGroups:
    """Group code of every positions row for the daily liquidity ladder (dense, in sorted order of
    the group attributes, so the same book always gets the same codes)."""
    pos = _positions_frame(positions)
    needed = [
        "counterparty_id",
        "currency",
        "side",
        "instrument_type",
        "asset_quality_class",
        "is_defaulted",
        "days_past_due",
    ]
    keyed = _with_counterparty(pos.select([c for c in needed if c in pos.columns]), counterparties)
    attrs = keyed.select(
        pl.col("currency").cast(pl.String),
        pl.col("side").cast(pl.String),
        pl.col("instrument_type").cast(pl.String),
        cp_class_expr("cp__counterparty_type").alias("cp_class"),
        _performing(keyed).alias("performing"),
    )
    groups = attrs.unique().sort(list(DAILY_GROUP_COLUMNS))
    coded = attrs.join(
        groups.with_row_index("code"), on=list(DAILY_GROUP_COLUMNS), how="left", maintain_order="left", nulls_equal=True
    )
    return LiquidityGroups(coded["code"].cast(pl.Int64).to_numpy(), groups)


def daily_ladder(groups: LiquidityGroups, daily: npt.NDArray[np.float64] | None) -> pl.DataFrame:
    """The kernel's daily accumulator ``[group, day, kind]`` as a long table (non-zero rows):
    DAILY_GROUP_COLUMNS, ``day``, ``principal``, ``interest``, ``drawdown``."""
    schema: dict[str, Any] = {
        **{c: groups.groups.schema[c] for c in DAILY_GROUP_COLUMNS},
        "day": pl.Int32,
        "principal": pl.Float64,
        "interest": pl.Float64,
        "drawdown": pl.Float64,
    }
    if daily is None or daily.size == 0:
        return pl.DataFrame(schema=schema)
    g, d = np.nonzero(daily.sum(axis=2))
    out = groups.groups[g].with_columns(
        pl.Series("day", d, pl.Int32),
        pl.Series("principal", daily[g, d, 0]),
        pl.Series("interest", daily[g, d, 1]),
        pl.Series("drawdown", daily[g, d, 2]),
    )
    return out.select(list(schema))


def _days(col: str, base: dt.date, frame: pl.DataFrame) -> pl.Expr:
    if col not in frame.columns:
        return pl.lit(None, dtype=pl.Int32)
    return (pl.col(col).cast(pl.Date) - pl.lit(base)).dt.total_days().cast(pl.Int32)


def build_frame(
    positions: pa.Table | pl.DataFrame,
    counterparties: pa.Table | pl.DataFrame | None,
    *,
    as_of: dt.date,
    fx_rc: Mapping[str, float],
    cband: npt.NDArray[np.float64] | None,
    rows: npt.NDArray[np.int64] | None = None,
) -> pl.DataFrame:
    """The liquidity frame (``FRAME_SCHEMA``, positions order).

    Parameters
    ----------
    positions, counterparties
        The snapshot's tables (every contract column present, absent optional ones all-null).
    fx_rc
        Rate from each currency to the reporting currency (missing -> NaN).
    cband
        The kernel's ``[contract, band, kind]`` flows (kind 0 principal, 1 interest) in kernel row
        order; ``rows[k]`` is the positions row of kernel row ``k`` (default identity).
    """
    pos = _positions_frame(positions)
    n = pos.height
    df = _with_counterparty(pos, counterparties)

    def col(name: str, dtype: type[pl.DataType] | pl.DataType) -> pl.Expr:
        return (pl.col(name).cast(dtype) if name in df.columns else pl.lit(None, dtype=dtype)).alias(name)

    same = [
        c
        for c, t in FRAME_SCHEMA.items()
        if c in df.columns
        and c
        not in (
            "row",
            "fx_rc",
            "market_value",
            "balance",
            "counterparty_type",
            "cp_class",
            "undated",
            "performing",
            "has_established_relationship",
            "notice_period_days",
            "days_past_due",
        )
        and not c.endswith("_days")
        and not c.startswith(("principal_", "interest_"))
    ]
    fx = (
        pl.col("currency")
        .cast(pl.String)
        .replace_strict({k: float(v) for k, v in fx_rc.items()}, default=float("nan"), return_dtype=pl.Float64)
    )
    out = df.select(
        pl.int_range(0, n, dtype=pl.UInt32).alias("row"),
        *[col(c, FRAME_SCHEMA[c]) for c in same],
        pl.col("principal_balance").cast(pl.Float64).alias("balance"),
        pl.col("cp__counterparty_type").alias("counterparty_type"),
        pl.col("cp__fi_subtype").alias("fi_subtype"),
        pl.col("cp__name").alias("counterparty_name"),
        pl.col("cp__group_id").alias("group_id"),
        pl.col("cp__enterprise_size").alias("enterprise_size"),
        pl.col("cp__is_intragroup").alias("is_intragroup"),
        pl.col("cp__external_rating").alias("external_rating"),
        pl.col("cp__country_of_residence").alias("country_of_residence"),
        cp_class_expr("cp__counterparty_type").alias("cp_class"),
        pl.coalesce(col("has_established_relationship", pl.Boolean), pl.col("cp__has_established_relationship")).alias(
            "has_established_relationship"
        ),
        fx.alias("fx_rc"),
        pl.coalesce(
            col("fair_value", pl.Float64).abs(),
            col("carrying_amount", pl.Float64),
            pl.col("principal_balance").cast(pl.Float64),
        ).alias("market_value"),
        _days("maturity_date", as_of, df).alias("maturity_days"),
        _days("origination_date", as_of, df).alias("origination_days"),
        _days("next_call_date", as_of, df).alias("next_call_days"),
        _days("next_withdrawal_date", as_of, df).alias("next_withdrawal_days"),
        _days("encumbrance_end_date", as_of, df).alias("encumbrance_end_days"),
        col("notice_period_days", pl.Int32),
        col("days_past_due", pl.Int32),
        _performing(df).alias("performing"),
    )
    names_p = band_columns("principal")
    names_i = band_columns("interest")
    nb = len(BANDS)
    flows = np.zeros((n, nb, 2), np.float64)
    if cband is not None and cband.size:
        idx = np.arange(cband.shape[0]) if rows is None else np.asarray(rows, np.int64)
        flows[idx] = cband[:, :nb, :2]
    band_cols = [pl.Series(names_p[b], flows[:, b, 0]) for b in range(nb)] + [
        pl.Series(names_i[b], flows[:, b, 1]) for b in range(nb)
    ]
    out = out.with_columns(band_cols)
    out = out.with_columns(pl.col("maturity_days").is_null().alias("undated"))
    missing = [c for c in FRAME_SCHEMA if c not in out.columns]
    out = out.with_columns([pl.lit(None, dtype=FRAME_SCHEMA[c]).alias(c) for c in missing])
    return out.select(
        [pl.col(c).cast(pl.Categorical if c in CATEGORICAL_COLUMNS else t) for c, t in FRAME_SCHEMA.items()]
    ).rechunk()


def fx_rates_to_rc(currencies: Sequence[str], rates: npt.NDArray[np.float64]) -> dict[str, float]:
    """``{currency: rate}`` from the run's currency list and the rate array of the same order."""
    return {c: float(r) for c, r in zip(currencies, rates, strict=True)}
