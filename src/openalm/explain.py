"""``openalm explain``: one contract's projected schedule, step by step, for audit.

The schedule is computed by the plain reference implementation (:mod:`openalm.engine.reference`)
and printed with every date, balance, day-count fraction, rate, interest, principal, discount
factor and PV; the fast kernel's PV of the same contract is printed beside it, so anyone can see
that the figure in ``contract_results`` is the sum of the rows shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console

from openalm.config import RunConfig
from openalm.conventions import Calendar, to_day
from openalm.data.snapshot import read_snapshot
from openalm.engine import kernel as K
from openalm.engine.contracts import index_tenor_of
from openalm.engine.reference import format_explain, project_contract
from openalm.engine.run import map_partition
from openalm.errors import DataError
from openalm.runner import prepare_engine_inputs

__all__ = ["explain_position", "reference_inputs"]


def _rows(table: pa.Table | None, position_id: str) -> list[dict[str, Any]]:
    if table is None or "position_id" not in table.column_names:
        return []
    return table.filter(pc.equal(table.column("position_id"), position_id)).to_pylist()


def reference_inputs(
    snapshot: Any, ctx: Any, curves: Any, row: dict[str, Any], config: RunConfig, arrays: Any = None
) -> dict[str, Any]:
    """Keyword arguments of :func:`project_contract` for one positions row (same market data and
    assumptions as the run)."""
    ccy = row["currency"]
    disc = curves[ctx.curve_ids[ctx.discount_curve[ccy]]]
    proj = None
    tenor = None
    index = row.get("rate_index")
    if index:
        k = ctx.projection_curve.get(index)
        proj = curves[ctx.curve_ids[k]] if k is not None else disc
        tenor = index_tenor_of(index, snapshot.rate_indices)
        if arrays is not None:  # the tenor the kernel projects with (after RFR and fallback rules)
            n, u = int(arrays.ci[0, K.I_IDX_N]), int(arrays.ci[0, K.I_IDX_U])
            tenor = f"{n}{'DWMY'[u]}" if 0 <= u <= 3 else tenor

    def fixing(code: str, day: dt.date) -> float | None:
        hit = ctx.fixings.latest(code, to_day(day))
        return None if hit is None else float(hit[1])

    profile: Any = config.non_maturity.profiles["default"]
    for key in (row.get("instrument_type"), row.get("product_subtype"), row.get("behavioural_class")):
        if key and key in config.non_maturity.profiles:
            profile = config.non_maturity.profiles[key]
    if isinstance(profile, dict):
        profile = tuple(profile.items())
    cal = Calendar.from_code(row["holiday_calendar"]) if row.get("holiday_calendar") else None
    return {
        "as_of": ctx.as_of,
        "discount_curve": disc,
        "projection_curve": proj,
        "index_tenor": tenor,
        "fixings": fixing,
        "schedule": _rows(snapshot.cash_flow_schedule, row["position_id"]),
        "rate_steps": _rows(snapshot.rate_schedule, row["position_id"]),
        "non_maturity_profile": profile,
        "calendar": cal,
    }


def explain_position(snapshot_dir: Path, as_of: dt.date, position_id: str, config: RunConfig, console: Console) -> None:
    """Print the schedule of ``position_id`` (reference implementation) and the kernel's PV."""
    snapshot = read_snapshot(Path(snapshot_dir), as_of)
    table = snapshot.positions
    hit = table.filter(pc.equal(table.column("position_id"), position_id))
    if hit.num_rows == 0:
        rejected = [r for r in snapshot.rejects if getattr(r, "position_id", None) == position_id]
        why = "; ".join(r.message for r in rejected[:5])
        raise DataError(
            f"position {position_id!r} is not among the usable rows of the snapshot"
            + (f" (rejected: {why})" if why else "")
        )
    one = dataclasses.replace(snapshot, positions=hit)
    ctx, arrays, _buckets, params = prepare_engine_inputs(one, as_of, config)
    from openalm.market import curves_from_table

    curves = curves_from_table(snapshot.curves, as_of)
    row = hit.to_pylist()[0]
    result = project_contract(row, **reference_inputs(snapshot, ctx, curves, row, config, arrays))
    console.print(format_explain(result, row, as_of))
    kernel_pv = map_partition(0, arrays, params).pv[0, 0]
    console.print(f"kernel PV (contract_results.pv): {kernel_pv:,.6f}   reference PV: {result.pv}")
