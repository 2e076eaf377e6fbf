"""Row rules of the input contract: which rows the engine can use, which are flagged, and why.

Validation works on parsed tables (:class:`~openalm.data.loaders.ParsedTable`) and produces, per
table, a boolean *rejected* mask and the list of problems (:class:`Finding`), each one found by a
data-quality rule of the catalogue (:mod:`openalm.data.quality_rules`, rule ids such as
``POS-FK-001``) with a reason code and a message. It collects every problem of every row: one row
can carry several reasons. All rules are vectorised (numpy / pyarrow / polars masks, DuckDB for
bank-defined rules); Python loops run only over the rows already rejected, to write their
messages (flags of warning rules are built vectorised).

Severity (catalogue default, adjustable rules overridable in ``data_quality.severity``):
``error`` findings reject the row (a :class:`~openalm.data.rejects.Reject` per problem),
``warning`` findings flag it: the row is used and each problem is a row of the flags table
(:mod:`openalm.data.flags`). A rejected row keeps every reason, a flagged row every flag.

Rules (positions.md 2.2, 3, 4.1, 5 and 10), by reason code:

* cell level (from parsing): ``bad_date``, ``impossible_date``, ``bad_number``, ``bad_integer``,
  ``bad_bool``, ``unknown_code``, ``bad_code``, ``bad_currency``, ``bad_country``, ``bad_tenor``,
  ``bad_json``; ``missing_required`` (null in an R column);
* ``as_of_mismatch``: ``as_of_date`` differs from the run's as-of;
* ``duplicate_key``: rows sharing the table's key, e.g. (``reporting_entity_id``,
  ``position_id``). **All** rows sharing a key are rejected, not all but the first: nothing says
  which one is right;
* ``side_not_allowed`` (4.1 table), ``on_balance_sheet_mismatch`` (4.1 On-BS column);
* ``negative_amount`` (§2.2; ``accrued_interest`` may be negative only with a negative
  ``current_rate``), ``out_of_range`` (bounds of a column, e.g. ``pool_count >= 1``),
  ``exceeds_principal_balance`` (``overdue_principal``, ``encumbered_amount``,
  ``insured_amount``, ``operational_excess_amount`` above ``principal_balance``),
  ``undrawn_exceeds_limit``;
* ``origination_after_maturity``; ``date_not_after_as_of`` (``next_*`` dates on or before the
  as-of), ``date_after_maturity`` (``next_*`` dates after maturity), ``date_after_as_of``
  (``last_interest_payment_date`` after the as-of); ``matured_not_overdue`` (a row matured before
  the as-of must be fully overdue: ``overdue_principal == principal_balance``);
* ``missing_conditional``: a C column is null while its condition holds (only the conditions the
  engine cannot do without; see below);
* ``implausible_rate``: a rate outside -5 % .. 50 % p.a. (positions.md 10 rule 7), which looks like
  a percent where a decimal is expected;
* ``rate_fixing_mismatch`` (warning, positions.md 10 rule 8): a floater's ``current_rate`` is not
  ``clamp(rate_multiplier x fixing + spread, rate_floor, rate_cap)`` within the rule's tolerance,
  where *fixing* is the latest ``index_fixings`` value on or before the fixing date of the last
  reset (``last_reset_date``, else ``next_reset_date`` rolled back by ``reset_frequency``, not
  before ``origination_date``; minus ``reset_lag_days``, else the index's ``fixing_lag_days``;
  at most the as-of). Rows with averaging conventions or periodic caps / floors are not checked,
  nor rows whose index has no fixing on or before that date;
* ``unknown_counterparty``, ``unknown_rate_index`` (foreign keys, checked when the companion table
  is present; otherwise skipped with a warning), ``missing_schedule`` and
  ``schedule_sum_mismatch`` (``amortisation_type = schedule``), ``incomplete_deal`` (a swap or
  forward deal with fewer than two legs);
* schedule tables: ``unknown_position`` (no such position) and ``position_rejected`` (its position
  was rejected, so the flows cannot be used either);
* warnings: ``missing_report_field``, ``missing_defaulted``, ``unlisted_code`` (see below);
  ``bank_rule`` for the bank-defined rules of the configuration.

C columns enforced as rejects: ``maturity_date`` and ``origination_date`` for dated instruments
(:data:`~openalm.data.schema.DATED_INSTRUMENTS`) unless ``non_maturity``; ``counterparty_id``
(all but cash, other_*, equity_capital, issued debt securities); ``current_rate``, ``day_count``,
``interest_payment_frequency`` for interest-bearing rows; ``rate_index``, ``spread``,
``reset_frequency``, ``next_reset_date`` for floating rows (hybrid rows: the same when
``rate_index`` is given, else ``reversion_rate``); ``principal_payment_frequency`` for annuity,
annuity_fixed_payment and linear; ``notice_period_days`` for deposit_notice; ``next_call_date``
when ``call_type`` is not none; ``undrawn_amount`` for loan_commitment; ``deal_id``,
``derivative_type``, ``notional_exchange`` for derivative legs; ``strike`` for caps, floors and
options. C columns that only feed one report (``gl_account``, ``accounting_classification``,
``security_id``, collateral and encumbrance details, ``unconditionally_cancellable``, ``ltv``,
``property_type``) are ``warning`` rules (``missing_report_field``: the row is flagged and a
counted warning names the gap): rejecting the row would remove it from every measure.
``next_interest_payment_date`` / ``next_principal_payment_date`` are not enforced: the schedule
rolls back from maturity when they are absent (interfaces.md).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from openalm.data._cells import ArrowColumn
from openalm.data.flags import FLAG_SCHEMA, empty_flags
from openalm.data.loaders import SOURCE_ROW, ParsedTable, column_or_nulls, text_of
from openalm.data.quality_rules import (
    BANK_RULE_REASON,
    BankRule,
    DataQualityConfig,
    Severity,
    bank_rule_rows,
    rule_catalogue,
    severities_for,
)
from openalm.data.rejects import Reject
from openalm.data.schema import (
    DATED_INSTRUMENTS,
    FINANCIAL_COUNTERPARTY_TYPES,
    INSTRUMENT_SIDES,
    OFF_BALANCE_INSTRUMENTS,
    PRODUCT_SUBTYPES,
    RATE_PLAUSIBLE_RANGE,
    TABLE_ORDER,
    Level,
    LogicalType,
)
from openalm.errors import DataError

__all__ = [
    "REASONS",
    "RULE_RESULT_SCHEMA",
    "Finding",
    "TableResult",
    "ValidationResult",
    "clean_table",
    "validate_tables",
]

BoolMask = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: Every reason code a reject can carry, with its meaning.
REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "missing_required": "null in a required (R) column",
        "missing_conditional": "null in a conditionally required (C) column whose condition holds",
        "bad_date": "not a date in YYYY-MM-DD or YYYYMMDD",
        "ragged_row": "a CSV record with more or fewer fields than the header",
        "impossible_date": "date-shaped but not a calendar date (2026-02-30)",
        "bad_number": "not a plain decimal number (thousands separator, percent sign, text)",
        "bad_integer": "not a whole number",
        "bad_bool": "not a boolean (true/false, 1/0, Y/N)",
        "unknown_code": "not one of the allowed codes of an enum (codes are exact, lower-case)",
        "bad_code": "not a snake_case code (extensible enums)",
        "bad_currency": "not an ISO 4217 alpha-3 code",
        "bad_country": "not an ISO 3166-1 alpha-2 code",
        "bad_tenor": "not a tenor <n><D|W|M|Y> (or T / ON / TN / SN where allowed)",
        "bad_json": "not a JSON object",
        "as_of_mismatch": "as_of_date differs from the run's as-of date",
        "duplicate_key": "several rows share the table's key; all of them are rejected",
        "side_not_allowed": "side not allowed for the instrument_type (positions.md 4.1)",
        "on_balance_sheet_mismatch": "on_balance_sheet contradicts the instrument_type (positions.md 4.1)",
        "negative_amount": "negative amount where >= 0 is required (positions.md 2.2)",
        "out_of_range": "value outside the column's allowed range",
        "exceeds_principal_balance": "amount larger than principal_balance",
        "undrawn_exceeds_limit": "undrawn_amount larger than limit_amount",
        "origination_after_maturity": "origination_date after maturity_date",
        "date_not_after_as_of": "a next/future date on or before the as-of date",
        "date_after_as_of": "a last/past date after the as-of date",
        "date_after_maturity": "a next date after maturity_date",
        "matured_not_overdue": "maturity_date before the as-of but principal not fully overdue",
        "implausible_rate": "rate outside -5%..50% p.a.: looks like percent, expected decimal",
        "unknown_counterparty": "counterparty_id not found among the usable counterparties",
        "unknown_rate_index": "rate_index / index_code not found among the usable rate_indices",
        "missing_schedule": "amortisation_type = schedule without cash_flow_schedule rows",
        "schedule_sum_mismatch": "scheduled principal does not sum to principal_balance - overdue_principal",
        "incomplete_deal": "swap / forward deal with fewer than two legs",
        "unknown_position": "schedule row whose position_id is not in positions",
        "position_rejected": "schedule row whose position was rejected",
        "rate_fixing_mismatch": "current_rate differs from rate_multiplier x last index fixing + spread (10 rule 8)",
        "missing_report_field": "a C column feeding some reports only is empty while its condition holds",
        "missing_defaulted": "an expected column is empty; a documented default applies",
        "unlisted_code": "a code outside the starter list of an extensible enum (positions.md 4.2)",
        BANK_RULE_REASON: "a bank-defined data-quality rule (config data_quality.rules) matched the row",
    }
)

#: Cell-level reason -> (rule id, logical types whose parsing can fail that way).
_CELL_RULES: Final[Mapping[str, tuple[str, tuple[LogicalType, ...]]]] = MappingProxyType(
    {
        "bad_date": ("GEN-CELL-001", (LogicalType.DATE,)),
        "impossible_date": ("GEN-CELL-002", (LogicalType.DATE,)),
        "bad_number": ("GEN-CELL-003", (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL)),
        "bad_integer": ("GEN-CELL-004", (LogicalType.INT,)),
        "bad_bool": ("GEN-CELL-005", (LogicalType.BOOL,)),
        "unknown_code": ("GEN-CELL-006", (LogicalType.ENUM,)),
        "bad_code": ("GEN-CELL-007", (LogicalType.ENUM,)),
        "bad_currency": ("GEN-CELL-008", (LogicalType.CCY,)),
        "bad_country": ("GEN-CELL-009", (LogicalType.COUNTRY,)),
        "bad_tenor": ("GEN-CELL-010", (LogicalType.TENOR,)),
        "bad_json": ("GEN-CELL-011", (LogicalType.MAP,)),
    }
)
_RATE_LO, _RATE_HI = RATE_PLAUSIBLE_RANGE
_PERCENT_MESSAGE: Final = "{value} is outside -5%..50% p.a.: looks like percent, expected decimal (3.45% is 0.0345)"
#: Rate columns checked for plausibility, per table.
_PLAUSIBLE_RATE_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "positions": ("current_rate", "spread", "reversion_rate", "early_withdrawal_rate", "ftp_rate"),
        "index_fixings": ("value",),
        "cash_flow_schedule": ("period_rate",),
        "rate_schedule": ("new_rate", "new_spread"),
    }
)
_RATE_CURVE_TYPES: Final = ("zero", "par", "forward", "spread", "ftp_base", "ftp_liquidity_premium")
_NO_COUNTERPARTY: Final = ("cash", "other_asset", "other_liability", "equity_capital")
_TWO_LEG_DERIVATIVES: Final = ("irs", "ois", "basis_swap", "ccs", "fx_forward", "fx_swap", "fx_spot")
_OPTION_DERIVATIVES: Final = ("cap", "floor", "swaption", "other_option")
_AMORTISING: Final = ("annuity", "annuity_fixed_payment", "linear")
#: Tolerance of the schedule sum check: absolute (currency units) + relative to the balance.
SCHEDULE_TOLERANCE: Final = (0.01, 1e-9)
_EPOCH: Final = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule failing on some rows of one table.

    Parameters
    ----------
    column:
        The column the problem is about (quoted as the reject's value).
    reason:
        Reason code (a key of :data:`REASONS`).
    mask:
        True on the failing rows.
    message:
        ``str.format`` template using ``{value}`` (this column's text) and other column names;
        or a function of the mapping of those texts.
    detail:
        Columns whose text a callable ``message`` receives (templates find theirs).
    hint:
        Optional function of the value text returning an extra sentence.
    computed:
        Per-row values computed by the rule (full-length arrays), usable in the template.
    rule_id:
        The data-quality rule (catalogue id or bank rule id).
    severity:
        Effective severity: ``error`` rejects the rows, ``warning`` flags them.
    summary:
        Counted warning text, added to the result's warnings when the severity is ``warning``.
    """

    column: str
    reason: str
    mask: BoolMask
    message: str | Callable[[Mapping[str, Any]], str]
    detail: tuple[str, ...] = ()
    hint: Callable[[str], str] | None = None
    computed: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    rule_id: str = ""
    severity: Severity = "error"
    summary: str | None = None


