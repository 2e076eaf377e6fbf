"""Workspace commands of ``openalm``: workspace init/info, load, correct, diff, snapshots, quarantine,
runs, export, trace, log. Registered on the main app by :mod:`openalm.cli`.

The workspace folder comes from ``--workspace`` / ``-w``, else ``OPENALM_WORKSPACE``, else the
current folder.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from openalm.errors import ConfigError, DataError, OpenALMError
from openalm.i18n import label

__all__ = ["register", "workspace_app"]

err_console = Console(stderr=True)
out_console = Console()

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: $OPENALM_WORKSPACE, else the current folder)."),
]
AsOf = Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Run configuration (YAML).")]
UserOpt = Annotated[
    str | None, typer.Option("--user", help="Acting user for the audit log (default: $OPENALM_USER or login).")
]

workspace_app = typer.Typer(help="Create and inspect workspaces (工作区).", no_args_is_help=True)
mapping_app = typer.Typer(help="Check and export source mappings (源数据映射).", no_args_is_help=True)


def _fail(err: Exception, code: int) -> None:
    err_console.print(f"[bold red]openalm:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _ws_path(path: Path | None) -> Path:
    if path is not None:
        return path
    env = os.environ.get("OPENALM_WORKSPACE")
    return Path(env) if env else Path.cwd()


def _open(path: Path | None) -> Any:
    from openalm.workspace import Workspace

    return Workspace.open(_ws_path(path))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"--as-of {text!r}: expected a date YYYY-MM-DD") from err


def _config(path: Path | None) -> Any:
    from openalm.config import load_config

    return load_config(path)


def _guard(func: Any) -> Any:
    """Map errors to exit codes: 2 unusable input or config, 1 other OpenALM errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (DataError, ConfigError) as err:
            _fail(err, 2)
        except OpenALMError as err:
            _fail(err, 1)

    return wrapper


def _counts_table(title: str, counts: dict[str, dict[str, int]]) -> Table:
    table = Table(title=title)
    table.add_column(label("ws.table"))
    for col in ("read", "used", "rejected", "flagged"):
        table.add_column(label(f"ws.{col}"), justify="right")
    for name, c in counts.items():
        table.add_row(
            name, str(c.get("read", "")), str(c.get("used", "")), str(c.get("rejected", "")), str(c.get("flagged", ""))
        )
    return table


