"""Reading contract tables from SQL databases (core systems, data marts) as Arrow.

:func:`fetch_sql` streams a query's result as Arrow record batches of ``batch_rows`` rows;
:func:`read_sql_table` reads a whole result and parses it against a contract table exactly as
:func:`openalm.data.loaders.read_table` parses a Parquet file; :class:`SqlSource` /
:func:`read_sql_source` read several contract tables from one database.

Two paths, one result:

* ``postgresql://`` URLs go through the ADBC PostgreSQL driver when it is installed: the server
  sends binary COPY data that the driver turns into Arrow columns without Python objects;
* every other URL (and PostgreSQL when ADBC is absent or ``driver="sqlalchemy"``) goes through
  SQLAlchemy 2 Core with a server-side cursor (``stream_results``, ``yield_per``), the rows of
  each partition being turned into Arrow columns.

Both give the same Arrow types for PostgreSQL (tests check it): ``numeric(p,s)`` is
``decimal128(p, s)`` for ``p <= 38`` and the exact decimal text otherwise; ``date`` is ``date32``;
``timestamp`` is ``timestamp[us]``; ``timestamptz`` is ``timestamp[us, tz=<session TimeZone>]``;
``varchar``/``text``/``char``, ``json``/``jsonb`` and ``uuid`` are strings; ``bool`` is ``bool``;
``int2/4/8`` and ``float4/8`` keep their widths. Each field carries the database type in its
metadata under :data:`DB_TYPE_KEY` (``numeric(38,6)``, ``date`` ...), so a type mismatch with the
contract names the database type. ``char(n)`` values keep the server's blank padding.

Mapping to the contract (:func:`read_sql_table`): numbers feed amount / rate / decimal columns as
the correctly rounded float64 of the exact decimal (a ``NaN`` is ``bad_number``); dates load as
dates; a timestamp feeding a date column keeps its date part (in the session time zone for
``timestamptz``), which is recorded as a note with the number of values whose time of day was
dropped; codes and identifiers load from text; booleans from ``bool``. An incompatible database
type is a :class:`~openalm.errors.SchemaError` naming the column, the database type and the types
expected.

Safety: queries run in read-only transactions on PostgreSQL; user values are bound parameters
(``:name`` in the query, ``params={"name": value}``), never formatted into SQL; a bare table name
is quoted as an identifier. Passwords never appear in errors, logs or file labels
(:func:`redact_url`); a URL may take its password from the environment (``${OPENALM_DB_PASSWORD}``),
expanded only when connecting.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import re
import uuid
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote, unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from openalm.data._cells import ArrowColumn, coerce_typed
from openalm.data.loaders import ParsedTable, parse_arrow_table
from openalm.data.schema import TABLES, Column, LogicalType, TableSchema
from openalm.errors import ConfigError, DataError, SchemaError
from openalm.i18n import Language, label

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

__all__ = [
    "DB_TYPE_KEY",
    "Driver",
    "SqlSource",
    "fetch_sql",
    "read_sql_source",
    "read_sql_table",
    "redact_url",
]

_log = logging.getLogger(__name__)

#: Field-metadata key holding the database type of a fetched column (``numeric(38,6)``, ``date``).
DB_TYPE_KEY: Final = b"openalm.db_type"
#: Which client library reads the database: ``auto`` = ADBC for ``postgresql://`` when installed.
Driver = Literal["auto", "adbc", "sqlalchemy"]

_DEFAULT_BATCH_ROWS: Final = 100_000
_REDACTED: Final = "***"
_PG_SCHEMES: Final = ("postgresql", "postgres")
_ENV_REF: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_PARAM: Final = re.compile(r"(?i)((?:^|[?&;])\s*(?:password|passwd|pwd|sslpassword)\s*=)[^&;#]*")
_IDENT: Final = r"[^\W\d]\w*"
_TABLE_NAME: Final = re.compile(rf"{_IDENT}(?:\.{_IDENT}){{0,2}}")
_LEADING_COMMENTS: Final = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_STATEMENT: Final = re.compile(r"\(*\s*(select|with|values|table)\b", re.I)

#: PostgreSQL types read as text in both paths (exactness, and the same value in both).
_PG_TEXT_TYPES: Final = frozenset({"text", "varchar", "bpchar", "char", "name", "json", "jsonb", "uuid", "xml"})
_PG_ARROW: Final[Mapping[str, pa.DataType]] = {
    "bool": pa.bool_(),
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}
#: Database types to name when a contract column's type does not match.
_EXPECTED_DB_TYPES: Final[Mapping[LogicalType, str]] = {
    LogicalType.DATE: "DATE (or TIMESTAMP, whose date part is used, or text YYYY-MM-DD)",
    LogicalType.AMOUNT: "NUMERIC/DECIMAL, DOUBLE PRECISION or an integer type",
    LogicalType.RATE: "NUMERIC/DECIMAL or DOUBLE PRECISION (a decimal, 3.45% is 0.0345)",
    LogicalType.DECIMAL: "NUMERIC/DECIMAL or DOUBLE PRECISION",
    LogicalType.INT: "INTEGER/BIGINT (or NUMERIC without fraction)",
    LogicalType.BOOL: "BOOLEAN (or an integer 0/1, or text true/false)",
    LogicalType.MAP: "JSON/JSONB or text holding a JSON object",
}
_TEXT_EXPECTED: Final = "VARCHAR/TEXT"


# --------------------------------------------------------------------------------------------
# URLs: redaction and environment references
# --------------------------------------------------------------------------------------------


def _split_url(url: str) -> tuple[str, str | None, str]:
    """``(scheme, userinfo or None, rest)`` of ``scheme://userinfo@rest``.

    The userinfo ends at the *last* ``@``: a raw ``@``, ``/`` or ``?`` in a password (which should
    be percent-encoded) then still counts as password, so redaction errs on hiding too much.
    """
    scheme, sep, after = url.partition("://")
    if not sep:
        return "", None, url
    at = after.rfind("@")
    if at < 0:
        return scheme, None, after
    return scheme, after[:at], after[at + 1 :]


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for errors, logs, labels and manifests).

    A password that is only an environment reference (``${OPENALM_DB_PASSWORD}``) is kept: it
    names the secret without revealing it. Password query parameters (``password=``, ``pwd=``,
    ``sslpassword=``) are redacted too.

    Examples
    --------
    >>> redact_url("postgresql://alm:s3cret@db.bank.cn:5432/mart")
    'postgresql://alm:***@db.bank.cn:5432/mart'
    >>> redact_url("postgresql://alm:${OPENALM_DB_PASSWORD}@db/mart")
    'postgresql://alm:${OPENALM_DB_PASSWORD}@db/mart'
    """
    scheme, userinfo, rest = _split_url(url)
    if userinfo is not None and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        shown = password if _ENV_REF.fullmatch(password) else _REDACTED
        url = f"{scheme}://{user}:{shown}@{rest}"
    return _SECRET_PARAM.sub(lambda m: m.group(1) + _REDACTED, url)


