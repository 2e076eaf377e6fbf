"""A run: snapshot folder + as-of date + config -> result tables + manifest (interfaces.md).

This is the one function behind ``openalm run`` (and ``openalm demo``); the REST API will call the
same function. It is stateless: it reads the snapshot folder and writes into ``out``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import resource
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

import openalm
from openalm.config import RunConfig
from openalm.data.rejects import write_rejects_csv
from openalm.data.snapshot import Snapshot, read_snapshot
from openalm.engine.book import prepare_book
from openalm.engine.run import EngineResult, run_engine
from openalm.errors import DataError, OpenALMError
from openalm.market import Fixings, FxRates, curves_from_table
from openalm.measures.liquidity.module import DRILL_DOWN_TABLES
from openalm.reports.tables import cashflow_ladder_table, contract_results_table, fx_to_rc
from openalm.reports.writers import write_json, write_result_tables

__all__ = ["RunOutcome", "execute_run", "prepare_engine_inputs"]

Progress = Callable[[str, int, int], None]


@dataclass
class RunOutcome:
    """What a run produced (also summarised in ``manifest.json``)."""

    out_dir: Path
    manifest: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)
    engine: EngineResult | None = None


@dataclass
class _Timer:
    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Any:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = round(time.perf_counter() - t0, 4)


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _peak_memory_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0
    return round(max(own, kids) / scale, 1)


def prepare_engine_inputs(snapshot: Snapshot, as_of: dt.date, config: RunConfig) -> tuple[Any, Any, Any, Any]:
    """Market context, contract arrays, bucket sets and kernel parameters of a snapshot."""
    if snapshot.curves is None:
        raise DataError(
            "the snapshot has no curves table (curves.csv / .parquet / .xlsx); PV needs a zero curve per currency"
        )
    book = prepare_book(
        snapshot.positions,
        as_of=as_of,
        config=config,
        curves=curves_from_table(snapshot.curves, as_of),
        fx=(
            FxRates.from_table(snapshot.fx_rates, as_of=as_of, reporting_currency=config.reporting_currency)
            if snapshot.fx_rates is not None
            else None
        ),
        rate_indices=snapshot.rate_indices,
        fixings=Fixings.from_table(snapshot.index_fixings) if snapshot.index_fixings is not None else None,
        cash_flow_schedule=snapshot.cash_flow_schedule,
        rate_schedule=snapshot.rate_schedule,
    )
    return book.ctx, book.arrays, book.buckets, book.params


def execute_run(
    snapshot_dir: Path,
    as_of: dt.date,
    out_dir: Path,
    config: RunConfig,
    *,
    config_path: Path | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    keep_tables: bool = False,
) -> RunOutcome:
    """Run the engine on a snapshot folder and write the result tables and the manifest.

    Raises
    ------
    DataError
        The input cannot be used at all (missing positions file or required column, malformed
        file, missing curves); the CLI turns it into exit status 2.
    """
    started = dt.datetime.now(dt.UTC)
    timer = _Timer()
    warnings: list[str] = []
    out_dir = Path(out_dir)

    def tick(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    tick("load", 0, 1)
    with timer.stage("load"):
        snapshot = read_snapshot(Path(snapshot_dir), as_of, strict=config.on_reject == "stop")
    warnings.extend(snapshot.warnings)
    tick("load", 1, 1)
    with timer.stage("prepare"):
        ctx, arrays, buckets, params = prepare_engine_inputs(snapshot, as_of, config)
    warnings.extend(ctx.warnings)
    warnings.extend(arrays.warnings)
    liq_groups = None
    if config.liquidity.enabled:
        from openalm.measures.liquidity.module import prepare_liquidity

        with timer.stage("liquidity_prepare"):
            positions_pl = pl.from_arrow(snapshot.positions)
            params, liq_groups = prepare_liquidity(
                positions_pl,
                snapshot.counterparties,
                arrays,
                params,
                as_of=as_of,
                daily_days=config.liquidity.daily_days,
            )
    exe = executor or config.engine.executor
    with timer.stage("engine"):
        result = run_engine(
            arrays,
            params,
            executor=exe,
            workers=config.engine.workers,
            scheduler=scheduler or config.engine.scheduler,
            partition_size=config.engine.partition_size,
            on_progress=lambda d, t: tick("engine", d, t),
        )
    with timer.stage("tables"):
        ladder = cashflow_ladder_table(result, buckets, ctx, config.engine.ladder_scenarios, warnings)
        contracts = contract_results_table(snapshot.positions, arrays, result, ctx, warnings)
    measure_tables: dict[str, pa.Table] = {}
    if liq_groups is not None:
        from openalm.measures.liquidity.module import run_liquidity

        tick("liquidity", 0, 1)
        with timer.stage("liquidity"):
            liq = run_liquidity(
                positions=positions_pl,
                counterparties=snapshot.counterparties,
                as_of=as_of,
                config=config,
                fx_rc=dict(zip(ctx.currencies, fx_to_rc(ctx, []).tolist(), strict=True)),
                cband=result.cband,
                rows=arrays.row,
                ladder=ladder,
                buckets=buckets,
                groups=liq_groups,
                daily=result.daily,
            )
            warnings.extend(liq.warnings)
            measure_tables.update({name: t.to_arrow() for name, t in liq.tables.items()})
            if liq.contract_columns is not None:
                extra = liq.contract_columns.drop("row").to_arrow()
                for name in extra.column_names:
                    contracts = contracts.append_column(name, extra.column(name))
        tick("liquidity", 1, 1)
    outputs: dict[str, Any] = {}
    tick("write", 0, 3)
    with timer.stage("write"):
        outputs.update(
            write_result_tables(
                {"cashflow_ladder": ladder, "contract_results": contracts, **measure_tables},
                out_dir,
                parquet_only=DRILL_DOWN_TABLES,
            )
        )
        tick("write", 2, 3)
        if measure_tables and config.liquidity.returns:
            from openalm.i18n import default_language
            from openalm.measures.liquidity.module import write_returns

            try:
                outputs["returns"] = write_returns(
                    out_dir / "returns", measure_tables, as_of=as_of, lang=default_language()
                )
            except OpenALMError as err:  # a return that cannot be laid out must not lose the run
                warnings.append(f"liquidity returns not written: {err}")
        write_rejects_csv(snapshot.rejects, out_dir / "rejects.csv")
        outputs["rejects"] = {"rows": len(snapshot.rejects), "files": ["rejects.csv"]}
    tick("write", 3, 3)

    config_json = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    config_hash = _sha256_text(config_json)
    inputs = {name: info for name, info in sorted(snapshot.files.items())}
    run_id = _sha256_text(
        json.dumps(
            {
                "inputs": {k: v["sha256"] for k, v in inputs.items()},
                "config": config_hash,
                "as_of": as_of.isoformat(),
                "version": openalm.__version__,
            },
            sort_keys=True,
        )
    )[:16]
    base_pv = result.pv[:, 0]
    manifest: dict[str, Any] = {
        "openalm_version": openalm.__version__,
        "run_id": run_id,
        "as_of_date": as_of.isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "snapshot_dir": str(Path(snapshot_dir).resolve()),
        "inputs": inputs,
        "config": {
            "path": str(config_path) if config_path else None,
            "file_sha256": hashlib.sha256(Path(config_path).read_bytes()).hexdigest() if config_path else None,
            "sha256": config_hash,
            "values": config.model_dump(mode="json"),
        },
        "rows": snapshot.counts,
        "engine": {
            "executor": result.executor,
            "partitions": result.partitions,
            "partition_size": config.engine.partition_size,
            "contracts": arrays.n,
            "flows_projected": result.n_flows,
            "scenarios": list(ctx.scenarios),
            "bucket_sets": [s.name for s in buckets.sets],
            "curves": list(ctx.curve_ids),
            "shock_set": config.shock_set_name,
            "pv_nan_contracts": int(np.isnan(base_pv).sum()),
        },
        "outputs": outputs,
        "timings_seconds": timer.stages,
        "peak_memory_mb": _peak_memory_mb(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "warnings": sorted(set(warnings)),
    }
    write_json(manifest, out_dir / "manifest.json")
    outcome = RunOutcome(out_dir=out_dir, manifest=manifest, engine=result)
    if keep_tables:
        outcome.tables = {"cashflow_ladder": ladder, "contract_results": contracts, **measure_tables}
    return outcome
