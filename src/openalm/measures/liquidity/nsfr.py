"""Net stable funding ratio (NSFR, 净稳定资金比例): BCBS 295 and the China G25_II form.

``NSFR = ASF / RSF`` (regulatory.md §2.1). Every on- and off-balance contract of the liquidity
frame is cut into *pieces* ``(component, category, maturity, amount)``; the factor of a piece comes
from the rule tables ``nsfr_asf`` / ``nsfr_rsf`` of the rule set (``china`` or ``basel``), keyed
``<category>.<maturity>`` or ``<category>``. Maturity is the G25_II column: ``lt_6m`` (< 6 months,
bands d1..m6), ``6m_1y`` (band y1), ``ge_1y`` (bands y5, y10, beyond) or ``none`` (undated).

Pieces of a contract
--------------------
* the *amount* is the carrying value: market value for securities held, the undrawn amount for
  commitments (else the balance), else ``carrying_amount`` or the balance;
* assets (longest possible maturity) are split by their contractual principal flows
  (``principal_<band>`` shares of the amount); performing assets' overdue principal goes to
  ``other_assets`` (100%), and the whole of a non-performing asset (NPL, > 90 days past due,
  defaulted) too; an undated asset without flows takes its ``maturity_days`` column, an undated
  loan ``ge_1y`` (recorded assumption), other undated assets ``none``;
* liabilities take the *earliest possible* maturity: the first of ``maturity_days``,
  ``next_withdrawal_days`` (penalty-free withdrawal), ``next_call_days`` (holder or both may call),
  ``notice_period_days`` (notice deposits); demand deposits are ``lt_6m``; with
  ``NsfrSettings.early_withdrawal_as_demand`` every early-withdrawable term deposit is ``lt_6m``;
* a contract may be cut into two *portions*: retail / small-business deposits into stable
  (insured part when transactional or with an established relationship) and less stable;
  operational FI deposits into the operational part and the excess; assets into the unencumbered
  part and the part encumbered for 6-12 months (factor = max(encumbrance factor, unencumbered
  factor)) or for >= 1 year;
* derivatives (``derivative_leg`` rows) are netted per ``deal_id`` in the reporting currency
  (§2.5). A deal with a positive value is an NSFR derivative asset, a negative one a derivative
  liability; RSF gets ``net_derivative_assets`` = 100% x max(0, DA - DL) and the add-on
  ``derivative_liabilities_addon`` = 20% x DL; ASF shows DL at 0%. There is no variation-margin data
  in the frame, so none is deducted (recorded as an assumption). A deal is booked on its first leg
  (lowest ``row``), converted to that leg's currency. The effective factor of the net line depends
  on the whole portfolio: ``detail`` and ``contracts`` carry the ALL-currency factor, each currency's
  line uses that currency's own DA and DL.

Rule-set specifics live in the tables only; Python holds no factor. Categories that cannot be
determined from the data get a documented, conservative category and an
:class:`~openalm.measures.liquidity.assumptions.Assumption`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from pydantic import BaseModel, Field

from openalm.errors import ConfigError, DataError, SchemaError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import BANDS, FRAME_SCHEMA, band_ends, ordered_group_by
from openalm.measures.liquidity.rules import RuleSet, RuleTable, load_rule_table

__all__ = ["MATURITIES", "NsfrResult", "NsfrSettings", "compute_nsfr"]

#: The residual-maturity columns of the NSFR (G25_II), plus ``none`` for undated items.
MATURITIES: tuple[str, ...] = ("lt_6m", "6m_1y", "ge_1y", "none")

HQLA_LEVELS = ("level_1", "level_2a", "level_2b", "non_hqla")

_MEASURE = "nsfr"
_SECURITIES = ("debt_security", "equity_investment", "fund_investment")
_DEPOSITS = ("deposit_demand", "deposit_term", "deposit_notice")
_DEPOSIT_LIKE = (*_DEPOSITS, "interbank_deposit")
_LENDING = ("loan", "bill_discount", "revolving_credit", "reverse_repo", "interbank_deposit", "interbank_lending")
_FI = ("bank", "other_financial")
_RETAIL = ("retail", "small_business")
_LISTED = ("cn_interbank", "cn_exchange", "foreign_listed")

_LT6 = [name for name, _ in BANDS[:5]]  # d1 d7 d30 d90 m6
_612 = [BANDS[5][0]]  # y1
_GE1 = [name for name, _ in BANDS[6:]]  # y5 y10 beyond

LINE_SCHEMA = {
    "rule_set": pl.String,
    "currency": pl.String,
    "component": pl.String,
    "category": pl.String,
    "line": pl.String,
    "label_zh": pl.String,
    "label_en": pl.String,
    "maturity": pl.String,
    "amount": pl.Float64,
    "factor": pl.Float64,
    "weighted_amount": pl.Float64,
    "contracts": pl.Int64,
}
DETAIL_SCHEMA = {
    "row": pl.UInt32,
    "component": pl.String,
    "category": pl.String,
    "maturity": pl.String,
    "amount": pl.Float64,
    "factor": pl.Float64,
    "weighted_amount": pl.Float64,
}


class NsfrSettings(BaseModel, extra="forbid"):
    """Settings of the NSFR (``liquidity.nsfr`` in the run config).

    Attributes
    ----------
    early_withdrawal_as_demand:
        Treat every term deposit with ``early_withdrawal_allowed = true`` as < 6 months. Default
        false: only a penalty-free withdrawal date (``next_withdrawal_days``) shortens a deposit,
        because the flag alone does not say the withdrawal is penalty-free (regulatory.md §2.1).
    six_month_days, one_year_days:
        Day thresholds (inclusive) of the ``lt_6m`` and ``6m_1y`` columns for items placed by a
        day count (maturity, withdrawal, call, encumbrance end) when ``as_of`` is not given; with
        ``as_of`` the calendar band ends of the frame are used instead (6M and 1Y after as-of).
    """

    early_withdrawal_as_demand: bool = False
    six_month_days: int = Field(default=183, ge=1)
    one_year_days: int = Field(default=365, ge=1)


@dataclass(frozen=True)
class NsfrResult:
    """The NSFR of one run.

    Attributes
    ----------
    lines:
        One row per (currency, component, category, maturity) with ``amount``, amount-weighted
        ``factor`` and ``weighted_amount``; a ``total`` row per component and currency; a
        ``component = ratio`` row per currency with the NSFR (decimal) in ``weighted_amount``.
        ``currency = "ALL"`` rows are converted to the reporting currency.
    contracts:
        One row per frame row: ``row``, ``nsfr_component``, ``nsfr_category`` (of its largest
        piece), ``nsfr_amount``, ``nsfr_factor`` (amount-weighted) and ``nsfr_weighted_amount``
        over the pieces of that component (null for rows outside the NSFR).
    detail:
        Every piece (``row, component, category, maturity, amount, factor, weighted_amount``,
        amounts in the contract currency): each line is the sum of its pieces.
    ratio:
        NSFR per currency and ``ALL`` (NaN when RSF is zero).
    assumptions:
        Undetermined categories and the assumption applied.
    """

    lines: pl.DataFrame
    contracts: pl.DataFrame
    detail: pl.DataFrame
    ratio: dict[str, float]
    assumptions: list[Assumption] = field(default_factory=list)


# --------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Tables:
    rule_set: str
    asf: RuleTable
    rsf: RuleTable


def _tables(rules: RuleSet | str) -> _Tables:
    if isinstance(rules, str):
        return _Tables(rules, load_rule_table(rules, "nsfr_asf"), load_rule_table(rules, "nsfr_rsf"))
    return _Tables(rules.rule_set, rules["nsfr_asf"], rules["nsfr_rsf"])


def _split_code(code: str) -> tuple[str, str | None]:
    head, _, tail = code.rpartition(".")
    if head and tail in MATURITIES:
        return head, tail
    return code, None


def _factor_rows(table: RuleTable, undated_from: str) -> pl.DataFrame:
    """``category, maturity, factor, line, label_zh, label_en`` for every factor row, expanded to
    all four maturity columns (a bare code applies to all; ``none`` falls back to ``undated_from``)."""
    spec: dict[tuple[str, str | None], tuple[float, str | None, str, str]] = {}
    order: dict[str, int] = {}
    for rule in table.rows.values():
        if rule.extra.get("kind") is not None:
            continue
        if rule.factor is None:
            raise ConfigError(f"rule {table.rule_set}/{table.name}/{rule.code} has no factor")
        spec[_split_code(rule.code)] = (rule.factor, rule.line, rule.label_zh, rule.label_en)
        order.setdefault(_split_code(rule.code)[0], len(order))
    rows: list[dict[str, Any]] = []
    for cat in order:
        for mat in MATURITIES:
            hit = spec.get((cat, mat)) or spec.get((cat, None))
            if hit is None and mat == "none":
                hit = spec.get((cat, undated_from))
            if hit is None:
                continue
            rows.append(
                {
                    "category": cat,
                    "maturity": mat,
                    "factor": hit[0],
                    "line": hit[1],
                    "label_zh": hit[2],
                    "label_en": hit[3],
                    "order": order[cat],
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "category": pl.String,
            "maturity": pl.String,
            "factor": pl.Float64,
            "line": pl.String,
            "label_zh": pl.String,
            "label_en": pl.String,
            "order": pl.Int32,
        },
    )


def _extra(table: RuleTable, code: str, key: str) -> Any:
    rule = table.rule(code)
    if key not in rule.extra:
        raise ConfigError(f"rule {table.rule_set}/{table.name}/{code} needs the key {key!r}")
    return rule.extra[key]


# --------------------------------------------------------------------------------------- helpers


def _sum(cols: list[str]) -> pl.Expr:
    return pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in cols])


def _bucket(days: pl.Expr, d6: int, d12: int) -> pl.Expr:
    return pl.when(days <= d6).then(pl.lit("lt_6m")).when(days <= d12).then(pl.lit("6m_1y")).otherwise(pl.lit("ge_1y"))


def _cap_in_reporting_currency(frame: pl.DataFrame, asf: RuleTable, reporting_currency: str) -> float | None:
    if "deposit_insurance_cap" not in asf:
        return None
    amount = asf.rule("deposit_insurance_cap").extra.get("amount")
    if amount is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise ConfigError(f"rule {asf.rule_set}/nsfr_asf/deposit_insurance_cap: amount {amount!r} is not a number")
    ccy = asf.rule("deposit_insurance_cap").extra.get("currency") or reporting_currency
    if ccy == reporting_currency:
        return float(amount)
    fx = frame.select("currency", "fx_rc").filter((pl.col("currency") == ccy) & pl.col("fx_rc").is_not_nan())["fx_rc"]
    if fx.len() == 0:
        raise ConfigError(
            f"deposit insurance cap is in {ccy} but the frame has no {ccy} rate to the reporting currency "
            f"{reporting_currency}; add the rate to fx_rates"
        )
    return float(amount) * float(fx[0])


def _insured(frame: pl.DataFrame, eligible: pl.Expr, cap_rc: float | None) -> pl.Series:
    """Insured amount of each row (contract currency), deposit insurance allocated per depositor.

    ``insured_amount`` is used where given (capped at the balance). Where it is null and a cap is
    known, the cap (in the reporting currency) less the depositor's given insured amounts is
    allocated to the depositor's other eligible accounts in row order, each up to its balance
    (the same allocation rule as positions.md §3.H). Rows without a depositor id or an FX rate, or
    without a cap, get zero (uninsured; the caller records the assumption).
    """
    bal = pl.col("balance").fill_null(0.0).clip(lower_bound=0.0)
    given = pl.when(pl.col("insured_amount").is_not_null()).then(pl.min_horizontal(pl.col("insured_amount"), bal))
    work = frame.select(
        pl.col("_i"),
        pl.col("counterparty_id"),
        eligible.alias("_el"),
        given.alias("_given"),
        (bal * pl.col("fx_rc")).alias("_bal_rc"),
        pl.col("fx_rc"),
    )
    if cap_rc is None:
        none = pl.when(pl.col("_el")).then(pl.col("_given").fill_null(0.0)).otherwise(0.0)
        return work.select(none.alias("_insured"))["_insured"]
    base = work.select(pl.when(pl.col("_el")).then(pl.col("_given").fill_null(0.0)).otherwise(0.0).alias("_insured"))
    # allocation only over the depositors' eligible accounts (usually a small part of the frame)
    sub = work.filter(pl.col("_el") & pl.col("counterparty_id").is_not_null())
    can = pl.col("_given").is_null() & pl.col("_bal_rc").is_finite()
    used = pl.when(pl.col("_given").is_not_null()).then(pl.col("_given") * pl.col("fx_rc")).otherwise(0.0).fill_nan(0.0)
    sub = sub.with_columns(
        pl.when(can).then(pl.col("_bal_rc")).otherwise(0.0).alias("_alloc_base"),
        used.alias("_used_rc"),
    )
    sub = sub.with_columns(
        (pl.lit(cap_rc) - pl.col("_used_rc").sum().over("counterparty_id")).clip(lower_bound=0.0).alias("_room"),
        # rows are in _i order, which over() keeps within each depositor
        (pl.col("_alloc_base").cum_sum().over("counterparty_id") - pl.col("_alloc_base")).alias("_before"),
    )
    alloc_rc = pl.min_horizontal((pl.col("_room") - pl.col("_before")).clip(lower_bound=0.0), pl.col("_alloc_base"))
    sub = sub.filter(can).select("_i", (alloc_rc / pl.col("fx_rc")).alias("_v"))
    return base["_insured"].scatter(sub["_i"], sub["_v"])


# --------------------------------------------------------------------------------------- main


def compute_nsfr(
    frame: pl.DataFrame,
    rules: RuleSet | str,
    *,
    reporting_currency: str = "CNY",
    hqla_level: pl.Series | None = None,
    settings: NsfrSettings | None = None,
    as_of: dt.date | None = None,
) -> NsfrResult:
    """The NSFR of a liquidity frame.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame (:data:`~openalm.measures.liquidity.frame.FRAME_SCHEMA`).
    rules:
        The rule set (uses its ``nsfr_asf`` and ``nsfr_rsf`` tables), or its name.
    reporting_currency:
        Currency of the ``ALL`` rows (``fx_rc`` converts to it).
    hqla_level:
        HQLA level per frame row (``level_1 | level_2a | level_2b | non_hqla | null``), e.g. from
        the LCR's ``classify_hqla``. When None, a frame column ``hqla_level`` is used if present;
        otherwise securities are classified by ``hqla_level_override``, else by
        ``product_subtype`` through the ``fallback_subtypes`` lists of the RSF table's HQLA rows
        (recorded as an assumption).
    settings:
        :class:`NsfrSettings` (defaults when None).
    as_of:
        The as-of date; when given, day counts are placed with the frame's calendar band ends
        (6M, 1Y), else with ``settings.six_month_days`` / ``one_year_days``.

    Returns
    -------
    NsfrResult
    """
    settings = settings or NsfrSettings()
    tabs = _tables(rules)
    missing = sorted(set(FRAME_SCHEMA) - set(frame.columns))
    if missing:
        raise SchemaError(f"liquidity frame lacks columns {missing}; build it with build_frame or frame_from_records")
    if as_of is not None:
        ends = band_ends(as_of)
        d6, d12 = ends[4], ends[5]
    else:
        d6, d12 = settings.six_month_days, settings.one_year_days
    assumptions: list[Assumption] = []

    f = frame.with_row_index("_i")
    f = f.with_columns(_hqla_column(f, tabs.rsf, hqla_level, assumptions))

    asf_f = _factor_rows(tabs.asf, "lt_6m")
    rsf_f = _factor_rows(tabs.rsf, "ge_1y")
    cats = {"asf": set(asf_f["category"].to_list()), "rsf": set(rsf_f["category"].to_list())}

    f = _classify(f, tabs, settings, d6, d12, reporting_currency, cats, assumptions)
    pieces = _pieces(f)
    detail = _apply_factors(pieces, asf_f, rsf_f)
    deriv = _derivatives(f, tabs, assumptions)
    detail_all = pl.concat([detail, deriv], how="vertical")

    idx = detail_all["_i"]
    keyed = detail_all.with_columns(
        f["row"].gather(idx).alias("row"),
        f["currency"].gather(idx).alias("currency"),
        f["fx_rc"].gather(idx).alias("fx_rc"),
    )
    bad_fx = f.filter(~pl.col("fx_rc").is_finite() | pl.col("fx_rc").is_null())
    if bad_fx.height:
        record_assumption(
            f.with_columns(pl.lit(0.0).alias("fx_rc")),
            pl.col("_i").is_in(bad_fx["_i"].implode()),
            measure=_MEASURE,
            code="nsfr.fx_rate_missing",
            message="no FX rate to the reporting currency (amount_rc shown as 0)",
            assumption="left out of the ALL-currency NSFR; kept in the contract-currency lines",
            out=assumptions,
        )
    lines = _lines(keyed, tabs, asf_f, rsf_f)
    ratio = {
        r["currency"]: (math.nan if r["weighted_amount"] is None else float(r["weighted_amount"]))
        for r in lines.filter(pl.col("component") == "ratio").iter_rows(named=True)
    }
    detail_out = keyed.select(
        pl.col("row"), "component", "category", "maturity", "amount", "factor", "weighted_amount"
    ).cast(DETAIL_SCHEMA)  # type: ignore[arg-type]
    contracts = _contracts(f, detail_out)
    return NsfrResult(lines=lines, contracts=contracts, detail=detail_out, ratio=ratio, assumptions=assumptions)


def _hqla_column(
    f: pl.DataFrame, rsf: RuleTable, hqla_level: pl.Series | None, assumptions: list[Assumption]
) -> pl.Expr:
    if hqla_level is not None:
        if hqla_level.len() != f.height:
            raise DataError(
                f"hqla_level has {hqla_level.len()} values but the frame has {f.height} rows",
                column="hqla_level",
            )
        series = hqla_level.cast(pl.String)
    elif "hqla_level" in f.columns:
        series = f["hqla_level"].cast(pl.String)
    else:
        fallback: dict[str, str] = {}
        for code, level in (("hqla_l1", "level_1"), ("hqla_l2a", "level_2a"), ("hqla_l2b", "level_2b")):
            for sub in _extra(rsf, code, "fallback_subtypes") or []:
                fallback[str(sub)] = level
        is_sec = pl.col("instrument_type").is_in(_SECURITIES) & (pl.col("side") == "asset")
        record_assumption(
            f,
            is_sec & pl.col("hqla_level_override").is_null(),
            measure=_MEASURE,
            code="nsfr.hqla_level_fallback",
            message="no HQLA classification was supplied (hqla_level) for securities held",
            assumption="HQLA level from product_subtype: "
            + ", ".join(f"{k} -> {v}" for k, v in sorted(fallback.items()))
            + "; other securities non-HQLA",
            out=assumptions,
        )
        return pl.coalesce(
            pl.col("hqla_level_override"),
            pl.col("product_subtype").replace_strict(fallback, default="non_hqla", return_dtype=pl.String),
        ).alias("_hqla")
    bad = series.is_not_null() & ~series.is_in(HQLA_LEVELS)
    if bad.any():
        k = int(bad.arg_true()[0])
        raise DataError(
            f"hqla_level must be one of {HQLA_LEVELS} or null",
            row=k + 1,
            column="hqla_level",
            value=series[k],
        )
    return pl.lit(series).alias("_hqla")


def _classify(
    f: pl.DataFrame,
    tabs: _Tables,
    settings: NsfrSettings,
    d6: int,
    d12: int,
    reporting_currency: str,
    cats: Mapping[str, set[str]],
    assumptions: list[Assumption],
) -> pl.DataFrame:
    """Add ``_comp, _cat_a, _cat_b, _share_b, _b_floor, _a_<maturity>, _overdue`` to the frame."""
    it = pl.col("instrument_type")
    cp = pl.col("cp_class")
    sub = pl.col("product_subtype")
    on_bs = pl.col("on_balance_sheet").fill_null(True)
    deriv = (it == "derivative_leg").fill_null(False)
    equity = ((pl.col("side") == "equity") | (it == "equity_capital")).fill_null(False)
    liab = (on_bs & ~deriv & ((pl.col("side") == "liability") | equity)).fill_null(False)
    asset = (on_bs & ~deriv & (pl.col("side") == "asset")).fill_null(False)
    obs = (~on_bs & ~deriv & (pl.col("side") == "asset")).fill_null(False)
    performing = pl.col("performing").fill_null(True)
    f, (deriv, equity, liab, asset, obs, performing) = _materialise(
        f, deriv=deriv, equity=equity, liab=liab, asset=asset, obs=obs, performing=performing
    )

    f = f.with_columns(
        pl.when(liab).then(pl.lit("asf")).when(asset | obs).then(pl.lit("rsf")).otherwise(None).alias("_comp"),
        _sum([f"principal_{b}" for b in _LT6]).alias("_p_lt6"),
        _sum([f"principal_{b}" for b in _612]).alias("_p_612"),
        _sum([f"principal_{b}" for b in _GE1]).alias("_p_ge1"),
    )
    f = f.with_columns((pl.col("_p_lt6") + pl.col("_p_612") + pl.col("_p_ge1")).alias("_p_tot"))

    # ---- earliest possible maturity of liabilities
    holder_call = pl.col("call_type").is_in(["holder", "both"])
    option_days = pl.min_horizontal(
        pl.col("next_withdrawal_days"),
        pl.when(holder_call).then(pl.col("next_call_days")),
        pl.when(it == "deposit_notice").then(pl.col("notice_period_days")),
        pl.when(
            pl.lit(settings.early_withdrawal_as_demand)
            & (it == "deposit_term")
            & pl.col("early_withdrawal_allowed").fill_null(False)
        ).then(pl.lit(0, dtype=pl.Int32)),
    )
    liab_days = pl.min_horizontal(option_days, pl.col("maturity_days"))
    f = f.with_columns(option_days.alias("_opt_days"), liab_days.alias("_liab_days"))

    # ---- ASF categories
    ten_plus = pl.col("_liab_days").is_null() | (pl.col("_liab_days") > d12)
    capital = (
        equity | pl.col("capital_tier").is_in(["cet1", "at1"]) | ((pl.col("capital_tier") == "t2") & ten_plus)
    ).fill_null(False)
    dated = pl.col("_liab_days").is_not_null() | (pl.col("_p_tot") > 0)
    fi_like = (
        cp.is_in(_FI) | ((cp == "unknown") & it.is_in(["interbank_deposit", "interbank_lending", "repo"]))
    ).fill_null(False)
    cb_like = ((cp == "central_bank") | (it == "central_bank_borrowing")).fill_null(False)
    cp_cat = (
        pl.when(cb_like & (it == "repo"))
        .then(pl.lit("central_bank_secured_funding"))
        .when(cb_like)
        .then(pl.lit("central_bank_funding"))
        .when(fi_like & (it == "repo"))
        .then(pl.lit("fi_secured_funding"))
        .when(fi_like)
        .then(pl.lit("fi_funding"))
        .when(cp.is_in(["corporate", "sovereign", "other"]))
        .then(pl.lit("corporate_sovereign_funding"))
        .otherwise(pl.lit("fi_funding"))
    )
    unknown_funding = (
        liab
        & ~capital
        & (it != "debt_security")
        & (it != "other_liability")
        & ~cp.is_in(_RETAIL)
        & (cp == "unknown")
        & ~cb_like
        & ~fi_like
    )
    retail = (liab & ~capital & ~it.is_in(["debt_security", "other_liability"]) & cp.is_in(_RETAIL)).fill_null(False)
    operational = (
        liab & ~capital & ~retail & pl.col("is_operational").fill_null(False) & (cp.is_in(_FI) | (cp == "central_bank"))
    ).fill_null(False)
    f, (capital, dated, fi_like, cb_like, unknown_funding, retail, operational, cp_cat) = _materialise(
        f,
        capital=capital,
        dated=dated,
        fi_like=fi_like,
        cb_like=cb_like,
        unknown_funding=unknown_funding,
        retail=retail,
        operational=operational,
        cp_cat=cp_cat,
    )
    asf_a = (
        pl.when(capital)
        .then(pl.lit("regulatory_capital"))
        .when(it == "debt_security")
        .then(pl.when(sub == "ncd").then(pl.lit("issued_ncd")).otherwise(pl.lit("issued_securities")))
        .when(it == "other_liability")
        .then(pl.when(dated).then(pl.lit("other_liabilities")).otherwise(pl.lit("no_maturity_liabilities")))
        .when(retail)
        .then(pl.lit("retail_stable"))
        .when(operational)
        .then(pl.lit("operational_deposits"))
        .otherwise(cp_cat)
    )

    # retail stability and deposit insurance
    criteria = pl.col("is_transactional").fill_null(False) | pl.col("has_established_relationship").fill_null(False)
    cap_rc = _cap_in_reporting_currency(f, tabs.asf, reporting_currency)
    insured = _insured(f, retail, cap_rc)
    f = f.with_columns(insured.alias("_insured"))
    bal = pl.col("balance").fill_null(0.0)
    stable_share = pl.when(criteria & (bal > 0)).then((pl.col("_insured") / bal).clip(0.0, 1.0)).otherwise(0.0)
    excess_share: pl.Expr = pl.when(bal > 0).then(
        (pl.col("operational_excess_amount").fill_null(0.0) / bal).clip(0.0, 1.0)
    )

    # ---- RSF categories
    lvl = pl.col("_hqla")
    security = (asset & it.is_in(_SECURITIES)).fill_null(False)
    rsf_rw_max = float(_extra(tabs.rsf, "loans_low_rw.ge_1y", "rw_max"))
    mort_rw_max = float(_extra(tabs.rsf, "residential_mortgages_low_rw.ge_1y", "rw_max"))
    ltv_max = float(_extra(tabs.rsf, "residential_mortgages_low_rw.ge_1y", "proxy_ltv_max"))
    rw = pl.col("risk_weight")
    mortgage = (sub == "mortgage_residential").fill_null(False) | (
        (it == "loan") & (pl.col("property_type") == "residential")
    ).fill_null(False)
    mortgage_low = (
        pl.when(rw.is_not_null()).then(rw <= mort_rw_max).otherwise(pl.col("ltv") <= ltv_max).fill_null(False)
    )
    rehyp = pl.coalesce(pl.col("collateral_rehypothecable"), pl.col("repo_type") == "outright").fill_null(False)
    fi_asset = (cp.is_in(_FI) | ((cp == "unknown") & it.is_in(["interbank_deposit", "interbank_lending"]))).fill_null(
        False
    )
    lending = (asset & it.is_in(_LENDING)).fill_null(False)
    f, (security, mortgage, mortgage_low, rehyp, fi_asset, lending) = _materialise(
        f,
        security=security,
        mortgage=mortgage,
        mortgage_low=mortgage_low,
        rehyp=rehyp,
        fi_asset=fi_asset,
        lending=lending,
    )
    rsf_a_on = (
        pl.when(~performing)
        .then(pl.lit("other_assets"))
        .when(it.is_in(["cash", "central_bank_reserve"]))
        .then(pl.lit("cash_central_bank"))
        .when(security & (lvl == "level_1"))
        .then(pl.lit("hqla_l1"))
        .when(security & (lvl == "level_2a"))
        .then(pl.lit("hqla_l2a"))
        .when(security & (lvl == "level_2b"))
        .then(pl.lit("hqla_l2b"))
        .when(security & (it == "debt_security"))
        .then(pl.lit("securities_non_hqla"))
        .when(security & (it == "equity_investment") & pl.col("listing_market").is_in(_LISTED))
        .then(pl.lit("listed_equities"))
        .when(security)
        .then(pl.lit("other_assets"))
        .when(lending & (cp == "central_bank"))
        .then(pl.lit("central_bank_claims"))
        .when(lending & (it == "interbank_deposit") & pl.col("is_operational").fill_null(False))
        .then(pl.lit("operational_deposits_held"))
        .when(lending & fi_asset)
        .then(
            pl.when((it == "reverse_repo") & (pl.col("collateral_hqla_level") == "level_1") & rehyp)
            .then(pl.lit("fi_loans_secured_l1"))
            .otherwise(pl.lit("fi_loans"))
        )
        .when(lending & mortgage)
        .then(
            pl.when(mortgage_low)
            .then(pl.lit("residential_mortgages_low_rw"))
            .otherwise(pl.lit("residential_mortgages"))
        )
        .when(lending & (rw <= rsf_rw_max).fill_null(False))
        .then(pl.lit("loans_low_rw"))
        .when(lending)
        .then(pl.lit("loans_non_fi"))
        .otherwise(pl.lit("other_assets"))
    )
    revocable = pl.col("unconditionally_cancellable")
    rsf_a_off = (
        pl.when(it.is_in(["loan_commitment", "revolving_credit"]))
        .then(pl.when(revocable.fill_null(False)).then(pl.lit("obs_revocable")).otherwise(pl.lit("obs_irrevocable")))
        .when(it == "acceptance")
        .then(pl.lit("obs_irrevocable"))
        .when(it.is_in(["guarantee", "letter_of_credit"]))
        .then(pl.lit("obs_trade_finance"))
        .otherwise(pl.lit("obs_other"))
    )

    # encumbrance overlay (performing on-balance assets)
    enc_days = pl.col("encumbrance_end_days")
    enc_amt = pl.col("encumbered_amount").fill_null(0.0)
    encumbered = (asset & performing & (enc_amt > 0)).fill_null(False)
    enc_cat = (
        pl.when(enc_days.is_null() | (enc_days > d12))
        .then(pl.lit("encumbered_ge_1y"))
        .when(enc_days > d6)
        .then(pl.lit("encumbered_6m_1y"))
        .otherwise(None)
    )
    enc_share: pl.Expr = pl.when(bal > 0).then((enc_amt / bal).clip(0.0, 1.0)).otherwise(1.0)

    f, (stable_share, excess_share, encumbered, enc_cat, enc_share) = _materialise(
        f,
        stable_share=stable_share,
        excess_share=excess_share,
        encumbered=encumbered,
        enc_cat=enc_cat,
        enc_share=enc_share,
    )
    override = pl.col("nsfr_category_override")
    cat_a = pl.when(liab).then(asf_a).when(asset).then(rsf_a_on).when(obs).then(rsf_a_off).otherwise(None)
    cat_b = (
        pl.when(override.is_not_null())
        .then(None)
        .when(retail)
        .then(pl.lit("retail_less_stable"))
        .when(operational)
        .then(cp_cat)
        .when(encumbered)
        .then(enc_cat)
        .otherwise(None)
    )
    share_b = (
        pl.when(override.is_not_null())
        .then(0.0)
        .when(retail)
        .then(1.0 - stable_share)
        .when(operational)
        .then(excess_share.fill_null(0.0))
        .when(encumbered & enc_cat.is_not_null())
        .then(enc_share)
        .otherwise(0.0)
    )
    f = f.with_columns(
        pl.coalesce(pl.when(pl.col("_comp").is_not_null()).then(override), cat_a).alias("_cat_a"),
        cat_b.alias("_cat_b"),
        share_b.alias("_share_b"),
        (encumbered & override.is_null()).alias("_b_floor"),
    )
    _check_overrides(f, cats)

    # ---- amounts by maturity
    base = (
        pl.when(security)
        .then(pl.col("market_value"))
        .when(obs & it.is_in(["loan_commitment", "revolving_credit"]))
        .then(pl.coalesce(pl.col("undrawn_amount"), pl.col("balance")))
        .otherwise(pl.coalesce(pl.col("carrying_amount"), pl.col("balance")))
        .fill_null(0.0)
    )
    overdue = (
        pl.when(asset & performing & (pl.col("_cat_a") != "other_assets"))
        .then(pl.min_horizontal(pl.col("overdue_principal").fill_null(0.0).clip(lower_bound=0.0), base))
        .otherwise(0.0)
    )
    f = f.with_columns(base.alias("_base"), overdue.alias("_overdue"))
    rest = pl.col("_base") - pl.col("_overdue")
    ptot = pl.col("_p_tot")
    undated_loan = asset & it.is_in(["loan", "bill_discount", "revolving_credit", "reverse_repo", "interbank_lending"])
    single = (
        pl.when(obs | ((pl.col("_cat_a") == "regulatory_capital") & equity))
        .then(pl.lit("none"))
        .when(liab & pl.col("_opt_days").is_not_null())
        .then(_bucket(pl.col("_opt_days"), d6, d12))
        .when(ptot > 0)
        .then(None)
        .when(pl.col("maturity_days").is_not_null())
        .then(_bucket(pl.col("maturity_days"), d6, d12))
        .when(liab & it.is_in(_DEPOSIT_LIKE))
        .then(pl.lit("lt_6m"))
        .when(asset & (it == "interbank_deposit"))
        .then(pl.lit("lt_6m"))
        .when(undated_loan & (pl.col("_cat_a") != "other_assets"))
        .then(pl.lit("ge_1y"))
        .otherwise(pl.lit("none"))
    )
    f = f.with_columns(single.alias("_single"))
    split = pl.col("_single").is_null()
    share = {"lt_6m": "_p_lt6", "6m_1y": "_p_612", "ge_1y": "_p_ge1"}
    amounts = []
    for mat in MATURITIES:
        by_flow = rest * pl.col(share[mat]) / ptot if mat in share else pl.lit(0.0)
        amounts.append(
            pl.when(pl.col("_comp").is_null())
            .then(0.0)
            .when(split)
            .then(by_flow)
            .when(pl.col("_single") == mat)
            .then(rest)
            .otherwise(0.0)
            .alias(f"_a_{mat}")
        )
    f = f.with_columns(amounts)

    # ---- assumptions (undetermined categories)
    notes = _Notes()
    notes.add(
        unknown_funding & override.is_null(),
        "nsfr.funding_without_counterparty_type",
        "liability without a counterparty type (cannot tell retail, corporate or financial)",
        "funding from financial institutions (0% < 6 m, 50% 6-12 m, 100% >= 1 y)",
    )
    notes.add(
        retail & pl.col("is_transactional").is_null() & pl.col("has_established_relationship").is_null(),
        "nsfr.retail_stability_unknown",
        "retail / small-business deposit without is_transactional and has_established_relationship",
        "criteria not met: less stable (90%)",
    )
    no_ins = retail & pl.col("insured_amount").is_null()
    if cap_rc is None:
        notes.add(
            no_ins,
            "nsfr.insured_amount_unknown",
            "retail / small-business deposit without insured_amount and no deposit insurance cap in the rule set",
            "uninsured: less stable (90%)",
        )
    else:
        notes.add(
            no_ins & (pl.col("counterparty_id").is_null() | ~(pl.col("fx_rc").is_finite())),
            "nsfr.insured_amount_unallocated",
            "retail / small-business deposit without insured_amount, depositor id or FX rate",
            "uninsured: less stable (90%)",
        )
    notes.add(
        lending & mortgage & rw.is_null() & pl.col("ltv").is_not_null() & performing,
        "nsfr.mortgage_rw_ltv_proxy",
        "residential mortgage without risk_weight",
        f"RW <= {mort_rw_max:g} when ltv <= {ltv_max:g} (rule-table proxy, regulatory.md 5.2 G4B-1 row 11.1.1)",
    )
    notes.add(
        lending & mortgage & rw.is_null() & pl.col("ltv").is_null() & performing,
        "nsfr.mortgage_rw_unknown",
        "residential mortgage without risk_weight and ltv",
        f"RW > {mort_rw_max:g} (85% for >= 1 y)",
    )
    notes.add(
        lending
        & ~fi_asset
        & ~mortgage
        & rw.is_null()
        & cp.is_in(["sovereign", "other", "unknown"])
        & performing
        & (cp != "central_bank"),
        "nsfr.loan_rw_unknown",
        "loan to a sovereign, PSE, other or unknown counterparty without risk_weight",
        f"RW > {rsf_rw_max:g} (85% for >= 1 y)",
    )
    notes.add(
        lending & (cp == "unknown") & ~it.is_in(["interbank_deposit", "interbank_lending"]),
        "nsfr.loan_without_counterparty_type",
        "loan without a counterparty type",
        "loan to a non-financial customer",
    )
    notes.add(
        encumbered & enc_days.is_null(),
        "nsfr.encumbrance_end_unknown",
        "encumbered asset without encumbrance_end_date",
        "encumbered for >= 1 year (100%)",
    )
    notes.add(
        split.not_() & (pl.col("_single") == "ge_1y") & undated_loan & pl.col("maturity_days").is_null(),
        "nsfr.undated_loan",
        "loan without maturity date and without contractual flows",
        "residual maturity >= 1 year",
    )
    notes.add(
        obs & it.is_in(["loan_commitment", "revolving_credit"]) & revocable.is_null(),
        "nsfr.commitment_revocability_unknown",
        "commitment without unconditionally_cancellable",
        "irrevocable facility",
    )
    notes.add(
        asset
        & (it == "reverse_repo")
        & fi_asset
        & (pl.col("collateral_hqla_level") == "level_1")
        & pl.col("collateral_rehypothecable").is_null()
        & (pl.col("repo_type") != "outright").fill_null(True),
        "nsfr.rehypothecation_unknown",
        "reverse repo with Level 1 collateral: rehypothecation right unknown (not an outright repo)",
        "not rehypothecable (15% < 6 m)",
    )
    notes.add(security & lvl.is_null(), "nsfr.hqla_level_missing", "security held without an HQLA level", "non-HQLA")
    notes.add(
        override.is_not_null(),
        "nsfr.category_override",
        "nsfr_category_override set on the position",
        "the overriding category is used as given",
    )
    notes.record(f, pl.col("_comp").is_not_null(), assumptions)
    return f


def _materialise(f: pl.DataFrame, **exprs: pl.Expr) -> tuple[pl.DataFrame, list[pl.Expr]]:
    """Evaluate intermediate expressions once as ``_<name>`` columns (keeps expression trees small)."""
    f = f.with_columns([e.alias(f"_{name}") for name, e in exprs.items()])
    return f, [pl.col(f"_{name}") for name in exprs]


class _Notes:
    """Assumption masks collected first and evaluated in one pass over a narrow frame."""

    def __init__(self) -> None:
        self.items: list[tuple[pl.Expr, str, str, str]] = []

    def add(self, mask: pl.Expr, code: str, message: str, assumption: str) -> None:
        self.items.append((mask, code, message, assumption))

    def record(self, f: pl.DataFrame, scope: pl.Expr, out: list[Assumption]) -> None:
        masks = [(scope & mask).fill_null(False).alias(f"_m{k}") for k, (mask, *_rest) in enumerate(self.items)]
        narrow = f.select("position_id", "balance", "fx_rc", *masks)
        hits = narrow.select(pl.col(f"_m{k}").any() for k in range(len(self.items))).row(0)
        for k, (_mask, code, message, assumption) in enumerate(self.items):
            if hits[k]:
                record_assumption(
                    narrow,
                    pl.col(f"_m{k}"),
                    measure=_MEASURE,
                    code=code,
                    message=message,
                    assumption=assumption,
                    out=out,
                )


def _note(f: pl.DataFrame, mask: pl.Expr, code: str, message: str, assumption: str, out: list[Assumption]) -> None:
    record_assumption(
        f, mask.fill_null(False), measure=_MEASURE, code=code, message=message, assumption=assumption, out=out
    )


def _check_overrides(f: pl.DataFrame, cats: Mapping[str, set[str]]) -> None:
    ov = f.filter(pl.col("nsfr_category_override").is_not_null() & pl.col("_comp").is_not_null())
    for comp in ("asf", "rsf"):
        bad = ov.filter((pl.col("_comp") == comp) & ~pl.col("nsfr_category_override").is_in(sorted(cats[comp])))
        if bad.height:
            r = bad.row(0, named=True)
            raise DataError(
                f"nsfr_category_override {r['nsfr_category_override']!r} (position {r['position_id']}) is not an "
                f"{comp.upper()} category of the rule set; expected one of {sorted(cats[comp])}",
                row=int(r["row"]) + 1 if r["row"] is not None else None,
                column="nsfr_category_override",
                value=r["nsfr_category_override"],
            )


def _pieces(f: pl.DataFrame) -> pl.DataFrame:
    """Long pieces: ``_i, component, category, fcat, floor, maturity, amount``."""
    cols = f.filter(pl.col("_comp").is_not_null()).select(
        "_i", "_comp", "_cat_a", "_cat_b", "_share_b", "_b_floor", "_overdue", *[f"_a_{m}" for m in MATURITIES]
    )
    parts: list[pl.LazyFrame] = []
    lf = cols.lazy()
    for mat in MATURITIES:
        amt = pl.col(f"_a_{mat}")
        parts.append(
            lf.select(
                "_i",
                pl.col("_comp").alias("component"),
                pl.col("_cat_a").alias("category"),
                pl.col("_cat_a").alias("fcat"),
                pl.lit(None, dtype=pl.String).alias("floor"),
                pl.lit(mat).alias("maturity"),
                (amt * (1.0 - pl.col("_share_b"))).alias("amount"),
            )
        )
        parts.append(
            lf.filter(pl.col("_cat_b").is_not_null() & (pl.col("_share_b") > 0)).select(
                "_i",
                pl.col("_comp").alias("component"),
                pl.col("_cat_b").alias("category"),
                pl.when(pl.col("_b_floor")).then(pl.col("_cat_a")).otherwise(pl.col("_cat_b")).alias("fcat"),
                pl.when(pl.col("_b_floor")).then(pl.col("_cat_b")).otherwise(None).alias("floor"),
                pl.lit(mat).alias("maturity"),
                (amt * pl.col("_share_b")).alias("amount"),
            )
        )
    parts.append(
        lf.filter(pl.col("_overdue") > 0).select(
            "_i",
            pl.col("_comp").alias("component"),
            pl.lit("other_assets").alias("category"),
            pl.lit("other_assets").alias("fcat"),
            pl.lit(None, dtype=pl.String).alias("floor"),
            pl.lit("none").alias("maturity"),
            pl.col("_overdue").alias("amount"),
        )
    )
    return pl.concat(parts, how="vertical").filter(pl.col("amount") != 0).collect()


def _apply_factors(pieces: pl.DataFrame, asf_f: pl.DataFrame, rsf_f: pl.DataFrame) -> pl.DataFrame:
    lookup = pl.concat(
        [
            asf_f.select(pl.lit("asf").alias("component"), "category", "maturity", "factor"),
            rsf_f.select(pl.lit("rsf").alias("component"), "category", "maturity", "factor"),
        ]
    )
    out = pieces.join(
        lookup.rename({"category": "fcat", "factor": "_f"}), on=["component", "fcat", "maturity"], how="left"
    ).join(lookup.rename({"category": "floor", "factor": "_fl"}), on=["component", "floor", "maturity"], how="left")
    missing = out.filter(pl.col("_f").is_null() | (pl.col("floor").is_not_null() & pl.col("_fl").is_null()))
    if missing.height:
        combos = missing.select("component", "fcat", "floor", "maturity").unique().sort(pl.all()).rows()
        raise ConfigError(f"NSFR rule tables have no factor for (component, category, floor, maturity) {combos[:10]}")
    factor = pl.max_horizontal(pl.col("_f"), pl.col("_fl"))
    return out.select(
        "_i",
        "component",
        "category",
        "maturity",
        "amount",
        factor.alias("factor"),
        (pl.col("amount") * factor).alias("weighted_amount"),
    )


def _derivatives(f: pl.DataFrame, tabs: _Tables, assumptions: list[Assumption]) -> pl.DataFrame:
    """Deal-level derivative pieces (booked on each deal's first leg), ALL-currency effective factor."""
    legs = f.select("_i", "position_id", "deal_id", "instrument_type", "balance", "fair_value", "fx_rc").filter(
        pl.col("instrument_type") == "derivative_leg"
    )
    empty = pl.DataFrame(
        schema={
            "_i": pl.UInt32,
            "component": pl.String,
            "category": pl.String,
            "maturity": pl.String,
            "amount": pl.Float64,
            "factor": pl.Float64,
            "weighted_amount": pl.Float64,
        }
    )
    if legs.height == 0:
        return empty
    _note(
        legs,
        pl.col("fair_value").is_null(),
        "nsfr.derivative_fair_value_missing",
        "derivative leg without fair_value",
        "fair value 0",
        assumptions,
    )
    _note(
        legs,
        pl.col("_i").is_not_null(),
        "nsfr.derivative_variation_margin",
        "no variation-margin or initial-margin data in the liquidity frame",
        "derivative assets and liabilities gross of variation margin; no initial-margin RSF",
        assumptions,
    )
    deals = (
        legs.with_columns(
            pl.coalesce(pl.col("deal_id"), pl.col("position_id")).alias("_deal"),
            (pl.col("fair_value").fill_null(0.0) * pl.col("fx_rc")).alias("_fv_rc"),
        )
        .sort("_i")
        .group_by("_deal", maintain_order=True)
        .agg(pl.col("_i").first(), pl.col("fx_rc").first().alias("_fx"), pl.col("_fv_rc").sum().alias("_v_rc"))
        .filter(pl.col("_fx").is_finite() & (pl.col("_v_rc") != 0))
        .with_columns((pl.col("_v_rc") / pl.col("_fx")).alias("_v"))
    )
    da = float(deals.filter(pl.col("_v_rc") > 0)["_v_rc"].sum())
    dl = float(-deals.filter(pl.col("_v_rc") < 0)["_v_rc"].sum())
    f_net = tabs.rsf.factor("net_derivative_assets")
    f_add = tabs.rsf.factor("derivative_liabilities_addon")
    f_asf = tabs.asf.factor("derivative_liabilities")
    eff = f_net * max(0.0, da - dl) / da if da > 0 else 0.0
    pos = deals.filter(pl.col("_v") > 0).select(
        "_i",
        pl.lit("rsf").alias("component"),
        pl.lit("net_derivative_assets").alias("category"),
        pl.lit("none").alias("maturity"),
        pl.col("_v").alias("amount"),
        pl.lit(eff).alias("factor"),
        (pl.col("_v") * eff).alias("weighted_amount"),
    )
    neg = deals.filter(pl.col("_v") < 0)
    asf = neg.select(
        "_i",
        pl.lit("asf").alias("component"),
        pl.lit("derivative_liabilities").alias("category"),
        pl.lit("none").alias("maturity"),
        (-pl.col("_v")).alias("amount"),
        pl.lit(f_asf).alias("factor"),
        (-pl.col("_v") * f_asf).alias("weighted_amount"),
    )
    add = neg.select(
        "_i",
        pl.lit("rsf").alias("component"),
        pl.lit("derivative_liabilities_addon").alias("category"),
        pl.lit("none").alias("maturity"),
        (-pl.col("_v")).alias("amount"),
        pl.lit(f_add).alias("factor"),
        (-pl.col("_v") * f_add).alias("weighted_amount"),
    )
    return pl.concat([empty, pos, asf, add], how="vertical")


def _lines(keyed: pl.DataFrame, tabs: _Tables, asf_f: pl.DataFrame, rsf_f: pl.DataFrame) -> pl.DataFrame:
    keys = ["currency", "component", "category", "maturity"]
    per_ccy = ordered_group_by(keyed, keys).agg(
        pl.col("amount").sum(), pl.col("weighted_amount").sum(), pl.col("_i").n_unique().alias("contracts")
    )
    ok = keyed.filter(pl.col("fx_rc").is_finite())
    all_ccy = ordered_group_by(ok, keys[1:]).agg(
        (pl.col("amount") * pl.col("fx_rc")).sum().alias("amount"),
        (pl.col("weighted_amount") * pl.col("fx_rc")).sum().alias("weighted_amount"),
        pl.col("_i").n_unique().alias("contracts"),
    )
    lines = pl.concat([per_ccy, all_ccy.with_columns(pl.lit("ALL").alias("currency")).select(per_ccy.columns)])
    # net derivative assets: 100% x max(0, DA - DL) within each currency view
    if lines.filter(pl.col("category") == "net_derivative_assets").height:
        f_net = tabs.rsf.factor("net_derivative_assets")
        dl = (
            lines.filter(pl.col("category") == "derivative_liabilities")
            .group_by("currency")
            .agg(pl.col("amount").sum().alias("_dl"))
        )
        lines = (
            lines.join(dl, on="currency", how="left")
            .with_columns(
                pl.when(pl.col("category") == "net_derivative_assets")
                .then(f_net * (pl.col("amount") - pl.col("_dl").fill_null(0.0)).clip(lower_bound=0.0))
                .otherwise(pl.col("weighted_amount"))
                .alias("weighted_amount")
            )
            .drop("_dl")
        )
    labels = pl.concat(
        [
            asf_f.with_columns(pl.lit("asf").alias("component")),
            rsf_f.with_columns(pl.lit("rsf").alias("component")),
        ]
    ).select("component", "category", "maturity", "line", "label_zh", "label_en", "order")
    lines = lines.join(labels, on=["component", "category", "maturity"], how="left")
    lines = lines.with_columns(
        pl.when(pl.col("amount") != 0).then(pl.col("weighted_amount") / pl.col("amount")).alias("factor")
    )
    contracts_by = keyed.group_by("currency", "component").agg(pl.col("_i").n_unique().alias("contracts"))
    contracts_all = (
        ok.group_by("component")
        .agg(pl.col("_i").n_unique().alias("contracts"))
        .with_columns(pl.lit("ALL").alias("currency"))
    )
    n = pl.concat([contracts_by, contracts_all.select(contracts_by.columns)])
    totals = (
        lines.group_by("currency", "component")
        .agg(pl.col("amount").sum(), pl.col("weighted_amount").sum())
        .join(n, on=["currency", "component"], how="left")
    )
    tot_rows = []
    for comp, table in (("asf", tabs.asf), ("rsf", tabs.rsf)):
        rule = table.rule("total")
        tot_rows.append(
            totals.filter(pl.col("component") == comp).with_columns(
                pl.lit("total").alias("category"),
                pl.lit("none").alias("maturity"),
                pl.lit(rule.line).alias("line"),
                pl.lit(rule.label_zh).alias("label_zh"),
                pl.lit(rule.label_en).alias("label_en"),
                pl.when(pl.col("amount") != 0).then(pl.col("weighted_amount") / pl.col("amount")).alias("factor"),
            )
        )
    tot = pl.concat(tot_rows, how="diagonal")
    wide = tot.group_by("currency").agg(
        pl.col("weighted_amount").filter(pl.col("component") == "asf").sum().alias("_asf"),
        pl.col("weighted_amount").filter(pl.col("component") == "rsf").sum().alias("_rsf"),
    )
    rrule = tabs.rsf.rule("nsfr_ratio")
    ratio = wide.select(
        "currency",
        pl.lit("ratio").alias("component"),
        pl.lit("nsfr").alias("category"),
        pl.lit("none").alias("maturity"),
        pl.lit(rrule.line).alias("line"),
        pl.lit(rrule.label_zh).alias("label_zh"),
        pl.lit(rrule.label_en).alias("label_en"),
        pl.lit(None, dtype=pl.Float64).alias("amount"),
        pl.lit(None, dtype=pl.Float64).alias("factor"),
        pl.when(pl.col("_rsf") > 0).then(pl.col("_asf") / pl.col("_rsf")).alias("weighted_amount"),
        pl.lit(None, dtype=pl.Int64).alias("contracts"),
    )
    out = pl.concat(
        [
            lines.with_columns(pl.lit(0).alias("_o")),
            tot.with_columns(pl.lit(1).alias("_o")),
            ratio.with_columns(pl.lit(2).alias("_o")),
        ],
        how="diagonal_relaxed",
    ).with_columns(pl.lit(tabs.rule_set).alias("rule_set"))
    comp_order = pl.col("component").replace_strict({"asf": 0, "rsf": 1, "ratio": 2}, return_dtype=pl.Int8)
    mat_order = pl.col("maturity").replace_strict({m: k for k, m in enumerate(MATURITIES)}, return_dtype=pl.Int8)
    ccy_order = pl.col("currency") == "ALL"
    out = out.sort([ccy_order, "currency", comp_order, "_o", "order", mat_order], nulls_last=True)
    return out.select([pl.col(c).cast(t) for c, t in LINE_SCHEMA.items()])


def _contracts(f: pl.DataFrame, detail: pl.DataFrame) -> pl.DataFrame:
    """One row per frame row: the contract's largest piece names its component and category;
    amount and weighted amount sum the contract's pieces of that component.

    Most contracts have one piece: they are taken as they are; only contracts with several
    pieces are sorted and aggregated. Frame rows are ``0..n-1``, so the result is scattered into
    place instead of joined.
    """
    d = detail.select("row", "component", "category", "amount", "weighted_amount")
    multi_mask = d["row"].is_duplicated()
    single = d.filter(~multi_mask)
    multi = d.filter(multi_mask)
    main = (
        multi.sort(["row", "amount", "component", "category"], descending=[False, True, False, False])
        .unique("row", keep="first", maintain_order=True)
        .select("row", "component", "category")
    )
    sums = multi.group_by("row", "component").agg(pl.col("amount").sum(), pl.col("weighted_amount").sum())
    multi_main = main.join(sums, on=["row", "component"], how="left")
    both = pl.concat([single, multi_main.select(single.columns)])
    n = f.height
    rows = f["row"].cast(pl.Int64)
    if not (n == 0 or (rows[0] == 0 and rows[n - 1] == n - 1 and bool((rows.diff().drop_nulls() == 1).all()))):
        # rows are not 0..n-1 (a filtered frame): place by join
        joined = f.select(pl.col("row").cast(pl.UInt32)).join(
            both.with_columns(pl.col("row").cast(pl.UInt32)), on="row", how="left", maintain_order="left"
        )
        return joined.select(
            "row",
            pl.col("component").cast(pl.String).alias("nsfr_component"),
            pl.col("category").cast(pl.String).alias("nsfr_category"),
            pl.col("amount").alias("nsfr_amount"),
            pl.when(pl.col("amount") != 0).then(pl.col("weighted_amount") / pl.col("amount")).alias("nsfr_factor"),
            pl.col("weighted_amount").alias("nsfr_weighted_amount"),
        )
    idx = both["row"].cast(pl.Int64)

    def placed(name: str, values: pl.Series, dtype: pl.DataType) -> pl.Series:
        return pl.Series(name, [None] * n, dtype).scatter(idx, values.cast(dtype))

    res = pl.DataFrame(
        [
            f["row"].cast(pl.UInt32),
            placed("nsfr_component", both["component"], pl.String()),
            placed("nsfr_category", both["category"], pl.String()),
            placed("nsfr_amount", both["amount"], pl.Float64()),
            placed("nsfr_weighted_amount", both["weighted_amount"], pl.Float64()),
        ]
    ).with_columns(
        pl.when(pl.col("nsfr_amount") != 0)
        .then(pl.col("nsfr_weighted_amount") / pl.col("nsfr_amount"))
        .alias("nsfr_factor")
    )
    return res.select("row", "nsfr_component", "nsfr_category", "nsfr_amount", "nsfr_factor", "nsfr_weighted_amount")
    main = main.join(sums, left_on=["row", "nsfr_component"], right_on=["row", "component"], how="left").with_columns(
        pl.when(pl.col("nsfr_amount") != 0)
        .then(pl.col("nsfr_weighted_amount") / pl.col("nsfr_amount"))
        .alias("nsfr_factor")
    )
    return (
        f.select(pl.col("row").cast(pl.UInt32))
        .join(main, on="row", how="left", maintain_order="left")
        .select("row", "nsfr_component", "nsfr_category", "nsfr_amount", "nsfr_factor", "nsfr_weighted_amount")
    )
