"""Runs inside a workspace: stable partitions, stored partials, incremental re-runs, export.

A workspace run cuts the book into partitions by a **partition plan** fixed per as-of date: the
contracts are ordered by a locality key (``engine.partition_key``, default source system, product,
branch, then the contract key) and the plan stores the split keys between partitions; a contract
belongs to the partition its key falls in, and within a partition contracts keep their snapshot
row order. Later runs
of the same as-of date, on any snapshot version, reuse the plan, so a contract stays in its
partition whatever else changes, and contracts that are corrected together (one feed, one
product, one branch) sit together.

Each partition's inputs are hashed (its positions rows and their schedule rows). The run stores,
per partition, the kernel's partial ladder and the partition's contract results. An incremental
run finds the latest run of the same as-of date with the same plan and the same context (config,
market data, code version, the book's currencies / calendars / indices), recomputes only the
partitions whose hash changed and links the stored files of the others. Reduction always reads
every partition's stored partial and sums them in partition order, in full and incremental runs
alike, so both give bit-identical results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

import openalm
from openalm.config import RunConfig
from openalm.data.loaders import SOURCE_ROW
from openalm.engine.book import BookUniverse, prepare_book
from openalm.engine.run import EngineResult, PartialResult, run_partitions
from openalm.errors import DataError, OpenALMError, ReconciliationError
from openalm.market import Fixings, FxRates, curves_from_table
from openalm.reports.tables import cashflow_ladder_table, contract_results_table
from openalm.reports.writers import write_json, write_result_tables
from openalm.workspace._files import checkpoint, link_or_copy, staging_dir, write_lock
from openalm.workspace.catalog import Catalog, current_user
from openalm.workspace.store import SnapshotVersion, Workspace

__all__ = [
    "DEFAULT_PARTITION_KEY",
    "PartitionPlan",
    "WorkspaceRun",
    "export_run",
    "load_run",
    "read_run_table",
    "run_in_workspace",
]

#: Locality columns the plan orders contracts by, before the contract key.
DEFAULT_PARTITION_KEY: Final = ("source_system", "product_code", "branch_id")
_SEP: Final = "\x1f"
_MARKET_TABLES: Final = ("curves", "fx_rates", "rate_indices", "index_fixings")
_SCHEDULE_TABLES: Final = ("cash_flow_schedule", "rate_schedule")
#: Positions columns the contract results repeat.
_RESULT_COLUMNS: Final = ("position_id", "currency", "side", "instrument_type", "principal_balance")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PartitionPlan:
    """Split keys cutting the ordered book into ``len(split_keys) + 1`` partitions."""

    plan_id: str
    as_of: dt.date
    key_columns: tuple[str, ...]
    split_keys: tuple[str, ...]

    @property
    def n_partitions(self) -> int:
        return len(self.split_keys) + 1

    @staticmethod
    def make(as_of: dt.date, key_columns: Sequence[str], sorted_keys: pl.Series, partition_size: int) -> PartitionPlan:
        n = len(sorted_keys)
        k = max(1, -(-n // max(partition_size, 1)))
        splits = tuple(str(sorted_keys[(j * n) // k]) for j in range(1, k)) if n else ()
        text = json.dumps([as_of.isoformat(), list(key_columns), list(splits)], ensure_ascii=False)
        return PartitionPlan(hashlib.sha256(text.encode()).hexdigest()[:16], as_of, tuple(key_columns), splits)


@dataclass
class WorkspaceRun:
    """A committed workspace run."""

    run_id: str
    as_of: dt.date
    snapshot: SnapshotVersion
    path: Path
    kind: str
    partitions: int
    recomputed: list[int]
    manifest: dict[str, Any]
    tables: dict[str, pa.Table] = field(default_factory=dict)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _read_positions(folder: Path) -> tuple[pl.DataFrame, pa.Schema]:
    """A version's positions as a polars frame (parts in order) and the Arrow schema they were written with."""
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        raise OpenALMError(f"{folder} holds no part-*.parquet file")
    return pl.read_parquet(parts), pq.read_schema(parts[0])


def _universe(frame: pl.DataFrame) -> BookUniverse:
    """The currencies, calendars and indices of the whole book (as :func:`book_universe`)."""

    def values(column: str) -> tuple[str, ...]:
        if column not in frame.columns:
            return ()
        return tuple(sorted(str(v) for v in frame.get_column(column).drop_nulls().unique().to_list()))

    return BookUniverse(values("currency"), values("holiday_calendar"), values("rate_index"))