@workspace_app.command("init")
def workspace_init(folder: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")]) -> None:
    """Create a workspace: Parquet datasets by as-of date plus a DuckDB catalogue. No server."""
    from openalm.workspace import Workspace

    try:
        ws = Workspace.init(folder)
    except OpenALMError as err:
        _fail(err, 1)
    out_console.print(f"{label('ws.created')}: {ws.root}", highlight=False)


@workspace_app.command("info")
def workspace_info(workspace: WorkspaceOpt = None) -> None:
    """Snapshots, runs and the state of the audit chain of a workspace."""
    try:
        ws = _open(workspace)
    except OpenALMError as err:
        _fail(err, 1)
    snaps = ws.snapshots()
    runs = ws.catalog.query("SELECT count(*) AS n FROM runs")[0]["n"]
    problems = ws.catalog.verify_audit()
    out_console.print(f"{label('ws.workspace')}: {ws.root}", highlight=False)
    out_console.print(f"{label('ws.snapshots')}: {len(snaps)}  {label('ws.runs')}: {runs}", highlight=False)
    out_console.print(f"{label('ws.audit_chain')}: {'ok' if not problems else '; '.join(problems)}", highlight=False)
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the main ``openalm`` app."""
    app.add_typer(workspace_app, name="workspace")
    app.command("load")(_guard(load))
    app.command("correct")(_guard(correct))
    app.command("diff")(_guard(diff))
    app.command("snapshots")(_guard(snapshots))
    app.command("quarantine")(_guard(quarantine))
    app.command("runs")(_guard(runs))
    app.command("export")(_guard(export))
    app.command("trace")(_guard(trace))
    app.command("log")(_guard(log))
    app.command("generate")(_guard(generate))
    app.command("quality")(_guard(quality))
    mapping_app.command("check")(_guard(mapping_check))
    mapping_app.command("export")(_guard(mapping_export))
    app.add_typer(mapping_app, name="mapping")
    app.command("reconcile")(_guard(reconcile))


def mapping_check(
    mapping: Annotated[Path, typer.Argument(help="Source mapping (YAML).")],
) -> None:
    """Validate a source mapping file and print its name, version, hash and tables."""
    from openalm.data.mapping import check_table_mapping, load_mapping, mapping_hash
    from openalm.data.schema import TABLES

    spec = load_mapping(mapping)
    out_console.print(f"{spec.name} v{spec.version}  sha256 {mapping_hash(spec)}", highlight=False)
    problems = 0
    for name, tm in spec.tables.items():
        if name not in TABLES:
            raise ConfigError(f"{mapping}: table {name!r} is not a contract table")
        notes = check_table_mapping(tm, TABLES[name])
        out_console.print(f"  {name}: {tm.file or name}  {len(tm.rename)} renames, {len(tm.codes)} code tables",
                          highlight=False)  # fmt: skip
        for note in notes:
            problems += 1
            err_console.print(f"    {note}", highlight=False)
    if problems:
        raise typer.Exit(1)


def mapping_export(
    out: Annotated[Path, typer.Option("--out", help="Write the mapping (YAML) here.")],
    workspace: WorkspaceOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The mapping a version of this date was loaded with.")
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="Version (default latest).")] = None,
    sha: Annotated[str | None, typer.Option("--sha", help="Mapping hash (or a unique prefix).")] = None,
) -> None:
    """Export the exact mapping a snapshot version was loaded with (from the workspace catalogue)."""
    from openalm.reports.writers import atomic_write

    ws = _open(workspace)
    if sha is None:
        if as_of is None:
            raise ConfigError("give --as-of (and --version) or --sha")
        snap = ws.snapshot(_date(as_of), version)
        row = ws.catalog.query("SELECT mapping_sha256 FROM snapshots WHERE snapshot_id = ?", [snap.snapshot_id])
        sha = row[0]["mapping_sha256"] if row else None
        if not sha:
            raise OpenALMError(f"version {snap.label} was not loaded through a mapping")
    rows = ws.catalog.query("SELECT * FROM mappings WHERE mapping_sha256 LIKE ?", [sha + "%"])
    if len(rows) != 1:
        raise OpenALMError(f"no single mapping with hash {sha!r} in the workspace ({len(rows)} found)")
    content = rows[0]["content"]
    atomic_write(Path(out), lambda tmp: tmp.write_text(content, encoding="utf-8"))
    out_console.print(f"{rows[0]['name']} v{rows[0]['version']} -> {out}", highlight=False)


def _report_dir(ws: Any, snap: Any) -> Path:
    return ws.root / "reports" / f"as_of={snap.as_of.isoformat()}" / f"snapshot={snap.snapshot_id}"


def quality(
    as_of: AsOf,
    workspace: WorkspaceOpt = None,
    version: Annotated[int | None, typer.Option("--version", help="Version (default latest).")] = None,
    all_rules: Annotated[bool, typer.Option("--all", help="Also list rules that found nothing.")] = False,
) -> None:
    """The data-quality report of a version: per rule, severity, rows failed; where the HTML page is."""
    ws = _open(workspace)
    snap = ws.snapshot(_date(as_of), version)
    rows = ws.catalog.query(
        "SELECT rule_id, table_name, reason, severity, rows_checked, rows_failed FROM quality_results "
        "WHERE snapshot_id = ? ORDER BY severity, rows_failed DESC, rule_id",
        [snap.snapshot_id],
    )
    table = Table(title=f"{label('ws.quality')} {snap.label}")
    for col in ("rule_id", "table_name", "reason", "severity", "rows_checked", "rows_failed"):
        table.add_column(label(f"ws.col.{col}"))
    for r in rows:
        if all_rules or r["rows_failed"]:
            table.add_row(*[str(v) for v in r.values()])
    out_console.print(table)
    out_console.print(_counts_table(snap.label, snap.counts))
    html = _report_dir(ws, snap) / "data_quality.html"
    if html.is_file():
        out_console.print(f"{label('ws.report_page')}: {html}", highlight=False)


def reconcile(
    as_of: AsOf,
    workspace: WorkspaceOpt = None,
    version: Annotated[int | None, typer.Option("--version", help="Version (default latest).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write every reconciliation line here (CSV).")] = None,
) -> None:
    """Positions against the general ledger for a version: status and the breaks beyond tolerance."""
    ws = _open(workspace)
    snap = ws.snapshot(_date(as_of), version)
    if snap.reconciliation_status is None:
        out_console.print(label("ws.no_ledger"), highlight=False)
        return
    lines = ws.catalog.query_arrow(
        "SELECT * EXCLUDE (snapshot_id) FROM reconciliations WHERE snapshot_id = ? "
        "ORDER BY abs(difference) DESC NULLS LAST",
        [snap.snapshot_id],
    )
    status_counts: dict[str, int] = {}
    for s in lines.column("status").to_pylist():
        status_counts[s] = status_counts.get(s, 0) + 1
    out_console.print(
        f"{label('ws.reconciliation')} {snap.label}: {snap.reconciliation_status}  "
        + "  ".join(f"{k} {v}" for k, v in sorted(status_counts.items())),
        highlight=False,
    )
    shown = Table()
    cols = ["reporting_entity_id", "branch_id", "gl_account", "currency", "measure", "gl_balance",
            "positions_amount", "difference", "status"]  # fmt: skip
    for col in cols:
        shown.add_column(col)
    for rec in lines.to_pylist():
        if rec["status"] in ("matched", "out_of_scope"):
            continue
        shown.add_row(*[f"{rec[c]:,.2f}" if isinstance(rec[c], float) else str(rec[c] or "") for c in cols])
        if shown.row_count >= 20:
            break
    if shown.row_count:
        out_console.print(shown)
    if out is not None:
        import pyarrow.csv as pacsv

        from openalm.reports.writers import atomic_write

        atomic_write(Path(out), lambda tmp: pacsv.write_csv(lines, tmp))


def generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic bank's snapshot files into.")],
    contracts: Annotated[int, typer.Option("--contracts", help="Number of contracts.")] = 100_000,
    fmt: Annotated[str, typer.Option("--format", help="csv | parquet | xlsx")] = "csv",
    damaged: Annotated[
        Path | None, typer.Option("--damaged", help="Also write a copy with known faults here (CSV only).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bank).")] = 20260630,
) -> None:
    """Write the synthetic bank as snapshot files (and a deliberately damaged copy) to practise loading."""
    from openalm.data.faults import damage_snapshot
    from openalm.data.synthetic import generate_bank, write_snapshot

    if fmt not in ("csv", "parquet", "xlsx"):
        raise ConfigError(f"--format {fmt!r}: expected csv, parquet or xlsx")
    if damaged is not None and fmt != "csv":
        raise ConfigError("--damaged needs --format csv (the faults are written into the text)")
    write_snapshot(generate_bank(contracts, seed=seed), out, fmt)
    out_console.print(f"{label('ws.generated')}: {out} ({contracts:,})", highlight=False)
    if damaged is not None:
        faults = damage_snapshot(out, damaged)
        import pyarrow as pa
        import pyarrow.csv as pacsv

        rows = [f.__dict__ for f in faults]
        table = pa.table({k: pa.array([str(r[k]) for r in rows], pa.string()) for k in rows[0]})
        pacsv.write_csv(table, Path(damaged) / "faults_injected.csv")
        out_console.print(f"{label('ws.damaged')}: {damaged} ({len(faults)}; faults_injected.csv)", highlight=False)


def load(
    source: Annotated[
        Path, typer.Argument(help="Snapshot folder (CSV/Parquet/Excel files or FIRE JSON) or SQL source YAML.")
    ],
    as_of: AsOf,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Source-to-canonical mapping (YAML).")] = None,
    user: UserOpt = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option("--chunk-rows", min=1, help="Stream the positions file in chunks of this many rows "
                     "(default: only files above 2,000,000 rows, in chunks of 500,000)."),
    ] = None,
) -> None:  # fmt: skip
    """Load a source as a new immutable snapshot version: validate, quarantine, report, reconcile."""
    from openalm.cli import _Progress

    ws = _open(workspace)
    cfg = _config(config)
    with _Progress() as progress:
        outcome = ws.load(source, _date(as_of), config=cfg, mapping=mapping, user=user, chunk_rows=chunk_rows,
                          progress=progress)  # fmt: skip
    snap = outcome.snapshot
    if not outcome.created:
        out_console.print(f"{label('ws.unchanged')}: {snap.label}", highlight=False)
        return
    out_console.print(_counts_table(f"{label('ws.loaded')} {snap.label}", snap.counts))
    out_console.print(
        f"{label('ws.snapshot_id')}: {snap.snapshot_id}  sha256 {snap.content_sha256[:16]}", highlight=False
    )
    if snap.reconciliation_status:
        out_console.print(f"{label('ws.reconciliation')}: {snap.reconciliation_status}", highlight=False)
    if outcome.report_dir is not None:
        out_console.print(f"{label('ws.reports')}: {outcome.report_dir}", highlight=False)
    for w in sorted(set(outcome.warnings))[:20]:
        err_console.print(f"warning: {w}", highlight=False)


def correct(
    correction_file: Annotated[Path, typer.Argument(help="Correction file: action, key columns, changed columns.")],
    as_of: AsOf,
    reason: Annotated[str, typer.Option("--reason", help="Why the data is corrected (recorded in the audit log).")],
    workspace: WorkspaceOpt = None,
    version: Annotated[int | None, typer.Option("--version", help="Version to correct (default latest).")] = None,
    table: Annotated[str, typer.Option("--table", help="Table the file corrects.")] = "positions",
    config: ConfigOpt = None,
    user: UserOpt = None,
) -> None:
    """Apply a correction file as a new version (the corrected version is never edited)."""
    ws = _open(workspace)
    outcome = ws.correct(
        correction_file, _date(as_of), reason=reason, version=version, table=table, config=_config(config), user=user
    )
    snap = outcome.snapshot
    row = ws.catalog.query("SELECT details FROM audit_log WHERE action = 'correct' ORDER BY seq DESC LIMIT 1")
    changes = json.loads(row[0]["details"]).get("changes", {}) if row else {}
    out_console.print(
        f"{label('ws.corrected')}: {snap.label} ({label('ws.parent')} v{ws.snapshot_by_id(snap.parent_id).version})",
        highlight=False,
    )
    for k, v in changes.items():
        out_console.print(f"  {label('ws.change.' + k)}: {v}", highlight=False)


def diff(
    as_of: AsOf,
    workspace: WorkspaceOpt = None,
    from_version: Annotated[
        int | None, typer.Option("--from", help="Old version (default: the one before --to).")
    ] = None,
    to_version: Annotated[int | None, typer.Option("--to", help="New version (default latest).")] = None,
    table: Annotated[str, typer.Option("--table", help="Table to compare.")] = "positions",
    out: Annotated[Path | None, typer.Option("--out", help="Write every change here (CSV).")] = None,
) -> None:
    """Show what changed between two versions: rows added, removed, and every changed cell."""
    from openalm.workspace.diff import diff_versions

    ws = _open(workspace)
    day = _date(as_of)
    new = ws.snapshot(day, to_version)
    old = ws.snapshot(day, from_version if from_version is not None else max(new.version - 1, 1))
    d = diff_versions(ws, old, new, table)
    out_console.print(
        f"{table}: {old.label} -> {new.label}  {label('ws.added')} {d.added}  {label('ws.removed')} {d.removed}  "
        f"{label('ws.changed_rows')} {d.changed_rows}  {label('ws.changed_cells')} {d.changed_cells}",
        highlight=False,
    )
    shown = Table()
    for col in d.changes.column_names:
        shown.add_column(col)
    for rec in d.changes.slice(0, 20).to_pylist():
        shown.add_row(*[("" if v is None else str(v)) for v in rec.values()])
    if d.changes.num_rows:
        out_console.print(shown)
    if out is not None:
        import pyarrow.csv as pacsv

        from openalm.reports.writers import atomic_write

        atomic_write(Path(out), lambda tmp: pacsv.write_csv(d.changes, tmp))


def snapshots(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Only this as-of date.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List snapshot versions: date, version, kind, who, when, counts, reconciliation."""
    ws = _open(workspace)
    table = Table()
    for col in (
        "as_of",
        "version",
        "kind",
        "created_by",
        "created_at",
        "positions",
        "rejected",
        "reconciliation",
        "reason",
    ):
        table.add_column(label(f"ws.col.{col}"))
    for s in ws.snapshots(_date(as_of) if as_of else None):
        c = s.counts.get("positions", {})
        table.add_row(
            s.as_of.isoformat(),
            str(s.version),
            s.kind,
            s.created_by,
            s.created_at.isoformat(timespec="seconds"),
            str(c.get("used", "")),
            str(c.get("rejected", "")),
            s.reconciliation_status or "",
            s.reason or "",
        )
    out_console.print(table)


def quarantine(
    as_of: AsOf,
    workspace: WorkspaceOpt = None,
    version: Annotated[int | None, typer.Option("--version", help="Version (default latest).")] = None,
    table: Annotated[str, typer.Option("--table", help="Table.")] = "positions",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the quarantined rows here (CSV), ready to fix.")
    ] = None,
) -> None:
    """Quarantined rows of a version with every reason; export them to fix and re-load with `correct`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from openalm.reports.writers import atomic_write

    ws = _open(workspace)
    snap = ws.snapshot(_date(as_of), version)
    rows = ws.read_quarantine(snap, table)
    n = 0 if rows is None else rows.num_rows
    out_console.print(f"{snap.label} {table}: {label('ws.quarantined')} {n}", highlight=False)
    if rows is None:
        return
    for rec in rows.slice(0, 10).select(["_source_file", "_source_row", "_position_id", "_reasons"]).to_pylist():
        reasons = "; ".join(f"{r['column']}: {r['reason']}" for r in json.loads(rec["_reasons"]))
        out_console.print(
            f"  {rec['_source_file']} row {rec['_source_row']} {rec['_position_id']}: {reasons}", highlight=False
        )
    if out is not None:
        # ready to fix: the source columns first (with action = insert), lineage and reasons after
        lineage = ["_table", "_source_file", "_source_row", "_position_id", "_reasons"]
        body = rows.select([c for c in rows.column_names if c not in lineage])
        body = body.add_column(0, "action", pa.array(["insert"] * body.num_rows, pa.string()))
        for c in ("_source_file", "_source_row", "_reasons"):
            body = body.append_column(c, rows.column(c))
        atomic_write(Path(out), lambda tmp: pacsv.write_csv(body, tmp))
        out_console.print(f"-> {out}", highlight=False)


def runs(workspace: WorkspaceOpt = None, as_of: Annotated[str | None, typer.Option("--as-of")] = None) -> None:
    """List runs: id, as-of, snapshot version, full or incremental, partitions recomputed."""
    ws = _open(workspace)
    sql = (
        "SELECT r.run_id, r.as_of, s.version, r.kind, r.partitions, r.recomputed, r.created_by, r.finished_at "
        "FROM runs r JOIN snapshots s USING (snapshot_id)"
    )
    params: list[Any] = []
    if as_of:
        sql += " WHERE r.as_of = ?"
        params.append(_date(as_of))
    table = Table()
    for col in ("run_id", "as_of", "version", "kind", "partitions", "recomputed", "created_by", "finished_at"):
        table.add_column(label(f"ws.col.{col}"))
    for r in ws.catalog.query(sql + " ORDER BY r.finished_at", params):
        table.add_row(*[str(v) for v in r.values()])
    out_console.print(table)


def export(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for CSV + Parquet tables and manifest.json.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Write a workspace run's result tables as CSV and Parquet with its manifest (interfaces.md)."""
    from openalm.workspace import export_run

    ws = _open(workspace)
    manifest = export_run(ws, run_id, out)
    out_console.print(f"{label('ws.exported')}: run {manifest['run_id']} -> {out}", highlight=False)


