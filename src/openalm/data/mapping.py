"""Source-to-contract mapping as configuration (源系统字段映射).

A bank's core system exports its own column names, codes, rate quote bases, date formats and
sentinel dates. A :class:`SourceMapping` (one YAML file, versioned and exportable) says how each
source extract becomes a contract table of positions.md; :func:`apply_mapping` applies one
:class:`TableMapping` to the raw text columns of an extract (as read by
:func:`openalm.data.loaders.read_raw_csv`) and returns contract-named text columns ready for
:func:`openalm.data.loaders.parse_arrow_table`.

Nothing is changed silently (positions.md 1.7, 2.4, 2.5, 4.3):

* every change the mapping makes is counted in a :class:`Correction` (rule, from, to, rows);
* a source code missing from a declared code table is not passed through: the row gets a
  :class:`~openalm.data.rejects.Reject` ``unmapped_code`` naming the *source* column;
* a rate or amount that is not a number under its declared unit is ``bad_number``, a date not in
  its declared format is ``bad_date``;
* a source column that is neither mapped, nor a contract column, nor listed in ``drop_columns``
  is reported in ``warnings`` (or kept in ``attributes`` when asked).

Rate quote bases (positions.md 2.4: the contract holds annual decimals only). The Chinese
customary conversions are used: 年利率 = 月利率 × 12 and 日利率 = 年利率 / 360, i.e. annual =
monthly ‰ × 12 / 1000 and annual = daily ‱ × 360 / 10000. The 360-day year follows the PBoC rule
for converting quoted rates (《人民币利率管理规定》 1999, and 银发〔2005〕129号 《关于人民币存贷款
计结息问题的通知》: 日利率 = 年利率 / 360 = 月利率 / 30) [verify against the official text]; a source
that converts with 365 days sets ``daily_basis: 365``. This conversion restates a quoted rate as
an annual rate; the contract's ``day_count`` column still governs how interest accrues.

Examples
--------
>>> import pyarrow as pa
>>> tm = TableMapping(rename={"五级分类": "asset_quality_class"},
...                   codes={"asset_quality_class": {"01": "normal", "02": "special_mention"}})
>>> out = apply_mapping(pa.table({"五级分类": ["01", "02", "02"]}), tm, file="loans.csv")
>>> out.table.column("asset_quality_class").to_pylist()
['normal', 'special_mention', 'special_mention']
>>> for correction in out.corrections:
...     print(correction)
asset_quality_class: rename 五级分类 -> asset_quality_class, 3 rows
asset_quality_class: code 02 -> special_mention, 2 rows
asset_quality_class: code 01 -> normal, 1 rows
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from openalm.data._cells import ArrowColumn, Problem, parse_text
from openalm.data.rejects import Reject
from openalm.data.schema import TABLES, LogicalType, TableSchema
from openalm.errors import ConfigError, DataError
from openalm.i18n import Language, label

__all__ = [
    "CORRECTION_RULES",
    "DEFAULT_SENTINEL_DATES",
    "QUOTE_BASIS_FACTORS",
    "Correction",
    "MappedTable",
    "QuoteBasis",
    "SourceMapping",
    "TableMapping",
    "apply_mapping",
    "check_table_mapping",
    "corrections_to_table",
    "dump_mapping",
    "load_mapping",
    "mapping_hash",
]

QuoteBasis = Literal[
    "annual_decimal", "annual_percent", "annual_basis_points", "monthly_permille", "daily_per_ten_thousand"
]
SourceEncoding = Literal["auto", "utf-8", "gbk", "gb18030"]

#: Sentinel "no date" values of core systems (positions.md 2.5); they become null.
DEFAULT_SENTINEL_DATES: Final = (
    "99991231",
    "20991231",
    "19000101",
    "00000000",
    "9999-12-31",
    "2099-12-31",
    "1900-01-01",
)

#: ``quote basis -> (numerator, denominator)``: annual decimal = value × numerator / denominator.
#: ``daily_per_ten_thousand`` uses the mapping's ``daily_basis`` (360 or 365) as numerator.
QUOTE_BASIS_FACTORS: Final[Mapping[str, tuple[int | None, int]]] = {
    "annual_decimal": (1, 1),
    "annual_percent": (1, 100),  # 3.45 (%) -> 0.0345
    "annual_basis_points": (1, 10_000),  # 85 (bp) -> 0.0085
    "monthly_permille": (12, 1_000),  # 月利率 3.75‰ -> 0.045
    "daily_per_ten_thousand": (None, 10_000),  # 日利率 1.25‱ -> 0.045 (360-day year)
}

#: Rules a :class:`Correction` can record, with their meaning.
CORRECTION_RULES: Final[Mapping[str, str]] = {
    "rename": "source column renamed to the contract column",
    "drop_column": "source column ignored as declared in drop_columns",
    "strip_whitespace": "leading/trailing spaces removed from cells",
    "code": "source code translated to the contract code",
    "sentinel": "sentinel date turned into null (no date)",
    "date_format": "date rewritten from the declared format to ISO",
    "quote_basis": "rate converted to an annual decimal",
    "amount_scale": "amount multiplied by the declared power of ten",
    "constant": "column filled with a constant",
    "attributes": "unmapped source column kept in attributes",
}

_NUMBER_RE: Final = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
#: Plain decimals that fit decimal128(38, 18): at most 20 integer and 18 fraction digits.
_PLAIN_DECIMAL_RE: Final = r"^[+-]?([0-9]{1,20}(\.[0-9]{0,18})?|\.[0-9]{1,18})$"
_DECIMAL_SCALE: Final = 18
#: Reason under which a mapping failure is registered as a cell problem for validation (the
#: validation layer's cell reasons; ``unmapped_code`` is reported there as ``unknown_code``).
_CELL_REASON: Final[Mapping[str, str]] = {"unmapped_code": "unknown_code"}
_MAX_SCALE_EXPONENT: Final = 8


# --------------------------------------------------------------------------------------------
# Configuration models
# --------------------------------------------------------------------------------------------


def _as_text(value: Any, where: str) -> str:
    """A YAML scalar as contract text: booleans as true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"{where}: expected text, got {value!r}")