def _locality_keys(frame: pl.DataFrame, key_columns: Sequence[str]) -> pl.Series:
    cols = [c for c in (*key_columns, "reporting_entity_id", "position_id") if c in frame.columns]
    expr = pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in cols], separator=_SEP)
    return frame.select(expr.alias("_key")).to_series()


def _plan_for(
    ws: Workspace, as_of: dt.date, keys: pl.Series, config: RunConfig, key_columns: Sequence[str], replan: bool
) -> tuple[PartitionPlan, bool]:
    rows = ws.catalog.query("SELECT * FROM partition_plans WHERE as_of = ? ORDER BY created_at DESC LIMIT 1", [as_of])
    if rows and not replan:
        r = rows[0]
        return PartitionPlan(
            r["plan_id"], as_of, tuple(json.loads(r["key_columns"])), tuple(json.loads(r["split_keys"]))
        ), False
    return PartitionPlan.make(as_of, key_columns, keys.sort(), config.engine.partition_size), True


def _row_hashes(frame: pl.DataFrame) -> npt.NDArray[np.uint64]:
    """A 64-bit hash per row of every column but the lineage ones (polars ``hash_rows``)."""
    body = frame.drop(SOURCE_ROW) if SOURCE_ROW in frame.columns else frame
    return np.asarray(body.hash_rows(seed=0).to_numpy(), np.uint64)


def _partition_hashes(
    positions: pl.DataFrame, members: Sequence[npt.NDArray[np.int64]], schedules: Mapping[str, pa.Table | None]
) -> list[str]:
    """SHA-256 of each partition's input rows: its positions (in plan order) and their schedule rows.

    Rows are fingerprinted by a 64-bit row hash (polars, whose version is part of the run
    context); the schedule rows of a partition are taken as a sorted multiset. A changed partition
    goes unnoticed only if every changed row collides with its old hash (probability 2^-64 per
    row); ``openalm run --full`` recomputes everything regardless.
    """
    rows = _row_hashes(positions)
    part_of = np.empty(positions.height, np.int64)
    for p, idx in enumerate(members):
        part_of[idx] = p
    sched: dict[str, tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]] = {}
    ids = pl.DataFrame({"position_id": positions.get_column("position_id"), "_p": part_of})
    for name, t in schedules.items():
        if t is None or not t.num_rows:
            continue
        joined = pl.from_arrow(t.select(["position_id"]))
        assert isinstance(joined, pl.DataFrame)
        linked = joined.join(ids.unique("position_id"), on="position_id", how="left", maintain_order="left")
        sched[name] = (_row_hashes(_frame(t)), linked.get_column("_p").fill_null(-1).to_numpy())
    out = []
    for p, idx in enumerate(members):
        digest = hashlib.sha256(np.ascontiguousarray(rows[idx]).tobytes())
        for name in sorted(sched):
            h, parts = sched[name]
            digest.update(name.encode())
            digest.update(np.sort(h[parts == p]).tobytes())
        out.append(digest.hexdigest())
    return out


