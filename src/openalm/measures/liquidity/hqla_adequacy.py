"""The HQLA adequacy ratio (优质流动性资产充足率, 1104 form G26) of banks below 200 bn CNY.

regulatory.md 4.5, factors in ``rules/liquidity/china/hqla_adequacy.yaml``::

    HQLA          = L1 + min(L2, 2/3 x L1)              (Level 2 at most 40% of the stock)
    NetOutflows   = Outflows - min(Inflows, 0.75 x Outflows)
    HQLA adequacy = HQLA / NetOutflows >= 100%

Classification of each contract (one line per contract):

* stock: the HQLA levels of :func:`.hqla.classify_hqla` (unencumbered market value): cash, excess
  reserves and 0%-risk-weight sovereign / policy-bank / PBoC paper in Level 1; Level 2A credit and
  local-government bonds in Level 2 (85%); Level 2B is not eligible in G26;
* outflows: WHOLE balances of customer deposits -- personal 8%, small business 8%, large and
  medium corporates 35%, institutions (sovereigns, PSEs, central banks) 35% -- and of interbank
  deposits (settlement 25%, financing 100%); due within 30 days for interbank borrowing, repos
  (5%), issued NCDs and bonds (100%), central-bank borrowing (0%); net derivative outflows within
  30 days per deal; off-balance: undrawn commitments (revocable 0%, other 10%, with bank
  acceptances), guarantees and letters of credit 2.5%;
* inflows (performing contracts, principal and interest due within 30 days): loans (retail and
  small business, corporates, discounted bills) 50%, placements (settlement 0%, financing 100%),
  interbank lending 100%, reverse repos (outright 0%, pledged 100%), held NCDs 100%, bonds not in
  the stock 100%.

A deposit whose depositor type is unknown goes to the 35% corporate row and is recorded as an
assumption (the conservative of the deposit rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from openalm.errors import ConfigError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import ordered_group_by
from openalm.measures.liquidity.rules import RuleSet

__all__ = ["HqlaAdequacyResult", "compute_hqla_adequacy"]

MEASURE = "hqla_adequacy"
#: rows carrying the whole balance (customer and interbank deposits, G26 2.1 and 2.2.1)


@dataclass(frozen=True)
class HqlaAdequacyResult:
    """``lines`` (the ``lcr`` table shape), ``detail`` (row, currency, component, category,
    amount, factor, weighted_amount), ``contracts`` (one row per contract with a line),
    ``ratio`` per currency and ALL, and the recorded assumptions."""

    lines: pl.DataFrame
    detail: pl.DataFrame
    contracts: pl.DataFrame
    ratio: dict[str, float]
    assumptions: list[Assumption] = field(default_factory=list)


def _s(text: str | None) -> pl.Expr:
    return pl.lit(text, dtype=pl.String)


_CATEGORIES = (
    "l1_cash", "l1_excess_reserves", "l1_sovereign", "l2_local_government", "l2_credit_bonds", "out_savings",
    "out_small_business", "out_institutional", "out_corporate", "out_interbank_settlement",
    "out_interbank_financing", "out_interbank_borrowing", "out_central_bank", "out_repo_outright",
    "out_repo_pledged", "out_issued_ncd", "out_issued_bonds", "out_commitments_revocable", "out_commitments_other",
    "out_guarantees", "out_derivatives_net", "in_bills", "in_loans_retail", "in_loans_corporate",
    "in_placements_settlement", "in_placements_financing", "in_interbank_lending", "in_reverse_repo_outright",
    "in_reverse_repo_pledged", "in_held_ncd", "in_bonds", "in_derivatives_net",
)  # fmt: skip
_CAT = pl.Enum(_CATEGORIES)
#: how the amount of a category is measured: stock (unencumbered market value), whole balance,
#: undrawn amount (off-balance), principal due in 30 days (other outflows), flows due in 30 days
_KIND = {c: ("stock" if c.startswith("l") else "whole" if c in (
    "out_savings", "out_small_business", "out_corporate", "out_institutional", "out_interbank_settlement",
    "out_interbank_financing",
) else "undrawn" if c in ("out_commitments_revocable", "out_commitments_other", "out_guarantees")
    else "p30" if c.startswith("out_") else "f30") for c in _CATEGORIES}  # fmt: skip


def _c(text: str) -> pl.Expr:
    return pl.lit(text, dtype=_CAT)


def _classify(frame: pl.DataFrame, hqla: pl.DataFrame) -> pl.DataFrame:
    it = pl.col("instrument_type").cast(pl.String)
    sub = pl.col("product_subtype").cast(pl.String).fill_null("")
    cls = pl.col("cp_class").cast(pl.String).fill_null("unknown")
    side = pl.col("side").cast(pl.String)
    on = pl.col("on_balance_sheet").fill_null(True)
    asset, liab = (side == "asset") & on, (side == "liability") & on
    bal = pl.col("balance").fill_null(0.0)
    due = [f"{k}_{b}" for k in ("principal", "interest") for b in ("d1", "d7", "d30")]
    p30 = pl.sum_horizontal([pl.col(f"principal_{b}").fill_null(0.0) for b in ("d1", "d7", "d30")])
    f30 = pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in due])
    performing = pl.col("performing").fill_null(True)
    level = pl.col("hqla_level").cast(pl.String)
    settlement = pl.col("is_operational").fill_null(False) | sub.is_in(["settlement", "nostro", "vostro"])
    deposits = liab & it.is_in(["deposit_demand", "deposit_term", "deposit_notice"])
    cb = (cls == "central_bank") | (it == "central_bank_borrowing")
    category = (
        # stock
        pl.when(asset & (level == "level_1") & (it == "cash"))
        .then(_c("l1_cash"))
        .when(asset & (level == "level_1") & (it == "central_bank_reserve"))
        .then(_c("l1_excess_reserves"))
        .when(asset & (level == "level_1"))
        .then(_c("l1_sovereign"))
        .when(asset & (level == "level_2a") & (sub == "local_government_bond"))
        .then(_c("l2_local_government"))
        .when(asset & (level == "level_2a"))
        .then(_c("l2_credit_bonds"))
        # outflows
        .when(deposits & (cls == "retail"))
        .then(_c("out_savings"))
        .when(deposits & (cls == "small_business"))
        .then(_c("out_small_business"))
        .when(deposits & cls.is_in(["sovereign", "central_bank"]))
        .then(_c("out_institutional"))
        .when(deposits)
        .then(_c("out_corporate"))
        .when(liab & (it == "interbank_deposit") & settlement)
        .then(_c("out_interbank_settlement"))
        .when(liab & (it == "interbank_deposit"))
        .then(_c("out_interbank_financing"))
        .when(liab & (it == "interbank_lending"))
        .then(_c("out_interbank_borrowing"))
        .when(liab & cb)
        .then(_c("out_central_bank"))
        .when(liab & (it == "repo") & (pl.col("repo_type").cast(pl.String) == "outright"))
        .then(_c("out_repo_outright"))
        .when(liab & (it == "repo"))
        .then(_c("out_repo_pledged"))
        .when(liab & (it == "debt_security") & (sub == "ncd"))
        .then(_c("out_issued_ncd"))
        .when(liab & (it == "debt_security"))
        .then(_c("out_issued_bonds"))
        .when((side == "asset") & ~on & (it == "loan_commitment"))
        .then(
            pl.when(pl.col("unconditionally_cancellable").fill_null(False))
            .then(_c("out_commitments_revocable"))
            .otherwise(_c("out_commitments_other"))
        )
        .when((side == "asset") & ~on & (it == "acceptance"))
        .then(_c("out_commitments_other"))
        .when((side == "asset") & ~on & it.is_in(["guarantee", "letter_of_credit"]))
        .then(_c("out_guarantees"))
        # inflows
        .when(asset & ~performing)
        .then(pl.lit(None, dtype=_CAT))
        .when(asset & (it == "bill_discount"))
        .then(_c("in_bills"))
        .when(asset & it.is_in(["loan", "revolving_credit"]) & cls.is_in(["retail", "small_business"]))
        .then(_c("in_loans_retail"))
        .when(asset & it.is_in(["loan", "revolving_credit"]))
        .then(_c("in_loans_corporate"))
        .when(asset & (it == "interbank_deposit") & settlement)
        .then(_c("in_placements_settlement"))
        .when(asset & (it == "interbank_deposit"))
        .then(_c("in_placements_financing"))
        .when(asset & (it == "interbank_lending"))
        .then(_c("in_interbank_lending"))
        .when(asset & (it == "reverse_repo") & (pl.col("repo_type").cast(pl.String) == "outright"))
        .then(_c("in_reverse_repo_outright"))
        .when(asset & (it == "reverse_repo"))
        .then(_c("in_reverse_repo_pledged"))
        .when(asset & (it == "debt_security") & (sub == "ncd"))
        .then(_c("in_held_ncd"))
        .when(asset & (it == "debt_security"))
        .then(_c("in_bonds"))
        .otherwise(pl.lit(None, dtype=_CAT))
    )
    kind = pl.col("_cat").cast(pl.String).replace_strict(_KIND, default=None, return_dtype=pl.String)
    amount = (
        pl.when(pl.col("_kind") == "stock")
        .then(pl.col("hqla_market_value").fill_null(0.0))
        .when(pl.col("_kind") == "whole")
        .then(bal)
        .when(pl.col("_kind") == "undrawn")
        .then(pl.coalesce(pl.col("undrawn_amount"), pl.col("balance")).fill_null(0.0))
        .when(pl.col("_kind") == "p30")
        .then(p30)
        .when(pl.col("_kind") == "f30")
        .then(f30)
        .otherwise(0.0)
    )
    work = frame.select("row", "currency", "fx_rc", "instrument_type", "deal_id", "side", *due).with_columns(
        hqla["hqla_level"], hqla["hqla_market_value"]
    )
    extra = frame.select(
        "product_subtype", "cp_class", "on_balance_sheet", "balance", "is_operational", "repo_type", "performing",
        "unconditionally_cancellable", "undrawn_amount",
    )  # fmt: skip
    work = pl.concat([work, extra], how="horizontal")
    work = work.with_columns(category.alias("_cat"))
    work = work.with_columns(kind.alias("_kind"))
    return work.with_columns(amount.alias("_amount"))


def _derivatives(work: pl.DataFrame) -> pl.DataFrame:
    """Net derivative flows within 30 days per deal (and currency): net outflow -> 2.5.1, net
    inflow -> 3.4.1; booked on the deal's first leg."""
    legs = work.filter(pl.col("instrument_type").cast(pl.String) == "derivative_leg")
    if legs.height == 0:
        return pl.DataFrame(schema={"row": pl.UInt32, "category": pl.String, "amount": pl.Float64})
    due = [c for c in work.columns if c.startswith(("principal_", "interest_"))]
    signed = pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in due]) * pl.when(
        pl.col("side").cast(pl.String) == "asset"
    ).then(1.0).otherwise(-1.0)
    key = pl.coalesce(pl.col("deal_id"), pl.col("row").cast(pl.String))
    net = (
        legs.with_columns(signed.alias("_net"), key.alias("_deal"))
        .group_by("_deal", "currency")
        .agg(pl.col("row").min(), pl.col("_net").sum())
    )
    return net.select(
        "row",
        pl.when(pl.col("_net") < 0)
        .then(_s("out_derivatives_net"))
        .otherwise(_s("in_derivatives_net"))
        .alias("category"),
        pl.col("_net").abs().alias("amount"),
    )