class TableMapping(BaseModel):
    """How one source extract becomes one contract table.

    Parameters
    ----------
    file:
        File name or glob of the extract (e.g. ``LOAN_DTL_*.csv``); informative for loaders.
    encoding:
        ``auto`` (UTF-8 if the bytes decode as UTF-8, else GB18030), ``utf-8``, ``gbk``,
        ``gb18030``.
    delimiter:
        One character separating fields.
    rename:
        ``source column -> contract column``.
    codes:
        ``contract column -> {source code -> contract code}``; a null contract code turns the
        source code into an empty cell (e.g. a "not applicable" code). Source codes are matched
        exactly (quote them in YAML: ``"01"``, not ``01``). A non-empty code not in the table is
        rejected (``unmapped_code``).
    quote_basis:
        ``contract rate column -> quote basis`` (see :data:`QUOTE_BASIS_FACTORS`).
    daily_basis:
        Days per year when converting a daily rate (360, the Chinese convention, or 365).
    date_format:
        Format of every date column: ``auto`` (left to the contract parser: ``YYYY-MM-DD`` or
        ``YYYYMMDD``), ``iso`` or a ``strftime`` pattern such as ``%Y%m%d``. A cell must match
        the pattern exactly (zero-padded), else ``bad_date``.
    date_formats:
        Per-column overrides of ``date_format``.
    sentinel_dates:
        Cell texts meaning "no date" in date columns; they become null (a null ``maturity_date``
        then means non-maturity).
    constants:
        ``contract column -> value`` for columns the extract does not carry (``source_system``).
    amount_scale:
        ``contract amount column -> factor``, a power of ten: ``10000`` for 万元, ``0.01`` for
        fen (minor units). Applied exactly, in decimal.
    drop_columns:
        Source columns deliberately ignored.
    keep_unmapped_in_attributes:
        Put source columns that are neither mapped, contract columns nor dropped into the
        ``attributes`` JSON object (positions only) instead of only warning about them.
    strip_whitespace:
        Remove leading/trailing spaces of every cell first (fixed-width ``CHAR`` exports).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = None
    encoding: SourceEncoding = "auto"
    delimiter: str = ","
    rename: dict[str, str] = Field(default_factory=dict)
    codes: dict[str, dict[str, str | None]] = Field(default_factory=dict)
    quote_basis: dict[str, QuoteBasis] = Field(default_factory=dict)
    daily_basis: Literal[360, 365] = 360
    date_format: str = "auto"
    date_formats: dict[str, str] = Field(default_factory=dict)
    sentinel_dates: tuple[str, ...] = DEFAULT_SENTINEL_DATES
    constants: dict[str, str] = Field(default_factory=dict)
    amount_scale: dict[str, float] = Field(default_factory=dict)
    drop_columns: tuple[str, ...] = ()
    keep_unmapped_in_attributes: bool = False
    strip_whitespace: bool = False

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in '"\r\n':
            raise ValueError(f"delimiter must be one character other than a quote or line break, got {value!r}")
        return value

    @field_validator("codes", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for column, table in value.items():
            if not isinstance(table, dict):
                out[column] = table
                continue
            converted: dict[str, str | None] = {}
            for source, target in table.items():
                if not isinstance(source, str):
                    raise ValueError(
                        f"codes.{column}: source code {source!r} is not text; quote source codes in YAML "
                        f'("01", not 01, which YAML reads as the number 1)'
                    )
                converted[source] = None if target is None else _as_text(target, f"codes.{column}.{source}")
            out[column] = converted
        return out

    @field_validator("constants", mode="before")
    @classmethod
    def _constant_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: _as_text(v, f"constants.{k}") for k, v in value.items()}

    @field_validator("sentinel_dates", mode="before")
    @classmethod
    def _sentinel_text(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for item in value:
                if not isinstance(item, str):
                    raise ValueError(
                        f'sentinel date {item!r} is not text; quote it in YAML ("00000000" is read as 0 unquoted)'
                    )
        return value

    @field_validator("date_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        _check_date_format(value)
        return value

    @field_validator("date_formats")
    @classmethod
    def _check_formats(cls, value: dict[str, str]) -> dict[str, str]:
        for fmt in value.values():
            _check_date_format(fmt)
        return value

    @field_validator("amount_scale")
    @classmethod
    def _power_of_ten(cls, value: dict[str, float]) -> dict[str, float]:
        for column, factor in value.items():
            _scale_exponent(factor, column)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TableMapping:
        targets = list(self.rename.values())
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise ValueError(f"rename gives contract column(s) {', '.join(twice)} from several source columns")
        both = sorted(set(self.rename) & set(self.drop_columns))
        if both:
            raise ValueError(f"column(s) {', '.join(both)} are both renamed and dropped")
        clash = sorted(set(self.constants) & set(targets))
        if clash:
            raise ValueError(f"column(s) {', '.join(clash)} get both a constant and a renamed source column")
        for other, name in ((self.quote_basis, "quote_basis"), (self.amount_scale, "amount_scale")):
            overlap = sorted(set(self.codes) & set(other))
            if overlap:
                raise ValueError(f"column(s) {', '.join(overlap)} have both codes and {name}")
        return self

    def source_column(self, column: str) -> str:
        """The source column feeding contract ``column`` (itself when not renamed)."""
        for source, target in self.rename.items():
            if target == column:
                return source
        return column


class SourceMapping(BaseModel):
    """A versioned mapping of one source system's extracts onto the contract tables.

    Parameters
    ----------
    name:
        Source system (e.g. ``cn_core_banking``).
    version:
        Version of the mapping, chosen by the data team (``"2026.1"``); recorded with each load
        together with :func:`mapping_hash`.
    description:
        Free text.
    tables:
        ``contract table name -> TableMapping`` (``positions``, ``counterparties`` ...).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    description: str = ""
    tables: dict[str, TableMapping]

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f'version {value!r} is not text; quote it in YAML ("{value}")')
        return value

    @model_validator(mode="after")
    def _known_columns(self) -> SourceMapping:
        problems: list[str] = []
        for table, tm in self.tables.items():
            if table not in TABLES:
                problems.append(f"{table!r} is not a contract table; expected one of {', '.join(TABLES)}")
                continue
            problems.extend(f"tables.{table}: {p}" for p in check_table_mapping(tm, TABLES[table]))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _check_date_format(fmt: str) -> None:
    if fmt in ("auto", "iso"):
        return
    if "%" not in fmt:
        raise ValueError(f"date format {fmt!r} is not 'auto', 'iso' or a strftime pattern such as '%Y%m%d'")
    sample = dt.date(2026, 11, 28)
    try:
        back = dt.datetime.strptime(sample.strftime(fmt), fmt).date()
    except ValueError as err:
        raise ValueError(f"date format {fmt!r} cannot be read back: {err}") from err
    if back != sample:
        raise ValueError(f"date format {fmt!r} does not hold a full date (year, month and day)")


