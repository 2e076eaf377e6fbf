"""Tracing a figure back to its contracts (``openalm trace RUN TABLE ROW``).

For a ``cashflow_ladder`` row the contracts of the row's group (currency -- every currency for
``ALL`` rows --, side, instrument type) are projected again with the run's own compiled kernel,
each contract in a ladder group of its own, and the contracts with a non-zero amount in the row's
bucket, flow kind and scenario are listed with that amount. The amounts add up to the figure
(to the last few bits: the run added them in another order); the difference is reported.
For a ``contract_results`` row the contract itself is listed. Every contract comes with its
lineage: snapshot version, source file and row, and the corrections applied to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openalm.config import RunConfig
from openalm.data.loaders import SOURCE_ROW
from openalm.engine.book import book_universe, prepare_book
from openalm.engine.kernel import I_GROUP
from openalm.engine.run import map_partition
from openalm.errors import OpenALMError
from openalm.market import Fixings, FxRates, curves_from_table
from openalm.reports.tables import FLOW_KINDS, fx_to_rc
from openalm.workspace.runs import load_run, read_run_table
from openalm.workspace.store import Workspace

__all__ = ["TRACEABLE_TABLES", "Trace", "trace_figure"]

TRACEABLE_TABLES: Final = ("cashflow_ladder", "contract_results")
_CHUNK: Final = 2_000


@dataclass(frozen=True)
class Trace:
    """A figure and the contracts behind it."""

    run_id: str
    table: str
    row: int
    figure: dict[str, Any]
    contracts: pa.Table
    total: float
    difference: float


def _lineage(ws: Workspace, snapshot_id: str, positions: pa.Table, source_file: str) -> pa.Table:
    snap = ws.snapshot_by_id(snapshot_id)
    keys = [
        f"{e}|{p}"
        for e, p in zip(
            positions.column("reporting_entity_id").to_pylist(),
            positions.column("position_id").to_pylist(),
            strict=True,
        )
    ]
    # corrections along the version chain
    chain = []
    cur: Any = snap
    while cur is not None:
        chain.append(cur.snapshot_id)
        cur = ws.snapshot_by_id(cur.parent_id) if cur.parent_id else None
    counts: dict[str, int] = {}
    if len(chain) > 1:
        marks = ",".join("?" * len(chain))
        for r in ws.catalog.query(
            f"SELECT key, count(*) AS n FROM corrections WHERE snapshot_id IN ({marks}) GROUP BY key", chain
        ):
            counts[r["key"]] = int(r["n"])
    return pa.table(
        {
            "snapshot_version": pa.array([snap.version] * positions.num_rows, pa.int32()),
            "source_file": pa.array([source_file] * positions.num_rows, pa.string()),
            "source_row": positions.column(SOURCE_ROW),
            "corrections": pa.array([counts.get(k, 0) for k in keys], pa.int32()),
        }
    )


def trace_figure(ws: Workspace, run_id: str, table: str, row: int) -> Trace:
    """The contracts behind row ``row`` (1-based, as in the exported table) of a run's result table."""
    if table not in TRACEABLE_TABLES:
        raise OpenALMError(f"cannot trace table {table!r}; traceable: {', '.join(TRACEABLE_TABLES)}")
    run = load_run(ws, run_id)
    manifest = run["manifest"]
    result = read_run_table(ws, run["run_id"], table)
    if not 1 <= row <= result.num_rows:
        raise OpenALMError(f"{table} of run {run['run_id']} has rows 1..{result.num_rows}; row {row} does not exist")
    figure = result.slice(row - 1, 1).to_pylist()[0]
    snap = ws.snapshot_by_id(manifest["snapshot"]["snapshot_id"])
    positions = ws.read_table(snap, "positions")
    assert positions is not None
    source_file = (
        json.loads(
            ws.catalog.query("SELECT files FROM snapshots WHERE snapshot_id = ?", [snap.snapshot_id])[0]["files"]
            or "{}"
        )
        .get("positions", {})
        .get("path", "positions")
    )
    source_file = Path(str(source_file)).name

    if table == "contract_results":
        hit = pc.equal(positions.column("position_id"), figure["position_id"])
        chosen = positions.filter(hit)
        contracts = pa.table(
            {
                "position_id": chosen.column("position_id"),
                "reporting_entity_id": chosen.column("reporting_entity_id"),
                "currency": chosen.column("currency"),
                "amount": pa.array([figure.get("pv")] * chosen.num_rows, pa.float64()),
            }
        )
        lineage = _lineage(ws, snap.snapshot_id, chosen, source_file)
        for name in lineage.column_names:
            contracts = contracts.append_column(name, lineage.column(name))
        total = float(figure.get("pv") or 0.0)
        return Trace(run["run_id"], table, row, figure, contracts, total, 0.0)

    config = RunConfig.model_validate(manifest["config"]["values"])
    tables = {name: ws.read_table(snap, name) for name in snap.tables}
    as_of = dt.date.fromisoformat(manifest["as_of_date"])
    universe = book_universe(positions)
    mask = pc.and_(
        pc.equal(positions.column("side"), figure["side"]),
        pc.equal(positions.column("instrument_type"), figure["instrument_type"]),
    )
    if figure["currency"] != "ALL":
        mask = pc.and_(mask, pc.equal(positions.column("currency"), figure["currency"]))
    cand = positions.filter(mask)
    book = prepare_book(
        cand,
        as_of=as_of,
        config=config,
        curves=curves_from_table(tables["curves"], as_of),
        fx=FxRates.from_table(tables["fx_rates"], as_of=as_of, reporting_currency=config.reporting_currency)
        if tables.get("fx_rates") is not None
        else None,
        rate_indices=tables.get("rate_indices"),
        fixings=Fixings.from_table(tables["index_fixings"]) if tables.get("index_fixings") is not None else None,
        cash_flow_schedule=tables.get("cash_flow_schedule"),
        rate_schedule=tables.get("rate_schedule"),
        universe=universe,
    )
    meta = book.buckets.all_buckets()
    try:
        bucket = next(
            k for k, (s, b) in enumerate(meta) if s.name == figure["bucket_set"] and b.code == figure["bucket"]
        )
    except StopIteration:
        raise OpenALMError(
            f"bucket {figure['bucket_set']}/{figure['bucket']} is not in this run's bucket sets"
        ) from None
    slot = list(config.engine.ladder_scenarios).index(figure["scenario"])
    kind = FLOW_KINDS.index(figure["flow_kind"])
    amounts = np.zeros(cand.num_rows)
    for lo in range(0, cand.num_rows, _CHUNK):
        hi = min(lo + _CHUNK, cand.num_rows)
        part = book.arrays.partition(lo, hi)
        ci = part.ci.copy()
        ci[:, I_GROUP] = np.arange(hi - lo)
        part = dataclasses.replace(part, ci=ci)
        params = dataclasses.replace(book.params, n_groups=hi - lo)
        partial = map_partition(0, part, params)
        amounts[lo:hi] = partial.ladder[slot, :, bucket, kind]
    if figure["currency"] == "ALL":
        fx = fx_to_rc(book.ctx, [])
        ccy_idx = book.arrays.ci[:, 3]
        amounts = amounts * fx[ccy_idx]
    keep = np.flatnonzero(amounts != 0.0)
    chosen = cand.take(pa.array(keep, pa.int64()))
    contracts = pa.table(
        {
            "position_id": chosen.column("position_id"),
            "reporting_entity_id": chosen.column("reporting_entity_id"),
            "currency": chosen.column("currency"),
            "amount": pa.array(amounts[keep]),
        }
    )
    lineage = _lineage(ws, snap.snapshot_id, chosen, source_file)
    for name in lineage.column_names:
        contracts = contracts.append_column(name, lineage.column(name))
    order = np.argsort(-np.abs(amounts[keep]), kind="stable")
    contracts = contracts.take(pa.array(order, pa.int64()))
    total = float(np.sum(amounts[keep]))
    return Trace(run["run_id"], table, row, figure, contracts, total, total - float(figure["amount"]))


def write_trace(trace: Trace, path: Path) -> None:
    """Write the traced contracts as CSV (or Parquet by extension)."""
    import pyarrow.csv as pacsv

    from openalm.reports.writers import atomic_write

    if path.suffix.lower() == ".parquet":
        atomic_write(path, lambda tmp: pq.write_table(trace.contracts, tmp))
    else:
        atomic_write(path, lambda tmp: pacsv.write_csv(trace.contracts, tmp))