def trace(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    table: Annotated[str, typer.Argument(help="Result table: cashflow_ladder or contract_results.")],
    row: Annotated[int, typer.Argument(help="1-based data row of the exported table.")],
    workspace: WorkspaceOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write every contract here (CSV).")] = None,
) -> None:
    """List the contracts behind one figure, with their amounts and lineage."""
    from openalm.workspace.trace import trace_figure, write_trace

    ws = _open(workspace)
    tr = trace_figure(ws, run_id, table, row)
    fig = ", ".join(f"{k}={v}" for k, v in tr.figure.items() if not k.startswith("bucket_label"))
    out_console.print(f"{label('ws.figure')}: {fig}", highlight=False)
    out_console.print(
        f"{label('ws.contracts')}: {tr.contracts.num_rows}  {label('ws.sum')}: {tr.total:,.2f}  "
        f"{label('ws.difference')}: {tr.difference:.3g}",
        highlight=False,
    )
    shown = Table()
    for col in tr.contracts.column_names:
        shown.add_column(col)
    for rec in tr.contracts.slice(0, 20).to_pylist():
        shown.add_row(*[("" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v))) for v in rec.values()])
    out_console.print(shown)
    if out is not None:
        write_trace(tr, Path(out))


def log(
    workspace: WorkspaceOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Show the last N entries.")] = 50,
    verify: Annotated[bool, typer.Option("--verify", help="Check the hash chain of the whole log.")] = False,
) -> None:
    """The audit log: who loaded, corrected, ran, exported, when, with what inputs."""
    ws = _open(workspace)
    table = Table()
    for col in ("seq", "logged_at", "user_name", "action", "object", "details"):
        table.add_column(label(f"ws.col.{col}"))
    for r in ws.audit_log(limit):
        details = r["details"] or ""
        table.add_row(
            str(r["seq"]),
            r["logged_at"].isoformat(timespec="seconds"),
            r["user_name"],
            r["action"],
            r["object"] or "",
            details if len(details) < 160 else details[:157] + "...",
        )
    out_console.print(table)
    if verify:
        problems = ws.catalog.verify_audit()
        out_console.print(
            f"{label('ws.audit_chain')}: {'ok' if not problems else '; '.join(problems)}", highlight=False
        )
        if problems:
            raise typer.Exit(1)