def _scale_exponent(factor: float, column: str) -> int:
    """``k`` with ``factor == 10**k``; only powers of ten keep the scaling exact."""
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"amount_scale.{column}: {factor!r} is not a positive power of ten")
    k = round(math.log10(factor))
    if abs(k) > _MAX_SCALE_EXPONENT or not math.isclose(factor, 10.0**k, rel_tol=1e-12):
        raise ValueError(
            f"amount_scale.{column}: {factor!r} is not a power of ten between 1e-8 and 1e8 "
            "(10000 for 万元, 0.01 for fen / minor units)"
        )
    return int(k)


def _value_problem(value: str, column: Any) -> str | None:
    """Why ``value`` is not a valid cell of contract ``column``, or None."""
    result = parse_text(pa.array([value], pa.string()), column)
    for problem in result.problems:
        return f"{problem.reason}: " + problem.message.format(value=value)
    if value.strip() == "":
        return "empty value"
    return None


def check_table_mapping(tm: TableMapping, schema: TableSchema | str) -> list[str]:
    """Problems of ``tm`` against a contract table (empty when consistent).

    Checks that every contract column named exists and has the right type (``quote_basis`` on
    rate columns, ``amount_scale`` on amount columns, ``date_formats`` on date columns) and that
    every target code and constant is a valid cell of its column.
    """
    schema = TABLES[schema] if isinstance(schema, str) else schema
    problems: list[str] = []

    def known(column: str, where: str, kind: LogicalType | None = None) -> bool:
        if column not in schema:
            problems.append(f"{where}: {column!r} is not a column of {schema.name}")
            return False
        actual = schema.column(column).type
        if kind is not None and actual is not kind:
            problems.append(f"{where}: {column!r} is a {actual.value} column, expected a {kind.value} column")
            return False
        return True

    for source, target in tm.rename.items():
        known(target, f"rename.{source}")
    for column, table in tm.codes.items():
        if known(column, "codes"):
            for code, code_target in table.items():
                why = None if code_target is None else _value_problem(code_target, schema.column(column))
                if why:
                    problems.append(f"codes.{column}.{code}: {why}")
    for column in tm.quote_basis:
        known(column, "quote_basis", LogicalType.RATE)
    for column in tm.amount_scale:
        known(column, "amount_scale", LogicalType.AMOUNT)
    for column in tm.date_formats:
        known(column, "date_formats", LogicalType.DATE)
    for column, value in tm.constants.items():
        if known(column, "constants"):
            why = _value_problem(value, schema.column(column))
            if why:
                problems.append(f"constants.{column}: {why}")
    if tm.keep_unmapped_in_attributes and "attributes" not in schema:
        problems.append(f"keep_unmapped_in_attributes: table {schema.name} has no attributes column")
    return problems