@dataclass(slots=True)
class TableResult:
    """Validation outcome of one table.

    ``rejected``: rows with an error finding; ``flagged``: rows *used* with a warning finding;
    ``checked``: rows each evaluated rule looked at (``rule id -> rows``).
    """

    parsed: ParsedTable
    findings: list[Finding] = field(default_factory=list)
    rejected: BoolMask = field(default_factory=lambda: np.zeros(0, dtype=bool))
    flagged: BoolMask = field(default_factory=lambda: np.zeros(0, dtype=bool))
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """``read``, ``rejected`` (distinct rows) and ``used`` (``read = used + rejected``)."""
        ragged = len(getattr(self.parsed, "ragged", ()))
        read = self.parsed.num_rows + ragged
        rejected = int(self.rejected.sum()) + ragged
        return {"read": read, "rejected": rejected, "used": read - rejected}

    @property
    def flagged_rows(self) -> int:
        """Distinct used rows with at least one warning."""
        return int(self.flagged.sum())


#: One row per (rule, table) evaluated: what the data-quality report is made of.
RULE_RESULT_SCHEMA: Final = pa.schema(
    [
        pa.field("rule_id", pa.string()),
        pa.field("table", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("severity", pa.string()),
        pa.field("rows_checked", pa.int64()),
        pa.field("rows_failed", pa.int64()),
        pa.field("description_zh", pa.string()),
        pa.field("description_en", pa.string()),
    ]
)


def _no_rule_results() -> pa.Table:
    return RULE_RESULT_SCHEMA.empty_table()


@dataclass(slots=True)
class ValidationResult:
    """Validation outcome of a snapshot: per-table results, rejects, flags, rule outcomes, warnings.

    ``flags`` (:data:`~openalm.data.flags.FLAG_SCHEMA`) holds every warning of every row, sorted
    by table (contract order), row, then rule order; ``rule_results``
    (:data:`RULE_RESULT_SCHEMA`) one row per rule evaluated on a table, with the rows it checked
    and the distinct rows it failed.
    """

    as_of: dt.date
    tables: dict[str, TableResult]
    rejects: list[Reject]
    warnings: list[str]
    flags: pa.Table = field(default_factory=empty_flags)
    rule_results: pa.Table = field(default_factory=_no_rule_results)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """``{table: {"read", "rejected", "used"}}`` for every table read."""
        return {name: result.counts for name, result in self.tables.items()}

    @property
    def flagged(self) -> dict[str, int]:
        """``{table: n}``: distinct used rows with at least one warning, for every table read."""
        return {name: result.flagged_rows for name, result in self.tables.items()}


# --------------------------------------------------------------------------------------------
# Column access with masks
# --------------------------------------------------------------------------------------------


def _to_bool(values: ArrowColumn) -> BoolMask:
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks() if filled.num_chunks else pa.array([], pa.bool_())
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


class _Frame:
    """Numpy views of a parsed table's columns and the findings collected on it."""

    def __init__(self, parsed: ParsedTable, severities: Mapping[str, Severity]) -> None:
        self.parsed = parsed
        self.schema = parsed.schema
        self.n = parsed.num_rows
        self.findings: list[Finding] = []
        self.severities = severities
        #: rule id -> rows it looked at (None: every row)
        self.checked: dict[str, BoolMask | None] = {}
        self._failed: dict[str, BoolMask] = {}
        for column, problem in parsed.problems:
            prev = self._failed.get(column)
            self._failed[column] = problem.mask if prev is None else (prev | problem.mask)
        self._num: dict[str, FloatArray] = {}
        self._valid: dict[str, BoolMask] = {}
        self._codes: dict[str, tuple[npt.NDArray[np.int64], list[str]]] = {}
        self.zeros: BoolMask = np.zeros(self.n, dtype=bool)
        self._nan: FloatArray = np.full(self.n, np.nan)
        self._nan.flags.writeable = False

    def has(self, column: str) -> bool:
        return column in self.parsed.raw

    def col(self, column: str) -> ArrowColumn:
        return column_or_nulls(self.parsed, column)

    def failed(self, *columns: str) -> BoolMask:
        out = self.zeros
        for c in columns:
            mask = self._failed.get(c)
            if mask is not None:
                out = out | mask
        return out

    def valid(self, column: str) -> BoolMask:
        if column not in self._valid:
            self._valid[column] = _to_bool(pc.is_valid(self.col(column))) if self.has(column) else self.zeros
        return self._valid[column]

    def missing(self, column: str) -> BoolMask:
        """Null cells that did not fail parsing (truly empty or column absent)."""
        return ~self.valid(column) & ~self.failed(column)

    def num(self, column: str) -> FloatArray:
        """Numbers (dates as day numbers) as float64, NaN for null."""
        if column not in self._num:
            if not self.has(column):
                self._num[column] = self._nan
            else:
                values = self.col(column)
                if pa.types.is_date32(values.type):
                    values = pc.cast(values, pa.int32())
                values = pc.cast(values, pa.float64())
                if isinstance(values, pa.ChunkedArray):
                    values = values.combine_chunks() if values.num_chunks else pa.array([], pa.float64())
                self._num[column] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        return self._num[column]

    def codes(self, column: str) -> tuple[npt.NDArray[np.int64], list[str]]:
        """Dictionary codes of a code column: indices (-1 for null) and the distinct values."""
        if column not in self._codes:
            values = self.col(column)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
            encoded = pc.dictionary_encode(values)
            indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            self._codes[column] = (np.asarray(indices, dtype=np.int64), encoded.dictionary.to_pylist())
        return self._codes[column]

    def isin(self, column: str, values: Iterable[str]) -> BoolMask:
        if not self.has(column):
            return self.zeros
        indices, dictionary = self.codes(column)
        wanted = set(values)
        lookup = np.array([d in wanted for d in dictionary] + [False], dtype=bool)
        return lookup[indices]

    def eq(self, column: str, value: str) -> BoolMask:
        return self.isin(column, (value,))

    def true(self, column: str) -> BoolMask:
        if not self.has(column):
            return self.zeros
        return _to_bool(self.col(column))

    def check(self, rule_id: str, applies: BoolMask | None = None) -> None:
        """Record that ``rule_id`` looked at the rows of ``applies`` (every row when None)."""
        if rule_id not in self.severities:
            raise AssertionError(f"rule {rule_id!r} is not in the data-quality catalogue")
        if rule_id in self.checked:
            prev = self.checked[rule_id]
            self.checked[rule_id] = None if prev is None or applies is None else (prev | applies)
        else:
            self.checked[rule_id] = applies

    def add(
        self,
        rule_id: str,
        column: str,
        mask: BoolMask,
        message: str | Callable[[Mapping[str, Any]], str],
        *,
        involved: Sequence[str] = (),
        detail: tuple[str, ...] = (),
        hint: Callable[[str], str] | None = None,
        computed: Mapping[str, npt.NDArray[Any]] | None = None,
        applies: BoolMask | None = None,
        summary: str | None = None,
    ) -> None:
        """Record a finding of ``rule_id`` on ``mask`` minus the rows where an involved cell failed to parse.

        ``applies`` are the rows the rule looks at (for the report's ``rows_checked``); ``summary``
        a counted-warning template (``{count}``) used when the rule's severity is ``warning``.
        """
        rule = rule_catalogue()[rule_id]
        if not rule.runs_on(self.schema.name):
            raise AssertionError(f"rule {rule_id} does not run on {self.schema.name}")
        self.check(rule_id, applies)
        mask = mask & ~self.failed(column, *involved)
        if mask.any():
            text = None if summary is None else summary.format(count=int(mask.sum()))
            severity = self.severities[rule_id]
            self.findings.append(
                Finding(column, rule.reason, mask, message, detail, hint, dict(computed or {}), rule_id, severity, text)
            )


# --------------------------------------------------------------------------------------------
# Rules common to every table
# --------------------------------------------------------------------------------------------


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def _problem_rule(reason: str, table: str) -> str:
    """The rule of a problem found while reading (a cell rule, else the first rule of that reason)."""
    if reason in _CELL_RULES:
        return _CELL_RULES[reason][0]
    for rule in rule_catalogue().values():
        if rule.reason == reason and rule.runs_on(table):
            return rule.id
    raise AssertionError(f"problem reason {reason!r} of {table} has no data-quality rule")


def _cell_rules(f: _Frame) -> None:
    """Findings of the cells that failed to parse (one rule per reason code)."""
    for column in f.schema.columns:
        if column.name not in f.parsed.raw:
            continue
        for reason, (rule_id, kinds) in _CELL_RULES.items():
            if column.type in kinds and (
                column.type is not LogicalType.ENUM or column.extensible == (reason == "bad_code")
            ):
                f.check(rule_id)
    for name, problem in f.parsed.problems:
        rule_id = _problem_rule(problem.reason, f.schema.name)
        f.check(rule_id)
        f.findings.append(
            Finding(
                name,
                problem.reason,
                problem.mask,
                problem.message,
                (),
                problem.hint,
                {},
                rule_id,
                f.severities[rule_id],
            )
        )


def _common_rules(f: _Frame, as_of: dt.date) -> None:
    _cell_rules(f)
    for column in f.schema.columns:
        name = column.name
        if column.level is Level.R:
            f.add("GEN-REQ-001", name, f.missing(name), f"{name} is required and empty")
        if column.minimum is None and column.maximum is None:
            continue
        values = f.num(name)
        if column.minimum is not None:
            below = values < column.minimum
            if column.type is LogicalType.AMOUNT and column.minimum == 0:
                f.add("GEN-AMT-001", name, below, f"{name} {{value}} is negative; amounts are >= 0 (§2.2)")
            else:
                f.add("GEN-RNG-001", name, below, f"{name} {{value}} is below the minimum {column.minimum:g}")
        if column.maximum is not None:
            f.add(
                "GEN-RNG-001",
                name,
                values > column.maximum,
                f"{name} {{value}} is above the maximum {column.maximum:g}",
            )
    if f.schema.has_as_of and f.has("as_of_date"):
        differs = f.valid("as_of_date") & (f.num("as_of_date") != _day_number(as_of))
        f.add(
            "GEN-ASOF-001",
            "as_of_date",
            differs,
            f"as_of_date {{value}} differs from the run's as-of {as_of.isoformat()}",
        )
    for name in _PLAUSIBLE_RATE_COLUMNS.get(f.schema.name, ()):
        values = f.num(name)
        f.add("GEN-RATE-001", name, (values < _RATE_LO) | (values > _RATE_HI), _PERCENT_MESSAGE)
    _duplicates(f)


def _duplicated(table: pa.Table) -> BoolMask:
    """Rows whose key occurs more than once (null equals null).

    Row hashes find candidate collisions in one sort; only candidates are compared exactly.
    """
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    hashes = np.asarray(frame.hash_rows().to_numpy())
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(repeated) == 0:
        return np.zeros(len(hashes), dtype=bool)
    candidates = np.flatnonzero(np.isin(hashes, repeated))
    exact = np.asarray(frame[candidates].is_duplicated().to_numpy(), dtype=bool)
    out = np.zeros(len(hashes), dtype=bool)
    out[candidates[exact]] = True
    return out


def _duplicates(f: _Frame) -> None:
    key = f.schema.key
    if not key or f.n == 0 or not all(f.has(c) for c in key if f.schema.column(c).level is Level.R):
        return
    dup = _duplicated(pa.table({c: f.col(c) for c in key}))
    for c in key:
        if f.schema.column(c).level is Level.R:
            dup &= f.valid(c)
    shown = " + ".join(key)
    f.add(
        "GEN-KEY-001",
        key[-1],
        dup,
        f"another row has the same key ({shown}); every row sharing it is rejected, keep one",
        involved=key,
    )


# --------------------------------------------------------------------------------------------
# positions
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Companions:
    """Clean companion data the positions rules refer to (None = table absent)."""

    counterparty_ids: pa.Array | None = None
    counterparty_read_ids: pa.Array | None = None
    rate_index_codes: pa.Array | None = None
    schedule_present: bool = False
    schedule_ids: pa.Array | None = None
    principal_ids: pa.Array | None = None
    principal_sums: FloatArray | None = None
    #: usable fixings: ``code``, ``fixing_day`` (day number), ``fixing``, sorted by day
    fixings: pl.DataFrame | None = None
    #: ``fixing_lag_days`` of the usable rate_indices rows that give one
    index_lags: dict[str, float] = field(default_factory=dict)


def _side_message(row: Mapping[str, Any]) -> str:
    allowed = INSTRUMENT_SIDES.get(row["instrument_type"], ())
    return (
        f"side {row['value']!r} is not allowed for instrument_type {row['instrument_type']!r}; "
        f"allowed: {', '.join(allowed)} (positions.md 4.1)"
    )


def _positions_rules(f: _Frame, as_of: dt.date, comp: _Companions, warnings: list[str]) -> None:
    as_of_day = _day_number(as_of)
    inst = "instrument_type"
    # 4.1: side and balance-sheet status by instrument type
    allowed_pair = f.zeros
    if f.has(inst) and f.has("side"):
        inst_idx, inst_values = f.codes(inst)
        side_idx, side_values = f.codes("side")
        table = np.zeros((len(inst_values) + 1, len(side_values) + 1), dtype=bool)
        for i, t in enumerate(inst_values):
            for j, side in enumerate(side_values):
                table[i, j] = side in INSTRUMENT_SIDES.get(t, ())
        allowed_pair = table[inst_idx, side_idx]
    both = f.valid(inst) & f.valid("side")
    f.add("POS-SIDE-001", "side", both & ~allowed_pair, _side_message, involved=(inst,), detail=(inst,))
    off = f.isin(inst, OFF_BALANCE_INSTRUMENTS)
    obs_valid = f.valid("on_balance_sheet") & f.valid(inst)
    f.add(
        "POS-SIDE-002",
        "on_balance_sheet",
        obs_valid & (f.true("on_balance_sheet") == off),
        "on_balance_sheet {value} contradicts instrument_type {instrument_type!r}: commitments, guarantees, "
        "letters of credit, acceptances and derivative legs are off-balance, all others on-balance",
        involved=(inst,),
    )

    # 2.2 / section 10 rule 3: amounts
    balance = f.num("principal_balance")
    accrued = f.num("accrued_interest")
    rate = f.num("current_rate")
    f.add(
        "POS-AMT-001",
        "accrued_interest",
        (accrued < 0) & ~(rate < 0),
        "accrued_interest {value} is negative but current_rate {current_rate!r} is not negative (§2.2)",
        involved=("current_rate",),
    )
    for rule_id, name in (
        ("POS-AMT-002", "overdue_principal"),
        ("POS-AMT-003", "encumbered_amount"),
        ("POS-AMT-003", "insured_amount"),
        ("POS-AMT-003", "operational_excess_amount"),
    ):
        f.add(
            rule_id,
            name,
            f.num(name) > balance,
            f"{name} {{value}} exceeds principal_balance {{principal_balance}}",
            involved=("principal_balance",),
        )
    f.add(
        "POS-AMT-004",
        "undrawn_amount",
        f.num("undrawn_amount") > f.num("limit_amount"),
        "undrawn_amount {value} exceeds limit_amount {limit_amount}",
        involved=("limit_amount",),
    )

    # 3.D / rule 4: dates
    maturity = f.num("maturity_date")
    f.add(
        "POS-DATE-001",
        "origination_date",
        f.num("origination_date") > maturity,
        "origination_date {value} is after maturity_date {maturity_date}",
        involved=("maturity_date",),
    )
    matured = maturity < as_of_day
    for name in ("next_interest_payment_date", "next_principal_payment_date", "next_reset_date"):
        day = f.num(name)
        f.add(
            "POS-DATE-002",
            name,
            (day <= as_of_day) & ~matured,
            f"{name} {{value}} is not after the as-of {as_of.isoformat()}",
            involved=("maturity_date",),
        )
        f.add(
            "POS-DATE-003",
            name,
            day > maturity,
            f"{name} {{value}} is after maturity_date {{maturity_date}}",
            involved=("maturity_date",),
        )
    f.add(
        "POS-DATE-004",
        "last_interest_payment_date",
        f.num("last_interest_payment_date") > as_of_day,
        f"last_interest_payment_date {{value}} is after the as-of {as_of.isoformat()}",
    )
    overdue = np.nan_to_num(f.num("overdue_principal"), nan=0.0)
    f.add(
        "POS-DATE-005",
        "maturity_date",
        matured & f.valid("principal_balance") & ~(overdue >= balance),
        f"maturity_date {{value}} is before the as-of {as_of.isoformat()} but overdue_principal "
        "{overdue_principal!r} is not the whole principal_balance {principal_balance}; a matured row must "
        "be fully overdue",
        involved=("overdue_principal", "principal_balance"),
    )

    _conditional_rules(f)
    _position_links(f, comp, warnings)
    _rate_fixing_rule(f, as_of, comp, warnings)
    _position_warnings(f)


def _require(f: _Frame, rule_id: str, column: str, condition: BoolMask, why: str, involved: Sequence[str]) -> None:
    sentinel = " (a sentinel date such as 99991231 means none)" if column.endswith("_date") else ""
    f.add(
        rule_id,
        column,
        condition & f.missing(column),
        f"{column} is required for {why} and is empty{sentinel}",
        involved=involved,
        applies=condition,
    )


def _conditional_rules(f: _Frame) -> None:
    inst = "instrument_type"
    nm = f.eq("amortisation_type", "non_maturity")
    dated = f.isin(inst, DATED_INSTRUMENTS) & ~nm
    dated_inv = (inst, "amortisation_type")
    for name in ("maturity_date", "origination_date"):
        _require(f, "POS-COND-001", name, dated, "{instrument_type} rows (unless amortisation_type is non_maturity)",
                 dated_inv)  # fmt: skip
    issued = f.eq(inst, "debt_security") & f.eq("side", "liability")
    needs_cpty = f.valid(inst) & ~f.isin(inst, _NO_COUNTERPARTY) & ~issued
    _require(f, "POS-COND-002", "counterparty_id", needs_cpty, "{instrument_type} rows", (inst, "side"))

    rate_type = "rate_type"
    bearing = f.valid(rate_type) & ~f.eq(rate_type, "non_interest_bearing")
    for name in ("current_rate", "day_count"):
        _require(f, "POS-COND-003", name, bearing, "interest-bearing rows (rate_type {rate_type})", (rate_type,))
    # a non-maturity row has no contractual interest schedule (its run-off profile pays the interest)
    scheduled = bearing & ~f.eq("amortisation_type", "non_maturity")
    _require(
        f,
        "POS-COND-003",
        "interest_payment_frequency",
        scheduled,
        "interest-bearing rows with a schedule (rate_type {rate_type}, amortisation_type {amortisation_type})",
        (rate_type, "amortisation_type"),
    )
    floating = f.eq(rate_type, "floating")
    hybrid = f.eq(rate_type, "hybrid")
    hybrid_indexed = hybrid & f.valid("rate_index")
    _require(f, "POS-COND-004", "rate_index", floating, "floating rows", (rate_type,))
    for name in ("spread", "reset_frequency", "next_reset_date"):
        _require(f, "POS-COND-004", name, floating, "floating rows", (rate_type,))
        _require(f, "POS-COND-004", name, hybrid_indexed, "hybrid rows with a rate_index", (rate_type, "rate_index"))
    f.add(
        "POS-COND-004",
        "rate_index",
        hybrid & f.missing("rate_index") & f.missing("reversion_rate"),
        "hybrid rows need rate_index (floating after initial_rate_end_date) or reversion_rate; both are empty",
        involved=(rate_type, "reversion_rate"),
        applies=hybrid,
    )
    _require(
        f,
        "POS-COND-005",
        "principal_payment_frequency",
        f.isin("amortisation_type", _AMORTISING),
        "amortisation_type {amortisation_type}",
        ("amortisation_type",),
    )
    _require(f, "POS-COND-006", "notice_period_days", f.eq(inst, "deposit_notice"), "deposit_notice rows", (inst,))
    calls = f.valid("call_type") & ~f.eq("call_type", "none")
    _require(f, "POS-COND-007", "next_call_date", calls, "call_type {call_type}", ("call_type",))
    _require(f, "POS-COND-008", "undrawn_amount", f.eq(inst, "loan_commitment"), "loan_commitment rows", (inst,))
    legs = f.eq(inst, "derivative_leg")
    for name in ("deal_id", "derivative_type", "notional_exchange"):
        _require(f, "POS-COND-009", name, legs, "derivative legs", (inst,))
    _require(
        f,
        "POS-COND-009",
        "strike",
        legs & f.isin("derivative_type", _OPTION_DERIVATIVES),
        "derivative_type {derivative_type}",
        (inst, "derivative_type"),
    )


def _position_links(f: _Frame, comp: _Companions, warnings: list[str]) -> None:
    name = f.parsed.schema.name
    # foreign keys to companion tables
    if comp.counterparty_ids is None:
        if f.has("counterparty_id") and f.valid("counterparty_id").any():
            warnings.append(f"{name}: no counterparties table; counterparty_id not checked")
    else:
        known = _to_bool(pc.is_in(f.col("counterparty_id"), value_set=comp.counterparty_ids))
        read = comp.counterparty_read_ids if comp.counterparty_read_ids is not None else comp.counterparty_ids
        was_read = _to_bool(pc.is_in(f.col("counterparty_id"), value_set=read))
        given = f.valid("counterparty_id")
        unknown = given & ~known
        f.add(
            "POS-FK-001",
            "counterparty_id",
            unknown & ~was_read,
            "counterparty_id {value!r} is not in the counterparties table",
            applies=given,
        )
        f.add(
            "POS-FK-001",
            "counterparty_id",
            unknown & was_read,
            "counterparty_id {value!r}: its counterparties row was rejected (see that table's rejects)",
            applies=given,
        )
    if comp.rate_index_codes is None:
        if f.has("rate_index") and f.valid("rate_index").any():
            warnings.append(f"{name}: no rate_indices table; rate_index not checked")
    else:
        known = _to_bool(pc.is_in(f.col("rate_index"), value_set=comp.rate_index_codes))
        f.add(
            "POS-FK-002",
            "rate_index",
            f.valid("rate_index") & ~known,
            "rate_index {value!r} is not among the usable rows of rate_indices",
            applies=f.valid("rate_index"),
        )

    # amortisation_type = schedule needs cash_flow_schedule rows summing to the balance (5.6)
    scheduled = f.eq("amortisation_type", "schedule")
    if scheduled.any():
        if comp.schedule_ids is None:
            has_rows = f.zeros
        else:
            has_rows = _to_bool(pc.is_in(f.col("position_id"), value_set=comp.schedule_ids))
        f.add(
            "POS-SCHED-001",
            "amortisation_type",
            scheduled & ~has_rows,
            "amortisation_type schedule needs rows in cash_flow_schedule for this position_id; none usable"
            + ("" if comp.schedule_present else " (no cash_flow_schedule table)"),
            involved=("position_id",),
            applies=scheduled,
        )
        if comp.principal_ids is not None and comp.principal_sums is not None:
            index = pc.index_in(f.col("position_id"), value_set=comp.principal_ids)
            idx = pc.fill_null(index, -1)
            idx_np = np.asarray(
                (idx.combine_chunks() if isinstance(idx, pa.ChunkedArray) else idx).to_numpy(zero_copy_only=False)
            )
            sums = np.where(idx_np >= 0, comp.principal_sums[np.clip(idx_np, 0, None)], 0.0)
            expected = f.num("principal_balance") - np.nan_to_num(f.num("overdue_principal"), nan=0.0)
            abs_tol, rel_tol = SCHEDULE_TOLERANCE
            off = np.abs(sums - expected) > abs_tol + rel_tol * np.abs(expected)
            f.add(
                "POS-SCHED-002",
                "amortisation_type",
                scheduled & has_rows & off,
                "future principal flows in cash_flow_schedule sum to {scheduled:.2f}, expected "
                "principal_balance - overdue_principal = {expected:.2f}",
                involved=("principal_balance", "overdue_principal", "position_id"),
                computed={"scheduled": sums, "expected": expected},
                applies=scheduled & has_rows,
            )

    # section 10 rule 1: a swap / forward deal has at least two legs
    legs = f.eq("instrument_type", "derivative_leg") & f.isin("derivative_type", _TWO_LEG_DERIVATIVES)
    if legs.any() and f.has("deal_id"):
        frame = pl.from_arrow(
            pa.table({"e": f.col("reporting_entity_id"), "d": f.col("deal_id"), "leg": pa.array(legs)})
        )
        assert isinstance(frame, pl.DataFrame)
        counts = frame.select(pl.col("leg").cast(pl.Int64).sum().over(["e", "d"])).to_series().to_numpy()
        f.add(
            "POS-DEAL-001",
            "deal_id",
            legs & f.valid("deal_id") & (np.asarray(counts) < 2),
            "deal_id {value!r} has one leg only; a {derivative_type} deal needs two legs (one per side)",
            involved=("derivative_type", "reporting_entity_id"),
            applies=legs,
        )


# --------------------------------------------------------------------------------------------
# section 10 rule 8: current_rate of floaters against the last index fixing
# --------------------------------------------------------------------------------------------

_TENOR_UNITS: Final = {"D": (0, 1), "W": (0, 7), "M": (1, 0), "Y": (12, 0)}


def _tenor_steps(codes: list[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(months, days) of each tenor code, (0, 0) when it is not ``<n><D|W|M|Y>``; one more slot for null."""
    months = np.zeros(len(codes) + 1, dtype=np.int64)
    days = np.zeros(len(codes) + 1, dtype=np.int64)
    for k, code in enumerate(codes):
        text = str(code)
        if len(text) >= 2 and text[:-1].isdigit() and text[-1] in _TENOR_UNITS:
            m, d = _TENOR_UNITS[text[-1]]
            months[k], days[k] = int(text[:-1]) * m, int(text[:-1]) * d
    return months, days


def _minus_months(days: npt.NDArray[np.int64], months: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Day numbers ``months`` calendar months earlier, the day of month clipped to the month's end."""
    day = days.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    dom = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month - months.astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    out = target.astype("datetime64[D]") + np.minimum(dom, length - 1).astype("timedelta64[D]")
    return out.astype(np.int64)


def _rate_fixing_rule(f: _Frame, as_of: dt.date, comp: _Companions, warnings: list[str]) -> None:
    """``current_rate`` of single-fixing floaters vs ``clamp(multiplier x fixing + spread, floor, cap)``."""
    floating = f.eq("rate_type", "floating") & f.valid("rate_index") & f.valid("current_rate") & f.valid("spread")
    averaged = f.isin("rate_averaging", ("compounded_in_arrears", "simple_average"))
    periodic = f.valid("periodic_cap") | f.valid("periodic_floor")
    candidates = floating & ~averaged & ~periodic
    if not candidates.any():
        return
    if comp.fixings is None:
        warnings.append(f"{f.schema.name}: no index_fixings table; current_rate of floaters not checked (10 rule 8)")
        return
    idx = np.flatnonzero(candidates)
    # the last reset: given, else next_reset_date rolled back by reset_frequency (not before origination)
    last = f.num("last_reset_date")[idx]
    next_reset = f.num("next_reset_date")[idx]
    codes, values = f.codes("reset_frequency")
    step_m, step_d = _tenor_steps(values)
    months, days = step_m[codes[idx]], step_d[codes[idx]]
    rollable = np.isnan(last) & ~np.isnan(next_reset) & ((months > 0) | (days > 0))
    if rollable.any():
        nxt = next_reset[rollable].astype(np.int64)
        rolled = _minus_months(nxt, months[rollable]) - days[rollable]
        origination = f.num("origination_date")[idx][rollable]
        last[rollable] = np.where(np.isnan(origination), rolled, np.fmax(rolled, origination))
    lag = f.num("reset_lag_days")[idx]
    code_idx, code_values = f.codes("rate_index")
    codes_of = code_idx[idx]
    if comp.index_lags:
        default_lags = np.array([comp.index_lags.get(c, np.nan) for c in code_values] + [np.nan])
        lag = np.where(np.isnan(lag), default_lags[codes_of], lag)
    fixing_day = np.fmin(last - np.nan_to_num(lag, nan=0.0), float(_day_number(as_of)))
    known = ~np.isnan(fixing_day)
    if not known.any():
        return
    # latest usable fixing on or before the fixing day, per index (codes as the positions' dictionary)
    fix_code = pc.index_in(pa.array(comp.fixings.get_column("code").to_arrow()), value_set=pa.array(code_values))
    fix_idx = np.asarray(pc.fill_null(fix_code, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    fixings = comp.fixings.with_columns(pl.Series("c", fix_idx))
    fixings = fixings.filter(pl.col("c") >= 0).select("c", "fixing_day", "fixing")
    left = pl.DataFrame({"i": idx[known], "c": codes_of[known], "day": fixing_day[known].astype(np.int64)})
    joined = left.sort("day").join_asof(
        fixings, left_on="day", right_on="fixing_day", by="c", strategy="backward", check_sortedness=False
    )
    joined = joined.filter(pl.col("fixing").is_not_null())
    if joined.height == 0:
        return
    rows = np.asarray(joined.get_column("i").to_numpy(), dtype=np.int64)
    fixing = np.full(f.n, np.nan)
    fixing[rows] = joined.get_column("fixing").to_numpy()
    fixed_on = np.full(f.n, np.nan)
    fixed_on[rows] = joined.get_column("fixing_day").to_numpy()
    multiplier = np.where(f.valid("rate_multiplier"), f.num("rate_multiplier"), 1.0)
    expected = multiplier * fixing + f.num("spread")
    expected = np.where(f.valid("rate_floor"), np.fmax(expected, f.num("rate_floor")), expected)
    expected = np.where(f.valid("rate_cap"), np.fmin(expected, f.num("rate_cap")), expected)
    tolerance = rule_catalogue()["POS-RATE-001"].params["tolerance"]
    applies = f.zeros.copy()
    applies[rows] = True
    off = applies & (np.abs(f.num("current_rate") - expected) > tolerance + 1e-12)

    def message(row: Mapping[str, Any]) -> str:
        day = _EPOCH + dt.timedelta(days=int(row["fixed_on"]))
        return (
            f"current_rate {row['value']} differs from rate_multiplier x fixing + spread = {row['expected']:.6f} "
            f"by more than {tolerance:g} ({row['rate_index']} fixing {row['fixing']:.6f} of {day.isoformat()}, "
            f"spread {row['spread']})"
        )

    f.add(
        "POS-RATE-001",
        "current_rate",
        off,
        message,
        involved=("rate_index", "spread", "rate_multiplier", "rate_floor", "rate_cap", "reset_frequency",
                  "next_reset_date", "last_reset_date", "reset_lag_days", "origination_date"),
        detail=("rate_index", "spread"),
        computed={"expected": expected, "fixing": fixing, "fixed_on": fixed_on},
        applies=applies,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# warning rules: columns feeding some reports only, codes outside starter lists
# --------------------------------------------------------------------------------------------


def _report_field(f: _Frame, rule_id: str, column: str, condition: BoolMask, why: str, use: str) -> None:
    f.add(
        rule_id,
        column,
        condition & f.missing(column),
        f"{column} is empty; expected for {why} (used by {use})",
        applies=condition,
        summary=f"{f.schema.name}: {{count}} row(s) lack {column} (expected for {why}; used by {use})",
    )


def _position_warnings(f: _Frame) -> None:
    inst = "instrument_type"
    _report_field(f, "POS-RPT-001", "gl_account", f.true("on_balance_sheet"), "on-balance rows", "GL reconciliation")
    securities = f.isin(inst, ("debt_security", "equity_investment", "fund_investment"))
    _report_field(f, "POS-RPT-002", "accounting_classification", securities, "securities", "reconciliation, capital")
    _report_field(f, "POS-RPT-003", "security_id", securities, "securities", "LCR")
    encumbered = f.num("encumbered_amount") > 0
    for name in ("encumbrance_type", "encumbrance_end_date"):
        _report_field(f, "POS-RPT-004", name, encumbered, "encumbered_amount > 0", "LCR, NSFR")
    repos = f.isin(inst, ("repo", "reverse_repo"))
    for name in ("collateral_security_id", "collateral_market_value", "collateral_hqla_level"):
        _report_field(f, "POS-RPT-005", name, repos, "repo / reverse_repo", "LCR, NSFR")
    _report_field(
        f,
        "POS-RPT-006",
        "unconditionally_cancellable",
        f.isin(inst, ("loan_commitment", "revolving_credit")),
        "loan_commitment / revolving_credit",
        "capital, LCR",
    )
    mortgage = f.eq("credit_support_type", "mortgage")
    for name in ("ltv", "property_type"):
        _report_field(f, "POS-RPT-007", name, mortgage, "real-estate-secured loans", "capital, NSFR")
    if f.has("product_subtype"):
        sub = f.col("product_subtype")
        given = f.valid("product_subtype")
        outside = given & ~_to_bool(pc.is_in(sub, value_set=pa.array(PRODUCT_SUBTYPES)))
        examples = ""
        if outside.any():
            codes = pc.unique(pc.filter(sub, pa.array(outside))).to_pylist()[:5]
            examples = ", ".join(map(str, codes)).replace("{", "{{").replace("}", "}}")
        f.add(
            "POS-CODE-001",
            "product_subtype",
            outside,
            "product_subtype {value!r} is outside the positions.md 4.2 starter list; accepted, check the product "
            "mapping",
            applies=given,
            summary=f"{f.schema.name}: {{count}} row(s) use product_subtype codes outside the positions.md 4.2 "
            f"starter list (e.g. {examples}); accepted, check the product mapping",
        )


# --------------------------------------------------------------------------------------------
# companion tables
# --------------------------------------------------------------------------------------------


def _counterparty_rules(f: _Frame) -> None:
    ctype = "counterparty_type"
    _report_field(
        f,
        "CPTY-RPT-001",
        "fi_subtype",
        f.isin(ctype, FINANCIAL_COUNTERPARTY_TYPES),
        "financial counterparties",
        "Chinese interbank ratios",
    )
    _report_field(
        f,
        "CPTY-RPT-002",
        "enterprise_size",
        f.isin(ctype, ("non_financial_corporate", "small_business")) & f.eq("country_of_residence", "CN"),
        "corporates of CN entities",
        "capital, LCR",
    )
    given = f.valid("annual_turnover") | f.valid("total_assets")
    _report_field(f, "CPTY-RPT-003", "financials_currency", given, "rows with turnover or assets", "capital")


def _curve_rules(f: _Frame) -> None:
    value = f.num("value")
    df = f.eq("curve_type", "discount_factor")
    f.add(
        "CRV-RNG-001",
        "value",
        df & f.valid("value") & ~(value > 0),
        "discount factor {value} must be > 0",
        involved=("curve_type",),
        applies=df,
    )
    rate_curve = f.isin("curve_type", _RATE_CURVE_TYPES)
    f.add(
        "CRV-RATE-001",
        "value",
        rate_curve & ((value < _RATE_LO) | (value > _RATE_HI)),
        _PERCENT_MESSAGE,
        involved=("curve_type",),
        applies=rate_curve,
    )
    for name in ("compounding", "day_count"):
        f.add(
            "CRV-DEF-001",
            name,
            rate_curve & f.missing(name),
            f"{name} is empty; expected for rate curves (the market layer applies its default)",
            applies=rate_curve,
            summary=f"{f.schema.name}: {{count}} row(s) lack {name} (expected for rate curves; used by the market "
            "layer (default applies))",
        )


def _fx_rules(f: _Frame) -> None:
    f.add("FX-RNG-001", "rate", ~(f.num("rate") > 0) & f.valid("rate"), "fx rate {value} must be > 0")
    same = _to_bool(pc.equal(f.col("base_currency"), f.col("quote_currency")))
    f.add(
        "FX-RNG-002",
        "quote_currency",
        same,
        "quote_currency {value} equals base_currency",
        involved=("base_currency",),
    )


def _gl_map_rules(f: _Frame) -> None:
    f.add("GLM-RNG-001", "sign", f.num("sign") == 0, "sign must be +1 (debit-normal) or -1 (credit-normal)")


def _flow_date_rule(f: _Frame, as_of: dt.date) -> None:
    f.add(
        "SCH-DATE-001",
        "flow_date",
        f.num("flow_date") <= _day_number(as_of),
        f"flow_date {{value}} is not after the as-of {as_of.isoformat()}; past-due amounts belong in "
        "overdue_* on the position",
    )


def _schedule_links(f: _Frame, all_ids: pa.Array, used_ids: pa.Array) -> None:
    pid = f.col("position_id")
    read = _to_bool(pc.is_in(pid, value_set=all_ids))
    used = _to_bool(pc.is_in(pid, value_set=used_ids))
    valid = f.valid("position_id")
    f.add("SCH-LINK-001", "position_id", valid & ~read, "position_id {value!r} is not in positions")
    f.add(
        "SCH-LINK-002",
        "position_id",
        valid & read & ~used,
        "position_id {value!r}: its positions row was rejected, so its schedule cannot be used",
    )


# --------------------------------------------------------------------------------------------
# orchestration
# --------------------------------------------------------------------------------------------


def _rejected(f: _Frame) -> BoolMask:
    """Rows with at least one error finding."""
    out = f.zeros.copy()
    for finding in f.findings:
        if finding.severity == "error":
            out |= finding.mask
    return out


def _flagged(f: _Frame, rejected: BoolMask) -> BoolMask:
    """Used rows with at least one warning finding."""
    out = f.zeros.copy()
    for finding in f.findings:
        if finding.severity == "warning":
            out |= finding.mask
    return out & ~rejected


def _full_table(parsed: ParsedTable) -> pa.Table:
    """Every row with every contract column in its loaded type (absent ones all-null) and ``source_row``."""
    columns = {c.name: column_or_nulls(parsed, c.name) for c in parsed.schema.columns}
    columns[SOURCE_ROW] = parsed.data.column(SOURCE_ROW)
    return pa.table(columns)


def _bank_rules(f: _Frame, rules: Sequence[BankRule]) -> None:
    """Findings of the bank-defined rules of this table (one DuckDB query per rule)."""
    found = bank_rule_rows(rules, _full_table(f.parsed))
    key = f.schema.key
    for rule, rows in zip(rules, found, strict=True):
        f.check(rule.id)
        if len(rows) == 0:
            continue
        mask = f.zeros.copy()
        mask[rows] = True
        column = rule.column or (key[-1] if key else f.schema.columns[0].name)
        message = rule.message_en.replace("{", "{{").replace("}", "}}") + f" [{rule.id}]"
        f.findings.append(Finding(column, BANK_RULE_REASON, mask, message, rule_id=rule.id, severity=rule.severity))


def _fixings(parsed: ParsedTable, rejected: BoolMask) -> pl.DataFrame:
    """Usable fixings as ``code``, ``fixing_day``, ``fixing``, sorted by day (for as-of joins)."""
    day = pc.cast(pc.cast(column_or_nulls(parsed, "fixing_date"), pa.int32()), pa.int64())
    table = pa.table(
        {
            "code": pc.cast(column_or_nulls(parsed, "index_code"), pa.string()),
            "fixing_day": day,
            "fixing": pc.cast(column_or_nulls(parsed, "value"), pa.float64()),
        }
    )
    if rejected.any():
        table = table.filter(pa.array(~rejected))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.drop_nulls().sort("fixing_day")


def _index_lags(parsed: ParsedTable, rejected: BoolMask) -> dict[str, float]:
    table = pa.table({"c": column_or_nulls(parsed, "index_code"), "l": column_or_nulls(parsed, "fixing_lag_days")})
    table = table.filter(pa.array(~rejected)) if rejected.any() else table
    return {
        c: float(n) for c, n in zip(table["c"].to_pylist(), table["l"].to_pylist(), strict=True) if c and n is not None
    }


def _clean_ids(parsed: ParsedTable, rejected: BoolMask, column: str) -> pa.Array:
    values = column_or_nulls(parsed, column)
    kept = pc.filter(values, pa.array(~rejected)) if rejected.any() else values
    if isinstance(kept, pa.ChunkedArray):
        kept = kept.combine_chunks() if kept.num_chunks else pa.array([], pa.string())
    return pc.unique(pc.drop_null(kept)).cast(pa.string())


def validate_tables(
    parsed: Mapping[str, ParsedTable],
    as_of: dt.date,
    *,
    strict: bool = False,
    dq: DataQualityConfig | None = None,
) -> ValidationResult:
    """Apply every data-quality rule to the parsed tables of a snapshot.

    Parameters
    ----------
    parsed:
        Parsed tables by contract name; ``positions`` is required.
    as_of:
        The run's as-of date.
    strict:
        Raise on the first reject instead of quarantining rows (warnings never raise).
    dq:
        The ``data_quality`` settings (:class:`openalm.config.DataQualitySettings`): severity
        overrides and bank-defined rules; None for the catalogue defaults.

    Returns
    -------
    ValidationResult
        Per table: findings, rejected and flagged masks, rows checked per rule; all rejects sorted
        by table and row; the flags table; one row per rule evaluated; warnings.

    Raises
    ------
    DataError
        ``strict`` and some row is rejected (naming file, row, column and value of the first).
    ConfigError
        ``dq`` overrides an unknown or non-adjustable rule, or a bank rule's condition fails.
    """
    if "positions" not in parsed:
        raise DataError("no positions table given; it is required")
    severities: dict[str, Severity] = severities_for(dq)
    bank: dict[str, list[BankRule]] = {}
    for rule in dq.rules if dq is not None else ():
        bank.setdefault(rule.table, []).append(rule)
        severities[rule.id] = rule.severity
    warnings: list[str] = []
    for p in parsed.values():
        warnings.extend(p.notes)
        if p.extra_columns:
            shown = ", ".join(p.extra_columns[:10]) + (" ..." if len(p.extra_columns) > 10 else "")
            warnings.append(
                f"{Path(p.file).name}: {len(p.extra_columns)} column(s) not in the {p.schema.name} contract "
                f"ignored: {shown}"
            )
    for name in bank:
        if name not in parsed:
            warnings.append(f"{name}: no {name} table; bank rule(s) {', '.join(r.id for r in bank[name])} not checked")
    frames = {name: _Frame(p, severities) for name, p in parsed.items()}
    results: dict[str, TableResult] = {}

    def finish(name: str) -> TableResult:
        frame = frames[name]
        if name in bank:
            _bank_rules(frame, bank[name])
        rejected = _rejected(frame)
        checked = {rule_id: frame.n if m is None else int(m.sum()) for rule_id, m in frame.checked.items()}
        result = TableResult(frame.parsed, frame.findings, rejected, _flagged(frame, rejected), checked)
        results[name] = result
        return result

    order = [n for n in TABLE_ORDER if n in frames and n not in ("positions", "cash_flow_schedule", "rate_schedule")]
    for name in order:
        frame = frames[name]
        _common_rules(frame, as_of)
        if name == "counterparties":
            _counterparty_rules(frame)
        elif name == "curves":
            _curve_rules(frame)
        elif name == "fx_rates":
            _fx_rules(frame)
        elif name == "gl_account_map":
            _gl_map_rules(frame)
        elif name == "index_fixings" and "rate_indices" in results:
            codes = _clean_ids(parsed["rate_indices"], results["rate_indices"].rejected, "index_code")
            known = _to_bool(pc.is_in(frame.col("index_code"), value_set=codes))
            frame.add(
                "FIX-FK-001",
                "index_code",
                frame.valid("index_code") & ~known,
                "index_code {value!r} is not among the usable rows of rate_indices",
            )
        finish(name)

    comp = _Companions()
    if "counterparties" in results:
        cp = results["counterparties"]
        comp.counterparty_ids = _clean_ids(cp.parsed, cp.rejected, "counterparty_id")
        comp.counterparty_read_ids = _clean_ids(cp.parsed, np.zeros(cp.parsed.num_rows, bool), "counterparty_id")
    if "rate_indices" in results:
        ri = results["rate_indices"]
        comp.rate_index_codes = _clean_ids(ri.parsed, ri.rejected, "index_code")
        comp.index_lags = _index_lags(ri.parsed, ri.rejected)
    if "index_fixings" in results:
        fx = results["index_fixings"]
        comp.fixings = _fixings(fx.parsed, fx.rejected)
    for name in ("cash_flow_schedule", "rate_schedule"):
        if name in frames:
            _common_rules(frames[name], as_of)
    if "cash_flow_schedule" in frames:
        _flow_date_rule(frames["cash_flow_schedule"], as_of)
    if "cash_flow_schedule" in frames:
        sched = frames["cash_flow_schedule"]
        prelim = _rejected(sched)
        comp.schedule_present = True
        comp.schedule_ids = _clean_ids(sched.parsed, prelim, "position_id")
        keep = ~prelim & sched.eq("flow_type", "principal")
        table = pa.table({"p": sched.col("position_id"), "a": sched.col("amount")}).filter(pa.array(keep))
        flows = pl.from_arrow(table)
        assert isinstance(flows, pl.DataFrame)
        sums = flows.group_by("p").agg(pl.col("a").sum())
        comp.principal_ids = sums.get_column("p").to_arrow().cast(pa.string())
        comp.principal_sums = np.asarray(sums.get_column("a").to_numpy(), dtype=np.float64)

    positions = frames["positions"]
    _common_rules(positions, as_of)
    _positions_rules(positions, as_of, comp, warnings)
    pos_result = finish("positions")

    schedules = [n for n in ("cash_flow_schedule", "rate_schedule") if n in frames]
    if schedules:
        all_ids = _clean_ids(positions.parsed, np.zeros(positions.n, bool), "position_id")
        used_ids = _clean_ids(positions.parsed, pos_result.rejected, "position_id")
        for name in schedules:
            _schedule_links(frames[name], all_ids, used_ids)
            finish(name)

    ordered = {n: results[n] for n in TABLE_ORDER if n in results}
    rejects = _rejects(ordered)
    warnings.extend(_warning_summaries(ordered))
    bank_rules = list(dq.rules) if dq is not None else []
    result = ValidationResult(
        as_of, ordered, rejects, warnings, _flags(ordered), _rule_results(ordered, severities, bank_rules)
    )
    if strict and rejects:
        first = rejects[0]
        total = sum(r.counts["rejected"] for r in ordered.values())
        raise DataError(
            f"{first.message} [{first.reason}] (strict mode stops at the first rejected row; "
            f"{total} row(s) would be rejected)",
            file=first.file,
            row=first.row,
            column=first.column,
            value=first.value,
        )
    return result


# --------------------------------------------------------------------------------------------
# findings -> rejects, flags, rule results, counted warnings
# --------------------------------------------------------------------------------------------


def _template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name and name != "value"]


def _rejects(results: Mapping[str, TableResult]) -> list[Reject]:
    out: list[tuple[int, int, int, Reject]] = []
    seq = 0
    for t_index, (name, result) in enumerate(results.items()):
        parsed = result.parsed
        file = Path(parsed.file).name
        for rag in getattr(parsed, "ragged", ()):
            reject = Reject(file, rag.row, "", rag.text, "ragged_row", rag.message, "", name, "GEN-FILE-001")
            out.append((t_index, rag.row, seq, reject))
            seq += 1
        if not result.findings:
            continue
        rows = parsed.source_row
        pid_col = parsed.raw.get("position_id")
        for finding in result.findings:
            if finding.severity != "error":
                continue
            idx = np.flatnonzero(finding.mask).astype(np.int64)
            if len(idx) == 0:
                continue
            texts: dict[str, list[str]] = {}
            fields = finding.detail if callable(finding.message) else tuple(_template_fields(finding.message))
            for c in dict.fromkeys((finding.column, *fields)):
                if c in finding.computed:
                    continue
                texts[c] = text_of(parsed.raw[c], idx) if c in parsed.raw else [""] * len(idx)
            pids = text_of(pid_col, idx) if pid_col is not None else [""] * len(idx)
            for k, i in enumerate(idx):
                row: dict[str, Any] = {c: texts[c][k] for c in texts}
                row.update({c: v[i] for c, v in finding.computed.items()})
                row["value"] = texts[finding.column][k]
                message = finding.message(row) if callable(finding.message) else finding.message.format_map(row)
                if finding.hint is not None:
                    message += finding.hint(row["value"])
                reject = Reject(
                    file,
                    int(rows[i]),
                    finding.column,
                    row["value"],
                    finding.reason,
                    message,
                    pids[k],
                    name,
                    finding.rule_id,
                )
                out.append((t_index, int(rows[i]), seq, reject))
                seq += 1
    out.sort(key=lambda item: (item[0], item[1], item[2]))
    return [item[3] for item in out]


def _texts(values: ArrowColumn | None, idx: npt.NDArray[np.int64]) -> pa.Array:
    """Cells ``values[idx]`` as a string array (``""`` for null or an absent column), vectorised."""
    if values is None:
        return pa.array([""] * len(idx), pa.string())
    taken = values.take(pa.array(idx, pa.int64()))
    if isinstance(taken, pa.ChunkedArray):
        taken = taken.combine_chunks()
    if pa.types.is_dictionary(taken.type):
        taken = taken.dictionary_decode()
    if not pa.types.is_string(taken.type):
        try:
            taken = pc.cast(taken, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.array(text_of(values, idx), pa.string())
    return pc.fill_null(taken, "")


def _vectorisable(finding: Finding) -> bool:
    if callable(finding.message) or finding.hint is not None:
        return False
    for _, name, spec, conversion in string.Formatter().parse(finding.message):
        if name is not None and (spec or conversion not in (None, "r") or name in finding.computed):
            return False
    return True


def _render(template: str, texts: Mapping[str, pa.Array], n: int) -> pa.Array:
    """``template.format(...)`` over whole columns of text (fields ``{name}`` and ``{name!r}``)."""
    pieces: list[pa.Array | pa.Scalar] = []
    for literal, name, _, conversion in string.Formatter().parse(template):
        if literal:
            pieces.append(pa.scalar(literal, pa.string()))
        if name is not None:
            values = texts[name]
            if conversion == "r":
                values = pc.binary_join_element_wise(pa.scalar("'"), values, pa.scalar("'"), "")
            pieces.append(values)
    if not pieces:
        return pa.array([""] * n, pa.string())
    if all(isinstance(p, pa.Scalar) for p in pieces):
        return pa.array(["".join(str(p.as_py()) for p in pieces)] * n, pa.string())
    return pc.binary_join_element_wise(*pieces, "")


def _flag_messages(finding: Finding, parsed: ParsedTable, idx: npt.NDArray[np.int64]) -> pa.Array:
    if _vectorisable(finding):
        assert isinstance(finding.message, str)
        texts = {
            c: _texts(parsed.raw.get(c), idx)
            for c in dict.fromkeys((finding.column, *_template_fields(finding.message)))
        }
        texts["value"] = texts[finding.column]
        return _render(finding.message, texts, len(idx))
    fields = finding.detail if callable(finding.message) else tuple(_template_fields(finding.message))
    columns = {c: _texts(parsed.raw.get(c), idx).to_pylist() for c in dict.fromkeys((finding.column, *fields))
               if c not in finding.computed}  # fmt: skip
    out: list[str] = []
    for k, i in enumerate(idx):
        row: dict[str, Any] = {c: v[k] for c, v in columns.items()}
        row.update({c: v[i] for c, v in finding.computed.items()})
        row["value"] = columns[finding.column][k]
        message = finding.message(row) if callable(finding.message) else finding.message.format_map(row)
        out.append(message + (finding.hint(row["value"]) if finding.hint is not None else ""))
    return pa.array(out, pa.string())


def _flags(results: Mapping[str, TableResult]) -> pa.Table:
    """Every warning finding's rows as a flags table, sorted by table, row, then rule order."""
    parts: list[pa.Table] = []
    seq = 0
    for t_index, (name, result) in enumerate(results.items()):
        parsed = result.parsed
        file = Path(parsed.file).name
        for finding in result.findings:
            if finding.severity != "warning":
                continue
            idx = np.flatnonzero(finding.mask).astype(np.int64)
            n = len(idx)
            if n == 0:
                continue
            values = _texts(parsed.raw.get(finding.column), idx)
            part = pa.table(
                {
                    "table": pa.array([name] * n, pa.string()),
                    "file": pa.array([file] * n, pa.string()),
                    "row": pa.array(parsed.source_row[idx], pa.int64()),
                    "position_id": _texts(parsed.raw.get("position_id"), idx),
                    "rule_id": pa.array([finding.rule_id] * n, pa.string()),
                    "severity": pa.array([finding.severity] * n, pa.string()),
                    "column": pa.array([finding.column] * n, pa.string()),
                    "value": values,
                    "message": _flag_messages(finding, parsed, idx),
                    "_t": pa.array(np.full(n, t_index, dtype=np.int64)),
                    "_seq": pa.array(np.full(n, seq, dtype=np.int64)),
                }
            )
            parts.append(part)
            seq += 1
    if not parts:
        return empty_flags()
    table = pa.concat_tables(parts).sort_by([("_t", "ascending"), ("row", "ascending"), ("_seq", "ascending")])
    return table.select(list(FLAG_SCHEMA.names)).cast(FLAG_SCHEMA)


def _rule_results(
    results: Mapping[str, TableResult], severities: Mapping[str, Severity], bank: Sequence[BankRule]
) -> pa.Table:
    """One row per (rule, table) evaluated, catalogue order then bank rules, tables in contract order."""
    catalogue = rule_catalogue()
    info = {r.id: (r.reason, r.description_zh, r.description_en) for r in catalogue.values()}
    info.update({r.id: (BANK_RULE_REASON, r.message_zh, r.message_en) for r in bank})
    rank = {rule_id: k for k, rule_id in enumerate(info)}
    rows: dict[str, list[Any]] = {name: [] for name in RULE_RESULT_SCHEMA.names}
    for name, result in results.items():
        failed: dict[str, BoolMask] = {}
        for finding in result.findings:
            prev = failed.get(finding.rule_id)
            failed[finding.rule_id] = finding.mask if prev is None else (prev | finding.mask)
        for rule_id in sorted(result.checked, key=lambda r: rank[r]):
            reason, zh, en = info[rule_id]
            mask = failed.get(rule_id)
            values = (rule_id, name, reason, severities[rule_id], result.checked[rule_id],
                      0 if mask is None else int(mask.sum()), zh, en)  # fmt: skip
            for column, value in zip(RULE_RESULT_SCHEMA.names, values, strict=True):
                rows[column].append(value)
    return pa.table(rows, schema=RULE_RESULT_SCHEMA)


def _warning_summaries(results: Mapping[str, TableResult]) -> list[str]:
    """Counted warnings: the rule's own summary, else one line per warning rule and table."""
    out: list[str] = []
    catalogue = rule_catalogue()
    for name, result in results.items():
        generic: dict[str, BoolMask] = {}
        for finding in result.findings:
            if finding.severity != "warning":
                continue
            if finding.summary is not None:
                out.append(finding.summary)
            else:
                prev = generic.get(finding.rule_id)
                generic[finding.rule_id] = finding.mask if prev is None else (prev | finding.mask)
        for rule_id, mask in generic.items():
            rule = catalogue.get(rule_id)
            what = rule.description_en if rule is not None else "bank-defined rule"
            out.append(f"{name}: {int(mask.sum())} row(s) flagged by {rule_id} ({what}); used, see flags")
    return out


# --------------------------------------------------------------------------------------------
# clean tables
# --------------------------------------------------------------------------------------------


def clean_table(result: TableResult) -> pa.Table:
    """The usable rows of a table: every contract column in its loaded type, plus ``source_row``.

    Columns absent from the file are all-null columns of their type, so the engine can rely on
    every column of the contract being there. Column order: contract order, then ``source_row``.
    """
    parsed = result.parsed
    keep = ~result.rejected
    data = parsed.data
    if result.rejected.any():
        data = data.filter(pa.array(keep))
    n = data.num_rows
    null_by_type: dict[pa.DataType, pa.Array] = {}
    arrays: list[ArrowColumn] = []
    fields: list[pa.Field] = []
    for column in parsed.schema.columns:
        target = column.arrow_type
        if column.name in data.column_names:
            values = data.column(column.name)
            if values.type != target:
                values = pc.cast(values, target)
        else:
            if target not in null_by_type:
                null_by_type[target] = pa.nulls(n, target)
            values = null_by_type[target]
        arrays.append(values)
        fields.append(pa.field(column.name, target))
    arrays.append(data.column(SOURCE_ROW))
    fields.append(pa.field(SOURCE_ROW, pa.int64()))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