def _expand_env(url: str) -> str:
    """``${NAME}`` references replaced from the environment (percent-encoded in the userinfo)."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(
                f"environment variable {name} used in the database URL {redact_url(url)} is not set; "
                f"set it before the run (e.g. export {name}=...)"
            )
        return value

    scheme, userinfo, rest = _split_url(url)
    if not scheme:
        raise ConfigError(  # the value is not echoed: it may hold a password
            "the database URL has no scheme:// and is not a URL; expected e.g. "
            "postgresql://user:${OPENALM_DB_PASSWORD}@host:5432/database"
        )
    rest = _ENV_REF.sub(value_of, rest)
    if userinfo is None:
        return f"{scheme}://{rest}"
    userinfo = _ENV_REF.sub(lambda m: quote(value_of(m), safe=""), userinfo)
    return f"{scheme}://{userinfo}@{rest}"


def _secrets_of(url: str) -> tuple[str, ...]:
    """The password of an expanded URL in the spellings a driver message could show."""
    _, userinfo, _ = _split_url(url)
    found: set[str] = set()
    if userinfo is not None and ":" in userinfo:
        password = userinfo.partition(":")[2]
        found.update({password, unquote(password)})
    for match in _SECRET_PARAM.finditer(url):
        value = url[match.end(1) : match.end()]
        found.update({value, unquote(value)})
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def _scrub(message: str, secrets: Sequence[str]) -> str:
    """A driver message without the password (literal, or inside an echoed URL)."""
    for secret in secrets:
        message = message.replace(secret, _REDACTED)
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1" + _REDACTED + "@", message).strip()


# --------------------------------------------------------------------------------------------
# Statements and parameters
# --------------------------------------------------------------------------------------------


def _statement(query: str, dialect: Dialect) -> str:
    """``query`` as SQL: a bare (optionally schema-qualified) table name is quoted as identifiers."""
    text = query.strip()
    if _TABLE_NAME.fullmatch(text):
        preparer = dialect.identifier_preparer
        quoted = ".".join(preparer.quote(part) for part in text.split("."))
        return f"SELECT * FROM {quoted}"
    comments = _LEADING_COMMENTS.match(text)
    body = text[comments.end() :] if comments else text
    if not _STATEMENT.match(body):
        raise ConfigError(
            f"database query {query[:80]!r} is neither a table name nor a SELECT statement; expected e.g. "
            "'core.positions' or 'SELECT ... FROM ... WHERE as_of = :as_of'"
        )
    return text.rstrip("; \t\r\n")


def _bind_names(sql: str) -> tuple[str, ...]:
    """Names of the ``:name`` parameters of ``sql``, in first-use order."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    compiled = text(sql).compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
    return tuple(compiled.positiontup or ())


