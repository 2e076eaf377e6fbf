"""G21 流动性期限缺口统计表 (liquidity maturity gap statement): line classification and ladder.

:func:`g21_lines` places every contract of the liquidity frame on a G21 row (1.1 现金 ... 4.2
没有确定到期日的表外支出) and its principal into the form's columns, then sums the rows per
currency view. The row layout and every mapping criterion are data: the rule table
``china/g21_lines`` (its header documents the keys). The Python code only evaluates them.

Columns (regulatory.md 4.6), amounts are PRINCIPAL only (the form reports balances):

* A-H: principal flows by liquidity band (A 次日 = ``d1``, B 2-7日 = ``d7``, C 8-30日 = ``d30``,
  D 31-90日 = ``d90``, E 91日-1年 = ``m6 + y1``, F 1-5年 = ``y5``, G 5-10年 = ``y10``,
  H 10年以上 = ``beyond``; the table's ``param.columns`` row);
* I 未定期限: balances without a maturity (statutory reserves, undated investments, other undated
  items); J 逾期: ``overdue_principal``; K 总计 = A + ... + J.

Placement of one contract (``slot`` of its mapping rule):

* trading-book securities (rules with ``trading_column``, ``book = trading``): the whole market
  value in column B (2-7日, the form's rule), nothing overdue;
* ``slot`` = a column letter: the whole balance less overdue principal in that column (cash,
  excess reserves and demand deposits in A, statutory reserves in I, notice deposits in B),
  overdue principal in J;
* ``slot`` = ``bands``: an undated contract (no flows, no maturity) puts its balance less overdue
  in the rule's ``undated_column`` (demand interbank balances in A, others in I) and on the rule's
  ``undated_line`` when it has one (1.10, 2.2, 3.2.2, 3.9, 4.2); a dated contract with principal
  flows puts them in A-H and its overdue principal in J; a dated contract without flows (the
  off-balance items the engine does not project: guarantees, acceptances, commitments) puts its
  amount in the column of its ``maturity_days`` (needs ``as_of``).

Currency views (the ``currency`` column of the ladder): the domestic currency (``CNY``, amounts as
they are), ``FX`` (every other currency converted with ``fx_rc``) and ``ALL`` (both); contracts
without an FX rate are left out of FX and ALL and recorded. Rows 5 (gap = (1 + 2) - (3 + 4)) and
6 (cumulative gap) are filled for A-H only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from openalm.errors import ConfigError, DataError
from openalm.measures.liquidity.assumptions import Assumption, record_assumption
from openalm.measures.liquidity.frame import BANDS, band_ends, ordered_group_by
from openalm.measures.liquidity.rules import RuleSet, RuleTable, load_rule_table

__all__ = [
    "G21_AMOUNT_COLUMNS",
    "G21_COLUMNS",
    "G21_DATED_COLUMNS",
    "G21_LADDER_SCHEMA",
    "G21Line",
    "g21_layout",
    "g21_lines",
]

MEASURE = "g21"
TABLE = "g21_lines"

#: The maturity columns A-H (dated), the amount columns A-J and all columns A-K of the form.
G21_DATED_COLUMNS: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H")
G21_AMOUNT_COLUMNS: tuple[str, ...] = (*G21_DATED_COLUMNS, "I", "J")
G21_COLUMNS: tuple[str, ...] = (*G21_AMOUNT_COLUMNS, "K")

#: Schema of the ladder returned by :func:`g21_lines`.
G21_LADDER_SCHEMA: dict[str, Any] = {
    "currency": pl.String,
    "line": pl.String,
    "label_zh": pl.String,
    "label_en": pl.String,
    "depth": pl.Int32,
    "kind": pl.String,  # line | of_which | gap | cumulative_gap
    **{c: pl.Float64 for c in G21_COLUMNS},
    "contracts": pl.Int64,
}

_CONTRACT_SCHEMA: dict[str, Any] = {
    "row": pl.UInt32,
    "position_id": pl.String,
    "currency": pl.String,
    "fx_rc": pl.Float64,
    "g21_rule": pl.String,
    "g21_line": pl.String,
    "g21_hqla_line": pl.String,
    **{c: pl.Float64 for c in G21_COLUMNS},
}

_STR_KEYS = ("instrument_type", "product_subtype", "cp_class", "side", "book")
_BOOL_KEYS = ("on_balance_sheet", "undated")
_AMOUNTS = ("balance", "undrawn_amount", "market_value", "provision_amount")
_SLOTS = ("bands", *G21_AMOUNT_COLUMNS)
_COL_INDEX = {c: j for j, c in enumerate(G21_AMOUNT_COLUMNS)}


@dataclass(frozen=True)
class G21Line:
    """One row of the G21 form (from the rule table's ``kind: line`` rows)."""

    line: str
    label_zh: str
    label_en: str
    depth: int
    kind: str  # line | of_which | gap | cumulative_gap
    children: tuple[str, ...]
    hqla_level: str | None = None
    gap_sign: int | None = None

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class _Rule:
    code: str
    line: str | None
    undated_line: str | None
    slot: str
    undated_column: str
    trading_column: str | None
    amount: str
    sign: float
    hqla_of_which: bool
    exclude: bool
    additional: bool
    match: Mapping[str, Any]
    assumption: Mapping[str, str] | None


def _table(rules: RuleSet | RuleTable | None) -> RuleTable:
    if rules is None:
        return load_rule_table("china", TABLE)
    if isinstance(rules, RuleTable):
        return rules
    if TABLE not in rules.tables:
        raise ConfigError(
            f"G21 (流动性期限缺口统计表) is a Chinese 1104 return: rule set {rules.rule_set!r} has no "
            f"{TABLE} table; use rule_set china"
        )
    return rules[TABLE]


def g21_layout(rules: RuleSet | RuleTable | None = None) -> tuple[G21Line, ...]:
    """The rows of the G21 form in form order, from the rule table ``china/g21_lines``."""
    table = _table(rules)
    raw = [r for r in table.rows.values() if r.extra.get("kind") == "line"]
    codes = [str(r.line) for r in raw]
    of_which = {str(r.line) for r in raw if r.extra.get("of_which")}
    out = []
    for r in raw:
        code = str(r.line)
        formula = r.extra.get("formula")
        kids = tuple(
            c for c in codes if c.startswith(code + ".") and "." not in c[len(code) + 1 :] and c not in of_which
        )
        if formula not in (None, "gap", "cumulative_gap"):
            raise ConfigError(f"rule table china/{TABLE} line {code}: unknown formula {formula!r}")
        kind = str(formula) if formula else ("of_which" if code in of_which else "line")
        sign = r.extra.get("gap_sign")
        out.append(
            G21Line(
                line=code,
                label_zh=r.label_zh,
                label_en=r.label_en,
                depth=int(r.extra.get("depth", code.count(".")) or 0),  # type: ignore[call-overload]
                kind=kind,
                children=kids,
                hqla_level=None if r.extra.get("hqla_level") is None else str(r.extra["hqla_level"]),
                gap_sign=None if sign is None else int(sign),  # type: ignore[call-overload]
            )
        )
    return tuple(out)


def _columns_param(table: RuleTable) -> dict[str, list[str]]:
    bands = table.rule("param.columns").extra.get("bands")
    names = {b for b, _ in BANDS}
    if not isinstance(bands, Mapping) or set(bands) != set(G21_DATED_COLUMNS):
        raise ConfigError(f"rule china/{TABLE}/param.columns: 'bands' must map each of {G21_DATED_COLUMNS}")
    out: dict[str, list[str]] = {}
    for col, lst in bands.items():
        if not isinstance(lst, list) or not set(lst) <= names:
            raise ConfigError(f"rule china/{TABLE}/param.columns: column {col}: expected a list of bands from {names}")
        out[str(col)] = [str(b) for b in lst]
    used = [b for lst in out.values() for b in lst]
    if sorted(used) != sorted(names):
        raise ConfigError(f"rule china/{TABLE}/param.columns: every band must be in exactly one column, got {used}")
    return out


def _rules(table: RuleTable, leaves: set[str]) -> list[_Rule]:
    out = []
    for r in table.rows.values():
        if r.extra.get("kind") != "map":
            continue
        where = f"rule china/{TABLE}/{r.code}"
        x = r.extra
        exclude = bool(x.get("exclude", False))
        slot = str(x.get("slot", "bands"))
        undated_column = str(x.get("undated_column", "I"))
        trading = x.get("trading_column")
        amount = str(x.get("amount", "balance"))
        undated_line = None if x.get("undated_line") is None else str(x["undated_line"])
        match = x.get("match")
        assumption = x.get("assumption")
        if not isinstance(match, Mapping):
            raise ConfigError(f"{where}: 'match' must be a mapping")
        if not exclude:
            for ln in (r.line, undated_line):
                if ln is not None and ln not in leaves:
                    raise ConfigError(f"{where}: line {ln!r} is not a detail line of the form; known: {sorted(leaves)}")
            if r.line is None:
                raise ConfigError(f"{where}: a mapping rule needs a line (or exclude: true)")
        if slot not in _SLOTS or undated_column not in G21_AMOUNT_COLUMNS:
            raise ConfigError(f"{where}: slot must be one of {_SLOTS} and undated_column a column A-J")
        if trading is not None and str(trading) not in G21_AMOUNT_COLUMNS:
            raise ConfigError(f"{where}: trading_column {trading!r} is not a column A-J")
        if amount not in _AMOUNTS:
            raise ConfigError(f"{where}: amount {amount!r}; expected one of {_AMOUNTS}")
        if assumption is not None and (
            not isinstance(assumption, Mapping) or {"code", "message", "assumption"} - set(assumption)
        ):
            raise ConfigError(f"{where}: assumption needs code, message and assumption")
        out.append(
            _Rule(
                code=r.code,
                line=r.line,
                undated_line=undated_line,
                slot=slot,
                undated_column=undated_column,
                trading_column=None if trading is None else str(trading),
                amount=amount,
                sign=float(x.get("sign", 1)),  # type: ignore[arg-type]
                hqla_of_which=bool(x.get("hqla_of_which", False)),
                exclude=exclude,
                additional=bool(x.get("additional", False)),
                match=match,
                assumption=None if assumption is None else {k: str(v) for k, v in assumption.items()},
            )
        )
        _match(out[-1])  # validates the criteria now, before any data is read
    return out


def _match(rule: _Rule) -> pl.Expr:
    """The rule's ``match`` criteria as one boolean expression (null -> False)."""
    cond: pl.Expr = pl.lit(True)
    for key, value in rule.match.items():
        values = [value] if isinstance(value, str | bool) else list(value)
        if key in _STR_KEYS:
            cond = cond & pl.col(key).is_in([str(v) for v in values])
        elif key.endswith("_not") and key[:-4] in _STR_KEYS:
            cond = cond & ~pl.col(key[:-4]).is_in([str(v) for v in values]).fill_null(False)
        elif key in _BOOL_KEYS:
            cond = cond & (pl.col(key) == pl.lit(bool(value)))
        elif key == "positive" and value in _AMOUNTS:
            cond = cond & pl.col(f"_pos_{value}")
        else:
            raise ConfigError(
                f"rule china/{TABLE}/{rule.code}: unknown match key {key!r} = {value!r}; expected one of "
                f"{[*_STR_KEYS, *(k + '_not' for k in _STR_KEYS), *_BOOL_KEYS, 'positive']}"
            )
    return cond.fill_null(False)


def _lookup(index: pl.Expr, values: Mapping[int, Any], dtype: Any) -> pl.Expr:
    return index.replace_strict(dict(values), default=None, return_dtype=dtype)


def _amount_expr(kind: pl.Expr) -> pl.Expr:
    bal = pl.col("balance").fill_null(0.0)
    return (
        pl.when(kind == _AMOUNTS.index("undrawn_amount"))
        .then(pl.coalesce(pl.col("undrawn_amount"), bal))
        .when(kind == _AMOUNTS.index("market_value"))
        .then(pl.coalesce(pl.col("market_value"), bal))
        .when(kind == _AMOUNTS.index("provision_amount"))
        .then(pl.col("provision_amount").fill_null(0.0))
        .otherwise(bal)
    )


def _maturity_column(as_of: dt.date | None) -> pl.Expr:
    """The column (index into A-J) of a contract's ``maturity_days`` (null without ``as_of``)."""
    if as_of is None:
        return pl.lit(None, dtype=pl.Int8)
    ends = dict(zip([b for b, _ in BANDS], band_ends(as_of), strict=True))
    md = pl.col("maturity_days")
    expr: pl.Expr = pl.lit(_COL_INDEX["H"], dtype=pl.Int8)
    order = [("G", "y10"), ("F", "y5"), ("E", "y1"), ("D", "d90"), ("C", "d30"), ("B", "d7"), ("A", "d1")]
    for col, band in order:
        expr = pl.when(md <= ends[band]).then(pl.lit(_COL_INDEX[col], dtype=pl.Int8)).otherwise(expr)
    return pl.when(md.is_null()).then(pl.lit(None, dtype=pl.Int8)).otherwise(expr)


_RULE_COLUMNS = (
    "_rule",
    "_line",
    "_undated_line",
    "_slot",
    "_undated_col",
    "_trading_col",
    "_amount",
    "_sign",
    "_of_which",
    "_exclude",
)


def _match_columns(rules: Sequence[_Rule]) -> list[str]:
    """The frame columns the rules' criteria test (``positive`` tests use ``_pos_<column>``)."""
    cols: set[str] = set()
    for rule in rules:
        for key, value in rule.match.items():
            if key == "positive":
                cols.add(f"_pos_{value}")
            else:
                cols.add(key[:-4] if key.endswith("_not") else key)
    return sorted(cols)


def _rule_columns(index: pl.Expr, rules: Sequence[_Rule]) -> list[pl.Expr]:
    """The attributes of rule ``index`` (an index into ``rules``) as columns ``_RULE_COLUMNS``."""

    def attr(get: Any, dtype: Any, name: str) -> pl.Expr:
        return _lookup(index, {k: get(x) for k, x in enumerate(rules)}, dtype).alias(name)

    return [
        attr(lambda x: x.code, pl.String, "_rule"),
        attr(lambda x: x.line, pl.String, "_line"),
        attr(lambda x: x.undated_line, pl.String, "_undated_line"),
        # columns as indexes into A-J (-1 = by band), amounts as indexes into _AMOUNTS
        attr(lambda x: _COL_INDEX.get(x.slot, -1), pl.Int8, "_slot"),
        attr(lambda x: _COL_INDEX[x.undated_column], pl.Int8, "_undated_col"),
        attr(lambda x: _COL_INDEX.get(x.trading_column or ""), pl.Int8, "_trading_col"),
        attr(lambda x: _AMOUNTS.index(x.amount), pl.Int8, "_amount"),
        attr(lambda x: x.sign, pl.Float64, "_sign"),
        attr(lambda x: x.hqla_of_which, pl.Boolean, "_of_which"),
        attr(lambda x: x.exclude, pl.Boolean, "_exclude"),
    ]


def _placement(work: pl.LazyFrame, bands: Mapping[str, list[str]], mat_col: pl.Expr) -> pl.LazyFrame:
    """Per contract: identity, line and the amount columns A-K (contract currency, principal only).

    ``work`` carries the rule attributes (:data:`_RULE_COLUMNS`) and ``_hqla_line``. Overdue
    principal (column J) is split off the balance only; another amount (undrawn amount,
    provision) is placed whole.
    """
    kind = pl.col("_amount")
    trading = pl.col("_trading_col").is_not_null() & (pl.col("book") == "trading").fill_null(False)
    undated = pl.col("undated").fill_null(False)
    has_flows = pl.sum_horizontal([pl.col(f"principal_{b}").fill_null(0.0).abs() for b, _ in BANDS]) > 0
    mv = pl.coalesce(pl.col("market_value"), pl.col("balance")).fill_null(0.0)
    od = pl.when(kind == 0).then(pl.col("overdue_principal").fill_null(0.0)).otherwise(0.0)
    step = work.with_columns(
        trading.alias("_trading"),
        od.alias("_od"),
        pl.when(trading)
        .then(pl.col("_trading_col"))
        .when(pl.col("_slot") >= 0)
        .then(pl.col("_slot"))
        .when(undated)
        .then(pl.col("_undated_col"))
        .when(has_flows)
        .then(pl.lit(None, dtype=pl.Int8))
        .otherwise(pl.coalesce(mat_col, pl.col("_undated_col")))
        .alias("_target"),
    ).with_columns(pl.when(pl.col("_trading")).then(mv).otherwise(_amount_expr(kind) - pl.col("_od")).alias("_whole"))
    target, whole, sign = pl.col("_target"), pl.col("_whole"), pl.col("_sign")
    cols = []
    for j, c in enumerate(G21_AMOUNT_COLUMNS):
        if c == "J":
            value: pl.Expr = (
                pl.when(pl.col("_trading"))
                .then(0.0)
                .when(target == j)
                .then(whole + pl.col("_od"))
                .otherwise(pl.col("_od"))
            )
        else:
            banded = (
                pl.sum_horizontal([pl.col(f"principal_{b}").fill_null(0.0) for b in bands[c]]) if c in bands else 0.0
            )
            value = pl.when(target.is_null()).then(banded).when(target == j).then(whole).otherwise(0.0)
        cols.append((value * sign + 0.0).alias(c))  # + 0.0 turns -0.0 into 0.0
    ids = [
        pl.col("row"),
        pl.col("position_id"),
        pl.col("currency"),
        pl.col("fx_rc"),
        pl.col("_rule").alias("g21_rule"),
        pl.col("_line").alias("g21_line"),
        pl.col("_hqla_line").alias("g21_hqla_line"),
    ]
    out = step.select(*ids, *cols).with_columns(pl.sum_horizontal([pl.col(c) for c in G21_AMOUNT_COLUMNS]).alias("K"))
    return out.select([pl.col(c).cast(t) for c, t in _CONTRACT_SCHEMA.items()])


def g21_lines(
    frame: pl.DataFrame,
    rules: RuleSet | RuleTable | None = None,
    *,
    hqla_level: pl.Series | None = None,
    as_of: dt.date | None = None,
    domestic_currency: str = "CNY",
) -> tuple[pl.DataFrame, pl.DataFrame, list[Assumption]]:
    """The G21 maturity ladder by form row and currency view, and the per-contract placement.

    Parameters
    ----------
    frame:
        The per-contract liquidity frame (:data:`~openalm.measures.liquidity.frame.FRAME_SCHEMA`).
    rules:
        The ``china`` rule set (or its ``g21_lines`` table); None loads the shipped table. A rule
        set without the table (``basel``) raises :class:`~openalm.errors.ConfigError`.
    hqla_level:
        Optional HQLA level per frame row (``level_1`` / ``level_2a`` / ``level_2b`` / ``non_hqla``,
        e.g. the ``hqla_level`` column of :func:`~openalm.measures.liquidity.hqla.classify_hqla`);
        fills the "of which" rows 1.7.1.1-1.7.1.3 (null rows without it).
    as_of:
        The as-of date; places dated contracts without projected flows (guarantees, acceptances,
        commitments with a maturity) by ``maturity_days``. Without it they go to their undated
        column and an assumption is recorded.
    domestic_currency:
        The currency of the first view (人民币); every other currency is in ``FX``.

    Returns
    -------
    (ladder, contracts, assumptions)
        ``ladder`` (:data:`G21_LADDER_SCHEMA`): per view (``currency`` = domestic, ``FX``, ``ALL``)
        every form row in order with columns A-K in the reporting currency (the domestic view in
        its own currency) and the number of contract placements; ``contracts``: one row per
        (frame row, G21 line) placement, ``row, position_id, currency, fx_rc, g21_rule, g21_line,
        g21_hqla_line, A..K`` in the contract currency (a contract with an impairment provision
        has a second, negative placement on 1.10).
    """
    table = _table(rules)
    layout = g21_layout(table)
    leaves = {ln.line for ln in layout if ln.kind == "line" and not ln.children}
    all_rules = _rules(table, leaves)
    bands = _columns_param(table)
    out: list[Assumption] = []
    if hqla_level is not None and hqla_level.len() != frame.height:
        raise DataError(
            f"hqla_level has {hqla_level.len()} values for a frame of {frame.height} rows; expected one per row",
            column="hqla_level",
            value=hqla_level.len(),
        )
    hqla_line = {ln.hqla_level: ln.line for ln in layout if ln.kind == "of_which" and ln.hqla_level}

    exclusive = [r for r in all_rules if not r.additional]
    positives = sorted({str(x.match["positive"]) for x in all_rules if "positive" in x.match})
    keys = _match_columns(exclusive)
    needed = [
        "row",
        "position_id",
        "currency",
        "fx_rc",
        *_AMOUNTS,
        "overdue_principal",
        "book",
        "undated",
        "maturity_days",
        *(f"principal_{b}" for b, _ in BANDS),
    ]
    work = frame.select(
        *dict.fromkeys(needed + [k for k in keys if not k.startswith("_pos_")]),
        *[(pl.col(c) > 0).fill_null(False).alias(f"_pos_{c}") for c in positives],
        (hqla_level.cast(pl.String) if hqla_level is not None else pl.lit(None, dtype=pl.String)).alias("_hqla"),
    )
    # The rules are evaluated on the distinct combinations of the columns they test (a few
    # hundred), keyed by a 64-bit hash of the combination, and joined back onto the rows (a
    # collision between two of a few hundred combinations has a probability of ~1e-14).
    work = work.with_columns(pl.struct(keys).hash().alias("_k"))
    idx: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for k in reversed(range(len(exclusive))):
        idx = pl.when(_match(exclusive[k])).then(pl.lit(k, dtype=pl.Int32)).otherwise(idx)
    combos = work.select("_k", *keys).unique(subset="_k").select("_k", idx.alias("_r"))
    combos = combos.with_columns(_rule_columns(pl.col("_r"), exclusive))
    work = work.join(combos, on="_k", how="left", maintain_order="left")
    mat_col = _maturity_column(as_of)
    undated = pl.col("undated").fill_null(False)
    main = (
        work.lazy()
        .filter(pl.col("_r").is_not_null() & ~pl.col("_exclude").fill_null(False))
        .with_columns(
            pl.when(undated & pl.col("_undated_line").is_not_null())
            .then(pl.col("_undated_line"))
            .otherwise(pl.col("_line"))
            .alias("_line"),
            pl.when(pl.col("_of_which").fill_null(False))
            .then(pl.col("_hqla").replace_strict(hqla_line, default=None, return_dtype=pl.String))
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias("_hqla_line"),
        )
    )
    parts = [_placement(main, bands, mat_col)]
    for rule in (x for x in all_rules if x.additional):
        extra = (
            work.lazy()
            .filter(_match(rule))
            .drop(_RULE_COLUMNS)
            .with_columns(
                *_rule_columns(pl.lit(0, dtype=pl.Int32), [rule]),
                pl.lit(None, dtype=pl.String).alias("_hqla_line"),
            )
        )
        parts.append(_placement(extra, bands, mat_col))
    contracts = pl.concat(parts, how="vertical_relaxed").collect()
    _assumptions(work, exclusive, as_of, domestic_currency, out)
    ladder = _ladder(contracts, layout, domestic_currency, with_hqla=hqla_level is not None)
    return ladder, contracts, out


def _assumptions(
    work: pl.DataFrame,
    exclusive: Sequence[_Rule],
    as_of: dt.date | None,
    domestic: str,
    out: list[Assumption],
) -> None:
    r = pl.col("_r")
    for k, rule in enumerate(exclusive):
        if rule.assumption:
            record_assumption(
                work,
                r == k,
                measure=MEASURE,
                code=rule.assumption["code"],
                message=rule.assumption["message"],
                assumption=rule.assumption["assumption"],
                out=out,
            )
    record_assumption(
        work,
        r.is_null(),
        measure=MEASURE,
        code="g21.not_placed",
        message="contract matches no G21 mapping rule (side / on_balance_sheet missing or unknown)",
        assumption="left out of G21",
        out=out,
    )
    placed = r.is_not_null() & ~pl.col("_exclude").fill_null(False)
    record_assumption(
        work,
        placed & (pl.col("_amount") == _AMOUNTS.index("undrawn_amount")) & pl.col("undrawn_amount").is_null(),
        measure=MEASURE,
        code="g21.undrawn_amount_missing",
        message="off-balance commitment without undrawn_amount",
        assumption="principal_balance used as the undrawn amount",
        out=out,
    )
    no_flows = pl.sum_horizontal([pl.col(f"principal_{b}").fill_null(0.0).abs() for b, _ in BANDS]) == 0
    if as_of is None:
        trading = pl.col("_trading_col").is_not_null() & (pl.col("book") == "trading").fill_null(False)
        record_assumption(
            work,
            placed & (pl.col("_slot") < 0) & ~pl.col("undated").fill_null(False) & no_flows & ~trading,
            measure=MEASURE,
            code="g21.maturity_without_as_of",
            message="dated contract without projected flows and no as_of date to place its maturity_days",
            assumption="placed in the rule's undated column",
            out=out,
        )
    fx = pl.col("fx_rc")
    record_assumption(
        work,
        placed & (pl.col("currency") != domestic) & (fx.is_null() | fx.is_nan()),
        measure=MEASURE,
        code="g21.missing_fx_rate",
        message="foreign-currency contract without an FX rate to the reporting currency",
        assumption="left out of the FX and ALL views",
        out=out,
    )


def _view_sums(contracts: pl.DataFrame, domestic: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per (view, line) and (view, of-which line): sums of A-K and the number of placements.

    Summed per (currency, fx_rc, line) first, then converted: the views are built on the small
    aggregate, not on copies of the contracts.
    """
    aggs = [*(pl.col(c).sum() for c in G21_COLUMNS), pl.len().cast(pl.Int64).alias("contracts")]
    fx = pl.col("fx_rc")
    out = []
    for line_col in ("g21_line", "g21_hqla_line"):
        agg = (
            ordered_group_by(contracts.filter(pl.col(line_col).is_not_null()), "currency", "fx_rc", line_col)
            .agg(aggs)
            .rename({line_col: "line"})
        )
        dom = agg.filter(pl.col("currency") == domestic)
        frn = agg.filter((pl.col("currency") != domestic) & fx.is_not_null() & ~fx.is_nan()).with_columns(
            [(pl.col(c) * fx).alias(c) for c in G21_COLUMNS]
        )
        views = pl.concat(
            [
                dom.with_columns(pl.lit(domestic).alias("view")),
                frn.with_columns(pl.lit("FX").alias("view")),
                dom.with_columns(pl.lit("ALL").alias("view")),
                frn.with_columns(pl.lit("ALL").alias("view")),
            ]
        )
        out.append(
            views.group_by("view", "line").agg(*(pl.col(c).sum() for c in G21_COLUMNS), pl.col("contracts").sum())
        )
    return out[0], out[1]


def _ladder(contracts: pl.DataFrame, layout: Sequence[G21Line], domestic: str, *, with_hqla: bool) -> pl.DataFrame:
    by_line, by_hqla = _view_sums(contracts, domestic)
    zero = [0.0] * len(G21_COLUMNS)
    sums: dict[tuple[str, str], tuple[list[float], int]] = {}
    for rec in by_line.iter_rows(named=True):
        sums[(rec["view"], rec["line"])] = ([rec[c] for c in G21_COLUMNS], rec["contracts"])
    hq: dict[tuple[str, str], tuple[list[float], int]] = {}
    for rec in by_hqla.iter_rows(named=True):
        hq[(rec["view"], rec["line"])] = ([rec[c] for c in G21_COLUMNS], rec["contracts"])
    by_code = {ln.line: ln for ln in layout}
    rows: list[tuple[Any, ...]] = []
    for view in (domestic, "FX", "ALL"):
        cache: dict[str, tuple[list[float], int]] = {}

        def value(
            code: str, view: str = view, cache: dict[str, tuple[list[float], int]] = cache
        ) -> tuple[list[float], int]:
            if code not in cache:
                ln = by_code[code]
                if ln.children:
                    parts = [value(c) for c in ln.children]
                    cache[code] = (
                        [sum(p[0][k] for p in parts) for k in range(len(G21_COLUMNS))],
                        sum(p[1] for p in parts),
                    )
                else:
                    cache[code] = sums.get((view, code), (zero, 0))
            return cache[code]

        for ln in layout:
            vals: list[float | None]
            n: int | None
            if ln.kind == "line":
                v, n = value(ln.line)
                vals = list(v)
            elif ln.kind == "of_which":
                if with_hqla:
                    v, n = hq.get((view, ln.line), (zero, 0))
                    vals = list(v)
                else:
                    vals, n = [None] * len(G21_COLUMNS), None
            else:
                gap = [0.0] * len(G21_DATED_COLUMNS)
                for top in layout:
                    if top.gap_sign is not None:
                        tv = value(top.line)[0]
                        gap = [g + top.gap_sign * tv[k] for k, g in enumerate(gap)]
                if ln.kind == "gap":
                    dated = gap
                else:
                    acc = 0.0
                    dated = []
                    for g in gap:
                        acc += g
                        dated.append(acc)
                vals = [*dated, None, None, None]
                n = None
            rows.append((view, ln.line, ln.label_zh, ln.label_en, ln.depth, ln.kind, *vals, n))
    return pl.DataFrame(rows, schema=G21_LADDER_SCHEMA, orient="row")
