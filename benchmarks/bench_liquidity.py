"""Benchmark of the liquidity module: what it adds to the 1,000,000-contract run.

1. **Generate** (not timed) the synthetic bank (``openalm.data.synthetic.generate_bank``) as a
   Parquet snapshot, or use ``--snapshot DIR``.
2. **Run** ``openalm.runner.execute_run`` end to end in fresh child processes, alternately with
   ``liquidity.enabled: false`` and ``true`` (``--repeat`` pairs; a tiny warm-up run first so both
   find the numba cache loaded). Reported per configuration: wall time, the manifest's stage
   timings and peak memory; and the difference -- the liquidity module's cost: the stages
   ``liquidity_prepare`` + ``liquidity`` (frame, gaps, LCR, NSFR, ratios, concentration, stress
   tests, returns) plus what it adds to the kernel (per-contract bands, daily ladder) and to the
   writing of the result tables.

Target (issue, 2 cores): the liquidity module adds less than 5 seconds to the 1,000,000-contract run.

Usage::

    python benchmarks/bench_liquidity.py [--contracts 1000000] [--repeat 2] [--snapshot DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

AS_OF = "2026-06-30"

_GENERATE = r"""
import datetime as dt, sys
from openalm.data.synthetic import generate_bank, write_snapshot
write_snapshot(generate_bank(int(sys.argv[1]), dt.date(2026, 6, 30)), sys.argv[2], "parquet")
"""

_RUN = r"""
import datetime as dt, json, sys, time
from pathlib import Path
from openalm.config import load_config
from openalm.runner import execute_run
args = json.loads(sys.argv[1])
config = load_config(Path(args["config"]))
if args["warm"]:
    execute_run(Path(args["warm"]), dt.date(2026, 6, 30), Path(args["out"]) / "warm", config)
t0 = time.perf_counter()
out = execute_run(Path(args["snapshot"]), dt.date(2026, 6, 30), Path(args["out"]) / "run", config)
wall = time.perf_counter() - t0
m = out.manifest
print(json.dumps({"wall_s": wall, "stages": m["timings_seconds"], "peak_mb": m["peak_memory_mb"],
                  "tables": sorted(m["outputs"])}))
"""


def _child(code: str, *args: str) -> str:
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"child failed:\n{res.stderr[-4000:]}")
    lines = res.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contracts", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--snapshot", type=Path)
    ap.add_argument("--out", type=Path)
    ns = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        snapshot = ns.snapshot
        if snapshot is None:
            snapshot = tmp / "bank"
            _child(_GENERATE, str(ns.contracts), str(snapshot))
        warm = tmp / "warm"
        _child(_GENERATE, "2000", str(warm))
        runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
        for k in range(ns.repeat):
            for mode in ("off", "on"):
                cfg = tmp / f"{mode}.yaml"
                cfg.write_text(f"liquidity:\n  enabled: {'true' if mode == 'on' else 'false'}\n", encoding="utf-8")
                args = {
                    "config": str(cfg),
                    "snapshot": str(snapshot),
                    "out": str(tmp / f"{mode}{k}"),
                    "warm": str(warm),
                }
                runs[mode].append(json.loads(_child(_RUN, json.dumps(args))))

    def med(mode: str, key: str) -> float:
        vals = [r["stages"].get(key, 0.0) if key != "wall_s" else r["wall_s"] for r in runs[mode]]
        return round(statistics.median(vals), 3)

    stages = sorted({s for r in runs["on"] + runs["off"] for s in r["stages"]})
    report = {
        "contracts": ns.contracts,
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "repeat": ns.repeat,
        "wall_s": {"off": med("off", "wall_s"), "on": med("on", "wall_s")},
        "added_s": round(med("on", "wall_s") - med("off", "wall_s"), 3),
        "stages_s": {s: {"off": med("off", s), "on": med("on", s)} for s in stages},
        "peak_mb": {m: max(r["peak_mb"] for r in runs[m]) for m in runs},
        "tables_on": runs["on"][0]["tables"],
    }
    text = json.dumps(report, indent=2)
    print(text)
    if ns.out:
        ns.out.write_text(text + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
