"""High-quality liquid assets (HQLA, 合格优质流动性资产): level, haircut and value per contract.

:func:`classify_hqla` gives every asset row of the liquidity frame an HQLA level (``level_1``,
``level_2a``, ``level_2b`` or ``non_hqla``), the category of the rule table ``hqla`` that decided it,
the haircut and the HQLA value of its unencumbered part; :func:`apply_hqla_caps` applies the
40% / 15% composition caps with the unwind adjustment of BCBS 238 Annex 1 (regulatory.md §1.3).

Classification (regulatory.md §1.2; eligibility thresholds such as ``rating_min`` and every factor
come from the rule table, the Python code only decides which row a contract's attributes point to):

* ``cash`` -> ``l1_cash``; ``central_bank_reserve``: ``excess_reserve`` / ``other_cb_deposit`` ->
  ``l1_cb_reserves_drawable``, ``required_reserve`` -> ``non_hqla_required_reserve`` (required
  reserves are not HQLA; the part a deposit run-off would release is not added: a documented
  simplification); a reserve without subtype is treated as required (assumption recorded).
* Debt securities held (``debt_security``, side asset):

  - sovereign-type (``government_bond``, ``central_bank_bill``, ``policy_bank_bond``, or no subtype
    and an issuer of class sovereign / central bank): a domestic issuer (issuer
    ``country_of_residence`` = ``home_country``, or missing: assumption recorded) is Level 1
    (``l1_sovereign_0rw``); a foreign issuer goes by rating: ``l1_sovereign_0rw``, else
    ``l2a_sovereign_20rw``, else ``l2b_sovereign_bbb`` where the rule set has it;
  - ``local_government_bond`` -> ``l2a_pse_20rw`` (rating test only where the row sets one);
  - corporate-type (``corporate_bond``, ``mtn``, ``commercial_paper``, or no subtype and a
    non-financial issuer): ``l2a_corporate_aa``, else ``l2b_corporate_a_bbb``; a financial issuer
    is not HQLA;
  - ``covered_bond`` -> ``l2a_covered_bond_aa``; ``abs`` with ``property_type = residential`` ->
    ``l2b_rmbs_aa`` where the rule set has it (Basel only);
  - ``financial_bond``, ``ncd``, ``subordinated_bond``, ``perpetual_bond``, ``convertible`` and
    anything else: ``non_hqla``.

  A security whose rating test cannot be made (no ``external_rating``, or a rating string that is
  not on the S&P / Fitch / Moody's long-term scale) is ``non_hqla`` and recorded as an assumption.
  ``listing_market = unlisted`` -> ``non_hqla_unlisted``; ``hqla_operational_ok = false`` ->
  ``non_hqla_operational``. Trading or banking book makes no difference.
* Every other asset row (loans, placements, reverse repos, equities, funds ...) is ``non_hqla``
  (Level 2B equities need index membership, which is not in the data: use the override);
  liability, equity and off-balance-sheet rows have a null level.
* ``hqla_level_override`` wins: ``generic_level_*`` / ``non_hqla_override`` rows; every use is
  counted as an assumption record (code ``hqla.level_override``).

HQLA value = ``market_value`` x unencumbered share x (1 - haircut), unencumbered share =
``1 - encumbered_amount / balance`` clipped to [0, 1] (a row with zero balance counts as fully
encumbered when ``encumbered_amount`` > 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from openalm.errors import ConfigError, DataError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.rules import RuleSet, RuleTable

__all__ = [
    "HQLA_LEVELS",
    "CapResult",
    "apply_hqla_caps",
    "classify_hqla",
    "rating_notch",
    "rating_notch_expr",
    "unencumbered_share",
]

#: HQLA levels in order of quality.
HQLA_LEVELS: tuple[str, ...] = ("level_1", "level_2a", "level_2b", "non_hqla")

_SP = ["AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-", "B+", "B", "B-"]
_MOODYS = ["Aaa", "Aa1", "Aa2", "Aa3", "A1", "A2", "A3", "Baa1", "Baa2", "Baa3", "Ba1", "Ba2", "Ba3", "B1", "B2", "B3"]
# Long-term rating -> notch (1 = AAA). Keys are upper case; CCC and below share one notch.
_NOTCH: dict[str, int] = {}
for _k, (_sp, _md) in enumerate(zip(_SP, _MOODYS, strict=True), start=1):
    _NOTCH[_sp] = _k
    _NOTCH[_md.upper()] = _k
for _low in ("CCC+", "CCC", "CCC-", "CC", "C", "D", "SD", "RD", "CAA1", "CAA2", "CAA3", "CA"):
    _NOTCH[_low] = len(_SP) + 1

_SOVEREIGN_SUBTYPES = ("government_bond", "central_bank_bill", "policy_bank_bond")
_CORPORATE_SUBTYPES = ("corporate_bond", "mtn", "commercial_paper")
_FINANCIAL_CLASSES = ("bank", "other_financial")


def rating_notch(rating: str) -> int | None:
    """Notch of a long-term rating (1 = AAA / Aaa, 16 = B- / B3, 17 = CCC and below), None if unknown."""
    return _NOTCH.get(rating.strip().upper())


def rating_notch_expr() -> pl.Expr:
    """Notch of ``external_rating`` per row (see :func:`rating_notch`; null when missing or unknown)."""
    return (
        pl.col("external_rating")
        .str.strip_chars()
        .str.to_uppercase()
        .replace_strict(_NOTCH, default=None, return_dtype=pl.Int32)
    )


def unencumbered_share() -> pl.Expr:
    """``1 - encumbered_amount / balance`` clipped to [0, 1] (0 when the balance is 0 but something is pledged)."""
    enc = pl.col("encumbered_amount").fill_null(0.0)
    bal = pl.col("balance").fill_null(0.0)
    return (
        pl.when(enc <= 0).then(pl.lit(1.0)).when(bal <= 0).then(pl.lit(0.0)).otherwise((1.0 - enc / bal).clip(0.0, 1.0))
    )


def _rule_level(table: RuleTable, code: str) -> str:
    level = table.rule(code).extra.get("level")
    if level not in HQLA_LEVELS:
        raise ConfigError(f"rule {table.rule_set}/hqla/{code}: 'level' must be one of {HQLA_LEVELS}, got {level!r}")
    return str(level)


def _rating_ok(table: RuleTable, code: str, notch: pl.Expr) -> pl.Expr:
    """True when the row has no rating test or the rating meets it; null when the rating is unknown."""
    minimum = table.rule(code).extra.get("rating_min")
    if minimum is None:
        return pl.lit(True)
    limit = rating_notch(str(minimum))
    if limit is None:
        raise ConfigError(f"rule {table.rule_set}/hqla/{code}: rating_min {minimum!r} is not a known rating")
    return notch <= limit


def classify_hqla(
    frame: pl.DataFrame, rules: RuleSet, *, home_country: str = "CN"
) -> tuple[pl.DataFrame, list[Assumption]]:
    """HQLA level, category, haircut and value of every row of the liquidity frame.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame (:data:`~openalm.measures.liquidity.frame.FRAME_SCHEMA`).
    rules:
        The rule set (its ``hqla`` table is used).
    home_country:
        ISO country whose sovereign and central-bank issues are Level 1 without a rating test
        (domestic-currency sovereign debt, BCBS 238 para 50(d)).

    Returns
    -------
    (pl.DataFrame, list[Assumption])
        One row per frame row: ``row``, ``hqla_level`` (null for rows that are not on-balance
        assets), ``hqla_category``, ``hqla_haircut`` (1 - the rule's factor), ``hqla_market_value``
        (market value of the unencumbered part) and ``hqla_value`` (after haircut; 0 for
        non-HQLA), amounts in the contract currency; and the assumption records.
    """
    table = rules["hqla"]
    out: list[Assumption] = []
    codes = set(table.rows)

    def has(code: str) -> bool:
        return code in codes

    enum = pl.Enum(sorted(codes))

    def E(code: str) -> pl.Expr:  # noqa: N802 - a category literal (Enum: cheap to broadcast)
        table.rule(code)  # a ConfigError naming the table when the row is missing
        return pl.lit(code, dtype=enum)

    it = pl.col("instrument_type")
    sub = pl.col("product_subtype")
    cls = pl.col("cp_class")
    notch = rating_notch_expr()
    rated = pl.col("external_rating").is_not_null()
    is_asset = (pl.col("side") == "asset") & pl.col("on_balance_sheet").fill_null(True)
    is_sec = is_asset & (it == "debt_security")
    domestic = pl.col("country_of_residence").is_null() | (pl.col("country_of_residence") == home_country)
    sov_type = is_sec & (sub.is_in(_SOVEREIGN_SUBTYPES) | (sub.is_null() & cls.is_in(("sovereign", "central_bank"))))
    corp_type = is_sec & (sub.is_in(_CORPORATE_SUBTYPES) | (sub.is_null() & cls.is_in(("corporate", "small_business"))))
    ops_ok = pl.col("hqla_operational_ok").fill_null(True)  # null = not stated = ok (contract default)
    listed = (pl.col("listing_market") != "unlisted").fill_null(True)
    corp_financial = corp_type & cls.is_in(_FINANCIAL_CLASSES)

    def graded(*rows: str) -> pl.Expr:
        """The first row of ``rows`` whose rating test passes; 'non_hqla' when none does."""
        expr: pl.Expr = E("non_hqla")
        for code in reversed([r for r in rows if has(r)]):
            expr = pl.when(_rating_ok(table, code, notch).fill_null(False)).then(E(code)).otherwise(expr)
        return expr

    sov_rows = ("l1_sovereign_0rw", "l2a_sovereign_20rw", "l2b_sovereign_bbb")
    corp_rows = ("l2a_corporate_aa", "l2b_corporate_a_bbb")
    rmbs = has("l2b_rmbs_aa")
    category = (
        pl.when(~is_asset)
        .then(pl.lit(None, dtype=enum))
        .when(it == "cash")
        .then(E("l1_cash"))
        .when((it == "central_bank_reserve") & sub.is_in(("excess_reserve", "other_cb_deposit")))
        .then(E("l1_cb_reserves_drawable"))
        .when(it == "central_bank_reserve")
        .then(E("non_hqla_required_reserve"))
        .when(~is_sec)
        .then(E("non_hqla"))
        .when(~ops_ok)
        .then(E("non_hqla_operational"))
        .when(~listed)
        .then(E("non_hqla_unlisted"))
        .when(sov_type & domestic)
        .then(E("l1_sovereign_0rw"))
        .when(sov_type)
        .then(graded(*sov_rows))
        .when(sub == "local_government_bond")
        .then(graded("l2a_pse_20rw"))
        .when(corp_financial)
        .then(E("non_hqla"))
        .when(corp_type)
        .then(graded(*corp_rows))
        .when(sub == "covered_bond")
        .then(graded("l2a_covered_bond_aa"))
        .when((sub == "abs") & (pl.col("property_type") == "residential") & pl.lit(rmbs))
        .then(graded("l2b_rmbs_aa") if rmbs else E("non_hqla"))
        .otherwise(E("non_hqla"))
    )
    # rows whose category depended on a rating test that could not be made
    rating_test = (
        (
            (sov_type & ~domestic)
            | (
                (sub == "local_government_bond")
                & pl.lit(table.rule("l2a_pse_20rw").extra.get("rating_min") is not None)
            )
            | (corp_type & ~corp_financial)
            | (sub == "covered_bond")
            | ((sub == "abs") & (pl.col("property_type") == "residential") & pl.lit(rmbs))
        )
        & ops_ok
        & listed
    )

    override = pl.col("hqla_level_override")
    bad = frame.filter(override.is_not_null() & ~override.is_in(HQLA_LEVELS))
    if bad.height:
        raise DataError(
            f"unknown HQLA level; expected one of {HQLA_LEVELS}",
            row=int(bad["row"][0]) + 1,
            column="hqla_level_override",
            value=bad["hqla_level_override"][0],
        )
    override_code = (
        pl.when(override == "non_hqla")
        .then(E("non_hqla_override"))
        .when(override == "level_1")
        .then(E("generic_level_1"))
        .when(override == "level_2a")
        .then(E("generic_level_2a"))
        .otherwise(E("generic_level_2b"))
    )
    # rows that are not held securities are classified on the whole frame by a short rule; the
    # securities (rating tests, issuer type) and the overrides only on their own rows
    order = sorted(codes)
    simple = (
        pl.when(~is_asset)
        .then(pl.lit(None, dtype=enum))
        .when(it == "cash")
        .then(E("l1_cash"))
        .when((it == "central_bank_reserve") & sub.is_in(("excess_reserve", "other_cb_deposit")))
        .then(E("l1_cb_reserves_drawable"))
        .when(it == "central_bank_reserve")
        .then(E("non_hqla_required_reserve"))
        .otherwise(E("non_hqla"))
    )
    is_override = (override.is_not_null() & is_asset).fill_null(False)
    flags = frame.select(
        simple.to_physical().cast(pl.Int64).fill_null(-1).alias("_auto"),
        is_sec.fill_null(False).alias("_sec"),
        is_override.alias("_override"),
    )
    index = flags["_auto"].to_numpy().copy()
    needed = (
        "position_id", "balance", "fx_rc", "instrument_type", "product_subtype", "cp_class", "side",
        "on_balance_sheet", "external_rating", "country_of_residence", "hqla_operational_ok", "listing_market",
        "property_type", "hqla_level_override",
    )  # fmt: skip
    sec = (
        frame.select(needed)
        .filter(flags["_sec"])
        .select(
            "position_id",
            "balance",
            "fx_rc",
            category.alias("_auto"),
            pl.col("country_of_residence").alias("_country"),
            sov_type.alias("_sov"),
            rating_test.fill_null(False).alias("_rating_test"),
            rated.alias("_rated"),
            notch.alias("_notch"),
            is_override.alias("_override"),
        )
    )
    index[flags["_sec"].arg_true().to_numpy()] = sec["_auto"].to_physical().cast(pl.Int64).to_numpy()
    if flags["_override"].any():
        chosen = frame.filter(flags["_override"]).select(override_code.to_physical().cast(pl.Int64)).to_series()
        index[flags["_override"].arg_true().to_numpy()] = chosen.to_numpy()
    level_of = {code: _rule_level(table, code) for code in table.rows if "level" in table.rows[code].extra}
    factor_of = {code: table.factor(code) for code in level_of}
    idx = pl.when(pl.col("_idx") >= 0).then(pl.col("_idx"))
    levels = [level_of.get(c) for c in order]
    stock = pl.lit(pl.Series([lv in HQLA_LEVELS[:3] for lv in levels], dtype=pl.Boolean)).gather(idx)
    factor = pl.lit(pl.Series([factor_of.get(c) for c in order], dtype=pl.Float64)).gather(idx)
    market = (
        pl.when(stock)
        .then(pl.col("market_value").fill_null(0.0) * unencumbered_share())
        .when(idx.is_not_null())
        .then(0.0)
        .alias("hqla_market_value")
    )
    result = (
        frame.select("row", "market_value", "encumbered_amount", "balance")
        .with_columns(pl.Series("_idx", index))
        .select(
            "row",
            pl.lit(pl.Series(levels, dtype=pl.String)).gather(idx).alias("hqla_level"),
            pl.lit(pl.Series(order, dtype=pl.String)).gather(idx).alias("hqla_category"),
            (1.0 - factor).alias("hqla_haircut"),
            market,
            (market * factor).alias("hqla_value"),
        )
    )

    auto = ~pl.col("_override")
    record_assumption(
        sec,
        auto & pl.col("_rating_test") & ~pl.col("_rated"),
        measure="lcr",
        code="hqla.security_without_rating",
        message="held debt security whose HQLA level needs an issuer rating has no external_rating",
        assumption="not HQLA (non_hqla)",
        out=out,
    )
    record_assumption(
        sec,
        auto & pl.col("_rating_test") & pl.col("_rated") & pl.col("_notch").is_null(),
        measure="lcr",
        code="hqla.unknown_rating",
        message="external_rating is not on the S&P / Fitch / Moody's long-term scale",
        assumption="not HQLA (non_hqla)",
        out=out,
    )
    record_assumption(
        sec,
        auto & pl.col("_sov") & pl.col("_country").is_null() & (pl.col("_auto") == "l1_sovereign_0rw"),
        measure="lcr",
        code="hqla.sovereign_without_country",
        message="sovereign / central-bank / policy-bank security without issuer country_of_residence",
        assumption=f"domestic ({home_country}) issue: Level 1",
        out=out,
    )
    record_assumption(
        frame,
        ~is_override & (it == "central_bank_reserve") & sub.is_null(),
        measure="lcr",
        code="hqla.reserve_without_subtype",
        message="central_bank_reserve without product_subtype (required / excess reserve unknown)",
        assumption="required reserve: not HQLA",
        out=out,
    )
    record_assumption(
        frame,
        is_override,
        measure="lcr",
        code="hqla.level_override",
        message="hqla_level_override set on the position",
        assumption="the override's level with the generic haircut of that level",
        out=out,
    )
    return result, out


@dataclass(frozen=True)
class CapResult:
    """HQLA stock after the composition caps (BCBS 238 Annex 1, regulatory.md §1.3)."""

    l1: float
    l2a: float
    l2b: float
    adj_l1: float
    adj_l2a: float
    adj_l2b: float
    adj15: float
    adj40: float

    @property
    def hqla(self) -> float:
        """``L1 + L2A + L2B - Adj15 - Adj40``."""
        return self.l1 + self.l2a + self.l2b - self.adj15 - self.adj40


def apply_hqla_caps(
    l1: float,
    l2a: float,
    l2b: float,
    *,
    adj_l1: float | None = None,
    adj_l2a: float | None = None,
    adj_l2b: float | None = None,
    table: RuleTable,
) -> CapResult:
    """The 40% / 15% caps with the unwind adjustment (post-haircut amounts).

    With ``c2 = cap_level2`` (0.40) and ``c2b = cap_level2b`` (0.15) from the ``hqla`` table::

        Adj15 = max(AdjL2B - c2b/(1-c2b) (AdjL1 + AdjL2A), AdjL2B - c2b/(1-c2) AdjL1, 0)
        Adj40 = max(AdjL2A + AdjL2B - Adj15 - c2/(1-c2) AdjL1, 0)
        HQLA  = L1 + L2A + L2B - Adj15 - Adj40

    ``adj_*`` are the values after unwinding secured funding, secured lending and collateral swaps
    maturing within 30 days (default: no such transactions, ``adj_* = *``).
    """
    c2 = table.factor("cap_level2")
    c2b = table.factor("cap_level2b")
    a1 = l1 if adj_l1 is None else adj_l1
    a2a = l2a if adj_l2a is None else adj_l2a
    a2b = l2b if adj_l2b is None else adj_l2b
    adj15 = max(a2b - c2b / (1.0 - c2b) * (a1 + a2a), a2b - c2b / (1.0 - c2) * a1, 0.0)
    adj40 = max(a2a + a2b - adj15 - c2 / (1.0 - c2) * a1, 0.0)
    return CapResult(l1, l2a, l2b, a1, a2a, a2b, adj15, adj40)