def load_mapping(path: str | os.PathLike[str]) -> SourceMapping:
    """Read and validate a mapping YAML file.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or not a valid mapping (the message names the file and
        carries pydantic's description of every problem).
    """
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"mapping file {target}: cannot be read as UTF-8 text: {err}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"mapping file {target}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"mapping file {target}: expected a mapping with name, version and tables")
    try:
        return SourceMapping.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"mapping file {target} is invalid: {err}") from err


def dump_mapping(mapping: SourceMapping) -> str:
    """The mapping as YAML text; ``load`` of it gives an equal mapping (export / round trip)."""
    data = mapping.model_dump(mode="json")
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return text


def mapping_hash(mapping: SourceMapping) -> str:
    """SHA-256 (hex) of the mapping's canonical JSON (sorted keys): the version key of a load.

    Equal mappings give equal hashes, whatever the YAML layout, comments or key order.
    """
    data = mapping.model_dump(mode="json")
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Correction:
    """What a mapping rule changed, aggregated over rows.

    Parameters
    ----------
    column:
        Contract column (the source column for ``drop_column`` / ``attributes``).
    rule:
        A key of :data:`CORRECTION_RULES`.
    from_value, to_value:
        What was there and what is there now (``None`` = null).
    rows:
        Number of cells changed.
    """

    column: str
    rule: str
    from_value: str | None
    to_value: str | None
    rows: int

    def __str__(self) -> str:
        return f"{self.column}: {self.rule} {_shown(self.from_value)} -> {_shown(self.to_value)}, {self.rows:,} rows"

    def describe(self, lang: Language | None = None) -> str:
        """The correction as a sentence in ``lang`` (labels ``mapping.rule.*``)."""
        return label(
            "mapping.correction",
            lang,
            column=self.column,
            rule=label(f"mapping.rule.{self.rule}", lang),
            from_value=_shown(self.from_value),
            to_value=_shown(self.to_value),
            rows=f"{self.rows:,}",
        )


def _shown(value: str | None) -> str:
    return "null" if value is None else value


def corrections_to_table(corrections: Sequence[Correction]) -> pa.Table:
    """Corrections as an Arrow table ``column, rule, from_value, to_value, rows``."""
    return pa.table(
        {
            "column": pa.array([c.column for c in corrections], pa.string()),
            "rule": pa.array([c.rule for c in corrections], pa.string()),
            "from_value": pa.array([c.from_value for c in corrections], pa.string()),
            "to_value": pa.array([c.to_value for c in corrections], pa.string()),
            "rows": pa.array([c.rows for c in corrections], pa.int64()),
        }
    )


