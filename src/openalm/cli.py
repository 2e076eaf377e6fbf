"""The ``openalm`` command (interfaces.md "Command line").

Exit status: 0 success; 2 the input cannot be used at all (the reason on stderr, naming the file,
row and column); 1 an unexpected error. Long work shows progress on a terminal and stays quiet when
not attached to one. Labels are bilingual: ``OPENALM_LANG=en`` or ``zh`` (default zh).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from openalm.cli_workspace import register as register_workspace_commands
from openalm.config import RunConfig, load_config
from openalm.errors import ConfigError, DataError, OpenALMError
from openalm.i18n import label

app = typer.Typer(
    name="openalm",
    help="OpenALM: open-source asset/liability management for banks (资产负债管理).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
out_console = Console()

AsOf = Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Run configuration (YAML).")]


def _as_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"--as-of {text!r}: expected a date YYYY-MM-DD") from err


class _Progress:
    """Rich progress bars on a terminal; nothing when stderr is not a TTY."""

    def __init__(self) -> None:
        self.enabled = err_console.is_terminal
        self.progress: Progress | None = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                console=err_console, transient=False,
            )  # fmt: skip
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(label(f"progress.{stage}"), total=max(total, 1))
        self.progress.update(self.tasks[stage], completed=done, total=max(total, 1))


def _fail(err: Exception, code: int) -> None:
    err_console.print(f"[bold red]openalm:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _config(path: Path | None) -> RunConfig:
    return load_config(path)


@app.command()
def run(
    snapshot_dir: Annotated[
        Path | None, typer.Argument(help="Snapshot folder (positions.* and companion tables); omit with --workspace.")
    ] = None,
    as_of: AsOf = "",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder for result tables and manifest.json.")
    ] = None,
    config: ConfigOpt = None,
    executor: Annotated[str | None, typer.Option("--executor", help="local | processes | dask")] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (dask executor).")
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", help="Run on a workspace snapshot (incrementally when possible)."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Workspace snapshot version (default latest).")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Workspace run: recompute every partition.")] = False,
) -> None:
    """Project every contract's cash flows and write cashflow_ladder, contract_results, manifest.json."""
    from openalm.runner import execute_run

    try:
        if not as_of:
            raise ConfigError("--as-of is required (YYYY-MM-DD)")
        cfg = _config(config)
        if executor is not None and executor not in ("local", "processes", "dask"):
            raise ConfigError(f"--executor {executor!r}: expected local, processes or dask")
        if workspace is not None:
            _run_workspace(workspace, _as_of(as_of), cfg, version, full, executor, scheduler, out)
            return
        if snapshot_dir is None or out is None:
            raise ConfigError("give SNAPSHOT_DIR and --out (or --workspace to run on a workspace snapshot)")
        with _Progress() as prog:
            outcome = execute_run(
                snapshot_dir, _as_of(as_of), out, cfg, config_path=config, executor=executor,
                scheduler=scheduler, progress=prog,
            )  # fmt: skip
    except (DataError, ConfigError) as err:
        _fail(err, 2)
    except OpenALMError as err:
        _fail(err, 1)
    m = outcome.manifest
    rows = m["rows"].get("positions", {})
    err_console.print(
        f"{label('summary.contracts_read')}: {rows.get('read')}  "
        f"{label('summary.contracts_used')}: {rows.get('used')}  "
        f"{label('summary.contracts_rejected')}: {rows.get('rejected')}  -> {out}",
        highlight=False,
    )


def _run_workspace(
    workspace: Path, as_of: dt.date, cfg: RunConfig, version: int | None, full: bool, executor: str | None,
    scheduler: str | None, out: Path | None,
) -> None:  # fmt: skip
    from openalm.workspace import Workspace, export_run, run_in_workspace

    ws = Workspace.open(workspace)
    with _Progress() as prog:
        result = run_in_workspace(ws, as_of, cfg, version=version, full=full, executor=executor, scheduler=scheduler,
                                  progress=prog)  # fmt: skip
    m = result.manifest
    err_console.print(
        f"run {result.run_id} ({label('ws.kind.' + result.kind)}) {result.snapshot.label}: "
        f"{label('ws.recomputed')} {len(result.recomputed)}/{result.partitions}, "
        f"{m['engine']['contracts_recomputed']}/{m['engine']['contracts']} {label('ws.contracts')}, "
        f"{m['timings_seconds'].get('total', 0):.2f} s",
        highlight=False,
    )
    if out is not None:
        export_run(ws, result.run_id, out)
        err_console.print(f"-> {out}", highlight=False)