def _context_hash(
    config: RunConfig,
    snap: SnapshotVersion,
    ws: Workspace,
    plan: PartitionPlan,
    universe: Any,
    extra: dict[str, str] | None = None,
) -> str:
    values = config.model_dump(mode="json")
    engine = dict(values.get("engine", {}))
    for volatile in ("executor", "workers", "scheduler", "partition_size", "partition_key"):
        engine.pop(volatile, None)
    values["engine"] = engine
    market = {
        r["table_name"]: r["content_sha256"]
        for r in ws.catalog.query(
            "SELECT table_name, content_sha256 FROM snapshot_tables WHERE snapshot_id = ?", [snap.snapshot_id]
        )
        if r["table_name"] in _MARKET_TABLES
    }
    text = json.dumps(
        {
            "code": openalm.__version__,
            "polars": pl.__version__,
            "numpy": np.__version__,
            "config": values,
            "market": market,
            "plan": plan.plan_id,
            "universe": [universe.currencies, universe.calendars, universe.indices],
            "as_of": snap.as_of.isoformat(),
            "extra": extra or {},
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sparse(prefix: str, array: npt.NDArray[np.float64] | None) -> dict[str, npt.NDArray[Any]]:
    if array is None:
        return {}
    flat = array.reshape(-1)
    nz = np.flatnonzero(flat)
    return {
        f"{prefix}shape": np.asarray(array.shape, np.int64),
        f"{prefix}index": nz.astype(np.int64),
        f"{prefix}value": flat[nz],
    }


def _dense(data: Any, prefix: str) -> npt.NDArray[np.float64] | None:
    if f"{prefix}shape" not in data:
        return None
    out = np.zeros(tuple(int(x) for x in data[f"{prefix}shape"]), np.float64)
    out.reshape(-1)[data[f"{prefix}index"]] = data[f"{prefix}value"]
    return out


def _save_partial(path: Path, partial: PartialResult) -> None:
    flat = partial.ladder.reshape(-1)
    nz = np.flatnonzero(flat)
    arrays: dict[str, Any] = {
        "shape": np.asarray(partial.ladder.shape, np.int64),
        "index": nz.astype(np.int64),
        "value": flat[nz],
        "n_flows": np.asarray([partial.n_flows], np.int64),
        **_sparse("cband_", partial.cband),
        **_sparse("daily_", partial.daily),
    }
    np.savez(path, **arrays)


def _add_partial(path: Path, into: npt.NDArray[np.float64] | None) -> tuple[npt.NDArray[np.float64], int]:
    with np.load(path) as data:
        shape = tuple(int(x) for x in data["shape"])
        if into is None:
            into = np.zeros(shape, np.float64)
        elif into.shape != shape:
            raise OpenALMError(f"stored partial {path} has shape {shape}, expected {into.shape}")
        flat = into.reshape(-1)
        flat[data["index"]] += data["value"]
        return into, int(data["n_flows"][0])


def _liquidity_partial(path: Path) -> tuple[npt.NDArray[np.float64] | None, npt.NDArray[np.float64] | None]:
    """The per-contract liquidity bands and the daily ladder of a stored partial (None if absent)."""
    with np.load(path) as data:
        return _dense(data, "cband_"), _dense(data, "daily_")


def _run_liquidity_stage(
    ws: Workspace,
    snap: SnapshotVersion,
    stage: Path,
    tables: dict[str, Any],
    config: RunConfig,
    book: Any,
    ladder_table: pa.Table,
    liq_groups: Any,
    members: list[npt.NDArray[np.int64]],
    n_partitions: int,
    warnings: list[str],
) -> dict[str, Any]:
    """The liquidity measures of a workspace run: every partition's stored liquidity partials (its
    contracts' bands, its daily ladder) reduced over the whole book, then the same measures as a
    standalone run. Tables are written into the run folder; per-contract columns go to
    ``contract_liquidity.parquet`` (joined into ``contract_results`` on export)."""
    from openalm.measures.liquidity.module import run_liquidity
    from openalm.reports.tables import fx_to_rc

    positions, _schema = _read_positions(ws.root / snap.tables["positions"])
    cband: npt.NDArray[np.float64] | None = None
    daily: npt.NDArray[np.float64] | None = None
    for p in range(n_partitions):
        band_p, daily_p = _liquidity_partial(stage / "partials" / f"part-{p:05d}.npz")
        if band_p is None or daily_p is None:
            raise OpenALMError(f"stored partial {p} has no liquidity arrays; run again with --full")
        if cband is None:
            cband = np.zeros((positions.height, *band_p.shape[1:]), np.float64)
        cband[members[p]] = band_p
        daily = daily_p.copy() if daily is None else daily + daily_p
    result = run_liquidity(
        positions=positions,
        counterparties=tables.get("counterparties"),
        as_of=snap.as_of,
        config=config,
        fx_rc=dict(zip(book.ctx.currencies, fx_to_rc(book.ctx, []).tolist(), strict=True)),
        cband=cband,
        rows=None,
        ladder=ladder_table,
        buckets=book.buckets,
        groups=liq_groups,
        daily=daily,
    )
    warnings.extend(result.warnings)
    outputs: dict[str, Any] = {}
    for name, table in result.tables.items():
        table.write_parquet(stage / f"{name}.parquet", compression="zstd")
        outputs[name] = {"rows": table.height, "files": [f"{name}.parquet"]}
    if config.liquidity.returns:
        from openalm.i18n import default_language
        from openalm.measures.liquidity.module import write_returns

        try:
            outputs["returns"] = write_returns(
                stage / "returns", result.tables, as_of=snap.as_of, lang=default_language()
            )
        except OpenALMError as err:  # a return that cannot be laid out must not lose the run
            warnings.append(f"liquidity returns not written: {err}")
    if result.contract_columns is not None:
        cols = result.contract_columns.drop("row").with_columns(positions["position_id"])
        cols.write_parquet(stage / "contract_liquidity.parquet", compression="zstd")
    return outputs


def _check_reconciliation(snap: SnapshotVersion, config: RunConfig) -> list[str]:
    policy = getattr(getattr(config, "reconciliation", None), "policy", "warn")
    if snap.reconciliation_status == "breaks":
        message = (
            f"snapshot {snap.label} does not reconcile to the general ledger (breaks beyond tolerance); "
            "see reconciliation.csv in its reports"
        )
        if policy == "block":
            raise ReconciliationError(message + "; the run is blocked by reconciliation.policy = block")
        return [message]
    return []


def run_in_workspace(
    ws: Workspace,
    as_of: dt.date,
    config: RunConfig,
    *,
    version: int | None = None,
    full: bool = False,
    replan: bool = False,
    executor: str | None = None,
    scheduler: str | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    keep_tables: bool = False,
) -> WorkspaceRun:
    """Run the engine on a snapshot version of the workspace (incrementally when possible)."""
    user = user or current_user()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 4)
        return now

    def tick(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    with write_lock(ws.root):
        ws.recover()
        snap = ws.snapshot(as_of, version)
        warnings = _check_reconciliation(snap, config)
        tick("load", 0, 1)
        if "positions" not in snap.tables:
            raise DataError(f"snapshot {snap.label} has no positions table")
        # positions straight into polars (keys and fingerprints are computed there); Arrow, in the
        # contract's types, only for the rows the kernel projects
        frame, arrow_schema = _read_positions(ws.root / snap.tables["positions"])
        tables = {name: ws.read_table(snap, name) for name in snap.tables if name != "positions"}
        if tables.get("curves") is None:
            raise DataError(f"snapshot {snap.label} has no curves table; PV needs a zero curve per currency")
        tick("load", 1, 1)
        t = lap("load", t0)

        key_columns = tuple(config.engine.partition_key or DEFAULT_PARTITION_KEY)
        keys = _locality_keys(frame, key_columns)
        plan, new_plan = _plan_for(ws, as_of, keys, config, key_columns, replan)
        if new_plan is False and tuple(plan.key_columns) != key_columns:
            keys = _locality_keys(frame, plan.key_columns)
        # partition of each contract: where its key falls among the plan's split keys; inside a
        # partition, contracts in snapshot row order (corrections keep the order of the rows they
        # do not touch, so an unchanged partition has the same rows in the same order)
        split = pl.Series(list(plan.split_keys), dtype=pl.Utf8)
        part_of = (
            split.search_sorted(keys, side="right").to_numpy().astype(np.int64)
            if len(split)
            else np.zeros(len(keys), np.int64)
        )
        order = np.argsort(part_of, kind="stable")
        bounds = np.searchsorted(part_of[order], np.arange(plan.n_partitions + 1), side="left").astype(np.int64)
        members = [order[bounds[p] : bounds[p + 1]].astype(np.int64) for p in range(plan.n_partitions)]
        schedules = {n: tables.get(n) for n in _SCHEDULE_TABLES}
        hashes = _partition_hashes(frame, members, schedules)
        universe = _universe(frame)
        n_contracts = frame.height
        liq_groups = None
        extra: dict[str, str] = {}
        if config.liquidity.enabled:
            from openalm.measures.liquidity.module import liquidity_groups

            liq_groups = liquidity_groups(frame, tables.get("counterparties"))
            # the daily-ladder group codes of unchanged partitions stay valid only while the group
            # table and the counterparties (which decide a contract's group) are the same
            extra["liquidity_groups"] = hashlib.sha256(liq_groups.groups.write_csv().encode()).hexdigest()
            extra["counterparties"] = next(
                (
                    r["content_sha256"]
                    for r in ws.catalog.query(
                        "SELECT content_sha256 FROM snapshot_tables WHERE snapshot_id = ? AND table_name = ?",
                        [snap.snapshot_id, "counterparties"],
                    )
                ),
                "",
            )
        context = _context_hash(config, snap, ws, plan, universe, extra)
        t = lap("plan", t)

        base = None
        if not full:
            rows = ws.catalog.query(
                "SELECT run_id, path FROM runs WHERE as_of = ? AND plan_id = ? AND context_sha256 = ? "
                "ORDER BY finished_at DESC LIMIT 1",
                [as_of, plan.plan_id, context],
            )
            base = rows[0] if rows else None
        base_hashes: dict[int, str] = {}
        if base is not None:
            base_hashes = {
                int(r["partition"]): r["content_sha256"]
                for r in ws.catalog.query(
                    "SELECT partition, content_sha256 FROM run_partitions WHERE run_id = ?", [base["run_id"]]
                )
            }
        changed = [p for p in range(plan.n_partitions) if base_hashes.get(p) != hashes[p]]

        run_id = uuid.uuid4().hex[:16]
        rel = f"results/as_of={as_of.isoformat()}/run={run_id}"
        with staging_dir(ws.root, "run") as stage:
            (stage / "partials").mkdir()
            (stage / "contract_results").mkdir()
            # the book to project: the whole table for a full run, else the changed partitions' rows
            if len(changed) == plan.n_partitions:
                sub = frame.to_arrow().cast(arrow_schema)
                local = {p: members[p] for p in changed}
                picked = np.arange(frame.height, dtype=np.int64)
            else:
                picked = np.concatenate([members[p] for p in changed]) if changed else np.zeros(0, np.int64)
                sub = frame[picked].to_arrow().cast(arrow_schema)
                starts = np.concatenate([[0], np.cumsum([len(members[p]) for p in changed])]).astype(np.int64)
                local = {p: np.arange(starts[j], starts[j + 1], dtype=np.int64) for j, p in enumerate(changed)}
            del frame  # the kernel works from Arrow from here on; free the polars copy
            book = prepare_book(
                sub,
                as_of=as_of,
                config=config,
                curves=curves_from_table(tables["curves"], as_of),
                fx=FxRates.from_table(tables["fx_rates"], as_of=as_of, reporting_currency=config.reporting_currency)
                if tables.get("fx_rates") is not None
                else None,
                rate_indices=tables.get("rate_indices"),
                fixings=Fixings.from_table(tables["index_fixings"])
                if tables.get("index_fixings") is not None
                else None,
                cash_flow_schedule=tables.get("cash_flow_schedule"),
                rate_schedule=tables.get("rate_schedule"),
                universe=universe,
            )
            warnings.extend(book.ctx.warnings)
            warnings.extend(book.arrays.warnings)
            params = book.params
            if liq_groups is not None:
                from openalm.measures.liquidity.module import apply_liquidity_groups

                params = apply_liquidity_groups(
                    book.arrays,
                    book.params,
                    liq_groups.codes[picked],
                    n_groups=liq_groups.n,
                    as_of=as_of,
                    daily_days=config.liquidity.daily_days,
                )
            t = lap("prepare", t)
            partials = run_partitions(
                book.arrays,
                params,
                parts=[book.arrays.take(local[p]) for p in changed],
                indices=changed,
                executor=executor or config.engine.executor,
                workers=config.engine.workers,
                scheduler=scheduler or config.engine.scheduler,
                on_progress=lambda d, n: tick("engine", d, n),
            )
            t = lap("engine", t)
            by_index = {p.index: p for p in partials}
            result_columns = sub.select(list(_RESULT_COLUMNS))

            def store(p: int) -> list[str]:
                """Write partition ``p``'s partial ladder and contract results (files of its own)."""
                notes: list[str] = []
                partial = by_index[p]
                _save_partial(stage / "partials" / f"part-{p:05d}.npz", partial)
                part_result = EngineResult(partial.ladder, partial.pv, partial.n_flows, 1, "local")
                cr = contract_results_table(
                    result_columns.take(pa.array(local[p], pa.int64())),
                    book.arrays.take(local[p]),
                    part_result,
                    book.ctx,
                    notes,
                )
                pq.write_table(cr, stage / "contract_results" / f"part-{p:05d}.parquet", compression="zstd")
                return notes

            # Parquet encoding and the numpy work release the GIL: partitions are stored in parallel
            with ThreadPoolExecutor(max_workers=config.engine.workers or os.cpu_count() or 1) as pool:
                for notes in pool.map(store, changed):
                    warnings.extend(notes)
            checkpoint("run_partials_written")
            if base is not None:
                base_dir = ws.root / base["path"]
                for p in range(plan.n_partitions):
                    if p in by_index:
                        continue
                    link_or_copy(base_dir / "partials" / f"part-{p:05d}.npz", stage / "partials" / f"part-{p:05d}.npz")
                    link_or_copy(
                        base_dir / "contract_results" / f"part-{p:05d}.parquet",
                        stage / "contract_results" / f"part-{p:05d}.parquet",
                    )
            t = lap("partials", t)
            # reduce: every partition's stored partial, in partition order (full and incremental alike)
            ladder = None
            n_flows = 0
            for p in range(plan.n_partitions):
                ladder, nf = _add_partial(stage / "partials" / f"part-{p:05d}.npz", ladder)
                n_flows += nf
            assert ladder is not None
            reduced = EngineResult(ladder, np.zeros((0, ladder.shape[0])), n_flows, plan.n_partitions, "workspace")
            ladder_table = cashflow_ladder_table(
                reduced, book.buckets, book.ctx, config.engine.ladder_scenarios, warnings
            )
            pq.write_table(ladder_table, stage / "cashflow_ladder.parquet", compression="zstd")
            t = lap("reduce", t)
            measure_outputs: dict[str, Any] = {}
            if liq_groups is not None:
                measure_outputs = _run_liquidity_stage(
                    ws,
                    snap,
                    stage,
                    tables,
                    config,
                    book,
                    ladder_table,
                    liq_groups,
                    members,
                    plan.n_partitions,
                    warnings,
                )
                t = lap("liquidity", t)
            finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            kind = "full" if base is None else "incremental"
            manifest: dict[str, Any] = {
                "openalm_version": openalm.__version__,
                "run_id": run_id,
                "kind": kind,
                "base_run_id": None if base is None else base["run_id"],
                "as_of_date": as_of.isoformat(),
                "started_at": started.isoformat(timespec="seconds"),
                "finished_at": finished.isoformat(timespec="seconds"),
                "workspace": str(ws.root),
                "snapshot": {
                    "snapshot_id": snap.snapshot_id,
                    "version": snap.version,
                    "content_sha256": snap.content_sha256,
                    "kind": snap.kind,
                },
                "inputs": {
                    r["table_name"]: {"path": r["path"], "sha256": r["content_sha256"], "rows": r["rows"]}
                    for r in ws.catalog.query(
                        "SELECT table_name, path, content_sha256, rows FROM snapshot_tables WHERE snapshot_id = ?",
                        [snap.snapshot_id],
                    )
                },
                "config": {
                    "sha256": hashlib.sha256(
                        json.dumps(config.model_dump(mode="json"), sort_keys=True).encode()
                    ).hexdigest(),
                    "values": config.model_dump(mode="json"),
                },
                "context_sha256": context,
                "plan": {
                    "plan_id": plan.plan_id,
                    "partitions": plan.n_partitions,
                    "key_columns": list(plan.key_columns),
                },
                "recomputed_partitions": changed,
                "reused_partitions": plan.n_partitions - len(changed),
                "rows": snap.counts,
                "engine": {
                    "contracts": n_contracts,
                    "contracts_recomputed": int(sub.num_rows),
                    "flows_projected": n_flows,
                    "scenarios": list(book.ctx.scenarios),
                    "bucket_sets": [s.name for s in book.buckets.sets],
                },
                "outputs": {
                    "cashflow_ladder": {"rows": ladder_table.num_rows, "files": ["cashflow_ladder.parquet"]},
                    "contract_results": {"rows": n_contracts, "files": ["contract_results/part-*.parquet"]},
                    **measure_outputs,
                },
                "timings_seconds": timings,
                "warnings": sorted(set(warnings)),
            }
            write_json(manifest, stage / "manifest.json")
            target = ws.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            checkpoint("run_staged")
            os.replace(stage, target)
            stage.mkdir()  # staging_dir removes it afterwards
            checkpoint("run_moved")
            with ws.catalog.transaction() as con:
                if new_plan:
                    con.execute(
                        "INSERT INTO partition_plans VALUES (?, ?, ?, ?, ?) ON CONFLICT (plan_id) DO NOTHING",
                        [
                            plan.plan_id,
                            as_of,
                            json.dumps(list(plan.key_columns)),
                            json.dumps(list(plan.split_keys), ensure_ascii=False),
                            started,
                        ],
                    )
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        run_id,
                        as_of,
                        snap.snapshot_id,
                        kind,
                        manifest["base_run_id"],
                        plan.plan_id,
                        context,
                        manifest["config"]["sha256"],
                        openalm.__version__,
                        plan.n_partitions,
                        len(changed),
                        rel,
                        started,
                        finished,
                        user,
                        json.dumps(manifest, ensure_ascii=False, default=str),
                    ],
                )
                con.executemany(
                    "INSERT INTO run_partitions VALUES (?, ?, ?, ?, ?)",
                    [
                        [
                            run_id,
                            p,
                            hashes[p],
                            int(bounds[p + 1] - bounds[p]),
                            run_id if p in by_index else str(manifest["base_run_id"]),
                        ]
                        for p in range(plan.n_partitions)
                    ],
                )
                Catalog.append_audit(
                    con,
                    "run",
                    f"{as_of.isoformat()} run {run_id}",
                    {
                        "snapshot": snap.label,
                        "kind": kind,
                        "recomputed": len(changed),
                        "partitions": plan.n_partitions,
                        "config_sha256": manifest["config"]["sha256"],
                        "base_run_id": manifest["base_run_id"],
                    },
                    user,
                )
        timings["total"] = round(time.perf_counter() - t0, 4)
    out = WorkspaceRun(run_id, as_of, snap, ws.root / rel, kind, plan.n_partitions, changed, manifest)
    if keep_tables:
        out.tables = {"cashflow_ladder": ladder_table}
    return out