@dataclass(slots=True)
class MappedTable:
    """A source extract mapped onto contract column names.

    Attributes
    ----------
    table:
        Contract-named text columns (cells the mapping rejected are null).
    source_row:
        1-based data row of each row.
    corrections:
        Every change made, aggregated per (column, rule, from, to).
    rejects:
        One :class:`Reject` per cell the mapping could not translate; ``column`` is the
        *source* column name, ``value`` the source text.
    warnings:
        Source columns ignored, declared columns absent from the file.
    problems:
        The same failures per contract column, as cell problems for
        :class:`openalm.data.loaders.ParsedTable` (so validation quarantines the rows; an
        unmapped code is registered as the validation reason ``unknown_code``).
    rejected_text:
        For columns with failures: the output column with the failing cells holding their
        source text (used to quote values in validation rejects).
    """

    table: pa.Table
    source_row: npt.NDArray[np.int64]
    corrections: list[Correction] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[tuple[str, Problem]] = field(default_factory=list)
    rejected_text: dict[str, ArrowColumn] = field(default_factory=dict)


@dataclass(slots=True)
class _Failure:
    column: str  # contract column
    source: str  # source column
    reason: str
    mask: npt.NDArray[np.bool_]
    template: str  # str.format template with {value!r}
    text: ArrowColumn  # source text of the column


# --------------------------------------------------------------------------------------------
# Vectorised column rules
# --------------------------------------------------------------------------------------------


def _np(mask: ArrowColumn) -> npt.NDArray[np.bool_]:
    filled = pc.fill_null(mask, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks() if filled.num_chunks else pa.array([], pa.bool_())
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _string(values: ArrowColumn) -> ArrowColumn:
    if pa.types.is_dictionary(values.type):
        values = pc.cast(values, values.type.value_type)
    if values.type == pa.string():
        return values
    return pc.cast(values, pa.string())


def _null_blank(text: ArrowColumn) -> ArrowColumn:
    """Empty or whitespace-only cells -> null (the contract's rule for empty cells)."""
    blank = pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))
    if not pc.any(blank).as_py():
        return text
    return pc.if_else(blank, pa.scalar(None, pa.string()), text)


def _set_null(text: ArrowColumn, mask: npt.NDArray[np.bool_]) -> ArrowColumn:
    if not mask.any():
        return text
    return pc.if_else(pa.array(mask), pa.scalar(None, text.type), text)


def _counts(values: ArrowColumn) -> list[tuple[str, int]]:
    """``(value, count)`` of the non-null cells, most frequent first (few distinct values)."""
    counted = pc.value_counts(pc.drop_null(values))
    pairs = [
        (str(v), int(n))
        for v, n in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)
    ]
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _translate(
    text: ArrowColumn, column: str, source: str, table: Mapping[str, str | None], out: _Outputs
) -> ArrowColumn:
    text = _null_blank(text)
    keys = pa.array(list(table), pa.string())
    values = pa.array(list(table.values()), pa.string())
    index = pc.index_in(text, value_set=keys)
    mapped = pc.take(values, index)
    bad = _np(pc.and_(pc.is_valid(text), pc.is_null(index)))
    known = pc.filter(text, pc.is_valid(index))
    for code, rows in _counts(known):
        target = table[code]
        if target != code:
            out.corrections.append(Correction(column, "code", code, target, rows))
    if bad.any():
        listed = ", ".join(table)
        out.fail(
            column,
            source,
            "unmapped_code",
            bad,
            f"code {{value!r}} of source column {_escape_braces(source)!r} has no mapping to {column}; "
            f"mapped source codes: {_escape_braces(listed)} (add it to codes.{column} of the mapping)",
            text,
        )
    return mapped


