"""SQL loader (openalm.data.sql) against a real PostgreSQL 15 server, one server per module.

The positions and counterparties of a synthetic bank (2,000 contracts plus four bad rows) are
written to PostgreSQL with realistic column types (NUMERIC(38,6) amounts, NUMERIC(20,10) rates,
DATE dates, a TIMESTAMP as-of date, VARCHAR codes, BOOLEAN flags, INTEGER counts) and to a
Parquet file; reading either must give the same typed table and the same rejects.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from openalm.data.loaders import ParsedTable, read_table
from openalm.data.schema import TABLES, LogicalType, TableSchema
from openalm.data.sql import (
    DB_TYPE_KEY,
    SqlSource,
    fetch_sql,
    read_sql_source,
    read_sql_table,
    redact_url,
)
from openalm.data.synthetic import generate_bank
from openalm.data.validation import validate_tables
from openalm.errors import ConfigError, DataError, SchemaError
from openalm.testing.postgres import postgres_unavailable_reason, running_postgres

AS_OF = dt.date(2026, 6, 30)
N_GOOD = 2000
DRIVERS = ("adbc", "sqlalchemy")
ORDERED = "SELECT * FROM positions ORDER BY position_id"

#: Scale (decimal places) of the NUMERIC column of each float logical type.
SCALE = {LogicalType.AMOUNT: 6, LogicalType.RATE: 10, LogicalType.DECIMAL: 10}


# --------------------------------------------------------------------------------------------
# Fixtures: one server, one bank
# --------------------------------------------------------------------------------------------


def _sql_type(schema: TableSchema, name: str) -> str:
    kind = schema.column(name).type
    if name == "as_of_date":
        return "TIMESTAMP"  # core systems often stamp the extract; only the date part is used
    if kind in SCALE:
        return "NUMERIC(38,6)" if kind is LogicalType.AMOUNT else "NUMERIC(20,10)"
    return {
        LogicalType.DATE: "DATE",
        LogicalType.BOOL: "BOOLEAN",
        LogicalType.INT: "INTEGER",
        LogicalType.MAP: "JSONB",
    }.get(kind, "VARCHAR(64)")


def _rounded(table: pa.Table, schema: TableSchema) -> pa.Table:
    """Floats rounded (correctly, via Decimal) to the scale of their NUMERIC column."""
    columns = []
    for field in table.schema:
        values = table.column(field.name)
        kind = schema.column(field.name).type
        if kind in SCALE:
            quantum = Decimal(1).scaleb(-SCALE[kind])
            rounded = [None if v is None else float(Decimal(repr(v)).quantize(quantum)) for v in values.to_pylist()]
            values = pa.chunked_array([pa.array(rounded, pa.float64())])
        columns.append(values)
    return pa.table(columns, names=table.column_names)


def _with_bad_rows(positions: pa.Table) -> pa.Table:
    """Four bad rows, each a copy of a good row with one problem, sorting right after it."""
    rows = positions.to_pylist()
    with_rate = next(r for r in rows if r["current_rate"] is not None and r["maturity_date"] is not None)
    dated = next(r for r in rows if r["origination_date"] is not None and r["maturity_date"] is not None)
    bad = [
        {**rows[0], "position_id": rows[0]["position_id"] + "~bad1", "instrument_type": "Loan"},
        {**with_rate, "position_id": with_rate["position_id"] + "~bad2", "current_rate": 3.45},
        {**rows[1], "position_id": rows[1]["position_id"] + "~bad3", "principal_balance": -100.0},
        {
            **dated,
            "position_id": dated["position_id"] + "~bad4",
            "origination_date": dated["maturity_date"] + dt.timedelta(days=1),
        },
    ]
    table = pa.concat_tables([positions, pa.Table.from_pylist(bad, schema=positions.schema)])
    return table.take(pc.sort_indices(table, [("position_id", "ascending")]))


def _create(conn: psycopg.Connection[Any], name: str, table: pa.Table, schema: TableSchema) -> None:
    columns = ", ".join(f"{c} {_sql_type(schema, c)}" for c in table.column_names)
    conn.execute(f"CREATE TABLE {name} ({columns})")
    scales = {c: SCALE.get(schema.column(c).type) for c in table.column_names}
    with conn.cursor().copy(f"COPY {name} ({', '.join(table.column_names)}) FROM STDIN") as copy:
        for row in table.to_pylist():
            values = []
            for column, value in row.items():
                if value is not None and scales[column] is not None:
                    value = Decimal(repr(value))
                elif value is not None and column == "as_of_date":
                    value = dt.datetime.combine(value, dt.time())
                values.append(value)
            copy.write_row(values)


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = postgres_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with running_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(scope="module")
def bank(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bank in PostgreSQL and in Parquet: expected tables, Parquet paths, parsed Parquet."""
    tables = generate_bank(N_GOOD, as_of=AS_OF)
    positions = _with_bad_rows(_rounded(tables["positions"], TABLES["positions"]))
    counterparties = _rounded(tables["counterparties"], TABLES["counterparties"])
    folder = tmp_path_factory.mktemp("parquet")
    pq.write_table(positions, folder / "positions.parquet")
    pq.write_table(counterparties, folder / "counterparties.parquet")
    with psycopg.connect(pg_url) as conn:
        _create(conn, "positions", positions, TABLES["positions"])
        _create(conn, "counterparties", counterparties, TABLES["counterparties"])
        conn.execute('CREATE SCHEMA core; CREATE TABLE core."order" (position_id VARCHAR(20), n INTEGER)')
        conn.execute("CREATE SEQUENCE core.s")
        conn.execute("INSERT INTO core.\"order\" VALUES ('a', 1), ('b', 2)")
    return {
        "positions": positions,
        "parquet": {
            "positions": read_table(folder / "positions.parquet", "positions"),
            "counterparties": read_table(folder / "counterparties.parquet", "counterparties"),
        },
    }