def compute_hqla_adequacy(
    frame: pl.DataFrame,
    rules: RuleSet,
    *,
    hqla: pl.DataFrame,
    reporting_currency: str = "CNY",
) -> HqlaAdequacyResult:
    """The G26 HQLA adequacy ratio per currency and ALL (see the module docstring).

    ``hqla`` is the output of :func:`.hqla.classify_hqla` for ``frame`` (row aligned).
    """
    del reporting_currency
    if "hqla_adequacy" not in rules.tables:
        raise ConfigError(
            f"the HQLA adequacy ratio (G26) is a China-only indicator; rule set {rules.rule_set!r} has no table for it"
        )
    table = rules["hqla_adequacy"]
    out: list[Assumption] = []
    work = _classify(frame, hqla)
    record_assumption(
        frame,
        (pl.col("side").cast(pl.String) == "liability")
        & pl.col("instrument_type").cast(pl.String).is_in(["deposit_demand", "deposit_term", "deposit_notice"])
        & pl.col("cp_class").cast(pl.String).fill_null("unknown").is_in(["unknown", "other"]),
        measure=MEASURE,
        code="hqla_adequacy.deposit_without_depositor_type",
        message="deposits whose depositor type (personal, small business, corporate, institution) is unknown",
        assumption="large and medium corporate deposits, 35% (the highest customer-deposit factor of G26)",
        out=out,
    )
    pieces = work.filter(
        pl.col("_cat").is_not_null() & (pl.col("_amount") != 0.0) & (pl.col("instrument_type") != "derivative_leg")
    ).select("row", pl.col("_cat").cast(pl.String).alias("category"), pl.col("_amount").alias("amount"))
    detail = pl.concat([pieces, _derivatives(work)])
    factors = table.to_frame().select(pl.col("code").alias("category"), "factor", "line", "label_zh", "label_en")
    detail = (
        detail.join(factors, on="category", how="left")
        .join(frame.select("row", "currency", "fx_rc"), on="row", how="left")
        .with_columns(
            pl.when(pl.col("category").str.starts_with("l"))
            .then(_s("hqla"))
            .when(pl.col("category").str.starts_with("out_"))
            .then(_s("outflow"))
            .otherwise(_s("inflow"))
            .alias("component"),
            (pl.col("amount") * pl.col("factor")).alias("weighted_amount"),
        )
        .sort("row", "category")
    )
    fx_ok = pl.col("fx_rc").is_not_null() & pl.col("fx_rc").is_not_nan()
    per = ordered_group_by(detail, "currency", "component", "category").agg(
        pl.col("amount").sum(),
        pl.col("weighted_amount").sum(),
        pl.col("row").n_unique().cast(pl.Int64).alias("contracts"),
    )
    all_ = (
        ordered_group_by(detail.filter(fx_ok), "component", "category")
        .agg(
            (pl.col("amount") * pl.col("fx_rc")).sum().alias("amount"),
            (pl.col("weighted_amount") * pl.col("fx_rc")).sum().alias("weighted_amount"),
            pl.col("row").n_unique().cast(pl.Int64).alias("contracts"),
        )
        .with_columns(_s("ALL").alias("currency"))
    )
    cat_lines = pl.concat([per, all_.select(per.columns)]).join(factors, on="category", how="left")
    cap2 = table.factor("param.level2_cap")
    inflow_cap = table.factor("param.inflow_cap")
    summary: list[dict[str, object]] = []
    ratios: dict[str, float] = {}
    for ccy in sorted(cat_lines["currency"].unique().to_list()):
        c = cat_lines.filter(pl.col("currency") == ccy)

        def total(cond: pl.Expr, c: pl.DataFrame = c) -> float:
            return float(c.filter(cond)["weighted_amount"].sum())

        l1 = total(pl.col("category").str.starts_with("l1_"))
        l2 = total(pl.col("category").str.starts_with("l2_"))
        adj = max(l2 - cap2 * l1, 0.0)
        stock = l1 + l2 - adj
        outflows = total(pl.col("component") == "outflow")
        inflows = total(pl.col("component") == "inflow")
        capped = min(inflows, inflow_cap * outflows)
        net = outflows - capped
        ratio = stock / net if net > 0 else (float("inf") if stock > 0 else float("nan"))
        ratios[ccy] = ratio
        for component, category, value in (
            ("hqla", "hqla_total", stock),
            ("cap_adjustment", "adj_level2", adj),
            ("outflow", "outflows_total", outflows),
            ("inflow", "inflows_total", inflows),
            ("inflow", "inflows_capped", capped),
            ("net_outflow", "net_outflows", net),
            ("ratio", "hqla_adequacy", ratio),
        ):
            summary.append(
                {
                    "currency": ccy,
                    "component": component,
                    "category": category,
                    "amount": None,
                    "weighted_amount": value,
                }
            )
    summary_frame = pl.DataFrame(
        summary,
        schema={
            "currency": pl.String,
            "component": pl.String,
            "category": pl.String,
            "amount": pl.Float64,
            "weighted_amount": pl.Float64,
        },
    ).with_columns(
        pl.col("category").replace_strict(_SUMMARY_ZH, default=None, return_dtype=pl.String).alias("label_zh"),
        pl.col("category").replace_strict(_SUMMARY_EN, default=None, return_dtype=pl.String).alias("label_en"),
    )
    lines = pl.concat([cat_lines, summary_frame], how="diagonal_relaxed").with_columns(
        _s(rules.rule_set).alias("rule_set")
    )
    lines = lines.select(
        "rule_set", "currency", "component", "category", "line", "label_zh", "label_en", "amount", "factor",
        "weighted_amount", "contracts",
    ).sort("currency", "component", "category")  # fmt: skip
    # one line per contract: deposits, stock and flows are exclusive, derivatives sit on the deal's
    # first leg (which has no other line)
    contracts = detail.select(
        "row",
        pl.col("category").alias("g26_category"),
        pl.col("factor").alias("g26_factor"),
        pl.col("weighted_amount").alias("g26_weighted_amount"),
    )
    return HqlaAdequacyResult(
        lines=lines,
        detail=detail.select("row", "currency", "component", "category", "amount", "factor", "weighted_amount"),
        contracts=contracts,
        ratio=ratios,
        assumptions=out,
    )


_SUMMARY_ZH = {
    "hqla_total": "优质流动性资产",
    "adj_level2": "二级资产上限调整",
    "outflows_total": "未来30天现金流出量",
    "inflows_total": "未来30天现金流入量",
    "inflows_capped": "可计入的现金流入量（不超过流出的75%）",
    "net_outflows": "未来30天现金净流出量",
    "hqla_adequacy": "优质流动性资产充足率",
}
_SUMMARY_EN = {
    "hqla_total": "High-quality liquid assets",
    "adj_level2": "Level 2 cap adjustment",
    "outflows_total": "Cash outflows, 30 days",
    "inflows_total": "Cash inflows, 30 days",
    "inflows_capped": "Inflows counted (at most 75% of outflows)",
    "net_outflows": "Net cash outflows, 30 days",
    "hqla_adequacy": "HQLA adequacy ratio",
}
