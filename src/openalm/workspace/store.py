"""The workspace: versioned snapshots, corrections, diffs and the audit log, on files + DuckDB.

Layout of a workspace folder::

    openalm-workspace.json                       marker (format version)
    catalog.duckdb                               the catalogue (see :mod:`.catalog`)
    data/<table>/as_of=<date>/snapshot=<id>/part-*.parquet
    quarantine/<table>/as_of=<date>/snapshot=<id>/part-*.parquet
    reports/as_of=<date>/snapshot=<id>/...       data-quality and reconciliation reports
    results/as_of=<date>/run=<run_id>/...        result tables, partials, manifest
    .staging/                                    writes in progress (never read)
    .lock                                        the writer lock

Every write goes: staging folder -> ``os.replace`` into place -> one catalogue transaction (the
commit point) -> audit entry in the same transaction. Readers go through the catalogue only, so a
process killed at any moment leaves the workspace readable at its last good state; the folders it
left behind are removed by the next writer (:meth:`Workspace.recover`).

Snapshot versions are immutable. A load of an as-of date creates version 1, 2, ... (content
hashed: loading identical content again creates nothing); a correction creates a new version
whose parent is the corrected one; tables a correction does not touch are shared with the parent
(copy on write).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

import openalm
from openalm.data.rejects import Reject, write_rejects_csv
from openalm.data.schema import TABLE_ORDER, TABLES
from openalm.errors import DataError, OpenALMError
from openalm.workspace._files import (
    checkpoint,
    dataset_hash,
    dataset_rows,
    read_dataset,
    staging_dir,
    write_dataset,
    write_lock,
)
from openalm.workspace.catalog import Catalog, current_user
from openalm.workspace.ingest import Ingested

__all__ = ["MARKER", "LoadOutcome", "SnapshotVersion", "Workspace"]

MARKER: Final = "openalm-workspace.json"
_FORMAT: Final = 1


@dataclass(frozen=True)
class SnapshotVersion:
    """One committed snapshot version (a row of the catalogue)."""

    snapshot_id: str
    as_of: dt.date
    version: int
    parent_id: str | None
    kind: str
    content_sha256: str
    created_at: dt.datetime
    created_by: str
    source: str | None
    reason: str | None
    counts: dict[str, dict[str, int]]
    tables: dict[str, str]
    quarantine: dict[str, str]
    reconciliation_status: str | None

    @property
    def label(self) -> str:
        return f"{self.as_of.isoformat()} v{self.version}"


@dataclass(frozen=True)
class LoadOutcome:
    """What ``openalm load`` / ``openalm correct`` did."""

    snapshot: SnapshotVersion
    created: bool
    rejects: list[Reject]
    warnings: list[str]
    report_dir: Path | None


def _content_hash(table_hashes: Mapping[str, str]) -> str:
    text = json.dumps(sorted(table_hashes.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Workspace:
    """A workspace folder: open one with :meth:`open`, create one with :meth:`init`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.catalog = Catalog(self.root / "catalog.duckdb")

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def init(cls, root: str | os.PathLike[str]) -> Workspace:
        """Create a workspace in ``root`` (an empty or new folder; idempotent on a workspace)."""
        path = Path(root)
        if path.exists() and not path.is_dir():
            raise OpenALMError(f"{path} exists and is not a folder")
        if path.is_dir() and any(path.iterdir()) and not (path / MARKER).exists():
            raise OpenALMError(f"{path} is not empty and is not an OpenALM workspace; choose an empty folder")
        path.mkdir(parents=True, exist_ok=True)
        ws = cls(path)
        with write_lock(ws.root):
            for sub in ("data", "quarantine", "reports", "results", ".staging"):
                (ws.root / sub).mkdir(exist_ok=True)
            ws.catalog.create()
            if not (ws.root / MARKER).exists():
                marker = {"format": _FORMAT, "created_by_openalm": openalm.__version__}
                tmp = ws.root / f".{MARKER}.tmp"
                tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
                os.replace(tmp, ws.root / MARKER)
                ws.catalog.audit("workspace_init", str(ws.root), {"format": _FORMAT})
        return ws

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> Workspace:
        """Open an existing workspace (checks the marker and the catalogue version)."""
        path = Path(root)
        if not (path / MARKER).is_file():
            raise OpenALMError(
                f"{path} is not an OpenALM workspace (no {MARKER}); create one with `openalm workspace init`"
            )
        ws = cls(path)
        ws.catalog.check_version()
        return ws

    def recover(self) -> list[str]:
        """Remove what interrupted writes left behind (call with the writer lock held).

        Staging folders and data folders that no committed snapshot or run refers to are deleted;
        returns what was removed (also written to the audit log).
        """
        removed: list[str] = []
        staging = self.root / ".staging"
        for child in staging.iterdir() if staging.exists() else ():
            shutil.rmtree(child, ignore_errors=True)
            removed.append(str(child.relative_to(self.root)))
        known_snaps = {r["snapshot_id"] for r in self.catalog.query("SELECT snapshot_id FROM snapshots")}
        known_runs = {r["run_id"] for r in self.catalog.query("SELECT run_id FROM runs")}
        for top in ("data", "quarantine", "reports"):
            for folder in (self.root / top).glob("**/snapshot=*"):
                if folder.is_dir() and folder.name.split("=", 1)[1] not in known_snaps:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(str(folder.relative_to(self.root)))
        for folder in (self.root / "results").glob("as_of=*/run=*"):
            if folder.is_dir() and folder.name.split("=", 1)[1] not in known_runs:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder.relative_to(self.root)))
        if removed:
            self.catalog.audit("recover", str(self.root), {"removed": removed})
        return removed

    # ------------------------------------------------------------------ reading the catalogue

    def _version_from_row(self, row: Mapping[str, Any]) -> SnapshotVersion:
        tables = self.catalog.query(
            "SELECT table_name, path, quarantine_path FROM snapshot_tables WHERE snapshot_id = ?", [row["snapshot_id"]]
        )
        return SnapshotVersion(
            snapshot_id=row["snapshot_id"],
            as_of=row["as_of"],
            version=int(row["version"]),
            parent_id=row["parent_id"],
            kind=row["kind"],
            content_sha256=row["content_sha256"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            source=row["source"],
            reason=row["reason"],
            counts=json.loads(row["counts"]),
            tables={t["table_name"]: t["path"] for t in tables if t["path"]},
            quarantine={t["table_name"]: t["quarantine_path"] for t in tables if t["quarantine_path"]},
            reconciliation_status=row["reconciliation_status"],
        )

    def snapshots(self, as_of: dt.date | None = None) -> list[SnapshotVersion]:
        """Committed snapshot versions, oldest first (of one as-of date when given)."""
        if as_of is None:
            rows = self.catalog.query("SELECT * FROM snapshots ORDER BY as_of, version")
        else:
            rows = self.catalog.query("SELECT * FROM snapshots WHERE as_of = ? ORDER BY version", [as_of])
        return [self._version_from_row(r) for r in rows]

    def snapshot(self, as_of: dt.date, version: int | None = None) -> SnapshotVersion:
        """One version of an as-of date (the latest when ``version`` is None)."""
        if version is None:
            rows = self.catalog.query("SELECT * FROM snapshots WHERE as_of = ? ORDER BY version DESC LIMIT 1", [as_of])
        else:
            rows = self.catalog.query("SELECT * FROM snapshots WHERE as_of = ? AND version = ?", [as_of, version])
        if not rows:
            which = "any version" if version is None else f"version {version}"
            raise OpenALMError(f"the workspace has no snapshot for {as_of.isoformat()} ({which}); load one first")
        return self._version_from_row(rows[0])

    def snapshot_by_id(self, snapshot_id: str) -> SnapshotVersion:
        rows = self.catalog.query("SELECT * FROM snapshots WHERE snapshot_id = ?", [snapshot_id])
        if not rows:
            raise OpenALMError(f"no snapshot {snapshot_id} in the workspace")
        return self._version_from_row(rows[0])

    def path(self, relative: str) -> Path:
        return self.root / relative

    def read_table(self, snap: SnapshotVersion, name: str) -> pa.Table | None:
        """A clean table of a version (None when the version has no such table)."""
        rel = snap.tables.get(name)
        return None if rel is None else read_dataset(self.root / rel)

    def read_quarantine(self, snap: SnapshotVersion, name: str | None = None) -> pa.Table | None:
        """Quarantined rows of a version (one table, or all tables' lineage columns + reasons)."""
        names = [name] if name else list(snap.quarantine)
        parts = [read_dataset(self.root / snap.quarantine[n]) for n in names if n in snap.quarantine]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return pa.concat_tables(parts, promote_options="permissive")

    def audit_log(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, logged_at, user_name, action, object, details FROM audit_log ORDER BY seq"
        rows = self.catalog.query(sql)
        return rows[-limit:] if limit else rows

    # ------------------------------------------------------------------ writing a version

    def _commit_version(
        self,
        ingested: Ingested,
        *,
        kind: str,
        source: str,
        user: str,
        parent: SnapshotVersion | None,
        reason: str | None,
        mapping_sha256: str | None,
        reuse: Mapping[str, tuple[str, str]] | None = None,
        corrections: Sequence[Sequence[Any]] = (),
        reports: Any = None,
        audit_details: Mapping[str, Any] | None = None,
    ) -> tuple[SnapshotVersion, bool]:
        """Write a new version aside, move it into place and commit it (caller holds the lock).

        ``reuse`` maps table -> (path, sha256) of a parent's file kept as is (copy on write);
        ``reports(folder)`` writes the data-quality / reconciliation reports into the staging folder
        and returns the catalogue rows for them.
        """
        as_of = ingested.as_of
        snapshot_id = uuid.uuid4().hex[:16]
        part = f"as_of={as_of.isoformat()}/snapshot={snapshot_id}"
        reuse = dict(reuse or {})
        with staging_dir(self.root, "snapshot") as stage:
            table_rows: list[tuple[str, str, int, str, str | None, int]] = []
            hashes: dict[str, str] = {}
            moves: list[tuple[Path, Path]] = []
            for name in TABLE_ORDER:
                if name in reuse:
                    rel, digest = reuse[name]
                    rows = dataset_rows(self.root / rel)
                    hashes[name] = digest
                    q_rel, q_rows = self._reused_quarantine(parent, name)
                    if q_rel is not None:
                        hashes[f"quarantine/{name}"] = dataset_hash(self.root / q_rel)
                    table_rows.append((name, rel, rows, digest, q_rel, q_rows))
                    continue
                if name in ingested.written:
                    # streamed: the datasets are written already (staging folder of the load)
                    w = ingested.written[name]
                    rel = f"data/{name}/{part}"
                    hashes[name] = w.sha256
                    moves.append((w.folder, self.root / rel))
                    q_rel = None
                    if w.quarantine_folder is not None and w.quarantine_rows:
                        q_rel = f"quarantine/{name}/{part}"
                        hashes[f"quarantine/{name}"] = w.quarantine_sha256
                        moves.append((w.quarantine_folder, self.root / q_rel))
                    table_rows.append((name, rel, w.rows, w.sha256, q_rel, w.quarantine_rows))
                    continue
                if name not in ingested.clean:
                    continue
                table = ingested.clean[name]
                staged = stage / "data" / name
                digest = write_dataset(table, staged)
                hashes[name] = digest
                rel = f"data/{name}/{part}"
                moves.append((staged, self.root / rel))
                q_rel = None
                q_rows = 0
                if name in ingested.quarantine and ingested.quarantine[name].num_rows:
                    q_staged = stage / "quarantine" / name
                    hashes[f"quarantine/{name}"] = write_dataset(ingested.quarantine[name], q_staged)
                    q_rel = f"quarantine/{name}/{part}"
                    q_rows = ingested.quarantine[name].num_rows
                    moves.append((q_staged, self.root / q_rel))
                table_rows.append((name, rel, table.num_rows, digest, q_rel, q_rows))
            # quarantine of records that belong to no contract table (e.g. FIRE records OpenALM cannot map)
            for name in sorted(set(ingested.quarantine) - set(TABLE_ORDER)):
                q_staged = stage / "quarantine" / name
                hashes[f"quarantine/{name}"] = write_dataset(ingested.quarantine[name], q_staged)
                q_rel = f"quarantine/{name}/{part}"
                moves.append((q_staged, self.root / q_rel))
                table_rows.append((name, "", 0, "", q_rel, ingested.quarantine[name].num_rows))
            # the quarantine is part of a version's identity: a row released from quarantine
            # changes the version even when the clean data does not
            content = _content_hash(hashes)
            latest = self._latest(as_of)
            if latest is not None and latest.content_sha256 == content and kind == "load":
                with self.catalog.transaction() as con:
                    Catalog.append_audit(
                        con,
                        "load_unchanged",
                        latest.label,
                        {"source": source, "content_sha256": content},
                        user,
                    )
                return latest, False
            report_rows = None
            report_stage = stage / "reports"
            if reports is not None:
                report_stage.mkdir(parents=True, exist_ok=True)
                report_rows = reports(report_stage)
                moves.append((report_stage, self.root / "reports" / part))
            checkpoint("snapshot_staged")
            for src, dst in moves:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
            checkpoint("snapshot_moved")
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            with self.catalog.transaction() as con:
                row = con.execute(
                    "SELECT coalesce(max(version), 0) + 1 FROM snapshots WHERE as_of = ?", [as_of]
                ).fetchone()
                version = int(row[0]) if row else 1
                recon_status = None if report_rows is None else report_rows.get("reconciliation_status")
                con.execute(
                    "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        snapshot_id,
                        as_of,
                        version,
                        parent.snapshot_id if parent else None,
                        kind,
                        content,
                        now,
                        user,
                        source,
                        reason,
                        mapping_sha256,
                        json.dumps(ingested.counts, sort_keys=True),
                        json.dumps(ingested.files, sort_keys=True, default=str),
                        json.dumps(sorted(set(ingested.warnings)), ensure_ascii=False),
                        recon_status,
                    ],
                )
                for t in table_rows:
                    con.execute("INSERT INTO snapshot_tables VALUES (?, ?, ?, ?, ?, ?, ?)", [snapshot_id, *t])
                if corrections:
                    # one bulk insert (a correction may change many thousand cells)
                    fields = list(zip(*corrections, strict=True))
                    log = pa.table(
                        {
                            "snapshot_id": pa.array([snapshot_id] * len(corrections), pa.string()),
                            "seq": pa.array(fields[0], pa.int32()),
                            "table_name": pa.array(fields[1], pa.string()),
                            "action": pa.array(fields[2], pa.string()),
                            "key": pa.array(fields[3], pa.string()),
                            "column_name": pa.array(fields[4], pa.string()),
                            "old_value": pa.array([None if v is None else str(v) for v in fields[5]], pa.string()),
                            "new_value": pa.array([None if v is None else str(v) for v in fields[6]], pa.string()),
                            "reason": pa.array(fields[7], pa.string()),
                            "corrected_by": pa.array(fields[8], pa.string()),
                            "corrected_at": pa.array([now] * len(corrections), pa.timestamp("us")),
                        }
                    )
                    con.register("_corrections", log)
                    con.execute("INSERT INTO corrections SELECT * FROM _corrections")
                    con.unregister("_corrections")
                if report_rows is not None:
                    for name, table in report_rows.get("tables", {}).items():
                        if table is not None and table.num_rows:
                            con.register("_incoming", table)
                            cols = ", ".join(table.column_names)
                            con.execute(
                                f"INSERT INTO {name} (snapshot_id, {cols}) SELECT ?, {cols} FROM _incoming",
                                [snapshot_id],
                            )
                            con.unregister("_incoming")
                used_mapping = ingested.extra.get("mapping")
                if used_mapping is not None and used_mapping.get("content"):
                    con.execute(
                        "INSERT INTO mappings VALUES (?, ?, ?, ?, ?) ON CONFLICT (mapping_sha256) DO NOTHING",
                        [used_mapping["sha256"], used_mapping["name"], used_mapping["version"],
                         used_mapping["content"], now],
                    )  # fmt: skip
                details = {
                    "snapshot_id": snapshot_id,
                    "version": version,
                    "source": source,
                    "content_sha256": content,
                    "counts": ingested.counts,
                    "files": {k: v.get("sha256") for k, v in ingested.files.items()},
                    **(audit_details or {}),
                }
                Catalog.append_audit(con, kind, f"{as_of.isoformat()} v{version}", details, user)
                checkpoint("snapshot_committing")
        return self.snapshot_by_id(snapshot_id), True

    def _latest(self, as_of: dt.date) -> SnapshotVersion | None:
        try:
            return self.snapshot(as_of)
        except OpenALMError:
            return None

    def _reused_quarantine(self, parent: SnapshotVersion | None, name: str) -> tuple[str | None, int]:
        if parent is None or name not in parent.quarantine:
            return None, 0
        rel = parent.quarantine[name]
        return rel, dataset_rows(self.root / rel)

    # ------------------------------------------------------------------ load

    def load(
        self,
        source: str | os.PathLike[str],
        as_of: dt.date,
        *,
        config: Any = None,
        mapping: Any = None,
        user: str | None = None,
        chunk_rows: int | None = None,
        stream_threshold: int | None = None,
        progress: Any = None,
    ) -> LoadOutcome:
        """Load a source as a new snapshot version of ``as_of`` (see :mod:`.sources`).

        A large positions file (more than ``stream_threshold`` rows, estimated; default
        :data:`~openalm.workspace.streaming.STREAM_THRESHOLD_ROWS`), or any positions file when
        ``chunk_rows`` is given, is streamed in chunks with bounded memory (:mod:`.streaming`);
        the outcome is the same. ``progress(stage, done, total)`` is called as the load goes.
        """
        from openalm.workspace.reports import write_snapshot_reports
        from openalm.workspace.sources import read_source

        user = user or current_user()
        with write_lock(self.root):
            self.recover()
            # a staging folder for a streamed positions file (written while read, moved by the commit)
            with staging_dir(self.root, "load") as stage:
                checkpoint("load_reading")
                ingested, label, mapping_sha = read_source(
                    source, as_of, config=config, mapping=mapping, stage=stage, chunk_rows=chunk_rows,
                    stream_threshold=stream_threshold, progress=progress,
                )  # fmt: skip
                checkpoint("load_read")

                def reports(folder: Path) -> dict[str, Any]:
                    return write_snapshot_reports(ingested, folder, config, progress=progress)

                snap, created = self._commit_version(
                    ingested,
                    kind="load",
                    source=label,
                    user=user,
                    parent=None,
                    reason=None,
                    mapping_sha256=mapping_sha,
                    reports=reports,
                )
        report_dir = self.root / "reports" / f"as_of={as_of.isoformat()}" / f"snapshot={snap.snapshot_id}"
        return LoadOutcome(
            snap, created, ingested.rejects, ingested.warnings, report_dir if report_dir.exists() else None
        )

    # ------------------------------------------------------------------ correct

    def correct(
        self,
        correction_file: str | os.PathLike[str],
        as_of: dt.date,
        *,
        reason: str,
        version: int | None = None,
        table: str = "positions",
        config: Any = None,
        user: str | None = None,
    ) -> LoadOutcome:
        """Apply a correction file to a version as a new version (see :mod:`.corrections`)."""
        from openalm.workspace.corrections import apply_correction
        from openalm.workspace.reports import write_snapshot_reports

        if not reason or not reason.strip():
            raise OpenALMError("a correction needs a reason (--reason)")
        user = user or current_user()
        with write_lock(self.root):
            self.recover()
            base = self.snapshot(as_of, version)
            applied = apply_correction(
                self, base, Path(correction_file), table=table, reason=reason, user=user, config=config
            )

            def reports(folder: Path) -> dict[str, Any]:
                return write_snapshot_reports(applied.ingested, folder, config)

            snap, created = self._commit_version(
                applied.ingested,
                kind="correct",
                source=str(Path(correction_file).resolve()),
                user=user,
                parent=base,
                reason=reason,
                mapping_sha256=None,
                reuse=applied.reuse,
                corrections=applied.log,
                reports=reports,
                audit_details={
                    "parent": base.label,
                    "correction_file_sha256": applied.file_sha256,
                    "changes": applied.summary,
                },
            )
        return LoadOutcome(snap, created, applied.ingested.rejects, applied.ingested.warnings, None)

    def write_rejects(self, snap: SnapshotVersion, path: Path) -> int:
        """Write the rejects of a version's quarantine as ``rejects.csv`` rows; returns the count."""
        table = self.read_quarantine(snap)
        rejects: list[Reject] = []
        if table is not None:
            for row in table.select(["_table", "_source_file", "_source_row", "_position_id", "_reasons"]).to_pylist():
                for item in json.loads(row["_reasons"]):
                    rejects.append(
                        Reject(
                            row["_source_file"],
                            int(row["_source_row"]),
                            item["column"],
                            item["value"],
                            item["reason"],
                            item["message"],
                            row["_position_id"],
                            row["_table"],
                        )
                    )
        write_rejects_csv(rejects, path)
        return len(rejects)


def table_key(name: str) -> tuple[str, ...]:
    """The key columns of a contract table."""
    schema = TABLES[name]
    if not schema.key:
        raise DataError(f"table {name} has no key; corrections need one")
    return tuple(schema.key)
