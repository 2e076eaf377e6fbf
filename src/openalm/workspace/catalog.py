"""The workspace catalogue: one DuckDB file recording snapshots, runs, reports and the audit log.

The catalogue is the commit point of every write in a workspace. Data files are written aside
(in the workspace's staging folder), moved into place, and only then recorded here in one DuckDB
transaction; readers find data only through the catalogue, so files that a killed process left
behind are invisible and are swept up by the next writer (:meth:`Workspace.recover`).

Tables (all append-only from the API's point of view; nothing is ever updated in place):

``meta``                  key/value facts (schema version, creation time)
``snapshots``             one row per immutable snapshot version of an as-of date
``snapshot_tables``       the Parquet file behind each table of a version (unchanged tables of a
                          correction point to the parent's file: copy on write)
``corrections``           one row per changed cell, inserted or deleted row of a correction
``quality_results``       the data-quality report of each version (one row per rule)
``reconciliations``       the GL reconciliation of each version (one row per account line)
``mappings``              every source mapping a load used, by content hash (exportable)
``partition_plans``       the stable partition plan of an as-of date (split keys)
``runs``                  one row per run, with its manifest
``run_partitions``        the content hash and files of each partition of a run
``audit_log``             who did what, when, with which inputs; hash-chained (tamper-evident)
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa

from openalm.errors import OpenALMError

__all__ = ["SCHEMA_VERSION", "Catalog", "current_user"]

SCHEMA_VERSION: Final = 1

_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS snapshots (
        snapshot_id VARCHAR PRIMARY KEY,
        as_of DATE NOT NULL,
        version INTEGER NOT NULL,
        parent_id VARCHAR,
        kind VARCHAR NOT NULL,
        content_sha256 VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        source VARCHAR,
        reason VARCHAR,
        mapping_sha256 VARCHAR,
        counts VARCHAR NOT NULL,
        files VARCHAR,
        warnings VARCHAR,
        reconciliation_status VARCHAR,
        UNIQUE (as_of, version))""",
    """CREATE TABLE IF NOT EXISTS snapshot_tables (
        snapshot_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        content_sha256 VARCHAR NOT NULL,
        quarantine_path VARCHAR,
        quarantined BIGINT NOT NULL,
        PRIMARY KEY (snapshot_id, table_name))""",
    """CREATE TABLE IF NOT EXISTS corrections (
        snapshot_id VARCHAR NOT NULL,
        seq INTEGER NOT NULL,
        table_name VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        column_name VARCHAR,
        old_value VARCHAR,
        new_value VARCHAR,
        reason VARCHAR NOT NULL,
        corrected_by VARCHAR NOT NULL,
        corrected_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quality_results (
        snapshot_id VARCHAR NOT NULL,
        rule_id VARCHAR,
        table_name VARCHAR,
        reason VARCHAR,
        severity VARCHAR,
        rows_checked BIGINT,
        rows_failed BIGINT,
        sample VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS reconciliations (
        snapshot_id VARCHAR NOT NULL,
        reporting_entity_id VARCHAR,
        branch_id VARCHAR,
        gl_account VARCHAR,
        currency VARCHAR,
        measure VARCHAR,
        gl_balance DOUBLE,
        positions_amount DOUBLE,
        difference DOUBLE,
        tolerance DOUBLE,
        status VARCHAR,
        position_count BIGINT)""",
    """CREATE TABLE IF NOT EXISTS partition_plans (
        plan_id VARCHAR PRIMARY KEY,
        as_of DATE NOT NULL,
        key_columns VARCHAR NOT NULL,
        split_keys VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY,
        as_of DATE NOT NULL,
        snapshot_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        base_run_id VARCHAR,
        plan_id VARCHAR NOT NULL,
        context_sha256 VARCHAR NOT NULL,
        config_sha256 VARCHAR NOT NULL,
        code_version VARCHAR NOT NULL,
        partitions INTEGER NOT NULL,
        recomputed INTEGER NOT NULL,
        path VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        manifest VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS run_partitions (
        run_id VARCHAR NOT NULL,
        partition INTEGER NOT NULL,
        content_sha256 VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        computed_in VARCHAR NOT NULL,
        PRIMARY KEY (run_id, partition))""",
    """CREATE TABLE IF NOT EXISTS mappings (
        mapping_sha256 VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        version VARCHAR NOT NULL,
        content VARCHAR NOT NULL,
        first_used_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY,
        logged_at TIMESTAMP NOT NULL,
        user_name VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        object VARCHAR,
        details VARCHAR,
        prev_sha256 VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL)""",
)