@pytest.fixture(scope="module")
def from_sql(pg_url: str, bank: dict[str, Any]) -> dict[str, ParsedTable]:
    """positions read through each driver (ORDER BY position_id)."""
    return {d: read_sql_table(pg_url, ORDERED, "positions", driver=d) for d in DRIVERS}  # type: ignore[arg-type]


def _password(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reject_keys(parsed: Mapping[str, ParsedTable]) -> list[tuple[Any, ...]]:
    result = validate_tables(parsed, AS_OF)
    return [(r.table, r.row, r.column, r.value, r.reason, r.message, r.position_id) for r in result.rejects]


def _select_replacing(replace: Mapping[str, str], columns: Sequence[str]) -> str:
    items = [f"{replace[c]} AS {c}" if c in replace else c for c in columns]
    return f"SELECT {', '.join(items)} FROM positions ORDER BY position_id"


# --------------------------------------------------------------------------------------------
# Same values as Parquet, through both drivers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_typed_values_equal_parquet(
    pg_url: str, from_sql: dict[str, ParsedTable], bank: dict[str, Any], driver: str
) -> None:
    parsed = from_sql[driver]
    expected = bank["parquet"]["positions"]
    assert parsed.num_rows == N_GOOD + 4
    assert parsed.data.schema == expected.data.schema
    assert parsed.data.equals(expected.data)
    assert parsed.file == redact_url(pg_url) + "#query:positions"
    assert "openalm:***@127.0.0.1:" in parsed.file
    # problems: the unknown code only (the other bad rows fail row rules, not parsing)
    assert [(c, p.reason, int(p.mask.sum())) for c, p in parsed.problems] == [("instrument_type", "unknown_code", 1)]
    # the TIMESTAMP as-of date: date part used, counted as a note (no value had a time of day)
    assert [n for n in parsed.notes if "as_of_date" in n] == [
        f"{parsed.file}: column 'as_of_date' has database type timestamp; its date part is used "
        "(0 value(s) had a time of day, which was dropped)"
    ]


