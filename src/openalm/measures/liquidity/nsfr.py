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
  line uses that currency's own DA and DL. Legs without an FX rate cannot be netted and are left
  out (they are in the ``nsfr.fx_rate_missing`` assumption).

Computation
-----------
The classification is one lazy polars query (collected twice: before and after the deposit
insurance allocation) giving each row small integer codes (component, category of its two
portions, maturity) and its amount per maturity column; categories are ``when`` chains of code
literals, the most compared code columns are cast to ``Categorical``. Pieces, lines and the
contract table are then built from numpy arrays: factors are looked up in a (component, category,
maturity) array, lines are summed with ``np.bincount`` on a cell code (a line adds its pieces in
``detail`` order, so sums are the same bit for bit in every run) and names are attached last.

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

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, Field

from openalm.errors import ConfigError, DataError, SchemaError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import BANDS, FRAME_SCHEMA, band_ends
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
_CODE_COLUMNS: tuple[str, ...] = ("instrument_type", "cp_class")

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
    """Maturity code (``lt_6m``, ``6m_1y``, ``ge_1y``) of a day count."""
    return pl.when(days <= d6).then(_mat("lt_6m")).when(days <= d12).then(_mat("6m_1y")).otherwise(_mat("ge_1y"))


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
    mask = frame.select(eligible.fill_null(False).alias("_el"))["_el"]
    work = (
        frame.select("_i", "counterparty_id", "balance", "insured_amount", "fx_rc")
        .filter(mask)
        .select(
            pl.col("_i"),
            pl.col("counterparty_id"),
            given.alias("_given"),
            (bal * pl.col("fx_rc")).alias("_bal_rc"),
            pl.col("fx_rc"),
        )
    )
    insured = pl.zeros(frame.height, pl.Float64, eager=True).scatter(work["_i"], work["_given"].fill_null(0.0))
    if cap_rc is None:
        return insured
    # allocation over the depositors' eligible accounts (usually a small part of the frame)
    sub = work.filter(pl.col("counterparty_id").is_not_null())
    if sub.height == 0:
        return insured
    can = pl.col("_given").is_null() & pl.col("_bal_rc").is_finite()
    used = pl.when(pl.col("_given").is_not_null()).then(pl.col("_given") * pl.col("fx_rc")).otherwise(0.0).fill_nan(0.0)
    # each depositor's accounts together, in row order (a stable sort)
    sub = sub.sort("counterparty_id", maintain_order=True).select(
        "_i",
        "fx_rc",
        can.alias("_can"),
        pl.when(can).then(pl.col("_bal_rc")).otherwise(0.0).alias("_alloc_base"),
        used.alias("_used_rc"),
        pl.col("counterparty_id").rle_id().alias("_dep"),
    )
    dep = sub["_dep"].cast(pl.Int64).to_numpy()
    alloc_base = sub["_alloc_base"].to_numpy()
    room = _sums(dep, sub["_used_rc"].to_numpy(), 0)[dep]
    room = np.maximum(cap_rc - room, 0.0)
    before = _running_sum(dep, alloc_base) - alloc_base  # the depositor's earlier accounts
    alloc_rc = np.minimum(np.maximum(room - before, 0.0), alloc_base)
    can_rows = sub["_can"].to_numpy()
    values = alloc_rc[can_rows] / sub["fx_rc"].to_numpy()[can_rows]
    return insured.scatter(sub["_i"].filter(sub["_can"]), values)


def _sums(index: npt.NDArray[np.int64], values: npt.NDArray[np.float64], size: int) -> npt.NDArray[np.float64]:
    """Sum of ``values`` per ``index`` (``size`` slots at least), each slot added in array order:
    the same bits in every run (a parallel group-by adds in a thread-dependent order)."""
    return np.bincount(index, weights=values, minlength=size).astype(np.float64, copy=False)