def _check_params(sql: str, params: Mapping[str, Any] | None, file: str) -> dict[str, Any]:
    names = _bind_names(sql)
    given = dict(params or {})
    missing = [n for n in names if n not in given]
    unused = [n for n in given if n not in names]
    if missing or unused:
        parts = []
        if missing:
            parts.append(f"parameter(s) {', '.join(':' + n for n in missing)} used in the query but not given")
        if unused:
            parts.append(f"parameter(s) {', '.join(unused)} given but not used in the query")
        raise ConfigError(
            f"{file}: {'; '.join(parts)} (a ':' that is not a parameter is written '\\:')",
        )
    return given


def _is_postgres(url: str) -> bool:
    return url.partition("://")[0].lower() in _PG_SCHEMES


def _adbc_available() -> bool:
    return importlib.util.find_spec("adbc_driver_postgresql") is not None


def _use_adbc(url: str, driver: Driver) -> bool:
    if driver == "sqlalchemy":
        return False
    if driver == "adbc":
        if not _is_postgres(url):
            raise ConfigError(f"driver 'adbc' reads postgresql:// URLs only, got {redact_url(url)}")
        if not _adbc_available():
            raise ConfigError("driver 'adbc' asked for but adbc-driver-postgresql is not installed")
        return True
    if driver != "auto":
        raise ConfigError(f"unknown driver {driver!r}; expected 'auto', 'adbc' or 'sqlalchemy'")
    return _is_postgres(url) and _adbc_available()


# --------------------------------------------------------------------------------------------
# Arrow building blocks shared by both paths
# --------------------------------------------------------------------------------------------


def _pg_db_type(name: str, precision: int | None, scale: int | None) -> str:
    if name == "numeric" and precision:
        return f"numeric({precision},{scale or 0})"
    return name


def _numeric_typmod(typmod: int) -> tuple[int | None, int | None]:
    """``(precision, scale)`` of a PostgreSQL numeric type modifier (-1: unconstrained)."""
    if typmod < 4:
        return None, None
    packed = typmod - 4
    return (packed >> 16) & 0xFFFF, packed & 0xFFFF


def _with_db_type(field: pa.Field, db_type: str) -> pa.Field:
    return pa.field(field.name, field.type, nullable=True, metadata={DB_TYPE_KEY: db_type.encode()})