@app.command()
def validate(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot folder.")],
    as_of: AsOf,
    config: ConfigOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write rejects.csv and the data-quality report (data_quality.*, flags.csv) here."),
    ] = None,
) -> None:
    """Check a snapshot against the data-quality rules; list rejected rows, count errors and warnings."""
    from openalm.data.quality import quality_report, write_quality_report
    from openalm.data.rejects import write_rejects_csv
    from openalm.data.snapshot import read_snapshot

    try:
        cfg = _config(config)
        snap = read_snapshot(snapshot_dir, _as_of(as_of), dq=cfg.data_quality)
    except (DataError, ConfigError) as err:
        _fail(err, 2)
    report = quality_report(snap, sample_rows=cfg.data_quality.sample_rows)
    table = Table(title="validate")
    columns = ("table", "read", "used", "rejected", "flagged", "errors", "warnings")
    for col in columns:
        table.add_column(label(f"dq.{col}"), justify="right" if col != "table" else "left")
    for name, c in report.summary.items():
        table.add_row(name, *(str(c[col]) for col in columns[1:]))
    out_console.print(table)
    for r in snap.rejects[:20]:
        out_console.print(f"{r.file} row {r.row} column {r.column} value {r.value!r}: {r.message}", highlight=False)
    if len(snap.rejects) > 20:
        out_console.print(f"... {len(snap.rejects) - 20} more")
    for w in snap.warnings:
        err_console.print(f"warning: {w}", highlight=False)
    if out is not None:
        write_rejects_csv(snap.rejects, Path(out) / "rejects.csv")
        write_quality_report(report, out)
    if snap.rejects:
        raise typer.Exit(1)


@app.command()
def explain(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot folder.")],
    as_of: AsOf,
    position_id: Annotated[str, typer.Option("--position-id", help="The contract to explain.")],
    config: ConfigOpt = None,
) -> None:
    """Print one contract's projected schedule step by step (dates, balances, rates, DF, PV)."""
    from openalm.explain import explain_position

    try:
        cfg = _config(config)
        explain_position(snapshot_dir, _as_of(as_of), position_id, cfg, out_console)
    except (DataError, ConfigError) as err:
        _fail(err, 2)
    except OpenALMError as err:
        _fail(err, 1)


@app.command()
def demo(
    contracts: Annotated[int, typer.Option("--contracts", help="Number of contracts of the synthetic bank.")] = 100_000,
    out: Annotated[Path, typer.Option("--out", help="Folder for the snapshot and the results.")] = Path("openalm-demo"),
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date of the synthetic bank.")] = "2026-06-30",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bank).")] = 20260630,
) -> None:
    """Generate a synthetic Chinese mid-size bank, run the engine on it and print a summary."""
    from openalm.demo import run_demo

    try:
        run_demo(contracts, out, _as_of(as_of), seed, out_console, _Progress)
    except (DataError, ConfigError) as err:
        _fail(err, 2)
    except OpenALMError as err:
        _fail(err, 1)


@app.command()
def bench(
    contracts: Annotated[int, typer.Option("--contracts", help="Contracts in the synthetic book.")] = 1_000_000,
    quantlib_sample: Annotated[int, typer.Option("--quantlib-sample", help="Contracts priced with QuantLib.")] = 2_000,
    out: Annotated[Path | None, typer.Option("--out", help="Write the figures as JSON here.")] = None,
) -> None:
    """Time a full engine run on a synthetic book and compare with QuantLib on a sample."""
    from openalm.bench import run_benchmark

    t0 = time.perf_counter()
    try:
        run_benchmark(contracts, quantlib_sample, out, out_console)
    except OpenALMError as err:
        _fail(err, 1)
    err_console.print(f"{label('summary.wall_time')}: {time.perf_counter() - t0:.1f}", highlight=False)


register_workspace_commands(app)


def main() -> None:
    """Entry point of the ``openalm`` console script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
