"""Benchmark of the data-integration layer on the synthetic bank (issue 3).

Measures, each step in a fresh process (so that its peak memory is its own):

1. load + validate + snapshot of the 1,000,000-contract bank into a workspace, from Parquet and
   from CSV (targets on 2 cores: Parquet under 10 s, CSV under 30 s);
2. a full workspace run, a correction of 1 % of the contracts, the incremental re-run and a full
   re-run for comparison (target: incremental under a quarter of the full run), checking that the
   incremental results equal the full re-run bit for bit;
3. the same with the 1 % scattered at random over the book (every partition touched: the worst case).

Usage::

    python benchmarks/bench_data.py [--contracts 1000000] [--work DIR] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_STEP = r"""
import datetime as dt, json, resource, sys, time
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
out = {}
from openalm.config import load_config
from openalm.workspace import Workspace, run_in_workspace
cfg = load_config(None)
as_of = dt.date(2026, 6, 30)
step = args["step"]
if step == "init":
    Workspace.init(args["ws"])
elif step == "load":
    ws = Workspace.open(args["ws"])
    res = ws.load(args["source"], as_of, config=cfg)
    out["counts"] = res.snapshot.counts["positions"]
elif step == "correct":
    ws = Workspace.open(args["ws"])
    res = ws.correct(args["file"], as_of, reason="benchmark correction", config=cfg)
    out["version"] = res.snapshot.version
elif step == "run":
    ws = Workspace.open(args["ws"])
    r = run_in_workspace(ws, as_of, cfg, full=args.get("full", False))
    out.update(run_id=r.run_id, kind=r.kind, partitions=r.partitions, recomputed=len(r.recomputed),
               contracts_recomputed=r.manifest["engine"]["contracts_recomputed"], stages=r.manifest["timings_seconds"])
elif step == "same":
    from openalm.workspace import read_run_table
    ws = Workspace.open(args["ws"])
    out["identical"] = all(read_run_table(ws, args["a"], t).equals(read_run_table(ws, args["b"], t))
                           for t in ("cashflow_ladder", "contract_results"))
out["wall_s"] = round(time.perf_counter() - t0, 3)
out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""


def _step(**args: Any) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _STEP, json.dumps(args, default=str)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"step {args['step']} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _corrections(ws_dir: Path, path: Path, share: float, scattered: bool, seed: int = 1) -> int:
    import numpy as np
    import polars as pl
    import pyarrow.parquet as pq

    from openalm.workspace import Workspace

    ws = Workspace.open(ws_dir)
    snap = ws.snapshots()[-1]
    pos = pl.from_arrow(pq.read_table(ws.root / snap.tables["positions"]))
    assert isinstance(pos, pl.DataFrame)
    n = int(pos.height * share)
    dated = pos.filter(pl.col("current_rate").is_not_null() & pl.col("maturity_date").is_not_null())
    if scattered:
        rng = np.random.default_rng(seed)
        sel = dated[np.sort(rng.choice(dated.height, n, replace=False)).tolist()]
    else:
        # one feed's product in a few branches: how corrections arrive in practice
        sel = dated.filter(pl.col("product_code") == "LN_CONSUMER").sort(["branch_id", "position_id"]).head(n)
    corr = sel.select(["reporting_entity_id", "position_id"]).with_columns(
        pl.lit("update").alias("action"), (sel.get_column("current_rate") + 0.0005).alias("current_rate")
    )
    corr.write_csv(path)
    return corr.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    a = parser.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="openalm-bench-data-"))
    work.mkdir(parents=True, exist_ok=True)
    from openalm.data.synthetic import generate_bank, write_snapshot

    t0 = time.perf_counter()
    tables = generate_bank(a.contracts)
    for fmt in ("parquet", "csv"):
        shutil.rmtree(work / fmt, ignore_errors=True)
        write_snapshot(tables, work / fmt, fmt)
    del tables
    sizes = {fmt: sum(p.stat().st_size for p in (work / fmt).iterdir()) for fmt in ("parquet", "csv")}
    print(f"synthetic bank of {a.contracts:,} contracts written in {time.perf_counter() - t0:.1f} s", flush=True)
    results: dict[str, Any] = {"contracts": a.contracts, "cores": os.cpu_count(), "python": platform.python_version(),
                               "input_bytes": sizes}  # fmt: skip
    for fmt in ("parquet", "csv"):
        ws = work / f"ws-{fmt}"
        shutil.rmtree(ws, ignore_errors=True)
        _step(step="init", ws=str(ws))
        results[f"load_{fmt}"] = _step(step="load", ws=str(ws), source=str(work / fmt))
        print(f"load {fmt}: {results[f'load_{fmt}']}", flush=True)
    ws = work / "ws-parquet"
    for label, scattered in (("local", False), ("scattered", True)):
        full = _step(step="run", ws=str(ws), full=True)
        n = _corrections(ws, work / f"corr-{label}.csv", 0.01, scattered)
        corr = _step(step="correct", ws=str(ws), file=str(work / f"corr-{label}.csv"))
        inc = _step(step="run", ws=str(ws))
        again = _step(step="run", ws=str(ws), full=True)
        same = _step(step="same", ws=str(ws), a=inc["run_id"], b=again["run_id"])
        results[f"incremental_{label}"] = {
            "corrected_contracts": n, "full_run": full, "correct": corr, "incremental_run": inc,
            "full_rerun": again, "identical_to_full_rerun": same["identical"],
            "ratio_incremental_to_full": round(inc["wall_s"] / again["wall_s"], 3),
        }  # fmt: skip
        print(f"{label}: corrected {n}, full {again['wall_s']} s, incremental {inc['wall_s']} s "
              f"({inc['recomputed']}/{inc['partitions']} partitions), identical={same['identical']}", flush=True)  # fmt: skip
    text = json.dumps(results, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
