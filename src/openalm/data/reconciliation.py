"""Reconciliation of positions to the general ledger (自动核对; positions.md 5.5, section 10 rule 9).

:func:`reconcile` compares, per ``(reporting_entity_id, branch_id, gl_account, currency)``, the
ledger balance of ``gl_balances`` with the sum over positions of the measure ``gl_account_map``
names for the account, and reports every row with a status; :func:`write_reconciliation` writes
the report; :func:`expected_balances` is the ledger a set of positions implies (the synthetic bank
uses it to build a ledger that reconciles exactly).

Which positions feed which account
----------------------------------
A position carries one ``gl_account``: by the contract (positions.md 3.A) the account of its
principal, or the memo account (表外科目) of an off-balance row. Accrued interest, loss
allowances and undrawn amounts of drawn revolving rows are booked to other accounts that no
position names. The rule, as a bank's chart of accounts is built (post-2018 Chinese financial
instrument standards present accrued interest and allowances on the line of the instrument):

1. **Own account.** A position contributes to its own ``gl_account`` the measure that account's
   map row names (``principal_balance``, ``carrying_amount``, ``fair_value``, ``undrawn_amount``,
   ...).
2. **Line accounts.** It also contributes, for every *other* measure, to the account mapped to
   that measure on the same ``balance_sheet_line`` as its own account: a loan on ``130301``
   (line ``loans_and_advances``, principal) gives its ``accrued_interest`` to the account mapped
   to ``accrued_interest`` on ``loans_and_advances`` and its ``provision_amount`` to the
   allowance account of that line. Accounts sharing the position's own measure on that line are
   its siblings (other principal accounts) and receive nothing from it. A line with two accounts
   for a measure that a position must feed is ambiguous: :class:`~openalm.errors.DataError`.
3. **Scope.** A position whose own account has ``in_scope = false`` is out of scope for every
   measure (it only counts on its account's ``out_of_scope`` row). An own account mapped to
   ``none`` (e.g. a derivative notional memo account) is not reconciled itself, but its
   positions still feed the line accounts of their other measures.
4. **Unmapped.** A position whose ``gl_account`` is absent from the map (or null) feeds nothing;
   it is counted on an ``unmapped`` row of its account with the signed sum of its
   ``principal_balance`` (the measure the contract says ``gl_account`` carries).

Signs (ledger balances are debit-positive, positions.md 5.5)
------------------------------------------------------------
Positions hold non-negative amounts and a ``side`` (positions.md 2.2), so the direction comes
from the side and the measure:

* ``principal_balance``, ``accrued_interest``, ``carrying_amount``, ``undrawn_amount``: ``asset``
  rows are debit balances, ``+amount``; ``liability`` and ``equity`` rows are credit balances,
  ``-amount``. Off-balance rows use the side they take once drawn (2.2), so a memo account holds
  commitments granted as debits and facilities received as credits. A negative accrued
  interest (negative rates, 2.2) keeps its sign under the same rule.
* ``provision_amount``: always ``-amount`` (credit). The loss allowance is a contra-asset against
  asset rows, and the provision for off-balance exposures is a liability: both credit balances.
* ``fair_value``: the amount as given. It is already signed from the bank's point of view
  (+ asset, - liability, positions.md 2.2), which is the debit-positive convention.

The map's ``sign`` column (+1 debit-normal, -1 credit-normal) does not enter the sums: each
position's own side decides its direction, so an account holding both sides (a memo account of
commitments granted and received) still reconciles. ``sign`` is checked against the ledger: a
reconciled balance whose direction contradicts it is counted as ``abnormal_direction`` (余额方向
异常) in the summary and named in the warnings.

Exactness
---------
Amounts are summed as decimals (positions.md 2.3, 11.4): decimal columns are used as they are;
float64 columns (the loaded type of ``amount``, :func:`openalm.data.schema.arrow_type`) are
converted cell by cell to the decimal of their shortest round-trip representation (``0.1`` is
exactly 0.1) -- vectorised, with an exact check and a per-cell fallback -- and never summed as
binary floats. Amounts are ``decimal(38,6)`` in the contract (2.1): a value with more than six
decimal places is refused (:class:`~openalm.errors.DataError`), not rounded. Sums run in
``decimal256(76,6)`` (Arrow group-by), the report holds ``decimal128(38,6)``.

Statuses and tolerance
----------------------
``difference = positions_amount - gl_balance`` (a missing side counts as 0);
``tolerance = max(tolerance_abs, tolerance_rel x |gl_balance|)`` with the account's map values,
else the settings' defaults (each defaulting counted). Rows of a mapped, in-scope account are
``matched`` when ``|difference| <= tolerance``, otherwise ``break`` (both sides present),
``gl_only`` (a ledger balance and no position) or ``positions_only`` (positions and no ledger
row); a zero-balance ledger row without positions is therefore ``matched``. ``unmapped`` rows
(account not in the map, from positions or ledger) and ``out_of_scope`` rows (``in_scope =
false`` or measure ``none``) are reported, never compared. ``break``, ``gl_only`` and
``positions_only`` are the breaks the policy acts on. A null measure (not applicable or
unknown, positions.md 2.1) contributes nothing: ``position_count`` counts the positions with a
value, and ``summary["null_amounts"]`` counts the null ones per measure.

Examples
--------
>>> result = reconcile(snapshot.positions, snapshot.gl_balances, snapshot.gl_account_map,
...                    settings=ReconciliationSettings())  # doctest: +SKIP
>>> result.status, result.summary["status_counts"]["break"]  # doctest: +SKIP
('ok', 0)
"""