def load_run(ws: Workspace, run_id: str) -> dict[str, Any]:
    """The catalogue row of a run (with its manifest decoded)."""
    rows = ws.catalog.query("SELECT * FROM runs WHERE run_id = ?", [run_id])
    if not rows:
        rows = ws.catalog.query("SELECT * FROM runs WHERE run_id LIKE ? ORDER BY finished_at", [run_id + "%"])
        if len(rows) != 1:
            raise OpenALMError(f"no run {run_id!r} in the workspace" if not rows else f"run id {run_id!r} is ambiguous")
    row = dict(rows[0])
    row["manifest"] = json.loads(row["manifest"])
    return row


def read_run_table(ws: Workspace, run_id: str, table: str) -> pa.Table:
    """A result table of a workspace run (contract results: every partition, in plan order)."""
    row = load_run(ws, run_id)
    folder = ws.root / row["path"]
    if table == "cashflow_ladder":
        return pq.read_table(folder / "cashflow_ladder.parquet")
    if table == "contract_results":
        parts = sorted((folder / "contract_results").glob("part-*.parquet"))
        results = pa.concat_tables([pq.read_table(p) for p in parts])
        extra = folder / "contract_liquidity.parquet"
        if extra.exists():
            joined = _frame(results).join(pl.read_parquet(extra), on="position_id", how="left", maintain_order="left")
            return joined.to_arrow()
        return results
    path = folder / f"{table}.parquet"
    if table not in ("contract_liquidity",) and path.exists():
        return pq.read_table(path)
    known = ["cashflow_ladder", "contract_results", *sorted(_run_table_names(folder))]
    raise OpenALMError(f"unknown result table {table!r}; expected one of {known}")


