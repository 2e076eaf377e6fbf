"""``openalm demo``: generate the synthetic bank, run the engine on it, print a short summary."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from rich.console import Console
from rich.table import Table

from openalm.config import load_config
from openalm.engine.codes import OFF_BALANCE_NO_FLOW
from openalm.i18n import default_language, label
from openalm.reports.writers import atomic_write
from openalm.runner import execute_run

__all__ = ["run_demo", "summary_rows"]

OFF_BALANCE_TYPES = frozenset({*OFF_BALANCE_NO_FLOW, "derivative_leg"})


def _sum(table: pa.Table, mask: pa.Array | pa.ChunkedArray, column: str) -> float:
    v = pc.sum(table.filter(mask).column(column)).as_py()
    return float(v or 0.0)


def summary_rows(tables: dict[str, pa.Table], manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of the demo summary, in the user's language."""
    res = tables["contract_results"]
    lad = tables["cashflow_ladder"]
    rows = manifest["rows"]["positions"]
    side = res.column("side")
    pv_rc = res.column("pv_rc")
    # on-balance-sheet totals: off-balance commitments and derivative notionals are left out
    on_bs = pc.invert(pc.is_in(res.column("instrument_type"), pa.array(sorted(OFF_BALANCE_TYPES))))
    assets = _sum(res, pc.and_(on_bs, pc.equal(side, "asset")), "principal_balance_rc")
    liabs = _sum(res, pc.and_(on_bs, pc.equal(side, "liability")), "principal_balance_rc")
    out = [
        (label("summary.as_of"), manifest["as_of_date"]),
        (label("summary.contracts_read"), f"{rows['read']:,}"),
        (label("summary.contracts_used"), f"{rows['used']:,}"),
        (label("summary.contracts_rejected"), f"{rows['rejected']:,}"),
        (label("summary.total_assets"), f"{assets:,.0f}"),
        (label("summary.total_liabilities"), f"{liabs:,.0f}"),
    ]
    valid = pc.is_valid(pv_rc)
    eve = float(pc.sum(pv_rc.filter(valid)).as_py() or 0.0)
    out.append((label("summary.eve"), f"{eve:,.0f}"))
    for name in ("parallel_up", "parallel_down", "steepener", "flattener", "short_up", "short_down"):
        col = f"pv_{name}"
        if col in res.column_names:
            # shocked PV in the reporting currency, at the same fx rate as pv_rc
            bal = np.asarray(res.column("principal_balance").to_numpy(zero_copy_only=False), float)
            bal_rc = np.asarray(res.column("principal_balance_rc").to_numpy(zero_copy_only=False), float)
            shocked = np.asarray(res.column(col).to_numpy(zero_copy_only=False), float)
            with np.errstate(invalid="ignore", divide="ignore"):
                fx = np.where(bal != 0, bal_rc / bal, np.nan)
            d = eve - float(np.nansum(shocked * fx))
            out.append((f"{label('summary.delta_eve')} {label('scenario.' + name)}", f"{d:,.0f}"))
    base = pc.and_(
        pc.and_(pc.equal(lad.column("bucket_set"), "g21"), pc.equal(lad.column("currency"), "ALL")),
        pc.equal(lad.column("scenario"), "base"),
    )
    g = lad.filter(base)
    in30 = pc.is_in(g.column("bucket"), pa.array(["next_day", "2d_7d", "8d_30d"]))
    inflow = pc.and_(in30, pc.equal(g.column("side"), "asset"))
    outflow = pc.and_(in30, pc.equal(g.column("side"), "liability"))
    gap = _sum(g, inflow, "amount") - _sum(g, outflow, "amount")
    out.append((label("summary.gap_30d"), f"{gap:,.0f}"))
    dur = res.column("effective_duration")
    for key, side_name in (
        ("summary.duration_assets", "asset"),
        ("summary.duration_liabilities", "liability"),
    ):
        m = pc.and_(pc.equal(side, side_name), pc.is_valid(dur))
        sub = res.filter(m)
        w = np.abs(np.asarray(sub.column("pv_rc").to_numpy(zero_copy_only=False), float))
        d = np.asarray(sub.column("effective_duration").to_numpy(zero_copy_only=False), float)
        ok = np.isfinite(w) & np.isfinite(d)
        val = float(np.sum(w[ok] * d[ok]) / np.sum(w[ok])) if ok.any() and np.sum(w[ok]) > 0 else float("nan")
        out.append((label(key), f"{val:.2f}"))
    ratios = tables.get("ratios")
    if ratios is not None:
        status = dict(zip(ratios.column("indicator").to_pylist(), ratios.column("status").to_pylist(), strict=True))
        value = dict(zip(ratios.column("indicator").to_pylist(), ratios.column("value").to_pylist(), strict=True))
        for key in ("lcr", "nsfr", "hqla_adequacy", "liquidity_ratio", "lmr"):
            v = value.get(key)
            if v is not None:
                out.append((f"{label('summary.' + key)} [{label('status.' + str(status.get(key)))}]", f"{v:.2%}"))
    survival = tables.get("liquidity_survival")
    if survival is not None:
        names = survival.column(f"label_{default_language()}").to_pylist()
        for name, days in zip(names, survival.column("survival_days").to_pylist(), strict=True):
            text = label("summary.survives") if days is None else f"{days}"
            out.append((f"{label('summary.survival_days')} {name}", text))
    return out


def run_demo(contracts: int, out: Path, as_of: dt.date, seed: int, console: Console, progress_cls: Any) -> None:
    """Generate ``contracts`` synthetic contracts into ``out/snapshot``, run into ``out/results``."""
    from openalm.data.synthetic import demo_config, generate_bank, write_snapshot

    out = Path(out)
    t0 = time.perf_counter()
    snap = out / "snapshot"
    with progress_cls() as prog:
        prog("generate", 0, 1)
        tables = generate_bank(contracts, as_of=as_of, seed=seed)
        write_snapshot(tables, snap, fmt="parquet")
        prog("generate", 1, 1)
        cfg_path = out / "config.yaml"
        cfg_data = demo_config()

        def dump(tmp: Path) -> None:
            tmp.write_text(yaml.safe_dump(cfg_data, allow_unicode=True, sort_keys=False), encoding="utf-8")

        atomic_write(cfg_path, dump)
        cfg = load_config(cfg_path)
        outcome = execute_run(snap, as_of, out / "results", cfg, config_path=cfg_path, progress=prog, keep_tables=True)
    wall = time.perf_counter() - t0
    table = Table(title=label("summary.title"), show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    for k, v in summary_rows(outcome.tables, outcome.manifest):
        table.add_row(k, v)
    engine_s = outcome.manifest["timings_seconds"].get("engine", 0.0)
    table.add_row(label("summary.wall_time"), f"{wall:.1f}")
    table.add_row(label("summary.throughput"), f"{contracts / max(engine_s, 1e-9):,.0f}")
    table.add_row(label("summary.output"), str((out / "results").resolve()))
    console.print(table)