from __future__ import annotations

import os
import tempfile
import warnings as _warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from openalm.config import ReconciliationSettings
from openalm.errors import ConfigError, DataError, OpenALMWarning, ReconciliationError, SchemaError
from openalm.i18n import Language, label

__all__ = [
    "AMOUNT_TYPE",
    "BREAK_STATUSES",
    "MEASURES",
    "RECONCILIATION_COLUMNS",
    "STATUSES",
    "FxSource",
    "ReconciliationResult",
    "ReconciliationSettings",
    "expected_balances",
    "labelled_table",
    "reconcile",
    "write_reconciliation",
]

#: Measures an account can be mapped to (``none`` = not reconciled), positions.md 5.5.
MEASURES: Final = (
    "principal_balance",
    "accrued_interest",
    "provision_amount",
    "fair_value",
    "carrying_amount",
    "undrawn_amount",
    "none",
)
#: Every status a report row can have.
STATUSES: Final = ("matched", "break", "gl_only", "positions_only", "unmapped", "out_of_scope")
#: Statuses counted as breaks (a difference beyond tolerance).
BREAK_STATUSES: Final = ("break", "gl_only", "positions_only")
#: Arrow type of the amount columns of the report (the contract's ``decimal(38,6)``).
AMOUNT_TYPE: Final = pa.decimal128(38, 6)
#: Columns of :attr:`ReconciliationResult.table` (``difference_reporting`` added when FX is given).
RECONCILIATION_COLUMNS: Final = (
    "reporting_entity_id",
    "branch_id",
    "gl_account",
    "currency",
    "measure",
    "balance_sheet_line",
    "gl_balance",
    "positions_amount",
    "difference",
    "tolerance",
    "status",
    "position_count",
)

_SCALE: Final = 6
_SUM_TYPE: Final = pa.decimal256(76, _SCALE)
_QUANTUM: Final = Decimal(1).scaleb(-_SCALE)
_FAST_LIMIT: Final = 2.0**33  # below it one 6-decimal value at most maps to a double (ulp < 1e-6)
_SIDES: Final = ("asset", "liability", "equity")
_SIDE_SIGNED: Final = ("principal_balance", "accrued_interest", "carrying_amount", "undrawn_amount")
_WORST: Final = 5
_POSITIONS: Final = "positions"
_GL: Final = "gl_balances"
_MAP: Final = "gl_account_map"
_SOURCE_ROW: Final = "source_row"

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Key = tuple[str | None, str | None, str | None, str | None]


class FxSource(Protocol):
    """What :func:`reconcile` needs of FX rates (:class:`openalm.market.fx.FxRates` fits)."""

    def rate(self, from_ccy: str, to_ccy: str) -> float:
        """Units of ``to_ccy`` per one unit of ``from_ccy``."""
        ...


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciliationResult:
    """The outcome of :func:`reconcile`.

    Attributes
    ----------
    table:
        One row per ``(reporting_entity_id, branch_id, gl_account, currency)`` with the columns
        of :data:`RECONCILIATION_COLUMNS` (amounts ``decimal128(38,6)`` in the row's currency,
        ``branch_id`` null at entity level), sorted by those keys.
    summary:
        Level used and why, counts per status, positions reconciled / unmapped / out of scope,
        unmapped sums per currency, every defaulting, null amounts per measure, abnormal ledger
        directions. Amounts are decimal strings.
    warnings:
        Observations in words (breaks under the ``warn`` policy, unmapped positions, ...).
    settings:
        The settings used.
    """

    table: pa.Table
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    settings: ReconciliationSettings = field(default_factory=ReconciliationSettings)

    @property
    def breaks(self) -> pa.Table:
        """The rows whose status is a break (``break``, ``gl_only``, ``positions_only``)."""
        return self.table.filter(pc.is_in(self.table.column("status"), value_set=pa.array(BREAK_STATUSES)))

    @property
    def status(self) -> Literal["ok", "breaks"]:
        """``"ok"`` when no row breaks, else ``"breaks"``."""
        return "breaks" if self.summary["breaks"] else "ok"


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def reconcile(
    positions: pa.Table,
    gl_balances: pa.Table,
    gl_account_map: pa.Table,
    *,
    settings: ReconciliationSettings | None = None,
    fx: FxSource | None = None,
    reporting_currency: str | None = None,
) -> ReconciliationResult:
    """Reconcile positions to ledger balances (positions.md 5.5, section 10 rule 9).

    Per key ``(reporting_entity_id, branch_id, gl_account, currency)``:
    ``positions_amount = sum(sign(side, measure) x measure)`` over the positions linked to the
    account (module docstring: own account, line accounts, signs), compared with the
    debit-positive ledger ``balance``; a break is ``|difference| > max(tolerance_abs,
    tolerance_rel x |gl_balance|)``. Sums are exact decimals.

    Parameters
    ----------
    positions:
        Positions with at least ``reporting_entity_id``, ``gl_account``, ``currency``, ``side``
        and the measure columns the map uses (an absent measure column counts as all null);
        ``branch_id`` for branch level. Amounts float64 (as loaded) or decimal.
    gl_balances:
        Ledger balances: ``reporting_entity_id``, ``gl_account``, ``currency``, ``balance``
        (debit-positive), optionally ``branch_id``.
    gl_account_map:
        ``gl_account``, ``measure``, ``sign`` and optionally ``balance_sheet_line``, ``in_scope``
        (empty = true), ``tolerance_abs``, ``tolerance_rel``.
    settings:
        Level, default tolerances and policy (default :class:`ReconciliationSettings`).
    fx:
        Optional FX rates; when given the report gains ``difference_reporting`` (float64, in
        ``reporting_currency``) and the worst breaks are ranked in that currency. Tolerances and
        statuses never use FX.
    reporting_currency:
        Target of ``difference_reporting`` (default: ``fx.reporting_currency``).

    Returns
    -------
    ReconciliationResult

    Raises
    ------
    ReconciliationError
        ``settings.policy == "block"`` and at least one break; the message gives the count and
        the worst breaks.
    SchemaError
        A required column is missing or an amount column is not numeric.
    DataError
        A bad cell (named by table, row, column and value): unknown side or measure, null key,
        duplicate map or ledger key, an amount with more than six decimals, an ambiguous line.
    """
    settings = settings or ReconciliationSettings()
    accounts = _read_map(gl_account_map)
    level, reason = _resolve_level(settings.level, positions, gl_balances)
    counters = _Counters()
    for acct in accounts.values():
        counters.defaulted_abs += acct.tol_abs is None
        counters.defaulted_rel += acct.tol_rel is None
        counters.defaulted_scope += acct.scope_defaulted
    pos_groups = _position_groups(positions, accounts, level, counters)
    return _result(pos_groups, gl_balances, accounts, level, reason, counters, settings, fx, reporting_currency)


