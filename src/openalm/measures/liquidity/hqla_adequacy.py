"""The HQLA adequacy ratio (优质流动性资产充足率, 1104 form G26) of banks below CNY 200 bn of assets.

regulatory.md §4.5; every factor, the Level 2 cap and the inflow cap come from the rule table
``rules/liquidity/china/hqla_adequacy.yaml``::

    HQLA          = L1 + min(L2, 2/3 x L1)              (Level 2 at most 40% of the stock)
    NetOutflows   = Outflows - min(Inflows, 0.75 x Outflows)
    HQLA adequacy = HQLA / NetOutflows >= 100%

Only a Level 2 cap exists: no Level 2B tier and no unwind adjustment (unlike the LCR). China only:
for rule set ``basel`` :func:`compute_hqla_adequacy` raises a ConfigError.

Classification (each contract feeds the lines below; the result has the shape of the LCR's):

Stock (unencumbered market value x the row's factor)
    The HQLA category of :func:`~openalm.measures.liquidity.hqla.classify_hqla` picks the G26 row
    through the table's ``hqla_categories``: cash -> 1.1.1, excess reserves -> 1.1.2, domestic
    sovereign / policy-bank / PBoC paper (and a ``level_1`` override) -> 1.1.3, non-financial
    credit bonds rated AA- or better (and a ``level_2a`` override) -> 1.2.1, local-government bonds
    -> 1.2.2 when rated at least the row's ``rating_min`` (AA-). Other HQLA of the LCR (Level 2B,
    foreign 20% sovereigns, covered bonds) is not G26 stock; a local-government bond without a
    usable rating is left out of the stock (assumption recorded).
Outflows
    Customer deposits (``deposit_demand``, ``deposit_term``, ``deposit_notice``), WHOLE balance, by
    depositor: personal -> 2.1.1 (8%), small business -> 2.1.2.1 (8%), corporates and other legal
    entities -> 2.1.2.2 (35%), sovereigns / PSEs / central banks -> 2.1.2.3 (35%); unknown
    depositor type -> 2.1.2.2 (assumption recorded). Deposits of banks and other financial
    institutions and ``interbank_deposit`` liabilities, whole balance: settlement purpose
    (``is_operational`` or subtype ``settlement`` / ``nostro`` / ``vostro``) -> 2.2.1.1 (25%),
    else 2.2.1.2 (100%). Principal due within 30 days (bands d1 + d7 + d30): interbank borrowing
    (``interbank_lending`` liabilities) -> 2.2.2; central-bank borrowing and repos with a central
    bank -> 2.4 (0%); other repos by ``repo_type`` -> 2.2.3.1 / 2.2.3.2 (unknown type: pledged,
    assumption recorded); issued NCDs -> 2.2.4, other issued debt -> 2.3; other liabilities ->
    2.5.5 (0%). Interest is not a G26 row: only principal counts. Derivatives: the legs' flows
    within 30 days netted per counterparty (else deal) and currency, a net payment -> 2.5.1, a net
    receipt -> 3.4.1 (0%). Off-balance: undrawn commitments given (``loan_commitment`` and the
    undrawn part of ``revolving_credit``) -> 2.5.2.1 when unconditionally cancellable, else 2.5.2.2
    (unknown: 2.5.2.2, assumption recorded); acceptances -> 2.5.2.2; guarantees and letters of
    credit -> 2.5.3 on the whole amount (margin deposits are not netted). Off-balance WMPs (2.5.4)
    are outside the data model.
Inflows (performing on-balance assets not in the G26 stock, principal due within 30 days)
    discounted bills -> 3.1.3; loans and revolving credit: retail / small business -> 3.1.1, other
    borrowers -> 3.1.2; ``interbank_deposit`` assets: settlement -> 3.2.1.1 (0%), else 3.2.1.2;
    interbank lending -> 3.2.2; reverse repos by ``repo_type``: outright -> 3.2.3.1 (0%), pledged
    -> 3.2.3.2 (unknown type: outright, assumption recorded); held NCDs -> 3.2.4; other bonds ->
    3.3; anything else -> 3.4.2 (0%).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from openalm.errors import ConfigError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.hqla import classify_hqla, rating_notch, rating_notch_expr
from openalm.measures.liquidity.lcr import (
    COMPONENT,
    P30,
    LcrSettings,
    Piece,
    as_string,
    build_detail,
    check_factors,
    component,
    derivative_flows,
    main_line,
    summarise,
    with_hqla,
)
from openalm.measures.liquidity.rules import RuleSet, RuleTable

__all__ = ["SUMMARY_CATEGORIES", "HqlaAdequacyResult", "compute_hqla_adequacy"]

MEASURE = "hqla_adequacy"
TABLE = "hqla_adequacy"
#: Categories of the summary rows of ``HqlaAdequacyResult.lines`` (they do not drill down).
SUMMARY_CATEGORIES: tuple[str, ...] = (
    "hqla_total",
    "adj_level2",
    "outflows_total",
    "inflows_total",
    "inflows_capped",
    "net_outflows",
    "hqla_adequacy",
)
_DEPOSITS = ("deposit_demand", "deposit_term", "deposit_notice")
_FI = ("bank", "other_financial")
_TABLES = {"hqla": TABLE, "outflow": TABLE, "inflow": TABLE}
_EPS = 1e-9


@dataclass(frozen=True)
class HqlaAdequacyResult:
    """Result of :func:`compute_hqla_adequacy` (the shape of :class:`~.lcr.LcrResult`).

    ``lines``: one row per (currency, component, category) plus the summary rows
    (:data:`SUMMARY_CATEGORIES`; ``component = ratio`` holds the ratio as a decimal in
    ``weighted_amount``), columns as ``lcr.LINE_SCHEMA``; ``contracts``: one row per frame row with
    its main G26 line (``g26_component``, ``g26_category``, ``g26_amount``, ``g26_factor``,
    ``g26_weighted_amount``); ``detail``: every (contract, line) contribution, amounts in the
    contract currency; ``ratio``: per currency and ``"ALL"``; ``overrides``: messages for the
    overridden factors of the G26 table.
    """

    lines: pl.DataFrame
    contracts: pl.DataFrame
    detail: pl.DataFrame
    ratio: dict[str, float]
    assumptions: list[Assumption] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)


def _stock_columns(work: pl.DataFrame, table: RuleTable, hqla_codes: list[str], enum: pl.Enum) -> list[pl.Series]:
    """Per row: ``_stock`` (the G26 stock row its ``hqla_category`` feeds, through the table's
    ``hqla_categories``), ``_rating_ok`` (the row's ``rating_min`` test; true without a test) and
    ``_unrated`` (a test that could not be made: no usable ``external_rating``)."""
    mapping: dict[str, str] = {}
    tests: list[tuple[list[str], int]] = []
    for code, rule in table.rows.items():
        cats = rule.extra.get("hqla_categories")
        if cats is None:
            continue
        if not isinstance(cats, list) or rule.extra.get("level") not in ("level_1", "level_2a"):
            raise ConfigError(
                f"rule {table.rule_set}/{table.name}/{code}: hqla_categories must be a list and level one of "
                "level_1, level_2a"
            )
        for cat in map(str, cats):
            if cat in mapping:
                raise ConfigError(
                    f"rule table {table.rule_set}/{table.name}: HQLA category {cat!r} feeds {mapping[cat]!r} "
                    f"and {code!r}"
                )
            if cat not in hqla_codes:
                raise ConfigError(f"rule {table.rule_set}/{table.name}/{code}: {cat!r} is not a code of the hqla table")
            mapping[cat] = code
        minimum = rule.extra.get("rating_min")
        if minimum is not None:
            limit = rating_notch(str(minimum))
            if limit is None:
                raise ConfigError(f"rule {table.rule_set}/{table.name}/{code}: rating_min {minimum!r} is not a rating")
            tests.append(([str(c) for c in cats], limit))
    source = pl.Enum(hqla_codes)
    target = pl.Series([mapping.get(c) for c in hqla_codes], dtype=enum)
    stock = work.select(
        pl.lit(target).gather(pl.col("hqla_category").cast(pl.String).cast(source).to_physical()).alias("_stock")
    ).to_series()
    ok = np.ones(work.height, dtype=bool)
    unrated = np.zeros(work.height, dtype=bool)
    for cats, limit in tests:
        hit = work.select(pl.col("hqla_category").is_in(cats).fill_null(False)).to_series()
        at = hit.arg_true().to_numpy()
        if len(at):
            notch = work.select("external_rating").filter(hit).select(rating_notch_expr()).to_series()
            ok[at] = (notch <= limit).fill_null(False).to_numpy()
            unrated[at] = notch.is_null().to_numpy()
    return [stock, pl.Series("_rating_ok", ok), pl.Series("_unrated", unrated)]


def compute_hqla_adequacy(
    frame: pl.DataFrame,
    rules: RuleSet,
    *,
    reporting_currency: str = "CNY",
    hqla: pl.DataFrame | None = None,
    settings: LcrSettings | None = None,
) -> HqlaAdequacyResult:
    """The G26 HQLA adequacy ratio per currency and ALL (see the module docstring).

    Parameters
    ----------
    frame:
        The per-contract liquidity frame.
    rules:
        The ``china`` rule set (its ``hqla`` and ``hqla_adequacy`` tables).
    reporting_currency:
        Currency of the ``ALL`` rows (``fx_rc`` converts to it).
    hqla:
        The output of :func:`~.hqla.classify_hqla` when already computed (its assumptions are
        then the caller's); computed here otherwise.
    settings:
        :class:`~.lcr.LcrSettings`: ``home_country`` of the HQLA classification (defaults when None).

    Raises
    ------
    ConfigError
        For a rule set without the ``hqla_adequacy`` table (Basel: a China-only indicator).
    """
    if TABLE not in rules.tables:
        raise ConfigError(
            f"the HQLA adequacy ratio (优质流动性资产充足率, G26) is a China-only indicator; rule set "
            f"{rules.rule_set!r} has no {TABLE} table (use rule_set china)"
        )
    settings = settings or LcrSettings()
    table = rules[TABLE]
    out: list[Assumption] = []
    if hqla is None:
        hqla, found = classify_hqla(frame, rules, home_country=settings.home_country)
        out.extend(found)
    enum = pl.Enum(sorted(table.rows))

    def E(code: str) -> pl.Expr:  # noqa: N802 - a category literal
        table.rule(code)  # a ConfigError naming the table when the row is missing
        return pl.lit(code, dtype=enum)

    work = with_hqla(frame, hqla, ("hqla_level", "hqla_category", "hqla_market_value"))
    work = work.hstack(derivative_flows(work))
    work = work.hstack(_stock_columns(work, table, sorted(rules["hqla"].rows), enum))
    source = work.lazy().with_row_index("_pos")

    it, sub, cls, side = pl.col("instrument_type"), pl.col("product_subtype"), pl.col("cp_class"), pl.col("side")
    on_bs = pl.col("on_balance_sheet").fill_null(True)
    liability = (side == "liability") & on_bs
    asset = (side == "asset") & on_bs
    bal = pl.col("balance").fill_null(0.0)
    repo_type = pl.col("repo_type")
    settlement = pl.col("is_operational").fill_null(False) | sub.is_in(("settlement", "nostro", "vostro")).fill_null(
        False
    )
    stock_cat, rating_ok = pl.col("_stock"), pl.col("_rating_ok")
    in_stock = asset & stock_cat.is_not_null() & rating_ok
    # outflows
    deposits = liability & it.is_in(_DEPOSITS)
    customer = deposits & ~cls.is_in(_FI)
    interbank = (liability & (it == "interbank_deposit")) | (deposits & cls.is_in(_FI))
    cat_customer = (
        pl.when(cls == "retail")
        .then(E("out_savings"))
        .when(cls == "small_business")
        .then(E("out_small_business"))
        .when(cls.is_in(("sovereign", "central_bank")))
        .then(E("out_institutional"))
        .otherwise(E("out_corporate"))
    )
    cb_funding = liability & ((it == "central_bank_borrowing") | ((it == "repo") & (cls == "central_bank")))
    repo = liability & (it == "repo") & ~cb_funding
    issued = liability & (it == "debt_security")
    given = (side == "asset") & ((it == "loan_commitment") & ~on_bs | (it == "revolving_credit"))
    off_asset = ~on_bs & (side == "asset")
    net = pl.col("_dn")
    # inflows
    inflow_rows = (
        asset
        & pl.col("performing").fill_null(False)
        & ~in_stock
        & ~it.is_in(("cash", "central_bank_reserve", "derivative_leg"))
    )
    cat_in = (
        pl.when(it == "bill_discount")
        .then(E("in_bills"))
        .when(it.is_in(("loan", "revolving_credit")) & cls.is_in(("retail", "small_business")))
        .then(E("in_loans_retail"))
        .when(it.is_in(("loan", "revolving_credit")))
        .then(E("in_loans_corporate"))
        .when((it == "interbank_deposit") & settlement)
        .then(E("in_placements_settlement"))
        .when(it == "interbank_deposit")
        .then(E("in_placements_financing"))
        .when(it == "interbank_lending")
        .then(E("in_interbank_lending"))
        .when((it == "reverse_repo") & (repo_type == "pledged"))
        .then(E("in_reverse_repo_pledged"))
        .when(it == "reverse_repo")
        .then(E("in_reverse_repo_outright"))
        .when((it == "debt_security") & (sub == "ncd"))
        .then(E("in_held_ncd"))
        .when(it == "debt_security")
        .then(E("in_bonds"))
        .otherwise(E("in_other"))
    )
    sign = pl.when(net > 0).then(1.0).otherwise(-1.0)
    pieces = [
        Piece(in_stock, "hqla", stock_cat, pl.col("hqla_market_value")),
        Piece(customer, "outflow", cat_customer, bal),
        Piece(
            interbank,
            "outflow",
            pl.when(settlement).then(E("out_interbank_settlement")).otherwise(E("out_interbank_financing")),
            bal,
        ),
        Piece(liability & (it == "interbank_lending"), "outflow", E("out_interbank_borrowing"), P30),
        Piece(cb_funding, "outflow", E("out_central_bank"), P30),
        Piece(
            repo,
            "outflow",
            pl.when(repo_type == "outright").then(E("out_repo_outright")).otherwise(E("out_repo_pledged")),
            P30,
        ),
        Piece(issued, "outflow", pl.when(sub == "ncd").then(E("out_issued_ncd")).otherwise(E("out_issued_bonds")), P30),
        Piece(liability & (it == "other_liability"), "outflow", E("out_other"), P30),
        Piece(
            (it == "derivative_leg") & (net.abs() > _EPS),
            pl.when(net > 0).then(component("outflow")).otherwise(component("inflow")),
            pl.when(net > 0).then(E("out_derivatives_net")).otherwise(E("in_derivatives_net")),
            pl.col("_ds") * sign,
            present=pl.lit(True),
        ),
        Piece(
            given,
            "outflow",
            pl.when(pl.col("unconditionally_cancellable").fill_null(False))
            .then(E("out_commitments_revocable"))
            .otherwise(E("out_commitments_other")),
            pl.col("undrawn_amount").fill_null(0.0),
        ),
        Piece(off_asset & (it == "acceptance"), "outflow", E("out_commitments_other"), bal),
        Piece(off_asset & it.is_in(("guarantee", "letter_of_credit")), "outflow", E("out_guarantees"), bal),
        Piece(inflow_rows, "inflow", cat_in, P30),
    ]
    factors = {c: {code: r.factor for code, r in table.rows.items()} for c in COMPONENT.categories.to_list()}
    detail = build_detail(source, pieces, enum, factors)
    check_factors(detail, _TABLES, rules.rule_set)

    checks = (
        (
            customer & (cls == "unknown"),
            "deposit_without_depositor_type",
            "customer deposit without counterparty_type (personal, small business, corporate or institution unknown)",
            "large and medium corporate deposit, 35% (the highest customer-deposit factor of G26)",
        ),
        (
            repo & repo_type.is_null() & (P30 > _EPS),
            "repo_type_unknown",
            "repo due within 30 days without repo_type (outright or pledged)",
            "pledged repo (2.2.3.2; both repo rows run off at the same rate)",
        ),
        (
            inflow_rows & (it == "reverse_repo") & repo_type.is_null() & (P30 > _EPS),
            "reverse_repo_type_unknown",
            "reverse repo due within 30 days without repo_type (outright or pledged)",
            "outright reverse repo (3.2.3.1, 0% inflow)",
        ),
        (
            given & pl.col("unconditionally_cancellable").is_null(),
            "commitment_cancellability_unknown",
            "commitment without unconditionally_cancellable",
            "not cancellable: other commitments (2.5.2.2, 10%)",
        ),
        (
            asset & stock_cat.is_not_null() & pl.col("_unrated"),
            "local_government_bond_without_rating",
            "local-government bond in the HQLA stock without a usable external_rating (G26 1.2.2 needs AA-)",
            "not in the G26 stock (its maturing principal is a bond inflow, 3.3)",
        ),
    )
    flags = source.select(
        "position_id", "balance", "fx_rc", *[m.fill_null(False).alias(f"_m{k}") for k, (m, *_) in enumerate(checks)]
    ).collect()
    for k, (_, code, message, assumption) in enumerate(checks):
        record_assumption(
            flags,
            pl.col(f"_m{k}"),
            measure=MEASURE,
            code=f"{MEASURE}.{code}",
            message=message,
            assumption=assumption,
            out=out,
        )
    in_g26 = np.zeros(frame.height, dtype=bool)
    in_g26[detail["_pos"].to_numpy()] = True
    record_assumption(
        flags,
        pl.Series(in_g26) & (pl.col("fx_rc").is_nan() | pl.col("fx_rc").is_null()),
        measure=MEASURE,
        code=f"{MEASURE}.missing_fx_rate",
        message="contract in the HQLA adequacy ratio without an FX rate to the reporting currency",
        assumption="left out of the ALL rows (kept in its currency's ratio)",
        out=out,
    )

    cap2 = table.factor("param.level2_cap")

    def cap(_cur: str, v: dict[str, float]) -> tuple[float, list[tuple[str, str, float, float]]]:
        l1, l2 = v["level_1"], v["level_2a"] + v["level_2b"]
        adj = max(l2 - cap2 * l1, 0.0)
        return l1 + l2 - adj, [("cap_adjustment", "adj_level2", l2, adj)]

    no_unwind = pl.DataFrame(
        schema={"row": pl.UInt32, "currency": pl.String, "fx_rc": pl.Float64, "_level": pl.String, "_adj": pl.Float64}
    )
    lines, ratios, _stocks = summarise(
        detail,
        no_unwind,
        rules,
        reporting_currency=reporting_currency,
        tables=_TABLES,
        cap=cap,
        inflow_cap=table.factor("param.inflow_cap"),
        ratio_category="hqla_adequacy",
    )
    contracts = main_line(frame["row"], detail, "g26")
    return HqlaAdequacyResult(
        lines=lines,
        contracts=contracts,
        detail=detail.select(
            "row",
            "currency",
            as_string("component", COMPONENT),
            as_string("category", enum),
            "amount",
            "factor",
            "weighted_amount",
        ),
        ratio=ratios,
        assumptions=out,
        overrides=[m for m in rules.overrides_applied() if f"/{TABLE}/" in m],
    )
