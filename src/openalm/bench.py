"""``openalm bench``: time a full engine run on the synthetic bank and compare with QuantLib.

What is measured (``benchmarks/README.md`` records the figures):

1. **Generate** the synthetic bank (:func:`openalm.data.synthetic.generate_bank`) and write it as a
   Parquet snapshot, in a child process (not timed as part of the run; its memory is not counted).
2. **Engine**, in a fresh child process: first a tiny run to warm the numba cache (reported as
   ``warmup_seconds``: compilation on a cold cache, loading on a warm one), then the full run
   :func:`openalm.runner.execute_run` -- read Parquet, validate, prepare, project every contract
   (three bucket sets: monthly, G21, IRRBB; PV and effective duration; PV under base and the six
   Basel scenarios), write the result tables and the manifest -- timed end to end, with the stage
   timings and the peak memory of that process from its ``manifest.json``.
3. **QuantLib**, in this process: a random sample of the book's dated fixed and floating contracts
   that :mod:`openalm.testing.quantlib` can map is rebuilt in QuantLib (schedule, legs, future
   flows) and valued under the same nine curves as the engine (base, -/+1bp, six Basel scenarios).
   The curves are built once (not timed, as the engine's preparation is timed separately); the
   per-contract work is timed. The sample's PVs are compared with the engine's.

Reported: contracts per second for both (engine: contracts / end-to-end wall time), their ratio,
wall times, peak memory, core count. Targets (2-core machine, 1,000,000 contracts): end to end
under 20 s, peak memory under 4 GB, at least 100 x QuantLib's contracts per second.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing as mp
import os
import platform
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["TARGETS", "run_benchmark"]

AS_OF = dt.date(2026, 6, 30)
SEED = 20260630
WARMUP_CONTRACTS = 2_000

#: Targets of the issue (2-core machine, 1,000,000 contracts).
TARGETS = {"end_to_end_seconds": 20.0, "peak_memory_mb": 4096.0, "speedup_vs_quantlib": 100.0}


# ---------------------------------------------------------------------------------------------
# Child-process steps (top-level functions: picklable for a spawned process)
# ---------------------------------------------------------------------------------------------


def _run_config(path: str | None) -> Any:
    """The run configuration: the YAML file if given (the synthetic bank's demo config), else defaults."""
    from openalm.config import load_config

    return load_config(Path(path) if path else None)


def _generate(n: int, as_of: dt.date, seed: int, folder: str) -> dict[str, Any]:
    """Generate the synthetic bank into ``folder/snapshot`` (+ ``folder/config.yaml``); timings."""
    import yaml

    from openalm.data import synthetic

    t0 = time.perf_counter()
    tables = synthetic.generate_bank(n, as_of=as_of, seed=seed)
    t1 = time.perf_counter()
    root = Path(folder)
    synthetic.write_snapshot(tables, root / "snapshot", fmt="parquet")
    make_config: Callable[[], Any] | None = getattr(synthetic, "demo_config", None)
    if make_config is not None:
        (root / "config.yaml").write_text(
            yaml.safe_dump(make_config(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    t2 = time.perf_counter()
    size = sum(p.stat().st_size for p in (root / "snapshot").iterdir() if p.is_file())
    return {"generate_seconds": t1 - t0, "write_seconds": t2 - t1, "snapshot_bytes": size}


def _subset_snapshot(src: str, dst: str, *, first: int | None = None, ids: list[str] | None = None) -> None:
    """A small copy of a Parquet snapshot: the first ``first`` positions (or those of ``ids``) and
    the companion rows they reference (by ``position_id`` / ``counterparty_id``)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    positions = pq.read_table(Path(src) / "positions.parquet")
    if ids is not None:
        wanted = pa.array(ids, pa.string())
        positions = positions.filter(pc.is_in(pc.cast(positions.column("position_id"), pa.string()), value_set=wanted))
    else:
        positions = positions.slice(0, first)
    pq.write_table(positions, out / "positions.parquet")
    keys = {c: positions.column(c).unique() for c in ("position_id", "counterparty_id") if c in positions.column_names}
    for path in Path(src).glob("*.parquet"):
        if path.name == "positions.parquet":
            continue
        table = pq.read_table(path)
        for col, values in keys.items():
            if col in table.column_names:
                table = table.filter(pc.is_in(table.column(col), value_set=values))
                break
        pq.write_table(table, out / path.name)


def _engine_on_sample(snapshot: Path, as_of: dt.date, config: str | None, min_seconds: float = 2.0) -> dict[str, Any]:
    """The kernel alone on a (small) snapshot -- the QuantLib sample: contracts per second.

    Same work as QuantLib's: every contract under the base curve, the two duration bumps and the
    configured scenarios. Repeated until ``min_seconds`` have passed (a small sample runs in
    milliseconds); the first, untimed run loads the compiled kernel.
    """
    from openalm.data.snapshot import read_snapshot
    from openalm.engine.run import run_engine
    from openalm.runner import prepare_engine_inputs

    cfg = _run_config(config)
    snap = read_snapshot(snapshot, as_of)
    _ctx, arrays, _buckets, params = prepare_engine_inputs(snap, as_of, cfg)
    kwargs = {"executor": "local", "workers": cfg.engine.workers, "partition_size": cfg.engine.partition_size}
    run_engine(arrays, params, **kwargs)
    runs = 0
    t0 = time.perf_counter()
    while True:
        run_engine(arrays, params, **kwargs)
        runs += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            break
    per_run = elapsed / runs
    return {"contracts": arrays.n, "seconds_per_run": per_run, "runs": runs, "contracts_per_second": arrays.n / per_run}


def _engine(snapshot: str, results: str, as_of: dt.date, config: str | None, warmup: str | None) -> dict[str, Any]:
    """Warm the numba cache on a tiny book, then time the full run; both in this (fresh) process."""
    import openalm.runner as runner

    cfg = _run_config(config)
    warmup_seconds = None
    if warmup is not None:
        t0 = time.perf_counter()
        runner.execute_run(Path(warmup), as_of, Path(warmup).parent / "warmup-results", cfg)
        warmup_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    outcome = runner.execute_run(Path(snapshot), as_of, Path(results), cfg)
    wall = time.perf_counter() - t0
    m = outcome.manifest
    return {
        "warmup_seconds": warmup_seconds,
        "end_to_end_seconds": wall,
        "timings_seconds": m["timings_seconds"],
        "peak_memory_mb": m["peak_memory_mb"],
        "rows": m["rows"],
        "contracts": m["engine"]["contracts"],
        "flows_projected": m["engine"]["flows_projected"],
        "partitions": m["engine"]["partitions"],
        "executor": m["engine"]["executor"],
        "scenarios": m["engine"]["scenarios"],
        "bucket_sets": m["engine"]["bucket_sets"],
    }


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a fresh spawned process (own memory, own peak RSS)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# ---------------------------------------------------------------------------------------------
# QuantLib sample
# ---------------------------------------------------------------------------------------------


def _read(folder: Path, name: str) -> Any:
    import pyarrow.parquet as pq

    path = folder / f"{name}.parquet"
    return pq.read_table(path) if path.exists() else None


def _quantlib_sample(
    snap: Path, results: Path, config: str | None, as_of: dt.date, sample: int, seed: int
) -> dict[str, Any]:
    """Price a random sample of the book's dated fixed/floating contracts with QuantLib.

    Candidates are the rows the engine used (``contract_results``) with a fixed or floating rate
    and a maturity date; rows the QuantLib mapping does not cover are skipped and counted by reason.
    """
    import numpy as np
    import pyarrow.compute as pc

    from openalm.engine.contracts import index_tenor_of
    from openalm.market import Fixings, ShockSet, basel_shock, curves_from_table
    from openalm.market.shocks import SCENARIOS
    from openalm.testing.quantlib import QuantLibPricer, UnsupportedContractError

    cfg = _run_config(config)
    positions = _read(snap, "positions")
    curves = curves_from_table(_read(snap, "curves"), as_of)
    indices = _read(snap, "rate_indices")
    t_setup = time.perf_counter()
    proj_ids: dict[str, str] = {}
    if indices is not None and "projection_curve_id" in indices.column_names:
        for code, cid in zip(
            indices.column("index_code").to_pylist(), indices.column("projection_curve_id").to_pylist(), strict=True
        ):
            if cid and cid in curves:
                proj_ids[str(code)] = str(cid)
    currencies = sorted(set(positions.column("currency").drop_null().to_pylist()))
    discount = {}
    for ccy in currencies:
        try:
            discount[ccy] = curves.base_discount_curve(ccy, cfg.discount_curves)
        except Exception:
            own = [curves[c] for c in curves if curves[c].currency == ccy and c not in proj_ids.values()]
            if len(own) == 1:  # its only zero curve, projection curves aside (as the engine)
                discount[ccy] = own[0]
    codes: list[str] = []
    if "rate_index" in positions.column_names:
        codes = sorted(set(positions.column("rate_index").drop_null().to_pylist()))
    projection = {c: curves[proj_ids[c]] for c in codes if c in proj_ids}
    tenors = {c: t for c in codes if (t := index_tenor_of(c, indices))}
    shock_set = ShockSet.load(cfg.shock_set_name)
    scenarios: dict[str, dict[str, Any]] = {}
    for name in cfg.scenarios:
        if name in SCENARIOS and name != "base":
            scenarios[name] = {}
            for ccy in currencies:
                try:
                    scenarios[name][ccy] = basel_shock(shock_set, ccy, name)
                except Exception:  # no sizes for this currency: unshocked, as in the engine
                    continue
    last = pc.max(positions.column("maturity_date")).as_py()
    # beyond the last maturity: forwards reach maturity + the longest index tenor
    horizon = math.ceil(((last - as_of).days if last else 0) / 365.25) + 12
    fixings_table = _read(snap, "index_fixings")
    fixings = Fixings.from_table(fixings_table) if fixings_table is not None else Fixings.empty()

    def fixing(code: str, day: dt.date) -> float | None:
        hit = fixings.latest(code, day)
        return None if hit is None else hit[1]

    pricer = QuantLibPricer(
        as_of,
        discount_curves=discount,
        projection_curves=projection,
        index_tenors=tenors,
        scenarios=scenarios,
        fixings=fixing,
        horizon_years=max(horizon, 2),
    )
    setup = time.perf_counter() - t_setup

    # candidates: dated fixed / floating rows with a discount curve
    used = _read(results, "contract_results")
    mask = pc.and_(
        pc.is_in(positions.column("rate_type"), value_set=_arr(["fixed", "floating"])),
        pc.is_valid(positions.column("maturity_date")),
    )
    if used is not None:
        ids = pc.cast(used.column("position_id"), "string")
        mask = pc.and_(mask, pc.is_in(pc.cast(positions.column("position_id"), "string"), value_set=ids))
    candidates = np.nonzero(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))[0]
    rng = np.random.default_rng(seed)
    rng.shuffle(candidates)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    tried = 0
    for start in range(0, len(candidates), 4 * max(sample, 1)):
        chunk = positions.take(np.sort(candidates[start : start + 4 * max(sample, 1)]))
        for row in chunk.to_pylist():
            if len(rows) >= sample:
                break
            tried += 1
            if row.get("currency") not in discount:
                skipped["no discount curve"] = skipped.get("no discount curve", 0) + 1
                continue
            try:
                pricer.build(row)
            except UnsupportedContractError as err:
                reason = str(err).split(": ", 1)[-1]
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            except RuntimeError as err:  # QuantLib refused the row: counted, not priced
                reason = f"QuantLib error: {err}"
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            rows.append(row)
        if len(rows) >= sample:
            break

    priced = []
    by_type: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    for row in rows:
        t1 = time.perf_counter()
        priced.append(pricer.price(row))
        by_type.setdefault(str(row.get("rate_type")), []).append(time.perf_counter() - t1)
    wall = time.perf_counter() - t0
    return {
        "ids": [p.position_id for p in priced],
        "by_rate_type": {
            k: {"contracts": len(v), "seconds": sum(v), "contracts_per_second": len(v) / sum(v) if sum(v) else None}
            for k, v in sorted(by_type.items())
        },
        "paths": {path: sum(1 for p in priced if p.path == path) for path in ("leg", "coupons")},
        "setup_seconds": setup,
        "wall_seconds": wall,
        "contracts": len(priced),
        "candidates_tried": tried,
        "unsupported": dict(sorted(skipped.items(), key=lambda kv: -kv[1])),
        "flows": sum(len(p.flows) for p in priced),
        "scenarios": list(pricer.scenario_names),
        "npv": {p.position_id: p.npv for p in priced},
        "rate_types": {t: sum(1 for r in rows if r.get("rate_type") == t) for t in ("fixed", "floating")},
    }


def _arr(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())


def _agreement(results: Path, npv: dict[str, dict[str, float]], tolerance: float = 1e-9) -> dict[str, Any]:
    """Engine vs QuantLib on the sample: largest relative PV difference per scenario column, and
    the contracts whose PV under some scenario differs by more than ``tolerance``."""
    import pyarrow.compute as pc

    res = _read(results, "contract_results")
    if res is None or not npv:
        return {}
    sub = res.filter(pc.is_in(res.column("position_id"), value_set=_arr(list(npv))))
    cols = {"base": "pv", **{s: f"pv_{s}" for s in next(iter(npv.values())) if s != "base"}}
    ids = sub.column("position_id").to_pylist()
    worst: dict[str, float] = {}
    differing: dict[str, float] = {}
    for scen, col in cols.items():
        if col not in sub.column_names:
            continue
        worst[scen] = 0.0
        for pid, v in zip(ids, sub.column(col).to_pylist(), strict=True):
            q = npv[pid].get(scen)
            if v is None or q is None or q == 0.0:
                continue
            rel = abs(v - q) / abs(q)
            worst[scen] = max(worst[scen], rel)
            if rel > tolerance:
                differing[pid] = max(differing.get(pid, 0.0), rel)
    duration = 0.0
    if "effective_duration" in sub.column_names:
        for pid, d in zip(ids, sub.column("effective_duration").to_pylist(), strict=True):
            n = npv[pid]
            if d is None or "bump_down_1bp" not in n or n["base"] == 0.0:
                continue
            q = (n["bump_down_1bp"] - n["bump_up_1bp"]) / (2e-4 * n["base"])
            duration = max(duration, abs(d - q) / max(abs(q), 1e-6))
    top = sorted(differing.items(), key=lambda kv: -kv[1])[:10]
    return {
        "compared": len(ids),
        "max_relative_pv_difference": worst,
        "max_relative_duration_difference": duration,
        "tolerance": tolerance,
        "contracts_differing": len(differing),
        "largest_differences": [{"position_id": k, "relative_difference": v} for k, v in top],
    }


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def run_benchmark(
    n_contracts: int,
    quantlib_sample: int,
    out: Path | None,
    console: Console,
    *,
    as_of: dt.date = AS_OF,
    seed: int = SEED,
    workdir: Path | None = None,
    snapshot: Path | None = None,
    config: Path | None = None,
) -> dict[str, Any]:
    """Run the benchmark; print a table, write the figures as JSON to ``out`` when given.

    Parameters
    ----------
    n_contracts, quantlib_sample:
        Size of the synthetic bank and of the QuantLib sample (0: no QuantLib comparison).
    out:
        JSON file for the figures (a folder: ``bench.json`` in it).
    workdir:
        Keep the snapshot and the results there (default: a temporary folder, removed).
    snapshot, config:
        Benchmark this Parquet snapshot folder (and YAML config) instead of generating the
        synthetic bank; ``n_contracts`` is then ignored.

    Returns
    -------
    dict
        The figures (the JSON document).
    """
    from openalm.testing.quantlib import quantlib_available

    figures: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "seed": seed,
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
    }
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="openalm-bench-")
        workdir = Path(tmp.name)
    root = Path(workdir)
    try:
        if snapshot is None:
            with console.status(f"generating the synthetic bank ({n_contracts:,} contracts)"):
                figures["generate"] = _in_child(_generate, n_contracts, as_of, seed, str(root / "book"))
            snap = root / "book" / "snapshot"
            cfg_path = root / "book" / "config.yaml"
            config_text = str(cfg_path) if cfg_path.exists() else None
        else:
            snap = Path(snapshot)
            config_text = str(config) if config else None
            figures["snapshot"] = str(snap.resolve())
        _subset_snapshot(str(snap), str(root / "warmup" / "snapshot"), first=WARMUP_CONTRACTS)
        results = root / "results"
        with console.status("engine run (read Parquet -> write results)"):
            eng = _in_child(_engine, str(snap), str(results), as_of, config_text, str(root / "warmup" / "snapshot"))
        n = int(eng["contracts"])
        figures["contracts"] = n
        eng["contracts_per_second"] = n / eng["end_to_end_seconds"]
        kernel_s = eng["timings_seconds"].get("engine")
        eng["kernel_contracts_per_second"] = n / kernel_s if kernel_s else None
        figures["engine"] = eng
        if quantlib_sample > 0 and quantlib_available():
            with console.status(f"QuantLib on a sample of {quantlib_sample:,} contracts"):
                qlr = _quantlib_sample(snap, results, config_text, as_of, quantlib_sample, seed)
            npv = qlr.pop("npv")
            ids = qlr.pop("ids")
            qlr["contracts_per_second"] = qlr["contracts"] / qlr["wall_seconds"] if qlr["wall_seconds"] else None
            if ids:
                with console.status("engine kernel on the same sample"):
                    _subset_snapshot(str(snap), str(root / "sample" / "snapshot"), ids=ids)
                    same = _engine_on_sample(root / "sample" / "snapshot", as_of, config_text)
                figures["engine_on_quantlib_sample"] = same
                if qlr["contracts_per_second"]:
                    figures["same_sample_speedup_vs_quantlib"] = (
                        same["contracts_per_second"] / qlr["contracts_per_second"]
                    )
            qlr["agreement"] = _agreement(results, npv)
            figures["quantlib"] = qlr
            if qlr["contracts_per_second"]:
                figures["speedup_vs_quantlib"] = eng["contracts_per_second"] / qlr["contracts_per_second"]
                if eng["kernel_contracts_per_second"]:
                    figures["kernel_speedup_vs_quantlib"] = (
                        eng["kernel_contracts_per_second"] / qlr["contracts_per_second"]
                    )
        elif quantlib_sample > 0:
            figures["quantlib"] = None
            console.print("[yellow]QuantLib is not installed (pip install QuantLib): engine figures only[/]")
    finally:
        if tmp is not None:
            tmp.cleanup()
    figures["targets"] = _targets(figures)
    console.print(_table(figures))
    if out is not None:
        path = Path(out)
        if path.is_dir():
            path = path / "bench.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
        console.print(f"figures written to {path}")
    return figures


def _targets(f: dict[str, Any]) -> dict[str, Any]:
    eng = f.get("engine", {})
    out: dict[str, Any] = {
        "end_to_end_seconds": {
            "target": TARGETS["end_to_end_seconds"],
            "value": eng.get("end_to_end_seconds"),
        },
        "peak_memory_mb": {"target": TARGETS["peak_memory_mb"], "value": eng.get("peak_memory_mb")},
        "speedup_vs_quantlib": {"target": TARGETS["speedup_vs_quantlib"], "value": f.get("speedup_vs_quantlib")},
    }
    for key, item in out.items():
        v = item["value"]
        if v is None:
            item["met"] = None
        elif key == "speedup_vs_quantlib":
            item["met"] = v >= item["target"]
        else:
            item["met"] = v < item["target"]
    if f.get("contracts") != 1_000_000:
        out["note"] = f"targets are for 1,000,000 contracts; this run has {f.get('contracts', 0):,}"
    return out


def _fmt(v: Any, spec: str = ",.1f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def _table(f: dict[str, Any]) -> Table:
    t = Table(title=f"OpenALM benchmark ({f.get('contracts', 0):,} contracts, {f['machine']['cpu_count']} cores)")
    t.add_column("figure")
    t.add_column("value", justify="right")
    g = f.get("generate", {})
    e = f.get("engine", {})
    if g:
        t.add_row("generate synthetic bank + write Parquet (s)", _fmt(g["generate_seconds"] + g["write_seconds"]))
    t.add_row("numba warm-up, tiny run (s)", _fmt(e.get("warmup_seconds"), ".2f"))
    t.add_row("engine end to end: Parquet -> results (s)", _fmt(e.get("end_to_end_seconds"), ".2f"))
    for stage, secs in e.get("timings_seconds", {}).items():
        t.add_row(f"  stage {stage} (s)", _fmt(secs, ".2f"))
    t.add_row("peak memory of the run (MB)", _fmt(e.get("peak_memory_mb")))
    t.add_row("flows projected (base)", _fmt(e.get("flows_projected"), ","))
    t.add_row("engine contracts/s (end to end)", _fmt(e.get("contracts_per_second"), ",.0f"))
    t.add_row("engine contracts/s (kernel stage)", _fmt(e.get("kernel_contracts_per_second"), ",.0f"))
    q = f.get("quantlib")
    if q:
        t.add_row("QuantLib sample (contracts)", _fmt(q["contracts"], ","))
        t.add_row("QuantLib wall: flows + 9 NPVs per contract (s)", _fmt(q["wall_seconds"], ".2f"))
        t.add_row("QuantLib contracts/s", _fmt(q["contracts_per_second"], ",.0f"))
        for rate_type, item in q.get("by_rate_type", {}).items():
            t.add_row(
                f"  {rate_type}: {item['contracts']:,} contracts, contracts/s",
                _fmt(item["contracts_per_second"], ",.0f"),
            )
        t.add_row("engine (end to end) / QuantLib contracts per second", _fmt(f.get("speedup_vs_quantlib"), ",.0f"))
        t.add_row("engine (kernel stage) / QuantLib", _fmt(f.get("kernel_speedup_vs_quantlib"), ",.0f"))
        agree = q.get("agreement", {})
        if agree:
            t.add_row(
                "engine vs QuantLib: max rel. PV difference (9 curves)",
                _fmt(max(agree["max_relative_pv_difference"].values(), default=None), ".1e"),
            )
            t.add_row(
                "engine vs QuantLib: max rel. duration difference",
                _fmt(agree["max_relative_duration_difference"], ".1e"),
            )
            t.add_row(
                f"contracts differing by more than {agree['tolerance']:g}",
                f"{agree['contracts_differing']:,} of {agree['compared']:,}",
            )
        same = f.get("engine_on_quantlib_sample")
        if same:
            t.add_row("engine kernel on the same sample: contracts/s", _fmt(same["contracts_per_second"], ",.0f"))
            t.add_row("same sample: engine kernel / QuantLib", _fmt(f.get("same_sample_speedup_vs_quantlib"), ",.0f"))
    else:
        t.add_row("QuantLib", "not installed" if q is None and "quantlib" in f else "skipped")
    for key, item in f["targets"].items():
        if key == "note":
            t.add_row("note", item)
            continue
        met = {True: "[green]met[/]", False: "[red]missed[/]", None: "-"}[item["met"]]
        t.add_row(f"target {key} ({item['target']:g})", met)
    return t
