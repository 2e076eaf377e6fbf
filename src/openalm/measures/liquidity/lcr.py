"""Liquidity coverage ratio (LCR, 流动性覆盖率) under the China (G25_I) and Basel (BCBS 238) rules.

``LCR = HQLA / (outflows - min(inflows, 75% x outflows))`` over the next 30 calendar days
(regulatory.md §1, §4.3), per currency and for all currencies together (``currency = "ALL"``, in
the reporting currency).

Every contract feeds one or more *detail* rows ``(component, category, amount)``; the factor of the
category comes from the rule tables ``hqla``, ``lcr_outflows`` and ``lcr_inflows`` of the rule set
(nothing is hard-coded here). The classification:

Outflows (liabilities and off-balance items)
    * Deposits and unsecured funding (``deposit_demand``, ``deposit_notice``, ``deposit_term``,
      ``interbank_deposit``, ``interbank_lending`` on the liability side). Amount: the whole balance
      for demand and notice deposits, for undated rows and for term deposits the depositor can
      withdraw within 30 days without a penalty (``early_withdrawal_allowed`` with an
      ``early_withdrawal_rate`` not below ``current_rate`` or unknown, or a
      ``next_withdrawal_date`` within 30 days; ``LcrSettings.early_withdrawal = "all"`` counts
      every breakable deposit whole); otherwise the principal due within 30 days (bands d1 + d7 +
      d30). A Chinese term deposit broken early earns the demand rate -- a penalty -- so it counts
      by its residual maturity. The amount is
      split by the insured share and, for wholesale, by the operational share:

      - retail / small business: insured part -> ``*_stable`` when the account is transactional or
        has an established relationship (``*_stable_criteria`` when
        ``settings.deposit_insurance_meets_criteria``), else ``*_less_stable_insured``; the rest ->
        ``*_less_stable_uninsured``;
      - corporates (``corp_*``) and sovereigns / central banks / PSEs / MDBs (``sov_*``):
        operational part (``is_operational``, less ``operational_excess_amount``) insured ->
        ``*_operational_insured``, uninsured -> ``*_operational_uninsured``; the non-operational
        part -> ``*_nonop_insured`` only if fully insured, else ``*_nonop_uninsured``;
      - banks / other FIs: operational -> ``bank_operational`` / ``ofi_operational``, else
        ``fi_nonop`` (interbank deposits are not insured);
      - other legal entities and unknown counterparty types -> ``unsecured_other`` (unknown:
        assumption recorded).

      ``insured_amount`` null: the per-depositor cap (``settings.deposit_insurance_cap``) is spread
      pro rata over the depositor's deposits (grouped by ``counterparty_id``) after the insured
      amounts stated explicitly; rows without ``counterparty_id`` are uninsured (assumption).
      Only retail, small-business, corporate and sovereign depositors are insured.
    * Issued debt due within 30 days: ``ncd`` -> ``unsecured_other``, ``covered_bond`` / ``abs`` ->
      ``structured_funding``, other issues -> ``own_debt``.
    * Secured funding due within 30 days (``repo``, ``central_bank_borrowing``): central bank ->
      ``secured_cb``; by ``collateral_hqla_level``: ``secured_l1``, ``secured_l2a``; sovereign
      counterparty with other collateral -> ``secured_sov_pse``; ``secured_l2b``; else
      ``secured_other`` (missing collateral level: assumption, ``secured_other``).
    * Interest due within 30 days on every on-balance liability and ``other_liability`` principal
      due within 30 days -> ``other_contractual`` (China: rows 2.1.1-2.1.4 carry principal only);
      a contract feeds the line once (its principal and interest in one detail row).
    * Undrawn commitments (``loan_commitment`` given, and the undrawn part of ``revolving_credit``):
      ``unconditionally_cancellable`` -> ``revocable_facility``; else ``commit_<class>_credit`` /
      ``commit_<class>_liquidity`` (``liquidity_facility`` subtype = liquidity; ``credit_facility``,
      ``overdraft_line``, ``card_line`` and revolving credit = credit; other subtypes: liquidity,
      assumption). Cancellability unknown: committed (assumption).
    * ``guarantee`` -> ``guarantees``, ``letter_of_credit`` -> ``letters_of_credit``, ``acceptance``
      -> ``trade_finance``, on the whole balance (margin deposits are not netted).
    * Derivatives: flows of ``derivative_leg`` rows due within 30 days (principal + interest),
      netted per counterparty (``counterparty_id``, else ``deal_id``) and currency: a net payment
      -> ``derivatives_net_outflow``, a net receipt -> ``derivatives_net_inflow``.

Inflows (performing on-balance assets not in the HQLA stock; principal + interest due within 30 days)
    reverse repo by collateral level (China: ``repo_type = pledged`` -> ``reverse_repo_pledged``;
    missing collateral level: Level 1, 0%, assumption); operational placements at FIs
    (``interbank_deposit`` with subtype ``nostro`` / ``settlement`` or ``is_operational``) ->
    ``inflow_fi_operational``; held NCDs -> ``inflow_fi`` (China) / ``inflow_securities`` (Basel);
    other securities -> ``inflow_securities``; other assets, equity and fund investments ->
    ``other_contractual_inflow``; otherwise by counterparty class (retail, small business,
    corporate, sovereign, central bank, FI; other -> corporate; unknown -> corporate with an
    assumption). Facilities received give a ``facility_received`` line at 0%.

``lcr_category_override`` moves the contract's base amount (the amount its default category would
use) to the named category of ``lcr_outflows`` or ``lcr_inflows`` (interest of an overridden
liability stays in ``other_contractual``); every use is recorded.

HQLA stock: :func:`~openalm.measures.liquidity.hqla.classify_hqla`, then the caps of
:func:`~openalm.measures.liquidity.hqla.apply_hqla_caps` after unwinding the secured transactions
maturing within 30 days: a repo / secured central-bank borrowing gives back its cash (Level 1 down
by the principal due) and gets back its collateral (``collateral_market_value`` x the share due x
the generic factor of ``collateral_hqla_level``); a reverse repo gets back its cash (Level 1 up).
Collateral received in reverse repos is not in the stock, so it is not given back. Collateral swaps
are not in the data model.

Implementation (1,000,000 contracts in well under a second): every kind of line is a
:class:`Piece` that filters the frame first and classifies only its own rows; the pieces are
concatenated into ``detail`` (at most one row per contract and line), from which
:func:`category_lines` sums the lines (``np.bincount``: in row order, the same bit for bit in every
run) and :func:`main_line` picks each contract's main line. The per-depositor insurance cap is
allocated on the insurable deposits only, grouped by a checked hash of ``counterparty_id``
(:func:`group_codes`). The G26 ratio (:mod:`.hqla_adequacy`) reuses these pieces.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, Field

from openalm.errors import ConfigError, DataError
from openalm.i18n import label
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import ordered_group_by
from openalm.measures.liquidity.hqla import CapResult, apply_hqla_caps, classify_hqla
from openalm.measures.liquidity.rules import RuleSet, RuleTable

__all__ = [
    "COMPONENT",
    "LINE_SCHEMA",
    "SUMMARY_CATEGORIES",
    "LcrResult",
    "LcrSettings",
    "Piece",
    "build_detail",
    "category_lines",
    "compute_lcr",
    "group_codes",
    "main_line",
    "summarise",
]

#: Categories of the summary rows of ``LcrResult.lines`` (they do not drill down to contracts).
SUMMARY_CATEGORIES: tuple[str, ...] = (
    "hqla_total",
    "adj15",
    "adj40",
    "outflows_total",
    "inflows_total",
    "inflows_capped",
    "net_outflows",
    "lcr",
)

LINE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "rule_set": pl.String,
    "currency": pl.String,
    "component": pl.String,
    "category": pl.String,
    "line": pl.String,
    "label_zh": pl.String,
    "label_en": pl.String,
    "amount": pl.Float64,
    "factor": pl.Float64,
    "weighted_amount": pl.Float64,
    "contracts": pl.Int64,
}

DETAIL_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "row": pl.UInt32,
    "currency": pl.String,
    "component": pl.String,
    "category": pl.String,
    "amount": pl.Float64,
    "factor": pl.Float64,
    "weighted_amount": pl.Float64,
}

_FUNDING = ("deposit_demand", "deposit_notice", "deposit_term", "interbank_deposit", "interbank_lending")
_DEPOSITS = ("deposit_demand", "deposit_notice", "deposit_term")
_INSURABLE = ("retail", "small_business", "corporate", "sovereign")
_COMMIT_GROUP = {
    "retail": "retail",
    "small_business": "retail",
    "corporate": "corp",
    "sovereign": "sov",
    "central_bank": "sov",
    "bank": "bank",
    "other_financial": "ofi",
    "other": "other",
    "unknown": "other",
}
_INFLOW_OF_CLASS = {
    "retail": "inflow_retail",
    "small_business": "inflow_small_business",
    "corporate": "inflow_corporate",
    "sovereign": "inflow_sovereign",
    "central_bank": "inflow_central_bank",
    "bank": "inflow_fi",
    "other_financial": "inflow_fi",
    "other": "inflow_corporate",
    "unknown": "inflow_corporate",
}
_EPS = 1e-9


def _code_enum(rules: RuleSet) -> pl.Enum:
    """An Enum of every category code of the LCR tables (category literals are broadcast as Enum)."""
    codes: set[str] = set()
    for name in ("hqla", "lcr_outflows", "lcr_inflows"):
        codes |= set(rules[name].rows)
    return pl.Enum(sorted(codes))


class LcrSettings(BaseModel, extra="forbid"):
    """Settings of the LCR (``liquidity.lcr`` in the run config).

    Attributes
    ----------
    deposit_insurance_cap:
        Insured amount per depositor (China: CNY 500,000, Deposit Insurance Regulations art. 5),
        allocated across a depositor's accounts when ``insured_amount`` is null.
    deposit_insurance_currency:
        Currency of the cap; must be the reporting currency (the cap is compared with balances
        converted by ``fx_rc``).
    deposit_insurance_meets_criteria:
        Whether the deposit insurance scheme meets the additional criteria of BCBS 238 para 78
        (3% rows). China's does not (G25_I instructions), so the default is false.
    early_withdrawal:
        ``penalty_free`` (default): a term deposit counts whole only when it can be withdrawn
        within 30 days without a penalty (BCBS 238 paras 82-84: a penalty of no more than the lost
        interest does not make it stable, but an early-withdrawal rate below the contract rate is
        a penalty here); ``all``: every term deposit with ``early_withdrawal_allowed`` counts whole.
    horizon_days:
        The LCR horizon; 30 days (the frame's bands d1 + d7 + d30), the only supported value.
    home_country:
        Country whose sovereign / central-bank / policy-bank issues are Level 1 without a rating test.
    """

    deposit_insurance_cap: float = Field(default=500_000.0, ge=0)
    deposit_insurance_currency: str = "CNY"
    deposit_insurance_meets_criteria: bool = False
    early_withdrawal: Literal["penalty_free", "all"] = "penalty_free"
    horizon_days: Literal[30] = 30
    home_country: str = "CN"


@dataclass(frozen=True)
class LcrResult:
    """Result of :func:`compute_lcr`.

    ``lines``: one row per (currency, component, category) plus the summary rows
    (:data:`SUMMARY_CATEGORIES`; ``component = ratio`` holds the LCR as a decimal in
    ``weighted_amount``); ``contracts``: one row per frame row with its main LCR category;
    ``detail``: every (contract, line) contribution, amounts in the contract currency;
    ``ratio``: LCR per currency and ``"ALL"`` (``inf`` when net outflows are zero and HQLA
    positive, ``nan`` when both are zero); ``caps``: the cap computation per currency;
    ``overrides``: one message per overridden factor of the tables used (for the run's warnings).
    """

    lines: pl.DataFrame
    contracts: pl.DataFrame
    detail: pl.DataFrame
    ratio: dict[str, float]
    assumptions: list[Assumption]
    caps: dict[str, CapResult] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)


def _sum(cols: list[str]) -> pl.Expr:
    return pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in cols])


P30 = _sum(["principal_d1", "principal_d7", "principal_d30"])
I30 = _sum(["interest_d1", "interest_d7", "interest_d30"])

# ---------------------------------------------------------------------------------------------
# Pieces: the kinds of line a contract can feed. Each piece filters the frame first and classifies
# only its own rows; the pieces are concatenated into the long ``detail`` (shared with the G26
# ratio), from which the lines, the per-contract main line and the drill-down are taken.
# ---------------------------------------------------------------------------------------------

#: Components of the category lines, in the order that breaks ties of a contract's main line.
COMPONENT = pl.Enum(["hqla", "inflow", "outflow"])


def component(name: str) -> pl.Expr:
    """A component literal (:data:`COMPONENT`)."""
    return pl.lit(name, dtype=COMPONENT)


@dataclass(frozen=True)
class Piece:
    """One kind of line: the rows where ``mask`` holds feed ``category`` (an Enum expression) of
    ``component`` with ``amount``; rows are kept where ``present`` holds (default: amount > 0).
    ``source`` replaces the frame the piece reads (a filtered frame with extra columns)."""

    mask: pl.Expr
    component: str | pl.Expr
    category: pl.Expr
    amount: pl.Expr
    present: pl.Expr | None = None
    source: pl.LazyFrame | None = None


def factor_lookup(
    comp: pl.Expr, category: pl.Expr, enum: pl.Enum, factors: dict[str, dict[str, float | None]]
) -> pl.Expr:
    """The factor of ``(comp, category)``: ``factors[component][code]`` (null when unknown).

    ``category`` is of dtype ``enum``; the lookup gathers by its physical index.
    """
    idx = category.to_physical()
    codes = enum.categories.to_list()
    expr: pl.Expr = pl.lit(None, dtype=pl.Float64)
    for comp_name, table in factors.items():
        series = pl.Series([table.get(c) for c in codes], dtype=pl.Float64)
        expr = pl.when(comp == comp_name).then(pl.lit(series).gather(idx)).otherwise(expr)
    return expr


def build_detail(
    source: pl.LazyFrame, pieces: list[Piece], enum: pl.Enum, factors: dict[str, dict[str, float | None]]
) -> pl.DataFrame:
    """The long detail, piece after piece, each in row order.

    ``source`` holds ``row, currency, fx_rc`` and ``_pos`` (the position in the frame). Columns
    ``row, currency, fx_rc, component, category, amount, factor, weighted_amount`` (component and
    category as Enums), ``_pos`` and ``_slot`` (the piece). Every piece must hold a position at
    most once; pieces must not share a (contract, component, category).
    """
    parts = []
    codes = enum.categories.to_list()
    for i, piece in enumerate(pieces):
        src = piece.source if piece.source is not None else source
        comp = component(piece.component) if isinstance(piece.component, str) else piece.component
        lf = (
            src.filter(piece.mask.fill_null(False))
            .select(
                "row",
                "currency",
                "fx_rc",
                comp.alias("component"),
                piece.category.alias("category"),
                piece.amount.cast(pl.Float64).alias("amount"),
                "_pos",
            )
            .filter((pl.col("amount") > _EPS) if piece.present is None else piece.present)
        )
        if isinstance(piece.component, str):
            table = factors[piece.component]
            series = pl.Series([table.get(c) for c in codes], dtype=pl.Float64)
            factor = pl.lit(series).gather(pl.col("category").to_physical())
        else:
            factor = factor_lookup(pl.col("component"), pl.col("category"), enum, factors)
        parts.append(
            lf.with_columns(factor.alias("factor")).select(
                "row",
                "currency",
                "fx_rc",
                "component",
                "category",
                "amount",
                "factor",
                (pl.col("amount") * pl.col("factor")).alias("weighted_amount"),
                "_pos",
                pl.lit(i, dtype=pl.UInt8).alias("_slot"),
            )
        )
    return pl.concat(pl.collect_all(parts), rechunk=True)


def check_factors(detail: pl.DataFrame, tables: dict[str, str], rule_set: str) -> None:
    """ConfigError when a detail row has no factor (its category has no row, or a row without factor)."""
    if detail["factor"].null_count() == 0:
        return
    bad = detail.filter(pl.col("factor").is_null())
    first = bad.row(0, named=True)
    comp_name = str(first["component"])
    cats = bad.filter(pl.col("component") == comp_name)["category"].cast(pl.String).unique().to_list()
    raise ConfigError(
        f"rule table {rule_set}/{tables.get(comp_name, comp_name)} lacks rows (or factors) for {sorted(cats, key=str)}"
    )


def as_string(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``name`` of Enum ``dtype`` as String (a gather by code: cheaper than a cast)."""
    assert isinstance(dtype, pl.Enum)
    values = pl.Series(dtype.categories.to_list(), dtype=pl.String)
    return pl.lit(values).gather(pl.col(name).to_physical()).alias(name)


def main_line(rows: pl.Series, detail: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """One row per frame row (``rows``: the frame's ``row``): the contract's main line, from its ``detail`` rows.

    The main component is the one with the largest amount (ties: hqla, inflow, outflow); within it
    the detail row with the largest amount (ties: the first category code of the Enum). Columns
    ``row``, ``<prefix>_component``, ``<prefix>_category``, ``<prefix>_amount`` and
    ``<prefix>_weighted_amount`` (sums of the contract's detail rows of that component) and
    ``<prefix>_factor`` = weighted / amount; null for contracts without a line.

    ``detail`` comes from :func:`build_detail`: within one piece every position appears once, so
    the per-piece updates below are plain indexed assignments.
    """
    n = rows.len()
    n_comp = len(COMPONENT.categories)
    pos = detail["_pos"].cast(pl.Int64).to_numpy()
    comp = detail["component"].to_physical().cast(pl.Int64).to_numpy()
    code = detail["category"].to_physical().cast(pl.Int64).to_numpy()
    amount = detail["amount"].fill_null(0.0).to_numpy()
    weighted = detail["weighted_amount"].fill_null(0.0).to_numpy()
    slot = detail["_slot"].to_numpy()
    count = np.bincount(pos, minlength=n)
    found = count > 0
    main_c = np.zeros(n, dtype=np.int64)
    main_k = np.zeros(n, dtype=np.int64)
    main_a = np.zeros(n)
    main_w = np.zeros(n)
    # contracts with one detail row: that row (the others are overwritten below)
    main_c[pos], main_k[pos], main_a[pos], main_w[pos] = comp, code, amount, weighted
    multi = count[pos] > 1
    if multi.any():
        pos, comp, code, amount, weighted, slot = (x[multi] for x in (pos, comp, code, amount, weighted, slot))
        contracts, group = np.unique(pos, return_inverse=True)
        m = len(contracts)
        key = group * n_comp + comp
        total = np.bincount(key, weights=amount, minlength=m * n_comp).reshape(m, n_comp)
        total_w = np.bincount(key, weights=weighted, minlength=m * n_comp).reshape(m, n_comp)
        has = (np.bincount(key, minlength=m * n_comp) > 0).reshape(m, n_comp)
        # the main component: the first of the largest (hqla, inflow, outflow)
        best = np.where(has[:, 0], total[:, 0], -np.inf)
        best_c = np.zeros(m, dtype=np.int64)
        for j in range(1, n_comp):
            better = has[:, j] & (total[:, j] > best)
            best = np.where(better, total[:, j], best)
            best_c = np.where(better, j, best_c)
        every = np.arange(m)
        main_c[contracts], main_a[contracts], main_w[contracts] = best_c, total[every, best_c], total_w[every, best_c]
        # within it the largest detail row (ties: the first code); a piece holds a contract once
        best_k = np.full(m, -1, dtype=np.int64)
        best_a = np.zeros(m)
        bounds = [0, *(np.flatnonzero(np.diff(slot)) + 1).tolist(), len(slot)]
        for lo, hi in itertools.pairwise(bounds):
            g = group[lo:hi]
            valid = comp[lo:hi] == best_c[g]
            g, k, a = g[valid], code[lo:hi][valid], amount[lo:hi][valid]
            bk, ba = best_k[g], best_a[g]
            better = (bk < 0) | (a > ba) | ((a == ba) & (k < bk))
            best_k[g[better]] = k[better]
            best_a[g[better]] = a[better]
        main_k[contracts] = best_k
    cat_dtype = detail.schema["category"]
    assert isinstance(cat_dtype, pl.Enum)
    comps = pl.Series(COMPONENT.categories.to_list(), dtype=pl.String)
    cats = pl.Series(cat_dtype.categories.to_list(), dtype=pl.String)
    out = (
        rows.alias("row")
        .to_frame()
        .hstack(
            [
                pl.Series("_c", main_c),
                pl.Series("_k", main_k),
                pl.Series("_a", main_a),
                pl.Series("_w", main_w),
                pl.Series("_f", found),
            ]
        )
    )
    hit = pl.col("_f")
    return out.select(
        "row",
        pl.when(hit).then(pl.lit(comps).gather(pl.col("_c"))).alias(f"{prefix}_component"),
        pl.when(hit).then(pl.lit(cats).gather(pl.col("_k"))).alias(f"{prefix}_category"),
        pl.when(hit).then(pl.col("_a")).alias(f"{prefix}_amount"),
        pl.when(hit & (pl.col("_a").abs() > _EPS)).then(pl.col("_w") / pl.col("_a")).alias(f"{prefix}_factor"),
        pl.when(hit).then(pl.col("_w")).alias(f"{prefix}_weighted_amount"),
    )


def group_codes(ids: pl.Series) -> npt.NDArray[np.int64]:
    """Integer codes of the values of ``ids``: equal values, equal codes (nulls one group).

    Groups by a 64-bit hash of the values (a sort of the hashes) and checks that every group
    holds one value; on a hash collision it falls back to ranking the values themselves.
    """
    if ids.len() == 0:
        return np.zeros(0, dtype=np.int64)
    hashes = ids.hash().to_numpy()
    order = np.argsort(hashes)
    ordered = hashes[order]
    new = np.empty(len(ordered), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    codes = np.empty(len(ordered), dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    first = order[new]
    if bool(ids.eq_missing(ids.gather(first[codes])).all()):
        return codes
    ranks = ids.to_frame("k").select(pl.col("k").rank("dense").fill_null(0).cast(pl.Int64)).to_series()
    return ranks.to_numpy()


def _scatter(n: int, positions: pl.Series, values: pl.Series, name: str, fill: float | None) -> pl.Series:
    """A Float64 column of length ``n``: ``values`` at ``positions``, ``fill`` elsewhere (None: null)."""
    out = np.full(n, np.nan if fill is None else fill, dtype=np.float64)
    out[positions.to_numpy()] = values.cast(pl.Float64).fill_null(np.nan).to_numpy()
    return pl.Series(name, out, nan_to_null=fill is None)


def _insured(work: pl.DataFrame, settings: LcrSettings, reporting_currency: str) -> pl.Series:
    """Insured amount per row (contract currency, 0 for rows that are not insurable deposits): stated,
    or the per-depositor cap allocated pro rata over the depositor's deposits without a stated
    amount (``counterparty_id`` groups). Computed on the insurable deposits only."""
    if settings.deposit_insurance_currency != reporting_currency:
        raise ConfigError(
            f"liquidity.lcr.deposit_insurance_currency {settings.deposit_insurance_currency!r} must equal the "
            f"reporting currency {reporting_currency!r} (the cap is compared with balances converted by fx_rc)"
        )
    mask = work.select(_insurable().fill_null(False)).to_series()
    positions = mask.arg_true()
    if positions.len() == 0:
        return pl.Series("_ins", np.zeros(work.height))
    dep = work.select("insured_amount", "balance", "fx_rc", "counterparty_id").filter(mask)
    stated_amount = dep["insured_amount"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    stated = ~np.isnan(stated_amount)
    bal = dep["balance"].cast(pl.Float64).fill_null(0.0).fill_nan(0.0).to_numpy()
    fx = dep["fx_rc"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    fx_ok = ~np.isnan(fx)
    group = group_codes(dep["counterparty_id"])
    used = np.bincount(group, weights=np.where(stated & fx_ok, stated_amount * fx, 0.0))[group]
    open_bal = np.bincount(group, weights=np.where(~stated & fx_ok, bal * fx, 0.0))[group]
    left = np.maximum(settings.deposit_insurance_cap - used, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(open_bal > 0, np.minimum(left / open_bal, 1.0), 0.0)
    no_id = dep["counterparty_id"].is_null().to_numpy()
    insured = np.where(stated, np.minimum(stated_amount, bal), np.where(no_id, 0.0, bal * share))
    return _scatter(work.height, positions, pl.Series(insured), "_ins", 0.0)


def derivative_flows(work: pl.DataFrame) -> list[pl.Series]:
    """``_ds`` (the leg's signed flow within 30 days: + pay, - receive) and ``_dn`` (the net of its
    netting set: counterparty, else deal, and currency); null for other rows."""
    mask = work.select((pl.col("instrument_type") == "derivative_leg").fill_null(False)).to_series()
    positions = mask.arg_true()
    n = work.height
    if positions.len() == 0:
        empty = pl.Series(np.full(n, np.nan), nan_to_null=True)
        return [empty.alias("_ds"), empty.alias("_dn")]
    signed = (P30 + I30) * pl.when(pl.col("side") == "liability").then(1.0).otherwise(-1.0)
    key = pl.coalesce(pl.col("counterparty_id"), pl.col("deal_id"), pl.col("position_id"))
    legs = work.filter(mask).select(signed.alias("_ds"), key.alias("_key"), "currency")
    legs = legs.with_columns(pl.col("_ds").sum().over("_key", "currency").alias("_dn"))
    return [_scatter(n, positions, legs["_ds"], "_ds", None), _scatter(n, positions, legs["_dn"], "_dn", None)]


def _insurable() -> pl.Expr:
    return (
        (pl.col("side") == "liability")
        & pl.col("on_balance_sheet").fill_null(True)
        & pl.col("instrument_type").is_in(_DEPOSITS)
        & pl.col("cp_class").is_in(_INSURABLE)
    )


def _validate_overrides(frame: pl.DataFrame, outflows: RuleTable, inflows: RuleTable) -> None:
    known = set(outflows.rows) | set(inflows.rows)
    col = frame["lcr_category_override"]
    bad = frame.filter(col.is_not_null() & ~col.is_in(sorted(known)))
    if bad.height:
        raise DataError(
            f"unknown LCR category; expected a code of lcr_outflows or lcr_inflows ({outflows.rule_set}): "
            f"{sorted(known)}",
            row=int(bad["row"][0]) + 1,
            column="lcr_category_override",
            value=bad["lcr_category_override"][0],
        )


def with_hqla(frame: pl.DataFrame, hqla: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` with the ``columns`` of :func:`classify_hqla` (hstacked when row aligned, else joined)."""
    hq = hqla.select("row", *columns)
    if hq.height == frame.height and hq["row"].equals(frame["row"]):
        return frame.hstack(hq.drop("row").get_columns())
    return frame.join(hq, on="row", how="left", maintain_order="left")


#: the rule table of each component of the LCR
_LCR_TABLES = {"hqla": "hqla", "outflow": "lcr_outflows", "inflow": "lcr_inflows"}


def _lcr_detail(
    frame: pl.DataFrame,
    rules: RuleSet,
    hqla: pl.DataFrame,
    settings: LcrSettings,
    reporting_currency: str,
    out: list[Assumption],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(detail, flags): the LCR lines of every contract and a per-row frame for the assumption records."""
    outflows, inflows = rules["lcr_outflows"], rules["lcr_inflows"]
    _validate_overrides(frame, outflows, inflows)
    china = rules.rule_set == "china"
    enum = _code_enum(rules)

    def E(code: str) -> pl.Expr:  # noqa: N802 - a category literal (Enum: cheap to broadcast)
        return pl.lit(code, dtype=enum) if code in enum.categories else pl.lit(None, dtype=enum)

    work = with_hqla(frame, hqla, ("hqla_level", "hqla_category", "hqla_market_value"))
    work = work.hstack([_insured(work, settings, reporting_currency), *derivative_flows(work)])
    source = work.lazy().with_row_index("_pos")

    it, sub, cls, side = pl.col("instrument_type"), pl.col("product_subtype"), pl.col("cp_class"), pl.col("side")
    on_bs = pl.col("on_balance_sheet").fill_null(True)
    liability = (side == "liability") & on_bs
    asset = (side == "asset") & on_bs
    bal = pl.col("balance").fill_null(0.0)
    funding = liability & it.is_in(_FUNDING)
    ovr = pl.col("lcr_category_override")
    has_ovr = ovr.is_not_null()
    no_ovr = ovr.is_null()
    # a term deposit the depositor can take out within 30 days without a penalty counts whole: early
    # withdrawal allowed and paid at no less than the contract rate (unknown rate: assumed
    # penalty-free, the conservative reading), or a penalty-free withdrawal date within 30 days.
    # Chinese term deposits broken early earn the demand rate: a penalty, so only their principal
    # due within 30 days counts (settings.early_withdrawal = "all" counts every breakable deposit).
    ewr = pl.col("early_withdrawal_rate")
    penalty_free = pl.col("early_withdrawal_allowed").fill_null(False) & (
        ewr.is_null() | (ewr >= pl.col("current_rate").fill_null(float("inf")))
        if settings.early_withdrawal == "penalty_free"
        else pl.lit(True)
    )
    whole = (
        it.is_in(("deposit_demand", "deposit_notice"))
        | pl.col("undated").fill_null(False)
        | penalty_free
        | (pl.col("next_withdrawal_days") <= 30).fill_null(False)
    )
    base = pl.when(whole).then(bal).otherwise(P30)
    scale = pl.when(bal > 0).then(pl.col("_base") / bal).otherwise(0.0)
    op_flag = pl.col("is_operational").fill_null(False) & cls.is_in(
        ("corporate", "sovereign", "central_bank", "bank", "other_financial")
    )
    # deposits and unsecured funding: the base amount split into insured / operational parts
    fund_columns = (
        "row", "currency", "fx_rc", "_pos", "_ins", "instrument_type", "cp_class", "balance", "undated",
        "early_withdrawal_allowed", "early_withdrawal_rate", "current_rate", "next_withdrawal_days",
        "is_operational", "operational_excess_amount", "is_transactional", "has_established_relationship",
        "principal_d1", "principal_d7", "principal_d30",
    )  # fmt: skip
    fund = (
        source.filter((funding & no_ovr).fill_null(False))
        .select(fund_columns)
        .with_columns(base.alias("_base"))
        .with_columns(
            pl.min_horizontal(pl.col("_ins") * scale, pl.col("_base")).alias("_ins_b"),
            pl.when(op_flag)
            .then(
                pl.col("_base")
                - pl.min_horizontal(pl.col("operational_excess_amount").fill_null(0.0) * scale, pl.col("_base"))
            )
            .otherwise(0.0)
            .alias("_op"),
        )
        .with_columns(
            pl.min_horizontal(pl.col("_ins_b"), pl.col("_op")).alias("_ins_op"),
            (pl.col("_base") - pl.col("_op")).alias("_nonop"),
        )
        .with_columns((pl.col("_ins_b") - pl.col("_ins_op")).alias("_ins_rest"))
        .collect()
        .lazy()
    )
    crit = "_criteria" if settings.deposit_insurance_meets_criteria else ""
    stable_flag = pl.col("is_transactional").fill_null(False) | pl.col("has_established_relationship").fill_null(False)
    small = cls.is_in(("retail", "small_business"))

    def pfx(suffix: str) -> pl.Expr:
        """``<retail|sb|corp|sov><suffix>`` by counterparty class."""
        return (
            pl.when(cls == "retail")
            .then(E("retail" + suffix))
            .when(cls == "small_business")
            .then(E("sb" + suffix))
            .when(cls == "corporate")
            .then(E("corp" + suffix))
            .otherwise(E("sov" + suffix))
        )

    wholesale_nf = cls.is_in(("corporate", "sovereign", "central_bank"))
    fi = cls.is_in(("bank", "other_financial"))
    # part 1: insured (retail / small business) or operational insured (corporate / sovereign)
    cat1 = (
        pl.when(small & stable_flag)
        .then(pfx("_stable" + crit))
        .when(small)
        .then(pfx("_less_stable_insured"))
        .otherwise(pfx("_operational_insured" + crit))
    )
    amt1 = pl.when(small).then(pl.col("_ins_b")).otherwise(pl.col("_ins_op"))
    # part 2: uninsured retail / small business, operational uninsured, operational FI deposits
    cat2 = (
        pl.when(small)
        .then(pfx("_less_stable_uninsured"))
        .when(wholesale_nf)
        .then(pfx("_operational_uninsured"))
        .when(cls == "bank")
        .then(E("bank_operational"))
        .otherwise(E("ofi_operational"))
    )
    amt2 = (
        pl.when(small)
        .then(pl.col("_base") - pl.col("_ins_b"))
        .when(wholesale_nf)
        .then(pl.col("_op") - pl.col("_ins_op"))
        .otherwise(pl.col("_op"))
    )
    # part 3: non-operational wholesale
    full = pl.col("_ins_rest") >= pl.col("_nonop") - _EPS
    cat3 = (
        pl.when(wholesale_nf & full)
        .then(pfx("_nonop_insured"))
        .when(wholesale_nf)
        .then(pfx("_nonop_uninsured"))
        .when(fi)
        .then(E("fi_nonop"))
        .otherwise(E("unsecured_other"))
    )
    issued = liability & (it == "debt_security")
    cat_debt = (
        pl.when(sub == "ncd")
        .then(E("unsecured_other"))
        .when(sub.is_in(("covered_bond", "abs")))
        .then(E("structured_funding"))
        .otherwise(E("own_debt"))
    )
    coll = pl.col("collateral_hqla_level")
    secured = liability & ((it == "repo") | (it == "central_bank_borrowing"))
    cat_sec = (
        pl.when(cls == "central_bank")
        .then(E("secured_cb"))
        .when(coll == "level_1")
        .then(E("secured_l1"))
        .when(coll == "level_2a")
        .then(E("secured_l2a"))
        .when(cls == "sovereign")
        .then(E("secured_sov_pse"))
        .when(coll == "level_2b")
        .then(E("secured_l2b"))
        .otherwise(E("secured_other"))
    )
    other_liability = liability & (it == "other_liability")
    # commitments given
    given = (side == "asset") & ((it == "loan_commitment") & ~on_bs | (it == "revolving_credit"))
    cancellable = pl.col("unconditionally_cancellable").fill_null(False)
    liquidity = ~(sub.is_in(("credit_facility", "overdraft_line", "card_line")) | (it == "revolving_credit"))
    commit: pl.Expr = E("commit_other_liquidity")
    for cp, grp in _COMMIT_GROUP.items():
        commit = (
            pl.when(cls == cp)
            .then(pl.when(liquidity).then(E(f"commit_{grp}_liquidity")).otherwise(E(f"commit_{grp}_credit")))
            .otherwise(commit)
        )
    cat_commit = pl.when(cancellable).then(E("revocable_facility")).otherwise(commit)
    contingent = ~on_bs & (side == "asset") & it.is_in(("guarantee", "letter_of_credit", "acceptance"))
    cat_cont = (
        pl.when(it == "guarantee")
        .then(E("guarantees"))
        .when(it == "letter_of_credit")
        .then(E("letters_of_credit"))
        .otherwise(E("trade_finance"))
    )
    received = (side == "liability") & (it == "loan_commitment")
    deriv = it == "derivative_leg"
    net = pl.col("_dn")
    # inflows
    in_stock = pl.col("hqla_level").is_in(("level_1", "level_2a", "level_2b")).fill_null(False)
    inflow_rows = (
        asset
        & pl.col("performing").fill_null(False)
        & ~in_stock
        & ~it.is_in(("cash", "central_bank_reserve", "derivative_leg"))
    )
    rr_coll = (
        pl.when(coll == "level_1")
        .then(E("reverse_repo_l1"))
        .when(coll == "level_2a")
        .then(E("reverse_repo_l2a"))
        .when(coll == "level_2b")
        .then(E("reverse_repo_l2b"))
        .when(coll == "non_hqla")
        .then(E("reverse_repo_other"))
        .otherwise(E("reverse_repo_l1"))
    )
    pledged = "reverse_repo_pledged" in inflows
    by_class: pl.Expr = E("inflow_corporate")
    for cp, code in _INFLOW_OF_CLASS.items():
        by_class = pl.when(cls == cp).then(E(code)).otherwise(by_class)
    cat_in = (
        pl.when((it == "reverse_repo") & (pl.col("repo_type") == "pledged") & pl.lit(pledged))
        .then(E("reverse_repo_pledged"))
        .when(it == "reverse_repo")
        .then(rr_coll)
        .when(
            (it == "interbank_deposit")
            & (sub.is_in(("nostro", "settlement")) | pl.col("is_operational").fill_null(False))
        )
        .then(E("inflow_fi_operational"))
        .when((it == "debt_security") & (sub == "ncd"))
        .then(E("inflow_fi" if china else "inflow_securities"))
        .when(it == "debt_security")
        .then(E("inflow_securities"))
        .when(it.is_in(("other_asset", "equity_investment", "fund_investment")))
        .then(E("other_contractual_inflow"))
        .otherwise(by_class)
    )
    # lcr_category_override: the contract's base amount goes to the override category instead of
    # its principal lines; its HQLA and interest lines stay (interest joins an other_contractual
    # override, so that a contract feeds a line once)
    out_codes = sorted(outflows.rows)
    ovr_out = ovr.is_in(out_codes)
    ovr_interest = (ovr == "other_contractual") & ovr_out
    interest_rows = liability & (it != "derivative_leg")
    ovr_base = (
        pl.when(~on_bs)
        .then(pl.coalesce(pl.col("undrawn_amount"), bal))
        .when(funding)
        .then(base)
        .when(side == "liability")
        .then(P30)
        .otherwise(P30 + I30)
    ) + pl.when(ovr_interest & interest_rows).then(I30).otherwise(0.0)
    sign = pl.when(net > 0).then(1.0).otherwise(-1.0)
    pieces = [
        Piece(
            has_ovr,
            pl.when(ovr_out).then(component("outflow")).otherwise(component("inflow")),
            ovr.cast(pl.String).cast(enum),
            ovr_base,
            present=pl.lit(True),
        ),
        Piece(
            deriv & no_ovr & (net.abs() > _EPS),
            pl.when(net > 0).then(component("outflow")).otherwise(component("inflow")),
            pl.when(net > 0).then(E("derivatives_net_outflow")).otherwise(E("derivatives_net_inflow")),
            pl.col("_ds") * sign,
            present=pl.lit(True),
        ),
        Piece(small | wholesale_nf, "outflow", cat1, amt1, source=fund),
        Piece(small | wholesale_nf | fi, "outflow", cat2, amt2, source=fund),
        Piece(~small, "outflow", cat3, pl.col("_nonop"), source=fund),
        Piece(issued & no_ovr, "outflow", cat_debt, P30),
        Piece(secured & no_ovr, "outflow", cat_sec, P30),
        Piece(other_liability & no_ovr, "outflow", E("other_contractual"), P30 + I30),
        Piece(
            interest_rows & ~(other_liability & no_ovr) & ~(has_ovr & ovr_interest),
            "outflow",
            E("other_contractual"),
            I30,
        ),
        Piece(given & no_ovr, "outflow", cat_commit, pl.col("undrawn_amount").fill_null(0.0)),
        Piece(contingent & no_ovr, "outflow", cat_cont, bal),
        Piece(received & no_ovr, "inflow", E("facility_received"), pl.coalesce(pl.col("undrawn_amount"), bal)),
        Piece(inflow_rows & no_ovr, "inflow", cat_in, P30 + I30),
        Piece(in_stock, "hqla", pl.col("hqla_category").cast(enum), pl.col("hqla_market_value")),
    ]
    factors = {
        comp_name: {c: r.factor for c, r in rules[table].rows.items()} for comp_name, table in _LCR_TABLES.items()
    }
    detail = build_detail(source, pieces, enum, factors)
    check_factors(detail, _LCR_TABLES, rules.rule_set)

    # assumptions on undetermined categories
    checks: list[dict[str, Any]] = [
        dict(
            mask=has_ovr,
            code="lcr.category_override",
            message="lcr_category_override set on the position",
            assumption="the contract's base amount goes to the override category",
        )
    ]
    unknown = cls == "unknown"
    checks.append(
        dict(
            mask=no_ovr & funding & unknown,
            code="lcr.funding_without_counterparty_type",
            message="deposit or unsecured funding without counterparty_type",
            assumption="other unsecured wholesale funding (unsecured_other, 100%)",
        )
    )
    checks.append(
        dict(
            mask=no_ovr & _insurable() & pl.col("insured_amount").is_null() & pl.col("counterparty_id").is_null(),
            code="lcr.deposit_without_counterparty_id",
            message="deposit without counterparty_id and insured_amount: the per-depositor cap cannot be allocated",
            assumption="uninsured",
        )
    )
    checks.append(
        dict(
            mask=no_ovr
            & funding
            & small
            & ~pl.col("is_transactional").is_not_null()
            & pl.col("has_established_relationship").is_null(),
            code="lcr.retail_stability_unknown",
            message="retail / small-business deposit with neither is_transactional nor has_established_relationship",
            assumption="less stable",
        )
    )
    checks.append(
        dict(
            mask=no_ovr & secured & (cls != "central_bank") & coll.is_null(),
            code="lcr.secured_funding_without_collateral_level",
            message="repo / secured funding without collateral_hqla_level",
            assumption="other secured funding (secured_other, 100%)",
        )
    )
    checks.append(
        dict(
            mask=no_ovr
            & given
            & (it == "loan_commitment")
            & ~sub.is_in(("credit_facility", "liquidity_facility", "overdraft_line", "card_line")).fill_null(False),
            code="lcr.commitment_kind_unknown",
            message="loan_commitment whose product_subtype is not a credit / liquidity facility or credit line",
            assumption="liquidity facility",
        )
    )
    checks.append(
        dict(
            mask=no_ovr & given & pl.col("unconditionally_cancellable").is_null(),
            code="lcr.commitment_cancellability_unknown",
            message="commitment without unconditionally_cancellable",
            assumption="committed (not cancellable)",
        )
    )
    checks.append(
        dict(
            mask=no_ovr & given & unknown,
            code="lcr.commitment_without_counterparty_type",
            message="commitment without counterparty_type",
            assumption="other legal entity (100%)",
        )
    )
    checks.append(
        dict(
            mask=no_ovr
            & inflow_rows
            & (it == "reverse_repo")
            & coll.is_null()
            & ~((pl.col("repo_type") == "pledged") & pl.lit(pledged)),
            code="lcr.reverse_repo_without_collateral_level",
            message="reverse repo without collateral_hqla_level",
            assumption="Level 1 collateral (0% inflow)",
        )
    )
    checks.append(
        dict(
            mask=no_ovr
            & inflow_rows
            & unknown
            & ~it.is_in(
                (
                    "reverse_repo",
                    "debt_security",
                    "other_asset",
                    "equity_investment",
                    "fund_investment",
                    "interbank_deposit",
                )
            )
            & ((P30 + I30) > 0),
            code="lcr.inflow_without_counterparty_type",
            message="performing asset with flows due within 30 days but no counterparty_type",
            assumption="non-financial wholesale (50%)",
        )
    )
    flags = source.select(
        "position_id", "balance", "fx_rc", *[c["mask"].fill_null(False).alias(f"_m{k}") for k, c in enumerate(checks)]
    ).collect()
    for k, c in enumerate(checks):
        record_assumption(
            flags,
            pl.col(f"_m{k}"),
            measure="lcr",
            code=c["code"],
            message=c["message"],
            assumption=c["assumption"],
            out=out,
        )
    return detail, flags.select("position_id", "balance", "fx_rc")


def _label_frame(rules: RuleSet, tables: dict[str, str]) -> pl.DataFrame:
    frames = []
    for comp_name, name in tables.items():
        t = rules[name].to_frame()
        frames.append(
            t.select(
                pl.lit(comp_name).alias("component"),
                pl.col("code").alias("category"),
                "line",
                "label_zh",
                "label_en",
                "factor",
            )
        )
    return pl.concat(frames)


def _overrides(rules: RuleSet, names: tuple[str, ...]) -> list[str]:
    return [m for m in rules.overrides_applied() if any(f"/{n}/" in m for n in names)]


def _ratio(num: float, den: float) -> float:
    if abs(den) > _EPS:
        return num / den
    return math.inf if num > _EPS else math.nan


def _codes(series: pl.Series) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Integer codes and their values (Enum: its categories; otherwise the sorted distinct values)."""
    if isinstance(series.dtype, pl.Enum):
        return series.to_physical().cast(pl.Int64).to_numpy(), series.dtype.categories.to_list()
    values = sorted(str(v) for v in series.unique().to_list())
    return series.cast(pl.String).cast(pl.Enum(values)).to_physical().cast(pl.Int64).to_numpy(), values


def category_lines(detail: pl.DataFrame) -> pl.DataFrame:
    """Sums of ``detail`` per (currency, component, category) and, converted by ``fx_rc``, per
    (component, category) with ``currency = "ALL"``: ``amount``, ``weighted_amount``, ``contracts``.

    ``detail`` holds at most one row per (row, component, category), so ``contracts`` counts its
    rows (ALL: those with an FX rate). The sums run in row order (``np.bincount``): the same bit
    for bit in every run.
    """
    schema = {
        "currency": pl.String,
        "component": pl.String,
        "category": pl.String,
        "amount": pl.Float64,
        "weighted_amount": pl.Float64,
        "contracts": pl.Int64,
    }
    if detail.height == 0:
        return pl.DataFrame(schema=schema)
    cur, currencies = _codes(detail["currency"])
    comp, components = _codes(detail["component"])
    cat, categories = _codes(detail["category"])
    n_line = len(components) * len(categories)
    line = comp * len(categories) + cat
    key = cur * n_line + line
    size = len(currencies) * n_line
    amount = detail["amount"].to_numpy()
    weighted = detail["weighted_amount"].to_numpy()
    fx = detail["fx_rc"].cast(pl.Float64).to_numpy()
    ok = ~np.isnan(fx)
    count = np.bincount(key, minlength=size)
    sums = (np.bincount(key, weights=amount, minlength=size), np.bincount(key, weights=weighted, minlength=size))
    count_rc = np.bincount(line[ok], minlength=n_line)
    sums_rc = (
        np.bincount(line[ok], weights=amount[ok] * fx[ok], minlength=n_line),
        np.bincount(line[ok], weights=weighted[ok] * fx[ok], minlength=n_line),
    )
    comp_names, cat_names = np.array(components, dtype=object), np.array(categories, dtype=object)
    hit = np.flatnonzero(count)
    per = pl.DataFrame(
        {
            "currency": np.array(currencies, dtype=object)[hit // n_line],
            "component": comp_names[(hit % n_line) // len(categories)],
            "category": cat_names[hit % len(categories)],
            "amount": sums[0][hit],
            "weighted_amount": sums[1][hit],
            "contracts": count[hit],
        },
        schema=schema,
    )
    hit_all = np.flatnonzero(count.reshape(len(currencies), n_line).sum(axis=0))
    all_lines = pl.DataFrame(
        {
            "currency": ["ALL"] * len(hit_all),
            "component": comp_names[hit_all // len(categories)],
            "category": cat_names[hit_all % len(categories)],
            "amount": sums_rc[0][hit_all],
            "weighted_amount": sums_rc[1][hit_all],
            "contracts": count_rc[hit_all],
        },
        schema=schema,
    )
    return pl.concat([per, all_lines])


def summarise(
    detail: pl.DataFrame,
    unwind: pl.DataFrame,
    rules: RuleSet,
    *,
    reporting_currency: str,
    tables: dict[str, str],
    cap: Callable[[str, dict[str, float]], tuple[float, list[tuple[str, str, float, float]]]],
    inflow_cap: float,
    ratio_category: str,
) -> tuple[pl.DataFrame, dict[str, float], dict[str, dict[str, float]]]:
    """Category lines and summary rows per currency and ALL (shared by the LCR and the G26 ratio).

    Parameters
    ----------
    detail:
        ``row, currency, fx_rc, component, category, amount, factor, weighted_amount``, at most one
        row per (row, component, category).
    unwind:
        ``currency, fx_rc, _level, _adj``: changes of the HQLA levels when secured transactions
        unwind (empty when the measure has none).
    tables:
        The rule table of each component (``hqla``, ``outflow``, ``inflow``): labels, lines and
        factors of the category lines; the ``level`` of the HQLA rows.
    cap:
        ``cap(currency, values) -> (stock, rows)``: the stock after the composition caps from
        ``values`` (``level_1``, ``level_2a``, ``level_2b`` post-haircut and their ``adj_*``
        after the unwind) and the ``(component, category, amount, weighted_amount)`` summary rows
        of the cap adjustment.
    inflow_cap:
        Share of the outflows the inflows may offset (0.75).
    ratio_category:
        Category of the ratio row (``lcr``, ``hqla_adequacy``).
    """
    del reporting_currency
    both = category_lines(detail)
    labels = _label_frame(rules, tables)
    lines = both.join(labels, on=["component", "category"], how="left")
    hqla_table = rules[tables["hqla"]]
    levels = {c: str(r.extra.get("level")) for c, r in hqla_table.rows.items() if "level" in r.extra}
    stock_by: dict[tuple[str, str], float] = {}
    flows: dict[tuple[str, str], float] = {}
    for cur, comp_name, cat, weighted in both.select("currency", "component", "category", "weighted_amount").rows():
        if comp_name == "hqla":
            key = (cur, levels.get(cat, "non_hqla"))
            stock_by[key] = stock_by.get(key, 0.0) + weighted
        elif comp_name in ("outflow", "inflow"):
            flows[(cur, comp_name)] = flows.get((cur, comp_name), 0.0) + weighted
    fx_ok = pl.col("fx_rc").is_not_nan() & pl.col("fx_rc").is_not_null()
    un_all = unwind.filter(fx_ok).with_columns(pl.lit("ALL").alias("currency"), pl.col("_adj") * pl.col("fx_rc"))
    un = (
        ordered_group_by(pl.concat([unwind, un_all], how="vertical_relaxed"), "currency", "_level")
        .agg(pl.col("_adj").sum())
        .rows()
    )
    get_un = {(r[0], r[1]): r[2] for r in un}
    seen = set(both.filter(pl.col("currency") != "ALL")["currency"].to_list()) | set(
        unwind["currency"].unique().to_list()
    )
    currencies = [*sorted(seen), "ALL"]
    summary: list[dict[str, object]] = []
    ratios: dict[str, float] = {}
    stocks: dict[str, dict[str, float]] = {}
    for cur in currencies:
        vals = {lv: float(stock_by.get((cur, lv), 0.0)) for lv in ("level_1", "level_2a", "level_2b")}
        vals.update(
            {"adj_" + lv: vals[lv] + float(get_un.get((cur, lv), 0.0)) for lv in ("level_1", "level_2a", "level_2b")}
        )
        stock, rows = cap(cur, vals)
        outf = float(flows.get((cur, "outflow"), 0.0))
        inf = float(flows.get((cur, "inflow"), 0.0))
        capped = min(inf, inflow_cap * outf)
        net = outf - capped
        ratios[cur] = _ratio(stock, net)
        stocks[cur] = {
            **vals,
            "hqla": stock,
            "outflows": outf,
            "inflows": inf,
            "inflows_capped": capped,
            "net_outflows": net,
        }
        pre = vals["level_1"] + vals["level_2a"] + vals["level_2b"]
        entries = [("hqla", "hqla_total", pre, stock), *rows]
        entries += [
            ("outflow", "outflows_total", outf, outf),
            ("inflow", "inflows_total", inf, inf),
            ("inflow", "inflows_capped", inf, capped),
            ("net_outflow", "net_outflows", net, net),
            ("ratio", ratio_category, stock, ratios[cur]),
        ]
        for comp_name, cat, amount, weighted in entries:
            summary.append(
                {
                    "currency": cur,
                    "component": comp_name,
                    "category": cat,
                    "line": None,
                    "label_zh": label(f"lcr.summary.{cat}", "zh"),
                    "label_en": label(f"lcr.summary.{cat}", "en"),
                    "amount": amount,
                    "factor": None,
                    "weighted_amount": weighted,
                    "contracts": None,
                }
            )
    out = pl.concat(
        [lines, pl.DataFrame(summary, schema={k: v for k, v in LINE_SCHEMA.items() if k != "rule_set"})],
        how="diagonal_relaxed",
    )
    order = {"hqla": 0, "cap_adjustment": 1, "outflow": 2, "inflow": 3, "net_outflow": 4, "ratio": 5}
    out = (
        out.with_columns(
            pl.lit(rules.rule_set).alias("rule_set"),
            pl.col("component").replace_strict(order, default=9, return_dtype=pl.Int32).alias("_o"),
        )
        .sort("currency", "_o", "line", "category", nulls_last=True)
        .select(list(LINE_SCHEMA))
    )
    return out, ratios, stocks


def _unwind(frame: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Changes of each HQLA level (post-haircut) when SFTs maturing within 30 days unwind (``_adj``)."""
    table = rules["hqla"]
    generic = {lv: table.factor(f"generic_{lv}") for lv in ("level_1", "level_2a", "level_2b")}
    it, side = pl.col("instrument_type"), pl.col("side")
    coll = pl.col("collateral_hqla_level")
    bal = pl.col("balance").fill_null(0.0)
    funding = (side == "liability") & ((it == "repo") | ((it == "central_bank_borrowing") & coll.is_not_null()))
    lending = (side == "asset") & (it == "reverse_repo")
    due = (
        frame.lazy()
        .select(
            "row",
            "currency",
            "fx_rc",
            "instrument_type",
            "side",
            "collateral_hqla_level",
            "balance",
            "collateral_market_value",
            *[c for c in frame.columns if c.startswith("principal_")],
        )
        .filter((funding | lending).fill_null(False))
        .with_columns(P30.alias("_p30"))
        .filter(pl.col("_p30") > _EPS)
        .collect()
    )
    cash = due.select(
        "row",
        "currency",
        "fx_rc",
        pl.lit("level_1").alias("_level"),
        pl.when(side == "liability").then(-pl.col("_p30")).otherwise(pl.col("_p30")).alias("_adj"),
    )
    share = pl.when(bal > 0).then((pl.col("_p30") / bal).clip(upper_bound=1.0)).otherwise(1.0)
    back = due.filter(funding & coll.is_in(list(generic))).select(
        "row",
        "currency",
        "fx_rc",
        coll.cast(pl.String).alias("_level"),
        (
            pl.col("collateral_market_value").fill_null(0.0)
            * share
            * coll.cast(pl.String).replace_strict(generic, default=0.0, return_dtype=pl.Float64)
        ).alias("_adj"),
    )
    return pl.concat([cash, back], how="vertical_relaxed")


def compute_lcr(
    frame: pl.DataFrame,
    rules: RuleSet,
    *,
    reporting_currency: str = "CNY",
    hqla: pl.DataFrame | None = None,
    settings: LcrSettings | None = None,
) -> LcrResult:
    """The LCR of the liquidity frame under ``rules`` (china or basel), per currency and ALL.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame.
    rules:
        A rule set with the tables ``hqla``, ``lcr_outflows``, ``lcr_inflows``.
    reporting_currency:
        Currency of the ``ALL`` rows (``fx_rc`` converts to it).
    hqla:
        The output of :func:`classify_hqla` when already computed (its assumptions are then the
        caller's); computed here otherwise.
    settings:
        :class:`LcrSettings` (defaults when None).

    Returns
    -------
    LcrResult
        ``HQLA = L1 + L2A + L2B - Adj15 - Adj40``; ``net = outflows - min(inflows, 75% outflows)``;
        ``LCR = HQLA / net`` (regulatory.md §1.1, §1.3).
    """
    settings = settings or LcrSettings()
    out: list[Assumption] = []
    if hqla is None:
        hqla, found = classify_hqla(frame, rules, home_country=settings.home_country)
        out.extend(found)
    detail, flags = _lcr_detail(frame, rules, hqla, settings, reporting_currency, out)
    unwind = _unwind(frame, rules)
    in_lcr = np.zeros(frame.height, dtype=bool)
    in_lcr[detail["_pos"].to_numpy()] = True
    record_assumption(
        flags,
        pl.Series(in_lcr) & (pl.col("fx_rc").is_nan() | pl.col("fx_rc").is_null()),
        measure="lcr",
        code="lcr.missing_fx_rate",
        message="contract in the LCR without an FX rate to the reporting currency",
        assumption="left out of the ALL rows (kept in its currency's LCR)",
        out=out,
    )
    table = rules["hqla"]
    caps: dict[str, CapResult] = {}

    def cap(cur: str, v: dict[str, float]) -> tuple[float, list[tuple[str, str, float, float]]]:
        res = apply_hqla_caps(
            v["level_1"],
            v["level_2a"],
            v["level_2b"],
            adj_l1=v["adj_level_1"],
            adj_l2a=v["adj_level_2a"],
            adj_l2b=v["adj_level_2b"],
            table=table,
        )
        caps[cur] = res
        return res.hqla, [
            ("cap_adjustment", "adj15", res.adj_l2b, res.adj15),
            ("cap_adjustment", "adj40", res.adj_l2a + res.adj_l2b, res.adj40),
        ]

    lines, ratios, _stocks = summarise(
        detail,
        unwind,
        rules,
        reporting_currency=reporting_currency,
        tables=_LCR_TABLES,
        cap=cap,
        inflow_cap=rules["lcr_inflows"].factor("inflow_cap"),
        ratio_category="lcr",
    )
    main = main_line(frame["row"], detail, "lcr")
    contracts = with_hqla(main, hqla, ("hqla_level",)).select(
        "row", "hqla_level", "lcr_component", "lcr_category", "lcr_amount", "lcr_factor", "lcr_weighted_amount"
    )
    return LcrResult(
        lines=lines,
        contracts=contracts,
        detail=detail.select(
            "row",
            "currency",
            as_string("component", COMPONENT),
            as_string("category", detail.schema["category"]),
            "amount",
            "factor",
            "weighted_amount",
        ),
        ratio=ratios,
        assumptions=out,
        caps=caps,
        overrides=_overrides(rules, ("hqla", "lcr_outflows", "lcr_inflows")),
    )