def _dates(
    text: ArrowColumn, column: str, source: str, fmt: str, sentinels: Sequence[str], out: _Outputs
) -> ArrowColumn:
    text = _null_blank(pc.utf8_trim_whitespace(text))
    if sentinels:
        is_sentinel = pc.is_in(text, value_set=pa.array(list(sentinels), pa.string()))
        if pc.any(is_sentinel).as_py():
            for value, rows in _counts(pc.filter(text, is_sentinel)):
                out.corrections.append(Correction(column, "sentinel", value, None, rows))
            text = pc.if_else(is_sentinel, pa.scalar(None, pa.string()), text)
    if fmt == "auto":
        return text
    pattern = "%Y-%m-%d" if fmt == "iso" else fmt
    # Dates repeat: parse the distinct texts only (strptime/strftime cost ~1 s per million cells).
    distinct = pc.drop_null(pc.unique(text))
    if isinstance(distinct, pa.ChunkedArray):
        distinct = distinct.combine_chunks()
    stamps = pc.strptime(distinct, format=pattern, unit="s", error_is_null=True)
    # Arrow's strptime is lenient (20260230 -> 2026-03-02, 2026063 -> 2026-06-03): a cell counts
    # as a date only when writing the parsed date back in the pattern gives the cell again.
    exact = pc.fill_null(pc.equal(pc.strftime(stamps, format=pattern), distinct), False)
    iso_distinct = pc.if_else(exact, pc.strftime(stamps, format="%Y-%m-%d"), pa.scalar(None, pa.string()))
    index = pc.index_in(text, value_set=distinct)
    iso = pc.take(iso_distinct, index)
    bad = _np(pc.and_(pc.is_valid(text), pc.is_null(iso)))
    if bad.any():
        out.fail(
            column,
            source,
            "bad_date",
            bad,
            f"{{value!r}} is not a date in the declared format {_escape_braces(pattern)!r} "
            f"(source column {_escape_braces(source)!r})",
            text,
        )
    if pattern != "%Y-%m-%d":
        converted = int(pc.sum(pc.is_valid(iso)).as_py() or 0)
        if converted:
            out.corrections.append(Correction(column, "date_format", pattern, "%Y-%m-%d", converted))
    return iso


def _numbers(
    text: ArrowColumn, regex: str, target: pa.DataType, *, fast: bool
) -> tuple[ArrowColumn, npt.NDArray[np.bool_]]:
    """Cells cast to ``target``, with the cells not matching ``regex`` null, and their mask.

    ``fast``: first try casting every cell (float64 only: Arrow accepts exactly the plain
    decimals of ``regex`` plus nan/inf, which the caller rejects as not finite).
    """
    trimmed = _null_blank(pc.utf8_trim_whitespace(text))
    if fast:
        try:
            return pc.cast(trimmed, target), np.zeros(len(trimmed), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    ok = pc.match_substring_regex(trimmed, regex)
    bad = _np(pc.and_(pc.is_valid(trimmed), pc.invert(ok)))
    return pc.cast(_set_null(trimmed, bad), target), bad


def _bad_number(
    column: str, source: str, bad: npt.NDArray[np.bool_], expected: str, text: ArrowColumn, out: _Outputs
) -> None:
    if bad.any():
        template = f"{{value!r}} is not a number {expected} (source column {_escape_braces(source)!r})"
        out.fail(column, source, "bad_number", bad, template, text)


def _rates(text: ArrowColumn, column: str, source: str, basis: str, daily_basis: int, out: _Outputs) -> ArrowColumn:
    if basis == "annual_decimal":
        return text  # already the contract's unit: the contract parser checks the cells
    values, bad = _numbers(text, _NUMBER_RE, pa.float64(), fast=True)
    infinite = _np(pc.and_(pc.is_valid(values), pc.invert(pc.is_finite(values))))
    if infinite.any():
        values = _set_null(values, infinite)
        bad = bad | infinite
    expected = f"quoted as {basis}: expected a finite plain decimal with '.' (no % sign or thousands separator)"
    _bad_number(column, source, bad, expected, text, out)
    numerator, denominator = QUOTE_BASIS_FACTORS[basis]
    scaled = pc.divide(pc.multiply(values, float(numerator or daily_basis)), float(denominator))
    converted = int(pc.sum(pc.is_valid(scaled)).as_py() or 0)
    if converted:
        shown = f"{basis} (x{daily_basis}/10000)" if basis == "daily_per_ten_thousand" else basis
        out.corrections.append(Correction(column, "quote_basis", shown, "annual_decimal", converted))
    return pc.cast(scaled, pa.string())


def _view_scale(values: ArrowColumn, scale: int) -> ArrowColumn:
    """The same unscaled decimal integers read with another scale (exact multiplication by 10^k)."""
    target = pa.decimal128(38, scale)
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([chunk.view(target) for chunk in values.chunks], target)
    return values.view(target)


def _amounts(text: ArrowColumn, column: str, source: str, factor: float, out: _Outputs) -> ArrowColumn:
    k = _scale_exponent(factor, column)
    if k == 0:
        return text
    decimals, bad = _numbers(text, _PLAIN_DECIMAL_RE, pa.decimal128(38, _DECIMAL_SCALE), fast=False)
    expected = "to scale: expected a plain decimal, at most 20 integer and 18 fraction digits, no exponent"
    _bad_number(column, source, bad, expected, text, out)
    shifted = pc.cast(_view_scale(decimals, _DECIMAL_SCALE - k), pa.string())
    # drop trailing fraction zeros (every value has a '.': its scale is >= 10), except in the
    # scientific form Arrow uses below 1e-6 ("1.5E-7", and "0E-14" for zero)
    trimmed = pc.utf8_rtrim(pc.utf8_rtrim(shifted, characters="0"), characters=".")
    shifted = pc.if_else(pc.match_substring(shifted, "E"), shifted, trimmed)
    shifted = pc.if_else(pc.match_substring_regex(shifted, r"^[+-]?0E"), pa.scalar("0"), shifted)
    converted = int(pc.sum(pc.is_valid(shifted)).as_py() or 0)
    if converted:
        out.corrections.append(Correction(column, "amount_scale", f"x{factor:g}", "x1", converted))
    return shifted


def _json_string(text: ArrowColumn) -> ArrowColumn:
    """Each cell as a JSON string literal body (quotes, backslashes and control characters escaped)."""
    out = pc.replace_substring(text, "\\", "\\\\")
    out = pc.replace_substring(out, '"', '\\"')
    for char, escaped in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        out = pc.replace_substring(out, char, escaped)
    if pc.any(pc.match_substring_regex(out, r"[\x00-\x1f]")).as_py():
        for code in range(0x20):
            out = pc.replace_substring(out, chr(code), f"\\u{code:04x}")
    return out


def _attributes(table: pa.Table, columns: Sequence[str], out: _Outputs) -> ArrowColumn:
    pieces = []
    for name in columns:
        text = _null_blank(_string(table.column(name)))
        rows = int(pc.sum(pc.is_valid(text)).as_py() or 0)
        out.corrections.append(Correction(name, "attributes", name, "attributes", rows))
        key = json.dumps(name, ensure_ascii=False)
        pieces.append(pc.binary_join_element_wise(f',{key}:"', _json_string(text), '"', ""))
    # null pieces become "" (Arrow's null_handling="skip" drops rows when every piece is null)
    body = pc.binary_join_element_wise(*pieces, "", null_handling="replace", null_replacement="")
    body = pc.if_else(pc.equal(body, ""), pa.scalar(None, pa.string()), pc.utf8_slice_codeunits(body, 1))
    return pc.binary_join_element_wise("{", body, "}", "")


@dataclass(slots=True)
class _Outputs:
    corrections: list[Correction] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)

    def fail(
        self,
        column: str,
        source: str,
        reason: str,
        mask: npt.NDArray[np.bool_],
        template: str,
        text: ArrowColumn,
    ) -> None:
        self.failures.append(_Failure(column, source, reason, mask, template, text))