def test_both_drivers_identical(pg_url: str, from_sql: dict[str, ParsedTable]) -> None:
    assert from_sql["adbc"].data.equals(from_sql["sqlalchemy"].data)
    fetched = {d: pa.Table.from_batches(list(fetch_sql(pg_url, ORDERED, driver=d))) for d in DRIVERS}  # type: ignore[arg-type]
    assert fetched["adbc"].equals(fetched["sqlalchemy"], check_metadata=True)
    schema = fetched["adbc"].schema
    assert schema.field("principal_balance").type == pa.decimal128(38, 6)
    assert schema.field("current_rate").type == pa.decimal128(20, 10)
    assert schema.field("maturity_date").type == pa.date32()
    assert schema.field("as_of_date").type == pa.timestamp("us")
    assert schema.field("on_balance_sheet").type == pa.bool_()
    assert schema.field("notice_period_days").type == pa.int32()
    assert schema.field("principal_balance").metadata == {DB_TYPE_KEY: b"numeric(38,6)"}
    assert schema.field("instrument_type").metadata == {DB_TYPE_KEY: b"varchar"}


def test_rejects_equal_parquet(pg_url: str, bank: dict[str, Any], from_sql: dict[str, ParsedTable]) -> None:
    ids = bank["positions"].column("position_id").to_pylist()
    row_of = {pid: i + 1 for i, pid in enumerate(ids)}
    bad = {pid: row_of[pid] for pid in ids if "~bad" in pid}
    from_parquet = _reject_keys(bank["parquet"])
    sql_counterparties = read_sql_table(pg_url, "counterparties", "counterparties")
    for driver in DRIVERS:
        assert _reject_keys({"positions": from_sql[driver], "counterparties": sql_counterparties}) == from_parquet
    found = {(key[6], key[4]) for key in from_parquet}
    suffix = {pid.rsplit("~", 1)[1]: pid for pid in bad}
    assert found == {
        (suffix["bad1"], "unknown_code"),
        (suffix["bad2"], "implausible_rate"),
        (suffix["bad3"], "negative_amount"),
        (suffix["bad4"], "origination_after_maturity"),
    }
    # row numbers are result-set rows in ORDER BY position_id order
    assert {key[6]: key[1] for key in from_parquet} == bad
    values = {(key[6], key[2]): key[3] for key in from_parquet}
    assert values[(suffix["bad1"], "instrument_type")] == "Loan"
    assert values[(suffix["bad2"], "current_rate")] == "3.45"