def _run_table_names(folder: Path) -> list[str]:
    """The result tables stored in a run folder besides the ladder and the contract results."""
    skip = {"cashflow_ladder", "contract_liquidity"}
    return [p.stem for p in folder.glob("*.parquet") if p.stem not in skip]


def export_run(ws: Workspace, run_id: str, out_dir: Path) -> dict[str, Any]:
    """Write a run's result tables as CSV and Parquet plus ``manifest.json`` (interfaces.md shape)."""
    row = load_run(ws, row_id := run_id)
    folder = ws.root / row["path"]
    names = ["cashflow_ladder", "contract_results", *sorted(_run_table_names(folder))]
    tables = {name: read_run_table(ws, row["run_id"], name) for name in names}
    from openalm.measures.liquidity.module import DRILL_DOWN_TABLES

    outputs = write_result_tables(tables, Path(out_dir), parquet_only=DRILL_DOWN_TABLES)
    manifest = dict(row["manifest"])
    manifest["outputs"] = outputs
    manifest["exported_from"] = {"workspace": str(ws.root), "run_id": row["run_id"]}
    returns = ws.root / row["path"] / "returns"
    if returns.is_dir():
        target = Path(out_dir) / "returns"
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(returns.iterdir()):
            shutil.copy2(f, target / f.name)
    write_json(manifest, Path(out_dir) / "manifest.json")
    ws.catalog.audit("export", f"run {row['run_id']}", {"out_dir": str(Path(out_dir).resolve()), "asked": row_id})
    return manifest
