"""Liquidity monitoring indicators: the ten Fed liquidity indicators and the other financial ratios
of the liquidity-risk course material (seed 004, 美联储的10个流动性指标 / 衡量流动性风险的财务比率指标).

Each US concept is mapped onto frame attributes; the mapping and the direction (``min``: higher
is more liquid, ``max``: lower is more liquid) are data in the ``limits`` rule table (``mapping``,
``direction``). Amounts are on-balance balances (``balance``), summed per 1104 currency column
(A domestic, B foreign converted, C all) with :func:`.cn_ratios.currency_column_sums`.

=================================  ===============================================================
indicator                          numerator / denominator
=================================  ===============================================================
cash_position  现金头寸             cash + central-bank reserves + placements with banks (存放同业) / total assets
liquid_securities  流动性证券        government, policy-bank bonds, central-bank bills / total assets
net_fed_funds  净联邦基金头寸        interbank lending (拆出) - interbank borrowing (拆入) / total assets
capacity_ratio  能力比率             loans less provisions / total assets
pledged_securities_ratio 担保证券比率 encumbered amount of held bonds / held bonds
hot_money_ratio  热钱比率            money-market assets / volatile liabilities
short_term_investment_ratio 短期投资  placements + lending + reverse repo + bonds due <= 1 y / volatile liabilities
brokered_deposits_ratio  中介存款    brokered deposits (``is_brokered``) / deposits
core_deposit_ratio  核心存款比率      deposits less large CDs and brokered deposits / total assets
deposit_composition_ratio 存款构成    demand deposits / term and notice deposits
liquid_assets_to_total_assets      G22 liquid assets (1.10) / total assets
liquid_assets_to_volatile_liabilities  G22 liquid assets / volatile liabilities
liquid_assets_to_commitments       G22 liquid assets / undrawn loan commitments given
loans_to_core_deposits             gross loans / core deposits
cash_ratio, cash_ratio_deposits    cash + excess reserves + placements / total assets, / deposits
=================================  ===============================================================

Volatile liabilities: interbank deposits and borrowing, repo, issued NCDs, large CDs
(``product_subtype = large_cd``) and brokered deposits. Money-market assets: cash, central-bank
reserves, placements, interbank lending, reverse repo and bond principal due within one year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from openalm.measures.liquidity.assumptions import Assumption
from openalm.measures.liquidity.cn_ratios import (
    CURRENCY_COLUMNS,
    CnRatioSettings,
    _record,
    currency_column_sums,
    liquidity_ratio,
)
from openalm.measures.liquidity.rules import RuleSet, RuleTable, load_rule_table

__all__ = ["INDICATORS", "IndicatorsResult", "compute_indicators"]

#: indicator -> (numerator, denominator) amount names
INDICATORS: dict[str, tuple[str, str]] = {
    "cash_position": ("cash_and_due", "total_assets"),
    "liquid_securities": ("government_securities", "total_assets"),
    "net_fed_funds": ("net_interbank_lending", "total_assets"),
    "capacity_ratio": ("net_loans", "total_assets"),
    "pledged_securities_ratio": ("pledged_securities", "securities"),
    "hot_money_ratio": ("money_market_assets", "volatile_liabilities"),
    "short_term_investment_ratio": ("short_term_investments", "volatile_liabilities"),
    "brokered_deposits_ratio": ("brokered_deposits", "deposits"),
    "core_deposit_ratio": ("core_deposits", "total_assets"),
    "deposit_composition_ratio": ("demand_deposits", "term_deposits"),
    "liquid_assets_to_total_assets": ("liquid_assets", "total_assets"),
    "liquid_assets_to_volatile_liabilities": ("liquid_assets", "volatile_liabilities"),
    "liquid_assets_to_commitments": ("liquid_assets", "undrawn_commitments"),
    "loans_to_core_deposits": ("loans", "core_deposits"),
    "cash_ratio": ("cash_assets", "total_assets"),
    "cash_ratio_deposits": ("cash_assets", "deposits"),
}

MEASURE = "indicators"
_GOV = ["government_bond", "policy_bank_bond", "central_bank_bill"]


@dataclass(frozen=True)
class IndicatorsResult:
    """``values`` (column C, keyed as the limits table), ``table`` per currency column, assumptions."""

    values: dict[str, float | None]
    table: pl.DataFrame
    assumptions: list[Assumption] = field(default_factory=list)


def _amounts() -> dict[str, pl.Expr]:
    on = pl.col("on_balance_sheet").fill_null(True)
    asset = (pl.col("side") == "asset") & on
    liab = (pl.col("side") == "liability") & on
    it = pl.col("instrument_type")
    sub = pl.col("product_subtype").fill_null("")
    bal = pl.col("balance").fill_null(0.0)
    deposits = liab & it.is_in(["deposit_demand", "deposit_term", "deposit_notice"])
    brokered = deposits & pl.col("is_brokered").fill_null(False)
    large_cd = deposits & (sub == "large_cd")
    loans = asset & it.is_in(["loan", "bill_discount", "revolving_credit"])
    bonds = asset & (it == "debt_security")
    within_1y = pl.sum_horizontal(
        [pl.col(f"principal_{b}").fill_null(0.0) for b in ("d1", "d7", "d30", "d90", "m6", "y1")]
    )
    placements = asset & (it == "interbank_deposit")
    short_term = placements | (asset & it.is_in(["interbank_lending", "reverse_repo"]))
    reserves = asset & it.is_in(["cash", "central_bank_reserve"])
    volatile = (
        (liab & it.is_in(["interbank_deposit", "interbank_lending", "repo"]))
        | (liab & (it == "debt_security") & (sub == "ncd"))
        | large_cd
        | brokered
    )

    def where(cond: pl.Expr, amount: pl.Expr = bal) -> pl.Expr:
        return pl.when(cond).then(amount).otherwise(0.0)

    return {
        "total_assets": where(asset),
        "cash_and_due": where(reserves | placements),
        "government_securities": where(bonds & sub.is_in(_GOV)),
        "net_interbank_lending": where(asset & (it == "interbank_lending")) - where(liab & (it == "interbank_lending")),
        "net_loans": where(loans, bal - pl.col("provision_amount").fill_null(0.0)),
        "loans": where(loans),
        "securities": where(bonds),
        "pledged_securities": where(bonds, pl.min_horizontal(pl.col("encumbered_amount").fill_null(0.0), bal)),
        "money_market_assets": where(reserves | short_term) + where(bonds, within_1y),
        "short_term_investments": where(short_term) + where(bonds, within_1y),
        "volatile_liabilities": where(volatile),
        "deposits": where(deposits),
        "brokered_deposits": where(brokered),
        "core_deposits": where(deposits & ~large_cd & ~brokered),
        "demand_deposits": where(deposits & (it == "deposit_demand")),
        "term_deposits": where(deposits & it.is_in(["deposit_term", "deposit_notice"])),
        "undrawn_commitments": where(
            (pl.col("side") == "asset") & ~on & (it == "loan_commitment"), pl.coalesce("undrawn_amount", "balance")
        ),
        "cash_assets": where(
            (asset & (it == "cash")) | (asset & (it == "central_bank_reserve") & (sub == "excess_reserve")) | placements
        ),
    }


def compute_indicators(
    frame: pl.DataFrame,
    rules: RuleSet | None = None,
    *,
    settings: CnRatioSettings | None = None,
    table: RuleTable | None = None,
) -> IndicatorsResult:
    """The monitoring indicators of seed 004 on one liquidity frame.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame.
    rules:
        Rule set; the G22 liquid assets (the "liquid assets" of the seed's ratios) always use the
        ``china/liquidity_ratio`` definition (the only one shipped), also for rule set basel.
    settings:
        :class:`.cn_ratios.CnRatioSettings` (domestic currency).
    table:
        The ``limits`` table giving direction and mapping (default: of ``rules``' rule set).

    Returns
    -------
    IndicatorsResult
        ``table``: ``indicator, currency_column, numerator, denominator, value, direction,
        label_zh, label_en, mapping``; ``values``: column C values (None when the denominator is 0).
    """
    settings = settings or CnRatioSettings()
    out: list[Assumption] = []
    rule_set = rules.rule_set if rules is not None else "china"
    limits = table or (
        rules["limits"] if rules is not None and "limits" in rules.tables else load_rule_table(rule_set, "limits")
    )
    g22_rules = rules if rules is not None and rules.rule_set == "china" else None
    g22, _ = liquidity_ratio(frame, g22_rules, settings=settings, assumptions=out)
    liquid = dict(g22.filter(pl.col("code") == "liquid_assets").select("currency_column", "amount").iter_rows())
    _record(
        frame,
        (pl.col("side") == "liability")
        & pl.col("instrument_type").is_in(["deposit_demand", "deposit_term", "deposit_notice"])
        & pl.col("is_brokered").is_null(),
        measure=MEASURE,
        code="indicators.deposit_brokered_unknown",
        message="deposits without is_brokered",
        assumption="treated as not brokered (core deposits; not in the brokered deposits ratio)",
        out=out,
    )
    sums = currency_column_sums(frame, _amounts(), domestic=settings.domestic_currency)
    rows = []
    for rec in sums.iter_rows(named=True):
        cc = rec["currency_column"]
        rec["liquid_assets"] = liquid.get(cc, 0.0)
        for ind, (num, den) in INDICATORS.items():
            rule = limits.rule(ind)
            n, d = rec[num], rec[den]
            rows.append(
                (
                    ind,
                    cc,
                    n,
                    d,
                    None if d == 0 else n / d,
                    str(rule.extra.get("direction", "min")),
                    rule.label_zh,
                    rule.label_en,
                    str(rule.extra.get("mapping", "")),
                )
            )
    result = pl.DataFrame(
        rows,
        schema={
            "indicator": pl.String,
            "currency_column": pl.String,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "value": pl.Float64,
            "direction": pl.String,
            "label_zh": pl.String,
            "label_en": pl.String,
            "mapping": pl.String,
        },
        orient="row",
    )
    values = {r[0]: r[4] for r in rows if r[1] == CURRENCY_COLUMNS[-1]}
    return IndicatorsResult(values=values, table=result, assumptions=out)