# --------------------------------------------------------------------------------------------
# Queries, names, parameters, streaming
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_bare_table_name(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    parsed = read_sql_table(pg_url, "positions", "positions", driver=driver)
    assert parsed.file.endswith("/openalm#positions")
    order = pc.sort_indices(parsed.data, [("position_id", "ascending")])
    expected = bank["parquet"]["positions"].data
    assert parsed.data.take(order).drop_columns(["source_row"]).equals(expected.drop_columns(["source_row"]))
    # a schema-qualified reserved word is quoted as an identifier
    batches = list(fetch_sql(pg_url, "core.order", driver=driver))
    assert pa.Table.from_batches(batches).to_pydict() == {"position_id": ["a", "b"], "n": [1, 2]}


@pytest.mark.parametrize("driver", DRIVERS)
def test_streaming_smaller_batches(pg_url: str, from_sql: dict[str, ParsedTable], driver: Any) -> None:
    batches = list(fetch_sql(pg_url, ORDERED, batch_rows=300, driver=driver))
    assert [b.num_rows for b in batches] == [300] * 6 + [N_GOOD + 4 - 1800]
    ids = pa.Table.from_batches(batches).column("position_id")
    assert ids.equals(from_sql["adbc"].data.column("position_id"))
    parsed = read_sql_table(pg_url, ORDERED, "positions", batch_rows=7, driver=driver)
    assert parsed.data.equals(from_sql["adbc"].data)


@pytest.mark.parametrize("driver", DRIVERS)
def test_bound_parameters(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    query = "SELECT * FROM positions WHERE currency = :ccy AND as_of_date::date = :as_of ORDER BY position_id"
    parsed = read_sql_table(pg_url, query, "positions", params={"ccy": "USD", "as_of": AS_OF}, driver=driver)
    usd = pc.equal(bank["positions"].column("currency"), "USD")
    assert parsed.num_rows == pc.sum(usd).as_py() > 0
    assert set(parsed.data.column("currency").to_pylist()) == {"USD"}
    # a value that looks like SQL stays a value
    hostile = list(fetch_sql(pg_url, query, params={"ccy": "USD' OR '1'='1", "as_of": AS_OF}, driver=driver))
    assert [b.num_rows for b in hostile] == [0]
    with pytest.raises(ConfigError, match=r":as_of used in the query but not given"):
        list(fetch_sql(pg_url, query, params={"ccy": "USD"}, driver=driver))


@pytest.mark.parametrize("driver", DRIVERS)
def test_read_only(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    with pytest.raises(DataError, match=r"cannot execute setval\(\) in a read-only transaction"):
        list(fetch_sql(pg_url, "SELECT setval('core.s', 5) AS v", driver=driver))
    assert pa.Table.from_batches(list(fetch_sql(pg_url, "SELECT last_value FROM core.s"))).to_pylist() == [
        {"last_value": 1}
    ]


@pytest.mark.parametrize("driver", DRIVERS)
def test_empty_result_keeps_schema(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    batches = list(fetch_sql(pg_url, "SELECT * FROM positions WHERE false", driver=driver))
    assert len(batches) == 1 and batches[0].num_rows == 0
    assert batches[0].schema.field("principal_balance").type == pa.decimal128(38, 6)
    parsed = read_sql_table(pg_url, "SELECT * FROM positions WHERE false", "positions", driver=driver)
    assert parsed.num_rows == 0 and "principal_balance" in parsed.present


# --------------------------------------------------------------------------------------------
# Type mapping
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_timestamps_keep_date_part(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    first = bank["positions"].column("position_id")[0].as_py()
    columns = bank["positions"].column_names
    # 00:30 in Shanghai on 2026-06-30 is 2026-06-29 16:30 UTC: the session zone decides the date
    replace = {
        "as_of_date": f"CASE WHEN position_id = '{first}' THEN as_of_date + interval '13 hours' ELSE as_of_date END",
        "maturity_date": "(maturity_date + time '00:30')::timestamptz",
    }
    url = pg_url + "?options=-c%20TimeZone%3DAsia/Shanghai"
    parsed = read_sql_table(url, _select_replacing(replace, columns), "positions", driver=driver)
    expected = bank["parquet"]["positions"].data
    assert parsed.data.column("as_of_date").equals(expected.column("as_of_date"))
    assert parsed.data.column("maturity_date").equals(expected.column("maturity_date"))
    notes = [n.split(": ", 1)[1] for n in parsed.notes]
    with_maturity = pc.sum(pc.is_valid(expected.column("maturity_date"))).as_py()
    assert notes == [
        "column 'as_of_date' has database type timestamp; its date part is used "
        "(1 value(s) had a time of day, which was dropped)",
        "column 'maturity_date' has database type timestamptz; its date part is used "
        f"({with_maturity} value(s) had a time of day, which was dropped)",
    ]


@pytest.mark.parametrize("driver", DRIVERS)
def test_numeric_nan_is_rejected_not_null(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    first = bank["positions"].column("position_id")[0].as_py()
    replace = {
        "principal_balance": f"(CASE WHEN position_id = '{first}' THEN 'NaN' ELSE principal_balance END)::numeric(38,6)"
    }
    query = _select_replacing(replace, bank["positions"].column_names)
    parsed = read_sql_table(pg_url, query, "positions", driver=driver)
    problems = [(c, p.reason, p.mask.nonzero()[0].tolist()) for c, p in parsed.problems if c == "principal_balance"]
    assert problems == [("principal_balance", "bad_number", [0])]
    assert parsed.raw["principal_balance"][0].as_py() == "NaN"
    with pytest.raises(DataError, match=r"row 1, column 'principal_balance', value 'NaN'"):
        list(fetch_sql(pg_url, query, driver=driver))  # decimal128 has no NaN


@pytest.mark.parametrize("driver", DRIVERS)
def test_incompatible_type_names_db_type(pg_url: str, bank: dict[str, Any], driver: Any) -> None:
    replace = {"maturity_date": "on_balance_sheet", "instrument_type": "principal_balance"}
    query = _select_replacing({"maturity_date": replace["maturity_date"]}, bank["positions"].column_names)
    with pytest.raises(SchemaError) as caught:
        read_sql_table(pg_url, query, "positions", driver=driver)
    assert caught.value.column == "maturity_date"
    assert "has database type bool (Arrow bool), which cannot hold the date column 'maturity_date'" in str(caught.value)
    assert "expected DATE" in str(caught.value)
    query = _select_replacing({"instrument_type": replace["instrument_type"]}, bank["positions"].column_names)
    with pytest.raises(SchemaError, match=r"database type numeric\(38,6\) .* enum column 'instrument_type'.*VARCHAR"):
        read_sql_table(pg_url, query, "positions", driver=driver)


# --------------------------------------------------------------------------------------------
# Connections, passwords, configuration
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_wrong_password_is_redacted(pg_url: str, driver: Any) -> None:
    wrong = pg_url.replace(_password(pg_url), "Wr0ng-s3cret")
    with pytest.raises(DataError) as caught:
        list(fetch_sql(wrong, "positions", driver=driver))
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "Wr0ng-s3cret" not in message and _password(pg_url) not in message
    assert caught.value.file == redact_url(wrong) + "#positions"
    assert "openalm:***@127.0.0.1" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("driver", DRIVERS)
def test_unreachable_server(pg_url: str, driver: Any) -> None:
    url = f"postgresql://openalm:Wr0ng-s3cret@127.0.0.1:{_closed_port()}/openalm"
    with pytest.raises(DataError, match="cannot connect to the database") as caught:
        list(fetch_sql(url, "SELECT 1", driver=driver))
    assert "Wr0ng-s3cret" not in str(caught.value)
    assert "openalm:***@127.0.0.1" in str(caught.value)


def test_password_from_environment(pg_url: str, bank: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    password = _password(pg_url)
    url = pg_url.replace(password, "${OPENALM_DB_PASSWORD}")
    monkeypatch.setenv("OPENALM_DB_PASSWORD", password)
    for driver in DRIVERS:
        batches = list(fetch_sql(url, "core.order", driver=driver))  # type: ignore[arg-type]
        assert batches[0].num_rows == 2
    monkeypatch.setenv("OPENALM_DB_PASSWORD", "p@ss/w:rd?#")  # percent-encoded when expanded
    with pytest.raises(DataError, match="password authentication failed") as caught:
        list(fetch_sql(url, "core.order", driver="adbc"))
    assert "p@ss" not in str(caught.value) and "${OPENALM_DB_PASSWORD}" in str(caught.value)
    monkeypatch.delenv("OPENALM_DB_PASSWORD")
    with pytest.raises(ConfigError, match=r"environment variable OPENALM_DB_PASSWORD .* is not set"):
        list(fetch_sql(url, "core.order"))


def test_sql_source(pg_url: str, bank: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    password = _password(pg_url)
    monkeypatch.setenv("OPENALM_DB_PASSWORD", password)
    url = pg_url.replace(password, "${OPENALM_DB_PASSWORD}")
    source = SqlSource(
        url=url,
        tables={"positions": "SELECT * FROM positions WHERE as_of_date >= :as_of ORDER BY position_id"},
        params={"as_of": AS_OF},
    )
    source = source.model_copy(update={"tables": {**source.tables, "counterparties": "counterparties"}})
    parsed = read_sql_source(source)
    assert list(parsed) == ["positions", "counterparties"]
    assert parsed["positions"].data.equals(bank["parquet"]["positions"].data)
    assert parsed["counterparties"].num_rows == bank["parquet"]["counterparties"].num_rows
    assert parsed["counterparties"].file.endswith("#counterparties")
    literal = SqlSource(url=pg_url, tables={"positions": "positions"})
    assert password not in repr(literal) and password not in literal.model_dump_json()
    assert literal.model_dump()["url"] == redact_url(pg_url)
    assert source.describe("en").splitlines() == [
        f"Database {url}",
        "  positions <- SQL query",
        "  counterparties <- counterparties",
    ]
    assert source.describe("zh").splitlines()[1] == "  positions <- SQL查询"


def test_sql_source_rejects_bad_config() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SqlSource(url="postgresql://h/db", tables={"positions": "p"}, user="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="unknown contract table"):
        SqlSource(url="postgresql://h/db", tables={"position": "p"})
    with pytest.raises(ValidationError, match="not a database URL") as caught:
        SqlSource(url="alm:s3cret@h/db", tables={"positions": "p"})
    assert "s3cret" not in str(caught.value)


# --------------------------------------------------------------------------------------------
# No server needed
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://alm:s3cret@db:5432/mart", "postgresql://alm:***@db:5432/mart"),
        ("postgresql://alm:p%40ss@db/mart?sslmode=require", "postgresql://alm:***@db/mart?sslmode=require"),
        ("postgresql://alm:p@ss/w?rd@db/mart", "postgresql://alm:***@db/mart"),
        ("postgresql://alm:${OPENALM_DB_PASSWORD}@db/mart", "postgresql://alm:${OPENALM_DB_PASSWORD}@db/mart"),
        ("postgresql://alm@db/mart", "postgresql://alm@db/mart"),
        ("postgresql://db/mart?user=alm&password=s3cret&x=1", "postgresql://db/mart?user=alm&password=***&x=1"),
        (
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx;UID=a;PWD=s3cret;",
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx;UID=a;PWD=***;",
        ),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_query_must_be_select_or_table_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    for query in ("DROP TABLE positions", "positions; DROP TABLE x", "positions x"):
        with pytest.raises(ConfigError, match="neither a table name nor a SELECT"):
            list(fetch_sql(url, query))
    with pytest.raises(ConfigError, match="batch_rows must be a whole number >= 1"):
        list(fetch_sql(url, "t", batch_rows=0))
    with pytest.raises(ConfigError, match="reads postgresql:// URLs only"):
        list(fetch_sql(url, "t", driver="adbc"))


def test_generic_sqlalchemy_path(tmp_path: Path) -> None:
    """SQLite: types come from the values; all-null leading batches are promoted."""
    import sqlite3

    path = tmp_path / "bank.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE fx (as_of_date TEXT, base_currency TEXT, quote_currency TEXT, rate REAL, n INT)")
        conn.executemany(
            "INSERT INTO fx VALUES (?, ?, ?, ?, ?)",
            [
                ("2026-06-30", "USD", "CNY", 7.1, None),
                ("2026-06-30", "EUR", "CNY", 7.8, None),
                ("20260630", "HKD", "CNY", 0.91, 3),
            ],
        )
    conn.close()
    batches = list(fetch_sql(f"sqlite:///{path}", "SELECT * FROM fx ORDER BY rate DESC", batch_rows=2))
    assert [b.num_rows for b in batches] == [2, 1]
    assert batches[0].schema.field("n").type == pa.null() and batches[1].schema.field("n").type == pa.int64()
    assert batches[1].schema.field("n").metadata == {DB_TYPE_KEY: b"integer"}
    query = "SELECT *, 'closing' AS rate_type FROM fx ORDER BY rate DESC"
    parsed = read_sql_table(f"sqlite:///{path}", query, "fx_rates", batch_rows=2)
    assert parsed.data.column("as_of_date").to_pylist() == [AS_OF] * 3
    assert parsed.data.column("rate").to_pylist() == [7.8, 7.1, 0.91]
    assert parsed.extra_columns == ("n",)


def test_postgres_fixture_reports_missing_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import openalm.testing.postgres as pg

    monkeypatch.setattr(pg, "find_postgres_binaries", lambda: None)
    reason = pg.postgres_unavailable_reason()
    assert reason is not None and reason.startswith("PostgreSQL initdb/pg_ctl not found")
    with pytest.raises(pg.PostgresUnavailableError, match="initdb/pg_ctl not found"), pg.running_postgres(tmp_path):
        pass  # pragma: no cover