_GENESIS: Final = "0" * 64


def current_user() -> str:
    """The acting user: ``OPENALM_USER``, else the operating-system login name."""
    user = os.environ.get("OPENALM_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _entry_hash(prev: str, at: str, user: str, action: str, obj: str | None, details: str) -> str:
    text = json.dumps([prev, at, user, action, obj, details], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Catalog:
    """Access to the catalogue file; every method opens and closes its own connection.

    Short-lived connections keep the file free for other processes (DuckDB admits one writing
    process at a time); writers also hold the workspace lock, so they never wait on each other
    here.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # ---------------------------------------------------------------- connections

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the catalogue; retries briefly while another process holds the file."""
        deadline = time.monotonic() + 30.0
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as err:
                if "lock" not in str(err).lower() or time.monotonic() > deadline:
                    raise OpenALMError(f"cannot open the workspace catalogue {self.path}: {err}") from err
                time.sleep(0.1)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic write: everything inside commits together or not at all."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def create(self) -> None:
        """Create the catalogue tables (idempotent) and record the schema version."""
        with self.transaction() as con:
            for ddl in _DDL:
                con.execute(ddl)
            con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('created_at', ?) ON CONFLICT (key) DO NOTHING",
                [str(SCHEMA_VERSION), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")],
            )

    def check_version(self) -> None:
        """Raise when the catalogue was written by an incompatible OpenALM."""
        rows = self.query("SELECT value FROM meta WHERE key = 'schema_version'")
        if not rows:
            raise OpenALMError(f"{self.path} is not an OpenALM workspace catalogue (no schema version)")
        found = int(rows[0]["value"])
        if found != SCHEMA_VERSION:
            raise OpenALMError(
                f"workspace catalogue {self.path} has schema version {found}; this OpenALM reads version "
                f"{SCHEMA_VERSION}"
            )

    # ---------------------------------------------------------------- reads

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        with self.connect(read_only=True) as con:
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """A read query as an Arrow table."""
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=list(params)).to_arrow_table()

    # ---------------------------------------------------------------- audit log

    @staticmethod
    def append_audit(
        con: duckdb.DuckDBPyConnection, action: str, obj: str | None, details: Mapping[str, Any], user: str
    ) -> int:
        """Append one audit entry inside the caller's transaction; returns its sequence number.

        Each entry stores the SHA-256 of its content and of the previous entry, so editing or
        deleting any past entry breaks the chain (:meth:`verify_audit`).
        """
        last = con.execute("SELECT seq, sha256 FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq = 1 if last is None else int(last[0]) + 1
        prev = _GENESIS if last is None else str(last[1])
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        at_text = at.isoformat(timespec="microseconds")
        text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
        digest = _entry_hash(prev, at_text, user, action, obj, text)
        con.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [seq, at, user, action, obj, text, prev, digest]
        )
        return seq

    def audit(self, action: str, obj: str | None, details: Mapping[str, Any], user: str | None = None) -> int:
        """Append one audit entry in its own transaction."""
        with self.transaction() as con:
            return self.append_audit(con, action, obj, details, user or current_user())

    def verify_audit(self) -> list[str]:
        """Problems in the audit chain (empty when intact)."""
        problems: list[str] = []
        prev = _GENESIS
        for row in self.query("SELECT * FROM audit_log ORDER BY seq"):
            at_text = row["logged_at"].isoformat(timespec="microseconds")
            digest = _entry_hash(prev, at_text, row["user_name"], row["action"], row["object"], row["details"])
            if row["prev_sha256"] != prev or row["sha256"] != digest:
                problems.append(f"audit entry {row['seq']} does not match its hash chain")
            prev = row["sha256"]
        return problems
