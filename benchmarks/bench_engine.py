"""Benchmark the OpenALM engine on the synthetic bank and compare it with QuantLib.

    python benchmarks/bench_engine.py                          # 1,000,000 contracts, 2,000 in QuantLib
    python benchmarks/bench_engine.py --contracts 100000 --quantlib-sample 500 --out bench.json
    python benchmarks/bench_engine.py --snapshot DIR --config FILE   # your own Parquet snapshot

Same as ``openalm bench``; see ``benchmarks/README.md`` for what is measured and the recorded figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from rich.console import Console

from openalm.bench import AS_OF, SEED, run_benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contracts", type=int, default=1_000_000, help="contracts of the synthetic bank")
    parser.add_argument("--quantlib-sample", type=int, default=2_000, help="contracts priced with QuantLib (0: none)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF, help="as-of date (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the synthetic bank")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the snapshot and results here")
    parser.add_argument("--snapshot", type=Path, default=None, help="benchmark this Parquet snapshot instead")
    parser.add_argument("--config", type=Path, default=None, help="run configuration (YAML) for --snapshot")
    args = parser.parse_args(argv)
    run_benchmark(
        args.contracts,
        args.quantlib_sample,
        args.out,
        Console(),
        as_of=args.as_of,
        seed=args.seed,
        workdir=args.workdir,
        snapshot=args.snapshot,
        config=args.config,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
