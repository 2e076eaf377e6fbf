"""Vectorised parsing of cells into the logical types of :mod:`openalm.data.schema`.

Two entry points, both column-at-a-time with pyarrow compute (no Python loop over rows):

* :func:`parse_text` for text cells (CSV, Excel, string-typed Parquet columns);
* :func:`coerce_typed` for typed Parquet / Arrow columns (dates, numbers, decimals, booleans);
  a string-typed column goes through :func:`parse_text`.

Each returns the column in its loaded Arrow type (a cell that fails becomes null) and one boolean
mask per problem (reason code), so the caller can quarantine rows and name file, row, column and
value.

Text rules (the same for every format; Excel cells are first written as such text):

* an empty or whitespace-only cell is null;
* surrounding spaces are ignored in dates, numbers and booleans; codes (enums, currencies,
  countries, tenors) and identifiers must match exactly;
* dates: ``YYYY-MM-DD`` or ``YYYYMMDD``; the sentinels ``99991231``, ``20991231``, ``19000101``,
  ``00000000`` (and their ISO spellings) are null (positions.md 2.5); a date that does not exist
  (``2026-02-30``) is ``impossible_date``;
* numbers: plain decimals with ``.`` as decimal separator, optional sign and exponent
  (``-1234.5``, ``1e-05``); thousands separators, percent signs, ``nan``/``inf`` and text are
  ``bad_number``; integers also accept a zero fraction (``5.0``, as written by some exporters);
* booleans: ``true``/``false``, ``TRUE``/``FALSE``, ``True``/``False``, ``1``/``0``, ``Y``/``N``;
* enums: the exact lower-case codes of positions.md; another spelling is ``unknown_code``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from openalm.conventions.currencies import CURRENCIES
from openalm.data.schema import DATE_SENTINELS, Column, LogicalType
from openalm.errors import SchemaError

__all__ = ["ParseResult", "Problem", "coerce_typed", "parse_text"]

BoolMask = npt.NDArray[np.bool_]
ArrowColumn: TypeAlias = pa.Array | pa.ChunkedArray

_NUMBER_RE: Final = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INT_RE: Final = r"^[+-]?[0-9]{1,18}(\.0*)?$"
_ISO_DATE_RE: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_COMPACT_DATE_RE: Final = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_COUNTRY_RE: Final = r"^[A-Z]{2}$"
_SNAKE_RE: Final = r"^[a-z][a-z0-9_]*$"
_TENOR_RE: Final = r"^[1-9][0-9]{0,3}[DWMY]$"

TRUE_TEXT: Final = ("true", "TRUE", "True", "1", "Y")
FALSE_TEXT: Final = ("false", "FALSE", "False", "0", "N")

_SENTINEL_TEXT: Final = (
    DATE_SENTINELS + tuple(f"{s[:4]}-{s[4:6]}-{s[6:]}" for s in DATE_SENTINELS if s != "00000000") + ("0000-00-00",)
)
_SENTINEL_DAYS: Final = tuple(
    int((np.datetime64(f"{s[:4]}-{s[4:6]}-{s[6:]}") - np.datetime64("1970-01-01")).astype(int))
    for s in DATE_SENTINELS
    if s != "00000000"
)


@dataclass(frozen=True, slots=True)
class Problem:
    """Cells of one column that failed for one reason.

    Parameters
    ----------
    reason:
        Reason code (``bad_date``, ``bad_number`` ...).
    mask:
        True on the failing rows.
    message:
        Template formatted per reject with ``{value}`` (the cell as text).
    hint:
        Optional function of the cell text returning an extra sentence (e.g. a case hint).
    """

    reason: str
    mask: BoolMask
    message: str
    hint: Callable[[str], str] | None = None


@dataclass(slots=True)
class ParseResult:
    """A loaded column and its failures."""

    values: ArrowColumn
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _np(mask: ArrowColumn) -> BoolMask:
    """Boolean Arrow column -> numpy bool array (null -> False)."""
    filled = pc.fill_null(mask, False)
    if isinstance(filled, pa.ChunkedArray):
        if filled.num_chunks == 0:
            return np.zeros(0, dtype=bool)
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _with_nulls(values: ArrowColumn, bad: BoolMask) -> ArrowColumn:
    """``values`` with the cells flagged in ``bad`` set to null."""
    if not bad.any():
        return values
    return pc.if_else(pa.array(bad), pa.scalar(None, type=values.type), values)


def _blank(text: ArrowColumn) -> ArrowColumn:
    """Empty or whitespace-only cells."""
    return pc.or_(pc.equal(pc.binary_length(text), 0), pc.utf8_is_space(text))


def _blank_to_null(text: ArrowColumn, *, trim: bool) -> ArrowColumn:
    """Trim (if asked) and turn empty / whitespace-only cells into nulls."""
    out = pc.utf8_trim_whitespace(text) if trim else text
    blank = _blank(text)
    if pc.any(blank).as_py():
        out = pc.if_else(blank, pa.scalar(None, type=out.type), out)
    return out


def _check_distinct(text: ArrowColumn, accept: Callable[[pa.Array], ArrowColumn]) -> tuple[ArrowColumn, BoolMask]:
    """Check a code column value by value: ``accept`` runs on the distinct values only.

    Returns the column with blank and rejected cells set to null, and the mask of rejected cells.
    Code columns have few distinct values, so this costs one hash pass over the column.
    """
    distinct = pc.drop_null(pc.unique(text))
    if isinstance(distinct, pa.ChunkedArray):
        distinct = distinct.combine_chunks()
    blank = pc.fill_null(_blank(distinct), False)
    ok = pc.fill_null(accept(distinct), False)
    bad_values = pc.filter(distinct, pc.and_(pc.invert(ok), pc.invert(blank)))
    blank_values = pc.filter(distinct, blank)
    values = text
    if len(blank_values):
        values = pc.if_else(pc.is_in(values, value_set=blank_values), pa.scalar(None, pa.string()), values)
    if not len(bad_values):
        return values, _zeros(len(text))
    bad = _np(pc.is_in(text, value_set=bad_values))
    return _with_nulls(values, bad), bad


def _fail(text: ArrowColumn, ok: ArrowColumn) -> BoolMask:
    """Non-null cells that are not ``ok``."""
    return _np(pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(ok, False))))


# --------------------------------------------------------------------------------------------
# text -> typed
# --------------------------------------------------------------------------------------------


def _parse_date(text: ArrowColumn) -> ParseResult:
    try:  # fast path: every cell ISO and valid
        days = pc.cast(text, pa.date32())
        return ParseResult(_drop_sentinel_days(days))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = _blank_to_null(text, trim=True)
    sentinel = pc.is_in(text, value_set=pa.array(_SENTINEL_TEXT))
    text = pc.if_else(sentinel, pa.scalar(None, pa.string()), text)
    iso = pc.replace_substring_regex(text, _COMPACT_DATE_RE, r"\1-\2-\3")
    shaped = pc.match_substring_regex(iso, _ISO_DATE_RE)
    bad_shape = _fail(iso, shaped)
    iso = _with_nulls(iso, bad_shape)
    year = pc.cast(pc.utf8_slice_codeunits(iso, 0, 4), pa.int32())
    month = pc.cast(pc.utf8_slice_codeunits(iso, 5, 7), pa.int32())
    day = pc.cast(pc.utf8_slice_codeunits(iso, 8, 10), pa.int32())
    y = _int_np(year)
    m = _int_np(month)
    d = _int_np(day)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_len = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)]
    month_len = month_len + ((m == 2) & leap)
    present = _np(pc.is_valid(iso))
    impossible = present & ((y < 1) | (m < 1) | (m > 12) | (d < 1) | (d > month_len))
    iso = _with_nulls(iso, impossible)
    days = pc.cast(iso, pa.date32())
    problems = []
    if bad_shape.any():
        problems.append(Problem("bad_date", bad_shape, "{value!r} is not a date; expected YYYY-MM-DD or YYYYMMDD"))
    if impossible.any():
        problems.append(Problem("impossible_date", impossible, "{value!r} is not a calendar date"))
    return ParseResult(_drop_sentinel_days(days), problems)


def _int_np(values: ArrowColumn) -> npt.NDArray[np.int64]:
    filled = pc.fill_null(values, 0)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks() if filled.num_chunks else pa.array([], pa.int32())
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def _drop_sentinel_days(days: ArrowColumn) -> ArrowColumn:
    """Sentinel dates (9999-12-31, 2099-12-31, 1900-01-01) -> null."""
    as_int = pc.cast(days, pa.int32())
    sentinel = pc.is_in(as_int, value_set=pa.array(_SENTINEL_DAYS, pa.int32()))
    if not pc.any(sentinel).as_py():
        return days
    return pc.if_else(sentinel, pa.scalar(None, pa.date32()), days)


def _parse_float(text: ArrowColumn) -> ParseResult:
    try:
        values = pc.cast(text, pa.float64())
        finite = pc.is_finite(values)
        if pc.all(pc.fill_null(finite, True)).as_py():
            return ParseResult(values)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = _blank_to_null(text, trim=True)
    ok = pc.match_substring_regex(text, _NUMBER_RE)
    bad = _fail(text, ok)
    values = pc.cast(_with_nulls(text, bad), pa.float64())
    overflow = _fail(values, pc.is_finite(values))
    if overflow.any():
        bad = bad | overflow
        values = _with_nulls(values, overflow)
    message = (
        "{value!r} is not a plain decimal number; expected digits with '.' as decimal separator, "
        "no thousands separator or percent sign (3.45% is written 0.0345)"
    )
    return ParseResult(values, [Problem("bad_number", bad, message)])


def _parse_int(text: ArrowColumn) -> ParseResult:
    try:
        return ParseResult(pc.cast(text, pa.int64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = _blank_to_null(text, trim=True)
    ok = pc.match_substring_regex(text, _INT_RE)
    bad = _fail(text, ok)
    digits = pc.replace_substring_regex(_with_nulls(text, bad), r"\.0*$", "")
    values = pc.cast(digits, pa.int64())
    return ParseResult(values, [Problem("bad_integer", bad, "{value!r} is not a whole number")])


def _parse_bool(text: ArrowColumn) -> ParseResult:
    text, bad = _check_distinct(
        text, lambda d: pc.is_in(pc.utf8_trim_whitespace(d), value_set=pa.array(TRUE_TEXT + FALSE_TEXT))
    )
    values = pc.is_in(pc.utf8_trim_whitespace(text), value_set=pa.array(TRUE_TEXT))
    values = pc.if_else(pc.is_valid(text), values, pa.scalar(None, pa.bool_()))
    message = "{value!r} is not a boolean; expected true/false (also TRUE/FALSE, True/False, 1/0, Y/N)"
    return ParseResult(values, [Problem("bad_bool", bad, message)])


def _case_hint(allowed: tuple[str, ...]) -> Callable[[str], str]:
    lowered = {a.lower(): a for a in allowed}

    def hint(value: str) -> str:
        match = lowered.get(value.strip().lower())
        return f" (codes are exact and lower-case: did you mean {match!r}?)" if match else ""

    return hint


def _parse_enum(text: ArrowColumn, column: Column) -> ParseResult:
    if column.extensible:
        values, bad = _check_distinct(text, lambda d: pc.match_substring_regex(d, _SNAKE_RE))
        message = "{value!r} is not a snake_case code (lower-case letters, digits and '_')"
        return ParseResult(values, [Problem("bad_code", bad, message)])
    allowed = pa.array(column.allowed)
    values, bad = _check_distinct(text, lambda d: pc.is_in(d, value_set=allowed))
    message = "unknown code {value!r}; allowed: " + ", ".join(column.allowed)
    return ParseResult(values, [Problem("unknown_code", bad, message, _case_hint(column.allowed))])


def _parse_pattern(text: ArrowColumn, pattern: str, reason: str, message: str) -> ParseResult:
    values, bad = _check_distinct(text, lambda d: pc.match_substring_regex(d, pattern))
    return ParseResult(values, [Problem(reason, bad, message)])


def _parse_tenor(text: ArrowColumn, column: Column) -> ParseResult:
    specials = pa.array(column.tenor_specials, pa.string())

    def accept(distinct: pa.Array) -> ArrowColumn:
        return pc.or_(pc.match_substring_regex(distinct, _TENOR_RE), pc.is_in(distinct, value_set=specials))

    values, bad = _check_distinct(text, accept)
    listed = ", ".join(column.tenor_specials)
    message = "{value!r} is not a tenor; expected <n><D|W|M|Y> with n >= 1 (1D, 3M, 1Y)" + (
        f" or {listed}" if listed else ""
    )
    return ParseResult(values, [Problem("bad_tenor", bad, message)])


def _parse_map(text: ArrowColumn) -> ParseResult:
    # JSON is checked per distinct non-null value: `attributes` is optional and rarely filled.
    text = _blank_to_null(text, trim=False)
    distinct = pc.unique(pc.drop_null(text)).to_pylist()
    invalid = []
    for item in distinct:
        try:
            parsed = json.loads(item)
        except ValueError:
            invalid.append(item)
            continue
        if not isinstance(parsed, dict):
            invalid.append(item)
    bad = _np(pc.is_in(text, value_set=pa.array(invalid, pa.string()))) if invalid else _zeros(len(text))
    message = '{value!r} is not a JSON object; expected e.g. {{"raw_code": "01"}}'
    return ParseResult(_with_nulls(text, bad), [Problem("bad_json", bad, message)])


def _zeros(n: int) -> BoolMask:
    return np.zeros(n, dtype=bool)


def _as_string(values: ArrowColumn) -> ArrowColumn:
    if values.type == pa.string():
        return values
    return pc.cast(values, pa.string())


def parse_text(text: ArrowColumn, column: Column) -> ParseResult:
    """Parse a column of text cells into ``column``'s loaded Arrow type.

    Parameters
    ----------
    text:
        String (or large string) column; null = empty cell.
    column:
        The contract column.

    Returns
    -------
    ParseResult
        The typed values (failing cells null) and one :class:`Problem` per failure reason
        (problems with an all-false mask are dropped).
    """
    text = _as_string(text)
    kind = column.type
    if kind is LogicalType.DATE:
        result = _parse_date(text)
    elif kind in (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL):
        result = _parse_float(text)
    elif kind is LogicalType.INT:
        result = _parse_int(text)
    elif kind is LogicalType.BOOL:
        result = _parse_bool(text)
    elif kind is LogicalType.ENUM:
        result = _parse_enum(text, column)
    elif kind is LogicalType.CCY:
        known = pa.array(sorted(CURRENCIES), pa.string())
        values, bad = _check_distinct(text, lambda d: pc.is_in(d, value_set=known))
        result = ParseResult(
            values,
            [Problem("bad_currency", bad, "{value!r} is not an ISO 4217 currency code; expected e.g. CNY, USD, CNH")],
        )
    elif kind is LogicalType.COUNTRY:
        result = _parse_pattern(
            text,
            _COUNTRY_RE,
            "bad_country",
            "{value!r} is not an ISO 3166-1 alpha-2 code; expected two capitals (CN)",
        )
    elif kind is LogicalType.TENOR:
        result = _parse_tenor(text, column)
    elif kind is LogicalType.MAP:
        result = _parse_map(text)
    else:  # STRING: kept verbatim, only blank cells become null
        result = ParseResult(_blank_to_null(text, trim=False))
    result.problems = [p for p in result.problems if p.mask.any()]
    return result


# --------------------------------------------------------------------------------------------
# typed (Parquet / Arrow) -> loaded type
# --------------------------------------------------------------------------------------------


def _incompatible(column: Column, actual: pa.DataType, file: str) -> SchemaError:
    return SchemaError(
        f"has Arrow type {actual}, which cannot hold a {column.type.value} column; expected "
        f"{column.arrow_type} (or text in the CSV format of positions.md 2.1)",
        file=file,
        column=column.name,
    )


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _decode_dictionary(values: ArrowColumn) -> ArrowColumn:
    if pa.types.is_dictionary(values.type):
        return pc.cast(values, values.type.value_type)
    return values


def _map_to_json(values: ArrowColumn) -> ArrowColumn:
    """``map<string, string>`` column -> JSON object text per cell (null map -> null)."""
    items = values.to_pylist()
    out = [None if item is None else json.dumps(dict(item), ensure_ascii=False) for item in items]
    return pa.array(out, pa.string())


def coerce_typed(values: ArrowColumn, column: Column, file: str) -> ParseResult:
    """Convert a typed Arrow column (from Parquet) into ``column``'s loaded Arrow type.

    Compatible physical types: dates from ``date32``/``date64``/``timestamp`` (the written date,
    no time-zone conversion) or integers ``YYYYMMDD``; numbers from any integer, floating or
    decimal type (NaN is null, infinities are ``bad_number``); integers from integer types or
    floating values without fraction; booleans from ``bool`` or integers 0/1; codes and ids from
    strings (integer ids are turned into text). Text columns are parsed as CSV cells.

    Raises
    ------
    SchemaError
        When the physical type cannot hold the logical type (e.g. a boolean maturity date).
    """
    values = _decode_dictionary(values)
    t = values.type
    kind = column.type
    if _is_text(t):
        return parse_text(values, column)
    if pa.types.is_null(t):
        return ParseResult(pa.nulls(len(values), column.arrow_type))
    if kind is LogicalType.DATE:
        if pa.types.is_date32(t):
            return ParseResult(_drop_sentinel_days(values))
        if pa.types.is_date64(t):
            return ParseResult(_drop_sentinel_days(pc.cast(values, pa.date32())))
        if pa.types.is_timestamp(t):
            local = pc.local_timestamp(values) if t.tz is not None else values
            return ParseResult(_drop_sentinel_days(pc.cast(pc.floor_temporal(local, unit="day"), pa.date32())))
        if pa.types.is_integer(t):
            return parse_text(pc.cast(values, pa.string()), column)
        raise _incompatible(column, t, file)
    if kind in (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL):
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            # decimal -> text -> float64 is correctly rounded; Arrow's direct decimal cast is not
            # (it can be 1 ulp off), and the same amount must load the same from CSV and Parquet
            floats = (
                pc.cast(pc.cast(values, pa.string()), pa.float64())
                if pa.types.is_decimal(t)
                else (pc.cast(values, pa.float64()))
            )
            nan = pc.is_nan(floats)
            floats = pc.if_else(nan, pa.scalar(None, pa.float64()), floats)
            infinite = _fail(floats, pc.is_finite(floats))
            problems = []
            if infinite.any():
                floats = _with_nulls(floats, infinite)
                problems.append(Problem("bad_number", infinite, "{value!r} is not a finite number"))
            return ParseResult(floats, problems)
        raise _incompatible(column, t, file)
    if kind is LogicalType.INT:
        if pa.types.is_integer(t):
            return ParseResult(pc.cast(values, pa.int64()))
        if pa.types.is_floating(t) or pa.types.is_decimal(t):
            floats = pc.cast(values, pa.float64())
            floats = pc.if_else(pc.is_nan(floats), pa.scalar(None, pa.float64()), floats)
            whole = pc.and_(pc.is_finite(floats), pc.equal(pc.floor(floats), floats))
            whole = pc.and_(whole, pc.less(pc.abs(floats), 2.0**53))
            bad = _fail(floats, whole)
            ints = pc.cast(_with_nulls(floats, bad), pa.int64())
            problems = [Problem("bad_integer", bad, "{value!r} is not a whole number")] if bad.any() else []
            return ParseResult(ints, problems)
        raise _incompatible(column, t, file)
    if kind is LogicalType.BOOL:
        if pa.types.is_boolean(t):
            return ParseResult(values)
        if pa.types.is_integer(t):
            return parse_text(pc.cast(values, pa.string()), column)
        raise _incompatible(column, t, file)
    if kind is LogicalType.MAP:
        if pa.types.is_map(t):
            return ParseResult(_map_to_json(values))
        raise _incompatible(column, t, file)
    if kind is LogicalType.STRING and pa.types.is_integer(t):
        note = f"column {column.name!r} holds integers; turned into text (ids should be strings)"
        return ParseResult(pc.cast(values, pa.string()), notes=[note])
    raise _incompatible(column, t, file)