def _session_zone(name: str | None) -> str:
    """An IANA time-zone name Arrow accepts for the session TimeZone (UTC when unusable)."""
    if not name:
        return "UTC"
    try:
        zoneinfo.ZoneInfo(name)
        pa.scalar(0, pa.timestamp("us", tz=name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, pa.ArrowException):
        _log.warning("session TimeZone %r is not an IANA zone name; timestamptz values are read in UTC", name)
        return "UTC"
    return name


def _decimal_column(text: pa.Array, precision: int, scale: int, column: str, file: str, offset: int) -> pa.Array:
    """Exact decimal text -> ``decimal128(precision, scale)``; NaN / Infinity are an error."""
    try:
        return pc.cast(text, pa.decimal128(precision, scale))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for i, value in enumerate(text.to_pylist()):
            if value is not None and not Decimal(value).is_finite():
                raise DataError(
                    f"NUMERIC value {value!r} has no decimal128 form; read the column through read_sql_table "
                    "(which rejects the row) or exclude such rows in the query",
                    file=file,
                    row=offset + i + 1,
                    column=column,
                    value=value,
                ) from None
        raise


#: ADBC spells the special numeric values like C; PostgreSQL (and psycopg) spell them so.
_PG_NUMERIC_SPECIALS: Final = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _pg_numeric_text(values: pa.Array) -> pa.Array:
    """ADBC numeric text with PostgreSQL's spelling of NaN / Infinity (the same text as psycopg)."""
    special = pc.is_in(values, value_set=pa.array(list(_PG_NUMERIC_SPECIALS)))
    if not pc.any(special).as_py():
        return values
    out = values
    for adbc, pg in _PG_NUMERIC_SPECIALS.items():
        out = pc.if_else(pc.equal(out, adbc), pa.scalar(pg), out)
    return out


def _uuid_text(values: pa.Array) -> pa.Array:
    return pa.array([None if b is None else str(uuid.UUID(bytes=b)) for b in values.to_pylist()], pa.string())


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _rechunk(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly ``rows`` rows (the last one shorter); one empty batch for no rows."""
    pending: list[pa.RecordBatch] = []
    count = 0
    schema: pa.Schema | None = None
    emitted = False
    for batch in batches:
        if schema is None or not batch.schema.equals(schema, check_metadata=True):
            if pending:  # schema change (generic path: a column's type became known)
                yield from _table_batches(pa.Table.from_batches(pending), rows)
                emitted, pending, count = True, [], 0
            schema = batch.schema
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema)
            yield _single_batch(table.slice(0, rows))
            emitted = True
            rest = table.slice(rows)
            pending = [b for b in rest.to_batches() if b.num_rows]
            count -= rows
    if count:
        yield _single_batch(pa.Table.from_batches(pending, schema))
    elif not emitted and schema is not None:
        yield _empty_batch(schema)


def _single_batch(table: pa.Table) -> pa.RecordBatch:
    combined = table.combine_chunks().to_batches()
    return combined[0] if combined else _empty_batch(table.schema)


def _table_batches(table: pa.Table, rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, table.num_rows, rows):
        yield _single_batch(table.slice(start, rows))


# --------------------------------------------------------------------------------------------
# ADBC path (PostgreSQL)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AdbcColumn:
    name: str
    db_type: str
    kind: Literal["keep", "decimal", "numeric_text", "tz", "uuid"]
    precision: int = 0
    scale: int = 0


def _adbc_plan(schema: pa.Schema, zone: str, numeric_as_text: bool) -> tuple[list[_AdbcColumn], pa.Schema]:
    plan: list[_AdbcColumn] = []
    fields: list[pa.Field] = []
    for field in schema:
        meta = field.metadata or {}
        name = meta.get(b"POSTGRESQL:type", b"").decode() or str(field.type)
        t = field.type.storage_type if isinstance(field.type, pa.BaseExtensionType) else field.type
        if name == "numeric":
            p, s = _numeric_typmod(int(meta.get(b"POSTGRESQL:typmod", b"-1")))
            db_type = _pg_db_type(name, p, s)
            if p is not None and s is not None and p <= 38 and not numeric_as_text:
                plan.append(_AdbcColumn(field.name, db_type, "decimal", p, s))
                t = pa.decimal128(p, s)
            else:
                plan.append(_AdbcColumn(field.name, db_type, "numeric_text"))
                t = pa.string()
        elif name == "uuid":
            plan.append(_AdbcColumn(field.name, name, "uuid"))
            t = pa.string()
        elif pa.types.is_timestamp(t) and t.tz is not None:
            plan.append(_AdbcColumn(field.name, name, "tz"))
            t = pa.timestamp(t.unit, tz=zone)
        else:
            plan.append(_AdbcColumn(field.name, name, "keep"))
        fields.append(_with_db_type(pa.field(field.name, t), plan[-1].db_type))
    return plan, pa.schema(fields)


def _adbc_convert(
    batch: pa.RecordBatch, plan: Sequence[_AdbcColumn], schema: pa.Schema, file: str, offset: int
) -> pa.RecordBatch:
    arrays: list[pa.Array] = []
    for column, values, target in zip(plan, batch.columns, schema, strict=True):
        if isinstance(values, pa.ExtensionArray):
            values = values.storage
        if column.kind in ("decimal", "numeric_text"):
            values = _pg_numeric_text(values)
        if column.kind == "decimal":
            values = _decimal_column(values, column.precision, column.scale, column.name, file, offset)
        elif column.kind == "uuid":
            values = _uuid_text(values)
        elif values.type != target.type:
            values = pc.cast(values, target.type)
        arrays.append(values)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _next_batch(reader: pa.RecordBatchReader, file: str, secrets: Sequence[str]) -> pa.RecordBatch | None:
    """The next batch of the driver's stream; errors the server sends while streaming -> DataError."""
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
    except pa.ArrowException as err:  # the ADBC stream reports server errors as Arrow errors
        raise DataError(f"query failed: {_scrub(str(err), secrets)}", file=file) from None


def _adbc_batches(
    url: str, sql: str, params: Mapping[str, Any], *, file: str, numeric_as_text: bool, secrets: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as pg_dbapi
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    compiled = text(sql).compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
    positional = tuple(params[name] for name in compiled.positiontup or ())
    try:
        conn = pg_dbapi.connect(url, autocommit=True)
    except adbc_driver_manager.Error as err:
        raise DataError(f"cannot connect to the database: {_scrub(str(err), secrets)}", file=file) from None
    try:
        cursor = conn.cursor()
        try:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.execute("SELECT current_setting('TimeZone')")
            row = cursor.fetchone()
            zone = _session_zone(None if row is None else str(row[0]))
            cursor.execute(compiled.string, positional or None)
            reader = cursor.fetch_record_batch()
            plan, schema = _adbc_plan(reader.schema, zone, numeric_as_text)
            offset = 0
            while (batch := _next_batch(reader, file, secrets)) is not None:
                yield _adbc_convert(batch, plan, schema, file, offset)
                offset += batch.num_rows
            if offset == 0:
                yield _empty_batch(schema)
        except adbc_driver_manager.Error as err:
            raise DataError(f"query failed: {_scrub(str(err), secrets)}", file=file) from None
        finally:
            cursor.close()
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# SQLAlchemy path (any database)
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _SaColumn:
    name: str
    db_type: str | None
    arrow: pa.DataType | None  # None: decided by the first non-null value
    decimal: tuple[int, int] | None = None  # numeric text turned into decimal128(p, s)


def _sqlalchemy_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme.lower() in _PG_SCHEMES and importlib.util.find_spec("psycopg") is not None:
        _log.info("reading %s with SQLAlchemy through psycopg (postgresql+psycopg)", redact_url(url))
        return f"postgresql+psycopg{sep}{rest}"
    return url


def _pg_columns(description: Sequence[Any], dbapi_connection: Any, zone: str, numeric_as_text: bool) -> list[_SaColumn]:
    types = dbapi_connection.adapters.types
    columns: list[_SaColumn] = []
    for item in description:
        info = types.get(item.type_code)
        name = info.name if info is not None else str(item.type_code)
        if name == "numeric":
            p, s = item.precision, item.scale
            decimal = None if numeric_as_text or p is None or p > 38 else (int(p), int(s or 0))
            columns.append(_SaColumn(item.name, _pg_db_type(name, p, s), pa.string(), decimal))
        elif name in _PG_TEXT_TYPES:
            columns.append(_SaColumn(item.name, name, pa.string()))
        elif name == "timestamptz":
            columns.append(_SaColumn(item.name, name, pa.timestamp("us", tz=zone)))
        else:
            columns.append(_SaColumn(item.name, name, _PG_ARROW.get(name)))
    return columns


def _register_text_loaders(dbapi_connection: Any) -> None:
    """psycopg: read numeric, json(b) and uuid as their text (exact; the same text as ADBC)."""
    from psycopg.types.string import TextLoader

    for name in ("numeric", "json", "jsonb", "uuid"):
        dbapi_connection.adapters.register_loader(name, TextLoader)


def _generic_type(value: Any) -> tuple[pa.DataType, str]:
    """Arrow type and database-type description of a column from its first non-null value."""
    if isinstance(value, bool):
        return pa.bool_(), "boolean"
    if isinstance(value, int):
        return pa.int64(), "integer"
    if isinstance(value, float):
        return pa.float64(), "float"
    if isinstance(value, Decimal):
        return pa.string(), "numeric"
    if isinstance(value, dt.datetime):
        return pa.timestamp("us", tz=None if value.tzinfo is None else "UTC"), "timestamp"
    if isinstance(value, dt.date):
        return pa.date32(), "date"
    if isinstance(value, bytes | bytearray | memoryview):
        return pa.binary(), "binary"
    if isinstance(value, str):
        return pa.string(), "text"
    return pa.string(), type(value).__name__  # read as its text (e.g. time, interval): see _generic_value


def _generic_value(value: Any) -> Any:
    """A Python value of a generic driver in a form Arrow takes (exact decimals and others as text)."""
    if value is None or isinstance(value, bool | int | float | str | bytes | dt.date):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return str(value)  # Decimal, UUID, time, timedelta ...


def _arrow_array(values: Sequence[Any], column: _SaColumn, *, file: str, offset: int, generic: bool) -> pa.Array:
    if column.arrow is None:
        first = next((v for v in values if v is not None), None)
        if first is None:
            return pa.nulls(len(values))
        column.arrow, described = _generic_type(first)
        column.db_type = column.db_type or described
    if generic:
        values = [_generic_value(v) for v in values]
    try:
        return pa.array(values, column.arrow)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as err:
        for i, value in enumerate(values):
            try:
                pa.array([value], column.arrow)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
                raise DataError(
                    f"value of Python type {type(value).__name__} does not fit the column's type {column.arrow} "
                    f"(database type {column.db_type}); cast it in the query",
                    file=file,
                    row=offset + i + 1,
                    column=column.name,
                    value=value,
                ) from None
        raise DataError(f"cannot convert column {column.name!r}: {err}", file=file) from None


def _sa_batch(rows: Sequence[Sequence[Any]], columns: Sequence[_SaColumn], **kw: Any) -> pa.RecordBatch:
    n = len(rows)
    values = list(zip(*rows, strict=True)) if n else [() for _ in columns]
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for column, column_values in zip(columns, values, strict=True):
        array = _arrow_array(column_values, column, **kw)
        arrays.append(array)
        fields.append(_with_db_type(pa.field(column.name, array.type), column.db_type or "unknown"))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _sa_decimals(batch: pa.RecordBatch, columns: Sequence[_SaColumn], file: str, offset: int) -> pa.RecordBatch:
    """Numeric text (read with psycopg's text loader) -> decimal128 where the column asks for it."""
    if not any(c.decimal for c in columns):
        return batch
    arrays = []
    for column, values in zip(columns, batch.columns, strict=True):
        if column.decimal is not None:
            values = _decimal_column(values, *column.decimal, column.name, file, offset)
        arrays.append(values)
    fields = [pa.field(f.name, a.type, metadata=f.metadata) for f, a in zip(batch.schema, arrays, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _sqlalchemy_batches(
    url: str,
    query: str,
    params: Mapping[str, Any] | None,
    *,
    batch_rows: int,
    file: str,
    numeric_as_text: bool,
    secrets: Sequence[str],
) -> Iterator[pa.RecordBatch]:
    from sqlalchemy import create_engine, exc, text
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(_sqlalchemy_url(url), poolclass=NullPool)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as err:
        raise ConfigError(f"{file}: not a usable database URL: {_scrub(str(err), secrets)}") from None
    sql = _statement(query, engine.dialect)
    bound = _check_params(sql, params, file)
    postgres = engine.dialect.name == "postgresql"
    try:
        try:
            conn = engine.connect()
        except exc.DBAPIError as err:
            raise DataError(f"cannot connect to the database: {_scrub(str(err.orig), secrets)}", file=file) from None
        except exc.SQLAlchemyError as err:
            raise DataError(f"cannot connect to the database: {_scrub(str(err), secrets)}", file=file) from None
        with conn:
            options: dict[str, Any] = {"stream_results": True, "yield_per": batch_rows}
            dbapi_connection: Any = conn.connection.dbapi_connection
            psycopg3 = postgres and engine.dialect.driver == "psycopg"
            if postgres:
                options["postgresql_readonly"] = True
            if psycopg3:
                _register_text_loaders(dbapi_connection)
            try:
                conn = conn.execution_options(**options)
                result = conn.execute(text(sql), bound)
                description = result.cursor.description if result.cursor is not None else None
                if psycopg3 and description is not None:
                    zone = _session_zone(dbapi_connection.info.parameter_status("TimeZone"))
                    columns = _pg_columns(description, dbapi_connection, zone, numeric_as_text)
                    generic = False
                else:
                    names = list(result.keys())
                    columns = [_SaColumn(n, None, None) for n in names]
                    generic = True
                offset = 0
                for rows in result.partitions():
                    batch = _sa_batch(rows, columns, file=file, offset=offset, generic=generic)
                    yield _sa_decimals(batch, columns, file, offset)
                    offset += len(rows)
                if offset == 0:
                    yield _sa_decimals(_sa_batch([], columns, file=file, offset=0, generic=generic), columns, file, 0)
            except exc.DBAPIError as err:
                raise DataError(f"query failed: {_scrub(str(err.orig), secrets)}", file=file) from None
            except exc.SQLAlchemyError as err:
                raise DataError(f"query failed: {_scrub(str(err), secrets)}", file=file) from None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _file_label(url: str, query: str, contract: str | None = None) -> str:
    """``<redacted url>#<table name>`` for a bare table name, else ``#query`` / ``#query:<contract>``."""
    name = query.strip()
    if not _TABLE_NAME.fullmatch(name):
        name = "query" if contract is None else f"query:{contract}"
    return f"{redact_url(url)}#{name}"


def _fetch(
    url: str,
    query: str,
    *,
    batch_rows: int,
    params: Mapping[str, Any] | None,
    driver: Driver,
    numeric_as_text: bool,
    file: str,
) -> Iterator[pa.RecordBatch]:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise ConfigError(f"batch_rows must be a whole number >= 1, got {batch_rows!r}")
    expanded = _expand_env(url)
    secrets = _secrets_of(expanded)
    if _use_adbc(expanded, driver):
        from sqlalchemy.dialects import postgresql

        sql = _statement(query, postgresql.dialect())
        bound = _check_params(sql, params, file)
        _log.info("reading %s with ADBC (batches of %d rows)", file, batch_rows)
        batches = _adbc_batches(expanded, sql, bound, file=file, numeric_as_text=numeric_as_text, secrets=secrets)
    else:
        _log.info("reading %s with SQLAlchemy (batches of %d rows)", file, batch_rows)
        batches = _sqlalchemy_batches(
            expanded,
            query,
            params,
            batch_rows=batch_rows,
            file=file,
            numeric_as_text=numeric_as_text,
            secrets=secrets,
        )
    yield from _rechunk(batches, batch_rows)


def fetch_sql(
    url: str,
    query: str,
    *,
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    params: Mapping[str, Any] | None = None,
    driver: Driver = "auto",
) -> Iterator[pa.RecordBatch]:
    """Stream the result of ``query`` as Arrow record batches of ``batch_rows`` rows.

    Parameters
    ----------
    url:
        Database URL, SQLAlchemy style (``postgresql://user:pw@host:5432/db``,
        ``mssql+pyodbc://...``, ``sqlite:///file.db``); ``${NAME}`` is replaced from the
        environment when connecting (percent-encoded inside ``user:password``).
    query:
        A ``SELECT`` (or ``WITH``/``VALUES``/``TABLE``) statement, or a bare table name
        (``positions``, ``core.positions``) that is quoted as an identifier. Parameters are
        written ``:name``.
    batch_rows:
        Rows per batch (the last batch is shorter); memory stays bounded by a few batches.
    params:
        Values of the ``:name`` parameters, bound by the driver (never formatted into SQL).
    driver:
        ``auto`` (ADBC for ``postgresql://`` when installed, else SQLAlchemy), ``adbc`` or
        ``sqlalchemy``.

    Yields
    ------
    pyarrow.RecordBatch
        Columns in result order, field metadata :data:`DB_TYPE_KEY` holding the database type.
        An empty result yields one empty batch carrying the schema. On the generic (non
        PostgreSQL) SQLAlchemy path a column's type is that of its first non-null value; a
        column still all-null has type ``null``.

    Raises
    ------
    DataError
        Connection or query failure (redacted URL and the driver's message), or a value that
        does not fit its column's type.
    ConfigError
        Not a URL, a missing environment variable, a query that is neither a table name nor a
        SELECT, a missing or unused parameter, an unknown driver.
    """
    return _fetch(
        url,
        query,
        batch_rows=batch_rows,
        params=params,
        driver=driver,
        numeric_as_text=False,
        file=_file_label(url, query),
    )


def _db_type(field: pa.Field) -> str:
    meta = field.metadata or {}
    return meta.get(DB_TYPE_KEY, str(field.type).encode()).decode()


def _is_numeric_text(field: pa.Field) -> bool:
    db = _db_type(field)
    return (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)) and (
        db.startswith(("numeric", "decimal"))
    )


def _check_type(field: pa.Field, column: Column, file: str) -> None:
    """SchemaError naming the database type when ``field`` cannot hold ``column``."""
    probe_type = pa.float64() if _is_numeric_text(field) else field.type
    try:
        coerce_typed(pa.array([], probe_type), column, file)
    except SchemaError:
        expected = _EXPECTED_DB_TYPES.get(column.type, _TEXT_EXPECTED)
        raise SchemaError(
            f"has database type {_db_type(field)} (Arrow {field.type}), which cannot hold the {column.type.value} "
            f"column {column.name!r}; expected {expected}",
            file=file,
            column=column.name,
        ) from None


def _as_float_or_text(values: ArrowColumn) -> ArrowColumn:
    """Exact decimal text -> float64 (correctly rounded); kept as text when some value is not finite.

    Text that is not a finite number (``NaN``, ``Infinity``) stays text so that
    :func:`~openalm.data._cells.parse_text` rejects the row as ``bad_number`` instead of the
    float path turning NaN into null.
    """
    floats = pc.cast(values, pa.float64())
    if pc.all(pc.fill_null(pc.is_finite(floats), True)).as_py():
        return floats
    return values


def _timestamp_dates(values: ArrowColumn) -> tuple[ArrowColumn, int]:
    """Timestamps -> their date (wall clock, in the column's time zone) and how many had a time."""
    local = pc.local_timestamp(values) if values.type.tz is not None else values
    day = pc.floor_temporal(local, unit="day")
    with_time = int(pc.sum(pc.cast(pc.not_equal(local, day), pa.int64())).as_py() or 0)
    return pc.cast(day, pa.date32()), with_time


def read_sql_table(
    url: str,
    query: str,
    schema: TableSchema | str,
    *,
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    params: Mapping[str, Any] | None = None,
    driver: Driver = "auto",
) -> ParsedTable:
    """Read a contract table from a database and parse it like a Parquet file.

    Parameters
    ----------
    url, query, batch_rows, params, driver:
        As for :func:`fetch_sql`.
    schema:
        The contract table (or its name) the query returns; columns are matched by name.

    Returns
    -------
    ParsedTable
        ``file`` is the redacted URL plus ``#<table name>`` (bare table name) or
        ``#query:<contract table>``; ``source_row`` is the 1-based row of the result set (use
        ``ORDER BY`` for stable row numbers); ``notes`` lists the timestamp-to-date conversions.

    Raises
    ------
    SchemaError
        A required column is missing, or a database type cannot hold the contract column's type
        (naming the column, the database type and the expected types).
    DataError, ConfigError
        As for :func:`fetch_sql`.
    """
    contract = TABLES[schema] if isinstance(schema, str) else schema
    file = _file_label(url, query, contract.name)
    batches = list(
        _fetch(
            url,
            query,
            batch_rows=batch_rows,
            params=params,
            driver=driver,
            numeric_as_text=True,
            file=file,
        )
    )
    table = pa.concat_tables([pa.Table.from_batches([b]) for b in batches], promote_options="permissive")
    notes: list[str] = []
    columns: dict[str, ArrowColumn] = {}
    fields: list[pa.Field] = []
    for field in table.schema:
        values: ArrowColumn = table.column(field.name)
        if field.name in contract:
            column = contract.column(field.name)
            _check_type(field, column, file)
            if _is_numeric_text(field) and column.type in (LogicalType.AMOUNT, LogicalType.RATE, LogicalType.DECIMAL):
                values = _as_float_or_text(values)
            elif pa.types.is_timestamp(field.type) and column.type is LogicalType.DATE:
                values, with_time = _timestamp_dates(values)
                notes.append(
                    f"{file}: column {field.name!r} has database type {_db_type(field)}; its date part is used "
                    f"({with_time} value(s) had a time of day, which was dropped)"
                )
        columns[field.name] = values
        fields.append(pa.field(field.name, values.type))
    typed = pa.Table.from_arrays(list(columns.values()), schema=pa.schema(fields))
    source_row = np.arange(1, typed.num_rows + 1, dtype=np.int64)
    parsed = parse_arrow_table(typed, contract, file=file, source_row=source_row)
    parsed.notes.extend(notes)
    for note in notes:
        _log.info("%s", note)
    _log.info("read %d row(s) from %s", parsed.num_rows, file)
    return parsed


class SqlSource(BaseModel):
    """Contract tables read from one database.

    Attributes
    ----------
    url:
        Database URL; the password should be an environment reference
        (``postgresql://alm:${OPENALM_DB_PASSWORD}@db:5432/mart``), expanded only when
        connecting. Serialised (``model_dump``) with the password redacted.
    tables:
        ``{contract table: table name or SELECT statement}``, e.g.
        ``{"positions": "mart.alm_positions", "counterparties": "SELECT ... FROM ..."}``.
    params:
        Values of the ``:name`` parameters the queries use (each query gets the ones it uses).
    batch_rows:
        Rows per fetched batch.
    driver:
        ``auto``, ``adbc`` or ``sqlalchemy`` (see :func:`fetch_sql`).
    """

    # hide_input_in_errors: a rejected URL may hold a literal password
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str = Field(min_length=1)
    tables: dict[str, str] = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    batch_rows: int = Field(default=_DEFAULT_BATCH_ROWS, ge=1)
    driver: Driver = "auto"

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(  # the value is not echoed: it may hold a password
                "not a database URL (no scheme://); expected e.g. "
                "postgresql://user:${OPENALM_DB_PASSWORD}@host:5432/database"
            )
        return value

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [name for name in value if name not in TABLES]
        if unknown:
            raise ValueError(f"unknown contract table(s) {', '.join(unknown)}; expected some of {', '.join(TABLES)}")
        empty = [name for name, query in value.items() if not query.strip()]
        if empty:
            raise ValueError(f"empty query for table(s) {', '.join(empty)}")
        return value

    @field_serializer("url")
    def _serialise_url(self, value: str) -> str:
        return redact_url(value)

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, (redact_url(value) if name == "url" else value)

    def describe(self, lang: Language | None = None) -> str:
        """One line per table for users: ``<database label> <url>: positions <- mart.positions``."""
        head = f"{label('sql.source', lang)} {redact_url(self.url)}"
        lines = [head]
        for name, query in self.tables.items():
            shown = query if _TABLE_NAME.fullmatch(query.strip()) else label("sql.query", lang)
            lines.append(f"  {name} <- {shown}")
        return "\n".join(lines)


def read_sql_source(source: SqlSource, schemas: Mapping[str, TableSchema] | None = None) -> dict[str, ParsedTable]:
    """Read every table of ``source``, parsed against its contract table.

    Parameters
    ----------
    source:
        The database and its ``{contract table: query}``.
    schemas:
        Contract tables by name (default :data:`openalm.data.schema.TABLES`).

    Returns
    -------
    dict[str, ParsedTable]
        By contract table name, in ``source.tables`` order.
    """
    contract = TABLES if schemas is None else schemas
    parsed: dict[str, ParsedTable] = {}
    for name, query in source.tables.items():
        if name not in contract:
            raise ConfigError(f"table {name!r} of the SQL source has no contract schema")
        names = set(_bind_names(query)) if not _TABLE_NAME.fullmatch(query.strip()) else set()
        params = {k: v for k, v in source.params.items() if k in names}
        parsed[name] = read_sql_table(
            source.url, query, contract[name], batch_rows=source.batch_rows, params=params, driver=source.driver
        )
    return parsed