def _texts(values: ArrowColumn, index: npt.NDArray[np.int64]) -> list[str]:
    taken = values.take(pa.array(index, pa.int64()))
    return ["" if v is None else str(v) for v in taken.to_pylist()]


# --------------------------------------------------------------------------------------------
# Applying a mapping
# --------------------------------------------------------------------------------------------


def apply_mapping(
    table: pa.Table,
    tm: TableMapping,
    *,
    file: str,
    schema: TableSchema | str = "positions",
    source_row: npt.NDArray[np.int64] | None = None,
) -> MappedTable:
    """Turn a source extract's raw columns into contract-named text columns.

    Order per column: rename; strip whitespace (if asked); then one of code translation
    (``codes``), date handling (sentinels -> null, declared format -> ISO), rate quote basis ->
    annual decimal, amount scale; finally constants and ``attributes``. Every column operation is
    vectorised (Arrow compute); Python touches only distinct codes and rejected cells.

    Parameters
    ----------
    table:
        The extract as read, one column per source column (text; other types are cast to text).
    tm:
        The table's mapping.
    file:
        File name for rejects and errors.
    schema:
        The contract table the extract feeds.
    source_row:
        1-based data rows (default ``1..n``).

    Returns
    -------
    MappedTable
        Contract-named text columns, corrections, rejects (source column names) and warnings.

    Raises
    ------
    ConfigError
        ``tm`` names columns that are not in ``schema`` or targets that are not valid cells.
    DataError
        Two source columns give the same contract column, or a constant (or ``attributes``)
        would overwrite a column the file has.
    """
    schema = TABLES[schema] if isinstance(schema, str) else schema
    problems = check_table_mapping(tm, schema)
    if problems:
        raise ConfigError(f"mapping for table {schema.name} does not fit the contract: " + "; ".join(problems))
    n = table.num_rows
    rows = np.arange(1, n + 1, dtype=np.int64) if source_row is None else np.asarray(source_row, dtype=np.int64)
    names = list(table.column_names)
    present = set(names)
    out = _Outputs()
    warnings: list[str] = []
    columns: dict[str, ArrowColumn] = {}
    origin: dict[str, str] = {}
    unmapped: list[str] = []
    dropped = set(tm.drop_columns)
    for source in names:
        if source in dropped:
            out.corrections.append(Correction(source, "drop_column", source, None, n))
            continue
        target = tm.rename.get(source, source if source in schema else None)
        if target is None:
            unmapped.append(source)
            continue
        if target in origin:
            raise DataError(
                f"source columns {origin[target]!r} and {source!r} both give contract column {target!r}; "
                "rename or drop one of them in the mapping",
                file=file,
                column=source,
            )
        origin[target] = source
        columns[target] = _string(table.column(source))
        if source != target:
            out.corrections.append(Correction(target, "rename", source, target, n))
    absent = [s for s in (*tm.rename, *tm.drop_columns) if s not in present]
    if absent:
        warnings.append(f"mapped source column(s) not in the file: {', '.join(absent)}")

    for target, source in origin.items():
        text = columns[target]
        if tm.strip_whitespace:
            stripped = pc.utf8_trim_whitespace(text)
            changed = int(pc.sum(pc.not_equal(stripped, text)).as_py() or 0)
            if changed:
                out.corrections.append(Correction(target, "strip_whitespace", None, None, changed))
            text = stripped
        kind = schema.column(target).type
        if target in tm.codes:
            text = _translate(text, target, source, tm.codes[target], out)
        elif kind is LogicalType.DATE:
            fmt = tm.date_formats.get(target, tm.date_format)
            text = _dates(text, target, source, fmt, tm.sentinel_dates, out)
        elif target in tm.quote_basis:
            text = _rates(text, target, source, tm.quote_basis[target], tm.daily_basis, out)
        elif target in tm.amount_scale:
            text = _amounts(text, target, source, tm.amount_scale[target], out)
        columns[target] = text

    for target, value in tm.constants.items():
        if target in columns:
            raise DataError(
                f"the mapping sets constant {value!r} for {target!r} but the file has that column "
                f"(source column {origin[target]!r}); remove the constant or the column",
                file=file,
                column=origin[target],
            )
        columns[target] = pa.repeat(pa.scalar(value, pa.string()), n)
        out.corrections.append(Correction(target, "constant", None, value, n))

    if unmapped and tm.keep_unmapped_in_attributes:
        if "attributes" in columns:
            raise DataError(
                "keep_unmapped_in_attributes needs the attributes column, but the file has one "
                f"(source column {origin['attributes']!r}); drop it or map the extra columns",
                file=file,
                column=origin["attributes"],
            )
        columns["attributes"] = _attributes(table, unmapped, out)
    elif unmapped:
        warnings.append(
            f"source column(s) neither mapped nor contract columns, ignored: {', '.join(unmapped)} "
            "(map them in rename, list them in drop_columns, or set keep_unmapped_in_attributes)"
        )

    ordered = {c: columns[c] for c in schema.names if c in columns}
    mapped = pa.table(ordered)
    result = MappedTable(mapped, rows, out.corrections, [], warnings)
    _collect_failures(result, out.failures, ordered, Path(file).name, schema.name)
    return result


def _collect_failures(
    result: MappedTable, failures: Sequence[_Failure], columns: Mapping[str, ArrowColumn], file: str, table: str
) -> None:
    """Rejects (source column names), cell problems and quoting columns of the failures."""
    pid = columns.get("position_id")
    found: list[tuple[int, int, Reject]] = []
    for seq, failure in enumerate(failures):
        idx = np.flatnonzero(failure.mask).astype(np.int64)
        values = _texts(failure.text, idx)
        pids = _texts(pid, idx) if pid is not None else [""] * len(idx)
        for k, i in enumerate(idx):
            message = failure.template.format(value=values[k])
            reject = Reject(
                file, int(result.source_row[i]), failure.source, values[k], failure.reason, message, pids[k], table
            )
            found.append((int(result.source_row[i]), seq, reject))
        reason = _CELL_REASON.get(failure.reason, failure.reason)
        result.problems.append((failure.column, Problem(reason, failure.mask, failure.template)))
        quoted = result.rejected_text.get(failure.column, columns[failure.column])
        result.rejected_text[failure.column] = pc.if_else(pa.array(failure.mask), failure.text, quoted)
    found.sort(key=lambda item: (item[0], item[1]))
    result.rejects = [item[2] for item in found]
