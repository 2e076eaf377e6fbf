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
      due within 30 days -> ``other_contractual`` (China: rows 2.1.1-2.1.4 carry principal only).
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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field

from openalm.errors import ConfigError, DataError
from openalm.i18n import label
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import ordered_group_by
from openalm.measures.liquidity.hqla import CapResult, apply_hqla_caps, classify_hqla
from openalm.measures.liquidity.rules import RuleSet, RuleTable

__all__ = [
    "LINE_SCHEMA",
    "SUMMARY_CATEGORIES",
    "LcrResult",
    "LcrSettings",
    "compute_lcr",
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
# low-cardinality code columns compared many times: categorical in the work frame
_CODES = ("instrument_type", "product_subtype", "cp_class", "side", "collateral_hqla_level", "repo_type")


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


def _piece(
    work: pl.LazyFrame, mask: pl.Expr, component: str, category: pl.Expr, amount: pl.Expr, kind: str
) -> pl.LazyFrame:
    """Detail rows ``row, currency, fx_rc, component, category, amount, _kind`` where ``mask`` holds and amount > 0."""
    return (
        work.filter(mask)
        .select(
            "row",
            "currency",
            "fx_rc",
            pl.lit(component).alias("component"),
            category.alias("category"),
            amount.cast(pl.Float64).alias("amount"),
            pl.lit(kind).alias("_kind"),
        )
        .filter(pl.col("amount") > _EPS)
    )


def _insured(work: pl.DataFrame, settings: LcrSettings, reporting_currency: str) -> pl.Expr:
    """Insured amount per row (contract currency): stated, or the per-depositor cap allocated pro rata."""
    if settings.deposit_insurance_currency != reporting_currency:
        raise ConfigError(
            f"liquidity.lcr.deposit_insurance_currency {settings.deposit_insurance_currency!r} must equal the "
            f"reporting currency {reporting_currency!r} (the cap is compared with balances converted by fx_rc)"
        )
    bal = pl.col("balance").fill_null(0.0)
    fx = pl.col("fx_rc").fill_nan(None)
    stated = pl.col("insured_amount").is_not_null()
    cid = pl.col("counterparty_id")
    used = (pl.when(pl.col("_insurable") & stated).then(pl.col("insured_amount") * fx).otherwise(0.0)).sum().over(cid)
    open_bal = (pl.when(pl.col("_insurable") & ~stated).then(bal * fx).otherwise(0.0)).sum().over(cid)
    left = (pl.lit(settings.deposit_insurance_cap) - used).clip(lower_bound=0.0)
    share = pl.when(open_bal > 0).then((left / open_bal).clip(upper_bound=1.0)).otherwise(0.0)
    return (
        pl.when(~pl.col("_insurable"))
        .then(0.0)
        .when(stated)
        .then(pl.min_horizontal(pl.col("insured_amount"), bal))
        .when(cid.is_null())
        .then(0.0)
        .otherwise(bal * share.fill_null(0.0))
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


def _build_detail(
    frame: pl.DataFrame,
    rules: RuleSet,
    hqla: pl.DataFrame,
    settings: LcrSettings,
    reporting_currency: str,
    out: list[Assumption],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(detail with ``fx_rc``, work frame) before factors are attached."""
    outflows, inflows = rules["lcr_outflows"], rules["lcr_inflows"]
    _validate_overrides(frame, outflows, inflows)
    china = rules.rule_set == "china"
    enum = _code_enum(rules)

    def E(code: str) -> pl.Expr:  # noqa: N802 - a category literal (Enum: cheap to broadcast)
        return pl.lit(code, dtype=enum) if code in enum.categories else pl.lit(None, dtype=enum)

    it, sub, cls, side = pl.col("instrument_type"), pl.col("product_subtype"), pl.col("cp_class"), pl.col("side")
    on_bs = pl.col("on_balance_sheet").fill_null(True)
    liability = (side == "liability") & on_bs
    asset = (side == "asset") & on_bs
    hq = hqla.select("row", "hqla_level", "hqla_category", "hqla_market_value", "hqla_value")
    if hq.height == frame.height and hq["row"].equals(frame["row"]):
        work = frame.hstack(hq.drop("row").get_columns())
    else:
        work = frame.join(hq, on="row", how="left")
    work = work.with_columns(
        *[pl.col(c).cast(pl.Categorical) for c in _CODES],
        P30.alias("_p30"),
        I30.alias("_i30"),
        (liability & it.is_in(_DEPOSITS) & cls.is_in(_INSURABLE)).alias("_insurable"),
    )
    work = work.with_columns(_insured(work, settings, reporting_currency).alias("_ins"))
    bal = pl.col("balance").fill_null(0.0)
    funding = liability & it.is_in(_FUNDING)
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
    base = pl.when(whole).then(bal).otherwise(pl.col("_p30"))
    scale = pl.when(bal > 0).then(pl.col("_base") / bal).otherwise(0.0)
    op_flag = pl.col("is_operational").fill_null(False) & cls.is_in(
        ("corporate", "sovereign", "central_bank", "bank", "other_financial")
    )
    work = work.with_columns(base.alias("_base"))
    work = work.with_columns(
        pl.min_horizontal(pl.col("_ins") * scale, pl.col("_base")).alias("_ins_b"),
        pl.when(op_flag)
        .then(
            pl.col("_base")
            - pl.min_horizontal(pl.col("operational_excess_amount").fill_null(0.0) * scale, pl.col("_base"))
        )
        .otherwise(0.0)
        .alias("_op"),
    )
    work = work.with_columns(
        pl.min_horizontal(pl.col("_ins_b"), pl.col("_op")).alias("_ins_op"),
        (pl.col("_base") - pl.col("_op")).alias("_nonop"),
    )
    work = work.with_columns((pl.col("_ins_b") - pl.col("_ins_op")).alias("_ins_rest"))
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
    lw = work.lazy()
    pieces: list[pl.LazyFrame] = []
    # piece 1: insured (retail/sb) or operational insured (corporate/sovereign)
    cat1 = (
        pl.when(small & stable_flag)
        .then(pfx("_stable" + crit))
        .when(small)
        .then(pfx("_less_stable_insured"))
        .otherwise(pfx("_operational_insured" + crit))
    )
    amt1 = pl.when(small).then(pl.col("_ins_b")).when(wholesale_nf).then(pl.col("_ins_op")).otherwise(0.0)
    pieces.append(_piece(lw, funding & (small | wholesale_nf), "outflow", cat1, amt1, "principal"))
    # piece 2: uninsured retail/sb, operational uninsured
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
    pieces.append(_piece(lw, funding & (small | wholesale_nf | fi), "outflow", cat2, amt2, "principal"))
    # piece 3: non-operational wholesale
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
    pieces.append(_piece(lw, funding & ~small, "outflow", cat3, pl.col("_nonop"), "principal"))
    # issued debt
    issued = liability & (it == "debt_security")
    cat_debt = (
        pl.when(sub == "ncd")
        .then(E("unsecured_other"))
        .when(sub.is_in(("covered_bond", "abs")))
        .then(E("structured_funding"))
        .otherwise(E("own_debt"))
    )
    pieces.append(_piece(lw, issued, "outflow", cat_debt, pl.col("_p30"), "principal"))
    # secured funding
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
    pieces.append(_piece(lw, secured, "outflow", cat_sec, pl.col("_p30"), "principal"))
    # other liabilities and interest
    pieces.append(
        _piece(
            lw,
            liability & (it == "other_liability"),
            "outflow",
            E("other_contractual"),
            pl.col("_p30"),
            "principal",
        )
    )
    pieces.append(
        _piece(
            lw,
            liability & (it != "derivative_leg"),
            "outflow",
            E("other_contractual"),
            pl.col("_i30"),
            "interest",
        )
    )
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
    pieces.append(_piece(lw, given, "outflow", cat_commit, pl.col("undrawn_amount").fill_null(0.0), "principal"))
    offbs = ~on_bs & (side == "asset")
    cat_cont = (
        pl.when(it == "guarantee")
        .then(E("guarantees"))
        .when(it == "letter_of_credit")
        .then(E("letters_of_credit"))
        .otherwise(E("trade_finance"))
    )
    pieces.append(
        _piece(
            lw,
            offbs & it.is_in(("guarantee", "letter_of_credit", "acceptance")),
            "outflow",
            cat_cont,
            bal,
            "principal",
        )
    )
    received = (side == "liability") & (it == "loan_commitment")
    pieces.append(
        _piece(
            lw,
            received,
            "inflow",
            E("facility_received"),
            pl.coalesce(pl.col("undrawn_amount"), bal),
            "principal",
        )
    )
    # derivatives: net per counterparty (else deal) and currency
    deriv = it == "derivative_leg"
    signed = (pl.col("_p30") + pl.col("_i30")) * pl.when(side == "liability").then(1.0).otherwise(-1.0)
    key = pl.coalesce(pl.col("counterparty_id"), pl.col("deal_id"), pl.col("position_id"))
    dw = lw.filter(deriv).with_columns(signed.alias("_s"), key.alias("_key"))
    dw = dw.with_columns(pl.col("_s").sum().over("_key", "currency").alias("_net"))
    for comp, cat, sign in (("outflow", "derivatives_net_outflow", 1.0), ("inflow", "derivatives_net_inflow", -1.0)):
        pieces.append(
            dw.filter(pl.col("_net") * sign > _EPS).select(
                "row",
                "currency",
                "fx_rc",
                pl.lit(comp).alias("component"),
                E(cat).alias("category"),
                (pl.col("_s") * sign).alias("amount"),
                pl.lit("principal").alias("_kind"),
            )
        )
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
    pieces.append(_piece(lw, inflow_rows, "inflow", cat_in, pl.col("_p30") + pl.col("_i30"), "principal"))
    # HQLA stock
    pieces.append(_piece(lw, in_stock, "hqla", pl.col("hqla_category").cast(enum), pl.col("hqla_market_value"), "hqla"))
    detail = pl.concat(pieces, how="vertical_relaxed").collect().with_columns(pl.col("category").cast(pl.String))

    checks: list[dict[str, Any]] = []
    # overrides: the contract's principal pieces are replaced by one piece in the override category
    ovr = pl.col("lcr_category_override")
    ovr_rows = work.filter(ovr.is_not_null())
    if ovr_rows.height:
        out_codes = sorted(outflows.rows)
        ovr_base = (
            pl.when(~on_bs)
            .then(pl.coalesce(pl.col("undrawn_amount"), bal))
            .when(funding)
            .then(pl.col("_base"))
            .when(side == "liability")
            .then(pl.col("_p30"))
            .otherwise(pl.col("_p30") + pl.col("_i30"))
        )
        ovr_comp = pl.when(ovr.is_in(out_codes)).then(pl.lit("outflow")).otherwise(pl.lit("inflow"))
        add = ovr_rows.select(
            "row",
            "currency",
            "fx_rc",
            ovr_comp.alias("component"),
            ovr.alias("category"),
            ovr_base.cast(pl.Float64).alias("amount"),
            pl.lit("principal").alias("_kind"),
        )
        drop = ovr_rows.select("row", pl.lit("principal").alias("_kind"))
        detail = pl.concat([detail.join(drop, on=["row", "_kind"], how="anti"), add], how="vertical_relaxed")
        checks.append(
            dict(
                mask=ovr.is_not_null(),
                measure="lcr",
                code="lcr.category_override",
                message="lcr_category_override set on the position",
                assumption="the contract's base amount goes to the override category",
            )
        )

    # assumptions on undetermined categories
    unknown = cls == "unknown"
    not_ovr = ovr.is_null()
    checks.append(
        dict(
            mask=not_ovr & funding & unknown,
            code="lcr.funding_without_counterparty_type",
            message="deposit or unsecured funding without counterparty_type",
            assumption="other unsecured wholesale funding (unsecured_other, 100%)",
        )
    )
    checks.append(
        dict(
            mask=not_ovr
            & pl.col("_insurable")
            & pl.col("insured_amount").is_null()
            & pl.col("counterparty_id").is_null(),
            code="lcr.deposit_without_counterparty_id",
            message="deposit without counterparty_id and insured_amount: the per-depositor cap cannot be allocated",
            assumption="uninsured",
        )
    )
    checks.append(
        dict(
            mask=not_ovr
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
            mask=not_ovr & secured & (cls != "central_bank") & coll.is_null(),
            code="lcr.secured_funding_without_collateral_level",
            message="repo / secured funding without collateral_hqla_level",
            assumption="other secured funding (secured_other, 100%)",
        )
    )
    checks.append(
        dict(
            mask=not_ovr
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
            mask=not_ovr & given & pl.col("unconditionally_cancellable").is_null(),
            code="lcr.commitment_cancellability_unknown",
            message="commitment without unconditionally_cancellable",
            assumption="committed (not cancellable)",
        )
    )
    checks.append(
        dict(
            mask=not_ovr & given & unknown,
            code="lcr.commitment_without_counterparty_type",
            message="commitment without counterparty_type",
            assumption="other legal entity (100%)",
        )
    )
    checks.append(
        dict(
            mask=not_ovr
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
            mask=not_ovr
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
            & ((pl.col("_p30") + pl.col("_i30")) > 0),
            code="lcr.inflow_without_counterparty_type",
            message="performing asset with flows due within 30 days but no counterparty_type",
            assumption="non-financial wholesale (50%)",
        )
    )
    flags = work.select(
        "position_id", "balance", "fx_rc", *[c["mask"].fill_null(False).alias(f"_m{k}") for k, c in enumerate(checks)]
    )
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
    return detail, work


def _attach_factors(detail: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    maps = {
        "hqla": {c: r.factor for c, r in rules["hqla"].rows.items()},
        "outflow": {c: r.factor for c, r in rules["lcr_outflows"].rows.items()},
        "inflow": {c: r.factor for c, r in rules["lcr_inflows"].rows.items()},
    }
    for comp, table in (("outflow", "lcr_outflows"), ("inflow", "lcr_inflows"), ("hqla", "hqla")):
        used = set(detail.filter(pl.col("component") == comp)["category"].unique().to_list())
        missing = sorted(c for c in used if maps[comp].get(c) is None)
        if missing:
            raise ConfigError(f"rule table {rules.rule_set}/{table} lacks rows (or factors) for {missing}")
    factor = pl.lit(None, dtype=pl.Float64)
    for comp, m in maps.items():
        factor = (
            pl.when(pl.col("component") == comp)
            .then(pl.col("category").replace_strict(m, default=None, return_dtype=pl.Float64))
            .otherwise(factor)
        )
    return detail.with_columns(factor.alias("factor")).with_columns(
        (pl.col("amount") * pl.col("factor")).alias("weighted_amount")
    )


def _label_frame(rules: RuleSet, tables: dict[str, str]) -> pl.DataFrame:
    frames = []
    for comp, name in tables.items():
        t = rules[name].to_frame()
        frames.append(
            t.select(pl.lit(comp).alias("component"), pl.col("code").alias("category"), "line", "label_zh", "label_en")
        )
    return pl.concat(frames)


def _overrides(rules: RuleSet, names: tuple[str, ...]) -> list[str]:
    return [m for m in rules.overrides_applied() if any(f"/{n}/" in m for n in names)]


def _ratio(num: float, den: float) -> float:
    if abs(den) > _EPS:
        return num / den
    return math.inf if num > _EPS else math.nan


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
    """Category lines and summary rows per currency and ALL (shared by the LCR and the G26 ratio)."""
    del reporting_currency
    fx_ok = pl.col("fx_rc").is_not_nan() & pl.col("fx_rc").is_not_null()
    fx = pl.when(fx_ok).then(pl.col("fx_rc"))
    per = ordered_group_by(detail, "currency", "component", "category").agg(
        pl.col("amount").sum(),
        pl.col("factor").first(),
        pl.col("weighted_amount").sum(),
        pl.col("row").n_unique().cast(pl.Int64).alias("contracts"),
        (pl.col("amount") * fx).sum().alias("_amount_rc"),
        (pl.col("weighted_amount") * fx).sum().alias("_weighted_rc"),
        pl.col("row").filter(fx_ok).n_unique().cast(pl.Int64).alias("_contracts_rc"),
    )
    # a contract has one currency, so the ALL count is the sum of the per-currency counts
    all_lines = per.group_by("component", "category").agg(
        pl.lit("ALL").alias("currency"),
        pl.col("_amount_rc").sum().alias("amount"),
        pl.col("factor").first(),
        pl.col("_weighted_rc").sum().alias("weighted_amount"),
        pl.col("_contracts_rc").sum().alias("contracts"),
    )
    both = pl.concat([per.drop("_amount_rc", "_weighted_rc", "_contracts_rc"), all_lines], how="diagonal_relaxed")
    lines = both.join(_label_frame(rules, tables), on=["component", "category"], how="left")
    levels = {c: str(r.extra.get("level")) for c, r in rules["hqla"].rows.items() if "level" in r.extra}
    by_level = (
        both.filter(pl.col("component") == "hqla")
        .with_columns(pl.col("category").replace_strict(levels, default=None, return_dtype=pl.String).alias("_level"))
        .group_by("currency", "_level")
        .agg(pl.col("weighted_amount").sum())
    )
    un_all = unwind.filter(fx_ok).with_columns(pl.lit("ALL").alias("currency"), pl.col("_adj") * pl.col("fx_rc"))
    un = pl.concat([unwind, un_all], how="vertical_relaxed").group_by("currency", "_level").agg(pl.col("_adj").sum())
    flows = (
        both.filter(pl.col("component").is_in(("outflow", "inflow")))
        .group_by("currency", "component")
        .agg(pl.col("weighted_amount").sum())
    )
    seen = set(detail["currency"].unique().to_list()) | set(unwind["currency"].unique().to_list())
    currencies = [*sorted(seen), "ALL"]
    get = {(r[0], r[1]): r[2] for r in by_level.iter_rows()}
    get_un = {(r[0], r[1]): r[2] for r in un.iter_rows()}
    get_fl = {(r[0], r[1]): r[2] for r in flows.iter_rows()}
    summary: list[dict[str, object]] = []
    ratios: dict[str, float] = {}
    stocks: dict[str, dict[str, float]] = {}
    for cur in currencies:
        vals = {lv: float(get.get((cur, lv), 0.0)) for lv in ("level_1", "level_2a", "level_2b")}
        vals.update(
            {"adj_" + lv: vals[lv] + float(get_un.get((cur, lv), 0.0)) for lv in ("level_1", "level_2a", "level_2b")}
        )
        stock, rows = cap(cur, vals)
        outf = float(get_fl.get((cur, "outflow"), 0.0))
        inf = float(get_fl.get((cur, "inflow"), 0.0))
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
        for comp, cat, amount, weighted in entries:
            summary.append(
                {
                    "currency": cur,
                    "component": comp,
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


def contracts_from_detail(frame: pl.DataFrame, detail: pl.DataFrame, hqla: pl.DataFrame) -> pl.DataFrame:
    """One row per frame row: HQLA level and the main LCR line of the contract.

    The main line is the contract's component with the largest amount and, within it, the
    category with the largest amount; ``lcr_amount`` / ``lcr_weighted_amount`` sum the contract's
    detail rows of that component, ``lcr_factor`` = weighted / amount.
    """
    # most contracts feed exactly one line: take those directly, aggregate only the others
    ds = detail.sort("row", "component", "category")  # ties break the same way in every run
    r = pl.col("row")
    dup = (r == r.shift(1)).fill_null(False) | (r == r.shift(-1)).fill_null(False)
    cols = ["row", "lcr_component", "lcr_category", "lcr_amount", "lcr_weighted_amount"]
    single = ds.filter(~dup).select(
        "row",
        pl.col("component").alias("lcr_component"),
        pl.col("category").alias("lcr_category"),
        pl.col("amount").alias("lcr_amount"),
        pl.col("weighted_amount").alias("lcr_weighted_amount"),
    )
    per = (
        ds.filter(dup)
        .group_by("row", "component", maintain_order=True)
        .agg(
            pl.col("amount").sum().alias("lcr_amount"),
            pl.col("weighted_amount").sum().alias("lcr_weighted_amount"),
            pl.col("category").get(pl.col("amount").arg_max()).alias("lcr_category"),
        )
    )
    best = pl.col("lcr_amount").arg_max()
    multi = (
        per.sort("row", "component")
        .group_by("row", maintain_order=True)
        .agg(
            pl.col("component").get(best).alias("lcr_component"),
            pl.col("lcr_category").get(best),
            pl.col("lcr_amount").get(best),
            pl.col("lcr_weighted_amount").get(best),
        )
    )
    main = pl.concat([single, multi.select(cols)])
    main = main.with_columns(
        pl.when(pl.col("lcr_amount").abs() > _EPS)
        .then(pl.col("lcr_weighted_amount") / pl.col("lcr_amount"))
        .alias("lcr_factor")
    )
    return (
        frame.select("row")
        .join(hqla.select("row", "hqla_level"), on="row", how="left")
        .join(main, on="row", how="left")
        .select("row", "hqla_level", "lcr_component", "lcr_category", "lcr_amount", "lcr_factor", "lcr_weighted_amount")
    )


def _unwind(work: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Changes of each HQLA level (post-haircut) when SFTs maturing within 30 days unwind (``_adj``)."""
    table = rules["hqla"]
    generic = {lv: table.factor(f"generic_{lv}") for lv in ("level_1", "level_2a", "level_2b")}
    it, side = pl.col("instrument_type"), pl.col("side")
    coll = pl.col("collateral_hqla_level")
    bal = pl.col("balance").fill_null(0.0)
    funding = (side == "liability") & ((it == "repo") | ((it == "central_bank_borrowing") & coll.is_not_null()))
    lending = (side == "asset") & (it == "reverse_repo")
    due = work.filter((funding | lending) & (pl.col("_p30") > _EPS))
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
        coll.alias("_level"),
        (
            pl.col("collateral_market_value").fill_null(0.0)
            * share
            * coll.replace_strict(generic, default=0.0, return_dtype=pl.Float64)
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
    detail, work = _build_detail(frame, rules, hqla, settings, reporting_currency, out)
    detail = _attach_factors(detail, rules)
    unwind = _unwind(work, rules)
    record_assumption(
        work.join(detail.select("row").unique(), on="row", how="semi"),
        pl.col("fx_rc").is_nan() | pl.col("fx_rc").is_null(),
        measure="lcr",
        code="lcr.missing_fx_rate",
        message="contract in the LCR without an FX rate to the reporting currency",
        assumption="left out of the ALL rows (kept in its currency's LCR)",
        out=out,
    )
    table = rules["hqla"]

    def cap(_cur: str, v: dict[str, float]) -> tuple[float, list[tuple[str, str, float, float]]]:
        res = apply_hqla_caps(
            v["level_1"],
            v["level_2a"],
            v["level_2b"],
            adj_l1=v["adj_level_1"],
            adj_l2a=v["adj_level_2a"],
            adj_l2b=v["adj_level_2b"],
            table=table,
        )
        caps[_cur] = res
        return res.hqla, [
            ("cap_adjustment", "adj15", res.adj_l2b, res.adj15),
            ("cap_adjustment", "adj40", res.adj_l2a + res.adj_l2b, res.adj40),
        ]

    caps: dict[str, CapResult] = {}
    lines, ratios, _stocks = summarise(
        detail,
        unwind,
        rules,
        reporting_currency=reporting_currency,
        tables={"hqla": "hqla", "outflow": "lcr_outflows", "inflow": "lcr_inflows"},
        cap=cap,
        inflow_cap=rules["lcr_inflows"].factor("inflow_cap"),
        ratio_category="lcr",
    )
    contracts = contracts_from_detail(frame, detail, hqla)
    return LcrResult(
        lines=lines,
        contracts=contracts,
        detail=detail.select(list(DETAIL_SCHEMA)),
        ratio=ratios,
        assumptions=out,
        caps=caps,
        overrides=_overrides(rules, ("hqla", "lcr_outflows", "lcr_inflows")),
    )