def _result(
    pos_groups: Any,
    gl_balances: pa.Table,
    accounts: Any,
    level: Literal["branch", "entity"],
    reason: str,
    counters: _Counters,
    settings: ReconciliationSettings,
    fx: FxSource | None,
    reporting_currency: str | None,
) -> ReconciliationResult:
    """Compare summed position groups with the ledger and apply the policy (shared by the chunked path)."""
    gl_groups = _ledger_groups(gl_balances, level, counters)
    rows = _compare(pos_groups, gl_groups, accounts, settings)
    fx_rates = _reporting_rates(rows, fx, reporting_currency)
    table = _rows_table(rows, fx_rates)
    summary, messages = _summarise(rows, level, reason, counters, accounts, fx_rates)
    if summary["breaks"]:
        text = _break_message(rows, level, fx_rates)
        if settings.policy == "block":
            raise ReconciliationError(text)
        messages.insert(0, text)
        _warnings.warn(text, OpenALMWarning, stacklevel=3)
    return ReconciliationResult(table, summary, messages, settings)


def expected_balances(
    positions: pa.Table, gl_account_map: pa.Table, *, level: Literal["branch", "entity"] = "branch"
) -> pa.Table:
    """The ledger balances the positions imply under the map (what a reconciled ledger holds).

    One row per ``(reporting_entity_id, branch_id, gl_account, currency)`` of an in-scope account
    with a measure (not ``none``) that at least one position feeds with a non-null amount;
    ``balance = sum(sign(side, measure) x measure)`` exactly (module docstring).

    Returns
    -------
    pyarrow.Table
        ``reporting_entity_id``, ``branch_id`` (null at entity level), ``gl_account``,
        ``currency``, ``balance`` (``decimal128(38,6)``), sorted by the keys.
    """
    accounts = _read_map(gl_account_map)
    groups = _position_groups(positions, accounts, level, _Counters())
    keys = sorted(
        (k for k, g in groups.items() if g.count and (a := accounts.get(k[2] or "")) and a.reconciled),
        key=_sort_key,
    )
    return pa.table(
        {
            "reporting_entity_id": pa.array([k[0] for k in keys], pa.string()),
            "branch_id": pa.array([k[1] for k in keys], pa.string()),
            "gl_account": pa.array([k[2] for k in keys], pa.string()),
            "currency": pa.array([k[3] for k in keys], pa.string()),
            "balance": _decimal_array([groups[k].total for k in keys], "balance"),
        }
    )


