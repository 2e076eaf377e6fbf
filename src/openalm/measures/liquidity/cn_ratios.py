"""The Chinese liquidity ratios: liquidity ratio (G22), LMR, core liability ratio, gap ratio, LDR.

Every ratio is a vectorised function of the per-contract liquidity frame (:mod:`.frame`) and of
the rule tables ``china/liquidity_ratio``, ``china/lmr_weights`` and ``china/core_liabilities``
(factors, weights and slotting parameters are data, never code). Amounts are summed per currency
column of the 1104 forms: ``A`` = the domestic currency (人民币), ``B`` = foreign currencies
converted with ``fx_rc`` (外币折人民币), ``C`` = all currencies (本外币合计); foreign rows without
an FX rate are left out of B and C and recorded as an assumption.

* liquidity_ratio  # 流动性比例 = G22 1.10 / 2.8 (regulatory.md 4.2)
* lmr  # 流动性匹配率 = weighted sources / weighted uses (G21 row 9, regulatory.md 4.4)
* core_liability_ratio  # 核心负债比例, CN-CORE 2006 definition; ``core_liability_ratio_g21`` the
  G21 row 8 definition (regulatory.md 6.1)
* liquidity_gap_ratio  # 流动性缺口率 = 90-day gap / inflows due within 90 days (G21 rows 10-11)
* ldr  # 存贷比 = loans / deposits (``ldr_cny`` column A, ``ldr_fx`` column B, regulatory.md 6.2)
* excess_reserve_ratio  # 超额备付金率 = (excess reserves + cash) / deposits
* interbank_funding_share  # 同业融入比例 = interbank funding / total liabilities (银发〔2014〕127号)

Data limits (documented decisions): the frame carries ``overdue_principal`` and
``days_past_due`` but not the overdue date of each instalment, so an overdue amount counts as
"due within the month" when ``days_past_due`` <= 30 (G22 rule); an overdue asset without
``days_past_due`` is left out (conservative) and a liability without it is counted (conservative),
both recorded. The stable part of demand balances (lowest balance of the past 12 months, G21 memo
rows 7 and 17) needs a history the snapshot does not have: it comes from
:class:`CnRatioSettings` and its use is recorded as an assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl
from pydantic import BaseModel, Field, field_validator

from openalm.errors import ConfigError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import ordered_group_by
from openalm.measures.liquidity.rules import RuleSet, RuleTable, load_rule_table

__all__ = [
    "CURRENCY_COLUMNS",
    "CnRatioSettings",
    "CnRatiosResult",
    "compute_cn_ratios",
    "core_liability_ratio",
    "currency_column_sums",
    "liquidity_gap",
    "liquidity_matching_ratio",
    "liquidity_ratio",
    "ratio_tables",
]

#: The 1104 currency columns: A domestic, B foreign converted, C all currencies.
CURRENCY_COLUMNS: tuple[str, ...] = ("A", "B", "C")

MEASURE = "ratios"

_LOANS = ["loan", "bill_discount", "revolving_credit"]
_DEPOSITS = ["deposit_demand", "deposit_term", "deposit_notice"]
_LMR_BANDS = ("le7d", "d8_90", "m3_12", "gt1y")
_GAP_BANDS = ("d1", "d7", "d30", "d90", "m6", "y1")
_SLOTS = ("A", "B", "C", "D", "E")


class CnRatioSettings(BaseModel, extra="forbid"):
    """Settings of the Chinese ratios (the lead adds them under ``liquidity.cn_ratios``).

    Attributes
    ----------
    domestic_currency:
        Currency of column A (人民币), default CNY.
    demand_deposit_stable_balance:
        Per currency, the lowest demand-deposit balance of the past 12 months (contract currency),
        G21 memo row 7 column F. Capped at the current balance (recorded).
    demand_deposit_stable_share:
        Stable share of demand deposits for currencies without a balance above. The default 0.6 is
        a PLACEHOLDER, not a regulatory value; every use is recorded as an assumption.
    interbank_demand_stable_balance, interbank_demand_stable_share:
        The same for demand interbank deposits (G21 memo row 17); default share 0 (conservative:
        nothing is treated as stable).
    """

    domestic_currency: str = "CNY"
    demand_deposit_stable_balance: dict[str, float] = Field(default_factory=dict)
    demand_deposit_stable_share: float = 0.6
    interbank_demand_stable_balance: dict[str, float] = Field(default_factory=dict)
    interbank_demand_stable_share: float = 0.0

    @field_validator("demand_deposit_stable_share", "interbank_demand_stable_share")
    @classmethod
    def _share(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"a stable share is a decimal between 0 and 1, got {v}")
        return v

    @field_validator("demand_deposit_stable_balance", "interbank_demand_stable_balance")
    @classmethod
    def _balances(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if x < 0}
        if bad:
            raise ValueError(f"stable balances must be >= 0, got {bad}")
        return v


@dataclass(frozen=True)
class CnRatiosResult:
    """Everything :func:`compute_cn_ratios` produces.

    ``values`` holds the all-currency (column C) value of each indicator, keyed as in the
    ``limits`` rule table (None when the denominator is zero); the frames hold the form lines,
    the per-contract assignments and the ratios per currency column.
    """

    values: dict[str, float | None]
    ratios: pl.DataFrame
    g22_lines: pl.DataFrame
    g22_contracts: pl.DataFrame
    lmr_lines: pl.DataFrame
    lmr_contracts: pl.DataFrame
    core_lines: pl.DataFrame
    gap: pl.DataFrame
    assumptions: list[Assumption] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------------


def _sum(cols: list[str]) -> pl.Expr:
    return pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in cols])


def _p(*bands: str) -> pl.Expr:
    return _sum([f"principal_{b}" for b in bands])


def _is(kind: str | list[str]) -> pl.Expr:
    kinds = [kind] if isinstance(kind, str) else kind
    return pl.col("instrument_type").is_in(kinds)


_ON = pl.col("on_balance_sheet").fill_null(True)
_ASSET = (pl.col("side") == "asset") & _ON
_LIAB = (pl.col("side") == "liability") & _ON
_CB_CP = (pl.col("cp_class") == "central_bank").fill_null(False)
_UNKNOWN_CP = pl.col("cp_class").is_null() | (pl.col("cp_class") == "unknown")
_FI_CP = pl.col("cp_class").is_in(["bank", "other_financial"]).fill_null(False)
_BAL = pl.col("balance").fill_null(0.0)


def _column_keys(domestic: str) -> tuple[pl.Expr, pl.Expr]:
    """(currency column A/B, multiplier into the reporting currency; null = unusable FX)."""
    dom = pl.col("currency") == domestic
    fx_ok = pl.col("fx_rc").is_not_null() & pl.col("fx_rc").is_not_nan()
    col = pl.when(dom).then(pl.lit("A")).otherwise(pl.lit("B"))
    mult = pl.when(dom).then(pl.lit(1.0)).when(fx_ok).then(pl.col("fx_rc")).otherwise(None)
    return col, mult


def currency_column_sums(
    frame: pl.DataFrame,
    amounts: Mapping[str, pl.Expr],
    *,
    domestic: str = "CNY",
    by: list[str] | None = None,
) -> pl.DataFrame:
    """Sum per-contract amounts into the 1104 currency columns A, B and C.

    Parameters
    ----------
    frame:
        Rows with ``currency`` and ``fx_rc`` (and the ``by`` columns).
    amounts:
        Output name -> expression of the amount in the contract currency.
    domestic:
        Currency of column A; column B converts the others with ``fx_rc`` (rows without a rate
        are left out), column C = A + B.
    by:
        Extra grouping columns.

    Returns
    -------
    polars.DataFrame
        ``by`` columns, ``currency_column`` (A, B, C) and one column per amount; every group
        has all three currency columns (zeros where nothing falls).
    """
    by = list(by or [])
    col, mult = _column_keys(domestic)
    names = list(amounts)
    # narrow first: only the keys and the converted amounts go through the filter and the sort
    work = (
        frame.lazy()
        .select(*by, col.alias("_cc"), mult.alias("_mult"), *[e.fill_null(0.0).alias(n) for n, e in amounts.items()])
        .filter(pl.col("_mult").is_not_null())
        .with_columns([pl.col(n) * pl.col("_mult") for n in names])
        .collect()
    )
    if by:
        # ordered (bit-reproducible) group sums; the sort runs on one integer key, not on strings
        key: pl.Expr = (pl.col("_cc") == "B").cast(pl.UInt64)
        stride = 2
        for b in by:
            cats = sorted(v for v in work[b].cast(pl.String).unique().to_list() if v is not None)
            code = pl.col(b).cast(pl.String).cast(pl.Enum(cats)).to_physical().cast(pl.UInt64).fill_null(len(cats))
            key = key + code * stride
            stride *= len(cats) + 1
        ab = (
            ordered_group_by(work.with_columns(key.alias("_g")), "_g")
            .agg(*[pl.col(c).first() for c in [*by, "_cc"]], *[pl.col(n).sum() for n in names])
            .drop("_g")
        )
        keys = work.select(by).unique()
        skeleton = keys.join(pl.DataFrame({"_cc": ["A", "B"]}), how="cross")
    else:
        # one row per column: plain column sums (no hash group_by, so the same bits every run)
        ab = pl.concat([work.filter(pl.col("_cc") == cc).select(pl.lit(cc).alias("_cc"), *names).sum() for cc in "AB"])
        ab = ab.with_columns(pl.Series("_cc", ["A", "B"]))
        skeleton = pl.DataFrame({"_cc": ["A", "B"]})
    ab = skeleton.join(ab, on=[*by, "_cc"], how="left").with_columns([pl.col(n).fill_null(0.0) for n in names])
    c = (
        ab.group_by(by or pl.lit(0).alias("_k"))
        .agg([pl.col(n).sum() for n in names])
        .with_columns(pl.lit("C").alias("_cc"))
    )
    c = c.select([*by, "_cc", *names])
    out = pl.concat([ab.select([*by, "_cc", *names]), c]).rename({"_cc": "currency_column"})
    return out.sort([*by, "currency_column"])


def _record(frame: pl.DataFrame, mask: pl.Expr, **kw: str | list[Assumption]) -> None:
    """:func:`record_assumption` on a narrow copy: filtering the full frame (~130 columns) is slow."""
    narrow = frame.select("position_id", "balance", "fx_rc", mask.fill_null(False).alias("_hit"))
    if narrow["_hit"].any():
        record_assumption(narrow, pl.col("_hit"), **kw)  # type: ignore[arg-type]


def _fx_assumption(frame: pl.DataFrame, domestic: str, out: list[Assumption]) -> None:
    _record(
        frame,
        (pl.col("currency") != domestic) & (pl.col("fx_rc").is_null() | pl.col("fx_rc").is_nan()),
        measure=MEASURE,
        code="ratios.fx_rate_missing",
        message="foreign-currency contracts without an FX rate to the reporting currency",
        assumption="left out of currency columns B (foreign converted) and C (all currencies)",
        out=out,
    )


def _require_china(rules: RuleSet | None, name: str) -> RuleTable:
    if rules is not None and rules.rule_set != "china":
        raise ConfigError(
            f"the Chinese liquidity ratios (table {name}) exist only in rule set 'china', not "
            f"{rules.rule_set!r}: Basel III has no liquidity ratio, LMR, core liability or gap ratio"
        )
    return rules[name] if rules is not None else load_rule_table("china", name)


def _div(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


# --------------------------------------------------------------------------------------------
# demand-balance slotting (G21 memo rows 7 and 17)
# --------------------------------------------------------------------------------------------


def _slotting(lmr: RuleTable) -> dict[str, float]:
    """Fractions of the non-stable demand balance per G21 bucket A-E (they must sum to 1)."""
    year = lmr.factor("demand_slot.year_days")
    days = {s: lmr.factor(f"demand_slot.{s}") for s in _SLOTS}
    if abs(sum(days.values()) - year) > 1e-9:
        raise ConfigError(
            f"lmr_weights: demand_slot.A..E days {days} sum to {sum(days.values())}, expected "
            f"demand_slot.year_days = {year} (the whole non-stable balance must be spread)"
        )
    return {s: d / year for s, d in days.items()}


def _stable_share_expr(
    frame: pl.DataFrame,
    mask: pl.Expr,
    balances: Mapping[str, float],
    share: float,
    *,
    kind: str,
    out: list[Assumption],
) -> pl.Expr:
    """Per-row stable share of the demand balances selected by ``mask`` (records its use)."""
    narrow = frame.select("currency", _BAL.alias("balance"), mask.fill_null(False).alias("_m")).filter(pl.col("_m"))
    totals = ordered_group_by(narrow, "currency").agg(pl.col("balance").sum().alias("t"))
    shares: dict[str, float] = {}
    for cur, total in totals.iter_rows():
        cur_mask = mask & (pl.col("currency") == cur)
        if cur in balances:
            stable = float(balances[cur])
            s = 1.0 if total <= 0 else min(stable / total, 1.0)
            note = (
                f"stable balance {stable:,.2f} {cur} from settings ({kind}_stable_balance) used as the 12-month minimum"
            )
            if total > 0 and stable > total:
                note += f"; capped at the current balance {total:,.2f}"
            _record(
                frame,
                cur_mask,
                measure=MEASURE,
                code=f"ratios.{kind}_stable_from_settings",
                message=f"{kind.replace('_', ' ')}s: the lowest balance of the past 12 months is not in the snapshot",
                assumption=note,
                out=out,
            )
        else:
            s = share
            _record(
                frame,
                cur_mask,
                measure=MEASURE,
                code=f"ratios.{kind}_stable_share",
                message=f"{kind.replace('_', ' ')}s: the lowest balance of the past 12 months is not in the snapshot",
                assumption=f"stable part = {share:.0%} of the current {cur} balance ({kind}_stable_share, placeholder)",
                out=out,
            )
        shares[cur] = s
    return pl.col("currency").replace_strict(shares, default=0.0, return_dtype=pl.Float64)


def _demand_masks() -> tuple[pl.Expr, pl.Expr]:
    demand_dep = _LIAB & _is("deposit_demand")
    demand_ib = _LIAB & _is("interbank_deposit") & pl.col("undated").fill_null(False)
    return demand_dep, demand_ib


def _with_stable(frame: pl.DataFrame, settings: CnRatioSettings, out: list[Assumption]) -> pl.DataFrame:
    """Adds ``_stable`` (stable share of the row's demand balance; 0 for other rows)."""
    demand_dep, demand_ib = _demand_masks()
    s_dep = _stable_share_expr(
        frame,
        demand_dep,
        settings.demand_deposit_stable_balance,
        settings.demand_deposit_stable_share,
        kind="demand_deposit",
        out=out,
    )
    s_ib = _stable_share_expr(
        frame,
        demand_ib,
        settings.interbank_demand_stable_balance,
        settings.interbank_demand_stable_share,
        kind="interbank_demand",
        out=out,
    )
    return frame.with_columns(
        pl.when(demand_dep).then(s_dep).when(demand_ib).then(s_ib).otherwise(0.0).alias("_stable")
    )


# --------------------------------------------------------------------------------------------
# 1. liquidity ratio (G22)
# --------------------------------------------------------------------------------------------


def liquidity_ratio(
    frame: pl.DataFrame,
    rules: RuleSet | None = None,
    *,
    settings: CnRatioSettings | None = None,
    assumptions: list[Assumption] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """G22 liquidity ratio (流动性比例): the form lines and the per-contract line assignment.

    ``liquidity ratio = liquid assets (1.10) / liquid liabilities (2.8)``, with "due within one
    month" = principal in bands d1 + d7 + d30 plus overdue principal with ``days_past_due`` <= 30;
    interbank items (1.4 / 2.3) netted per currency column so that only one side is positive;
    listed equities and funds at the table's factor (50%) of market value; encumbered securities
    (``encumbered_amount``) excluded from 1.7 and 1.8; non-performing loans excluded from 1.6;
    held NCDs due within a month in 1.9, issued in 2.7; contractual interest due within a month in
    1.5 / 2.5. On-balance-sheet rows only.

    Returns
    -------
    (lines, contracts)
        ``lines``: ``code, line, label_zh, label_en, currency_column, amount, contracts`` for every
        row of the table (line 3 carries the ratio as ``amount``); ``contracts``: ``row,
        position_id, currency, g22_code, g22_line, g22_amount`` (contract currency, gross before
        the 1.4 / 2.3 netting and before the currency-column conversion).
    """
    settings = settings or CnRatioSettings()
    out = assumptions if assumptions is not None else []
    rt = _require_china(rules, "liquidity_ratio")
    f = rt.factor
    od_days = int(f("param.overdue_counted_days"))
    markets = list(rt.rule("param.marketable_listing").extra.get("listing_markets", []))  # type: ignore[call-overload]
    enc_types = list(rt.rule("param.excluded_encumbrance").extra.get("encumbrance_types", []))  # type: ignore[call-overload]

    overdue = pl.col("overdue_principal").fill_null(0.0)
    dpd = pl.col("days_past_due")
    od_asset = pl.when(dpd <= od_days).then(overdue).otherwise(0.0)
    od_liab = pl.when(dpd.is_null() | (dpd <= od_days)).then(overdue).otherwise(0.0)
    w30 = _p("d1", "d7", "d30")
    undated = pl.col("undated").fill_null(False)
    due_a = w30 + od_asset
    due_l = w30 + od_liab
    demand_or_due_a = pl.when(undated).then(_BAL).otherwise(due_a)
    demand_or_due_l = pl.when(undated).then(_BAL).otherwise(due_l)
    enc_amt = pl.col("encumbered_amount").fill_null(0.0)
    enc_excl = pl.col("encumbrance_type").is_null() | pl.col("encumbrance_type").is_in(enc_types)
    free = pl.when((enc_amt > 0) & enc_excl & (_BAL > 0)).then(1.0 - (enc_amt / _BAL).clip(0.0, 1.0)).otherwise(1.0)
    ncd = (pl.col("product_subtype") == "ncd").fill_null(False)
    performing = pl.col("performing").fill_null(False)
    loans = _ASSET & _is(_LOANS)
    security = _ASSET & _is("debt_security")
    listed = pl.col("listing_market").is_in(markets).fill_null(False)
    interbank_a = _ASSET & (
        _is(["interbank_deposit", "interbank_lending"]) | (_is("reverse_repo") & (_FI_CP | _UNKNOWN_CP))
    )
    interbank_l = _LIAB & (_is(["interbank_deposit", "interbank_lending"]) | (_is("repo") & (_FI_CP | _UNKNOWN_CP)))
    notice_short = pl.col("notice_period_days").is_null() | (pl.col("notice_period_days") <= od_days)

    # (code, condition, amount) in priority order: the first match assigns the principal slot
    main: list[tuple[str, pl.Expr, pl.Expr]] = [
        ("cash", _ASSET & _is("cash"), _BAL),
        ("gold", _ASSET & (pl.col("product_subtype") == "gold"), pl.col("market_value").fill_null(0.0)),
        (
            "excess_reserve",
            _ASSET & _is("central_bank_reserve") & (pl.col("product_subtype") == "excess_reserve"),
            _BAL,
        ),
        ("interbank_net_asset", interbank_a, demand_or_due_a),
        ("performing_loan", loans & performing, due_a),
        ("other_asset_due", security & ncd & performing, due_a * free),
        ("bond_due", security & ~ncd, due_a * free),
        ("receivable", _ASSET & _is("other_asset"), due_a),
        ("other_asset_due", _ASSET & _is("reverse_repo") & performing, due_a),
        ("demand_deposit", _LIAB & _is("deposit_demand"), _BAL),
        ("term_deposit_due", _LIAB & _is("deposit_notice") & notice_short, _BAL),
        ("term_deposit_due", _LIAB & _is(["deposit_term", "deposit_notice"]), due_l),
        ("central_bank_borrowing_due", _LIAB & (_is("central_bank_borrowing") | (_is("repo") & _CB_CP)), due_l),
        ("interbank_net_liability", interbank_l, demand_or_due_l),
        ("other_liability_due", _LIAB & _is("debt_security") & ncd, due_l),
        ("bond_issued_due", _LIAB & _is("debt_security"), due_l),
        ("payable", _LIAB & _is("other_liability"), due_l),
        ("other_liability_due", _LIAB & _is("repo"), due_l),
    ]
    code_e: pl.Expr = pl.lit(None, dtype=pl.String)
    amt_e: pl.Expr = pl.lit(None, dtype=pl.Float64)
    for code, cond, expr in reversed(main):
        code_e = pl.when(cond).then(pl.lit(code)).otherwise(code_e)
        amt_e = pl.when(cond).then(expr * f(code)).otherwise(amt_e)

    # the market slot: row 1.8 for the part of a listed security not in 1.7 / 1.9
    mv = pl.col("market_value").fill_null(0.0)
    remaining = pl.when(_BAL > 0).then(1.0 - (due_a / _BAL).clip(0.0, 1.0)).otherwise(0.0)
    mkt_code = (
        pl.when(security & listed & performing)
        .then(pl.lit("marketable_bond"))
        .when(_ASSET & _is(["equity_investment", "fund_investment"]) & listed)
        .then(pl.lit("marketable_equity_fund"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    mkt_amt = (
        pl.when(mkt_code == "marketable_bond")
        .then(mv * remaining * free * f("marketable_bond"))
        .when(mkt_code == "marketable_equity_fund")
        .then(mv * free * f("marketable_equity_fund"))
        .otherwise(None)
    )
    # the interest slot: contractual interest due within the month
    i30 = _sum([f"interest_{b}" for b in ("d1", "d7", "d30")])
    int_code = (
        pl.when(_ASSET & ~(loans & ~performing) & ~_is(["cash", "central_bank_reserve"]))
        .then(pl.lit("receivable"))
        .when(_LIAB)
        .then(pl.lit("payable"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    int_amt = (
        pl.when(int_code == "receivable")
        .then(i30 * f("receivable"))
        .when(int_code == "payable")
        .then(i30 * f("payable"))
    )

    keep = ["row", "position_id", "currency", "fx_rc"]
    slots = (
        frame.lazy()
        .select(
            *keep,
            code_e.alias("c0"),
            amt_e.alias("a0"),
            mkt_code.alias("c1"),
            mkt_amt.alias("a1"),
            int_code.alias("c2"),
            int_amt.alias("a2"),
        )
        .collect()
    )
    long = pl.concat(
        [slots.select(*keep, pl.col(f"c{k}").alias("g22_code"), pl.col(f"a{k}").alias("g22_amount")) for k in range(3)]
    ).filter(pl.col("g22_code").is_not_null() & (pl.col("g22_amount") != 0.0))
    line_of = {code: r.line for code, r in rt.rows.items() if r.line}
    long = long.with_columns(pl.col("g22_code").replace_strict(line_of, return_dtype=pl.String).alias("g22_line"))

    _g22_assumptions(frame, out, od_days=od_days, security=security, listed=listed, enc_amt=enc_amt)

    # lines per code and currency column
    agg = currency_column_sums(
        long,
        {"amount": pl.col("g22_amount"), "contracts": pl.lit(1.0)},
        domestic=settings.domestic_currency,
        by=["g22_code"],
    )
    amounts = {
        (c, cc): (a, int(n))
        for c, cc, a, n in agg.select("g22_code", "currency_column", "amount", "contracts").iter_rows()
    }
    rows = []
    for cc in CURRENCY_COLUMNS:
        ib_a, n_a = amounts.get(("interbank_net_asset", cc), (0.0, 0))
        ib_l, n_l = amounts.get(("interbank_net_liability", cc), (0.0, 0))
        net = {"interbank_net_asset": max(ib_a - ib_l, 0.0), "interbank_net_liability": max(ib_l - ib_a, 0.0)}
        total_a = total_l = 0.0
        n_ta = n_tl = 0
        for code, rule in rt.rows.items():
            if code.startswith("param.") or rule.line is None:
                continue
            if code in net:
                amount, n = net[code], n_a + n_l
            else:
                amount, n = amounts.get((code, cc), (0.0, 0))
            if code == "liquid_assets":
                amount, n = total_a, n_ta
            elif code == "liquid_liabilities":
                amount, n = total_l, n_tl
            elif code == "ratio":
                ratio = _div(total_a, total_l)
                amount, n = (float("nan") if ratio is None else ratio), 0
            elif rule.line.startswith("1."):
                total_a += amount
                n_ta += n
            elif rule.line.startswith("2."):
                total_l += amount
                n_tl += n
            rows.append((code, rule.line, rule.label_zh, rule.label_en, cc, amount, n))
    lines = pl.DataFrame(
        rows,
        schema={
            "code": pl.String,
            "line": pl.String,
            "label_zh": pl.String,
            "label_en": pl.String,
            "currency_column": pl.String,
            "amount": pl.Float64,
            "contracts": pl.Int64,
        },
        orient="row",
    )
    contracts = long.select("row", "position_id", "currency", "g22_code", "g22_line", "g22_amount")
    return lines, contracts


def _g22_assumptions(
    frame: pl.DataFrame, out: list[Assumption], *, od_days: int, security: pl.Expr, listed: pl.Expr, enc_amt: pl.Expr
) -> None:
    overdue_no_dpd = (pl.col("overdue_principal").fill_null(0.0) > 0) & pl.col("days_past_due").is_null()
    _record(
        frame,
        overdue_no_dpd & _ASSET,
        measure=MEASURE,
        code="ratios.g22_overdue_asset_without_days_past_due",
        message="overdue principal on an asset without days_past_due: cannot tell if overdue <= 1 month",
        assumption=f"overdue amount not counted as due within {od_days} days (conservative)",
        out=out,
    )
    _record(
        frame,
        overdue_no_dpd & _LIAB,
        measure=MEASURE,
        code="ratios.g22_overdue_liability_without_days_past_due",
        message="overdue principal on a liability without days_past_due",
        assumption=f"overdue amount counted as due within {od_days} days (conservative)",
        out=out,
    )
    _record(
        frame,
        _ASSET & _is("central_bank_reserve") & pl.col("product_subtype").is_null(),
        measure=MEASURE,
        code="ratios.cb_reserve_without_subtype",
        message="central-bank reserve without product_subtype (required / excess)",
        assumption="treated as required reserve: not a liquid asset (row 1.3), not cash in the excess reserve ratio",
        out=out,
    )
    _record(
        frame,
        (security | (_ASSET & _is(["equity_investment", "fund_investment"]))) & pl.col("listing_market").is_null(),
        measure=MEASURE,
        code="ratios.g22_security_without_listing",
        message="security without listing_market: cannot tell if marketable at any time",
        assumption="not in row 1.8 (conservative)",
        out=out,
    )
    _record(
        frame,
        (security | _ASSET & _is(["equity_investment", "fund_investment"]))
        & (enc_amt > 0)
        & pl.col("encumbrance_type").is_null(),
        measure=MEASURE,
        code="ratios.g22_encumbrance_without_type",
        message="encumbered security without encumbrance_type",
        assumption="the encumbered part excluded from rows 1.7-1.8 (conservative)",
        out=out,
    )
    _record(
        frame,
        _is(["repo", "reverse_repo"]) & _ON & _UNKNOWN_CP,
        measure=MEASURE,
        code="ratios.repo_without_counterparty_type",
        message="repo / reverse repo without counterparty type",
        assumption="treated as with a financial institution (interbank market, G22 1.4 / 2.3, LMR repo items)",
        out=out,
    )
    _record(
        frame,
        _LIAB & _is("deposit_notice") & pl.col("notice_period_days").is_null(),
        measure=MEASURE,
        code="ratios.notice_deposit_without_period",
        message="notice deposit without notice_period_days",
        assumption="withdrawable within one month: whole balance in G22 row 2.2 (conservative)",
        out=out,
    )
    _ = listed


# --------------------------------------------------------------------------------------------
# 2. liquidity matching ratio
# --------------------------------------------------------------------------------------------

_LMR_SOURCES = (
    "central_bank_funds",
    "deposits",
    "interbank_deposits",
    "interbank_borrowing",
    "repo_fi",
    "bonds_issued",
)
_LMR_USES = ("loans", "placements", "interbank_lending", "reverse_repo_fi", "ncd_held", "other_investments")


def _lmr_item() -> pl.Expr:
    pairs: list[tuple[str, pl.Expr]] = [
        ("central_bank_funds", _LIAB & (_is("central_bank_borrowing") | (_is("repo") & _CB_CP))),
        ("deposits", _LIAB & _is(_DEPOSITS)),
        ("interbank_deposits", _LIAB & _is("interbank_deposit")),
        ("interbank_borrowing", _LIAB & _is("interbank_lending")),
        ("repo_fi", _LIAB & _is("repo")),
        ("bonds_issued", _LIAB & _is("debt_security")),
        ("loans", _ASSET & _is(_LOANS)),
        ("placements", _ASSET & _is("interbank_deposit")),
        ("interbank_lending", _ASSET & _is("interbank_lending")),
        ("reverse_repo_fi", _ASSET & _is("reverse_repo") & ~_CB_CP),
        ("ncd_held", _ASSET & _is("debt_security") & (pl.col("product_subtype") == "ncd").fill_null(False)),
        ("other_investments", _ASSET & _is("fund_investment")),
    ]
    e: pl.Expr = pl.lit(None, dtype=pl.String)
    for item, cond in reversed(pairs):
        e = pl.when(cond).then(pl.lit(item)).otherwise(e)
    return e


def liquidity_matching_ratio(
    frame: pl.DataFrame,
    rules: RuleSet | None = None,
    *,
    settings: CnRatioSettings | None = None,
    assumptions: list[Assumption] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, float | None]]:
    """Liquidity matching ratio (流动性匹配率) = weighted sources / weighted uses (G21 row 9).

    Each item's principal by residual maturity is weighted by ``lmr_weights``: ``le7d`` (bands
    d1 + d7), ``d8_90`` (d30 + d90), ``m3_12`` (m6 + y1), ``gt1y`` (y5 + y10 + beyond, plus
    overdue principal of the uses). Demand deposits and demand interbank deposits are slotted as in
    G21 memo rows 7 / 17: the stable part (:class:`CnRatioSettings`) in ``gt1y``, the rest spread by
    bucket length over a 360-day year. Demand placements (nostro) sit in the next-day bucket, notice
    deposits in 2-7 days; other investments count by total balance. Undated sources go to
    ``le7d`` and undated uses to ``gt1y`` (both conservative, recorded).

    Returns
    -------
    (lines, contracts, values)
        ``lines``: ``kind`` (source/use), ``item``, ``band``, ``currency_column``, ``amount``,
        ``weight``, ``weighted_amount``; ``contracts``: ``row, position_id, currency, lmr_item,
        amount_<band>..., weighted_amount`` (contract currency); ``values``: ``lmr`` per currency
        column (``lmr`` = C, ``lmr_A``, ``lmr_B``).
    """
    settings = settings or CnRatioSettings()
    out = assumptions if assumptions is not None else []
    wt = _require_china(rules, "lmr_weights")
    slot = _slotting(wt)
    work = frame if "_stable" in frame.columns else _with_stable(frame, settings, out)
    work = work.with_columns(_lmr_item().alias("lmr_item"))

    item = pl.col("lmr_item")
    undated = pl.col("undated").fill_null(False)
    demand_dep, demand_ib = _demand_masks()
    slotted = demand_dep | demand_ib
    rest = _BAL * (1.0 - pl.col("_stable"))
    overdue = pl.when(item.is_in(list(_LMR_USES))).then(pl.col("overdue_principal").fill_null(0.0)).otherwise(0.0)
    is_source = item.is_in(list(_LMR_SOURCES))
    nostro = (item == "placements") & undated
    notice = _LIAB & _is("deposit_notice") & undated
    undated_other = undated & ~slotted & ~nostro & ~notice & (item != "other_investments")
    bands = {
        "le7d": pl.when(slotted)
        .then(rest * (slot["A"] + slot["B"]))
        .when(nostro | notice | (undated_other & is_source))
        .then(_BAL)
        .when(undated_other)
        .then(0.0)
        .otherwise(_p("d1", "d7")),
        "d8_90": pl.when(slotted)
        .then(rest * (slot["C"] + slot["D"]))
        .when(undated)
        .then(0.0)
        .otherwise(_p("d30", "d90")),
        "m3_12": pl.when(slotted).then(rest * slot["E"]).when(undated).then(0.0).otherwise(_p("m6", "y1")),
        "gt1y": pl.when(slotted)
        .then(_BAL * pl.col("_stable"))
        .when(undated_other & ~is_source)
        .then(_BAL)
        .when(undated)
        .then(0.0)
        .otherwise(_p("y5", "y10", "beyond") + overdue),
    }
    weights = {
        b: item.replace_strict(
            {i: wt.factor(f"{i}.{b}") for i in _LMR_SOURCES + _LMR_USES if i != "other_investments"},
            default=0.0,
            return_dtype=pl.Float64,
        )
        for b in _LMR_BANDS
    }
    total_w = wt.factor("other_investments.total")
    is_oi = item == "other_investments"
    cols = [pl.when(is_oi).then(0.0).otherwise(bands[b]).alias(f"amount_{b}") for b in _LMR_BANDS]
    _record(
        work,
        undated_other & is_source,
        measure=MEASURE,
        code="ratios.lmr_undated_source",
        message="LMR source without contractual maturity (no flows, no maturity date)",
        assumption="whole balance in the <= 7 days band (lowest weight, conservative)",
        out=out,
    )
    _record(
        work,
        undated_other & ~is_source & item.is_not_null(),
        measure=MEASURE,
        code="ratios.lmr_undated_use",
        message="LMR use without contractual maturity (no flows, no maturity date)",
        assumption="whole balance in the > 1 year band (highest weight, conservative)",
        out=out,
    )
    work = (
        work.lazy()
        .select(
            "row",
            "position_id",
            "currency",
            "fx_rc",
            "lmr_item",
            *cols,
            pl.when(is_oi).then(_BAL).otherwise(0.0).alias("amount_total"),
        )
        .filter(pl.col("lmr_item").is_not_null())
        .collect()
    )
    work = work.with_columns(
        (
            pl.sum_horizontal([pl.col(f"amount_{b}") * weights[b] for b in _LMR_BANDS])
            + pl.col("amount_total") * total_w
        ).alias("weighted_amount")
    )
    amount_cols = [*(f"amount_{b}" for b in _LMR_BANDS), "amount_total"]
    contracts = work.select("row", "position_id", "currency", "fx_rc", "lmr_item", *amount_cols, "weighted_amount")

    sums = currency_column_sums(
        contracts, {c: pl.col(c) for c in amount_cols}, domestic=settings.domestic_currency, by=["lmr_item"]
    )
    skeleton = pl.DataFrame({"lmr_item": list(_LMR_SOURCES + _LMR_USES)}).join(
        pl.DataFrame({"currency_column": list(CURRENCY_COLUMNS)}), how="cross"
    )
    sums = skeleton.join(sums, on=["lmr_item", "currency_column"], how="left").with_columns(
        [pl.col(c).fill_null(0.0) for c in amount_cols]
    )
    long = sums.unpivot(
        index=["lmr_item", "currency_column"], on=amount_cols, variable_name="band", value_name="amount"
    )
    long = long.with_columns(pl.col("band").str.replace("amount_", ""))
    wmap = {code: r.factor for code, r in wt.rows.items() if r.factor is not None}
    long = long.with_columns(
        pl.concat_str([pl.col("lmr_item"), pl.lit("."), pl.col("band")])
        .replace_strict(wmap, default=None, return_dtype=pl.Float64)
        .alias("weight")
    ).filter(pl.col("weight").is_not_null())
    long = long.with_columns(
        pl.when(pl.col("lmr_item").is_in(list(_LMR_SOURCES)))
        .then(pl.lit("source"))
        .otherwise(pl.lit("use"))
        .alias("kind"),
        (pl.col("amount") * pl.col("weight")).alias("weighted_amount"),
    )
    lines = long.select(
        "kind", pl.col("lmr_item").alias("item"), "band", "currency_column", "amount", "weight", "weighted_amount"
    )
    tot = ordered_group_by(lines, ["currency_column", "kind"]).agg(pl.col("weighted_amount").sum())
    values: dict[str, float | None] = {}
    for cc in CURRENCY_COLUMNS:
        src = tot.filter((pl.col("currency_column") == cc) & (pl.col("kind") == "source"))["weighted_amount"].sum()
        use = tot.filter((pl.col("currency_column") == cc) & (pl.col("kind") == "use"))["weighted_amount"].sum()
        values["lmr" if cc == "C" else f"lmr_{cc}"] = _div(float(src), float(use))
    return lines, contracts.drop("fx_rc"), values


# --------------------------------------------------------------------------------------------
# 3. core liability ratio, liquidity gap, LDR, excess reserves, interbank funding
# --------------------------------------------------------------------------------------------


def core_liability_ratio(
    frame: pl.DataFrame,
    rules: RuleSet | None = None,
    *,
    settings: CnRatioSettings | None = None,
    assumptions: list[Assumption] | None = None,
) -> pl.DataFrame:
    """Core liability ratio (核心负债比例) in both definitions, per currency column.

    ``cn_core``: (term deposits + issued bonds with residual maturity >= 3 months) + 50% of demand
    deposits, over total on-balance liabilities (CN-CORE 2006). ``g21``: stable part of demand
    deposits + term deposits and issued bonds with residual maturity > 90 days (G21 row 8).
    ">= 3 months" is read as the bands m6 ... beyond (> 90 days); issued NCDs are not bonds here.

    Returns
    -------
    polars.DataFrame
        ``definition, component, currency_column, amount, factor``; component ``core`` carries
        the sum, ``total_liabilities`` the denominator and ``ratio`` the ratio.
    """
    settings = settings or CnRatioSettings()
    out = assumptions if assumptions is not None else []
    ct = _require_china(rules, "core_liabilities")
    work = frame if "_stable" in frame.columns else _with_stable(frame, settings, out)
    gt90 = _p("m6", "y1", "y5", "y10", "beyond")
    bonds = _LIAB & _is("debt_security") & (pl.col("product_subtype").fill_null("") != "ncd")
    term = _LIAB & _is("deposit_term")
    demand = _LIAB & _is("deposit_demand")
    comps: dict[str, tuple[str, pl.Expr]] = {
        "cn_core.term_deposit_ge3m": ("cn_core", pl.when(term).then(gt90).otherwise(0.0)),
        "cn_core.bond_issued_ge3m": ("cn_core", pl.when(bonds).then(gt90).otherwise(0.0)),
        "cn_core.demand_deposit": ("cn_core", pl.when(demand).then(_BAL).otherwise(0.0)),
        "g21.term_deposit_gt90d": ("g21", pl.when(term).then(gt90).otherwise(0.0)),
        "g21.bond_issued_gt90d": ("g21", pl.when(bonds).then(gt90).otherwise(0.0)),
        "g21.demand_stable": ("g21", pl.when(demand).then(_BAL * pl.col("_stable")).otherwise(0.0)),
    }
    amounts = {code: e * ct.factor(code) for code, (_d, e) in comps.items()}
    amounts["total_liabilities"] = pl.when(_LIAB).then(_BAL).otherwise(0.0)
    sums = currency_column_sums(work, amounts, domestic=settings.domestic_currency)
    rows: list[tuple[str, str, str, float, float | None]] = []
    for rec in sums.iter_rows(named=True):
        cc = rec["currency_column"]
        total = rec["total_liabilities"]
        for definition in ("cn_core", "g21"):
            core = 0.0
            for code, (d, _e) in comps.items():
                if d == definition:
                    rows.append((definition, code, cc, rec[code], ct.factor(code)))
                    core += rec[code]
            ratio = _div(core, total)
            rows.append((definition, "core", cc, core, None))
            rows.append((definition, "total_liabilities", cc, total, None))
            rows.append((definition, "ratio", cc, float("nan") if ratio is None else ratio, None))
    return pl.DataFrame(
        rows,
        schema={
            "definition": pl.String,
            "component": pl.String,
            "currency_column": pl.String,
            "amount": pl.Float64,
            "factor": pl.Float64,
        },
        orient="row",
    )


def liquidity_gap(
    frame: pl.DataFrame,
    rules: RuleSet | None = None,
    *,
    settings: CnRatioSettings | None = None,
    assumptions: list[Assumption] | None = None,
) -> pl.DataFrame:
    """G21 liquidity gap and gap ratio (流动性缺口 / 流动性缺口率) at each horizon.

    ``gap(h) = inflows(h) - outflows(h)``, cumulative principal up to the horizon of: on-balance
    assets and dated off-balance inflows (derivative legs received; draws on off-balance
    liabilities) less liabilities and dated off-balance outflows; undated cash, non-required
    central-bank reserves and demand placements count next day; demand deposits and demand
    interbank deposits are moved to their behavioural buckets (G21 memo rows 7 / 17, as in the
    LMR). ``gap ratio(h) = gap(h) / inflows(h)``; the CN-CORE indicator is the 90-day value.

    Returns
    -------
    polars.DataFrame
        ``horizon, horizon_days, label_zh, label_en, currency_column, inflow, outflow, gap,
        gap_ratio`` (gap_ratio NaN when there are no inflows).
    """
    settings = settings or CnRatioSettings()
    out = assumptions if assumptions is not None else []
    ct = _require_china(rules, "core_liabilities")
    slot = _slotting(_require_china(rules, "lmr_weights"))
    work = frame if "_stable" in frame.columns else _with_stable(frame, settings, out)
    nd = ct.rule("gap.next_day_assets").extra
    nd_types = list(nd.get("instrument_types", []))  # type: ignore[call-overload]
    nd_excl = list(nd.get("excluded_subtypes", []))  # type: ignore[call-overload]
    undated = pl.col("undated").fill_null(False)
    demand_dep, demand_ib = _demand_masks()
    slotted = demand_dep | demand_ib
    rest = _BAL * (1.0 - pl.col("_stable"))
    off = ~pl.col("on_balance_sheet").fill_null(True)
    deriv = _is("derivative_leg")
    inflow_row = _ASSET | (off & ((deriv & (pl.col("side") == "asset")) | (~deriv & (pl.col("side") == "liability"))))
    outflow_row = _LIAB | (off & ((deriv & (pl.col("side") == "liability")) | (~deriv & (pl.col("side") == "asset"))))
    next_day_asset = _ASSET & undated & _is(nd_types) & ~pl.col("product_subtype").fill_null("").is_in(nd_excl)
    notice = _LIAB & _is("deposit_notice") & undated
    slot_of_band = {"d1": slot["A"], "d7": slot["B"], "d30": slot["C"], "d90": slot["D"], "m6": 0.0, "y1": slot["E"]}
    cols = []
    for b in _GAP_BANDS:
        flow = pl.col(f"principal_{b}").fill_null(0.0)
        nd_amt = _BAL if b == "d1" else pl.lit(0.0)
        notice_amt = _BAL if b == "d7" else pl.lit(0.0)
        cols.append(pl.when(next_day_asset).then(nd_amt).when(inflow_row).then(flow).otherwise(0.0).alias(f"in_{b}"))
        cols.append(
            pl.when(slotted)
            .then(rest * slot_of_band[b])
            .when(notice)
            .then(notice_amt)
            .when(outflow_row)
            .then(flow)
            .otherwise(0.0)
            .alias(f"out_{b}")
        )
    sums = currency_column_sums(work, {c.meta.output_name(): c for c in cols}, domestic=settings.domestic_currency)
    rows = []
    for code, rule in ct.rows.items():
        if not code.startswith("gap.horizon."):
            continue
        bands = list(rule.extra.get("bands", []))  # type: ignore[call-overload]
        for rec in sums.iter_rows(named=True):
            inflow = sum(rec[f"in_{b}"] for b in bands)
            outflow = sum(rec[f"out_{b}"] for b in bands)
            ratio = _div(inflow - outflow, inflow)
            rows.append(
                (
                    code.removeprefix("gap.horizon."),
                    int(rule.factor or 0),
                    rule.label_zh,
                    rule.label_en,
                    rec["currency_column"],
                    inflow,
                    outflow,
                    inflow - outflow,
                    float("nan") if ratio is None else ratio,
                )
            )
    return pl.DataFrame(
        rows,
        schema={
            "horizon": pl.String,
            "horizon_days": pl.Int64,
            "label_zh": pl.String,
            "label_en": pl.String,
            "currency_column": pl.String,
            "inflow": pl.Float64,
            "outflow": pl.Float64,
            "gap": pl.Float64,
            "gap_ratio": pl.Float64,
        },
        orient="row",
    )


def ratio_tables(frame: pl.DataFrame, *, settings: CnRatioSettings | None = None) -> pl.DataFrame:
    """LDR (存贷比), excess reserve ratio (超额备付金率) and interbank funding share (同业融入比例).

    * ``ldr`` = gross loans (loan, bill_discount, revolving_credit) / deposits (demand, term,
      notice), on-balance balances;
    * ``excess_reserve_ratio`` = (excess reserves with the central bank + cash) / deposits — the
      formula of the CN-CORE excess reserve ratio as quoted in exam material [S];
    * ``interbank_funding_share`` = (interbank deposits + interbank borrowing + repo with
      financial institutions) / total liabilities (银发〔2014〕127号: at most one third).

    Returns
    -------
    polars.DataFrame
        ``indicator, currency_column, numerator, denominator, value`` (NaN when the denominator is 0).
    """
    settings = settings or CnRatioSettings()
    deposits = pl.when(_LIAB & _is(_DEPOSITS)).then(_BAL).otherwise(0.0)
    amounts = {
        "loans": pl.when(_ASSET & _is(_LOANS)).then(_BAL).otherwise(0.0),
        "deposits": deposits,
        "reserves_cash": pl.when(
            _ASSET & (_is("cash") | (_is("central_bank_reserve") & (pl.col("product_subtype") == "excess_reserve")))
        )
        .then(_BAL)
        .otherwise(0.0),
        "interbank_funding": pl.when(
            _LIAB & (_is(["interbank_deposit", "interbank_lending"]) | (_is("repo") & ~_CB_CP))
        )
        .then(_BAL)
        .otherwise(0.0),
        "liabilities": pl.when(_LIAB).then(_BAL).otherwise(0.0),
    }
    sums = currency_column_sums(frame, amounts, domestic=settings.domestic_currency)
    defs = {
        "ldr": ("loans", "deposits"),
        "excess_reserve_ratio": ("reserves_cash", "deposits"),
        "interbank_funding_share": ("interbank_funding", "liabilities"),
    }
    rows = []
    for rec in sums.iter_rows(named=True):
        for ind, (n, d) in defs.items():
            v = _div(rec[n], rec[d])
            rows.append((ind, rec["currency_column"], rec[n], rec[d], float("nan") if v is None else v))
    return pl.DataFrame(
        rows,
        schema={
            "indicator": pl.String,
            "currency_column": pl.String,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "value": pl.Float64,
        },
        orient="row",
    )


def _value(df: pl.DataFrame, cond: pl.Expr, col: str) -> float | None:
    v = df.filter(cond)[col]
    if v.len() != 1:
        return None
    x = v.item()
    return None if x is None or x != x else float(x)


def compute_cn_ratios(
    frame: pl.DataFrame,
    rules: RuleSet | None = None,
    *,
    settings: CnRatioSettings | None = None,
) -> CnRatiosResult:
    """All Chinese ratios of this module on one liquidity frame.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame (:data:`.frame.FRAME_SCHEMA`).
    rules:
        The ``china`` rule set (overrides applied); None loads the shipped tables. Another rule
        set raises :class:`~openalm.errors.ConfigError` (Basel has none of these ratios).
    settings:
        :class:`CnRatioSettings` (stable demand balances, domestic currency).

    Returns
    -------
    CnRatiosResult
        ``values`` keyed as the ``limits`` table: liquidity_ratio, lmr, core_liability_ratio,
        core_liability_ratio_g21, liquidity_gap_ratio, ldr, ldr_cny, ldr_fx,
        excess_reserve_ratio, interbank_funding_share (all-currency values; ldr_cny / ldr_fx
        columns A / B).
    """
    settings = settings or CnRatioSettings()
    out: list[Assumption] = []
    _require_china(rules, "liquidity_ratio")
    _fx_assumption(frame, settings.domestic_currency, out)
    work = _with_stable(frame, settings, out)
    g22_lines, g22_contracts = liquidity_ratio(work, rules, settings=settings, assumptions=out)
    lmr_lines, lmr_contracts, lmr_values = liquidity_matching_ratio(work, rules, settings=settings, assumptions=out)
    core = core_liability_ratio(work, rules, settings=settings, assumptions=out)
    gap = liquidity_gap(work, rules, settings=settings, assumptions=out)
    other = ratio_tables(work, settings=settings)

    rows: list[tuple[str, str, float | None, float | None, float | None]] = []
    for cc in CURRENCY_COLUMNS:
        sel = pl.col("currency_column") == cc
        la = _value(g22_lines, sel & (pl.col("code") == "liquid_assets"), "amount")
        ll = _value(g22_lines, sel & (pl.col("code") == "liquid_liabilities"), "amount")
        rows.append(("liquidity_ratio", cc, la, ll, _value(g22_lines, sel & (pl.col("code") == "ratio"), "amount")))
        src = float(lmr_lines.filter(sel & (pl.col("kind") == "source"))["weighted_amount"].sum())
        use = float(lmr_lines.filter(sel & (pl.col("kind") == "use"))["weighted_amount"].sum())
        rows.append(("lmr", cc, src, use, _div(src, use)))
        for definition, key in (("cn_core", "core_liability_ratio"), ("g21", "core_liability_ratio_g21")):
            d = sel & (pl.col("definition") == definition)
            rows.append(
                (
                    key,
                    cc,
                    _value(core, d & (pl.col("component") == "core"), "amount"),
                    _value(core, d & (pl.col("component") == "total_liabilities"), "amount"),
                    _value(core, d & (pl.col("component") == "ratio"), "amount"),
                )
            )
        g = sel & (pl.col("horizon") == "d90")
        rows.append(
            (
                "liquidity_gap_ratio",
                cc,
                _value(gap, g, "gap"),
                _value(gap, g, "inflow"),
                _value(gap, g, "gap_ratio"),
            )
        )
        for rec in other.filter(sel).iter_rows(named=True):
            v = rec["value"]
            rows.append((rec["indicator"], cc, rec["numerator"], rec["denominator"], None if v != v else v))
    ratios = pl.DataFrame(
        rows,
        schema={
            "indicator": pl.String,
            "currency_column": pl.String,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "value": pl.Float64,
        },
        orient="row",
    )
    values: dict[str, float | None] = {}
    for ind, cc, _n, _d, v in rows:
        if cc == "C":
            values[ind] = v
    ldr = ratios.filter(pl.col("indicator") == "ldr")
    values["ldr_cny"] = _value(ldr, pl.col("currency_column") == "A", "value")
    values["ldr_fx"] = _value(ldr, pl.col("currency_column") == "B", "value")
    _ = lmr_values
    return CnRatiosResult(
        values=values,
        ratios=ratios,
        g22_lines=g22_lines,
        g22_contracts=g22_contracts,
        lmr_lines=lmr_lines,
        lmr_contracts=lmr_contracts,
        core_lines=core,
        gap=gap,
        assumptions=out,
    )
