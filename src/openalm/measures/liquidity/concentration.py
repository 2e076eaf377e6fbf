"""Funding concentration: the G23 top-10 depositors and the G24 top financial-institution funders.

* G23 最大十家存款客户情况表 (regulatory.md 4.6): depositors ranked by deposit balance, a group
  client (``group_id``) counted as one, else the ``counterparty_id``; deposit balance, of which
  term deposits, share of total deposits; all currencies converted to the reporting currency.
* G24 最大百家金融机构同业融入情况表: domestic financial institutions ranked by funding net of
  settlement deposits: interbank borrowing (``interbank_lending`` liabilities), interbank deposits
  (``interbank_deposit`` liabilities), repo, total, settlement deposits (interbank deposits with
  ``product_subtype = settlement`` or ``is_operational``), total less settlement deposits, share
  of total liabilities and, as a memo, issued NCDs they hold (only where the issued NCD row carries
  the holder as ``counterparty_id``).

Both views come with a per-contract drill-down (``*_detail``: which rows make up each ranked
counterparty) whose amounts sum to the ranked figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import polars as pl
from pydantic import BaseModel, Field

from openalm.measures.liquidity.assumptions import Assumption
from openalm.measures.liquidity.cn_ratios import _record
from openalm.measures.liquidity.frame import ordered_group_by

__all__ = ["ConcentrationResult", "ConcentrationSettings", "compute_concentration"]

MEASURE = "concentration"
_DEPOSITS = ["deposit_demand", "deposit_term", "deposit_notice"]
_FI = ["bank", "other_financial"]


class ConcentrationSettings(BaseModel, extra="forbid"):
    """Settings of the concentration views (``liquidity.concentration``).

    Attributes
    ----------
    top_depositors:
        Depositors in the G23 view (the form has 10).
    top_fi:
        Financial institutions in the G24 view (the form has 100).
    domestic_country:
        ``country_of_residence`` of a domestic institution (G24 covers domestic FIs only).
    """

    top_depositors: Annotated[int, Field(ge=1)] = 10
    top_fi: Annotated[int, Field(ge=1)] = 100
    domestic_country: str = "CN"


@dataclass(frozen=True)
class ConcentrationResult:
    """The G23 / G24 views, their drill-downs, the share indicators and the assumptions."""

    g23: pl.DataFrame
    g23_detail: pl.DataFrame
    g24: pl.DataFrame
    g24_detail: pl.DataFrame
    values: dict[str, float | None]
    assumptions: list[Assumption] = field(default_factory=list)


_LIAB = (pl.col("side") == "liability") & pl.col("on_balance_sheet").fill_null(True)
_FX_OK = pl.col("fx_rc").is_not_null() & pl.col("fx_rc").is_not_nan()
_RC = pl.col("balance").fill_null(0.0) * pl.col("fx_rc")


def _g23(
    frame: pl.DataFrame, settings: ConcentrationSettings, out: list[Assumption]
) -> tuple[pl.DataFrame, pl.DataFrame, float | None]:
    deposits = _LIAB & pl.col("instrument_type").is_in(_DEPOSITS)
    _record(
        frame,
        deposits & ~_FX_OK,
        measure=MEASURE,
        code="concentration.deposit_without_fx_rate",
        message="deposits without an FX rate to the reporting currency",
        assumption="left out of the G23 totals and ranking",
        out=out,
    )
    _record(
        frame,
        deposits & _FX_OK & pl.col("counterparty_id").is_null() & pl.col("group_id").is_null(),
        measure=MEASURE,
        code="concentration.deposit_without_counterparty",
        message="deposits without counterparty_id or group_id: the depositor cannot be ranked",
        assumption="counted in total deposits, not in the ranking",
        out=out,
    )
    dep = (
        frame.lazy()
        .filter(deposits & _FX_OK)
        .select(
            "row",
            "position_id",
            "counterparty_id",
            "counterparty_name",
            "group_id",
            pl.coalesce("group_id", "counterparty_id").alias("code"),
            _RC.alias("amount_rc"),
            (pl.col("instrument_type") == "deposit_term").alias("term"),
        )
        .collect()
    )
    total = float(dep["amount_rc"].sum())
    ranked = (
        ordered_group_by(dep.filter(pl.col("code").is_not_null()), "code")
        .agg(
            pl.col("group_id").is_not_null().any().alias("is_group"),
            pl.col("counterparty_name").sort_by("amount_rc", descending=True).first().alias("name"),
            pl.col("counterparty_id").n_unique().alias("members"),
            pl.col("amount_rc").sum().alias("deposits_rc"),
            pl.col("amount_rc").filter(pl.col("term")).sum().alias("term_deposits_rc"),
        )
        .sort(["deposits_rc", "code"], descending=[True, False])
        .head(settings.top_depositors)
        .with_row_index("rank", offset=1)
        .with_columns(
            (pl.col("deposits_rc") / total if total else pl.lit(None, dtype=pl.Float64)).alias("share"),
        )
    )
    g23 = ranked.select("rank", "code", "name", "is_group", "members", "deposits_rc", "term_deposits_rc", "share")
    detail = (
        ranked.select("rank", "code")
        .join(dep, on="code")
        .select("rank", "code", "row", "position_id", "counterparty_id", "amount_rc", "term")
        .sort(["rank", "row"])
    )
    top_share = float(g23["deposits_rc"].sum()) / total if total else None
    return g23, detail, top_share


def _g24(
    frame: pl.DataFrame, settings: ConcentrationSettings, out: list[Assumption]
) -> tuple[pl.DataFrame, pl.DataFrame, float | None]:
    it = pl.col("instrument_type")
    fi = pl.col("cp_class").is_in(_FI).fill_null(False)
    domestic = pl.col("country_of_residence").is_null() | (pl.col("country_of_residence") == settings.domestic_country)
    funding = _LIAB & it.is_in(["interbank_lending", "interbank_deposit", "repo"])
    ncd = _LIAB & (it == "debt_security") & (pl.col("product_subtype") == "ncd").fill_null(False)
    _record(
        frame,
        (funding | ncd) & fi & pl.col("country_of_residence").is_null(),
        measure=MEASURE,
        code="concentration.fi_without_country",
        message="financial-institution funding without country_of_residence",
        assumption=f"treated as domestic ({settings.domestic_country}) and ranked in G24",
        out=out,
    )
    _record(
        frame,
        funding & pl.col("counterparty_id").is_null(),
        measure=MEASURE,
        code="concentration.fi_funding_without_counterparty",
        message="interbank funding without counterparty_id",
        assumption="not ranked in G24 (still in total liabilities)",
        out=out,
    )
    settlement = (it == "interbank_deposit") & (
        (pl.col("product_subtype") == "settlement").fill_null(False) | pl.col("is_operational").fill_null(False)
    )
    component = (
        pl.when(it == "interbank_lending")
        .then(pl.lit("interbank_borrowing"))
        .when(settlement)
        .then(pl.lit("settlement_deposits"))
        .when(it == "interbank_deposit")
        .then(pl.lit("interbank_deposits"))
        .when(it == "repo")
        .then(pl.lit("repo"))
        .otherwise(pl.lit("ncd_issued_held"))
    )
    rows = (
        frame.lazy()
        .filter((funding | ncd) & fi & domestic & _FX_OK & pl.col("counterparty_id").is_not_null())
        .select(
            "row",
            "position_id",
            "counterparty_id",
            "counterparty_name",
            component.alias("component"),
            _RC.alias("amount_rc"),
        )
        .collect()
    )
    liabilities = float(frame.select(_RC.filter(_LIAB & _FX_OK).sum()).item() or 0.0)
    comp = pl.col("component")
    amt = pl.col("amount_rc")
    ranked = (
        ordered_group_by(rows, "counterparty_id")
        .agg(
            pl.col("counterparty_name").first().alias("name"),
            amt.filter(comp == "interbank_borrowing").sum().alias("interbank_borrowing"),
            amt.filter(comp.is_in(["interbank_deposits", "settlement_deposits"])).sum().alias("interbank_deposits"),
            amt.filter(comp == "repo").sum().alias("repo"),
            amt.filter(comp == "settlement_deposits").sum().alias("settlement_deposits"),
            amt.filter(comp == "ncd_issued_held").sum().alias("ncd_issued_held"),
        )
        .with_columns((pl.col("interbank_borrowing") + pl.col("interbank_deposits") + pl.col("repo")).alias("total"))
        .with_columns((pl.col("total") - pl.col("settlement_deposits")).alias("total_net"))
        .filter(pl.col("total") > 0)
        .sort(["total_net", "counterparty_id"], descending=[True, False])
        .head(settings.top_fi)
        .with_row_index("rank", offset=1)
        .with_columns(
            (pl.col("total") / liabilities if liabilities else pl.lit(None, dtype=pl.Float64)).alias(
                "share_of_liabilities"
            )
        )
    )
    g24 = ranked.select(
        "rank",
        "counterparty_id",
        "name",
        "interbank_borrowing",
        "interbank_deposits",
        "repo",
        "total",
        "settlement_deposits",
        "total_net",
        "share_of_liabilities",
        "ncd_issued_held",
    )
    detail = (
        ranked.select("rank", "counterparty_id")
        .join(rows, on="counterparty_id")
        .select("rank", "counterparty_id", "row", "position_id", "component", "amount_rc")
        .sort(["rank", "row"])
    )
    share = float(g24["total"].sum()) / liabilities if liabilities else None
    return g24, detail, share


def compute_concentration(frame: pl.DataFrame, *, settings: ConcentrationSettings | None = None) -> ConcentrationResult:
    """G23 top depositors and G24 top FI funders of a liquidity frame.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame (on-balance liabilities are used).
    settings:
        :class:`ConcentrationSettings` (view sizes, domestic country).

    Returns
    -------
    ConcentrationResult
        ``g23`` (``rank, code, name, is_group, members, deposits_rc, term_deposits_rc, share``),
        ``g24`` (``rank, counterparty_id, name, interbank_borrowing, interbank_deposits, repo,
        total, settlement_deposits, total_net, share_of_liabilities, ncd_issued_held``), their
        per-contract ``*_detail`` frames, and ``values``: ``top10_depositor_share`` (top-N deposits
        / total deposits) and ``top_fi_funding_share`` (top-N FI funding / total liabilities).
    """
    settings = settings or ConcentrationSettings()
    out: list[Assumption] = []
    g23, g23_detail, top10 = _g23(frame, settings, out)
    g24, g24_detail, fi_share = _g24(frame, settings, out)
    return ConcentrationResult(
        g23=g23,
        g23_detail=g23_detail,
        g24=g24,
        g24_detail=g24_detail,
        values={"top10_depositor_share": top10, "top_fi_funding_share": fi_share},
        assumptions=out,
    )
