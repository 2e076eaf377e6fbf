"""Benchmark of the streaming load: a 10,000,000-row positions CSV into a workspace, bounded memory.

1. **Generate** (not timed): ``openalm.data.synthetic.generate_bank`` in pieces of 1,000,000
   contracts with different seeds, written one after another into one ``positions.csv``
   (``position_id`` / ``deal_id`` made distinct with a ``G<piece>-`` prefix). The companion tables
   are those of the first piece, except ``counterparties``: the union of every piece's rows (first
   occurrence of an id), so that positions of other seeds find their counterparty -- otherwise a
   fifth of the book would be quarantined as ``unknown_counterparty``. The ledger is the first
   piece's, so the reconciliation reports breaks (it is computed all the same).
2. **Load**, in a fresh child process: ``Workspace.init`` + ``Workspace.load`` of the folder (the
   file is above the streaming threshold, so it streams in chunks of 500,000 rows; ``--mode
   memory`` forces the in-memory load for comparison on smaller books). Reported: wall time of the
   load, rows per second, the child's peak RSS (``ru_maxrss`` of the child, read by the parent),
   and the counts.

Target (issue, 2 cores, 23 GB): a 10-million-row file loads with bounded memory -- peak well
under 4 GB -- and a progress display (``openalm load`` on a terminal).

Usage::

    python benchmarks/bench_stream.py [--rows 10000000] [--work DIR] [--keep] [--mode stream|memory]
                                      [--chunk-rows N] [--out results.json]
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

PIECE = 1_000_000
AS_OF = "2026-06-30"

_CHILD = r"""
import datetime as dt, json, resource, sys, time
args = json.loads(sys.argv[1])
from openalm.workspace import Workspace
ws = Workspace.init(args["ws"])
t0 = time.perf_counter()
kw = {"chunk_rows": args["chunk_rows"]} if args["chunk_rows"] else {}
if args["mode"] == "memory":
    kw["stream_threshold"] = 10**12
res = ws.load(args["source"], dt.date.fromisoformat(args["as_of"]), **kw)
wall = time.perf_counter() - t0
snap = res.snapshot
parts = len(list((ws.root / snap.tables["positions"]).glob("part-*.parquet")))
print(json.dumps({"wall_s": wall, "counts": snap.counts["positions"], "parts": parts,
                  "reconciliation": snap.reconciliation_status, "rejects": len(res.rejects),
                  "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def generate(folder: Path, rows: int) -> dict[str, Any]:
    """Write the ``rows``-row snapshot into ``folder`` (module docstring, step 1)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from openalm.data.synthetic import generate_bank

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    writer: pacsv.CSVWriter | None = None
    counterparties: list[pa.Table] = []
    first: dict[str, pa.Table] = {}
    done = 0
    piece = 0
    while done < rows:
        n = min(PIECE, rows - done)
        tables = generate_bank(max(n, 300), seed=20260630 + piece)
        positions = tables["positions"].slice(0, n)
        prefix = f"G{piece:02d}-"
        for name in ("position_id", "deal_id"):
            col = positions.column(name)
            positions = positions.set_column(
                positions.column_names.index(name), name, pc.binary_join_element_wise(prefix, col, "")
            )
        if writer is None:
            writer = pacsv.CSVWriter(
                str(folder / "positions.csv"),
                positions.schema,
                write_options=pacsv.WriteOptions(quoting_style="needed"),
            )
            first = {k: v for k, v in tables.items() if k != "positions"}
        writer.write_table(positions)
        counterparties.append(tables["counterparties"])
        done += n
        piece += 1
        del tables, positions
        print(f"  generated {done:,} rows ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    assert writer is not None
    writer.close()
    union = pa.concat_tables(counterparties)
    ids = union.column("counterparty_id").to_pylist()
    seen: dict[str, int] = {}
    for k, v in enumerate(ids):
        seen.setdefault(v, k)
    first["counterparties"] = union.take(pa.array(sorted(seen.values())))
    for name, table in first.items():
        pacsv.write_csv(table, folder / f"{name}.csv", pacsv.WriteOptions(quoting_style="needed"))
    return {
        "seconds": time.perf_counter() - t0,
        "positions_csv_bytes": (folder / "positions.csv").stat().st_size,
        "counterparties": first["counterparties"].num_rows,
    }


def load(source: Path, work: Path, mode: str, chunk_rows: int | None) -> dict[str, Any]:
    """Load ``source`` into a fresh workspace in a child process; wall time and the child's peak RSS."""
    ws = work / f"ws-{mode}"
    shutil.rmtree(ws, ignore_errors=True)
    args = {"ws": str(ws), "source": str(source), "as_of": AS_OF, "mode": mode, "chunk_rows": chunk_rows}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(args)], stdout=subprocess.PIPE, stderr=errors, text=True
        )
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        # wait4: the resource usage of exactly this child (ru_maxrss in KiB on Linux)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"load failed:\n{errors.read()[-3000:]}")
    out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    out["peak_rss_gb"] = usage.ru_maxrss / 1024**2
    out["process_s"] = elapsed
    out["rows_per_s"] = out["counts"]["read"] / out["wall_s"]
    shutil.rmtree(ws, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated snapshot in --work for reuse")
    parser.add_argument("--mode", choices=("stream", "memory"), default="stream")
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="openalm-bench-stream-"))
    source = work / f"snapshot-{args.rows}"
    result: dict[str, Any] = {"rows": args.rows, "mode": args.mode, "cores": os.cpu_count(),
                              "python": platform.python_version()}  # fmt: skip
    try:
        if not (source / "positions.csv").is_file():
            # generated in a child process, so that its memory is not counted as this process's children's
            gen = subprocess.run(
                [sys.executable, __file__, "--generate-only", str(source), str(args.rows)], text=True, check=True,
                stdout=subprocess.PIPE,
            )  # fmt: skip
            result["generate"] = json.loads(gen.stdout.strip().splitlines()[-1])
        result["load"] = load(source, work, args.mode, args.chunk_rows)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--generate-only":
        print(json.dumps(generate(Path(sys.argv[2]), int(sys.argv[3]))))
        raise SystemExit(0)
    raise SystemExit(main())