def _running_sum(group: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Running sum of ``values`` within each group of the sorted group codes ``group``, added in
    order (as ``cum_sum().over(group)``): one vectorised step per position within a group."""
    n = group.size
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    pos = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
    out = values.copy()
    if n == 0 or pos.max() == 0:
        return out
    by_pos = np.argsort(pos, kind="stable")
    ends = np.cumsum(np.bincount(pos))
    for p in range(1, ends.size):
        idx = by_pos[ends[p - 1] : ends[p]]
        out[idx] = out[idx - 1] + values[idx]
    return out


# --------------------------------------------------------------------------------------- codes

#: Every category the classification below names (the rule tables may add more through overrides).
_PY_CATEGORIES = (
    "regulatory_capital", "issued_ncd", "issued_securities", "other_liabilities", "no_maturity_liabilities",
    "retail_stable", "retail_less_stable", "operational_deposits", "central_bank_secured_funding",
    "central_bank_funding", "fi_secured_funding", "fi_funding", "corporate_sovereign_funding",
    "derivative_liabilities", "other_assets", "cash_central_bank", "hqla_l1", "hqla_l2a", "hqla_l2b",
    "securities_non_hqla", "listed_equities", "central_bank_claims", "operational_deposits_held",
    "fi_loans_secured_l1", "fi_loans", "residential_mortgages_low_rw", "residential_mortgages", "loans_low_rw",
    "loans_non_fi", "obs_revocable", "obs_irrevocable", "obs_trade_finance", "obs_other", "encumbered_ge_1y",
    "encumbered_6m_1y", "net_derivative_assets", "derivative_liabilities_addon",
)  # fmt: skip
_COMPONENTS = ("asf", "rsf")
_MAX_CODES = 255  # category codes are UInt8

#: Pieces or per-row values as numpy arrays by name (``i, comp, cat, mat, amount, factor, weighted``).
_Arrays = dict[str, npt.NDArray[Any]]


@dataclass(frozen=True)
class _Codes:
    """Small integer codes of the categories, so a million rows carry bytes, not strings.

    ``names`` is sorted, so comparing codes orders categories as their names; ``factors[c, k, m]``
    is the factor of component ``c`` (0 asf, 1 rsf), category ``k``, maturity ``m`` (NaN where
    the rule tables have none).
    """

    names: tuple[str, ...]
    index: dict[str, int]
    factors: npt.NDArray[np.float64]

    @classmethod
    def of(cls, asf_f: pl.DataFrame, rsf_f: pl.DataFrame) -> _Codes:
        names = tuple(sorted(set(_PY_CATEGORIES) | set(asf_f["category"]) | set(rsf_f["category"])))
        if len(names) > _MAX_CODES:
            raise ConfigError(f"NSFR rule tables define {len(names)} categories; at most {_MAX_CODES} are supported")
        index = {name: k for k, name in enumerate(names)}
        factors = np.full((2, len(names), len(MATURITIES)), np.nan)
        for comp, table in enumerate((asf_f, rsf_f)):
            for cat, mat, factor in table.select("category", "maturity", "factor").iter_rows():
                factors[comp, index[cat], MATURITIES.index(mat)] = factor
        return cls(names, index, factors)

    def lit(self, name: str) -> pl.Expr:
        return pl.lit(self.index[name], dtype=pl.UInt8)


def _mat(name: str) -> pl.Expr:
    return pl.lit(MATURITIES.index(name), dtype=pl.UInt8)


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
    codes = _Codes.of(asf_f, rsf_f)

    c = _classify(f, tabs, settings, d6, d12, reporting_currency, cats, codes, assumptions)
    pieces, per_row = _pieces(c, codes)
    deriv = _derivatives(f, tabs, codes, assumptions)
    pieces = {k: np.concatenate([pieces[k], deriv[k]]) for k in pieces}

    ccy, currencies = _currency_codes(f["currency"])
    fx = f["fx_rc"].to_numpy()
    bad_fx = f.select(
        pl.col("position_id"), pl.col("balance"), pl.lit(0.0).alias("fx_rc"), pl.col("fx_rc").alias("_fx")
    )
    record_assumption(
        bad_fx,
        ~pl.col("_fx").is_finite() | pl.col("_fx").is_null(),
        measure=_MEASURE,
        code="nsfr.fx_rate_missing",
        message="no FX rate to the reporting currency (amount_rc shown as 0)",
        assumption="left out of the ALL-currency NSFR; kept in the contract-currency lines",
        out=assumptions,
    )
    lines = _lines(pieces, ccy, currencies, fx, f.height, codes, tabs, asf_f, rsf_f)
    ratio = {
        r["currency"]: (math.nan if r["weighted_amount"] is None else float(r["weighted_amount"]))
        for r in lines.filter(pl.col("component") == "ratio").iter_rows(named=True)
    }
    detail = _detail(f["row"], pieces, codes)
    contracts = _contracts(f["row"], per_row, deriv, codes)
    return NsfrResult(lines=lines, contracts=contracts, detail=detail, ratio=ratio, assumptions=assumptions)


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
    codes: _Codes,
    assumptions: list[Assumption],
) -> pl.DataFrame:
    """Classify every row: ``_comp`` (0 asf, 1 rsf, null outside), ``_cat_a``, ``_cat_b`` (category
    codes), ``_share_b``, ``_b_floor``, ``_overdue`` and ``_a_0 .. _a_3`` (amount per maturity code;
    the amounts are meaningful where ``_comp`` is set, :func:`_pieces` reads no other row).

    Categories are small integer codes (:class:`_Codes`) built with ``when`` chains of literals.
    The steps are one lazy query (collected before the deposit insurance allocation and at the
    end), so repeated subexpressions are evaluated once and only the needed columns are touched.
    """
    k = codes.lit
    has_override = f["nsfr_category_override"].null_count() < f.height
    cap_rc = _cap_in_reporting_currency(f, tabs.asf, reporting_currency)
    # the code columns compared most often, as Categorical: comparing a Categorical with a string
    # literal compares small integer codes (the run's frame already holds them so)
    lf = f.lazy().with_columns(
        pl.col(name).cast(pl.Categorical) for name in _CODE_COLUMNS if f.schema[name] == pl.String
    )
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
    lf, (deriv, equity, liab, asset, obs, performing) = _materialise(
        lf, deriv=deriv, equity=equity, liab=liab, asset=asset, obs=obs, performing=performing
    )

    lf = lf.with_columns(
        pl.when(liab).then(pl.lit(0, dtype=pl.UInt8)).when(asset | obs).then(pl.lit(1, dtype=pl.UInt8)).alias("_comp"),
        _sum([f"principal_{b}" for b in _LT6]).alias("_p_lt6"),
        _sum([f"principal_{b}" for b in _612]).alias("_p_612"),
        _sum([f"principal_{b}" for b in _GE1]).alias("_p_ge1"),
    )
    lf = lf.with_columns((pl.col("_p_lt6") + pl.col("_p_612") + pl.col("_p_ge1")).alias("_p_tot"))

    # ---- earliest possible maturity of liabilities
    holder_call = pl.col("call_type").is_in(["holder", "both"])
    options = [
        pl.col("next_withdrawal_days"),
        pl.when(holder_call).then(pl.col("next_call_days")),
        pl.when(it == "deposit_notice").then(pl.col("notice_period_days")),
    ]
    if settings.early_withdrawal_as_demand:
        early = (it == "deposit_term") & pl.col("early_withdrawal_allowed").fill_null(False)
        options.append(pl.when(early).then(pl.lit(0, dtype=pl.Int32)))
    lf = lf.with_columns(pl.min_horizontal(options).alias("_opt_days"))
    lf = lf.with_columns(pl.min_horizontal(pl.col("_opt_days"), pl.col("maturity_days")).alias("_liab_days"))

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
    lf, (capital, dated, fi_like, cb_like) = _materialise(
        lf, capital=capital, dated=dated, fi_like=fi_like, cb_like=cb_like
    )
    cp_cat = (
        pl.when(cb_like & (it == "repo"))
        .then(k("central_bank_secured_funding"))
        .when(cb_like)
        .then(k("central_bank_funding"))
        .when(fi_like & (it == "repo"))
        .then(k("fi_secured_funding"))
        .when(fi_like)
        .then(k("fi_funding"))
        .when(cp.is_in(["corporate", "sovereign", "other"]))
        .then(k("corporate_sovereign_funding"))
        .otherwise(k("fi_funding"))
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
    lf, (unknown_funding, retail, cp_cat) = _materialise(
        lf, unknown_funding=unknown_funding, retail=retail, cp_cat=cp_cat
    )
    operational = (
        liab & ~capital & ~retail & pl.col("is_operational").fill_null(False) & (cp.is_in(_FI) | (cp == "central_bank"))
    ).fill_null(False)
    lf, (operational,) = _materialise(lf, operational=operational)
    asf_a = (
        pl.when(capital)
        .then(k("regulatory_capital"))
        .when(it == "debt_security")
        .then(pl.when(sub == "ncd").then(k("issued_ncd")).otherwise(k("issued_securities")))
        .when(it == "other_liability")
        .then(pl.when(dated).then(k("other_liabilities")).otherwise(k("no_maturity_liabilities")))
        .when(retail)
        .then(k("retail_stable"))
        .when(operational)
        .then(k("operational_deposits"))
        .otherwise(cp_cat)
    )

    # retail stability and deposit insurance
    criteria = pl.col("is_transactional").fill_null(False) | pl.col("has_established_relationship").fill_null(False)
    f = lf.collect(engine="in-memory")
    if has_override:
        _check_overrides(f, cats)
    lf = f.with_columns(_insured(f, retail, cap_rc).alias("_insured")).lazy()
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
    lf, (security, mortgage, mortgage_low, rehyp, fi_asset, lending) = _materialise(
        lf,
        security=security,
        mortgage=mortgage,
        mortgage_low=mortgage_low,
        rehyp=rehyp,
        fi_asset=fi_asset,
        lending=lending,
    )
    rsf_a_on = (
        pl.when(~performing)
        .then(k("other_assets"))
        .when(it.is_in(["cash", "central_bank_reserve"]))
        .then(k("cash_central_bank"))
        .when(security & (lvl == "level_1"))
        .then(k("hqla_l1"))
        .when(security & (lvl == "level_2a"))
        .then(k("hqla_l2a"))
        .when(security & (lvl == "level_2b"))
        .then(k("hqla_l2b"))
        .when(security & (it == "debt_security"))
        .then(k("securities_non_hqla"))
        .when(security & (it == "equity_investment") & pl.col("listing_market").is_in(_LISTED))
        .then(k("listed_equities"))
        .when(security)
        .then(k("other_assets"))
        .when(lending & (cp == "central_bank"))
        .then(k("central_bank_claims"))
        .when(lending & (it == "interbank_deposit") & pl.col("is_operational").fill_null(False))
        .then(k("operational_deposits_held"))
        .when(lending & fi_asset)
        .then(
            pl.when((it == "reverse_repo") & (pl.col("collateral_hqla_level") == "level_1") & rehyp)
            .then(k("fi_loans_secured_l1"))
            .otherwise(k("fi_loans"))
        )
        .when(lending & mortgage)
        .then(pl.when(mortgage_low).then(k("residential_mortgages_low_rw")).otherwise(k("residential_mortgages")))
        .when(lending & (rw <= rsf_rw_max).fill_null(False))
        .then(k("loans_low_rw"))
        .when(lending)
        .then(k("loans_non_fi"))
        .otherwise(k("other_assets"))
    )
    revocable = pl.col("unconditionally_cancellable")
    rsf_a_off = (
        pl.when(it.is_in(["loan_commitment", "revolving_credit"]))
        .then(pl.when(revocable.fill_null(False)).then(k("obs_revocable")).otherwise(k("obs_irrevocable")))
        .when(it == "acceptance")
        .then(k("obs_irrevocable"))
        .when(it.is_in(["guarantee", "letter_of_credit"]))
        .then(k("obs_trade_finance"))
        .otherwise(k("obs_other"))
    )

    # encumbrance overlay (performing on-balance assets)
    enc_days = pl.col("encumbrance_end_days")
    enc_amt = pl.col("encumbered_amount").fill_null(0.0)
    encumbered = (asset & performing & (enc_amt > 0)).fill_null(False)
    enc_cat = (
        pl.when(enc_days.is_null() | (enc_days > d12))
        .then(k("encumbered_ge_1y"))
        .when(enc_days > d6)
        .then(k("encumbered_6m_1y"))
        .otherwise(None)
    )
    enc_share: pl.Expr = pl.when(bal > 0).then((enc_amt / bal).clip(0.0, 1.0)).otherwise(1.0)

    lf, (stable_share, excess_share, encumbered, enc_cat, enc_share) = _materialise(
        lf,
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
        .then(k("retail_less_stable"))
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
    if has_override:
        override_code = override.replace_strict(codes.index, default=None, return_dtype=pl.UInt8)
    else:
        override_code = pl.lit(None, dtype=pl.UInt8)
    lf = lf.with_columns(
        pl.coalesce(pl.when(pl.col("_comp").is_not_null()).then(override_code), cat_a).alias("_cat_a"),
        cat_b.alias("_cat_b"),
        share_b.alias("_share_b"),
        (encumbered & override.is_null()).alias("_b_floor"),
    )

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
        pl.when(asset & performing & (pl.col("_cat_a") != k("other_assets")))
        .then(pl.min_horizontal(pl.col("overdue_principal").fill_null(0.0).clip(lower_bound=0.0), base))
        .otherwise(0.0)
    )
    lf = lf.with_columns(base.alias("_base"), overdue.alias("_overdue"))
    rest = pl.col("_base") - pl.col("_overdue")
    ptot = pl.col("_p_tot")
    undated_loan = asset & it.is_in(["loan", "bill_discount", "revolving_credit", "reverse_repo", "interbank_lending"])
    single = (
        pl.when(obs | ((pl.col("_cat_a") == k("regulatory_capital")) & equity))
        .then(_mat("none"))
        .when(liab & pl.col("_opt_days").is_not_null())
        .then(_bucket(pl.col("_opt_days"), d6, d12))
        .when(ptot > 0)
        .then(None)
        .when(pl.col("maturity_days").is_not_null())
        .then(_bucket(pl.col("maturity_days"), d6, d12))
        .when(liab & it.is_in(_DEPOSIT_LIKE))
        .then(_mat("lt_6m"))
        .when(asset & (it == "interbank_deposit"))
        .then(_mat("lt_6m"))
        .when(undated_loan & (pl.col("_cat_a") != k("other_assets")))
        .then(_mat("ge_1y"))
        .otherwise(_mat("none"))
    )
    lf = lf.with_columns(single.alias("_single"))
    split = pl.col("_single").is_null()
    share = {"lt_6m": "_p_lt6", "6m_1y": "_p_612", "ge_1y": "_p_ge1"}
    amounts = []
    for m, mat in enumerate(MATURITIES):
        by_flow = rest * pl.col(share[mat]) / ptot if mat in share else pl.lit(0.0)
        amounts.append(
            pl.when(split).then(by_flow).when(pl.col("_single") == m).then(rest).otherwise(0.0).alias(f"_a_{m}")
        )
    lf = lf.with_columns(amounts)

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
        split.not_() & (pl.col("_single") == _mat("ge_1y")) & undated_loan & pl.col("maturity_days").is_null(),
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
    out = [
        "_comp",
        "_cat_a",
        "_cat_b",
        "_share_b",
        "_b_floor",
        "_overdue",
        *[f"_a_{m}" for m in range(len(MATURITIES))],
    ]
    c = lf.select(*out, *notes.columns(pl.col("_comp").is_not_null())).collect(engine="in-memory")
    notes.record(c, assumptions)
    return c.select(out)


def _materialise(f: pl.LazyFrame, **exprs: pl.Expr) -> tuple[pl.LazyFrame, list[pl.Expr]]:
    """Evaluate intermediate expressions once as ``_<name>`` columns (keeps expression trees small)."""
    f = f.with_columns([e.alias(f"_{name}") for name, e in exprs.items()])
    return f, [pl.col(f"_{name}") for name in exprs]


class _Notes:
    """Assumption masks collected first and evaluated in one pass over a narrow frame."""

    def __init__(self) -> None:
        self.items: list[tuple[pl.Expr, str, str, str]] = []

    def add(self, mask: pl.Expr, code: str, message: str, assumption: str) -> None:
        self.items.append((mask, code, message, assumption))

    def columns(self, scope: pl.Expr) -> list[pl.Expr]:
        """The columns :meth:`record` reads: the masks (within ``scope``) and what an assumption shows."""
        masks = [(scope & mask).fill_null(False).alias(f"_m{k}") for k, (mask, *_rest) in enumerate(self.items)]
        return [pl.col("position_id"), pl.col("balance"), pl.col("fx_rc"), *masks]

    def record(self, narrow: pl.DataFrame, out: list[Assumption]) -> None:
        hits = narrow.select(pl.col(f"_m{k}").any() for k in range(len(self.items))).row(0)
        for k, (_mask, code, message, assumption) in enumerate(self.items):
            if hits[k]:
                record_assumption(
                    narrow.select("position_id", "balance", "fx_rc", f"_m{k}"),
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
    ov = f.select("row", "position_id", "nsfr_category_override", "_comp").filter(
        pl.col("nsfr_category_override").is_not_null() & pl.col("_comp").is_not_null()
    )
    for code, comp in enumerate(_COMPONENTS):
        bad = ov.filter((pl.col("_comp") == code) & ~pl.col("nsfr_category_override").is_in(sorted(cats[comp])))
        if bad.height:
            r = bad.row(0, named=True)
            raise DataError(
                f"nsfr_category_override {r['nsfr_category_override']!r} (position {r['position_id']}) is not an "
                f"{comp.upper()} category of the rule set; expected one of {sorted(cats[comp])}",
                row=int(r["row"]) + 1 if r["row"] is not None else None,
                column="nsfr_category_override",
                value=r["nsfr_category_override"],
            )


def _derivatives(f: pl.DataFrame, tabs: _Tables, codes: _Codes, assumptions: list[Assumption]) -> _Arrays:
    """Deal-level derivative pieces (booked on each deal's first leg), ALL-currency effective factor.

    Each deal has one piece (a net derivative asset) or two of the same amount (a derivative
    liability: ASF and the RSF add-on).
    """
    legs = f.select("_i", "position_id", "deal_id", "instrument_type", "balance", "fair_value", "fx_rc").filter(
        pl.col("instrument_type") == "derivative_leg"
    )
    if legs.height == 0:
        return _no_pieces()
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
        .filter(pl.col("fx_rc").is_finite())  # legs without a rate cannot be netted (nsfr.fx_rate_missing)
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
    signs = deals.select((pl.col("_v") > 0).alias("_pos"), (pl.col("_v") < 0).alias("_neg"))
    pos, neg = signs[:, 0].to_numpy(), signs[:, 1].to_numpy()
    value, row = deals["_v"].to_numpy(), deals["_i"].cast(pl.Int64).to_numpy()
    # in this order: net derivative assets, derivative liabilities (ASF), the RSF add-on
    parts = [
        (pos, "rsf", "net_derivative_assets", value, eff),
        (neg, "asf", "derivative_liabilities", -value, f_asf),
        (neg, "rsf", "derivative_liabilities_addon", -value, f_add),
    ]
    amount = np.concatenate([amt[sel] for sel, _c, _k, amt, _f in parts])
    factor = np.concatenate([np.full(int(sel.sum()), fac) for sel, _c, _k, _a, fac in parts])
    return {
        "i": np.concatenate([row[sel] for sel, *_rest in parts]),
        "comp": np.concatenate([np.full(int(sel.sum()), _COMPONENTS.index(c), np.uint8) for sel, c, *_r in parts]),
        "cat": np.concatenate([np.full(int(sel.sum()), codes.index[k], np.uint8) for sel, _c, k, *_r in parts]),
        "mat": np.full(amount.size, MATURITIES.index("none"), np.uint8),
        "amount": amount,
        "factor": factor,
        "weighted": amount * factor,
    }


def _lines(
    pieces: _Arrays,
    ccy: npt.NDArray[np.int64],
    currencies: list[str | None],
    fx: npt.NDArray[np.float64],
    n_rows: int,
    codes: _Codes,
    tabs: _Tables,
    asf_f: pl.DataFrame,
    rsf_f: pl.DataFrame,
) -> pl.DataFrame:
    """The lines: sums of the pieces per (currency, component, category, maturity) and over all
    currencies (converted; rows without a rate left out), totals and the ratio.

    The pieces are summed with ``np.bincount`` on a small integer cell code: each line adds its
    pieces in ``detail`` order, so the sums are the same bit for bit in every run. A contract has
    at most one piece per line, so a line's ``contracts`` is its number of pieces.
    """
    n_cat, n_mat = len(codes.names), len(MATURITIES)
    n_cell = len(_COMPONENTS) * n_cat * n_mat
    i = pieces["i"]
    cell = (pieces["comp"].astype(np.int64) * n_cat + pieces["cat"]) * n_mat + pieces["mat"]
    amount, weighted = pieces["amount"], pieces["weighted"]
    size = len(currencies) * n_cell
    key = ccy[i] * n_cell + cell
    fx_p = fx[i]
    ok: Any = np.isfinite(fx_p)
    if ok.all():
        ok = slice(None)
    sums = {
        "per": (
            np.bincount(key, minlength=size),
            _sums(key, amount, size),
            _sums(key, weighted, size),
        ),
        "all": (
            np.bincount(cell[ok], minlength=n_cell),
            _sums(cell[ok], amount[ok] * fx_p[ok], n_cell),
            _sums(cell[ok], weighted[ok] * fx_p[ok], n_cell),
        ),
    }
    keys = ["currency", "component", "category", "maturity"]
    frames: dict[str, pl.DataFrame] = {}
    for view, (count, amt, wsum) in sums.items():
        nz = np.flatnonzero(count)
        cells = nz % n_cell
        frames[view] = pl.DataFrame(
            {
                "currency": [currencies[int(k)] for k in nz // n_cell] if view == "per" else ["ALL"] * nz.size,
                "component": [_COMPONENTS[int(k)] for k in cells // (n_cat * n_mat)],
                "category": [codes.names[int(k)] for k in (cells // n_mat) % n_cat],
                "maturity": [MATURITIES[int(k)] for k in cells % n_mat],
                "amount": amt[nz],
                "weighted_amount": wsum[nz],
                "contracts": count[nz],
            },
            schema={
                **{k: pl.String for k in keys},
                "amount": pl.Float64,
                "weighted_amount": pl.Float64,
                "contracts": pl.Int64,
            },
        ).sort(keys, nulls_last=True)
    per_ccy, all_ccy = frames["per"], frames["all"]
    # contracts per currency and component: rows with at least one piece of the component
    has = np.zeros((len(_COMPONENTS), n_rows), dtype=bool)
    has[pieces["comp"], i] = True
    finite = np.isfinite(fx)
    parts = []
    for k, comp in enumerate(_COMPONENTS):
        by_ccy = np.bincount(ccy[has[k]], minlength=len(currencies))
        nz = np.flatnonzero(by_ccy)
        parts.append(
            pl.DataFrame(
                {
                    "currency": [currencies[int(j)] for j in nz] + ["ALL"],
                    "component": [comp] * (nz.size + 1),
                    "contracts": [*by_ccy[nz].tolist(), int((has[k] & finite).sum())],
                },
                schema={"currency": pl.String, "component": pl.String, "contracts": pl.Int64},
            )
        )
    n = pl.concat(parts)
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
            lines.join(dl, on="currency", how="left", maintain_order="left")
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
    lines = lines.join(labels, on=["component", "category", "maturity"], how="left", maintain_order="left")
    lines = lines.with_columns(
        pl.when(pl.col("amount") != 0).then(pl.col("weighted_amount") / pl.col("amount")).alias("factor")
    )
    totals = (
        lines.group_by("currency", "component", maintain_order=True)
        .agg(pl.col("amount").sum(), pl.col("weighted_amount").sum())
        .join(n, on=["currency", "component"], how="left", maintain_order="left")
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


# --------------------------------------------------------------------------------------- pieces


def _pieces(c: pl.DataFrame, codes: _Codes) -> tuple[_Arrays, _Arrays]:
    """The pieces of the classified rows (numpy arrays ``i, comp, cat, mat, amount, factor,
    weighted``) in ``detail`` order, and per row the contract-table values.

    Each classified row has up to nine pieces: for each maturity the *a* portion
    ``_a_m x (1 - share_b)`` (category ``_cat_a``) and the *b* portion ``_a_m x share_b``
    (category ``_cat_b``; with ``_b_floor`` its factor is the larger of both categories'), then
    the overdue principal (``other_assets``, ``none``); zero pieces are dropped. Pieces are
    ordered by part (a and b of ``lt_6m``, of ``6m_1y``, ..., then overdue), rows in frame order.
    """
    n_mat = len(MATURITIES)
    n = c.height
    valid = c["_comp"].is_not_null().to_numpy()
    comp = c["_comp"].fill_null(0).to_numpy()
    cat_a = c["_cat_a"].fill_null(0).to_numpy()
    cat_b = c["_cat_b"].fill_null(0).to_numpy()
    floor = c["_b_floor"].fill_null(False).to_numpy()
    share_b = c["_share_b"].to_numpy()
    overdue = c["_overdue"].to_numpy()
    by_mat = [c[f"_a_{m}"].to_numpy() for m in range(n_mat)]
    factors = codes.factors
    other = codes.index["other_assets"]
    # rows with a b portion (few: retail, operational, encumbered); a zero amount has no a or b
    # piece unless the share is NaN (0 x NaN)
    b_rows = np.flatnonzero(valid & c["_cat_b"].is_not_null().to_numpy() & _positive(share_b))
    nan_share = np.isnan(share_b)
    nan_share = nan_share if nan_share.any() else None

    parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[Any], int, npt.NDArray[np.float64], npt.NDArray[Any]]] = []
    has_a = np.zeros(n, dtype=bool)
    in_b = np.zeros(n, dtype=bool)
    for m in range(n_mat):
        nonzero = by_mat[m] != 0
        if nan_share is not None:
            nonzero |= nan_share
        rows = np.flatnonzero(nonzero & valid)
        amt = by_mat[m][rows] * (1.0 - share_b[rows])
        keep = amt != 0
        idx, amt = rows[keep], amt[keep]
        has_a[idx] = True
        parts.append((idx, cat_a[idx], m, amt, factors[comp[idx], cat_a[idx], m]))
        amt_b = by_mat[m][b_rows] * share_b[b_rows]
        keep = amt_b != 0
        idx = b_rows[keep]
        in_b[idx] = True
        f_b = factors[comp[idx], cat_b[idx], m]
        f_b = np.where(floor[idx], np.maximum(factors[comp[idx], cat_a[idx], m], f_b), f_b)
        parts.append((idx, cat_b[idx], m, amt_b[keep], f_b))
    idx = np.flatnonzero(overdue)
    idx = idx[valid[idx] & _positive(overdue[idx])]
    none = MATURITIES.index("none")
    parts.append((idx, np.full(idx.size, other, np.uint8), none, overdue[idx], factors[comp[idx], other, none]))

    i = np.concatenate([p[0] for p in parts])
    amount = np.concatenate([p[3] for p in parts])
    factor = np.concatenate([p[4] for p in parts])
    weighted = amount * factor
    if np.isnan(factor).any():
        _missing_factors(parts, comp, cat_a, floor, codes)
    pieces: _Arrays = {
        "i": i,
        "comp": comp[i].astype(np.uint8),
        "cat": np.concatenate([p[1] for p in parts]).astype(np.uint8),
        "mat": np.concatenate([np.full(p[0].size, p[2], np.uint8) for p in parts]),
        "amount": amount,
        "factor": factor,
        "weighted": weighted,
    }

    # the contract table: the largest piece names the category (ties: the smaller category name,
    # as a sort by amount descending, then category; NaN sorts as the largest value). Only rows
    # with b or overdue pieces have more than one category.
    best_cat = np.where(has_a, cat_a.astype(np.int64), -1)
    in_o = np.zeros(n, dtype=bool)
    in_o[parts[-1][0]] = True
    multi = np.flatnonzero(in_b | in_o)
    if multi.size:
        s_multi = share_b[multi]
        sel_a, sel_b = valid[multi], in_b[multi]
        best = np.full(multi.size, -np.inf)
        best_b = np.full(multi.size, -np.inf)
        for m in range(n_mat):
            a = by_mat[m][multi]
            amt = a * (1.0 - s_multi)
            best = np.where(sel_a & (amt != 0), np.maximum(best, amt), best)
            amt = a * s_multi
            best_b = np.where(sel_b & (amt != 0), np.maximum(best_b, amt), best_b)
        cat = best_cat[multi]
        for amt, code in (
            (best_b, cat_b[multi].astype(np.int64)),
            (np.where(in_o[multi], overdue[multi], -np.inf), other),
        ):
            tie = (amt == best) | (np.isnan(amt) & np.isnan(best))
            take = (amt > best) | (np.isnan(amt) & ~np.isnan(best)) | (tie & (code < cat) & (amt > -np.inf))
            best = np.where(take, amt, best)
            cat = np.where(take, code, cat)
        best_cat[multi] = cat
    per_row: _Arrays = {
        "has": best_cat >= 0,
        "comp": comp.astype(np.int64),
        "cat": np.maximum(best_cat, 0),
        # each contract's pieces added in detail order
        "amount": _sums(i, amount, n),
        "weighted": _sums(i, weighted, n),
    }
    return pieces, per_row


def _positive(x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """``x > 0`` as polars compares floats (NaN is larger than every number)."""
    return (x > 0) | np.isnan(x)


def _missing_factors(
    parts: list[Any], comp: npt.NDArray[Any], cat_a: npt.NDArray[Any], floor: npt.NDArray[Any], codes: _Codes
) -> None:
    """Raise the ConfigError naming the (component, category, floor, maturity) without a factor."""
    combos: set[tuple[str, str, str | None, str]] = set()
    for k, (idx, cat, m, _amt, fac) in enumerate(parts):
        for j in np.flatnonzero(np.isnan(fac)):
            row = int(idx[j])
            if k % 2 == 1 and k < 2 * len(MATURITIES) and floor[row]:  # a b portion with a factor floor
                fcat, fl = codes.names[int(cat_a[row])], codes.names[int(cat[j])]
            else:
                fcat, fl = codes.names[int(cat[j])], None
            combos.add((_COMPONENTS[int(comp[row])], fcat, fl, MATURITIES[m]))
    listed = sorted(combos, key=lambda t: (t[0], t[1], t[2] is not None, t[2] or "", t[3]))
    raise ConfigError(f"NSFR rule tables have no factor for (component, category, floor, maturity) {listed[:10]}")


def _no_pieces() -> _Arrays:
    return {
        "i": np.zeros(0, np.int64),
        "comp": np.zeros(0, np.uint8),
        "cat": np.zeros(0, np.uint8),
        "mat": np.zeros(0, np.uint8),
        "amount": np.zeros(0),
        "factor": np.zeros(0),
        "weighted": np.zeros(0),
    }


def _currency_codes(currency: pl.Series) -> tuple[npt.NDArray[np.int64], list[str | None]]:
    """Dense codes of the currency column (in name order; a null currency last) and the names."""
    s = currency.cast(pl.String)
    present: list[str] = sorted(s.drop_nulls().unique().to_list())
    code = s.cast(pl.Enum(present)).to_physical().cast(pl.Int64).fill_null(len(present)).to_numpy()
    names: list[str | None] = [*present, None] if s.null_count() else [*present]
    return code, names


def _detail(row: pl.Series, pieces: _Arrays, codes: _Codes) -> pl.DataFrame:
    def names(values: tuple[str, ...], idx: npt.NDArray[np.uint8]) -> pl.Series:
        return pl.Series(values).gather(pl.Series(idx))

    return pl.DataFrame(
        [
            row.gather(pl.Series(pieces["i"])).cast(pl.UInt32).alias("row"),
            names(_COMPONENTS, pieces["comp"]).alias("component"),
            names(codes.names, pieces["cat"]).alias("category"),
            names(MATURITIES, pieces["mat"]).alias("maturity"),
            pl.Series("amount", pieces["amount"], pl.Float64),
            pl.Series("factor", pieces["factor"], pl.Float64),
            pl.Series("weighted_amount", pieces["weighted"], pl.Float64),
        ]
    ).cast(DETAIL_SCHEMA)  # type: ignore[arg-type]


def _contracts(row: pl.Series, per_row: _Arrays, deriv: _Arrays, codes: _Codes) -> pl.DataFrame:
    """One row per frame row: the contract's largest piece names its component and category;
    amount and weighted amount sum the contract's pieces of that component.

    Classified rows have pieces of one component (computed in :func:`_pieces`). A derivative
    deal's booking row has a net-asset piece, or a liability's ASF piece and RSF add-on of the
    same amount: the tie goes to the first component name, ``asf``, whose only piece it is.
    """
    has, comp, cat = per_row["has"].copy(), per_row["comp"].copy(), per_row["cat"].copy()
    amount, weighted = per_row["amount"].copy(), per_row["weighted"].copy()
    main = deriv["cat"] != codes.index["derivative_liabilities_addon"]
    idx = deriv["i"][main]
    has[idx] = True
    comp[idx] = deriv["comp"][main]
    cat[idx] = deriv["cat"][main]
    amount[idx] = deriv["amount"][main]
    weighted[idx] = deriv["weighted"][main]
    tab = pl.DataFrame(
        {"_has": has, "_comp": comp, "_cat": cat, "_a": amount, "_w": weighted},
        schema={"_has": pl.Boolean, "_comp": pl.Int64, "_cat": pl.Int64, "_a": pl.Float64, "_w": pl.Float64},
    )
    on = pl.col("_has")
    return tab.select(
        pl.lit(row.cast(pl.UInt32)).alias("row"),
        pl.when(on).then(pl.lit(pl.Series(_COMPONENTS)).gather(pl.col("_comp"))).alias("nsfr_component"),
        pl.when(on).then(pl.lit(pl.Series(codes.names)).gather(pl.col("_cat"))).alias("nsfr_category"),
        pl.when(on).then(pl.col("_a")).alias("nsfr_amount"),
        pl.when(on & (pl.col("_a") != 0)).then(pl.col("_w") / pl.col("_a")).alias("nsfr_factor"),
        pl.when(on).then(pl.col("_w")).alias("nsfr_weighted_amount"),
    )