def write_reconciliation(result: ReconciliationResult, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``reconciliation.csv`` and ``reconciliation.parquet`` into ``folder``, atomically.

    Each file is written under a temporary name beside its target and moved into place with
    :func:`os.replace` (the pattern of :func:`openalm.reports.writers.atomic_write`, which the
    data layer cannot import). Columns keep their canonical names and codes; use
    :func:`labelled_table` for a Chinese / English presentation. CSV amounts are plain decimals.

    Returns
    -------
    dict[str, Path]
        ``{"csv": path, "parquet": path}``.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    paths = {"csv": root / "reconciliation.csv", "parquet": root / "reconciliation.parquet"}
    table = result.table
    _atomic_write(paths["csv"], lambda tmp: pacsv.write_csv(table, tmp))
    _atomic_write(paths["parquet"], lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return paths


def labelled_table(table: pa.Table, lang: Language | None = None) -> pa.Table:
    """The report with bilingual headers, statuses and measures from the label catalogue.

    Column names become ``recon.col.<name>`` labels; ``status`` and ``measure`` values become
    ``recon.status.<code>`` / ``recon.measure.<code>`` labels in ``lang`` (default language when
    None).
    """
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in table.column_names:
        col = table.column(name)
        if name in ("status", "measure"):
            prefix = "recon.status." if name == "status" else "recon.measure."
            col = pa.array([None if v is None else label(prefix + v, lang) for v in col.to_pylist()], pa.string())
        columns[label(f"recon.col.{name}", lang)] = col
    return pa.table(columns)


# --------------------------------------------------------------------------------------------
# The map
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    gl_account: str
    measure: str
    sign: int
    line: str | None
    in_scope: bool
    scope_defaulted: bool
    tol_abs: Decimal | None
    tol_rel: Decimal | None

    @property
    def reconciled(self) -> bool:
        return self.in_scope and self.measure != "none"


def _row_number(table: pa.Table, i: int) -> int:
    if _SOURCE_ROW in table.column_names:
        value = table.column(_SOURCE_ROW)[i].as_py()
        if isinstance(value, int):
            return value
    return i + 1


def _require(table: pa.Table, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise SchemaError(
            f"lacks required column(s) {', '.join(missing)}; the reconciliation needs "
            f"{', '.join(columns)} (positions.md 5.5)",
            file=name,
        )


def _read_map(table: pa.Table) -> dict[str, _Account]:
    _require(table, _MAP, ("gl_account", "measure", "sign"))
    n = table.num_rows

    def col(name: str) -> list[Any]:
        return table.column(name).to_pylist() if name in table.column_names else [None] * n

    accounts_col, measures, signs = col("gl_account"), col("measure"), col("sign")
    lines, scopes = col("balance_sheet_line"), col("in_scope")
    tol_abs = _map_decimals(table, "tolerance_abs")
    tol_rel = _map_decimals(table, "tolerance_rel")
    accounts: dict[str, _Account] = {}
    for i in range(n):
        acct, measure, sign, scope = accounts_col[i], measures[i], signs[i], scopes[i]
        row = _row_number(table, i)
        if acct is None or acct == "":
            raise DataError("is empty; every map row names an account", file=_MAP, row=row, column="gl_account")
        if acct in accounts:
            raise DataError(
                "appears twice in the map; expected one row (one measure) per account",
                file=_MAP,
                row=row,
                column="gl_account",
                value=acct,
            )
        if measure not in MEASURES:
            raise DataError(
                f"unknown measure; expected one of {', '.join(MEASURES)}",
                file=_MAP,
                row=row,
                column="measure",
                value=measure,
            )
        if sign not in (1, -1):
            raise DataError(
                "expected +1 (debit-normal) or -1 (credit-normal)", file=_MAP, row=row, column="sign", value=sign
            )
        if scope is not None and not isinstance(scope, bool):
            raise DataError("expected true or false", file=_MAP, row=row, column="in_scope", value=scope)
        for name, values in (("tolerance_abs", tol_abs), ("tolerance_rel", tol_rel)):
            tol = values[i]
            if tol is not None and tol < 0:
                raise DataError("expected a value >= 0", file=_MAP, row=row, column=name, value=str(tol))
        line = lines[i]
        accounts[acct] = _Account(
            gl_account=acct,
            measure=measure,
            sign=int(sign),
            line=line if line not in (None, "") else None,
            in_scope=True if scope is None else scope,
            scope_defaulted=scope is None,
            tol_abs=tol_abs[i],
            tol_rel=tol_rel[i],
        )
    return accounts


def _map_decimals(table: pa.Table, name: str) -> list[Decimal | None]:
    if name not in table.column_names:
        return [None] * table.num_rows
    col = table.column(name)
    if pa.types.is_floating(col.type):
        # tolerance_rel is a ``decimal`` (float64) column: take its shortest repr, like amounts
        values: list[Decimal | None] = []
        for i, v in enumerate(col.to_pylist()):
            if v is not None and not np.isfinite(v):
                raise DataError("is not a finite number", file=_MAP, row=_row_number(table, i), column=name, value=v)
            values.append(None if v is None else Decimal(repr(v)))
        return values
    exact = _exact_amounts(col, None, _MAP, name, table)
    return exact.to_pylist()


# --------------------------------------------------------------------------------------------
# Exact amounts
# --------------------------------------------------------------------------------------------


def _exact_amounts(
    values: pa.Array | pa.ChunkedArray,
    negate: BoolArray | None,
    table_name: str,
    column: str,
    table: pa.Table,
    rows: IntArray | None = None,
) -> pa.Array:
    """``decimal256(76,6)`` cells equal to the decimal value of each cell, negated where asked.

    ``rows`` are the table rows of ``values`` (for error messages). Floats go through their
    shortest round-trip representation: vectorised ``rint(x * 1e6)`` verified by
    ``m / 1e6 == x`` (exact below 2**33, where at most one 6-decimal value maps to a double),
    ``Decimal(repr(x))`` for the rest.
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    n = len(arr)

    def where(i: int) -> dict[str, Any]:
        r = int(rows[i]) if rows is not None else i
        return {"file": table_name, "row": _row_number(table, r), "column": column}

    if pa.types.is_null(arr.type):
        return pa.nulls(n, _SUM_TYPE)
    if pa.types.is_decimal(arr.type) or pa.types.is_integer(arr.type):
        try:
            out = pc.cast(arr, _SUM_TYPE)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            for i, v in enumerate(arr.to_pylist()):
                if v is not None and Decimal(v).as_tuple().exponent < -_SCALE:  # type: ignore[operator]
                    raise DataError(_TOO_PRECISE, value=str(v), **where(i)) from None
            raise
        if negate is not None and negate.any():
            out = pc.if_else(pa.array(negate), pc.negate(out), out)
        return out
    if not pa.types.is_floating(arr.type):
        raise SchemaError(
            f"has type {arr.type}; expected an amount (float64 or decimal)", file=table_name, column=column
        )
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    x = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if not valid.all():
        x = np.where(valid, x, 0.0)
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise DataError("is not a finite amount", value=float(x[bad[0]]), **where(int(bad[0])))
    small = np.abs(x) < _FAST_LIMIT
    micros = np.rint(np.where(small, x, 0.0) * 1e6).astype(np.int64)
    exact = small & (micros / 1e6 == x)
    if negate is not None:
        micros = np.where(negate, -micros, micros)
    slow = np.flatnonzero(valid & ~exact)
    micros[slow] = 0
    words = np.zeros((n, 4), dtype=np.int64)
    words[:, 0] = micros
    words[:, 1:] = (micros >> 63)[:, None]  # sign extension of the 256-bit two's complement
    validity = pa.array(valid).buffers()[1] if not valid.all() else None
    out = pa.Array.from_buffers(_SUM_TYPE, n, [validity, pa.py_buffer(words)])
    if slow.size:
        fixed: list[Decimal] = []
        for i in slow.tolist():
            d = Decimal(repr(float(x[i])))
            if d.as_tuple().exponent < -_SCALE:  # type: ignore[operator]
                raise DataError(_TOO_PRECISE, value=float(x[i]), **where(i))
            fixed.append(-d if negate is not None and negate[i] else d)
        mask = np.zeros(n, dtype=bool)
        mask[slow] = True
        out = pc.replace_with_mask(out, pa.array(mask), pa.array(fixed, _SUM_TYPE))
    return out


_TOO_PRECISE: Final = (
    "has more than 6 decimal places; amounts are decimal(38,6) in major units (positions.md 2.1) -- "
    "round it in the extract, the reconciliation does not round"
)


def _decimal_array(values: Sequence[Decimal | None], column: str) -> pa.Array:
    try:
        return pa.array(values, AMOUNT_TYPE)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise DataError(f"a sum does not fit decimal(38,6): {err}", column=column) from err


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


@dataclass
class _Counters:
    positions: int = 0
    own_reconciled: int = 0
    unmapped: int = 0
    out_of_scope: int = 0
    null_amounts: dict[str, int] = field(default_factory=dict)
    float_cells: int = 0
    defaulted_abs: int = 0
    defaulted_rel: int = 0
    defaulted_scope: int = 0


@dataclass
class _Group:
    total: Decimal
    count: int


def _resolve_level(setting: str, positions: pa.Table, gl: pa.Table) -> tuple[Literal["branch", "entity"], str]:
    def gap(table: pa.Table, name: str) -> str | None:
        if "branch_id" not in table.column_names:
            return f"{name} has no branch_id column"
        nulls = table.column("branch_id").null_count
        if nulls:
            first = int(np.flatnonzero(~np.asarray(table.column("branch_id").is_valid()))[0])
            return f"{name} row {_row_number(table, first)} has no branch_id ({nulls} such rows)"
        return None

    gaps = [g for g in (gap(positions, _POSITIONS), gap(gl, _GL)) if g]
    if setting == "entity":
        return "entity", "configured"
    if setting == "branch":
        if gaps:
            raise DataError(
                f"reconciliation.level is branch but {'; '.join(gaps)}; fill branch_id or set level to entity or auto"
            )
        return "branch", "configured"
    if gaps:
        return "entity", f"auto: {'; '.join(gaps)}"
    return "branch", "auto: positions and ledger carry branch_id"


def _codes(table: pa.Table, column: str, name: str, *, required: bool) -> tuple[IntArray, list[str | None]]:
    """Dictionary codes of a string column; a null gets its own code (or an error if required)."""
    arr = table.column(column).combine_chunks()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if required and arr.null_count:
        first = int(np.flatnonzero(~np.asarray(arr.is_valid()))[0])
        raise DataError("is empty; expected a value (required for the reconciliation)", file=name,
                        row=_row_number(table, first), column=column)  # fmt: skip
    enc = pc.dictionary_encode(arr)
    words: list[str | None] = enc.dictionary.to_pylist()
    indices = enc.indices.fill_null(len(words)) if enc.indices.null_count else enc.indices
    idx = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, [*words, None]


def _links(accounts: Mapping[str, _Account]) -> dict[str, dict[str, str]]:
    """``own account -> {measure: target account}`` (module docstring, rules 1-3)."""
    by_line: dict[str, dict[str, list[str]]] = {}
    for a in accounts.values():
        if a.line is not None and a.measure != "none":
            by_line.setdefault(a.line, {}).setdefault(a.measure, []).append(a.gl_account)
    links: dict[str, dict[str, str]] = {}
    for a in accounts.values():
        out: dict[str, str] = {"none" if a.measure == "none" else a.measure: a.gl_account}
        if a.in_scope and a.line is not None:
            for measure, targets in by_line.get(a.line, {}).items():
                if measure == a.measure:
                    continue
                if len(targets) > 1:
                    out[measure] = "\0ambiguous:" + ",".join(sorted(targets))
                else:
                    out[measure] = targets[0]
        links[a.gl_account] = out
    return links


def _position_groups(
    positions: pa.Table, accounts: Mapping[str, _Account], level: str, counters: _Counters
) -> dict[Key, _Group]:
    _require(positions, _POSITIONS, ("reporting_entity_id", "gl_account", "currency", "side"))
    n = positions.num_rows
    counters.positions += n
    if n == 0:
        return {}
    ent, ent_words = _codes(positions, "reporting_entity_id", _POSITIONS, required=True)
    ccy, ccy_words = _codes(positions, "currency", _POSITIONS, required=True)
    if level == "branch":
        br, br_words = _codes(positions, "branch_id", _POSITIONS, required=True)
    else:
        br, br_words = np.zeros(n, dtype=np.int64), [None]
    gl, gl_words = _codes(positions, "gl_account", _POSITIONS, required=False)
    side, side_words = _codes(positions, "side", _POSITIONS, required=True)
    unknown = [w for w in side_words[:-1] if w not in _SIDES]
    if unknown:
        first = int(np.flatnonzero(side == side_words.index(unknown[0]))[0])
        raise DataError(f"unknown side; expected one of {', '.join(_SIDES)}", file=_POSITIONS,
                        row=_row_number(positions, first), column="side", value=unknown[0])  # fmt: skip
    credit_words = np.array([w in ("liability", "equity") for w in side_words], dtype=bool)
    credit = credit_words[side]

    # every target account: positions' own accounts first, then map accounts no position names
    targets: list[str | None] = list(gl_words)
    target_index: dict[str | None, int] = {w: i for i, w in enumerate(targets)}
    for name in accounts:
        if name not in target_index:
            target_index[name] = len(targets)
            targets.append(name)
    links = _links(accounts)
    lut: dict[str, IntArray] = {m: np.full(len(gl_words), -1, dtype=np.int64) for m in MEASURES}
    ambiguous: dict[int, str] = {}
    for code, word in enumerate(gl_words):
        own = accounts.get(word) if word is not None else None
        if own is None:
            lut["principal_balance"][code] = target_index[word]  # unmapped: counted with its principal
            continue
        for measure, linked in links[own.gl_account].items():
            if linked.startswith("\0ambiguous:"):
                ambiguous[code] = f"{measure}:{linked.split(':', 1)[1]}"
            else:
                lut[measure][code] = target_index[linked]
    if ambiguous:
        used = np.bincount(gl, minlength=len(gl_words))
        for code, what in ambiguous.items():
            if used[code]:
                measure, names = what.split(":", 1)
                own = accounts[str(gl_words[code])]
                raise DataError(
                    f"accounts {names} are all mapped to {measure} on balance_sheet_line {own.line!r}; the "
                    f"{measure} of positions on account {own.gl_account} cannot be assigned -- keep one account "
                    "per measure and line",
                    file=_MAP,
                    column="balance_sheet_line",
                    value=own.line,
                )

    own_codes = np.array(
        [1 if w is not None and w in accounts and accounts[w].reconciled else 0 for w in gl_words], dtype=np.int64
    )
    scope_out = np.array(
        [1 if w is not None and w in accounts and not accounts[w].reconciled else 0 for w in gl_words], dtype=np.int64
    )
    mapped = np.array([1 if w is not None and w in accounts else 0 for w in gl_words], dtype=np.int64)
    counters.own_reconciled += int(own_codes[gl].sum())
    counters.out_of_scope += int(scope_out[gl].sum())
    counters.unmapped += int(n - mapped[gl].sum())

    n_ccy, n_br, n_t = len(ccy_words), len(br_words), len(targets)
    base = (ent * n_br + br) * n_t
    keys: list[IntArray] = []
    values: list[pa.Array] = []
    for measure, table_lut in lut.items():
        if not (table_lut >= 0).any():
            continue
        target = table_lut[gl]
        rows = np.flatnonzero(target >= 0)
        if rows.size == 0:
            continue
        if measure == "none":
            vals = pa.array(np.zeros(rows.size, dtype=np.int64)).cast(_SUM_TYPE)
        elif measure not in positions.column_names:
            vals = pa.nulls(rows.size, _SUM_TYPE)
        else:
            column = positions.column(measure).take(pa.array(rows))
            if measure in _SIDE_SIGNED:
                negate: BoolArray | None = credit[rows]
            elif measure == "provision_amount":
                negate = np.ones(rows.size, dtype=bool)
            else:  # fair_value: already signed
                negate = None
            if pa.types.is_floating(column.type):
                counters.float_cells += len(column) - column.null_count
            vals = _exact_amounts(column, negate, _POSITIONS, measure, positions, rows)
        nulls = vals.null_count
        if nulls:
            counters.null_amounts[measure] = counters.null_amounts.get(measure, 0) + nulls
        keys.append((base[rows] + target[rows]) * n_ccy + ccy[rows])
        values.append(vals)
    if not keys:
        return {}
    long = pa.table({"key": np.concatenate(keys), "amount": pa.concat_arrays(values)})
    grouped = long.group_by("key").aggregate(
        [
            ("amount", "sum", pc.ScalarAggregateOptions(min_count=0)),
            ("amount", "count", pc.CountOptions(mode="only_valid")),
        ]
    )
    out: dict[Key, _Group] = {}
    for key, total, count in zip(
        grouped.column("key").to_pylist(),
        grouped.column("amount_sum").to_pylist(),
        grouped.column("amount_count").to_pylist(),
        strict=True,
    ):
        rest, c = divmod(key, n_ccy)
        rest, t = divmod(rest, n_t)
        e, b = divmod(rest, n_br)
        if count == 0:
            continue  # every linked amount is null (not applicable): counted in null_amounts
        out[(ent_words[e], br_words[b], targets[t], ccy_words[c])] = _Group(Decimal(total), int(count))
    return out


def _ledger_groups(gl: pa.Table, level: str, counters: _Counters) -> dict[Key, _Group]:
    _require(gl, _GL, ("reporting_entity_id", "gl_account", "currency", "balance"))
    n = gl.num_rows
    for column in ("reporting_entity_id", "gl_account", "currency", "balance"):
        nulls = gl.column(column).null_count
        if nulls:
            first = int(np.flatnonzero(~np.asarray(gl.column(column).is_valid()))[0])
            raise DataError("is empty; expected a value", file=_GL, row=_row_number(gl, first), column=column)
    if pa.types.is_floating(gl.column("balance").type):
        counters.float_cells += n
    balances = _exact_amounts(gl.column("balance"), None, _GL, "balance", gl).to_pylist()
    entities = gl.column("reporting_entity_id").to_pylist()
    accounts = gl.column("gl_account").to_pylist()
    currencies = gl.column("currency").to_pylist()
    branches = gl.column("branch_id").to_pylist() if "branch_id" in gl.column_names else [None] * n
    seen: dict[Key, int] = {}
    out: dict[Key, _Group] = {}
    for i in range(n):
        raw: Key = (entities[i], branches[i], accounts[i], currencies[i])
        if raw in seen:
            raise DataError(
                f"duplicates the ledger key (reporting_entity_id, branch_id, gl_account, currency) = {raw} of row "
                f"{_row_number(gl, seen[raw])}; expected one balance per key",
                file=_GL,
                row=_row_number(gl, i),
                column="gl_account",
                value=accounts[i],
            )
        seen[raw] = i
        key: Key = raw if level == "branch" else (raw[0], None, raw[2], raw[3])
        group = out.get(key)
        if group is None:
            out[key] = _Group(balances[i], 1)
        else:
            group.total += balances[i]
            group.count += 1
    return out


# --------------------------------------------------------------------------------------------
# Comparison and report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    key: Key
    measure: str | None
    line: str | None
    gl_balance: Decimal | None
    positions_amount: Decimal | None
    difference: Decimal | None
    tolerance: Decimal | None
    status: str
    position_count: int
    sign: int | None


def _sort_key(key: Key) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in key)


def _compare(
    pos: Mapping[Key, _Group],
    gl: Mapping[Key, _Group],
    accounts: Mapping[str, _Account],
    settings: ReconciliationSettings,
) -> list[_Row]:
    rows: list[_Row] = []
    for key in sorted(set(pos) | set(gl), key=_sort_key):
        acct = accounts.get(key[2]) if key[2] is not None else None
        p, g = pos.get(key), gl.get(key)
        gl_balance = g.total if g else None
        count = p.count if p else 0
        if acct is None:
            amount = p.total if p else None
            rows.append(_Row(key, None, None, gl_balance, amount, None, None, "unmapped", count, None))
            continue
        if not acct.reconciled:
            amount = p.total if p and acct.measure != "none" else None
            rows.append(
                _Row(key, acct.measure, acct.line, gl_balance, amount, None, None, "out_of_scope", count, acct.sign)
            )
            continue
        amount = p.total if p else Decimal(0)
        ledger = gl_balance if gl_balance is not None else Decimal(0)
        difference = amount - ledger
        tol_abs = acct.tol_abs if acct.tol_abs is not None else settings.tolerance_abs
        tol_rel = acct.tol_rel if acct.tol_rel is not None else settings.tolerance_rel
        tolerance = max(tol_abs, tol_rel * abs(ledger))
        if abs(difference) <= tolerance:
            status = "matched"
        elif g is None:
            status = "positions_only"
        elif p is None:
            status = "gl_only"
        else:
            status = "break"
        rows.append(
            _Row(key, acct.measure, acct.line, gl_balance, amount, difference, tolerance, status, count, acct.sign)
        )
    return rows


def _reporting_rates(rows: Sequence[_Row], fx: FxSource | None, reporting: str | None) -> dict[str, float] | None:
    if fx is None:
        return None
    target = reporting or getattr(fx, "reporting_currency", None)
    if not target:
        raise ConfigError("reconcile: fx is given but no reporting_currency (pass it or set it on the FX rates)")
    return {c: 1.0 if c == target else fx.rate(c, target) for c in {r.key[3] for r in rows if r.key[3]}}


def _rows_table(rows: Sequence[_Row], rates: Mapping[str, float] | None) -> pa.Table:
    def text(i: int) -> pa.Array:
        return pa.array([r.key[i] for r in rows], pa.string())

    tolerances = [None if r.tolerance is None else r.tolerance.quantize(_QUANTUM) for r in rows]
    columns: dict[str, pa.Array] = {
        "reporting_entity_id": text(0),
        "branch_id": text(1),
        "gl_account": text(2),
        "currency": text(3),
        "measure": pa.array([r.measure for r in rows], pa.string()),
        "balance_sheet_line": pa.array([r.line for r in rows], pa.string()),
        "gl_balance": _decimal_array([r.gl_balance for r in rows], "gl_balance"),
        "positions_amount": _decimal_array([r.positions_amount for r in rows], "positions_amount"),
        "difference": _decimal_array([r.difference for r in rows], "difference"),
        "tolerance": _decimal_array(tolerances, "tolerance"),
        "status": pa.array([r.status for r in rows], pa.string()),
        "position_count": pa.array([r.position_count for r in rows], pa.int64()),
    }
    if rates is not None:
        columns["difference_reporting"] = pa.array(
            [None if r.difference is None else float(r.difference) * rates[str(r.key[3])] for r in rows], pa.float64()
        )
    return pa.table(columns)


def _worst(rows: Sequence[_Row], rates: Mapping[str, float] | None) -> list[_Row]:
    breaks = [r for r in rows if r.status in BREAK_STATUSES and r.difference is not None]

    def size(r: _Row) -> float:
        d = abs(float(r.difference or 0))
        return d * rates[str(r.key[3])] if rates is not None else d

    return sorted(breaks, key=lambda r: (-size(r), _sort_key(r.key)))


def _describe(r: _Row) -> str:
    entity, branch, acct, ccy = r.key
    where = f"{entity}/{branch}" if branch is not None else f"{entity}"
    return (
        f"account {acct} {ccy} at {where} ({r.measure}, {r.status}): positions {_fmt(r.positions_amount)} vs "
        f"ledger {_fmt(r.gl_balance)}, difference {_fmt(r.difference, signed=True)} > tolerance {_fmt(r.tolerance)}"
    )


def _fmt(value: Decimal | None, *, signed: bool = False) -> str:
    """``1,234.50`` / ``+100.00``: at least two decimals, at most six, no rounding below that."""
    if value is None:
        return "none"
    text = format(value.quantize(_QUANTUM).normalize(), f"{'+' if signed else ''},f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _break_message(rows: Sequence[_Row], level: str, rates: Mapping[str, float] | None) -> str:
    worst = _worst(rows, rates)
    ranked = "reporting-currency" if rates is not None else "own-currency"
    lines = "; ".join(_describe(r) for r in worst[:_WORST])
    return (
        f"{len(worst)} GL reconciliation break(s) exceed tolerance at {level} level; worst by {ranked} "
        f"difference: {lines}. Correct the positions or the ledger extract, or the gl_account_map "
        "(measure, balance_sheet_line, tolerances), then rerun"
    )


def _summarise(
    rows: Sequence[_Row],
    level: str,
    reason: str,
    c: _Counters,
    accounts: Mapping[str, _Account],
    rates: Mapping[str, float] | None,
) -> tuple[dict[str, Any], list[str]]:
    counts = dict.fromkeys(STATUSES, 0)
    unmapped_sum: dict[str, Decimal] = {}
    abnormal: list[_Row] = []
    for r in rows:
        counts[r.status] += 1
        if r.status == "unmapped" and r.positions_amount is not None:
            ccy = str(r.key[3])
            unmapped_sum[ccy] = unmapped_sum.get(ccy, Decimal(0)) + r.positions_amount
        reconciled = r.status in ("matched", *BREAK_STATUSES)
        if reconciled and r.gl_balance and r.sign is not None and (r.gl_balance > 0) != (r.sign > 0):
            abnormal.append(r)
    breaks = sum(counts[s] for s in BREAK_STATUSES)
    worst = _worst(rows, rates)
    summary: dict[str, Any] = {
        "status": "breaks" if breaks else "ok",
        "level": level,
        "level_reason": reason,
        "rows": len(rows),
        "status_counts": counts,
        "breaks": breaks,
        "max_abs_difference": str(abs(worst[0].difference or 0)) if worst else "0",
        "positions": c.positions,
        "positions_reconciled": c.own_reconciled,
        "positions_out_of_scope": c.out_of_scope,
        "positions_unmapped": c.unmapped,
        "unmapped_amount": {k: str(v) for k, v in sorted(unmapped_sum.items())},
        "null_amounts": dict(sorted(c.null_amounts.items())),
        "float_amounts_converted": c.float_cells,
        "defaulted": {
            "tolerance_abs": c.defaulted_abs,
            "tolerance_rel": c.defaulted_rel,
            "in_scope": c.defaulted_scope,
        },
        "accounts_mapped": len(accounts),
        "abnormal_direction": len(abnormal),
    }
    messages: list[str] = []
    if c.unmapped:
        sums = ", ".join(f"{k} {_fmt(v, signed=True)}" for k, v in sorted(unmapped_sum.items()))
        messages.append(
            f"{c.unmapped} position(s) on accounts absent from gl_account_map are not reconciled "
            f"(signed principal: {sums}); add the accounts to the map"
        )
    for r in abnormal[:_WORST]:
        normal = "debit" if (r.sign or 0) > 0 else "credit"
        messages.append(
            f"ledger balance {_fmt(r.gl_balance, signed=True)} of account {r.key[2]} {r.key[3]} at "
            f"{r.key[0]}/{r.key[1]} runs against its {normal}-normal sign in gl_account_map"
        )
    return summary, messages


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
